package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"

	"github.com/btcstake/btcstake/regtest"
	"github.com/btcstake/btcstake/watch"
)

// TestWatchBadInput: every bad flag, file, store or node of 'btcstake
// watch' and its subcommands exits with the documented code and one
// "btcstake: error: " line naming what is at fault, prints nothing on
// stdout and creates no store; secrets given by mistake are never echoed.
func TestWatchBadInput(t *testing.T) {
	w := newTxWorld(t)
	for _, v := range []string{passphraseEnv, "BTCSTAKE_RPC_URL", "BTCSTAKE_RPC_USER", "BTCSTAKE_RPC_PASS", "BTCSTAKE_RPC_COOKIE", "BTCSTAKE_CONFIG", "BTCSTAKE_NETWORK"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(w.dir, "config"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(w.dir, "state")) // no node of "regtest start"
	node := regtest.NewTestNode(t, regtest.Options{NoTxIndex: true})
	rpc := node.RPC()
	good := []string{"--rpc-url", rpc.Host, "--rpc-user", rpc.User, "--rpc-pass-file", secretFile(t, rpc.Pass)}
	unreachable := []string{"--rpc-url", closedPort(t), "--rpc-user", "u", "--rpc-pass-file", secretFile(t, "p")}
	dir := t.TempDir()
	newDB := filepath.Join(dir, "new.db")

	// A watch list whose staking transaction pays another staker's output.
	stTx := w.stake(t)
	list := func(name, staker string) string {
		doc := map[string]any{"entries": []any{map[string]any{"staking_tx": txHex(stTx), "staker_pk": staker,
			"finality_providers": []string{xonlyHex(w.fp)}, "staking_time": 144}}}
		b, _ := json.Marshal(doc)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mismatched := list("mismatch.json", xonlyHex(keyFromSeed("someone else")))
	notJSON := filepath.Join(dir, "list.txt")
	os.WriteFile(notJSON, []byte("staking_tx=00\n"), 0o644)

	// Stores: a file that is not one, one of mainnet, one in use, one
	// started at height 3.
	foreign := filepath.Join(dir, "foreign.db")
	os.WriteFile(foreign, []byte(strings.Repeat("not a bbolt file ", 500)), 0o600)
	mainnet := filepath.Join(dir, "mainnet.db")
	mw, err := watch.Open(mainnet, watch.Config{Network: &chaincfg.MainNetParams})
	if err != nil {
		t.Fatal(err)
	}
	mw.Close()
	started := filepath.Join(dir, "started.db")
	sw, err := watch.Open(started, watch.Config{Network: &chaincfg.RegressionNetParams, StartHeight: 3})
	if err != nil {
		t.Fatal(err)
	}
	sw.Close()
	busy := filepath.Join(dir, "busy.db")
	bw, err := watch.Open(busy, watch.Config{Network: &chaincfg.RegressionNetParams})
	if err != nil {
		t.Fatal(err)
	}
	defer bw.Close()

	notKey := secretFile(t, "not a key")
	openKey := filepath.Join(dir, "open.key")
	os.WriteFile(openKey, []byte(hex.EncodeToString(w.fp.Serialize())+"\n"), 0o644)
	openHook := filepath.Join(dir, "hook.url")
	os.WriteFile(openHook, []byte("https://hooks.example/T0/s3cret\n"), 0o644)

	with := func(extra ...string) []string {
		return append(append([]string{"watch", "--db", newDB, "--from-height", "0", "--until-height", "0"}, extra...), good...)
	}
	for _, c := range []struct {
		name    string
		args    []string
		code    int
		want    string
		secrets string // must not appear in the output
	}{
		{"no --db", append([]string{"watch", "--from-height", "0"}, good...), exitUsage, `"db"`, ""},
		{"--db a directory", append([]string{"watch", "--db", dir, "--from-height", "0"}, good...), exitUsage, "--db: " + dir + " is not a regular file", ""},
		{"--db in a missing directory", append([]string{"watch", "--db", filepath.Join(dir, "none", "x.db"), "--from-height", "0"}, good...), exitUsage, "--db: the directory", ""},
		{"--db not a store", append([]string{"watch", "--db", foreign}, good...), exitUsage, "--db: " + foreign + " cannot be used", ""},
		{"--db of another network", append([]string{"watch", "--db", mainnet}, good...), exitUsage, "belongs to another network than --network regtest", ""},
		{"--db in use", append([]string{"watch", "--db", busy}, good...), exitError, "is in use by another process", ""},
		{"--from-height not the store's", append([]string{"watch", "--db", started, "--from-height", "5"}, good...), exitUsage, "--from-height: " + started + " started at height 3", ""},
		{"--from-height not a height", with("--from-height", "soon"), exitUsage, `--from-height: "soon" is neither`, ""},
		{"--until-height negative", with("--until-height", "-5"), exitUsage, "--until-height: must not be negative", ""},
		{"--until-height below the start", append([]string{"watch", "--db", newDB, "--from-height", "10", "--until-height", "3"}, good...), exitUsage, "--until-height: 3 is below --from-height 10", ""},
		{"new store without --from-height", append([]string{"watch", "--db", newDB}, good...), exitUsage, "--from-height: required for a new --db", ""},
		{"node of another network", append([]string{"watch", "--db", newDB, "--from-height", "0", "--network", "signet"}, good...), exitError, `follows "regtest", not signet`, ""},
		{"unreachable node", append([]string{"watch", "--db", newDB, "--from-height", "0"}, unreachable...), exitError, "cannot reach a node at", ""},
		{"watch list entry not paying its staker", with("--params", regtestParams, "--watch", mismatched), exitError, "--watch: " + mismatched, ""},
		{"watch list not JSON", with("--params", regtestParams, "--watch", notJSON), exitUsage, "--watch: " + notJSON, ""},
		{"watch list missing", with("--params", regtestParams, "--watch", filepath.Join(dir, "none.json")), exitUsage, "--watch: ", ""},
		{"watch list without --params", with("--watch", mismatched), exitUsage, "--params: needed to add delegations", ""},
		{"--staking-tx paying another staker", with("--params", regtestParams, "--staking-tx", txHex(stTx), "--staker-pk", xonlyHex(keyFromSeed("someone else")),
			"--fp-pk", xonlyHex(w.fp), "--staking-time", "144"), exitError, "--staking-tx: no params version fits the delegation: staking transaction " + stTx.TxHash().String(), ""},
		{"--staking-tx without its keys", with("--params", regtestParams, "--staking-tx", txHex(stTx)), exitUsage, "--staker-pk: required with --staking-tx", ""},
		{"--staker-pk without --staking-tx", with("--staker-pk", xonlyHex(w.staker)), exitUsage, "--staker-pk: describes the delegation of --staking-tx", ""},
		{"--registration not one", with("--params", regtestParams, "--registration", notJSON), exitUsage, "--registration: " + notJSON, ""},
		{"--psbt-dir missing", with("--params", regtestParams, "--psbt-dir", filepath.Join(dir, "nodir")), exitUsage, "--psbt-dir: ", ""},
		{"--fp-key not a key", with("--auto-slash", "--fp-key", notKey), exitUsage, "--fp-key", "not a key"},
		{"--fp-key readable by others", with("--auto-slash", "--fp-key", openKey), exitUsage, "--fp-key", hex.EncodeToString(w.fp.Serialize())},
		{"--fp-key without --auto-slash", with("--fp-key", notKey), exitUsage, "--fp-key: a finality provider's key is only used by --auto-slash", ""},
		{"--listen not host:port", with("--listen", "metrics"), exitUsage, `--listen: "metrics" is not host:port`, ""},
		{"--listen bad port", with("--listen", "127.0.0.1:99999"), exitUsage, "--listen: \"127.0.0.1:99999\": bad port", ""},
		{"--webhook not http", with("--webhook", "ftp://hooks.example/x"), exitUsage, "--webhook: ", ""},
		{"--webhook without a host", with("--webhook", "https:///path"), exitUsage, "--webhook: ", ""},
		{"--webhook with credentials", with("--webhook", "https://alice:s3cret@hooks.example/x"), exitUsage, "--webhook: the URL carries credentials", "s3cret"},
		{"--webhook and --webhook-file", with("--webhook", "https://hooks.example/x", "--webhook-file", openHook), exitUsage, "--webhook-file: give --webhook or --webhook-file", ""},
		{"--webhook-file readable by others", with("--webhook-file", openHook), exitUsage, "--webhook-file: not private to its owner: " + openHook, "s3cret"},
		{"--exec empty", with("--exec", " "), exitUsage, "--exec: ", ""},
		{"--log-level unknown", with("--log-level", "loud"), exitUsage, "--log-level", ""},
		{"events without --db", []string{"watch", "events"}, exitUsage, `"db"`, ""},
		{"events of a missing store", []string{"watch", "events", "--db", filepath.Join(dir, "none.db")}, exitUsage, "--db: ", ""},
		{"events of a store in use", []string{"watch", "events", "--db", busy}, exitError, "is in use by another process", ""},
		{"stakes of a store not one", []string{"watch", "stakes", "--db", foreign}, exitUsage, "cannot be used", ""},
		{"stakes of a mainnet store", []string{"watch", "stakes", "--db", mainnet}, exitUsage, "belongs to another network", ""},
		{"unknown subcommand", []string{"watch", "evnts"}, exitUsage, `unknown command "evnts"`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			code, out, errOut := runCLI(t, c.args...)
			if code != c.code || out != "" || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 ||
				!strings.HasPrefix(errOut, "btcstake: error: ") {
				t.Fatalf("exit %d (want %d)\nstdout %q\nstderr %q\nwant %q", code, c.code, out, errOut, c.want)
			}
			if c.secrets != "" && strings.Contains(errOut, c.secrets) {
				t.Fatalf("the error echoes a secret: %q", errOut)
			}
			if _, err := os.Stat(newDB); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a store was left at %s: %v", newDB, err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}

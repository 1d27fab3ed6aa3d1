package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/btcstake/btcstake/regtest"
)

// dirSnapshot records every file under dir with its size, mode and time,
// so a test can show a failed command wrote nothing.
func dirSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		sum := ""
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		snap[p] = fmt.Sprintf("%v %d %v %s", fi.Mode(), fi.Size(), fi.ModTime().UnixNano(), sum)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestCommandsBadInput is the cross-command table of malformed input
// (eots, adaptor, keys and keystores, stake parse, node commands,
// regtest, and the transaction commands' remaining corners): each case
// exits with the documented code (2 for a bad command line, 1 for a failed
// operation), prints exactly one "btcstake: error: " line naming the flag
// at fault (usage errors add only the "--help" hint), nothing on stdout, no
// panic, and leaves the working directory exactly as it was.
func TestCommandsBadInput(t *testing.T) {
	for _, v := range []string{passphraseEnv, "BTCSTAKE_RPC_URL", "BTCSTAKE_RPC_USER", "BTCSTAKE_RPC_PASS", "BTCSTAKE_RPC_COOKIE", "BTCSTAKE_CONFIG"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	w := newTxWorld(t)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(w.dir, "config"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(w.dir, "state")) // no node of "regtest start"
	t.Setenv(statusDirEnv, filepath.Join(t.TempDir(), "status"))
	node := regtest.NewTestNode(t, regtest.Options{})
	rpc := node.RPC()
	good := []string{"--rpc-url", rpc.Host, "--rpc-user", rpc.User, "--rpc-pass-file", secretFile(t, rpc.Pass)}
	wrongPass := []string{"--rpc-url", rpc.Host, "--rpc-user", rpc.User, "--rpc-pass-file", secretFile(t, rpc.Pass+"x")}
	unreachable := []string{"--rpc-url", closedPort(t), "--rpc-user", "u", "--rpc-pass-file", secretFile(t, "p")}

	stTx := w.stake(t)
	stHex := txHex(stTx)
	ubPSBT := mustJSON[psbtJSON](t, mustRun(t, append(append([]string{"unbond", "--json"}, w.delegationArgs()...), "--staking-tx", stHex)...)).PSBT
	slPSBT := mustJSON[psbtJSON](t, mustRun(t, append(append([]string{"slash", "--json", "--from", "staking"}, w.delegationArgs()...), "--funding-tx", stHex)...)).PSBT

	pass := writeKeyText(t, w.dir, "pass.txt", "the right passphrase")
	wrong := writeKeyText(t, w.dir, "wrong.txt", "a wrong passphrase")
	empty := writeKeyText(t, w.dir, "empty.txt", "")
	keystore := filepath.Join(w.dir, "staker.keystore")
	mustRun(t, "key", "import", "--key", keystore, "--sk-file", w.stakerFile, "--passphrase-file", pass, "--scrypt-work-factor", "10")
	ksText, _ := os.ReadFile(keystore)
	truncatedKS := writeKeyText(t, w.dir, "truncated.keystore", string(ksText[:len(ksText)/2]))
	fpKS := filepath.Join(w.dir, "fp.keystore")
	mustRun(t, "eots", "import", "--key", fpKS, "--sk-file", w.fpFile, "--passphrase-file", pass, "--scrypt-work-factor", "10")
	db := filepath.Join(w.dir, "records.db")
	mustRun(t, "eots", "sign", "--key", fpKS, "--db", db, "--create-db", "--chain-id", "c", "--height", "1", "--msg", "01", "--passphrase-file", pass)
	short := writeKeyText(t, w.dir, "short.hex", strings.Repeat("ab", 31))
	zero := writeKeyText(t, w.dir, "zero.hex", strings.Repeat("00", 32))
	overN := writeKeyText(t, w.dir, "overn.hex", strings.Repeat("ff", 32))
	badBatch := writeKeyText(t, w.dir, "batch.txt", "100 00aa\nnot-a-height 00bb")
	badConfig := writeKeyText(t, w.dir, "config.json", `{"rpc_url": "127.0.0.1:1", "rpc_colour": "blue"}`)
	noCookie := filepath.Join(w.dir, "no-such-cookie")
	emptyDir := filepath.Join(w.dir, "no-node")
	if err := os.Mkdir(emptyDir, 0o700); err != nil {
		t.Fatal(err)
	}

	// Issue 15's categories: files of every kind that must be refused,
	// outputs that must not be written, strict JSON, secrets' modes.
	put := func(name string, data []byte, mode os.FileMode) string {
		t.Helper()
		p := filepath.Join(w.dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ubFile := put("unbond.psbt", []byte(ubPSBT+"\n"), 0o644)
	slFile := put("slash.psbt", []byte(slPSBT+"\n"), 0o644)
	fifo := mkfifo(t, filepath.Join(w.dir, "fifo"))
	outDir := filepath.Join(w.dir, "outdir")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	existing := put("existing.psbt", []byte("an earlier result\n"), 0o644)
	link := filepath.Join(w.dir, "link.psbt")
	if err := os.Symlink(existing, link); err != nil {
		t.Fatal(err)
	}
	paramsDoc, err := os.ReadFile(regtestParams)
	if err != nil {
		t.Fatal(err)
	}
	dupParams := put("dup-params.json", bytes.Replace(paramsDoc, []byte(`"unbonding_time_blocks": 10,`), []byte(`"unbonding_time_blocks": 10, "unbonding_time_blocks": 20,`), 1), 0o644)
	caseParams := put("case-params.json", bytes.Replace(paramsDoc, []byte(`"unbonding_time_blocks": 10,`), []byte(`"unbonding_time_blocks": 10, "UNBONDING_TIME_BLOCKS": 20,`), 1), 0o644)
	truncParams := put("trunc-params.json", paramsDoc[:len(paramsDoc)/2], 0o644)
	trailParams := put("trail-params.json", append(bytes.Clone(paramsDoc), `{"unbonding_time_blocks": 20}`...), 0o644)
	latin1Params := put("latin1-params.json", bytes.Replace(paramsDoc, []byte(`"tag": "62627434"`), []byte("\"tag\": \"62627434\xe9\""), 1), 0o644)
	dupConfig := put("dup-config.json", []byte(`{"rpc_url": "127.0.0.1:1", "rpc_user": "u", "rpc_url": "127.0.0.1:2"}`), 0o600)
	trailConfig := put("trail-config.json", []byte(`{"rpc_url": "127.0.0.1:1"} {"rpc_url": "127.0.0.1:2"}`), 0o600)
	latin1Config := put("latin1-config.json", []byte("{\"rpc_user\": \"r\xe9mi\"}"), 0o600)
	passConfig := put("pass-config.json", []byte(`{"rpc_url": "127.0.0.1:1", "rpc_user": "u", "rpc_pass": "config-secret"}`), 0o640)
	dupKS := put("dup.keystore", bytes.Replace(ksText, []byte(`"version": 1,`), []byte(`"version": 1, "version": 1,`), 1), 0o600)
	openKS := put("open.keystore", ksText, 0o644)
	openKey := put("open.key", []byte(hex32(w.staker)), 0o640)
	openPass := put("open-pass.txt", []byte("the right passphrase\n"), 0o640)
	openSK := put("open-sk.hex", []byte(hex32(w.fp)), 0o604)
	openRPCPass := put("open-rpc-pass", []byte("rpc-secret\n"), 0o644)
	openCookie := put("open-cookie", []byte("__cookie__:cookie-secret\n"), 0o604)
	hugeBatch := filepath.Join(t.TempDir(), "huge-batch.txt") // (outside w.dir: not hashed by every snapshot)
	if err := os.WriteFile(hugeBatch, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(hugeBatch, maxBatchSize+1); err != nil {
		t.Fatal(err)
	}
	stakerXOdd := "03" + xonlyHex(w.staker) // the same x-only key, odd y
	covOdd := "03" + xonlyHex(w.cov[0])
	utxo := fmt.Sprintf("%s:0:500000:%x", stTx.TxHash(), p2wpkhScript(w.funder))
	stakeWith := func(extra ...string) []string {
		args := append([]string{"stake"}, w.delegationArgs()...)
		args = append(args, "--amount", "100000", "--fee-rate", "2", "--utxo", utxo, "--change-address", w.changeAddr)
		for i := 0; i+1 < len(extra); i += 2 {
			args = replaceFlag(args, extra[i], extra[i+1])
		}
		return args
	}
	unbondWith := func(extra ...string) []string {
		args := append(append([]string{"unbond"}, w.delegationArgs()...), "--staking-tx", stHex)
		for i := 0; i+1 < len(extra); i += 2 {
			if slices.Contains(args, extra[i]) {
				args = replaceFlag(args, extra[i], extra[i+1])
			} else {
				args = append(args, extra[i], extra[i+1])
			}
		}
		if len(extra)%2 == 1 {
			args = append(args, extra[len(extra)-1])
		}
		return args
	}
	// signWith signs the unbonding PSBT file with key and passphrase file
	// (either "" for the good one), then the extra flags.
	signWith := func(key, passFile string, extra ...string) []string {
		if key == "" {
			key = keystore
		}
		if passFile == "" {
			passFile = pass
		}
		return append([]string{"sign", "--psbt", ubFile, "--key", key, "--passphrase-file", passFile}, extra...)
	}
	signUB := func(extra ...string) []string { return signWith("", "", extra...) }
	goodParams := put("params.json", paramsDoc, 0o644)

	notOnCurve := strings.Repeat("00", 31) + "05"
	mainnetAddr := "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
	testnetAddr := "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
	txid := stTx.TxHash().String()
	sig32 := strings.Repeat("11", 32)
	ptx := []string{"stake", "parse", "--tag", "62627434", "--tx", stHex, "--covenant-quorum", "2"}
	for _, k := range w.cov {
		ptx = append(ptx, "--covenant-pk", xonlyHex(k))
	}
	withQuorum := func(q string) []string {
		out := append([]string(nil), ptx...)
		out[7] = q
		return out
	}
	eotsSign := func(extra ...string) []string {
		return append([]string{"eots", "sign", "--key", fpKS, "--db", db, "--chain-id", "c", "--height", "2", "--msg", "02"}, extra...)
	}
	with := func(base []string, extra ...string) []string { return append(append([]string(nil), base...), extra...) }

	cases := []struct {
		name string
		args []string
		code int
		flag string // the one-line error must name it ("" when no flag is at fault)
		want string
	}{
		// eots
		{"eots verify: bad hex key", []string{"eots", "verify", "--pk", "zz", "--pub-rand", exEotsR, "--msg", exEotsM1, "--sig", exEotsS1}, exitUsage, "--pk", "not hex"},
		{"eots verify: wrong key length", []string{"eots", "verify", "--pk", exEotsPK[:62], "--pub-rand", exEotsR, "--msg", exEotsM1, "--sig", exEotsS1}, exitUsage, "--pk", "31 bytes"},
		{"eots verify: key not on the curve", []string{"eots", "verify", "--pk", notOnCurve, "--pub-rand", exEotsR, "--msg", exEotsM1, "--sig", exEotsS1}, exitUsage, "--pk", "curve"},
		{"eots verify: short signature", []string{"eots", "verify", "--pk", exEotsPK, "--pub-rand", exEotsR, "--msg", exEotsM1, "--sig", exEotsS1[:40]}, exitUsage, "--sig", ""},
		{"eots verify: randomness not on the curve", []string{"eots", "verify", "--pk", exEotsPK, "--pub-rand", notOnCurve, "--msg", exEotsM1, "--sig", exEotsS1}, exitUsage, "--pub-rand", ""},
		{"eots verify: invalid signature", []string{"eots", "verify", "--pk", exEotsPK, "--pub-rand", exEotsR, "--msg", exEotsM2, "--sig", exEotsS1}, exitError, "", "invalid"},
		{"eots pubrand: short secret key", []string{"eots", "pubrand", "--key", secretFile(t, exEotsSK[:62]), "--chain-id", "c", "--start-height", "1", "--count", "2"}, exitUsage, "--key", ""},
		{"eots pubrand: zero count", []string{"eots", "pubrand", "--key", secretFile(t, exEotsSK), "--chain-id", "c", "--start-height", "1", "--count", "0"}, exitUsage, "--count", ""},
		{"eots extract: same message", []string{"eots", "extract", "--pk", exEotsPK33, "--pub-rand", exEotsR, "--msg1", exEotsM1, "--sig1", exEotsS1, "--msg2", exEotsM1, "--sig2", exEotsS1}, exitError, "", "no key can be extracted"},
		{"eots sign: message not hex", eotsSign("--passphrase-file", pass, "--msg", "0x0g"), exitUsage, "--msg", "not hex"},
		{"eots sign: wrong passphrase", eotsSign("--passphrase-file", wrong), exitError, "", "wrong passphrase"},
		{"eots sign: missing passphrase file", eotsSign("--passphrase-file", filepath.Join(w.dir, "none.txt")), exitUsage, "--passphrase-file", ""},
		{"eots sign: empty passphrase", eotsSign("--passphrase-file", empty), exitUsage, "--passphrase-file", "empty"},
		{"eots sign: no passphrase at all", eotsSign(), exitUsage, "--passphrase-file", "no passphrase"},
		{"eots sign: store missing", with(eotsSign("--passphrase-file", pass), "--db", filepath.Join(w.dir, "lost.db")), exitError, "", "--create-db"},
		{"eots sign: double sign", with(eotsSign("--passphrase-file", pass), "--height", "1"), exitError, "", "double-sign"},
		{"eots sign-batch: bad line", []string{"eots", "sign-batch", "--key", fpKS, "--db", db, "--chain-id", "c", "--input", badBatch, "--passphrase-file", pass}, exitUsage, "--input", "line 2"},
		{"eots keygen: existing file", []string{"eots", "keygen", "--key", fpKS, "--passphrase-file", pass, "--scrypt-work-factor", "10"}, exitError, "", "exists"},
		{"eots keygen: work factor too small", []string{"eots", "keygen", "--key", filepath.Join(w.dir, "new.keystore"), "--passphrase-file", pass, "--scrypt-work-factor", "5"}, exitUsage, "--scrypt-work-factor", ""},
		{"eots rollback: not confirmed", []string{"eots", "rollback", "--db", db, "--key", fpKS, "--chain-id", "c", "--above", "0"}, exitUsage, "--yes", ""},
		{"eots records: store missing", []string{"eots", "records", "--db", filepath.Join(w.dir, "lost.db")}, exitError, "", "not found"},

		// keys and keystores
		{"key import: short key", []string{"key", "import", "--key", filepath.Join(w.dir, "new.keystore"), "--sk-file", short, "--passphrase-file", pass}, exitUsage, "--sk-file", ""},
		{"key import: zero key", []string{"key", "import", "--key", filepath.Join(w.dir, "new.keystore"), "--sk-file", zero, "--passphrase-file", pass}, exitUsage, "--sk-file", ""},
		{"key import: key above the group order", []string{"key", "import", "--key", filepath.Join(w.dir, "new.keystore"), "--sk-file", overN, "--passphrase-file", pass}, exitUsage, "--sk-file", ""},
		{"key show: plain key file", []string{"key", "show", "--key", w.stakerFile}, exitUsage, "--key", "keystore"},
		{"key show: unknown network", []string{"--network", "moon", "key", "show", "--key", keystore}, exitUsage, "--network", ""},
		{"key export: not confirmed", []string{"key", "export", "--key", keystore, "--passphrase-file", pass}, exitUsage, "--show-secret", ""},
		{"key export: wrong passphrase", []string{"key", "export", "--key", keystore, "--passphrase-file", wrong, "--show-secret"}, exitError, "", "wrong passphrase"},
		{"sign: keystore, wrong passphrase", []string{"sign", "--psbt", ubPSBT, "--key", keystore, "--passphrase-file", wrong}, exitError, "--key", "wrong passphrase"},
		{"sign: keystore, no passphrase", []string{"sign", "--psbt", ubPSBT, "--key", keystore}, exitUsage, "--passphrase-file", ""},
		{"sign: truncated keystore", []string{"sign", "--psbt", ubPSBT, "--key", truncatedKS, "--passphrase-file", pass}, exitUsage, "--key", "keystore"},
		{"adaptor-sign-slashing: keystore, wrong passphrase", []string{"adaptor", "sign-slashing", "--psbt", slPSBT, "--key", keystore, "--passphrase-file", wrong}, exitError, "--key", "wrong passphrase"},
		{"complete-slashing: fp keystore, wrong passphrase", []string{"adaptor", "complete-slashing", "--psbt", slPSBT, "--fp-sk-file", fpKS, "--passphrase-file", wrong}, exitError, "--fp-sk-file", "wrong passphrase"},
		{"complete-slashing: psbt of another tx", []string{"adaptor", "complete-slashing", "--psbt", slPSBT, "--psbt", ubPSBT, "--fp-sk-file", w.fpFile}, exitUsage, "--psbt", "is for transaction"},

		// adaptor
		{"adaptor sign: short secret key", []string{"adaptor", "sign", "--key", secretFile(t, exCovSK[:62]), "--enc-key", exEotsPK, "--msg-hash", exSighash}, exitUsage, "--key", ""},
		{"adaptor sign: encryption key not on the curve", []string{"adaptor", "sign", "--key", secretFile(t, exCovSK), "--enc-key", notOnCurve, "--msg-hash", exSighash}, exitUsage, "--enc-key", ""},
		{"adaptor sign: short hash", []string{"adaptor", "sign", "--key", secretFile(t, exCovSK), "--enc-key", exEotsPK, "--msg-hash", exSighash[:62]}, exitUsage, "--msg-hash", ""},
		{"adaptor verify: bad signature length", []string{"adaptor", "verify", "--pk", exCovPK, "--enc-key", exEotsPK, "--msg-hash", exSighash, "--sig", exAdSig[:100]}, exitUsage, "--sig", ""},
		{"adaptor verify: wrong message", []string{"adaptor", "verify", "--pk", exCovPK, "--enc-key", exEotsPK, "--msg-hash", sig32, "--sig", exAdSig}, exitError, "", ""},
		{"adaptor decrypt: zero key", []string{"adaptor", "decrypt", "--sig", exAdSig, "--key", secretFile(t, strings.Repeat("00", 32))}, exitUsage, "--key", ""},

		// stake parse
		{"stake parse: truncated tx", with(ptx, "--tx", stHex[:len(stHex)-8]), exitUsage, "--tx", ""},
		{"stake parse: duplicate covenant keys", with(ptx, "--covenant-pk", xonlyHex(w.cov[0])), exitError, "--covenant-pk", "duplicate"},
		{"stake parse: quorum zero", withQuorum("0"), exitError, "--covenant-quorum", ""},
		{"stake parse: quorum above the committee", withQuorum("4"), exitError, "--covenant-quorum", ""},
		{"stake parse: unknown network", append([]string{"--network", "moon"}, ptx...), exitUsage, "--network", "unknown network"},
		// Commands that do not otherwise use the network still refuse a typo.
		{"finalize: unknown network", []string{"finalize", "--network", "moon", "--psbt", ubPSBT}, exitUsage, "--network", "unknown network"},
		{"adaptor verify: unknown network", []string{"adaptor", "verify", "--network", "mainet"}, exitUsage, "--network", "unknown network"},
		{"eots pubrand: unknown network", []string{"eots", "pubrand", "--network", "testnet5"}, exitUsage, "--network", "unknown network"},
		{"stake parse: tag of three bytes", with(ptx, "--tag", "626274"), exitUsage, "--tag", ""},

		// node connection, broadcast, wait, status
		{"broadcast: unreachable node", with([]string{"broadcast", "--tx", stHex}, unreachable...), exitError, "--rpc-url", "cannot reach"},
		{"broadcast: wrong RPC password", with([]string{"broadcast", "--tx", stHex}, wrongPass...), exitError, "--rpc-user", "refused the RPC credentials"},
		{"broadcast: tx not hex", with([]string{"broadcast", "--tx", "02zz"}, good...), exitUsage, "--tx", ""},
		{"broadcast: https url", []string{"broadcast", "--tx", stHex, "--rpc-url", "https://127.0.0.1:1"}, exitUsage, "--rpc-url", "scheme"},
		{"broadcast: no node on mainnet", []string{"--network", "mainnet", "broadcast", "--tx", stHex}, exitUsage, "--rpc-url", "no node configured"},
		{"broadcast: no node of regtest start", []string{"broadcast", "--tx", stHex}, exitUsage, "--rpc-url", "regtest start"},
		{"broadcast: missing cookie file", []string{"broadcast", "--tx", stHex, "--rpc-url", rpc.Host, "--rpc-cookie", noCookie}, exitUsage, "--rpc-cookie", ""},
		{"broadcast: config with an unknown field", []string{"broadcast", "--tx", stHex, "--config", badConfig}, exitUsage, "--config", ""},
		{"broadcast: unfunded tx", with([]string{"broadcast", "--tx", stHex}, good...), exitError, "", "the node would reject"},
		{"wait: short txid", with([]string{"wait", "--txid", txid[:60]}, good...), exitUsage, "--txid", ""},
		{"wait: zero confirmations", with([]string{"wait", "--txid", txid, "--confirmations", "0"}, good...), exitUsage, "--confirmations", ""},
		{"wait: wrong RPC password", with([]string{"wait", "--txid", txid, "--timeout", "5s"}, wrongPass...), exitError, "--rpc-user", "refused the RPC credentials"},
		{"wait: unreachable node", with([]string{"wait", "--txid", txid, "--timeout", "5s"}, unreachable...), exitError, "--rpc-url", "cannot reach"},
		{"status: neither tx nor txid", with([]string{"status", "--params", regtestParams}, good...), exitUsage, "--txid", ""},
		{"status: missing params", with([]string{"status", "--params", filepath.Join(w.dir, "none.json"), "--staking-tx", stHex}, good...), exitUsage, "--params", ""},
		{"status: staking time zero", with([]string{"status", "--params", regtestParams, "--staking-tx", stHex, "--staker-pk", xonlyHex(w.staker), "--fp-pk", xonlyHex(w.fp), "--staking-time", "0"}, good...), exitUsage, "--staking-time", ""},
		{"status: staking time too large", with([]string{"status", "--params", regtestParams, "--staking-tx", stHex, "--staker-pk", xonlyHex(w.staker), "--fp-pk", xonlyHex(w.fp), "--staking-time", "65536"}, good...), exitUsage, "--staking-time", ""},
		{"status: --staking-time without --staker-pk", with([]string{"status", "--params", regtestParams, "--txid", txid, "--staking-time", "144"}, good...), exitUsage, "--staker-pk", ""},
		{"status: wrong RPC password", with([]string{"status", "--params", regtestParams, "--txid", txid}, wrongPass...), exitError, "--rpc-user", "refused the RPC credentials"},

		// regtest
		{"regtest mine: zero blocks", []string{"regtest", "mine", "0", "--dir", emptyDir}, exitUsage, "N", ""},
		{"regtest mine: on mainnet", []string{"--network", "mainnet", "regtest", "mine", "1", "--dir", emptyDir}, exitUsage, "--network", ""},
		{"regtest fund: mainnet address", []string{"regtest", "fund", "--address", mainnetAddr, "--amount", "1000", "--dir", emptyDir}, exitUsage, "--address", ""},
		{"regtest fund: zero amount", []string{"regtest", "fund", "--address", w.changeAddr, "--amount", "0", "--dir", emptyDir}, exitUsage, "--amount", ""},
		{"regtest status: no node", []string{"regtest", "status", "--dir", emptyDir}, exitError, "", "no regtest node is running"},
		{"regtest start: unknown node", []string{"regtest", "start", "--node", "geth", "--dir", emptyDir}, exitUsage, "--node", ""},

		// transaction commands: corners TestTxCommandsBadInput leaves
		{"stake: below the minimum staking value", with(append([]string{"stake"}, w.delegationArgs()...), "--amount", "49999", "--fee-rate", "2",
			"--utxo", fmt.Sprintf("%s:0:500000:%x", txid, p2wpkhScript(w.funder)), "--change-address", w.changeAddr), exitError, "--amount", ""},
		{"stake: regtest address on testnet", with(append([]string{"--network", "testnet", "stake"}, w.delegationArgs()...), "--amount", "100000", "--fee-rate", "2",
			"--utxo", fmt.Sprintf("%s:0:500000:%x", txid, p2wpkhScript(w.funder)), "--change-address", w.changeAddr), exitUsage, "--change-address", "network"},
		{"withdraw: testnet destination", with(append([]string{"withdraw", "--from", "staking"}, w.delegationArgs()...), "--funding-tx", stHex, "--to", testnetAddr, "--fee-rate", "2"), exitUsage, "--to", "network"},
		{"unbond: staking time zero", with(append([]string{"unbond"}, replaceFlag(w.delegationArgs(), "--staking-time", "0")...), "--staking-tx", stHex), exitUsage, "--staking-time", ""},
		{"inspect: truncated psbt", []string{"inspect", "--psbt", ubPSBT[:len(ubPSBT)-12]}, exitUsage, "--psbt", ""},
		{"sign: fp keystore is a wrong role", []string{"sign", "--psbt", ubPSBT, "--key", fpKS, "--passphrase-file", pass}, exitError, "--key", "no role"},

		// Issue 15. Huge and negative numbers.
		{"stake: negative amount", stakeWith("--amount", "-5"), exitUsage, "--amount", "positive"},
		{"stake: amount beyond int64", stakeWith("--amount", "99999999999999999999"), exitUsage, "--amount", "out of range"},
		{"stake: amount at int64's maximum", stakeWith("--amount", "9223372036854775807"), exitError, "--amount", "outside"},
		{"stake: negative staking time", stakeWith("--staking-time", "-1"), exitUsage, "--staking-time", ""},
		{"eots sign: negative height", eotsSign("--passphrase-file", pass, "--height", "-1"), exitUsage, "--height", ""},
		{"sign: negative input index", signUB("--input", "-2"), exitUsage, "--input", ""},
		{"wait: negative timeout", with([]string{"wait", "--txid", txid, "--timeout", "-1s"}, good...), exitUsage, "--timeout", "positive"},
		// Zero and huge fee rates.
		{"stake: zero fee rate", stakeWith("--fee-rate", "0"), exitUsage, "--fee-rate", ""},
		{"stake: negative fee rate", stakeWith("--fee-rate", "-3"), exitUsage, "--fee-rate", ""},
		{"stake: huge fee rate", stakeWith("--fee-rate", "1e9"), exitUsage, "--fee-rate", ""},
		{"stake: NaN fee rate", stakeWith("--fee-rate", "NaN"), exitUsage, "--fee-rate", ""},
		{"withdraw: infinite fee rate", with(append([]string{"withdraw", "--from", "staking"}, w.delegationArgs()...), "--funding-tx", stHex, "--to", w.withdrawAddr, "--fee-rate", "Inf"), exitUsage, "--fee-rate", ""},
		// Out-of-range times.
		{"unbond: staking time above 65535", unbondWith("--staking-time", "65536"), exitUsage, "--staking-time", ""},
		{"stake: staking time below the params' minimum", stakeWith("--staking-time", "4"), exitError, "--staking-time", ""},
		// Empty and over-quorum committees.
		{"stake parse: no covenant committee", []string{"stake", "parse", "--tag", "62627434", "--tx", stHex, "--covenant-quorum", "1"}, exitUsage, "covenant-pk", ""},
		{"stake parse: quorum far above the committee", withQuorum("4294967295"), exitError, "--covenant-quorum", ""},
		// Duplicated keys, and a key's odd-y twin (the same x-only key).
		{"stake: a provider twice", with(stakeWith(), "--fp-pk", xonlyHex(w.fp)), exitError, "--fp-pk", "twice"},
		{"stake: the provider is the staker's odd-y twin", stakeWith("--fp-pk", stakerXOdd), exitError, "--fp-pk", "is the staker key"},
		{"stake parse: a covenant key and its odd-y twin", with(ptx, "--covenant-pk", covOdd), exitError, "--covenant-pk", "duplicate"},
		// Wrong-network addresses.
		{"stake: mainnet change address", stakeWith("--change-address", mainnetAddr), exitUsage, "--change-address", "network"},
		// A PSBT of another transaction.
		{"finalize: PSBTs of two transactions", []string{"finalize", "--psbt", ubFile, "--psbt", slFile}, exitUsage, "--psbt", "is for transaction"},
		// Truncated, repeated-key, trailing and non-UTF-8 JSON.
		{"unbond: params with a key twice", unbondWith("--params", dupParams), exitUsage, "--params", `"unbonding_time_blocks" given twice`},
		{"unbond: params with a key twice in two cases", unbondWith("--params", caseParams), exitUsage, "--params", "same key"},
		{"unbond: truncated params", unbondWith("--params", truncParams), exitUsage, "--params", ""},
		{"unbond: params with data after them", unbondWith("--params", trailParams), exitUsage, "--params", "data after the JSON value"},
		{"unbond: params not UTF-8", unbondWith("--params", latin1Params), exitUsage, "--params", "not UTF-8"},
		{"broadcast: config with a key twice", []string{"broadcast", "--tx", stHex, "--config", dupConfig}, exitUsage, "--config", `"rpc_url" given twice`},
		{"broadcast: config with data after it", []string{"broadcast", "--tx", stHex, "--config", trailConfig}, exitUsage, "--config", "data after the JSON value"},
		{"broadcast: config not UTF-8", []string{"broadcast", "--tx", stHex, "--config", latin1Config}, exitUsage, "--config", "not UTF-8"},
		{"sign: keystore with a field twice", signWith(dupKS, ""), exitUsage, "--key", `"version" given twice`},
		{"stake: change address not UTF-8", stakeWith("--change-address", "bcrt1\xff\xfe"), exitUsage, "--change-address", ""},
		// Outputs: never an input, never a key, never through a link or
		// into a directory, an existing file only with --force.
		{"sign: --out is the keystore read (issue 15)", signUB("--out", keystore), exitUsage, "--out", "is read by this command"},
		{"sign: --out is the keystore read, with --force", signUB("--out", keystore, "--force"), exitUsage, "--out", "is read by this command"},
		{"sign: --out is the PSBT read, with --force", signUB("--out", ubFile, "--force"), exitUsage, "--out", "is read by this command"},
		{"sign: --out is the PSBT read, spelt otherwise", signUB("--out", w.dir+"/./outdir/../unbond.psbt", "--force"), exitUsage, "--out", "same file as the input"},
		{"sign: --out is the passphrase file", signUB("--out", pass, "--force"), exitUsage, "--out", "is read by this command"},
		{"sign: --out is another keystore", signUB("--out", fpKS, "--force"), exitUsage, "--out", "holds a keystore"},
		{"sign: --out is a plain key file", signUB("--out", w.fpFile, "--force"), exitUsage, "--out", "hex secret key"},
		{"sign: --out is a signer's record store", signUB("--out", db, "--force"), exitUsage, "--out", "bbolt database"},
		{"sign: --out exists", signUB("--out", existing), exitUsage, "--out", "exists; give --force"},
		{"sign: --out is a directory", signUB("--out", outDir, "--force"), exitUsage, "--out", "is a directory"},
		{"sign: --out is a symbolic link", signUB("--out", link, "--force"), exitUsage, "--out", "symbolic link"},
		{"sign: --out in a missing directory", signUB("--out", filepath.Join(w.dir, "no", "dir", "x.psbt")), exitUsage, "--out", "does not exist"},
		{"sign: --out is a named pipe", signUB("--out", fifo, "--force"), exitUsage, "--out", "not a regular file"},
		{"unbond: --out is the params file", unbondWith("--params", goodParams, "--out", goodParams, "--force"), exitUsage, "--out", "is read by this command"},
		{"finalize: --out is one of the PSBTs", []string{"finalize", "--psbt", slFile, "--out", slFile, "--force"}, exitUsage, "--out", "is read by this command"},
		{"adaptor sign-slashing: --out is the covenant key", w.asCovenant("adaptor", "sign-slashing", "--psbt", slFile, "--key", w.covFiles[0], "--out", w.covFiles[0], "--force"), exitUsage, "--out", "is read by this command"},
		{"key import: --key is the --sk-file, with --force", []string{"key", "import", "--key", w.stakerFile, "--sk-file", w.stakerFile, "--passphrase-file", pass, "--force"}, exitUsage, "--key", "is read by this command"},
		{"key import: --key is another keystore, with --force", []string{"key", "import", "--key", fpKS, "--sk-file", w.stakerFile, "--passphrase-file", pass, "--force", "--scrypt-work-factor", "10"}, exitUsage, "--key", "not a keystore of this key"},
		{"key import: --key is the passphrase file, with --force", []string{"key", "import", "--key", pass, "--sk-file", w.stakerFile, "--passphrase-file", pass, "--force"}, exitUsage, "--key", "is read by this command"},
		{"eots backup: --out is the store", []string{"eots", "backup", "--db", db, "--out", db}, exitUsage, "--out", "is read by this command"},
		// Unreadable and unsafe key files, and secrets readable by others.
		{"sign: key file is a directory", signWith(outDir, ""), exitUsage, "--key", "is a directory"},
		{"sign: keystore readable by others", signWith(openKS, ""), exitUsage, "--key", "chmod 600"},
		{"sign: plain key readable by the group", []string{"sign", "--psbt", ubFile, "--key", openKey}, exitUsage, "--key", "chmod 600"},
		{"eots sign: keystore readable by others", with(eotsSign("--passphrase-file", pass), "--key", openKS), exitUsage, "--key", "chmod 600"},
		{"sign: passphrase file readable by the group", signWith("", openPass), exitUsage, "--passphrase-file", "chmod 600"},
		{"eots import: secret key file readable by others", []string{"eots", "import", "--key", filepath.Join(w.dir, "new.keystore"), "--sk-file", openSK, "--passphrase-file", pass}, exitUsage, "--sk-file", "chmod 600"},
		{"broadcast: RPC password file readable by others", []string{"broadcast", "--tx", stHex, "--rpc-url", rpc.Host, "--rpc-user", "u", "--rpc-pass-file", openRPCPass}, exitUsage, "--rpc-pass-file", "chmod 600"},
		{"broadcast: config with a password readable by the group", []string{"broadcast", "--tx", stHex, "--config", passConfig}, exitUsage, "--config", "chmod 600"},
		{"broadcast: cookie readable by others", []string{"broadcast", "--tx", stHex, "--rpc-url", rpc.Host, "--rpc-cookie", openCookie}, exitUsage, "--rpc-cookie", "chmod o-rwx"},
		// Wrong and empty passphrases (more above).
		{"sign: keystore, empty passphrase file", signWith("", empty), exitUsage, "--passphrase-file", "empty"},
		{"eots export: wrong passphrase", []string{"eots", "export", "--key", fpKS, "--passphrase-file", wrong, "--show-secret"}, exitError, "--key", "wrong passphrase"},
		// Devices and named pipes as input, and files over their limit.
		{"unbond: params from a named pipe", unbondWith("--params", fifo), exitUsage, "--params", "named pipe"},
		{"unbond: params from /dev/zero", unbondWith("--params", "/dev/zero"), exitUsage, "--params", "character device"},
		{"sign: key from a named pipe", signWith(fifo, ""), exitUsage, "--key", "named pipe"},
		{"sign: key from /dev/zero", signWith("/dev/zero", ""), exitUsage, "--key", "character device"},
		{"sign: passphrase from a named pipe", signWith("", fifo), exitUsage, "--passphrase-file", "named pipe"},
		{"sign: passphrase from /dev/zero", signWith("", "/dev/zero"), exitUsage, "--passphrase-file", "character device"},
		{"sign: PSBT from a named pipe", []string{"sign", "--psbt", fifo, "--key", w.stakerFile}, exitUsage, "--psbt", "named pipe"},
		{"inspect: transaction from /dev/zero", []string{"inspect", "--tx", "@/dev/zero"}, exitUsage, "--tx", "character device"},
		{"unbond: staking tx from a named pipe", unbondWith("--staking-tx", "@"+fifo), exitUsage, "--staking-tx", "named pipe"},
		{"key import: secret key from a named pipe", []string{"key", "import", "--key", filepath.Join(w.dir, "new.keystore"), "--sk-file", fifo, "--passphrase-file", pass}, exitUsage, "--sk-file", "named pipe"},
		{"key import: secret key from /dev/zero", []string{"key", "import", "--key", filepath.Join(w.dir, "new.keystore"), "--sk-file", "/dev/zero", "--passphrase-file", pass}, exitUsage, "--sk-file", "character device"},
		{"broadcast: RPC password from a named pipe", []string{"broadcast", "--tx", stHex, "--rpc-url", rpc.Host, "--rpc-user", "u", "--rpc-pass-file", fifo}, exitUsage, "--rpc-pass-file", "named pipe"},
		{"broadcast: cookie from a named pipe", []string{"broadcast", "--tx", stHex, "--rpc-url", rpc.Host, "--rpc-cookie", fifo}, exitUsage, "--rpc-cookie", "named pipe"},
		{"broadcast: cookie from /dev/zero", []string{"broadcast", "--tx", stHex, "--rpc-url", rpc.Host, "--rpc-cookie", "/dev/zero"}, exitUsage, "--rpc-cookie", "character device"},
		{"broadcast: config from a named pipe", []string{"broadcast", "--tx", stHex, "--config", fifo}, exitUsage, "--config", "named pipe"},
		{"broadcast: config from /dev/zero", []string{"broadcast", "--tx", stHex, "--config", "/dev/zero"}, exitUsage, "--config", "character device"},
		{"eots sign-batch: requests from a named pipe", []string{"eots", "sign-batch", "--key", fpKS, "--db", db, "--chain-id", "c", "--input", fifo, "--passphrase-file", pass}, exitUsage, "--input", "named pipe"},
		{"eots sign-batch: requests over the limit", []string{"eots", "sign-batch", "--key", fpKS, "--db", db, "--chain-id", "c", "--input", hugeBatch, "--passphrase-file", pass}, exitUsage, "--input", "larger than 64 MiB"},
		{"pop verify: proof from a named pipe", []string{"pop", "verify", "--pop", "@" + fifo, "--staker-pk", xonlyHex(w.staker), "--babylon-address", testBabylonAddr}, exitUsage, "--pop", "named pipe"},
	}
	if len(cases) < 150 {
		t.Fatalf("only %d cases", len(cases))
	}
	secrets := []string{hex32(w.staker), hex32(w.fp), "the right passphrase"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := dirSnapshot(t, w.dir)
			code, stdout, stderr := runCLI(t, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, c.code, stderr)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if len(lines) != 1 {
				t.Errorf("stderr has %d lines, want exactly one: %q", len(lines), stderr)
			}
			if !strings.HasPrefix(lines[0], "btcstake: error: ") ||
				!strings.Contains(lines[0], c.flag) || !strings.Contains(lines[0], c.want) {
				t.Fatalf("stderr %q: want one error line naming %q with %q", stderr, c.flag, c.want)
			}
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "internal error") {
				t.Fatalf("stderr %q", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout on error: %q", stdout)
			}
			for _, s := range secrets {
				if strings.Contains(stderr, s) {
					t.Fatal("a secret in the error")
				}
			}
			after := dirSnapshot(t, w.dir)
			for p, v := range after {
				if before[p] != v {
					t.Errorf("%s written or changed", p)
				}
			}
			for p := range before {
				if _, ok := after[p]; !ok {
					t.Errorf("%s removed", p)
				}
			}
		})
	}
}

// replaceFlag returns args with flag's value replaced.
func replaceFlag(args []string, flag, val string) []string {
	out := append([]string(nil), args...)
	for i := range out {
		if out[i] == flag && i+1 < len(out) {
			out[i+1] = val
		}
	}
	return out
}

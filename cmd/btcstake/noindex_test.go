package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/regtest"
	"github.com/btcstake/btcstake/watch"
)

// noIndexConn returns the --network/--rpc-* flags for n.
func noIndexConn(t *testing.T, n *regtest.Node) []string {
	rpc := n.RPC()
	return []string{"--network", "regtest", "--rpc-url", rpc.Host, "--rpc-user", rpc.User, "--rpc-pass-file", secretFile(t, rpc.Pass)}
}

// TestStatusOfASlashedStakeWithoutIndex: on a btcd without -txindex,
// status follows a stake by its txid through slashing to the withdrawal
// of the slashing change, the change's time lock seen one block before it
// opens (and the node refusing the withdraw there) and at it.
func TestStatusOfASlashedStakeWithoutIndex(t *testing.T) {
	statusDir := t.TempDir()
	t.Setenv(statusDirEnv, statusDir)
	n := regtest.NewTestNode(t, regtest.Options{NoTxIndex: true})
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	sc, err := regtest.NewScenario(n, regtest.ScenarioConfig{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(sc.Params)
	if err != nil {
		t.Fatal(err)
	}
	paramsFile := filepath.Join(t.TempDir(), "params.json")
	if err := os.WriteFile(paramsFile, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	conn := noIndexConn(t, n)
	st, err := sc.Stake(regtest.StakeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	delegation := []string{"--params", paramsFile,
		"--staker-pk", hex.EncodeToString(schnorr.SerializePubKey(sc.Staker.PubKey())),
		"--fp-pk", hex.EncodeToString(schnorr.SerializePubKey(sc.FinalityProviders[0].PubKey())),
		"--staking-time", strconv.Itoa(int(sc.StakingTime))}
	statusOf := func(txid string, extra ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, append(append(append([]string{"status", "--json", "--txid", txid}, delegation...), extra...), conn...)...)
	}
	status := func(extra ...string) stakeStatus {
		t.Helper()
		code, out, errOut := statusOf(st.Txid.String(), extra...)
		if code != 0 || errOut != "" {
			t.Fatalf("status: exit %d %q", code, errOut)
		}
		return mustJSON[stakeStatus](t, out)
	}
	if s := status(); s.State != "staked" || s.Confirmations != 1 {
		t.Fatalf("staked: %+v", s)
	}
	// Found upwards from its own height, reading one block; refused, with
	// what to give, when the blocks read do not hold it.
	if s := status("--from-height", strconv.Itoa(int(st.Height)), "--max-scan-blocks", "1"); s.State != "staked" {
		t.Fatalf("from its height: %+v", s)
	}
	if _, err := n.Mine(3); err != nil {
		t.Fatal(err)
	}
	// A store that never saw the stake searches the last 3 blocks only;
	// status's own cache remembers the stake's block from the runs above.
	fresh := filepath.Join(t.TempDir(), "fresh.db")
	code, _, errOut := statusOf(st.Txid.String(), "--max-scan-blocks", "3", "--db", fresh)
	if code != 1 || !strings.Contains(errOut, "does not know staking transaction "+st.Txid.String()) || !strings.Contains(errOut, "--from-height") {
		t.Fatalf("out of reach: exit %d %q", code, errOut)
	}
	if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed lookup left a store behind: %v", err)
	}
	cacheFile := filepath.Join(statusDir, "regtest", st.Txid.String()+".db")
	if s := status("--max-scan-blocks", "3"); s.State != "staked" || s.Confirmations != 4 || s.DBFile != cacheFile {
		t.Fatalf("from the cache's remembered height: %+v (cache %s)", s, cacheFile)
	}
	if fi, err := os.Stat(cacheFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache file %s: %v %v", cacheFile, fi, err)
	}
	// While another process holds the cache, a store of its own.
	held, err := watch.Open(cacheFile, watch.Config{Network: &chaincfg.RegressionNetParams})
	if err != nil {
		t.Fatal(err)
	}
	if s := status(); s.State != "staked" || s.DBFile != "" {
		t.Fatalf("with the cache held: %+v", s)
	}
	held.Close()
	// A cache file that is no watcher store is left as it is: status says
	// so and answers from a store of its own.
	kept, err := os.ReadFile(cacheFile)
	if err != nil {
		t.Fatal(err)
	}
	junk := []byte(strings.Repeat("not a store ", 600))
	if err := os.WriteFile(cacheFile, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := statusOf(st.Txid.String())
	if s := mustJSON[stakeStatus](t, out); code != 0 || s.State != "staked" || s.DBFile != "" ||
		!strings.Contains(errOut, "the status cache file "+cacheFile+" cannot be used") {
		t.Fatalf("with a cache file that is no store: exit %d %+v %q", code, s, errOut)
	}
	if b, _ := os.ReadFile(cacheFile); string(b) != string(junk) {
		t.Fatal("status changed a cache file that is no watcher store")
	}
	if err := os.WriteFile(cacheFile, kept, 0o600); err != nil {
		t.Fatal(err)
	}

	ds, err := sc.DoubleSign(0, uint64(st.Height))
	if err != nil {
		t.Fatal(err)
	}
	sl, err := sc.Slash(st, nil, ds.Extracted)
	if err != nil {
		t.Fatal(err)
	}
	opens := int64(sl.Height) + int64(sc.Params.UnbondingTime())
	s := status()
	if s.State != "slashed" || len(s.Events) != 2 || s.Events[1].Event != "slashed from staking" || s.Events[1].Txid != sl.Txid.String() ||
		s.Events[1].Height != int64(sl.Height) || len(s.Paths) != 1 || s.Paths[0].Output != "slashing_change" || s.Paths[0].OpensAtHeight != opens {
		t.Fatalf("slashed: %+v", s)
	}
	if _, err := n.MineTo(int32(opens) - 2); err != nil {
		t.Fatal(err)
	}
	if s := status(); s.Paths[0].SpendableNow || s.Paths[0].OpensInBlocks != 1 {
		t.Fatalf("one block before the change's lock: %+v", s.Paths[0])
	}
	// Withdraw shows the node the withdraw here (one block early), then at
	// the lock, then mines it.
	wd, err := sc.Withdraw(st, sl)
	if err != nil {
		t.Fatal(err)
	}
	if wd.Premature == nil || !errors.Is(wd.Premature.Err, chain.ErrSequenceLock) || wd.Mature == nil || wd.Mature.Err != nil || int64(wd.Height) != opens {
		t.Fatalf("withdraw of the change: premature %+v, mature %+v, at %d", wd.Premature, wd.Mature, wd.Height)
	}
	s = status()
	if s.State != "slashed, change withdrawn" || len(s.Events) != 3 || s.Events[2].Event != "withdrawn from slashing_change" ||
		s.Events[2].Txid != wd.Txid.String() || len(s.Paths) != 0 {
		t.Fatalf("change withdrawn: %+v", s)
	}
}

// streamCLI runs the CLI in the background with its stdout as a stream of
// lines.
func streamCLI(t *testing.T, args ...string) (lines <-chan string, done <-chan [2]string) {
	pr, pw := io.Pipe()
	ls := make(chan string, 64)
	d := make(chan [2]string, 1)
	var errOut strings.Builder
	go func() {
		code := run(args, pw, &errOut)
		pw.Close()
		d <- [2]string{strconv.Itoa(code), errOut.String()}
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			ls <- sc.Text()
		}
		close(ls)
	}()
	return ls, d
}

// TestWaitWithoutIndex: wait counts a transaction's confirmations on a
// btcd without -txindex: from the mempool through each block mined while
// it waits; and, started after the transaction was mined, by reading past
// blocks within --max-scan-blocks (or from --from-height), saying when
// it did not find it that it timed out and what to give.
func TestWaitWithoutIndex(t *testing.T) {
	n := regtest.NewTestNode(t, regtest.Options{NoTxIndex: true})
	conn := noIndexConn(t, n)
	key, _ := btcec.NewPrivateKey()
	pk, _ := txscript.PayToTaprootScript(txscript.ComputeTaprootKeyNoScript(key.PubKey()))
	op, _, err := n.Fund(pk, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	txid := op.Hash.String()
	lines, done := streamCLI(t, append([]string{"wait", "--txid", txid, "--confirmations", "3", "--interval", "20ms", "--timeout", "1m"}, conn...)...)
	mined := 0
	for l := range lines {
		switch l {
		case txid + ": 0/3 confirmations": // seen in the mempool
			if _, err := n.Mine(1); err != nil {
				t.Fatal(err)
			}
			mined++
		case txid + ": 1/3 confirmations": // seen in the block just mined
			if _, err := n.Mine(2); err != nil {
				t.Fatal(err)
			}
			mined += 2
		case txid + ": 3/3 confirmations":
		default:
			t.Errorf("unexpected line %q", l)
		}
	}
	if r := <-done; r[0] != "0" || r[1] != "" || mined != 3 {
		t.Fatalf("wait: exit %s %q after %d blocks", r[0], r[1], mined)
	}
	confirmedAt, _ := n.Height()
	confirmedAt -= 2
	if _, err := n.Mine(2); err != nil { // 5 confirmations now
		t.Fatal(err)
	}

	// Too few past blocks read: a timeout that says so.
	code, out, errOut := runCLI(t, append([]string{"wait", "--txid", txid, "--confirmations", "5", "--max-scan-blocks", "4",
		"--interval", "20ms", "--timeout", "500ms"}, conn...)...)
	if code != 1 || out != "" || !strings.Contains(errOut, "gave up after 500ms: timed out") || !strings.Contains(errOut, "still unknown") ||
		!strings.Contains(errOut, "--from-height") {
		t.Fatalf("short scan: exit %d %q %q", code, out, errOut)
	}
	for _, extra := range [][]string{
		{"--max-scan-blocks", "5"}, // exactly reaches it
		{"--from-height", strconv.Itoa(int(confirmedAt)), "--max-scan-blocks", "1"},
		{}, // the default bound
	} {
		args := append(append([]string{"wait", "--json", "--txid", txid, "--confirmations", "5", "--timeout", "30s"}, extra...), conn...)
		code, out, errOut := runCLI(t, args...)
		if code != 0 || errOut != "" {
			t.Fatalf("%v: exit %d %q", extra, code, errOut)
		}
		if got := mustJSON[map[string]any](t, out); got["confirmations"] != float64(5) || got["txid"] != txid {
			t.Fatalf("%v: %v", extra, got)
		}
	}
	// From a height above its block, upwards: the scan reaches the tip
	// without it.
	code, _, errOut = runCLI(t, append([]string{"wait", "--txid", txid, "--from-height", strconv.Itoa(int(confirmedAt) + 1),
		"--max-scan-blocks", "2", "--timeout", "10s"}, conn...)...)
	if code != 1 || !strings.Contains(errOut, "short of the tip") || !strings.Contains(errOut, "--max-scan-blocks") {
		t.Fatalf("from above, short of the tip: exit %d %q", code, errOut)
	}
	for _, bad := range [][]string{{"--from-height", "-1"}, {"--max-scan-blocks", "0"}} {
		if code, _, errOut := runCLI(t, append(append([]string{"wait", "--txid", txid}, bad...), conn...)...); code != 2 || !strings.Contains(errOut, bad[0]) {
			t.Errorf("%v: exit %d %q", bad, code, errOut)
		}
	}
}

// TestSignetChallengeFlag: --signet-challenge names a custom signet, which
// a node reporting its challenge must follow; the default signet is
// refused for it and it for the default; it needs --network signet.
func TestSignetChallengeFlag(t *testing.T) {
	isolate(t)
	node := newFakeNodeServer(t, "signet")
	node.genesis = *chaincfg.SigNetParams.GenesisHash
	conn := []string{"node", "info", "--json", "--network", "signet", "--rpc-url", node.srv.URL, "--rpc-user", "u", "--rpc-pass-file", secretFile(t, "p")}
	defaultHex := hex.EncodeToString(chaincfg.DefaultSignetChallenge)
	for _, c := range []struct {
		reported string
		flag     []string
		env      string
		code     int
		text     string
	}{
		{"51", nil, "", 1, "follows the signet of challenge 51"},
		{"51", []string{"--signet-challenge", "51"}, "", 0, `"signet_challenge": "51"`},
		{"51", nil, "51", 0, `"signet_challenge": "51"`},
		{defaultHex, nil, "", 0, `"signet_challenge": "` + defaultHex + `"`},
		{defaultHex, []string{"--signet-challenge", "51"}, "", 1, "not the signet of network magic"},
		{"51", []string{"--signet-challenge", "zz"}, "", 2, "--signet-challenge"},
		{"51", []string{"--signet-challenge", "51", "--network", "regtest"}, "", 2, "needs --network signet"},
	} {
		node.mu.Lock()
		node.signetChallenge = c.reported
		node.mu.Unlock()
		t.Setenv("BTCSTAKE_SIGNET_CHALLENGE", c.env)
		code, out, errOut := runCLI(t, append(append([]string{}, conn...), c.flag...)...)
		if code != c.code || !strings.Contains(out+errOut, c.text) {
			t.Errorf("node reports %s, flags %v, env %q: exit %d %q %q", c.reported, c.flag, c.env, code, out, errOut)
		}
	}
}

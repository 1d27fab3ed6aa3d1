package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/btcstake/btcstake/regtest"
)

// The demo runs in-process against a real node (the cached btcd build is
// shared with the regtest package's tests).

var demoArgs = []string{"demo", "--seed", "4243", "--finality-providers", "3", "--culprit", "2",
	"--covenant-members", "5", "--covenant-quorum", "3", "--amount", "2000000"}

func TestDemoJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(append(slices.Clone(demoArgs), "--json"), &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr.String(), stdout.String())
	}
	// The top-level fields are the stable contract.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(stdout.Bytes(), &fields); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	var keys []string
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"change_withdraw", "culprit", "double_sign", "elapsed_ms", "extracted_key", "fp_pks",
		"node", "params", "recovered_key", "seed", "slashing", "staker_pk", "staking", "staking_time"}
	if !slices.Equal(keys, want) {
		t.Fatalf("fields %v, want %v", keys, want)
	}
	var d demoJSON
	if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if d.Seed != 4243 || d.Culprit != 2 || len(d.FinalityProviders) != 3 || len(d.Params.CovenantPKs) != 5 || d.Params.CovenantQuorum != 3 {
		t.Fatalf("setup %+v", d)
	}
	txids := []string{d.Staking.Txid, d.Slashing.Txid, d.ChangeWithdraw.Txid, d.Staking.FundingTxid}
	for _, id := range txids {
		if b, err := hex.DecodeString(id); err != nil || len(b) != 32 {
			t.Fatalf("txid %q", id)
		}
	}
	if distinct := slices.Compact(slices.Sorted(slices.Values(txids))); len(distinct) != len(txids) {
		t.Fatalf("txids not distinct: %v", txids)
	}
	culprit := d.FinalityProviders[2]
	if d.DoubleSign.FinalityProviderPK != culprit || d.ExtractedKey.PublicKey != culprit || !d.ExtractedKey.Matches ||
		!d.RecoveredKey.Matches || d.RecoveredKey.SecretKey != d.ExtractedKey.SecretKey || d.RecoveredKey.SlashingTxid != d.Slashing.Txid {
		t.Fatalf("keys: double sign %+v extracted %+v recovered %+v", d.DoubleSign, d.ExtractedKey, d.RecoveredKey)
	}
	// Seed 4243 gives the culprit an odd-y key: both keys are printed in
	// BIP-340 form, the secret of the x-only key in the scripts.
	sk, _ := hex.DecodeString(d.RecoveredKey.SecretKey)
	if k, pk := btcec.PrivKeyFromBytes(sk); pk.SerializeCompressed()[0] != 2 || demoXOnlyHex(pk) != culprit || k.Key.IsZero() {
		t.Fatalf("recovered secret %s is not the BIP-340 secret of %s", d.RecoveredKey.SecretKey, culprit)
	}
	if !slices.Contains(d.Params.CovenantPKs, d.RecoveredKey.CovenantPK) {
		t.Fatalf("recovered via %s, not a covenant key", d.RecoveredKey.CovenantPK)
	}
	if len(d.DoubleSign.Votes) != 2 || d.DoubleSign.Votes[0].Message == d.DoubleSign.Votes[1].Message ||
		d.DoubleSign.Height != uint64(d.Staking.Height) {
		t.Fatalf("votes %+v", d.DoubleSign)
	}
	if d.Staking.ValueSat != 2_000_000 || d.Staking.CovenantAdaptors != 3*3 {
		t.Fatalf("staking %+v (want 3 members x 3 providers adaptor signatures)", d.Staking)
	}
	if d.Slashing.SlashedSat != 200_000 || d.Slashing.SlashingPkScript != d.Params.SlashingPkScript ||
		d.Slashing.ChangeSat != 2_000_000-200_000-d.Params.MinSlashingFeeSat || d.Slashing.FeeSat != d.Params.MinSlashingFeeSat {
		t.Fatalf("slashing %+v", d.Slashing)
	}
	w := d.ChangeWithdraw
	ut := int32(d.Params.UnbondingTimeBlock)
	if d.Slashing.Height != d.Staking.Height+1 || w.Height != d.Slashing.Height+ut || w.Sequence != uint32(ut) ||
		w.ValueSat != d.Slashing.ChangeSat-w.FeeSat || d.Slashing.Confirmations != int64(ut)+1 {
		t.Fatalf("heights: staking %d slashing %+v withdraw %+v", d.Staking.Height, d.Slashing, w)
	}
	if w.Premature.Height != w.Height-2 || w.Premature.Verdict != regtest.ErrSequenceLock.Error() || w.Premature.Reason == "" {
		t.Fatalf("premature withdraw %+v", w.Premature)
	}
	checkNodeGone(t, d.Node)
	if d.ElapsedMS <= 0 || d.ElapsedMS > 30_000 {
		t.Errorf("demo took %d ms", d.ElapsedMS)
	}
	t.Logf("demo (warm btcd cache) took %d ms", d.ElapsedMS)
}

// TestDemoHuman: the narration names every step and txid, and a seed
// repeats the keys.
func TestDemoHuman(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(demoArgs, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr.String(), stdout.String())
	}
	out := stdout.String()
	for _, s := range []string{"1. stake", "staking tx", "2. finality provider 2 double-signs", "vote A", "vote B",
		"3. anyone extracts the key", "4. slashing", "slashing tx", "5. the staker withdraws the change",
		"the node refuses: sequence locks not met", "withdraw tx", "6. a second party recovers the key",
		"confirmations:", "node stopped"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q", s)
		}
	}
	if got := strings.Count(out, "matches the finality provider's key"); got != 2 {
		t.Errorf("%d key matches, want 2:\n%s", got, out)
	}
	if strings.Contains(out, "DOES NOT") {
		t.Error(out)
	}
	for _, label := range []string{"staking tx", "slashing tx", "withdraw tx"} {
		if !regexp.MustCompile(label + `\s+[0-9a-f]{64}\s`).MatchString(out) {
			t.Errorf("no txid after %q", label)
		}
	}
	// Same seed as TestDemoJSON's run: the same staker key (a
	// deterministic function of the seed; computed here independently).
	s, err := regtest.NewScenario(&regtest.Node{}, regtest.ScenarioConfig{Seed: 4243, FinalityProviders: 3, CovenantMembers: 5, CovenantQuorum: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, demoXOnlyHex(s.Staker.PubKey())) || !strings.Contains(out, demoXOnlyHex(s.FinalityProviders[2].PubKey())+"  <- will double-sign") {
		t.Errorf("seed 4243 keys not in the output:\n%s", out)
	}
	node := parseDemoNode(t, out)
	checkNodeGone(t, node)
}

// demoRunJSON runs the demo with args and --json and returns its output as
// generic JSON.
func demoRunJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(append(slices.Clone(args), "--json"), &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr.String(), stdout.String())
	}
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDemoSeedRepeats: two runs with the same --seed, each on its own
// fresh node, report the same everything (keys, votes, heights, amounts
// and every txid) but the node and the time taken; another seed gives
// other txids.
func TestDemoSeedRepeats(t *testing.T) {
	first, second := demoRunJSON(t, demoArgs...), demoRunJSON(t, demoArgs...)
	txids := func(d map[string]any) []any {
		st, sl, w := d["staking"].(map[string]any), d["slashing"].(map[string]any), d["change_withdraw"].(map[string]any)
		return []any{st["funding_txid"], st["txid"], sl["txid"], w["txid"], d["recovered_key"].(map[string]any)["slashing_txid"]}
	}
	if a, b := txids(first), txids(second); !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed, other txids:\n%v\n%v", a, b)
	}
	if first["node"].(map[string]any)["pid"] == second["node"].(map[string]any)["pid"] {
		t.Fatal("both runs used the same node")
	}
	for _, d := range []map[string]any{first, second} {
		delete(d, "node")
		delete(d, "elapsed_ms")
	}
	if !reflect.DeepEqual(first, second) {
		a, _ := json.MarshalIndent(first, "", " ")
		b, _ := json.MarshalIndent(second, "", " ")
		t.Fatalf("same seed, other results:\n%s\n%s", a, b)
	}
	other := demoRunJSON(t, append(slices.Clone(demoArgs[:1]), append([]string{"--seed", "4244"}, demoArgs[3:]...)...)...)
	for i, id := range txids(other) {
		if id == txids(first)[i] {
			t.Errorf("seed 4244 repeats txid %v of seed 4243", id)
		}
	}
}

// TestDemoInterrupt: Ctrl-C in the middle of the scenario stops the node
// and removes its directory; the demo exits 1 saying it was interrupted.
func TestDemoInterrupt(t *testing.T) {
	t.Cleanup(func() { demoStepHook = nil })
	demoStepHook = func(step string, n *regtest.Node) {
		if step != regtest.StepSlash {
			return
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			t.Error(err)
			return
		}
		// Poll until the demo's signal handler has stopped the node.
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := n.Height(); errors.Is(err, regtest.ErrStopped) {
				return
			}
			if time.Now().After(deadline) {
				t.Error("node still running 30 s after SIGINT")
				return
			}
			time.Sleep(10 * time.Millisecond) // polling interval, not synchronisation
		}
	}
	var stdout, stderr bytes.Buffer
	code := run(demoArgs, &stdout, &stderr)
	if code != exitError || !strings.Contains(stderr.String(), "interrupted") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "4. slashing") || strings.Contains(out, "5. the staker") {
		t.Fatalf("interrupted at the wrong step:\n%s", out)
	}
	checkNodeGone(t, parseDemoNode(t, out))
}

func TestDemoUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--culprit", "1"}, "--culprit"},
		{[]string{"--finality-providers", "3", "--culprit", "-1"}, "--culprit"},
		{[]string{"--finality-providers", "0"}, "--finality-providers"},
		{[]string{"--covenant-members", "4", "--covenant-quorum", "2"}, "--covenant-quorum"},
		{[]string{"--covenant-quorum", "4"}, "--covenant-quorum"},
		{[]string{"--amount", "5"}, "--amount"},
		{[]string{"--staking-time", "0"}, "--staking-time"},
		{[]string{"--unbonding-time", "70000"}, "--unbonding-time"},
		{[]string{"--node", "litecoind"}, "--node"},
		{[]string{"--network", "mainnet"}, "--network"},
		{[]string{"extra"}, "unknown command"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"demo"}, c.args...), &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), c.flag) || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q, stdout %q", c.args, code, stderr.String(), stdout.String())
		}
	}
}

var demoNodeLine = regexp.MustCompile(`node: (\S+) on (\S+) \(pid (\d+)\), height \d+, data in (\S+)`)

func parseDemoNode(t *testing.T, out string) demoNodeJSON {
	t.Helper()
	m := demoNodeLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no node line in:\n%s", out)
	}
	pid, _ := strconv.Atoi(m[3])
	return demoNodeJSON{Kind: regtest.Kind(m[1]), RPCHost: m[2], Pid: pid, DataDir: m[4]}
}

// checkNodeGone: the demo's node process has exited and its directory is
// removed.
func checkNodeGone(t *testing.T, n demoNodeJSON) {
	t.Helper()
	if n.Pid <= 0 || n.DataDir == "" || !strings.HasPrefix(n.RPCHost, "127.0.0.1:") {
		t.Fatalf("node %+v", n)
	}
	if err := syscall.Kill(n.Pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("node pid %d still exists (kill 0: %v)", n.Pid, err)
	}
	if _, err := os.Stat(n.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("node directory %s not removed: %v", n.DataDir, err)
	}
}

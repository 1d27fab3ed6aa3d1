package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// runTerm runs the CLI with input on a standard input that is a terminal
// (tty) or not.
func runTerm(t *testing.T, input string, tty bool, args ...string) (int, string, string) {
	t.Helper()
	var o, e bytes.Buffer
	a := &app{stdout: &o, stderr: &e, stdin: strings.NewReader(input), stdinIsTerminal: func() bool { return tty }}
	code := runApp(a, args)
	return code, o.String(), e.String()
}

func addrOn(t *testing.T, k *btcec.PrivateKey, net *chaincfg.Params) string {
	a, err := address.NewAddressWitnessPubKeyHash(address.Hash160(k.PubKey().SerializeCompressed()), net)
	if err != nil {
		t.Fatal(err)
	}
	return a.EncodeAddress()
}

// realStake is a stake command on network under the bbn-1 preset: 1,000,000
// sat for 64,000 blocks from a coin of 2,500,000.
func realStake(t *testing.T, w *txWorld, net *chaincfg.Params, extra ...string) []string {
	_, utxo := fundingCoin("real network coin", p2wpkhScript(w.funder), 2_500_000)
	args := []string{"stake", "--network", net.Name, "--params", "bbn-1", "--staker-pk", xonlyHex(w.staker), "--fp-pk", xonlyHex(w.fp),
		"--staking-time", "64000", "--amount", "1000000", "--fee-rate", "2", "--utxo", utxo, "--change-address", addrOn(t, w.funder, net)}
	return append(args, extra...)
}

// v4Output is the staking output of w's stake under version 4 of bbn-1,
// made by the library from the preset.
func v4Output(t *testing.T, w *txWorld, version uint32) []byte {
	vs, err := params.Preset("bbn-1")
	if err != nil {
		t.Fatal(err)
	}
	v, err := vs.ByNumber(version)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := v.StakingParams()
	o, err := script.NewStakingOutput(script.Parties{Staker: w.staker.PubKey(), FinalityProviders: []*btcec.PublicKey{w.fp.PubKey()},
		Covenant: p.CovenantKeys(), CovenantQuorum: p.CovenantQuorum()}, 64000)
	if err != nil {
		t.Fatal(err)
	}
	return o.PkScript
}

func stakingOutputOf(t *testing.T, j psbtJSON) string {
	t.Helper()
	for _, o := range j.Description.Outputs {
		if o.Role == psbt.RoleStaking.String() {
			return o.PkScript
		}
	}
	t.Fatalf("no staking output in %+v", j.Description)
	return ""
}

func TestStakeAsksOnRealNetworks(t *testing.T) {
	isolate(t)
	w := newTxWorld(t)
	out := filepath.Join(w.dir, "stake.psbt")

	// A terminal, answered "yes": the lock is stated, then the PSBT written.
	code, stdout, stderr := runTerm(t, "yes\n", true, realStake(t, w, &chaincfg.MainNetParams, "--btc-height", "900000", "--out", out)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	wantContains(t, stderr, "this stake locks coins on mainnet", "1000000 sat", "64000 blocks, about 444 days, 15 months",
		"needs 6 of the 9 covenant keys", "1008 more blocks (about 7 days); fee 9600 sat", "version 4 from Bitcoin height 893362",
		"in force at height 900000 (--btc-height)", "preset bbn-1 (retrieved", `Type "yes" to build this stake:`)
	for _, k := range bbn1Keys {
		wantContains(t, stderr, k)
	}
	wantContains(t, stdout, "wrote the PSBT to "+out)
	pkt, err := psbt.Decode([]byte(mustRead(t, out)))
	if err != nil {
		t.Fatal(err)
	}
	if want := v4Output(t, w, 4); !bytes.Equal(pkt.UnsignedTx.TxOut[0].PkScript, want) {
		t.Fatalf("staking output %x, want %x (version 4's committee)", pkt.UnsignedTx.TxOut[0].PkScript, want)
	}

	// Any other answer: nothing written, exit 1.
	os.Remove(out)
	for _, answer := range []string{"no\n", "y\n", "YES please\n", ""} {
		code, stdout, stderr = runTerm(t, answer, true, realStake(t, w, &chaincfg.MainNetParams, "--btc-height", "900000", "--out", out)...)
		if code != exitError || stdout != "" || !strings.Contains(stderr, "not confirmed: nothing was written") {
			t.Fatalf("answer %q: exit %d %q %q", answer, code, stdout, stderr)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("answer %q: the PSBT was written", answer)
		}
	}

	// No terminal, and --json: refused before anything is done (exit 2
	// naming --yes), on every real network; regtest never asks.
	for _, net := range []*chaincfg.Params{&chaincfg.MainNetParams, &chaincfg.SigNetParams, &chaincfg.TestNet3Params, &chaincfg.TestNet4Params} {
		for _, c := range []struct {
			tty   bool
			extra []string
		}{{false, nil}, {true, []string{"--json"}}} {
			args := realStake(t, w, net, append([]string{"--btc-height", "900000", "--out", out}, c.extra...)...)
			code, stdout, stderr = runTerm(t, "yes\n", c.tty, args...)
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, "--yes") || !strings.Contains(stderr, net.Name) {
				t.Fatalf("%s tty=%v %v: exit %d %q %q", net.Name, c.tty, c.extra, code, stdout, stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatal("written")
			}
		}
	}

	// --yes: no question, the lock still stated (on stderr, or in the JSON).
	code, stdout, stderr = runTerm(t, "", false, realStake(t, w, &chaincfg.MainNetParams, "--btc-height", "893361", "--yes")...)
	if code != 0 || strings.Contains(stderr, "Type") || !strings.Contains(stderr, "version 3 from Bitcoin height 891425") ||
		!strings.Contains(stderr, "next version     4 from height 893362, in 1 block(s)") || !strings.Contains(stdout, "psbt   cHNidP") {
		t.Fatalf("exit %d %q %q", code, stdout, stderr)
	}
	code, stdout, stderr = runTerm(t, "", false, realStake(t, w, &chaincfg.MainNetParams, "--btc-height", "893361", "--yes", "--json")...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d %q", code, stderr)
	}
	j := mustJSON[psbtJSON](t, stdout)
	l := j.Lock
	if l == nil || l.Network != "mainnet" || l.ValueSat != 1_000_000 || l.StakingTime != 64000 || l.ApproxDays != 444.4 ||
		l.UnbondingTimeBlocks != 1008 || l.UnbondingFeeSat != 32000 || l.CovenantQuorum != 6 || *l.ParamsVersion != 3 ||
		l.BtcActivationHeight != 891425 || *l.BtcHeight != 893361 || l.BtcHeightFrom != "flag" || *l.NextVersion != 4 ||
		l.NextBtcActivationHeight != 893362 || !l.ConfirmRequired || l.ConfirmedBy != "--yes" || !strings.HasPrefix(l.ParamsSource, "preset bbn-1") {
		t.Fatalf("%+v", l)
	}
	sameKeySet(t, l.CovenantPks)
	if got := stakingOutputOf(t, j); got != fmt.Sprintf("%x", v4Output(t, w, 3)) {
		t.Fatal("not version 3's staking output")
	}
}

func TestStakeRefusesWhatTheVersionAtTheTipRejects(t *testing.T) {
	isolate(t)
	w := newTxWorld(t)
	out := filepath.Join(w.dir, "stake.psbt")
	replaceArg := func(args []string, flag, v string) []string { return replaceFlag(args, flag, v) }
	for _, c := range []struct {
		name string
		args []string
		code int
		text string
	}{
		{"below the minimum of version 4", replaceArg(realStake(t, w, &chaincfg.MainNetParams, "--btc-height", "900000"), "--amount", "499999"), exitError,
			"--amount: params version 4 (from height 893362, in force at height 900000): invalid staking value: 499999 sat outside 500000..500000000000"},
		{"above the maximum of version 0", replaceArg(realStake(t, w, &chaincfg.MainNetParams, "--btc-height", "860000"), "--amount", "5000001"), exitError,
			"--amount: params version 0"},
		{"a staking time no version allows", replaceArg(realStake(t, w, &chaincfg.MainNetParams, "--btc-height", "900000"), "--staking-time", "1000"), exitError,
			"--staking-time: params version 4"},
		{"before bbn-1 began", realStake(t, w, &chaincfg.MainNetParams, "--btc-height", "850000"), exitError, "--btc-height: no params version"},
		{"phase 1 is lock-only", replaceArg(realStake(t, w, &chaincfg.MainNetParams, "--btc-height", "860000"), "--params", "bbn-1-phase1"), exitUsage,
			"--params: bbn-1-phase1: lock-only"},
		{"no height and no node", realStake(t, w, &chaincfg.MainNetParams), exitUsage, "--btc-height: on mainnet a stake must meet the params version in force at the Bitcoin tip"},
		{"no --params", func() []string {
			a := realStake(t, w, &chaincfg.SigNetParams, "--btc-height", "900000")
			for i := range a {
				if a[i] == "--params" {
					return append(a[:i:i], a[i+2:]...)
				}
			}
			return a
		}(), exitUsage, "for --network signet the preset is bbn-test-6"},
		{"the mainnet preset on signet", realStake(t, w, &chaincfg.SigNetParams, "--btc-height", "900000"), exitUsage,
			"--params: the preset bbn-1 is for Bitcoin mainnet, not signet (for signet: --params bbn-test-6)"},
		{"the regtest example on mainnet", replaceArg(realStake(t, w, &chaincfg.MainNetParams, "--btc-height", "900000"), "--params", "regtest"), exitUsage,
			"--params: the preset regtest is for Bitcoin regtest, not mainnet (for mainnet: --params bbn-1)"},
		{"several versions on regtest without a height", replaceArg(realStake(t, w, &chaincfg.RegressionNetParams), "--staking-time", "64000"), exitUsage,
			"--btc-height: --params bbn-1 holds 5 versions"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runTerm(t, "yes\n", true, append(c.args, "--out", out)...)
			if code != c.code || stdout != "" || !strings.Contains(stderr, c.text) || strings.Contains(stderr, "Type") {
				t.Fatalf("exit %d %q %q", code, stdout, stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatal("written")
			}
		})
	}
}

// tipNode is a mainnet node stand-in: getblockchaininfo reports chain and
// tip height; the genesis block is the real chain's.
func tipNode(t *testing.T, chainName string, genesis string, height int64) (string, func() []string) {
	var mu sync.Mutex
	var methods []string
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Method string `json:"method"`
			Params []any  `json:"params"`
			ID     any    `json:"id"`
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		_ = json.Unmarshal(body, &req)
		mu.Lock()
		methods = append(methods, req.Method)
		mu.Unlock()
		var result any
		switch req.Method {
		case "getblockchaininfo":
			result = map[string]any{"chain": chainName, "blocks": height, "headers": height, "bestblockhash": strings.Repeat("0", 63) + "1"}
		case "getblockcount":
			result = height
		case "getblockhash":
			result = genesis
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"id": req.ID, "result": result, "error": nil})
	}))
	t.Cleanup(s.Close)
	return s.URL, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), methods...) }
}

func TestStakeTakesTheTipFromTheNode(t *testing.T) {
	isolate(t)
	w := newTxWorld(t)
	url, calls := tipNode(t, "main", chaincfg.MainNetParams.GenesisHash.String(), 893361)
	conn := []string{"--rpc-url", url, "--rpc-user", "u", "--rpc-pass-file", secretFile(t, "p")}
	code, stdout, stderr := runTerm(t, "", false, realStake(t, w, &chaincfg.MainNetParams, append(conn, "--yes", "--json")...)...)
	if code != 0 {
		t.Fatalf("exit %d %s", code, stderr)
	}
	j := mustJSON[psbtJSON](t, stdout)
	if j.Lock.BtcHeightFrom != "node" || *j.Lock.BtcHeight != 893361 || *j.Lock.ParamsVersion != 3 || j.Lock.UnbondingFeeSat != 32000 {
		t.Fatalf("%+v", j.Lock)
	}
	if got := stakingOutputOf(t, j); got != fmt.Sprintf("%x", v4Output(t, w, 3)) {
		t.Fatal("not version 3's staking output")
	}
	if c := calls(); len(c) == 0 || c[0] != "getblockchaininfo" {
		t.Fatalf("calls %v", c)
	}
	// --btc-height wins; the node is not asked.
	before := len(calls())
	code, stdout, _ = runTerm(t, "", false, realStake(t, w, &chaincfg.MainNetParams, append(conn, "--yes", "--json", "--btc-height", "900000")...)...)
	if code != 0 || *mustJSON[psbtJSON](t, stdout).Lock.ParamsVersion != 4 || len(calls()) != before {
		t.Fatalf("exit %d; calls %v", code, calls())
	}
	// A regtest node for --network mainnet: refused, nothing built.
	rurl, _ := tipNode(t, "regtest", chaincfg.RegressionNetParams.GenesisHash.String(), 500)
	code, stdout, stderr = runTerm(t, "", false, realStake(t, w, &chaincfg.MainNetParams, "--rpc-url", rurl, "--rpc-user", "u",
		"--rpc-pass-file", secretFile(t, "p"), "--yes")...)
	if code != exitError || stdout != "" || !strings.Contains(stderr, "regtest") || !strings.Contains(stderr, "--btc-height") {
		t.Fatalf("exit %d %q %q", code, stdout, stderr)
	}
	// A node given but not there: exit 1, naming the way out.
	code, _, stderr = runTerm(t, "", false, realStake(t, w, &chaincfg.MainNetParams, "--rpc-url", closedPort(t), "--rpc-user", "u",
		"--rpc-pass-file", secretFile(t, "p"), "--yes")...)
	if code != exitError || !strings.Contains(stderr, "cannot reach") || !strings.Contains(stderr, "--btc-height") {
		t.Fatalf("exit %d %q", code, stderr)
	}
}

// TestRegtestStakeUnchanged: on regtest the preset and the file give the
// same PSBT, nothing is asked, and the lock is only in the JSON.
func TestRegtestStakeUnchanged(t *testing.T) {
	w := newTxWorld(t)
	_, utxo := fundingCoin("regtest coin", p2wpkhScript(w.funder), 250_000)
	args := func(prm string) []string {
		return []string{"stake", "--params", prm, "--staker-pk", xonlyHex(w.staker), "--fp-pk", xonlyHex(w.fp), "--staking-time", "144",
			"--amount", "100000", "--fee-rate", "2", "--utxo", utxo, "--change-address", w.changeAddr, "--phase1", "--json"}
	}
	code, fromFile, stderr := runTerm(t, "", false, args(regtestParams)...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d %q", code, stderr)
	}
	code, fromPreset, stderr := runTerm(t, "", false, args("regtest")...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d %q", code, stderr)
	}
	a, b := mustJSON[psbtJSON](t, fromFile), mustJSON[psbtJSON](t, fromPreset)
	if a.PSBT != b.PSBT || a.Lock.ConfirmRequired || a.Lock.ConfirmedBy != "" || a.Lock.BtcHeight != nil || a.Lock.ParamsVersion != nil {
		t.Fatalf("%+v / %+v", a.Lock, b.Lock)
	}
	code, text, stderr := runTerm(t, "", false, args("regtest")[:len(args("regtest"))-1]...)
	if code != 0 || stderr != "" || strings.Contains(text, "locks coins") {
		t.Fatalf("exit %d %q %q", code, text, stderr)
	}
}

// TestParamsSelectionEverywhere: every command that takes --params takes a
// preset and --btc-height, picks the version in force, and refuses to
// guess among several.
func TestParamsSelectionEverywhere(t *testing.T) {
	w := newTxWorld(t)
	stHex := txHex(w.stake(t))
	// Two versions of the example committee: the second raises the
	// unbonding fee from height 1000.
	ex := params.RegtestExample().Config()
	raised := ex
	raised.UnbondingFee = ex.UnbondingFee + 500
	two := versionsFile(t, w.dir, "two.json", babylonParams(ex, 0), babylonParams(raised, 1000))
	deleg := func(prm string, extra ...string) []string {
		return append([]string{"--params", prm, "--staker-pk", xonlyHex(w.staker), "--fp-pk", xonlyHex(w.fp), "--staking-time", "144"}, extra...)
	}
	unbond := func(prm string, extra ...string) []string {
		return append([]string{"unbond", "--json", "--staking-tx", stHex}, deleg(prm, extra...)...)
	}
	fee := func(args []string) int64 {
		t.Helper()
		return mustJSON[psbtJSON](t, mustRun(t, args...)).Fee
	}
	if f := fee(unbond("regtest")); f != ex.UnbondingFee || fee(unbond(regtestParams)) != f {
		t.Fatalf("preset fee %d", f)
	}
	if f := fee(unbond(two, "--btc-height", "999")); f != ex.UnbondingFee {
		t.Fatalf("at 999: %d", f)
	}
	if f := fee(unbond(two, "--btc-height", "1000")); f != raised.UnbondingFee {
		t.Fatalf("at 1000: %d", f)
	}
	sl := mustJSON[psbtJSON](t, mustRun(t, append([]string{"slash", "--json", "--from", "staking", "--funding-tx", stHex}, deleg(two, "--btc-height", "5")...)...))
	if sl.Description == nil || sl.Description.Kind != "slashing" {
		t.Fatalf("%+v", sl)
	}
	ubJSON := mustJSON[psbtJSON](t, mustRun(t, unbond(regtestParams)...))
	ubFile := writeFile(t, w.dir, "unbond.psbt", []byte(ubJSON.PSBT))

	for _, c := range []struct {
		name string
		args []string
		code int
		text string
	}{
		{"unbond: several versions, no height", unbond(two), exitUsage, "--btc-height: --params " + two + " holds 2 versions"},
		{"slash: several versions, no height", append([]string{"slash", "--from", "staking", "--funding-tx", stHex}, deleg("bbn-1")...), exitUsage, "--btc-height"},
		{"withdraw: several versions, no height", append([]string{"withdraw", "--from", "staking", "--funding-tx", stHex, "--to", w.withdrawAddr, "--fee-rate", "2"}, deleg(two)...), exitUsage, "--btc-height"},
		{"inspect: several versions, no height", []string{"inspect", "--tx", stHex, "--params", two}, exitUsage, "--btc-height"},
		{"inspect: the regtest example on mainnet", []string{"inspect", "--network", "mainnet", "--tx", stHex, "--params", "regtest"}, exitUsage, "--params: the preset regtest is for Bitcoin regtest, not mainnet"},
		{"status: the regtest example on signet", []string{"status", "--network", "signet", "--txid", strings.Repeat("ab", 32), "--params", "regtest", "--rpc-url", closedPort(t)}, exitUsage, "--params: the preset regtest is for Bitcoin regtest, not signet"},
		{"sign as covenant: the bbn-1 preset on testnet4", append([]string{"sign", "--network", "testnet4", "--psbt", ubFile, "--key", w.covFiles[0]}, deleg("bbn-1", "--btc-height", "900000")...), exitUsage, "--params: the preset bbn-1 is for Bitcoin mainnet, not testnet4"},
		{"inspect: a height without params", []string{"inspect", "--tx", stHex, "--btc-height", "5"}, exitUsage, "--btc-height: picks the version of --params"},
		{"inspect: lock-only", []string{"inspect", "--tx", stHex, "--params", "bbn-1-phase1", "--btc-height", "860000"}, exitUsage, "--params: bbn-1-phase1: lock-only"},
		{"unbond: before the first version", unbond("bbn-1", "--btc-height", "1"), exitError, "--btc-height: no params version"},
		{"sign as covenant: several versions, no height", append([]string{"sign", "--psbt", ubFile, "--key", w.covFiles[0]}, deleg(two)...), exitUsage, "--btc-height"},
		{"sign as covenant: the raised fee's version refuses the transaction", append([]string{"sign", "--psbt", ubFile, "--key", w.covFiles[0]}, deleg(two, "--btc-height", "1000")...), exitError, "--psbt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, c.args...)
			if code != c.code || stdout != "" || !strings.Contains(stderr, c.text) {
				t.Fatalf("exit %d %q %q", code, stdout, stderr)
			}
		})
	}
	// The covenant member signs under the version the transaction was
	// built for.
	sj := mustJSON[psbtJSON](t, mustRun(t, append([]string{"sign", "--json", "--psbt", ubFile, "--key", w.covFiles[0]}, deleg(two, "--btc-height", "999")...)...))
	if len(sj.Signed) != 1 || sj.Signed[0].Role != "covenant member" || sj.Signed[0].Key != xonlyHex(w.cov[0]) {
		t.Fatalf("%+v", sj.Signed)
	}
	// inspect confirms the outputs with a preset and a height.
	j := inspectJSONOf(t, "--tx", stHex, "--params", two, "--btc-height", "0")
	k := inspectJSONOf(t, "--tx", stHex, "--params", regtestParams)
	if fmt.Sprint(j) != fmt.Sprint(k) {
		t.Fatalf("%+v\n%+v", j, k)
	}
}

package main

import (
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/regtest"
	"github.com/btcstake/btcstake/script"
)

func nodeRandKey(r *rand.Rand) *btcec.PrivateKey {
	var b [32]byte
	r.Read(b[:])
	k, _ := btcec.PrivKeyFromBytes(b[:])
	return k
}

func wpkh(k *btcec.PrivateKey) []byte {
	return append([]byte{0x00, 0x14}, address.Hash160(k.PubKey().SerializeCompressed())...)
}

// nodeWorld is a delegation with its keys, params written to a file, and a
// running regtest node.
type nodeWorld struct {
	t          *testing.T
	r          *rand.Rand
	node       *regtest.Node
	params     *params.Params
	paramsFile string
	staker     *btcec.PrivateKey
	fp         *btcec.PrivateKey
	cov        []*btcec.PrivateKey
	conn       []string // --rpc-* flags for the node
}

func newNodeWorld(t *testing.T, opts regtest.Options) *nodeWorld {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	t.Setenv(statusDirEnv, t.TempDir()) // status's stores, not the user's cache
	w := &nodeWorld{t: t, r: r, node: regtest.NewTestNode(t, opts),
		staker: nodeRandKey(r), fp: nodeRandKey(r)}
	for i := 0; i < 3; i++ {
		w.cov = append(w.cov, nodeRandKey(r))
	}
	prm, err := params.New(params.Config{
		CovenantKeys: []*btcec.PublicKey{w.cov[0].PubKey(), w.cov[1].PubKey(), w.cov[2].PubKey()}, CovenantQuorum: 2,
		MinStakingValue: 50_000, MaxStakingValue: 10_000_000_000, MinStakingTime: 3, MaxStakingTime: 65535,
		UnbondingTime: 4, UnbondingFee: 1_000, SlashingPkScript: wpkh(nodeRandKey(r)), SlashingRate: "0.1",
		MinSlashingFee: 1_000, Tag: []byte("bbt4"),
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(prm)
	if err != nil {
		t.Fatal(err)
	}
	w.paramsFile = filepath.Join(t.TempDir(), "params.json")
	if err := os.WriteFile(w.paramsFile, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if w.params, err = params.Load(w.paramsFile); err != nil {
		t.Fatal(err)
	}
	rpc := w.node.RPC()
	w.conn = []string{"--network", "regtest", "--rpc-url", rpc.Host, "--rpc-user", rpc.User, "--rpc-pass-file", secretFile(t, rpc.Pass)}
	return w
}

func (w *nodeWorld) cli(args ...string) (int, string, string) {
	w.t.Helper()
	return runCLI(w.t, append(args, w.conn...)...)
}

func (w *nodeWorld) mine(n int) {
	w.t.Helper()
	if _, err := w.node.Mine(n); err != nil {
		w.t.Fatal(err)
	}
}

// stake builds, signs and broadcasts (through the CLI) a phase-1 staking tx.
func (w *nodeWorld) stake(stakingTime uint16) (*wire.MsgTx, psbt.Delegation) {
	t := w.t
	funder := nodeRandKey(w.r)
	op, fundTx, err := w.node.Fund(wpkh(funder), 400_000)
	if err != nil {
		t.Fatal(err)
	}
	d := psbt.Delegation{Params: w.params, Staker: w.staker.PubKey(), FinalityProviders: []*btcec.PublicKey{w.fp.PubKey()}, StakingTime: stakingTime}
	res, err := psbt.BuildStaking(psbt.StakingRequest{Delegation: d, Value: 200_000, FeeRate: 2000, ChangePkScript: wpkh(funder),
		PhaseOne: true, UTXOs: []psbt.UTXO{{OutPoint: op, Value: 400_000, PkScript: wpkh(funder), PrevTx: fundTx}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := psbt.SignFundingInputs(res.Packet, funder); err != nil {
		t.Fatal(err)
	}
	tx, err := psbt.Finalize(res.Packet)
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := w.cli("broadcast", "--tx", txHex(tx)); code != 0 || !strings.Contains(out, tx.TxHash().String()) {
		t.Fatalf("broadcast staking tx: exit %d %q %q", code, out, errOut)
	}
	return tx, d
}

func (w *nodeWorld) status(txid string) stakeStatus {
	w.t.Helper()
	code, out, errOut := w.cli("status", "--params", w.paramsFile, "--txid", txid, "--json")
	if code != 0 {
		w.t.Fatalf("status: exit %d: %s", code, errOut)
	}
	var s stakeStatus
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		w.t.Fatal(err)
	}
	return s
}

// TestNodeCommandsFollowAStake: broadcast, wait and status follow two
// stakes on a real btcd, with and without a transaction index: one
// withdrawn at its staking time lock, one unbonded and withdrawn at its
// unbonding lock, each lock tried one block early (refused) and at the
// lock (accepted). The node's chain is checked first.
func TestNodeCommandsFollowAStake(t *testing.T) {
	for _, noIndex := range []bool{false, true} {
		t.Run(map[bool]string{false: "txindex", true: "no txindex"}[noIndex], func(t *testing.T) {
			followAStake(t, noIndex)
		})
	}
}

func followAStake(t *testing.T, noIndex bool) {
	w := newNodeWorld(t, regtest.Options{NoTxIndex: noIndex})
	info := mustJSON[nodeInfoJSON](t, mustNode(t, w, "node", "info", "--json"))
	wantIndex := map[bool]string{false: "on", true: "off"}[noIndex]
	if info.TxIndex != wantIndex || info.Implementation != "btcd" || info.Chain != "regtest" || info.Network != "regtest" ||
		info.GenesisBlockHash != chaincfg.RegressionNetParams.GenesisHash.String() || info.RPCHost != w.node.RPC().Host || info.Pruned {
		t.Fatalf("node info: %+v", info)
	}
	if h, _ := w.node.Height(); info.Height != int64(h) {
		t.Fatalf("node info height %d, node at %d", info.Height, h)
	}
	stTx, d := w.stake(5)
	txid := stTx.TxHash().String()
	if s := w.status(txid); s.State != "unconfirmed" {
		t.Fatalf("before mining: %+v", s)
	}

	// wait returns once the block that confirms it is mined.
	done := make(chan struct {
		code   int
		out    string
		errOut string
	}, 1)
	go func() {
		code, out, errOut := runCLI(t, append([]string{"wait", "--txid", txid, "--confirmations", "1", "--interval", "20ms", "--timeout", "30s"}, w.conn...)...)
		done <- struct {
			code   int
			out    string
			errOut string
		}{code, out, errOut}
	}()
	w.mine(1)
	res := <-done
	if res.code != 0 || !strings.Contains(res.out, "1/1 confirmations") {
		t.Fatalf("wait: exit %d %q %q", res.code, res.out, res.errOut)
	}
	confHeight, _ := w.node.Height()

	s := w.status(txid)
	if s.State != "staked" || s.Confirmations != 1 || len(s.Paths) != 3 || s.StakingTime != 5 {
		t.Fatalf("staked: %+v", s)
	}
	tl := s.Paths[0]
	if tl.Path != "timelock" || tl.SpendableNow || tl.OpensAtHeight != int64(confHeight)+5 || tl.OpensInBlocks != int64(confHeight)+5-int64(confHeight+1) {
		t.Fatalf("timelock path: %+v (confirmed at %d)", tl, confHeight)
	}

	// Withdraw: one block early the node refuses, and broadcast says why.
	st, _ := d.StakingOutput()
	idx := uint32(0)
	for i, o := range stTx.TxOut {
		if string(o.PkScript) == string(st.PkScript) {
			idx = uint32(i)
		}
	}
	wr, err := psbt.BuildWithdraw(psbt.WithdrawRequest{Delegation: d, From: script.StakingOutputKind,
		Funding: psbt.Funding{Tx: stTx, Index: idx}, DestPkScript: wpkh(w.staker), FeeRate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if err := psbt.SignTapscript(wr.Packet, 0, w.staker); err != nil {
		t.Fatal(err)
	}
	wtx, err := psbt.Finalize(wr.Packet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.node.MineTo(confHeight + 5 - 2); err != nil { // the next block is one short of the lock
		t.Fatal(err)
	}
	code, _, errOut := w.cli("broadcast", "--tx", txHex(wtx))
	if code != 1 || !strings.Contains(errOut, "a time lock has not expired yet") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("premature withdraw: exit %d %q", code, errOut)
	}
	w.mine(1)
	if s := w.status(txid); !s.Paths[0].SpendableNow {
		t.Fatalf("timelock should be open: %+v", s.Paths[0])
	}
	if code, _, errOut := w.cli("broadcast", "--tx", txHex(wtx)); code != 0 {
		t.Fatalf("withdraw at the lock: %s", errOut)
	}
	w.mine(1)
	s = w.status(txid)
	if s.State != "withdrawn" || len(s.Events) != 2 || s.Events[1].Txid != wtx.TxHash().String() {
		t.Fatalf("after withdraw: %+v", s)
	}
	// Text output says the same.
	if code, out, _ := w.cli("status", "--params", w.paramsFile, "--txid", txid); code != 0 || !strings.Contains(out, "state: withdrawn") {
		t.Fatalf("text status: %s", out)
	}

	// A second stake is unbonded by the staker and two covenant members.
	st2, d2 := w.stake(100)
	w.mine(1)
	ub, err := psbt.BuildUnbonding(d2, psbt.Funding{Tx: st2, Index: idx})
	if err != nil {
		t.Fatal(err)
	}
	if err := psbt.SignTapscript(ub.Packet, 0, w.staker); err != nil {
		t.Fatal(err)
	}
	for _, k := range []*btcec.PrivateKey{w.cov[0], w.cov[2]} {
		signer, _ := psbt.NewCovenantSigner(k)
		if _, err := signer.Sign(ub.Packet, 0, d2); err != nil {
			t.Fatal(err)
		}
	}
	ubTx, err := psbt.Finalize(ub.Packet)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := w.cli("broadcast", "--tx", txHex(ubTx)); code != 0 {
		t.Fatalf("unbond: %s", errOut)
	}
	w.mine(1)
	s = w.status(st2.TxHash().String())
	if s.State != "unbonding" || len(s.Events) != 2 || s.Events[1].Event != "unbonded" || s.Paths[0].Output != "unbonding" ||
		s.Paths[0].OpensInBlocks != 3 || len(s.Paths) != 2 {
		t.Fatalf("unbonding: %+v", s)
	}
	// The unbonding output's time lock (4 blocks), one block either side.
	ubHeight, _ := w.node.Height()
	uw, err := psbt.BuildWithdraw(psbt.WithdrawRequest{Delegation: d2, From: script.UnbondingOutputKind,
		Funding: psbt.Funding{Tx: ubTx, Index: 0}, DestPkScript: wpkh(w.staker), FeeRate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if err := psbt.SignTapscript(uw.Packet, 0, w.staker); err != nil {
		t.Fatal(err)
	}
	uwTx, err := psbt.Finalize(uw.Packet)
	if err != nil {
		t.Fatal(err)
	}
	opens := int64(ubHeight) + 4
	if _, err := w.node.MineTo(int32(opens) - 2); err != nil {
		t.Fatal(err)
	}
	if s := w.status(st2.TxHash().String()); s.Paths[0].SpendableNow || s.Paths[0].OpensAtHeight != opens || s.Paths[0].OpensInBlocks != 1 {
		t.Fatalf("one block before the unbonding lock: %+v", s.Paths[0])
	}
	if code, _, errOut := w.cli("broadcast", "--tx", txHex(uwTx)); code != 1 || !strings.Contains(errOut, "a time lock has not expired yet") {
		t.Fatalf("premature withdraw from unbonding: exit %d %q", code, errOut)
	}
	w.mine(1)
	if s := w.status(st2.TxHash().String()); !s.Paths[0].SpendableNow || s.Paths[0].OpensInBlocks != 0 {
		t.Fatalf("at the unbonding lock: %+v", s.Paths[0])
	}
	if code, _, errOut := w.cli("broadcast", "--tx", txHex(uwTx)); code != 0 {
		t.Fatalf("withdraw from unbonding at the lock: %s", errOut)
	}
	w.mine(1)
	s = w.status(st2.TxHash().String())
	if s.State != "withdrawn" || len(s.Events) != 3 || s.Events[2].Event != "withdrawn from unbonding" || s.Events[2].Txid != uwTx.TxHash().String() ||
		s.Events[2].Confirmations != 1 || len(s.Paths) != 0 {
		t.Fatalf("withdrawn from unbonding: %+v", s)
	}

	// The same node, asked as if it were mainnet: every command refuses it
	// before sending anything else.
	for _, args := range [][]string{
		{"broadcast", "--tx", txHex(uwTx)},
		{"wait", "--txid", uwTx.TxHash().String()},
		{"status", "--params", w.paramsFile, "--txid", txid},
		{"node", "info"},
	} {
		rpc := w.node.RPC()
		code, out, errOut := runCLI(t, append(args, "--network", "mainnet", "--rpc-url", rpc.Host, "--rpc-user", rpc.User, "--rpc-pass-file", secretFile(t, rpc.Pass))...)
		if code != 1 || out != "" || !strings.Contains(errOut, `follows "regtest", not mainnet`) || !strings.Contains(errOut, "refusing to talk to it with --network mainnet") {
			t.Fatalf("%v --network mainnet: exit %d %q %q", args, code, out, errOut)
		}
	}
}

// mustNode runs a command against w's node and returns its stdout.
func mustNode(t *testing.T, w *nodeWorld, args ...string) string {
	t.Helper()
	code, out, errOut := w.cli(args...)
	if code != 0 {
		t.Fatalf("%v: exit %d %q", args, code, errOut)
	}
	return out
}

func TestNodeConnectionSettings(t *testing.T) {
	w := newNodeWorld(t, regtest.Options{})
	rpc := w.node.RPC()
	base := []string{"wait", "--network", "regtest", "--txid", strings.Repeat("ab", 32), "--timeout", "200ms", "--interval", "50ms"}

	// Wrong password: a one-line error, exit 1.
	code, _, errOut := runCLI(t, append(base, "--rpc-url", rpc.Host, "--rpc-user", rpc.User, "--rpc-pass-file", secretFile(t, "wrong"))...)
	if code != 1 || !strings.Contains(errOut, "refused the RPC credentials") {
		t.Fatalf("wrong password: exit %d %q", code, errOut)
	}
	// Nothing listening.
	code, _, errOut = runCLI(t, append(base, "--rpc-url", "127.0.0.1:1", "--rpc-user", "u", "--rpc-pass-file", secretFile(t, "p"))...)
	if code != 1 || !strings.Contains(errOut, "cannot reach a node") {
		t.Fatalf("unreachable: exit %d %q", code, errOut)
	}
	// https is refused as a usage error.
	if code, _, errOut = runCLI(t, append(base, "--rpc-url", "https://"+rpc.Host)...); code != 2 || !strings.Contains(errOut, "--rpc-url") {
		t.Fatalf("https: exit %d %q", code, errOut)
	}

	// Precedence: flags > environment > config file.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.json")
	write := func(c nodeConfig, mode os.FileMode) {
		b, _ := json.Marshal(c)
		if err := os.WriteFile(cfg, b, mode); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(cfg, mode)
	}
	write(nodeConfig{URL: rpc.Host, User: rpc.User, Pass: rpc.Pass}, 0o600)
	t.Setenv("BTCSTAKE_CONFIG", cfg)
	// The config alone reaches the node: the tx is unknown, so wait times out (exit 1, not a connection error).
	code, _, errOut = runCLI(t, base...)
	if code != 1 || !strings.Contains(errOut, "gave up") {
		t.Fatalf("config file: exit %d %q", code, errOut)
	}
	t.Setenv("BTCSTAKE_RPC_PASS", "wrong")
	if code, _, errOut = runCLI(t, base...); !strings.Contains(errOut, "refused the RPC credentials") {
		t.Fatalf("environment should override the config file: %q", errOut)
	}
	if code, _, errOut = runCLI(t, append(base, "--rpc-pass-file", secretFile(t, rpc.Pass))...); !strings.Contains(errOut, "gave up") {
		t.Fatalf("flag should override the environment: %q", errOut)
	}
	t.Setenv("BTCSTAKE_RPC_PASS", "")
	// A cookie file supplies user and password.
	cookie := filepath.Join(dir, ".cookie")
	_ = os.WriteFile(cookie, []byte(rpc.User+":"+rpc.Pass+"\n"), 0o600)
	write(nodeConfig{URL: rpc.Host, Cookie: cookie}, 0o644)
	if code, _, errOut = runCLI(t, base...); !strings.Contains(errOut, "gave up") {
		t.Fatalf("cookie: exit %d %q", code, errOut)
	}
	// A config file holding a password must not be world-readable.
	write(nodeConfig{URL: rpc.Host, User: rpc.User, Pass: rpc.Pass}, 0o644)
	if code, _, errOut = runCLI(t, base...); code != 2 || !strings.Contains(errOut, "chmod 600") {
		t.Fatalf("readable config: exit %d %q", code, errOut)
	}
	// No node configured at all, on mainnet: a usage error naming --rpc-url.
	t.Setenv("BTCSTAKE_CONFIG", filepath.Join(dir, "absent.json"))
	if code, _, errOut = runCLI(t, "wait", "--network", "mainnet", "--txid", strings.Repeat("ab", 32)); code != 2 || !strings.Contains(errOut, "--config") {
		t.Fatalf("missing explicit config: exit %d %q", code, errOut)
	}
}

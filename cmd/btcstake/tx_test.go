package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

const regtestParams = "../../params/regtest-example.json"

// txWorld holds the keys of one delegation under params/regtest-example.json,
// each also saved as a key file (mode 0600).
type txWorld struct {
	dir                      string
	staker, fp, funder       *btcec.PrivateKey
	cov                      []*btcec.PrivateKey
	stakerFile, fpFile       string
	funderFile               string
	covFiles                 []string
	params                   *params.Params
	stakingTime              string
	changeAddr, withdrawAddr string
}

func keyFromSeed(s string) *btcec.PrivateKey {
	h := sha256.Sum256([]byte(s))
	k, _ := btcec.PrivKeyFromBytes(h[:])
	return k
}

func writeKey(t *testing.T, dir, name string, k *btcec.PrivateKey) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(hex.EncodeToString(k.Serialize())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func newTxWorld(t *testing.T) *txWorld {
	t.Helper()
	w := &txWorld{dir: t.TempDir(), stakingTime: "144",
		staker: keyFromSeed("tx test staker"), fp: keyFromSeed("tx test finality provider"), funder: keyFromSeed("tx test funder")}
	prm, err := params.Load(regtestParams)
	if err != nil {
		t.Fatal(err)
	}
	w.params = prm
	for i := 1; i <= 3; i++ {
		k := keyFromSeed(fmt.Sprintf("btcstake example covenant %d", i))
		if script.XOnly(k.PubKey()) != script.XOnly(prm.CovenantKeys()[i-1]) {
			t.Fatalf("covenant key %d of params/regtest-example.json is not sha256(\"btcstake example covenant %d\")", i, i)
		}
		w.cov = append(w.cov, k)
		w.covFiles = append(w.covFiles, writeKey(t, w.dir, fmt.Sprintf("cov%d.key", i), k))
	}
	w.stakerFile = writeKey(t, w.dir, "staker.key", w.staker)
	w.fpFile = writeKey(t, w.dir, "fp.key", w.fp)
	w.funderFile = writeKey(t, w.dir, "funder.key", w.funder)
	w.changeAddr = p2wpkhAddr(t, w.funder)
	w.withdrawAddr = p2wpkhAddr(t, keyFromSeed("tx test destination"))
	return w
}

func p2wpkhAddr(t *testing.T, k *btcec.PrivateKey) string {
	a, err := address.NewAddressWitnessPubKeyHash(address.Hash160(k.PubKey().SerializeCompressed()), &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	return a.EncodeAddress()
}

func xonlyHex(k *btcec.PrivateKey) string { return script.XOnly(k.PubKey()).String() }

// delegationArgs are the flags identifying w's delegation.
func (w *txWorld) delegationArgs() []string {
	return []string{"--params", regtestParams, "--staker-pk", xonlyHex(w.staker), "--fp-pk", xonlyHex(w.fp),
		"--staking-time", w.stakingTime}
}

// asCovenant appends the delegation flags a covenant member must give to check
// what it signs.
func (w *txWorld) asCovenant(args ...string) []string { return append(args, w.delegationArgs()...) }

func (w *txWorld) delegation(t *testing.T) psbt.Delegation {
	return psbt.Delegation{Params: w.params, Staker: w.staker.PubKey(), FinalityProviders: []*btcec.PublicKey{w.fp.PubKey()}, StakingTime: 144}
}

// fundingCoin makes a fake previous transaction paying pkScript and
// returns it with the --utxo value.
func fundingCoin(seed string, pkScript []byte, value int64) (*wire.MsgTx, string) {
	prev := wire.NewMsgTx(2)
	h := chainhash.HashH([]byte(seed))
	prev.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: h}})
	prev.AddTxOut(wire.NewTxOut(1000, []byte{0x51, 0x20, 1, 2}))
	prev.AddTxOut(wire.NewTxOut(value, pkScript))
	return prev, fmt.Sprintf("%s:1:%d:%x", prev.TxHash(), value, pkScript)
}

func p2wpkhScript(k *btcec.PrivateKey) []byte {
	return append([]byte{0x00, 0x14}, address.Hash160(k.PubKey().SerializeCompressed())...)
}

func p2pkhScript(k *btcec.PrivateKey) []byte {
	return append(append([]byte{0x76, 0xa9, 0x14}, address.Hash160(k.PubKey().SerializeCompressed())...), 0x88, 0xac)
}

// mustRun runs the CLI and fails unless it exits 0.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("btcstake %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// mustRunInPlace runs a command whose --out names the file it reads, as a
// user now does it (an output never replaces one of its inputs): the
// command writes a new file, which then replaces the input (mv). It
// returns the command's stdout.
func mustRunInPlace(t *testing.T, args ...string) string {
	t.Helper()
	out := slices.Index(args, "--out") + 1
	if out == 0 || out == len(args) {
		t.Fatal("mustRunInPlace without --out")
	}
	file := args[out]
	args = slices.Clone(args)
	args[out] = file + ".new"
	stdout := mustRun(t, args...)
	if err := os.Rename(file+".new", file); err != nil {
		t.Fatal(err)
	}
	return stdout
}

func mustJSON[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	return v
}

func decodeTx(t *testing.T, h string) *wire.MsgTx {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	tx := wire.NewMsgTx(2)
	if err := tx.Deserialize(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	return tx
}

// finalizeFile finalises PSBT files and returns the transaction.
func finalizeFiles(t *testing.T, files ...string) (*wire.MsgTx, finalJSON) {
	t.Helper()
	args := []string{"finalize", "--json"}
	for _, f := range files {
		args = append(args, "--psbt", f)
	}
	j := mustJSON[finalJSON](t, mustRun(t, args...))
	tx := decodeTx(t, j.Tx)
	if tx.TxHash().String() != j.Txid || psbt.VSize(tx) != j.VSize {
		t.Fatalf("finalize: txid %s / %s, vsize %d / %d", tx.TxHash(), j.Txid, psbt.VSize(tx), j.VSize)
	}
	return tx, j
}

// stake builds, signs and finalises a staking tx through the commands from
// a P2WPKH and a P2PKH coin (so both coins are needed and the P2PKH one
// needs --prev-tx).
func (w *txWorld) stake(t *testing.T) *wire.MsgTx {
	t.Helper()
	prev1, u1 := fundingCoin("coin 1", p2wpkhScript(w.funder), 70_000)
	prev2, u2 := fundingCoin("coin 2", p2pkhScript(w.funder), 60_000)
	_ = prev1
	file := filepath.Join(w.dir, "stake.psbt")
	args := append([]string{"stake", "--json"}, w.delegationArgs()...)
	args = append(args, "--amount", "100000", "--fee-rate", "2.5", "--utxo", u1, "--utxo", u2,
		"--prev-tx", txHex(prev2), "--change-address", w.changeAddr, "--phase1", "--out", file)
	j := mustJSON[psbtJSON](t, mustRun(t, args...))
	if j.Description == nil || j.Description.Kind != "staking" || j.PSBT == "" || j.UnsignedTx == "" || j.OutFile != file {
		t.Fatalf("stake json: %+v", j)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("psbt file: %v %v", fi, err)
	}
	if b, _ := os.ReadFile(file); strings.TrimSpace(string(b)) != j.PSBT {
		t.Fatal("--out file differs from the JSON psbt")
	}
	unsigned := decodeTx(t, j.UnsignedTx)
	if unsigned.TxHash().String() != j.Txid || len(unsigned.TxIn) != 2 {
		t.Fatalf("unsigned tx %s (%d inputs), txid %s", unsigned.TxHash(), len(unsigned.TxIn), j.Txid)
	}
	signed := filepath.Join(w.dir, "stake-signed.psbt")
	sj := mustJSON[psbtJSON](t, mustRun(t, "sign", "--json", "--psbt", file, "--key", w.funderFile, "--out", signed))
	if len(sj.Signed) != 2 || sj.Status == nil || !sj.Status.Ready || sj.VSize != j.VSize || sj.Fee != j.Fee {
		t.Fatalf("sign funding: %+v (want vsize %d fee %d)", sj, j.VSize, j.Fee)
	}
	tx, fj := finalizeFiles(t, signed)
	if fj.VSize != j.Description.VSize || fj.Fee != j.Fee {
		t.Errorf("staking tx vsize %d fee %d, builder charged for %d, fee %d", fj.VSize, fj.Fee, j.Description.VSize, j.Fee)
	}
	// The P2PKH coin's scriptSig changes the txid, and the JSON says so.
	if j.TxidFinal || tx.TxHash().String() == j.Txid {
		t.Fatalf("txid_is_final %v with a P2PKH input", j.TxidFinal)
	}
	if _, err := psbt.ValidateStakingTx(tx, w.delegation(t)); err != nil {
		t.Fatal(err)
	}
	return tx
}

// TestTxLifecycle drives the whole lifecycle through the commands only.
func TestTxLifecycle(t *testing.T) {
	w := newTxWorld(t)
	d := w.delegation(t)
	stTx := w.stake(t)
	st, _ := d.StakingOutput()
	stIdx := -1
	for i, o := range stTx.TxOut {
		if bytes.Equal(o.PkScript, st.PkScript) {
			stIdx = i
		}
	}

	// Unbonding: staker and one covenant member sign the same file in
	// turn; another covenant member signs a separate copy; finalize
	// combines.
	ub := filepath.Join(w.dir, "unbond.psbt")
	args := append([]string{"unbond", "--json"}, w.delegationArgs()...)
	uj := mustJSON[psbtJSON](t, mustRun(t, append(args, "--staking-tx", txHex(stTx), "--out", ub)...))
	if uj.Description.Kind != "unbonding" || uj.Fee != w.params.UnbondingFee() {
		t.Fatalf("unbond: %+v", uj.Description)
	}
	ub2 := filepath.Join(w.dir, "unbond-cov3.psbt")
	if err := os.WriteFile(ub2, []byte(uj.PSBT), 0o644); err != nil {
		t.Fatal(err)
	}
	s1 := mustJSON[psbtJSON](t, mustRunInPlace(t, "sign", "--json", "--psbt", ub, "--key", w.stakerFile, "--out", ub))
	if len(s1.Signed) != 1 || s1.Signed[0].Role != "staker" || s1.Status.Ready {
		t.Fatalf("staker sign: %+v", s1)
	}
	mustRunInPlace(t, w.asCovenant("sign", "--psbt", ub, "--key", w.covFiles[0], "--out", ub)...)
	// One covenant signature short of the quorum of 2: refused.
	code, _, errOut := runCLI(t, "finalize", "--psbt", ub)
	if code != exitError || !strings.Contains(errOut, "--psbt") || !strings.Contains(errOut, "covenant") {
		t.Fatalf("finalize short of quorum: exit %d %q", code, errOut)
	}
	s3 := mustJSON[psbtJSON](t, mustRunInPlace(t, w.asCovenant("sign", "--json", "--psbt", ub2, "--key", w.covFiles[2], "--out", ub2)...))
	if s3.Signed[0].Role != "covenant member" {
		t.Fatalf("covenant sign: %+v", s3.Signed)
	}
	ubTx, fj := finalizeFiles(t, ub, ub2)
	if err := psbt.ValidateUnbondingTx(ubTx, stTx, d); err != nil {
		t.Fatal(err)
	}
	if fj.VSize != uj.VSize {
		t.Errorf("unbonding vsize %d, charged for %d", fj.VSize, uj.VSize)
	}

	// Slashing from both outputs: staker pre-signs, covenant members
	// adaptor-sign, the finality provider's leaked key completes it.
	slashed := map[string]*wire.MsgTx{}
	for _, from := range []struct {
		name string
		tx   *wire.MsgTx
		idx  uint32
		kind script.OutputKind
	}{{"staking", stTx, uint32(stIdx), script.StakingOutputKind}, {"unbonding", ubTx, 0, script.UnbondingOutputKind}} {
		sl := filepath.Join(w.dir, "slash-"+from.name+".psbt")
		args := append([]string{"slash", "--json", "--from", from.name}, w.delegationArgs()...)
		sj := mustJSON[psbtJSON](t, mustRun(t, append(args, "--funding-tx", txHex(from.tx), "--out", sl)...))
		if sj.Description.Kind != "slashing" || sj.Fee != w.params.MinSlashingFee() {
			t.Fatalf("slash: %+v", sj.Description)
		}
		mustRunInPlace(t, "sign", "--psbt", sl, "--key", w.stakerFile, "--out", sl)
		// A covenant member may not plainly sign a slashing leaf.
		if code, _, e := runCLI(t, "sign", "--psbt", sl, "--key", w.covFiles[0]); code != exitError || !strings.Contains(e, "--key") || !strings.Contains(e, "adaptor sign-slashing") {
			t.Fatalf("plain covenant signature on slashing: exit %d %q", code, e)
		}
		for _, k := range w.covFiles[:2] {
			aj := mustJSON[psbtJSON](t, mustRunInPlace(t, w.asCovenant("adaptor", "sign-slashing", "--json", "--psbt", sl, "--key", k, "--out", sl)...))
			if len(aj.Signed) != 1 || aj.Signed[0].Count != 1 || aj.Signed[0].Kind != "adaptor_sig" {
				t.Fatalf("adaptor-sign: %+v", aj.Signed)
			}
		}
		// Not finalizable without the finality provider.
		if code, _, _ := runCLI(t, "finalize", "--psbt", sl); code != exitError {
			t.Fatalf("finalized a slashing tx without the finality provider: exit %d", code)
		}
		// A key that is not the finality provider cannot complete it.
		if code, _, e := runCLI(t, "adaptor", "complete-slashing", "--psbt", sl, "--fp-sk-file", w.stakerFile); code != exitError || !strings.Contains(e, "--fp-sk-file") {
			t.Fatalf("complete-slashing with the staker key: exit %d %q", code, e)
		}
		cj := mustJSON[finalJSON](t, mustRun(t, "adaptor", "complete-slashing", "--json", "--psbt", sl, "--fp-sk-file", w.fpFile))
		slTx := decodeTx(t, cj.Tx)
		if slTx.TxHash().String() != cj.Txid || slTx.TxHash().String() != sj.Txid {
			t.Fatalf("completed slashing txid %s, json %s, unsigned %s", slTx.TxHash(), cj.Txid, sj.Txid)
		}
		if err := psbt.ValidateSlashingTx(slTx, from.tx, from.idx, from.kind, d); err != nil {
			t.Fatalf("slashing from %s: %v", from.name, err)
		}
		if cj.VSize != sj.VSize {
			t.Errorf("slashing vsize %d, charged for %d", cj.VSize, sj.VSize)
		}
		slashed[from.name] = slTx
	}

	// Withdraw from every output kind.
	for _, wd := range []struct {
		from string
		tx   *wire.MsgTx
		lock uint32
	}{{"staking", stTx, 144}, {"unbonding", ubTx, uint32(w.params.UnbondingTime())},
		{"slashing", slashed["staking"], uint32(w.params.UnbondingTime())}, {"slashing", slashed["unbonding"], uint32(w.params.UnbondingTime())}} {
		f := filepath.Join(w.dir, "withdraw.psbt")
		args := append([]string{"withdraw", "--json", "--from", wd.from}, w.delegationArgs()...)
		wj := mustJSON[psbtJSON](t, mustRun(t, append(args, "--funding-tx", txHex(wd.tx), "--to", w.withdrawAddr,
			"--fee-rate", "3", "--out", f, "--force")...))
		if wj.Description.Kind != "withdraw" || wj.Description.Sequence != wd.lock {
			t.Fatalf("withdraw from %s: %+v", wd.from, wj.Description)
		}
		// The funding key has no role here.
		if code, _, e := runCLI(t, "sign", "--psbt", f, "--key", w.funderFile); code != exitError || !strings.Contains(e, "--key") || !strings.Contains(e, "no role") {
			t.Fatalf("sign with a key without a role: exit %d %q", code, e)
		}
		mustRunInPlace(t, "sign", "--psbt", f, "--key", w.stakerFile, "--input", "0", "--out", f)
		tx, fj := finalizeFiles(t, f)
		if tx.TxIn[0].Sequence != wd.lock || fj.VSize != wj.VSize || fj.Fee != wj.Fee {
			t.Errorf("withdraw from %s: sequence %d, vsize %d (charged %d), fee %d (%d)", wd.from, tx.TxIn[0].Sequence, fj.VSize, wj.VSize, fj.Fee, wj.Fee)
		}
		if wj.Fee != int64((wj.VSize*3000+999)/1000) {
			t.Errorf("withdraw fee %d for %d vB at 3 sat/vB", wj.Fee, wj.VSize)
		}
	}
}

func hex32(k *btcec.PrivateKey) string { return hex.EncodeToString(k.Serialize()) }

// TestStakeHelpExampleRuns: the first command of stake's --help example
// builds a staking PSBT as shown.
func TestStakeHelpExampleRuns(t *testing.T) {
	ex := newStakeCmd(&app{}).Example
	first, _, _ := strings.Cut(ex, "\n\n")
	args := strings.Fields(strings.ReplaceAll(first, "\\\n", " "))
	if args[0] != "btcstake" {
		t.Fatalf("example starts with %q", args[0])
	}
	args = args[1:]
	out := filepath.Join(t.TempDir(), "stake.psbt")
	for i := range args {
		switch args[i] {
		case "params/regtest-example.json":
			args[i] = regtestParams
		case "stake.psbt":
			args[i] = out
		}
	}
	mustRun(t, args...)
	j := inspectJSONOf(t, "--psbt", out, "--params", regtestParams)
	if j.Kind != "staking" || j.Outputs[0].Role != "staking" || j.Outputs[0].Value != 100000 {
		t.Fatalf("example's PSBT: %+v", j)
	}
}

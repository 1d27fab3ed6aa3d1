package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

func inspectJSONOf(t *testing.T, args ...string) inspectJSON {
	t.Helper()
	return mustJSON[inspectJSON](t, mustRun(t, append([]string{"inspect", "--json"}, args...)...))
}

func wantContains(t *testing.T, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("output lacks %q:\n%s", p, text)
		}
	}
}

// TestInspect checks the key facts inspect reports for every PSBT and
// transaction kind of the lifecycle, in JSON and in words.
func TestInspect(t *testing.T) {
	w := newTxWorld(t)
	stTx := w.stake(t)
	stHex := txHex(stTx)

	// The staking transaction: with --params the OP_RETURN's staking output
	// is identified.
	j := inspectJSONOf(t, "--tx", stHex, "--params", regtestParams)
	if j.Kind != "staking" || j.Outputs[0].Role != "staking" || j.Outputs[0].Timelock != 144 || j.Outputs[1].Role != "op_return" {
		t.Errorf("staking tx: %+v", j)
	}
	if len(j.Inputs) != 2 || j.Inputs[0].Type != "p2wpkh" || j.Inputs[1].Type != "p2pkh" || j.Fee != nil {
		t.Errorf("staking tx inputs: %+v, fee %v", j.Inputs, j.Fee)
	}
	wantContains(t, mustRun(t, "inspect", "--tx", stHex, "--params", regtestParams),
		"is a staking transaction", "100000 sat  staking (time lock 144 blocks)", "phase-1 staking data", "fee unknown")

	// The unbonding PSBT, unsigned and then partly signed.
	ub := filepath.Join(w.dir, "unbond.psbt")
	mustRun(t, append(append([]string{"unbond"}, w.delegationArgs()...), "--staking-tx", stHex, "--out", ub)...)
	j = inspectJSONOf(t, "--psbt", ub)
	in := j.Inputs[0]
	if j.Kind != "unbonding" || in.SpentOutput != "staking" || in.Path != "unbonding" || in.StakingTime != 144 ||
		in.StakerSigned || countSigned(in.Covenant) != 0 || in.Quorum != 2 || len(in.Covenant) != 3 ||
		j.Fee == nil || *j.Fee != 1000 || j.Ready || j.Outputs[0].Role != "unbonding" || j.Outputs[0].Timelock != 10 {
		t.Errorf("unsigned unbonding psbt: %+v", j)
	}
	text := mustRun(t, "inspect", "--psbt", ub)
	wantContains(t, text, "is an unbonding transaction", "spends the staking output through the unbonding path",
		"staking time of 144 blocks", "covenant: 0 of 3 signed, quorum 2", "the staker's signature", "2 more covenant signature(s)",
		"fee 1000 sat", "99000 sat  unbonding (time lock 10 blocks)")
	mustRunInPlace(t, "sign", "--psbt", ub, "--key", w.stakerFile, "--out", ub)
	mustRunInPlace(t, w.asCovenant("sign", "--psbt", ub, "--key", w.covFiles[1], "--out", ub)...)
	j = inspectJSONOf(t, "--psbt", ub)
	if !j.Inputs[0].StakerSigned || countSigned(j.Inputs[0].Covenant) != 1 || j.Ready || j.SigsVerify == nil || !*j.SigsVerify ||
		len(j.Missing) != 1 || !strings.Contains(j.Missing[0], "1 more covenant signature") {
		t.Errorf("half-signed unbonding psbt: %+v", j)
	}
	// A corrupted signature is reported.
	p, err := psbt.Decode([]byte(mustRead(t, ub)))
	if err != nil {
		t.Fatal(err)
	}
	p.Inputs[0].TaprootScriptSpendSig[0].Signature[5] ^= 1
	bad, _ := psbt.Encode(p)
	j = inspectJSONOf(t, "--psbt", bad)
	if j.SigsVerify == nil || *j.SigsVerify || !strings.Contains(j.SigError, "does not verify") {
		t.Errorf("bad signature not reported: %+v", j)
	}
	wantContains(t, mustRun(t, "inspect", "--psbt", bad), "BAD SIGNATURE")

	mustRunInPlace(t, w.asCovenant("sign", "--psbt", ub, "--key", w.covFiles[0], "--out", ub)...)
	if j = inspectJSONOf(t, "--psbt", ub); !j.Ready || len(j.Missing) != 0 {
		t.Errorf("fully signed unbonding psbt not ready: %+v", j)
	}
	wantContains(t, mustRun(t, "inspect", "--psbt", ub), "status: ready to finalize")
	ubTx, _ := finalizeFiles(t, ub)

	// The raw unbonding transaction: recognised from its witness.
	j = inspectJSONOf(t, "--tx", txHex(ubTx), "--params", regtestParams)
	in = j.Inputs[0]
	if j.Kind != "unbonding" || in.SpentOutput != "staking" || in.StakingTime != 144 || !in.StakerSigned ||
		countSigned(in.Covenant) != 2 || j.Outputs[0].Role != "unbonding" || !strings.Contains(j.Outputs[0].Detail, "presumably the unbonding output") {
		t.Errorf("unbonding tx: %+v", j)
	}

	// With the delegation given, the unbonding output is confirmed.
	j = inspectJSONOf(t, append([]string{"--tx", txHex(ubTx)}, w.delegationArgs()...)...)
	if j.Outputs[0].Detail != "this delegation's unbonding output" || j.Outputs[0].Timelock != 10 {
		t.Errorf("unbonding tx with the delegation: %+v", j.Outputs)
	}
	if code, _, e := runCLI(t, "inspect", "--tx", txHex(ubTx), "--staker-pk", xonlyHex(w.staker)); code != exitUsage || !strings.Contains(e, "--staker-pk") {
		t.Errorf("partial delegation: exit %d %q", code, e)
	}

	// Slashing from the staking output: the PSBT after the staker and two
	// covenant members, then the completed transaction.
	sl := filepath.Join(w.dir, "slash.psbt")
	mustRun(t, append(append([]string{"slash", "--from", "staking"}, w.delegationArgs()...), "--funding-tx", stHex, "--out", sl)...)
	mustRunInPlace(t, "sign", "--psbt", sl, "--key", w.stakerFile, "--out", sl)
	mustRunInPlace(t, w.asCovenant("adaptor", "sign-slashing", "--psbt", sl, "--key", w.covFiles[0], "--out", sl)...)
	j = inspectJSONOf(t, "--psbt", sl)
	if in = j.Inputs[0]; j.Kind != "slashing" || in.SpentOutput != "staking" || in.AdaptorSigners != 1 || len(in.AdaptorSigs) != 1 ||
		!strings.Contains(strings.Join(j.Missing, ";"), "1 more covenant adaptor signature") {
		t.Errorf("slashing psbt with one adaptor signer: %+v", j)
	}
	mustRunInPlace(t, w.asCovenant("adaptor", "sign-slashing", "--psbt", sl, "--key", w.covFiles[2], "--out", sl)...)
	j = inspectJSONOf(t, "--psbt", sl, "--params", regtestParams)
	if in = j.Inputs[0]; in.AdaptorSigners != 2 || len(in.AdaptorSigs) != 2 || in.FPs[0].Key != xonlyHex(w.fp) || in.FPs[0].Signed ||
		j.Ready || j.Outputs[1].Role != "slashing_change" || *j.Fee != w.params.MinSlashingFee() {
		t.Errorf("slashing psbt: %+v", j)
	}
	text = mustRun(t, "inspect", "--psbt", sl)
	wantContains(t, text, "is a slashing transaction", "spends the staking output through the slashing path",
		"adaptor signatures: 2 present, from 2 covenant member(s)", "encrypted to finality provider "+xonlyHex(w.fp),
		"completable once a finality provider's secret key is known")
	cj := mustJSON[finalJSON](t, mustRun(t, "adaptor", "complete-slashing", "--json", "--psbt", sl, "--fp-sk-file", w.fpFile))
	j = inspectJSONOf(t, "--tx", cj.Tx, "--params", regtestParams)
	in = j.Inputs[0]
	if j.Kind != "slashing" || in.SpentOutput != "staking" || in.StakingTime != 144 || !in.StakerSigned ||
		countSigned(in.Covenant) != 2 || countSigned(in.FPs) != 1 || j.Outputs[0].Role != "slashing" ||
		j.Outputs[1].Role != "slashing_change" || j.Outputs[1].Timelock != 10 {
		t.Errorf("slashing tx: %+v", j)
	}
	wantContains(t, mustRun(t, "inspect", "--tx", cj.Tx, "--params", regtestParams), "pays the params' slashing script",
		"finality providers: 1 of 1 signed")

	// Withdraw from the staking output, as a PSBT and as a transaction.
	wd := filepath.Join(w.dir, "withdraw.psbt")
	mustRun(t, append(append([]string{"withdraw", "--from", "staking"}, w.delegationArgs()...), "--funding-tx", stHex,
		"--to", w.withdrawAddr, "--fee-rate", "2", "--out", wd)...)
	j = inspectJSONOf(t, "--psbt", wd)
	if j.Kind != "withdraw" || j.Inputs[0].Timelock != 144 || j.Inputs[0].Sequence != 144 || j.Outputs[0].Address != w.withdrawAddr {
		t.Errorf("withdraw psbt: %+v", j)
	}
	mustRunInPlace(t, "sign", "--psbt", wd, "--key", w.stakerFile, "--out", wd)
	wtx, _ := finalizeFiles(t, wd)
	text = mustRun(t, "inspect", "--tx", txHex(wtx))
	wantContains(t, text, "is a withdraw transaction", "spends the staking output through the timelock path",
		"valid once the spent output is 144 blocks deep", w.withdrawAddr)

	// Something else entirely.
	other, _ := fundingCoin("other", p2wpkhScript(w.funder), 1000)
	if j = inspectJSONOf(t, "--tx", txHex(other)); j.Kind != "unknown" {
		t.Errorf("unrelated tx: kind %s", j.Kind)
	}
}

func mustRead(t *testing.T, f string) string {
	t.Helper()
	b, err := readFileString(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readFileString(f string) (string, error) {
	b, err := os.ReadFile(f)
	return string(b), err
}

// TestReadPSBTForms: --psbt takes base64, a base64 file (also wrapped over
// lines) and a binary PSBT file.
func TestReadPSBTForms(t *testing.T) {
	w := newTxWorld(t)
	stTx := w.stake(t)
	j := mustJSON[psbtJSON](t, mustRun(t, append(append([]string{"unbond", "--json"}, w.delegationArgs()...), "--staking-tx", txHex(stTx))...))
	var wrapped strings.Builder
	for i := 0; i < len(j.PSBT); i += 64 {
		wrapped.WriteString(j.PSBT[i:min(i+64, len(j.PSBT))] + "\n")
	}
	p, err := psbt.Decode([]byte(j.PSBT))
	if err != nil {
		t.Fatal(err)
	}
	var raw strings.Builder
	if err := p.Serialize(&raw); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"wrapped.psbt": wrapped.String(), "binary.psbt": raw.String()}
	for name, content := range files {
		f := filepath.Join(w.dir, name)
		if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := inspectJSONOf(t, "--psbt", f); got.Txid != j.Txid || got.Kind != "unbonding" {
			t.Errorf("%s: %+v", name, got)
		}
	}
	if got := inspectJSONOf(t, "--psbt", j.PSBT); got.Txid != j.Txid {
		t.Errorf("base64 argument: %+v", got)
	}
}

// TestInspectFeeFromPreviousTx: a legacy input's signature does not commit
// to the value it spends, so a PSBT's witness_utxo can understate it.
// inspect reports the fee from the previous transaction (which the txid
// proves), and sign refuses the packet, writing nothing.
func TestInspectFeeFromPreviousTx(t *testing.T) {
	w := newTxWorld(t)
	prev1, u1 := fundingCoin("coin 1", p2wpkhScript(w.funder), 70_000)
	prev2, u2 := fundingCoin("coin 2", p2pkhScript(w.funder), 60_000)
	_ = prev1
	args := append([]string{"stake", "--json"}, w.delegationArgs()...)
	args = append(args, "--amount", "100000", "--fee-rate", "2", "--utxo", u1, "--utxo", u2,
		"--prev-tx", txHex(prev2), "--change-address", w.changeAddr)
	j := mustJSON[psbtJSON](t, mustRun(t, args...))
	p, err := psbt.Decode([]byte(j.PSBT))
	if err != nil {
		t.Fatal(err)
	}
	lied := false
	for i := range p.Inputs {
		if nw := p.Inputs[i].NonWitnessUtxo; nw != nil && nw.TxHash() == prev2.TxHash() {
			p.Inputs[i].WitnessUtxo = wire.NewTxOut(10_000, p2pkhScript(w.funder)) // claims 10k of the 60k
			lied = true
		}
	}
	if !lied {
		t.Fatal("no p2pkh input")
	}
	b64, _ := psbt.Encode(p)
	ij := inspectJSONOf(t, "--psbt", b64)
	if ij.Fee == nil || *ij.Fee != j.Fee {
		t.Errorf("inspect fee %v, the transaction pays %d", ij.Fee, j.Fee)
	}
	if !strings.Contains(strings.Join(ij.Notes, "\n"), "witness_utxo claims 10000 sat, but the previous transaction pays 60000 sat") {
		t.Errorf("inspect notes do not flag the inconsistency: %q", ij.Notes)
	}
	out := filepath.Join(w.dir, "signed.psbt")
	code, stdout, stderr := runCLI(t, "sign", "--psbt", b64, "--key", w.funderFile, "--out", out)
	if code != exitError || stdout != "" || !strings.Contains(stderr, "witness_utxo") {
		t.Errorf("sign of a lying psbt: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("refused sign wrote its --out file")
	}
}

// TestInspectSummarySequenceOfLeafInput: the summary's nSequence is that of
// the input spending the timelock leaf, not of input 0 (here a coin added
// to pay the fee).
func TestInspectSummarySequenceOfLeafInput(t *testing.T) {
	w := newTxWorld(t)
	stTx := w.stake(t)
	d := w.delegation(t)
	f, err := d.FundingFrom(stTx, script.StakingOutputKind)
	if err != nil {
		t.Fatal(err)
	}
	idx := f.Index
	res, err := psbt.BuildWithdraw(psbt.WithdrawRequest{Delegation: d, From: script.StakingOutputKind,
		Funding: psbt.Funding{Tx: stTx, Index: idx}, DestPkScript: p2wpkhScript(w.funder), FeeRate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Packet
	prev, _ := fundingCoin("fee coin", p2wpkhScript(w.funder), 5_000)
	fee := &wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: prev.TxHash(), Index: 1}, Sequence: wire.MaxTxInSequenceNum - 2}
	p.UnsignedTx.TxIn = append([]*wire.TxIn{fee}, p.UnsignedTx.TxIn...)
	p.Inputs = append([]btcpsbt.PInput{{WitnessUtxo: prev.TxOut[1]}}, p.Inputs...)
	an, err := psbt.Analyze(p, psbt.AnalyzeOptions{Params: w.params, Net: &chaincfg.RegressionNetParams})
	if err != nil {
		t.Fatal(err)
	}
	j := inspectOf(an)
	if j.Kind != "withdraw" || !strings.Contains(j.Summary, "(nSequence 144)") {
		t.Errorf("kind %s, summary %q: want the timelock input's nSequence 144", j.Kind, j.Summary)
	}
}

func countSigned(ks []keySig) int {
	n := 0
	for _, k := range ks {
		if k.Signed {
			n++
		}
	}
	return n
}

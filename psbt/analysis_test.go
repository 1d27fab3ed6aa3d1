package psbt

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// analyze runs Analyze and checks that it left the packet as it was.
func analyze(t *testing.T, p *psbt.Packet, opts AnalyzeOptions) *Analysis {
	t.Helper()
	before := serialize(t, p)
	a, err := Analyze(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, serialize(t, p)) {
		t.Fatal("Analyze changed the packet")
	}
	return a
}

func analyzeTx(t *testing.T, tx *wire.MsgTx, opts AnalyzeOptions) *Analysis {
	t.Helper()
	a, err := AnalyzeTx(tx, opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// wantMissing compares what an analysis reports missing with the kinds
// (and covenant counts) expected.
func wantMissing(t *testing.T, stage string, a *Analysis, want ...Missing) {
	t.Helper()
	got := a.Missing()
	if len(got) != len(want) {
		t.Errorf("%s: missing %v, want %v", stage, got, want)
		return
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: missing[%d] %+v, want %+v", stage, i, got[i], want[i])
		}
	}
	if a.Ready != (len(want) == 0) {
		t.Errorf("%s: ready %v with %d missing", stage, a.Ready, len(want))
	}
}

// smallest is the n keys of ks with the smallest x-only keys, the ones
// Finalize uses when more than it needs signed.
func smallest(ks []*btcec.PrivateKey, n int) []*btcec.PrivateKey {
	s := slices.Clone(ks)
	slices.SortFunc(s, func(a, b *btcec.PrivateKey) int {
		x, y := script.XOnly(a.PubKey()), script.XOnly(b.PubKey())
		return bytes.Compare(x[:], y[:])
	})
	return s[:n]
}

func keysOf(ks []*btcec.PrivateKey) []script.XOnlyKey {
	out := make([]script.XOnlyKey, len(ks))
	for i, k := range ks {
		out[i] = script.XOnly(k.PubKey())
	}
	return out
}

// wantSigned checks which keys of a leaf input are reported signed.
func wantSigned(t *testing.T, stage string, got []KeySignature, all []script.XOnlyKey, signed []*btcec.PrivateKey) {
	t.Helper()
	if len(got) != len(all) {
		t.Errorf("%s: %d slots, want %d", stage, len(got), len(all))
		return
	}
	want := map[script.XOnlyKey]bool{}
	for _, k := range signed {
		want[script.XOnly(k.PubKey())] = true
	}
	for _, ks := range got {
		found := false
		for _, k := range all {
			found = found || k == ks.Key
		}
		if !found {
			t.Errorf("%s: slot for a key not in the leaf: %s", stage, ks.Key)
		}
		if ks.Signed != want[ks.Key] {
			t.Errorf("%s: key %s signed %v, want %v", stage, ks.Key, ks.Signed, want[ks.Key])
		}
	}
}

var analysisCommittees = []struct{ nFP, nCov, m int }{{1, 1, 1}, {2, 3, 2}, {1, 5, 3}}

// TestAnalyzeStaking: the staking PSBT before and after the funding coins
// sign and once finalised, and the network transaction.
func TestAnalyzeStaking(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	d := w.delegation(1000)
	keys := randKeys(r, 3)
	utxos := []UTXO{coin(r, keys[0], p2wpkh(keys[0]), 60_000), coin(r, keys[1], p2pkh(keys[1]), 60_000),
		coin(r, keys[2], p2tr(keys[2]), 60_000)}
	res, err := BuildStaking(StakingRequest{Delegation: d, Value: 150_000, UTXOs: utxos, FeeRate: 3000,
		ChangePkScript: p2wpkh(keys[0]), PhaseOne: true})
	if err != nil {
		t.Fatal(err)
	}
	p, desc := res.Packet, res.Description
	if len(desc.Outputs) != 3 || desc.Outputs[2].Role != RoleChange.String() {
		t.Fatalf("expected staking, op_return and change outputs: %+v", desc.Outputs)
	}
	opts := AnalyzeOptions{Params: w.params, Net: &chaincfg.RegressionNetParams}
	typeOf := map[string]InputType{string(p2wpkh(keys[0])): InputP2WPKH, string(p2pkh(keys[1])): InputP2PKH, string(p2tr(keys[2])): InputP2TR}

	a := analyze(t, p, opts)
	if a.Kind != TxStaking || !a.PSBT || a.Txid != p.UnsignedTx.TxHash() || a.Complete || a.TxidFinal {
		t.Errorf("unsigned: kind %v psbt %v complete %v txid final %v", a.Kind, a.PSBT, a.Complete, a.TxidFinal)
	}
	if !a.InputValueKnown || a.InputValue != 180_000 || a.Fee != desc.Fee || a.VSize != desc.VSize || a.VSizeFinal {
		t.Errorf("unsigned: in %d fee %d vsize %d, want 180000, %d, %d", a.InputValue, a.Fee, a.VSize, desc.Fee, desc.VSize)
	}
	if rate, ok := a.FeeRate(); !ok || rate != desc.FeeRate {
		t.Errorf("fee rate %v, want %v", rate, desc.FeeRate)
	}
	var want []Missing
	for i, in := range a.Inputs {
		u := utxos[0]
		for _, c := range utxos {
			if c.OutPoint == in.OutPoint {
				u = c
			}
		}
		if in.Type != typeOf[string(u.PkScript)] || !in.ValueKnown || in.Value != u.Value || in.Signed || in.Final || in.Leaf != nil {
			t.Errorf("input %d: %+v", i, in)
		}
		want = append(want, Missing{Input: i, Kind: MissingFundingSignature, Type: in.Type})
	}
	wantMissing(t, "unsigned staking", a, want...)
	st, _ := d.StakingOutput()
	o := a.Outputs
	if o[0].Role != RoleStaking || o[0].Timelock != 1000 || !bytes.Equal(o[0].PkScript, st.PkScript) {
		t.Errorf("staking output: %+v", o[0])
	}
	if wantAddr, _ := st.Address(&chaincfg.RegressionNetParams); o[0].Address != wantAddr {
		t.Errorf("address %s, want %s", o[0].Address, wantAddr)
	}
	if o[1].Role != RoleOpReturn || o[1].StakingData == nil || o[1].StakingData.StakingTime != 1000 ||
		o[1].StakingData.Staker != script.XOnly(w.staker.PubKey()) {
		t.Errorf("op_return: %+v", o[1])
	}
	if o[2].Role != RoleOther || o[2].Value != desc.Outputs[2].Value {
		t.Errorf("change: %+v", o[2])
	}
	if a.Summary() != a.Txid.String()+" is a staking transaction: it locks coins in a staking output." {
		t.Errorf("summary %q", a.Summary())
	}
	// Without params the OP_RETURN still makes it a staking transaction;
	// the tap tree alone identifies the staking output.
	a = analyze(t, p, AnalyzeOptions{})
	if a.Kind != TxStaking || a.Outputs[0].Role != RoleStaking || a.Outputs[0].Evidence != EvidenceTapTree ||
		len(a.Notes) != 1 || a.Notes[0].Kind != NoteOpReturnNeedsParams || a.Outputs[0].Address != "" {
		t.Errorf("without params: %v %+v %v", a.Kind, a.Outputs[0], a.Notes)
	}

	if n, err := SignFundingInputs(p, keys...); err != nil || n != 3 {
		t.Fatalf("signed %d: %v", n, err)
	}
	a = analyze(t, p, opts)
	wantMissing(t, "signed staking", a)
	for _, in := range a.Inputs {
		if !in.Signed || !in.Ready || in.Final {
			t.Errorf("signed input: %+v", in)
		}
	}
	tx, err := Finalize(p)
	if err != nil {
		t.Fatal(err)
	}
	a = analyze(t, p, opts)
	if !a.Complete || !a.Ready || a.VSize != VSize(tx) {
		t.Errorf("finalised: complete %v ready %v vsize %d, want %d", a.Complete, a.Ready, a.VSize, VSize(tx))
	}

	// The network transaction: the staking output found from the OP_RETURN
	// under the params, input types told from the witnesses.
	a = analyzeTx(t, tx, opts)
	if a.PSBT || a.Kind != TxStaking || a.InputValueKnown || !a.VSizeFinal || a.VSize != VSize(tx) || a.VSize != desc.VSize {
		t.Errorf("staking tx: %+v", a)
	}
	if a.Outputs[0].Role != RoleStaking || a.Outputs[0].Evidence != EvidenceOpReturn || a.Outputs[0].Timelock != 1000 {
		t.Errorf("staking tx output: %+v", a.Outputs[0])
	}
	for i, in := range a.Inputs {
		u := p.Inputs[i].WitnessUtxo
		if u == nil {
			u = p.Inputs[i].NonWitnessUtxo.TxOut[in.OutPoint.Index]
		}
		if in.Type != typeOf[string(u.PkScript)] || !in.Signed || !in.Final || in.ValueKnown {
			t.Errorf("staking tx input %d: %+v", i, in)
		}
	}
	if len(a.Notes) != 1 || a.Notes[0].Kind != NoteFeeUnknown {
		t.Errorf("notes %v", a.Notes)
	}
	// Under another committee the OP_RETURN describes no output.
	other := newWorld(t, r, 1, 3, 2)
	a = analyzeTx(t, tx, AnalyzeOptions{Params: other.params})
	if a.Kind != TxStaking || a.Outputs[0].Role != RoleOther || len(a.Notes) != 2 || a.Notes[1].Kind != NoteOpReturnMismatch ||
		!errors.Is(a.Notes[1].Err, script.ErrNotStakingTx) {
		t.Errorf("other committee: %+v %v", a.Outputs[0], a.Notes)
	}
}

// TestAnalyzeStakingWithoutPhaseOne: only the delegation identifies a
// staking transaction without phase-1 data.
func TestAnalyzeStakingWithoutPhaseOne(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 2, 3, 2)
	tx, d := w.stake(t, 300_000, 700)
	if a := analyzeTx(t, tx, AnalyzeOptions{Params: w.params}); a.Kind != TxUnknown {
		t.Errorf("without the delegation: %v", a.Kind)
	}
	a := analyzeTx(t, tx, AnalyzeOptions{Delegation: &d})
	st, _ := d.StakingOutput()
	i := outputIndex(tx, st)
	if a.Kind != TxStaking || a.Outputs[i].Role != RoleStaking || a.Outputs[i].Evidence != EvidenceDelegation || a.Outputs[i].Timelock != 700 {
		t.Errorf("with the delegation: %v %+v", a.Kind, a.Outputs[i])
	}
	if !strings.HasPrefix(a.Summary(), tx.TxHash().String()+" is a staking transaction") {
		t.Errorf("summary %q", a.Summary())
	}
	other := w.delegation(701)
	a = analyzeTx(t, tx, AnalyzeOptions{Delegation: &other})
	if a.Kind != TxUnknown || len(a.Notes) != 2 || a.Notes[1].Kind != NoteNoDelegationOutput {
		t.Errorf("another delegation: %v %v", a.Kind, a.Notes)
	}
	if _, err := AnalyzeTx(tx, AnalyzeOptions{Delegation: &Delegation{Staker: w.staker.PubKey()}}); !errors.Is(err, params.ErrInvalidParams) {
		t.Errorf("delegation without params: %v", err)
	}
}

// TestAnalyzeUnbonding follows the unbonding PSBT through every signing
// stage, then the finalised packet and the network transaction.
func TestAnalyzeUnbonding(t *testing.T) {
	r := newRand(t)
	for _, c := range analysisCommittees {
		t.Run(fmt.Sprintf("%dfp-%d-of-%d", c.nFP, c.m, c.nCov), func(t *testing.T) {
			w := newWorld(t, r, c.nFP, c.nCov, uint32(c.m))
			stTx, d := w.stake(t, 200_000, 4321)
			st, _ := d.StakingOutput()
			ub, _ := d.UnbondingOutput()
			res, err := BuildUnbonding(d, Funding{Tx: stTx, Index: outputIndex(stTx, st)})
			if err != nil {
				t.Fatal(err)
			}
			p := res.Packet
			opts := AnalyzeOptions{Params: w.params, TimelockSearches: 1}
			cov := keysOf(w.cov)
			stage := func(name string, signers []*btcec.PrivateKey, staker bool) *Analysis {
				a := analyze(t, p, opts)
				in := a.Inputs[0]
				if a.Kind != TxUnbonding || in.Type != InputStakingLeaf || in.Leaf.Kind != script.UnbondingPath ||
					in.SpentOutput != script.StakingOutputKind || in.StakingTime != 4321 || in.StakerSigned != staker {
					t.Errorf("%s: kind %v, input %+v", name, a.Kind, in)
				}
				wantSigned(t, name, in.Covenant, cov, signers)
				if len(in.FinalityProviders) != 0 || in.QuorumReached != (len(signers) >= c.m) {
					t.Errorf("%s: fps %v quorum reached %v", name, in.FinalityProviders, in.QuorumReached)
				}
				if a.Fee != w.params.UnbondingFee() || a.VSize != res.Description.VSize {
					t.Errorf("%s: fee %d vsize %d", name, a.Fee, a.VSize)
				}
				o := a.Outputs[0]
				if o.Role != RoleUnbonding || o.Evidence != EvidenceTapTree || o.Timelock != w.params.UnbondingTime() || !bytes.Equal(o.PkScript, ub.PkScript) {
					t.Errorf("%s: output %+v", name, o)
				}
				n := len(signers)
				if staker {
					n++
				}
				if a.SignaturesChecked != n || a.SignatureError != nil {
					t.Errorf("%s: %d signatures checked (%v), want %d", name, a.SignaturesChecked, a.SignatureError, n)
				}
				return a
			}
			a := stage("unsigned", nil, false)
			wantMissing(t, "unsigned", a, Missing{Kind: MissingStakerSignature},
				Missing{Kind: MissingCovenantSignatures, Have: 0, Need: c.m, Of: c.nCov})
			if !strings.Contains(a.Summary(), "an unbonding transaction") {
				t.Errorf("summary %q", a.Summary())
			}
			signAll(t, p, w.staker)
			a = stage("staker", nil, true)
			wantMissing(t, "staker", a, Missing{Kind: MissingCovenantSignatures, Have: 0, Need: c.m, Of: c.nCov})
			for k := 1; k <= c.nCov; k++ {
				signAll(t, p, w.cov[k-1])
				a = stage(fmt.Sprintf("%d covenant", k), w.cov[:k], true)
				if k < c.m {
					wantMissing(t, "short", a, Missing{Kind: MissingCovenantSignatures, Have: k, Need: c.m, Of: c.nCov})
				} else {
					wantMissing(t, "quorum", a)
				}
			}
			// Without a search the staking time stays unknown.
			if a := analyze(t, p, AnalyzeOptions{}); a.Inputs[0].StakingTime != 0 || a.Inputs[0].SpentOutput != script.StakingOutputKind {
				t.Errorf("no search: %+v", a.Inputs[0])
			}
			// A corrupted signature is reported, not counted as valid.
			bad, _ := clonePacket(p)
			bad.Inputs[0].TaprootScriptSpendSig[0].Signature[3] ^= 1
			if a := analyze(t, bad, opts); !errors.Is(a.SignatureError, ErrBadSignature) {
				t.Errorf("corrupted signature: %v", a.SignatureError)
			}

			tx, err := Finalize(p)
			if err != nil {
				t.Fatal(err)
			}
			// The finalised packet: its witness tells the leaf and who
			// signed (Finalize keeps the quorum of smallest keys).
			a = analyze(t, p, opts)
			if !a.Complete || !a.Ready || a.Inputs[0].Leaf == nil || a.Inputs[0].CovenantSigned() != c.m || !a.Inputs[0].Final {
				t.Errorf("finalised: %+v", a.Inputs[0])
			}
			for _, opts := range []AnalyzeOptions{{}, {Params: w.params}} {
				a = analyzeTx(t, tx, opts)
				in := a.Inputs[0]
				if a.Kind != TxUnbonding || in.SpentOutput != script.StakingOutputKind || !in.StakerSigned || in.CovenantSigned() != c.m ||
					!in.QuorumReached || !in.Final || !in.Ready || len(a.Missing()) != 0 || a.VSize != VSize(tx) {
					t.Errorf("tx: kind %v input %+v", a.Kind, in)
				}
				wantSigned(t, "tx", in.Covenant, cov, smallest(w.cov, c.m))
				if o := a.Outputs[0]; o.Role != RoleUnbonding || o.Evidence != EvidencePresumed {
					t.Errorf("tx output: %+v", o)
				}
			}
			a = analyzeTx(t, tx, AnalyzeOptions{Delegation: &d})
			if o := a.Outputs[0]; o.Role != RoleUnbonding || o.Evidence != EvidenceDelegation || o.Timelock != w.params.UnbondingTime() {
				t.Errorf("tx output with the delegation: %+v", o)
			}
		})
	}
}

// TestAnalyzeSlashing follows slashing PSBTs of the staking and the
// unbonding output through the staker's signature and each covenant
// member's adaptor signatures, then the completed transaction.
func TestAnalyzeSlashing(t *testing.T) {
	r := newRand(t)
	for _, c := range analysisCommittees {
		for _, from := range []script.OutputKind{script.StakingOutputKind, script.UnbondingOutputKind} {
			t.Run(fmt.Sprintf("%dfp-%d-of-%d/%s", c.nFP, c.m, c.nCov, from), func(t *testing.T) {
				w := newWorld(t, r, c.nFP, c.nCov, uint32(c.m))
				fundTx, d := w.stake(t, 500_000, 3000)
				src, _ := d.StakingOutput()
				if from == script.UnbondingOutputKind {
					ubRes, err := BuildUnbonding(d, Funding{Tx: fundTx, Index: outputIndex(fundTx, src)})
					if err != nil {
						t.Fatal(err)
					}
					signAll(t, ubRes.Packet, append([]*btcec.PrivateKey{w.staker}, w.cov[:c.m]...)...)
					if fundTx, err = Finalize(ubRes.Packet); err != nil {
						t.Fatal(err)
					}
					src, _ = d.UnbondingOutput()
				}
				res, err := BuildSlashing(d, from, Funding{Tx: fundTx, Index: outputIndex(fundTx, src)})
				if err != nil {
					t.Fatal(err)
				}
				p := res.Packet
				change, _ := d.SlashingChangeOutput()
				fps := keysOf(w.fps)
				wantTimes := func(name string, in InputAnalysis) {
					t.Helper()
					if from == script.StakingOutputKind && (in.StakingTime != 3000 || in.UnbondingTime != 0) ||
						from == script.UnbondingOutputKind && (in.UnbondingTime != w.params.UnbondingTime() || in.StakingTime != 0) {
						t.Errorf("%s: staking time %d, unbonding time %d", name, in.StakingTime, in.UnbondingTime)
					}
				}
				opts := AnalyzeOptions{Params: w.params, TimelockSearches: 1}
				stage := func(name string, adaptorSigners int) *Analysis {
					a := analyze(t, p, opts)
					in := a.Inputs[0]
					if a.Kind != TxSlashing || in.Leaf.Kind != script.SlashingPath || in.SpentOutput != from || in.AdaptorSigners != adaptorSigners ||
						len(in.AdaptorSigs) != adaptorSigners*c.nFP || in.QuorumReached != (adaptorSigners >= c.m) {
						t.Errorf("%s: kind %v input %+v", name, a.Kind, in)
					}
					wantTimes(name, in)
					wantSigned(t, name, in.FinalityProviders, fps, nil)
					if o := a.Outputs[0]; o.Role != RoleSlashing || o.Evidence != EvidenceParams || o.Value != w.params.SlashingAmount(fundTx.TxOut[outputIndex(fundTx, src)].Value) {
						t.Errorf("%s: slashing output %+v", name, o)
					}
					if o := a.Outputs[1]; o.Role != RoleSlashingChange || o.Evidence != EvidenceTapTree || o.Timelock != w.params.UnbondingTime() ||
						!bytes.Equal(o.PkScript, change.PkScript) {
						t.Errorf("%s: change output %+v", name, o)
					}
					if a.Fee != w.params.MinSlashingFee() || a.VSize != res.Description.VSize {
						t.Errorf("%s: fee %d vsize %d", name, a.Fee, a.VSize)
					}
					return a
				}
				a := stage("unsigned", 0)
				wantMissing(t, "unsigned", a, Missing{Kind: MissingStakerSignature},
					Missing{Kind: MissingCovenantAdaptorSignatures, Need: c.m, Of: c.nCov}, Missing{Kind: MissingFinalityProviderSignature})
				wantSummary := fmt.Sprintf("%s is a slashing transaction: it spends the %s output through the slashing path", a.Txid, OutputWords(from))
				if !strings.HasPrefix(a.Summary(), wantSummary) {
					t.Errorf("summary %q", a.Summary())
				}
				signAll(t, p, w.staker)
				for k := 1; k <= c.m; k++ {
					if _, err := adaptorSignSlashing(p, 0, w.cov[k-1]); err != nil {
						t.Fatal(err)
					}
					a = stage(fmt.Sprintf("%d adaptor signers", k), k)
					if k < c.m {
						wantMissing(t, "short", a, Missing{Kind: MissingCovenantAdaptorSignatures, Have: k, Need: c.m, Of: c.nCov},
							Missing{Kind: MissingFinalityProviderSignature})
					} else {
						wantMissing(t, "quorum", a, Missing{Kind: MissingFinalityProviderSignature})
					}
					if a.SlashingCompletable != (k >= c.m) {
						t.Errorf("%d adaptor signers: completable %v", k, a.SlashingCompletable)
					}
				}
				// Without params the slashing output is presumed by position.
				if a := analyze(t, p, AnalyzeOptions{TimelockSearches: 1}); a.Outputs[0].Role != RoleSlashing || a.Outputs[0].Evidence != EvidencePresumed {
					t.Errorf("without params: %+v", a.Outputs[0])
				}

				culprit := w.fps[r.Intn(c.nFP)]
				tx, err := CompleteSlashing(p, culprit)
				if err != nil {
					t.Fatal(err)
				}
				a = analyzeTx(t, tx, opts)
				in := a.Inputs[0]
				if a.Kind != TxSlashing || in.SpentOutput != from || !in.StakerSigned || in.CovenantSigned() != c.m || !in.QuorumReached ||
					len(a.Missing()) != 0 || in.AdaptorSigners != 0 || a.SlashingCompletable {
					t.Errorf("tx: kind %v input %+v", a.Kind, in)
				}
				wantTimes("tx", in)
				wantSigned(t, "tx", in.FinalityProviders, fps, []*btcec.PrivateKey{culprit})
				if o := a.Outputs[1]; o.Role != RoleSlashingChange || o.Evidence != EvidenceRebuilt || o.Timelock != w.params.UnbondingTime() {
					t.Errorf("tx change output %+v", o)
				}
				// Without params: the slashing output presumed; the change
				// rebuilt from the unbonding time the spent unbonding output
				// reveals, presumed when a staking output was spent.
				a = analyzeTx(t, tx, AnalyzeOptions{TimelockSearches: 1})
				if o := a.Outputs[0]; o.Role != RoleSlashing || o.Evidence != EvidencePresumed {
					t.Errorf("tx slashing output without params: %+v", o)
				}
				wantChange := EvidencePresumed
				if from == script.UnbondingOutputKind {
					wantChange = EvidenceRebuilt
				}
				if o := a.Outputs[1]; o.Role != RoleSlashingChange || o.Evidence != wantChange {
					t.Errorf("tx change output without params: %+v", o)
				}
			})
		}
	}
}

// TestAnalyzeWithdraw: the timelock-path spend of each output, unsigned,
// signed and as a transaction.
func TestAnalyzeWithdraw(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 2, 3, 2)
	stTx, d := w.stake(t, 500_000, 2500)
	st, _ := d.StakingOutput()
	ubRes, _ := BuildUnbonding(d, Funding{Tx: stTx, Index: outputIndex(stTx, st)})
	signAll(t, ubRes.Packet, w.staker, w.cov[0], w.cov[1])
	ubTx, err := Finalize(ubRes.Packet)
	if err != nil {
		t.Fatal(err)
	}
	slRes, _ := BuildSlashing(d, script.StakingOutputKind, Funding{Tx: stTx, Index: outputIndex(stTx, st)})
	signAll(t, slRes.Packet, w.staker)
	adaptorSignSlashing(slRes.Packet, 0, w.cov[0])
	adaptorSignSlashing(slRes.Packet, 0, w.cov[2])
	slTx, err := CompleteSlashing(slRes.Packet, w.fps[1])
	if err != nil {
		t.Fatal(err)
	}
	dest := p2tr(randKey(r))
	for _, c := range []struct {
		from   script.OutputKind
		tx     *wire.MsgTx
		idx    uint32
		lock   uint16
		st, ut uint16
	}{
		{script.StakingOutputKind, stTx, outputIndex(stTx, st), 2500, 2500, 0},
		{script.UnbondingOutputKind, ubTx, 0, w.params.UnbondingTime(), 0, w.params.UnbondingTime()},
		{script.SlashingChangeOutputKind, slTx, 1, w.params.UnbondingTime(), 0, w.params.UnbondingTime()},
	} {
		res, err := BuildWithdraw(WithdrawRequest{Delegation: d, From: c.from, Funding: Funding{Tx: c.tx, Index: c.idx},
			DestPkScript: dest, FeeRate: 1500})
		if err != nil {
			t.Fatal(err)
		}
		check := func(stage string, a *Analysis, signed bool) {
			t.Helper()
			in := a.Inputs[0]
			if a.Kind != TxWithdraw || in.Leaf.Kind != script.TimelockPath || in.Leaf.Timelock != c.lock || in.SpentOutput != c.from ||
				in.StakingTime != c.st || in.UnbondingTime != c.ut || in.StakerSigned != signed || in.Covenant != nil || in.QuorumReached {
				t.Errorf("%s %s: kind %v input %+v", c.from, stage, a.Kind, in)
			}
			if o := a.Outputs[0]; o.Role != RoleWithdraw || !bytes.Equal(o.PkScript, dest) {
				t.Errorf("%s %s: output %+v", c.from, stage, o)
			}
			want := fmt.Sprintf("%s is a withdraw transaction: it spends the %s output through the timelock path (staker alone). It is valid once the spent output is %d blocks deep (nSequence %d).",
				a.Txid, OutputWords(c.from), c.lock, c.lock)
			if a.Summary() != want {
				t.Errorf("%s %s: summary %q\nwant %q", c.from, stage, a.Summary(), want)
			}
		}
		a := analyze(t, res.Packet, AnalyzeOptions{})
		check("unsigned", a, false)
		wantMissing(t, "unsigned withdraw", a, Missing{Kind: MissingStakerSignature})
		if a.Fee != res.Description.Fee || a.VSize != res.Description.VSize {
			t.Errorf("%s: fee %d vsize %d, want %d %d", c.from, a.Fee, a.VSize, res.Description.Fee, res.Description.VSize)
		}
		signAll(t, res.Packet, w.staker)
		a = analyze(t, res.Packet, AnalyzeOptions{})
		check("signed", a, true)
		wantMissing(t, "signed withdraw", a)
		tx, err := Finalize(res.Packet)
		if err != nil {
			t.Fatal(err)
		}
		check("tx", analyzeTx(t, tx, AnalyzeOptions{}), true)
	}
}

// TestAnalyzeFlagsWitnessUTXOMismatch: a witness_utxo contradicting the
// spent transaction is noted, and the fee comes from the transaction its
// txid proves.
func TestAnalyzeFlagsWitnessUTXOMismatch(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 1, 1)
	k := randKey(r)
	u := coin(r, k, p2wpkh(k), 80_000)
	res, err := BuildStaking(StakingRequest{Delegation: w.delegation(100), Value: 50_000, UTXOs: []UTXO{u}, FeeRate: 1000, ChangePkScript: p2wpkh(k)})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Packet
	p.Inputs[0].WitnessUtxo = wire.NewTxOut(30_000, p2wpkh(k))
	a := analyze(t, p, AnalyzeOptions{})
	if len(a.Notes) != 1 || a.Notes[0] != (Note{Kind: NoteWitnessUTXOMismatch, Input: 0, Claimed: 30_000, Actual: 80_000}) {
		t.Errorf("notes %+v", a.Notes)
	}
	if a.Fee != res.Description.Fee || a.Inputs[0].Value != 80_000 {
		t.Errorf("fee %d, want %d", a.Fee, res.Description.Fee)
	}
	// Without any record of the spent output the fee and size are unknown.
	p.Inputs[0].WitnessUtxo, p.Inputs[0].NonWitnessUtxo = nil, nil
	a = analyze(t, p, AnalyzeOptions{})
	if a.InputValueKnown || a.Fee != 0 || a.VSize != 0 || a.TxidFinal || a.Inputs[0].Type != InputUnknown {
		t.Errorf("unknown coin: %+v", a)
	}
	if _, ok := a.FeeRate(); ok {
		t.Error("fee rate of an unknown fee")
	}
}

// TestAnalyzeRefuses: packets and transactions it cannot read are refused
// with their kinds.
func TestAnalyzeRefuses(t *testing.T) {
	if _, err := Analyze(nil, AnalyzeOptions{}); !errors.Is(err, ErrInvalidPSBT) {
		t.Errorf("nil packet: %v", err)
	}
	if _, err := Analyze(&psbt.Packet{UnsignedTx: wire.NewMsgTx(2), Inputs: make([]psbt.PInput, 1)}, AnalyzeOptions{}); !errors.Is(err, ErrInvalidPSBT) {
		t.Errorf("inconsistent packet: %v", err)
	}
	if _, err := AnalyzeTx(nil, AnalyzeOptions{}); !errors.Is(err, ErrInvalidTx) {
		t.Errorf("nil tx: %v", err)
	}
	tx := wire.NewMsgTx(2)
	tx.TxIn = []*wire.TxIn{nil}
	if _, err := AnalyzeTx(tx, AnalyzeOptions{}); !errors.Is(err, ErrInvalidTx) {
		t.Errorf("nil input: %v", err)
	}
}

// TestAnalyzeRefusesInvalidParams: a Params not made by params.New (the
// zero value, which the type cannot rule out) is refused with
// params.ErrInvalidParams, given directly or through the delegation,
// rather than read as a committee of no keys and a rate of 0.
func TestAnalyzeRefusesInvalidParams(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	d := w.delegation(1000)
	k := randKey(r)
	res, err := BuildStaking(StakingRequest{Delegation: d, Value: 150_000, UTXOs: []UTXO{coin(r, k, p2wpkh(k), 260_000)},
		FeeRate: 3000, ChangePkScript: p2wpkh(k), PhaseOne: true})
	if err != nil {
		t.Fatal(err)
	}
	zero := d
	zero.Params = &params.Params{}
	for name, opts := range map[string]AnalyzeOptions{
		"zero params":            {Params: &params.Params{}},
		"zero delegation params": {Delegation: &zero},
		"nil delegation params":  {Delegation: &Delegation{Staker: d.Staker, FinalityProviders: d.FinalityProviders, StakingTime: 1000}},
	} {
		if _, err := Analyze(res.Packet, opts); !errors.Is(err, params.ErrInvalidParams) {
			t.Errorf("Analyze, %s: %v, want params.ErrInvalidParams", name, err)
		}
		if _, err := AnalyzeTx(res.Packet.UnsignedTx, opts); !errors.Is(err, params.ErrInvalidParams) {
			t.Errorf("AnalyzeTx, %s: %v, want params.ErrInvalidParams", name, err)
		}
	}
}

// TestSpellings: one spelling per kind. The protocol outputs' roles are
// spelled as script spells the output kinds, and the builders describe
// transactions and outputs with the analysis' spellings.
func TestSpellings(t *testing.T) {
	for _, k := range []script.OutputKind{script.StakingOutputKind, script.UnbondingOutputKind, script.SlashingChangeOutputKind} {
		if RoleOf(k).String() != k.String() {
			t.Errorf("role %q, output kind %q", RoleOf(k), k)
		}
	}
	if got := RoleSlashingChange.String(); got != "slashing_change" {
		t.Errorf("slashing change spelled %q", got)
	}
	names := map[string]bool{}
	for r := RoleUnknown; r <= RoleOther; r++ {
		if names[r.String()] {
			t.Errorf("two roles spelled %q", r)
		}
		names[r.String()] = true
	}
	for k := TxUnknown; k <= TxExtension; k++ {
		b, _ := k.MarshalText()
		if string(b) != k.String() {
			t.Errorf("kind %v marshals as %s", k, b)
		}
	}
	if InputP2WPKH.String() != P2WPKH.String() || InputP2TR.String() != P2TRKeyPath.String() ||
		InputP2PKH.String() != P2PKH.String() || InputP2SHP2WPKH.String() != P2SHP2WPKH.String() {
		t.Error("funding input types spelled unlike InputKind")
	}
	r := newRand(t)
	w := newWorld(t, r, 1, 1, 1)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	sl, _ := BuildSlashing(d, script.StakingOutputKind, Funding{Tx: stTx, Index: outputIndex(stTx, st)})
	a := analyze(t, sl.Packet, AnalyzeOptions{Params: w.params})
	if sl.Description.Kind != a.Kind.String() {
		t.Errorf("description kind %q, analysis %q", sl.Description.Kind, a.Kind)
	}
	for i, o := range sl.Description.Outputs {
		if o.Role != a.Outputs[i].Role.String() {
			t.Errorf("output %d: description role %q, analysis %q", i, o.Role, a.Outputs[i].Role)
		}
	}
}

// TestTreeRoleNeedsTheOutputScript: a tap tree that does not rebuild into
// the output's script names no role.
func TestTreeRoleNeedsTheOutputScript(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	res, _ := BuildUnbonding(d, Funding{Tx: stTx, Index: outputIndex(stTx, st)})
	p := res.Packet
	p.UnsignedTx.TxOut[0].PkScript = p2tr(randKey(r))
	a := analyze(t, p, AnalyzeOptions{})
	if a.Outputs[0].Evidence == EvidenceTapTree {
		t.Errorf("tap tree of another output accepted: %+v", a.Outputs[0])
	}
	// Another delegation's tap tree over this output is no evidence either.
	p.UnsignedTx.TxOut[0].PkScript = st.PkScript
	other := newWorld(t, r, 1, 3, 2)
	ostTx, od := other.stake(t, 200_000, 100)
	ost, _ := od.StakingOutput()
	ores, _ := BuildUnbonding(od, Funding{Tx: ostTx, Index: outputIndex(ostTx, ost)})
	p.Outputs[0].TaprootTapTree = ores.Packet.Outputs[0].TaprootTapTree
	if a := analyze(t, p, AnalyzeOptions{}); a.Outputs[0].Evidence == EvidenceTapTree {
		t.Errorf("foreign tap tree accepted: %+v", a.Outputs[0])
	}
}

// TestEstimateVSizeExact: the size estimated before signing is the size of
// the transaction finalised from it, for staking transactions from every
// kind of coin and for every spend of every committee size.
func TestEstimateVSizeExact(t *testing.T) {
	r := newRand(t)
	mk := map[string]func(*btcec.PrivateKey) []byte{"p2wpkh": p2wpkh, "p2tr": p2tr, "p2pkh": p2pkh, "p2sh-p2wpkh": p2shP2wpkh}
	w := newWorld(t, r, 1, 3, 2)
	for _, kinds := range [][]string{{"p2wpkh"}, {"p2tr"}, {"p2pkh"}, {"p2sh-p2wpkh"}, {"p2pkh", "p2tr", "p2sh-p2wpkh", "p2wpkh"}, {"p2pkh", "p2pkh"}} {
		var utxos []UTXO
		var keys []*btcec.PrivateKey
		for _, k := range kinds {
			key := randKey(r)
			keys = append(keys, key)
			utxos = append(utxos, coin(r, key, mk[k](key), 60_000))
		}
		res, err := BuildStaking(StakingRequest{Delegation: w.delegation(1000), Value: int64(60_000*len(utxos)) - 25_000,
			UTXOs: utxos, FeeRate: 1000, ChangePkScript: p2wpkh(keys[0]), PhaseOne: true})
		if err != nil {
			t.Fatal(err)
		}
		est := estimate(t, res.Packet)
		fee, err := Fee(res.Packet)
		if err != nil || fee != res.Description.Fee {
			t.Errorf("%v: fee %d (%v), want %d", kinds, fee, err, res.Description.Fee)
		}
		SignFundingInputs(res.Packet, keys...)
		if got := estimate(t, res.Packet); got != est {
			t.Errorf("%v: signed estimate %d, unsigned %d", kinds, got, est)
		}
		tx, err := Finalize(res.Packet)
		if err != nil {
			t.Fatal(err)
		}
		if VSize(tx) != est || estimate(t, res.Packet) != est {
			t.Errorf("%v: estimated %d, finalised %d (estimate of the finalised packet %d)", kinds, est, VSize(tx), estimate(t, res.Packet))
		}
	}
	for _, c := range append(analysisCommittees, struct{ nFP, nCov, m int }{3, 9, 6}) {
		w := newWorld(t, r, c.nFP, c.nCov, uint32(c.m))
		stTx, d := w.stake(t, 500_000, 3000)
		st, _ := d.StakingOutput()
		f := Funding{Tx: stTx, Index: outputIndex(stTx, st)}
		ub, _ := BuildUnbonding(d, f)
		ubEst := estimate(t, ub.Packet)
		signAll(t, ub.Packet, append([]*btcec.PrivateKey{w.staker}, w.cov...)...) // more than quorum: Finalize keeps quorum
		ubTx, err := Finalize(ub.Packet)
		if err != nil {
			t.Fatal(err)
		}
		if VSize(ubTx) != ubEst {
			t.Errorf("%+v unbonding: estimated %d, finalised %d", c, ubEst, VSize(ubTx))
		}
		for _, sf := range []Funding{f, {Tx: ubTx, Index: 0}} {
			from := script.StakingOutputKind
			if sf.Tx == ubTx {
				from = script.UnbondingOutputKind
			}
			sl, _ := BuildSlashing(d, from, sf)
			est := estimate(t, sl.Packet)
			signAll(t, sl.Packet, w.staker)
			for _, k := range w.cov[:c.m] {
				adaptorSignSlashing(sl.Packet, 0, k)
			}
			tx, err := CompleteSlashing(sl.Packet, w.fps[c.nFP-1])
			if err != nil {
				t.Fatal(err)
			}
			if VSize(tx) != est {
				t.Errorf("%+v slashing %s: estimated %d, finalised %d", c, from, est, VSize(tx))
			}
			wd, _ := BuildWithdraw(WithdrawRequest{Delegation: d, From: from, Funding: sf, DestPkScript: p2pkh(randKey(r)), FeeRate: 1000})
			est = estimate(t, wd.Packet)
			signAll(t, wd.Packet, w.staker)
			wdTx, err := Finalize(wd.Packet)
			if err != nil {
				t.Fatal(err)
			}
			if VSize(wdTx) != est {
				t.Errorf("%+v withdraw %s: estimated %d, finalised %d", c, from, est, VSize(wdTx))
			}
		}
	}
}

func estimate(t *testing.T, p *psbt.Packet) int64 {
	t.Helper()
	vs, err := EstimateVSize(p)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// TestEstimateVSizeRefuses: unknown coins and scripts are refused with
// their kinds.
func TestEstimateVSizeRefuses(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 1, 1)
	k := randKey(r)
	res, err := BuildStaking(StakingRequest{Delegation: w.delegation(100), Value: 50_000, UTXOs: []UTXO{coin(r, k, p2wpkh(k), 80_000)},
		FeeRate: 1000, ChangePkScript: p2wpkh(k)})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Packet
	p.Inputs[0].WitnessUtxo.PkScript = []byte{0x6a}
	p.Inputs[0].NonWitnessUtxo = nil
	if _, err := EstimateVSize(p); !errors.Is(err, ErrUnsupportedInput) {
		t.Errorf("non-standard coin: %v", err)
	}
	p.Inputs[0].WitnessUtxo = nil
	if _, err := EstimateVSize(p); !errors.Is(err, ErrUnknownSpentOutput) {
		t.Errorf("unknown coin: %v", err)
	}
	if _, err := Fee(p); !errors.Is(err, ErrUnknownSpentOutput) {
		t.Errorf("fee of an unknown coin: %v", err)
	}
	// One condition, one kind: signing and finalising say the same as the
	// estimators (and still that the packet cannot be used).
	for name, call := range map[string]func() error{
		"SignFundingInputs": func() error { _, err := SignFundingInputs(p, k); return err },
		"VerifyTx":          func() error { return VerifyTx(p.UnsignedTx, p) },
	} {
		if err := call(); !errors.Is(err, ErrUnknownSpentOutput) || !errors.Is(err, ErrInvalidPSBT) {
			t.Errorf("%s with an unknown coin: %v, want ErrUnknownSpentOutput and ErrInvalidPSBT", name, err)
		}
	}
}

// FuzzAnalyze: Analyze never panics on a PSBT that decodes, and what it
// reports hangs together.
func FuzzAnalyze(f *testing.F) {
	for _, b := range analysisSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			return
		}
		a, err := Analyze(p, AnalyzeOptions{TimelockSearches: 1, Net: &chaincfg.RegressionNetParams})
		if err != nil {
			return
		}
		checkAnalysis(t, a, len(p.UnsignedTx.TxIn), len(p.UnsignedTx.TxOut))
		EstimateVSize(p)
		Fee(p)
	})
}

// FuzzAnalyzeTx: AnalyzeTx never panics on a transaction that decodes.
func FuzzAnalyzeTx(f *testing.F) {
	for _, b := range analysisSeeds(f) {
		p, err := Decode(b)
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		p.UnsignedTx.Serialize(&buf)
		f.Add(buf.Bytes())
		if tx, err := Finalize(p); err == nil {
			buf.Reset()
			tx.Serialize(&buf)
			f.Add(buf.Bytes())
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tx := wire.NewMsgTx(2)
		if tx.Deserialize(bytes.NewReader(b)) != nil {
			return
		}
		a, err := AnalyzeTx(tx, AnalyzeOptions{TimelockSearches: 1, Net: &chaincfg.RegressionNetParams})
		if err != nil {
			return
		}
		checkAnalysis(t, a, len(tx.TxIn), len(tx.TxOut))
	})
}

func checkAnalysis(t *testing.T, a *Analysis, nIn, nOut int) {
	if len(a.Inputs) != nIn || len(a.Outputs) != nOut {
		t.Fatalf("%d inputs and %d outputs analysed, the transaction has %d and %d", len(a.Inputs), len(a.Outputs), nIn, nOut)
	}
	if a.Ready != (len(a.Missing()) == 0) {
		t.Fatalf("ready %v with missing %v", a.Ready, a.Missing())
	}
	for _, in := range a.Inputs {
		if (in.Type == InputStakingLeaf) != (in.Leaf != nil) {
			t.Fatalf("input type %v with leaf %v", in.Type, in.Leaf)
		}
	}
	_ = a.Summary()
	a.FeeRate()
	for _, m := range a.Missing() {
		_ = m.String()
	}
	for _, n := range a.Notes {
		_ = n.String()
	}
}

// analysisSeeds are PSBTs of every transaction of the lifecycle at several
// signing stages.
func analysisSeeds(f *testing.F) [][]byte {
	r := newRand(f)
	w := newWorld(f, r, 1, 3, 2)
	k := randKey(r)
	var out [][]byte
	add := func(p *psbt.Packet) {
		var b bytes.Buffer
		if err := p.Serialize(&b); err != nil {
			f.Fatal(err)
		}
		out = append(out, b.Bytes())
	}
	stRes, err := BuildStaking(StakingRequest{Delegation: w.delegation(200), Value: 100_000, UTXOs: []UTXO{coin(r, k, p2wpkh(k), 300_000)},
		FeeRate: 1000, ChangePkScript: p2wpkh(k), PhaseOne: true})
	if err != nil {
		f.Fatal(err)
	}
	add(stRes.Packet)
	SignFundingInputs(stRes.Packet, k)
	add(stRes.Packet)
	stTx, err := Finalize(stRes.Packet)
	if err != nil {
		f.Fatal(err)
	}
	add(stRes.Packet)
	d := w.delegation(200)
	fund := Funding{Tx: stTx, Index: 0}
	ub, _ := BuildUnbonding(d, fund)
	add(ub.Packet)
	SignTapscript(ub.Packet, 0, w.staker)
	SignTapscript(ub.Packet, 0, w.cov[1])
	add(ub.Packet)
	sl, _ := BuildSlashing(d, script.StakingOutputKind, fund)
	SignTapscript(sl.Packet, 0, w.staker)
	adaptorSignSlashing(sl.Packet, 0, w.cov[0])
	add(sl.Packet)
	wd, _ := BuildWithdraw(WithdrawRequest{Delegation: d, From: script.StakingOutputKind, Funding: fund, DestPkScript: p2wpkh(k), FeeRate: 1000})
	SignTapscript(wd.Packet, 0, w.staker)
	add(wd.Packet)
	return out
}

// TestAnalysisIsPure: analysing twice gives the same result (nothing in
// the analysis depends on state it leaves behind).
func TestAnalysisIsPure(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	res, _ := BuildSlashing(d, script.StakingOutputKind, Funding{Tx: stTx, Index: outputIndex(stTx, st)})
	signAll(t, res.Packet, w.staker)
	opts := AnalyzeOptions{Params: w.params, TimelockSearches: 1}
	a1, a2 := analyze(t, res.Packet, opts), analyze(t, res.Packet, opts)
	if !reflect.DeepEqual(a1, a2) {
		t.Error("two analyses differ")
	}
}

// TestAnalyzeCountsOnlyCompleteAdaptorSigners: a covenant member counts
// towards the quorum once its adaptor signatures of this leaf cover every
// finality provider of the leaf; signatures from keys outside the leaf, for
// another leaf, or from a member already counted as a plain signer do not
// count, though all are listed.
func TestAnalyzeCountsOnlyCompleteAdaptorSigners(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 2, 3, 2)
	stTx, d := w.stake(t, 300_000, 100)
	st, _ := d.StakingOutput()
	res, _ := BuildSlashing(d, script.StakingOutputKind, Funding{Tx: stTx, Index: outputIndex(stTx, st)})
	p := res.Packet
	signAll(t, p, w.staker)
	for _, k := range w.cov {
		if _, err := adaptorSignSlashing(p, 0, k); err != nil {
			t.Fatal(err)
		}
	}
	in := &p.Inputs[0]
	sigs, _ := AdaptorSigs(p, 0)
	if len(sigs) != 6 {
		t.Fatalf("%d adaptor signatures", len(sigs))
	}
	count := func() (int, int) {
		a := analyze(t, p, AnalyzeOptions{})
		return a.Inputs[0].AdaptorSigners, len(a.Inputs[0].AdaptorSigs)
	}
	if n, listed := count(); n != 3 || listed != 6 {
		t.Fatalf("all three members: %d signers, %d listed", n, listed)
	}
	// A member that also holds a plain signature counts once, as a plain
	// signer.
	in.TaprootScriptSpendSig = append(in.TaprootScriptSpendSig, &psbt.TaprootScriptSpendSig{
		XOnlyPubKey: script.XOnly(w.cov[1].PubKey()).Bytes(), LeafHash: make([]byte, 32), Signature: make([]byte, 64)})
	a := analyze(t, p, AnalyzeOptions{})
	if n := a.Inputs[0].AdaptorSigners; n != 2 || a.Inputs[0].CovenantSigned() != 1 {
		t.Errorf("plain signer: %d adaptor signers, %d plain", n, a.Inputs[0].CovenantSigned())
	}
	in.TaprootScriptSpendSig = slices.DeleteFunc(in.TaprootScriptSpendSig, func(s *psbt.TaprootScriptSpendSig) bool {
		return bytes.Equal(s.XOnlyPubKey, script.XOnly(w.cov[1].PubKey()).Bytes())
	})
	// replace rewrites member k's entries with edit applied (or drops the
	// first when edit is nil).
	replace := func(k int, edit func(*AdaptorSig)) {
		var kept []*psbt.Unknown
		dropped := false
		for _, u := range in.Unknowns {
			a, ok, _ := parseAdaptorUnknown(u)
			if ok && a.Covenant == script.XOnly(w.cov[k].PubKey()) {
				if edit == nil {
					if !dropped {
						dropped = true
						continue
					}
				} else {
					edit(a)
					u = a.unknown()
				}
			}
			kept = append(kept, u)
		}
		in.Unknowns = kept
	}
	replace(0, nil)
	if n, listed := count(); n != 2 || listed != 5 {
		t.Errorf("one member covering one provider: %d signers, %d listed", n, listed)
	}
	stranger := script.XOnly(randKey(r).PubKey())
	replace(1, func(a *AdaptorSig) { a.Covenant = stranger })
	if n, listed := count(); n != 1 || listed != 5 {
		t.Errorf("a key outside the leaf: %d signers, %d listed", n, listed)
	}
	replace(2, func(a *AdaptorSig) { a.LeafHash[0] ^= 1 })
	if n, listed := count(); n != 0 || listed != 5 {
		t.Errorf("another leaf: %d signers, %d listed", n, listed)
	}
}

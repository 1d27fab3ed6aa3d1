package psbt

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/script"
)

func packetBytes(t *testing.T, p *psbt.Packet) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := p.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestCovenantCannotPlainSignSlashing reproduces the hole of issue 10: two
// covenant members plain-signing a slashing leaf, plus the staker's
// pre-signature, must not yield a complete slashing transaction without
// the finality provider's key. SignTapscript refuses covenant and
// finality-provider keys on slashing leaves, leaves the packet unchanged,
// and Finalize then finds no way to complete the input.
func TestCovenantCannotPlainSignSlashing(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	res, err := BuildSlashing(d, script.StakingOutputKind, Funding{stTx, outputIndex(stTx, st)})
	if err != nil {
		t.Fatal(err)
	}
	if err := SignTapscript(res.Packet, 0, w.staker); err != nil {
		t.Fatalf("the staker pre-signs the slashing tx: %v", err)
	}
	before := packetBytes(t, res.Packet)
	for _, k := range append([]*btcec.PrivateKey{w.fps[0]}, w.cov...) {
		if err := SignTapscript(res.Packet, 0, k); !errors.Is(err, ErrSlashingLeafRole) {
			t.Fatalf("key %s on a slashing leaf: got %v, want ErrSlashingLeafRole", script.XOnly(k.PubKey()), err)
		}
	}
	if !bytes.Equal(before, packetBytes(t, res.Packet)) {
		t.Fatal("a refused signature changed the packet")
	}
	if _, err := Finalize(res.Packet); !errors.Is(err, ErrNotFinalizable) {
		t.Fatalf("finalize without the FP's key: got %v, want ErrNotFinalizable", err)
	}
}

// TestSignTapscriptRefusesUncheckedCovenant: a covenant key on an
// unbonding leaf must go through CovenantSigner; a key without a slot is
// ErrNotSignable; the staker signs every leaf.
func TestSignTapscriptRefusesUncheckedCovenant(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	ub, err := BuildUnbonding(d, Funding{stTx, outputIndex(stTx, st)})
	if err != nil {
		t.Fatal(err)
	}
	before := packetBytes(t, ub.Packet)
	if err := SignTapscript(ub.Packet, 0, w.cov[0]); !errors.Is(err, ErrUncheckedCovenant) {
		t.Fatalf("covenant key on an unbonding leaf: got %v, want ErrUncheckedCovenant", err)
	}
	if err := SignTapscript(ub.Packet, 0, w.fps[0]); !errors.Is(err, ErrNotSignable) {
		t.Fatalf("FP key on an unbonding leaf: got %v, want ErrNotSignable", err)
	}
	if !bytes.Equal(before, packetBytes(t, ub.Packet)) {
		t.Fatal("a refused signature changed the packet")
	}
	if err := SignTapscript(ub.Packet, 0, w.staker); err != nil {
		t.Fatalf("staker: %v", err)
	}
}

// TestCovenantSigner: the covenant member's only way to sign checks the
// transaction against the delegation first, then signs the unbonding leaf
// plainly and the slashing leaf with adaptor signatures; what it signs
// finalises and completes.
func TestCovenantSigner(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 2, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	f := Funding{stTx, outputIndex(stTx, st)}

	signers := make([]*CovenantSigner, len(w.cov))
	for i, k := range w.cov {
		s, err := NewCovenantSigner(k)
		if err != nil {
			t.Fatal(err)
		}
		signers[i] = s
	}
	if _, err := NewCovenantSigner(nil); !errors.Is(err, ErrNotSignable) {
		t.Fatalf("nil key: %v", err)
	}

	// Honest unbonding: one signature each; the quorum finalises.
	ub := mustBuild(BuildUnbonding(d, f))
	if err := SignTapscript(ub.Packet, 0, w.staker); err != nil {
		t.Fatal(err)
	}
	for _, s := range signers[:2] {
		if n, err := s.Sign(ub.Packet, 0, d); err != nil || n != 1 {
			t.Fatalf("unbonding: %d, %v", n, err)
		}
	}
	// Signing again replaces, not duplicates.
	if _, err := signers[0].Sign(ub.Packet, 0, d); err != nil {
		t.Fatal(err)
	}
	if got := len(ub.Packet.Inputs[0].TaprootScriptSpendSig); got != 3 {
		t.Fatalf("%d tap_script_sigs after re-signing, want 3 (staker + 2 members)", got)
	}
	ubTx, err := Finalize(ub.Packet)
	if err != nil {
		t.Fatalf("finalize the covenant-signed unbonding tx: %v", err)
	}

	// Honest slashing of the unbonding output: one adaptor signature per
	// finality provider, and the extracted FP key completes it.
	sl := mustBuild(BuildSlashing(d, script.UnbondingOutputKind, Funding{ubTx, 0}))
	if err := SignTapscript(sl.Packet, 0, w.staker); err != nil {
		t.Fatal(err)
	}
	for _, s := range signers[1:] {
		if n, err := s.Sign(sl.Packet, 0, d); err != nil || n != 2 {
			t.Fatalf("slashing: %d adaptor signatures, %v", n, err)
		}
	}
	if _, err := CompleteSlashing(sl.Packet, w.fps[1]); err != nil {
		t.Fatalf("complete slashing: %v", err)
	}

	// A staker's attempts: every one refused with the rule's kind, the
	// packet unchanged.
	thief := p2wpkh(w.staker)
	for _, c := range []struct {
		name string
		res  *Result
		mod  func(*wire.MsgTx)
		want error
	}{
		{"unbonding paying the staker directly", mustBuild(BuildUnbonding(d, f)), func(tx *wire.MsgTx) { tx.TxOut[0].PkScript = thief }, ErrTxOutputs},
		{"unbonding with a bigger fee", mustBuild(BuildUnbonding(d, f)), func(tx *wire.MsgTx) { tx.TxOut[0].Value -= 5000 }, ErrTxFee},
		{"slashing paying the staker", mustBuild(BuildSlashing(d, script.StakingOutputKind, f)), func(tx *wire.MsgTx) { tx.TxOut[0].PkScript = thief }, ErrTxOutputs},
		{"slashing a tenth", mustBuild(BuildSlashing(d, script.StakingOutputKind, f)), func(tx *wire.MsgTx) {
			tx.TxOut[1].Value += tx.TxOut[0].Value * 9 / 10
			tx.TxOut[0].Value /= 10
		}, ErrTxValue},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.mod(c.res.Packet.UnsignedTx)
			before := packetBytes(t, c.res.Packet)
			n, err := signers[0].Sign(c.res.Packet, 0, d)
			if !errors.Is(err, c.want) || n != 0 {
				t.Fatalf("got %d, %v; want %v", n, err, c.want)
			}
			if !bytes.Equal(before, packetBytes(t, c.res.Packet)) {
				t.Fatal("a refused signature changed the packet")
			}
		})
	}

	// Another delegation's covenant member, and a zeroed signer.
	other := newWorld(t, r, 1, 3, 2)
	stranger, _ := NewCovenantSigner(other.cov[0])
	if _, err := stranger.Sign(mustBuild(BuildUnbonding(d, f)).Packet, 0, d); !errors.Is(err, ErrNotSignable) {
		t.Fatalf("a key outside the committee: %v", err)
	}
	signers[0].Zero()
	if _, err := signers[0].Sign(mustBuild(BuildUnbonding(d, f)).Packet, 0, d); !errors.Is(err, ErrNotSignable) {
		t.Fatalf("zeroed signer: %v", err)
	}
}

// TestCovenantSignerKeepsOwnKey: zeroing the caller's key after
// NewCovenantSigner does not change what the signer signs with.
func TestCovenantSignerKeepsOwnKey(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 1, 1)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	k := *w.cov[0]
	s, err := NewCovenantSigner(&k)
	if err != nil {
		t.Fatal(err)
	}
	k.Zero()
	ub := mustBuild(BuildUnbonding(d, Funding{stTx, outputIndex(stTx, st)}))
	if _, err := s.Sign(ub.Packet, 0, d); err != nil {
		t.Fatal(err)
	}
	if n, err := VerifyTapscriptSigs(ub.Packet); err != nil || n != 1 {
		t.Fatalf("%d signatures verify: %v", n, err)
	}
}

// TestResignFundingReplaces: signing a funding input again replaces the
// earlier signature, even one that does not verify, so a caller never has
// to strip signatures first.
func TestResignFundingReplaces(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	k := randKey(r)
	res, err := BuildStaking(StakingRequest{Delegation: w.delegation(100), Value: 100_000, FeeRate: 1000, ChangePkScript: p2wpkh(k),
		UTXOs: []UTXO{coin(r, k, p2wpkh(k), 70_000), coin(r, k, p2tr(k), 70_000)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SignFundingInputs(res.Packet, k); err != nil {
		t.Fatal(err)
	}
	// Damage both earlier signatures.
	for i := range res.Packet.Inputs {
		in := &res.Packet.Inputs[i]
		for _, ps := range in.PartialSigs {
			ps.Signature[10] ^= 1
		}
		if in.TaprootKeySpendSig != nil {
			in.TaprootKeySpendSig[10] ^= 1
		}
	}
	if _, err := Finalize(res.Packet); err == nil {
		t.Fatal("damaged signatures finalised")
	}
	if n, err := SignFundingInputs(res.Packet, k); err != nil || n != 2 {
		t.Fatalf("re-sign: %d, %v", n, err)
	}
	for i, in := range res.Packet.Inputs {
		if len(in.PartialSigs) > 1 {
			t.Fatalf("input %d has %d partial signatures", i, len(in.PartialSigs))
		}
	}
	if _, err := Finalize(res.Packet); err != nil {
		t.Fatalf("re-signed: %v", err)
	}
}

// TestSignFundingInputSignsOnlyThatInput: the single-input signer leaves
// the other inputs alone, refuses an index out of range, and reports a
// coin the key does not own as not signed.
func TestSignFundingInputSignsOnlyThatInput(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	k := randKey(r)
	res, err := BuildStaking(StakingRequest{Delegation: w.delegation(100), Value: 100_000, FeeRate: 1000, ChangePkScript: p2wpkh(k),
		UTXOs: []UTXO{coin(r, k, p2wpkh(k), 70_000), coin(r, k, p2tr(k), 70_000)}})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := SignFundingInput(res.Packet, 1, k); !ok || err != nil {
		t.Fatalf("input 1: %v, %v", ok, err)
	}
	in0, in1 := res.Packet.Inputs[0], res.Packet.Inputs[1]
	if len(in0.PartialSigs) != 0 || in0.TaprootKeySpendSig != nil {
		t.Fatal("input 0 was signed too")
	}
	if len(in1.PartialSigs) == 0 && in1.TaprootKeySpendSig == nil {
		t.Fatal("input 1 carries no signature")
	}
	if ok, err := SignFundingInput(res.Packet, 0, randKey(r)); ok || err != nil {
		t.Fatalf("a stranger's key: %v, %v", ok, err)
	}
	if _, err := SignFundingInput(res.Packet, 2, k); !errors.Is(err, ErrWrongInput) {
		t.Fatalf("input 2 of 2: %v", err)
	}
}

// TestFundingFrom finds the delegation's output by its script, and refuses
// a transaction that pays it twice or not at all.
func TestFundingFrom(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	f, err := d.FundingFrom(stTx, script.StakingOutputKind)
	if err != nil || f.Tx != stTx || !bytes.Equal(stTx.TxOut[f.Index].PkScript, st.PkScript) {
		t.Fatalf("%+v, %v", f, err)
	}
	if _, err := d.FundingFrom(stTx, script.UnbondingOutputKind); !errors.Is(err, ErrWrongInput) {
		t.Fatalf("no unbonding output: %v", err)
	}
	twice := stTx.Copy()
	twice.AddTxOut(wire.NewTxOut(200_000, st.PkScript))
	if _, err := d.FundingFrom(twice, script.StakingOutputKind); !errors.Is(err, ErrWrongInput) {
		t.Fatalf("paid twice: %v", err)
	}
	if _, err := d.FundingFrom(nil, script.StakingOutputKind); !errors.Is(err, ErrWrongInput) {
		t.Fatalf("nil tx: %v", err)
	}
}

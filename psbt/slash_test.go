package psbt

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"

	"github.com/btcstake/btcstake/script"
)

// oddY reports whether the key's public point has odd y.
func oddY(k *btcec.PrivateKey) bool { return k.PubKey().SerializeCompressed()[0] == 3 }

// TestSlashingCompletion runs the whole slashing flow on random keys: the
// staker pre-signs, covenant members adaptor-sign to every finality
// provider, one provider's key leaks, anyone completes the transaction, and
// a second party recovers the provider's key from the completed witness.
func TestSlashingCompletion(t *testing.T) {
	r := newRand(t)
	sawOdd, sawEven := false, false
	for iter := 0; iter < 6; iter++ {
		for _, c := range []struct{ nFP, nCov, m int }{{1, 1, 1}, {3, 5, 3}} {
			t.Run(fmt.Sprintf("%d/%dfp-%d-of-%d", iter, c.nFP, c.m, c.nCov), func(t *testing.T) {
				w := newWorld(t, r, c.nFP, c.nCov, uint32(c.m))
				stTx, d := w.stake(t, 1_000_000, 1000)
				st, _ := d.StakingOutput()
				stIdx := outputIndex(stTx, st)

				// Unbond (to slash from the unbonding output too).
				ubRes, err := BuildUnbonding(d, Funding{Tx: stTx, Index: stIdx})
				if err != nil {
					t.Fatal(err)
				}
				signAll(t, ubRes.Packet, append([]*btcec.PrivateKey{w.staker}, w.cov...)...)
				ubTx, err := Finalize(ubRes.Packet)
				if err != nil {
					t.Fatal(err)
				}

				culprit := w.fps[r.Intn(len(w.fps))]
				if oddY(culprit) {
					sawOdd = true
				} else {
					sawEven = true
				}
				for _, from := range []struct {
					kind script.OutputKind
					f    Funding
				}{{script.StakingOutputKind, Funding{stTx, stIdx}}, {script.UnbondingOutputKind, Funding{ubTx, 0}}} {
					res, err := BuildSlashing(d, from.kind, from.f)
					if err != nil {
						t.Fatal(err)
					}
					p := res.Packet
					if p.UnsignedTx.Version != 1 {
						t.Errorf("slashing tx version %d, want 1", p.UnsignedTx.Version)
					}
					value := from.f.Tx.TxOut[from.f.Index].Value
					if got, want := p.UnsignedTx.TxOut[0].Value, w.params.SlashingAmount(value); got != want {
						t.Errorf("slashed %d, want %d", got, want)
					}
					signAll(t, p, w.staker)
					// More covenant members than the quorum adaptor-sign.
					signers := r.Perm(c.nCov)[:min(c.m+1, c.nCov)]
					for _, i := range signers {
						n, err := adaptorSignSlashing(p, 0, w.cov[i])
						if err != nil || n != c.nFP {
							t.Fatalf("adaptor-signed %d: %v", n, err)
						}
					}
					// Without the provider's key nothing completes.
					if _, err := Finalize(p); !errors.Is(err, ErrNotFinalizable) {
						t.Fatalf("finalized without FP: %v", err)
					}
					before := serialize(t, p)
					tx, err := CompleteSlashing(p, culprit)
					if err != nil {
						t.Fatal(err)
					}
					if string(before) != string(serialize(t, p)) {
						t.Error("CompleteSlashing modified its input")
					}
					if got := VSize(tx); got != res.Description.VSize {
						t.Errorf("slashing vsize %d, charged %d", got, res.Description.VSize)
					}
					if err := ValidateSlashingTx(tx, from.f.Tx, from.f.Index, from.kind, d); err != nil {
						t.Error(err)
					}
					// A second party recovers the culprit's key from the
					// witness and any adaptor signature encrypted to it.
					sigs, _ := AdaptorSigs(p, 0)
					recovered := 0
					for _, a := range sigs {
						if a.FinalityProvider != script.XOnly(culprit.PubKey()) {
							continue
						}
						k, err := RecoverFinalityProviderKey(tx, 0, a)
						if err != nil {
							// The finaliser used only the quorum of smallest
							// keys; the others' slots are empty.
							if !errors.Is(err, ErrWrongInput) {
								t.Fatal(err)
							}
							continue
						}
						if !samePoint(k, culprit) {
							t.Fatal("recovered key does not match the finality provider")
						}
						recovered++
					}
					if recovered != c.m {
						t.Errorf("recovered the key from %d signatures, want %d", recovered, c.m)
					}
					// A key that is no finality provider of the leaf cannot.
					if _, err := CompleteSlashing(p, randKey(r)); !errors.Is(err, ErrNotSignable) {
						t.Errorf("stranger completed slashing: %v", err)
					}
				}
			})
		}
	}
	t.Logf("finality provider keys seen: odd y %v, even y %v", sawOdd, sawEven)
}

// samePoint: the recovered key controls the provider's x-only key.
func samePoint(a, b *btcec.PrivateKey) bool {
	return string(schnorr.SerializePubKey(a.PubKey())) == string(schnorr.SerializePubKey(b.PubKey()))
}

// TestOddYFinalityProvider forces an odd-y provider key through completion.
func TestOddYFinalityProvider(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	for !oddY(w.fps[0]) {
		w.fps[0] = randKey(r)
	}
	stTx, d := w.stake(t, 500_000, 100)
	st, _ := d.StakingOutput()
	res, err := BuildSlashing(d, script.StakingOutputKind, Funding{stTx, outputIndex(stTx, st)})
	if err != nil {
		t.Fatal(err)
	}
	signAll(t, res.Packet, w.staker)
	for _, k := range w.cov[:2] {
		if _, err := adaptorSignSlashing(res.Packet, 0, k); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := CompleteSlashing(res.Packet, w.fps[0])
	if err != nil {
		t.Fatal(err)
	}
	sigs, _ := AdaptorSigs(res.Packet, 0)
	k, err := RecoverFinalityProviderKey(tx, 0, sigs[0])
	if err != nil || !samePoint(k, w.fps[0]) {
		t.Fatalf("recovery: %v", err)
	}
	if k.Key.Equals(&w.fps[0].Key) {
		t.Fatal("expected the BIP-340-normalised (negated) key for an odd-y provider")
	}
}

func TestAdaptorSigRejected(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 2, 3, 2)
	stTx, d := w.stake(t, 500_000, 100)
	st, _ := d.StakingOutput()
	f := Funding{stTx, outputIndex(stTx, st)}
	res, _ := BuildSlashing(d, script.StakingOutputKind, f)
	if _, err := adaptorSignSlashing(res.Packet, 0, w.fps[0]); !errors.Is(err, ErrNotSignable) {
		t.Errorf("finality provider adaptor-signing: %v", err)
	}
	if _, err := adaptorSignSlashing(res.Packet, 0, w.cov[0]); err != nil {
		t.Fatal(err)
	}
	sigs, _ := AdaptorSigs(res.Packet, 0)
	// An adaptor signature from one slashing tx does not verify on another.
	ub, _ := BuildUnbonding(d, f)
	signAll(t, ub.Packet, append([]*btcec.PrivateKey{w.staker}, w.cov...)...)
	ubTx, _ := Finalize(ub.Packet)
	res2, _ := BuildSlashing(d, script.UnbondingOutputKind, Funding{ubTx, 0})
	a := sigs[0]
	a.LeafHash = txscript.NewBaseTapLeaf(res2.Packet.Inputs[0].TaprootLeafScript[0].Script).TapHash()
	if err := AddAdaptorSig(res2.Packet, 0, a); !errors.Is(err, ErrBadSignature) {
		t.Errorf("foreign adaptor signature accepted: %v", err)
	}
	// Unbonding inputs take no adaptor signatures.
	if _, err := adaptorSignSlashing(ub.Packet, 0, w.cov[0]); err == nil {
		t.Error("adaptor-signed a finalised unbonding input")
	}
}

// corruptLast flips a bit in the last byte of b (a signature's s).
func corruptLast(b []byte) { b[len(b)-1] ^= 1 }

// TestFinalizeSkipsBadSignatures: PSBTs combined from several signers carry
// signatures nobody verified. A bad signature (or adaptor signature) from
// one covenant member must not stop finalisation, or completion of a
// slashing transaction, when a quorum of others signed validly; the bad
// one is left out of the witness.
func TestFinalizeSkipsBadSignatures(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 500_000, 100)
	st, _ := d.StakingOutput()
	f := Funding{stTx, outputIndex(stTx, st)}
	sorted := func() []*btcec.PrivateKey { // covenant keys, ascending x-only
		ks := append([]*btcec.PrivateKey(nil), w.cov...)
		slices.SortFunc(ks, func(a, b *btcec.PrivateKey) int {
			x, y := script.XOnly(a.PubKey()), script.XOnly(b.PubKey())
			return bytes.Compare(x[:], y[:])
		})
		return ks
	}()

	// Unbonding: all three covenant members signed; the smallest key's
	// signature (which the finaliser prefers) is corrupted in transit.
	ub, err := BuildUnbonding(d, f)
	if err != nil {
		t.Fatal(err)
	}
	signAll(t, ub.Packet, append([]*btcec.PrivateKey{w.staker}, w.cov...)...)
	smallest := script.XOnly(sorted[0].PubKey())
	for _, s := range ub.Packet.Inputs[0].TaprootScriptSpendSig {
		if bytes.Equal(s.XOnlyPubKey, smallest[:]) {
			corruptLast(s.Signature)
		}
	}
	p, err := Decode(serialize(t, ub.Packet)) // as it would arrive
	if err != nil {
		t.Fatal(err)
	}
	ubTx, err := Finalize(p)
	if err != nil {
		t.Fatalf("finalize with a quorum of good signatures and one bad: %v", err)
	}
	if len(ubTx.TxIn[0].Witness[2]) != 0 { // slot of the smallest key (descending order)
		t.Error("the bad signature went into the witness")
	}
	// Only the bad one and the staker: refused, naming the shortfall.
	p2, _ := Decode(serialize(t, ub.Packet))
	keep := p2.Inputs[0].TaprootScriptSpendSig[:0]
	for _, s := range p2.Inputs[0].TaprootScriptSpendSig {
		if x := script.XOnly(w.staker.PubKey()); bytes.Equal(s.XOnlyPubKey, x[:]) || bytes.Equal(s.XOnlyPubKey, smallest[:]) {
			keep = append(keep, s)
		}
	}
	p2.Inputs[0].TaprootScriptSpendSig = keep
	if _, err := Finalize(p2); !errors.Is(err, ErrNotFinalizable) {
		t.Errorf("finalize with one bad covenant signature only: %v", err)
	}

	// Slashing: every covenant member adaptor-signed; the smallest key's
	// adaptor signature is corrupted. Completion still succeeds.
	res, err := BuildSlashing(d, script.StakingOutputKind, f)
	if err != nil {
		t.Fatal(err)
	}
	signAll(t, res.Packet, w.staker)
	for _, k := range w.cov {
		if _, err := adaptorSignSlashing(res.Packet, 0, k); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range res.Packet.Inputs[0].Unknowns {
		if a, ok, _ := parseAdaptorUnknown(u); ok && a.Covenant == smallest {
			corruptLast(u.Value)
		}
	}
	// A malformed field under our proprietary key (another copy's garbage)
	// is skipped too.
	bogus := &psbt.Unknown{Key: append([]byte{proprietaryType, byte(len(proprietaryID))}, append([]byte(proprietaryID), subtypeAdaptorSig, 1, 2, 3)...), Value: []byte{4}}
	res.Packet.Inputs[0].Unknowns = append(res.Packet.Inputs[0].Unknowns, bogus)
	sp, err := Decode(serialize(t, res.Packet))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := CompleteSlashing(sp, w.fps[0])
	if err != nil {
		t.Fatalf("complete slashing with a quorum of good adaptor signatures and one bad: %v", err)
	}
	if err := ValidateSlashingTx(tx, stTx, f.Index, script.StakingOutputKind, d); err != nil {
		t.Error(err)
	}
}

// TestAddTapscriptSigNeedsASlot: a signature (even a valid one) by a key
// that has no slot in the input's leaf is refused and the packet left
// unchanged; recording it would make VerifyTapscriptSigs, and inspect,
// report the whole PSBT as badly signed.
func TestAddTapscriptSigNeedsASlot(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	res, err := BuildUnbonding(d, Funding{stTx, outputIndex(stTx, st)})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Packet
	signAll(t, p, w.staker)
	stranger := randKey(r)
	h, err := TapscriptSigHash(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := schnorr.Sign(stranger, h)
	if err != nil {
		t.Fatal(err)
	}
	before := serialize(t, p)
	if err := AddTapscriptSig(p, 0, script.XOnly(stranger.PubKey()), sig.Serialize()); !errors.Is(err, ErrNotSignable) {
		t.Errorf("stranger's signature: %v, want ErrNotSignable", err)
	}
	if !bytes.Equal(before, serialize(t, p)) {
		t.Error("refused signature changed the packet")
	}
	if n, err := VerifyTapscriptSigs(p); err != nil || n != 1 {
		t.Errorf("verified %d: %v", n, err)
	}
}

// TestRecoverErrorKinds: RecoverFinalityProviderKey given an adaptor
// signature that was not the one completed in the witness (here, one
// encrypted to the other finality provider) fails with a kind of this
// package, ErrBadSignature.
func TestRecoverErrorKinds(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 2, 1, 1)
	stTx, d := w.stake(t, 500_000, 100)
	st, _ := d.StakingOutput()
	res, err := BuildSlashing(d, script.StakingOutputKind, Funding{stTx, outputIndex(stTx, st)})
	if err != nil {
		t.Fatal(err)
	}
	signAll(t, res.Packet, w.staker)
	if _, err := adaptorSignSlashing(res.Packet, 0, w.cov[0]); err != nil {
		t.Fatal(err)
	}
	tx, err := CompleteSlashing(res.Packet, w.fps[0])
	if err != nil {
		t.Fatal(err)
	}
	sigs, _ := AdaptorSigs(res.Packet, 0)
	for _, a := range sigs {
		_, err := RecoverFinalityProviderKey(tx, 0, a)
		if a.FinalityProvider == script.XOnly(w.fps[0].PubKey()) {
			if err != nil {
				t.Errorf("recovering the culprit's key: %v", err)
			}
		} else if !errors.Is(err, ErrBadSignature) {
			t.Errorf("adaptor signature to the other provider: %v, want ErrBadSignature", err)
		}
	}
}

package watch

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/adaptor"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// sameKey reports whether sk is k or its negation (the BIP-340-normalised
// key of the same x-only public key).
func sameKey(sk, k *btcec.PrivateKey) bool {
	if sk.Key.Equals(&k.Key) {
		return true
	}
	var neg btcec.ModNScalar
	neg.NegateVal(&k.Key)
	return sk.Key.Equals(&neg)
}

func TestCompleteSlashingAndRecoverKey(t *testing.T) {
	w := newWorld(t, 1, 3, 5, 3)
	// Two finality providers (the scripts take any number), the whole
	// covenant adaptor-signs.
	f := w.delegate(t, []int{0, 2}, 500_000, 1000, false, []int{0, 1, 2, 3, 4})
	e := f.entry(t)
	before := marshal(t, e)
	for _, c := range []struct {
		from script.OutputKind
		prev *wire.TxOut
		op   wire.OutPoint
	}{
		{script.StakingOutputKind, f.stakingTx.TxOut[f.index], wire.OutPoint{Hash: f.stakingTx.TxHash(), Index: f.index}},
		{script.UnbondingOutputKind, f.unbondingTx.TxOut[0], wire.OutPoint{Hash: f.unbondingTx.TxHash(), Index: 0}},
	} {
		t.Run(psbt.OutputWords(c.from), func(t *testing.T) {
			leaked := w.fps[2]
			tx, err := e.CompleteSlashing(c.from, leaked)
			if err != nil {
				t.Fatal(err)
			}
			if len(tx.TxIn) != 1 || tx.TxIn[0].PreviousOutPoint != c.op {
				t.Fatalf("spends %v, want %v", tx.TxIn[0].PreviousOutPoint, c.op)
			}
			if err := runScript(tx, 0, c.prev); err != nil {
				t.Fatalf("script engine: %v", err)
			}
			// The provider's slot is filled, and exactly quorum
			// covenant slots.
			spend, err := script.ParseWitness(tx.TxIn[0].Witness)
			if err != nil {
				t.Fatal(err)
			}
			if !spend.Signed(script.XOnly(leaked.PubKey())) || spend.Signed(script.XOnly(w.fps[0].PubKey())) {
				t.Fatal("wrong finality provider slot signed")
			}
			n := 0
			for _, s := range spend.Covenant {
				if s.Sig != nil {
					n++
				}
			}
			if n != 3 {
				t.Fatalf("%d covenant signatures", n)
			}
			// One broken bit in the witness fails the script engine (the
			// oracle is not vacuous).
			bad := tx.Copy()
			bad.TxIn[0].Witness[len(bad.TxIn[0].Witness)-3][5] ^= 1
			if runScript(bad, 0, c.prev) == nil {
				t.Fatal("a flipped signature bit verifies")
			}

			fp, sk, err := RecoverKey(e, tx, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !fp.IsEqual(leaked.PubKey()) || !sameKey(sk, leaked) {
				t.Fatalf("recovered %x for %x", sk.PubKey().SerializeCompressed(), fp.SerializeCompressed())
			}
		})
	}
	if !bytes.Equal(before, marshal(t, e)) {
		t.Fatal("the entry changed")
	}
}

func TestCompleteSlashingMissingAdaptorSigs(t *testing.T) {
	w := newWorld(t, 2, 1, 5, 3)
	// Members 0 and 2 adaptor-signed; member 1's signature is there but
	// invalid (for another message); 3 and 4 never signed.
	f := w.delegate(t, []int{0}, 300_000, 1000, false, []int{0, 2})
	injectBadAdaptorSig(t, w, f.slashing, 1, 0)
	e := f.entry(t)
	before := marshal(t, e)
	_, err := e.CompleteSlashing(script.StakingOutputKind, w.fps[0])
	if !errors.Is(err, ErrMissingAdaptorSigs) {
		t.Fatalf("err = %v", err)
	}
	var me *MissingAdaptorSigsError
	if !errors.As(err, &me) {
		t.Fatalf("%T", err)
	}
	if want := w.xonlyHex(1, 3, 4); !reflect.DeepEqual(me.Missing, want) {
		t.Fatalf("missing %v, want %v", me.Missing, want)
	}
	if me.Valid != 2 || me.Needed != 3 || me.Output != script.StakingOutputKind {
		t.Fatalf("%+v", me)
	}
	// The unbonding output's PSBT (signed by 0 and 2 only) is refused too.
	if _, err := e.CompleteSlashing(script.UnbondingOutputKind, w.fps[0]); !errors.As(err, &me) || !reflect.DeepEqual(me.Missing, w.xonlyHex(1, 3, 4)) {
		t.Fatalf("err = %v", err)
	}
	if !bytes.Equal(before, marshal(t, e)) {
		t.Fatal("the entry changed")
	}
}

// injectBadAdaptorSig adds member cov's adaptor signature to fp, well
// formed but over another message, as the proprietary field the psbt
// package documents (psbt/adaptor.go).
func injectBadAdaptorSig(t *testing.T, w *world, p *btcpsbt.Packet, cov, fp int) {
	t.Helper()
	ek, err := adaptor.NewEncryptionKey(w.fps[fp].PubKey())
	if err != nil {
		t.Fatal(err)
	}
	other := bytes.Repeat([]byte{7}, 32)
	s, err := adaptor.EncSign(w.cov[cov], ek, other)
	if err != nil {
		t.Fatal(err)
	}
	lh := p.Inputs[0].TaprootLeafScript[0]
	leaf := leafHash(lh.Script)
	c, x := script.XOnly(w.cov[cov].PubKey()), script.XOnly(w.fps[fp].PubKey())
	k := append([]byte{0xfc, 8}, "btcstake"...)
	k = append(k, 1)
	k = append(append(append(k, c[:]...), x[:]...), leaf[:]...)
	v := s.Bytes()
	p.Inputs[0].Unknowns = append(p.Inputs[0].Unknowns, &btcpsbt.Unknown{Key: k, Value: v[:]})
	// The psbt package sees it and finds it invalid.
	sigs, err := psbt.AdaptorSigs(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range sigs {
		found = found || a.Covenant == c
	}
	if !found {
		t.Fatal("injected signature not parsed")
	}
}

func TestCompleteSlashingRefusals(t *testing.T) {
	w := newWorld(t, 3, 2, 3, 2)
	f := w.delegate(t, []int{0}, 300_000, 1000, false, []int{0, 1, 2})
	e := f.entry(t)
	before := marshal(t, e)
	// A finality provider of another delegation (fps[1]), a stranger, no key.
	for _, k := range []*btcec.PrivateKey{w.fps[1], w.staker, nil} {
		if _, err := e.CompleteSlashing(script.StakingOutputKind, k); !errors.Is(err, ErrNotFinalityProvider) {
			t.Fatalf("err = %v", err)
		}
	}
	if _, err := e.CompleteSlashing(script.SlashingChangeOutputKind, w.fps[0]); !errors.Is(err, ErrNoSlashingTx) {
		t.Fatalf("err = %v", err)
	}
	// No slashing PSBT, no unbonding slashing PSBT.
	c := f.config()
	c.Slashing, c.UnbondingSlashing = nil, nil
	bare, err := NewEntry(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range []script.OutputKind{script.StakingOutputKind, script.UnbondingOutputKind} {
		if _, err := bare.CompleteSlashing(from, w.fps[0]); !errors.Is(err, ErrNoSlashingTx) {
			t.Fatalf("err = %v", err)
		}
	}
	// Adaptor-signed, but the staker never signed.
	c = f.config()
	c.Slashing = w.presign(t, f.d, script.StakingOutputKind, psbt.Funding{Tx: f.stakingTx, Index: f.index}, []int{0, 1, 2}, false)
	unsigned, err := NewEntry(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unsigned.CompleteSlashing(script.StakingOutputKind, w.fps[0]); !errors.Is(err, ErrMissingStakerSig) {
		t.Fatalf("err = %v", err)
	}
	if !bytes.Equal(before, marshal(t, e)) {
		t.Fatal("the entry changed")
	}
}

func TestRecoverKeyRefusals(t *testing.T) {
	w := newWorld(t, 4, 1, 5, 3)
	f := w.delegate(t, []int{0}, 400_000, 1000, false, []int{0, 1, 2})
	e := f.entry(t)
	tx, err := e.CompleteSlashing(script.StakingOutputKind, w.fps[0])
	if err != nil {
		t.Fatal(err)
	}
	// Which three members signed tx: the quorum the finaliser took, from
	// the witness.
	spend, err := script.ParseWitness(tx.TxIn[0].Witness)
	if err != nil {
		t.Fatal(err)
	}
	var signers []string
	for _, s := range spend.Covenant {
		if s.Sig != nil {
			signers = append(signers, s.Key.String())
		}
	}
	if want := w.xonlyHex(0, 1, 2); !reflect.DeepEqual(signers, want) {
		t.Fatalf("signers %v, want %v", signers, want)
	}

	// A watcher whose entry holds only members 3 and 4's adaptor
	// signatures cannot recover the key, and says whose it lacks.
	c := f.config()
	c.Slashing = w.presign(t, f.d, script.StakingOutputKind, psbt.Funding{Tx: f.stakingTx, Index: f.index}, []int{3, 4}, true)
	other, err := NewEntry(c)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = RecoverKey(other, tx, 0)
	var me *MissingAdaptorSigsError
	if !errors.As(err, &me) || !errors.Is(err, ErrMissingAdaptorSigs) || !reflect.DeepEqual(me.Missing, signers) {
		t.Fatalf("err = %v", err)
	}

	// An entry whose adaptor signatures are for another slashing
	// transaction of the same output (a different split of the same
	// value) yields no key.
	res, err := psbt.BuildSlashing(f.d, script.StakingOutputKind, psbt.Funding{Tx: f.stakingTx, Index: f.index})
	if err != nil {
		t.Fatal(err)
	}
	res.Packet.UnsignedTx.TxOut[0].Value += 100
	res.Packet.UnsignedTx.TxOut[1].Value -= 100
	if err := psbt.SignTapscript(res.Packet, 0, w.staker); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 1, 2} {
		covenantSign(t, res.Packet, w.cov[i], f.d)
	}
	c.Slashing = res.Packet
	skewed, err := NewEntry(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := RecoverKey(skewed, tx, 0); !errors.Is(err, ErrKeyRecovery) {
		t.Fatalf("err = %v", err)
	}

	// Not slashings: the unbonding transaction (unbonding leaf), a
	// transaction spending another output, an input out of range.
	if _, _, err := RecoverKey(e, f.unbondingTx, 0); !errors.Is(err, ErrNotSlashing) {
		t.Fatalf("err = %v", err)
	}
	foreign := tx.Copy()
	foreign.TxIn[0].PreviousOutPoint.Index ^= 1
	for _, c := range []struct {
		tx *wire.MsgTx
		in int
	}{{foreign, 0}, {tx, 1}, {tx, -1}, {nil, 0}} {
		if _, _, err := RecoverKey(e, c.tx, c.in); !errors.Is(err, ErrNotSlashing) {
			t.Fatalf("err = %v", err)
		}
	}
	// No finality provider slot signed.
	unsigned := tx.Copy()
	wit := unsigned.TxIn[0].Witness
	wit[len(wit)-4] = nil // the one provider's item (above staker, script, control block)
	if _, _, err := RecoverKey(e, unsigned, 0); !errors.Is(err, ErrNotSlashing) {
		t.Fatalf("err = %v", err)
	}
	// No slashing PSBT in the entry.
	c = f.config()
	c.Slashing = nil
	bare, err := NewEntry(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := RecoverKey(bare, tx, 0); !errors.Is(err, ErrNoSlashingTx) {
		t.Fatalf("err = %v", err)
	}
}

// TestVerifyCompletedCovenantSigs: the last check of CompleteSlashing
// verifies the covenant signatures of the completed witness in one batch
// and names the member whose signature fails first in slot order, as
// verifying them one by one with btcec (the oracle) would; a completed
// transaction with every signature intact passes.
func TestVerifyCompletedCovenantSigs(t *testing.T) {
	w := newWorld(t, 61, 1, 7, 5)
	e := w.delegate(t, []int{0}, 300_000, 1000, false, []int{0, 1, 2, 3, 4, 5, 6}).entry(t)
	tx, err := e.CompleteSlashing(script.StakingOutputKind, w.fps[0])
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.slashingInput(script.StakingOutputKind)
	if err != nil {
		t.Fatal(err)
	}
	pkt, err := copyPacket(s.pkt)
	if err != nil {
		t.Fatal(err)
	}
	h, err := psbt.TapscriptSigHash(pkt, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.verifyCompleted(tx, pkt, s, h); err != nil {
		t.Fatalf("the completed transaction: %v", err)
	}
	spend, err := script.ParseWitness(tx.TxIn[0].Witness)
	if err != nil {
		t.Fatal(err)
	}
	nc := len(spend.Covenant)
	var signed []int // covenant slots (leaf order) holding a signature
	for i, sl := range spend.Covenant {
		if sl.Sig != nil {
			signed = append(signed, i)
		}
	}
	if len(signed) != 5 {
		t.Fatalf("%d covenant signatures in a 5-of-7 slashing", len(signed))
	}
	r := rand.New(rand.NewSource(61))
	for rep := 0; rep < 40; rep++ {
		bad := tx.Copy()
		wit := bad.TxIn[0].Witness
		for i := range wit {
			wit[i] = bytes.Clone(wit[i])
		}
		// Break one to three of the signatures: a flipped bit, s >= n, or
		// r >= p (the slots run in descending key order in the witness).
		for k := 1 + r.Intn(3); k > 0; k-- {
			sig := wit[nc-1-signed[r.Intn(len(signed))]]
			switch r.Intn(3) {
			case 0:
				sig[r.Intn(64)] ^= 1 << r.Intn(8)
			case 1:
				copy(sig[32:], bytes.Repeat([]byte{0xff}, 32))
			default:
				copy(sig[:32], bytes.Repeat([]byte{0xff}, 32))
			}
		}
		var want string
		for _, i := range signed {
			sl := spend.Covenant[i]
			if !verifySchnorr(sl.Key, h, wit[nc-1-i]) {
				want = fmt.Sprintf("covenant member %s's signature does not verify", sl.Key)
				break
			}
		}
		err := e.verifyCompleted(bad, pkt, s, h)
		if want == "" {
			t.Fatalf("rep %d: the oracle finds every signature valid", rep)
		}
		if !errors.Is(err, ErrSlashingInvalid) || !strings.Contains(err.Error(), want) {
			t.Fatalf("rep %d: %v, want ErrSlashingInvalid: ...%s", rep, err, want)
		}
	}
}

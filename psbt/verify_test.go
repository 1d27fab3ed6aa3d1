package psbt

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/script"
)

// verifySchnorrRef is signature verification as it was before batching:
// btcec's schnorr.Verify, one signature at a time (the oracle).
func verifySchnorrRef(key script.XOnlyKey, hash, sig []byte) error {
	pk, err := key.PubKey()
	if err != nil {
		return err
	}
	s, err := schnorr.ParseSignature(sig)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if !s.Verify(hash, pk) {
		return fmt.Errorf("%w: does not verify against the sighash", ErrBadSignature)
	}
	return nil
}

// verifyTapscriptSigsRef is VerifyTapscriptSigs as it was: every check in
// order, each signature verified alone with btcec.
func verifyTapscriptSigsRef(p *psbt.Packet) (int, error) {
	n := 0
	for i := range p.Inputs {
		if len(p.Inputs[i].TaprootScriptSpendSig) == 0 {
			continue
		}
		ls, leaf, err := tapLeaf(p, i)
		if err != nil {
			return n, err
		}
		h, err := TapscriptSigHash(p, i)
		if err != nil {
			return n, err
		}
		lh := leafHash(ls.Script)
		for _, s := range p.Inputs[i].TaprootScriptSpendSig {
			if !bytes.Equal(s.LeafHash, lh[:]) {
				return n, fmt.Errorf("%w: input %d has a signature for another leaf", ErrBadSignature, i)
			}
			x, err := script.ParseXOnlyKey(s.XOnlyPubKey)
			if err != nil {
				return n, err
			}
			if !slices.Contains(leafKeys(leaf), x) {
				return n, fmt.Errorf("%w: input %d: key %s has no slot in the leaf", ErrBadSignature, i, x)
			}
			if s.SigHash != txscript.SigHashDefault {
				return n, fmt.Errorf("%w: input %d: sighash type %v, want SIGHASH_DEFAULT", ErrBadSignature, i, s.SigHash)
			}
			if err := verifySchnorrRef(x, h, s.Signature); err != nil {
				return n, fmt.Errorf("input %d, key %s: %w", i, x, err)
			}
			n++
		}
	}
	return n, nil
}

// corruptSigs damages a random few of input 0's tap_script_sig entries in
// one of the ways a combined PSBT can carry: a flipped bit, a truncated
// signature, another sighash type, another leaf hash, a key with no slot,
// a key that is not a curve point.
func corruptSigs(r *rand.Rand, p *psbt.Packet) {
	in := &p.Inputs[0]
	for k := r.Intn(3); k > 0 && len(in.TaprootScriptSpendSig) > 0; k-- {
		s := in.TaprootScriptSpendSig[r.Intn(len(in.TaprootScriptSpendSig))]
		switch r.Intn(8) {
		case 0, 1, 2:
			s.Signature = bytes.Clone(s.Signature)
			s.Signature[r.Intn(64)] ^= 1 << r.Intn(8)
		case 3:
			s.Signature = s.Signature[:63]
		case 4:
			s.SigHash = txscript.SigHashAll
		case 5:
			s.LeafHash = bytes.Clone(s.LeafHash)
			s.LeafHash[0] ^= 1
		case 6:
			x := script.XOnly(randKey(r).PubKey())
			in.TaprootScriptSpendSig = append(in.TaprootScriptSpendSig, &psbt.TaprootScriptSpendSig{
				XOnlyPubKey: x[:], LeafHash: s.LeafHash, Signature: s.Signature, SigHash: txscript.SigHashDefault})
		case 7:
			bad := bytes.Repeat([]byte{0xff}, 32) // >= p: not an x coordinate
			in.TaprootScriptSpendSig = append(in.TaprootScriptSpendSig, &psbt.TaprootScriptSpendSig{
				XOnlyPubKey: bad, LeafHash: s.LeafHash, Signature: s.Signature, SigHash: txscript.SigHashDefault})
		}
	}
	r.Shuffle(len(in.TaprootScriptSpendSig), func(i, j int) {
		in.TaprootScriptSpendSig[i], in.TaprootScriptSpendSig[j] = in.TaprootScriptSpendSig[j], in.TaprootScriptSpendSig[i]
	})
}

// validSigners counts, with the oracle, the keys of input 0's leaf that
// hold a valid SIGHASH_DEFAULT signature for the leaf.
func validSigners(t *testing.T, p *psbt.Packet) map[script.XOnlyKey]bool {
	t.Helper()
	ls, _, err := tapLeaf(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := TapscriptSigHash(p, 0)
	lh := leafHash(ls.Script)
	ok := map[script.XOnlyKey]bool{}
	for _, s := range p.Inputs[0].TaprootScriptSpendSig {
		if len(s.XOnlyPubKey) != 32 || !bytes.Equal(s.LeafHash, lh[:]) || s.SigHash != txscript.SigHashDefault {
			continue
		}
		k := script.XOnlyKey(s.XOnlyPubKey)
		if verifySchnorrRef(k, h, s.Signature) == nil {
			ok[k] = true
		}
	}
	return ok
}

// TestBatchedChecksMatchOneByOne: on slashing, unbonding and withdrawal
// PSBTs signed by random subsets and damaged at random, VerifyTapscriptSigs
// gives the count and error the one-by-one btcec check gives, and Finalize
// succeeds exactly when the signatures the oracle accepts satisfy the
// leaf; every transaction it returns passes btcd's script engine.
func TestBatchedChecksMatchOneByOne(t *testing.T) {
	r := newRand(t)
	n := 60
	if testing.Short() {
		n = 20
	}
	outcomes := map[bool]int{}
	for rep := 0; rep < n; rep++ {
		nFP, nCov := 1+r.Intn(2), 2+r.Intn(4)
		quorum := nCov/2 + 1 + r.Intn(nCov-nCov/2) // 2·quorum > nCov
		w := newWorld(t, r, nFP, nCov, uint32(quorum))
		stTx, d := w.stake(t, 300_000, 200)
		st, _ := d.StakingOutput()
		f := Funding{stTx, outputIndex(stTx, st)}
		var p *psbt.Packet
		var keys []*btcec.PrivateKey
		switch rep % 3 {
		case 0:
			res, err := BuildSlashing(d, script.StakingOutputKind, f)
			if err != nil {
				t.Fatal(err)
			}
			p, keys = res.Packet, append(append([]*btcec.PrivateKey{w.staker}, w.fps...), w.cov...)
		case 1:
			res, err := BuildUnbonding(d, f)
			if err != nil {
				t.Fatal(err)
			}
			p, keys = res.Packet, append([]*btcec.PrivateKey{w.staker}, w.cov...)
		default:
			res, err := BuildWithdraw(WithdrawRequest{Delegation: d, From: script.StakingOutputKind, Funding: f,
				DestPkScript: p2tr(randKey(r)), FeeRate: 1000})
			if err != nil {
				t.Fatal(err)
			}
			p, keys = res.Packet, []*btcec.PrivateKey{w.staker}
		}
		for _, k := range keys {
			if r.Intn(4) != 0 {
				if err := signTapscript(p, 0, k); err != nil {
					t.Fatal(err)
				}
			}
		}
		corruptSigs(r, p)
		// VerifyTapscriptSigs against the oracle.
		gn, gerr := VerifyTapscriptSigs(p)
		wn, werr := verifyTapscriptSigsRef(p)
		if gn != wn || fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Fatalf("rep %d: VerifyTapscriptSigs (%d, %v), one by one (%d, %v)", rep, gn, gerr, wn, werr)
		}
		// Finalize against what the valid signatures allow.
		_, leaf, _ := tapLeaf(p, 0)
		valid := validSigners(t, p)
		count := func(ks []script.XOnlyKey) int {
			c := 0
			for _, k := range ks {
				if valid[k] {
					c++
				}
			}
			return c
		}
		want := valid[leaf.Staker]
		if leaf.Kind != script.TimelockPath {
			want = want && count(leaf.Covenant) >= int(leaf.Quorum)
		}
		if leaf.Kind == script.SlashingPath {
			want = want && count(leaf.FinalityProviders) >= 1
		}
		before := serialize(t, p)
		tx, err := Finalize(p)
		outcomes[err == nil]++
		if (err == nil) != want {
			t.Fatalf("rep %d (%s): Finalize %v, want success %v", rep, leaf.Kind, err, want)
		}
		if err != nil {
			if !errors.Is(err, ErrNotFinalizable) {
				t.Fatalf("rep %d: %v, want ErrNotFinalizable", rep, err)
			}
			if !bytes.Equal(before, serialize(t, p)) {
				t.Fatalf("rep %d: a failed Finalize changed the packet", rep)
			}
			continue
		}
		if err := VerifyTx(tx, p); err != nil {
			t.Fatalf("rep %d: btcd's engine rejects what Finalize returned: %v", rep, err)
		}
	}
	if outcomes[true] == 0 || outcomes[false] == 0 {
		t.Fatalf("outcomes not mixed: %v", outcomes)
	}
}

// TestCheckLeafSpendRejects: the consensus checks Finalize makes in place
// of the engine refuse what the engine would: a time lock the sequence
// does not meet, a damaged control block, a signature not among the
// verified ones, one covenant signature too many or too few.
func TestCheckLeafSpendRejects(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 300_000, 150)
	st, _ := d.StakingOutput()
	f := Funding{stTx, outputIndex(stTx, st)}
	prevOf := func(p *psbt.Packet) *wire.TxOut { return p.Inputs[0].WitnessUtxo }
	finalise := func(p *psbt.Packet) (*wire.MsgTx, map[script.XOnlyKey][]byte) {
		t.Helper()
		cp := *p
		cp.Inputs = slices.Clone(p.Inputs)
		verified, err := finalizeTapscript(&cp, 0)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := psbt.Extract(&cp)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkLeafSpend(tx, 0, prevOf(p), verified); err != nil {
			t.Fatalf("a correct spend is refused: %v", err)
		}
		return tx, verified
	}
	engine := func(tx *wire.MsgTx, p *psbt.Packet) error { return VerifyTx(tx, p) }

	// Timelock: the sequence must meet the lock (and the engine agrees on
	// the unmodified spend).
	wd, err := BuildWithdraw(WithdrawRequest{Delegation: d, From: script.StakingOutputKind, Funding: f,
		DestPkScript: p2tr(randKey(r)), FeeRate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	signAll(t, wd.Packet, w.staker)
	tx, verified := finalise(wd.Packet)
	if err := engine(tx, wd.Packet); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*wire.MsgTx){
		"version 1":        func(tx *wire.MsgTx) { tx.Version = 1 },
		"lock disabled":    func(tx *wire.MsgTx) { tx.TxIn[0].Sequence |= 1 << 31 },
		"time-based lock":  func(tx *wire.MsgTx) { tx.TxIn[0].Sequence |= 1 << 22 },
		"one block short":  func(tx *wire.MsgTx) { tx.TxIn[0].Sequence = 149 },
		"control block":    func(tx *wire.MsgTx) { w := tx.TxIn[0].Witness; w[len(w)-1][5] ^= 1 },
		"other signature":  func(tx *wire.MsgTx) { tx.TxIn[0].Witness[0][3] ^= 1 },
		"missing staker":   func(tx *wire.MsgTx) { tx.TxIn[0].Witness[0] = nil },
		"annex":            func(tx *wire.MsgTx) { tx.TxIn[0].Witness = append(tx.TxIn[0].Witness, []byte{0x50}) },
		"script truncated": func(tx *wire.MsgTx) { w := tx.TxIn[0].Witness; w[len(w)-2] = w[len(w)-2][:10] },
	} {
		c := tx.Copy()
		for i, it := range c.TxIn[0].Witness {
			c.TxIn[0].Witness[i] = bytes.Clone(it)
		}
		mod(c)
		if err := checkLeafSpend(c, 0, prevOf(wd.Packet), verified); err == nil {
			t.Errorf("timelock spend with %s accepted", name)
		}
	}

	// Unbonding: exactly quorum covenant signatures.
	ub, err := BuildUnbonding(d, f)
	if err != nil {
		t.Fatal(err)
	}
	signAll(t, ub.Packet, append([]*btcec.PrivateKey{w.staker}, w.cov...)...)
	tx, verified = finalise(ub.Packet)
	if err := engine(tx, ub.Packet); err != nil {
		t.Fatal(err)
	}
	wit := tx.TxIn[0].Witness
	empty := -1
	for i := 0; i < 3; i++ { // the covenant slots come first
		if len(wit[i]) == 0 {
			empty = i
		}
	}
	if empty < 0 {
		t.Fatal("no empty covenant slot in a 2-of-3 spend")
	}
	over := tx.Copy()
	leaf, _ := script.ParseLeafScript(wit[len(wit)-2])
	k := leaf.Covenant[2-empty] // the slot's key (slots run descending)
	over.TxIn[0].Witness[empty] = verified[k]
	if verified[k] == nil {
		// That member's signature was not chosen but verified: sign it in.
		s, _ := schnorr.Sign(covKey(w, k), mustSighash(t, ub.Packet))
		verified[k] = s.Serialize()
		over.TxIn[0].Witness[empty] = verified[k]
	}
	if err := checkLeafSpend(over, 0, prevOf(ub.Packet), verified); err == nil || !strings.Contains(err.Error(), "3 covenant signatures") {
		t.Errorf("three covenant signatures for a quorum of two: %v", err)
	}
	under := tx.Copy()
	for i := 0; i < 3; i++ {
		if len(under.TxIn[0].Witness[i]) > 0 {
			under.TxIn[0].Witness[i] = nil
			break
		}
	}
	if err := checkLeafSpend(under, 0, prevOf(ub.Packet), verified); err == nil || !strings.Contains(err.Error(), "1 covenant signatures") {
		t.Errorf("one covenant signature for a quorum of two: %v", err)
	}
}

func covKey(w *world, k script.XOnlyKey) *btcec.PrivateKey {
	for _, c := range w.cov {
		if script.XOnly(c.PubKey()) == k {
			return c
		}
	}
	return nil
}

func mustSighash(t *testing.T, p *psbt.Packet) []byte {
	t.Helper()
	h, err := TapscriptSigHash(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

package script

import (
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// fixture is a delegation with all its private keys, for signing spends.
type fixture struct {
	staker *btcec.PrivateKey
	fps    []*btcec.PrivateKey
	cov    []*btcec.PrivateKey
	quorum uint32
}

func newFixture(t testing.TB, r *rand.Rand, nFP, nCov int, quorum uint32) *fixture {
	return &fixture{staker: randKey(t, r), fps: randKeys(t, r, nFP), cov: randKeys(t, r, nCov), quorum: quorum}
}

func (f *fixture) parties() Parties {
	return Parties{Staker: f.staker.PubKey(), FinalityProviders: pubs(f.fps),
		Covenant: pubs(f.cov), CovenantQuorum: f.quorum}
}

const spendValue = 1_000_000

// spend is one input spending out through a path, ready to sign and run.
type spend struct {
	t    testing.TB
	out  *Output
	path *SpendPath
	tx   *wire.MsgTx
	prev *txscript.CannedPrevOutputFetcher
}

func newSpend(t testing.TB, out *Output, kind PathKind, sequence uint32) *spend {
	t.Helper()
	path, err := out.Path(kind)
	if err != nil {
		t.Fatal(err)
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: chainhash.Hash{1}, Index: 0}, Sequence: sequence})
	tx.AddTxOut(wire.NewTxOut(spendValue-1000, out.PkScript))
	return &spend{t: t, out: out, path: path, tx: tx,
		prev: txscript.NewCannedPrevOutputFetcher(out.PkScript, spendValue)}
}

// sigFor signs the spend's sighash for the given leaf script.
func (s *spend) sigFor(k *btcec.PrivateKey, leafScript []byte) []byte {
	s.t.Helper()
	h, err := txscript.CalcTapscriptSignaturehash(txscript.NewTxSigHashes(s.tx, s.prev),
		txscript.SigHashDefault, s.tx, 0, s.prev, txscript.NewBaseTapLeaf(leafScript))
	if err != nil {
		s.t.Fatal(err)
	}
	sig, err := schnorr.Sign(k, h)
	if err != nil {
		s.t.Fatal(err)
	}
	return sig.Serialize()
}

func (s *spend) sig(k *btcec.PrivateKey) []byte { return s.sigFor(k, s.path.Script) }

func (s *spend) sigMap(keys []*btcec.PrivateKey) map[XOnlyKey][]byte {
	m := make(map[XOnlyKey][]byte, len(keys))
	for _, k := range keys {
		m[XOnly(k.PubKey())] = s.sig(k)
	}
	return m
}

// run executes the input's scripts with witness w in btcd's engine.
func (s *spend) run(w wire.TxWitness) error {
	s.tx.TxIn[0].Witness = w
	vm, err := txscript.NewEngine(s.out.PkScript, s.tx, 0, txscript.StandardVerifyFlags, nil,
		txscript.NewTxSigHashes(s.tx, s.prev), spendValue, s.prev)
	if err != nil {
		return err
	}
	return vm.Execute()
}

// rawSlots builds signature slots by hand (descending unless ascending is
// set), bypassing Output.Witness so the script itself can be shown to refuse.
func rawSlots(s *spend, all, signers []*btcec.PrivateKey, ascending bool) [][]byte {
	keys := slices.Clone(all)
	slices.SortFunc(keys, func(a, b *btcec.PrivateKey) int {
		return compareKeys(XOnly(b.PubKey()), XOnly(a.PubKey())) // descending
	})
	if ascending {
		slices.Reverse(keys)
	}
	items := make([][]byte, len(keys))
	for i, k := range keys {
		items[i] = []byte{}
		if slices.Contains(signers, k) {
			items[i] = s.sig(k)
		}
	}
	return items
}

func (s *spend) rawWitness(items ...[][]byte) wire.TxWitness {
	var w wire.TxWitness
	for _, it := range items {
		w = append(w, it...)
	}
	return append(w, s.path.Script, s.path.ControlBlock)
}

func flipBit(w wire.TxWitness, item int) wire.TxWitness {
	c := make(wire.TxWitness, len(w))
	for i := range w {
		c[i] = slices.Clone(w[i])
	}
	c[item][5] ^= 0x10
	return c
}

func mustFail(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: script engine accepted it", what)
	}
}

func mustPass(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

var committees = []struct{ n, m int }{{1, 1}, {3, 2}, {5, 3}, {20, 18}}

func TestSpendPathsInScriptEngine(t *testing.T) {
	r := newRand(t)
	for _, c := range committees {
		for _, nFP := range []int{1, 3} {
			name := fmt.Sprintf("%d-of-%d/%dfp", c.m, c.n, nFP)
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, r, nFP, c.n, uint32(c.m))
				staking, err := NewStakingOutput(f.parties(), 150)
				if err != nil {
					t.Fatal(err)
				}
				unbonding, err := NewUnbondingOutput(f.parties(), 20)
				if err != nil {
					t.Fatal(err)
				}
				change, err := NewSlashingChangeOutput(f.staker.PubKey(), 20)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range []*Output{staking, unbonding, change} {
					t.Run(o.Kind.String()+"/timelock", func(t *testing.T) { testTimelockPath(t, f, o) })
				}
				t.Run("staking/unbonding", func(t *testing.T) { testUnbondingPath(t, r, f, staking) })
				for _, o := range []*Output{staking, unbonding} {
					t.Run(o.Kind.String()+"/slashing", func(t *testing.T) { testSlashingPath(t, r, f, o) })
				}
			})
		}
	}
}

func testTimelockPath(t *testing.T, f *fixture, o *Output) {
	s := newSpend(t, o, TimelockPath, uint32(o.Timelock))
	w, err := o.Witness(TimelockPath, Signatures{Staker: s.sig(f.staker)})
	if err != nil {
		t.Fatal(err)
	}
	mustPass(t, "valid", s.run(w))
	mustFail(t, "flipped signature bit", s.run(flipBit(w, 0)))

	// One block early: nSequence below the lock.
	early := newSpend(t, o, TimelockPath, uint32(o.Timelock)-1)
	ew, _ := o.Witness(TimelockPath, Signatures{Staker: early.sig(f.staker)})
	mustFail(t, "nSequence one below the lock", early.run(ew))

	// Version 1 transactions do not enforce (so cannot satisfy) CSV.
	v1 := newSpend(t, o, TimelockPath, uint32(o.Timelock))
	v1.tx.Version = 1
	vw, _ := o.Witness(TimelockPath, Signatures{Staker: v1.sig(f.staker)})
	mustFail(t, "version 1 transaction", v1.run(vw))

	// Wrong signer.
	ww, _ := o.Witness(TimelockPath, Signatures{Staker: s.sig(f.cov[0])})
	mustFail(t, "covenant key signing for the staker", s.run(ww))

	if len(o.Paths) > 1 {
		other := o.Paths[len(o.Paths)-1]
		// Signature committing to another leaf.
		bad, _ := o.Witness(TimelockPath, Signatures{Staker: s.sigFor(f.staker, other.Script)})
		mustFail(t, "signature over another leaf", s.run(bad))
		// Script revealed with another leaf's control block.
		wrongCB := slices.Clone(w)
		wrongCB[len(wrongCB)-1] = other.ControlBlock
		mustFail(t, "control block of another leaf", s.run(wrongCB))
	}
}

func testUnbondingPath(t *testing.T, r *rand.Rand, f *fixture, o *Output) {
	s := newSpend(t, o, UnbondingPath, wire.MaxTxInSequenceNum)
	signers := pick(r, f.cov, int(f.quorum))
	staker := s.sig(f.staker)
	w, err := o.Witness(UnbondingPath, Signatures{Staker: staker, Covenant: s.sigMap(signers)})
	if err != nil {
		t.Fatal(err)
	}
	mustPass(t, "valid", s.run(w))
	if len(w) != len(f.cov)+3 {
		t.Fatalf("witness has %d items, want %d", len(w), len(f.cov)+3)
	}
	mustPass(t, "hand-built descending slots", s.run(s.rawWitness(rawSlots(s, f.cov, signers, false), [][]byte{staker})))
	mustFail(t, "flipped staker signature bit", s.run(flipBit(w, len(w)-3)))
	mustFail(t, "flipped covenant signature bit", s.run(flipBit(w, firstNonEmpty(w))))

	short := signers[:len(signers)-1]
	if _, err := o.Witness(UnbondingPath, Signatures{Staker: staker, Covenant: s.sigMap(short)}); !errors.Is(err, ErrSignatureCount) {
		t.Errorf("builder with one covenant signature short: %v, want ErrSignatureCount", err)
	}
	mustFail(t, "one covenant signature short", s.run(s.rawWitness(rawSlots(s, f.cov, short, false), [][]byte{staker})))
	if int(f.quorum) < len(f.cov) {
		extra := pick(r, f.cov, int(f.quorum)+1)
		if _, err := o.Witness(UnbondingPath, Signatures{Staker: staker, Covenant: s.sigMap(extra)}); !errors.Is(err, ErrSignatureCount) {
			t.Errorf("builder with one covenant signature too many: %v, want ErrSignatureCount", err)
		}
		mustFail(t, "one covenant signature too many", s.run(s.rawWitness(rawSlots(s, f.cov, extra, false), [][]byte{staker})))
	}
	if len(f.cov) > 1 {
		mustFail(t, "ascending slot order", s.run(s.rawWitness(rawSlots(s, f.cov, signers, true), [][]byte{staker})))
	}
	// The slashing leaf's signatures do not spend the unbonding leaf.
	sl, _ := o.Path(SlashingPath)
	bad, _ := o.Witness(UnbondingPath, Signatures{Staker: s.sigFor(f.staker, sl.Script), Covenant: s.sigMap(signers)})
	mustFail(t, "staker signature over the slashing leaf", s.run(bad))
}

func testSlashingPath(t *testing.T, r *rand.Rand, f *fixture, o *Output) {
	s := newSpend(t, o, SlashingPath, wire.MaxTxInSequenceNum)
	signers := pick(r, f.cov, int(f.quorum))
	fp := pick(r, f.fps, 1)
	staker := s.sig(f.staker)
	sigs := Signatures{Staker: staker, FinalityProviders: s.sigMap(fp), Covenant: s.sigMap(signers)}
	w, err := o.Witness(SlashingPath, sigs)
	if err != nil {
		t.Fatal(err)
	}
	mustPass(t, "valid", s.run(w))
	if want := len(f.cov) + len(f.fps) + 3; len(w) != want {
		t.Fatalf("witness has %d items, want %d", len(w), want)
	}
	fpItems := rawSlots(s, f.fps, fp, false)
	covItems := rawSlots(s, f.cov, signers, false)
	mustPass(t, "hand-built descending slots", s.run(s.rawWitness(covItems, fpItems, [][]byte{staker})))
	mustFail(t, "flipped finality provider signature bit", s.run(flipBit(w, len(f.cov)+slices.IndexFunc(fpItems, func(b []byte) bool { return len(b) > 0 }))))
	mustFail(t, "flipped covenant signature bit", s.run(flipBit(w, firstNonEmpty(w))))

	short := signers[:len(signers)-1]
	if _, err := o.Witness(SlashingPath, Signatures{Staker: staker, FinalityProviders: s.sigMap(fp), Covenant: s.sigMap(short)}); !errors.Is(err, ErrSignatureCount) {
		t.Errorf("builder with one covenant signature short: %v", err)
	}
	mustFail(t, "one covenant signature short", s.run(s.rawWitness(rawSlots(s, f.cov, short, false), fpItems, [][]byte{staker})))
	if int(f.quorum) < len(f.cov) {
		extra := pick(r, f.cov, int(f.quorum)+1)
		mustFail(t, "one covenant signature too many", s.run(s.rawWitness(rawSlots(s, f.cov, extra, false), fpItems, [][]byte{staker})))
	}
	// No finality provider signature.
	if _, err := o.Witness(SlashingPath, Signatures{Staker: staker, Covenant: s.sigMap(signers)}); !errors.Is(err, ErrSignatureCount) {
		t.Errorf("builder without FP signature: %v", err)
	}
	mustFail(t, "no finality provider signature", s.run(s.rawWitness(covItems, rawSlots(s, f.fps, nil, false), [][]byte{staker})))
	if len(f.fps) > 1 {
		two := pick(r, f.fps, 2)
		if _, err := o.Witness(SlashingPath, Signatures{Staker: staker, FinalityProviders: s.sigMap(two), Covenant: s.sigMap(signers)}); !errors.Is(err, ErrSignatureCount) {
			t.Errorf("builder with two FP signatures: %v", err)
		}
		mustFail(t, "two finality provider signatures", s.run(s.rawWitness(covItems, rawSlots(s, f.fps, two, false), [][]byte{staker})))
		// The smallest key's signature belongs in the last slot; ascending
		// order moves it to the first (a middle key would not move).
		smallest := slices.MinFunc(f.fps, func(a, b *btcec.PrivateKey) int {
			return compareKeys(XOnly(a.PubKey()), XOnly(b.PubKey()))
		})
		lone := []*btcec.PrivateKey{smallest}
		mustPass(t, "smallest FP key in the last slot", s.run(s.rawWitness(covItems, rawSlots(s, f.fps, lone, false), [][]byte{staker})))
		mustFail(t, "ascending finality provider slots", s.run(s.rawWitness(covItems, rawSlots(s, f.fps, lone, true), [][]byte{staker})))
	}
	if len(f.cov) > 1 {
		mustFail(t, "ascending covenant slots", s.run(s.rawWitness(rawSlots(s, f.cov, signers, true), fpItems, [][]byte{staker})))
	}
	// Signatures over the timelock leaf do not spend the slashing leaf.
	tl, _ := o.Path(TimelockPath)
	bad := Signatures{Staker: s.sigFor(f.staker, tl.Script), FinalityProviders: s.sigMap(fp), Covenant: s.sigMap(signers)}
	bw, _ := o.Witness(SlashingPath, bad)
	mustFail(t, "staker signature over the timelock leaf", s.run(bw))
}

// pick returns n distinct keys chosen at random.
func pick(r *rand.Rand, keys []*btcec.PrivateKey, n int) []*btcec.PrivateKey {
	idx := r.Perm(len(keys))[:n]
	out := make([]*btcec.PrivateKey, n)
	for i, j := range idx {
		out[i] = keys[j]
	}
	return out
}

func firstNonEmpty(w wire.TxWitness) int {
	for i, it := range w {
		if len(it) > 0 {
			return i
		}
	}
	return -1
}

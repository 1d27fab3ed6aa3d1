package script

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// outputsOf builds the three outputs of fixture f.
func outputsOf(t testing.TB, f *fixture, stakingTime, unbondingTime uint16) []*Output {
	t.Helper()
	st, err := NewStakingOutput(f.parties(), stakingTime)
	if err != nil {
		t.Fatal(err)
	}
	ub, err := NewUnbondingOutput(f.parties(), unbondingTime)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := NewSlashingChangeOutput(f.staker.PubKey(), unbondingTime)
	if err != nil {
		t.Fatal(err)
	}
	return []*Output{st, ub, ch}
}

// randSig is 64 random bytes: the parser reads layouts, it does not verify.
func randSig(r *rand.Rand) []byte {
	s := make([]byte, 64)
	r.Read(s)
	return s
}

// sigsFor fills exactly the slots the path needs: the staker, quorum
// covenant members chosen at random, one finality provider chosen at random.
func sigsFor(r *rand.Rand, f *fixture, kind PathKind) Signatures {
	s := Signatures{Staker: randSig(r)}
	if kind == UnbondingPath || kind == SlashingPath {
		s.Covenant = map[XOnlyKey][]byte{}
		for _, k := range pick(r, f.cov, int(f.quorum)) {
			s.Covenant[XOnly(k.PubKey())] = randSig(r)
		}
	}
	if kind == SlashingPath {
		s.FinalityProviders = map[XOnlyKey][]byte{XOnly(f.fps[r.Intn(len(f.fps))].PubKey()): randSig(r)}
	}
	return s
}

func cloneWitness(w wire.TxWitness) wire.TxWitness {
	c := make(wire.TxWitness, len(w))
	for i := range w {
		c[i] = slices.Clone(w[i])
	}
	return c
}

// TestParseWitnessRoundTrip: for every spend path of every output and a
// range of committee sizes, parsing what Output.Witness assembled gives
// back the leaf, the control block and exactly the signatures put in, and
// rebuilding gives the same witness bytes.
func TestParseWitnessRoundTrip(t *testing.T) {
	r := newRand(t)
	for _, c := range committees {
		for _, nFP := range []int{1, 2, 3} {
			f := newFixture(t, r, nFP, c.n, uint32(c.m))
			outs := outputsOf(t, f, uint16(1+r.Intn(65535)), uint16(1+r.Intn(65535)))
			for _, o := range outs {
				for _, p := range o.Paths {
					t.Run(fmt.Sprintf("%d-of-%d/%dfp/%s/%s", c.m, c.n, nFP, o.Kind, p.Kind), func(t *testing.T) {
						sigs := sigsFor(r, f, p.Kind)
						w, err := o.Witness(p.Kind, sigs)
						if err != nil {
							t.Fatal(err)
						}
						orig := cloneWitness(w)
						s, err := ParseWitness(w)
						if err != nil {
							t.Fatal(err)
						}
						if s.Leaf.Kind != p.Kind || !bytes.Equal(s.Script, p.Script) || !bytes.Equal(s.ControlBlock.Bytes(), p.ControlBlock) {
							t.Errorf("leaf %v / script or control block differ", s.Leaf.Kind)
						}
						if s.Leaf.Staker != XOnly(f.staker.PubKey()) || (p.Kind == TimelockPath && s.Leaf.Timelock != p.Timelock) {
							t.Errorf("leaf %+v", s.Leaf)
						}
						if got := s.Signatures(); !sameSigs(got, sigs) {
							t.Errorf("signatures differ:\n got %v\nwant %v", got, sigs)
						}
						// Every slot is there, filled or not.
						wantCov, wantFP := 0, 0
						if p.Kind != TimelockPath {
							wantCov = c.n
						}
						if p.Kind == SlashingPath {
							wantFP = nFP
						}
						if len(s.Covenant) != wantCov || len(s.FinalityProviders) != wantFP {
							t.Errorf("%d covenant and %d FP slots, want %d and %d", len(s.Covenant), len(s.FinalityProviders), wantCov, wantFP)
						}
						if CountSigned(s.Covenant) != len(sigs.Covenant) || CountSigned(s.FinalityProviders) != len(sigs.FinalityProviders) {
							t.Errorf("counts %d/%d", CountSigned(s.Covenant), CountSigned(s.FinalityProviders))
						}
						for k := range sigs.Covenant {
							if !s.Signed(k) {
								t.Errorf("covenant %s not signed", k)
							}
						}
						if !sameWitness(s.Witness(), orig) {
							t.Errorf("rebuilt witness differs")
						}
						if _, err := o.ParseWitness(w); err != nil {
							t.Errorf("the output's own witness: %v", err)
						}
						if err := s.ControlBlock.Commits(s.Script, o.PkScript); err != nil {
							t.Errorf("commits: %v", err)
						}
						// The parse shares no memory with the witness.
						for i := range w {
							for j := range w[i] {
								w[i][j] ^= 0xff
							}
						}
						if !sameWitness(s.Witness(), orig) {
							t.Error("the parse aliases the witness")
						}
					})
				}
			}
		}
	}
}

func sameWitness(a, b wire.TxWitness) bool {
	return slices.EqualFunc(a, b, bytes.Equal)
}

func sameSigs(a, b Signatures) bool {
	eq := func(x, y map[XOnlyKey][]byte) bool {
		if len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if !bytes.Equal(v, y[k]) {
				return false
			}
		}
		return true
	}
	return bytes.Equal(a.Staker, b.Staker) && eq(a.Covenant, b.Covenant) && eq(a.FinalityProviders, b.FinalityProviders)
}

// TestParseWitnessSlotOrder pins the slot order against a witness built by
// hand: covenant items first, descending by key, then finality providers
// descending, then the staker.
func TestParseWitnessSlotOrder(t *testing.T) {
	r := newRand(t)
	f := newFixture(t, r, 2, 3, 2)
	o := outputsOf(t, f, 100, 10)[0]
	s := newSpend(t, o, SlashingPath, wire.MaxTxInSequenceNum)
	signers := f.cov[:2]
	w := s.rawWitness(rawSlots(s, f.cov, signers, false), rawSlots(s, f.fps, f.fps[1:], false), [][]byte{s.sig(f.staker)})
	ls, err := ParseWitness(w)
	if err != nil {
		t.Fatal(err)
	}
	for _, sl := range ls.Covenant {
		want := XOnly(signers[0].PubKey()) == sl.Key || XOnly(signers[1].PubKey()) == sl.Key
		if (sl.Sig != nil) != want {
			t.Errorf("covenant %s: signed %v, want %v", sl.Key, sl.Sig != nil, want)
		}
		for _, k := range f.cov {
			if XOnly(k.PubKey()) == sl.Key && want && !bytes.Equal(sl.Sig, s.sig(k)) {
				t.Errorf("covenant %s holds another key's signature", sl.Key)
			}
		}
	}
	for _, sl := range ls.FinalityProviders {
		if want := sl.Key == XOnly(f.fps[1].PubKey()); (sl.Sig != nil) != want {
			t.Errorf("finality provider %s: signed %v, want %v", sl.Key, sl.Sig != nil, want)
		}
	}
	if !bytes.Equal(ls.Staker, s.sig(f.staker)) {
		t.Error("staker slot")
	}
	// The witness the parse describes is accepted by the script engine.
	mustPass(t, "hand-built witness", s.run(ls.Witness()))
}

// TestParseWitnessRejects: wrong item counts, signature lengths, control
// blocks and scripts are refused with their kinds.
func TestParseWitnessRejects(t *testing.T) {
	r := newRand(t)
	f := newFixture(t, r, 2, 3, 2)
	outs := outputsOf(t, f, 100, 10)
	st, ub := outs[0], outs[1]
	good, err := st.Witness(UnbondingPath, sigsFor(r, f, UnbondingPath))
	if err != nil {
		t.Fatal(err)
	}
	edit := func(fn func(w wire.TxWitness) wire.TxWitness) wire.TxWitness { return fn(cloneWitness(good)) }
	n := len(good)
	ownSlashing, _ := st.Path(SlashingPath)
	cases := []struct {
		name string
		w    wire.TxWitness
		want error
	}{
		{"empty", nil, ErrMalformedWitness},
		{"script and control block only", good[n-2:], ErrMalformedWitness},
		{"one slot too few", edit(func(w wire.TxWitness) wire.TxWitness { return w[1:] }), ErrMalformedWitness},
		{"one slot too many", edit(func(w wire.TxWitness) wire.TxWitness { return append(wire.TxWitness{{}}, w...) }), ErrMalformedWitness},
		{"63-byte signature", edit(func(w wire.TxWitness) wire.TxWitness { w[n-3] = w[n-3][:63]; return w }), ErrInvalidSignature},
		{"66-byte signature", edit(func(w wire.TxWitness) wire.TxWitness { w[n-3] = append(w[n-3], 1, 1); return w }), ErrInvalidSignature},
		{"65 bytes with sighash 0", edit(func(w wire.TxWitness) wire.TxWitness { w[n-3] = append(w[n-3], 0); return w }), ErrInvalidSignature},
		{"65 bytes with sighash 4", edit(func(w wire.TxWitness) wire.TxWitness { w[n-3] = append(w[n-3], 4); return w }), ErrInvalidSignature},
		{"control block one byte short", edit(func(w wire.TxWitness) wire.TxWitness { w[n-1] = w[n-1][:len(w[n-1])-1]; return w }), ErrInvalidControlBlock},
		{"control block deeper than 128", edit(func(w wire.TxWitness) wire.TxWitness { w[n-1] = append(w[n-1][:33], make([]byte, 129*32)...); return w }), ErrInvalidControlBlock},
		{"leaf version 0xc2", edit(func(w wire.TxWitness) wire.TxWitness { w[n-1][0] = 0xc2 | w[n-1][0]&1; return w }), ErrInvalidControlBlock},
		{"internal key off the curve", edit(func(w wire.TxWitness) wire.TxWitness { copy(w[n-1][1:33], offCurveX()); return w }), ErrInvalidControlBlock},
		{"not a staking leaf", edit(func(w wire.TxWitness) wire.TxWitness { w[n-2] = []byte{txscript.OP_TRUE}; return w }), ErrUnknownLeaf},
	}
	for _, c := range cases {
		if _, err := ParseWitness(c.w); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// Checked against an output: another output's leaf, or this leaf with
	// another output's control block or a corrupted Merkle path.
	swapped := edit(func(w wire.TxWitness) wire.TxWitness { w[n-1] = slices.Clone(ownSlashing.ControlBlock); return w })
	corrupt := edit(func(w wire.TxWitness) wire.TxWitness { w[n-1][40] ^= 1; return w })
	for name, w := range map[string]wire.TxWitness{"swapped control block": swapped, "corrupted path": corrupt} {
		if _, err := ParseWitness(w); err != nil {
			t.Errorf("%s: well-formed, yet %v", name, err)
		}
		if _, err := st.ParseWitness(w); !errors.Is(err, ErrWrongOutput) {
			t.Errorf("%s against the output: %v, want ErrWrongOutput", name, err)
		}
		s, _ := ParseWitness(w)
		if err := s.ControlBlock.Commits(s.Script, st.PkScript); !errors.Is(err, ErrWrongOutput) {
			t.Errorf("%s commits: %v", name, err)
		}
	}
	sl, _ := ub.Witness(SlashingPath, sigsFor(r, f, SlashingPath))
	if _, err := st.ParseWitness(sl); !errors.Is(err, ErrWrongOutput) {
		t.Errorf("the unbonding output's slashing witness against the staking output: %v", err)
	}
	// A witness refused changes nothing in it.
	w := edit(func(w wire.TxWitness) wire.TxWitness { return w[1:] })
	before := cloneWitness(w)
	ParseWitness(w)
	if !sameWitness(w, before) {
		t.Error("a refused witness was modified")
	}
}

// TestParseWitnessAnnexAnd65ByteSigs: an annex is split off and kept, a
// 65-byte signature with an explicit sighash type fills its slot, and both
// survive the rebuild.
func TestParseWitnessAnnexAnd65ByteSigs(t *testing.T) {
	r := newRand(t)
	f := newFixture(t, r, 1, 1, 1)
	o := outputsOf(t, f, 100, 10)[0]
	w, err := o.Witness(TimelockPath, Signatures{Staker: randSig(r)})
	if err != nil {
		t.Fatal(err)
	}
	w[0] = append(w[0], byte(txscript.SigHashAll|txscript.SigHashAnyOneCanPay))
	w = append(w, []byte{0x50, 1, 2, 3})
	s, err := ParseWitness(w)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Annex, []byte{0x50, 1, 2, 3}) || len(s.Staker) != 65 {
		t.Errorf("annex %x, staker signature %d bytes", s.Annex, len(s.Staker))
	}
	if !sameWitness(s.Witness(), w) {
		t.Error("rebuild differs")
	}
}

// TestControlBlockBIP341Vectors: the control blocks of BIP-341's wallet
// vectors parse, re-encode identically, prove the published Merkle root and
// commit their leaf to the published output script.
func TestControlBlockBIP341Vectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/bip341-wallet-test-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v bip341Vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for i, tc := range v.ScriptPubKey {
		if string(tc.Given.ScriptTree) == "null" {
			continue
		}
		leaves := map[int]TapLeaf{}
		if _, err := parseVecTree(tc.Given.ScriptTree, leaves); err != nil {
			t.Fatal(err)
		}
		spk, _ := hex.DecodeString(tc.Expected.ScriptPubKey)
		for j, cbHex := range tc.Expected.ScriptPathControlBlocks {
			b, _ := hex.DecodeString(cbHex)
			cb, err := ParseControlBlock(b)
			if err != nil {
				t.Fatalf("vector %d leaf %d: %v", i, j, err)
			}
			if !bytes.Equal(cb.Bytes(), b) {
				t.Errorf("vector %d leaf %d: re-encoding differs", i, j)
			}
			if cb.LeafVersion != leaves[j].Version {
				t.Errorf("vector %d leaf %d: version %#x, want %#x", i, j, cb.LeafVersion, leaves[j].Version)
			}
			root := cb.RootHash(leaves[j].Script)
			if got := hex.EncodeToString(root[:]); got != *tc.Intermediary.MerkleRoot {
				t.Errorf("vector %d leaf %d: root %s, want %s", i, j, got, *tc.Intermediary.MerkleRoot)
			}
			if err := cb.Commits(leaves[j].Script, spk); err != nil {
				t.Errorf("vector %d leaf %d: %v", i, j, err)
			}
			// Another leaf's script under this control block commits to
			// nothing.
			if len(leaves) > 1 {
				other := leaves[(j+1)%len(leaves)]
				if err := cb.Commits(other.Script, spk); !errors.Is(err, ErrWrongOutput) {
					t.Errorf("vector %d leaf %d with leaf %d's script: %v", i, j, (j+1)%len(leaves), err)
				}
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no control blocks checked")
	}
}

// TestCommitsAgreesWithBtcd: ControlBlock.Commits accepts exactly what
// btcd's VerifyTaprootLeafCommitment accepts, for our outputs' leaves and
// for corrupted control blocks.
func TestCommitsAgreesWithBtcd(t *testing.T) {
	r := newRand(t)
	for i := 0; i < 20; i++ {
		f := newFixture(t, r, 1+r.Intn(3), 1+r.Intn(4), 1)
		outs := outputsOf(t, f, uint16(1+r.Intn(65535)), uint16(1+r.Intn(65535)))
		for _, o := range outs {
			for _, p := range o.Paths {
				cbBytes := slices.Clone(p.ControlBlock)
				if r.Intn(2) == 0 {
					cbBytes[r.Intn(len(cbBytes))] ^= byte(1 << r.Intn(8))
				}
				target := outs[r.Intn(len(outs))]
				ours := error(nil)
				cb, err := ParseControlBlock(cbBytes)
				if err == nil {
					ours = cb.Commits(p.Script, target.PkScript)
				}
				bcb, berr := txscript.ParseControlBlock(cbBytes)
				var theirs error = berr
				if berr == nil {
					theirs = txscript.VerifyTaprootLeafCommitment(bcb, target.PkScript[2:], p.Script)
				}
				if err == nil && (ours == nil) != (theirs == nil) {
					t.Errorf("%s/%s against %s: ours %v, btcd %v", o.Kind, p.Kind, target.Kind, ours, theirs)
				}
				if (err == nil) != (berr == nil) {
					t.Errorf("parse: ours %v, btcd %v", err, berr)
				}
			}
		}
	}
}

// TestRevealOutput: every leaf of every output reveals its output and
// time locks; with the search disallowed only what the leaf shows.
func TestRevealOutput(t *testing.T) {
	r := newRand(t)
	f := newFixture(t, r, 2, 3, 2)
	const stakingTime, unbondingTime = 40000, 101
	outs := outputsOf(t, f, stakingTime, unbondingTime)
	type want struct {
		kind   OutputKind
		st, ut uint16
	}
	cases := []struct {
		out    *Output
		path   PathKind
		search TimelockSearch
		want   want
	}{
		{outs[0], TimelockPath, TimelockSearch{}, want{StakingOutputKind, stakingTime, 0}},
		{outs[0], UnbondingPath, TimelockSearch{Exhaustive: true}, want{StakingOutputKind, stakingTime, 0}},
		{outs[0], UnbondingPath, TimelockSearch{Hints: []uint16{7, stakingTime}}, want{StakingOutputKind, stakingTime, 0}},
		{outs[0], UnbondingPath, TimelockSearch{}, want{StakingOutputKind, 0, 0}},
		{outs[0], SlashingPath, TimelockSearch{Exhaustive: true}, want{StakingOutputKind, stakingTime, 0}},
		{outs[0], SlashingPath, TimelockSearch{Hints: []uint16{unbondingTime}}, want{0, 0, 0}},
		{outs[1], TimelockPath, TimelockSearch{}, want{UnbondingOutputKind, 0, unbondingTime}},
		{outs[1], SlashingPath, TimelockSearch{Hints: []uint16{unbondingTime}}, want{UnbondingOutputKind, 0, unbondingTime}},
		{outs[1], SlashingPath, TimelockSearch{Exhaustive: true}, want{UnbondingOutputKind, 0, unbondingTime}},
		{outs[1], SlashingPath, TimelockSearch{}, want{0, 0, 0}},
		{outs[2], TimelockPath, TimelockSearch{}, want{SlashingChangeOutputKind, 0, unbondingTime}},
	}
	for _, c := range cases {
		p, _ := c.out.Path(c.path)
		leaf, _ := ParseLeafScript(p.Script)
		cb, _ := ParseControlBlock(p.ControlBlock)
		got := RevealOutput(leaf, cb, c.search)
		if (want{got.Kind, got.StakingTime, got.UnbondingTime}) != c.want {
			t.Errorf("%s/%s with %+v: %+v, want %+v", c.out.Kind, c.path, c.search, got, c.want)
		}
		hinted := false
		for _, h := range c.search.Hints {
			hinted = hinted || h == got.StakingTime && h != 0 || h == got.UnbondingTime && h != 0
		}
		if got.Searched && hinted {
			t.Errorf("%s/%s: searched although a hint fitted", c.out.Kind, c.path)
		}
	}
	// A timelock leaf at a depth no output has reveals nothing.
	p := outs[0].Paths[0]
	leaf, _ := ParseLeafScript(p.Script)
	cb, _ := ParseControlBlock(p.ControlBlock)
	cb.Path = append(cb.Path, cb.Path[0])
	if got := RevealOutput(leaf, cb, TimelockSearch{Exhaustive: true}); got.Kind != 0 {
		t.Errorf("depth 3: %+v", got)
	}
}

// TestTimelockHasher: the allocation-free leaf hash equals TapLeaf.Hash of
// the built script for every encoding width of the lock.
func TestTimelockHasher(t *testing.T) {
	r := newRand(t)
	k := XOnly(randKey(t, r).PubKey())
	var h timelockHasher
	h.init(k)
	for _, lock := range []uint16{1, 16, 17, 127, 128, 255, 256, 32767, 32768, 65535} {
		s, _ := TimelockScript(k, lock)
		if h.hash(lock) != (TapLeaf{BaseLeafVersion, s}).Hash() {
			t.Errorf("lock %d", lock)
		}
	}
}

// encodeWitness and decodeWitness serialise a witness as a transaction
// does (count, then length-prefixed items), for the fuzz target.
func encodeWitness(w wire.TxWitness) []byte {
	var b bytes.Buffer
	wire.WriteVarInt(&b, 0, uint64(len(w)))
	for _, it := range w {
		wire.WriteVarBytes(&b, 0, it)
	}
	return b.Bytes()
}

func decodeWitness(b []byte) (wire.TxWitness, bool) {
	rd := bytes.NewReader(b)
	n, err := wire.ReadVarInt(rd, 0)
	if err != nil || n > 500 {
		return nil, false
	}
	w := make(wire.TxWitness, n)
	for i := range w {
		if w[i], err = wire.ReadVarBytes(rd, 0, 10_000, "item"); err != nil {
			return nil, false
		}
	}
	return w, true
}

// FuzzParseWitness: any witness either parses, and then rebuilds to the
// same items and parses again to the same slots, or fails with one of the
// parser's error kinds; never a panic.
func FuzzParseWitness(f *testing.F) {
	r := rand.New(rand.NewSource(9))
	for _, c := range []struct{ nFP, nCov, m int }{{1, 1, 1}, {2, 3, 2}, {1, 5, 3}} {
		fx := newFixture(f, r, c.nFP, c.nCov, uint32(c.m))
		for _, o := range outputsOf(f, fx, 100, 10) {
			for _, p := range o.Paths {
				w, err := o.Witness(p.Kind, sigsFor(r, fx, p.Kind))
				if err != nil {
					f.Fatal(err)
				}
				f.Add(encodeWitness(w))
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		w, ok := decodeWitness(b)
		if !ok {
			return
		}
		s, err := ParseWitness(w)
		if err != nil {
			for _, k := range []error{ErrMalformedWitness, ErrInvalidControlBlock, ErrInvalidSignature, ErrUnknownLeaf} {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("unexpected error kind: %v", err)
		}
		rebuilt := s.Witness()
		if !sameWitness(rebuilt, w) {
			t.Fatalf("rebuild %x, parsed %x", rebuilt, w)
		}
		s2, err := ParseWitness(rebuilt)
		if err != nil || !reflect.DeepEqual(s, s2) {
			t.Fatalf("reparse: %v", err)
		}
	})
}

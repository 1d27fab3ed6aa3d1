package script

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/txscript/v2"
)

func TestParseLeafScriptRoundTrip(t *testing.T) {
	r := newRand(t)
	for _, c := range []struct{ nFP, nCov, m int }{{1, 1, 1}, {1, 3, 2}, {3, 5, 3}, {2, 20, 18}, {5, 16, 16}, {1, 17, 17}} {
		t.Run(fmt.Sprintf("%dfp-%d-of-%d", c.nFP, c.m, c.nCov), func(t *testing.T) {
			f := newFixture(t, r, c.nFP, c.nCov, uint32(c.m))
			lock := uint16(1 + r.Intn(65535))
			out, err := NewStakingOutput(f.parties(), lock)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range out.Paths {
				l, err := ParseLeafScript(p.Script)
				if err != nil {
					t.Fatalf("%s: %v", p.Kind, err)
				}
				if l.Kind != p.Kind || l.Staker != out.StakerKey() {
					t.Fatalf("%s: parsed %+v", p.Kind, l)
				}
				switch p.Kind {
				case TimelockPath:
					if l.Timelock != lock {
						t.Errorf("lock %d, want %d", l.Timelock, lock)
					}
				case SlashingPath:
					if fmt.Sprint(l.FinalityProviders) != fmt.Sprint(out.FinalityProviderKeys()) {
						t.Error("finality providers differ")
					}
					fallthrough
				case UnbondingPath:
					if fmt.Sprint(l.Covenant) != fmt.Sprint(out.CovenantKeys()) || l.Quorum != uint32(c.m) {
						t.Error("covenant differs")
					}
				}
			}
		})
	}
}

func TestParseLeafScriptRejects(t *testing.T) {
	r := newRand(t)
	f := newFixture(t, r, 2, 3, 2)
	out, _ := NewStakingOutput(f.parties(), 1000)
	tl, ub, sl := out.Paths[0].Script, out.Paths[1].Script, out.Paths[2].Script
	cov := out.CovenantKeys()
	key := func(k XOnlyKey) []byte { return append([]byte{0x20}, k[:]...) }
	b := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	op := func(o ...byte) []byte { return o }
	staker := b(key(out.StakerKey()), op(txscript.OP_CHECKSIGVERIFY))
	for name, s := range map[string][]byte{
		"empty":                   nil,
		"trailing byte":           append(bytes.Clone(ub), 0x51),
		"truncated":               sl[:len(sl)-1],
		"non-minimal time lock":   b(staker, op(0x01, 0x05, txscript.OP_CHECKSEQUENCEVERIFY)),
		"zero time lock":          b(staker, op(txscript.OP_0, txscript.OP_CHECKSEQUENCEVERIFY)),
		"time lock too large":     b(staker, op(0x03, 0x00, 0x00, 0x01, txscript.OP_CHECKSEQUENCEVERIFY)),
		"no CSV":                  tl[:len(tl)-1],
		"keys descending":         b(staker, key(cov[1]), op(txscript.OP_CHECKSIG), key(cov[0]), op(txscript.OP_CHECKSIGADD), op(txscript.OP_1, txscript.OP_NUMEQUAL)),
		"duplicate key":           b(staker, key(cov[0]), op(txscript.OP_CHECKSIG), key(cov[0]), op(txscript.OP_CHECKSIGADD), op(txscript.OP_1, txscript.OP_NUMEQUAL)),
		"quorum zero":             b(staker, key(cov[0]), op(txscript.OP_CHECKSIG), key(cov[1]), op(txscript.OP_CHECKSIGADD), op(txscript.OP_0, txscript.OP_NUMEQUAL)),
		"quorum above n":          b(staker, key(cov[0]), op(txscript.OP_CHECKSIG), key(cov[1]), op(txscript.OP_CHECKSIGADD), op(txscript.OP_3, txscript.OP_NUMEQUAL)),
		"staker in covenant":      b(staker, key(out.StakerKey()), op(txscript.OP_CHECKSIG)),
		"fp group threshold 2":    b(staker, key(cov[0]), op(txscript.OP_CHECKSIG), key(cov[1]), op(txscript.OP_CHECKSIGADD), op(txscript.OP_2, txscript.OP_NUMEQUALVERIFY), key(cov[2]), op(txscript.OP_CHECKSIG)),
		"covenant ends in verify": b(staker, key(cov[0]), op(txscript.OP_CHECKSIGVERIFY), key(cov[1]), op(txscript.OP_CHECKSIGVERIFY)),
		"wrong first opcode":      append([]byte{0x21}, ub[1:]...),
		"staker CHECKSIG":         append(bytes.Clone(ub[:33]), append([]byte{txscript.OP_CHECKSIG}, ub[34:]...)...),
	} {
		t.Run(name, func(t *testing.T) {
			if l, err := ParseLeafScript(s); !errors.Is(err, ErrUnknownLeaf) {
				t.Fatalf("got %+v, %v; want ErrUnknownLeaf", l, err)
			}
		})
	}
}

// TestLeafWitnessMatchesOutputWitness: witnesses assembled from a parsed leaf
// equal those assembled from the output.
func TestLeafWitnessMatchesOutputWitness(t *testing.T) {
	r := newRand(t)
	f := newFixture(t, r, 2, 5, 3)
	out, _ := NewStakingOutput(f.parties(), 100)
	sig := func(b byte) []byte { s := make([]byte, 64); s[0] = b; return s }
	sigs := Signatures{Staker: sig(1),
		FinalityProviders: map[XOnlyKey][]byte{XOnly(f.fps[1].PubKey()): sig(2)},
		Covenant:          map[XOnlyKey][]byte{}}
	for i, k := range pick(r, f.cov, 3) {
		sigs.Covenant[XOnly(k.PubKey())] = sig(byte(10 + i))
	}
	p, _ := out.Path(SlashingPath)
	l, err := ParseLeafScript(p.Script)
	if err != nil {
		t.Fatal(err)
	}
	w1, err1 := out.Witness(SlashingPath, sigs)
	w2, err2 := l.Witness(sigs, p.ControlBlock)
	if err1 != nil || err2 != nil || fmt.Sprint(w1) != fmt.Sprint(w2) {
		t.Fatalf("witnesses differ: %v %v", err1, err2)
	}
}

func FuzzParseLeafScript(f *testing.F) {
	r := rand.New(rand.NewSource(5))
	for _, c := range []struct{ nFP, nCov, m int }{{1, 1, 1}, {2, 3, 2}, {1, 5, 3}} {
		fx := newFixture(f, r, c.nFP, c.nCov, uint32(c.m))
		out, _ := NewStakingOutput(fx.parties(), uint16(1+r.Intn(65535)))
		for _, p := range out.Paths {
			f.Add(p.Script)
		}
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		l, err := ParseLeafScript(s)
		if err != nil {
			if !errors.Is(err, ErrUnknownLeaf) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if !bytes.Equal(l.Script(), s) {
			t.Fatalf("round trip: %x -> %x", s, l.Script())
		}
	})
}

package script

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

var testTag = []byte("bbt4")

func TestV0OpReturnLayout(t *testing.T) {
	r := newRand(t)
	staker, fp := randKey(t, r).PubKey(), randKey(t, r).PubKey()
	d, err := NewV0StakingData(testTag, staker, []*btcec.PublicKey{fp}, 0x1234)
	if err != nil {
		t.Fatal(err)
	}
	s := d.Script()
	// 6a 47 || tag || 00 || staker || fp || BE16(time), assembled by hand.
	want := append([]byte{0x6a, 0x47}, testTag...)
	want = append(want, 0)
	want = append(want, XOnly(staker).Bytes()...)
	want = append(want, XOnly(fp).Bytes()...)
	want = append(want, 0x12, 0x34)
	if !bytes.Equal(s, want) || len(s) != 73 {
		t.Fatalf("script %x\nwant   %x", s, want)
	}
	got, err := ParseV0StakingData(s)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *d {
		t.Fatalf("round trip: %+v != %+v", got, d)
	}
	if d.TxOut().Value != 0 {
		t.Fatal("op_return output must carry 0 sat")
	}
}

func TestParseV0StakingDataRejects(t *testing.T) {
	r := newRand(t)
	d, _ := NewV0StakingData(testTag, randKey(t, r).PubKey(), []*btcec.PublicKey{randKey(t, r).PubKey()}, 100)
	good := d.Script()
	mod := func(f func([]byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, s := range map[string][]byte{
		"empty":              nil,
		"one byte short":     good[:72],
		"one byte long":      append(bytes.Clone(good), 0),
		"not op_return":      mod(func(b []byte) []byte { b[0] = 0x51; return b }),
		"OP_PUSHDATA1 98":    mod(func(b []byte) []byte { b[1] = 0x4c; return b }), // tag "bbt4": length byte 0x62
		"OP_DATA_72":         mod(func(b []byte) []byte { b[1] = 0x48; return b }),
		"version 1":          mod(func(b []byte) []byte { b[6] = 1; return b }),
		"staker off curve":   mod(func(b []byte) []byte { copy(b[7:39], offCurveX()); return b }),
		"fp off curve":       mod(func(b []byte) []byte { copy(b[39:71], offCurveX()); return b }),
		"staker is p (>= p)": mod(func(b []byte) []byte { copy(b[7:39], bytes.Repeat([]byte{0xff}, 32)); return b }),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseV0StakingData(s); !errors.Is(err, ErrMalformedOpReturn) {
				t.Fatalf("got %v, want ErrMalformedOpReturn", err)
			}
		})
	}
}

// stakingTxFixture builds a phase-1 staking tx: funding input, the staking
// output at stakingIdx, the OP_RETURN and a change output.
type stakingTxFixture struct {
	f      *fixture
	parser *StakingTxParser
	data   *V0StakingData
	out    *Output
}

func newStakingTxFixture(t testing.TB, r *rand.Rand) *stakingTxFixture {
	f := newFixture(t, r, 1, 5, 3)
	p, err := NewStakingTxParser(ParserConfig{Tag: testTag, Covenant: pubs(f.cov), CovenantQuorum: 3})
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewV0StakingData(testTag, f.staker.PubKey(), pubs(f.fps), 64000)
	if err != nil {
		t.Fatal(err)
	}
	out, err := NewStakingOutput(f.parties(), 64000)
	if err != nil {
		t.Fatal(err)
	}
	return &stakingTxFixture{f: f, parser: p, data: d, out: out}
}

func (s *stakingTxFixture) tx(outs ...*wire.TxOut) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: chainhash.Hash{7}, Index: 1}, Sequence: wire.MaxTxInSequenceNum})
	for _, o := range outs {
		tx.AddTxOut(o)
	}
	return tx
}

func p2wpkhOut(v int64) *wire.TxOut {
	return wire.NewTxOut(v, append([]byte{0x00, 0x14}, bytes.Repeat([]byte{0xab}, 20)...))
}

func TestStakingTxParser(t *testing.T) {
	r := newRand(t)
	s := newStakingTxFixture(t, r)
	stake, opret, change := s.out.TxOut(500_000), s.data.TxOut(), p2wpkhOut(12345)

	t.Run("valid, op_return second", func(t *testing.T) {
		tx := s.tx(stake, opret, change)
		if !s.parser.IsPossible(tx) {
			t.Fatal("prefilter rejected a staking tx")
		}
		got, err := s.parser.Parse(tx)
		if err != nil {
			t.Fatal(err)
		}
		if got.StakingOutputIndex != 0 || got.OpReturnIndex != 1 || got.Value != 500_000 ||
			got.Data != *s.data || !bytes.Equal(got.Output.PkScript, s.out.PkScript) {
			t.Fatalf("parsed %+v", got)
		}
	})
	t.Run("valid, op_return first", func(t *testing.T) {
		got, err := s.parser.Parse(s.tx(opret, change, stake))
		if err != nil || got.StakingOutputIndex != 2 || got.OpReturnIndex != 0 {
			t.Fatalf("got %+v, %v", got, err)
		}
	})

	other := *s.data
	other.Tag = [4]byte{'x', 'x', 'x', 'x'}
	v1 := bytes.Clone(opret.PkScript)
	v1[6] = 1
	zeroTime := *s.data
	zeroTime.StakingTime = 0
	samePK := *s.data
	samePK.FinalityProvider = samePK.Staker
	otherCov := newFixture(t, r, 1, 5, 3)
	otherCov.staker, otherCov.fps = s.f.staker, s.f.fps
	wrongOut, _ := NewStakingOutput(otherCov.parties(), 64000)

	cases := []struct {
		name      string
		tx        *wire.MsgTx
		prefilter bool
		want      error
	}{
		{"one output", s.tx(opret), false, ErrNotStakingTx},
		{"no op_return", s.tx(stake, change), false, ErrNotStakingTx},
		{"other tag", s.tx(stake, other.TxOut()), false, ErrNotStakingTx},
		{"version 1", s.tx(stake, wire.NewTxOut(0, v1)), false, ErrMalformedOpReturn},
		{"two op_returns", s.tx(stake, opret, opret), false, ErrAmbiguousStakingTx},
		{"op_return plus other-tag op_return", s.tx(stake, opret, other.TxOut()), true, ErrAmbiguousStakingTx},
		{"two staking outputs", s.tx(stake, opret, stake), true, ErrAmbiguousStakingTx},
		{"no staking output", s.tx(opret, change), true, ErrNotStakingTx},
		{"staking output for another committee", s.tx(wrongOut.TxOut(1000), opret), true, ErrNotStakingTx},
		{"staking time zero", s.tx(stake, zeroTime.TxOut()), true, ErrInvalidTimelock},
		{"staker is the fp", s.tx(stake, samePK.TxOut()), true, ErrDuplicateKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.parser.IsPossible(tc.tx); got != tc.prefilter {
				t.Errorf("prefilter %v, want %v", got, tc.prefilter)
			}
			if _, err := s.parser.Parse(tc.tx); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// Babylon's parser counts only outputs that decode as version-0 staking
	// data (any tag): another 73-byte OP_RETURN that does not (another
	// version, a key off the curve), which relays since Bitcoin Core 30
	// allows several OP_RETURN outputs, leaves the staking tx recognised.
	offCurve := other.Script() // another protocol's tag
	for i := 7; i < 39; i++ {
		offCurve[i] = 0xff // x >= p: no curve point
	}
	for name, extra := range map[string]*wire.TxOut{"version 1": wire.NewTxOut(0, v1), "another tag and a key off the curve": wire.NewTxOut(0, offCurve)} {
		t.Run("valid plus a 73-byte op_return with "+name, func(t *testing.T) {
			tx := s.tx(stake, opret, extra)
			if !s.parser.IsPossible(tx) {
				t.Error("prefilter refused it")
			}
			got, err := s.parser.Parse(tx)
			if err != nil || got.OpReturnIndex != 1 || got.StakingOutputIndex != 0 {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
	if _, err := s.parser.Parse(nil); !errors.Is(err, ErrNotStakingTx) {
		t.Errorf("nil tx: %v", err)
	}
	if IsPossibleV0StakingTx(nil, s.parser.tag) {
		t.Error("prefilter accepted nil")
	}
}

func TestPrefilterAllocatesNothing(t *testing.T) {
	s := newStakingTxFixture(t, newRand(t))
	txs := []*wire.MsgTx{s.tx(p2wpkhOut(1), p2wpkhOut(2)), s.tx(s.out.TxOut(5), s.data.TxOut())}
	if n := testing.AllocsPerRun(100, func() {
		for _, tx := range txs {
			s.parser.IsPossible(tx)
		}
	}); n != 0 {
		t.Fatalf("prefilter allocates %v times per run", n)
	}
}

func FuzzParseV0StakingData(f *testing.F) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 4; i++ {
		d, _ := NewV0StakingData(testTag, randKey(f, r).PubKey(), []*btcec.PublicKey{randKey(f, r).PubKey()}, uint16(1+i*1000))
		f.Add(d.Script())
	}
	f.Add([]byte{0x6a, 0x47})
	f.Add(make([]byte, 73))
	// The non-minimal pushes Babylon reads (tags starting with the length).
	for _, pf := range pushForms[1:] {
		d, _ := NewV0StakingData(pf.tag, randKey(f, r).PubKey(), []*btcec.PublicKey{randKey(f, r).PubKey()}, 7)
		f.Add(withPush(d, pf.op))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseV0StakingData(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedOpReturn) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		// The data is bytes 2..72 whatever the push (a non-minimal one
		// is read as Babylon reads it); Script writes OP_DATA_71.
		if !bytes.Equal(d.Script()[2:], b[2:]) || !txscript.IsNullData(b) {
			t.Fatalf("round trip: %x -> %x", b, d.Script())
		}
	})
}

func FuzzParseStakingTx(f *testing.F) {
	r := rand.New(rand.NewSource(2))
	s := newStakingTxFixture(f, r)
	for _, tx := range []*wire.MsgTx{
		s.tx(s.out.TxOut(500_000), s.data.TxOut(), p2wpkhOut(1)),
		s.tx(s.data.TxOut(), s.out.TxOut(1)),
		s.tx(p2wpkhOut(1), p2wpkhOut(2)),
	} {
		var buf bytes.Buffer
		tx.Serialize(&buf)
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var tx wire.MsgTx
		if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
			return
		}
		possible := s.parser.IsPossible(&tx)
		got, err := s.parser.Parse(&tx)
		if err != nil {
			return
		}
		if !possible {
			t.Fatal("parsed a staking tx the prefilter rejected")
		}
		if !bytes.Equal(tx.TxOut[got.StakingOutputIndex].PkScript, got.Output.PkScript) ||
			!bytes.Equal(tx.TxOut[got.OpReturnIndex].PkScript[2:], got.Data.Script()[2:]) ||
			got.Value != tx.TxOut[got.StakingOutputIndex].Value {
			t.Fatal("parsed fields do not round-trip to the transaction")
		}
	})
}

// TestParserMatchesHandBuiltScripts: the staking time is written big-endian in
// the OP_RETURN and as a minimal script number in the leaf.
func TestParsedTimeEncodings(t *testing.T) {
	s := newStakingTxFixture(t, newRand(t))
	got, err := s.parser.Parse(s.tx(s.out.TxOut(1), s.data.TxOut()))
	if err != nil {
		t.Fatal(err)
	}
	if binary.BigEndian.Uint16(got.Data.Script()[71:]) != 64000 {
		t.Fatal("staking time not big-endian")
	}
	if !bytes.HasSuffix(got.Output.Paths[0].Script, []byte{0x03, 0x00, 0xfa, 0x00, 0xb2}) {
		t.Fatalf("timelock leaf %s", hex.EncodeToString(got.Output.Paths[0].Script))
	}
}

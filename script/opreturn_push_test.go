package script

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// Babylon's phase-1 OP_RETURN parser (babylonlabs-io/babylon v4.3.1,
// commit a93eadc9ed357429735a1ddc3a77ec79b066b2b3,
// btcstaking/identifiable_staking.go, getV0OpReturnBytes) accepts any
// 73-byte script for which btcd's txscript.IsNullData holds (OP_RETURN and
// one push of at most 80 bytes, minimal or not) and reads the 71 data
// bytes as script[2:], whatever the push opcode. A non-minimal push such
// as 6a 4c 46 ... (OP_PUSHDATA1 of 70 bytes) is therefore staking data
// whose tag starts with the push's length byte 0x46. Before the fix
// btcstake accepted only 6a 47 ... (issue 11, item 8e).

// pushForms are the tags whose first bytes coincide with a non-minimal push
// that fills a 73-byte script, with that push's opcode.
var pushForms = []struct {
	name string
	tag  []byte
	op   byte
}{
	{"OP_DATA_71", []byte("bbt4"), txscript.OP_DATA_71},
	{"OP_PUSHDATA1 70", []byte{0x46, 'b', 't', '4'}, txscript.OP_PUSHDATA1},
	{"OP_PUSHDATA2 69", []byte{0x45, 0x00, 't', '4'}, txscript.OP_PUSHDATA2},
	{"OP_PUSHDATA4 67", []byte{0x43, 0x00, 0x00, 0x00}, txscript.OP_PUSHDATA4},
}

// withPush returns d's script with its push opcode replaced by op.
func withPush(d *V0StakingData, op byte) []byte {
	s := d.Script()
	s[1] = op
	return s
}

// TestV0OpReturnPushFormsAsBabylon: for every value of the push opcode
// byte, ParseV0StakingData accepts the script exactly when btcd's
// IsNullData (Babylon's test) does, and then reads the same data.
func TestV0OpReturnPushFormsAsBabylon(t *testing.T) {
	r := newRand(t)
	staker, fp := randKey(t, r).PubKey(), randKey(t, r).PubKey()
	for _, f := range pushForms {
		t.Run(f.name, func(t *testing.T) {
			d, err := NewV0StakingData(f.tag, staker, []*btcec.PublicKey{fp}, 64000)
			if err != nil {
				t.Fatal(err)
			}
			s := withPush(d, f.op)
			if !txscript.IsNullData(s) {
				t.Fatalf("fixture %x is not null data", s)
			}
			got, err := ParseV0StakingData(s)
			if err != nil {
				t.Fatalf("%x: %v", s[:8], err)
			}
			if *got != *d {
				t.Fatalf("parsed %+v, want %+v", got, d)
			}
			if !bytes.Equal(got.Script()[2:], s[2:]) {
				t.Fatal("data bytes differ")
			}
			accepted := 0
			for b := 0; b < 256; b++ {
				s := withPush(d, byte(b))
				_, err := ParseV0StakingData(s)
				if want := txscript.IsNullData(s); (err == nil) != want {
					t.Fatalf("push opcode %02x: err %v, btcd IsNullData %v", b, err, want)
				}
				if err != nil && !errors.Is(err, ErrMalformedOpReturn) {
					t.Fatalf("push opcode %02x: error kind %v", b, err)
				}
				if err == nil {
					accepted++
				}
			}
			// OP_DATA_71 always; the data's own first bytes fit a
			// PUSHDATA length only for the tags above.
			if want := map[bool]int{true: 1, false: 2}[f.op == txscript.OP_DATA_71]; accepted != want {
				t.Fatalf("%d push opcodes accepted, want %d", accepted, want)
			}
		})
	}
}

// TestStakingTxParserPushFormsAsBabylon: a staking tx whose OP_RETURN uses
// a non-minimal push is recognised (with a tag that starts with the
// push's length byte), and counts as a second OP_RETURN beside a
// canonical one, as in Babylon's tryToGetOpReturnDataFromOutputs
// ("multiple op return outputs found") and IsPossibleV0StakingTx.
func TestStakingTxParserPushFormsAsBabylon(t *testing.T) {
	r := newRand(t)
	f := newFixture(t, r, 1, 5, 3)
	out, err := NewStakingOutput(f.parties(), 64000)
	if err != nil {
		t.Fatal(err)
	}
	tx := func(outs ...*wire.TxOut) *wire.MsgTx {
		s := &stakingTxFixture{f: f}
		return s.tx(outs...)
	}
	canonical, err := NewV0StakingData(testTag, f.staker.PubKey(), pubs(f.fps), 64000)
	if err != nil {
		t.Fatal(err)
	}
	for _, pf := range pushForms[1:] {
		t.Run(pf.name, func(t *testing.T) {
			d, err := NewV0StakingData(pf.tag, f.staker.PubKey(), pubs(f.fps), 64000)
			if err != nil {
				t.Fatal(err)
			}
			opret := wire.NewTxOut(0, withPush(d, pf.op))
			p, err := NewStakingTxParser(ParserConfig{Tag: pf.tag, Covenant: pubs(f.cov), CovenantQuorum: 3})
			if err != nil {
				t.Fatal(err)
			}
			var tag [TagLen]byte
			copy(tag[:], pf.tag)
			one := tx(out.TxOut(500_000), opret)
			if !p.IsPossible(one) || !IsPossibleV0StakingTx(one, tag) {
				t.Error("prefilter refused it")
			}
			got, err := p.Parse(one)
			if err != nil || got.OpReturnIndex != 1 || got.StakingOutputIndex != 0 || got.Data != *d {
				t.Fatalf("got %+v, %v", got, err)
			}
			// Beside a canonical OP_RETURN (another tag, same keys and
			// time): two staking-data outputs.
			two := tx(out.TxOut(500_000), canonical.TxOut(), opret)
			if _, err := p.Parse(two); !errors.Is(err, ErrAmbiguousStakingTx) {
				t.Errorf("canonical plus %s: got %v, want ErrAmbiguousStakingTx", pf.name, err)
			}
			// Two with the parser's tag: the prefilter says no.
			if p.IsPossible(tx(out.TxOut(500_000), opret, wire.NewTxOut(0, d.Script()))) {
				t.Error("prefilter accepted two OP_RETURNs with the tag")
			}
		})
	}
}

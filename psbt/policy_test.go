package psbt

import (
	"bytes"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"
)

// TestDustThresholds pins the dust limits of the default relay policy, as
// Bitcoin Core documents them (policy.cpp: 546 sat for P2PKH, 294 for
// P2WPKH, 330 for P2TR) and as btcd's formula gives them, and the edge
// on either side of each.
func TestDustThresholds(t *testing.T) {
	h20, h32 := bytes.Repeat([]byte{7}, 20), bytes.Repeat([]byte{7}, 32)
	cases := []struct {
		name     string
		pkScript []byte
		limit    int64
	}{
		{"p2pkh", append(append([]byte{0x76, 0xa9, 0x14}, h20...), 0x88, 0xac), 546},
		{"p2sh", append(append([]byte{0xa9, 0x14}, h20...), 0x87), 540},
		{"p2wpkh", append([]byte{0x00, 0x14}, h20...), 294},
		{"p2wsh", append([]byte{0x00, 0x20}, h32...), 330},
		{"p2tr", append([]byte{0x51, 0x20}, h32...), 330},
		// A bare 33-byte-key P2PK output: (8+1+35) + 41 + 107 = 192 bytes.
		{"p2pk", append(append([]byte{0x21, 0x02}, h32...), 0xac), 576},
	}
	for _, c := range cases {
		if got := dustThreshold(c.pkScript); got != c.limit {
			t.Errorf("%s: threshold %d, want %d", c.name, got, c.limit)
		}
		if !isDust(c.limit-1, c.pkScript) || isDust(c.limit, c.pkScript) {
			t.Errorf("%s: dust edge not at %d", c.name, c.limit)
		}
	}
	if !isDust(0, p2trDummy) || isDust(330, p2trDummy) {
		t.Error("p2trDummy is not a P2TR script")
	}
	// Null data is never dust; other unspendable scripts always are.
	if isDust(0, []byte{0x6a, 0x04, 1, 2, 3, 4}) {
		t.Error("an OP_RETURN output counted as dust")
	}
	for name, pk := range map[string][]byte{
		"unparseable push":    {0x4c},                      // OP_PUSHDATA1 without its length
		"too large":           make([]byte, 10_001),        // above the script size limit
		"malformed op_return": {0x6a, 0x4c, 0x05, 1, 2, 3}, // not null data: the push does not parse
	} {
		if !isDust(1e8, pk) {
			t.Errorf("%s: an unspendable output is not dust", name)
		}
	}
}

// TestTxWeight checks the weight against a count by hand: a one-input,
// one-output key-path P2TR spend is 94 bytes without witness and 68
// witness bytes (marker, flag, item count, length, 64-byte signature):
// 94*4 + 68 = 444 weight units, 111 vbytes, the well-known size of that
// transaction. Without witness data the weight is four times the size.
func TestTxWeight(t *testing.T) {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: 3}, nil, wire.TxWitness{make([]byte, 64)}))
	tx.AddTxOut(wire.NewTxOut(50_000, p2trDummy))
	if w := txWeightOf(tx); w != 444 || vsize(w) != 111 || txVSize(tx) != 111 {
		t.Fatalf("weight %d (vsize %d), want 444 (111)", w, vsize(w))
	}
	tx.TxIn[0].Witness = nil
	tx.TxIn[0].SignatureScript = make([]byte, 107)
	if w, size := txWeightOf(tx), tx.SerializeSize(); w != int64(4*size) || size != 94+107 {
		t.Fatalf("legacy weight %d, size %d", w, size)
	}
}

package psbt

import (
	"testing"

	"github.com/btcsuite/btcd/wire/v2"
)

// p2trDummy is a P2TR output script.
var p2trDummy = append([]byte{0x51, 0x20}, make([]byte, 32)...)

// TestTxWeight checks the weight against a count by hand: a one-input,
// one-output key-path P2TR spend is 94 bytes without witness and 68
// witness bytes (marker, flag, item count, length, 64-byte signature):
// 94*4 + 68 = 444 weight units, 111 vbytes, the well-known size of that
// transaction. Without witness data the weight is four times the size.
func TestTxWeight(t *testing.T) {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: 3}, nil, wire.TxWitness{make([]byte, 64)}))
	tx.AddTxOut(wire.NewTxOut(50_000, p2trDummy))
	if w := txWeightOf(tx); w != 444 || vsize(w) != 111 || VSize(tx) != 111 {
		t.Fatalf("weight %d (vsize %d), want 444 (111)", w, vsize(w))
	}
	tx.TxIn[0].Witness = nil
	tx.TxIn[0].SignatureScript = make([]byte, 107)
	if w, size := txWeightOf(tx), tx.SerializeSize(); w != int64(4*size) || size != 94+107 {
		t.Fatalf("legacy weight %d, size %d", w, size)
	}
}

package babylon_test

import (
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/babylon"
)

// BenchmarkProveInBlock proves a transaction of a 4000-transaction block
// (about a full mainnet block's count).
func BenchmarkProveInBlock(b *testing.B) {
	block := &wire.MsgBlock{}
	for i := range 4000 {
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{byte(i), byte(i >> 8)}}, nil, nil))
		tx.AddTxOut(wire.NewTxOut(1000, []byte{0x51}))
		block.Transactions = append(block.Transactions, tx)
	}
	block.Header.MerkleRoot = merkleRoot(block.Transactions)
	txid := block.Transactions[2345].TxHash()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := babylon.ProveInBlock(block, txid); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshalRegistration encodes and decodes a registration.
func BenchmarkMarshalRegistration(b *testing.B) {
	f := newFixture(b)
	draft, err := babylon.PrepareRegistration(f.request())
	if err != nil {
		b.Fatal(err)
	}
	reg, err := draft.Sign(f.staker)
	if err != nil {
		b.Fatal(err)
	}
	m := reg.Msg()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := babylon.UnmarshalMsgCreateBTCDelegation(m.Marshal()); err != nil {
			b.Fatal(err)
		}
	}
}

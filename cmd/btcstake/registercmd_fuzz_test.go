package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/pop"
)

// provenSeed is the JSON prove writes, for a block of a coinbase and one
// transaction (its Merkle root computed here from the definition).
func provenSeed(f *testing.F) []byte {
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: ^uint32(0)}, SignatureScript: []byte{1, 2}})
	cb.AddTxOut(wire.NewTxOut(50, []byte{0x51}))
	tx, _ := fundingCoin("fuzz seed", []byte{0x51}, 1000)
	h0, h1 := cb.TxHash(), tx.TxHash()
	root := chainhash.DoubleHashH(append(h0[:], h1[:]...))
	block := wire.NewMsgBlock(wire.NewBlockHeader(2, &chainhash.Hash{}, &root, 0, 0))
	_ = block.AddTransaction(cb)
	_ = block.AddTransaction(tx)
	proof, err := babylon.ProveInBlock(block, h1)
	if err != nil {
		f.Fatal(err)
	}
	j, err := newProvenJSON(&babylon.ProvenTx{Tx: tx, Proof: proof, Header: block.Header, Height: 10, TipHeight: 40}, 30)
	if err != nil {
		f.Fatal(err)
	}
	b, _ := json.Marshal(j)
	return b
}

// FuzzRegistrationInputs feeds arbitrary bytes to the readers of prove's
// JSON (register --inclusion-proof) and of a proof of possession (--pop):
// they never panic, every refusal is a usage error naming the flag, and
// what they accept re-encodes and parses back to the same.
func FuzzRegistrationInputs(f *testing.F) {
	f.Add(provenSeed(f))
	f.Add([]byte(`{"inclusion_proof":{"encoded":"0a"},"header":"00"}`))
	f.Add([]byte("080012400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"))
	f.Add([]byte("not json"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseProven("inclusion-proof", data)
		if err != nil {
			var u usageError
			if !errors.As(err, &u) || !strings.HasPrefix(err.Error(), "--inclusion-proof: ") {
				t.Fatalf("refusal %q is not a usage error naming --inclusion-proof", err)
			}
		} else {
			again, err := babylon.UnmarshalInclusionProof(p.Proof.Marshal())
			if err != nil || !bytes.Equal(again.Marshal(), p.Proof.Marshal()) {
				t.Fatalf("accepted inclusion proof does not round-trip: %v", err)
			}
		}
		text := strings.TrimSpace(string(data))
		if !isHexText(text) {
			return // a file name: not the fuzzer's business
		}
		q, err := readPoP("pop", text)
		if err != nil {
			var u usageError
			if !errors.As(err, &u) || !strings.HasPrefix(err.Error(), "--pop: ") {
				t.Fatalf("refusal %q is not a usage error naming --pop", err)
			}
			return
		}
		again, err := pop.Parse(q.Marshal())
		if err != nil || !bytes.Equal(again.Marshal(), q.Marshal()) {
			t.Fatalf("accepted proof does not round-trip: %v", err)
		}
	})
}

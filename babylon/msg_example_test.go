package babylon_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/btcsuite/btcd/address/v2/bech32"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
)

// Register a delegation before staking: build its unbonding and slashing
// transactions, sign the two slashing transactions with the staker key,
// and print what babylond takes.
func ExamplePrepareRegistration() {
	key := func(label string) *btcec.PrivateKey {
		h := sha256.Sum256([]byte(label))
		k, _ := btcec.PrivKeyFromBytes(h[:])
		return k
	}
	staker, fp := key("example staker"), key("example fp")
	p := params.RegtestExample()
	d := psbt.Delegation{Params: p, Staker: staker.PubKey(), FinalityProviders: []*btcec.PublicKey{fp.PubKey()}, StakingTime: 1000}
	out, _ := d.StakingOutput()

	// The staking transaction, not yet signed or broadcast.
	stakingTx := wire.NewMsgTx(2)
	stakingTx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{1}}, nil, nil))
	stakingTx.AddTxOut(wire.NewTxOut(100_000, out.PkScript))

	v, _ := params.NewVersion(4, 0, p, params.BabylonExtras{})
	versions, _ := params.NewVersions(v)
	account := sha256.Sum256([]byte("example account"))
	addr, _ := bech32.EncodeFromBase256("bbn", account[:20])
	var pop []byte // from package pop; any ProofOfPossessionBTC here
	pop = protowire.AppendTag(pop, 2, protowire.BytesType)
	pop = protowire.AppendBytes(pop, bytes.Repeat([]byte{1}, 64))

	draft, err := babylon.PrepareRegistration(babylon.RegistrationRequest{
		StakerAddress: addr, PoP: pop, Delegation: d, StakingTx: stakingTx, Versions: versions, TipHeight: 500,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	reg, err := draft.Sign(staker)
	if err != nil {
		fmt.Println(err)
		return
	}
	m := reg.Msg()
	fmt.Println("staking:", m.StakingValue, "sat for", m.StakingTime, "blocks")
	fmt.Println("unbonding:", m.UnbondingValue, "sat, unbonding time", m.UnbondingTime)
	fmt.Println("signatures:", len(m.DelegatorSlashingSig), len(m.DelegatorUnbondingSlashingSig), "bytes")
	args := reg.BabylondArgs()
	fmt.Println("babylond args:", len(args), "inclusion proof:", fmt.Sprintf("%q", args[3]), "times/values:", args[5], args[6], args[11], args[12])
	back, _ := babylon.UnmarshalMsgCreateBTCDelegation(reg.Marshal())
	fmt.Println("decodes back:", bytes.Equal(back.Marshal(), reg.Marshal()))
	// Output:
	// staking: 100000 sat for 1000 blocks
	// unbonding: 99000 sat, unbonding time 10
	// signatures: 64 64 bytes
	// babylond args: 14 inclusion proof: "" times/values: 1000 100000 10 99000
	// decodes back: true
}

// Prove a transaction's inclusion in a block, and see the coinbase refused.
func ExampleProveInBlock() {
	coinbase := wire.NewMsgTx(1)
	coinbase.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: wire.MaxPrevOutIndex}, []byte{1, 2}, nil))
	coinbase.AddTxOut(wire.NewTxOut(50, []byte{0x51}))
	block := &wire.MsgBlock{Transactions: []*wire.MsgTx{coinbase}}
	for i := range 4 {
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{byte(i + 1)}}, nil, nil))
		tx.AddTxOut(wire.NewTxOut(1000, []byte{0x51}))
		block.Transactions = append(block.Transactions, tx)
	}
	root := merkleRoot(block.Transactions)
	block.Header.MerkleRoot = root

	txid := block.Transactions[3].TxHash()
	proof, err := babylon.ProveInBlock(block, txid)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("index", proof.Key.Index, "siblings", len(proof.Proof)/32)
	fmt.Println("verifies:", proof.Verify(txid, &block.Header) == nil)
	_, err = babylon.ProveInBlock(block, coinbase.TxHash())
	fmt.Println(err != nil)
	// Output:
	// index 3 siblings 3
	// verifies: true
	// true
}

// merkleRoot is Bitcoin's Merkle root of the transactions' ids, written
// for the example from chainhash alone.
func merkleRoot(txs []*wire.MsgTx) chainhash.Hash {
	level := make([]chainhash.Hash, len(txs))
	for i, tx := range txs {
		level[i] = tx.TxHash()
	}
	for len(level) > 1 {
		if len(level)%2 == 1 {
			level = append(level, level[len(level)-1])
		}
		next := make([]chainhash.Hash, len(level)/2)
		for i := range next {
			next[i] = chainhash.DoubleHashH(append(append([]byte{}, level[2*i][:]...), level[2*i+1][:]...))
		}
		level = next
	}
	return level[0]
}

package chain

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// The checks below hold a node's answers to what was asked: a block's
// hash covers only its 80-byte header, so the transactions a node sends
// with it are checked against the header's Merkle root (and, for
// witnesses, against the coinbase's witness commitment); a transaction is
// taken as confirmed in a block only when that block's transaction list,
// hashing to its header, holds it. A node can still hide what it knows
// (answer "not found"), but it cannot make the client use a transaction,
// block, height or spend other than the one asked for: such an answer is
// ErrBadReply.

// merkleRoot returns the Merkle root of hashes as Bitcoin computes it, and
// whether the list is mutated (CVE-2012-2459):
//
//  1. While more than one hash is left: if two hashes side by side at
//     positions 2i and 2i+1 are equal, the list is mutated (a list with
//     its last hashes repeated has the same root as the list without).
//  2. An odd count pairs the last hash with itself.
//  3. Each pair becomes double SHA-256(left || right), both in internal
//     byte order.
//
// The root of an empty list is the zero hash. hashes is not changed.
func merkleRoot(hashes []chainhash.Hash) (root chainhash.Hash, mutated bool) {
	if len(hashes) == 0 {
		return chainhash.Hash{}, false
	}
	level := append([]chainhash.Hash(nil), hashes...)
	var buf [2 * chainhash.HashSize]byte
	for len(level) > 1 {
		// Step 1.
		for i := 0; i+1 < len(level); i += 2 {
			if level[i] == level[i+1] {
				mutated = true
			}
		}
		// Step 2.
		if len(level)%2 == 1 {
			level = append(level, level[len(level)-1])
		}
		// Step 3.
		for i := 0; i < len(level)/2; i++ {
			copy(buf[:chainhash.HashSize], level[2*i][:])
			copy(buf[chainhash.HashSize:], level[2*i+1][:])
			level[i] = chainhash.DoubleHashH(buf[:])
		}
		level = level[:len(level)/2]
	}
	return level[0], mutated
}

// witnessMagic starts the coinbase output that carries a block's witness
// commitment (BIP 141): OP_RETURN, a 36-byte push, 0xaa21a9ed, then the
// 32-byte commitment.
var witnessMagic = []byte{0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed}

// checkBlockTxs checks that a block's transactions are the ones its
// header commits to:
//
//  1. The block has transactions, the first alone a coinbase (one input
//     spending the null outpoint).
//  2. The Merkle root of the txids (witnesses left out) is the header's,
//     and the list is not mutated.
//  3. When a transaction other than the coinbase carries witness data, the
//     block must commit to the witnesses (BIP 141): the last coinbase
//     output starting with witnessMagic holds double SHA-256(root ||
//     reserved), where root is the Merkle root of the wtxids (the
//     coinbase's counted as zero) and reserved is the coinbase input's
//     single 32-byte witness item.
//
// A block without witness data beyond the coinbase needs no commitment:
// its txids already cover everything the client reads.
func checkBlockTxs(b *wire.MsgBlock) error {
	// Step 1.
	if len(b.Transactions) == 0 {
		return fmt.Errorf("block %s has no transactions", b.BlockHash())
	}
	for i, tx := range b.Transactions {
		if tx == nil {
			return fmt.Errorf("block %s: transaction %d is missing", b.BlockHash(), i)
		}
		switch cb := isCoinbase(tx); {
		case i == 0 && !cb:
			return fmt.Errorf("block %s: its first transaction is not a coinbase", b.BlockHash())
		case i > 0 && cb:
			return fmt.Errorf("block %s: transaction %d is a second coinbase", b.BlockHash(), i)
		}
	}
	// Step 2.
	txids := make([]chainhash.Hash, len(b.Transactions))
	witness := false
	for i, tx := range b.Transactions {
		txids[i] = tx.TxHash()
		witness = witness || (i > 0 && tx.HasWitness())
	}
	root, mutated := merkleRoot(txids)
	if mutated {
		return fmt.Errorf("block %s: the transaction list is mutated (a repeated transaction)", b.BlockHash())
	}
	if root != b.Header.MerkleRoot {
		return fmt.Errorf("block %s: its transactions hash to Merkle root %s, its header says %s", b.BlockHash(), root, b.Header.MerkleRoot)
	}
	if !witness {
		return nil
	}
	// Step 3.
	cb := b.Transactions[0]
	commit := -1
	for i, out := range cb.TxOut {
		if len(out.PkScript) >= len(witnessMagic)+chainhash.HashSize && bytes.HasPrefix(out.PkScript, witnessMagic) {
			commit = i
		}
	}
	if commit < 0 {
		return fmt.Errorf("block %s: transactions carry witness data but the coinbase commits to none", b.BlockHash())
	}
	wit := cb.TxIn[0].Witness
	if len(wit) != 1 || len(wit[0]) != chainhash.HashSize {
		return fmt.Errorf("block %s: the coinbase's witness is not one 32-byte reserved value", b.BlockHash())
	}
	wtxids := make([]chainhash.Hash, len(b.Transactions))
	for i, tx := range b.Transactions[1:] {
		wtxids[i+1] = tx.WitnessHash()
	}
	wroot, _ := merkleRoot(wtxids)
	var buf [2 * chainhash.HashSize]byte
	copy(buf[:chainhash.HashSize], wroot[:])
	copy(buf[chainhash.HashSize:], wit[0])
	want := chainhash.DoubleHashB(buf[:])
	if got := cb.TxOut[commit].PkScript[len(witnessMagic) : len(witnessMagic)+chainhash.HashSize]; !bytes.Equal(got, want) {
		return fmt.Errorf("block %s: the witnesses do not match the coinbase's witness commitment", b.BlockHash())
	}
	return nil
}

// isCoinbase reports whether tx has the shape of a coinbase: one input,
// spending the null outpoint.
func isCoinbase(tx *wire.MsgTx) bool {
	return len(tx.TxIn) == 1 && tx.TxIn[0].PreviousOutPoint.Hash == (chainhash.Hash{}) &&
		tx.TxIn[0].PreviousOutPoint.Index == wire.MaxPrevOutIndex
}

// commitsTo reports an error unless the block summary lists txid among
// transaction ids that hash to the Merkle root of its header (whose hash
// parseBlockSummary has checked).
func (b *blockSummary) commitsTo(txid chainhash.Hash) error {
	root, mutated := merkleRoot(b.Txids)
	switch {
	case mutated:
		return fmt.Errorf("%w: getblock %s: the transaction list is mutated (a repeated transaction)", ErrBadReply, b.Hash)
	case root != b.MerkleRoot:
		return fmt.Errorf("%w: getblock %s: the listed transactions hash to Merkle root %s, the header says %s", ErrBadReply, b.Hash, root, b.MerkleRoot)
	case !b.has(txid):
		return fmt.Errorf("%w: block %s does not hold transaction %s", ErrBadReply, b.Hash, txid)
	}
	return nil
}

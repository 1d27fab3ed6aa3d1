package regtest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// maxBlockTxs bounds MineBlock's transactions (a test block, not a full
// one).
const maxBlockTxs = 5_000

// witnessCommitmentHeader starts the BIP-141 witness commitment output of
// a coinbase: OP_RETURN, a 36-byte push, the tag aa21a9ed.
var witnessCommitmentHeader = []byte{0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed}

// MineBlock mines one block on the tip holding a coinbase and exactly txs,
// in that order, built by the harness and handed to the node with
// submitblock, whatever the mempool holds (mempool transactions stay
// there; one that conflicts with txs is evicted by the node). The
// coinbase pays the block reward (without the fees) to the harness's key
// and carries tag and the BIP-141 witness commitment. txs must be valid
// in this order on the tip, else the node refuses the block (ErrRPC). It
// returns the block's hash and height.
func (n *Node) MineBlock(txs []*wire.MsgTx, tag []byte) (chainhash.Hash, int32, error) {
	if len(txs) > maxBlockTxs {
		return chainhash.Hash{}, 0, fmt.Errorf("%w: %d transactions in one block (at most %d)", ErrInvalidArgument, len(txs), maxBlockTxs)
	}
	for i, tx := range txs {
		if tx == nil || len(tx.TxIn) == 0 {
			return chainhash.Hash{}, 0, fmt.Errorf("%w: transaction %d is missing or has no input", ErrInvalidArgument, i)
		}
	}
	tip, err := n.Height()
	if err != nil {
		return chainhash.Hash{}, 0, err
	}
	height := tip + 1
	cb, err := CoinbaseTx(height, tag, n.w.pkScript, n.subsidy(height))
	if err != nil {
		return chainhash.Hash{}, 0, err
	}
	// BIP 141: the witness root is the Merkle root of the wtxids with the
	// coinbase's taken as zero; the commitment is
	// SHA256d(witness root || witness reserved value), the reserved value
	// 32 zero bytes, carried as the coinbase input's only witness item.
	wtxids := make([]chainhash.Hash, 1, len(txs)+1)
	for _, tx := range txs {
		wtxids = append(wtxids, tx.WitnessHash())
	}
	reserved := make([]byte, chainhash.HashSize)
	wroot := merkleRoot(wtxids)
	commitment := chainhash.DoubleHashB(append(wroot[:], reserved...))
	cb.AddTxOut(wire.NewTxOut(0, append(append([]byte(nil), witnessCommitmentHeader...), commitment...)))
	cb.TxIn[0].Witness = wire.TxWitness{reserved}

	txids := make([]chainhash.Hash, 0, len(txs)+1)
	txids = append(txids, cb.TxHash())
	for _, tx := range txs {
		txids = append(txids, tx.TxHash())
	}
	prevHash, err := n.GetBlockHash(tip)
	if err != nil {
		return chainhash.Hash{}, 0, err
	}
	prevBlock, err := n.GetBlock(prevHash)
	if err != nil {
		return chainhash.Hash{}, 0, err
	}
	prev := prevBlock.Header
	root := merkleRoot(txids)
	block := wire.NewMsgBlock(wire.NewBlockHeader(0x20000000, &prevHash, &root, prev.Bits, 0))
	block.Header.Timestamp = time.Unix(max(prev.Timestamp.Unix()+1, time.Now().Unix()), 0)
	for _, tx := range append([]*wire.MsgTx{cb}, txs...) {
		if err := block.AddTransaction(tx); err != nil {
			return chainhash.Hash{}, 0, fmt.Errorf("%w: %v", ErrInvalidArgument, err)
		}
	}
	if !solve(&block.Header) {
		return chainhash.Hash{}, 0, fmt.Errorf("%w: no nonce meets the target of bits %08x", ErrRPC, block.Header.Bits)
	}
	var buf bytes.Buffer
	if err := block.Serialize(&buf); err != nil {
		return chainhash.Hash{}, 0, fmt.Errorf("%w: serialising the block: %v", ErrRPC, err)
	}
	res, err := n.Call("submitblock", hex.EncodeToString(buf.Bytes()))
	if err != nil {
		return chainhash.Hash{}, 0, err
	}
	var reason *string
	if err := json.Unmarshal(res, &reason); err != nil || reason != nil {
		return chainhash.Hash{}, 0, fmt.Errorf("%w: submitblock refused the block at height %d: %s", ErrRPC, height, res)
	}
	hash := block.Header.BlockHash()
	if got, err := n.GetBlockHash(height); err != nil || got != hash {
		return chainhash.Hash{}, 0, fmt.Errorf("%w: the submitted block is not the chain's block at height %d (%s, %v)", ErrRPC, height, got, err)
	}
	return hash, height, nil
}

// merkleRoot is the Bitcoin Merkle root of hashes: pairs hashed with
// SHA256d level by level, an odd last hash paired with itself.
func merkleRoot(hashes []chainhash.Hash) chainhash.Hash {
	level := append([]chainhash.Hash(nil), hashes...)
	for len(level) > 1 {
		if len(level)%2 == 1 {
			level = append(level, level[len(level)-1])
		}
		next := level[:0]
		for i := 0; i < len(level); i += 2 {
			next = append(next, chainhash.DoubleHashH(append(level[i][:], level[i+1][:]...)))
		}
		level = next
	}
	return level[0]
}

// ReorgResult is what Reorg did.
type ReorgResult struct {
	// ForkHeight is the height of the first replaced block: blocks below
	// it are common to both branches.
	ForkHeight int32
	// Orphaned are the hashes of the replaced blocks, Replacement those of
	// the new branch, in chain order.
	Orphaned, Replacement []chainhash.Hash
}

// Reorg replaces the top depth blocks of the chain with depth+1 blocks
// the harness builds (so the new branch also has more work): it
// invalidates the block at tip-depth+1 (invalidateblock), which drops it
// and those above it and returns their transactions to the mempool, then
// mines the new branch with MineBlock, the first block holding txs (for
// example a transaction conflicting with one of the orphaned blocks), the
// others nothing but their coinbase. The orphaned blocks' transactions
// that the new branch does not conflict with wait in the mempool (Mine
// confirms them). The invalidated block stays invalid to the node.
//
// The harness wallet forgets what it learned from the orphaned blocks
// (their coinbases; their other outputs count as unconfirmed) and reads
// the new branch on its next use.
func (n *Node) Reorg(depth int, txs []*wire.MsgTx) (*ReorgResult, error) {
	tip, err := n.Height()
	if err != nil {
		return nil, err
	}
	if depth < 1 || int32(depth) > tip {
		return nil, fmt.Errorf("%w: reorg depth %d on a chain of height %d", ErrInvalidArgument, depth, tip)
	}
	r := &ReorgResult{ForkHeight: tip - int32(depth) + 1}
	for h := r.ForkHeight; h <= tip; h++ {
		hash, err := n.GetBlockHash(h)
		if err != nil {
			return nil, err
		}
		r.Orphaned = append(r.Orphaned, hash)
	}
	if _, err := n.Call("invalidateblock", r.Orphaned[0].String()); err != nil {
		return nil, err
	}
	if now, err := n.Height(); err != nil || now != r.ForkHeight-1 {
		return nil, fmt.Errorf("%w: after invalidating block %d the tip is %d, want %d (%v)", ErrRPC, r.ForkHeight, now, r.ForkHeight-1, err)
	}
	n.forgetFrom(r.ForkHeight)
	for i := 0; i <= depth; i++ {
		var in []*wire.MsgTx
		if i == 0 {
			in = txs
		}
		hash, _, err := n.MineBlock(in, []byte("btcstake reorg"))
		if err != nil {
			return r, err
		}
		r.Replacement = append(r.Replacement, hash)
	}
	return r, nil
}

// forgetFrom drops from the harness wallet what it learned from blocks at
// height and above, which are no longer on the chain: their coinbases go,
// their other outputs count as unconfirmed (the node returned their
// transactions to the mempool), and the wallet reads the chain from
// height again on its next use.
func (n *Node) forgetFrom(height int32) {
	n.wmu.Lock()
	defer n.wmu.Unlock()
	for op, u := range n.w.utxos {
		if u.height >= height {
			if u.coinbase {
				delete(n.w.utxos, op)
			} else {
				u.height = 0
			}
		}
	}
	n.w.scanned = min(n.w.scanned, height-1)
	n.w.needMempool = true
}

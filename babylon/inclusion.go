package babylon

import (
	"bytes"
	"context"
	"fmt"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/chain"
)

// MainnetConfirmationDepth is Babylon's btc_confirmation_depth on bbn-1
// (the x/btccheckpoint parameter "k"): a staking transaction's block must
// be at least this many blocks below the Bitcoin tip Babylon sees.
const MainnetConfirmationDepth = 30

// merkleParent is Bitcoin's inner Merkle node: double SHA-256 of the two
// children, each in internal byte order.
func merkleParent(l, r *chainhash.Hash) chainhash.Hash {
	var buf [2 * chainhash.HashSize]byte
	copy(buf[:], l[:])
	copy(buf[chainhash.HashSize:], r[:])
	return chainhash.DoubleHashH(buf[:])
}

// ProveInBlock builds the inclusion proof of transaction txid in block:
//
//  1. Find txid among the block's transactions (by txid, without witness):
//     its position is the key's index (ErrNotInBlock when absent).
//  2. Refuse index 0, the coinbase (ErrCoinbase): Babylon refuses it.
//  3. From the list of txids, for each level up to the root, record the
//     sibling of the node on the path (the node itself when the level has
//     an odd count and the node is last, as Bitcoin duplicates it), and go
//     to the parent: double SHA-256 of left || right.
//  4. The proof is the siblings concatenated, bottom first, and the key
//     holds the block's hash.
//  5. Verify the proof against the block header's Merkle root (Verify);
//     a block whose transactions do not hash to its header's root gives
//     ErrInvalidProof.
func ProveInBlock(block *wire.MsgBlock, txid chainhash.Hash) (*InclusionProof, error) {
	if block == nil || len(block.Transactions) == 0 {
		return nil, fmt.Errorf("%w: no block, or a block without transactions", ErrNotInBlock)
	}
	// Step 1.
	level := make([]chainhash.Hash, len(block.Transactions))
	idx := -1
	for i, tx := range block.Transactions {
		if tx == nil {
			return nil, fmt.Errorf("%w: block %s has a nil transaction at %d", ErrInvalidProof, block.BlockHash(), i)
		}
		level[i] = tx.TxHash()
		if level[i] == txid && idx < 0 {
			idx = i
		}
	}
	if idx < 0 {
		return nil, fmt.Errorf("%w: transaction %s is not in block %s", ErrNotInBlock, txid, block.BlockHash())
	}
	// Step 2.
	if idx == 0 {
		return nil, fmt.Errorf("%w: transaction %s is the coinbase of block %s", ErrCoinbase, txid, block.BlockHash())
	}
	// Step 3.
	var proof []byte
	pos := idx
	for len(level) > 1 {
		sib := pos ^ 1
		if sib >= len(level) {
			sib = pos
		}
		proof = append(proof, level[sib][:]...)
		next := make([]chainhash.Hash, (len(level)+1)/2)
		for i := range next {
			l := &level[2*i]
			r := l
			if 2*i+1 < len(level) {
				r = &level[2*i+1]
			}
			next[i] = merkleParent(l, r)
		}
		level, pos = next, pos/2
	}
	// Step 4.
	p := &InclusionProof{Key: TransactionKey{Index: uint32(idx), Block: block.BlockHash()}, Proof: proof}
	// Step 5.
	if err := p.Verify(txid, &block.Header); err != nil {
		return nil, err
	}
	return p, nil
}

// Verify checks the proof for transaction txid against a block header, as
// Babylon's btccheckpoint verify does, and a little stricter:
//
//  1. The header's hash is the key's block hash.
//  2. The proof is a whole number of 32-byte hashes, at least one (a
//     transaction alone in its block is the coinbase, which is refused),
//     and the key's index fits that many levels.
//  3. Start from txid; for each sibling, bottom first, the current node
//     is the right child when that level's bit of the index is 1
//     (parent = H(sibling || current)), else the left (H(current ||
//     sibling)).
//  4. The result must be the header's Merkle root.
func (p *InclusionProof) Verify(txid chainhash.Hash, header *wire.BlockHeader) error {
	if p == nil || header == nil {
		return fmt.Errorf("%w: no proof or no header", ErrInvalidProof)
	}
	// Step 1.
	if h := header.BlockHash(); h != p.Key.Block {
		return fmt.Errorf("%w: the header is block %s, the proof names block %s", ErrInvalidProof, h, p.Key.Block)
	}
	// Step 2.
	n := len(p.Proof) / chainhash.HashSize
	if len(p.Proof)%chainhash.HashSize != 0 || n == 0 {
		return fmt.Errorf("%w: a proof of %d bytes is not a non-empty list of 32-byte hashes", ErrInvalidProof, len(p.Proof))
	}
	if n < 32 && uint64(p.Key.Index)>>n != 0 {
		return fmt.Errorf("%w: index %d does not fit a branch of %d levels", ErrInvalidProof, p.Key.Index, n)
	}
	if p.Key.Index == 0 {
		return fmt.Errorf("%w: index 0 is the coinbase", ErrCoinbase)
	}
	// Step 3.
	cur := txid
	idx := p.Key.Index
	for i := 0; i < n; i++ {
		var sib chainhash.Hash
		copy(sib[:], p.Proof[i*chainhash.HashSize:])
		if idx&1 == 1 {
			cur = merkleParent(&sib, &cur)
		} else {
			cur = merkleParent(&cur, &sib)
		}
		idx >>= 1
	}
	// Step 4.
	if !bytes.Equal(cur[:], header.MerkleRoot[:]) {
		return fmt.Errorf("%w: transaction %s at index %d does not hash to the Merkle root of block %s", ErrInvalidProof, txid, p.Key.Index, p.Key.Block)
	}
	return nil
}

// DepthRule is how deep a transaction's block must be below the tip.
type DepthRule struct {
	// ConfirmationDepth is Babylon's k: the tip's height less the block's
	// height must be at least this (MainnetConfirmationDepth on bbn-1).
	// Babylon counts depth so, from 0 for a block at the tip; a node's
	// "confirmations" count is one more.
	ConfirmationDepth uint32
	// AllowShallow accepts a block less deep (to prepare a proof before
	// it is deep enough to be accepted; Babylon will refuse it until then).
	AllowShallow bool
}

// Check applies the rule to a block at height below a tip at tipHeight.
func (r DepthRule) Check(height, tipHeight int64) error {
	depth := tipHeight - height
	if depth < 0 {
		return fmt.Errorf("%w: block height %d above tip %d", ErrShallow, height, tipHeight)
	}
	if depth < int64(r.ConfirmationDepth) && !r.AllowShallow {
		return fmt.Errorf("%w: the block at height %d is %d below the tip (%d), Babylon requires %d (allow shallow to build it anyway)",
			ErrShallow, height, depth, tipHeight, r.ConfirmationDepth)
	}
	return nil
}

// ProvenTx is a confirmed transaction with its inclusion proof, the header
// of its block and where that block stood when it was read.
type ProvenTx struct {
	Tx     *wire.MsgTx
	Proof  *InclusionProof
	Header wire.BlockHeader
	// Height is the block's height, TipHeight the node's tip when the
	// proof was made.
	Height, TipHeight int64
}

// Depth is the block's depth below the tip as Babylon counts it.
func (p *ProvenTx) Depth() int64 { return p.TipHeight - p.Height }

// check verifies the proof against the header for the transaction.
func (p *ProvenTx) check() error {
	if p == nil || p.Tx == nil || p.Proof == nil {
		return fmt.Errorf("%w: no transaction or no proof", ErrInvalidProof)
	}
	return p.Proof.Verify(p.Tx.TxHash(), &p.Header)
}

// ProveFromNode fetches from a Bitcoin node the block that confirms
// transaction txid and builds its inclusion proof:
//
//  1. Find the transaction (c.FindTransaction with search: by id, or by
//     reading blocks on a node without a transaction index);
//     ErrUnconfirmed while it is in the mempool.
//  2. Read its block and the tip; ProveInBlock (refusing the coinbase,
//     checking the Merkle root).
//  3. Apply rule to the block's height and the tip (ErrShallow).
//
// Node failures wrap package chain's kinds.
func ProveFromNode(ctx context.Context, c *chain.Client, txid chainhash.Hash, search chain.TxSearch, rule DepthRule) (*ProvenTx, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: no node client", chain.ErrInvalidArgument)
	}
	// Step 1.
	info, err := c.FindTransaction(ctx, txid, search)
	if err != nil {
		return nil, err
	}
	if !info.Confirmed() {
		return nil, fmt.Errorf("%w: transaction %s is in the mempool", ErrUnconfirmed, txid)
	}
	// Step 2.
	block, err := c.Block(ctx, info.Block)
	if err != nil {
		return nil, err
	}
	tip, err := c.Tip(ctx)
	if err != nil {
		return nil, err
	}
	hdr, err := c.BlockHeader(ctx, info.Block)
	if err != nil {
		return nil, err
	}
	if hdr.Confirmations < 1 {
		return nil, fmt.Errorf("%w: block %s of transaction %s left the main chain", ErrUnconfirmed, info.Block, txid)
	}
	proof, err := ProveInBlock(block, txid)
	if err != nil {
		return nil, err
	}
	var tx *wire.MsgTx
	for _, t := range block.Transactions {
		if t.TxHash() == txid {
			tx = t
			break
		}
	}
	if tx == nil { // ProveInBlock found it; unreachable
		return nil, fmt.Errorf("%w: transaction %s", ErrNotInBlock, txid)
	}
	// Step 3.
	if err := rule.Check(hdr.Height, tip.Height); err != nil {
		return nil, err
	}
	return &ProvenTx{Tx: tx.Copy(), Proof: proof, Header: block.Header, Height: hdr.Height, TipHeight: tip.Height}, nil
}

package chain

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// DefaultMaxTxScanBlocks bounds the blocks FindTransaction and
// WaitConfirmations read when TxSearch leaves MaxBlocks at zero: a week
// of blocks.
const DefaultMaxTxScanBlocks = 1008

// TxSearch says which blocks to read for a confirmed transaction on a node
// without a transaction index (a node with one finds it by id). Blocks
// are read as lists of transaction ids (getblock verbosity 1): some
// hundred kilobytes for a full mainnet block, not its megabytes.
type TxSearch struct {
	// FromHeight, above 0, is a height at or below the block that confirms
	// the transaction (the tip when it was broadcast, say): blocks are read
	// upwards from it, at most MaxBlocks of them. 0 means it is not known:
	// blocks are read downwards from the tip, at most MaxBlocks of them
	// (never the genesis block, whose coinbase no node serves).
	FromHeight int64
	// MaxBlocks bounds the blocks read; 0 means DefaultMaxTxScanBlocks.
	MaxBlocks int64
	// Progress, when set, is called after each past block read (not for
	// the new blocks a wait reads as they come).
	Progress func(ScanProgress)
}

// ScanProgress is how far a block scan has got.
type ScanProgress struct {
	// Height is that of the block just read.
	Height int64
	// Read counts the blocks read so far, Total those the scan reads at
	// most.
	Read, Total int64
}

func (s TxSearch) check() (TxSearch, error) {
	if s.FromHeight < 0 {
		return s, fmt.Errorf("%w: negative start height %d", ErrInvalidArgument, s.FromHeight)
	}
	if s.MaxBlocks < 0 {
		return s, fmt.Errorf("%w: negative block count", ErrInvalidArgument)
	}
	if s.MaxBlocks == 0 {
		s.MaxBlocks = DefaultMaxTxScanBlocks
	}
	return s, nil
}

// blockSummary is a block as getblock verbosity 1 describes it.
type blockSummary struct {
	Hash          chainhash.Hash
	Height        int64
	Confirmations int64          // -1 when the block is off the main chain (bitcoind)
	Prev, Next    chainhash.Hash // zero when there is none
	MerkleRoot    chainhash.Hash // the header's (commitsTo checks Txids against it)
	Txids         []chainhash.Hash
}

func (b *blockSummary) has(txid chainhash.Hash) bool {
	for _, id := range b.Txids {
		if id == txid {
			return true
		}
	}
	return false
}

// blockTxids returns a block's height, neighbours and transaction ids.
func (c *Client) blockTxids(ctx context.Context, hash chainhash.Hash) (*blockSummary, error) {
	res, err := c.call(ctx, "getblock", hash.String(), 1)
	if err != nil {
		return nil, c.notFound("getblock", "block "+hash.String(), err)
	}
	return parseBlockSummary(res, hash)
}

// parseBlockSummary reads getblock's verbosity-1 reply for block hash:
//
//  1. Decode it; its "hash" must be hash, its height not negative.
//  2. Rebuild the 80-byte header from the reply's version, previous block,
//     Merkle root, time, bits and nonce: it must hash to hash, so the
//     previous block and the Merkle root are the block's own (a block
//     other than the genesis block has a previous block).
//  3. Decode the transaction ids (commitsTo checks them against the
//     Merkle root when a block's list is relied on).
func parseBlockSummary(res json.RawMessage, hash chainhash.Hash) (*blockSummary, error) {
	// Step 1.
	var v struct {
		Hash          string     `json:"hash"`
		Height        int64      `json:"height"`
		Confirmations int64      `json:"confirmations"`
		Version       int32      `json:"version"`
		MerkleRoot    string     `json:"merkleroot"`
		Time          uint32     `json:"time"`
		Bits          string     `json:"bits"`
		Nonce         uint32     `json:"nonce"`
		Prev          string     `json:"previousblockhash"`
		Next          string     `json:"nextblockhash"`
		Tx            []txidJSON `json:"tx"`
	}
	if err := decode(res, &v, "getblock"); err != nil {
		return nil, err
	}
	b := &blockSummary{Height: v.Height, Confirmations: v.Confirmations, Txids: make([]chainhash.Hash, len(v.Tx))}
	var err error
	if b.Hash, err = parseHash(v.Hash, "getblock"); err != nil {
		return nil, err
	}
	if b.Hash != hash || v.Height < 0 {
		return nil, fmt.Errorf("%w: getblock %s returned block %s at height %d", ErrBadReply, hash, v.Hash, v.Height)
	}
	for _, h := range []struct {
		s   string
		out *chainhash.Hash
	}{{v.Prev, &b.Prev}, {v.Next, &b.Next}, {v.MerkleRoot, &b.MerkleRoot}} {
		if h.s == "" {
			continue
		}
		if *h.out, err = parseHash(h.s, "getblock"); err != nil {
			return nil, err
		}
	}
	// Step 2.
	bits, err := strconv.ParseUint(v.Bits, 16, 32)
	if err != nil || len(v.Bits) != 8 {
		return nil, fmt.Errorf("%w: getblock %s: bits %q are not 8 hex digits", ErrBadReply, hash, v.Bits)
	}
	hdr := wire.BlockHeader{Version: v.Version, PrevBlock: b.Prev, MerkleRoot: b.MerkleRoot,
		Timestamp: time.Unix(int64(v.Time), 0), Bits: uint32(bits), Nonce: v.Nonce}
	if got := hdr.BlockHash(); got != hash {
		return nil, fmt.Errorf("%w: getblock %s: the header fields of the reply hash to %s", ErrBadReply, hash, got)
	}
	if v.Height > 0 && b.Prev == (chainhash.Hash{}) {
		return nil, fmt.Errorf("%w: getblock %s: block %d has no previous block", ErrBadReply, hash, v.Height)
	}
	// Step 3.
	for i, id := range v.Tx {
		b.Txids[i] = chainhash.Hash(id)
	}
	return b, nil
}

// txidJSON is a transaction id as the nodes print it (64 hex digits, byte
// order reversed), decoded without a string per id.
type txidJSON chainhash.Hash

func (h *txidJSON) UnmarshalJSON(b []byte) error {
	if len(b) != 2+2*chainhash.HashSize || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("not a transaction id: %.80s", b)
	}
	var raw [chainhash.HashSize]byte
	if _, err := hex.Decode(raw[:], b[1:len(b)-1]); err != nil {
		return fmt.Errorf("not a transaction id: %s", b)
	}
	for i := range raw {
		h[i] = raw[chainhash.HashSize-1-i]
	}
	return nil
}

// txScanner looks for a transaction in the main chain's blocks: first the
// past blocks a TxSearch names (history), then, on every later call, the
// blocks that have joined the main chain since (follow), reading upwards
// from the highest block it has read that is still on the main chain, so
// a reorganisation's new blocks are read too.
type txScanner struct {
	c    *Client
	txid chainhash.Hash
	s    TxSearch
	// seen holds every block read (MaxBlocks at most for the history,
	// plus the blocks mined while a wait lasts).
	seen map[chainhash.Hash]struct{}
	// floor is the lowest height searched, top the highest read (floor-1
	// before any), tip the tip's height when history began.
	floor, top, tip int64
}

func newTxScanner(c *Client, txid chainhash.Hash, s TxSearch) *txScanner {
	return &txScanner{c: c, txid: txid, s: s, seen: make(map[chainhash.Hash]struct{})}
}

// read reads the block hash, which must stand at height (the height it was
// asked for, or the one below or above the block it was reached from),
// and reports it when report is set. A block that holds the transaction
// must prove it (commitsTo) before it is returned as the one that does.
func (t *txScanner) read(ctx context.Context, hash chainhash.Hash, height int64, p *ScanProgress, report bool) (*blockSummary, error) {
	b, err := t.c.blockTxids(ctx, hash)
	if err != nil {
		return nil, err
	}
	if b.Height != height {
		return nil, fmt.Errorf("%w: getblock %s says height %d, where height %d was expected", ErrBadReply, hash, b.Height, height)
	}
	if b.has(t.txid) {
		if err := b.commitsTo(t.txid); err != nil {
			return nil, err
		}
	}
	t.seen[hash] = struct{}{}
	t.top = max(t.top, b.Height)
	p.Height, p.Read = b.Height, p.Read+1
	if report && t.s.Progress != nil {
		t.s.Progress(*p)
	}
	return b, nil
}

// history reads the blocks the search names and returns the one holding
// the transaction, nil when none does. It is ErrNotFound when an upward
// scan from FromHeight stops MaxBlocks short of the tip.
func (t *txScanner) history(ctx context.Context) (*blockSummary, error) {
	clear(t.seen)
	tip, err := t.c.Tip(ctx)
	if err != nil {
		return nil, err
	}
	t.tip = tip.Height
	if t.s.FromHeight == 0 {
		// Downwards from the tip, following each block's parent (which
		// its header, checked by blockTxids, commits to).
		t.floor = max(1, tip.Height-t.s.MaxBlocks+1)
		t.top = tip.Height
		p := ScanProgress{Total: max(0, tip.Height-t.floor+1)}
		hash := tip.Hash
		for h := tip.Height; h >= t.floor; h-- {
			b, err := t.read(ctx, hash, h, &p, true)
			if err != nil {
				return nil, err
			}
			if b.has(t.txid) {
				return b, nil
			}
			hash = b.Prev
		}
		return nil, nil
	}
	t.floor, t.top = t.s.FromHeight, t.s.FromHeight-1
	if t.s.FromHeight > tip.Height {
		return nil, nil // nothing mined there yet: follow will read it
	}
	p := ScanProgress{Total: min(t.s.MaxBlocks, tip.Height-t.s.FromHeight+1)}
	hash, err := t.c.BlockHash(ctx, t.s.FromHeight)
	if err != nil {
		return nil, err
	}
	b, err := t.up(ctx, hash, t.s.FromHeight, &p, t.s.MaxBlocks, true)
	if err == nil && b == nil && p.Read == t.s.MaxBlocks && t.top < tip.Height {
		err = fmt.Errorf("%w: transaction %s is not in blocks %d..%d, and the scan stops there, short of the tip",
			ErrNotFound, t.txid, t.s.FromHeight, t.top)
	}
	return b, err
}

// up reads blocks upwards from hash, the block at height, following each
// block's successor (which must name it as its previous block), up to the
// tip or limit blocks (0: no limit).
func (t *txScanner) up(ctx context.Context, hash chainhash.Hash, height int64, p *ScanProgress, limit int64, report bool) (*blockSummary, error) {
	var below chainhash.Hash
	for {
		b, err := t.read(ctx, hash, height, p, report)
		if err != nil {
			return nil, err
		}
		if below != (chainhash.Hash{}) && b.Prev != below {
			return nil, fmt.Errorf("%w: getblock %s: the node named it as the block after %s, but it builds on %s", ErrBadReply, hash, below, b.Prev)
		}
		if b.has(t.txid) {
			return b, nil
		}
		if b.Next == (chainhash.Hash{}) || (limit > 0 && p.Read == limit) {
			return nil, nil
		}
		below, hash, height = hash, b.Next, height+1
	}
}

// follow reads the main-chain blocks not read yet: from the highest block
// read that is still on the main chain (the fork point, after a
// reorganisation), upwards to the tip. A reorganisation deeper than
// MaxBlocks blocks starts the search over (history).
func (t *txScanner) follow(ctx context.Context) (*blockSummary, error) {
	tip, err := t.c.Tip(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := t.seen[tip.Hash]; ok {
		return nil, nil
	}
	// The fork point: the highest height whose main-chain block was read.
	h := min(t.top, tip.Height)
	for steps := int64(0); h >= t.floor; h, steps = h-1, steps+1 {
		if steps == t.s.MaxBlocks {
			return t.history(ctx)
		}
		hash, err := t.c.BlockHash(ctx, h)
		if err != nil {
			return nil, err
		}
		if _, ok := t.seen[hash]; ok {
			break
		}
	}
	from := max(h+1, t.floor)
	if from > tip.Height {
		return nil, nil
	}
	hash, err := t.c.BlockHash(ctx, from)
	if err != nil {
		return nil, err
	}
	var p ScanProgress
	return t.up(ctx, hash, from, &p, 0, false)
}

// FindTransaction finds a transaction by id: in the mempool, by the node's
// transaction index, and on a node without one by reading the blocks s
// names (see TxSearch). It is ErrNotFound when none of them holds it.
func (c *Client) FindTransaction(ctx context.Context, txid chainhash.Hash, s TxSearch) (*TxInfo, error) {
	s, err := s.check()
	if err != nil {
		return nil, err
	}
	info, err := c.Transaction(ctx, txid)
	if !errors.Is(err, ErrNotFound) {
		return info, err
	}
	if ix, err := c.TxIndex(ctx); err != nil {
		return nil, err
	} else if ix == TxIndexOn {
		return nil, fmt.Errorf("%w: transaction %s is in neither the mempool nor the node's transaction index", ErrNotFound, txid)
	}
	t := newTxScanner(c, txid, s)
	b, err := t.history(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case b == nil && t.floor > t.tip:
		return nil, fmt.Errorf("%w: transaction %s is not in the mempool, and the tip (height %d) is below the start height %d (the node keeps no transaction index)",
			ErrNotFound, txid, t.tip, t.floor)
	case b == nil:
		return nil, fmt.Errorf("%w: transaction %s is in neither the mempool nor blocks %d..%d (the node keeps no transaction index)",
			ErrNotFound, txid, t.floor, t.tip)
	}
	return c.TransactionInBlock(ctx, txid, b.Hash)
}

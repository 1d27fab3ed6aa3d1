package chain

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// Tip is the node's best block.
type Tip struct {
	Height int64
	Hash   chainhash.Hash
}

// Tip returns the height and hash of the node's best block.
func (c *Client) Tip(ctx context.Context) (Tip, error) {
	info, err := c.ChainInfo(ctx)
	if err != nil {
		return Tip{}, err
	}
	return Tip{Height: info.Blocks, Hash: info.BestBlock}, nil
}

// Height returns the height of the node's best block.
func (c *Client) Height(ctx context.Context) (int64, error) {
	var h int64
	err := c.into(ctx, &h, "getblockcount")
	return h, err
}

// BlockHash returns the hash of the main-chain block at height
// (ErrNotFound above the tip).
func (c *Client) BlockHash(ctx context.Context, height int64) (chainhash.Hash, error) {
	if height < 0 {
		return chainhash.Hash{}, fmt.Errorf("%w: block height %d", ErrInvalidArgument, height)
	}
	res, err := c.call(ctx, "getblockhash", height)
	if err != nil {
		return chainhash.Hash{}, c.notFound("getblockhash", fmt.Sprintf("block at height %d", height), err)
	}
	var s string
	if err := decode(res, &s, "getblockhash"); err != nil {
		return chainhash.Hash{}, err
	}
	return parseHash(s, "getblockhash")
}

// BlockHeader is what the node says about a block besides its contents.
type BlockHeader struct {
	Hash   chainhash.Hash
	Height int64
	// Confirmations counts the block and those above it; -1 when the
	// block is not on the main chain (any more).
	Confirmations int64
}

// BlockHeader returns the height and confirmations of a block; the reply
// must describe the block asked for.
func (c *Client) BlockHeader(ctx context.Context, hash chainhash.Hash) (BlockHeader, error) {
	res, err := c.call(ctx, "getblockheader", hash.String(), true)
	if err != nil {
		return BlockHeader{}, c.notFound("getblockheader", "block "+hash.String(), err)
	}
	var v struct {
		Hash          string `json:"hash"`
		Height        int64  `json:"height"`
		Confirmations int64  `json:"confirmations"`
	}
	if err := decode(res, &v, "getblockheader"); err != nil {
		return BlockHeader{}, err
	}
	if v.Hash != hash.String() || v.Height < 0 {
		return BlockHeader{}, fmt.Errorf("%w: getblockheader %s described block %q at height %d", ErrBadReply, hash, v.Hash, v.Height)
	}
	return BlockHeader{Hash: hash, Height: v.Height, Confirmations: v.Confirmations}, nil
}

// Block returns a block by hash: its header hashes to hash, and its
// transactions are the ones the header commits to (Merkle root, and the
// witness commitment when transactions carry witnesses), so none was
// swapped, dropped or given another witness.
func (c *Client) Block(ctx context.Context, hash chainhash.Hash) (*wire.MsgBlock, error) {
	res, err := c.call(ctx, "getblock", hash.String(), 0)
	if err != nil {
		return nil, c.notFound("getblock", "block "+hash.String(), err)
	}
	var s string
	if err := decode(res, &s, "getblock"); err != nil {
		return nil, err
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: getblock %s: bad hex", ErrBadReply, hash)
	}
	b := new(wire.MsgBlock)
	if err := b.Deserialize(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("%w: getblock %s: %v", ErrBadReply, hash, err)
	}
	if got := b.BlockHash(); got != hash {
		return nil, fmt.Errorf("%w: getblock %s returned block %s", ErrBadReply, hash, got)
	}
	if err := checkBlockTxs(b); err != nil {
		return nil, fmt.Errorf("%w: getblock: %v", ErrBadReply, err)
	}
	return b, nil
}

// BlockAt returns the main-chain block at height and its hash: the block
// getblockhash names there, whose header the node must place at that
// height too (BlockHeader).
func (c *Client) BlockAt(ctx context.Context, height int64) (*wire.MsgBlock, chainhash.Hash, error) {
	h, err := c.BlockHash(ctx, height)
	if err != nil {
		return nil, chainhash.Hash{}, err
	}
	b, err := c.Block(ctx, h)
	if err != nil {
		return nil, chainhash.Hash{}, err
	}
	hdr, err := c.BlockHeader(ctx, h)
	if err != nil {
		return nil, chainhash.Hash{}, err
	}
	if hdr.Height != height {
		return nil, chainhash.Hash{}, fmt.Errorf("%w: getblockhash %d named block %s, which the node places at height %d", ErrBadReply, height, h, hdr.Height)
	}
	return b, h, nil
}

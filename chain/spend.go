package chain

import (
	"context"
	"fmt"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// Spend is a transaction that spends an outpoint, and where it is.
type Spend struct {
	Tx   *wire.MsgTx
	Txid chainhash.Hash
	// Input is the index of the spending input in Tx.
	Input int
	// Height and Block locate the block that confirms Tx; Height is -1
	// and Block zero while it waits in the mempool.
	Height int64
	Block  chainhash.Hash
}

// Confirmed reports whether the spend is in a block.
func (s *Spend) Confirmed() bool { return s.Height >= 0 }

// DefaultMaxScanBlocks bounds FindSpend's block scan when SpendSearch
// leaves MaxBlocks at zero.
const DefaultMaxScanBlocks = 100_000

// SpendSearch says where FindSpend looks for a confirmed spend.
type SpendSearch struct {
	// FromHeight is the first block to read: the height that confirmed
	// the output is the natural start (a spend cannot come earlier). A
	// negative value starts at the tip.
	FromHeight int64
	// MaxBlocks bounds the blocks read; 0 means DefaultMaxScanBlocks.
	MaxBlocks int64
	// Progress, when set, is called after each block read.
	Progress func(ScanProgress)
}

func spendingInput(tx *wire.MsgTx, op wire.OutPoint) int {
	for i, in := range tx.TxIn {
		if in.PreviousOutPoint == op {
			return i
		}
	}
	return -1
}

// FindSpend returns the transaction spending op, or nil when op is
// unspent (mempool included). It asks the node's UTXO set first, then the
// mempool, then reads blocks from s.FromHeight up to the tip, so it needs
// no transaction index. An output that is neither unspent nor spent
// within the scanned blocks is ErrNotFound.
func (c *Client) FindSpend(ctx context.Context, op wire.OutPoint, s SpendSearch) (*Spend, error) {
	if s.MaxBlocks < 0 {
		return nil, fmt.Errorf("%w: negative block count", ErrInvalidArgument)
	}
	if s.MaxBlocks == 0 {
		s.MaxBlocks = DefaultMaxScanBlocks
	}
	unspent, err := c.gettxout(ctx, op)
	if err != nil {
		return nil, err
	}
	// A mempool spend: gettxout of bitcoind already says "spent", btcd's
	// does not; ask both.
	if id, ok, err := c.MempoolSpender(ctx, op); err != nil {
		return nil, err
	} else if ok {
		info, err := c.Transaction(ctx, id) // mempool transactions need no index
		if err != nil {
			return nil, err
		}
		i := spendingInput(info.Tx, op)
		if i < 0 {
			return nil, fmt.Errorf("%w: the node named %s as the spender of %s, which it does not spend", ErrBadReply, id, op)
		}
		return &Spend{Tx: info.Tx, Txid: id, Input: i, Height: info.Height, Block: info.Block}, nil
	}
	if unspent != nil {
		return nil, nil
	}
	tip, err := c.Height(ctx)
	if err != nil {
		return nil, err
	}
	from := s.FromHeight
	if from < 0 || from > tip {
		from = tip
	}
	last := min(tip, from+s.MaxBlocks-1)
	p := ScanProgress{Total: last - from + 1}
	for h := from; h <= last; h++ {
		b, hash, err := c.BlockAt(ctx, h)
		if err != nil {
			return nil, err
		}
		if s.Progress != nil {
			p.Height, p.Read = h, p.Read+1
			s.Progress(p)
		}
		for _, tx := range b.Transactions {
			if i := spendingInput(tx, op); i >= 0 {
				return &Spend{Tx: tx, Txid: tx.TxHash(), Input: i, Height: h, Block: hash}, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: output %s is spent or unknown, and no spend of it is in blocks %d..%d", ErrNotFound, op, from, last)
}

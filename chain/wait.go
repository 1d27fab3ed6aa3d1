package chain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// DefaultPollInterval is how often WaitConfirmations asks the node when
// WaitOptions leaves Interval at zero.
const DefaultPollInterval = time.Second

// WaitOptions tune WaitConfirmations. The zero value polls every second,
// keeps polling while the node does not know the transaction, and on a
// node without a transaction index reads at most DefaultMaxTxScanBlocks
// past blocks.
type WaitOptions struct {
	// Interval between polls; 0 means DefaultPollInterval.
	Interval time.Duration
	// Tx, when given, is the awaited transaction itself: it lets a node
	// without a transaction index be followed through its outputs (see
	// Locate). Its id must be the awaited txid.
	Tx *wire.MsgTx
	// FailIfUnknown ends the wait at once with ErrNotFound when the node
	// does not know the transaction (the mempool, the index, or the past
	// blocks Search names), instead of waiting for it to appear.
	FailIfUnknown bool
	// Progress, when set, is called with the confirmation count each time
	// it changes (and at the first answer).
	Progress func(confirmations int64)
	// Search says which past blocks to read for the transaction on a node
	// without a transaction index, the first time neither the mempool nor
	// its outputs show it (see TxSearch); after that, every block that
	// joins the main chain is read as it comes.
	Search TxSearch
}

// WaitConfirmations polls the node until txid has at least confs
// confirmations and returns the count. It mines nothing. It needs no
// transaction index: it finds the transaction in the mempool, by its
// unspent outputs (WaitOptions.Tx), or in the blocks, bounded by
// WaitOptions.Search for the past and following each new block, and it
// counts again from scratch when a reorganisation takes the block away.
// It ends with ErrTimeout (wrapping the context's error, and saying how
// far it got) when ctx ends first, and at once with any error polling
// cannot cure (unreachable node, wrong credentials, a bad reply).
func (c *Client) WaitConfirmations(ctx context.Context, txid chainhash.Hash, confs int64, opts WaitOptions) (int64, error) {
	if confs < 1 {
		return 0, fmt.Errorf("%w: wait for %d confirmations (want at least 1)", ErrInvalidArgument, confs)
	}
	if opts.Tx != nil && opts.Tx.TxHash() != txid {
		return 0, fmt.Errorf("%w: WaitOptions.Tx is %s, not %s", ErrInvalidArgument, opts.Tx.TxHash(), txid)
	}
	interval := opts.Interval
	if interval < 0 {
		return 0, fmt.Errorf("%w: negative poll interval", ErrInvalidArgument)
	}
	if interval == 0 {
		interval = DefaultPollInterval
	}
	search, err := opts.Search.check()
	if err != nil {
		return 0, err
	}
	w := &waiter{c: c, txid: txid, tx: opts.Tx, scan: newTxScanner(c, txid, search)}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	last := int64(-1)
	for {
		n, known, err := w.poll(ctx)
		switch {
		case err == nil && known:
			if n != last {
				last = n
				if opts.Progress != nil {
					opts.Progress(last)
				}
			}
			if last >= confs {
				return last, nil
			}
		case err == nil && opts.FailIfUnknown:
			return max(last, 0), fmt.Errorf("%w: transaction %s: the node does not know it", ErrNotFound, txid)
		case err == nil:
			// Not broadcast yet (or evicted): keep asking.
		case errors.Is(err, ErrTimeout) && ctx.Err() != nil:
			return max(last, 0), waitTimeout(ctx, txid, last, confs)
		default:
			return max(last, 0), err
		}
		select {
		case <-ctx.Done():
			return max(last, 0), waitTimeout(ctx, txid, last, confs)
		case <-tick.C:
		}
	}
}

// waiter is the state of one WaitConfirmations.
type waiter struct {
	c    *Client
	txid chainhash.Hash
	tx   *wire.MsgTx
	scan *txScanner
	// block and height are where the transaction was found confirmed;
	// nil until then, and again after a reorganisation takes it away.
	block  *chainhash.Hash
	height int64
	// started: the past blocks have been read.
	started bool
}

// poll returns the confirmations of the transaction, known false when the
// node does not know it.
func (w *waiter) poll(ctx context.Context) (int64, bool, error) {
	if w.block != nil {
		n, err := w.confirmationsOf(ctx)
		if err != nil || n > 0 {
			return n, n > 0, err
		}
		w.block = nil // reorganised away: find it again
	}
	var info *TxInfo
	var err error
	if w.tx != nil {
		info, err = w.c.Locate(ctx, w.tx)
	} else {
		info, err = w.c.Transaction(ctx, w.txid)
	}
	switch {
	case err == nil:
		if info.Confirmed() {
			w.block, w.height = &info.Block, info.Height
		}
		return info.Confirmations, true, nil
	case !errors.Is(err, ErrNotFound):
		return 0, false, err
	}
	if ix, err := w.c.TxIndex(ctx); err != nil || ix == TxIndexOn {
		return 0, false, err // the index will show it once mined
	}
	var b *blockSummary
	if !w.started {
		b, err = w.scan.history(ctx)
		w.started = err == nil
	} else {
		b, err = w.scan.follow(ctx)
	}
	if err != nil || b == nil {
		return 0, false, err
	}
	w.block, w.height = &b.Hash, b.Height
	n, err := w.confirmationsOf(ctx)
	if err != nil || n > 0 {
		return n, n > 0, err
	}
	w.block = nil
	return 0, false, nil
}

// confirmationsOf counts the confirmations of the block the transaction
// was found in: 0 when that block has left the main chain (bitcoind says
// -1 confirmations; btcd refuses to describe a block off the main chain,
// so its height is asked for the hash there now).
func (w *waiter) confirmationsOf(ctx context.Context) (int64, error) {
	hdr, err := w.c.BlockHeader(ctx, *w.block)
	if err == nil {
		return max(hdr.Confirmations, 0), nil
	}
	if !errors.Is(err, ErrRPC) && !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	at, herr := w.c.BlockHash(ctx, w.height)
	if herr == nil && at != *w.block || errors.Is(herr, ErrNotFound) {
		return 0, nil
	}
	return 0, err
}

func waitTimeout(ctx context.Context, txid chainhash.Hash, last, confs int64) error {
	if last < 0 {
		return fmt.Errorf("%w: %s is still unknown to the node: %w", ErrTimeout, txid, ctx.Err())
	}
	return fmt.Errorf("%w: %s has %d of %d confirmations: %w", ErrTimeout, txid, last, confs, ctx.Err())
}

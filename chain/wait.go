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

// WaitOptions tune WaitConfirmations. The zero value polls every second
// and keeps polling while the node does not know the transaction.
type WaitOptions struct {
	// Interval between polls; 0 means DefaultPollInterval.
	Interval time.Duration
	// Tx, when given, is the awaited transaction itself: it lets a node
	// without a transaction index be followed through its outputs (see
	// Locate). Its id must be the awaited txid.
	Tx *wire.MsgTx
	// FailIfUnknown ends the wait at once with ErrNotFound when the node
	// does not know the transaction, instead of waiting for it to appear.
	FailIfUnknown bool
	// Progress, when set, is called with the confirmation count each time
	// it changes (and at the first answer).
	Progress func(confirmations int64)
}

// WaitConfirmations polls the node until txid has at least confs
// confirmations and returns the count. It mines nothing. It ends with
// ErrTimeout (wrapping the context's error, and saying how far it got)
// when ctx ends first, and at once with any error polling cannot cure
// (unreachable node, wrong credentials, a bad reply).
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
	tick := time.NewTicker(interval)
	defer tick.Stop()
	last := int64(-1)
	for {
		var info *TxInfo
		var err error
		if opts.Tx != nil {
			info, err = c.Locate(ctx, opts.Tx)
		} else {
			info, err = c.Transaction(ctx, txid)
		}
		switch {
		case err == nil:
			if info.Confirmations != last {
				last = info.Confirmations
				if opts.Progress != nil {
					opts.Progress(last)
				}
			}
			if last >= confs {
				return last, nil
			}
		case errors.Is(err, ErrNotFound) && !opts.FailIfUnknown:
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

func waitTimeout(ctx context.Context, txid chainhash.Hash, last, confs int64) error {
	if last < 0 {
		return fmt.Errorf("%w: %s is still unknown to the node: %w", ErrTimeout, txid, ctx.Err())
	}
	return fmt.Errorf("%w: %s has %d of %d confirmations: %w", ErrTimeout, txid, last, confs, ctx.Err())
}

package watch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/btcstake/btcstake/chain"
)

// Backfill: bringing delegations added late up to the cursor.
//
// An entry that Add (or AddFrom) stores when the follower has already
// processed blocks that may concern it (from its start, or from the
// AddFrom height, up to the cursor) is recorded in the backfill bucket
// with the first block it has not been through. Until it is up to date the
// follower ignores it: no block is applied to it, no mempool transaction
// and no auto-slash concern it (blockTx.watches). Run and CatchUp, before
// they apply any block past the cursor, scan the blocks it missed:
//
//  1. The scan takes the waiting entries as its group, each from its own
//     first block, and fetches the blocks from the lowest of them up to
//     the cursor with the prefetching fetcher. Blocks below the lowest are
//     not fetched.
//  2. Each block is applied, with the follower's state machine, to the
//     entries of the group that have not been through it, and to no
//     other: the entries already followed have seen it. So the events are
//     those the follower would have produced (same block, same fields,
//     same ids), each delegation's in block order; their Seq comes after
//     the events already stored.
//  3. A block the store still keeps an undo record for (the last
//     MaxReorgDepth blocks) gets the scan's changes and events added to
//     that record, so a later reorganisation rolls them back with the
//     rest of the block and reports its events as reorged_out. A block
//     whose hash the store keeps must be the node's block at that height,
//     and each block must name the one before as its parent; otherwise
//     the scan stops, the reorganisation is handled as the follower
//     handles one (what the scan applied above the fork is rolled back
//     and the entries go back to the fork), and the scan starts again.
//  4. Blocks are committed in batches as the follower's are
//     (BatchBlocks, BatchInterval); each commit also records, for each
//     entry, the first block it has not been through. A crash loses at
//     most the uncommitted batch, which the next run scans again: as for
//     the follower, no event is lost, and a restart hands over again at
//     most the event the Handler was given last (Run).
//  5. With the block at the cursor applied, the group's records are
//     deleted in the same commit: the entries are followed from then on
//     like any other, including in the mempool and by auto-slash.
//
// A staking transaction not found in the scanned blocks leaves the entry
// pending, as for any entry: it may confirm later. Entries added while a
// scan runs wait for the next one, which starts as soon as it ends.

// bfScan is a running backfill.
type bfScan struct {
	// group: the entries it brings up to date, each with the first block
	// it applies to them.
	group    map[string]int64
	from, to int64
	// pos is the last block applied (from-1 before the first); written
	// its value when last recorded in the store; done: the group's
	// records are deleted in the open batch.
	pos, written int64
	done         bool
}

// errBackfillDue stops the follower's catch-up when entries wait for a
// backfill, so that it runs before the cursor moves further.
var errBackfillDue = errors.New("entries wait for a backfill")

// errScanReset: the store was re-read under a running scan (a failed
// write): it starts again from what is stored.
var errScanReset = errors.New("the backfill was reset")

// backfillWaiting: entries wait for a backfill.
func (w *Watcher) backfillWaiting() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.bfNext) > 0
}

// waitingBackfill: delegation id is not yet up to date with the cursor
// (callers hold w.mu).
func (w *Watcher) waitingBackfill(id string) bool {
	if len(w.bfNext) == 0 {
		return false
	}
	_, ok := w.bfNext[id]
	return ok
}

// putBackfill records the progress of the running scan in tx (from
// putMeta, at every commit): each entry of the group it has begun has
// been through the blocks up to pos.
func (w *Watcher) putBackfill(tx *bolt.Tx) error {
	s := w.scan
	if s == nil || s.done || s.pos <= s.written {
		return nil
	}
	b := tx.Bucket(bucketBackfill)
	next := be64(uint64(s.pos + 1))
	for id, first := range s.group {
		if first > s.pos {
			continue
		}
		if err := b.Put([]byte(id), next); err != nil {
			return fmt.Errorf("%w: %v", ErrStore, err)
		}
		w.bfNext[id] = s.pos + 1
	}
	s.written = s.pos
	return nil
}

// backfill runs one scan over the entries waiting for one (see above). It
// returns errReorg or errChainMoved when the node's chain is not the one
// the follower processed (the caller handles the reorganisation and calls
// again), errScanReset when it must be called again.
func (w *Watcher) backfill(ctx context.Context) (err error) {
	w.mu.Lock()
	if len(w.bfNext) == 0 {
		w.mu.Unlock()
		return nil
	}
	s := &bfScan{group: make(map[string]int64, len(w.bfNext)), to: w.cursorH}
	s.from = -1
	for id, next := range w.bfNext {
		s.group[id] = next
		if s.from < 0 || next < s.from {
			s.from = next
		}
	}
	s.pos, s.written = s.from-1, s.from-1
	w.scan = s
	var prev chainhash.Hash
	havePrev := false
	if s.from > 0 && s.from <= s.to {
		err = w.view(func(tx *bolt.Tx) error {
			if b := tx.Bucket(bucketBlocks).Get(heightKey(s.from - 1)); len(b) == 32 {
				prev, havePrev = chainhash.Hash(b), true
			}
			return nil
		})
	}
	n := len(s.group)
	w.mu.Unlock()
	if err != nil {
		return err
	}
	defer func() {
		// Make what the scan applied durable with its progress (a clean
		// stop, or a stop for a reorganisation, which handles the chain
		// from the committed state); drop it on any other error, as a
		// crash would.
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.scan != s {
			return
		}
		if err == nil || errors.Is(err, errReorg) || errors.Is(err, errChainMoved) || ctx.Err() != nil {
			if cerr := w.commitLocked(); cerr != nil && (err == nil || ctx.Err() != nil) {
				err = cerr
			}
		} else {
			w.rollbackLocked()
		}
		w.scan = nil
	}()
	w.log.Info("bringing delegations added late up to date", "delegations", n, "from", s.from, "to", s.to)
	w.setProgress(func(p *Progress) {
		p.BackfillEntries, p.BackfillFrom, p.BackfillTo, p.BackfillHeight = n, s.from, s.to, s.from-1
	})
	if s.from <= s.to {
		fctx, cancel := context.WithCancel(ctx)
		defer cancel()
		for c := range w.prefetch(fctx, s.from, s.to) {
			f, err := w.receive(ctx, c)
			if err != nil {
				return err
			}
			if f.err != nil {
				if errors.Is(f.err, chain.ErrNotFound) {
					return errChainMoved
				}
				return f.err
			}
			if havePrev && f.block.Header.PrevBlock != prev {
				return errChainMoved
			}
			stored, ok, err := w.storedHash(f.height)
			if err != nil {
				return err
			}
			if ok && stored != f.hash {
				return errReorg
			}
			prev, havePrev = f.hash, true
			if err := w.backfillStep(ctx, s, f); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	w.mu.Lock()
	if w.scan != s {
		w.mu.Unlock()
		return errScanReset
	}
	if s.pos < s.to {
		// An empty range (every entry of the group was through the cursor
		// already: a crash after the last block's commit, or a
		// reorganisation that moved the cursor back).
		s.pos = s.to
	}
	err = w.finishScanLocked(s)
	w.mu.Unlock()
	if err != nil {
		return err
	}
	p := w.setProgress(func(p *Progress) {
		p.BackfillFrom, p.BackfillTo, p.BackfillHeight = 0, 0, 0
	})
	if o, ok := w.cfg.Observer.(BackfillObserver); ok {
		o.BackfillProgress(p)
	}
	w.log.Info("delegations added late are up to date", "delegations", n, "height", s.to)
	if err := w.deliver(); err != nil {
		return err
	}
	return w.autoSlash(ctx)
}

// finishScanLocked deletes the group's records and commits: the entries
// are followed like the others from now on.
func (w *Watcher) finishScanLocked(s *bfScan) error {
	if err := w.beginLocked(); err != nil {
		return err
	}
	b := w.batch.tx.Bucket(bucketBackfill)
	for id := range s.group {
		if err := b.Delete([]byte(id)); err != nil {
			w.rollbackLocked()
			return fmt.Errorf("%w: %v", ErrStore, err)
		}
	}
	s.done = true
	if err := w.commitLocked(); err != nil {
		return err
	}
	for id := range s.group {
		delete(w.bfNext, id)
	}
	w.scan = nil
	// The mempool and auto-slash look at them from now on.
	clear(w.mempoolSeen)
	if len(w.keys) > 0 {
		w.slashDue = true
	}
	w.setProgress(func(p *Progress) { p.BackfillEntries = len(w.bfNext) })
	return nil
}

// backfillStep applies one fetched block to the scan's group and commits
// when due.
func (w *Watcher) backfillStep(ctx context.Context, s *bfScan, f fetched) error {
	w.mu.Lock()
	if w.scan != s || f.height != s.pos+1 {
		w.mu.Unlock()
		return errScanReset
	}
	err := w.applyBackfillBlock(s, f.height, f.hash, f.block)
	if err != nil {
		w.mu.Unlock()
		return err
	}
	b := w.batch
	// The block at the cursor is committed with the end of the scan.
	due := f.height < s.to && (b.blocks >= w.cfg.BatchBlocks || time.Since(b.since) >= w.cfg.BatchInterval)
	if due {
		if h := w.hookBackfillCommit; h != nil {
			if err := h(f.height); err != nil {
				w.mu.Unlock()
				return err
			}
		}
		err = w.commitLocked()
	}
	w.mu.Unlock()
	if err != nil {
		return err
	}
	p := w.setProgress(func(p *Progress) { p.BackfillHeight = f.height })
	if o, ok := w.cfg.Observer.(BackfillObserver); ok {
		o.BackfillProgress(p)
	}
	if !due {
		return nil
	}
	if b.events {
		if h := w.hookAfterCommit; h != nil {
			if err := h(); err != nil {
				return err
			}
		}
	}
	return w.deliver()
}

// applyBackfillBlock applies the block at height to the entries of the
// scan's group that have not been through it, inside the open batch.
// Callers hold w.mu.
func (w *Watcher) applyBackfillBlock(s *bfScan, height int64, hash chainhash.Hash, blk *wire.MsgBlock) error {
	if err := w.beginLocked(); err != nil {
		return err
	}
	j := &blockTx{w: w, tx: w.batch.tx, height: height, hash: hash, scan: s}
	if err := w.applyTxs(j, blk); err != nil {
		return err
	}
	if err := w.runSchedule(j); err != nil {
		return err
	}
	// The store keeps the undo records of the blocks above cursor -
	// MaxReorgDepth it processed (from its start height): the scan's
	// changes join the block's record there.
	if height > s.to-int64(w.cfg.MaxReorgDepth) && height >= w.start && (len(j.undo.changes) > 0 || len(j.undo.seqs) > 0) {
		ub := j.tx.Bucket(bucketUndo)
		u := &j.undo
		if raw := ub.Get(heightKey(height)); raw != nil {
			old, err := decodeUndo(raw)
			if err != nil {
				return err
			}
			// After the block's own changes: rolling back restores in
			// reverse, the scan's first.
			old.changes = append(old.changes, j.undo.changes...)
			old.seqs = append(old.seqs, j.undo.seqs...)
			u = old
		}
		if err := ub.Put(heightKey(height), encodeUndo(u)); err != nil {
			return fmt.Errorf("%w: %v", ErrStore, err)
		}
	}
	for _, k := range j.keys {
		if err := w.putKey(j.tx, k); err != nil {
			return err
		}
		w.slashDue = true
	}
	s.pos = height
	w.batch.blocks++
	if len(j.events) > 0 {
		w.batch.events = true
	}
	return nil
}

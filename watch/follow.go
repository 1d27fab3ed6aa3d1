package watch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/script"
)

// Run follows the node from the store's cursor until ctx ends (then it
// returns nil), a reorganisation deeper than MaxReorgDepth
// (ErrReorgTooDeep), the node turns out to be of another network
// (ErrWrongNetwork), the store fails (ErrStore) or the Handler fails
// (ErrHandler). Node errors are logged, counted (Observer.NodeError) and
// retried with backoff; no block is ever skipped.
//
// Durability (kill -9 at any moment, then Run again on the same store):
//   - The events of a block are written to the store in the same
//     transaction that moves the cursor past the block. While catching
//     up, consecutive blocks share one transaction (up to BatchBlocks
//     blocks or BatchInterval, and never while waiting for the node); a
//     block at the node's tip is committed on its own.
//   - Events are handed to the Handler and the Observer only after that
//     transaction commits, in Seq order. After the Handler returns from an
//     event, its seq is written to the delivered marker file beside the
//     store (path + "-delivered", no fsync: the kernel keeps it when the
//     process dies).
//   - So no event is lost: it is either committed (and handed over now or
//     on the next Run) or its block is not past the stored cursor and is
//     processed again, producing the same event with the same id.
//   - And a restart hands over again at most one event: the one the
//     Handler was given last, if the process died before its seq reached
//     the marker; same id, same seq. (After a power failure the marker
//     may be stale; then the events handed over since the last commit,
//     at most those of one transaction, come again.) This is within the
//     bound the issue sets: at most the events of the block being
//     processed.
//
// Events stored outside a block (mempool, auto-slash, reorg) follow the
// same rules, and so do those of a backfill: before the cursor moves past
// a block, delegations added late are brought through the blocks they
// missed (AddFrom, backfill.go).
func (w *Watcher) Run(ctx context.Context) error {
	err := w.follow(ctx, -1)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return err
}

// CatchUp processes blocks up to height to (waiting for the node to reach
// it), brings delegations added late up to date (a backfill, also when
// the cursor is already at or past to), delivers their events and
// returns. It does not poll the mempool.
func (w *Watcher) CatchUp(ctx context.Context, to int64) error {
	if to < 0 {
		return fmt.Errorf("%w: height %d", ErrInvalidArgument, to)
	}
	return w.follow(ctx, to)
}

// flushAfter is how long catch-up waits for the next block before it
// commits what it applied.
const flushAfter = 100 * time.Millisecond

var (
	errReorg      = errors.New("the node's chain does not continue the watcher's")
	errChainMoved = errors.New("the node's chain changed while reading it")
)

func (w *Watcher) follow(ctx context.Context, stop int64) (err error) {
	if w.cfg.Node == nil {
		return fmt.Errorf("%w: no node", ErrInvalidConfig)
	}
	if !w.runMu.TryLock() {
		return fmt.Errorf("%w: Run or CatchUp is already running", ErrBusy)
	}
	defer w.runMu.Unlock()
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return ErrClosed
	}
	defer func() {
		// A clean stop makes the open batch durable and delivers; any other
		// exit drops it, as a crash would.
		clean := err == nil || (ctx.Err() != nil && errors.Is(err, ctx.Err()))
		w.mu.Lock()
		if clean {
			if cerr := w.commitLocked(); cerr != nil && err == nil {
				err = cerr
			}
		} else {
			w.rollbackLocked()
		}
		w.mu.Unlock()
		if clean {
			if derr := w.deliver(); derr != nil && err == nil {
				err = derr
			}
		}
	}()
	if err := w.checkNetwork(ctx); err != nil {
		return err
	}
	if err := w.initCursor(ctx); err != nil {
		return err
	}
	if err := w.deliver(); err != nil {
		return err
	}
	if err := w.autoSlash(ctx); err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Entries added after the cursor passed blocks that may concern
		// them are brought up to it before it moves (backfill.go).
		switch err := w.backfill(ctx); {
		case errors.Is(err, errReorg), errors.Is(err, errChainMoved):
			if err := w.reorg(ctx); err != nil {
				return err
			}
			continue
		case errors.Is(err, errScanReset):
			continue
		case err != nil:
			return err
		}
		var tip int64
		if err := w.retry(ctx, "getblockcount", func(ctx context.Context) (err error) {
			tip, err = w.cfg.Node.Height(ctx)
			return err
		}); err != nil {
			return err
		}
		w.seeTip(tip)
		target := tip
		if stop >= 0 && stop < target {
			target = stop
		}
		w.mu.Lock()
		cur := w.cursorH
		w.mu.Unlock()
		if cur >= target {
			same, err := w.onChain(ctx, cur, tip)
			if err != nil {
				return err
			}
			if !same {
				if err := w.reorg(ctx); err != nil {
					return err
				}
				continue
			}
			if err := w.flush(); err != nil {
				return err
			}
			if stop >= 0 && cur >= stop {
				return nil
			}
			if err := w.autoSlash(ctx); err != nil {
				return err
			}
			if stop < 0 {
				if err := w.pollMempool(ctx); err != nil {
					return err
				}
			}
			t := time.NewTimer(w.cfg.PollInterval)
			select {
			case <-t.C:
			case <-w.wake:
				t.Stop()
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
			continue
		}
		err := w.catchUp(ctx, target)
		switch {
		case errors.Is(err, errReorg):
			if err := w.reorg(ctx); err != nil {
				return err
			}
		case errors.Is(err, errChainMoved), errors.Is(err, errBackfillDue):
		case err != nil:
			return err
		}
	}
}

// onChain reports whether the node still has the watcher's last block:
// the node's block at min(cursor, tip) is the stored one, and the node is
// not shorter than the cursor.
func (w *Watcher) onChain(ctx context.Context, cur, tip int64) (bool, error) {
	if cur < 0 {
		return true, nil
	}
	h := min(cur, tip)
	stored, ok, err := w.storedHash(h)
	if err != nil {
		return false, err
	}
	nh, err := w.blockHash(ctx, h)
	if errors.Is(err, chain.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return ok && nh == stored && h == cur, nil
}

func (w *Watcher) blockHash(ctx context.Context, h int64) (chainhash.Hash, error) {
	var hash chainhash.Hash
	err := w.retry(ctx, "getblockhash", func(ctx context.Context) (err error) {
		hash, err = w.cfg.Node.BlockHash(ctx, h)
		return err
	})
	return hash, err
}

// storedHash is the stored hash of the block at h.
func (w *Watcher) storedHash(h int64) (chainhash.Hash, bool, error) {
	var hash chainhash.Hash
	ok := false
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketBlocks).Get(heightKey(h)); len(b) == 32 {
			hash, ok = chainhash.Hash(b), true
		}
		return nil
	})
	return hash, ok, err
}

// checkNetwork: the node's genesis block must be the network's (and a
// node that can say more, *chain.Client, must not be on another chain).
func (w *Watcher) checkNetwork(ctx context.Context) error {
	g, err := w.blockHash(ctx, 0)
	if err != nil {
		return err
	}
	if g != *w.cfg.Network.GenesisHash {
		return fmt.Errorf("%w: the node's genesis block is %s, not %s's %s", ErrWrongNetwork, g, w.cfg.Network.Name, w.cfg.Network.GenesisHash)
	}
	nc, ok := w.cfg.Node.(NetworkChecker)
	if !ok {
		return nil
	}
	return w.retry(ctx, "network check", func(ctx context.Context) error {
		err := nc.CheckNetwork(ctx, w.cfg.Network)
		switch {
		case errors.Is(err, chain.ErrWrongChain):
			return fmt.Errorf("%w: %w", ErrWrongNetwork, err)
		case errors.Is(err, chain.ErrUnconfirmedChain):
			w.log.Warn("cannot confirm the node's network beyond its genesis block", "err", err)
			return nil
		}
		return err
	})
}

// initCursor records the hash of the block before the start height of a
// new store (the parent the first processed block must name).
func (w *Watcher) initCursor(ctx context.Context) error {
	w.mu.Lock()
	h, hash := w.cursorH, w.cursorHash
	w.mu.Unlock()
	if h < 0 || hash != (chainhash.Hash{}) {
		return nil
	}
	for {
		nh, err := w.blockHash(ctx, h)
		if errors.Is(err, chain.ErrNotFound) {
			w.log.Info("waiting for the node to reach the start height", "height", h+1)
			t := time.NewTimer(w.cfg.PollInterval)
			select {
			case <-t.C:
				continue
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		if err != nil {
			return err
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.cursorHash = nh
		w.setProgress(func(p *Progress) { p.BlockHash = nh.String() })
		return w.update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketBlocks).Put(heightKey(h), nh[:])
		})
	}
}

// retry calls f until it succeeds, ctx ends, or it fails with an error
// that retrying cannot mend (chain.ErrNotFound, returned at once for the
// caller to handle; chain.ErrAuth; a watcher error kind). Each failure is
// logged and counted.
func (w *Watcher) retry(ctx context.Context, what string, f func(context.Context) error) error {
	d := w.cfg.RetryMin
	for {
		err := f(ctx)
		if err == nil {
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if errors.Is(err, chain.ErrNotFound) || errors.Is(err, chain.ErrAuth) || errors.Is(err, ErrWrongNetwork) {
			return err
		}
		w.log.Warn("node call failed; retrying", "call", what, "err", err, "retry_in", d)
		if o := w.cfg.Observer; o != nil {
			o.NodeError(err)
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		d = min(2*d, w.cfg.RetryMax)
	}
}

type fetched struct {
	height int64
	hash   chainhash.Hash
	block  *wire.MsgBlock
	err    error
}

// prefetch fetches blocks from..to with cfg.Prefetch requests in flight,
// handing them over in height order. At most 2×Prefetch blocks are held.
func (w *Watcher) prefetch(ctx context.Context, from, to int64) <-chan chan fetched {
	n := w.cfg.Prefetch
	queue := make(chan chan fetched, n)
	go func() {
		defer close(queue)
		sem := make(chan struct{}, n)
		for h := from; h <= to; h++ {
			c := make(chan fetched, 1)
			select {
			case queue <- c:
			case <-ctx.Done():
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				c <- fetched{height: h, err: ctx.Err()}
				return
			}
			go func(h int64) {
				defer func() { <-sem }()
				f := fetched{height: h}
				f.err = w.retry(ctx, "getblock", func(ctx context.Context) error {
					hash, err := w.cfg.Node.BlockHash(ctx, h)
					if err != nil {
						return err
					}
					b, err := w.cfg.Node.Block(ctx, hash)
					if err != nil {
						return err
					}
					f.hash, f.block = hash, b
					return nil
				})
				c <- f
			}(h)
		}
	}()
	return queue
}

// catchUp applies the blocks after the cursor up to target.
func (w *Watcher) catchUp(ctx context.Context, target int64) error {
	w.mu.Lock()
	from := w.cursorH + 1
	w.mu.Unlock()
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for c := range w.prefetch(fctx, from, target) {
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
		if err := w.step(ctx, f, target); err != nil {
			return err
		}
		if w.backfillWaiting() {
			// Entries added meanwhile: bring them up to the cursor first.
			return errBackfillDue
		}
	}
	return ctx.Err()
}

// receive waits for the next prefetched block.
func (w *Watcher) receive(ctx context.Context, c chan fetched) (fetched, error) {
	select {
	case f := <-c:
		return f, nil
	default:
	}
	// The next block is not here yet. A short wait is normal (the node is
	// answering); a longer one (a slow or unreachable node) should not
	// keep applied blocks uncommitted and the store locked to other
	// writers: then commit and deliver first.
	t := time.NewTimer(flushAfter)
	select {
	case f := <-c:
		t.Stop()
		return f, nil
	case <-t.C:
		if err := w.flush(); err != nil {
			return fetched{}, err
		}
		select {
		case f := <-c:
			return f, nil
		case <-ctx.Done():
			return fetched{}, ctx.Err()
		}
	case <-ctx.Done():
		t.Stop()
		return fetched{}, ctx.Err()
	}
}

// step applies one fetched block, commits when due and delivers.
func (w *Watcher) step(ctx context.Context, f fetched, target int64) error {
	w.mu.Lock()
	if f.block.Header.PrevBlock != w.cursorHash || f.height != w.cursorH+1 {
		w.mu.Unlock()
		return errReorg
	}
	events, err := w.applyBlock(f.height, f.hash, f.block)
	if err != nil {
		w.mu.Unlock()
		return err
	}
	b := w.batch
	due := b.blocks >= w.cfg.BatchBlocks || time.Since(b.since) >= w.cfg.BatchInterval || f.height >= target
	if h := w.hookBeforeCommit; h != nil {
		if err := h(f.height); err != nil {
			w.mu.Unlock()
			return err
		}
	}
	if due {
		err = w.commitLocked()
	}
	if len(events) > 0 && len(w.keys) > 0 {
		w.slashDue = true
	}
	w.mu.Unlock()
	if err != nil {
		return err
	}
	p := w.setProgress(func(p *Progress) {
		p.Height, p.BlockHash = f.height, f.hash.String()
		if p.Tip < f.height {
			p.Tip = f.height
		}
	})
	if o := w.cfg.Observer; o != nil {
		o.BlockProcessed(p)
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
	if err := w.deliver(); err != nil {
		return err
	}
	return w.autoSlash(ctx)
}

// flush commits the open batch and delivers.
func (w *Watcher) flush() error {
	w.mu.Lock()
	err := w.commitLocked()
	w.mu.Unlock()
	if err != nil {
		return err
	}
	return w.deliver()
}

// deliver hands the committed events after "delivered" to the Handler and
// the Observer, in order, then records how far it got.
func (w *Watcher) deliver() error {
	for {
		w.evMu.Lock()
		from, last := w.delivered, w.lastSeq
		w.evMu.Unlock()
		if from >= last {
			return nil
		}
		evs, err := w.Events(from, 1000)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return fmt.Errorf("%w: events %d..%d are missing from the log", ErrStore, from+1, last)
		}
		done := from
		var herr error
		for _, e := range evs {
			if w.cfg.Handler != nil {
				if err := w.cfg.Handler(e); err != nil {
					herr = fmt.Errorf("%w: event %d (%s): %w", ErrHandler, e.Seq, e.ID, err)
					break
				}
			}
			if o := w.cfg.Observer; o != nil {
				o.EventEmitted(e)
			}
			if h := w.hookAfterHandler; h != nil {
				if err := h(e); err != nil {
					return err
				}
			}
			if err := w.marker.set(e.Seq); err != nil {
				return err
			}
			done = e.Seq
			w.evMu.Lock()
			w.delivered = done
			w.evMu.Unlock()
		}
		if done == from && herr == nil {
			return fmt.Errorf("%w: event log does not continue after %d", ErrStore, from)
		}
		if herr != nil {
			return herr
		}
	}
}

// reorg rolls back the blocks the node's chain left, newest first, in one
// store transaction that also stores a reorg event and a reorged_out
// event for every event they produced.
func (w *Watcher) reorg(ctx context.Context) error {
	if err := w.flush(); err != nil {
		return err
	}
	w.mu.Lock()
	cur := w.cursorH
	w.mu.Unlock()
	fork := int64(-1)
	for k := cur; ; k-- {
		if cur-k > int64(w.cfg.MaxReorgDepth) || k < 0 {
			return fmt.Errorf("%w: the node's chain does not contain any of the last %d blocks the watcher processed (up to height %d); the store keeps %d (MaxReorgDepth)",
				ErrReorgTooDeep, cur-k, cur, w.cfg.MaxReorgDepth)
		}
		stored, ok, err := w.storedHash(k)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: no stored block at height %d to compare the node's chain with (the store keeps %d blocks)",
				ErrReorgTooDeep, k, w.cfg.MaxReorgDepth)
		}
		nh, err := w.blockHash(ctx, k)
		if errors.Is(err, chain.ErrNotFound) {
			continue // the node's chain is shorter
		}
		if err != nil {
			return err
		}
		if nh == stored {
			fork = k
			break
		}
	}
	if fork == cur {
		return nil // the chain moved back and forth meanwhile
	}
	w.mu.Lock()
	var reorgEv Event
	err := w.update(func(tx *bolt.Tx) error {
		var seqs []uint64
		var first chainhash.Hash
		for w.cursorH > fork {
			if w.cursorH == fork+1 {
				first = w.cursorHash
			}
			s, err := w.rollbackBlock(tx)
			if err != nil {
				return err
			}
			seqs = append(seqs, s...)
		}
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		reorgEv = Event{Kind: EventReorg, Height: fork + 1, BlockHash: first.String(), Depth: cur - fork}
		if _, err := w.storeEvent(tx, &reorgEv); err != nil {
			return err
		}
		for _, s := range seqs {
			old, err := decodeEvent(tx.Bucket(bucketEvents).Get(be64(s)))
			if err != nil {
				return err
			}
			e := Event{Kind: EventReorgedOut, Cancels: old.ID, Delegation: old.Delegation, FinalityProvider: old.FinalityProvider,
				Output: old.Output, Txid: old.Txid, Height: old.Height, BlockHash: old.BlockHash}
			if _, err := w.storeEvent(tx, &e); err != nil {
				return err
			}
		}
		// Entries waiting for a backfill that went through the orphaned
		// blocks had that rolled back with them: they go through the new
		// branch's blocks like the rest.
		b := tx.Bucket(bucketBackfill)
		for id, next := range w.bfNext {
			if next > fork+1 {
				if err := b.Put([]byte(id), be64(uint64(fork+1))); err != nil {
					return fmt.Errorf("%w: %v", ErrStore, err)
				}
			}
		}
		return nil
	})
	if err == nil {
		for id, next := range w.bfNext {
			w.bfNext[id] = min(next, fork+1)
		}
	}
	w.mu.Unlock()
	if err != nil {
		return err
	}
	w.log.Warn("reorganisation: blocks left the chain", "from_height", fork+1, "blocks", cur-fork)
	w.mu.Lock()
	forkHash := w.cursorHash
	w.mu.Unlock()
	w.setProgress(func(p *Progress) { p.Height, p.BlockHash = fork, cursorHashString(forkHash) })
	return w.deliver()
}

// pollMempool looks for watched staking transactions and unbonding
// spends in the mempool and emits staking_broadcast and
// unbonding_broadcast once each (their ids are kept in the store).
func (w *Watcher) pollMempool(ctx context.Context) error {
	ids, err := w.cfg.Node.MempoolTxids(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		w.log.Warn("reading the mempool failed", "err", err)
		if o := w.cfg.Observer; o != nil {
			o.NodeError(err)
		}
		return nil
	}
	cur := make(map[chainhash.Hash]struct{}, len(ids))
	for _, id := range ids {
		cur[id] = struct{}{}
	}
	w.mu.Lock()
	for id := range w.mempoolSeen {
		if _, ok := cur[id]; !ok {
			delete(w.mempoolSeen, id)
		}
	}
	w.mu.Unlock()
	budget := w.cfg.MempoolFetch
	var found []Event
	for _, txid := range ids {
		w.mu.Lock()
		_, seen := w.mempoolSeen[txid]
		pending := w.pendingTx[txid] > 0
		ubID, isUb := w.ubtx[txid]
		if isUb && w.waitingBackfill(ubID) {
			ubID, isUb = "", false
		}
		fetch := !seen && !pending && !isUb && len(w.live) > 0 && budget > 0
		var evs []Event
		if !seen && (pending || isUb) {
			evs, err = w.mempoolKnown(txid, pending, ubID)
		}
		w.mu.Unlock()
		if err != nil {
			return err
		}
		found = append(found, evs...)
		if seen {
			continue
		}
		if fetch {
			budget--
			info, err := w.cfg.Node.Transaction(ctx, txid)
			if errors.Is(err, chain.ErrNotFound) {
				w.markSeen(txid) // it left the mempool
				continue
			}
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if o := w.cfg.Observer; o != nil {
					o.NodeError(err)
				}
				w.log.Warn("reading a mempool transaction failed", "txid", txid, "err", err)
				break
			}
			w.mu.Lock()
			evs, err := w.mempoolSpends(info.Tx, txid)
			w.mu.Unlock()
			if err != nil {
				return err
			}
			found = append(found, evs...)
		} else if !pending && !isUb && len(w.live) > 0 {
			continue // over budget: look at it next time
		}
		w.markSeen(txid)
	}
	if len(found) == 0 {
		return nil
	}
	w.mu.Lock()
	err = w.update(func(tx *bolt.Tx) error {
		mb := tx.Bucket(bucketMempool)
		for _, e := range found {
			e.ID = eventID(&e)
			if mb.Get([]byte(e.ID)) != nil {
				continue
			}
			if err := mb.Put([]byte(e.ID), []byte{}); err != nil {
				return fmt.Errorf("%w: %v", ErrStore, err)
			}
			if _, err := w.storeEvent(tx, &e); err != nil {
				return err
			}
		}
		return nil
	})
	w.mu.Unlock()
	if err != nil {
		return err
	}
	return w.deliver()
}

func (w *Watcher) markSeen(txid chainhash.Hash) {
	w.mu.Lock()
	w.mempoolSeen[txid] = struct{}{}
	w.mu.Unlock()
}

// mempoolKnown: txid is a watched staking transaction or a known
// unbonding transaction. Callers hold w.mu.
func (w *Watcher) mempoolKnown(txid chainhash.Hash, pending bool, ubID string) ([]Event, error) {
	var out []Event
	err := w.view(func(tx *bolt.Tx) error {
		if pending {
			c := tx.Bucket(bucketPending).Cursor()
			for k, v := c.Seek(txid[:]); k != nil && bytes.HasPrefix(k, txid[:]); k, v = c.Next() {
				if w.waitingBackfill(string(v)) {
					continue
				}
				out = append(out, Event{Kind: EventStakingBroadcast, Delegation: string(v),
					Output: script.StakingOutputKind.String(), Txid: txid.String()})
			}
		}
		if ubID != "" {
			st, err := stateIn(tx, ubID)
			if err != nil {
				return err
			}
			if st.State == StateStaked || st.State == StatePending {
				out = append(out, Event{Kind: EventUnbondingBroadcast, Delegation: ubID,
					Output: script.StakingOutputKind.String(), Txid: txid.String()})
			}
		}
		return nil
	})
	return out, err
}

// mempoolSpends: unbonding-path spends of watched staking outputs in a
// mempool transaction. Callers hold w.mu.
func (w *Watcher) mempoolSpends(mtx *wire.MsgTx, txid chainhash.Hash) ([]Event, error) {
	var out []Event
	err := w.view(func(tx *bolt.Tx) error {
		for i, in := range mtx.TxIn {
			id, ok := w.live[in.PreviousOutPoint]
			if !ok || w.waitingBackfill(id) {
				continue
			}
			st, err := stateIn(tx, id)
			if err != nil {
				return err
			}
			if st.LiveKind != script.StakingOutputKind.String() {
				continue
			}
			c, err := w.entryIn(tx, id)
			if err != nil {
				return err
			}
			ub, err := c.unbondingOut()
			if err != nil {
				return err
			}
			if p, ok := revealedPath(in.Witness, c.e); ok && p == script.UnbondingPath && !isExtension(mtx, i, ub) {
				out = append(out, Event{Kind: EventUnbondingBroadcast, Delegation: id,
					Output: script.StakingOutputKind.String(), Txid: txid.String()})
			}
		}
		return nil
	})
	return out, err
}

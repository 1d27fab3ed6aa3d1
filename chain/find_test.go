package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// TestFindTransactionWithoutIndex: a node without a transaction index
// finds a confirmed transaction by the blocks it reads, never more than
// the bound, downwards from the tip or upwards from a given height.
func TestFindTransactionWithoutIndex(t *testing.T) {
	f := newFakeChain(t, 29)
	tx := testTx(1)
	f.mine(1, tx) // height 30
	f.mine(20)    // tip 50
	s := fakeNode(t, f, nil)
	c := s.client(t)
	ctx := ctxT(t)
	txid := tx.TxHash()
	// Like btcd: no getindexinfo, and the coinbase of block 1 is not
	// found by id. (The answer is kept: no block read below is a probe.)
	if ix, err := c.TxIndex(ctx); err != nil || ix != TxIndexOff {
		t.Fatalf("index: %v, %v", ix, err)
	}

	reads := func(run func()) int {
		before := s.called("getblock")
		run()
		return s.called("getblock") - before
	}
	var progress []ScanProgress
	search := func(from, maxBlocks int64) TxSearch {
		progress = nil
		return TxSearch{FromHeight: from, MaxBlocks: maxBlocks, Progress: func(p ScanProgress) { progress = append(progress, p) }}
	}
	for _, c2 := range []struct {
		name             string
		from, max        int64
		found            bool
		blocks           int // getblock verbosity-1 reads (+1 raw read when found)
		lastHeight       int64
		total            int64
		errText          string
		wantKind         error
		wantProgressRead int64
	}{
		{name: "down from the tip", max: 25, found: true, blocks: 21, lastHeight: 30, total: 25},
		{name: "down, bound too short", max: 10, blocks: 10, lastHeight: 41, total: 10, errText: "blocks 41..50", wantKind: ErrNotFound},
		{name: "up from below", from: 28, max: 5, found: true, blocks: 3, lastHeight: 30, total: 5},
		{name: "up from above", from: 31, max: 100, blocks: 20, lastHeight: 50, total: 20, errText: "blocks 31..50", wantKind: ErrNotFound},
		{name: "up, short of the tip", from: 20, max: 5, blocks: 5, lastHeight: 24, total: 5, errText: "20..24", wantKind: ErrNotFound},
		{name: "up from the block itself", from: 30, max: 1, found: true, blocks: 1, lastHeight: 30, total: 1},
	} {
		t.Run(c2.name, func(t *testing.T) {
			var info *TxInfo
			var err error
			n := reads(func() { info, err = c.FindTransaction(ctx, txid, search(c2.from, c2.max)) })
			if c2.found {
				if err != nil || info.Height != 30 || info.Confirmations != 21 || info.Tx.TxHash() != txid || info.Block != f.main[30].BlockHash() {
					t.Fatalf("found %+v, %v", info, err)
				}
				n-- // the raw block the transaction is taken from
			} else if !errors.Is(err, c2.wantKind) || !strings.Contains(err.Error(), c2.errText) {
				t.Fatalf("got %+v, %v; want %v mentioning %q", info, err, c2.wantKind, c2.errText)
			}
			if n != c2.blocks || len(progress) != c2.blocks {
				t.Fatalf("read %d blocks, %d progress reports; want %d", n, len(progress), c2.blocks)
			}
			last := progress[len(progress)-1]
			if last.Height != c2.lastHeight || last.Read != int64(c2.blocks) || last.Total != c2.total {
				t.Fatalf("last progress %+v, want height %d, read %d of %d", last, c2.lastHeight, c2.blocks, c2.total)
			}
		})
	}

	// In the mempool: found by id, no block read.
	mtx := testTx(2)
	f.mu.Lock()
	f.mempool[mtx.TxHash()] = mtx
	f.mu.Unlock()
	if n := reads(func() {
		info, err := c.FindTransaction(ctx, mtx.TxHash(), TxSearch{})
		if err != nil || info.Confirmed() || info.Tx.TxHash() != mtx.TxHash() {
			t.Fatalf("mempool: %+v, %v", info, err)
		}
	}); n != 0 {
		t.Fatalf("read %d blocks for a mempool transaction", n)
	}
	if _, err := c.FindTransaction(ctx, txid, TxSearch{FromHeight: 60}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "the tip (height 50) is below the start height 60") {
		t.Errorf("from above the tip: %v", err)
	}
	for _, bad := range []TxSearch{{FromHeight: -1}, {MaxBlocks: -1}} {
		if _, err := c.FindTransaction(ctx, txid, bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// TestFindTransactionWithIndex: a node with an index is trusted: what it
// does not find by id is not searched for in blocks.
func TestFindTransactionWithIndex(t *testing.T) {
	for _, bitcoind := range []bool{true, false} {
		f := newFakeChain(t, 10)
		f.index, f.indexInfo = true, bitcoind
		tx := testTx(1)
		f.mine(1, tx)
		f.mine(3)
		s := fakeNode(t, f, nil)
		c := s.client(t)
		ctx := ctxT(t)
		info, err := c.FindTransaction(ctx, tx.TxHash(), TxSearch{})
		if err != nil || info.Height != 11 || info.Confirmations != 4 {
			t.Fatalf("bitcoind %v: %+v, %v", bitcoind, info, err)
		}
		before := s.called("getblock")
		if _, err := c.FindTransaction(ctx, testTx(9).TxHash(), TxSearch{}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "index") {
			t.Fatalf("bitcoind %v: unknown tx: %v", bitcoind, err)
		}
		// btcd's probe reads block 1 once (then the answer is kept);
		// bitcoind's getindexinfo reads none.
		if n := s.called("getblock") - before; n > 1 || (bitcoind && n != 0) {
			t.Fatalf("bitcoind %v: %d blocks read for a transaction the index does not know", bitcoind, n)
		}
	}
}

// waitEvents runs WaitConfirmations in the background and hands out each
// confirmation count it reports.
func waitEvents(t *testing.T, c *Client, txid chainhash.Hash, confs int64, opts WaitOptions) (<-chan int64, <-chan error) {
	counts := make(chan int64, 16)
	done := make(chan error, 1)
	opts.Interval = 2 * time.Millisecond
	opts.Progress = func(n int64) { counts <- n }
	go func() {
		n, err := c.WaitConfirmations(ctxT(t), txid, confs, opts)
		if err == nil && n < confs {
			err = fmt.Errorf("returned %d confirmations", n)
		}
		done <- err
	}()
	return counts, done
}

func expectCount(t *testing.T, counts <-chan int64, done <-chan error, want int64) {
	t.Helper()
	select {
	case n := <-counts:
		if n != want {
			t.Fatalf("wait reported %d confirmations, want %d", n, want)
		}
	case err := <-done:
		t.Fatalf("the wait ended before reporting %d: %v", want, err)
	}
}

// TestWaitFollowsBlocks: without an index, a wait sees the transaction in
// the mempool, then in the block that confirms it (read as it comes),
// counts on, notices a reorganisation that takes the block away (btcd's and
// bitcoind's ways of saying so) and finds the transaction again in the new
// branch.
func TestWaitFollowsBlocks(t *testing.T) {
	for _, btcd := range []bool{false, true} {
		t.Run(map[bool]string{false: "bitcoind", true: "btcd"}[btcd], func(t *testing.T) {
			f := newFakeChain(t, 20)
			f.btcdStale = btcd
			f.indexInfo = !btcd
			tx := testTx(1)
			f.mempool[tx.TxHash()] = tx
			s := fakeNode(t, f, nil)
			c := s.client(t)
			counts, done := waitEvents(t, c, tx.TxHash(), 3, WaitOptions{})
			expectCount(t, counts, done, 0)
			f.mine(1, tx) // height 21
			expectCount(t, counts, done, 1)
			f.mine(1)
			expectCount(t, counts, done, 2)
			// Blocks 21 and 22 give way to four new ones; the transaction
			// is in the last (height 24).
			f.reorg(20, 3)
			f.mine(1, tx)
			expectCount(t, counts, done, 1)
			f.mine(2)
			expectCount(t, counts, done, 3)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestWaitFindsPastBlocks: a wait that starts after the transaction was
// mined finds it in the past blocks, within the bound; FailIfUnknown
// gives up after reading them, and a wait for a transaction nobody
// broadcasts times out saying so.
func TestWaitFindsPastBlocks(t *testing.T) {
	f := newFakeChain(t, 40)
	tx := testTx(1)
	f.mine(1, tx) // 41
	f.mine(4)     // tip 45: 5 confirmations
	s := fakeNode(t, f, nil)
	c := s.client(t)
	ctx := ctxT(t)
	n, err := c.WaitConfirmations(ctx, tx.TxHash(), 5, WaitOptions{Interval: time.Millisecond, Search: TxSearch{MaxBlocks: 5}})
	if err != nil || n != 5 {
		t.Fatalf("past blocks: %d, %v", n, err)
	}
	before := s.called("getblock")
	_, err = c.WaitConfirmations(ctx, tx.TxHash(), 1, WaitOptions{Interval: time.Millisecond, FailIfUnknown: true, Search: TxSearch{MaxBlocks: 4}})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("out of reach: %v", err)
	}
	if got := s.called("getblock") - before; got != 4 {
		t.Fatalf("read %d blocks, want 4", got)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = c.WaitConfirmations(short, testTx(7).TxHash(), 1, WaitOptions{Interval: time.Millisecond})
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "still unknown") || errors.Is(err, ErrUnreachable) {
		t.Fatalf("timeout: %v", err)
	}
	if _, err := c.WaitConfirmations(ctx, tx.TxHash(), 1, WaitOptions{Search: TxSearch{MaxBlocks: -1}}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative bound: %v", err)
	}
}

// BenchmarkParseBlockSummary: reading a mainnet-sized block as a list of
// 4,000 transaction ids (getblock verbosity 1), what a scan without an
// index costs per block on this side of the wire.
func BenchmarkParseBlockSummary(b *testing.B) {
	f := newFakeChain(&testing.T{}, 1)
	hash := f.main[1].BlockHash()
	ids := make([]string, 4000)
	for i := range ids {
		ids[i] = testTx(uint32(i)).TxHash().String()
	}
	v := blockJSON(f.main[1], 1, 1)
	v["tx"] = ids
	raw, _ := json.Marshal(v)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseBlockSummary(raw, hash); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWaitFollowsManyBlocks: new blocks are read however many come
// between two polls (a node catching up), and a reorganisation deeper than
// the bound starts the search over from the new tip.
func TestWaitFollowsManyBlocks(t *testing.T) {
	for _, deep := range []bool{false, true} {
		f := newFakeChain(t, 30)
		s := fakeNode(t, f, nil)
		c := s.client(t)
		tx := testTx(1)
		historyRead := make(chan struct{}, 1)
		done := make(chan error, 1)
		var got int64
		go func() {
			n, err := c.WaitConfirmations(ctxT(t), tx.TxHash(), 11, WaitOptions{Interval: 2 * time.Millisecond,
				Search: TxSearch{MaxBlocks: 3, Progress: func(p ScanProgress) {
					if p.Read == p.Total {
						select {
						case historyRead <- struct{}{}:
						default:
						}
					}
				}}})
			got = n
			done <- err
		}()
		<-historyRead // the past blocks are read: what follows is new
		if deep {
			f.reorg(20, 0) // ten blocks go, twenty come, the tx in the tenth
		}
		f.mine(9)
		f.mine(1, tx)
		f.mine(10)
		if err := <-done; err != nil || got != 11 {
			t.Fatalf("deep %v: %d, %v", deep, got, err)
		}
	}
}

package watch_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/btcstake/btcstake/internal/benchchain"
	"github.com/btcstake/btcstake/watch"
)

// BenchmarkCatchUpNode is issue 14's catch-up benchmark on a regtest
// node: a new watcher of the 1,000 delegations staked in
// internal/benchchain's shared load (by default 300 blocks of 100
// ordinary transactions, with the stakes' staking, unbonding and
// withdraw transactions among them) catches up over the load's blocks,
// from an empty store, every iteration. Before each pass, and not timed,
// the bare fetch-and-decode loop (benchchain.Chain.Baseline) reads the
// same blocks from the same node, so the ratio compares the two under the
// same conditions. (BenchmarkCatchUp does the same against a fake node.)
//
// Metrics: blocks/s of the watcher; x-baseline, its blocks/s over the
// bare loop's (the goal is at least 0.8); baseline-blocks/s; peak-rss-MB,
// this process's peak resident set over the passes (after
// benchchain.ResetPeakRSS); rss-mid-MB and rss-end-MB, the resident set
// when the watcher is halfway through the blocks and at the end;
// heap-start-MB, heap-mid-MB and heap-end-MB, the Go heap in use before
// the catch-up (the shared chain's data and the entries), halfway and at
// the end (memory flat over chain length shows as mid ≈ end); events per
// pass. Each pass's two rates are logged (-v), to tell a noisy machine
// from a slow watcher.
//
// Run it alone on a quiet machine:
//
//	go test ./watch -run '^$' -bench BenchmarkCatchUpNode -benchtime 3x
func BenchmarkCatchUpNode(b *testing.B) {
	c, err := benchchain.Get()
	if err != nil {
		b.Fatal(err)
	}
	entries := make([]*watch.Entry, len(c.Load.Stakes))
	for i, ps := range c.Load.Stakes {
		entries[i] = entryOf(b, ps)
	}
	from, to := int64(c.Load.From), int64(c.Load.To)
	mid := from + (to-from)/2
	ctx := context.Background()
	dir := b.TempDir()
	if err := benchchain.ResetPeakRSS(); err != nil {
		b.Logf("peak RSS covers the chain generation too: %v", err)
	}
	var (
		watchTime, baseTime time.Duration
		blocks, baseBlocks  int
		events              int64
		rssMid, rssEnd      int64
		heapStart, heapMid  uint64
		heapEnd             uint64
	)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		st, err := c.Baseline(ctx)
		if err != nil {
			b.Fatal(err)
		}
		baseTime += st.Elapsed
		baseBlocks += st.Blocks
		path := filepath.Join(dir, "bench.db")
		obs := &memObserver{mid: mid}
		w, err := watch.Open(path, watch.Config{Network: c.Node.Params(), Node: c.Node.Chain(), StartHeight: from, Observer: obs})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Add(entries...); err != nil {
			b.Fatal(err)
		}
		var ms0 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		heapStart = max(heapStart, ms0.HeapInuse)
		start := time.Now()
		b.StartTimer()
		if err := w.CatchUp(ctx, to); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		took := time.Since(start)
		watchTime += took
		nb := float64(to - from + 1)
		b.Logf("pass %d: bare loop %.1f blocks/s, watcher %.1f blocks/s, ratio %.3f", i, st.BlocksPerSecond(), nb/took.Seconds(),
			nb/took.Seconds()/st.BlocksPerSecond())
		rss, _, rerr := benchchain.ProcessRSS(os.Getpid())
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if p := w.Progress(); p.Height != to {
			b.Fatalf("caught up to %d, want %d", p.Height, to)
		}
		blocks += int(to - from + 1)
		if i == 0 {
			events = int64(w.LastSeq())
		} else if int64(w.LastSeq()) != events {
			b.Fatalf("pass %d stored %d events, pass 0 %d", i, w.LastSeq(), events)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.Remove(path); err != nil {
			b.Fatal(err)
		}
		if rerr == nil && obs.rss > 0 {
			rssMid, rssEnd = max(rssMid, obs.rss), max(rssEnd, rss)
		}
		heapMid, heapEnd = max(heapMid, obs.heap), max(heapEnd, ms.HeapInuse)
		b.StartTimer()
	}
	b.StopTimer()
	if events < int64(len(entries)) {
		b.Fatalf("%d events for %d watched delegations", events, len(entries))
	}
	bps := float64(blocks) / watchTime.Seconds()
	base := float64(baseBlocks) / baseTime.Seconds()
	b.ReportMetric(bps, "blocks/s")
	b.ReportMetric(base, "baseline-blocks/s")
	b.ReportMetric(bps/base, "x-baseline")
	b.ReportMetric(float64(events), "events")
	if peak, err := benchchain.PeakRSS(); err == nil {
		b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MB")
	}
	if rssMid > 0 {
		b.ReportMetric(float64(rssMid)/(1<<20), "rss-mid-MB")
		b.ReportMetric(float64(rssEnd)/(1<<20), "rss-end-MB")
	}
	b.ReportMetric(float64(heapStart)/(1<<20), "heap-start-MB")
	b.ReportMetric(float64(heapMid)/(1<<20), "heap-mid-MB")
	b.ReportMetric(float64(heapEnd)/(1<<20), "heap-end-MB")
}

// memObserver records the resident set and the Go heap in use when the
// watcher has processed the block at height mid.
type memObserver struct {
	mid  int64
	once sync.Once
	rss  int64
	heap uint64
}

func (o *memObserver) BlockProcessed(p watch.Progress) {
	if p.Height < o.mid {
		return
	}
	o.once.Do(func() {
		if rss, _, err := benchchain.ProcessRSS(os.Getpid()); err == nil {
			o.rss = rss
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		o.heap = ms.HeapInuse
	})
}
func (o *memObserver) EventEmitted(watch.Event) {}
func (o *memObserver) NodeError(error)          {}

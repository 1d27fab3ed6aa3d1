package watch

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// benchWorld: 1,000 watched delegations confirmed at height 1, and
// blocks of 100 transactions.
type benchWorld struct {
	f      *fixture
	n      *fakeNode
	stakes []*stake
}

func newBenchWorld(b *testing.B, entries int) *benchWorld {
	b.Helper()
	f := newFixture(b)
	bw := &benchWorld{f: f, n: newFakeNode()}
	var txs []*wire.MsgTx
	for range entries {
		s := f.newStake(b, 1000)
		bw.stakes = append(bw.stakes, s)
		txs = append(txs, s.tx)
	}
	bw.n.mine(txs...) // 1
	return bw
}

// filler is an ordinary transaction: two P2WPKH-shaped inputs, two outputs.
func (bw *benchWorld) filler() *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	for range 2 {
		tx.AddTxIn(wire.NewTxIn(bw.f.funding(), nil, wire.TxWitness{make([]byte, 71), make([]byte, 33)}))
	}
	tx.AddTxOut(wire.NewTxOut(40_000, append([]byte{0, 0x14}, make([]byte, 20)...)))
	tx.AddTxOut(wire.NewTxOut(50_000, append([]byte{0, 0x14}, make([]byte, 20)...)))
	return tx
}

func (bw *benchWorld) block(n int, extra ...*wire.MsgTx) []*wire.MsgTx {
	txs := append([]*wire.MsgTx(nil), extra...)
	for len(txs) < n {
		txs = append(txs, bw.filler())
	}
	return txs
}

// BenchmarkApplyBlock: one block of 100 ordinary transactions applied
// with 1,000 watched live outputs (the follower's hot path: an index
// lookup per input), committed every DefaultBatchBlocks blocks.
func BenchmarkApplyBlock(b *testing.B) {
	bw := newBenchWorld(b, 1000)
	w := openTest(b, dbPath(b), testConfig(bw.n, &recorder{}))
	for _, s := range bw.stakes {
		if err := w.Add(s.e); err != nil {
			b.Fatal(err)
		}
	}
	catchUp(b, w, 1)
	var blocks []*wire.MsgBlock
	for range 32 {
		blocks = append(blocks, bw.n.mine(bw.block(99)...))
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	w.mu.Lock()
	for i := 0; i < b.N; i++ {
		blk := blocks[i%len(blocks)]
		if _, err := w.applyBlock(int64(i+2), blk.BlockHash(), blk); err != nil {
			b.Fatal(err)
		}
		if w.batch.blocks >= DefaultBatchBlocks {
			if err := w.commitLocked(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.commitLocked(); err != nil {
		b.Fatal(err)
	}
	w.mu.Unlock()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "blocks/s")
}

// wireNode serves blocks as a node does: serialized, so that each fetch
// pays for decoding the block like chain.Client's.
type wireNode struct {
	*fakeNode
	raw map[chainhash.Hash][]byte
}

func newWireNode(n *fakeNode) *wireNode {
	wn := &wireNode{fakeNode: n, raw: map[chainhash.Hash][]byte{}}
	for _, blk := range n.blocks {
		var buf bytes.Buffer
		_ = blk.Serialize(&buf)
		wn.raw[blk.BlockHash()] = buf.Bytes()
	}
	return wn
}

func (wn *wireNode) Block(_ context.Context, hash chainhash.Hash) (*wire.MsgBlock, error) {
	b := new(wire.MsgBlock)
	if err := b.Deserialize(bytes.NewReader(wn.raw[hash])); err != nil {
		return nil, err
	}
	return b, nil
}

// BenchmarkCatchUp: the watcher catches up over 300 blocks of 100
// transactions with 1,000 watched delegations (three unbond in each of
// the first 300 blocks), against a node that serves serialized blocks;
// the same run also times a bare loop that only fetches and decodes the
// same blocks (the limit the node sets). Metrics: blocks/s of each and
// their ratio (the goal: at least 0.8).
func BenchmarkCatchUp(b *testing.B) {
	const nBlocks = 300
	bw := newBenchWorld(b, 1000)
	for h := range nBlocks {
		var ubs []*wire.MsgTx
		for _, s := range bw.stakes[3*h : 3*h+3] {
			ubs = append(ubs, s.unbond(b, bw.f))
		}
		bw.n.mine(bw.block(100, ubs...)...)
	}
	node := newWireNode(bw.n)
	tip := int64(nBlocks + 1)
	ctx := context.Background()
	var watchTime, bareTime time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cfg := testConfig(bw.n, &recorder{})
		cfg.Node = node
		w, err := Open(dbPath(b), cfg)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range bw.stakes {
			if err := w.Add(s.e); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		t0 := time.Now()
		if err := w.CatchUp(ctx, tip); err != nil {
			b.Fatal(err)
		}
		watchTime += time.Since(t0)
		b.StopTimer()
		if n := w.LastSeq(); n < 1000+3*nBlocks {
			b.Fatalf("%d events", n)
		}
		w.Close()
		t0 = time.Now()
		for h := int64(1); h <= tip; h++ {
			hash, err := node.BlockHash(ctx, h)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := node.Block(ctx, hash); err != nil {
				b.Fatal(err)
			}
		}
		bareTime += time.Since(t0)
		b.StartTimer()
	}
	b.StopTimer()
	watchRate := float64(b.N) * float64(tip) / watchTime.Seconds()
	bareRate := float64(b.N) * float64(tip) / bareTime.Seconds()
	b.ReportMetric(watchRate, "blocks/s")
	b.ReportMetric(bareRate, "bare-blocks/s")
	b.ReportMetric(watchRate/bareRate, "ratio")
}

// BenchmarkBackfill: 1,000 delegations added to a watcher that already
// followed the chain of BenchmarkCatchUp (300 blocks of 100 transactions)
// without them are brought through its blocks: the same work as a
// catch-up, through the backfill (AddFrom 1; the Add is not timed, as in
// BenchmarkCatchUp). Metrics as BenchmarkCatchUp.
func BenchmarkBackfill(b *testing.B) {
	const nBlocks = 300
	bw := newBenchWorld(b, 1000)
	for h := range nBlocks {
		var ubs []*wire.MsgTx
		for _, s := range bw.stakes[3*h : 3*h+3] {
			ubs = append(ubs, s.unbond(b, bw.f))
		}
		bw.n.mine(bw.block(100, ubs...)...)
	}
	node := newWireNode(bw.n)
	tip := int64(nBlocks + 1)
	ctx := context.Background()
	var all []*Entry
	for _, s := range bw.stakes {
		all = append(all, s.e)
	}
	var fillTime, bareTime time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cfg := testConfig(bw.n, &recorder{})
		cfg.Node = node
		w, err := Open(dbPath(b), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := w.CatchUp(ctx, tip); err != nil {
			b.Fatal(err)
		}
		if err := w.AddFrom(1, all...); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		if err := w.CatchUp(ctx, tip); err != nil {
			b.Fatal(err)
		}
		fillTime += time.Since(t0)
		b.StopTimer()
		if n := w.LastSeq(); n < 1000+3*nBlocks {
			b.Fatalf("%d events", n)
		}
		w.Close()
		t0 = time.Now()
		for h := int64(1); h <= tip; h++ {
			hash, err := node.BlockHash(ctx, h)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := node.Block(ctx, hash); err != nil {
				b.Fatal(err)
			}
		}
		bareTime += time.Since(t0)
		b.StartTimer()
	}
	b.StopTimer()
	fillRate := float64(b.N) * float64(tip) / fillTime.Seconds()
	bareRate := float64(b.N) * float64(tip) / bareTime.Seconds()
	b.ReportMetric(fillRate, "blocks/s")
	b.ReportMetric(bareRate, "bare-blocks/s")
	b.ReportMetric(fillRate/bareRate, "ratio")
}

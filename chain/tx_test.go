package chain

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// TestBroadcastRejections: sendrawtransaction's error objects become
// typed rejections from their text and code; other errors are not
// rejections.
func TestBroadcastRejections(t *testing.T) {
	var next answer
	tx := testTx(1)
	s := newStandIn(t, map[string]func([]json.RawMessage) answer{
		"sendrawtransaction": func(ps []json.RawMessage) answer {
			if got := param[string](t, ps, 0); got != txHexOf(t, tx) {
				t.Errorf("sent %s, want the transaction's hex", got)
			}
			return next
		},
	})
	c := s.client(t)
	ctx := ctxT(t)
	for _, cse := range []struct {
		reply answer
		want  error // nil: accepted
	}{
		{fail(-26, "non-BIP68-final"), ErrSequenceLock},
		{fail(-26, "TX rejected: transaction's sequence locks on inputs not met"), ErrSequenceLock}, // btcd
		{fail(-25, "bad-txns-inputs-missingorspent"), ErrMissingInputs},
		{fail(-26, "txn-mempool-conflict"), ErrDoubleSpend},
		{fail(-26, "min relay fee not met, 0 < 110"), ErrFeeTooLow},
		{fail(-25, "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)"), ErrFeeTooHigh},
		{fail(-26, "mandatory-script-verify-flag-failed (Invalid Schnorr signature)"), ErrScriptFailure},
		{fail(-27, "Transaction already in block chain"), ErrAlreadyKnown},
		{fail(-27, "a wording no pattern knows"), ErrAlreadyKnown},
		{fail(-22, "TX decode failed"), ErrRejected},
		{fail(-25, "TX rejected: tried to spend coinbase transaction output 9145:0 from height 111 at height 112 before required maturity of 100 blocks"), ErrImmatureCoinbase},
		// The same transaction again: btcd refuses, bitcoind accepts; both succeed here.
		{fail(-27, "TX rejected: already have transaction in mempool "+tx.TxHash().String()), nil},
		{ok(tx.TxHash().String()), nil},
	} {
		next = cse.reply
		txid, err := c.Broadcast(ctx, tx)
		if cse.want == nil {
			if err != nil || txid != tx.TxHash() {
				t.Errorf("%+v: %s, %v; want accepted", cse.reply, txid, err)
			}
			continue
		}
		var rej *RejectError
		if !errors.Is(err, cse.want) || !errors.Is(err, ErrRejected) || !errors.As(err, &rej) ||
			rej.Reason != cse.reply.msg || rej.Code != cse.reply.code {
			t.Errorf("%+v: %v, want a rejection of kind %v", cse.reply, err, cse.want)
		}
		if errors.Is(err, ErrRPC) {
			t.Errorf("%+v: a rejection also matches ErrRPC", cse.reply)
		}
	}
	// Errors that refuse the call, not the transaction.
	for _, reply := range []answer{fail(-1, "internal error"), fail(-8, "bad parameter"), ok(17), ok("not-a-hash")} {
		next = reply
		_, err := c.Broadcast(ctx, tx)
		if err == nil || errors.Is(err, ErrRejected) || !(errors.Is(err, ErrRPC) || errors.Is(err, ErrBadReply)) {
			t.Errorf("%+v: %v, want ErrRPC or ErrBadReply and no rejection", reply, err)
		}
	}
	if _, err := c.Broadcast(ctx, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("nil tx: %v", err)
	}
}

func TestTestMempoolAccept(t *testing.T) {
	var next answer
	tx := testTx(2)
	s := newStandIn(t, map[string]func([]json.RawMessage) answer{
		"testmempoolaccept": func(ps []json.RawMessage) answer {
			// btcd needs the max fee rate spelled out.
			if raw := param[[]string](t, ps, 0); len(raw) != 1 || raw[0] != txHexOf(t, tx) || param[float64](t, ps, 1) != 0.1 {
				t.Errorf("testmempoolaccept params %s", ps)
			}
			return next
		},
	})
	c := s.client(t)
	ctx := ctxT(t)
	verdict := func(allowed bool, reason string) answer {
		v := map[string]any{"txid": tx.TxHash().String(), "allowed": allowed}
		if !allowed {
			v["reject-reason"] = reason
		}
		return ok([]any{v})
	}
	next = verdict(true, "")
	if err := c.TestMempoolAccept(ctx, tx); err != nil {
		t.Fatalf("accepted: %v", err)
	}
	for reason, want := range map[string]error{
		"non-BIP68-final":        ErrSequenceLock,
		"non-final":              ErrNonFinal,
		"missing-inputs":         ErrMissingInputs,
		"max-fee-exceeded":       ErrFeeTooHigh,
		"dust":                   ErrNonStandard,
		"txn-already-in-mempool": ErrAlreadyKnown,
		"something new":          ErrRejected,
	} {
		next = verdict(false, reason)
		err := c.TestMempoolAccept(ctx, tx)
		var rej *RejectError
		if !errors.Is(err, want) || !errors.As(err, &rej) || rej.Reason != reason || rej.Code != 0 {
			t.Errorf("%q: %v, want %v", reason, err, want)
		}
	}
	next = fail(-22, "TX decode failed")
	if err := c.TestMempoolAccept(ctx, tx); !errors.Is(err, ErrRejected) {
		t.Errorf("code -22: %v", err)
	}
	next = ok([]any{})
	if err := c.TestMempoolAccept(ctx, tx); !errors.Is(err, ErrBadReply) {
		t.Errorf("no verdict: %v", err)
	}
}

// chainStandIn serves a small chain of real blocks (heights 0..len-1) and
// a mempool, answering the lookup calls as btcd does with or without
// -txindex.
type chainStandIn struct {
	t                 *testing.T
	blocks            []*wire.MsgBlock
	mempool           []*wire.MsgTx
	txindex           bool
	noSpendingPrevout bool // a node without gettxspendingprevout
}

func (cs *chainStandIn) height(hash string) int {
	for i, b := range cs.blocks {
		if b.BlockHash().String() == hash {
			return i
		}
	}
	return -1
}

func (cs *chainStandIn) find(txid string) (*wire.MsgTx, int) {
	for _, tx := range cs.mempool {
		if tx.TxHash().String() == txid {
			return tx, -1
		}
	}
	for h, b := range cs.blocks {
		for _, tx := range b.Transactions {
			if tx.TxHash().String() == txid {
				return tx, h
			}
		}
	}
	return nil, -2
}

func (cs *chainStandIn) spent(op wire.OutPoint) bool {
	for _, b := range cs.blocks {
		for _, tx := range b.Transactions {
			if spendingInput(tx, op) >= 0 {
				return true
			}
		}
	}
	return false
}

func (cs *chainStandIn) methods() map[string]func([]json.RawMessage) answer {
	t := cs.t
	tip := func() int { return len(cs.blocks) - 1 }
	return map[string]func([]json.RawMessage) answer{
		"getblockcount": func([]json.RawMessage) answer { return ok(tip()) },
		"getblockhash": func(ps []json.RawMessage) answer {
			h := param[int](t, ps, 0)
			if h < 0 || h > tip() {
				return fail(-1, "Block number out of range") // btcd
			}
			return ok(cs.blocks[h].BlockHash().String())
		},
		"getblockheader": func(ps []json.RawMessage) answer {
			h := cs.height(param[string](t, ps, 0))
			if h < 0 {
				return fail(-5, "Block not found")
			}
			return ok(map[string]any{"hash": cs.blocks[h].BlockHash().String(), "height": h, "confirmations": tip() - h + 1})
		},
		"getblock": func(ps []json.RawMessage) answer {
			h := cs.height(param[string](t, ps, 0))
			if h < 0 {
				return fail(-5, "Block not found")
			}
			if param[int](t, ps, 1) == 1 {
				v := blockJSON(cs.blocks[h], h, tip()-h+1)
				if h < tip() {
					v["nextblockhash"] = cs.blocks[h+1].BlockHash().String()
				}
				return ok(v)
			}
			var b bytes.Buffer
			_ = cs.blocks[h].Serialize(&b)
			return ok(hex.EncodeToString(b.Bytes()))
		},
		"getrawtransaction": func(ps []json.RawMessage) answer {
			tx, h := cs.find(param[string](t, ps, 0))
			if tx == nil || (h >= 0 && !cs.txindex) {
				return fail(-5, "No information available about transaction")
			}
			v := map[string]any{"hex": txHexOf(t, tx), "confirmations": 0}
			if h >= 0 {
				v["blockhash"] = cs.blocks[h].BlockHash().String()
				v["confirmations"] = tip() - h + 1
			}
			return ok(v)
		},
		"gettxout": func(ps []json.RawMessage) answer {
			id, vout := param[string](t, ps, 0), param[uint32](t, ps, 1)
			tx, h := cs.find(id)
			if tx == nil || int(vout) >= len(tx.TxOut) || cs.spent(wire.OutPoint{Hash: tx.TxHash(), Index: vout}) {
				return ok(nil)
			}
			confs := 0
			if h >= 0 {
				confs = tip() - h + 1
			}
			return ok(map[string]any{"bestblock": cs.blocks[tip()].BlockHash().String(), "confirmations": confs,
				"value": float64(tx.TxOut[vout].Value) / 1e8, "coinbase": false,
				"scriptPubKey": map[string]any{"hex": hex.EncodeToString(tx.TxOut[vout].PkScript)}})
		},
		"getrawmempool": func([]json.RawMessage) answer {
			ids := []string{}
			for _, tx := range cs.mempool {
				ids = append(ids, tx.TxHash().String())
			}
			return ok(ids)
		},
		"gettxspendingprevout": func(ps []json.RawMessage) answer {
			if cs.noSpendingPrevout {
				return fail(-32601, "Method not found")
			}
			ops := param[[]struct {
				Txid string `json:"txid"`
				Vout uint32 `json:"vout"`
			}](t, ps, 0)
			out := []any{}
			for _, o := range ops {
				r := map[string]any{"txid": o.Txid, "vout": o.Vout}
				h, _ := chainhash.NewHashFromStr(o.Txid)
				for _, tx := range cs.mempool {
					if spendingInput(tx, wire.OutPoint{Hash: *h, Index: o.Vout}) >= 0 {
						r["spendingtxid"] = tx.TxHash().String()
					}
				}
				out = append(out, r)
			}
			return ok(out)
		},
	}
}

// newChain builds blocks 0..n-1, each with a coinbase-like first tx; the
// caller adds transactions to blocks before serving.
func newChain(n int) []*wire.MsgBlock {
	var prev chainhash.Hash
	blocks := make([]*wire.MsgBlock, n)
	for i := range blocks {
		cb := wire.NewMsgTx(1)
		cb.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: wire.MaxPrevOutIndex}, []byte{byte(i), 0x51}, nil))
		cb.AddTxOut(wire.NewTxOut(50e8, []byte{0x51}))
		b := wire.NewMsgBlock(wire.NewBlockHeader(1, &prev, &chainhash.Hash{}, 0, uint32(i)))
		_ = b.AddTransaction(cb)
		seal(b)
		blocks[i] = b
		prev = b.BlockHash()
	}
	return blocks
}

// relink recomputes the Merkle roots and previous-block hashes after
// transactions were added.
func relink(blocks []*wire.MsgBlock) {
	for i := range blocks {
		seal(blocks[i])
		if i > 0 {
			blocks[i].Header.PrevBlock = blocks[i-1].BlockHash()
		}
	}
}

func TestLookups(t *testing.T) {
	blocks := newChain(6)
	funding := testTx(3) // confirmed at height 2
	funding.AddTxOut(wire.NewTxOut(0, []byte{0x6a, 0x01, 0x02}))
	blocks[2].AddTransaction(funding)
	spend := wire.NewMsgTx(2) // spends funding:0 at height 4
	spend.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: funding.TxHash(), Index: 0}, nil, nil))
	spend.AddTxOut(wire.NewTxOut(9_000, []byte{0x51}))
	blocks[4].AddTransaction(spend)
	relink(blocks)
	pending := testTx(4) // in the mempool, spends nothing of ours
	cs := &chainStandIn{t: t, blocks: blocks, mempool: []*wire.MsgTx{pending}}
	s := newStandIn(t, cs.methods())
	c := s.client(t)
	ctx := ctxT(t)

	for _, txindex := range []bool{true, false} {
		cs.txindex = txindex
		// By id: mempool always, confirmed only with the index.
		info, err := c.Transaction(ctx, pending.TxHash())
		if err != nil || info.Confirmed() || info.Height != -1 || info.Confirmations != 0 || info.Tx.TxHash() != pending.TxHash() {
			t.Fatalf("txindex %v: mempool tx %+v, %v", txindex, info, err)
		}
		info, err = c.Transaction(ctx, spend.TxHash())
		if txindex && (err != nil || info.Height != 4 || info.Confirmations != 2 || info.Block != blocks[4].BlockHash()) {
			t.Fatalf("with txindex: %+v, %v", info, err)
		}
		if !txindex && (!errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "-txindex")) {
			t.Fatalf("without txindex: %v, want ErrNotFound naming -txindex", err)
		}
		// With a block hint.
		info, err = c.TransactionInBlock(ctx, spend.TxHash(), blocks[4].BlockHash())
		if err != nil || info.Height != 4 || info.Confirmations != 2 {
			t.Fatalf("in block: %+v, %v", info, err)
		}
		if _, err := c.TransactionInBlock(ctx, spend.TxHash(), blocks[3].BlockHash()); !errors.Is(err, ErrNotFound) {
			t.Fatalf("wrong block: %v", err)
		}
		// Locate: the spend's output is unspent, so its confirmations say
		// where it is even without the index.
		info, err = c.Locate(ctx, spend)
		if err != nil || info.Height != 4 || info.Confirmations != 2 || info.Block != blocks[4].BlockHash() {
			t.Fatalf("txindex %v: locate %+v, %v", txindex, info, err)
		}
		// funding's only spendable output is spent (its OP_RETURN is
		// never asked for): found with the index only.
		info, err = c.Locate(ctx, funding)
		if txindex && (err != nil || info.Height != 2) {
			t.Fatalf("locate funding with txindex: %+v, %v", info, err)
		}
		if !txindex && !errors.Is(err, ErrNotFound) {
			t.Fatalf("locate funding without txindex: %+v, %v", info, err)
		}
		if _, err := c.Transaction(ctx, chainhash.Hash{7}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown tx: %v", err)
		}
	}
	if _, err := c.Locate(ctx, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("nil: %v", err)
	}
	// Blocks.
	if _, err := c.BlockHash(ctx, 6); !errors.Is(err, ErrNotFound) {
		t.Fatalf("above the tip: %v", err)
	}
	b, h, err := c.BlockAt(ctx, 4)
	if err != nil || h != blocks[4].BlockHash() || len(b.Transactions) != 2 {
		t.Fatalf("block 4: %v, %v", h, err)
	}
	if _, err := c.Block(ctx, chainhash.Hash{1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown block: %v", err)
	}
	// Outputs.
	out, err := c.TxOut(ctx, wire.OutPoint{Hash: spend.TxHash(), Index: 0})
	if err != nil || out.Value != 9_000 || out.Confirmations != 2 || !bytes.Equal(out.PkScript, []byte{0x51}) {
		t.Fatalf("txout %+v, %v", out, err)
	}
	if _, err := c.TxOut(ctx, wire.OutPoint{Hash: funding.TxHash(), Index: 0}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("spent output: %v", err)
	}
}

func TestFindSpend(t *testing.T) {
	blocks := newChain(8)
	funding := testTx(5)
	funding.AddTxOut(wire.NewTxOut(20_000, []byte{0x51}))
	blocks[1].AddTransaction(funding)
	spend := wire.NewMsgTx(2)
	spend.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: 9}, nil, nil)) // an unrelated input first
	spend.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: funding.TxHash(), Index: 0}, nil, nil))
	spend.AddTxOut(wire.NewTxOut(9_000, []byte{0x51}))
	blocks[5].AddTransaction(spend)
	relink(blocks)
	op0 := wire.OutPoint{Hash: funding.TxHash(), Index: 0}
	op1 := wire.OutPoint{Hash: funding.TxHash(), Index: 1}
	cs := &chainStandIn{t: t, blocks: blocks}
	s := newStandIn(t, cs.methods())
	c := s.client(t)
	ctx := ctxT(t)

	// Unspent: nil, no block read.
	if sp, err := c.FindSpend(ctx, op1, SpendSearch{FromHeight: 1}); err != nil || sp != nil {
		t.Fatalf("unspent: %+v, %v", sp, err)
	}
	if s.called("getblock") != 0 {
		t.Fatal("an unspent output made the client read blocks")
	}
	// Spent at height 5: found from 1, and from 5; not within 1..4.
	for _, from := range []int64{1, 5} {
		sp, err := c.FindSpend(ctx, op0, SpendSearch{FromHeight: from})
		if err != nil || sp.Txid != spend.TxHash() || sp.Input != 1 || sp.Height != 5 || sp.Block != blocks[5].BlockHash() || !sp.Confirmed() {
			t.Fatalf("from %d: %+v, %v", from, sp, err)
		}
	}
	var progress []ScanProgress
	report := func(p ScanProgress) { progress = append(progress, p) }
	if _, err := c.FindSpend(ctx, op0, SpendSearch{FromHeight: 1, MaxBlocks: 4, Progress: report}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "1..4") {
		t.Fatalf("spend beyond the scan: %v", err)
	}
	for i, p := range progress {
		if p != (ScanProgress{Height: int64(i + 1), Read: int64(i + 1), Total: 4}) {
			t.Fatalf("progress %v", progress)
		}
	}
	if len(progress) != 4 {
		t.Fatalf("%d progress reports for 4 blocks", len(progress))
	}
	if _, err := c.FindSpend(ctx, op0, SpendSearch{FromHeight: 6}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("scan starting after the spend: %v", err)
	}
	if _, err := c.FindSpend(ctx, op0, SpendSearch{MaxBlocks: -1}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative MaxBlocks: %v", err)
	}
	// A mempool spend of an output confirmed and still in the UTXO set
	// (btcd's gettxout says unspent), with and without
	// gettxspendingprevout.
	mem := wire.NewMsgTx(2)
	mem.AddTxIn(wire.NewTxIn(&op1, nil, nil))
	mem.AddTxOut(wire.NewTxOut(19_000, []byte{0x51}))
	cs.mempool = []*wire.MsgTx{testTx(6), mem}
	for _, old := range []bool{false, true} {
		cs.noSpendingPrevout = old
		sp, err := c.FindSpend(ctx, op1, SpendSearch{FromHeight: 1})
		if err != nil || sp.Txid != mem.TxHash() || sp.Height != -1 || sp.Confirmed() || sp.Input != 0 {
			t.Fatalf("mempool spend (old node %v): %+v, %v", old, sp, err)
		}
		if _, err := c.TxOut(ctx, op1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("output spent in the mempool (old node %v): %v", old, err)
		}
	}
}

// TestWaitConfirmations: progress as the count grows, and every way a wait
// can end without enough confirmations.
func TestWaitConfirmations(t *testing.T) {
	tx := testTx(8)
	// The block at height 100 that confirms the transaction.
	blk := newChain(2)[1]
	blk.AddTransaction(tx)
	seal(blk)
	var mu sync.Mutex
	// The count the node gives at each call of either lookup (the block
	// confirms the transaction from the third call on).
	confs := []int64{0, 0, 1, 2, 3}
	cur := int64(0)
	known := true
	next := func() int64 {
		cur = confs[0]
		if len(confs) > 1 {
			confs = confs[1:]
		}
		return cur
	}
	s := newStandIn(t, map[string]func([]json.RawMessage) answer{
		"getrawtransaction": func([]json.RawMessage) answer {
			mu.Lock()
			defer mu.Unlock()
			if !known {
				return fail(-5, "No such mempool or blockchain transaction")
			}
			c := next()
			v := map[string]any{"hex": txHexOf(t, tx), "confirmations": c}
			if c > 0 {
				v["blockhash"] = blk.BlockHash().String()
			}
			return ok(v)
		},
		"getblockheader": func(ps []json.RawMessage) answer {
			mu.Lock()
			defer mu.Unlock()
			return ok(map[string]any{"hash": blk.BlockHash().String(), "height": 100, "confirmations": next()})
		},
		"getblock": func(ps []json.RawMessage) answer {
			mu.Lock()
			defer mu.Unlock()
			return ok(blockJSON(blk, 100, int(cur)))
		},
		"getblockhash": func(ps []json.RawMessage) answer {
			return ok(blk.BlockHash().String())
		},
		// A node with a transaction index (bitcoind's way of saying so).
		"getindexinfo": func([]json.RawMessage) answer {
			return ok(map[string]any{"txindex": map[string]any{"synced": true, "best_block_height": 102}})
		},
	})
	c := s.client(t)
	ctx := ctxT(t)
	var seen []int64
	got, err := c.WaitConfirmations(ctx, tx.TxHash(), 2, WaitOptions{Interval: time.Millisecond, Progress: func(n int64) { seen = append(seen, n) }})
	if err != nil || got < 2 || len(seen) < 2 || seen[0] != 0 || seen[len(seen)-1] != got {
		t.Fatalf("wait: %d, %v, progress %v", got, err, seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Fatalf("progress repeats or goes back: %v", seen)
		}
	}

	// Stuck at 0: a timeout that says how far it got.
	mu.Lock()
	confs = []int64{0}
	mu.Unlock()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = c.WaitConfirmations(short, tx.TxHash(), 1, WaitOptions{Interval: 5 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "0 of 1") || errors.Is(err, ErrUnreachable) {
		t.Fatalf("stuck: %v", err)
	}
	// Unknown: kept waiting (a timeout) or, if asked, ErrNotFound at once.
	mu.Lock()
	known = false
	mu.Unlock()
	short2, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	if _, err := c.WaitConfirmations(short2, tx.TxHash(), 1, WaitOptions{Interval: 5 * time.Millisecond}); !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "unknown") {
		t.Fatalf("unknown: %v", err)
	}
	if _, err := c.WaitConfirmations(ctx, tx.TxHash(), 1, WaitOptions{FailIfUnknown: true}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown, fail at once: %v", err)
	}
	// A node that stops answering while the context runs out: a timeout,
	// not "cannot reach".
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	hc, _ := New(Config{URL: hang.URL})
	short3, cancel3 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel3()
	if _, err := hc.WaitConfirmations(short3, tx.TxHash(), 1, WaitOptions{}); !errors.Is(err, ErrTimeout) || errors.Is(err, ErrUnreachable) {
		t.Fatalf("hanging node: %v", err)
	}
	// Errors polling cannot cure end the wait at once.
	bad, _ := New(Config{URL: s.srv.URL, User: "u", Pass: "nope"})
	start := time.Now()
	if _, err := bad.WaitConfirmations(ctx, tx.TxHash(), 1, WaitOptions{}); !errors.Is(err, ErrAuth) || time.Since(start) > 5*time.Second {
		t.Fatalf("wrong credentials: %v after %s", err, time.Since(start))
	}
	// Bad arguments.
	for _, o := range []struct {
		n    int64
		opts WaitOptions
	}{{0, WaitOptions{}}, {1, WaitOptions{Interval: -1}}, {1, WaitOptions{Tx: testTx(9)}}} {
		if _, err := c.WaitConfirmations(ctx, tx.TxHash(), o.n, o.opts); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%d %+v: %v", o.n, o.opts, err)
		}
	}
}

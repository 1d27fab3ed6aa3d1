package chain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// scriptedNode answers JSON-RPC calls with a script: the i-th call of a run
// gets the i-th line of the script (cycling) as its whole HTTP body, so a
// fuzz input is any sequence of replies, envelope included. A run makes at
// most maxCalls calls: the next one finds the connection closed.
type scriptedNode struct {
	mu      sync.Mutex
	replies [][]byte
	calls   int
	srv     *httptest.Server
}

const maxScriptedCalls = 48

func newScriptedNode() *scriptedNode {
	s := &scriptedNode{}
	s.srv = httptest.NewServer(s)
	return s
}

func (s *scriptedNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	s.mu.Lock()
	n := s.calls
	s.calls++
	var body []byte
	if len(s.replies) > 0 {
		body = s.replies[n%len(s.replies)]
	}
	s.mu.Unlock()
	if n >= maxScriptedCalls {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
	}
	_, _ = w.Write(body)
}

// script sets the replies of the next run.
func (s *scriptedNode) script(replies [][]byte) {
	s.mu.Lock()
	s.replies, s.calls = replies, 0
	s.mu.Unlock()
}

// nodeOp is one client call a fuzz input drives, and what must hold of
// its result when it succeeds.
type nodeOp struct {
	name string
	run  func(ctx context.Context, c *Client, fx *replyFixture) error
}

// replyFixture is what the calls ask about.
type replyFixture struct {
	tx    *wire.MsgTx // a transaction the caller holds
	op    wire.OutPoint
	block *wire.MsgBlock
}

// badf reports a broken promise (not an error kind of the package).
func badf(format string, args ...any) error {
	return &invariantError{msg: fmt.Sprintf(format, args...)}
}

type invariantError struct{ msg string }

func (e *invariantError) Error() string { return "invariant broken: " + e.msg }

// nodeOps are the calls whose replies the fuzzer scripts, each with the
// check the package promises: an answer is what was asked for.
var nodeOps = []nodeOp{
	{"Transaction", func(ctx context.Context, c *Client, fx *replyFixture) error {
		info, err := c.Transaction(ctx, fx.tx.TxHash())
		switch {
		case err != nil:
			return err
		case info.Tx.TxHash() != fx.tx.TxHash() || info.Txid != fx.tx.TxHash():
			return badf("Transaction returned %v for %v", info.Tx.TxHash(), fx.tx.TxHash())
		case info.Confirmed() != (info.Confirmations > 0):
			return badf("Transaction: height %d with %d confirmations", info.Height, info.Confirmations)
		}
		return nil
	}},
	{"Locate", func(ctx context.Context, c *Client, fx *replyFixture) error {
		info, err := c.Locate(ctx, fx.tx)
		if err == nil && (info.Txid != fx.tx.TxHash() || info.Tx.TxHash() != fx.tx.TxHash()) {
			return badf("Locate returned another transaction")
		}
		return err
	}},
	{"FindTransaction", func(ctx context.Context, c *Client, fx *replyFixture) error {
		info, err := c.FindTransaction(ctx, fx.tx.TxHash(), TxSearch{MaxBlocks: 3})
		if err == nil && info.Tx.TxHash() != fx.tx.TxHash() {
			return badf("FindTransaction returned another transaction")
		}
		return err
	}},
	{"FindSpend", func(ctx context.Context, c *Client, fx *replyFixture) error {
		sp, err := c.FindSpend(ctx, fx.op, SpendSearch{FromHeight: 1, MaxBlocks: 3})
		if err == nil && sp != nil && (sp.Input < 0 || sp.Input >= len(sp.Tx.TxIn) || sp.Tx.TxIn[sp.Input].PreviousOutPoint != fx.op || sp.Txid != sp.Tx.TxHash()) {
			return badf("FindSpend returned a transaction that does not spend the output")
		}
		return err
	}},
	{"Block", func(ctx context.Context, c *Client, fx *replyFixture) error {
		b, err := c.Block(ctx, fx.block.BlockHash())
		if err == nil && b.BlockHash() != fx.block.BlockHash() {
			return badf("Block returned another block")
		}
		return err
	}},
	{"BlockAt", func(ctx context.Context, c *Client, fx *replyFixture) error {
		b, h, err := c.BlockAt(ctx, 1)
		if err == nil && b.BlockHash() != h {
			return badf("BlockAt returned a block that is not the one it names")
		}
		return err
	}},
	{"BlockHeader", func(ctx context.Context, c *Client, fx *replyFixture) error {
		hdr, err := c.BlockHeader(ctx, fx.block.BlockHash())
		if err == nil && (hdr.Hash != fx.block.BlockHash() || hdr.Height < 0) {
			return badf("BlockHeader described another block")
		}
		return err
	}},
	{"Broadcast", func(ctx context.Context, c *Client, fx *replyFixture) error {
		txid, err := c.Broadcast(ctx, fx.tx)
		if err == nil && txid != fx.tx.TxHash() {
			return badf("Broadcast answered another txid")
		}
		return err
	}},
	{"TestMempoolAccept", func(ctx context.Context, c *Client, fx *replyFixture) error {
		return c.TestMempoolAccept(ctx, fx.tx)
	}},
	{"TxOut", func(ctx context.Context, c *Client, fx *replyFixture) error {
		o, err := c.TxOut(ctx, fx.op)
		if err == nil && (o.Value < 0 || o.Value > 21e14) {
			return badf("TxOut value %d", o.Value)
		}
		return err
	}},
	{"MempoolSpender", func(ctx context.Context, c *Client, fx *replyFixture) error {
		_, _, err := c.MempoolSpender(ctx, fx.op)
		return err
	}},
	{"Info", func(ctx context.Context, c *Client, fx *replyFixture) error {
		_, err := c.Info(ctx)
		return err
	}},
	{"CheckNetwork", func(ctx context.Context, c *Client, fx *replyFixture) error {
		return c.CheckNetwork(ctx, &chaincfg.RegressionNetParams)
	}},
	{"Tip", func(ctx context.Context, c *Client, fx *replyFixture) error {
		tip, err := c.Tip(ctx)
		if err == nil && tip.Height < 0 {
			return badf("negative tip height")
		}
		return err
	}},
	{"MempoolTxids", func(ctx context.Context, c *Client, fx *replyFixture) error {
		_, err := c.MempoolTxids(ctx)
		return err
	}},
}

// errorKinds are the package's kinds: every error is one of them.
var errorKinds = []error{ErrInvalidArgument, ErrUnreachable, ErrAuth, ErrTimeout, ErrBadReply, ErrRPC,
	ErrNotFound, ErrWrongChain, ErrUnconfirmedChain, ErrRejected}

// recordReplies runs op against an honest node serving the lying-node
// fixture and returns the HTTP bodies it answered, in order: a seed.
func recordReplies(t testing.TB, f *lyingFixture, txindex bool, op nodeOp) [][]byte {
	f.cs.txindex = txindex
	honest := newStandIn(&testing.T{}, f.methods(&testing.T{}))
	var mu sync.Mutex
	var bodies [][]byte
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rr := httptest.NewRecorder()
		honest.ServeHTTP(rr, r)
		mu.Lock()
		bodies = append(bodies, bytes.TrimSpace(rr.Body.Bytes()))
		mu.Unlock()
		w.WriteHeader(rr.Code)
		_, _ = w.Write(rr.Body.Bytes())
	}))
	defer rec.Close()
	defer honest.srv.Close()
	c, err := New(Config{URL: rec.URL, User: "u", Pass: "p", CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Whatever the honest answer (CheckNetwork: another chain; a lookup
	// without the index: not found), the replies are a seed.
	_ = op.run(ctx, c, f.replyFixture())
	return bodies
}

func (f *lyingFixture) replyFixture() *replyFixture {
	return &replyFixture{tx: f.spend, op: wire.OutPoint{Hash: f.funding.TxHash(), Index: 0}, block: f.blocks[4]}
}

// FuzzNodeReplies: whatever a node answers, each call of the client either
// fails with one of the package's error kinds or returns what was asked
// for (the transaction, block, spend or txid named), and nothing panics.
// The input picks the call and scripts the node's replies, one HTTP body
// per line; the seeds are an honest node's replies to each call, with and
// without a transaction index.
func FuzzNodeReplies(f *testing.F) {
	fx := newLyingFixture(&testing.T{})
	for i, op := range nodeOps {
		for _, txindex := range []bool{true, false} {
			f.Add(uint8(i), bytes.Join(recordReplies(f, fx, txindex, op), []byte("\n")))
		}
	}
	f.Add(uint8(0), []byte(`{"result":null,"error":{"code":-5,"message":"No such mempool or blockchain transaction"},"id":1}`))
	f.Add(uint8(7), []byte(`{"result":"`+fx.other.TxHash().String()+`","error":null,"id":1}`))
	node := newScriptedNode()
	f.Cleanup(node.srv.Close)
	c, err := New(Config{URL: node.srv.URL, User: "u", Pass: "p", CallTimeout: 2 * time.Second})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(c.Close)
	rf := fx.replyFixture()
	f.Fuzz(func(t *testing.T, which uint8, script []byte) {
		op := nodeOps[int(which)%len(nodeOps)]
		node.script(bytes.Split(script, []byte("\n")))
		c.mu.Lock()
		c.txIndex = TxIndexUnknown // each run asks afresh
		c.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := op.run(ctx, c, rf)
		var inv *invariantError
		if errors.As(err, &inv) {
			t.Fatalf("%s: %v", op.name, err)
		}
		if err == nil {
			return
		}
		for _, k := range errorKinds {
			if errors.Is(err, k) {
				return
			}
		}
		t.Fatalf("%s: error of no kind: %v", op.name, err)
	})
}

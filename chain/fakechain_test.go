package chain

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// fakeChain is a node's chain for the stand-in: a main chain of real
// blocks on the regtest genesis, blocks a reorganisation took away, a
// mempool, and the node's habits (an index, getindexinfo, how it describes
// a block off the main chain).
type fakeChain struct {
	t       *testing.T
	mu      sync.Mutex
	name    string
	main    []*wire.MsgBlock
	stale   map[chainhash.Hash]staleBlock
	mempool map[chainhash.Hash]*wire.MsgTx
	// index: getrawtransaction finds confirmed transactions.
	index bool
	// indexInfo: the node has getindexinfo (bitcoind).
	indexInfo bool
	// btcdStale: a block off the main chain is an error to getblockheader
	// (btcd), not -1 confirmations (bitcoind).
	btcdStale bool
	nonce     uint32
}

// staleBlock is a block a reorganisation took away, and its height.
type staleBlock struct {
	b      *wire.MsgBlock
	height int
}

func newFakeChain(t *testing.T, height int) *fakeChain {
	f := &fakeChain{t: t, name: "regtest", main: []*wire.MsgBlock{chaincfg.RegressionNetParams.GenesisBlock},
		stale: map[chainhash.Hash]staleBlock{}, mempool: map[chainhash.Hash]*wire.MsgTx{}}
	f.mine(height)
	return f
}

// block makes a block on prev holding a coinbase-like transaction of its
// own and txs.
func (f *fakeChain) block(prev chainhash.Hash, txs ...*wire.MsgTx) *wire.MsgBlock {
	f.nonce++
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: 0xffffffff}, []byte{byte(f.nonce), byte(f.nonce >> 8), 0x51}, nil))
	cb.AddTxOut(wire.NewTxOut(50, []byte{0x51}))
	b := wire.NewMsgBlock(wire.NewBlockHeader(2, &prev, &chainhash.Hash{}, 0x207fffff, f.nonce))
	b.Header.Timestamp = time.Unix(1_700_000_000+int64(f.nonce), 0)
	_ = b.AddTransaction(cb)
	for _, tx := range txs {
		_ = b.AddTransaction(tx)
	}
	seal(b)
	return b
}

// mine adds n blocks, the first holding txs (taken from the mempool).
func (f *fakeChain) mine(n int, txs ...*wire.MsgTx) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i < n; i++ {
		b := f.block(f.main[len(f.main)-1].BlockHash(), txs...)
		for _, tx := range txs {
			delete(f.mempool, tx.TxHash())
		}
		txs = nil
		f.main = append(f.main, b)
	}
}

// reorg replaces the blocks above height keep with n new ones, the
// first holding txs.
func (f *fakeChain) reorg(keep int, n int, txs ...*wire.MsgTx) {
	f.mu.Lock()
	for i, b := range f.main[keep+1:] {
		f.stale[b.BlockHash()] = staleBlock{b, keep + 1 + i}
	}
	f.main = f.main[:keep+1]
	f.mu.Unlock()
	f.mine(n, txs...)
}

func (f *fakeChain) tip() int { return len(f.main) - 1 }

// find returns a block, its height and whether it is on the main chain.
func (f *fakeChain) find(h chainhash.Hash) (*wire.MsgBlock, int, bool) {
	for i, b := range f.main {
		if b.BlockHash() == h {
			return b, i, true
		}
	}
	if s, ok := f.stale[h]; ok {
		return s.b, s.height, false
	}
	return nil, 0, false
}

func serialize(t *testing.T, b *wire.MsgBlock) string {
	var buf bytes.Buffer
	if err := b.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(buf.Bytes())
}

// methods answers the calls a node without wallet answers about its chain.
func (f *fakeChain) methods() map[string]func([]json.RawMessage) answer {
	t := f.t
	locked := func(fn func([]json.RawMessage) answer) func([]json.RawMessage) answer {
		return func(ps []json.RawMessage) answer {
			f.mu.Lock()
			defer f.mu.Unlock()
			return fn(ps)
		}
	}
	return map[string]func([]json.RawMessage) answer{
		"getblockchaininfo": locked(func([]json.RawMessage) answer {
			return ok(map[string]any{"chain": f.name, "blocks": f.tip(), "headers": f.tip(),
				"bestblockhash": f.main[f.tip()].BlockHash().String(), "pruned": false})
		}),
		"getblockhash": locked(func(ps []json.RawMessage) answer {
			h := param[int](t, ps, 0)
			if h < 0 || h > f.tip() {
				return fail(-8, "Block height out of range")
			}
			return ok(f.main[h].BlockHash().String())
		}),
		"getblock": locked(func(ps []json.RawMessage) answer {
			hash, _ := chainhash.NewHashFromStr(param[string](t, ps, 0))
			b, h, onMain := f.find(*hash)
			if b == nil || (!onMain && f.btcdStale) {
				return fail(-5, "Block not found")
			}
			if param[int](t, ps, 1) == 0 {
				return ok(serialize(t, b))
			}
			v := blockJSON(b, h, -1)
			if onMain {
				v["confirmations"] = f.tip() - h + 1
				if h < f.tip() {
					v["nextblockhash"] = f.main[h+1].BlockHash().String()
				}
			}
			return ok(v)
		}),
		"getblockheader": locked(func(ps []json.RawMessage) answer {
			hash, _ := chainhash.NewHashFromStr(param[string](t, ps, 0))
			b, h, onMain := f.find(*hash)
			switch {
			case b == nil:
				return fail(-5, "Block not found")
			case !onMain && f.btcdStale:
				return fail(-32603, "Failed to obtain block height: block not in main chain")
			case !onMain:
				return ok(map[string]any{"hash": hash.String(), "height": h, "confirmations": -1})
			}
			return ok(map[string]any{"hash": hash.String(), "height": h, "confirmations": f.tip() - h + 1})
		}),
		"getrawtransaction": locked(func(ps []json.RawMessage) answer {
			id, _ := chainhash.NewHashFromStr(param[string](t, ps, 0))
			if tx, ok2 := f.mempool[*id]; ok2 {
				return ok(map[string]any{"hex": txHexOf(t, tx)})
			}
			if f.index {
				for h, b := range f.main[1:] {
					for _, tx := range b.Transactions {
						if tx.TxHash() == *id {
							return ok(map[string]any{"hex": txHexOf(t, tx), "blockhash": b.BlockHash().String(), "confirmations": f.tip() - (h + 1) + 1})
						}
					}
				}
				return fail(-5, "No information available about transaction")
			}
			return fail(-5, "The transaction index must be enabled to query the blockchain (specify --txindex)")
		}),
		"getindexinfo": locked(func([]json.RawMessage) answer {
			if !f.indexInfo {
				return fail(-32601, "Method not found")
			}
			if f.index {
				return ok(map[string]any{"txindex": map[string]any{"synced": true, "best_block_height": f.tip()}})
			}
			return ok(map[string]any{})
		}),
	}
}

// fakeNode serves f through a stand-in, with extra methods.
func fakeNode(t *testing.T, f *fakeChain, extra map[string]func([]json.RawMessage) answer) *standIn {
	m := f.methods()
	for k, v := range extra {
		m[k] = v
	}
	return newStandIn(t, m)
}

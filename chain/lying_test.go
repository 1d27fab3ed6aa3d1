package chain

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// lyingFixture is a small chain served honestly by a chainStandIn, with
// room for one lie at a time:
//
//	height 2: funding (outputs 0 and 1) and other
//	height 4: spend, spending funding:0 with a witness
//	mempool:  pending, spending funding:1
type lyingFixture struct {
	blocks                         []*wire.MsgBlock
	funding, other, spend, pending *wire.MsgTx
	cs                             *chainStandIn
}

func newLyingFixture(t *testing.T) *lyingFixture {
	f := &lyingFixture{blocks: newChain(8)}
	f.funding = testTx(3)
	f.funding.AddTxOut(wire.NewTxOut(20_000, []byte{0x51}))
	f.other = testTx(11)
	f.blocks[2].AddTransaction(f.funding)
	f.blocks[2].AddTransaction(f.other)
	f.spend = wire.NewMsgTx(2)
	f.spend.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: f.funding.TxHash(), Index: 0}, nil, wire.TxWitness{bytes.Repeat([]byte{7}, 64)}))
	f.spend.AddTxOut(wire.NewTxOut(9_000, []byte{0x00, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}))
	f.blocks[4].AddTransaction(f.spend)
	relink(f.blocks)
	f.pending = wire.NewMsgTx(2)
	f.pending.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: f.funding.TxHash(), Index: 1}, nil, nil))
	f.pending.AddTxOut(wire.NewTxOut(19_000, []byte{0x51}))
	f.cs = &chainStandIn{t: t, blocks: f.blocks, mempool: []*wire.MsgTx{f.pending}}
	return f
}

// methods are the chainStandIn's answers plus the calls it lacks.
func (f *lyingFixture) methods(t *testing.T) map[string]func([]json.RawMessage) answer {
	m := f.cs.methods()
	tip := func() int { return len(f.blocks) - 1 }
	m["getblockchaininfo"] = func([]json.RawMessage) answer {
		return ok(map[string]any{"chain": "regtest", "blocks": tip(), "headers": tip(), "bestblockhash": f.blocks[tip()].BlockHash().String()})
	}
	m["getindexinfo"] = func([]json.RawMessage) answer {
		if f.cs.txindex {
			return ok(map[string]any{"txindex": map[string]any{"synced": true}})
		}
		return ok(map[string]any{})
	}
	m["sendrawtransaction"] = func(ps []json.RawMessage) answer {
		tx, err := decodeTxHex(param[string](t, ps, 0), "test")
		if err != nil {
			t.Fatal(err)
		}
		return ok(tx.TxHash().String())
	}
	m["testmempoolaccept"] = func(ps []json.RawMessage) answer {
		tx, err := decodeTxHex(param[[]string](t, ps, 0)[0], "test")
		if err != nil {
			t.Fatal(err)
		}
		return ok([]any{map[string]any{"txid": tx.TxHash().String(), "allowed": true}})
	}
	return m
}

func rawBlock(t *testing.T, b *wire.MsgBlock) answer { return ok(serialize(t, b)) }

// copyBlock returns a deep copy of b (its header keeps b's hash).
func copyBlock(t *testing.T, b *wire.MsgBlock) *wire.MsgBlock {
	var buf bytes.Buffer
	if err := b.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	c := new(wire.MsgBlock)
	if err := c.Deserialize(&buf); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLyingNode: every answer the client uses is checked against what was
// asked. Each case serves the fixture honestly but for one lie, and the
// call that would use the lie must fail with ErrBadReply; the same call
// against the honest node must succeed (so each case shows the check, not
// some other failure).
func TestLyingNode(t *testing.T) {
	type lie struct {
		method string
		// answer replaces the honest answer; honest is the honest one.
		answer func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer
	}
	type call func(t *testing.T, f *lyingFixture, c *Client) error
	ctxCall := func(fn func(f *lyingFixture, c *Client) error) call {
		return func(_ *testing.T, f *lyingFixture, c *Client) error { return fn(f, c) }
	}
	blockParam := func(t *testing.T, ps []json.RawMessage) string { return param[string](t, ps, 0) }
	verbosity := func(t *testing.T, ps []json.RawMessage) int { return param[int](t, ps, 1) }

	cases := []struct {
		name    string
		txindex bool
		lies    []lie
		call    call
	}{
		{
			name: "sendrawtransaction answers another txid",
			lies: []lie{{"sendrawtransaction", func(t *testing.T, f *lyingFixture, _ []json.RawMessage, _ func([]json.RawMessage) answer) answer {
				return ok(f.other.TxHash().String())
			}}},
			call: func(t *testing.T, f *lyingFixture, c *Client) error {
				txid, err := c.Broadcast(ctxT(t), f.pending)
				if err == nil && txid != f.pending.TxHash() {
					t.Fatalf("broadcast returned %s for %s", txid, f.pending.TxHash())
				}
				return err
			},
		},
		{
			name: "testmempoolaccept judges another transaction",
			lies: []lie{{"testmempoolaccept", func(t *testing.T, f *lyingFixture, _ []json.RawMessage, _ func([]json.RawMessage) answer) answer {
				return ok([]any{map[string]any{"txid": f.other.TxHash().String(), "allowed": true}})
			}}},
			call: ctxCall(func(f *lyingFixture, c *Client) error { return c.TestMempoolAccept(ctxT(t), f.pending) }),
		},
		{
			name: "testmempoolaccept names no transaction",
			lies: []lie{{"testmempoolaccept", func(t *testing.T, f *lyingFixture, _ []json.RawMessage, _ func([]json.RawMessage) answer) answer {
				return ok([]any{map[string]any{"allowed": true}})
			}}},
			call: ctxCall(func(f *lyingFixture, c *Client) error { return c.TestMempoolAccept(ctxT(t), f.pending) }),
		},
		{
			name:    "getrawtransaction returns another transaction",
			txindex: true,
			lies: []lie{{"getrawtransaction", func(t *testing.T, f *lyingFixture, _ []json.RawMessage, _ func([]json.RawMessage) answer) answer {
				return ok(map[string]any{"hex": txHexOf(t, f.other), "confirmations": 0})
			}}},
			call: ctxCall(func(f *lyingFixture, c *Client) error { _, err := c.Transaction(ctxT(t), f.spend.TxHash()); return err }),
		},
		{
			name:    "getrawtransaction names a block that does not hold it",
			txindex: true,
			lies: []lie{{"getrawtransaction", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
				a := honest(ps)
				a.result.(map[string]any)["blockhash"] = f.blocks[3].BlockHash().String()
				return a
			}}},
			call: ctxCall(func(f *lyingFixture, c *Client) error { _, err := c.Transaction(ctxT(t), f.spend.TxHash()); return err }),
		},
		{
			name:    "getblock lists the transaction in a block whose header does not commit to it",
			txindex: true,
			lies: []lie{
				{"getrawtransaction", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
					a := honest(ps)
					a.result.(map[string]any)["blockhash"] = f.blocks[3].BlockHash().String()
					return a
				}},
				{"getblock", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
					a := honest(ps)
					if blockParam(t, ps) == f.blocks[3].BlockHash().String() && verbosity(t, ps) == 1 {
						v := a.result.(map[string]any)
						v["tx"] = append(v["tx"].([]string), f.spend.TxHash().String())
					}
					return a
				}},
			},
			call: ctxCall(func(f *lyingFixture, c *Client) error { _, err := c.Transaction(ctxT(t), f.spend.TxHash()); return err }),
		},
		{
			name:    "getblock describes a header that is not the block's",
			txindex: true,
			lies: []lie{
				{"getrawtransaction", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
					a := honest(ps)
					a.result.(map[string]any)["blockhash"] = f.blocks[3].BlockHash().String()
					return a
				}},
				{"getblock", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
					a := honest(ps)
					if blockParam(t, ps) == f.blocks[3].BlockHash().String() && verbosity(t, ps) == 1 {
						// A consistent liar: the list and a Merkle root to
						// match, which the block's hash then does not.
						forged := copyBlock(t, f.blocks[3])
						forged.AddTransaction(f.spend)
						seal(forged)
						v := a.result.(map[string]any)
						v["tx"] = blockJSON(forged, 3, 5)["tx"]
						v["merkleroot"] = forged.Header.MerkleRoot.String()
					}
					return a
				}},
			},
			call: ctxCall(func(f *lyingFixture, c *Client) error { _, err := c.Transaction(ctxT(t), f.spend.TxHash()); return err }),
		},
		{
			name:    "getblock says the block getrawtransaction names is off the main chain",
			txindex: true,
			lies: []lie{{"getblock", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
				a := honest(ps)
				if blockParam(t, ps) == f.blocks[4].BlockHash().String() && verbosity(t, ps) == 1 {
					a.result.(map[string]any)["confirmations"] = -1
				}
				return a
			}}},
			call: func(t *testing.T, f *lyingFixture, c *Client) error {
				info, err := c.Transaction(ctxT(t), f.spend.TxHash())
				if err == nil && (info.Confirmations <= 0) == info.Confirmed() {
					t.Fatalf("confirmed at height %d with %d confirmations", info.Height, info.Confirmations)
				}
				return err
			},
		},
		{
			name:    "the block getrawtransaction names is not on the main chain at its height",
			txindex: true,
			lies: []lie{{"getblockhash", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
				if param[int](t, ps, 0) == 4 {
					return ok(f.blocks[5].BlockHash().String())
				}
				return honest(ps)
			}}},
			call: ctxCall(func(f *lyingFixture, c *Client) error { _, err := c.Transaction(ctxT(t), f.spend.TxHash()); return err }),
		},
		{
			name: "getblock returns the header with other transactions",
			lies: []lie{{"getblock", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
				if blockParam(t, ps) == f.blocks[4].BlockHash().String() && verbosity(t, ps) == 0 {
					forged := copyBlock(t, f.blocks[4])
					forged.Transactions[1] = f.pending
					return rawBlock(t, forged)
				}
				return honest(ps)
			}}},
			call: ctxCall(func(f *lyingFixture, c *Client) error {
				_, err := c.TransactionInBlock(ctxT(t), f.spend.TxHash(), f.blocks[4].BlockHash())
				return err
			}),
		},
		{
			name: "getblock returns the block with another witness",
			lies: []lie{{"getblock", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
				if blockParam(t, ps) == f.blocks[4].BlockHash().String() && verbosity(t, ps) == 0 {
					forged := copyBlock(t, f.blocks[4])
					forged.Transactions[1].TxIn[0].Witness = wire.TxWitness{bytes.Repeat([]byte{8}, 64)}
					return rawBlock(t, forged)
				}
				return honest(ps)
			}}},
			call: func(t *testing.T, f *lyingFixture, c *Client) error {
				sp, err := c.FindSpend(ctxT(t), wire.OutPoint{Hash: f.funding.TxHash()}, SpendSearch{FromHeight: 1})
				if err == nil && (sp == nil || sp.Txid != f.spend.TxHash() || sp.Height != 4) {
					t.Fatalf("spend %+v", sp)
				}
				return err
			},
		},
		{
			name: "getblock drops a witness the block commits to",
			lies: []lie{{"getblock", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
				if blockParam(t, ps) == f.blocks[4].BlockHash().String() && verbosity(t, ps) == 0 {
					forged := copyBlock(t, f.blocks[4])
					forged.Transactions[0].TxIn[0].Witness = nil
					return rawBlock(t, forged)
				}
				return honest(ps)
			}}},
			call: ctxCall(func(f *lyingFixture, c *Client) error {
				_, err := c.Block(ctxT(t), f.blocks[4].BlockHash())
				return err
			}),
		},
		{
			name: "getblock repeats the last transaction (same Merkle root)",
			lies: []lie{{"getblock", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
				if blockParam(t, ps) == f.blocks[2].BlockHash().String() && verbosity(t, ps) == 0 {
					forged := copyBlock(t, f.blocks[2])
					forged.Transactions = append(forged.Transactions, forged.Transactions[2])
					if testMerkle(txids(forged)) != forged.Header.MerkleRoot {
						t.Fatal("the repeated transaction changes the root: not the lie meant")
					}
					return rawBlock(t, forged)
				}
				return honest(ps)
			}}},
			call: ctxCall(func(f *lyingFixture, c *Client) error {
				_, err := c.Block(ctxT(t), f.blocks[2].BlockHash())
				return err
			}),
		},
		{
			name: "getblockhash names a block at another height",
			lies: []lie{{"getblockhash", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
				if param[int](t, ps, 0) == 3 {
					return ok(f.blocks[4].BlockHash().String())
				}
				return honest(ps)
			}}},
			call: func(t *testing.T, f *lyingFixture, c *Client) error {
				// The spend at height 4, reported as found at height 3.
				sp, err := c.FindSpend(ctxT(t), wire.OutPoint{Hash: f.funding.TxHash()}, SpendSearch{FromHeight: 3})
				if err == nil && sp.Height != 4 {
					t.Fatalf("spend found at height %d", sp.Height)
				}
				return err
			},
		},
		{
			name: "getblockheader describes another block",
			lies: []lie{{"getblockheader", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
				return ok(map[string]any{"hash": f.blocks[5].BlockHash().String(), "height": 5, "confirmations": 3})
			}}},
			call: ctxCall(func(f *lyingFixture, c *Client) error {
				_, err := c.BlockHeader(ctxT(t), f.blocks[4].BlockHash())
				return err
			}),
		},
		{
			name: "gettxout reports another output script",
			lies: []lie{{"gettxout", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
				a := honest(ps)
				if m, isMap := a.result.(map[string]any); isMap {
					m["scriptPubKey"] = map[string]any{"hex": "51"}
				}
				return a
			}}},
			call: ctxCall(func(f *lyingFixture, c *Client) error { _, err := c.Locate(ctxT(t), f.spend); return err }),
		},
		{
			name: "gettxout reports another value",
			lies: []lie{{"gettxout", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
				a := honest(ps)
				if m, isMap := a.result.(map[string]any); isMap {
					m["value"] = 0.5
				}
				return a
			}}},
			call: ctxCall(func(f *lyingFixture, c *Client) error { _, err := c.Locate(ctxT(t), f.spend); return err }),
		},
		{
			name: "gettxout's confirmations point at a block without the transaction",
			lies: []lie{{"gettxout", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
				a := honest(ps)
				if m, isMap := a.result.(map[string]any); isMap {
					m["confirmations"] = m["confirmations"].(int) + 1
				}
				return a
			}}},
			call: func(t *testing.T, f *lyingFixture, c *Client) error {
				info, err := c.Locate(ctxT(t), f.spend)
				if err == nil && info.Height != 4 {
					t.Fatalf("located at height %d", info.Height)
				}
				return err
			},
		},
		{
			name: "gettxspendingprevout answers for another output",
			lies: []lie{{"gettxspendingprevout", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
				return ok([]any{map[string]any{"txid": f.funding.TxHash().String(), "vout": 0, "spendingtxid": f.pending.TxHash().String()}})
			}}},
			call: func(t *testing.T, f *lyingFixture, c *Client) error {
				_, found, err := c.MempoolSpender(ctxT(t), wire.OutPoint{Hash: f.funding.TxHash(), Index: 1})
				if err == nil && !found {
					t.Fatal("the honest node's mempool spend was not found")
				}
				return err
			},
		},
		{
			name: "gettxspendingprevout names a transaction that does not spend the output",
			lies: []lie{{"gettxspendingprevout", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
				a := honest(ps)
				a.result.([]any)[0].(map[string]any)["spendingtxid"] = f.pending.TxHash().String()
				return a
			}}},
			call: func(t *testing.T, f *lyingFixture, c *Client) error {
				// funding:0 is spent in block 4, not by pending.
				sp, err := c.FindSpend(ctxT(t), wire.OutPoint{Hash: f.funding.TxHash()}, SpendSearch{FromHeight: 1})
				if err == nil && sp.Txid != f.spend.TxHash() {
					t.Fatalf("spend %s", sp.Txid)
				}
				return err
			},
		},
		{
			name: "getblock reports a block at another height than its place below the tip",
			lies: []lie{{"getblock", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
				a := honest(ps)
				if blockParam(t, ps) == f.blocks[4].BlockHash().String() && verbosity(t, ps) == 1 {
					a.result.(map[string]any)["height"] = 6
				}
				return a
			}}},
			call: func(t *testing.T, f *lyingFixture, c *Client) error {
				info, err := c.FindTransaction(ctxT(t), f.spend.TxHash(), TxSearch{})
				if err == nil && info.Height != 4 {
					t.Fatalf("found at height %d", info.Height)
				}
				return err
			},
		},
		{
			name: "getblock names as next a block that does not build on it",
			lies: []lie{{"getblock", func(t *testing.T, f *lyingFixture, ps []json.RawMessage, honest func([]json.RawMessage) answer) answer {
				a := honest(ps)
				if verbosity(t, ps) != 1 {
					return a
				}
				switch blockParam(t, ps) {
				case f.blocks[2].BlockHash().String(): // skip block 3
					a.result.(map[string]any)["nextblockhash"] = f.blocks[4].BlockHash().String()
				case f.blocks[4].BlockHash().String():
					a.result.(map[string]any)["height"] = 3
				}
				return a
			}}},
			call: ctxCall(func(f *lyingFixture, c *Client) error {
				_, err := c.FindTransaction(ctxT(t), f.spend.TxHash(), TxSearch{FromHeight: 2})
				return err
			}),
		},
	}
	for _, cse := range cases {
		t.Run(cse.name, func(t *testing.T) {
			f := newLyingFixture(t)
			f.cs.txindex = cse.txindex
			honest := newStandIn(t, f.methods(t))
			if err := cse.call(t, f, honest.client(t)); err != nil {
				t.Fatalf("the honest node: %v", err)
			}
			m := f.methods(t)
			for _, l := range cse.lies {
				h, l := m[l.method], l
				m[l.method] = func(ps []json.RawMessage) answer { return l.answer(t, f, ps, h) }
			}
			err := cse.call(t, f, newStandIn(t, m).client(t))
			if !errors.Is(err, ErrBadReply) {
				t.Fatalf("the lying node: %v, want ErrBadReply", err)
			}
			t.Log(err)
		})
	}
}

func txids(b *wire.MsgBlock) []chainhash.Hash {
	var ids []chainhash.Hash
	for _, tx := range b.Transactions {
		ids = append(ids, tx.TxHash())
	}
	return ids
}

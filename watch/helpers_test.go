package watch

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

var regtest = &chaincfg.RegressionNetParams

var errFakeUnreachable = fmt.Errorf("%w: fake node down", chain.ErrUnreachable)

// fakeNode serves a programmable chain: blocks[h] is the main-chain block
// at height h (blocks[0] is regtest's genesis block), plus a mempool.
type fakeNode struct {
	mu        sync.Mutex
	blocks    []*wire.MsgBlock
	byHash    map[chainhash.Hash]*wire.MsgBlock
	mempool   []*wire.MsgTx
	fork      uint32 // distinguishes blocks of a replacement branch
	failNext  int    // the next failNext calls fail with errFakeUnreachable
	calls     atomic.Int64
	sent      []*wire.MsgTx
	sendErr   error
	txFetches atomic.Int64
	// heights of the blocks served by Block, in call order
	fetchedHeights []int64
	heightOf       map[chainhash.Hash]int64
}

func newFakeNode() *fakeNode {
	g := chaincfg.RegressionNetParams.GenesisBlock
	n := &fakeNode{byHash: map[chainhash.Hash]*wire.MsgBlock{}, heightOf: map[chainhash.Hash]int64{}}
	n.blocks = []*wire.MsgBlock{g}
	n.byHash[g.BlockHash()] = g
	return n
}

func (n *fakeNode) fail() error {
	n.calls.Add(1)
	if n.failNext > 0 {
		n.failNext--
		return errFakeUnreachable
	}
	return nil
}

// mine appends a block holding txs (after a coinbase) to the chain.
func (n *fakeNode) mine(txs ...*wire.MsgTx) *wire.MsgBlock {
	n.mu.Lock()
	defer n.mu.Unlock()
	h := len(n.blocks)
	cb := wire.NewMsgTx(1)
	sig := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, uint32(h)), n.fork)
	cb.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: ^uint32(0)}, sig, nil))
	cb.AddTxOut(wire.NewTxOut(50e8, []byte{0x51}))
	b := wire.NewMsgBlock(wire.NewBlockHeader(1, ptr(n.blocks[h-1].BlockHash()), ptr(cb.TxHash()), 0, n.fork))
	b.Header.Timestamp = time.Unix(1_700_000_000+int64(h)*600, 0)
	b.AddTransaction(cb)
	for _, tx := range txs {
		b.AddTransaction(tx)
	}
	n.blocks = append(n.blocks, b)
	n.byHash[b.BlockHash()] = b
	n.heightOf[b.BlockHash()] = int64(h)
	// Mined transactions leave the mempool.
	in := map[chainhash.Hash]bool{}
	for _, tx := range txs {
		in[tx.TxHash()] = true
	}
	keep := n.mempool[:0]
	for _, tx := range n.mempool {
		if !in[tx.TxHash()] {
			keep = append(keep, tx)
		}
	}
	n.mempool = keep
	return b
}

func (n *fakeNode) mineEmpty(k int) {
	for range k {
		n.mine()
	}
}

// reorg drops the top k blocks; the blocks mined next form a new branch.
func (n *fakeNode) reorg(k int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.blocks = n.blocks[:len(n.blocks)-k]
	n.fork++
}

func ptr(h chainhash.Hash) *chainhash.Hash { return &h }

func (n *fakeNode) tip() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return int64(len(n.blocks) - 1)
}

func (n *fakeNode) Height(context.Context) (int64, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.fail(); err != nil {
		return 0, err
	}
	return int64(len(n.blocks) - 1), nil
}

func (n *fakeNode) BlockHash(_ context.Context, h int64) (chainhash.Hash, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.fail(); err != nil {
		return chainhash.Hash{}, err
	}
	if h < 0 || h >= int64(len(n.blocks)) {
		return chainhash.Hash{}, fmt.Errorf("%w: block at height %d", chain.ErrNotFound, h)
	}
	return n.blocks[h].BlockHash(), nil
}

func (n *fakeNode) Block(_ context.Context, hash chainhash.Hash) (*wire.MsgBlock, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.fail(); err != nil {
		return nil, err
	}
	b, ok := n.byHash[hash]
	if !ok {
		return nil, fmt.Errorf("%w: block %s", chain.ErrNotFound, hash)
	}
	n.fetchedHeights = append(n.fetchedHeights, n.heightOf[hash])
	// The watcher gets its own copy, as from the wire.
	cp := *b
	cp.Transactions = append([]*wire.MsgTx(nil), b.Transactions...)
	return &cp, nil
}

func (n *fakeNode) MempoolTxids(context.Context) ([]chainhash.Hash, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.fail(); err != nil {
		return nil, err
	}
	var out []chainhash.Hash
	for _, tx := range n.mempool {
		out = append(out, tx.TxHash())
	}
	return out, nil
}

func (n *fakeNode) Transaction(_ context.Context, txid chainhash.Hash) (*chain.TxInfo, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.fail(); err != nil {
		return nil, err
	}
	n.txFetches.Add(1)
	for _, tx := range n.mempool {
		if tx.TxHash() == txid {
			return &chain.TxInfo{Tx: tx, Txid: txid, Height: -1}, nil
		}
	}
	return nil, fmt.Errorf("%w: transaction %s", chain.ErrNotFound, txid)
}

func (n *fakeNode) Broadcast(_ context.Context, tx *wire.MsgTx) (chainhash.Hash, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sendErr != nil {
		return chainhash.Hash{}, n.sendErr
	}
	n.sent = append(n.sent, tx)
	n.mempool = append(n.mempool, tx)
	return tx.TxHash(), nil
}

// fetches returns the heights of the blocks served since the last call.
func (n *fakeNode) fetches() []int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.fetchedHeights
	n.fetchedHeights = nil
	return out
}

func (n *fakeNode) addMempool(tx *wire.MsgTx) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mempool = append(n.mempool, tx)
}

// fixture: params (covenant 2 of 3, unbonding time 10) and keys.
type fixture struct {
	r      *rand.Rand
	p      *params.Params
	cov    []*btcec.PrivateKey
	nextIn uint32
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	f := &fixture{r: rand.New(rand.NewSource(seed))}
	var covPubs []*btcec.PublicKey
	for range 3 {
		k := f.key()
		f.cov = append(f.cov, k)
		covPubs = append(covPubs, k.PubKey())
	}
	slash := f.key()
	var err error
	f.p, err = params.New(params.Config{
		CovenantKeys: covPubs, CovenantQuorum: 2,
		MinStakingValue: 10_000, MaxStakingValue: 10_000_000_000,
		MinStakingTime: 1, MaxStakingTime: 65535,
		UnbondingTime: 10, UnbondingFee: 1_000,
		SlashingPkScript: append([]byte{0x00, 0x14}, script.XOnly(slash.PubKey()).Bytes()[:20]...),
		SlashingRate:     "0.1", MinSlashingFee: 1_000, Tag: []byte("bbt4"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) key() *btcec.PrivateKey {
	var b [32]byte
	for {
		f.r.Read(b[:])
		k, _ := btcec.PrivKeyFromBytes(b[:])
		if !k.Key.IsZero() {
			return k
		}
	}
}

// stake is a watched delegation with its outputs.
type stake struct {
	e                             *Entry
	staker                        *btcec.PrivateKey
	fps                           []*btcec.PrivateKey
	tx                            *wire.MsgTx
	op                            wire.OutPoint
	staking, unbonding, slashChng *script.Output
}

// newStake makes a delegation to fps (new keys when nil) with staking
// time st; its staking transaction pays the staking output as output 0.
func (f *fixture) newStake(t testing.TB, st uint16, fps ...*btcec.PrivateKey) *stake {
	t.Helper()
	if len(fps) == 0 {
		fps = []*btcec.PrivateKey{f.key()}
	}
	s := &stake{staker: f.key(), fps: fps}
	var fpPubs []*btcec.PublicKey
	for _, k := range fps {
		fpPubs = append(fpPubs, k.PubKey())
	}
	parties := script.Parties{Staker: s.staker.PubKey(), FinalityProviders: fpPubs, Covenant: f.p.CovenantKeys(), CovenantQuorum: 2}
	var err error
	if s.staking, err = script.NewStakingOutput(parties, st); err != nil {
		t.Fatal(err)
	}
	if s.unbonding, err = script.NewUnbondingOutput(parties, f.p.UnbondingTime()); err != nil {
		t.Fatal(err)
	}
	if s.slashChng, err = script.NewSlashingChangeOutput(s.staker.PubKey(), f.p.UnbondingTime()); err != nil {
		t.Fatal(err)
	}
	s.tx = wire.NewMsgTx(2)
	s.tx.AddTxIn(wire.NewTxIn(f.funding(), nil, nil))
	s.tx.AddTxOut(s.staking.TxOut(1_000_000))
	s.tx.AddTxOut(wire.NewTxOut(5_000, []byte{0x51}))
	s.op = wire.OutPoint{Hash: s.tx.TxHash(), Index: 0}
	s.e, err = NewEntry(EntryConfig{Source: SourceStakingTx, Params: f.p, Staker: s.staker.PubKey(), FPs: fpPubs,
		StakingTime: st, StakingTx: s.tx})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) funding() *wire.OutPoint {
	f.nextIn++
	return &wire.OutPoint{Hash: chainhash.Hash{0xfe, byte(f.nextIn >> 8), byte(f.nextIn)}, Index: f.nextIn}
}

// spend is a transaction spending op through path of out (a witness that
// reveals the leaf), as input `at` among `inputs` inputs, paying outs.
func (f *fixture) spend(t testing.TB, op wire.OutPoint, out *script.Output, path script.PathKind, at, inputs int, outs ...*wire.TxOut) *wire.MsgTx {
	t.Helper()
	p, err := out.Path(path)
	if err != nil {
		t.Fatal(err)
	}
	tx := wire.NewMsgTx(2)
	for i := range inputs {
		if i == at {
			tx.AddTxIn(wire.NewTxIn(&op, nil, wire.TxWitness{make([]byte, 64), p.Script, p.ControlBlock}))
		} else {
			tx.AddTxIn(wire.NewTxIn(f.funding(), nil, wire.TxWitness{make([]byte, 64)}))
		}
	}
	for _, o := range outs {
		tx.AddTxOut(o)
	}
	if len(outs) == 0 {
		tx.AddTxOut(wire.NewTxOut(1000, []byte{0x51}))
	}
	return tx
}

func (s *stake) unbond(t testing.TB, f *fixture) *wire.MsgTx {
	return f.spend(t, s.op, s.staking, script.UnbondingPath, 0, 1, s.unbonding.TxOut(999_000))
}

// recorder collects delivered events.
type recorder struct {
	mu     sync.Mutex
	events []Event
	fail   func(Event) error
}

func (r *recorder) handle(e Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(e); err != nil {
			return err
		}
	}
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = nil
}

// counter is an Observer.
type counter struct {
	blocks, events, nodeErrors atomic.Int64
}

func (c *counter) BlockProcessed(Progress) { c.blocks.Add(1) }
func (c *counter) EventEmitted(Event)      { c.events.Add(1) }
func (c *counter) NodeError(error)         { c.nodeErrors.Add(1) }

func testConfig(n *fakeNode, rec *recorder) Config {
	return Config{Network: regtest, Node: n, StartHeight: 1, Handler: rec.handle,
		PollInterval: 5 * time.Millisecond, RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond, Prefetch: 4}
}

func openTest(t testing.TB, path string, cfg Config) *Watcher {
	t.Helper()
	w, err := Open(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func dbPath(t testing.TB) string { return filepath.Join(t.TempDir(), "watch.db") }

func catchUp(t testing.TB, w *Watcher, to int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.CatchUp(ctx, to); err != nil {
		t.Fatalf("CatchUp(%d): %v", to, err)
	}
}

// kinds lists the events' kinds with their delegation's label.
func kinds(evs []Event, label map[string]string) []string {
	var out []string
	for _, e := range evs {
		s := string(e.Kind)
		if l := label[e.Delegation]; l != "" {
			s += ":" + l
		}
		if e.Output != "" && e.Kind != EventStakingConfirmed && e.Kind != EventStakingBroadcast {
			s += "/" + e.Output
		}
		out = append(out, fmt.Sprintf("%d %s", e.Height, s))
	}
	return out
}

func wantKinds(t testing.TB, got []Event, label map[string]string, want ...string) {
	t.Helper()
	g := kinds(got, label)
	if fmt.Sprint(g) != fmt.Sprint(want) {
		t.Fatalf("events:\n got  %q\n want %q", g, want)
	}
	checkDocumented(t, got)
}

func isKindErr(err, kind error) bool { return errors.Is(err, kind) }

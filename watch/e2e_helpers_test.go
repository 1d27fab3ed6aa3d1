package watch_test

// Helpers of the watcher's tests on a regtest node (node_test.go,
// restart_test.go, badinput_test.go, bench_test.go). They use the
// package's exported API only, as the CLI does.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/internal/benchchain"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/regtest"
	"github.com/btcstake/btcstake/script"
	"github.com/btcstake/btcstake/watch"
)

// TestMain runs the tests, or the watcher process of the restart test
// when the environment asks for it (restart_test.go), and stops the
// benchmark's shared node afterwards.
func TestMain(m *testing.M) {
	if os.Getenv(envHelper) != "" {
		os.Exit(runHelper())
	}
	os.Exit(benchchain.Main(m))
}

// testSeed is the seed of a test's keys and random choices: the value of
// BTCSTAKE_TEST_SEED when set (to replay a failure), else the clock. It is
// logged.
func testSeed(t testing.TB) int64 {
	t.Helper()
	seed := time.Now().UnixNano()
	if s := os.Getenv("BTCSTAKE_TEST_SEED"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("BTCSTAKE_TEST_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with BTCSTAKE_TEST_SEED=%d)", seed, seed)
	return seed
}

// recorder keeps the events the watcher hands to its Handler.
type recorder struct {
	mu  sync.Mutex
	evs []watch.Event
}

func (r *recorder) handle(e watch.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, e)
	return nil
}

// from returns the events from index i on.
func (r *recorder) from(i int) []watch.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i > len(r.evs) {
		return nil
	}
	return append([]watch.Event(nil), r.evs[i:]...)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.evs)
}

// observer counts what the watcher tells its Observer.
type observer struct {
	blocks     atomic.Int64
	events     atomic.Int64
	nodeErrors atomic.Int64
	mu         sync.Mutex
	heights    []int64 // BlockProcessed heights, in order
	lastErr    error
}

func (o *observer) BlockProcessed(p watch.Progress) {
	o.blocks.Add(1)
	o.mu.Lock()
	o.heights = append(o.heights, p.Height)
	o.mu.Unlock()
}
func (o *observer) EventEmitted(watch.Event) { o.events.Add(1) }
func (o *observer) NodeError(err error) {
	o.nodeErrors.Add(1)
	o.mu.Lock()
	o.lastErr = err
	o.mu.Unlock()
}

// errInjected is the failure flakyNode injects: what a node that cannot be
// reached looks like to the watcher.
var errInjected = fmt.Errorf("%w: injected outage", chain.ErrUnreachable)

// flakyNode is a real node's client whose Block calls fail on demand and
// which keeps what it broadcasts. The rest, CheckNetwork included (the
// watcher checks the node's chain as with a bare *chain.Client), is the
// client's.
type flakyNode struct {
	*chain.Client
	// failBlocks: how many of the next Block calls fail.
	failBlocks atomic.Int64
	failed     atomic.Int64

	mu   sync.Mutex
	sent []*wire.MsgTx
}

var (
	_ watch.Node           = (*flakyNode)(nil)
	_ watch.NetworkChecker = (*flakyNode)(nil)
)

func (n *flakyNode) Block(ctx context.Context, hash chainhash.Hash) (*wire.MsgBlock, error) {
	for {
		left := n.failBlocks.Load()
		if left <= 0 {
			break
		}
		if n.failBlocks.CompareAndSwap(left, left-1) {
			n.failed.Add(1)
			return nil, errInjected
		}
	}
	return n.Client.Block(ctx, hash)
}

func (n *flakyNode) Broadcast(ctx context.Context, tx *wire.MsgTx) (chainhash.Hash, error) {
	n.mu.Lock()
	n.sent = append(n.sent, tx.Copy())
	n.mu.Unlock()
	return n.Client.Broadcast(ctx, tx)
}

func (n *flakyNode) broadcasts() []*wire.MsgTx {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*wire.MsgTx(nil), n.sent...)
}

// testConfig is a watcher configuration for a test on node: short poll
// and retry intervals so nothing waits long.
func testConfig(n *regtest.Node, node watch.Node, start int64, rec *recorder) watch.Config {
	cfg := watch.Config{Network: n.Params(), Node: node, StartHeight: start, PollInterval: 20 * time.Millisecond,
		RetryMin: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond}
	if rec != nil {
		cfg.Handler = rec.handle
	}
	return cfg
}

func dbPath(t testing.TB) string { return filepath.Join(t.TempDir(), "watch.db") }

func openWatcher(t testing.TB, path string, cfg watch.Config) *watch.Watcher {
	t.Helper()
	w, err := watch.Open(path, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// catchUp runs the watcher up to the node's current tip.
func catchUp(t testing.TB, w *watch.Watcher, n *regtest.Node) int32 {
	t.Helper()
	tip, err := n.Height()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := w.CatchUp(ctx, int64(tip)); err != nil {
		t.Fatalf("CatchUp(%d): %v", tip, err)
	}
	return tip
}

// entryOf is the watch entry of a pre-signed stake, with everything the
// covenant-verified delegation holds.
func entryOf(t testing.TB, ps *regtest.PresignedStake) *watch.Entry {
	t.Helper()
	return entryWith(t, ps, ps.Slashing)
}

// entryWith is entryOf with another slashing PSBT of the staking output.
func entryWith(t testing.TB, ps *regtest.PresignedStake, slashing *btcpsbt.Packet) *watch.Entry {
	t.Helper()
	e, err := watch.NewEntry(watch.EntryConfig{Source: watch.SourceStakingTx, Params: ps.Delegation.Params,
		Staker: ps.Delegation.Staker, FPs: ps.Delegation.FinalityProviders, StakingTime: ps.Delegation.StakingTime,
		StakingTx: ps.Tx, UnbondingTx: ps.UnbondingTx, Slashing: slashing, UnbondingSlashing: ps.UnbondingSlashing})
	if err != nil {
		t.Fatalf("entry of stake %s: %v", ps.Txid, err)
	}
	return e
}

// stakeID is the delegation id the watcher gives a stake: its staking
// output, txid:vout.
func stakeID(ps *regtest.PresignedStake) string {
	return wire.OutPoint{Hash: ps.Txid, Index: ps.OutputIndex}.String()
}

// withoutAdaptorSigsOf returns a copy of p without the adaptor signatures
// of the covenant member cov (the others are kept, re-added through
// psbt.AddAdaptorSig, which verifies each).
func withoutAdaptorSigsOf(t testing.TB, p *btcpsbt.Packet, cov *btcec.PublicKey) *btcpsbt.Packet {
	t.Helper()
	var buf strings.Builder
	if err := p.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	cp, err := btcpsbt.NewFromRawBytes(strings.NewReader(buf.String()), false)
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := psbt.AdaptorSigs(cp, 0)
	if err != nil {
		t.Fatal(err)
	}
	cp.Inputs[0].Unknowns = nil
	drop := script.XOnly(cov)
	dropped := 0
	for _, a := range sigs {
		if a.Covenant == drop {
			dropped++
			continue
		}
		if err := psbt.AddAdaptorSig(cp, 0, a); err != nil {
			t.Fatal(err)
		}
	}
	if dropped == 0 {
		t.Fatalf("the PSBT carries no adaptor signature of covenant member %s", drop)
	}
	return cp
}

// isNotFound: the node says the output is spent or unknown.
func isNotFound(err error) bool { return errors.Is(err, chain.ErrNotFound) }

// describe is an event as the tests compare them: "height kind
// label/output" (the output only when the event has one).
func describe(e watch.Event, label map[string]string) string {
	s := fmt.Sprintf("%d %s", e.Height, e.Kind)
	if e.Delegation != "" {
		l, ok := label[e.Delegation]
		if !ok {
			l = e.Delegation
		}
		s += ":" + l
	}
	if e.Output != "" {
		s += "/" + e.Output
	}
	return s
}

func describeAll(evs []watch.Event, label map[string]string) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = describe(e, label)
	}
	return out
}

// wantEvents fails unless got describes as want, in order.
func wantEvents(t testing.TB, what string, got []watch.Event, label map[string]string, want []string) {
	t.Helper()
	g := describeAll(got, label)
	if len(g) != len(want) {
		t.Fatalf("%s: %d events, want %d:\n got %s\nwant %s", what, len(g), len(want), strings.Join(g, "\n     "), strings.Join(want, "\n     "))
	}
	for i := range g {
		if g[i] != want[i] {
			t.Fatalf("%s: event %d is %q, want %q\n got %s\nwant %s", what, i, g[i], want[i], strings.Join(g, "\n     "), strings.Join(want, "\n     "))
		}
	}
}

// txHex is tx in Bitcoin's serialization, in hex.
func txHex(t testing.TB, tx *wire.MsgTx) string {
	t.Helper()
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(buf.Bytes())
}

// psbtBase64 is p serialized, in base64 (a watch list's encoding).
func psbtBase64(t testing.TB, p *btcpsbt.Packet) string {
	t.Helper()
	var buf bytes.Buffer
	if err := p.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

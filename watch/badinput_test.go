package watch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/regtest"
	"github.com/btcstake/btcstake/script"
	"github.com/btcstake/btcstake/watch"
)

// liveSetup is a node with a few stakes on it (one of them unbonded) and
// a watcher store with their entries, not yet run.
type liveSetup struct {
	n      *regtest.Node
	s      *regtest.Scenario
	stakes []*regtest.PresignedStake
	start  int64
	// fresh is a store with the entries added and nothing processed.
	fresh string
}

func newLiveSetup(t *testing.T) *liveSetup {
	t.Helper()
	seed := testSeed(t)
	n, s := nodeScenario(t, seed, 2)
	tip, err := n.Height()
	if err != nil {
		t.Fatal(err)
	}
	ls := &liveSetup{n: n, s: s, start: int64(tip) + 1, fresh: dbPath(t)}
	if ls.stakes, err = s.StakeMany(6, regtest.ManyOptions{DistinctStakers: true}); err != nil {
		t.Fatal(err)
	}
	w, err := watch.Open(ls.fresh, watch.Config{Network: n.Params(), StartHeight: ls.start})
	if err != nil {
		t.Fatal(err)
	}
	for _, ps := range ls.stakes {
		if err := w.Add(entryOf(t, ps)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Mine(5); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UnbondPresigned(ls.stakes[0]); err != nil {
		t.Fatal(err)
	}
	return ls
}

// copyStore is a copy of the fresh store.
func (ls *liveSetup) copyStore(t *testing.T) string {
	t.Helper()
	p := dbPath(t)
	copyFile(t, ls.fresh, p)
	return p
}

// reference catches a copy of the fresh store up to the tip over the
// node's own client, for the events every other run must match.
func (ls *liveSetup) reference(t *testing.T) []watch.Event {
	t.Helper()
	rec := &recorder{}
	w := openWatcher(t, ls.copyStore(t), testConfig(ls.n, ls.n.Chain(), 0, rec))
	catchUp(t, w, ls.n)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if rec.len() < 12 {
		t.Fatalf("the reference run has %d events", rec.len())
	}
	return rec.from(0)
}

func sameEvents(t *testing.T, what string, got, want []watch.Event) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: the events differ from the reference run's:\n got %v\nwant %v", what, describeAll(got, nil), describeAll(want, nil))
	}
}

// consecutive fails unless the blocks processed are from..to, each once,
// in order.
func consecutive(t *testing.T, obs *observer, from, to int64) {
	t.Helper()
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if int64(len(obs.heights)) != to-from+1 {
		t.Fatalf("%d blocks processed, want %d..%d", len(obs.heights), from, to)
	}
	for i, h := range obs.heights {
		if h != from+int64(i) {
			t.Fatalf("block %d processed after %d: a block was skipped or repeated", h, obs.heights[max(i-1, 0)])
		}
	}
}

// TestNodeUnreachable: node calls that fail are logged, counted
// (Observer.NodeError) and retried, and no block is skipped. First a
// client on the real node whose getblock fails 7 times during the catch-up;
// then a real outage: the watcher reaches the node through a TCP proxy
// that drops every connection while the node is "down", at the start
// and again after it caught up while blocks are mined.
func TestNodeUnreachable(t *testing.T) {
	ls := newLiveSetup(t)
	want := ls.reference(t)
	tip, err := ls.n.Height()
	if err != nil {
		t.Fatal(err)
	}

	// getblock fails 7 times.
	rec, obs := &recorder{}, &observer{}
	node := &flakyNode{Client: ls.n.Chain()}
	node.failBlocks.Store(7)
	cfg := testConfig(ls.n, node, 0, rec)
	cfg.Observer = obs
	w := openWatcher(t, ls.copyStore(t), cfg)
	catchUp(t, w, ls.n)
	if got := obs.nodeErrors.Load(); got != 7 || node.failed.Load() != 7 {
		t.Fatalf("%d node errors counted, %d injected, want 7", got, node.failed.Load())
	}
	consecutive(t, obs, ls.start, int64(tip))
	sameEvents(t, "getblock failing", rec.from(0), want)

	// An outage of the node's RPC, from the start: connections refused.
	px := newProxy(t, ls.n.RPC().Host)
	c, err := chain.New(chain.Config{URL: px.addr(), User: ls.n.RPC().User, Pass: ls.n.RPC().Pass, CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rec, obs = &recorder{}, &observer{}
	cfg = testConfig(ls.n, c, 0, rec)
	cfg.Observer = obs
	w = openWatcher(t, ls.copyStore(t), cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	poll(t, ctx, "node errors while the node is down", func() bool { return obs.nodeErrors.Load() >= 3 })
	if p := w.Progress(); p.Height != ls.start-1 || obs.blocks.Load() != 0 {
		t.Fatalf("processed blocks while the node was down: %+v, %d blocks", p, obs.blocks.Load())
	}
	obs.mu.Lock()
	lastErr := obs.lastErr
	obs.mu.Unlock()
	if !errors.Is(lastErr, chain.ErrUnreachable) {
		t.Fatalf("the node error counted is %v, want chain.ErrUnreachable", lastErr)
	}
	px.setUp(true)
	poll(t, ctx, "catching up", func() bool {
		p := w.Progress()
		return p.Height == int64(tip) && p.CaughtUp && rec.len() >= len(want)
	})
	sameEvents(t, "after an outage at the start", rec.from(0), want)

	// Down again while blocks are mined (with an unbonding in them);
	// then back.
	px.setUp(false)
	before := obs.nodeErrors.Load()
	ub, err := ls.s.UnbondPresigned(ls.stakes[1])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ls.n.Mine(2); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "node errors in the second outage", func() bool { return obs.nodeErrors.Load() >= before+3 })
	if p := w.Progress(); p.Height != int64(tip) {
		t.Fatalf("processed blocks while the node was down: %+v", p)
	}
	px.setUp(true)
	tip2 := int64(ub.Height) + 2
	poll(t, ctx, "catching up again", func() bool {
		p := w.Progress()
		return p.Height == tip2 && p.CaughtUp && rec.len() > len(want)
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	consecutive(t, obs, ls.start, tip2)
	got := rec.from(len(want))
	if len(got) != 1 || got[0].Kind != watch.EventUnbondingConfirmed || got[0].Delegation != stakeID(ls.stakes[1]) ||
		got[0].Height != int64(ub.Height) || got[0].Seq != uint64(len(want)+1) {
		t.Fatalf("after the second outage: %v", describeAll(got, nil))
	}
}

// poll waits, checking every few milliseconds, until cond holds; it fails
// the test when ctx ends first.
func poll(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		}
	}
}

// proxy forwards TCP connections to a target while up. While down
// nothing listens on its address (a connection is refused, as by a host
// whose node is not running) and the connections it was forwarding are
// closed.
type proxy struct {
	t      *testing.T
	target string
	ad     string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// newProxy reserves a loopback address for the proxy, which starts down.
func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, target: target, ad: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	ln.Close()
	t.Cleanup(func() {
		p.setUp(false)
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.ad }

func (p *proxy) serve(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		d, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[d] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, d)
		go p.pipe(d, c)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// setUp brings the proxy up (listening on its address again) or down.
func (p *proxy) setUp(up bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if up {
		if p.ln != nil {
			return
		}
		ln, err := net.Listen("tcp", p.ad)
		if err != nil {
			p.t.Fatalf("the proxy cannot listen on %s again: %v", p.ad, err)
		}
		p.ln = ln
		p.wg.Add(1)
		go p.serve(ln)
		return
	}
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// TestNodeWrongNetwork: a store made for another network is refused at
// Open, and a node of another network at Run and CatchUp (its genesis
// block is not the network's); neither changes the store.
func TestNodeWrongNetwork(t *testing.T) {
	ls := newLiveSetup(t)
	// A regtest store opened as testnet or mainnet.
	before := readAll(t, ls.fresh)
	for _, net := range []*chaincfg.Params{&chaincfg.TestNet3Params, &chaincfg.MainNetParams, &chaincfg.SigNetParams} {
		if _, err := watch.Open(ls.fresh, watch.Config{Network: net, Node: ls.n.Chain()}); !errors.Is(err, watch.ErrWrongNetwork) {
			t.Fatalf("a regtest store opened for %s: %v, want ErrWrongNetwork", net.Name, err)
		}
	}
	if !bytes.Equal(before, readAll(t, ls.fresh)) {
		t.Fatal("refusing the store changed it")
	}
	// A mainnet or testnet watcher given the regtest node.
	for _, net := range []*chaincfg.Params{&chaincfg.MainNetParams, &chaincfg.TestNet3Params} {
		path := dbPath(t)
		w, err := watch.Open(path, watch.Config{Network: net, Node: ls.n.Chain(), StartHeight: 1})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = w.Run(ctx)
		cancel()
		if !errors.Is(err, watch.ErrWrongNetwork) {
			t.Fatalf("a %s watcher on a regtest node: Run returned %v, want ErrWrongNetwork", net.Name, err)
		}
		if err := w.CatchUp(context.Background(), 5); !errors.Is(err, watch.ErrWrongNetwork) {
			t.Fatalf("a %s watcher on a regtest node: CatchUp returned %v, want ErrWrongNetwork", net.Name, err)
		}
		if p := w.Progress(); p.Height != 0 || w.LastSeq() != 0 { // the cursor below StartHeight 1
			t.Fatalf("a %s watcher on a regtest node moved: %+v, seq %d", net.Name, p, w.LastSeq())
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNodeBadEntries: watch-list entries that do not match their staking
// transaction on the node (another staker's key, another finality
// provider, another staking time, another stake's unbonding or slashing
// transaction) are refused with the kind that says so and name the item;
// a running watcher is not touched by them.
func TestNodeBadEntries(t *testing.T) {
	ls := newLiveSetup(t)
	rec := &recorder{}
	w := openWatcher(t, ls.copyStore(t), testConfig(ls.n, ls.n.Chain(), 0, rec))
	catchUp(t, w, ls.n)
	stakesBefore, err := w.Stakes()
	if err != nil {
		t.Fatal(err)
	}
	v, err := params.NewVersion(0, 0, ls.s.Params, params.BabylonExtras{})
	if err != nil {
		t.Fatal(err)
	}
	versions, err := params.NewVersions(v)
	if err != nil {
		t.Fatal(err)
	}
	a, b := ls.stakes[0], ls.stakes[1]
	if a.FinalityProvider == b.FinalityProvider {
		t.Fatal("stakes 0 and 1 share a finality provider")
	}
	keyHex := func(ps *regtest.PresignedStake, fp bool) string {
		if fp {
			return script.XOnly(ps.Delegation.FinalityProviders[0]).String()
		}
		return script.XOnly(ps.Delegation.Staker).String()
	}
	good := func() map[string]any {
		return map[string]any{"staking_tx": txHex(t, a.Tx), "staker_pk": keyHex(a, false),
			"finality_providers": []string{keyHex(a, true)}, "staking_time": a.Delegation.StakingTime}
	}
	list := func(item map[string]any) []byte {
		raw, err := json.Marshal(map[string]any{"entries": []any{good(), item}})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	// The list format is right: two good items parse, one delegation
	// given twice is refused as such.
	if es, err := watch.ParseWatchList(list(map[string]any{"staking_tx": txHex(t, b.Tx), "staker_pk": keyHex(b, false),
		"finality_providers": []string{keyHex(b, true)}, "staking_time": b.Delegation.StakingTime}), versions); err != nil || len(es) != 2 {
		t.Fatalf("a good list: %d entries, %v", len(es), err)
	}
	if _, err := watch.ParseWatchList(list(good()), versions); !errors.Is(err, watch.ErrInvalidWatchList) {
		t.Fatalf("two items of one delegation: %v", err)
	}
	cases := []struct {
		name string
		edit func(m map[string]any)
		kind error
	}{
		{"another staker", func(m map[string]any) { m["staker_pk"] = keyHex(b, false) }, watch.ErrNoParamsVersion},
		{"another finality provider", func(m map[string]any) { m["finality_providers"] = []string{keyHex(b, true)} }, watch.ErrNoParamsVersion},
		{"another staking time", func(m map[string]any) { m["staking_time"] = a.Delegation.StakingTime + 1 }, watch.ErrNoParamsVersion},
		{"another stake's unbonding", func(m map[string]any) { m["unbonding_tx"] = txHex(t, b.UnbondingTx) }, watch.ErrInvalidEntry},
		{"another stake's slashing", func(m map[string]any) { m["slashing_psbt"] = psbtBase64(t, b.Slashing) }, watch.ErrInvalidEntry},
	}
	for _, c := range cases {
		item := good()
		item["staking_tx"] = txHex(t, a.Tx)
		c.edit(item)
		raw, err := json.Marshal(map[string]any{"entries": []any{item}})
		if err != nil {
			t.Fatal(err)
		}
		es, err := watch.ParseWatchList(raw, versions)
		if !errors.Is(err, c.kind) || len(es) != 0 {
			t.Errorf("%s: %d entries, %v; want %v", c.name, len(es), err, c.kind)
			continue
		}
		if !bytes.Contains([]byte(err.Error()), []byte("entries[0]")) {
			t.Errorf("%s: the error does not name the item: %v", c.name, err)
		}
	}
	// NewEntry directly: a's staking transaction with b's keys.
	if _, err := watch.NewEntry(watch.EntryConfig{Source: watch.SourceStakingTx, Params: ls.s.Params, Staker: b.Delegation.Staker,
		FPs: b.Delegation.FinalityProviders, StakingTime: b.Delegation.StakingTime, StakingTx: a.Tx}); !errors.Is(err, watch.ErrInvalidEntry) {
		t.Fatalf("NewEntry with another stake's keys: %v", err)
	}
	// The watcher did not change.
	if _, err := ls.n.Mine(1); err != nil {
		t.Fatal(err)
	}
	mark := rec.len()
	catchUp(t, w, ls.n)
	after, err := w.Stakes()
	if err != nil {
		t.Fatal(err)
	}
	for i := range after {
		after[i].BlocksLeft, stakesBefore[i].BlocksLeft = 0, 0
	}
	if !reflect.DeepEqual(after, stakesBefore) || rec.len() != mark {
		t.Fatalf("the watcher changed: %d stakes, %d new events", len(after), rec.len()-mark)
	}
}

// TestNodeCorruptStore: a store that followed the node, damaged in the
// ways a disk or an operator damages files, or replaced by another
// program's file, is refused with ErrStore and left as it was; the same
// store in use by another watcher is ErrStoreInUse.
func TestNodeCorruptStore(t *testing.T) {
	ls := newLiveSetup(t)
	path := ls.copyStore(t)
	w := openWatcher(t, path, testConfig(ls.n, ls.n.Chain(), 0, &recorder{}))
	catchUp(t, w, ls.n)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	good := readAll(t, path)
	if len(good) < 4*4096 {
		t.Fatalf("the store is only %d bytes", len(good))
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	damaged := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	foreign := filepath.Join(dir, "foreign.db")
	db, err := bolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		return b.Put([]byte("format"), []byte("another-program/1"))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	cases := map[string]string{
		"truncated to half":      write("half.db", good[:len(good)/2]),
		"truncated to a page":    write("page.db", good[:4096]),
		"meta pages zeroed":      write("zeroed.db", damaged(func(b []byte) []byte { clear(b[:2*4096]); return b })),
		"meta checksums flipped": write("flipped.db", damaged(func(b []byte) []byte { b[16+60] ^= 0xff; b[4096+16+60] ^= 0xff; return b })),
		"random bytes":           write("random.db", bytes.Repeat([]byte("not a bbolt file "), 1000)),
		"empty":                  write("empty.db", nil),
		"another program's":      foreign,
		"a directory":            dir,
	}
	for name, p := range cases {
		var before []byte
		if name != "a directory" {
			before = readAll(t, p)
		}
		_, err := watch.Open(p, watch.Config{Network: ls.n.Params(), Node: ls.n.Chain()})
		if !errors.Is(err, watch.ErrStore) {
			t.Errorf("%s: Open returned %v, want ErrStore", name, err)
			continue
		}
		if before != nil && !bytes.Equal(before, readAll(t, p)) {
			t.Errorf("%s: refusing the file changed it", name)
		}
	}
	// In use by another watcher.
	w = openWatcher(t, path, testConfig(ls.n, ls.n.Chain(), 0, nil))
	if _, err := watch.Open(path, watch.Config{Network: ls.n.Params()}); !errors.Is(err, watch.ErrStoreInUse) {
		t.Fatalf("a store in use: %v, want ErrStoreInUse", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the store's mode: %v %v", st.Mode(), err)
	}
}

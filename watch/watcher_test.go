package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/wire/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// TestLifecycle follows five delegations through every path: unbonded
// then withdrawn (A), withdrawn from staking (B), slashed from staking
// (C), unbonded then slashed from unbonding (D), extended (E).
func TestLifecycle(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	w := openTest(t, dbPath(t), testConfig(n, rec))
	A, B, C, D, E := f.newStake(t, 20), f.newStake(t, 8), f.newStake(t, 30), f.newStake(t, 30), f.newStake(t, 30)
	label := map[string]string{A.e.ID(): "A", B.e.ID(): "B", C.e.ID(): "C", D.e.ID(): "D", E.e.ID(): "E"}
	if err := w.Add(A.e, B.e, C.e, D.e, E.e); err != nil {
		t.Fatal(err)
	}
	n.mineEmpty(4)
	n.mine(A.tx, C.tx, D.tx, E.tx) // 5
	n.mine(B.tx)                   // 6
	slashC := f.spend(t, C.op, C.staking, script.SlashingPath, 0, 1, wire.NewTxOut(100_000, f.p.SlashingPkScript()), C.slashChng.TxOut(899_000))
	unbondD := D.unbond(t, f)
	n.mine(slashC, unbondD) // 7
	other := f.newStake(t, 40)
	extendE := f.spend(t, E.op, E.staking, script.UnbondingPath, 0, 2, other.staking.TxOut(2_000_000))
	n.mine(extendE) // 8
	slashD := f.spend(t, wire.OutPoint{Hash: unbondD.TxHash()}, D.unbonding, script.SlashingPath, 0, 1,
		wire.NewTxOut(99_900, f.p.SlashingPkScript()), D.slashChng.TxOut(898_000))
	n.mine(slashD) // 9
	n.mineEmpty(2) // 10, 11
	unbondA := A.unbond(t, f)
	n.mine(unbondA)                                                                                   // 12
	n.mine()                                                                                          // 13
	n.mine(f.spend(t, B.op, B.staking, script.TimelockPath, 0, 1))                                    // 14
	n.mineEmpty(8)                                                                                    // 15..22
	n.mine(f.spend(t, wire.OutPoint{Hash: unbondA.TxHash()}, A.unbonding, script.TimelockPath, 0, 1)) // 23
	n.mineEmpty(2)

	deep := []string{A.e.ID(), C.e.ID(), D.e.ID(), E.e.ID()}
	sort.Strings(deep)
	var deepWant []string
	for _, id := range deep {
		deepWant = append(deepWant, "10 staking_deep:"+label[id])
	}
	catchUp(t, w, 12)
	want := []string{"5 staking_confirmed:A", "5 staking_confirmed:C", "5 staking_confirmed:D", "5 staking_confirmed:E",
		"6 staking_confirmed:B",
		"7 slashed:C/staking", "7 unbonding_confirmed:D/staking",
		"8 extended:E/staking",
		"9 slashed:D/unbonding"}
	want = append(want, deepWant...)
	want = append(want, "11 staking_deep:B", "12 unbonding_confirmed:A/staking")
	wantKinds(t, rec.all(), label, want...)
	// B's staking output opens at 14 = 6 + 8: reported by block 13, not
	// 12. (BlocksLeft counts from the node's tip, 25.)
	if v, err := w.Stake(B.e.ID()); err != nil || v.WithdrawableAt != 14 || v.BlocksLeft != 0 || v.State != StateStaked {
		t.Fatalf("B at 12: %+v %v", v, err)
	}
	catchUp(t, w, 13)
	want = append(want, "14 timelock_reached:B/staking")
	wantKinds(t, rec.all(), label, want...)
	last := rec.all()[len(rec.all())-1]
	if last.BlockHash != n.blocks[13].BlockHash().String() {
		t.Fatalf("timelock_reached reported in block %s, want block 13 %s", last.BlockHash, n.blocks[13].BlockHash())
	}
	catchUp(t, w, 20)
	want = append(want, "14 withdrawn:B/staking", "17 timelock_reached:C/slashing_change", "19 timelock_reached:D/slashing_change")
	wantKinds(t, rec.all(), label, want...)
	// A's unbonding output (confirmed at 12, unbonding time 10) opens at
	// 22: reported by block 21.
	catchUp(t, w, 21)
	want = append(want, "22 timelock_reached:A/unbonding")
	wantKinds(t, rec.all(), label, want...)
	catchUp(t, w, 25)
	want = append(want, "23 withdrawn:A/unbonding")
	wantKinds(t, rec.all(), label, want...)

	// Seqs increase by one; ids are unique.
	ids := map[string]bool{}
	for i, e := range rec.all() {
		if e.Seq != uint64(i+1) || ids[e.ID] || len(e.ID) != 32 {
			t.Fatalf("event %d: seq %d id %q", i, e.Seq, e.ID)
		}
		ids[e.ID] = true
	}
	views := map[string]StakeView{}
	vs, err := w.Stakes()
	if err != nil || len(vs) != 5 {
		t.Fatalf("Stakes: %d %v", len(vs), err)
	}
	for _, v := range vs {
		views[label[v.Delegation]] = v
	}
	if v := views["A"]; v.State != StateWithdrawn || v.UnbondingTxid != unbondA.TxHash().String() || v.Live != "" || v.StakingHeight != 5 {
		t.Fatalf("A: %+v", v)
	}
	changeC := wire.OutPoint{Hash: slashC.TxHash(), Index: 1}
	if v := views["C"]; v.State != StateSlashed || v.Live != changeC.String() || v.LiveKind != "slashing_change" || v.WithdrawableAt != 17 || v.BlocksLeft != 0 {
		t.Fatalf("C: %+v", v)
	}
	if v := views["E"]; v.State != StateExtended || v.Live != "" {
		t.Fatalf("E: %+v", v)
	}
	if v := views["D"]; v.State != StateSlashed || v.SlashingTxid != slashD.TxHash().String() || v.UnbondingTxid != unbondD.TxHash().String() {
		t.Fatalf("D: %+v", v)
	}
	if p := w.Progress(); p.Height != 25 || p.BlockHash != n.blocks[25].BlockHash().String() || !p.CaughtUp {
		t.Fatalf("progress %+v", p)
	}
	// Only outputs still unspent stay indexed: C's and D's change.
	if len(w.live) != 2 {
		t.Fatalf("%d live outputs indexed, want 2", len(w.live))
	}
}

// TestReorgReplacesUnbonding: a reorganisation of 2 blocks takes away the
// block with a confirmed unbonding; the unbonding confirms again in the new
// branch, one block later.
func TestReorgReplacesUnbonding(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	w := openTest(t, dbPath(t), testConfig(n, rec))
	A := f.newStake(t, 50)
	label := map[string]string{A.e.ID(): "A"}
	if err := w.Add(A.e); err != nil {
		t.Fatal(err)
	}
	n.mine(A.tx) // 1
	n.mineEmpty(2)
	ub := A.unbond(t, f)
	n.mine(ub) // 4
	n.mine()   // 5
	catchUp(t, w, 5)
	first := rec.all()
	wantKinds(t, first, label, "1 staking_confirmed:A", "4 unbonding_confirmed:A/staking")
	orphan4 := n.blocks[4].BlockHash()

	n.reorg(2) // blocks 4 and 5 leave
	n.mine()   // 4'
	n.mine(ub) // 5'
	n.mineEmpty(3)
	rec.reset()
	catchUp(t, w, 8)
	got := rec.all()
	wantKinds(t, got, label, "4 reorg", "4 reorged_out:A/staking", "5 unbonding_confirmed:A/staking", "6 staking_deep:A")
	if got[0].BlockHash != orphan4.String() || got[0].Depth != 2 {
		t.Fatalf("reorg event %+v, want orphaned block %s, depth 2", got[0], orphan4)
	}
	if got[1].Cancels != first[1].ID {
		t.Fatalf("reorged_out cancels %s, want the unbonding event %s", got[1].Cancels, first[1].ID)
	}
	if got[2].ID == first[1].ID || got[2].BlockHash != n.blocks[5].BlockHash().String() {
		t.Fatalf("replayed unbonding %+v", got[2])
	}
	v, err := w.Stake(A.e.ID())
	// Tip 8: the next block is 9, 6 blocks before 15.
	if err != nil || v.State != StateUnbonding || v.WithdrawableAt != 15 || v.BlocksLeft != 6 {
		t.Fatalf("after reorg: %+v %v", v, err)
	}
	// The timelock is reported at 14 (5 + 10 - 1), not at 13 as before
	// the reorganisation.
	n.mineEmpty(6)
	rec.reset()
	catchUp(t, w, 13)
	wantKinds(t, rec.all(), label)
	catchUp(t, w, 14)
	wantKinds(t, rec.all(), label, "15 timelock_reached:A/unbonding")
}

// TestReorgBackToShorterChain: the node's chain becomes shorter than the
// cursor (blocks removed, none added yet); the watcher rolls back, then
// follows the new branch.
func TestReorgShorterChain(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	cfg := testConfig(n, rec)
	w := openTest(t, dbPath(t), cfg)
	A := f.newStake(t, 50)
	label := map[string]string{A.e.ID(): "A"}
	_ = w.Add(A.e)
	n.mineEmpty(2)
	n.mine(A.tx) // 3
	catchUp(t, w, 3)
	n.reorg(1) // the node's tip is now 2
	rec.reset()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	for len(rec.all()) < 2 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	if p := w.Progress(); p.Height != 2 {
		t.Fatalf("after rolling back: at %d, want 2", p.Height)
	}
	n.mine()
	n.mine(A.tx) // 4'
	for w.Progress().Height != 4 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantKinds(t, rec.all(), label, "3 reorg", "3 reorged_out:A/staking", "4 staking_confirmed:A")
}

func TestReorgTooDeep(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	cfg := testConfig(n, rec)
	cfg.MaxReorgDepth = 3
	w := openTest(t, dbPath(t), cfg)
	A := f.newStake(t, 50)
	_ = w.Add(A.e)
	n.mineEmpty(5)
	n.mine(A.tx)
	n.mineEmpty(4)
	catchUp(t, w, 10)
	before := rec.all()
	// A reorganisation of exactly 3 blocks is undone...
	n.reorg(3)
	n.mineEmpty(4)
	catchUp(t, w, 11)
	if got := rec.all()[len(before):]; len(got) == 0 || got[0].Kind != EventReorg || got[0].Depth != 3 || got[0].Height != 8 {
		t.Fatalf("3-block reorg: %v", kinds(got, nil))
	}
	// ...one of 4 is refused, and the cursor stays.
	n.reorg(4)
	n.mineEmpty(5)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := w.CatchUp(ctx, 12)
	if !errors.Is(err, ErrReorgTooDeep) {
		t.Fatalf("4-block reorg with MaxReorgDepth 3: %v", err)
	}
	if p := w.Progress(); p.Height != 11 {
		t.Fatalf("cursor moved to %d", p.Height)
	}
}

// TestCrashAfterCommit: the process dies after a block's events are
// committed and before they are delivered: the next run delivers exactly
// that block's events, with the same ids and seqs, then goes on.
func TestCrashAfterCommit(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	path := dbPath(t)
	cfg := testConfig(n, rec)
	cfg.BatchBlocks = 1
	w, err := Open(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	A, B := f.newStake(t, 50), f.newStake(t, 50)
	_ = w.Add(A.e, B.e)
	n.mine(A.tx)
	n.mineEmpty(2)
	n.mine(B.tx, A.unbond(t, f)) // 4: two events
	n.mineEmpty(3)
	crash := errors.New("killed")
	w.hookAfterCommit = func() error {
		if w.cursorH == 4 {
			return crash
		}
		return nil
	}
	ctx := context.Background()
	if err := w.CatchUp(ctx, 7); !errors.Is(err, crash) {
		t.Fatalf("CatchUp: %v", err)
	}
	delivered := rec.all()
	if len(delivered) != 1 || delivered[0].Kind != EventStakingConfirmed {
		t.Fatalf("before the crash: %v", kinds(delivered, nil))
	}
	w.abandon()

	stored := func() []Event {
		w2, err := Open(path, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer w2.Close()
		evs, err := w2.Events(0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}()
	if len(stored) != 3 {
		t.Fatalf("%d events stored, want 3 (block 4 committed)", len(stored))
	}
	rec2 := &recorder{}
	cfg.Handler = rec2.handle
	w = openTest(t, path, cfg)
	catchUp(t, w, 7)
	got := rec2.all()
	if len(got) < 2 || got[0].ID != stored[1].ID || got[1].ID != stored[2].ID || got[0].Seq != 2 || got[1].Seq != 3 {
		t.Fatalf("after restart: %v, want block 4's events %s %s first", kinds(got, nil), stored[1].ID, stored[2].ID)
	}
	for _, e := range got[2:] {
		if e.Height <= 4 {
			t.Fatalf("event of block %d repeated: %+v", e.Height, e)
		}
	}
}

// TestCrashMidDelivery: the process dies after the Handler got an event
// and before its seq reached the marker: exactly that event is handed
// over again, then the rest.
func TestCrashMidDelivery(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	path := dbPath(t)
	cfg := testConfig(n, rec)
	w, err := Open(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var stakes []*stake
	for range 4 {
		s := f.newStake(t, 50)
		stakes = append(stakes, s)
		_ = w.Add(s.e)
	}
	n.mine(stakes[0].tx, stakes[1].tx)
	n.mine(stakes[2].tx, stakes[3].tx)
	crash := errors.New("killed")
	w.hookAfterHandler = func(e Event) error {
		if e.Seq == 3 {
			return crash
		}
		return nil
	}
	if err := w.CatchUp(context.Background(), 2); !errors.Is(err, crash) {
		t.Fatal(err)
	}
	w.abandon()
	if got := rec.all(); len(got) != 3 {
		t.Fatalf("%d events before the crash", len(got))
	}
	w = openTest(t, path, cfg)
	catchUp(t, w, 2)
	got := rec.all()
	var seqs []uint64
	for _, e := range got {
		seqs = append(seqs, e.Seq)
	}
	if fmt.Sprint(seqs) != "[1 2 3 3 4]" || got[2].ID != got[3].ID {
		t.Fatalf("seqs handed over %v", seqs)
	}
}

// TestCrashMidCatchUp: the process dies before a commit at many points
// of a catch-up; after each restart it goes on. The events delivered, with
// repeats dropped by id, are exactly those of one uninterrupted run, and
// only events of one block are ever repeated.
func TestCrashMidCatchUp(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	var stakes []*stake
	for range 12 {
		stakes = append(stakes, f.newStake(t, uint16(5+f.r.Intn(20))))
	}
	for h := 1; h <= 60; h++ {
		var txs []*wire.MsgTx
		if h <= 12 {
			txs = append(txs, stakes[h-1].tx)
		}
		if h > 14 && h <= 26 {
			txs = append(txs, stakes[h-15].unbond(t, f))
		}
		n.mine(txs...)
	}
	run := func(crashAt map[int64]bool, batch int) []Event {
		rec := &recorder{}
		path := dbPath(t)
		cfg := testConfig(n, rec)
		cfg.BatchBlocks = batch
		cfg.BatchInterval = time.Hour
		for {
			w, err := Open(path, cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range stakes {
				if err := w.Add(s.e); err != nil {
					t.Fatal(err)
				}
			}
			crash := errors.New("killed")
			w.hookBeforeCommit = func(h int64) error {
				if crashAt[h] {
					delete(crashAt, h)
					return crash
				}
				return nil
			}
			err = w.CatchUp(context.Background(), 60)
			if err == nil {
				w.Close()
				return rec.all()
			}
			if !errors.Is(err, crash) {
				t.Fatal(err)
			}
			w.abandon()
		}
	}
	ref := run(map[int64]bool{}, 1)
	crashes := map[int64]bool{}
	for range 10 {
		crashes[int64(1+f.r.Intn(60))] = true
	}
	got := run(crashes, 7)
	seen := map[string]bool{}
	var dedup []Event
	repeatedBlocks := map[string]bool{}
	for _, e := range got {
		if seen[e.ID] {
			repeatedBlocks[e.BlockHash] = true
			continue
		}
		seen[e.ID] = true
		dedup = append(dedup, e)
	}
	if len(dedup) != len(ref) {
		t.Fatalf("%d distinct events, want %d", len(dedup), len(ref))
	}
	for i := range ref {
		if dedup[i].ID != ref[i].ID || dedup[i].Seq != ref[i].Seq {
			t.Fatalf("event %d: %+v, want %+v", i, dedup[i], ref[i])
		}
	}
	if len(got) != len(ref) {
		// A crash before commit loses nothing delivered: no repeats at all.
		t.Fatalf("%d events delivered for %d distinct (blocks repeated: %v)", len(got), len(ref), repeatedBlocks)
	}
}

func TestNodeErrorsRetried(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	obs := &counter{}
	cfg := testConfig(n, rec)
	cfg.Observer = obs
	w := openTest(t, dbPath(t), cfg)
	A := f.newStake(t, 50)
	_ = w.Add(A.e)
	n.mineEmpty(3)
	n.mine(A.tx)
	n.mineEmpty(3)
	n.mu.Lock()
	n.failNext = 5
	n.mu.Unlock()
	catchUp(t, w, 7)
	if got := obs.nodeErrors.Load(); got != 5 {
		t.Fatalf("%d node errors counted, want 5", got)
	}
	if got := obs.blocks.Load(); got != 7 {
		t.Fatalf("%d blocks processed, want 7", got)
	}
	wantKinds(t, rec.all(), map[string]string{A.e.ID(): "A"}, "4 staking_confirmed:A")
	if obs.events.Load() != 1 {
		t.Fatalf("%d events observed", obs.events.Load())
	}
}

// TestUnreachableNodeStops: a node that never answers is retried until the
// context ends; nothing is processed and Run returns cleanly.
func TestUnreachableNodeStops(t *testing.T) {
	n := newFakeNode()
	n.failNext = 1 << 30
	obs := &counter{}
	cfg := testConfig(n, &recorder{})
	cfg.Observer = obs
	w := openTest(t, dbPath(t), cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if obs.nodeErrors.Load() < 3 {
		t.Fatalf("%d node errors counted", obs.nodeErrors.Load())
	}
	if err := w.CatchUp(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CatchUp with an unreachable node: %v", err)
	}
}

func TestWrongNetwork(t *testing.T) {
	n := newFakeNode()
	path := dbPath(t)
	cfg := testConfig(n, &recorder{})
	w, err := Open(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	// The store was made for regtest.
	other := cfg
	other.Network = &chaincfg.TestNet3Params
	if _, err := Open(path, other); !errors.Is(err, ErrWrongNetwork) {
		t.Fatalf("regtest store opened for testnet: %v", err)
	}
	// A testnet store with a regtest node.
	w, err = Open(dbPath(t), other)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	err = w.CatchUp(context.Background(), 1)
	if !errors.Is(err, ErrWrongNetwork) {
		t.Fatalf("regtest node for a testnet watcher: %v", err)
	}
}

func TestForeignOrCorruptStore(t *testing.T) {
	cfg := testConfig(newFakeNode(), &recorder{})
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := dir + "/" + name
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Another program's bbolt file.
	foreign := dir + "/foreign.db"
	db, err := bolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket([]byte("meta"))
		return b.Put([]byte("format"), []byte("something-else/1"))
	})
	db.Close()
	// A watcher store cut short.
	good := dir + "/good.db"
	w, err := Open(good, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	raw, _ := os.ReadFile(good)
	cases := map[string]string{
		"foreign bbolt": foreign,
		"text":          write("text.db", []byte("this is not a database, just a text file of some length........................................")),
		"empty":         write("empty.db", nil),
		"truncated":     write("truncated.db", raw[:len(raw)/2]),
		"directory":     dir,
	}
	for name, p := range cases {
		if _, err := Open(p, cfg); !errors.Is(err, ErrStore) {
			t.Errorf("%s: %v, want ErrStore", name, err)
		}
	}
	// The good one still opens, and is 0600.
	st, err := os.Stat(good)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("store mode %v %v", st.Mode(), err)
	}
	w, err = Open(good, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A second opener is told the store is in use.
	if _, err := Open(good, cfg); !errors.Is(err, ErrStoreInUse) {
		t.Fatalf("second open: %v", err)
	}
	w.Close()
}

func TestAddIdempotentAndConflict(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	w := openTest(t, dbPath(t), testConfig(n, &recorder{}))
	A := f.newStake(t, 50)
	if err := w.Add(A.e, A.e); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(A.e); err != nil {
		t.Fatal(err)
	}
	vs, _ := w.Stakes()
	if len(vs) != 1 {
		t.Fatalf("%d stakes", len(vs))
	}
	// The same delegation with its unbonding transaction: kept (richer).
	ub := A.unbond(t, f)
	withUb, err := NewEntry(EntryConfig{Source: SourceStakingTx, Params: f.p, Staker: A.staker.PubKey(), FPs: []*btcec.PublicKey{A.fps[0].PubKey()},
		StakingTime: 50, StakingTx: A.tx, UnbondingTx: ub})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(withUb); err != nil {
		t.Fatal(err)
	}
	if w.ubtx[ub.TxHash()] != A.e.ID() {
		t.Fatal("unbonding txid not indexed")
	}
	// The same staking transaction under params with another unbonding
	// time (the staking output does not depend on it): same id, another
	// delegation; refused.
	c := f.p.Config()
	c.UnbondingTime = 20
	p2, err := params.New(c)
	if err != nil {
		t.Fatal(err)
	}
	conflicting, err := NewEntry(EntryConfig{Source: SourceStakingTx, Params: p2, Staker: A.staker.PubKey(), FPs: []*btcec.PublicKey{A.fps[0].PubKey()},
		StakingTime: 50, StakingTx: A.tx})
	if err != nil {
		t.Fatal(err)
	}
	if conflicting.ID() != A.e.ID() {
		t.Fatal("not the same id")
	}
	B := f.newStake(t, 50)
	if err := w.Add(B.e, conflicting); !errors.Is(err, ErrEntryConflict) {
		t.Fatalf("conflicting entry: %v", err)
	}
	// Nothing of the call was added (B neither).
	if _, err := w.Stake(B.e.ID()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("B after a refused Add: %v", err)
	}
	if _, err := w.Stake("nope"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad id: %v", err)
	}
}

// TestMempool: staking_broadcast and unbonding_broadcast once each, also
// across a restart.
func TestMempool(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	path := dbPath(t)
	cfg := testConfig(n, rec)
	w, err := Open(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	A, B := f.newStake(t, 50), f.newStake(t, 50)
	label := map[string]string{A.e.ID(): "A", B.e.ID(): "B"}
	_ = w.Add(A.e, B.e)
	n.mineEmpty(2)
	n.mine(B.tx) // 3
	n.addMempool(A.tx)
	n.addMempool(B.unbond(t, f))
	for i := range 5 { // unrelated transactions
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(wire.NewTxIn(f.funding(), nil, nil))
		tx.AddTxOut(wire.NewTxOut(int64(1000+i), []byte{0x51}))
		n.addMempool(tx)
	}
	runFor := func(w *Watcher, want int) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- w.Run(ctx) }()
		deadline := time.Now().Add(5 * time.Second)
		for len(rec.all()) < want && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		// Several more polls (each asks for the tip and the mempool).
		for c := n.calls.Load(); n.calls.Load() < c+20 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	runFor(w, 3)
	got := rec.all()
	sort.Slice(got, func(i, j int) bool { return got[i].Seq < got[j].Seq })
	wantKinds(t, got, label, "3 staking_confirmed:B", "0 staking_broadcast:A", "0 unbonding_broadcast:B/staking")
	fetches := n.txFetches.Load()
	if fetches != 6 {
		t.Fatalf("%d mempool transactions fetched, want 6 (each unknown one once; A's staking tx is known by id)", fetches)
	}
	w.Close()
	rec.reset()
	w = openTest(t, path, cfg)
	runFor(w, 0)
	if got := rec.all(); len(got) != 0 {
		t.Fatalf("after restart: %v", kinds(got, label))
	}
}

func TestWaitEventsAndSinks(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	w := openTest(t, dbPath(t), testConfig(n, &recorder{}))
	A := f.newStake(t, 50)
	_ = w.Add(A.e)
	n.mine(A.tx)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error)
	go func() { done <- w.WaitEvents(ctx, 0) }()
	catchUp(t, w, 1)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if w.LastSeq() != 1 {
		t.Fatalf("last seq %d", w.LastSeq())
	}
	short, c2 := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer c2()
	if err := w.WaitEvents(short, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitEvents with nothing new: %v", err)
	}
	if s, err := w.SinkCursor("webhook"); s != 0 || err != nil {
		t.Fatal(s, err)
	}
	if err := w.SetSinkCursor("webhook", 1); err != nil {
		t.Fatal(err)
	}
	if s, err := w.SinkCursor("webhook"); s != 1 || err != nil {
		t.Fatal(s, err)
	}
	if err := w.SetSinkCursor("", 1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
}

// TestHandlerFailure: a failing handler stops Run; the event is handed
// over again on the next run, and not the ones before it.
func TestHandlerFailure(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	path := dbPath(t)
	cfg := testConfig(n, rec)
	w, err := Open(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	A, B := f.newStake(t, 50), f.newStake(t, 50)
	_ = w.Add(A.e, B.e)
	n.mine(A.tx)
	n.mine(B.tx)
	broken := errors.New("stdout closed")
	rec.fail = func(e Event) error {
		if e.Seq == 2 {
			return broken
		}
		return nil
	}
	if err := w.CatchUp(context.Background(), 2); !errors.Is(err, ErrHandler) || !errors.Is(err, broken) {
		t.Fatalf("CatchUp: %v", err)
	}
	w.Close()
	rec.fail = nil
	w = openTest(t, path, cfg)
	catchUp(t, w, 2)
	got := rec.all()
	if len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 {
		t.Fatalf("%v", kinds(got, nil))
	}
}

func TestCloseWhileRunning(t *testing.T) {
	n := newFakeNode()
	w := openTest(t, dbPath(t), testConfig(n, &recorder{}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	n.mine()
	for w.Progress().Height != 1 {
		time.Sleep(time.Millisecond)
	}
	if err := w.Close(); !errors.Is(err, ErrBusy) {
		t.Fatalf("Close while running: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Stakes(); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

package watch

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// bfWorld is a chain on which delegations watched from the start (old)
// and delegations added late (late: the watcher's cursor is at cut when
// they are added) go through every path, on both sides of the cut.
type bfWorld struct {
	f        *fixture
	n        *fakeNode
	old      []*stake
	late     []*stake
	label    map[string]string
	staked   map[string]int64 // height of the staking tx (0: none)
	cut, tip int64
}

func newBFWorld(t *testing.T) *bfWorld {
	t.Helper()
	f := newFixture(t)
	n := newFakeNode()
	w := &bfWorld{f: f, n: n, label: map[string]string{}, staked: map[string]int64{}, cut: 15}
	O1, O2 := f.newStake(t, 40), f.newStake(t, 12)
	N1 := f.newStake(t, 40) // unbonds before the cut, withdraws after it
	N2 := f.newStake(t, 40) // slashed from staking; its change opens after the cut
	N3 := f.newStake(t, 8)  // withdrawn through its time lock
	N4 := f.newStake(t, 40) // unbonds, then slashed from the unbonding output
	N5 := f.newStake(t, 40) // confirms after the cut
	N6 := f.newStake(t, 40) // extended
	N7 := f.newStake(t, 40) // never confirms
	w.old = []*stake{O1, O2}
	w.late = []*stake{N1, N2, N3, N4, N5, N6, N7}
	for i, s := range w.old {
		w.label[s.e.ID()] = fmt.Sprintf("O%d", i+1)
	}
	for i, s := range w.late {
		w.label[s.e.ID()] = fmt.Sprintf("N%d", i+1)
	}
	mine := func(h int64, txs ...*wire.MsgTx) {
		t.Helper()
		if got := n.tip() + 1; got != h {
			t.Fatalf("mining %d, not %d", got, h)
		}
		n.mine(txs...)
		for _, tx := range txs {
			for _, s := range append(append([]*stake(nil), w.old...), w.late...) {
				if tx == s.tx {
					w.staked[s.e.ID()] = h
				}
			}
		}
	}
	mine(1, O1.tx)
	mine(2, N3.tx)
	mine(3, N1.tx, O2.tx)
	mine(4, N2.tx)
	mine(5, N4.tx, N6.tx)
	mine(6, O1.unbond(t, f))
	ubN1 := N1.unbond(t, f)
	mine(7, ubN1)
	slashN2 := f.spend(t, N2.op, N2.staking, script.SlashingPath, 0, 1, wire.NewTxOut(100_000, f.p.SlashingPkScript()), N2.slashChng.TxOut(899_000))
	mine(8, slashN2)
	ubN4 := N4.unbond(t, f)
	mine(9, ubN4)
	other := f.newStake(t, 40)
	mine(10, f.spend(t, N6.op, N6.staking, script.UnbondingPath, 0, 2, other.staking.TxOut(2_000_000)))
	mine(11, f.spend(t, wire.OutPoint{Hash: ubN4.TxHash()}, N4.unbonding, script.SlashingPath, 0, 1,
		wire.NewTxOut(99_900, f.p.SlashingPkScript()), N4.slashChng.TxOut(898_000)))
	mine(12, f.spend(t, N3.op, N3.staking, script.TimelockPath, 0, 1))
	mine(13)
	mine(14)
	mine(15) // the cut
	mine(16, f.spend(t, O2.op, O2.staking, script.TimelockPath, 0, 1))
	mine(17, N5.tx)
	mine(18)
	mine(19, f.spend(t, wire.OutPoint{Hash: ubN1.TxHash()}, N1.unbonding, script.TimelockPath, 0, 1))
	for h := int64(20); h <= 24; h++ {
		mine(h)
	}
	w.tip = 24
	return w
}

func entries(ss []*stake) []*Entry {
	var out []*Entry
	for _, s := range ss {
		out = append(out, s.e)
	}
	return out
}

// reference: the events and stakes of a watcher that watched every
// delegation from the start.
func (bw *bfWorld) reference(t *testing.T) ([]Event, []StakeView) {
	t.Helper()
	rec := &recorder{}
	w := openTest(t, dbPath(t), testConfig(bw.n, rec))
	if err := w.Add(append(entries(bw.old), entries(bw.late)...)...); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, bw.tip)
	vs, err := w.Stakes()
	if err != nil {
		t.Fatal(err)
	}
	return rec.all(), vs
}

// byDelegation groups events by delegation, in order, without their Seq
// (which depends on what else the watcher stored before).
func byDelegation(evs []Event) map[string][]Event {
	out := map[string][]Event{}
	for _, e := range evs {
		e.Seq = 0
		out[e.Delegation] = append(out[e.Delegation], e)
	}
	return out
}

// sameAsReference: got has, for every delegation, exactly want's events
// (ids and every field), in the same order.
func (bw *bfWorld) sameAsReference(t *testing.T, got, want []Event) {
	t.Helper()
	g, r := byDelegation(got), byDelegation(want)
	for id, evs := range r {
		if !reflect.DeepEqual(g[id], evs) {
			t.Errorf("%s (%s):\n got  %v\n want %v", bw.label[id], id, kinds(g[id], bw.label), kinds(evs, bw.label))
		}
	}
	for id, evs := range g {
		if _, ok := r[id]; !ok {
			t.Errorf("%s: events the reference does not have: %v", bw.label[id], kinds(evs, bw.label))
		}
	}
	seen := map[string]bool{}
	for i, e := range got {
		if seen[e.ID] || e.Seq != got[0].Seq+uint64(i) {
			t.Fatalf("event %d: seq %d, id %s (repeated or out of order)", i, e.Seq, e.ID)
		}
		seen[e.ID] = true
	}
}

func (bw *bfWorld) sameStakes(t *testing.T, w *Watcher, want []StakeView) {
	t.Helper()
	got, err := w.Stakes()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stakes:\n got  %+v\n want %+v", got, want)
	}
}

// TestBackfillMatchesWatchingFromStart: delegations added after the
// follower passed their staking, unbonding, slashing, extension and
// withdrawal blocks get exactly the events (ids, fields, order per
// delegation) and end in exactly the state of a watcher that had them
// from the start; the delegations watched all along get no event twice.
func TestBackfillMatchesWatchingFromStart(t *testing.T) {
	bw := newBFWorld(t)
	refEvents, refStakes := bw.reference(t)
	// The reference itself went through every path.
	states := map[string]string{}
	for _, v := range refStakes {
		states[bw.label[v.Delegation]] = v.State
	}
	if fmt.Sprint(states) != "map[N1:withdrawn N2:slashed N3:withdrawn N4:slashed N5:staked N6:extended N7:pending O1:unbonding O2:withdrawn]" {
		t.Fatalf("reference states %v", states)
	}
	add := map[string]func(w *Watcher) error{
		"Add": func(w *Watcher) error { return w.Add(entries(bw.late)...) },
		// The lowest staking height of them all.
		"AddFrom": func(w *Watcher) error { return w.AddFrom(2, entries(bw.late)...) },
		// Each from its own staking height (N5 confirms after the cut: no
		// backfill; N7 never: from the start), in separate calls.
		"AddFrom each": func(w *Watcher) error {
			for _, s := range bw.late {
				var err error
				if h := bw.staked[s.e.ID()]; h > 0 {
					err = w.AddFrom(h, s.e)
				} else {
					err = w.Add(s.e)
				}
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
	for name, addLate := range add {
		for _, batch := range []int{1, 4, DefaultBatchBlocks} {
			t.Run(fmt.Sprintf("%s/batch %d", name, batch), func(t *testing.T) {
				rec := &recorder{}
				cfg := testConfig(bw.n, rec)
				cfg.BatchBlocks = batch
				w := openTest(t, dbPath(t), cfg)
				if err := w.Add(entries(bw.old)...); err != nil {
					t.Fatal(err)
				}
				catchUp(t, w, bw.cut)
				if err := addLate(w); err != nil {
					t.Fatal(err)
				}
				if p := w.Progress(); p.BackfillEntries < 6 || p.CaughtUp {
					t.Fatalf("after adding: %+v", p)
				}
				catchUp(t, w, bw.tip)
				bw.sameAsReference(t, rec.all(), refEvents)
				bw.sameStakes(t, w, refStakes)
				if p := w.Progress(); p.BackfillEntries != 0 || p.BackfillTo != 0 || !p.CaughtUp || p.Height != bw.tip {
					t.Fatalf("progress after: %+v", p)
				}
				// Adding them again changes nothing.
				rec.reset()
				if err := addLate(w); err != nil {
					t.Fatal(err)
				}
				catchUp(t, w, bw.tip)
				if got := rec.all(); len(got) != 0 {
					t.Fatalf("added again: %v", kinds(got, bw.label))
				}
			})
		}
	}
}

// TestBackfillHintHonoured: AddFrom(h) fetches no block below h; Add
// without a height scans from the store's start height.
func TestBackfillHintHonoured(t *testing.T) {
	bw := newBFWorld(t)
	refEvents, _ := bw.reference(t)
	N4, N6 := bw.late[3], bw.late[5] // both confirmed at 5
	for _, hint := range []int64{5, -1} {
		rec := &recorder{}
		w := openTest(t, dbPath(t), testConfig(bw.n, rec))
		catchUp(t, w, bw.cut)
		bw.n.fetches()
		var err error
		if hint < 0 {
			err = w.Add(N4.e, N6.e)
		} else {
			err = w.AddFrom(hint, N4.e, N6.e)
		}
		if err != nil {
			t.Fatal(err)
		}
		catchUp(t, w, bw.tip)
		got := bw.n.fetches()
		sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
		first := hint
		if hint < 0 {
			first = 1 // the store's start height
		}
		var want []int64
		for h := first; h <= bw.tip; h++ {
			want = append(want, h)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("hint %d: blocks fetched %v, want %v", hint, got, want)
		}
		ref := byDelegation(refEvents)
		want2 := append(append([]Event(nil), ref[N4.e.ID()]...), ref[N6.e.ID()]...)
		g := byDelegation(rec.all())
		if got2 := append(append([]Event(nil), g[N4.e.ID()]...), g[N6.e.ID()]...); !reflect.DeepEqual(got2, want2) {
			t.Fatalf("hint %d: %v, want %v", hint, kinds(got2, bw.label), kinds(want2, bw.label))
		}
	}
	// Entries of one scan, each from its own height: N3 from 2 gets its
	// events; N4 from 10 (a wrong hint: it confirmed at 5 and unbonded at
	// 9) is not shown blocks 5 and 9 and stays pending, and then its
	// unbonding output is not watched, so the slashing at 11 is not seen.
	N3 := bw.late[2]
	rec := &recorder{}
	w := openTest(t, dbPath(t), testConfig(bw.n, rec))
	catchUp(t, w, bw.cut)
	if err := w.AddFrom(2, N3.e); err != nil {
		t.Fatal(err)
	}
	if err := w.AddFrom(10, N4.e); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, bw.tip)
	g := byDelegation(rec.all())
	if !reflect.DeepEqual(g[N3.e.ID()], byDelegation(refEvents)[N3.e.ID()]) || len(g[N4.e.ID()]) != 0 {
		t.Fatalf("N3 %v; N4 %v", kinds(g[N3.e.ID()], bw.label), kinds(g[N4.e.ID()], bw.label))
	}
	if v, _ := w.Stake(N4.e.ID()); v.State != StatePending {
		t.Fatalf("N4 with a hint after its blocks: %+v", v)
	}

	w = openTest(t, dbPath(t), testConfig(bw.n, &recorder{}))
	if err := w.AddFrom(-1, N4.e); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("AddFrom(-1): %v", err)
	}
	if vs, _ := w.Stakes(); len(vs) != 0 {
		t.Fatal("a refused AddFrom added an entry")
	}
}

// TestBackfillCrash: the process dies at many points of a backfill
// (before a batch commits, after a commit and before its events are
// delivered, while the Handler has an event); after each restart the
// backfill resumes. Every event is delivered, with the reference's id;
// only a crash inside the Handler repeats one event (the one it had).
func TestBackfillCrash(t *testing.T) {
	bw := newBFWorld(t)
	refEvents, refStakes := bw.reference(t)
	crash := errors.New("killed")
	cases := map[string]struct {
		arm     func(w *Watcher, run int) // sets the run's hooks
		repeats int
	}{
		"before commits": {arm: func(w *Watcher, run int) {
			w.hookBackfillCommit = func(h int64) error {
				// Crash at each of the first few commits: each run gets one
				// batch further.
				if run < 4 && h >= int64(2*run) {
					return crash
				}
				return nil
			}
		}},
		"after a commit": {arm: func(w *Watcher, run int) {
			w.hookAfterCommit = func() error {
				if run < 2 && w.LastSeq() > 4 {
					return crash
				}
				return nil
			}
		}},
		"in the Handler": {repeats: 1, arm: func(w *Watcher, run int) {
			w.hookAfterHandler = func(e Event) error {
				if run == 0 && e.Seq == 8 {
					return crash
				}
				return nil
			}
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{}
			path := dbPath(t)
			cfg := testConfig(bw.n, rec)
			cfg.BatchBlocks, cfg.BatchInterval = 2, time.Hour
			w, err := Open(path, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Add(entries(bw.old)...); err != nil {
				t.Fatal(err)
			}
			catchUp(t, w, bw.cut)
			if err := w.Add(entries(bw.late)...); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			crashes, resumed := 0, false
			for run := 0; ; run++ {
				if run > 20 {
					t.Fatal("no progress")
				}
				w, err := Open(path, cfg)
				if err != nil {
					t.Fatal(err)
				}
				c.arm(w, run)
				// The backfill resumes from what was committed: the first
				// block each entry has not been through.
				resume := int64(-1)
				for _, next := range w.bfNext {
					if resume < 0 || next < resume {
						resume = next
					}
				}
				if resume > 1 {
					resumed = true
				}
				bw.n.fetches()
				err = w.CatchUp(context.Background(), bw.tip)
				if f := bw.n.fetches(); resume >= 0 && len(f) > 0 && slices.Min(f) != resume {
					t.Fatalf("run %d fetched from %d, not from %d", run, slices.Min(f), resume)
				}
				if err == nil {
					bw.sameStakes(t, w, refStakes)
					w.Close()
					break
				}
				if !errors.Is(err, crash) {
					t.Fatal(err)
				}
				crashes++
				w.abandon()
			}
			if crashes == 0 || !resumed {
				t.Fatalf("%d crashes, resumed after a commit: %v", crashes, resumed)
			}
			got := rec.all()
			var dedup []Event
			seen := map[string]bool{}
			for _, e := range got {
				if !seen[e.ID] {
					seen[e.ID] = true
					dedup = append(dedup, e)
				}
			}
			if len(got)-len(dedup) != c.repeats {
				t.Fatalf("%d events repeated, want %d", len(got)-len(dedup), c.repeats)
			}
			bw.sameAsReference(t, dedup, refEvents)
		})
	}
}

// TestBackfillThenReorg: a reorganisation after the backfill takes away
// blocks whose events the backfill found (and blocks it scanned below
// the cursor): they are reported reorged_out and replayed from the new
// branch exactly as for a watcher that had the delegation from the start.
func TestBackfillThenReorg(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	O, N := f.newStake(t, 50), f.newStake(t, 50)
	label := map[string]string{O.e.ID(): "O", N.e.ID(): "N"}
	n.mine(O.tx)   // 1
	n.mine(N.tx)   // 2
	n.mineEmpty(5) // 3..7
	ubN := N.unbond(t, f)
	n.mine(ubN)            // 8
	n.mine(O.unbond(t, f)) // 9
	n.mine()               // 10

	cfgFor := func(rec *recorder) Config {
		cfg := testConfig(n, rec)
		cfg.MaxReorgDepth = 5
		return cfg
	}
	ref := &recorder{}
	rw := openTest(t, dbPath(t), cfgFor(ref))
	_ = rw.Add(O.e, N.e)
	catchUp(t, rw, 10)
	rec := &recorder{}
	w := openTest(t, dbPath(t), cfgFor(rec))
	_ = w.Add(O.e)
	catchUp(t, w, 10)
	if err := w.Add(N.e); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, 10)
	// Blocks 7..10 leave; N's unbonding confirms again at 9', O's not.
	n.reorg(4)
	n.mineEmpty(2) // 7', 8'
	n.mine(ubN)    // 9'
	n.mineEmpty(3) // 10'..12'
	catchUp(t, rw, 12)
	catchUp(t, w, 12)
	got, want := rec.all(), ref.all()
	wantKinds(t, byDelegation(got)[N.e.ID()], label, "2 staking_confirmed:N", "7 staking_deep:N", "8 unbonding_confirmed:N/staking",
		"7 reorged_out:N", "8 reorged_out:N/staking", "7 staking_deep:N", "9 unbonding_confirmed:N/staking")
	g, r := byDelegation(got), byDelegation(want)
	for _, id := range []string{O.e.ID(), N.e.ID()} {
		if !reflect.DeepEqual(g[id], r[id]) {
			t.Fatalf("%s:\n got  %v\n want %v", label[id], kinds(g[id], label), kinds(r[id], label))
		}
	}
	// One reorg event each.
	if len(g[""]) != 1 || g[""][0].Kind != EventReorg || g[""][0].Depth != 4 || !reflect.DeepEqual(g[""], r[""]) {
		t.Fatalf("reorg events %v, reference %v", kinds(g[""], nil), kinds(r[""], nil))
	}
	vs, _ := w.Stakes()
	rvs, _ := rw.Stakes()
	if !reflect.DeepEqual(vs, rvs) {
		t.Fatalf("stakes %+v, want %+v", vs, rvs)
	}
}

// TestBackfillFindsReorg: the node reorganised after the cursor's blocks
// and before the backfill scans them; the backfill notices (a stored hash
// that is not the node's), the orphaned blocks are rolled back, and the
// late delegation ends as on a watcher that only ever saw the new branch.
func TestBackfillFindsReorg(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	O, N := f.newStake(t, 50), f.newStake(t, 50)
	label := map[string]string{O.e.ID(): "O", N.e.ID(): "N"}
	n.mine(O.tx, N.tx)     // 1
	n.mineEmpty(6)         // 2..7
	n.mine(O.unbond(t, f)) // 8
	n.mine(N.unbond(t, f)) // 9
	n.mine()               // 10
	rec := &recorder{}
	w := openTest(t, dbPath(t), testConfig(n, rec))
	_ = w.Add(O.e)
	catchUp(t, w, 10)
	n.reorg(3)
	ubN2 := N.unbond(t, f)
	ubN2.TxOut[0].Value-- // another unbonding transaction
	n.mine(ubN2)          // 8'
	n.mineEmpty(3)
	if err := w.Add(N.e); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, 11)
	fresh := &recorder{}
	fw := openTest(t, dbPath(t), testConfig(n, fresh))
	_ = fw.Add(O.e, N.e)
	catchUp(t, fw, 11)
	g, r := byDelegation(rec.all()), byDelegation(fresh.all())
	if !reflect.DeepEqual(g[N.e.ID()], r[N.e.ID()]) {
		t.Fatalf("N:\n got  %v\n want %v", kinds(g[N.e.ID()], label), kinds(r[N.e.ID()], label))
	}
	wantKinds(t, g[O.e.ID()], label, "1 staking_confirmed:O", "6 staking_deep:O", "8 unbonding_confirmed:O/staking", "8 reorged_out:O/staking")
	if len(g[""]) != 1 || g[""][0].Kind != EventReorg || g[""][0].Height != 8 {
		t.Fatalf("reorg events %v", kinds(g[""], nil))
	}
	v, _ := w.Stake(N.e.ID())
	if v.State != StateUnbonding || v.UnbondingTxid != ubN2.TxHash().String() {
		t.Fatalf("N: %+v", v)
	}
}

// TestBackfillAutoSlash: the backfill finds an old slashing of a late
// delegation, recovers its provider's key and auto-slashes the provider's
// delegation the watcher already followed.
func TestBackfillAutoSlash(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	cfg := testConfig(n, rec)
	cfg.AutoSlash = true
	w := openTest(t, dbPath(t), cfg)
	fp := f.key()
	X, _ := f.presigned(t, fp, false)
	Z, _ := f.presigned(t, fp, false)
	label := map[string]string{X.e.ID(): "X", Z.e.ID(): "Z"}
	_ = w.Add(Z.e)
	n.mine(X.tx, Z.tx) // 1
	slashX, err := psbt.CompleteSlashing(X.e.SlashingPSBT(script.StakingOutputKind), fp)
	if err != nil {
		t.Fatal(err)
	}
	n.mine(slashX) // 2
	n.mineEmpty(2)
	catchUp(t, w, 4)
	if len(n.sent) != 0 {
		t.Fatal("slashed without a key")
	}
	if err := w.AddFrom(1, X.e); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, 4)
	got := rec.all()
	var seq []string
	for _, e := range got {
		seq = append(seq, fmt.Sprintf("%s:%s", e.Kind, label[e.Delegation]))
	}
	if fmt.Sprint(seq) != "[staking_confirmed:Z staking_confirmed:X slashed:X fp_key_recovered:X auto_slash_broadcast:Z]" {
		t.Fatalf("events %v", kinds(got, label))
	}
	if len(n.sent) != 1 || n.sent[0].TxIn[0].PreviousOutPoint != Z.op {
		t.Fatalf("broadcast %d transactions", len(n.sent))
	}
}

// TestBackfillWhileRunning: a delegation added to a running, caught-up
// watcher is brought up to date at once, and its mempool unbonding is
// reported after its confirmation.
func TestBackfillWhileRunning(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	obs := &bfCounter{}
	cfg := testConfig(n, rec)
	cfg.Observer = obs
	w := openTest(t, dbPath(t), cfg)
	N := f.newStake(t, 50)
	label := map[string]string{N.e.ID(): "N"}
	n.mine(N.tx)
	n.mineEmpty(9)
	n.addMempool(N.unbond(t, f))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	for !w.Progress().CaughtUp || w.Progress().Height != 10 {
		time.Sleep(time.Millisecond)
	}
	if err := w.Add(N.e); err != nil {
		t.Fatal(err)
	}
	for len(rec.all()) < 3 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	wantKinds(t, rec.all(), label, "1 staking_confirmed:N", "6 staking_deep:N", "0 unbonding_broadcast:N/staking")
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.p) != 11 {
		t.Fatalf("%d backfill progress reports, want 10 blocks and the end", len(obs.p))
	}
	for i, p := range obs.p[:10] {
		if p.BackfillHeight != int64(i+1) || p.BackfillFrom != 1 || p.BackfillTo != 10 || p.BackfillEntries != 1 || p.CaughtUp {
			t.Fatalf("report %d: %+v", i, p)
		}
	}
	if end := obs.p[10]; end.BackfillEntries != 0 || end.BackfillTo != 0 || !end.CaughtUp {
		t.Fatalf("end report %+v", end)
	}
}

type bfCounter struct {
	counter
	mu sync.Mutex
	p  []Progress
}

func (c *bfCounter) BackfillProgress(p Progress) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.p = append(c.p, p)
}

// TestStoreWithoutBackfillBucket: a store made before the backfill bucket
// existed opens (the bucket is added) and backfills.
func TestStoreWithoutBackfillBucket(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	path := dbPath(t)
	cfg := testConfig(n, &recorder{})
	w, err := Open(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	N := f.newStake(t, 50)
	n.mine(N.tx)
	catchUp(t, w, 1)
	w.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketBackfill) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	w = openTest(t, path, cfg)
	if err := w.Add(N.e); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, 1)
	if v, err := w.Stake(N.e.ID()); err != nil || v.State != StateStaked || v.StakingHeight != 1 {
		t.Fatalf("%+v %v", v, err)
	}
}

// TestFollowerIgnoresWaitingEntries: an entry added while the follower
// catches up may see the follower apply a block before its backfill runs
// (Add between two blocks); the follower leaves it alone, so the backfill
// still finds its earlier blocks first. Here N1 (staked at 3, unbonded at
// 7) is added at 6 and block 7 is applied by the follower at once.
func TestFollowerIgnoresWaitingEntries(t *testing.T) {
	bw := newBFWorld(t)
	refEvents, refStakes := bw.reference(t)
	rec := &recorder{}
	w := openTest(t, dbPath(t), testConfig(bw.n, rec))
	if err := w.Add(entries(bw.old)...); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, 6)
	if err := w.Add(entries(bw.late)...); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	blk := bw.n.blocks[7]
	_, err := w.applyBlock(7, blk.BlockHash(), blk)
	if err == nil {
		err = w.commitLocked()
	}
	w.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, bw.tip)
	bw.sameAsReference(t, rec.all(), refEvents)
	bw.sameStakes(t, w, refStakes)
}

// TestReorgDuringBackfill: the node's chain changes while the backfill
// scans (after it applied block 8, blocks 10..12 are replaced); it stops
// at the first block that is not the stored one, the orphaned blocks are
// rolled back (the follower's events in them reported reorged_out), and
// the late delegation ends as on a watcher that only saw the new branch.
func TestReorgDuringBackfill(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	O, N := f.newStake(t, 50), f.newStake(t, 50)
	label := map[string]string{O.e.ID(): "O", N.e.ID(): "N"}
	n.mine(O.tx)           // 1
	n.mine(N.tx)           // 2
	n.mineEmpty(7)         // 3..9
	n.mine(O.unbond(t, f)) // 10
	ubN := N.unbond(t, f)
	n.mine(ubN) // 11
	n.mine()    // 12
	rec := &recorder{}
	cfg := testConfig(n, rec)
	cfg.Prefetch, cfg.BatchBlocks = 1, 1
	w := openTest(t, dbPath(t), cfg)
	_ = w.Add(O.e)
	catchUp(t, w, 12)
	if err := w.Add(N.e); err != nil {
		t.Fatal(err)
	}
	reorged := false
	w.hookBackfillCommit = func(h int64) error {
		if h == 8 && !reorged {
			reorged = true
			n.reorg(3)
			n.mineEmpty(2) // 10', 11'
			n.mine(ubN)    // 12'
			n.mine()       // 13'
		}
		return nil
	}
	catchUp(t, w, 13)
	if !reorged {
		t.Fatal("the hook did not run")
	}
	fresh := &recorder{}
	fw := openTest(t, dbPath(t), testConfig(n, fresh))
	_ = fw.Add(O.e, N.e)
	catchUp(t, fw, 13)
	g, r := byDelegation(rec.all()), byDelegation(fresh.all())
	wantKinds(t, g[N.e.ID()], label, "2 staking_confirmed:N", "7 staking_deep:N", "12 unbonding_confirmed:N/staking")
	if !reflect.DeepEqual(g[N.e.ID()], r[N.e.ID()]) {
		t.Fatalf("N:\n got  %v\n want %v", kinds(g[N.e.ID()], label), kinds(r[N.e.ID()], label))
	}
	wantKinds(t, g[O.e.ID()], label, "1 staking_confirmed:O", "6 staking_deep:O", "10 unbonding_confirmed:O/staking", "10 reorged_out:O/staking")
	if len(g[""]) != 1 || g[""][0].Kind != EventReorg || g[""][0].Height != 10 || g[""][0].Depth != 3 {
		t.Fatalf("reorg events %v", kinds(g[""], nil))
	}
	vs, _ := w.Stakes()
	rvs, _ := fw.Stakes()
	for i := range vs {
		if vs[i].Delegation == N.e.ID() && !reflect.DeepEqual(vs[i], rvs[i]) {
			t.Fatalf("N: %+v, want %+v", vs[i], rvs[i])
		}
	}
}

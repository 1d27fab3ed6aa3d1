package watch

import (
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// TestEntryCacheKeptAcrossStateChanges: the decoded entry (with its
// outputs) a block's events need stays cached while its delegation's
// state changes, since nothing in it depends on the state; decoding a
// stored entry re-validates it (signatures, outputs) and was most of the
// catch-up's time (BenchmarkCatchUp) when every state change dropped it.
// A change of the entry itself (a richer entry added) still drops it.
func TestEntryCacheKeptAcrossStateChanges(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	w := openTest(t, dbPath(t), testConfig(n, rec))
	A := f.newStake(t, 50)
	id := A.e.ID()
	if err := w.Add(A.e); err != nil {
		t.Fatal(err)
	}
	cached := func() *watched {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.cache[id]
	}
	n.mine(A.tx) // 1: staking_confirmed
	n.mineEmpty(6)
	catchUp(t, w, 7) // 6: staking_deep
	wantKinds(t, rec.all(), map[string]string{id: "A"}, "1 staking_confirmed:A", "6 staking_deep:A")
	c := cached()
	if c == nil {
		t.Fatal("the entry is not cached after its state changed")
	}
	// A richer entry of the same delegation replaces the stored one and
	// the cached decode.
	ub := A.unbond(t, f)
	richer, err := NewEntry(EntryConfig{Source: SourceStakingTx, Params: f.p, Staker: A.staker.PubKey(),
		FPs: []*btcec.PublicKey{A.fps[0].PubKey()}, StakingTime: 50, StakingTx: A.tx, UnbondingTx: ub})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(richer); err != nil {
		t.Fatal(err)
	}
	if cached() != nil {
		t.Fatal("the cached decode of the replaced entry is kept")
	}
	n.mine(ub) // 8
	catchUp(t, w, 8)
	c = cached()
	if c == nil || c.e.unbondingTx == nil {
		t.Fatalf("after the unbonding: cached %v", c)
	}
	n.mineEmpty(1)
	catchUp(t, w, 9)
	if cached() != c {
		t.Fatal("the cached decode was dropped by a state change")
	}
	if v, err := w.Stake(id); err != nil || v.State != StateUnbonding {
		t.Fatalf("%+v %v", v, err)
	}
}

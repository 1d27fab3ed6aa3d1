package watch

import (
	"slices"
	"testing"

	"github.com/btcstake/btcstake/params"
)

// TestAddEach: each entry is backfilled from its own height (blocks
// below the lowest are not fetched; a height past an entry's staking
// block hides it), and a conflict among them adds none.
func TestAddEach(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	w := openTest(t, dbPath(t), testConfig(n, rec))
	a, b := f.newStake(t, 100), f.newStake(t, 100)
	n.mine()     // 1
	n.mine(a.tx) // 2
	n.mine()     // 3
	n.mine(b.tx) // 4
	n.mineEmpty(2)
	catchUp(t, w, 6)
	n.fetches()
	if err := w.AddEach([]int64{2}, []*Entry{a.e, b.e}); !isKindErr(err, ErrInvalidArgument) {
		t.Fatalf("1 height for 2 entries: %v", err)
	}
	// b's copy under params that differ in the unbonding time only: the
	// same staking output, another delegation.
	p2, err := params.New(params.Config{CovenantKeys: f.p.CovenantKeys(), CovenantQuorum: 2,
		MinStakingValue: 10_000, MaxStakingValue: 10_000_000_000, MinStakingTime: 1, MaxStakingTime: 65535,
		UnbondingTime: 11, UnbondingFee: 1_000, SlashingPkScript: f.p.SlashingPkScript(),
		SlashingRate: "0.1", MinSlashingFee: 1_000, Tag: []byte("bbt4")})
	if err != nil {
		t.Fatal(err)
	}
	d := b.e.Delegation()
	other, err := NewEntry(EntryConfig{Source: SourceStakingTx, Params: p2, Staker: d.Staker, FPs: d.FinalityProviders,
		StakingTime: d.StakingTime, StakingTx: b.tx})
	if err != nil || other.ID() != b.e.ID() {
		t.Fatalf("the conflicting copy: %v", err)
	}
	if err := w.AddEach([]int64{2, 4, 4}, []*Entry{a.e, b.e, other}); !isKindErr(err, ErrEntryConflict) {
		t.Fatalf("conflict: %v", err)
	}
	if s, _ := w.Stakes(); len(s) != 0 {
		t.Fatalf("a failed AddEach added %d entries", len(s))
	}
	// a from its block, b from past its block: b stays pending.
	if err := w.AddEach([]int64{2, 5}, []*Entry{a.e, b.e}); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, 6)
	label := map[string]string{a.e.ID(): "a", b.e.ID(): "b"}
	wantKinds(t, rec.all(), label, "2 staking_confirmed:a")
	if got := slices.Min(n.fetches()); got != 2 {
		t.Fatalf("the backfill fetched block %d, below the lowest height given", got)
	}
	if v, _ := w.Stake(b.e.ID()); v.State != StatePending {
		t.Fatalf("b: %+v", v)
	}
}

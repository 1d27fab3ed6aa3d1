package watch_test

import (
	"fmt"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/regtest"
	"github.com/btcstake/btcstake/script"
	"github.com/btcstake/btcstake/watch"
)

// nodeScenario starts a node without a transaction index and a scenario
// of nFP finality providers whose time locks (1,000 and 500 blocks) do not
// open during a test, so no timelock_reached event mixes in.
func nodeScenario(t *testing.T, seed int64, nFP int) (*regtest.Node, *regtest.Scenario) {
	t.Helper()
	n := regtest.NewTestNode(t, regtest.Options{NoTxIndex: true})
	s, err := regtest.NewScenario(n, regtest.ScenarioConfig{Seed: seed, FinalityProviders: nFP, StakingTime: 1000, UnbondingTime: 500})
	if err != nil {
		t.Fatal(err)
	}
	return n, s
}

// TestNodeReorg: a 2-block reorganisation on the node replaces a
// confirmed unbonding, first with a slashing of the same staking output
// (the new branch's first block holds it), then with blocks that do not
// hold it (the unbonding goes back to the mempool and confirms later).
// The watcher reports the reorg, withdraws the unbonding_confirmed event
// (reorged_out cancels its id) and replays the new branch.
func TestNodeReorg(t *testing.T) {
	seed := testSeed(t)
	n, s := nodeScenario(t, seed, 2)
	tip, err := n.Height()
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	w := openWatcher(t, dbPath(t), testConfig(n, n.Chain(), int64(tip)+1, rec))
	stakes, err := s.StakeMany(4, regtest.ManyOptions{DistinctStakers: true})
	if err != nil {
		t.Fatal(err)
	}
	label := map[string]string{}
	for i, ps := range stakes {
		label[stakeID(ps)] = fmt.Sprintf("d%d", i)
		if err := w.Add(entryOf(t, ps)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.Mine(5); err != nil {
		t.Fatal(err)
	}
	catchUp(t, w, n)
	if got := rec.len(); got != 8 {
		t.Fatalf("%d events after staking, want 4 staking_confirmed and 4 staking_deep: %v", got, describeAll(rec.from(0), label))
	}

	// 1. The unbonding of d0 is replaced by its slashing.
	d0 := stakes[0]
	ub, err := s.UnbondPresigned(d0)
	if err != nil {
		t.Fatal(err)
	}
	U := ub.Height
	if _, err := n.Mine(1); err != nil {
		t.Fatal(err)
	}
	mark := rec.len()
	catchUp(t, w, n)
	first := rec.from(mark)
	wantEvents(t, "unbonding", first, label, []string{fmt.Sprintf("%d unbonding_confirmed:d0/staking", U)})
	slashing, err := psbt.CompleteSlashing(d0.Slashing, s.FinalityProviders[d0.FinalityProvider])
	if err != nil {
		t.Fatal(err)
	}
	r, err := n.Reorg(2, []*wire.MsgTx{slashing})
	if err != nil {
		t.Fatal(err)
	}
	if r.ForkHeight != U {
		t.Fatalf("the reorganisation forks at %d, want %d", r.ForkHeight, U)
	}
	mark = rec.len()
	catchUp(t, w, n)
	got := rec.from(mark)
	wantEvents(t, "reorg to a slashing", got, label, []string{
		fmt.Sprintf("%d reorg", U),
		fmt.Sprintf("%d reorged_out:d0/staking", U),
		fmt.Sprintf("%d slashed:d0/staking", U),
		fmt.Sprintf("%d fp_key_recovered:d0", U),
	})
	if got[0].BlockHash != r.Orphaned[0].String() || got[0].Depth != 2 {
		t.Fatalf("reorg event %+v, want the orphaned block %s, depth 2", got[0], r.Orphaned[0])
	}
	if got[1].Cancels != first[0].ID || got[1].Txid != ub.Txid.String() {
		t.Fatalf("reorged_out %+v, want it to cancel %s (unbonding %s)", got[1], first[0].ID, ub.Txid)
	}
	if got[2].Txid != slashing.TxHash().String() || got[2].BlockHash != r.Replacement[0].String() {
		t.Fatalf("slashed %+v, want %s in block %s", got[2], slashing.TxHash(), r.Replacement[0])
	}
	if got[3].FinalityProvider != script.XOnly(s.FinalityProviders[d0.FinalityProvider].PubKey()).String() {
		t.Fatalf("recovered the key of %s", got[3].FinalityProvider)
	}
	if v, err := w.Stake(stakeID(d0)); err != nil || v.State != watch.StateSlashed || v.SlashingTxid != slashing.TxHash().String() || v.UnbondingTxid != "" {
		t.Fatalf("d0 after the reorganisation: %+v %v", v, err)
	}

	// 2. The unbonding of d1 leaves the chain for blocks without it, and
	// confirms again in a later block.
	d1 := stakes[1]
	ub, err = s.UnbondPresigned(d1)
	if err != nil {
		t.Fatal(err)
	}
	V := ub.Height
	if _, err := n.Mine(1); err != nil {
		t.Fatal(err)
	}
	mark = rec.len()
	catchUp(t, w, n)
	first = rec.from(mark)
	wantEvents(t, "second unbonding", first, label, []string{fmt.Sprintf("%d unbonding_confirmed:d1/staking", V)})
	r, err = n.Reorg(2, nil)
	if err != nil {
		t.Fatal(err)
	}
	mark = rec.len()
	catchUp(t, w, n)
	got = rec.from(mark)
	wantEvents(t, "reorg to empty blocks", got, label, []string{
		fmt.Sprintf("%d reorg", V),
		fmt.Sprintf("%d reorged_out:d1/staking", V),
	})
	if got[1].Cancels != first[0].ID {
		t.Fatalf("reorged_out cancels %s, want %s", got[1].Cancels, first[0].ID)
	}
	staking := wire.OutPoint{Hash: d1.Txid, Index: d1.OutputIndex}.String()
	if v, err := w.Stake(stakeID(d1)); err != nil || v.State != watch.StateStaked || v.Live != staking || v.UnbondingTxid != "" {
		t.Fatalf("d1 after the reorganisation: %+v %v", v, err)
	}
	hashes, err := n.Mine(1)
	if err != nil {
		t.Fatal(err)
	}
	mark = rec.len()
	h := catchUp(t, w, n)
	got = rec.from(mark)
	wantEvents(t, "unbonding again", got, label, []string{fmt.Sprintf("%d unbonding_confirmed:d1/staking", h)})
	if got[0].ID == first[0].ID || got[0].BlockHash != hashes[0].String() || got[0].Txid != ub.Txid.String() {
		t.Fatalf("replayed unbonding %+v, want a new id, block %s", got[0], hashes[0])
	}
	if v, err := w.Stake(stakeID(d1)); err != nil || v.State != watch.StateUnbonding {
		t.Fatalf("d1 at last: %+v %v", v, err)
	}
	// The other stakes never moved.
	for _, ps := range stakes[2:] {
		if v, err := w.Stake(stakeID(ps)); err != nil || v.State != watch.StateStaked {
			t.Fatalf("%s: %+v %v", label[stakeID(ps)], v, err)
		}
	}
}

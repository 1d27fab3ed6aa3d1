package watch_test

import (
	"fmt"
	"sort"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/regtest"
	"github.com/btcstake/btcstake/script"
	"github.com/btcstake/btcstake/watch"
)

// TestNodeSlashThemAll is issue 14's "slash them all" on a regtest node:
// 100 delegations to 3 finality providers, with every pre-signed
// transaction a Babylon delegation holds; the watcher follows them with
// auto-slash on. Three delegations of the culprit provider and one of
// another unbond first; the culprit double-signs and one of its
// delegations is slashed by hand. The watcher must recover the key from
// that slashing and broadcast, once each, the slashing of every other
// live delegation of the culprit (from the unbonding output for those
// that unbonded), refuse the one whose PSBT lacks a covenant member's
// adaptor signature (naming the members), and leave the other providers'
// delegations alone, which the node's UTXO set confirms.
func TestNodeSlashThemAll(t *testing.T) {
	seed := testSeed(t)
	n, s := nodeScenario(t, seed, 3)
	tip, err := n.Height()
	if err != nil {
		t.Fatal(err)
	}
	node := &flakyNode{Client: n.Chain()}
	rec := &recorder{}
	path := dbPath(t)
	cfg := testConfig(n, node, int64(tip)+1, rec)
	cfg.AutoSlash = true
	w := openWatcher(t, path, cfg)

	stakes, err := s.StakeMany(100, regtest.ManyOptions{DistinctStakers: true})
	if err != nil {
		t.Fatal(err)
	}
	const culpritFP = 0
	var culprit, others []*regtest.PresignedStake
	label := map[string]string{}
	for i, ps := range stakes {
		label[stakeID(ps)] = fmt.Sprintf("d%02d", i)
		if ps.FinalityProvider == culpritFP {
			culprit = append(culprit, ps)
		} else {
			others = append(others, ps)
		}
	}
	if len(culprit) != 34 || len(others) != 66 {
		t.Fatalf("%d stakes of the culprit, %d of the others", len(culprit), len(others))
	}
	handSlashed := culprit[0]
	unbonded := culprit[1:4]
	refused := culprit[4]
	otherUnbonded := others[0]
	// refused's slashing PSBT of the staking output loses covenant member
	// 1's adaptor signatures: member 0's alone is short of the quorum of
	// 2, and members 1 and 2 are the missing ones.
	if q := s.Params.CovenantQuorum(); q != 2 || len(s.Covenant) != 3 {
		t.Fatalf("covenant %d of %d", q, len(s.Covenant))
	}
	entries := make([]*watch.Entry, len(stakes))
	for i, ps := range stakes {
		if ps == refused {
			entries[i] = entryWith(t, ps, withoutAdaptorSigsOf(t, ps.Slashing, s.Covenant[1].PubKey()))
		} else {
			entries[i] = entryOf(t, ps)
		}
	}
	if err := w.Add(entries...); err != nil {
		t.Fatal(err)
	}
	if v, err := w.Stake(stakeID(refused)); err != nil || v.CanAutoSlash {
		t.Fatalf("the delegation without a quorum of adaptor signatures: %+v %v", v, err)
	}

	// The staking block: staking_confirmed in the block's transaction
	// order; staking_deep (depth 6) five blocks later, by delegation id.
	S := stakes[0].Height
	for _, ps := range stakes {
		if ps.Height != S {
			t.Fatalf("stakes in blocks %d and %d", S, ps.Height)
		}
	}
	blk, err := n.BlockAt(S)
	if err != nil {
		t.Fatal(err)
	}
	byTxid := map[chainhash.Hash]*regtest.PresignedStake{}
	for _, ps := range stakes {
		byTxid[ps.Txid] = ps
	}
	var want []string
	for _, tx := range blk.Transactions[1:] {
		ps := byTxid[tx.TxHash()]
		if ps == nil {
			t.Fatalf("block %d holds %s, not a stake", S, tx.TxHash())
		}
		want = append(want, fmt.Sprintf("%d staking_confirmed:%s/staking", S, label[stakeID(ps)]))
	}
	if _, err := n.Mine(5); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(stakes))
	for _, ps := range stakes {
		ids = append(ids, stakeID(ps))
	}
	sort.Strings(ids)
	for _, id := range ids {
		want = append(want, fmt.Sprintf("%d staking_deep:%s", S+5, label[id]))
	}
	catchUp(t, w, n)
	wantEvents(t, "staking", rec.from(0), label, want)
	for _, e := range rec.from(len(stakes)) {
		if e.Depth != 6 {
			t.Fatalf("staking_deep at depth %d: %+v", e.Depth, e)
		}
	}

	// Unbondings, one block each.
	mark := rec.len()
	want = nil
	for _, ps := range append(append([]*regtest.PresignedStake(nil), unbonded...), otherUnbonded) {
		sp, err := s.UnbondPresigned(ps)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("%d unbonding_confirmed:%s/staking", sp.Height, label[stakeID(ps)]))
	}
	catchUp(t, w, n)
	wantEvents(t, "unbonding", rec.from(mark), label, want)
	for i, e := range rec.from(mark) {
		ps := append(append([]*regtest.PresignedStake(nil), unbonded...), otherUnbonded)[i]
		if e.Txid != ps.UnbondingTx.TxHash().String() {
			t.Fatalf("unbonding_confirmed of %s names %s, want %s", label[e.Delegation], e.Txid, ps.UnbondingTx.TxHash())
		}
	}

	// The culprit double-signs; anyone extracts its key; one of its
	// delegations is slashed by hand.
	ds, err := s.DoubleSign(culpritFP, uint64(S))
	if err != nil {
		t.Fatal(err)
	}
	sp, err := s.Slash(&handSlashed.Stake, nil, ds.Extracted)
	if err != nil {
		t.Fatal(err)
	}
	K := sp.Height
	mark = rec.len()
	catchUp(t, w, n)
	got := rec.from(mark)
	fpHex := script.XOnly(s.FinalityProviders[culpritFP].PubKey()).String()
	want = []string{
		fmt.Sprintf("%d slashed:%s/staking", K, label[stakeID(handSlashed)]),
		fmt.Sprintf("%d fp_key_recovered:%s", K, label[stakeID(handSlashed)]),
	}
	// Then auto-slash, in delegation id order: every live delegation of
	// the culprit but the one slashed by hand.
	type target struct {
		ps   *regtest.PresignedStake
		from script.OutputKind
	}
	targets := map[string]target{}
	var culpritIDs []string
	for _, ps := range culprit[1:] {
		from := script.StakingOutputKind
		for _, u := range unbonded {
			if u == ps {
				from = script.UnbondingOutputKind
			}
		}
		targets[stakeID(ps)] = target{ps, from}
		culpritIDs = append(culpritIDs, stakeID(ps))
	}
	sort.Strings(culpritIDs)
	for _, id := range culpritIDs {
		kind := "auto_slash_broadcast"
		if id == stakeID(refused) {
			kind = "auto_slash_refused"
		}
		want = append(want, fmt.Sprintf("%d %s:%s/%s", K, kind, label[id], targets[id].from))
	}
	wantEvents(t, "slashing and auto-slash", got, label, want)
	if e := got[0]; e.Txid != sp.Txid.String() {
		t.Fatalf("slashed names %s, want %s", e.Txid, sp.Txid)
	}
	if e := got[1]; e.FinalityProvider != fpHex || e.Txid != sp.Txid.String() {
		t.Fatalf("fp_key_recovered: %+v, want provider %s from %s", e, fpHex, sp.Txid)
	}
	sent := node.broadcasts()
	if len(sent) != len(culpritIDs)-1 {
		t.Fatalf("%d transactions broadcast, want %d", len(sent), len(culpritIDs)-1)
	}
	sentBy := map[chainhash.Hash]*wire.MsgTx{}
	for _, tx := range sent {
		sentBy[tx.TxHash()] = tx
	}
	autoTxid := map[chainhash.Hash]string{} // slashing txid -> delegation
	for _, e := range got[2:] {
		tg := targets[e.Delegation]
		if e.FinalityProvider != fpHex {
			t.Fatalf("%s names provider %s, want %s", describe(e, label), e.FinalityProvider, fpHex)
		}
		if e.Kind == watch.EventAutoSlashRefused {
			// Members 1 and 2 (the covenant signed with members 0 and 1,
			// and member 1's signature was removed).
			wantMissing := []string{script.XOnly(s.Covenant[1].PubKey()).String(), script.XOnly(s.Covenant[2].PubKey()).String()}
			sort.Strings(wantMissing)
			gotMissing := append([]string(nil), e.Missing...)
			sort.Strings(gotMissing)
			if fmt.Sprint(gotMissing) != fmt.Sprint(wantMissing) || e.Reason == "" {
				t.Fatalf("auto_slash_refused: missing %v reason %q, want missing %v", e.Missing, e.Reason, wantMissing)
			}
			continue
		}
		var txid chainhash.Hash
		if err := chainhash.Decode(&txid, e.Txid); err != nil {
			t.Fatalf("%s: txid %q", describe(e, label), e.Txid)
		}
		tx := sentBy[txid]
		if tx == nil {
			t.Fatalf("%s names %s, which the watcher did not broadcast", describe(e, label), txid)
		}
		spent := wire.OutPoint{Hash: tg.ps.Txid, Index: tg.ps.OutputIndex}
		funding := tg.ps.Funding()
		if tg.from == script.UnbondingOutputKind {
			spent = wire.OutPoint{Hash: tg.ps.UnbondingTx.TxHash(), Index: 0}
			funding = tg.ps.UnbondingFunding()
		}
		if len(tx.TxIn) != 1 || tx.TxIn[0].PreviousOutPoint != spent {
			t.Fatalf("%s: the slashing spends %v, want %v", describe(e, label), tx.TxIn[0].PreviousOutPoint, spent)
		}
		if err := psbt.ValidateSlashingTx(tx, funding.Tx, funding.Index, tg.from, tg.ps.Delegation); err != nil {
			t.Fatalf("%s: %v", describe(e, label), err)
		}
		autoTxid[txid] = e.Delegation
	}

	// Mined: a slashed event for each, in the block's order, each
	// followed by fp_key_recovered (the watcher recovers the key from
	// every slashing witness it sees, as docs/watch.md says, known or
	// not), and nothing broadcast again.
	hashes, err := n.Mine(1)
	if err != nil {
		t.Fatal(err)
	}
	blk, err = n.GetBlock(hashes[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(blk.Transactions)-1 != len(autoTxid) {
		t.Fatalf("the block after the auto-slash holds %d transactions, want the %d slashings", len(blk.Transactions)-1, len(autoTxid))
	}
	want = nil
	for _, tx := range blk.Transactions[1:] {
		id, ok := autoTxid[tx.TxHash()]
		if !ok {
			t.Fatalf("the block holds %s, not an auto-slash transaction", tx.TxHash())
		}
		want = append(want, fmt.Sprintf("%d slashed:%s/%s", K+1, label[id], targets[id].from),
			fmt.Sprintf("%d fp_key_recovered:%s", K+1, label[id]))
	}
	mark = rec.len()
	catchUp(t, w, n)
	got = rec.from(mark)
	wantEvents(t, "auto-slashings mined", got, label, want)
	for i := 0; i < len(got); i += 2 {
		if got[i+1].FinalityProvider != fpHex || got[i+1].Txid != got[i].Txid || got[i].Txid != blk.Transactions[1+i/2].TxHash().String() {
			t.Fatalf("%s (%s), %s (%s from %s)", describe(got[i], label), got[i].Txid, describe(got[i+1], label), got[i+1].FinalityProvider, got[i+1].Txid)
		}
	}

	// The chain: the culprit's outputs are spent but the refused one's;
	// every other provider's stake sits where it was.
	unspent := func(op wire.OutPoint) bool {
		_, err := n.GetTxOut(op)
		if err != nil && !isNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}
	for _, ps := range stakes {
		stakingOut := wire.OutPoint{Hash: ps.Txid, Index: ps.OutputIndex}
		unbondingOut := wire.OutPoint{Hash: ps.UnbondingTx.TxHash(), Index: 0}
		l := label[stakeID(ps)]
		switch {
		case ps == refused:
			if !unspent(stakingOut) {
				t.Fatalf("%s (refused): staking output spent", l)
			}
		case ps.FinalityProvider == culpritFP:
			if unspent(stakingOut) || unspent(unbondingOut) {
				t.Fatalf("%s (culprit): an output is still unspent", l)
			}
		case ps == otherUnbonded:
			if unspent(stakingOut) || !unspent(unbondingOut) {
				t.Fatalf("%s (another provider, unbonded): its unbonding output must be unspent", l)
			}
		default:
			if !unspent(stakingOut) {
				t.Fatalf("%s (another provider): staking output spent", l)
			}
		}
	}
	views, err := w.Stakes()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range views {
		want := watch.StateStaked
		if _, ok := targets[v.Delegation]; ok || v.Delegation == stakeID(handSlashed) {
			want = watch.StateSlashed
		}
		switch v.Delegation {
		case stakeID(refused):
			want = watch.StateStaked
		case stakeID(otherUnbonded):
			want = watch.StateUnbonding
		}
		if v.State != want {
			t.Fatalf("%s: state %s, want %s", label[v.Delegation], v.State, want)
		}
	}

	// Once, across a restart: another block, a fresh Open, nothing new.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = openWatcher(t, path, cfg)
	if _, err := n.Mine(1); err != nil {
		t.Fatal(err)
	}
	mark = rec.len()
	catchUp(t, w, n)
	if evs := rec.from(mark); len(evs) != 0 || len(node.broadcasts()) != len(autoTxid) {
		t.Fatalf("after a restart: events %v, %d broadcasts", describeAll(evs, label), len(node.broadcasts()))
	}
	if mp, err := n.MempoolTxids(); err != nil || len(mp) != 0 {
		t.Fatalf("mempool %v %v", mp, err)
	}
}

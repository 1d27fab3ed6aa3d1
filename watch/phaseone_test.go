package watch

import (
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// phaseOneTx is a phase-1 staking transaction under tag: the OP_RETURN
// with the version-0 staking data, and the staking output it describes.
func (f *fixture) phaseOneTx(t testing.TB, tag []byte, fp *btcec.PrivateKey, st uint16) (*wire.MsgTx, *btcec.PrivateKey) {
	t.Helper()
	staker := f.key()
	d, err := script.NewV0StakingData(tag, staker.PubKey(), []*btcec.PublicKey{fp.PubKey()}, st)
	if err != nil {
		t.Fatal(err)
	}
	out, err := script.NewStakingOutput(script.Parties{Staker: staker.PubKey(), FinalityProviders: []*btcec.PublicKey{fp.PubKey()},
		Covenant: f.p.CovenantKeys(), CovenantQuorum: f.p.CovenantQuorum()}, st)
	if err != nil {
		t.Fatal(err)
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(f.funding(), nil, nil))
	tx.AddTxOut(wire.NewTxOut(20_000, []byte{0x51}))
	tx.AddTxOut(out.TxOut(500_000))
	tx.AddTxOut(d.TxOut())
	return tx, staker
}

// TestPhaseOne: with PhaseOne on, every phase-1 staking transaction of the
// params' tag becomes a watched delegation (source phase1) confirmed at
// its block and k-deep per the version's confirmation depth; one of
// another tag is ignored; its unbonding is followed like any other.
func TestPhaseOne(t *testing.T) {
	f := newFixture(t)
	n := newFakeNode()
	rec := &recorder{}
	cfg := testConfig(n, rec)
	v, err := params.NewVersion(0, 0, f.p, params.BabylonExtras{ConfirmationDepth: 3})
	if err != nil {
		t.Fatal(err)
	}
	cfg.PhaseOne = true
	if cfg.Versions, err = params.NewVersions(v); err != nil {
		t.Fatal(err)
	}
	w := openTest(t, dbPath(t), cfg)
	fp := f.key()
	tx1, _ := f.phaseOneTx(t, f.p.Tag(), fp, 64)
	other, _ := f.phaseOneTx(t, []byte("zzzz"), fp, 64)
	n.mine()
	n.mine(other, tx1) // 2
	n.mineEmpty(3)
	catchUp(t, w, 5)
	id := wire.OutPoint{Hash: tx1.TxHash(), Index: 1}.String()
	label := map[string]string{id: "P"}
	wantKinds(t, rec.all(), label, "2 staking_confirmed:P", "4 staking_deep:P")
	if rec.all()[1].Depth != 3 {
		t.Fatalf("depth %d", rec.all()[1].Depth)
	}
	vs, err := w.Stakes()
	if err != nil || len(vs) != 1 || vs[0].Source != SourcePhaseOne || vs[0].Delegation != id || vs[0].ValueSat != 500_000 || vs[0].StakingHeight != 2 {
		t.Fatalf("%+v %v", vs, err)
	}
	// A reorganisation takes the phase-1 stake away with its block.
	n.reorg(4)
	n.mineEmpty(5)
	rec.reset()
	catchUp(t, w, 6)
	wantKinds(t, rec.all(), label, "2 reorg", "2 reorged_out:P/staking", "4 reorged_out:P")
	if vs, _ := w.Stakes(); len(vs) != 0 {
		t.Fatalf("stakes after the reorg: %+v", vs)
	}
	if len(w.live) != 0 || len(w.pendingTx) != 0 {
		t.Fatalf("indexes after the reorg: %d live, %d pending", len(w.live), len(w.pendingTx))
	}
}

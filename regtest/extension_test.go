package regtest

import (
	"bytes"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// extended is a stake extended on the node, with the scenario of the
// current params (B) that spends it.
type extended struct {
	sB        *Scenario
	old, next *Stake
	newOnly   *btcec.PrivateKey
	short     *Attempt // input 0 one covenant signature short
	stranger  *Attempt // a new-committee key's signature in an old slot
}

// extendOnNode stakes under s's params A (2-of-3) and extends the stake
// under params B (2-of-3: two of A's keys and one new key), adding
// 300,000 sat, with a funding coin of the staker's wallet. Before
// broadcasting it shows the node two bad versions of the extension.
func extendOnNode(t *testing.T, s *Scenario, stakingTimeB uint16) *extended {
	t.Helper()
	old, err := s.Stake(StakeOptions{Value: 500_000})
	if err != nil {
		t.Fatal(err)
	}
	newOnly := s.newKey()
	covB := []*btcec.PrivateKey{s.Covenant[0], s.Covenant[1], newOnly}
	pB, err := params.New(params.Config{
		CovenantKeys: []*btcec.PublicKey{covB[0].PubKey(), covB[1].PubKey(), covB[2].PubKey()}, CovenantQuorum: 2,
		MinStakingValue: 10_000, MaxStakingValue: 10_000_000_000,
		MinStakingTime: 1, MaxStakingTime: 65535,
		UnbondingTime: s.Params.UnbondingTime(), UnbondingFee: 1_000,
		SlashingPkScript: s.Params.SlashingPkScript(), SlashingRate: "0.1", MinSlashingFee: 1_000,
		Tag: []byte("bbt4"),
	})
	if err != nil {
		t.Fatal(err)
	}
	sB := *s
	sB.Params, sB.Covenant, sB.StakingTime = pB, covB, stakingTimeB
	next := old.Delegation
	next.Params, next.StakingTime = pB, stakingTimeB

	wallet := s.WalletPkScript()
	op, fundTx, err := s.Node.Fund(wallet, 400_000)
	if err != nil {
		t.Fatal(err)
	}
	res, err := psbt.BuildExtension(psbt.ExtensionRequest{Previous: old.Delegation, PreviousFunding: old.Funding(), New: next,
		AddedValue: 300_000, Funding: psbt.UTXO{OutPoint: op, Value: 400_000, PkScript: wallet, PrevTx: fundTx},
		FeeRate: scenarioFeeRate, ChangePkScript: wallet})
	if err != nil {
		t.Fatal(err)
	}
	if err := psbt.SignTapscript(res.Packet, 0, s.Staker); err != nil {
		t.Fatal(err)
	}
	for _, k := range s.Covenant[:2] {
		c, _ := psbt.NewCovenantSigner(k)
		if _, err := c.SignExtension(res.Packet, next, old.Delegation); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := psbt.SignFundingInput(res.Packet, 1, s.Wallet); err != nil || !ok {
		t.Fatalf("funding input: %v %v", ok, err)
	}
	sighash, err := psbt.TapscriptSigHash(res.Packet, 0)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := psbt.Finalize(res.Packet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := psbt.ValidateExtensionTx(tx, old.Delegation, old.Tx, next, fundTx); err != nil {
		t.Fatal(err)
	}
	checkExtensionSigs(t, tx, old, fundTx, s.Staker)

	e := &extended{sB: &sB, old: old, newOnly: newOnly}
	short, err := DropCovenantSignature(tx, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.short = s.attempt("extension with one covenant signature short", short)
	// A key of the new committee that was not in the old one signs the
	// right sighash; its signature goes in a filled old slot.
	ws, err := script.ParseWitness(tx.TxIn[0].Witness)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := schnorr.Sign(newOnly, sighash)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ws.Covenant {
		if ws.Covenant[i].Sig != nil {
			ws.Covenant[i].Sig = sig.Serialize()
			break
		}
	}
	stranger := tx.Copy()
	stranger.TxIn[0].Witness = ws.Witness()
	e.stranger = s.attempt("extension with a new-committee key's signature", stranger)

	txid, h, err := s.confirm(tx, "extension")
	if err != nil {
		t.Fatal(err)
	}
	checkSpent(t, s.Node, wire.OutPoint{Hash: old.Txid, Index: old.OutputIndex})
	// The old staking output was spent through its unbonding leaf: read
	// the witness back from the chain.
	onChain, err := s.Node.GetRawTransaction(txid)
	if err != nil {
		t.Fatal(err)
	}
	spend, err := script.ParseWitness(onChain.TxIn[0].Witness)
	if err != nil {
		t.Fatal(err)
	}
	pst, _ := old.Delegation.StakingOutput()
	upath, _ := pst.Path(script.UnbondingPath)
	if spend.Leaf.Kind != script.UnbondingPath || !bytes.Equal(spend.Script, upath.Script) {
		t.Fatalf("input 0 spends the %v leaf, not the old output's unbonding leaf", spend.Leaf.Kind)
	}
	e.next = &Stake{Delegation: next, Tx: onChain, Txid: txid, OutputIndex: 0, Value: 800_000, Height: h,
		Description: res.Description}
	if onChain.TxOut[0].Value != 800_000 {
		t.Fatalf("new stake %d sat", onChain.TxOut[0].Value)
	}
	if e.next.Slashing, err = sB.presignSlashing(next, script.StakingOutputKind, e.next.Funding()); err != nil {
		t.Fatal(err)
	}
	return e
}

// checkExtensionSigs is the independent check: input 0's BIP-341 sighash
// computed by btcd's txscript over both prevouts, and every signature in
// input 0's witness verified against it with schnorr.Verify.
func checkExtensionSigs(t *testing.T, tx *wire.MsgTx, old *Stake, fundTx *wire.MsgTx, staker *btcec.PrivateKey) {
	t.Helper()
	fop := tx.TxIn[1].PreviousOutPoint
	fetch := txscript.NewMultiPrevOutFetcher(map[wire.OutPoint]*wire.TxOut{
		tx.TxIn[0].PreviousOutPoint: old.Tx.TxOut[old.OutputIndex],
		fop:                         fundTx.TxOut[fop.Index],
	})
	ws, err := script.ParseWitness(tx.TxIn[0].Witness)
	if err != nil {
		t.Fatal(err)
	}
	h, err := txscript.CalcTapscriptSignaturehash(txscript.NewTxSigHashes(tx, fetch), txscript.SigHashDefault, tx, 0, fetch,
		txscript.NewBaseTapLeaf(ws.Script))
	if err != nil {
		t.Fatal(err)
	}
	check := func(k script.XOnlyKey, b []byte) {
		pk, _ := k.PubKey()
		s, err := schnorr.ParseSignature(b)
		if err != nil || !s.Verify(h, pk) {
			t.Fatalf("signature of %s does not verify against txscript's sighash: %v", k, err)
		}
	}
	if script.XOnly(staker.PubKey()) != ws.Leaf.Staker {
		t.Fatal("leaf staker is not the staker")
	}
	check(ws.Leaf.Staker, ws.Staker)
	n := 0
	for _, slot := range ws.Covenant {
		if slot.Sig != nil {
			check(slot.Key, slot.Sig)
			n++
		}
	}
	if n != int(old.Delegation.Params.CovenantQuorum()) {
		t.Fatalf("%d covenant signatures, want the old quorum", n)
	}
}

// TestExtensionOnNode: a stake extended on a real node (Babylon v4 stake
// expansion) under params whose committee overlaps the old one by its
// quorum plus a new key, then unbonded, slashed or withdrawn.
func TestExtensionOnNode(t *testing.T) {
	n := NewTestNode(t, Options{})
	seed := time.Now().UnixNano()
	t.Logf("seed %d (run i uses seed+i)", seed)
	scenario := func(t *testing.T, i int64) *Scenario {
		s, err := NewScenario(n, ScenarioConfig{Seed: seed + i, StakingTime: 12})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Run("extend, refusals, then unbond the new delegation", func(t *testing.T) {
		s := scenario(t, 1)
		e := extendOnNode(t, s, 15)
		expectVerdict(t, e.short, ErrScriptFailure, e.short.Height)
		expectVerdict(t, e.stranger, ErrScriptFailure, e.stranger.Height)
		ub, err := e.sB.Unbond(e.next, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkSpent(t, n, wire.OutPoint{Hash: e.next.Txid, Index: 0})
		if ub.Tx.TxIn[0].PreviousOutPoint.Hash != e.next.Txid {
			t.Fatal("unbonding does not spend the extended stake")
		}
	})

	t.Run("extend, then slash the new staking output", func(t *testing.T) {
		s := scenario(t, 2)
		e := extendOnNode(t, s, 15)
		sl, err := e.sB.Slash(e.next, nil, s.FinalityProviders[0])
		if err != nil {
			t.Fatal(err)
		}
		if sl.Tx.TxIn[0].PreviousOutPoint != (wire.OutPoint{Hash: e.next.Txid, Index: 0}) {
			t.Fatal("slashing does not spend the extended staking output")
		}
	})

	t.Run("extend, then withdraw after the new time lock", func(t *testing.T) {
		s := scenario(t, 3)
		e := extendOnNode(t, s, 15)
		w, err := e.sB.Withdraw(e.next, nil)
		if err != nil {
			t.Fatal(err)
		}
		expectVerdict(t, w.Premature, ErrSequenceLock, e.next.Height+15-2)
		expectAccepted(t, w.Mature, e.next.Height+15-1)
		if w.Height != e.next.Height+15 || w.Tx.TxIn[0].Sequence != 15 {
			t.Fatalf("withdraw at %d with sequence %d, want %d and 15", w.Height, w.Tx.TxIn[0].Sequence, e.next.Height+15)
		}
	})
}

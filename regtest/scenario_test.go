package regtest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/eots"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// TestLifecycleOnNode runs every path of the staking lifecycle on one real
// node (subtests run one after another: each mines, and a parallel one
// would move the others' time-lock boundaries) and asserts the node's
// verdict at each step, one block either side of every time lock.
func TestLifecycleOnNode(t *testing.T) {
	n := NewTestNode(t, Options{})
	seed := time.Now().UnixNano()
	t.Logf("seed %d (scenario i uses seed+i)", seed)
	newScenario := func(t *testing.T, i int64, cfg ScenarioConfig) *Scenario {
		t.Helper()
		cfg.Seed = seed + i
		s, err := NewScenario(n, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Run("stake and withdraw via the staking time lock", func(t *testing.T) {
		s := newScenario(t, 1, ScenarioConfig{StakingTime: 12})
		st, err := s.Stake(StakeOptions{Value: 500_000, Early: true})
		if err != nil {
			t.Fatal(err)
		}
		checkStakeOnChain(t, s, st)
		expectVerdict(t, st.Early, ErrSequenceLock, st.Height)

		w, err := s.Withdraw(st, nil)
		if err != nil {
			t.Fatal(err)
		}
		lock := int32(s.StakingTime)
		expectVerdict(t, w.Premature, ErrSequenceLock, st.Height+lock-2)
		expectAccepted(t, w.Mature, st.Height+lock-1)
		if w.Height != st.Height+lock {
			t.Fatalf("withdraw mined at %d, want %d (staked at %d, lock %d)", w.Height, st.Height+lock, st.Height, lock)
		}
		if w.From != script.StakingOutputKind || w.Tx.TxIn[0].Sequence != uint32(lock) {
			t.Fatalf("withdraw from %v with sequence %d", w.From, w.Tx.TxIn[0].Sequence)
		}
		checkSpent(t, n, wire.OutPoint{Hash: st.Txid, Index: st.OutputIndex})
		checkPays(t, n, w.Txid, 0, s.WalletPkScript(), st.Value-w.Description.Fee)
		// Once spent, the staking output cannot be spent again.
		again, _, err := s.buildWithdraw(st.Delegation, script.StakingOutputKind, st.Funding())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Broadcast(again); err != nil && !errors.Is(err, ErrAlreadyKnown) {
			t.Fatalf("rebroadcasting the confirmed withdraw: %v", err)
		}
	})

	t.Run("unbond with exactly quorum 3 of 5, then withdraw after the unbonding time", func(t *testing.T) {
		s := newScenario(t, 2, ScenarioConfig{FinalityProviders: 3, CovenantMembers: 5, CovenantQuorum: 3, UnbondingTime: 7})
		st, err := s.Stake(StakeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		checkStakeOnChain(t, s, st)
		// OP_NUMEQUAL counts exactly: a witness with quorum+1 valid
		// covenant signatures (built by hand) fails too.
		exact, over := overQuorumUnbonding(t, s, st)
		if got := countCovenantSigs(t, over); got != 4 {
			t.Fatalf("hand-built witness has %d covenant signatures, want 4", got)
		}
		if err := n.TestMempoolAccept(exact); err != nil {
			t.Fatalf("the same unbonding with exactly 3 signatures: %v", err)
		}
		if err := n.TestMempoolAccept(over); !errors.Is(err, ErrScriptFailure) {
			t.Fatalf("unbonding with 4 of 3 covenant signatures: %v, want ErrScriptFailure", err)
		}
		// Three members that are not the first three.
		ub, err := s.Unbond(st, []int{4, 1, 3})
		if err != nil {
			t.Fatal(err)
		}
		if got := countCovenantSigs(t, ub.Tx); got != 3 {
			t.Fatalf("unbonding witness has %d covenant signatures, want exactly the quorum 3", got)
		}
		// The same tx with two covenant signatures, built by hand: the
		// node runs the script and OP_NUMEQUAL fails.
		if got := countCovenantSigs(t, ub.ShortQuorum.Tx); got != 2 {
			t.Fatalf("short witness has %d covenant signatures, want 2", got)
		}
		expectVerdict(t, ub.ShortQuorum, ErrScriptFailure, st.Height)
		checkSpent(t, n, wire.OutPoint{Hash: st.Txid, Index: st.OutputIndex})
		ubOut, _ := st.Delegation.UnbondingOutput()
		checkPays(t, n, ub.Txid, 0, ubOut.PkScript, st.Value-s.Params.UnbondingFee())
		if ub.Height != st.Height+1 {
			t.Fatalf("unbonding mined at %d, want %d", ub.Height, st.Height+1)
		}

		// The stake's slashing tx now spends a spent output.
		ds, err := s.DoubleSign(0, 7)
		if err != nil {
			t.Fatal(err)
		}
		stale, err := psbt.CompleteSlashing(st.Slashing, ds.Extracted)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.TestMempoolAccept(stale); !errors.Is(err, ErrMissingInputs) {
			t.Fatalf("slashing the unbonded staking output: %v, want ErrMissingInputs", err)
		}

		w, err := s.Withdraw(st, ub)
		if err != nil {
			t.Fatal(err)
		}
		lock := int32(s.Params.UnbondingTime())
		expectVerdict(t, w.Premature, ErrSequenceLock, ub.Height+lock-2)
		expectAccepted(t, w.Mature, ub.Height+lock-1)
		if w.From != script.UnbondingOutputKind || w.Height != ub.Height+lock {
			t.Fatalf("withdraw from %v mined at %d, want the unbonding output at %d", w.From, w.Height, ub.Height+lock)
		}
		checkSpent(t, n, wire.OutPoint{Hash: ub.Txid, Index: 0})
		checkPays(t, n, w.Txid, 0, s.WalletPkScript(), st.Value-s.Params.UnbondingFee()-w.Description.Fee)
	})

	t.Run("double sign, extract, slash the stake, withdraw the change, recover the key from chain", func(t *testing.T) {
		s := newScenario(t, 3, ScenarioConfig{FinalityProviders: 3, CovenantMembers: 5, CovenantQuorum: 3})
		// Prefer a provider whose key has odd y: the key leaks in two
		// forms (its secret, and the BIP-340 negation), both checked below.
		culprit := pickFP(s, 3)
		t.Logf("culprit: finality provider %d (odd y: %v)", culprit, s.FinalityProviders[culprit].PubKey().SerializeCompressed()[0] == 3)
		var steps []string
		run, err := s.RunSlashing(culprit, 2_000_000, func(step string, _ *SlashingRun) { steps = append(steps, step) })
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{StepStake, StepDoubleSign, StepSlash, StepWithdrawChange, StepRecover}; !equalStrings(steps, want) {
			t.Fatalf("steps %v, want %v", steps, want)
		}
		st, ds, sl := run.Stake, run.DoubleSign, run.Slashing
		checkStakeOnChain(t, s, st)
		checkDoubleSign(t, s, ds, culprit)

		// The slashing tx pays the slashing script the slashed share and the
		// rest less the fee to the staker's change output, as mined.
		slashed := s.Params.SlashingAmount(st.Value)
		if slashed != st.Value/10 {
			t.Fatalf("slashing amount %d of %d at rate 0.1", slashed, st.Value)
		}
		checkPays(t, n, sl.Txid, 0, s.Params.SlashingPkScript(), slashed)
		change, _ := st.Delegation.SlashingChangeOutput()
		checkPays(t, n, sl.Txid, 1, change.PkScript, st.Value-slashed-s.Params.MinSlashingFee())
		if run.Slashed != slashed || run.Change != st.Value-slashed-s.Params.MinSlashingFee() {
			t.Fatalf("run reports slashed %d change %d", run.Slashed, run.Change)
		}
		checkSpent(t, n, wire.OutPoint{Hash: st.Txid, Index: st.OutputIndex})
		if got := countCovenantSigs(t, sl.Tx); got != 3 {
			t.Fatalf("slashing witness has %d covenant signatures, want 3", got)
		}

		// The change is the staker's after the unbonding time, not before.
		w := run.ChangeWithdraw
		lock := int32(s.Params.UnbondingTime())
		expectVerdict(t, w.Premature, ErrSequenceLock, sl.Height+lock-2)
		expectAccepted(t, w.Mature, sl.Height+lock-1)
		if w.From != script.SlashingChangeOutputKind || w.Height != sl.Height+lock {
			t.Fatalf("change withdraw from %v at %d, want the slashing change output at %d", w.From, w.Height, sl.Height+lock)
		}
		checkPays(t, n, w.Txid, 0, s.WalletPkScript(), run.Change-w.Description.Fee)

		// A second party recovers the culprit's key from the witness alone.
		if run.Recovery.FinalityProvider != culprit || !sameXOnly(run.Recovery.Key.PubKey(), s.FinalityProviders[culprit].PubKey()) {
			t.Fatalf("recovered provider %d's key, want %d", run.Recovery.FinalityProvider, culprit)
		}
		// Extract was given the full key, so it returns the provider's
		// secret itself; the witness yields its BIP-340 (even-y) form.
		fpKey := s.FinalityProviders[culprit]
		if !bytes.Equal(ds.Extracted.Serialize(), fpKey.Serialize()) {
			t.Fatal("the key extracted from the votes is not the provider's secret key")
		}
		if !bytes.Equal(run.Recovery.Key.Serialize(), evenY(fpKey).Serialize()) {
			t.Fatalf("the key recovered from chain is not the provider's BIP-340 secret key (odd y: %v)", fpKey.PubKey().SerializeCompressed()[0] == 3)
		}
		// Nor can the staker still withdraw the staking output.
		late, _, err := s.buildWithdraw(st.Delegation, script.StakingOutputKind, st.Funding())
		if err != nil {
			t.Fatal(err)
		}
		if err := n.TestMempoolAccept(late); !errors.Is(err, ErrMissingInputs) {
			t.Fatalf("withdrawing a slashed stake: %v, want ErrMissingInputs", err)
		}
	})

	t.Run("stake, unbond, then slash from the unbonding output", func(t *testing.T) {
		s := newScenario(t, 4, ScenarioConfig{FinalityProviders: 2, CovenantMembers: 5, CovenantQuorum: 3, UnbondingTime: 6})
		st, err := s.Stake(StakeOptions{Value: 800_000})
		if err != nil {
			t.Fatal(err)
		}
		ub, err := s.Unbond(st, nil)
		if err != nil {
			t.Fatal(err)
		}
		expectVerdict(t, ub.ShortQuorum, ErrScriptFailure, st.Height)
		// Before the leak: the slashing tx cannot be completed, and a
		// stranger's key does not help.
		if _, err := psbt.Finalize(clonePacket(t, ub.Slashing)); !errors.Is(err, psbt.ErrNotFinalizable) {
			t.Fatalf("finalized the slashing tx without a provider: %v", err)
		}
		stranger, _ := btcec.NewPrivateKey()
		if _, err := psbt.CompleteSlashing(ub.Slashing, stranger); !errors.Is(err, psbt.ErrNotSignable) {
			t.Fatalf("a stranger completed the slashing tx: %v", err)
		}
		culprit := pickFP(s, 2) // an even-y key if there is one
		t.Logf("culprit: finality provider %d (odd y: %v)", culprit, s.FinalityProviders[culprit].PubKey().SerializeCompressed()[0] == 3)
		ds, err := s.DoubleSign(culprit, uint64(ub.Height))
		if err != nil {
			t.Fatal(err)
		}
		checkDoubleSign(t, s, ds, culprit)
		sl, err := s.Slash(st, ub, ds.Extracted)
		if err != nil {
			t.Fatal(err)
		}
		if sl.From != script.UnbondingOutputKind || sl.Funding.Tx.TxHash() != ub.Txid {
			t.Fatalf("slashing spends %v of %s", sl.From, sl.Funding.Tx.TxHash())
		}
		value := st.Value - s.Params.UnbondingFee()
		slashed := s.Params.SlashingAmount(value)
		checkPays(t, n, sl.Txid, 0, s.Params.SlashingPkScript(), slashed)
		change, _ := st.Delegation.SlashingChangeOutput()
		checkPays(t, n, sl.Txid, 1, change.PkScript, value-slashed-s.Params.MinSlashingFee())
		checkSpent(t, n, wire.OutPoint{Hash: ub.Txid, Index: 0})

		rec, err := s.RecoverKeyFromChain(sl.Txid, ub.Slashing)
		if err != nil {
			t.Fatal(err)
		}
		if rec.FinalityProvider != culprit || !bytes.Equal(rec.Key.Serialize(), evenY(s.FinalityProviders[culprit]).Serialize()) {
			t.Fatalf("recovered provider %d's key, want %d's", rec.FinalityProvider, culprit)
		}
		// The unbonding output's time lock path is gone with it.
		late, _, err := s.buildWithdraw(st.Delegation, script.UnbondingOutputKind, psbt.Funding{Tx: ub.Tx, Index: 0})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.TestMempoolAccept(late); !errors.Is(err, ErrMissingInputs) {
			t.Fatalf("withdrawing a slashed unbonding output: %v, want ErrMissingInputs", err)
		}
		w, err := s.Withdraw(st, sl)
		if err != nil {
			t.Fatal(err)
		}
		expectVerdict(t, w.Premature, ErrSequenceLock, sl.Height+int32(s.Params.UnbondingTime())-2)
		expectAccepted(t, w.Mature, sl.Height+int32(s.Params.UnbondingTime())-1)
		if w.Height != sl.Height+int32(s.Params.UnbondingTime()) {
			t.Fatalf("change withdraw at %d, want %d", w.Height, sl.Height+int32(s.Params.UnbondingTime()))
		}
	})

	t.Run("phase-1 staking tx found by scanning blocks", func(t *testing.T) {
		s := newScenario(t, 5, ScenarioConfig{FinalityProviders: 2})
		other := newScenario(t, 6, ScenarioConfig{}) // another covenant committee
		tip, err := n.Height()
		if err != nil {
			t.Fatal(err)
		}
		p1, err := s.Stake(StakeOptions{PhaseOne: true, FinalityProviders: []int{1}, Value: 300_000})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := s.Stake(StakeOptions{}) // no OP_RETURN
		if err != nil {
			t.Fatal(err)
		}
		foreign, err := other.Stake(StakeOptions{PhaseOne: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Unbond(plain, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := n.FundOutputs(wire.NewTxOut(50_000, s.WalletPkScript()), wire.NewTxOut(0, []byte{0x6a, 0x04, 'b', 'b', 't', '4'})); err != nil {
			t.Fatal(err)
		}
		if _, err := n.Mine(1); err != nil {
			t.Fatal(err)
		}
		end, _ := n.Height()

		found, err := s.ScanPhaseOne(tip+1, end)
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 {
			t.Fatalf("found %d phase-1 staking txs in blocks %d..%d, want 1: %+v", len(found), tip+1, end, found)
		}
		f := found[0]
		if f.Txid != p1.Txid || f.Height != p1.Height || f.Parsed.Value != p1.Value || f.Parsed.StakingOutputIndex != int(p1.OutputIndex) {
			t.Fatalf("found %s at %d (value %d, output %d), want %s at %d (value %d, output %d)",
				f.Txid, f.Height, f.Parsed.Value, f.Parsed.StakingOutputIndex, p1.Txid, p1.Height, p1.Value, p1.OutputIndex)
		}
		if f.Parsed.Data.Staker != script.XOnly(s.Staker.PubKey()) ||
			f.Parsed.Data.FinalityProvider != script.XOnly(s.FinalityProviders[1].PubKey()) ||
			f.Parsed.Data.StakingTime != s.StakingTime {
			t.Fatalf("parsed data %+v", f.Parsed.Data)
		}
		// Every other tx of those blocks (coinbases, fundings, the plain
		// stake, the unbonding, a look-alike OP_RETURN, and the other
		// committee's stake) was seen and not taken for one.
		seen := map[chainhash.Hash]bool{}
		if err := n.ScanBlocks(tip+1, end, func(_ int32, b *wire.MsgBlock) error {
			for _, tx := range b.Transactions {
				seen[tx.TxHash()] = true
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []chainhash.Hash{p1.Txid, plain.Txid, foreign.Txid, plain.FundingTxid} {
			if !seen[id] {
				t.Fatalf("tx %s not in blocks %d..%d", id, tip+1, end)
			}
		}
		if len(seen) < 10 {
			t.Fatalf("only %d txs scanned", len(seen))
		}
		// The other committee's scanner finds its own stake only.
		theirs, err := other.ScanPhaseOne(tip+1, end)
		if err != nil || len(theirs) != 1 || theirs[0].Txid != foreign.Txid {
			t.Fatalf("other committee found %+v: %v", theirs, err)
		}
	})

	t.Run("scenario arguments", func(t *testing.T) {
		if _, err := NewScenario(nil, ScenarioConfig{}); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("nil node: %v", err)
		}
		if _, err := NewScenario(n, ScenarioConfig{CovenantMembers: 4, CovenantQuorum: 2}); !errors.Is(err, ErrInvalidArgument) || !errors.Is(err, params.ErrInvalidCovenant) {
			t.Fatalf("quorum 2 of 4: %v", err)
		}
		s := newScenario(t, 7, ScenarioConfig{FinalityProviders: 2})
		if _, err := s.Stake(StakeOptions{FinalityProviders: []int{2}}); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("unknown provider: %v", err)
		}
		if _, err := s.Stake(StakeOptions{PhaseOne: true}); !errors.Is(err, ErrScenario) || !errors.Is(err, script.ErrTooManyFinalityProviders) {
			t.Fatalf("phase-1 with two providers: %v", err)
		}
		if _, err := s.DoubleSign(5, 1); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("unknown provider: %v", err)
		}
		if _, err := s.RunSlashing(-1, 0, nil); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("unknown culprit: %v", err)
		}
	})
}

// overQuorumUnbonding builds st's unbonding tx signed by the staker and
// every covenant member, finalised with exactly the quorum (exact), and a
// copy with one more covenant slot filled (over).
func overQuorumUnbonding(t *testing.T, s *Scenario, st *Stake) (exact, over *wire.MsgTx) {
	t.Helper()
	res, err := psbt.BuildUnbonding(st.Delegation, st.Funding())
	if err != nil {
		t.Fatal(err)
	}
	if err := psbt.SignTapscript(res.Packet, 0, s.Staker); err != nil {
		t.Fatal(err)
	}
	for _, k := range s.Covenant {
		if err := covenantSign(res.Packet, k, st.Delegation); err != nil {
			t.Fatal(err)
		}
	}
	sigs := map[script.XOnlyKey][]byte{}
	for _, sig := range res.Packet.Inputs[0].TaprootScriptSpendSig {
		sigs[script.XOnlyKey(sig.XOnlyPubKey)] = sig.Signature
	}
	exact, err = psbt.Finalize(res.Packet) // the quorum of smallest keys
	if err != nil {
		t.Fatal(err)
	}
	over = exact.Copy()
	w := over.TxIn[0].Witness
	leaf, err := script.ParseLeafScript(w[len(w)-2])
	if err != nil {
		t.Fatal(err)
	}
	nc := len(leaf.Covenant)
	for i := range nc { // slot i holds key nc-1-i (descending)
		if len(w[i]) == 0 {
			w[i] = sigs[leaf.Covenant[nc-1-i]]
			return exact, over
		}
	}
	t.Fatal("no empty covenant slot")
	return nil, nil
}

// expectAccepted asserts the node accepted a while the tip was at height.
func expectAccepted(t *testing.T, a *Attempt, height int32) {
	t.Helper()
	if a == nil || a.Err != nil || a.Height != height {
		t.Fatalf("want an accepted attempt at tip %d, got %+v", height, a)
	}
}

// expectVerdict asserts the node refused a with kind while the tip was at
// height.
func expectVerdict(t *testing.T, a *Attempt, kind error, height int32) {
	t.Helper()
	if a == nil {
		t.Fatalf("no attempt recorded (want %v at %d)", kind, height)
	}
	if !errors.Is(a.Err, kind) || !errors.Is(a.Err, ErrRejected) {
		t.Fatalf("%s at height %d: node said %v, want %v", a.What, a.Height, a.Err, kind)
	}
	var rej *RejectError
	if !errors.As(a.Err, &rej) || rej.Reason == "" {
		t.Fatalf("%s: %v is not a RejectError with the node's reason", a.What, a.Err)
	}
	if a.Height != height {
		t.Fatalf("%s asked at height %d, want %d", a.What, a.Height, height)
	}
	t.Logf("%s: refused at tip %d: %s", a.What, a.Height, rej.Reason)
}

// checkStakeOnChain: the staking output is unspent on chain with the
// staking script and value, and the tx is a valid staking tx.
func checkStakeOnChain(t *testing.T, s *Scenario, st *Stake) {
	t.Helper()
	out, _ := st.Delegation.StakingOutput()
	if confs, err := s.Node.Confirmations(st.Txid); err != nil || confs < 1 {
		t.Fatalf("staking tx %s: %d confirmations, %v", st.Txid, confs, err)
	}
	if got := st.Tx.TxOut[st.OutputIndex]; !bytes.Equal(got.PkScript, out.PkScript) || got.Value != st.Value {
		t.Fatalf("staking output %x %d", got.PkScript, got.Value)
	}
	if _, err := psbt.ValidateStakingTx(st.Tx, st.Delegation); err != nil {
		t.Fatal(err)
	}
	raw, err := s.Node.GetRawTransaction(st.Txid)
	if err != nil || raw.TxHash() != st.Txid {
		t.Fatalf("node's copy of the staking tx: %v", err)
	}
}

// checkPays: output idx of the confirmed tx txid pays pkScript value sat,
// as the node reports (unspent) or as the node's copy of the tx says
// (spent since).
func checkPays(t *testing.T, n *Node, txid chainhash.Hash, idx uint32, pkScript []byte, value int64) {
	t.Helper()
	tx, err := n.GetRawTransaction(txid)
	if err != nil {
		t.Fatal(err)
	}
	if confs, err := n.Confirmations(txid); err != nil || confs < 1 {
		t.Fatalf("%s: %d confirmations, %v", txid, confs, err)
	}
	if int(idx) >= len(tx.TxOut) {
		t.Fatalf("%s has %d outputs", txid, len(tx.TxOut))
	}
	o := tx.TxOut[idx]
	if !bytes.Equal(o.PkScript, pkScript) || o.Value != value {
		t.Fatalf("%s:%d pays %d to %x, want %d to %x", txid, idx, o.Value, o.PkScript, value, pkScript)
	}
	if u, err := n.GetTxOut(wire.OutPoint{Hash: txid, Index: idx}); err == nil {
		if u.Value != value || !bytes.Equal(u.PkScript, pkScript) {
			t.Fatalf("node's utxo %s:%d: %d to %x", txid, idx, u.Value, u.PkScript)
		}
	} else if !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
}

// checkSpent: the node no longer has op as unspent.
func checkSpent(t *testing.T, n *Node, op wire.OutPoint) {
	t.Helper()
	if _, err := n.GetTxOut(op); !errors.Is(err, ErrNotFound) {
		t.Fatalf("%v still unspent: %v", op, err)
	}
}

// countCovenantSigs counts the non-empty covenant slots of input 0.
func countCovenantSigs(t *testing.T, tx *wire.MsgTx) int {
	t.Helper()
	w := tx.TxIn[0].Witness
	leaf, err := script.ParseLeafScript(w[len(w)-2])
	if err != nil {
		t.Fatal(err)
	}
	c := 0
	for i := range leaf.Covenant {
		if len(w[i]) == 64 {
			c++
		} else if len(w[i]) != 0 {
			t.Fatalf("covenant slot %d has %d bytes", i, len(w[i]))
		}
	}
	return c
}

// checkDoubleSign re-checks a double sign from public data only.
func checkDoubleSign(t *testing.T, s *Scenario, ds *DoubleSign, fp int) {
	t.Helper()
	pk := s.FinalityProviders[fp].PubKey()
	if ds.FinalityProvider != fp || !ds.PublicKey.IsEqual(pk) {
		t.Fatalf("double sign by provider %d", ds.FinalityProvider)
	}
	if bytes.Equal(ds.Votes[0].Message, ds.Votes[1].Message) || ds.Votes[0].AppHash == ds.Votes[1].AppHash {
		t.Fatal("the two votes do not conflict")
	}
	for _, v := range ds.Votes {
		if !bytes.Equal(v.Message, eots.VoteMessage(ds.Height, v.AppHash)) {
			t.Fatal("vote message is not VoteMessage(height, app hash)")
		}
		if err := eots.Verify(pk, ds.PublicRand, v.Message, v.Signature); err != nil {
			t.Fatal(err)
		}
	}
	if err := eots.VerifyInclusion(ds.CommitRoot, ds.CommitCount, ds.Height-ds.CommitStart, ds.PublicRand[:], &ds.Proof); err != nil {
		t.Fatalf("randomness not committed: %v", err)
	}
	if err := eots.VerifyCommit(pk, ds.CommitStart, ds.CommitCount, ds.CommitRoot, ds.CommitSig[:]); err != nil {
		t.Fatal(err)
	}
	k, err := eots.Extract(pk, ds.PublicRand, ds.Votes[0].Message, ds.Votes[0].Signature, ds.Votes[1].Message, ds.Votes[1].Signature)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k.PrivKey().Serialize(), ds.Extracted.Serialize()) || !sameXOnly(k.PubKey(), pk) {
		t.Fatal("extracted key does not match the provider's")
	}
	// The same randomness for the same message leaks nothing.
	if _, err := eots.Extract(pk, ds.PublicRand, ds.Votes[0].Message, ds.Votes[0].Signature, ds.Votes[0].Message, ds.Votes[0].Signature); !errors.Is(err, eots.ErrNotExtractable) {
		t.Fatalf("extract from one vote twice: %v", err)
	}
}

func clonePacket(t *testing.T, p *btcpsbt.Packet) *btcpsbt.Packet {
	t.Helper()
	s, err := p.B64Encode()
	if err != nil {
		t.Fatal(err)
	}
	c, err := psbt.Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pickFP returns the first finality provider whose key's parity byte is
// prefix (2 even, 3 odd), or the last one if none is.
func pickFP(s *Scenario, prefix byte) int {
	for i, k := range s.FinalityProviders {
		if k.PubKey().SerializeCompressed()[0] == prefix {
			return i
		}
	}
	return len(s.FinalityProviders) - 1
}

// evenY is the BIP-340 form of k: k, or its negation when k·G has odd y.
func evenY(k *btcec.PrivateKey) *btcec.PrivateKey {
	if k.PubKey().SerializeCompressed()[0] == 2 {
		return k
	}
	var s btcec.ModNScalar
	s.Set(&k.Key)
	s.Negate()
	return &btcec.PrivateKey{Key: s}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

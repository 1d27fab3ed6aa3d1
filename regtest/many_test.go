package regtest

import (
	"errors"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// TestStakeManyOnNode: six stakes over three finality providers, mined
// four to a block; every one confirmed where StakeMany says, its
// unbonding accepted by the node as is, its staking-output slashing
// accepted once completed with its provider's key (and refused with
// another provider's); one unbonding broadcast, after which its
// unbonding-output slashing is accepted and the staking-output one spends
// a spent output.
func TestStakeManyOnNode(t *testing.T) {
	n := NewTestNode(t, Options{})
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	s, err := NewScenario(n, ScenarioConfig{Seed: seed, FinalityProviders: 3, CovenantMembers: 5, CovenantQuorum: 3})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("bad options change nothing", func(t *testing.T) {
		before, err := n.Height()
		if err != nil {
			t.Fatal(err)
		}
		for name, f := range map[string]func() error{
			"zero stakes":      func() error { _, err := s.StakeMany(0, ManyOptions{}); return err },
			"too many":         func() error { _, err := s.StakeMany(MaxStakeMany+1, ManyOptions{}); return err },
			"unknown provider": func() error { _, err := s.StakeMany(2, ManyOptions{FinalityProviders: []int{0, 3}}); return err },
			"no provider":      func() error { _, err := s.StakeMany(2, ManyOptions{FinalityProviders: []int{}}); return err },
			"value below min":  func() error { _, err := s.StakeMany(2, ManyOptions{Value: 9_999}); return err },
			"negative perblock": func() error {
				_, err := s.StakeMany(2, ManyOptions{PerBlock: -1})
				return err
			},
		} {
			if err := f(); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
			}
		}
		if after, err := n.Height(); err != nil || after != before {
			t.Fatalf("height %d after refused calls, was %d (%v)", after, before, err)
		}
	})

	var stakes []*PresignedStake
	t.Run("six stakes over three providers, distinct stakers", func(t *testing.T) {
		before, err := n.Height()
		if err != nil {
			t.Fatal(err)
		}
		stakes, err = s.StakeMany(6, ManyOptions{Value: 200_000, DistinctStakers: true, PerBlock: 4})
		if err != nil {
			t.Fatal(err)
		}
		if len(stakes) != 6 {
			t.Fatalf("%d stakes, want 6", len(stakes))
		}
		// The fan-out block, then the staking txs four to a block.
		wantHeights := []int32{before + 2, before + 2, before + 2, before + 2, before + 3, before + 3}
		stakers := map[[33]byte]bool{}
		for i, st := range stakes {
			checkStakeOnChain(t, s, &st.Stake)
			if st.Height != wantHeights[i] {
				t.Errorf("stake %d at height %d, want %d", i, st.Height, wantHeights[i])
			}
			b, err := n.BlockAt(st.Height)
			if err != nil {
				t.Fatal(err)
			}
			if !blockHas(b, st.Txid) {
				t.Errorf("stake %d: block %d does not hold %s", i, st.Height, st.Txid)
			}
			if st.FinalityProvider != i%3 || len(st.Delegation.FinalityProviders) != 1 ||
				!st.Delegation.FinalityProviders[0].IsEqual(s.FinalityProviders[i%3].PubKey()) {
				t.Errorf("stake %d delegates to provider %d, want %d alone", i, st.FinalityProvider, i%3)
			}
			if !st.Delegation.Staker.IsEqual(st.StakerKey.PubKey()) || st.StakerKey.PubKey().IsEqual(s.Staker.PubKey()) {
				t.Errorf("stake %d: staker key is not its own", i)
			}
			var k [33]byte
			copy(k[:], st.StakerKey.PubKey().SerializeCompressed())
			stakers[k] = true
			if st.Value != 200_000 {
				t.Errorf("stake %d of %d sat", i, st.Value)
			}
			if err := psbt.ValidateUnbondingTx(st.UnbondingTx, st.Tx, st.Delegation); err != nil {
				t.Errorf("stake %d: %v", i, err)
			}
			if err := n.TestMempoolAccept(st.UnbondingTx); err != nil {
				t.Errorf("stake %d: its pre-signed unbonding: %v", i, err)
			}
			slash, err := psbt.CompleteSlashing(st.Slashing, s.FinalityProviders[st.FinalityProvider])
			if err != nil {
				t.Fatalf("stake %d: %v", i, err)
			}
			if err := psbt.ValidateSlashingTx(slash, st.Tx, st.OutputIndex, script.StakingOutputKind, st.Delegation); err != nil {
				t.Errorf("stake %d: %v", i, err)
			}
			if err := n.TestMempoolAccept(slash); err != nil {
				t.Errorf("stake %d: its completed staking-output slashing: %v", i, err)
			}
			// Another provider's key does not complete it.
			other := s.FinalityProviders[(st.FinalityProvider+1)%3]
			if _, err := psbt.CompleteSlashing(st.Slashing, other); err == nil {
				t.Errorf("stake %d: slashing completed with another provider's key", i)
			}
		}
		if len(stakers) != 6 {
			t.Fatalf("%d distinct staker keys among 6 stakes", len(stakers))
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	t.Run("one unbonds; its unbonding output can be slashed, its staking output no more", func(t *testing.T) {
		st := stakes[4]
		ub, err := s.UnbondPresigned(st)
		if err != nil {
			t.Fatal(err)
		}
		if ub.Txid != st.UnbondingTx.TxHash() || ub.Slashing != st.UnbondingSlashing {
			t.Fatalf("unbonding spend %s, want the pre-signed %s", ub.Txid, st.UnbondingTx.TxHash())
		}
		checkSpent(t, n, wire.OutPoint{Hash: st.Txid, Index: st.OutputIndex})
		fp := s.FinalityProviders[st.FinalityProvider]
		slash, err := psbt.CompleteSlashing(st.UnbondingSlashing, fp)
		if err != nil {
			t.Fatal(err)
		}
		if err := psbt.ValidateSlashingTx(slash, st.UnbondingTx, 0, script.UnbondingOutputKind, st.Delegation); err != nil {
			t.Fatal(err)
		}
		if err := n.TestMempoolAccept(slash); err != nil {
			t.Fatalf("completed unbonding-output slashing: %v", err)
		}
		stale, err := psbt.CompleteSlashing(st.Slashing, fp)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.TestMempoolAccept(stale); !errors.Is(err, ErrMissingInputs) {
			t.Fatalf("slashing the unbonded staking output: %v, want ErrMissingInputs", err)
		}
		// Scenario.Slash takes the spend as Unbond's.
		sl, err := s.Slash(&st.Stake, ub, fp)
		if err != nil {
			t.Fatal(err)
		}
		checkSpent(t, n, wire.OutPoint{Hash: ub.Txid, Index: 0})
		checkPays(t, n, sl.Txid, 0, s.Params.SlashingPkScript(), s.Params.SlashingAmount(st.Value-s.Params.UnbondingFee()))
	})

	t.Run("shared staker: Scenario.Withdraw takes the unbonded stake back", func(t *testing.T) {
		shared, err := s.StakeMany(2, ManyOptions{FinalityProviders: []int{2}})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range shared {
			if st.StakerKey != s.Staker || st.FinalityProvider != 2 || st.Value != 1_000_000 {
				t.Fatalf("shared stake: staker %v, provider %d, value %d", st.StakerKey == s.Staker, st.FinalityProvider, st.Value)
			}
		}
		ub, err := s.UnbondPresigned(shared[1])
		if err != nil {
			t.Fatal(err)
		}
		w, err := s.Withdraw(&shared[1].Stake, ub)
		if err != nil {
			t.Fatal(err)
		}
		expectAccepted(t, w.Mature, ub.Height+int32(s.Params.UnbondingTime())-1)
		checkPays(t, n, w.Txid, 0, s.WalletPkScript(), shared[1].Value-s.Params.UnbondingFee()-w.Description.Fee)
	})
}

package regtest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/btcstake/btcstake/regtest"
)

// The slashing story on a fresh node: stake to two finality providers
// under a 3-of-5 covenant; provider 1 double-signs; its extracted key
// completes the pre-signed slashing tx; the staker takes the change back
// after the unbonding time; a second party recovers the key from chain.
func ExampleScenario() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n, err := regtest.Start(ctx, regtest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer n.Stop()
	if err := slashingStory(n); err != nil {
		fmt.Println(err)
	}
	// Output:
	// staked 1000000 sat
	// provider 1's key extracted from two votes at one height
	// slashed 100000 sat, change 899000 sat
	// change withdraw one block early: sequence locks not met
	// change withdrawn at the unbonding time
	// recovered provider 1's key from the slashing witness
}

func slashingStory(n *regtest.Node) error {
	s, err := regtest.NewScenario(n, regtest.ScenarioConfig{Seed: 1, FinalityProviders: 2, CovenantMembers: 5, CovenantQuorum: 3})
	if err != nil {
		return err
	}
	st, err := s.Stake(regtest.StakeOptions{Value: 1_000_000})
	if err != nil {
		return err
	}
	fmt.Println("staked", st.Value, "sat")
	ds, err := s.DoubleSign(1, uint64(st.Height))
	if err != nil {
		return err
	}
	fmt.Printf("provider %d's key extracted from two votes at one height\n", ds.FinalityProvider)
	sl, err := s.Slash(st, nil, ds.Extracted)
	if err != nil {
		return err
	}
	fmt.Println("slashed", sl.Tx.TxOut[0].Value, "sat, change", sl.Tx.TxOut[1].Value, "sat")
	w, err := s.Withdraw(st, sl)
	if err != nil {
		return err
	}
	if errors.Is(w.Premature.Err, regtest.ErrSequenceLock) {
		fmt.Println("change withdraw one block early:", regtest.ErrSequenceLock)
	}
	if w.Height == sl.Height+int32(s.Params.UnbondingTime()) {
		fmt.Println("change withdrawn at the unbonding time")
	}
	rec, err := s.RecoverKeyFromChain(sl.Txid, st.Slashing)
	if err != nil {
		return err
	}
	fmt.Printf("recovered provider %d's key from the slashing witness\n", rec.FinalityProvider)
	return nil
}

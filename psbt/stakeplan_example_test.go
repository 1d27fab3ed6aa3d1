package psbt_test

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
)

// Plan a mainnet stake under the bbn-1 preset at a Bitcoin tip: the
// version in force is selected, the stake is checked against it, and the
// plan says what to tell the staker before any coin is locked.
func ExamplePlanStake() {
	versions, _ := params.Preset("bbn-1")
	staker, fp := exampleKey("btcstake example staker"), exampleKey("btcstake example fp")
	req := psbt.StakePlanRequest{
		Net:      &chaincfg.MainNetParams,
		Versions: versions, Height: 900_000, HeightKnown: true,
		Staker: staker.PubKey(), FinalityProviders: []*btcec.PublicKey{fp.PubKey()},
		StakingTime: 64_000, Value: 1_000_000,
	}
	plan, err := psbt.PlanStake(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	p := plan.Delegation.Params
	fmt.Printf("confirm first: %v\n", plan.Confirm)
	fmt.Printf("version %d from height %d: %d of %d covenant keys\n",
		plan.Version.Number(), plan.Version.ActivationHeight(), p.CovenantQuorum(), len(p.CovenantKeys()))
	fmt.Printf("locked %d blocks, about %.0f days\n", plan.Delegation.StakingTime, plan.LockDuration().Hours()/24)

	// Below the version's minimum stake: refused before anything is built.
	req.Value = 100_000
	_, err = psbt.PlanStake(req)
	fmt.Println(errors.Is(err, params.ErrInvalidStakingValue))
	// Output:
	// confirm first: true
	// version 4 from height 893362: 6 of 9 covenant keys
	// locked 64000 blocks, about 444 days
	// true
}

package monitor_test

import (
	"context"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/monitor"
	"github.com/btcstake/btcstake/script"
)

// quietNode is a node whose tip is at height 105 and on which nothing has
// spent the stake yet (a *chain.Client is the real thing).
type quietNode struct{}

func (quietNode) Height(context.Context) (int64, error) { return 105, nil }
func (quietNode) FindSpend(context.Context, wire.OutPoint, chain.SpendSearch) (*chain.Spend, error) {
	return nil, nil
}

// A stake confirmed at height 100 with a staking time of 10 blocks: the
// staker's time lock opens for a spend in block 110, four blocks after the
// next one.
func ExampleFollow() {
	key := func(b byte) *btcec.PublicKey {
		k, _ := btcec.PrivKeyFromBytes([]byte{31: b})
		return k.PubKey()
	}
	p := script.Parties{Staker: key(1), FinalityProviders: []*btcec.PublicKey{key(2)},
		Covenant: []*btcec.PublicKey{key(3), key(4), key(5)}, CovenantQuorum: 2}
	staking, _ := script.NewStakingOutput(p, 10)
	unbonding, _ := script.NewUnbondingOutput(p, 4)
	change, _ := script.NewSlashingChangeOutput(p.Staker, 4)

	st, err := monitor.Follow(context.Background(), quietNode{}, monitor.Stake{
		OutPoint: wire.OutPoint{Index: 0}, Height: 100,
		Staking: staking, Unbonding: unbonding, SlashingChange: change,
	}, monitor.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.State, st.Events[0].Name(), st.Events[0].Confirmations)
	for _, path := range st.Paths {
		fmt.Println(path.Kind, path.SpendableNow, path.OpensInBlocks, path.Needs)
	}
	// Output:
	// staked staked 6
	// timelock false 4 the staker's signature
	// unbonding true 0 the staker and 2 of 3 covenant members
	// slashing true 0 a finality provider's key (leaked by double-signing), the staker and 2 of 3 covenant members (pre-signed)
}

package monitor

import (
	"fmt"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// NewStake is the Stake Follow takes for delegation d, whose staking
// transaction is tx, confirmed at height (-1 while it waits in the
// mempool):
//
//  1. tx must be d's staking transaction as psbt.ValidateStakingTx
//     requires (exactly one output paying d's staking output, a staked
//     value the params allow); its errors pass through.
//  2. The Stake's outpoint is that output of tx; its outputs are d's
//     staking, unbonding and slashing change outputs.
//
// A height below -1 is ErrInvalidArgument.
func NewStake(tx *wire.MsgTx, height int64, d psbt.Delegation) (Stake, error) {
	if height < -1 {
		return Stake{}, fmt.Errorf("%w: height %d (want -1 for the mempool, or a block height)", ErrInvalidArgument, height)
	}
	idx, err := psbt.ValidateStakingTx(tx, d)
	if err != nil {
		return Stake{}, err
	}
	s := Stake{OutPoint: wire.OutPoint{Hash: tx.TxHash(), Index: idx}, Height: height}
	for _, o := range []struct {
		dst  **script.Output
		kind script.OutputKind
	}{{&s.Staking, script.StakingOutputKind}, {&s.Unbonding, script.UnbondingOutputKind}, {&s.SlashingChange, script.SlashingChangeOutputKind}} {
		if *o.dst, err = d.Output(o.kind); err != nil {
			return Stake{}, err
		}
	}
	return s, nil
}

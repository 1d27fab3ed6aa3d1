package psbt

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/psbt/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// CheckCovenantSigning is what a covenant member must run before signing
// input idx of p (a plain signature on an unbonding leaf, or adaptor
// signatures on a slashing leaf). The input must spend an output of the
// delegation d (its staking output, or for slashing also its unbonding
// output) through that output's own leaf, with a staked value the params
// allow, and the whole transaction must be exactly the unbonding or
// slashing transaction the params permit (ValidateUnbondingTx and
// ValidateSlashingTx rules).
//
// Without this check a staker could collect covenant signatures for a
// transaction that skips the unbonding time lock and the slashing path, or
// for a "slashing" transaction paying the stake back to the staker, which
// would let it pre-empt the real slashing once its finality provider's key
// leaks. Babylon's covenant emulator performs the same checks.
func CheckCovenantSigning(p *psbt.Packet, idx int, d Delegation) error {
	if err := d.validate(); err != nil {
		return err
	}
	ls, leaf, err := tapLeaf(p, idx)
	if err != nil {
		return err
	}
	prev := p.Inputs[idx].WitnessUtxo
	if prev == nil {
		return fmt.Errorf("%w: input %d has no witness_utxo", ErrInvalidPSBT, idx)
	}
	op := p.UnsignedTx.TxIn[idx].PreviousOutPoint
	st, err := d.StakingOutput()
	if err != nil {
		return err
	}
	ub, err := d.UnbondingOutput()
	if err != nil {
		return err
	}
	// Step 1: the spent output and the revealed leaf belong to d.
	var src *script.Output
	switch {
	case bytes.Equal(prev.PkScript, st.PkScript):
		src = st
		if prev.Value < d.Params.MinStakingValue() || prev.Value > d.Params.MaxStakingValue() {
			return fmt.Errorf("%w: %w: staked %d sat outside %d..%d", ErrInvalidTx, params.ErrInvalidStakingValue,
				prev.Value, d.Params.MinStakingValue(), d.Params.MaxStakingValue())
		}
	case bytes.Equal(prev.PkScript, ub.PkScript) && leaf.Kind == script.SlashingPath:
		src = ub
	default:
		return fmt.Errorf("%w: input %d does not spend this delegation's staking output", ErrWrongInput, idx)
	}
	path, err := src.Path(leaf.Kind)
	if err != nil || !bytes.Equal(path.Script, ls.Script) || !bytes.Equal(path.ControlBlock, ls.ControlBlock) {
		return fmt.Errorf("%w: input %d reveals a leaf that is not the %s output's %s leaf", ErrWrongInput, idx, src.Kind, leaf.Kind)
	}
	// Step 2: the transaction is exactly what the params allow.
	switch leaf.Kind {
	case script.UnbondingPath:
		if len(p.UnsignedTx.TxIn) != 1 {
			return invalid(ErrTxInputs, "an unbonding tx has exactly one input")
		}
		return checkUnbonding(p.UnsignedTx, op, prev.Value, ub, d)
	case script.SlashingPath:
		return checkSlashing(p.UnsignedTx, prev, op, d)
	}
	return fmt.Errorf("%w: covenant members sign only unbonding and slashing leaves, not %s", ErrNotSignable, leaf.Kind)
}

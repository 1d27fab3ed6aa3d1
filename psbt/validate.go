package psbt

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/script"
)

func invalid(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrInvalidTx, kind, fmt.Sprintf(format, args...))
}

// nilParts refuses a transaction with a nil input or output, which hashing
// or reading it would dereference (only a hand-built one can have them).
func nilParts(what string, tx *wire.MsgTx) error {
	for i, in := range tx.TxIn {
		if in == nil {
			return invalid(ErrTxInputs, "%s input %d is nil", what, i)
		}
	}
	for i, o := range tx.TxOut {
		if o == nil {
			return invalid(ErrTxOutputs, "%s output %d is nil", what, i)
		}
	}
	return nil
}

// maxStandardWeight is the largest standard transaction weight.
const maxStandardWeight = 400_000

// ValidateStakingTx checks a staking transaction as a verifier would
// (docs/spec.md §4): version 2, exactly one output paying the
// delegation's staking script, its value within the params and large
// enough to be unbonded and slashed without dust. It returns the staking
// output's index.
func ValidateStakingTx(tx *wire.MsgTx, d Delegation) (uint32, error) {
	if err := d.validate(); err != nil {
		return 0, err
	}
	st, err := d.StakingOutput()
	if err != nil {
		return 0, err
	}
	if tx == nil {
		return 0, invalid(ErrTxOutputs, "no transaction")
	}
	if err := nilParts("staking tx", tx); err != nil {
		return 0, err
	}
	if tx.Version != 2 {
		return 0, invalid(ErrTxVersion, "staking tx version %d, want 2", tx.Version)
	}
	idx := -1
	for i, o := range tx.TxOut {
		if bytes.Equal(o.PkScript, st.PkScript) {
			if idx >= 0 {
				return 0, invalid(ErrTxOutputs, "outputs %d and %d both pay the staking script", idx, i)
			}
			idx = i
		}
	}
	if idx < 0 {
		return 0, invalid(ErrTxOutputs, "no output pays the staking script")
	}
	v := tx.TxOut[idx].Value
	p := d.Params
	if v < p.MinStakingValue || v > p.MaxStakingValue {
		return 0, fmt.Errorf("%w: %w: %d sat outside %d..%d", ErrInvalidTx, ErrInvalidStakingValue, v, p.MinStakingValue, p.MaxStakingValue)
	}
	if err := p.checkSlashable(v); err != nil {
		return 0, fmt.Errorf("%w: %w: %v", ErrInvalidTx, ErrDustOutput, err)
	}
	return uint32(idx), nil
}

// ValidateUnbondingTx checks an unbonding transaction against its staking
// transaction (docs/spec.md §4): version 2; exactly one input, the
// staking output, with nSequence ffffffff and an empty scriptSig; exactly
// one output, the unbonding output, worth the staking value less exactly
// the unbonding fee; locktime 0; weight at most 400,000.
func ValidateUnbondingTx(unbonding, staking *wire.MsgTx, d Delegation) error {
	stIdx, err := ValidateStakingTx(staking, d)
	if err != nil {
		return err
	}
	ub, err := d.UnbondingOutput()
	if err != nil {
		return err
	}
	want := wire.OutPoint{Hash: staking.TxHash(), Index: stIdx}
	return checkUnbonding(unbonding, want, staking.TxOut[stIdx].Value, ub, d)
}

// checkUnbonding applies the unbonding-tx rules given the staking outpoint
// and value.
func checkUnbonding(tx *wire.MsgTx, want wire.OutPoint, stValue int64, ub *script.Output, d Delegation) error {
	if tx == nil {
		return invalid(ErrTxInputs, "no transaction")
	}
	if err := nilParts("unbonding tx", tx); err != nil {
		return err
	}
	if tx.Version != 2 {
		return invalid(ErrTxVersion, "unbonding tx version %d, want 2", tx.Version)
	}
	if len(tx.TxIn) != 1 || tx.TxIn[0].PreviousOutPoint != want {
		return invalid(ErrTxInputs, "must have exactly one input spending %v", want)
	}
	if len(tx.TxIn[0].SignatureScript) != 0 {
		return invalid(ErrTxInputs, "input has a non-empty scriptSig")
	}
	if tx.TxIn[0].Sequence != wire.MaxTxInSequenceNum {
		return invalid(ErrTxSequence, "input sequence %x, want ffffffff", tx.TxIn[0].Sequence)
	}
	if tx.LockTime != 0 {
		return invalid(ErrTxLockTime, "lock time %d, want 0", tx.LockTime)
	}
	if len(tx.TxOut) != 1 || !bytes.Equal(tx.TxOut[0].PkScript, ub.PkScript) {
		return invalid(ErrTxOutputs, "must have exactly one output paying the unbonding script")
	}
	if fee := stValue - tx.TxOut[0].Value; fee != d.Params.UnbondingFee {
		return invalid(ErrTxFee, "fee %d sat, the params require exactly %d", fee, d.Params.UnbondingFee)
	}
	if w := txWeightOf(tx); w > maxStandardWeight {
		return invalid(ErrTxWeight, "weight %d exceeds %d", w, maxStandardWeight)
	}
	return nil
}

// ValidateSlashingTx checks a slashing transaction against the output it
// spends (the staking output, or the unbonding output of an unbonding
// transaction; from says which): version 1 or 2; exactly one input spending
// that output with nSequence ffffffff; locktime 0; exactly two outputs
// (each of at most 21M BTC), the slashing script with at least
// round(value * rate) and the slashing change output, neither dust; a fee of
// at least the minimum slashing fee.
func ValidateSlashingTx(slashing, funding *wire.MsgTx, fundingIdx uint32, from script.OutputKind, d Delegation) error {
	if err := d.validate(); err != nil {
		return err
	}
	src, err := d.Output(from)
	if err != nil {
		return err
	}
	if from == script.SlashingChangeOutputKind {
		return fmt.Errorf("%w: a slashing change output cannot be slashed", ErrInvalidOutput)
	}
	in, op, err := Funding{Tx: funding, Index: fundingIdx}.check(src)
	if err != nil {
		return err
	}
	return checkSlashing(slashing, in, op, d)
}

// checkSlashing applies the slashing-tx rules given the spent output and
// its outpoint.
func checkSlashing(tx *wire.MsgTx, in *wire.TxOut, op wire.OutPoint, d Delegation) error {
	change, err := d.SlashingChangeOutput()
	if err != nil {
		return err
	}
	p := d.Params
	if tx == nil {
		return invalid(ErrTxInputs, "no transaction")
	}
	if err := nilParts("slashing tx", tx); err != nil {
		return err
	}
	if tx.Version < 1 || tx.Version > 2 {
		return invalid(ErrTxVersion, "slashing tx version %d, want 1 or 2", tx.Version)
	}
	if len(tx.TxIn) != 1 || tx.TxIn[0].PreviousOutPoint != op {
		return invalid(ErrTxInputs, "must have exactly one input spending %v", op)
	}
	if tx.TxIn[0].Sequence != wire.MaxTxInSequenceNum {
		return invalid(ErrTxSequence, "input sequence %x, want ffffffff", tx.TxIn[0].Sequence)
	}
	if tx.LockTime != 0 {
		return invalid(ErrTxLockTime, "lock time %d, want 0", tx.LockTime)
	}
	if len(tx.TxOut) != 2 {
		return invalid(ErrTxOutputs, "%d outputs, want 2", len(tx.TxOut))
	}
	// Consensus bounds first: larger values overflow the fee and dust
	// arithmetic below into results that look valid.
	for i, o := range tx.TxOut {
		if o.Value < 0 || o.Value > maxMoney {
			return invalid(ErrTxValue, "output %d of %d sat is outside 0..%d", i, o.Value, int64(maxMoney))
		}
	}
	if !bytes.Equal(tx.TxOut[0].PkScript, p.SlashingPkScript) {
		return invalid(ErrTxOutputs, "output 0 does not pay the slashing script")
	}
	if !bytes.Equal(tx.TxOut[1].PkScript, change.PkScript) {
		return invalid(ErrTxOutputs, "output 1 does not pay the slashing change script")
	}
	if min := p.SlashingAmount(in.Value); tx.TxOut[0].Value < min {
		return invalid(ErrTxValue, "slashing output %d sat, at least %d required", tx.TxOut[0].Value, min)
	}
	for i, o := range tx.TxOut {
		if o.Value <= 0 || isDust(o.Value, o.PkScript) {
			return fmt.Errorf("%w: %w: output %d of %d sat", ErrInvalidTx, ErrDustOutput, i, o.Value)
		}
	}
	fee := in.Value - tx.TxOut[0].Value - tx.TxOut[1].Value
	if fee < p.MinSlashingFee {
		return invalid(ErrTxFee, "fee %d sat is below the minimum slashing fee %d", fee, p.MinSlashingFee)
	}
	return nil
}

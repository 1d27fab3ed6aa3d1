package psbt

import "errors"

// Error kinds. Every error this package returns wraps one of these (or a
// kind of package script), so callers can test with errors.Is.
var (
	// Parameter rules (docs/spec.md §4, "Params").
	ErrInvalidParams        = errors.New("invalid params")
	ErrInvalidCovenant      = errors.New("invalid covenant committee")
	ErrInvalidStakingValue  = errors.New("invalid staking value")
	ErrInvalidStakingTime   = errors.New("invalid staking time")
	ErrInvalidUnbondingTime = errors.New("invalid unbonding time")
	ErrInvalidUnbondingFee  = errors.New("invalid unbonding fee")
	ErrInvalidSlashingRate  = errors.New("invalid slashing rate")
	ErrInvalidSlashingFee   = errors.New("invalid slashing fee")
	ErrInvalidSlashingAddr  = errors.New("invalid slashing script")
	ErrDustOutput           = errors.New("dust output")

	// Building.
	ErrInsufficientFunds = errors.New("insufficient funds")
	ErrInvalidFeeRate    = errors.New("invalid fee rate")
	ErrUnsupportedInput  = errors.New("unsupported input type")
	ErrMissingPrevTx     = errors.New("missing previous transaction")
	ErrInvalidOutput     = errors.New("invalid output")
	// ErrUnknownSpentOutput: an input whose spent output (value and
	// script) the PSBT records neither as witness_utxo nor as
	// non_witness_utxo, so its fee or size cannot be known.
	ErrUnknownSpentOutput = errors.New("spent output unknown")

	// Signing and finalising.
	ErrWrongInput       = errors.New("input does not spend the expected output")
	ErrNotSignable      = errors.New("input cannot be signed with this key")
	ErrBadSignature     = errors.New("signature does not verify")
	ErrNotFinalizable   = errors.New("input cannot be finalized")
	ErrScriptValidation = errors.New("finalized input fails script validation")
	ErrInvalidPSBT      = errors.New("invalid psbt")

	// Validation of transactions against params: every rule failure wraps
	// ErrInvalidTx and the kind of the rule.
	ErrInvalidTx  = errors.New("invalid transaction")
	ErrTxVersion  = errors.New("wrong transaction version")
	ErrTxInputs   = errors.New("wrong transaction inputs")
	ErrTxSequence = errors.New("wrong input sequence")
	ErrTxLockTime = errors.New("wrong lock time")
	ErrTxOutputs  = errors.New("wrong transaction outputs")
	ErrTxValue    = errors.New("wrong output value")
	ErrTxFee      = errors.New("wrong fee")
	ErrTxWeight   = errors.New("transaction too heavy")
)

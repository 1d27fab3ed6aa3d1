package psbt

import "errors"

// Error kinds. Every error this package returns wraps one of these (or a
// kind of package script), so callers can test with errors.Is.
var (
	// Parameter rules are params' kinds (params.ErrInvalidParams,
	// params.ErrInvalidStakingValue, params.ErrDustOutput, ...): a builder
	// that refuses a value the params forbid returns those.

	// Building.
	// ErrNoHeight: the Bitcoin height that selects the params version is
	// not known where one is needed: a stake on a real network (whose
	// params version must be the one in force at the tip), or a source of
	// several versions (PlanStake).
	ErrNoHeight = errors.New("no Bitcoin height to select the params version")
	// ErrInsufficientFunds: the coins given do not pay the stake and fee.
	ErrInsufficientFunds = errors.New("insufficient funds")
	// ErrInvalidFeeRate: a fee rate outside 1..100000 sat/vB.
	ErrInvalidFeeRate = errors.New("invalid fee rate")
	// ErrUnsupportedInput: a coin of a kind the builder cannot spend.
	ErrUnsupportedInput = errors.New("unsupported input type")
	// ErrMissingPrevTx: a P2PKH coin without its previous transaction,
	// which alone proves the value its signature spends.
	ErrMissingPrevTx = errors.New("missing previous transaction")
	// ErrInvalidOutput: an output kind or destination the transaction
	// cannot have (slashing from a slashing change output, an unspendable
	// withdraw destination).
	ErrInvalidOutput = errors.New("invalid output")
	// ErrUnknownSpentOutput: an input whose spent output (value and
	// script) the PSBT records neither as witness_utxo nor as
	// non_witness_utxo, so its fee or size cannot be known (nor, for the
	// signing and finalising functions, which also say ErrInvalidPSBT, its
	// sighash).
	ErrUnknownSpentOutput = errors.New("spent output unknown")

	// Signing and finalising.
	// ErrWrongInput: the input (or funding output) named is not there, or
	// does not spend the output of the delegation it should.
	ErrWrongInput = errors.New("input does not spend the expected output")
	// ErrNotSignable: this key cannot sign this input: no key, a key with
	// no slot in the leaf, or a leaf this package does not sign.
	ErrNotSignable = errors.New("input cannot be signed with this key")
	// ErrSlashingLeafRole: a covenant or finality-provider key asked to
	// put a plain signature on a slashing leaf. Covenant members give
	// adaptor signatures there and the provider's slot is filled only from
	// its extracted key (CompleteSlashing); a plain signature would let a
	// slashing transaction be completed without a double-sign.
	ErrSlashingLeafRole = errors.New("covenant and finality-provider keys do not plain-sign slashing leaves")
	// ErrUncheckedCovenant: a covenant key asked to sign outside
	// CovenantSigner, which checks the transaction against the delegation.
	ErrUncheckedCovenant = errors.New("covenant members sign through CovenantSigner")
	// ErrBadSignature: a signature record that is no valid signature of
	// this input: it does not verify, is for another leaf, or names a key
	// with no slot in the leaf.
	ErrBadSignature = errors.New("signature does not verify")
	// ErrNotFinalizable: the signatures present do not satisfy the leaf
	// (too few, or none for a required slot).
	ErrNotFinalizable = errors.New("input cannot be finalized")
	// ErrScriptValidation: the assembled witness fails btcd's script
	// engine; nothing is finalised.
	ErrScriptValidation = errors.New("finalized input fails script validation")
	// ErrInvalidPSBT: the packet itself is malformed (no transaction,
	// entries not matching the inputs and outputs, bad encoding, a record
	// contradicting the spent transaction).
	ErrInvalidPSBT = errors.New("invalid psbt")

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

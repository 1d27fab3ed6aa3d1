package psbt

import (
	"fmt"
	"math"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
)

// What the validators share: Babylon's sanity rules for every transaction
// it is given, and its rules for pre-signed (unbonding and slashing)
// transactions (docs/spec.md §4.1, §4.3, §4.4).

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

// maxStandardWeight is the largest standard transaction weight, Babylon's
// MaxStandardTxWeight for pre-signed transactions.
const maxStandardWeight = 400_000

// maxBlockBaseSize bounds a transaction's size without witnesses
// (btcd's blockchain.MaxBlockBaseSize).
const maxBlockBaseSize = 1_000_000

// Coinbase signature script bounds (btcd's MinCoinbaseScriptLen and
// MaxCoinbaseScriptLen).
const minCoinbaseScriptLen, maxCoinbaseScriptLen = 2, 100

// checkSanity applies the context-free consensus rules Babylon runs on
// every transaction it is given, btcd's blockchain.CheckTransactionSanity
// (written out here: the btcd root module must stay out of this library's
// module graph, see policy.go), in its order:
//
//  1. at least one input and one output;
//  2. at most 1,000,000 bytes without witnesses;
//  3. each output value in 0..21M BTC, and their sum too;
//  4. no outpoint spent twice;
//  5. a coinbase (one input spending the null outpoint) has a signature
//     script of 2..100 bytes; any other transaction spends no null
//     outpoint.
//
// tx and its parts are not nil (nilParts).
func checkSanity(what string, tx *wire.MsgTx) error {
	// Step 1.
	if len(tx.TxIn) == 0 {
		return invalid(ErrTxInputs, "%s has no inputs", what)
	}
	if len(tx.TxOut) == 0 {
		return invalid(ErrTxOutputs, "%s has no outputs", what)
	}
	// Step 2.
	if n := tx.SerializeSizeStripped(); n > maxBlockBaseSize {
		return invalid(ErrTxWeight, "%s is %d bytes without witnesses, more than %d", what, n, maxBlockBaseSize)
	}
	// Step 3. Each term is at most MaxMoney and the sum stops at the first
	// one above it, so nothing overflows.
	var total int64
	for i, o := range tx.TxOut {
		if o.Value < 0 || o.Value > params.MaxMoney {
			return invalid(ErrTxValue, "%s output %d of %d sat is outside 0..%d", what, i, o.Value, int64(params.MaxMoney))
		}
		if total += o.Value; total > params.MaxMoney {
			return invalid(ErrTxValue, "%s outputs sum to more than %d sat", what, int64(params.MaxMoney))
		}
	}
	// Step 4.
	seen := make(map[wire.OutPoint]struct{}, len(tx.TxIn))
	for i, in := range tx.TxIn {
		if _, dup := seen[in.PreviousOutPoint]; dup {
			return invalid(ErrTxInputs, "%s input %d spends %v again", what, i, in.PreviousOutPoint)
		}
		seen[in.PreviousOutPoint] = struct{}{}
	}
	// Step 5.
	if len(tx.TxIn) == 1 && isNullOutPoint(tx.TxIn[0].PreviousOutPoint) {
		if n := len(tx.TxIn[0].SignatureScript); n < minCoinbaseScriptLen || n > maxCoinbaseScriptLen {
			return invalid(ErrTxInputs, "%s is a coinbase with a %d-byte script, want %d..%d", what, n, minCoinbaseScriptLen, maxCoinbaseScriptLen)
		}
		return nil
	}
	for i, in := range tx.TxIn {
		if isNullOutPoint(in.PreviousOutPoint) {
			return invalid(ErrTxInputs, "%s input %d spends the null outpoint", what, i)
		}
	}
	return nil
}

func isNullOutPoint(op wire.OutPoint) bool {
	return op.Index == math.MaxUint32 && op.Hash == [32]byte{}
}

// preSigned is the shape Babylon requires of a pre-signed transaction.
type preSigned struct {
	what                   string
	inputs, outputs        int
	minVersion, maxVersion int32
}

// Babylon's two pre-signed kinds (CheckPreSignedUnbondingTxSanity and
// CheckPreSignedSlashingTxSanity).
var (
	unbondingShape = preSigned{what: "unbonding tx", inputs: 1, outputs: 1, minVersion: 2, maxVersion: 2}
	slashingShape  = preSigned{what: "slashing tx", inputs: 1, outputs: 2, minVersion: 1, maxVersion: 2}
)

// check applies Babylon's CheckPreSignedTxSanity, in its order:
//
//  1. the transaction exists and passes checkSanity;
//  2. exactly s.inputs inputs and s.outputs outputs;
//  3. lock time 0;
//  4. version within s.minVersion..s.maxVersion;
//  5. weight at most 400,000 (witnesses included);
//  6. every input has nSequence ffffffff and an empty signature script.
//
// Witnesses are not refused (a signed transaction has them), only counted
// in the weight.
func (s preSigned) check(tx *wire.MsgTx) error {
	// Step 1.
	if tx == nil {
		return invalid(ErrTxInputs, "no %s", s.what)
	}
	if err := nilParts(s.what, tx); err != nil {
		return err
	}
	if err := checkSanity(s.what, tx); err != nil {
		return err
	}
	// Step 2.
	if len(tx.TxIn) != s.inputs {
		return invalid(ErrTxInputs, "%s has %d inputs, want %d", s.what, len(tx.TxIn), s.inputs)
	}
	if len(tx.TxOut) != s.outputs {
		return invalid(ErrTxOutputs, "%s has %d outputs, want %d", s.what, len(tx.TxOut), s.outputs)
	}
	// Step 3.
	if tx.LockTime != 0 {
		return invalid(ErrTxLockTime, "%s lock time %d, want 0", s.what, tx.LockTime)
	}
	// Step 4.
	if tx.Version < s.minVersion || tx.Version > s.maxVersion {
		if s.minVersion == s.maxVersion {
			return invalid(ErrTxVersion, "%s version %d, want %d", s.what, tx.Version, s.maxVersion)
		}
		return invalid(ErrTxVersion, "%s version %d, want %d..%d", s.what, tx.Version, s.minVersion, s.maxVersion)
	}
	// Step 5.
	if w := txWeightOf(tx); w > maxStandardWeight {
		return invalid(ErrTxWeight, "%s weight %d exceeds %d", s.what, w, maxStandardWeight)
	}
	// Step 6.
	for i, in := range tx.TxIn {
		if in.Sequence != wire.MaxTxInSequenceNum {
			return invalid(ErrTxSequence, "%s input %d sequence %x, want ffffffff", s.what, i, in.Sequence)
		}
		if len(in.SignatureScript) != 0 {
			return invalid(ErrTxInputs, "%s input %d has a non-empty scriptSig (a pre-signed tx must not have one)", s.what, i)
		}
	}
	return nil
}

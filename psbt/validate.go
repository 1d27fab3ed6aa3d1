package psbt

import (
	"fmt"

	"github.com/btcsuite/btcd/wire/v2"
)

// What the validators share.

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

package regtest

import (
	"errors"

	"github.com/btcstake/btcstake/chain"
)

// Error kinds. Every error the package returns wraps one of the kinds
// below (rejections wrap ErrRejected as well), so callers and tests can
// tell them apart with errors.Is. The kinds shared with package chain are
// the very same values: regtest.ErrSequenceLock is chain.ErrSequenceLock.
var (
	// ErrInvalidArgument: a caller passed a value the harness cannot use
	// (nil transaction, negative amount, zero block count, ...).
	ErrInvalidArgument = chain.ErrInvalidArgument
	// ErrBuild: the btcd binary could not be found or built.
	ErrBuild = errors.New("cannot obtain node binary")
	// ErrStart: the node process did not start or never became ready.
	ErrStart = errors.New("node failed to start")
	// ErrStopped: the node was already stopped.
	ErrStopped = errors.New("node is stopped")
	// ErrRPC: an RPC call failed for a reason other than a transaction
	// rejection, an unknown object or a timeout (connection refused, wrong
	// credentials, an error object, an unexpected reply). The chain kind
	// that says which (chain.ErrUnreachable, chain.ErrAuth, ...) is
	// wrapped as well.
	ErrRPC = errors.New("node rpc failed")
	// ErrNotFound: the transaction, output or block is unknown to the node
	// (or, for an output, already spent).
	ErrNotFound = chain.ErrNotFound
	// ErrTimeout: a wait ended (deadline or cancellation) before its
	// condition held.
	ErrTimeout = chain.ErrTimeout
	// ErrInsufficientFunds: the harness holds too few mature coins for the
	// requested payment; mine more blocks.
	ErrInsufficientFunds = errors.New("insufficient mature funds in the harness wallet")
	// ErrState: a state file of a detached node is missing, unreadable or
	// describes a node that is not running.
	ErrState = errors.New("bad node state")
	// ErrDirInUse: another process holds a node directory's lock (see
	// LockDir): a node runs there, or is being started.
	ErrDirInUse = errors.New("node directory in use")

	// ErrRejected: the node refused a transaction. Every rejection wraps
	// it; the kinds below say why when the node's reason is recognised
	// (see package chain for each kind's meaning).
	ErrRejected         = chain.ErrRejected
	ErrSequenceLock     = chain.ErrSequenceLock
	ErrNonFinal         = chain.ErrNonFinal
	ErrImmatureCoinbase = chain.ErrImmatureCoinbase
	ErrScriptFailure    = chain.ErrScriptFailure
	// ErrFee matches both ErrFeeTooLow and ErrFeeTooHigh.
	ErrFee           = chain.ErrFee
	ErrFeeTooLow     = chain.ErrFeeTooLow
	ErrFeeTooHigh    = chain.ErrFeeTooHigh
	ErrNonStandard   = chain.ErrNonStandard
	ErrMissingInputs = chain.ErrMissingInputs
	// ErrDoubleSpend also matches ErrMissingInputs.
	ErrDoubleSpend  = chain.ErrDoubleSpend
	ErrAlreadyKnown = chain.ErrAlreadyKnown
)

// RejectError is a transaction rejection by the node (chain.RejectError):
// it matches ErrRejected and the kind that classifies the node's reason,
// and keeps the node's own text.
type RejectError = chain.RejectError

// ClassifyReject returns the kind for a node's reject text (see
// chain.ClassifyReject).
func ClassifyReject(reason string) error { return chain.ClassifyReject(reason) }

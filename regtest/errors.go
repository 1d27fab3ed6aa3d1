package regtest

import (
	"errors"
	"strings"
)

// Error kinds. Every error the package returns wraps exactly one of the
// kinds below (rejections wrap ErrRejected as well), so callers and tests
// can tell them apart with errors.Is.
var (
	// ErrInvalidArgument: a caller passed a value the harness cannot use
	// (nil transaction, negative amount, zero block count, ...).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrBuild: the btcd binary could not be found or built.
	ErrBuild = errors.New("cannot obtain node binary")
	// ErrStart: the node process did not start or never became ready.
	ErrStart = errors.New("node failed to start")
	// ErrStopped: the node was already stopped.
	ErrStopped = errors.New("node is stopped")
	// ErrRPC: an RPC call failed for a reason other than a transaction
	// rejection (connection refused, unexpected reply, ...).
	ErrRPC = errors.New("node rpc failed")
	// ErrNotFound: the transaction, output or block is unknown to the node
	// (or, for an output, already spent).
	ErrNotFound = errors.New("not found")
	// ErrTimeout: a wait ended (deadline or cancellation) before its
	// condition held.
	ErrTimeout = errors.New("timed out")
	// ErrInsufficientFunds: the harness holds too few mature coins for the
	// requested payment; mine more blocks.
	ErrInsufficientFunds = errors.New("insufficient mature funds in the harness wallet")
	// ErrState: a state file of a detached node is missing, unreadable or
	// describes a node that is not running.
	ErrState = errors.New("bad node state")

	// ErrRejected: the node refused a transaction. Every rejection wraps
	// it; the kinds below say why when the node's reason is recognised.
	ErrRejected = errors.New("transaction rejected")
	// ErrSequenceLock: a relative time lock (BIP 68 sequence lock, as
	// checked by OP_CHECKSEQUENCEVERIFY outputs) has not matured yet.
	ErrSequenceLock = errors.New("sequence locks not met")
	// ErrNonFinal: an absolute lock time (nLockTime) has not been reached.
	ErrNonFinal = errors.New("transaction not final")
	// ErrImmatureCoinbase: a coinbase output is spent before 100
	// confirmations.
	ErrImmatureCoinbase = errors.New("immature coinbase spend")
	// ErrScriptFailure: an input's script or witness does not verify.
	ErrScriptFailure = errors.New("script verification failed")
	// ErrFee: the fee is below the relay minimum (or above the node's
	// maximum fee rate).
	ErrFee = errors.New("fee not accepted")
	// ErrNonStandard: the transaction breaks relay policy (dust,
	// non-standard output script, version, size, ...).
	ErrNonStandard = errors.New("non-standard transaction")
	// ErrMissingInputs: an input refers to an output that does not exist or
	// is already spent.
	ErrMissingInputs = errors.New("missing or spent inputs")
	// ErrDoubleSpend: an input is already spent by a transaction in the
	// mempool (including a replacement the node refused). It also matches
	// ErrMissingInputs.
	ErrDoubleSpend = errors.New("input already spent in mempool")
	// ErrAlreadyKnown: the very same transaction is already in the mempool
	// or the chain.
	ErrAlreadyKnown = errors.New("transaction already known")
)

// RejectError is a transaction rejection by the node. It matches
// ErrRejected and the kind that classifies the node's reason (see
// ClassifyReject), and keeps the node's own text.
type RejectError struct {
	// Kind is the classified reason, or ErrRejected when the reason is not
	// recognised.
	Kind error
	// Reason is the node's reject text, unchanged.
	Reason string
}

func (e *RejectError) Error() string {
	if e.Kind == ErrRejected {
		return "transaction rejected: " + e.Reason
	}
	return "transaction rejected: " + e.Kind.Error() + ": " + e.Reason
}

// Unwrap lets errors.Is see ErrRejected and the kind (and, for a double
// spend, ErrMissingInputs).
func (e *RejectError) Unwrap() []error {
	errs := []error{ErrRejected}
	if e.Kind != nil && e.Kind != ErrRejected {
		errs = append(errs, e.Kind)
	}
	if e.Kind == ErrDoubleSpend {
		errs = append(errs, ErrMissingInputs)
	}
	return errs
}

// rejectPatterns maps substrings of btcd's and bitcoind's reject texts to
// kinds. Order matters: the first matching entry wins, so specific texts
// come before generic ones ("non-BIP68-final" before "non-final", the
// script failures before "non-standard").
var rejectPatterns = []struct {
	kind error
	subs []string
}{
	{ErrSequenceLock, []string{
		"sequence locks on inputs not met", // btcd
		"non-bip68-final",                  // bitcoind
		"sequence lock",
	}},
	{ErrNonFinal, []string{
		"transaction is not finalized", // btcd
		"non-final",                    // bitcoind
	}},
	{ErrImmatureCoinbase, []string{
		"tried to spend coinbase transaction output", // btcd
		"premature-spend-of-coinbase",                // bitcoind
		"immature",
	}},
	{ErrDoubleSpend, []string{
		"already spent in mempool",        // btcd
		"txn-mempool-conflict",            // bitcoind
		"spends-conflicting-tx",           // bitcoind
		"replacement transaction",         // btcd: a failed replacement is a conflict
		"rejecting replacement",           // bitcoind
		"too many potential replacements", // bitcoind
		"replacement-adds-unconfirmed",    // bitcoind
	}},
	{ErrMissingInputs, []string{
		"references outputs of unknown or fully-spent", // btcd sendrawtransaction
		"does not exist or has already been spent",     // btcd block/utxo check
		"missing-inputs",        // btcd and bitcoind testmempoolaccept
		"missingorspent",        // bitcoind
		"bad-txns-inputs-spent", // bitcoind
	}},
	{ErrAlreadyKnown, []string{
		"already have transaction",            // btcd
		"transaction already exists",          // btcd
		"txn-already-in-mempool",              // bitcoind
		"txn-already-known",                   // bitcoind
		"already in block chain",              // bitcoind
		"outputs already in utxo set",         // bitcoind
		"txn-same-nonwitness-data-in-mempool", // bitcoind
	}},
	{ErrScriptFailure, []string{
		"failed to validate input", // btcd
		"failed to parse input",    // btcd
		"script-verify-flag",       // bitcoind (mandatory-, non-mandatory-, mempool-)
		"script verification",
	}},
	{ErrFee, []string{
		"insufficient priority",        // btcd, free transaction
		"rate limiter due to low fees", // btcd, free transaction
		"under the required amount",    // btcd
		"insufficient fee",             // btcd replacement, bitcoind
		"min relay fee not met",        // bitcoind
		"mempool min fee not met",      // bitcoind
		"max-fee-exceeded",             // both, testmempoolaccept
		"absurdly-high-fee",            // old bitcoind
		"fee exceeds maximum",          // bitcoind sendrawtransaction maxfeerate
	}},
	{ErrNonStandard, []string{
		"not standard",    // btcd "transaction ... is not standard: ..."
		"non-standard",    // btcd inputs, bitcoind
		"nonstandard",     // bitcoind bad-txns-nonstandard-inputs
		"dust",            // both
		"tx-size",         // bitcoind tx-size, tx-size-small
		"is too small",    // btcd
		"scriptpubkey",    // bitcoind
		"bare-multisig",   // bitcoind
		"multi-op-return", // bitcoind
		"more than one transaction output in a nulldata", // btcd
		"scriptsig-size",         // bitcoind
		"scriptsig-not-pushonly", // bitcoind
		"datacarrier",            // bitcoind
		"sigop",                  // both
		"weight of transaction",  // btcd
		"version",                // bitcoind "version"
	}},
}

// ClassifyReject returns the kind for a node's reject text: one of
// ErrSequenceLock, ErrNonFinal, ErrImmatureCoinbase, ErrDoubleSpend,
// ErrMissingInputs, ErrAlreadyKnown, ErrScriptFailure, ErrFee,
// ErrNonStandard, or ErrRejected when the text is not recognised. It knows
// the texts of btcd v0.26 and of Bitcoin Core.
func ClassifyReject(reason string) error {
	s := strings.ToLower(reason)
	for _, p := range rejectPatterns {
		for _, sub := range p.subs {
			if strings.Contains(s, sub) {
				return p.kind
			}
		}
	}
	return ErrRejected
}

// newReject builds the error for a rejection with the node's reason.
func newReject(reason string) *RejectError {
	return &RejectError{Kind: ClassifyReject(reason), Reason: reason}
}

package chain

import (
	"errors"
	"strings"
)

// Error kinds. Every error the package returns wraps exactly one of the
// call kinds (ErrInvalidArgument, ErrUnreachable, ErrAuth, ErrTimeout,
// ErrBadReply, ErrRPC, ErrNotFound, ErrWrongChain, ErrUnconfirmedChain) or
// is a *RejectError,
// which matches ErrRejected and the kind that says why. Use errors.Is.
var (
	// ErrInvalidArgument: a caller passed a value the client cannot use
	// (a nil transaction, a malformed URL, zero confirmations, ...).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrUnreachable: no connection to the node (refused, unknown host,
	// reset); nothing listens at the URL, or a firewall is in the way.
	ErrUnreachable = errors.New("cannot reach the node")
	// ErrAuth: the node refused the RPC credentials (HTTP 401 or 403).
	ErrAuth = errors.New("the node refused the RPC credentials")
	// ErrTimeout: the caller's context ended, or one call outlasted the
	// client's call timeout, before the node answered or the awaited
	// condition held. The context's own error is wrapped as well.
	ErrTimeout = errors.New("timed out")
	// ErrBadReply: the node answered with something that is not the
	// expected JSON-RPC reply (not JSON, a malformed transaction or hash),
	// or with an answer that is not what was asked for: another
	// transaction or block than the one named, a block whose transactions
	// or witnesses do not hash to its header, a transaction said to be in
	// a block that does not hold it, a block at another height than the
	// one asked for.
	ErrBadReply = errors.New("unexpected reply from the node")
	// ErrRPC: the node answered the call with an error object that is
	// neither a rejection of a transaction nor "not found" (an unknown
	// method, a bad parameter, a node still warming up).
	ErrRPC = errors.New("the node refused the call")
	// ErrNotFound: the node does not know the transaction, block or
	// output (or, for an output, it is spent).
	ErrNotFound = errors.New("not found")
	// ErrWrongChain: the node follows another chain than the one asked for
	// (a regtest node when mainnet was meant).
	ErrWrongChain = errors.New("node is on another chain")
	// ErrUnconfirmedChain: the node may follow the chain asked for, but
	// cannot be shown to: a signet node that does not report its
	// challenge, with no block after the shared genesis block to compare,
	// or asked for a custom signet.
	ErrUnconfirmedChain = errors.New("cannot confirm the node's chain")

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
	// ErrFee: the node did not accept the fee. It is never a kind of its
	// own: every fee rejection is ErrFeeTooLow or ErrFeeTooHigh, and both
	// match ErrFee too.
	ErrFee = errors.New("fee not accepted")
	// ErrFeeTooLow: the fee is below the node's relay or mempool minimum.
	ErrFeeTooLow = errors.New("fee too low")
	// ErrFeeTooHigh: the fee rate is above the maximum the call allows
	// (testmempoolaccept's and sendrawtransaction's maxfeerate).
	ErrFeeTooHigh = errors.New("fee above the maximum fee rate")
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
	// Code is the node's JSON-RPC error code, 0 for a testmempoolaccept
	// verdict (which carries no code).
	Code int
}

func (e *RejectError) Error() string {
	if e.Kind == ErrRejected || e.Kind == nil {
		return "transaction rejected: " + e.Reason
	}
	return "transaction rejected: " + e.Kind.Error() + ": " + e.Reason
}

// Unwrap lets errors.Is see ErrRejected and the kind (and, for a double
// spend, ErrMissingInputs; for either fee kind, ErrFee).
func (e *RejectError) Unwrap() []error {
	errs := []error{ErrRejected}
	if e.Kind != nil && e.Kind != ErrRejected {
		errs = append(errs, e.Kind)
	}
	switch e.Kind {
	case ErrDoubleSpend:
		errs = append(errs, ErrMissingInputs)
	case ErrFeeTooLow, ErrFeeTooHigh:
		errs = append(errs, ErrFee)
	}
	return errs
}

// rejectPatterns maps substrings of btcd's and bitcoind's reject texts
// (lower case) to kinds. Order matters: the first matching entry wins, so
// specific texts come before generic ones ("non-BIP68-final" before
// "non-final", a refused replacement before the fee texts, the script
// failures before "non-standard").
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
		"missing inputs",        // bitcoind before 0.21
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
	{ErrFeeTooHigh, []string{
		"max-fee-exceeded",    // both, testmempoolaccept
		"absurdly-high-fee",   // old bitcoind
		"fee exceeds maximum", // bitcoind sendrawtransaction maxfeerate
	}},
	{ErrFeeTooLow, []string{
		"insufficient priority",        // btcd, free transaction
		"rate limiter due to low fees", // btcd, free transaction
		"under the required amount",    // btcd
		"insufficient fee",             // btcd replacement, bitcoind
		"min relay fee not met",        // bitcoind
		"mempool min fee not met",      // bitcoind
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
// ErrMissingInputs, ErrAlreadyKnown, ErrScriptFailure, ErrFeeTooHigh,
// ErrFeeTooLow, ErrNonStandard, or ErrRejected when the text is not
// recognised. It knows the texts of btcd v0.26 and of Bitcoin Core.
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

// JSON-RPC error codes of btcd and bitcoind (the same numbers on both).
const (
	codeMethodNotFound   = -32601 // unknown method
	codeNotFound         = -5     // bitcoind: invalid address or key, no such tx; btcd: no such tx or block
	codeInvalidParameter = -8     // bitcoind: block height out of range
	codeOutOfRange       = -1     // btcd: block height out of range (a generic code)
	codeDeserialization  = -22    // the transaction does not decode
	codeVerify           = -25    // a rule of the mempool or of consensus refuses it
	codeVerifyRejected   = -26    // policy refuses it
	codeAlreadyInChain   = -27    // the transaction is already confirmed
)

// classifyRejectCode classifies a rejection from its text, falling back
// on the code where the text says nothing known (code -27 always means
// the transaction is already in the chain).
func classifyRejectCode(code int, reason string) error {
	kind := ClassifyReject(reason)
	if kind == ErrRejected && code == codeAlreadyInChain {
		return ErrAlreadyKnown
	}
	return kind
}

// isTxRejectCode reports whether an error code of sendrawtransaction or
// testmempoolaccept refuses the transaction (rather than the call).
func isTxRejectCode(code int) bool {
	switch code {
	case codeDeserialization, codeVerify, codeVerifyRejected, codeAlreadyInChain:
		return true
	}
	return false
}

package babylon

import "errors"

// Error kinds. Every error of FetchParamsVersions and FetchParams wraps one
// of these, or a kind of package params when the response has the right
// shape but values the protocol refuses.
var (
	// ErrInvalidURL: the base URL is not an http or https URL with a host
	// (or carries credentials, query or fragment).
	ErrInvalidURL = errors.New("invalid Babylon REST URL")
	// ErrUnreachable: no answer: the connection failed (refused, no such
	// host, TLS) or the node did not answer within the timeout.
	ErrUnreachable = errors.New("Babylon REST endpoint unreachable")
	// ErrHTTP: the server answered with a status other than 2xx.
	ErrHTTP = errors.New("Babylon REST endpoint answered with an HTTP error")
	// ErrBadResponse: a 2xx answer that is not the response asked for:
	// not JSON, JSON of another shape, a body larger than the limit, or
	// pagination that does not end within the page limit.
	ErrBadResponse = errors.New("bad response from Babylon REST endpoint")
	// ErrInconsistent: two answers of the node disagree: the params it
	// says are in force are not its latest version.
	ErrInconsistent = errors.New("Babylon REST answers disagree")
)

// Error kinds of the registration messages (docs/spec.md §10). Every error
// of the message builders, the inclusion proofs and the decoders wraps one
// of these, or a kind of package psbt or params when a transaction or a
// value breaks a protocol rule (psbt.ErrInvalidTx, params.ErrInvalidStakingValue,
// ...), or of package chain when the node fails.
var (
	// ErrInvalidMessage: bytes that are not the protobuf encoding of the
	// message asked for: a malformed field, a field of the wrong wire
	// type, an unknown or repeated singular field, a value of the wrong
	// size (a 32-byte key, a 64-byte signature, a 32-byte hash); or a
	// JSON rendering of a message that is not MarshalJSON's.
	ErrInvalidMessage = errors.New("invalid Babylon message encoding")
	// ErrInvalidAddress: a Babylon account address that is not bech32
	// with the "bbn" prefix and a payload of 20 or 32 bytes.
	ErrInvalidAddress = errors.New("invalid Babylon address")
	// ErrInvalidRegistration: the inputs of a registration or an
	// undelegation do not make a message Babylon accepts: no proof of
	// possession, not exactly one finality provider, params that are not
	// the version the flow requires, a missing or unusable staker
	// signature, a stake-spending transaction that does not spend the
	// staking output or lacks a funding transaction.
	ErrInvalidRegistration = errors.New("invalid registration")
	// ErrNotInBlock: the transaction is not in the block given.
	ErrNotInBlock = errors.New("transaction not in block")
	// ErrCoinbase: the transaction is its block's coinbase, which Babylon
	// never takes as a staking or stake-spending transaction.
	ErrCoinbase = errors.New("transaction is a coinbase")
	// ErrInvalidProof: an inclusion proof that does not prove the
	// transaction against the block header's Merkle root (or a header that
	// is not the block the proof names).
	ErrInvalidProof = errors.New("inclusion proof does not verify")
	// ErrShallow: the block including the transaction is fewer blocks
	// below the tip than the confirmation depth asked for.
	ErrShallow = errors.New("transaction not deep enough")
	// ErrUnconfirmed: the transaction is not in a block yet.
	ErrUnconfirmed = errors.New("transaction not confirmed")
)

// ErrInvalidExpansion: the transactions of a stake extension do not have
// the shape Babylon requires of MsgBtcStakeExpand and of its activating
// MsgBTCUndelegate: an extension transaction without exactly 2 inputs,
// input 0 not spending the previous staking transaction, input 1 not
// spending an output of the funding transaction given, or a funding output
// of 0 sat.
var ErrInvalidExpansion = errors.New("invalid stake extension")

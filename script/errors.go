package script

import "errors"

// Error kinds returned by this package. Every error it returns wraps exactly
// one of these, so callers can test with errors.Is; the wrapping message adds
// the context (which key, which output, which value).
var (
	// ErrInvalidKey: a public key that is not a valid 32-byte x-only or
	// 33-byte compressed secp256k1 key, or a nil key.
	ErrInvalidKey = errors.New("invalid public key")
	// ErrDuplicateKey: the staker, finality-provider and covenant keys must be
	// pairwise distinct (compared as x-only keys).
	ErrDuplicateKey = errors.New("duplicate key")
	// ErrNoCovenantKeys: a covenant committee needs at least one key.
	ErrNoCovenantKeys = errors.New("no covenant keys")
	// ErrNoFinalityProvider: a delegation needs at least one finality provider.
	ErrNoFinalityProvider = errors.New("no finality provider keys")
	// ErrInvalidQuorum: the covenant quorum must be between 1 and the number
	// of covenant keys.
	ErrInvalidQuorum = errors.New("invalid covenant quorum")
	// ErrInvalidTimelock: a relative time lock must be between 1 and 65535
	// blocks.
	ErrInvalidTimelock = errors.New("invalid time lock")
	// ErrInvalidSignature: a signature that is not a 64-byte BIP-340
	// (SIGHASH_DEFAULT) signature.
	ErrInvalidSignature = errors.New("invalid signature encoding")
	// ErrSignatureCount: a spend path got the wrong number of signatures:
	// anything but exactly quorum covenant signatures, exactly one finality
	// provider signature, or a missing staker signature.
	ErrSignatureCount = errors.New("wrong number of signatures")
	// ErrUnknownSigner: a signature for a key that has no slot in the leaf.
	ErrUnknownSigner = errors.New("signature from a key not in the script")
	// ErrInvalidOutputKind: a name that is not staking, unbonding or
	// slashing_change.
	ErrInvalidOutputKind = errors.New("invalid output kind")
	// ErrUnknownPath: the output has no spend path of the requested kind.
	ErrUnknownPath = errors.New("no such spend path")
	// ErrInvalidTag: a phase-1 tag must be exactly 4 bytes.
	ErrInvalidTag = errors.New("invalid staking tag")
	// ErrTooManyFinalityProviders: phase-1 staking data carries exactly one
	// finality provider.
	ErrTooManyFinalityProviders = errors.New("phase-1 staking data needs exactly one finality provider")
	// ErrMalformedOpReturn: a script that is not a well-formed phase-1
	// staking OP_RETURN (length, opcodes, version, tag or keys).
	ErrMalformedOpReturn = errors.New("malformed staking op_return")
	// ErrNotStakingTx: a transaction that is not a phase-1 staking
	// transaction: too few outputs, no staking OP_RETURN, or no output paying
	// the staking script the OP_RETURN describes.
	ErrNotStakingTx = errors.New("not a staking transaction")
	// ErrAmbiguousStakingTx: more than one staking OP_RETURN, or more than
	// one output paying the staking script.
	ErrAmbiguousStakingTx = errors.New("ambiguous staking transaction")
	// ErrUnknownLeaf: a script that is not a staking leaf as this package
	// builds it.
	ErrUnknownLeaf = errors.New("not a staking leaf script")
	// ErrInvalidTree: a tap tree that is empty, malformed, or refers to a
	// leaf that does not exist.
	ErrInvalidTree = errors.New("invalid tap tree")
	// ErrMalformedWitness: a witness that is not laid out as a script-path
	// spend of a staking leaf: too few items, or a number of signature
	// items other than the leaf's slots.
	ErrMalformedWitness = errors.New("malformed staking witness")
	// ErrInvalidControlBlock: a BIP-341 control block of the wrong length,
	// with a leaf version other than tapscript's, or whose internal key is
	// not a curve point.
	ErrInvalidControlBlock = errors.New("invalid control block")
	// ErrWrongOutput: a leaf and control block that do not commit to the
	// output they are checked against (another output's leaf, or a Merkle
	// path or internal key that tweaks to another output key).
	ErrWrongOutput = errors.New("leaf does not commit to the output")
	// ErrMalformedBlock: bytes that are not a serialized block as btcd's
	// wire decoder reads one (truncated, a non-canonical length, a count
	// or script beyond its limits, a witness flag without witnesses, bytes
	// after the last transaction).
	ErrMalformedBlock = errors.New("malformed block")
)

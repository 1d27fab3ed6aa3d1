// Package babylon holds what btcstake exchanges with the Babylon chain from
// the Bitcoin side. Today that is the chain's staking parameters, read
// from a Babylon node's REST ("LCD") endpoint: FetchParamsVersions asks
// for every parameters version (GET
// /babylon/btcstaking/v1/params_versions, following the pagination), and
// FetchParams for the params in force (GET /babylon/btcstaking/v1/params).
// Both return the validated value of package params and the bytes to keep
// as a params file, which params.LoadVersions reads back
// (docs/spec.md §8.2).
//
// Every call is bounded: a timeout over the whole fetch, a cap on each
// response body and on the number of pages. A failure wraps one of the
// error kinds below (ErrInvalidURL, ErrUnreachable, ErrHTTP,
// ErrBadResponse, ErrInconsistent) or, for a response of the right shape
// whose values break a protocol rule, the params kind that names it
// (params.ErrInvalidVersions for a version gap, params.ErrInvalidCovenant,
// ...).
//
// Compare lists the differences between two params sources, field by field
// (a preset and what the chain says today, say).
//
// The package also makes the messages that register a delegation with
// Babylon (docs/spec.md §10), encoded with protowire as Babylon v4's protos
// say: PrepareRegistration builds and checks a MsgCreateBTCDelegation's
// transactions, and RegistrationDraft.Sign (the staker's key) or Complete
// (PSBTs an external signer returned) adds the staker's two slashing
// signatures; ProveInBlock and ProveFromNode make inclusion proofs checked
// against the block header; NewMsgAddInclusionProof and NewMsgBTCUndelegate
// make the other two messages. Each message has Marshal, an Unmarshal
// function, a JSON rendering and the positional arguments of its babylond
// command. Their errors wrap ErrInvalidMessage, ErrInvalidAddress,
// ErrInvalidRegistration, ErrNotInBlock, ErrCoinbase, ErrInvalidProof,
// ErrShallow or ErrUnconfirmed, or a kind of package psbt, params or chain.
package babylon

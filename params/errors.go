package params

import "errors"

// Error kinds. Every error this package returns wraps exactly one of them,
// so callers can test with errors.Is. Each kind names one rule; package
// psbt returns the same kind when a value it is given breaks that rule of
// valid params (a stake outside the staking value range, say), so one
// errors.Is test covers both places.
var (
	// ErrInvalidParams: the input is not a params document at all (not
	// JSON, an unknown or missing field, a key given twice in any object,
	// data after the object, a file that cannot be read or is not a
	// regular file), or a field outside the kinds below (the tag; in
	// Babylon's formats a version number, btc_activation_height, the
	// commission rate, gas fee or allow-list height, and phase-1's
	// activation height, caps and confirmation depth). From
	// psbt: no Params, a Params not made by New, Parse or Load (the zero
	// value), or params without the tag phase-1 staking needs.
	ErrInvalidParams = errors.New("invalid params")
	// ErrInvalidCovenant: no committee, a key that is not a valid x-only
	// key (a compressed key in phase-1 params) or appears twice, or a
	// quorum that is not a majority of it.
	ErrInvalidCovenant = errors.New("invalid covenant committee")
	// ErrInvalidStakingValue: the staking value range is empty or exceeds
	// the money supply; from psbt, a stake outside the range.
	ErrInvalidStakingValue = errors.New("invalid staking value")
	// ErrInvalidStakingTime: the staking time range is empty or outside
	// 1..65535 blocks; from psbt, a delegation's staking time outside the
	// range.
	ErrInvalidStakingTime = errors.New("invalid staking time")
	// ErrInvalidUnbondingTime: the unbonding time is outside 1..65535.
	ErrInvalidUnbondingTime = errors.New("invalid unbonding time")
	// ErrInvalidUnbondingFee: the unbonding fee is not positive or does not
	// leave anything of the smallest stake (in phase-1 params: leaves less
	// than 1,000 sat of it).
	ErrInvalidUnbondingFee = errors.New("invalid unbonding fee")
	// ErrInvalidSlashingRate: the rate is not a decimal strictly between 0
	// and 1 with at most 4 significant decimals.
	ErrInvalidSlashingRate = errors.New("invalid slashing rate")
	// ErrInvalidSlashingFee: the minimum slashing fee is not positive.
	ErrInvalidSlashingFee = errors.New("invalid slashing fee")
	// ErrInvalidSlashingScript: the slashing output script is empty or not
	// a standard output script.
	ErrInvalidSlashingScript = errors.New("invalid slashing script")
	// ErrDustOutput: a value would create an output below the relay dust
	// limit (for the params themselves: the smallest stake they allow).
	ErrDustOutput = errors.New("dust output")

	// ErrUnknownFormat: ParseVersions or LoadVersions was given a document
	// that none of the formats it reads match (not JSON, or JSON of another
	// shape, such as a REST error body).
	ErrUnknownFormat = errors.New("unknown params format")
	// ErrInvalidVersions: the versions do not form a valid sequence: none
	// at all, activation heights not strictly increasing, version numbers
	// not increasing by one (a gap, a duplicate, a list that does not start
	// at version 0 where the format requires it, a partial page of a
	// paginated response), numbered and unnumbered versions mixed, or a
	// Versions not made by NewVersions, ParseVersions, LoadVersions or
	// Preset (the zero value).
	ErrInvalidVersions = errors.New("invalid params versions")
	// ErrNoVersion: no version applies: a Bitcoin height before the first
	// activation height, or a version number the list does not hold.
	ErrNoVersion = errors.New("no params version")
	// ErrLockOnly: the version is a phase-1 (lock-only) one, which has no
	// slashing values, so it cannot give the Params a delegation needs.
	ErrLockOnly = errors.New("lock-only params version")
	// ErrUnknownPreset: no embedded preset has that name.
	ErrUnknownPreset = errors.New("unknown params preset")
)

package params

import (
	"fmt"
	"sort"
)

// Format names the kind of document a Versions was read from.
type Format string

// The formats ParseVersions reads (docs/spec.md §8.2).
const (
	// FormatBTCStake is the project's own single-version format (Parse).
	FormatBTCStake Format = "btcstake"
	// FormatBabylonParams is the response of Babylon's Params,
	// ParamsByVersion or ParamsByBTCHeight query: {"params": {...}}, the
	// last with a "version" beside it (REST /babylon/btcstaking/v1/params,
	// .../params/{version}, .../params/btc_height/{h}, or `babylond query
	// btcstaking params -o json`).
	FormatBabylonParams Format = "babylon-params"
	// FormatBabylonParamsVersions is the response of Babylon's
	// ParamsVersions query: {"params": [{"version": n, "params": {...}}],
	// "pagination": {...}} (REST /babylon/btcstaking/v1/params_versions, or
	// `babylond query btcstaking params-versions -o json`).
	FormatBabylonParamsVersions Format = "babylon-params-versions"
	// FormatBabylonUpgrade is a JSON list of Babylon params, version i at
	// position i, as Babylon's v1 upgrade embeds them
	// (app/upgrades/v1/{mainnet,testnet}/btcstaking_params.go).
	FormatBabylonUpgrade Format = "babylon-upgrade-data"
	// FormatPhase1 is the phase-1 global-params.json of
	// babylonlabs-io/networks: {"versions": [...]}, lock-only versions.
	FormatPhase1 Format = "phase1-global-params"
)

// BabylonExtras are the values of a version that Babylon's documents carry
// besides the Bitcoin-side protocol parameters. Each is zero when the source
// did not have it.
type BabylonExtras struct {
	// Phase-2 (x/btcstaking Params).

	// MinCommissionRate is the smallest commission a finality provider
	// may charge, as a decimal between 0 and 1 with trailing zeros
	// dropped ("0.03" for Babylon's "0.030000000000000000").
	MinCommissionRate string
	// DelegationCreationBaseGasFee is the base gas charged for
	// registering a delegation.
	DelegationCreationBaseGasFee uint64
	// AllowListExpirationHeight is the Babylon block height at which the
	// allow list of staking transactions expires (0: no allow list).
	AllowListExpirationHeight uint64

	// Phase 1 (global-params.json).

	// StakingCap is the total stake in satoshis accepted up to and
	// including this version (0 when the version has a cap height).
	StakingCap int64
	// CapHeight is the last Bitcoin height at which staking transactions
	// are accepted under this version (0 when it has a staking cap).
	CapHeight uint32
	// ConfirmationDepth is the number of blocks after which a staking
	// transaction counts as confirmed.
	ConfirmationDepth uint32
}

// Version is one parameters version: the Bitcoin height from which it
// applies and its values. A Version is immutable: it is only made by
// NewVersion, ParseVersions, LoadVersions or Preset, its fields are
// unexported, and every accessor returns a copy.
type Version struct {
	number     uint32
	numbered   bool // the source stated the number
	activation uint32
	p          *Params // nil for a lock-only version
	lock       Config  // the lock-only values (when p is nil)
	extras     BabylonExtras
}

// NewVersion makes a version numbered number that applies from Bitcoin
// height activationHeight (inclusive), with validated params p (from New,
// Parse or Load) and Babylon's extra values, which may be zero. The
// extras' MinCommissionRate, when set, must be a decimal between 0 and 1.
func NewVersion(number, activationHeight uint32, p *Params, extras BabylonExtras) (*Version, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("%w: version %d: params not made by New, Parse or Load", ErrInvalidParams, number)
	}
	if extras.MinCommissionRate != "" {
		r, err := canonicalDec(extras.MinCommissionRate, 18)
		if err != nil || !atMostOne(r) {
			return nil, fmt.Errorf("%w: version %d: min commission rate %.40q is not a decimal from 0 to 1", ErrInvalidParams, number, extras.MinCommissionRate)
		}
		extras.MinCommissionRate = r
	}
	if extras.StakingCap < 0 {
		return nil, fmt.Errorf("%w: version %d: negative staking cap", ErrInvalidParams, number)
	}
	q := *p
	return &Version{number: number, numbered: true, activation: activationHeight, p: &q, extras: extras}, nil
}

// Number is Babylon's version number; 0 when NumberKnown is false.
func (v *Version) Number() uint32 { return v.number }

// NumberKnown reports whether the source stated the version number. It
// does not for the project's own format and for Babylon's Params and
// ParamsByVersion responses, which carry one version without its number.
func (v *Version) NumberKnown() bool { return v.numbered }

// ActivationHeight is the Bitcoin height from which the version applies
// (inclusive).
func (v *Version) ActivationHeight() uint32 { return v.activation }

// LockOnly reports whether this is a phase-1 version: it says what a
// staking output locks (Config) but has no slashing values, so Params is
// nil and StakingParams fails with ErrLockOnly.
func (v *Version) LockOnly() bool { return v.p == nil }

// Params returns (a copy of) the validated protocol parameters, or nil for
// a lock-only version (use StakingParams to get an error instead).
func (v *Version) Params() *Params {
	if v.p == nil {
		return nil
	}
	q := *v.p
	return &q
}

// StakingParams returns the validated protocol parameters a delegation
// needs (staking, unbonding and slashing), or ErrLockOnly for a phase-1
// version.
func (v *Version) StakingParams() (*Params, error) {
	if v.p == nil {
		return nil, fmt.Errorf("%w: version %d (from height %d) is phase-1 global params without slashing values; use phase-2 params (the bbn-1 preset or a Babylon query)", ErrLockOnly, v.number, v.activation)
	}
	return v.Params(), nil
}

// Config returns a copy of the version's values: Params().Config() for a
// full version; for a lock-only version, the covenant committee, the
// staking ranges, the unbonding time and fee and the tag, with the
// slashing fields empty.
func (v *Version) Config() Config {
	if v.p != nil {
		return v.p.Config()
	}
	return cloneConfig(v.lock)
}

// Babylon returns Babylon's extra values of this version.
func (v *Version) Babylon() BabylonExtras { return v.extras }

// Versions is an ordered list of parameters versions: at least one,
// activation heights strictly increasing, version numbers (when known)
// increasing by one. It is immutable: At, All and Latest return copies.
type Versions struct {
	vs     []*Version
	format Format
}

// NewVersions checks that vs form a valid sequence (see Versions) and
// returns them as Versions; it keeps copies, so vs may change afterwards.
// Versions from NewVersion are numbered; a version without a known number
// (from ParseVersions) can only stand alone.
func NewVersions(vs ...*Version) (*Versions, error) {
	for i, v := range vs {
		if v == nil || (v.p == nil && len(v.lock.CovenantKeys) == 0) {
			return nil, fmt.Errorf("%w: version %d at position %d is not made by NewVersion", ErrInvalidVersions, i, i)
		}
	}
	return newVersions(vs, "", false)
}

// newVersions copies vs and checks the sequence rules; with fromZero the
// first version must be number 0 (a complete list).
func newVersions(vs []*Version, f Format, fromZero bool) (*Versions, error) {
	if len(vs) == 0 {
		return nil, fmt.Errorf("%w: no versions", ErrInvalidVersions)
	}
	out := make([]*Version, len(vs))
	for i, v := range vs {
		c := *v
		out[i] = &c
	}
	if fromZero && out[0].numbered && out[0].number != 0 {
		return nil, fmt.Errorf("%w: the list starts at version %d, not 0", ErrInvalidVersions, out[0].number)
	}
	for i := 1; i < len(out); i++ {
		prev, v := out[i-1], out[i]
		if !prev.numbered || !v.numbered {
			return nil, fmt.Errorf("%w: position %d: a list of several versions needs every version number", ErrInvalidVersions, i)
		}
		if v.number != prev.number+1 || v.number == 0 {
			return nil, fmt.Errorf("%w: version %d follows version %d (numbers must increase by one)", ErrInvalidVersions, v.number, prev.number)
		}
		if v.activation <= prev.activation {
			return nil, fmt.Errorf("%w: version %d activates at height %d, not after version %d at %d", ErrInvalidVersions, v.number, v.activation, prev.number, prev.activation)
		}
	}
	return &Versions{vs: out, format: f}, nil
}

func (v *Versions) valid() error {
	if v == nil || len(v.vs) == 0 {
		return fmt.Errorf("%w: Versions not made by NewVersions, ParseVersions, LoadVersions or Preset", ErrInvalidVersions)
	}
	return nil
}

// At returns (a copy of) the version in force at Bitcoin height btcHeight:
// the last version whose activation height is at most btcHeight
// (docs/spec.md §8.3). A height before the first activation height is
// ErrNoVersion.
func (v *Versions) At(btcHeight uint32) (*Version, error) {
	if err := v.valid(); err != nil {
		return nil, err
	}
	// The first version activating above btcHeight; the one before it
	// is in force.
	i := sort.Search(len(v.vs), func(i int) bool { return v.vs[i].activation > btcHeight })
	if i == 0 {
		return nil, fmt.Errorf("%w: height %d is before the first activation height %d", ErrNoVersion, btcHeight, v.vs[0].activation)
	}
	c := *v.vs[i-1]
	return &c, nil
}

// ByNumber returns (a copy of) the version numbered n, or ErrNoVersion.
func (v *Versions) ByNumber(n uint32) (*Version, error) {
	if err := v.valid(); err != nil {
		return nil, err
	}
	for _, x := range v.vs {
		if x.numbered && x.number == n {
			c := *x
			return &c, nil
		}
	}
	return nil, fmt.Errorf("%w: no version numbered %d", ErrNoVersion, n)
}

// All returns copies of every version, in order of activation height
// (nil for the zero Versions).
func (v *Versions) All() []*Version {
	if v == nil {
		return nil
	}
	out := make([]*Version, len(v.vs))
	for i, x := range v.vs {
		c := *x
		out[i] = &c
	}
	return out
}

// Latest returns (a copy of) the version with the highest activation
// height, or nil for the zero Versions.
func (v *Versions) Latest() *Version {
	if v == nil || len(v.vs) == 0 {
		return nil
	}
	c := *v.vs[len(v.vs)-1]
	return &c
}

// Len is the number of versions.
func (v *Versions) Len() int {
	if v == nil {
		return 0
	}
	return len(v.vs)
}

// Format is the kind of document the versions were read from ("" for
// versions made by NewVersions).
func (v *Versions) Format() Format {
	if v == nil {
		return ""
	}
	return v.format
}

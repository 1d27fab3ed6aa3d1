package psbt

import (
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"

	"github.com/btcstake/btcstake/params"
)

// BlockInterval is Bitcoin's target time between blocks: the unit of the
// approximate durations of a StakePlan.
const BlockInterval = 10 * time.Minute

// RealNetwork reports whether a stake on net locks coins on a public
// network, where the staker is asked to confirm the lock first: every
// network but regtest and simnet (a nil net counts as real).
func RealNetwork(net *chaincfg.Params) bool {
	if net == nil {
		return true
	}
	return net.Name != chaincfg.RegressionNetParams.Name && net.Name != chaincfg.SimNetParams.Name
}

// StakePlanRequest is what a stake is planned from: the network, the params
// versions with the Bitcoin height that selects one, the parties and the
// value.
type StakePlanRequest struct {
	Net      *chaincfg.Params
	Versions *params.Versions
	// Height is the Bitcoin tip height (the light client's tip for a
	// registration before staking, docs/spec.md §8.4), valid only when
	// HeightKnown. It must be known on a real network and for a source of
	// several versions.
	Height      uint32
	HeightKnown bool

	Staker            *btcec.PublicKey
	FinalityProviders []*btcec.PublicKey
	StakingTime       uint16 // blocks
	Value             int64  // satoshis
	StakerOrigin      *KeyOrigin
}

// StakePlan is a stake checked against the params version in force: the
// delegation to build it with and what the staker should know before any
// coin is locked.
type StakePlan struct {
	// Delegation carries the selected version's params; build the staking
	// transaction with it (BuildStaking).
	Delegation Delegation
	// Version is the params version in force at Height (or the source's
	// only version when no height was given).
	Version *params.Version
	// Height is the height the version was selected at (HeightKnown).
	Height      uint32
	HeightKnown bool
	// Value is the stake in satoshis.
	Value int64
	// Confirm is set on a real network (RealNetwork): the lock should be
	// stated and confirmed before the transaction is signed or handed on.
	Confirm bool
	// Next is the version that follows Version in the source, activating
	// above Height, or nil: a registration delayed past its activation
	// height would be judged by it instead.
	Next *params.Version
}

// LockDuration is the approximate time the staking output locks the coins:
// the staking time at BlockInterval.
func (p *StakePlan) LockDuration() time.Duration {
	return time.Duration(p.Delegation.StakingTime) * BlockInterval
}

// UnbondingDuration is the approximate time an early unbonding keeps the
// coins before they can be withdrawn: the unbonding time at BlockInterval.
func (p *StakePlan) UnbondingDuration() time.Duration {
	return time.Duration(p.Delegation.Params.UnbondingTime()) * BlockInterval
}

// PlanStake selects the params version for a stake and checks the stake
// against it, the checks BuildStaking makes, before any coin is locked:
//
//  1. The height: on a real network it must be known (ErrNoHeight), since
//     Babylon judges a stake by the version in force at the Bitcoin tip; on
//     regtest a source of one version needs none.
//  2. The version: the one in force at the height (params.ErrNoVersion for
//     a height before the first activation height), which must have
//     slashing values (params.ErrLockOnly for a phase-1 version).
//  3. The stake: the staking time and value within the version's ranges
//     (params.ErrInvalidStakingTime, params.ErrInvalidStakingValue), every
//     later unbonding and slashing output valid (params.ErrDustOutput), and
//     the parties' keys forming a staking output (script's kinds).
//
// A failure names the version and the height it was selected at.
func PlanStake(req StakePlanRequest) (*StakePlan, error) {
	// Step 1: the height.
	n := req.Versions.Len()
	if n == 0 {
		return nil, fmt.Errorf("%w: no params versions", params.ErrInvalidVersions)
	}
	live := RealNetwork(req.Net)
	if !req.HeightKnown {
		switch {
		case live:
			return nil, fmt.Errorf("%w: on %s the params version in force at the Bitcoin tip decides what Babylon accepts; give the tip height", ErrNoHeight, netName(req.Net))
		case n > 1:
			return nil, fmt.Errorf("%w: the params have %d versions; give the Bitcoin height that selects one", ErrNoHeight, n)
		}
	}

	// Step 2: the version and its params.
	var v *params.Version
	if req.HeightKnown {
		var err error
		if v, err = req.Versions.At(req.Height); err != nil {
			return nil, err
		}
	} else {
		v = req.Versions.Latest()
	}
	where := versionWords(v, req.Height, req.HeightKnown)
	p, err := v.StakingParams()
	if err != nil {
		return nil, err
	}

	// Step 3: the stake under that version.
	d := Delegation{Params: p, Staker: req.Staker, FinalityProviders: req.FinalityProviders,
		StakingTime: req.StakingTime, StakerOrigin: req.StakerOrigin}
	if err := d.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if req.Value < p.MinStakingValue() || req.Value > p.MaxStakingValue() {
		return nil, fmt.Errorf("%s: %w: %d sat outside %d..%d", where, params.ErrInvalidStakingValue, req.Value, p.MinStakingValue(), p.MaxStakingValue())
	}
	if err := p.CheckSlashable(req.Value); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if _, err := d.StakingOutput(); err != nil {
		return nil, err
	}
	plan := &StakePlan{Delegation: d, Version: v, Height: req.Height, HeightKnown: req.HeightKnown,
		Value: req.Value, Confirm: live}
	for _, w := range req.Versions.All() {
		if w.ActivationHeight() > v.ActivationHeight() {
			plan.Next = w
			break
		}
	}
	return plan, nil
}

func netName(net *chaincfg.Params) string {
	if net == nil {
		return "this network"
	}
	return net.Name
}

// versionWords names a version and the height it was selected at:
// "params version 4 (from height 893362, in force at height 900000)".
func versionWords(v *params.Version, h uint32, known bool) string {
	s := "the params"
	if v.NumberKnown() {
		s = fmt.Sprintf("params version %d", v.Number())
	}
	if known {
		return fmt.Sprintf("%s (from height %d, in force at height %d)", s, v.ActivationHeight(), h)
	}
	return fmt.Sprintf("%s (from height %d)", s, v.ActivationHeight())
}

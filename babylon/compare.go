package babylon

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// Difference is one way two params sources disagree: a field of one
// version, or a version only one of them has.
type Difference struct {
	// Version is the version number (for a source that does not number
	// its versions, the position in its list).
	Version uint32
	// Field is Babylon's name of the field (btc_activation_height,
	// covenant_pks, unbonding_fee_sat, ...), or "version" when only one
	// source has the version.
	Field string
	// A and B are the values in the first and second source ("" when the
	// field or the version is absent). For covenant_pks they are the keys
	// only that source has, comma-separated: a committee listed in another
	// order is the same committee.
	A, B string
}

// String describes the difference, calling the sources "first" and
// "second".
func (d Difference) String() string { return d.Describe("first", "second") }

// Describe describes the difference on one line, calling the sources a
// and b: "version 4: unbonding_fee_sat: 9600 (preset), 32000 (chain)".
func (d Difference) Describe(a, b string) string {
	return fmt.Sprintf("version %d: %s", d.Version, d.describeField(a, b))
}

func (d Difference) describeField(a, b string) string {
	show := func(s string) string {
		if s == "" {
			return "none"
		}
		return s
	}
	switch d.Field {
	case "covenant_pks":
		return fmt.Sprintf("covenant_pks: only in %s: %s; only in %s: %s", a, show(d.A), b, show(d.B))
	case "version":
		if d.A == "" {
			return fmt.Sprintf("only in %s (%s)", b, d.B)
		}
		return fmt.Sprintf("only in %s (%s)", a, d.A)
	}
	return fmt.Sprintf("%s: %s (%s), %s (%s)", d.Field, show(d.A), a, show(d.B), b)
}

// CompareOptions tune Compare.
type CompareOptions struct {
	// IgnoreNumbers matches the versions by their position in the lists
	// instead of their numbers.
	IgnoreNumbers bool
}

// Compare lists every difference between a and b, version by version
// (matched by number), field by field in the order of Babylon's Params
// message, then the phase-1 fields. Nothing is returned when they hold the
// same values.
func Compare(a, b *params.Versions, opts CompareOptions) []Difference {
	index := func(vs *params.Versions) map[uint32]*params.Version {
		m := map[uint32]*params.Version{}
		for i, v := range vs.All() {
			n := uint32(i)
			if v.NumberKnown() && !opts.IgnoreNumbers {
				n = v.Number()
			}
			m[n] = v
		}
		return m
	}
	ma, mb := index(a), index(b)
	var nums []uint32
	for n := range ma {
		nums = append(nums, n)
	}
	for n := range mb {
		if _, ok := ma[n]; !ok {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	var out []Difference
	for _, n := range nums {
		va, vb := ma[n], mb[n]
		switch {
		case vb == nil:
			out = append(out, Difference{Version: n, Field: "version", A: fmt.Sprintf("from height %d", va.ActivationHeight())})
		case va == nil:
			out = append(out, Difference{Version: n, Field: "version", B: fmt.Sprintf("from height %d", vb.ActivationHeight())})
		default:
			out = append(out, compareVersion(n, va, vb)...)
		}
	}
	return out
}

func compareVersion(n uint32, a, b *params.Version) []Difference {
	var out []Difference
	ca, cb := a.Config(), b.Config()
	fa, fb := versionFields(a, ca), versionFields(b, cb)
	for i, f := range fa {
		if f.name == "covenant_pks" {
			onlyA, onlyB := keyDiff(ca, cb)
			if onlyA != "" || onlyB != "" {
				out = append(out, Difference{Version: n, Field: f.name, A: onlyA, B: onlyB})
			}
			continue
		}
		if f.value != fb[i].value {
			out = append(out, Difference{Version: n, Field: f.name, A: f.value, B: fb[i].value})
		}
	}
	return out
}

type field struct{ name, value string }

// versionFields are a version's values (c is its Config) as text, in a fixed order; an
// absent value (a slashing value of a lock-only version, an extra the
// source did not have) is "".
func versionFields(v *params.Version, c params.Config) []field {
	ex := v.Babylon()
	num := func(x int64) string {
		if x == 0 {
			return ""
		}
		return strconv.FormatInt(x, 10)
	}
	unum := func(x uint64) string {
		if x == 0 {
			return ""
		}
		return strconv.FormatUint(x, 10)
	}
	return []field{
		{"btc_activation_height", strconv.FormatUint(uint64(v.ActivationHeight()), 10)},
		{"covenant_pks", ""},
		{"covenant_quorum", num(int64(c.CovenantQuorum))},
		{"min_staking_value_sat", num(c.MinStakingValue)},
		{"max_staking_value_sat", num(c.MaxStakingValue)},
		{"min_staking_time_blocks", num(int64(c.MinStakingTime))},
		{"max_staking_time_blocks", num(int64(c.MaxStakingTime))},
		{"slashing_pk_script", hex.EncodeToString(c.SlashingPkScript)},
		{"min_slashing_tx_fee_sat", num(c.MinSlashingFee)},
		{"slashing_rate", c.SlashingRate},
		{"unbonding_time_blocks", num(int64(c.UnbondingTime))},
		{"unbonding_fee_sat", num(c.UnbondingFee)},
		{"min_commission_rate", ex.MinCommissionRate},
		{"delegation_creation_base_gas_fee", unum(ex.DelegationCreationBaseGasFee)},
		{"allow_list_expiration_height", unum(ex.AllowListExpirationHeight)},
		{"tag", hex.EncodeToString(c.Tag)},
		{"staking_cap", num(ex.StakingCap)},
		{"cap_height", num(int64(ex.CapHeight))},
		{"confirmation_depth", num(int64(ex.ConfirmationDepth))},
	}
}

// keyDiff returns the x-only keys only a has and only b has, each sorted
// and comma-separated.
func keyDiff(a, b params.Config) (onlyA, onlyB string) {
	set := func(c params.Config) map[string]bool {
		m := map[string]bool{}
		for _, k := range c.CovenantKeys {
			m[script.XOnly(k).String()] = true
		}
		return m
	}
	sa, sb := set(a), set(b)
	diff := func(x, y map[string]bool) string {
		var ks []string
		for k := range x {
			if !y[k] {
				ks = append(ks, k)
			}
		}
		slices.Sort(ks)
		return strings.Join(ks, ",")
	}
	return diff(sa, sb), diff(sb, sa)
}

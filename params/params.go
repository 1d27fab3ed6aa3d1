// Package params holds the protocol parameters of Babylon-style Bitcoin
// staking as one validated, immutable value (docs/spec.md §4).
//
// A Params is only ever made by New, Parse or Load, each of which checks
// every rule before it returns; its fields are unexported and every
// accessor returns a copy, so a Params that validated once stays valid:
// nothing a caller does afterwards can change the quorum, the rate or any
// other value a builder relies on. To derive different parameters, take
// Config, change the copy and pass it to New again.
//
// Go lets any struct be copied and assigned as a whole: q := *p is an
// independent valid Params (it shares no storage a caller can reach), and
// *p = *q replaces p with other validated params. The one value that is
// not validated is the zero Params (*p = Params{}, or new(Params)), which
// Valid reports and every consumer in this module refuses.
package params

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/txscript/v2"

	"github.com/btcstake/btcstake/internal/inputfile"
	"github.com/btcstake/btcstake/internal/policy"
	"github.com/btcstake/btcstake/internal/strictjson"
	"github.com/btcstake/btcstake/script"
)

// MaxMoney is the Bitcoin money supply in satoshis.
const MaxMoney = 21_000_000 * 100_000_000

// MaxFileSize bounds a params document read by Load or Parse.
const MaxFileSize = 1 << 20

// Config is the set of parameter values before validation: the input of
// New. Every field is required except Tag.
type Config struct {
	CovenantKeys    []*btcec.PublicKey
	CovenantQuorum  uint32
	MinStakingValue int64  // satoshis
	MaxStakingValue int64  // satoshis
	MinStakingTime  uint16 // blocks
	MaxStakingTime  uint16 // blocks
	UnbondingTime   uint16 // blocks
	// UnbondingFee is the exact fee of every unbonding transaction.
	UnbondingFee     int64 // satoshis
	SlashingPkScript []byte
	// SlashingRate is the slashed share of the stake, a decimal strictly
	// between 0 and 1 with at most 4 significant decimals, e.g. "0.1".
	SlashingRate   string
	MinSlashingFee int64  // satoshis
	Tag            []byte // optional 4-byte phase-1 tag
}

// Params are validated protocol parameters. The zero value is not valid;
// make one with New, Parse or Load.
type Params struct {
	c    Config
	rate float64
}

// New validates c against every rule of docs/spec.md §4 and returns
// Params holding a deep copy of it; c itself is neither kept nor changed.
// Each failed rule returns its own error kind.
func New(c Config) (*Params, error) {
	p := &Params{c: cloneConfig(c)}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func cloneConfig(c Config) Config {
	c.CovenantKeys = slices.Clone(c.CovenantKeys)
	for i, k := range c.CovenantKeys {
		if k != nil {
			c.CovenantKeys[i] = copyKey(k)
		}
	}
	c.SlashingPkScript = bytes.Clone(c.SlashingPkScript)
	c.Tag = bytes.Clone(c.Tag)
	return c
}

func copyKey(k *btcec.PublicKey) *btcec.PublicKey {
	c, _ := btcec.ParsePubKey(k.SerializeCompressed())
	return c
}

// Config returns a deep copy of the values; changing it changes nothing
// here.
func (p *Params) Config() Config { return cloneConfig(p.c) }

// CovenantKeys returns a copy of the covenant committee's keys.
func (p *Params) CovenantKeys() []*btcec.PublicKey {
	return cloneConfig(Config{CovenantKeys: p.c.CovenantKeys}).CovenantKeys
}

// CovenantQuorum is the number of covenant signatures a spend needs.
func (p *Params) CovenantQuorum() uint32 { return p.c.CovenantQuorum }

// MinStakingValue is the smallest stake in satoshis.
func (p *Params) MinStakingValue() int64 { return p.c.MinStakingValue }

// MaxStakingValue is the largest stake in satoshis.
func (p *Params) MaxStakingValue() int64 { return p.c.MaxStakingValue }

// MinStakingTime is the shortest staking time in blocks.
func (p *Params) MinStakingTime() uint16 { return p.c.MinStakingTime }

// MaxStakingTime is the longest staking time in blocks.
func (p *Params) MaxStakingTime() uint16 { return p.c.MaxStakingTime }

// UnbondingTime is the unbonding (and slashing change) timelock in blocks.
func (p *Params) UnbondingTime() uint16 { return p.c.UnbondingTime }

// UnbondingFee is the exact fee of every unbonding transaction.
func (p *Params) UnbondingFee() int64 { return p.c.UnbondingFee }

// SlashingPkScript returns a copy of the script slashed funds are paid to.
func (p *Params) SlashingPkScript() []byte { return bytes.Clone(p.c.SlashingPkScript) }

// SlashingRate is the slashed share as its decimal text, e.g. "0.1".
func (p *Params) SlashingRate() string { return p.c.SlashingRate }

// Rate is the slashed share as a float64 (what Babylon multiplies with).
func (p *Params) Rate() float64 { return p.rate }

// MinSlashingFee is the smallest fee of a slashing transaction.
func (p *Params) MinSlashingFee() int64 { return p.c.MinSlashingFee }

// Tag returns a copy of the phase-1 tag (nil when the params have none).
func (p *Params) Tag() []byte { return bytes.Clone(p.c.Tag) }

// SlashingAmount is the amount a slashing transaction spending value
// satoshis must pay to the slashing script, by Babylon's rule:
// btcutil.Amount(value).MulF64(rate), that is float64(value) * rate rounded
// half away from zero (docs/spec.md §4). Babylon rounds by adding 0.5 and
// truncating, which is what is done here (math.Round can differ from it for
// products a hair below a half).
func (p *Params) SlashingAmount(value int64) int64 {
	f := float64(value) * p.rate
	if f < 0 {
		return int64(f - 0.5)
	}
	return int64(f + 0.5)
}

// CheckSlashable verifies that a stake of value can be unbonded and
// slashed from both the staking and the unbonding output with every output
// valid (docs/spec.md §4.6): the unbonding output is positive and not
// dust; from each of the two values, the slashing amount is positive (even
// to a null-data script, which is exempt from the dust rule only) and not
// dust, and the slashing change left after the minimum slashing fee is
// positive and not dust. These are the output rules of Babylon's
// validateSlashingTx (babylonlabs-io/babylon v4.3.1,
// btcstaking/staking.go), applied before any coin is locked. The error
// wraps ErrDustOutput.
func (p *Params) CheckSlashable(value int64) error {
	unbonded := value - p.c.UnbondingFee
	if unbonded <= 0 {
		return fmt.Errorf("%w: value %d does not cover the unbonding fee %d", ErrDustOutput, value, p.c.UnbondingFee)
	}
	if policy.IsDust(unbonded, p2trDummy) {
		return fmt.Errorf("%w: unbonding output of %d sat is dust", ErrDustOutput, unbonded)
	}
	for _, v := range []int64{value, unbonded} {
		slash := p.SlashingAmount(v)
		if slash <= 0 {
			return fmt.Errorf("%w: slashing %s of %d sat is %d sat; a slashing output must carry a positive value", ErrDustOutput, p.c.SlashingRate, v, slash)
		}
		if policy.IsDust(slash, p.c.SlashingPkScript) {
			return fmt.Errorf("%w: slashing output of %d sat (from %d) is dust", ErrDustOutput, slash, v)
		}
		if change := v - slash - p.c.MinSlashingFee; change <= 0 || policy.IsDust(change, p2trDummy) {
			return fmt.Errorf("%w: slashing change output of %d sat (from %d) is dust", ErrDustOutput, change, v)
		}
	}
	return nil
}

// p2trDummy stands for any P2TR output script (the staking outputs' kind)
// in dust checks.
var p2trDummy = append([]byte{0x51, 0x20}, make([]byte, 32)...)

// validate checks every rule of docs/spec.md §4, each with its own error
// kind, and sets the parsed rate.
func (p *Params) validate() error {
	if err := validateLock(&p.c); err != nil {
		return err
	}
	return p.validateSlashing()
}

// validateLock checks steps 1 to 3, the rules that hold for lock-only
// (phase-1) values too: the covenant committee, the staking value and time
// ranges, the unbonding time and fee.
func validateLock(c *Config) error {
	// Step 1: the covenant committee: keys present and unique, 0 < quorum
	// <= n and 2*quorum > n.
	n := uint32(len(c.CovenantKeys))
	if n == 0 {
		return fmt.Errorf("%w: no covenant keys", ErrInvalidCovenant)
	}
	seen := map[script.XOnlyKey]bool{}
	for i, k := range c.CovenantKeys {
		if k == nil {
			return fmt.Errorf("%w: covenant key %d is nil", ErrInvalidCovenant, i)
		}
		x := script.XOnly(k)
		if seen[x] {
			return fmt.Errorf("%w: covenant key %s appears twice", ErrInvalidCovenant, x)
		}
		seen[x] = true
	}
	if c.CovenantQuorum == 0 || c.CovenantQuorum > n || 2*c.CovenantQuorum <= n {
		return fmt.Errorf("%w: quorum %d of %d keys (need 0 < quorum <= n and 2*quorum > n)", ErrInvalidCovenant, c.CovenantQuorum, n)
	}
	// Step 2: staking value and time ranges, unbonding time.
	if c.MinStakingValue <= 0 || c.MaxStakingValue < c.MinStakingValue || c.MaxStakingValue > MaxMoney {
		return fmt.Errorf("%w: range %d..%d sat", ErrInvalidStakingValue, c.MinStakingValue, c.MaxStakingValue)
	}
	if c.MinStakingTime == 0 || c.MaxStakingTime < c.MinStakingTime {
		return fmt.Errorf("%w: range %d..%d blocks", ErrInvalidStakingTime, c.MinStakingTime, c.MaxStakingTime)
	}
	if c.UnbondingTime == 0 {
		return fmt.Errorf("%w: must be at least 1 block", ErrInvalidUnbondingTime)
	}
	// Step 3: 0 < unbonding fee < min staking value.
	if c.UnbondingFee <= 0 || c.UnbondingFee >= c.MinStakingValue {
		return fmt.Errorf("%w: %d sat (need 0 < fee < min staking value %d)", ErrInvalidUnbondingFee, c.UnbondingFee, c.MinStakingValue)
	}
	return nil
}

// validateSlashing checks steps 4 to 7 and sets the parsed rate.
func (p *Params) validateSlashing() error {
	c := &p.c
	// Step 4: the slashing script is standard. A null-data (OP_RETURN)
	// script is allowed: Babylon's mainnet parameters slash to
	// 6a07626162796c6f6e (OP_RETURN "babylon"), burning the slashed amount.
	if len(c.SlashingPkScript) == 0 {
		return fmt.Errorf("%w: empty", ErrInvalidSlashingScript)
	}
	if txscript.GetScriptClass(c.SlashingPkScript) == txscript.NonStandardTy {
		return fmt.Errorf("%w: %x is not a standard output script", ErrInvalidSlashingScript, c.SlashingPkScript)
	}
	// Step 5: the rate and the minimum slashing fee.
	rate, err := parseRate(c.SlashingRate)
	if err != nil {
		return err
	}
	p.rate = rate
	if c.MinSlashingFee <= 0 {
		return fmt.Errorf("%w: min slashing fee %d must be positive", ErrInvalidSlashingFee, c.MinSlashingFee)
	}
	// Step 6: the optional phase-1 tag.
	if len(c.Tag) != 0 {
		if _, err := script.ParseTag(c.Tag); err != nil {
			return fmt.Errorf("%w: tag: %v", ErrInvalidParams, err)
		}
	}
	// Step 7: the smallest stake still slashes validly from both outputs.
	// Stricter than Babylon's own params check (validateNoDustSlashingOutput
	// skips OP_RETURN scripts): params whose smallest stake slashes 0 sat
	// would admit stakes that Babylon's slashing-tx validator then refuses.
	if err := p.CheckSlashable(c.MinStakingValue); err != nil {
		return fmt.Errorf("at the minimum staking value: %w", err)
	}
	return nil
}

// parseRate parses a slashing rate: a plain decimal strictly between 0 and
// 1 with at most 4 significant decimals. Trailing zeros are fine (the rule
// is Babylon's: rate * 10^4 is an integer), so "0.100000000000000000", as
// a LegacyDec prints, is 0.1.
func parseRate(s string) (float64, error) {
	if !strings.HasPrefix(s, "0.") {
		return 0, fmt.Errorf("%w: %q must be a decimal strictly between 0 and 1, like \"0.1\"", ErrInvalidSlashingRate, s)
	}
	dec := strings.TrimRight(s[2:], "0")
	if len(s) == 2 || len(dec) > 4 || strings.Trim(s[2:], "0123456789") != "" {
		return 0, fmt.Errorf("%w: %q must be a decimal with at most 4 significant decimals", ErrInvalidSlashingRate, s)
	}
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || r <= 0 || r >= 1 {
		return 0, fmt.Errorf("%w: %q must be strictly between 0 and 1", ErrInvalidSlashingRate, s)
	}
	return r, nil
}

// fileJSON is the project's own params format (regtest-example.json).
type fileJSON struct {
	CovenantPKs      []string `json:"covenant_pks"`
	CovenantQuorum   uint32   `json:"covenant_quorum"`
	MinStakingValue  int64    `json:"min_staking_value_sat"`
	MaxStakingValue  int64    `json:"max_staking_value_sat"`
	MinStakingTime   int64    `json:"min_staking_time_blocks"`
	MaxStakingTime   int64    `json:"max_staking_time_blocks"`
	UnbondingTime    int64    `json:"unbonding_time_blocks"`
	UnbondingFee     int64    `json:"unbonding_fee_sat"`
	SlashingPkScript string   `json:"slashing_pk_script"`
	SlashingRate     string   `json:"slashing_rate"`
	MinSlashingFee   int64    `json:"min_slashing_tx_fee_sat"`
	Tag              string   `json:"tag,omitempty"`
}

// Load reads (at most MaxFileSize bytes) and validates a params file.
func Load(path string) (*Params, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// readFile reads a params file of at most MaxFileSize bytes: a regular
// file (a pipe or a device is refused before reading).
func readFile(path string) ([]byte, error) {
	b, err := inputfile.Read(path, inputfile.Options{Max: MaxFileSize})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidParams, err)
	}
	return b, nil
}

// Parse decodes and validates a params document in the project's own
// format. Unknown fields, a field given twice and data after the object
// are refused (internal/strictjson), so that a misspelt or repeated field
// is never silently ignored or overridden.
func Parse(b []byte) (*Params, error) {
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("%w: document larger than %d bytes", ErrInvalidParams, MaxFileSize)
	}
	var j fileJSON
	if err := strictjson.Decode(b, &j); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidParams, err)
	}
	c := Config{CovenantQuorum: j.CovenantQuorum, MinStakingValue: j.MinStakingValue, MaxStakingValue: j.MaxStakingValue,
		UnbondingFee: j.UnbondingFee, SlashingRate: j.SlashingRate, MinSlashingFee: j.MinSlashingFee}
	for i, h := range j.CovenantPKs {
		kb, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("%w: covenant_pks[%d]: not hex", ErrInvalidCovenant, i)
		}
		xk, err := script.ParseXOnlyKey(kb)
		if err != nil {
			return nil, fmt.Errorf("%w: covenant_pks[%d]: %v", ErrInvalidCovenant, i, err)
		}
		pk, _ := xk.PubKey()
		c.CovenantKeys = append(c.CovenantKeys, pk)
	}
	var err error
	if c.MinStakingTime, err = blocks(ErrInvalidStakingTime, "min_staking_time_blocks", j.MinStakingTime); err != nil {
		return nil, err
	}
	if c.MaxStakingTime, err = blocks(ErrInvalidStakingTime, "max_staking_time_blocks", j.MaxStakingTime); err != nil {
		return nil, err
	}
	if c.UnbondingTime, err = blocks(ErrInvalidUnbondingTime, "unbonding_time_blocks", j.UnbondingTime); err != nil {
		return nil, err
	}
	if c.SlashingPkScript, err = hex.DecodeString(j.SlashingPkScript); err != nil {
		return nil, fmt.Errorf("%w: slashing_pk_script: not hex", ErrInvalidSlashingScript)
	}
	if j.Tag != "" {
		if c.Tag, err = hex.DecodeString(j.Tag); err != nil {
			return nil, fmt.Errorf("%w: tag: not hex", ErrInvalidParams)
		}
	}
	return New(c)
}

func blocks(kind error, field string, v int64) (uint16, error) {
	if v < 1 || v > script.MaxTimelock {
		return 0, fmt.Errorf("%w: %s = %d, want 1..%d", kind, field, v, script.MaxTimelock)
	}
	return uint16(v), nil
}

// MarshalJSON writes the params in the project's own format, which Parse
// reads back to equal params.
func (p *Params) MarshalJSON() ([]byte, error) {
	c := &p.c
	j := fileJSON{
		CovenantQuorum: c.CovenantQuorum, MinStakingValue: c.MinStakingValue, MaxStakingValue: c.MaxStakingValue,
		MinStakingTime: int64(c.MinStakingTime), MaxStakingTime: int64(c.MaxStakingTime),
		UnbondingTime: int64(c.UnbondingTime), UnbondingFee: c.UnbondingFee,
		SlashingPkScript: hex.EncodeToString(c.SlashingPkScript), SlashingRate: c.SlashingRate,
		MinSlashingFee: c.MinSlashingFee, Tag: hex.EncodeToString(c.Tag),
	}
	for _, k := range c.CovenantKeys {
		j.CovenantPKs = append(j.CovenantPKs, script.XOnly(k).String())
	}
	return json.Marshal(j)
}

// Valid reports whether p was made by New, Parse or Load (a nil or zero
// Params, which the type system cannot rule out, is not).
func (p *Params) Valid() bool { return p != nil && p.rate > 0 }

package psbt

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/txscript/v2"

	"github.com/btcstake/btcstake/script"
)

// Params are the Babylon-style staking parameters of one version
// (docs/spec.md §4). Load them with LoadParams or ParseParams, which
// validate every rule; a Params built by hand must be checked with Validate.
type Params struct {
	CovenantKeys     []*btcec.PublicKey
	CovenantQuorum   uint32
	MinStakingValue  int64 // satoshis
	MaxStakingValue  int64
	MinStakingTime   uint16 // blocks
	MaxStakingTime   uint16
	UnbondingTime    uint16 // blocks
	UnbondingFee     int64  // satoshis, exact fee of every unbonding tx
	SlashingPkScript []byte
	// SlashingRate is the slashed share of the stake, a decimal in (0, 1)
	// with at most 4 decimals, e.g. "0.1".
	SlashingRate   string
	MinSlashingFee int64  // satoshis
	Tag            []byte // optional 4-byte phase-1 tag

	rate float64 // SlashingRate parsed by Validate
}

// paramsJSON is the file format (see docs/params-regtest.json).
type paramsJSON struct {
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

// LoadParams reads and validates a params JSON file.
func LoadParams(path string) (*Params, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidParams, err)
	}
	return ParseParams(b)
}

// ParseParams decodes and validates params JSON. Unknown fields and data
// after the object are refused so that nothing is silently ignored.
func ParseParams(b []byte) (*Params, error) {
	var j paramsJSON
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidParams, err)
	}
	// Anything after the object (a second object pasted in, say) would
	// otherwise be ignored as silently as a misspelt field.
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the params object", ErrInvalidParams)
	}
	p := &Params{
		CovenantQuorum: j.CovenantQuorum, MinStakingValue: j.MinStakingValue, MaxStakingValue: j.MaxStakingValue,
		UnbondingFee: j.UnbondingFee, SlashingRate: j.SlashingRate, MinSlashingFee: j.MinSlashingFee,
	}
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
		p.CovenantKeys = append(p.CovenantKeys, pk)
	}
	var err error
	if p.MinStakingTime, err = blocks(ErrInvalidStakingTime, "min_staking_time_blocks", j.MinStakingTime); err != nil {
		return nil, err
	}
	if p.MaxStakingTime, err = blocks(ErrInvalidStakingTime, "max_staking_time_blocks", j.MaxStakingTime); err != nil {
		return nil, err
	}
	if p.UnbondingTime, err = blocks(ErrInvalidUnbondingTime, "unbonding_time_blocks", j.UnbondingTime); err != nil {
		return nil, err
	}
	if p.SlashingPkScript, err = hex.DecodeString(j.SlashingPkScript); err != nil {
		return nil, fmt.Errorf("%w: slashing_pk_script: not hex", ErrInvalidSlashingAddr)
	}
	if j.Tag != "" {
		if p.Tag, err = hex.DecodeString(j.Tag); err != nil {
			return nil, fmt.Errorf("%w: tag: not hex", ErrInvalidParams)
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func blocks(kind error, field string, v int64) (uint16, error) {
	if v < 1 || v > script.MaxTimelock {
		return 0, fmt.Errorf("%w: %s = %d, want 1..%d", kind, field, v, script.MaxTimelock)
	}
	return uint16(v), nil
}

// MarshalJSON writes params in the file format.
func (p *Params) MarshalJSON() ([]byte, error) {
	j := paramsJSON{
		CovenantQuorum: p.CovenantQuorum, MinStakingValue: p.MinStakingValue, MaxStakingValue: p.MaxStakingValue,
		MinStakingTime: int64(p.MinStakingTime), MaxStakingTime: int64(p.MaxStakingTime),
		UnbondingTime: int64(p.UnbondingTime), UnbondingFee: p.UnbondingFee,
		SlashingPkScript: hex.EncodeToString(p.SlashingPkScript), SlashingRate: p.SlashingRate,
		MinSlashingFee: p.MinSlashingFee, Tag: hex.EncodeToString(p.Tag),
	}
	for _, k := range p.CovenantKeys {
		j.CovenantPKs = append(j.CovenantPKs, script.XOnly(k).String())
	}
	return json.Marshal(j)
}

// parseRate parses a slashing rate: a plain decimal strictly between 0 and 1
// with at most 4 decimals.
func parseRate(s string) (float64, error) {
	if !strings.HasPrefix(s, "0.") {
		return 0, fmt.Errorf("%w: %q must be a decimal strictly between 0 and 1, like \"0.1\"", ErrInvalidSlashingRate, s)
	}
	// The rule is about the value's precision (Babylon: rate * 10^4 is an
	// integer), so trailing zeros ("0.10000", as sdk.Dec prints) are fine.
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

// Validate checks every rule of docs/spec.md §4 (Params), each with
// its own error kind, and that the smallest stake the params allow still
// leads to valid unbonding and slashing transactions.
func (p *Params) Validate() (err error) {
	// The parsed rate doubles as the "validated" mark builders check: it
	// must not survive a failed validation.
	defer func() {
		if err != nil {
			p.rate = 0
		}
	}()
	// Covenant committee: keys present and unique, 0 < quorum, 2*quorum > n.
	n := uint32(len(p.CovenantKeys))
	if n == 0 {
		return fmt.Errorf("%w: no covenant keys", ErrInvalidCovenant)
	}
	seen := map[script.XOnlyKey]bool{}
	for i, k := range p.CovenantKeys {
		if k == nil {
			return fmt.Errorf("%w: covenant key %d is nil", ErrInvalidCovenant, i)
		}
		x := script.XOnly(k)
		if seen[x] {
			return fmt.Errorf("%w: covenant key %s appears twice", ErrInvalidCovenant, x)
		}
		seen[x] = true
	}
	if p.CovenantQuorum == 0 || p.CovenantQuorum > n || 2*p.CovenantQuorum <= n {
		return fmt.Errorf("%w: quorum %d of %d keys (need 0 < quorum <= n and 2*quorum > n)", ErrInvalidCovenant, p.CovenantQuorum, n)
	}
	// Staking value and time ranges.
	if p.MinStakingValue <= 0 || p.MaxStakingValue < p.MinStakingValue || p.MaxStakingValue > maxMoney {
		return fmt.Errorf("%w: range %d..%d sat", ErrInvalidStakingValue, p.MinStakingValue, p.MaxStakingValue)
	}
	if p.MinStakingTime == 0 || p.MaxStakingTime < p.MinStakingTime {
		return fmt.Errorf("%w: range %d..%d blocks", ErrInvalidStakingTime, p.MinStakingTime, p.MaxStakingTime)
	}
	if p.UnbondingTime == 0 {
		return fmt.Errorf("%w: must be at least 1 block", ErrInvalidUnbondingTime)
	}
	// 0 < unbonding fee < min staking value.
	if p.UnbondingFee <= 0 || p.UnbondingFee >= p.MinStakingValue {
		return fmt.Errorf("%w: %d sat (need 0 < fee < min staking value %d)", ErrInvalidUnbondingFee, p.UnbondingFee, p.MinStakingValue)
	}
	// Slashing script: non-empty and standard. An OP_RETURN (null data)
	// script is allowed: Babylon's mainnet parameters slash to
	// 6a07626162796c6f6e (OP_RETURN "babylon"), burning the slashed amount.
	if len(p.SlashingPkScript) == 0 || txscript.GetScriptClass(p.SlashingPkScript) == txscript.NonStandardTy {
		return fmt.Errorf("%w: %x is not a standard output script", ErrInvalidSlashingAddr, p.SlashingPkScript)
	}
	rate, err := parseRate(p.SlashingRate)
	if err != nil {
		return err
	}
	p.rate = rate
	if p.MinSlashingFee <= 0 {
		return fmt.Errorf("%w: min slashing fee %d must be positive", ErrInvalidSlashingFee, p.MinSlashingFee)
	}
	if len(p.Tag) != 0 {
		if _, err := script.ParseTag(p.Tag); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidParams, err)
		}
	}
	// The smallest stake must still slash validly from both outputs.
	if err := p.checkSlashable(p.MinStakingValue); err != nil {
		return fmt.Errorf("%w: at the minimum staking value: %v", ErrDustOutput, err)
	}
	return nil
}

const maxMoney = 21_000_000 * 100_000_000

// Rate returns the parsed slashing rate (after Validate).
func (p *Params) Rate() float64 { return p.rate }

// SlashingAmount is Babylon's slashed amount for a funding value:
// round(float64(value) * rate), i.e. btcutil.Amount.MulF64.
func (p *Params) SlashingAmount(value int64) int64 {
	return int64(math.Round(float64(value) * p.rate))
}

// checkSlashable verifies that a stake of value can be unbonded and slashed
// from both the staking and the unbonding output without a dust or negative
// output (docs/spec.md §4).
func (p *Params) checkSlashable(value int64) error {
	unbonded := value - p.UnbondingFee
	if unbonded <= 0 {
		return fmt.Errorf("value %d does not cover the unbonding fee %d", value, p.UnbondingFee)
	}
	if isDust(unbonded, p2trDummy) {
		return fmt.Errorf("unbonding output of %d sat is dust", unbonded)
	}
	for _, v := range []int64{value, unbonded} {
		slash := p.SlashingAmount(v)
		change := v - slash - p.MinSlashingFee
		if isDust(slash, p.SlashingPkScript) {
			return fmt.Errorf("slashing output of %d sat (from %d) is dust", slash, v)
		}
		if change <= 0 || isDust(change, p2trDummy) {
			return fmt.Errorf("slashing change output of %d sat (from %d) is dust", change, v)
		}
	}
	return nil
}

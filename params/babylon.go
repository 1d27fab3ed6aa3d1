package params

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/btcstake/btcstake/internal/strictjson"
	"github.com/btcstake/btcstake/script"
)

// LoadVersions reads (at most MaxFileSize bytes) and parses a params file
// in any format ParseVersions reads.
func LoadVersions(path string) (*Versions, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return ParseVersions(b)
}

// ParseVersions reads a params document in any of the formats of
// docs/spec.md §8.2, told apart by their shape:
//
//  1. a JSON list: Babylon's upgrade data, version i at position i
//     (FormatBabylonUpgrade);
//  2. an object with "versions": phase-1 global-params.json
//     (FormatPhase1), lock-only versions;
//  3. an object whose "params" is an object: Babylon's Params,
//     ParamsByVersion or ParamsByBTCHeight response, one version
//     (FormatBabylonParams);
//  4. an object whose "params" is a list: Babylon's ParamsVersions
//     response (FormatBabylonParamsVersions), which must be complete (start
//     at version 0, no next page);
//  5. an object with a field of the project's own format: that format
//     (Parse), strictly, as one version numbered 0 from height 0;
//  6. anything else: ErrUnknownFormat.
//
// Babylon's formats tolerate fields they do not know (Babylon adds fields
// over time) but require every field the protocol needs; a value outside
// the protocol is refused with an error naming the field and, in a list,
// the version. Numbers may be JSON numbers or decimal strings (Babylon's
// JSON writes 64-bit integers as strings); slashing_pk_script is base64;
// the rates are decimals such as "0.001000000000000000".
func ParseVersions(b []byte) (*Versions, error) {
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("%w: document larger than %d bytes", ErrInvalidParams, MaxFileSize)
	}
	// Every format, Babylon's too: one JSON value, no key twice at any
	// depth (a repeated field would otherwise silently take its last
	// value), nothing after it. A repeated key makes the document invalid;
	// anything else is not JSON at all.
	if err := strictjson.Check(b); err != nil {
		if errors.Is(err, strictjson.ErrDuplicateKey) {
			return nil, fmt.Errorf("%w: %v", ErrInvalidParams, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrUnknownFormat, err)
	}
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(trimmed, &list); err != nil {
			return nil, fmt.Errorf("%w: a JSON list that does not decode: %v", ErrUnknownFormat, err)
		}
		return parseUpgradeData(list)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil || top == nil {
		return nil, fmt.Errorf("%w: not a JSON object or list", ErrUnknownFormat)
	}
	if raw, ok := top["versions"]; ok {
		return parsePhase1(raw)
	}
	if raw, ok := top["params"]; ok {
		switch firstByte(raw) {
		case '{':
			return parseParamsResponse(top)
		case '[':
			return parseParamsVersions(top)
		default:
			return nil, fmt.Errorf("%w: params: want an object or a list", ErrInvalidParams)
		}
	}
	for k := range top {
		if ownFields[k] {
			p, err := Parse(b)
			if err != nil {
				return nil, err
			}
			return newVersions([]*Version{{p: p}}, FormatBTCStake, false)
		}
	}
	return nil, fmt.Errorf("%w: a JSON object without \"params\", \"versions\" or a field of the btcstake format", ErrUnknownFormat)
}

// ownFields are the field names of the project's own format.
var ownFields = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range []string{"covenant_pks", "covenant_quorum", "min_staking_value_sat", "max_staking_value_sat",
		"min_staking_time_blocks", "max_staking_time_blocks", "unbonding_time_blocks", "unbonding_fee_sat",
		"slashing_pk_script", "slashing_rate", "min_slashing_tx_fee_sat", "tag"} {
		m[f] = true
	}
	return m
}()

func firstByte(raw json.RawMessage) byte {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return 0
	}
	return t[0]
}

func parseUpgradeData(list []json.RawMessage) (*Versions, error) {
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: an empty list", ErrInvalidVersions)
	}
	var vs []*Version
	for i, raw := range list {
		where := fmt.Sprintf("version %d: ", i)
		m, err := object(raw, where)
		if err != nil {
			return nil, err
		}
		v, err := parseBabylonParams(m, where)
		if err != nil {
			return nil, err
		}
		v.number, v.numbered = uint32(i), true
		vs = append(vs, v)
	}
	return newVersions(vs, FormatBabylonUpgrade, true)
}

func parseParamsResponse(top map[string]json.RawMessage) (*Versions, error) {
	m, err := object(top["params"], "params: ")
	if err != nil {
		return nil, err
	}
	f := fields{m: top}
	n, hasNumber, err := f.uint("version", math.MaxUint32, false, ErrInvalidParams)
	if err != nil {
		return nil, err
	}
	where := ""
	if hasNumber {
		where = fmt.Sprintf("version %d: ", n)
	}
	v, err := parseBabylonParams(m, where)
	if err != nil {
		return nil, err
	}
	v.number, v.numbered = uint32(n), hasNumber
	return newVersions([]*Version{v}, FormatBabylonParams, false)
}

func parseParamsVersions(top map[string]json.RawMessage) (*Versions, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(top["params"], &list); err != nil {
		return nil, fmt.Errorf("%w: params: %v", ErrInvalidParams, err)
	}
	if raw, ok := top["pagination"]; ok && firstByte(raw) == '{' {
		var pg struct {
			NextKey *string `json:"next_key"`
		}
		if err := json.Unmarshal(raw, &pg); err != nil {
			return nil, fmt.Errorf("%w: pagination: %v", ErrInvalidParams, err)
		}
		if pg.NextKey != nil && *pg.NextKey != "" {
			return nil, fmt.Errorf("%w: pagination.next_key is set: this is one page of several; fetch every page", ErrInvalidVersions)
		}
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: params: an empty list", ErrInvalidVersions)
	}
	var vs []*Version
	for i, raw := range list {
		where := fmt.Sprintf("params[%d]: ", i)
		sp, err := object(raw, where)
		if err != nil {
			return nil, err
		}
		f := fields{m: sp, where: where}
		n, _, err := f.uint("version", math.MaxUint32, true, ErrInvalidParams)
		if err != nil {
			return nil, err
		}
		where = fmt.Sprintf("version %d: ", n)
		m, err := object(sp["params"], where+"params: ")
		if err != nil {
			return nil, err
		}
		v, err := parseBabylonParams(m, where)
		if err != nil {
			return nil, err
		}
		v.number, v.numbered = uint32(n), true
		vs = append(vs, v)
	}
	return newVersions(vs, FormatBabylonParamsVersions, true)
}

// object decodes raw as a JSON object (missing or null is an error).
func object(raw json.RawMessage, where string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if firstByte(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		return nil, fmt.Errorf("%w: %swant a JSON object", ErrInvalidParams, where)
	}
	return m, nil
}

// babylonFieldOf names the field of Babylon's Params that each kind New
// returns is about (the covenant keys are checked before New, so a
// covenant error from New is about the quorum).
var babylonFieldOf = map[error]string{
	ErrInvalidCovenant:       "covenant_quorum",
	ErrInvalidStakingValue:   "min_staking_value_sat/max_staking_value_sat",
	ErrInvalidStakingTime:    "min_staking_time_blocks/max_staking_time_blocks",
	ErrInvalidUnbondingTime:  "unbonding_time_blocks",
	ErrInvalidUnbondingFee:   "unbonding_fee_sat",
	ErrInvalidSlashingScript: "slashing_pk_script",
	ErrInvalidSlashingRate:   "slashing_rate",
	ErrInvalidSlashingFee:    "min_slashing_tx_fee_sat",
	ErrDustOutput:            "min_staking_value_sat",
}

// parseBabylonParams reads one x/btcstaking Params object
// (proto/babylon/btcstaking/v1/params.proto) into a version (number not
// set). Unknown fields are ignored.
func parseBabylonParams(m map[string]json.RawMessage, where string) (*Version, error) {
	f := fields{m: m, where: where}
	var c Config
	var err error
	// Step 1: the covenant committee, 32-byte x-only keys in hex, and the
	// quorum.
	if c.CovenantKeys, err = f.keys("covenant_pks", 32); err != nil {
		return nil, err
	}
	q, _, err := f.uint("covenant_quorum", math.MaxUint32, true, ErrInvalidCovenant)
	if err != nil {
		return nil, err
	}
	c.CovenantQuorum = uint32(q)
	// Step 2: the staking value and time ranges.
	if c.MinStakingValue, err = f.sat("min_staking_value_sat", ErrInvalidStakingValue); err != nil {
		return nil, err
	}
	if c.MaxStakingValue, err = f.sat("max_staking_value_sat", ErrInvalidStakingValue); err != nil {
		return nil, err
	}
	if c.MinStakingTime, err = f.blocks("min_staking_time_blocks", ErrInvalidStakingTime); err != nil {
		return nil, err
	}
	if c.MaxStakingTime, err = f.blocks("max_staking_time_blocks", ErrInvalidStakingTime); err != nil {
		return nil, err
	}
	// Step 3: slashing: the script (base64), the minimum fee, the rate.
	s, _, err := f.str("slashing_pk_script", true, ErrInvalidSlashingScript)
	if err != nil {
		return nil, err
	}
	if c.SlashingPkScript, err = base64.StdEncoding.Strict().DecodeString(s); err != nil {
		return nil, f.errf("slashing_pk_script", ErrInvalidSlashingScript, "not base64")
	}
	if c.MinSlashingFee, err = f.sat("min_slashing_tx_fee_sat", ErrInvalidSlashingFee); err != nil {
		return nil, err
	}
	rate, _, err := f.str("slashing_rate", true, ErrInvalidSlashingRate)
	if err != nil {
		return nil, err
	}
	if c.SlashingRate, err = canonicalDec(rate, 18); err != nil {
		return nil, f.errf("slashing_rate", ErrInvalidSlashingRate, "%v", err)
	}
	// Step 4: unbonding.
	if c.UnbondingTime, err = f.blocks("unbonding_time_blocks", ErrInvalidUnbondingTime); err != nil {
		return nil, err
	}
	if c.UnbondingFee, err = f.sat("unbonding_fee_sat", ErrInvalidUnbondingFee); err != nil {
		return nil, err
	}
	// Step 5: where the version applies from, and Babylon's own values.
	h, _, err := f.uint("btc_activation_height", math.MaxUint32, true, ErrInvalidParams)
	if err != nil {
		return nil, err
	}
	var ex BabylonExtras
	if r, ok, err := f.str("min_commission_rate", false, ErrInvalidParams); err != nil {
		return nil, err
	} else if ok {
		if ex.MinCommissionRate, err = canonicalDec(r, 18); err != nil || !atMostOne(ex.MinCommissionRate) {
			return nil, f.errf("min_commission_rate", ErrInvalidParams, "%q is not a decimal from 0 to 1", r)
		}
	}
	if ex.DelegationCreationBaseGasFee, _, err = f.uint("delegation_creation_base_gas_fee", math.MaxUint64, false, ErrInvalidParams); err != nil {
		return nil, err
	}
	if ex.AllowListExpirationHeight, _, err = f.uint("allow_list_expiration_height", math.MaxUint64, false, ErrInvalidParams); err != nil {
		return nil, err
	}
	// Step 6: every rule of docs/spec.md §4.6, the error naming the field.
	p, err := New(c)
	if err != nil {
		return nil, fmt.Errorf("%s%s: %w", where, fieldFor(babylonFieldOf, err), err)
	}
	return &Version{activation: uint32(h), p: p, extras: ex}, nil
}

func fieldFor(table map[error]string, err error) string {
	for k, name := range table {
		if errors.Is(err, k) {
			return name
		}
	}
	return "params"
}

// phase1FieldOf names the field of a phase-1 version that each kind
// validateLock returns is about.
var phase1FieldOf = map[error]string{
	ErrInvalidCovenant:      "covenant_quorum",
	ErrInvalidStakingValue:  "min_staking_amount/max_staking_amount",
	ErrInvalidStakingTime:   "min_staking_time/max_staking_time",
	ErrInvalidUnbondingTime: "unbonding_time",
	ErrInvalidUnbondingFee:  "unbonding_fee",
}

// minPhase1UnbondingOutput is what a phase-1 version's smallest stake must
// keep after the unbonding fee (networks parameters/parser
// MinUnbondingOutputValue).
const minPhase1UnbondingOutput = 1000

// parsePhase1 reads the versions of a phase-1 global-params.json.
func parsePhase1(raw json.RawMessage) (*Versions, error) {
	var list []json.RawMessage
	if firstByte(raw) != '[' || json.Unmarshal(raw, &list) != nil {
		return nil, fmt.Errorf("%w: versions: want a list", ErrInvalidParams)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: versions: an empty list", ErrInvalidVersions)
	}
	var vs []*Version
	var lastCap int64
	var lastCapHeight uint32
	for i, raw := range list {
		m, err := object(raw, fmt.Sprintf("versions[%d]: ", i))
		if err != nil {
			return nil, err
		}
		f := fields{m: m, where: fmt.Sprintf("versions[%d]: ", i)}
		n, _, err := f.uint("version", math.MaxUint32, true, ErrInvalidParams)
		if err != nil {
			return nil, err
		}
		f.where = fmt.Sprintf("version %d: ", n)
		v, err := parsePhase1Version(f)
		if err != nil {
			return nil, err
		}
		v.number, v.numbered = uint32(n), true
		// The caps of later versions do not go down (networks
		// parameters/README.md).
		if ex := v.extras; ex.StakingCap != 0 && ex.StakingCap < lastCap {
			return nil, f.errf("staking_cap", ErrInvalidParams, "%d is below the cap %d of an earlier version", ex.StakingCap, lastCap)
		} else if ex.StakingCap != 0 {
			lastCap = ex.StakingCap
		}
		if ex := v.extras; ex.CapHeight != 0 && ex.CapHeight < lastCapHeight {
			return nil, f.errf("cap_height", ErrInvalidParams, "%d is below the cap height %d of an earlier version", ex.CapHeight, lastCapHeight)
		} else if ex.CapHeight != 0 {
			lastCapHeight = ex.CapHeight
		}
		vs = append(vs, v)
	}
	return newVersions(vs, FormatPhase1, true)
}

func parsePhase1Version(f fields) (*Version, error) {
	var c Config
	var ex BabylonExtras
	var err error
	// Step 1: where it applies from, and its cap: a staking cap or a cap
	// height, exactly one of them.
	h, _, err := f.uint("activation_height", math.MaxUint32, true, ErrInvalidParams)
	if err != nil {
		return nil, err
	}
	if h == 0 {
		return nil, f.errf("activation_height", ErrInvalidParams, "must be positive")
	}
	stakingCap, _, err := f.uint("staking_cap", MaxMoney, false, ErrInvalidParams)
	if err != nil {
		return nil, err
	}
	capHeight, _, err := f.uint("cap_height", math.MaxUint32, false, ErrInvalidParams)
	if err != nil {
		return nil, err
	}
	if (stakingCap == 0) == (capHeight == 0) {
		return nil, f.errf("staking_cap/cap_height", ErrInvalidParams, "exactly one of them must be set")
	}
	ex.StakingCap, ex.CapHeight = int64(stakingCap), uint32(capHeight)
	// Step 2: the 4-byte tag.
	tag, _, err := f.str("tag", true, ErrInvalidParams)
	if err != nil {
		return nil, err
	}
	if c.Tag, err = hex.DecodeString(tag); err != nil {
		return nil, f.errf("tag", ErrInvalidParams, "not hex")
	}
	if _, err := script.ParseTag(c.Tag); err != nil {
		return nil, f.errf("tag", ErrInvalidParams, "%v", err)
	}
	// Step 3: the committee, 33-byte compressed keys in hex.
	if c.CovenantKeys, err = f.keys("covenant_pks", 33); err != nil {
		return nil, err
	}
	q, _, err := f.uint("covenant_quorum", math.MaxUint32, true, ErrInvalidCovenant)
	if err != nil {
		return nil, err
	}
	c.CovenantQuorum = uint32(q)
	// Step 4: unbonding, the staking ranges, the confirmation depth.
	if c.UnbondingTime, err = f.blocks("unbonding_time", ErrInvalidUnbondingTime); err != nil {
		return nil, err
	}
	if c.UnbondingFee, err = f.sat("unbonding_fee", ErrInvalidUnbondingFee); err != nil {
		return nil, err
	}
	if c.MaxStakingValue, err = f.sat("max_staking_amount", ErrInvalidStakingValue); err != nil {
		return nil, err
	}
	if c.MinStakingValue, err = f.sat("min_staking_amount", ErrInvalidStakingValue); err != nil {
		return nil, err
	}
	if c.MaxStakingTime, err = f.blocks("max_staking_time", ErrInvalidStakingTime); err != nil {
		return nil, err
	}
	if c.MinStakingTime, err = f.blocks("min_staking_time", ErrInvalidStakingTime); err != nil {
		return nil, err
	}
	depth, _, err := f.uint("confirmation_depth", math.MaxUint16, true, ErrInvalidParams)
	if err != nil {
		return nil, err
	}
	if depth < 2 {
		return nil, f.errf("confirmation_depth", ErrInvalidParams, "%d, want at least 2", depth)
	}
	ex.ConfirmationDepth = uint32(depth)
	// Step 5: the rules of docs/spec.md §4.6 that apply without slashing
	// values, and phase-1's own: the smallest stake keeps 1,000 sat after
	// the unbonding fee, a staking cap is at least the largest stake.
	if err := validateLock(&c); err != nil {
		return nil, fmt.Errorf("%s%s: %w", f.where, fieldFor(phase1FieldOf, err), err)
	}
	if c.MinStakingValue < c.UnbondingFee+minPhase1UnbondingOutput {
		return nil, f.errf("unbonding_fee", ErrInvalidUnbondingFee, "%d leaves less than %d sat of min_staking_amount %d", c.UnbondingFee, minPhase1UnbondingOutput, c.MinStakingValue)
	}
	if ex.StakingCap != 0 && ex.StakingCap < c.MaxStakingValue {
		return nil, f.errf("staking_cap", ErrInvalidParams, "%d is below max_staking_amount %d", ex.StakingCap, c.MaxStakingValue)
	}
	return &Version{activation: uint32(h), lock: c, extras: ex}, nil
}

// fields reads the fields of one JSON object of a Babylon format; every
// error names the field, after where ("version 4: ").
type fields struct {
	m     map[string]json.RawMessage
	where string
}

func (f fields) errf(name string, kind error, format string, args ...any) error {
	return fmt.Errorf("%s%s: %w: %s", f.where, name, kind, fmt.Sprintf(format, args...))
}

// get returns the field's raw value; a null counts as absent.
func (f fields) get(name string) (json.RawMessage, bool) {
	raw, ok := f.m[name]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return nil, false
	}
	return raw, true
}

// uint reads a non-negative integer at most max, written as a JSON number
// or a string of decimal digits; absent is 0 unless required.
func (f fields) uint(name string, max uint64, required bool, kind error) (uint64, bool, error) {
	raw, ok := f.get(name)
	if !ok {
		if required {
			return 0, false, f.errf(name, kind, "missing")
		}
		return 0, false, nil
	}
	s := string(bytes.TrimSpace(raw))
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false, f.errf(name, kind, "not a number")
		}
	}
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false, f.errf(name, kind, "%.40q is not a non-negative whole number", s)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > max {
		return 0, false, f.errf(name, kind, "%.40s is above %d", s, max)
	}
	return v, true, nil
}

// sat reads a required positive satoshi amount (at most the money supply).
func (f fields) sat(name string, kind error) (int64, error) {
	v, _, err := f.uint(name, MaxMoney, true, kind)
	if err != nil {
		return 0, err
	}
	if v == 0 {
		return 0, f.errf(name, kind, "must be positive")
	}
	return int64(v), nil
}

// blocks reads a required block count, 1..65535.
func (f fields) blocks(name string, kind error) (uint16, error) {
	v, _, err := f.uint(name, math.MaxUint32, true, kind)
	if err != nil {
		return 0, err
	}
	if v < 1 || v > script.MaxTimelock {
		return 0, f.errf(name, kind, "%d, want 1..%d", v, script.MaxTimelock)
	}
	return uint16(v), nil
}

// str reads a JSON string.
func (f fields) str(name string, required bool, kind error) (string, bool, error) {
	raw, ok := f.get(name)
	if !ok {
		if required {
			return "", false, f.errf(name, kind, "missing")
		}
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, f.errf(name, kind, "not a string")
	}
	return s, true, nil
}

// keys reads a required, non-empty list of distinct covenant keys in hex:
// size 32 (x-only, BIP-340) or 33 (compressed).
func (f fields) keys(name string, size int) ([]*btcec.PublicKey, error) {
	raw, ok := f.get(name)
	if !ok {
		return nil, f.errf(name, ErrInvalidCovenant, "missing")
	}
	var hexKeys []string
	if err := json.Unmarshal(raw, &hexKeys); err != nil {
		return nil, f.errf(name, ErrInvalidCovenant, "not a list of strings")
	}
	if len(hexKeys) == 0 {
		return nil, f.errf(name, ErrInvalidCovenant, "no keys")
	}
	seen := map[script.XOnlyKey]int{}
	var out []*btcec.PublicKey
	for i, h := range hexKeys {
		item := fmt.Sprintf("%s[%d]", name, i)
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != size {
			return nil, f.errf(item, ErrInvalidCovenant, "not %d bytes of hex", size)
		}
		var pk *btcec.PublicKey
		if size == 32 {
			xk, err := script.ParseXOnlyKey(b)
			if err != nil {
				return nil, f.errf(item, ErrInvalidCovenant, "%v", err)
			}
			pk, _ = xk.PubKey()
		} else {
			if b[0] != 2 && b[0] != 3 {
				return nil, f.errf(item, ErrInvalidCovenant, "not a compressed key")
			}
			if pk, err = btcec.ParsePubKey(b); err != nil {
				return nil, f.errf(item, ErrInvalidCovenant, "not a point on the curve")
			}
		}
		x := script.XOnly(pk)
		if j, dup := seen[x]; dup {
			return nil, f.errf(item, ErrInvalidCovenant, "the same key as %s[%d]", name, j)
		}
		seen[x] = i
		out = append(out, pk)
	}
	return out, nil
}

// canonicalDec checks that s is a plain decimal (digits, optionally a
// point and at most maxDecimals digits) and returns it without leading
// zeros before the point or trailing zeros after it:
// "0.001000000000000000" is "0.001", "1.000" is "1".
func canonicalDec(s string, maxDecimals int) (string, error) {
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" || strings.Trim(whole, "0123456789") != "" || (hasPoint && (frac == "" || strings.Trim(frac, "0123456789") != "")) {
		return "", fmt.Errorf("%.40q is not a plain decimal", s)
	}
	if len(frac) > maxDecimals {
		return "", fmt.Errorf("%.40q has more than %d decimals", s, maxDecimals)
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	if frac = strings.TrimRight(frac, "0"); frac == "" {
		return whole, nil
	}
	return whole + "." + frac, nil
}

// atMostOne reports whether a canonical decimal is at most 1.
func atMostOne(d string) bool { return d == "1" || d == "0" || strings.HasPrefix(d, "0.") }

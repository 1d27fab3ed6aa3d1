package script

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// Phase-1 ("observable") staking data, carried by a staking transaction in a
// null-data output (docs/spec.md §4.2):
//
//	OP_RETURN OP_DATA_71 <tag:4> <version:1 = 0> <staker:32> <fp:32> <stakingTime:2 big-endian>
//
// That is what this package writes. It reads, as Babylon does, any 73-byte
// null-data script, taking bytes 2..72 as the data whatever the push (see
// ParseV0StakingData).
const (
	TagLen          = 4
	V0DataLen       = TagLen + 1 + 32 + 32 + 2 // 71
	V0OpReturnLen   = 2 + V0DataLen            // 73
	v0Version       = 0
	v0VersionOffset = 2 + TagLen
)

// V0StakingData is the content of a phase-1 staking OP_RETURN.
type V0StakingData struct {
	Tag              [TagLen]byte
	Staker           XOnlyKey
	FinalityProvider XOnlyKey
	StakingTime      uint16
}

// ParseTag checks a phase-1 tag's length.
func ParseTag(b []byte) ([TagLen]byte, error) {
	var t [TagLen]byte
	if len(b) != TagLen {
		return t, fmt.Errorf("%w: want %d bytes, got %d", ErrInvalidTag, TagLen, len(b))
	}
	copy(t[:], b)
	return t, nil
}

// NewV0StakingData builds the OP_RETURN content for a delegation to exactly
// one finality provider.
func NewV0StakingData(tag []byte, staker *btcec.PublicKey, fps []*btcec.PublicKey, stakingTime uint16) (*V0StakingData, error) {
	t, err := ParseTag(tag)
	if err != nil {
		return nil, err
	}
	if staker == nil {
		return nil, fmt.Errorf("%w: staker key is nil", ErrInvalidKey)
	}
	if len(fps) != 1 {
		return nil, fmt.Errorf("%w: got %d", ErrTooManyFinalityProviders, len(fps))
	}
	if fps[0] == nil {
		return nil, fmt.Errorf("%w: finality provider key is nil", ErrInvalidKey)
	}
	if stakingTime == 0 {
		return nil, fmt.Errorf("%w: staking time must be at least 1 block", ErrInvalidTimelock)
	}
	d := &V0StakingData{Tag: t, Staker: XOnly(staker), FinalityProvider: XOnly(fps[0]), StakingTime: stakingTime}
	if d.Staker == d.FinalityProvider {
		return nil, fmt.Errorf("%w: finality provider key is the staker key", ErrDuplicateKey)
	}
	return d, nil
}

// Script returns the 73-byte null-data output script.
func (d *V0StakingData) Script() []byte {
	s := make([]byte, 0, V0OpReturnLen)
	s = append(s, txscript.OP_RETURN, txscript.OP_DATA_71)
	s = append(s, d.Tag[:]...)
	s = append(s, v0Version)
	s = append(s, d.Staker[:]...)
	s = append(s, d.FinalityProvider[:]...)
	return binary.BigEndian.AppendUint16(s, d.StakingTime)
}

// TxOut returns the zero-value OP_RETURN output.
func (d *V0StakingData) TxOut() *wire.TxOut { return wire.NewTxOut(0, d.Script()) }

// ParseV0StakingData parses a phase-1 OP_RETURN script by Babylon's rule
// (docs/spec.md §4.2): the script is 73 bytes of null data, that is
// OP_RETURN and a single push (txscript.IsNullData), and its bytes 2..72
// are the 71 data bytes, version 0, keys that are valid x coordinates. It
// fails with ErrMalformedOpReturn otherwise.
//
// Besides OP_DATA_71, three non-minimal pushes fill 73 bytes, and Babylon
// accepts them: OP_PUSHDATA1 70 (6a 4c 46 ...), OP_PUSHDATA2 69
// (6a 4d 45 00 ...) and OP_PUSHDATA4 67 (6a 4e 43 00 00 00 ...). Their
// length bytes are read as the first bytes of the tag, so such a script
// carries a tag starting 46, 45 00 or 43 00 00 00. Script writes the
// OP_DATA_71 form, which differs from such an input in byte 1 only.
func ParseV0StakingData(pkScript []byte) (*V0StakingData, error) {
	if len(pkScript) != V0OpReturnLen {
		return nil, fmt.Errorf("%w: script is %d bytes, want %d", ErrMalformedOpReturn, len(pkScript), V0OpReturnLen)
	}
	if !isV0NullData(pkScript) {
		return nil, fmt.Errorf("%w: not OP_RETURN followed by a single push", ErrMalformedOpReturn)
	}
	if v := pkScript[v0VersionOffset]; v != v0Version {
		return nil, fmt.Errorf("%w: unsupported version %d", ErrMalformedOpReturn, v)
	}
	d := &V0StakingData{}
	copy(d.Tag[:], pkScript[2:2+TagLen])
	off := v0VersionOffset + 1
	copy(d.Staker[:], pkScript[off:off+32])
	copy(d.FinalityProvider[:], pkScript[off+32:off+64])
	d.StakingTime = binary.BigEndian.Uint16(pkScript[off+64:])
	// Both keys must be x coordinates of curve points (checked without
	// lifting them: a block scanner calls this for every candidate).
	if !isXCoordinate((*[32]byte)(&d.Staker)) {
		return nil, fmt.Errorf("%w: staker key %s is not on the curve", ErrMalformedOpReturn, d.Staker)
	}
	if !isXCoordinate((*[32]byte)(&d.FinalityProvider)) {
		return nil, fmt.Errorf("%w: finality provider key %s is not on the curve", ErrMalformedOpReturn, d.FinalityProvider)
	}
	return d, nil
}

// isV0NullData reports whether pkScript is 73 bytes of null data in btcd's
// sense (txscript.IsNullData, Babylon's test: OP_RETURN, then one push of
// at most 80 bytes, minimal or not). Exactly four pushes fill the 72
// bytes after OP_RETURN: OP_DATA_71, OP_PUSHDATA1 70, OP_PUSHDATA2 69 and
// OP_PUSHDATA4 67 (lengths little-endian). It allocates nothing.
func isV0NullData(pkScript []byte) bool {
	if len(pkScript) != V0OpReturnLen || pkScript[0] != txscript.OP_RETURN {
		return false
	}
	switch pkScript[1] {
	case txscript.OP_DATA_71:
		return true
	case txscript.OP_PUSHDATA1:
		return pkScript[2] == 70
	case txscript.OP_PUSHDATA2:
		return pkScript[2] == 69 && pkScript[3] == 0
	case txscript.OP_PUSHDATA4:
		return pkScript[2] == 67 && pkScript[3] == 0 && pkScript[4] == 0 && pkScript[5] == 0
	}
	return false
}

// isV0Candidate reports whether pkScript has the phase-1 OP_RETURN shape
// with the given tag and version 0. It allocates nothing.
func isV0Candidate(pkScript []byte, tag *[TagLen]byte) bool {
	return isV0NullData(pkScript) &&
		bytes.Equal(pkScript[2:2+TagLen], tag[:]) && pkScript[v0VersionOffset] == v0Version
}

// IsPossibleV0StakingTx is the cheap prefilter for block scanners: at least
// two outputs and exactly one 73-byte null-data output (any of the pushes
// ParseV0StakingData reads) carrying tag and version 0. It allocates nothing and checks no key; ParseStakingTx does the
// full check.
func IsPossibleV0StakingTx(tx *wire.MsgTx, tag [TagLen]byte) bool {
	if tx == nil || len(tx.TxOut) < 2 {
		return false
	}
	found := false
	for _, out := range tx.TxOut {
		if out == nil || !isV0Candidate(out.PkScript, &tag) {
			continue
		}
		if found {
			return false
		}
		found = true
	}
	return found
}

// StakingTxParser recognises phase-1 staking transactions for one set of
// protocol parameters. Build it once, use it for every transaction of a
// block; it is safe for concurrent use.
type StakingTxParser struct {
	tag    [TagLen]byte
	cov    []XOnlyKey // ascending
	quorum uint32
}

// ParserConfig are the parameters a staking transaction is checked against.
type ParserConfig struct {
	Tag            []byte
	Covenant       []*btcec.PublicKey
	CovenantQuorum uint32
}

// NewStakingTxParser validates the tag and the covenant committee once.
func NewStakingTxParser(cfg ParserConfig) (*StakingTxParser, error) {
	tag, err := ParseTag(cfg.Tag)
	if err != nil {
		return nil, err
	}
	cov, err := xonlyAll("covenant", cfg.Covenant)
	if err != nil {
		return nil, err
	}
	// Validate the committee on its own (any staker key distinct from it).
	sorted, err := checkCommittee(XOnlyKey{}, nil, cov, cfg.CovenantQuorum)
	if err != nil {
		return nil, err
	}
	return &StakingTxParser{tag: tag, cov: sorted, quorum: cfg.CovenantQuorum}, nil
}

// ParsedStakingTx is a recognised phase-1 staking transaction.
type ParsedStakingTx struct {
	Data               V0StakingData
	Output             *Output // the staking output the OP_RETURN describes
	StakingOutputIndex int
	OpReturnIndex      int
	Value              int64 // satoshis in the staking output
}

// IsPossible is the zero-allocation prefilter with the parser's tag.
func (p *StakingTxParser) IsPossible(tx *wire.MsgTx) bool { return IsPossibleV0StakingTx(tx, p.tag) }

// Parse recognises a phase-1 staking transaction: exactly one OP_RETURN
// with valid version-0 staking data (any tag, any of the pushes
// ParseV0StakingData reads; 73-byte OP_RETURNs that do not decode are
// ignored, as Babylon does), carrying the parser's tag;
// and exactly one output paying the staking output rebuilt from its staker
// key, finality provider key and staking time with the parser's covenant
// committee. Errors: ErrNotStakingTx, ErrAmbiguousStakingTx,
// ErrMalformedOpReturn, and the key and time lock kinds of NewStakingOutput.
func (p *StakingTxParser) Parse(tx *wire.MsgTx) (*ParsedStakingTx, error) {
	if tx == nil {
		return nil, fmt.Errorf("%w: nil transaction", ErrNotStakingTx)
	}
	if len(tx.TxOut) < 2 {
		return nil, fmt.Errorf("%w: %d outputs, need at least 2", ErrNotStakingTx, len(tx.TxOut))
	}
	// Step 1: find the single OP_RETURN holding valid version-0 staking
	// data (any tag). As in Babylon's parser, a 73-byte OP_RETURN that does
	// not decode (another version, a key off the curve) is skipped; it is
	// reported only if no output decodes.
	opIdx := -1
	var data *V0StakingData
	var malformed error
	for i, out := range tx.TxOut {
		if out == nil {
			continue
		}
		s := out.PkScript
		if !isV0NullData(s) {
			continue
		}
		d, err := ParseV0StakingData(s)
		if err != nil {
			if malformed == nil {
				malformed = err
			}
			continue
		}
		if opIdx >= 0 {
			return nil, fmt.Errorf("%w: phase-1 op_return outputs at %d and %d", ErrAmbiguousStakingTx, opIdx, i)
		}
		opIdx, data = i, d
	}
	if opIdx < 0 {
		if malformed != nil {
			return nil, malformed
		}
		return nil, fmt.Errorf("%w: no phase-1 op_return output", ErrNotStakingTx)
	}
	// Step 2: the tag.
	if data.Tag != p.tag {
		return nil, fmt.Errorf("%w: tag %x, want %x", ErrNotStakingTx, data.Tag[:], p.tag[:])
	}
	// Step 3: rebuild the staking output and find the one output paying it.
	v, err := newParties(data.Staker, []XOnlyKey{data.FinalityProvider}, p.cov, p.quorum)
	if err != nil {
		return nil, err
	}
	out, err := buildStaking(v, data.StakingTime)
	if err != nil {
		return nil, err
	}
	stIdx := -1
	for i, o := range tx.TxOut {
		if o != nil && bytes.Equal(o.PkScript, out.PkScript) {
			if stIdx >= 0 {
				return nil, fmt.Errorf("%w: staking outputs at %d and %d", ErrAmbiguousStakingTx, stIdx, i)
			}
			stIdx = i
		}
	}
	if stIdx < 0 {
		return nil, fmt.Errorf("%w: no output pays the staking script the op_return describes", ErrNotStakingTx)
	}
	return &ParsedStakingTx{
		Data: *data, Output: out, StakingOutputIndex: stIdx, OpReturnIndex: opIdx,
		Value: tx.TxOut[stIdx].Value,
	}, nil
}

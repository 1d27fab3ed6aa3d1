package script

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// Leaf is what a staking leaf script commits to, as recovered by
// ParseLeafScript. Key lists are ascending, as in the script.
type Leaf struct {
	Kind              PathKind
	Staker            XOnlyKey
	FinalityProviders []XOnlyKey // slashing leaves only
	Covenant          []XOnlyKey // unbonding and slashing leaves
	Quorum            uint32
	Timelock          uint16 // timelock leaves only
}

// Script rebuilds the leaf script.
func (l *Leaf) Script() []byte {
	switch l.Kind {
	case TimelockPath:
		return timelockScript(nil, l.Staker, l.Timelock)
	case UnbondingPath:
		return unbondingScript(nil, l.Staker, l.Covenant, l.Quorum)
	case SlashingPath:
		return slashingScript(nil, l.Staker, l.FinalityProviders, l.Covenant, l.Quorum)
	}
	return nil
}

// ParseLeafScript recognises a timelock, unbonding or slashing leaf and
// returns its parts. It accepts exactly the bytes this package's builders
// produce (minimal pushes, ascending unique keys, valid quorum, distinct
// roles) and fails with ErrUnknownLeaf on anything else, rejecting as early
// as the first unexpected opcode.
func ParseLeafScript(s []byte) (*Leaf, error) {
	tok := txscript.MakeScriptTokenizer(0, s)
	next := func() (byte, []byte, bool) {
		if !tok.Next() {
			return 0, nil, false
		}
		return tok.Opcode(), tok.Data(), true
	}
	fail := func(why string) (*Leaf, error) {
		return nil, fmt.Errorf("%w: %s", ErrUnknownLeaf, why)
	}
	// Step 1: <Staker> OP_CHECKSIGVERIFY.
	op, data, ok := next()
	if !ok || op != txscript.OP_DATA_32 {
		return fail("does not start with a 32-byte key")
	}
	l := &Leaf{}
	copy(l.Staker[:], data)
	if op, _, ok = next(); !ok || op != txscript.OP_CHECKSIGVERIFY {
		return fail("staker key not followed by OP_CHECKSIGVERIFY")
	}
	// Step 2: a time lock, or one or two key groups.
	op, data, ok = next()
	if !ok {
		return fail("ends after the staker check")
	}
	if op != txscript.OP_DATA_32 {
		n, err := scriptNum(op, data)
		if err != nil || n < 1 || n > MaxTimelock {
			return fail("expected a key or a time lock of 1..65535 blocks")
		}
		if op, _, ok = next(); !ok || op != txscript.OP_CHECKSEQUENCEVERIFY {
			return fail("time lock not followed by OP_CHECKSEQUENCEVERIFY")
		}
		l.Kind, l.Timelock = TimelockPath, uint16(n)
		return l.finish(s, tok)
	}
	first, m1, verify1, err := keyGroup(data, next)
	if err != nil {
		return fail(err.Error())
	}
	if !verify1 {
		l.Kind, l.Covenant, l.Quorum = UnbondingPath, first, m1
		return l.finish(s, tok)
	}
	if m1 != 1 {
		return fail("finality provider group must have threshold 1")
	}
	if op, data, ok = next(); !ok || op != txscript.OP_DATA_32 {
		return fail("finality provider group not followed by covenant keys")
	}
	cov, m2, verify2, err := keyGroup(data, next)
	if err != nil {
		return fail(err.Error())
	}
	if verify2 {
		return fail("covenant group ends in a VERIFY opcode")
	}
	l.Kind, l.FinalityProviders, l.Covenant, l.Quorum = SlashingPath, first, cov, m2
	return l.finish(s, tok)
}

// finish checks the tokenizer reached the end cleanly, validates the roles
// and confirms the script is exactly what the builder would produce.
func (l *Leaf) finish(s []byte, tok txscript.ScriptTokenizer) (*Leaf, error) {
	if tok.Next() || tok.Err() != nil {
		return nil, fmt.Errorf("%w: trailing or malformed bytes", ErrUnknownLeaf)
	}
	if l.Kind != TimelockPath {
		if _, err := checkCommittee(l.Staker, l.FinalityProviders, l.Covenant, l.Quorum); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnknownLeaf, err)
		}
	}
	if !bytes.Equal(l.Script(), s) {
		return nil, fmt.Errorf("%w: not in canonical form", ErrUnknownLeaf)
	}
	return l, nil
}

// keyGroup parses a single-key check or a CHECKSIGADD threshold group whose
// first key (already read) is k0. It returns the keys (required ascending and
// unique), the threshold (1 for a single key) and whether the group ends in a
// VERIFY opcode.
func keyGroup(k0 []byte, next func() (byte, []byte, bool)) ([]XOnlyKey, uint32, bool, error) {
	var k XOnlyKey
	copy(k[:], k0)
	keys := []XOnlyKey{k}
	op, _, ok := next()
	switch {
	case !ok:
		return nil, 0, false, fmt.Errorf("key not followed by a signature check")
	case op == txscript.OP_CHECKSIGVERIFY:
		return keys, 1, true, nil
	case op != txscript.OP_CHECKSIG:
		return nil, 0, false, fmt.Errorf("key followed by opcode %02x", op)
	}
	for {
		op, data, ok := next()
		if !ok {
			if len(keys) == 1 {
				return keys, 1, false, nil // "<K> OP_CHECKSIG" at the end
			}
			return nil, 0, false, fmt.Errorf("threshold group has no threshold")
		}
		if op == txscript.OP_DATA_32 {
			var k XOnlyKey
			copy(k[:], data)
			if compareKeys(keys[len(keys)-1], k) >= 0 {
				return nil, 0, false, fmt.Errorf("keys not strictly ascending")
			}
			keys = append(keys, k)
			if op, _, ok := next(); !ok || op != txscript.OP_CHECKSIGADD {
				return nil, 0, false, fmt.Errorf("key not followed by OP_CHECKSIGADD")
			}
			continue
		}
		if len(keys) == 1 {
			return nil, 0, false, fmt.Errorf("single key group continues with opcode %02x", op)
		}
		m, err := scriptNum(op, data)
		if err != nil || m < 1 || m > int64(len(keys)) {
			return nil, 0, false, fmt.Errorf("threshold must be 1..%d", len(keys))
		}
		switch op, _, ok := next(); {
		case ok && op == txscript.OP_NUMEQUAL:
			return keys, uint32(m), false, nil
		case ok && op == txscript.OP_NUMEQUALVERIFY:
			return keys, uint32(m), true, nil
		}
		return nil, 0, false, fmt.Errorf("threshold not followed by OP_NUMEQUAL(VERIFY)")
	}
}

// scriptNum decodes a small-integer opcode or a push of up to 3 bytes as a
// non-negative script number (minimality is enforced by the caller's
// canonical re-encoding).
func scriptNum(op byte, data []byte) (int64, error) {
	switch {
	case op >= txscript.OP_1 && op <= txscript.OP_16:
		return int64(op - txscript.OP_1 + 1), nil
	case op >= txscript.OP_DATA_1 && op <= txscript.OP_DATA_3:
		var n int64
		for i := len(data) - 1; i >= 0; i-- {
			n = n<<8 | int64(data[i])
		}
		if data[len(data)-1]&0x80 != 0 {
			return 0, fmt.Errorf("negative number")
		}
		return n, nil
	}
	return 0, fmt.Errorf("not a number")
}

// Witness assembles the witness that spends this leaf (see Output.Witness
// for the layout and the rules), given its control block.
func (l *Leaf) Witness(sigs Signatures, controlBlock []byte) (wire.TxWitness, error) {
	return leafWitness(l, l.Script(), controlBlock, sigs)
}

// Role is the slot a key has in a leaf.
type Role int

const (
	NoRole Role = iota
	StakerRole
	FinalityProviderRole
	CovenantRole
)

// String gives the role's one spelling in text and JSON.
func (r Role) String() string {
	switch r {
	case StakerRole:
		return "staker"
	case FinalityProviderRole:
		return "finality provider"
	case CovenantRole:
		return "covenant member"
	}
	return "none"
}

// Role says which slot key x has in the leaf (NoRole for none). The parties
// of a leaf are distinct (§1), so a key has at most one slot.
func (l *Leaf) Role(x XOnlyKey) Role {
	switch {
	case l.Staker == x:
		return StakerRole
	case slices.Contains(l.FinalityProviders, x):
		return FinalityProviderRole
	case slices.Contains(l.Covenant, x):
		return CovenantRole
	}
	return NoRole
}

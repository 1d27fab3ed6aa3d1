package script

import (
	"crypto/sha256"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// RevealedOutput is what a staking leaf and its control block reveal about
// the output they spend.
type RevealedOutput struct {
	// Kind is the protocol output whose tree fits the leaf and its Merkle
	// path; 0 when none does.
	Kind OutputKind
	// StakingTime is the staking output's time lock when revealed (the
	// timelock leaf of a staking output, or found by a search); else 0.
	StakingTime uint16
	// UnbondingTime is the time lock of an unbonding or slashing change
	// output when revealed; else 0.
	UnbondingTime uint16
	// Searched is set when an exhaustive time-lock search ran.
	Searched bool
}

// TimelockSearch says how RevealOutput may recover a time lock that a
// Merkle path holds only as a leaf hash.
type TimelockSearch struct {
	// Hints are time locks tried first (the params' unbonding time, say).
	Hints []uint16
	// Exhaustive allows trying every time lock 1..65535 when no hint fits:
	// tens of milliseconds.
	Exhaustive bool
}

// RevealOutput recovers which of the protocol's outputs a leaf spend
// reveals from the control block's Merkle path (docs/spec.md §3), and the
// time locks it commits to:
//
//	staking output         Branch(Branch(timelock(stakingTime), unbonding), slashing)
//	unbonding output       Branch(timelock(unbondingTime), slashing)
//	slashing change output timelock(unbondingTime) alone
//
// So a timelock leaf at depth 0, 1, 2 spends a slashing change, unbonding,
// staking output and carries its lock; an unbonding leaf (depth 2) spends a
// staking output, whose staking time is the lock of the timelock leaf
// hashed in the path; a slashing leaf at depth 1 spends an unbonding output
// when its sibling is timelock(t) for some t, or a staking output when its
// sibling is Branch(timelock(t), unbonding). Those hashes are inverted by
// trying the hints and then, if allowed, every t.
//
// It does not check that the control block commits to any particular
// output (ControlBlock.Commits does, given the output script).
func RevealOutput(leaf *Leaf, cb *ControlBlock, search TimelockSearch) RevealedOutput {
	if leaf == nil || cb == nil {
		return RevealedOutput{}
	}
	depth := len(cb.Path)
	switch {
	case leaf.Kind == TimelockPath && depth == 0:
		return RevealedOutput{Kind: SlashingChangeOutputKind, UnbondingTime: leaf.Timelock}
	case leaf.Kind == TimelockPath && depth == 1:
		return RevealedOutput{Kind: UnbondingOutputKind, UnbondingTime: leaf.Timelock}
	case leaf.Kind == TimelockPath && depth == 2:
		return RevealedOutput{Kind: StakingOutputKind, StakingTime: leaf.Timelock}
	case leaf.Kind == UnbondingPath && depth == 2:
		r := RevealedOutput{Kind: StakingOutputKind}
		var ok bool
		r.StakingTime, _, ok, r.Searched = findTimelock(leaf.Staker, cb.Path[0], nil, search)
		if !ok {
			r.StakingTime = 0
		}
		return r
	case leaf.Kind == SlashingPath && depth == 1:
		ub := TapLeaf{BaseLeafVersion, unbondingScript(nil, leaf.Staker, leaf.Covenant, leaf.Quorum)}.Hash()
		t, viaBranch, ok, searched := findTimelock(leaf.Staker, cb.Path[0], &ub, search)
		switch {
		case !ok:
			return RevealedOutput{Searched: searched}
		case viaBranch:
			return RevealedOutput{Kind: StakingOutputKind, StakingTime: t, Searched: searched}
		}
		return RevealedOutput{Kind: UnbondingOutputKind, UnbondingTime: t, Searched: searched}
	}
	return RevealedOutput{}
}

// findTimelock looks for t with hash(timelock(staker, t)) == want or, when
// sibling is given, Branch(hash(timelock(staker, t)), sibling) == want;
// viaBranch says which matched. The hints go first, then (if allowed) every
// t from 1 to 65535.
func findTimelock(staker XOnlyKey, want chainhash.Hash, sibling *chainhash.Hash, search TimelockSearch) (t uint16, viaBranch, ok, searched bool) {
	var h timelockHasher
	h.init(staker)
	try := func(t uint16) (bool, bool) {
		lh := h.hash(t)
		if lh == want {
			return true, false
		}
		if sibling != nil && branchHash(lh, *sibling) == want {
			return true, true
		}
		return false, false
	}
	for _, t := range search.Hints {
		if t == 0 {
			continue
		}
		if found, br := try(t); found {
			return t, br, true, false
		}
	}
	if !search.Exhaustive {
		return 0, false, false, false
	}
	for t := 1; t <= MaxTimelock; t++ {
		if found, br := try(uint16(t)); found {
			return uint16(t), br, true, true
		}
	}
	return 0, false, false, true
}

// timelockHasher computes the leaf hashes of timelock(staker, t) for many t
// without allocating: the tagged-hash prefix and the key part of the
// script are written once.
type timelockHasher struct {
	buf [64 + 1 + 1 + 34 + 5]byte // tags, version, script length, script
}

func (h *timelockHasher) init(staker XOnlyKey) {
	copy(h.buf[0:], tagLeaf[:])
	copy(h.buf[32:], tagLeaf[:])
	h.buf[64] = BaseLeafVersion
	appendKeyCheck(h.buf[66:66], staker, true)
}

// hash is TapLeaf{BaseLeafVersion, timelockScript(staker, t)}.Hash().
func (h *timelockHasher) hash(t uint16) chainhash.Hash {
	tail := appendScriptNum(h.buf[100:100], int64(t))
	n := 34 + len(tail) + 1
	h.buf[100+len(tail)] = 0xb2 // OP_CHECKSEQUENCEVERIFY
	h.buf[65] = byte(n)
	return sha256.Sum256(h.buf[:66+n])
}

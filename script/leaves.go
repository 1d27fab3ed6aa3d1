package script

import (
	"fmt"

	"github.com/btcsuite/btcd/txscript/v2"
)

// MaxTimelock is the largest relative time lock a staking script can carry:
// Babylon's time locks are uint16 block counts.
const MaxTimelock = 65535

// CheckTimelock validates a relative time lock given as a plain integer (from
// a flag or a JSON file) and returns it as the uint16 the builders take.
func CheckTimelock(what string, blocks int64) (uint16, error) {
	if blocks < 1 || blocks > MaxTimelock {
		return 0, fmt.Errorf("%w: %s %d is outside 1..%d blocks", ErrInvalidTimelock, what, blocks, MaxTimelock)
	}
	return uint16(blocks), nil
}

// appendScriptNum appends n as txscript.ScriptBuilder.AddInt64 does: OP_0,
// OP_1NEGATE and OP_1..OP_16 for small values, otherwise the minimal
// little-endian script number behind a direct push.
func appendScriptNum(b []byte, n int64) []byte {
	switch {
	case n == 0:
		return append(b, txscript.OP_0)
	case n == -1 || (n >= 1 && n <= 16):
		return append(b, byte(txscript.OP_1-1+n))
	}
	var num [9]byte
	l := 0
	neg := n < 0
	m := n
	if neg {
		m = -n
	}
	for m > 0 {
		num[l] = byte(m & 0xff)
		l++
		m >>= 8
	}
	// Keep the sign bit free: add a zero (or 0x80) byte if the top bit is set.
	if num[l-1]&0x80 != 0 {
		if neg {
			num[l] = 0x80
		} else {
			num[l] = 0
		}
		l++
	} else if neg {
		num[l-1] |= 0x80
	}
	b = append(b, byte(l))
	return append(b, num[:l]...)
}

// appendKeyCheck appends "<K> OP_CHECKSIG", or "<K> OP_CHECKSIGVERIFY" when
// verify is set.
func appendKeyCheck(b []byte, k XOnlyKey, verify bool) []byte {
	b = append(b, txscript.OP_DATA_32)
	b = append(b, k[:]...)
	if verify {
		return append(b, txscript.OP_CHECKSIGVERIFY)
	}
	return append(b, txscript.OP_CHECKSIG)
}

// appendMultisig appends the tapscript threshold check over keys, which must
// already be sorted ascending and unique:
//
//	<K1> OP_CHECKSIG <K2> OP_CHECKSIGADD ... <Kn> OP_CHECKSIGADD <M> OP_NUMEQUAL
//
// (OP_NUMEQUALVERIFY when verify is set). With one key it degenerates to
// appendKeyCheck and the threshold is not written.
func appendMultisig(b []byte, keys []XOnlyKey, threshold uint32, verify bool) []byte {
	if len(keys) == 1 {
		return appendKeyCheck(b, keys[0], verify)
	}
	for i, k := range keys {
		b = append(b, txscript.OP_DATA_32)
		b = append(b, k[:]...)
		if i == 0 {
			b = append(b, txscript.OP_CHECKSIG)
		} else {
			b = append(b, txscript.OP_CHECKSIGADD)
		}
	}
	b = appendScriptNum(b, int64(threshold))
	if verify {
		return append(b, txscript.OP_NUMEQUALVERIFY)
	}
	return append(b, txscript.OP_NUMEQUAL)
}

// multisigLen is the byte length appendMultisig produces.
func multisigLen(n int, threshold uint32) int {
	if n == 1 {
		return 34
	}
	return n*34 + len(appendScriptNum(nil, int64(threshold))) + 1
}

// TimelockScript returns the timelock leaf, which lets the staker alone spend
// once the output is lock blocks deep:
//
//	<StakerPk> OP_CHECKSIGVERIFY <lock> OP_CHECKSEQUENCEVERIFY
//
// Witness: <StakerSig> <script> <control block>, in a version-2 transaction
// whose input has nSequence = lock (BIP-68 relative block lock).
func TimelockScript(staker XOnlyKey, lock uint16) ([]byte, error) {
	if lock == 0 {
		return nil, fmt.Errorf("%w: time lock must be at least 1 block", ErrInvalidTimelock)
	}
	b := make([]byte, 0, 34+4)
	return timelockScript(b, staker, lock), nil
}

func timelockScript(b []byte, staker XOnlyKey, lock uint16) []byte {
	b = appendKeyCheck(b, staker, true)
	b = appendScriptNum(b, int64(lock))
	return append(b, txscript.OP_CHECKSEQUENCEVERIFY)
}

// UnbondingScript returns the unbonding leaf, which lets the staker leave
// early with the co-signatures of exactly quorum covenant members:
//
//	<StakerPk> OP_CHECKSIGVERIFY
//	<CovPk1> OP_CHECKSIG <CovPk2> OP_CHECKSIGADD ... <CovPkN> OP_CHECKSIGADD <quorum> OP_NUMEQUAL
//
// with the covenant keys sorted ascending; with a single covenant key the
// second line is "<CovPk> OP_CHECKSIG".
//
// Witness: <CovSig for the largest key or empty> ... <CovSig for the smallest
// key or empty> <StakerSig> <script> <control block>: exactly quorum of the
// covenant items non-empty.
func UnbondingScript(staker XOnlyKey, covenant []XOnlyKey, quorum uint32) ([]byte, error) {
	cov, err := checkCommittee(staker, nil, covenant, quorum)
	if err != nil {
		return nil, err
	}
	return unbondingScript(make([]byte, 0, 34+multisigLen(len(cov), quorum)), staker, cov, quorum), nil
}

func unbondingScript(b []byte, staker XOnlyKey, sortedCov []XOnlyKey, quorum uint32) []byte {
	b = appendKeyCheck(b, staker, true)
	return appendMultisig(b, sortedCov, quorum, false)
}

// SlashingScript returns the slashing leaf, which spends the output when the
// staker (who pre-signs the slashing transaction), one of the finality
// providers and exactly quorum covenant members all sign:
//
//	<StakerPk> OP_CHECKSIGVERIFY
//	<FpPk1> OP_CHECKSIG <FpPk2> OP_CHECKSIGADD ... <FpPkK> OP_CHECKSIGADD 1 OP_NUMEQUALVERIFY
//	<CovPk1> OP_CHECKSIG <CovPk2> OP_CHECKSIGADD ... <CovPkN> OP_CHECKSIGADD <quorum> OP_NUMEQUAL
//
// with each key list sorted ascending; a single finality provider makes the
// second line "<FpPk> OP_CHECKSIGVERIFY", a single covenant key the third
// "<CovPk> OP_CHECKSIG".
//
// Witness: <CovSig for the largest key or empty> ... <CovSig for the smallest
// or empty> <FpSig for the largest FP key or empty> ... <FpSig for the
// smallest or empty> <StakerSig> <script> <control block>: exactly quorum
// covenant items and exactly one FP item non-empty.
func SlashingScript(staker XOnlyKey, fps, covenant []XOnlyKey, quorum uint32) ([]byte, error) {
	if len(fps) == 0 {
		return nil, fmt.Errorf("%w", ErrNoFinalityProvider)
	}
	cov, err := checkCommittee(staker, fps, covenant, quorum)
	if err != nil {
		return nil, err
	}
	sfps, err := sortedUnique("finality provider", fps)
	if err != nil {
		return nil, err
	}
	n := 34 + multisigLen(len(sfps), 1) + multisigLen(len(cov), quorum)
	return slashingScript(make([]byte, 0, n), staker, sfps, cov, quorum), nil
}

func slashingScript(b []byte, staker XOnlyKey, sortedFPs, sortedCov []XOnlyKey, quorum uint32) []byte {
	b = appendKeyCheck(b, staker, true)
	b = appendMultisig(b, sortedFPs, 1, true)
	return appendMultisig(b, sortedCov, quorum, false)
}

// checkCommittee validates the covenant committee and the distinctness of
// every key, returning the covenant keys sorted ascending.
func checkCommittee(staker XOnlyKey, fps, covenant []XOnlyKey, quorum uint32) ([]XOnlyKey, error) {
	if len(covenant) == 0 {
		return nil, fmt.Errorf("%w", ErrNoCovenantKeys)
	}
	if quorum == 0 || quorum > uint32(len(covenant)) {
		return nil, fmt.Errorf("%w: quorum %d with %d covenant keys (want 1..%d)",
			ErrInvalidQuorum, quorum, len(covenant), len(covenant))
	}
	cov, err := sortedUnique("covenant", covenant)
	if err != nil {
		return nil, err
	}
	if err := checkDistinct(staker, fps, cov); err != nil {
		return nil, err
	}
	return cov, nil
}

// checkDistinct enforces docs/spec.md §1: staker, finality-provider and
// covenant keys pairwise distinct across the roles (duplicates within one
// role are caught by sortedUnique).
func checkDistinct(staker XOnlyKey, fps, cov []XOnlyKey) error {
	switch k, c := roleClash(staker, fps, cov); c {
	case fpIsStaker:
		return fmt.Errorf("%w: finality provider key %s is the staker key", ErrDuplicateKey, k)
	case fpIsCovenant:
		return fmt.Errorf("%w: finality provider key %s is also a covenant key", ErrDuplicateKey, k)
	case covenantIsStaker:
		return fmt.Errorf("%w: covenant key %s is the staker key", ErrDuplicateKey, k)
	}
	return nil
}

// The ways two roles can share a key (roleClash).
const (
	noClash = iota
	fpIsStaker
	fpIsCovenant
	covenantIsStaker
)

// roleClash returns the first key found in two roles and how, or noClash.
// It does not allocate: the block scan (ScanBlock) checks every candidate
// with it.
func roleClash(staker XOnlyKey, fps, cov []XOnlyKey) (XOnlyKey, int) {
	for _, f := range fps {
		if f == staker {
			return f, fpIsStaker
		}
		for _, c := range cov {
			if f == c {
				return f, fpIsCovenant
			}
		}
	}
	for _, c := range cov {
		if c == staker {
			return c, covenantIsStaker
		}
	}
	return XOnlyKey{}, noClash
}

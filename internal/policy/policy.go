// Package policy holds the relay-policy rules (Bitcoin Core's and btcd's
// standardness defaults) that the params, the builders and the validators
// share, without importing a node implementation.
package policy

import "github.com/btcsuite/btcd/txscript/v2"

// DustRelayFee is the dust relay fee in sat/kvB (Bitcoin Core's
// -dustrelayfee default and btcd's default minimum relay fee).
const DustRelayFee = 1000

// DustThreshold is the smallest value of an output with pkScript that is
// not dust at DustRelayFee: three times the cost of creating and spending
// it, where the spend is 41 bytes of outpoint, sequence and length plus a
// 107-byte signature and key, counted at a quarter for a witness program.
// This gives 330 sat for P2TR, 294 for P2WPKH, 546 for P2PKH.
func DustThreshold(pkScript []byte) int64 {
	// Step 1: the serialized output: 8-byte value, compact-size length,
	// script.
	size := 8 + compactSizeLen(len(pkScript)) + len(pkScript)
	// Step 2: plus the input that spends it.
	size += 41
	if txscript.IsWitnessProgram(pkScript) {
		size += 107 / 4
	} else {
		size += 107
	}
	// Step 3: three times its fee at DustRelayFee per 1000 bytes.
	return 3 * int64(size) * DustRelayFee / 1000
}

// IsDust reports whether an output of value to pkScript is dust under
// relay policy. A null-data (OP_RETURN) output is never dust: it is
// standard at any value, including zero. Any other provably unspendable
// script is always dust. A negative value is dust.
func IsDust(value int64, pkScript []byte) bool {
	if txscript.GetScriptClass(pkScript) == txscript.NullDataTy {
		return false
	}
	if txscript.IsUnspendable(pkScript) {
		return true
	}
	return value < DustThreshold(pkScript)
}

func compactSizeLen(n int) int {
	switch {
	case n < 0xfd:
		return 1
	case n <= 0xffff:
		return 3
	case n <= 0xffffffff:
		return 5
	}
	return 9
}

package secp

import "math/bits"

// wnafMaxLen bounds the length of a width-w NAF of a 256-bit value: at most
// 257 digits, plus the w-1 digits a final carry may skip over.
const wnafMaxLen = 256 + 1 + 16

// wnafDigits is a width-w non-adjacent form: digit i is the coefficient of
// 2^i; every nonzero digit is odd, below 2^(w-1) in absolute value, and is
// followed by at least w-1 zero digits.
type wnafDigits [wnafMaxLen]int16

// bitsAt returns count (<= 16) bits of k starting at bit pos; bits past 255 are 0.
func bitsAt(k *[4]uint64, pos, count uint) uint64 {
	if pos >= 256 {
		return 0
	}
	limb, off := pos/64, pos%64
	v := k[limb] >> off
	if off+count > 64 && limb < 3 {
		v |= k[limb+1] << (64 - off)
	}
	return v & (1<<count - 1)
}

// bitLen256 is the bit length of k.
func bitLen256(k *[4]uint64) uint {
	for i := 3; i >= 0; i-- {
		if k[i] != 0 {
			return uint(i)*64 + uint(bits.Len64(k[i]))
		}
	}
	return 0
}

// wnaf writes the width-w NAF (2 <= w <= 16) of the non-negative k into out,
// each digit negated when neg is set, and returns its length: one more
// than the position of the highest nonzero digit (0 for k = 0). Digits at
// or above the length are left as they were; callers pass zeroed arrays.
// Variable time: used on public values only.
func wnaf(out *wnafDigits, k *[4]uint64, w uint, neg bool) int {
	// Scan from the least significant bit, keeping a carry: at each
	// position the remaining value is (k >> pos) + carry. When it is even
	// the digit is 0; when odd, the digit d is its low w bits read as a
	// signed number (so that the remaining value minus d is a multiple of
	// 2^w) and the scan jumps w positions.
	n := bitLen256(k)
	sign := int16(1)
	if neg {
		sign = -1
	}
	length := 0
	var carry uint64
	for pos := uint(0); pos < n || carry != 0; {
		if bitsAt(k, pos, 1) == carry {
			pos++
			continue
		}
		word := bitsAt(k, pos, w) + carry
		carry = (word >> (w - 1)) & 1
		d := int16(int64(word) - int64(carry<<w))
		out[pos] = sign * d
		length = int(pos) + 1
		pos += w
	}
	return length
}

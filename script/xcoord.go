package script

import (
	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/btcstake/btcstake/internal/secp"
)

// isXCoordinate reports whether x is the x coordinate of a secp256k1 point:
// x < p and x^3 + 7 is a square mod p. It decides squareness with the
// Jacobi symbol (internal/secp's divstep algorithm) instead of computing
// the square root (as lift_x does), which is several times faster. Not
// constant time: it is only used on public keys.
func isXCoordinate(x *[32]byte) bool {
	var fx secp256k1.FieldVal
	if overflow := fx.SetBytes(x); overflow != 0 {
		return false
	}
	// c = x^3 + 7 mod p.
	var c secp256k1.FieldVal
	c.SquareVal(&fx).Mul(&fx).AddInt(7).Normalize()
	if c.IsZero() {
		return true // y = 0 (impossible on secp256k1, kept for completeness)
	}
	return secp.IsSquareModP(&c)
}

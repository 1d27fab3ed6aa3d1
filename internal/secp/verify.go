package secp

import secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"

// Result is the outcome of a BIP-340 verification: Valid, or the first
// verification step that failed. Callers turn it into their own error
// kinds and texts.
type Result uint8

const (
	// Valid: the signature verifies.
	Valid Result = iota
	// RNotInField: r >= p (BIP-340 verification step 2).
	RNotInField
	// SNotInOrder: s >= n (step 3).
	SNotInOrder
	// RInfinity: s·G - e·P is the point at infinity (step 6).
	RInfinity
	// ROddY: s·G - e·P has odd y (step 6).
	ROddY
	// RMismatch: x(s·G - e·P) != r (step 6).
	RMismatch
	// NoKey: a batch item without a key (VerifyBatch only).
	NoKey
)

// String names the result.
func (r Result) String() string {
	switch r {
	case Valid:
		return "valid"
	case RNotInField:
		return "r is not below the field prime"
	case SNotInOrder:
		return "s is not below the curve order"
	case RInfinity:
		return "s·G - e·P is the point at infinity"
	case ROddY:
		return "s·G - e·P has odd y"
	case RMismatch:
		return "x(s·G - e·P) differs from r"
	case NoKey:
		return "no public key"
	}
	return "unknown result"
}

// PubKey is a BIP-340 public key ready for verification: the even-y point
// lift_x(x) and its 32-byte x coordinate. Make it with NewPubKey or
// ParsePubKey; it is immutable.
type PubKey struct {
	p  affinePoint
	px [32]byte
}

// NewPubKey returns the x-only view of pk: its point with y made even, and
// x. pk must be a valid curve point (btcec keys always are).
func NewPubKey(pk *secp256k1.PublicKey) PubKey {
	p, px := EvenKey(pk)
	return PubKey{p: affinePoint{x: p.X, y: p.Y}, px: px}
}

// ParsePubKey lifts a 32-byte x-only key (BIP-340 lift_x); false if x is not
// the x coordinate of a curve point (or is >= p).
func ParsePubKey(x *[32]byte) (PubKey, bool) {
	var j secp256k1.JacobianPoint
	if !LiftX(x, &j) {
		return PubKey{}, false
	}
	return PubKey{p: affinePoint{x: j.X, y: j.Y}, px: *x}, true
}

// X returns the 32-byte x coordinate.
func (k *PubKey) X() [32]byte { return k.px }

// VerifyBIP340 verifies the BIP-340 signature r || s of message m under
// key pk. It runs the backend of the build: pure Go by default (the joint
// multiplication of ecmult.go); a build-tagged backend file may replace
// it.
func VerifyBIP340(pk *PubKey, r, s *[32]byte, m []byte) Result {
	return verifyBIP340Backend(pk, r, s, m)
}

// verifyBIP340Go is the pure-Go BIP-340 verification (BIP-340 "Verify",
// with the key already lifted).
func verifyBIP340Go(pk *PubKey, r, s *[32]byte, m []byte) Result {
	// Step 1 (P = lift_x(x)) was done by NewPubKey or ParsePubKey.
	// Step 2: fail if r >= p.
	var rx secp256k1.FieldVal
	if rx.SetBytes(r) != 0 {
		return RNotInField
	}
	// Step 3: fail if s >= n.
	var sc secp256k1.ModNScalar
	if sc.SetBytes(s) != 0 {
		return SNotInOrder
	}
	// Step 4: e = int(tagged_hash("BIP0340/challenge", r || x(P) || m)) mod n.
	e := Challenge(r, &pk.px, m)
	// Step 5: R = s·G - e·P, one joint multiplication.
	e.Negate()
	var R secp256k1.JacobianPoint
	if !jointMult(&R, &sc, &e, &pk.p) {
		return VerifyBIP340Reference(pk, r, s, m)
	}
	// Step 6: fail if R is infinity, has odd y, or x(R) != r.
	return checkR(&R, &rx)
}

// checkR is BIP-340 verification step 6 for R in Jacobian coordinates.
func checkR(R *secp256k1.JacobianPoint, rx *secp256k1.FieldVal) Result {
	if isInf(R) {
		return RInfinity
	}
	toAffineVar(R)
	if R.Y.IsOdd() {
		return ROddY
	}
	if !R.X.Equals(rx) {
		return RMismatch
	}
	return Valid
}

// VerifyBIP340Reference is BIP-340 verification with dcrd's separate
// multiplications (s·G by its byte table, e·P by its own GLV-NAF routine):
// the verifier this project had before the joint multiplication. It stays
// as the oracle of the differential tests (here and in the packages that
// use VerifyBIP340) and as the fallback should jointMult ever refuse.
func VerifyBIP340Reference(pk *PubKey, r, s *[32]byte, m []byte) Result {
	var rx secp256k1.FieldVal
	if rx.SetBytes(r) != 0 {
		return RNotInField
	}
	var sc secp256k1.ModNScalar
	if sc.SetBytes(s) != 0 {
		return SNotInOrder
	}
	e := Challenge(r, &pk.px, m)
	e.Negate()
	var P, sG, eP, R secp256k1.JacobianPoint
	P.X.Set(&pk.p.x)
	P.Y.Set(&pk.p.y)
	P.Z.SetInt(1)
	secp256k1.ScalarBaseMultNonConst(&sc, &sG)
	secp256k1.ScalarMultNonConst(&e, &P, &eP)
	secp256k1.AddNonConst(&sG, &eP, &R)
	return checkR(&R, &rx)
}

// JointMult sets r = s·G + k·P for an affine P (Z = 1, normalized
// coordinates, as LiftX, EvenKey and btcec keys give) and returns r in
// Jacobian coordinates (normalized; infinity as dcrd represents it: Z = 0).
// Variable time: for public inputs only.
func JointMult(r *secp256k1.JacobianPoint, s, k *secp256k1.ModNScalar, P *secp256k1.JacobianPoint) {
	ap := affinePoint{x: P.X, y: P.Y}
	if jointMult(r, s, k, &ap) {
		return
	}
	var sG, kP secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(s, &sG)
	secp256k1.ScalarMultNonConst(k, P, &kP)
	secp256k1.AddNonConst(&sG, &kP, r)
}

// EqualAffine reports whether the finite Jacobian point j (normalized
// coordinates) is the affine point a (Z = 1, normalized), without an
// inversion: X = ax·Z² and Y = ay·Z³.
func EqualAffine(j, a *secp256k1.JacobianPoint) bool {
	var z2, z3, x, y secp256k1.FieldVal
	z2.SquareVal(&j.Z)
	z3.Mul2(&z2, &j.Z)
	x.Mul2(&a.X, &z2).Normalize()
	if !x.Equals(&j.X) {
		return false
	}
	y.Mul2(&a.Y, &z3).Normalize()
	return y.Equals(&j.Y)
}

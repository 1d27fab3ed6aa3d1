package secp

import (
	"math/big"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// newRand returns a seeded source, logging the seed; BTCSTAKE_SEED
// replays a run.
func newRand(t testing.TB) *rand.Rand {
	seed := time.Now().UnixNano()
	if s := os.Getenv("BTCSTAKE_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("BTCSTAKE_SEED: %v", err)
		}
	}
	t.Logf("seed %d (BTCSTAKE_SEED=%d replays it)", seed, seed)
	return rand.New(rand.NewSource(seed))
}

var (
	curveN, _ = new(big.Int).SetString("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16)
	curveP, _ = new(big.Int).SetString("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F", 16)
)

// randScalar returns a random scalar, often an edge value (0, 1, n-1,
// small, near n/2, one limb set).
func randScalar(r *rand.Rand) secp256k1.ModNScalar {
	var s secp256k1.ModNScalar
	var b [32]byte
	switch r.Intn(12) {
	case 0:
		return s
	case 1:
		s.SetInt(uint32(r.Intn(20) + 1))
	case 2:
		s.SetInt(1)
		s.Negate()
	case 3:
		h := new(big.Int).Rsh(curveN, 1)
		h.Add(h, big.NewInt(int64(r.Intn(5)-2)))
		h.FillBytes(b[:])
		s.SetBytes(&b)
	case 4:
		b[r.Intn(32)] = byte(r.Intn(256))
		s.SetBytes(&b)
	default:
		r.Read(b[:])
		s.SetBytes(&b)
	}
	return s
}

func scalarBig(s *secp256k1.ModNScalar) *big.Int {
	b := s.Bytes()
	return new(big.Int).SetBytes(b[:])
}

func limbsBig(l *[4]uint64) *big.Int {
	v := new(big.Int)
	for i := 3; i >= 0; i-- {
		v.Lsh(v, 64)
		v.Or(v, new(big.Int).SetUint64(l[i]))
	}
	return v
}

// randPoint returns k·G for a random nonzero k, affine.
func randPoint(r *rand.Rand) secp256k1.JacobianPoint {
	for {
		k := randScalar(r)
		if k.IsZero() {
			continue
		}
		var p secp256k1.JacobianPoint
		secp256k1.ScalarBaseMultNonConst(&k, &p)
		p.ToAffine()
		return p
	}
}

// refMult is k·P + s·G with dcrd's own routines (the oracle).
func refJoint(s, k *secp256k1.ModNScalar, p *secp256k1.JacobianPoint) secp256k1.JacobianPoint {
	var sG, kP, out secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(s, &sG)
	secp256k1.ScalarMultNonConst(k, p, &kP)
	secp256k1.AddNonConst(&sG, &kP, &out)
	return out
}

// sameJacobian reports whether two Jacobian points are the same group
// element (both infinity, or equal affine coordinates).
func sameJacobian(a, b secp256k1.JacobianPoint) bool {
	ia, ib := isInf(&a), isInf(&b)
	if ia || ib {
		return ia == ib
	}
	a.ToAffine()
	b.ToAffine()
	return a.X.Equals(&b.X) && a.Y.Equals(&b.Y)
}

// fixedScalar and fixedPoint give deterministic benchmark inputs.
func fixedScalar(i byte) secp256k1.ModNScalar {
	var s secp256k1.ModNScalar
	b := [32]byte{0: 0x7f, 5: i, 9: 0x33, 17: 0x99, 31: 1}
	for j := range b {
		b[j] ^= byte(j*37) + i
	}
	s.SetBytes(&b)
	return s
}

func fixedPoint(i byte) secp256k1.JacobianPoint {
	k := fixedScalar(i + 100)
	var p secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(&k, &p)
	p.ToAffine()
	return p
}

// bigInt recombines signed digits.
type bigInt struct{ big.Int }

func (b *bigInt) fromDigits(d []int32, c uint) {
	b.SetInt64(0)
	for i := len(d) - 1; i >= 0; i-- {
		b.Lsh(&b.Int, c)
		b.Add(&b.Int, big.NewInt(int64(d[i])))
	}
}

func (b *bigInt) Cmp(x *big.Int) int { return b.Int.Cmp(x) }

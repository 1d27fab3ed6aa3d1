package secp

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"

	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// BatchItem is one BIP-340 signature r || s of message Msg under Key, for
// VerifyBatch. An item without a key fails with NoKey.
type BatchItem struct {
	Key  *PubKey
	R, S [32]byte
	Msg  []byte
}

// Failure names an item of a batch that does not verify and why: Result
// is what VerifyBIP340 gives for that item alone.
type Failure struct {
	Index  int
	Result Result
}

// VerifyBatch verifies every item and returns the ones that fail, in
// index order (nil when all verify). The result is the same as verifying
// each item with VerifyBIP340, at a fraction of the cost for large batches.
//
// Method (BIP-340, "Batch Verification"):
//
//  1. Each item must have r < p, s < n and r the x coordinate of a curve
//     point R (even y); an item that does not is verified alone (its
//     Result says why) and left out.
//  2. e_i = challenge(r_i, x(P_i), m_i).
//  3. Coefficients: a_0 = 1 and, for i > 0, a 128-bit a_i from a ChaCha8
//     stream (a CSPRNG) seeded with a SHA-256 hash of the whole batch
//     (every key, r, s and message): deterministic, and unknown to
//     whoever chose the items until all of them are fixed.
//  4. The batch holds iff (Σ a_i·s_i)·G - Σ a_i·R_i - Σ (a_i·e_i)·P_i is
//     the point at infinity: one multi-scalar multiplication (msm.go). If
//     any item is invalid, this fails except with probability 2^-128.
//  5. When it fails, the batch is cut in halves and each half checked
//     again (with the same coefficients) down to single items, verified
//     alone: so the failures reported are exactly the invalid items.
//
// Variable time: the inputs are public. A C backend (backend_libsecp.go)
// may take small batches first; otherwise this pure-Go batch runs.
func VerifyBatch(items []BatchItem) []Failure {
	if fails, done := verifyBatchBackend(items); done {
		return fails // a C backend verified them one by one (small batches)
	}
	if len(items) <= 2 {
		// Verifying one or two alone costs less than any batch of them.
		var fails []Failure
		for i := range items {
			it := &items[i]
			res := NoKey
			if it.Key != nil {
				res = VerifyBIP340(it.Key, &it.R, &it.S, it.Msg)
			}
			if res != Valid {
				fails = append(fails, Failure{i, res})
			}
		}
		return fails
	}
	prep := make([]batchPrep, 0, len(items))
	var fails []Failure
	seed := batchSeed(items)
	rng := rand.NewChaCha8(seed)
	for i := range items {
		it := &items[i]
		if it.Key == nil {
			fails = append(fails, Failure{i, NoKey})
			continue
		}
		var bp batchPrep
		bp.index = i
		// Step 1: r < p, s < n, R = lift_x(r).
		var R secp256k1.JacobianPoint
		if bp.s.SetBytes(&it.S) != 0 || !LiftX(&it.R, &R) {
			fails = append(fails, Failure{i, VerifyBIP340(it.Key, &it.R, &it.S, it.Msg)})
			continue
		}
		bp.r = affinePoint{x: R.X, y: R.Y}
		bp.key = &it.Key.p
		// Step 2: the challenge.
		bp.e = Challenge(&it.R, &it.Key.px, it.Msg)
		// Step 3: the coefficient (a_0 = 1).
		if len(prep) == 0 {
			bp.a = [4]uint64{1}
			bp.as.SetInt(1)
		} else {
			bp.a, bp.as = randScalar128(rng.Uint64(), rng.Uint64())
		}
		prep = append(prep, bp)
	}
	// Steps 4 and 5.
	fails = append(fails, bisect(items, prep)...)
	sortFailures(fails)
	return fails
}

// batchPrep is an item ready for the batch equation.
type batchPrep struct {
	index int
	r     affinePoint  // R = lift_x(r)
	key   *affinePoint // P
	s, e  secp256k1.ModNScalar
	a     [4]uint64 // a_i, below 2^128
	as    secp256k1.ModNScalar
}

// batchSeed hashes the whole batch into the ChaCha8 seed.
func batchSeed(items []BatchItem) [32]byte {
	h := sha256.New()
	tag := sha256.Sum256([]byte("btcstake/batch-verify"))
	h.Write(tag[:])
	h.Write(tag[:])
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(items)))
	h.Write(n[:])
	for i := range items {
		it := &items[i]
		var px [32]byte
		if it.Key != nil {
			px = it.Key.px
		}
		h.Write(px[:])
		h.Write(it.R[:])
		h.Write(it.S[:])
		binary.BigEndian.PutUint64(n[:], uint64(len(it.Msg)))
		h.Write(n[:])
		h.Write(it.Msg)
	}
	var seed [32]byte
	h.Sum(seed[:0])
	return seed
}

// bisect checks prep as one batch, and halves it until the invalid items
// are isolated; it returns their failures.
func bisect(items []BatchItem, prep []batchPrep) []Failure {
	switch {
	case len(prep) == 0:
		return nil
	case len(prep) <= 2:
		// A single item, or two (verifying both alone costs less than a
		// batch of two and then, likely, both alone).
		var out []Failure
		for i := range prep {
			it := &items[prep[i].index]
			if res := VerifyBIP340(it.Key, &it.R, &it.S, it.Msg); res != Valid {
				out = append(out, Failure{prep[i].index, res})
			}
		}
		return out
	}
	if ok, done := batchHolds(prep); done && ok {
		return nil
	} else if !done {
		// A table could not be built (impossible for curve points): verify
		// one by one.
		var out []Failure
		for i := range prep {
			out = append(out, bisect(items, prep[i:i+1])...)
		}
		return out
	}
	mid := len(prep) / 2
	return append(bisect(items, prep[:mid]), bisect(items, prep[mid:])...)
}

// batchHolds evaluates the batch equation (step 4) for prep; done is false
// if the multiplication refused.
func batchHolds(prep []batchPrep) (ok, done bool) {
	groups := make([]msmGroup, 0, 2*len(prep))
	var sum secp256k1.ModNScalar
	for i := range prep {
		bp := &prep[i]
		// G: Σ a_i·s_i.
		var t secp256k1.ModNScalar
		t.Mul2(&bp.as, &bp.s)
		sum.Add(&t)
		// R_i with -a_i.
		groups = append(groups, msmGroup{p: bp.r, m1: bp.a, neg1: true})
		// P_i with -a_i·e_i, split by the endomorphism.
		t.Mul2(&bp.as, &bp.e).Negate()
		m1, n1, m2, n2 := splitScalar(&t)
		groups = append(groups, msmGroup{p: *bp.key, m1: m1, neg1: n1, m2: m2, neg2: n2, phi: true})
	}
	acc, done := msm(&sum, groups)
	return done && acc.inf, done
}

// sortFailures orders failures by index (insertion sort: the lists are
// short, and mostly sorted already).
func sortFailures(f []Failure) {
	for i := 1; i < len(f); i++ {
		for j := i; j > 0 && f[j].Index < f[j-1].Index; j-- {
			f[j], f[j-1] = f[j-1], f[j]
		}
	}
}

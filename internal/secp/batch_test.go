package secp

import (
	"fmt"
	"math/rand"
	"testing"

	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// refMSM is s·G + Σ groups by dcrd's multiplications (the oracle).
func refMSM(s *secp256k1.ModNScalar, groups []msmGroup) secp256k1.JacobianPoint {
	var acc secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(s, &acc)
	term := func(p *affinePoint, m *[4]uint64, neg, phi bool) {
		var k secp256k1.ModNScalar
		b := limbsBig(m).FillBytes(make([]byte, 32))
		k.SetByteSlice(b)
		if neg {
			k.Negate()
		}
		var pj, out secp256k1.JacobianPoint
		pj.X.Set(&p.x).Normalize()
		pj.Y.Set(&p.y).Normalize()
		pj.Z.SetInt(1)
		if phi {
			pj.X.Mul(&endoBeta).Normalize()
		}
		secp256k1.ScalarMultNonConst(&k, &pj, &out)
		secp256k1.AddNonConst(&acc, &out, &acc)
	}
	for i := range groups {
		g := &groups[i]
		term(&g.p, &g.m1, g.neg1, false)
		if g.phi {
			term(&g.p, &g.m2, g.neg2, true)
		}
	}
	return acc
}

func randGroups(r *rand.Rand, n int) []msmGroup {
	gs := make([]msmGroup, n)
	for i := range gs {
		p := randPoint(r)
		k := randScalar(r)
		m1, n1, m2, n2 := splitScalar(&k)
		gs[i] = msmGroup{p: affinePoint{x: p.X, y: p.Y}, m1: m1, neg1: n1, m2: m2, neg2: n2, phi: r.Intn(3) != 0}
		if r.Intn(8) == 0 {
			gs[i].m1 = [4]uint64{}
		}
		if i > 0 && r.Intn(10) == 0 {
			// The same point again, or its negation.
			gs[i].p = gs[i-1].p
			if r.Intn(2) == 0 {
				gs[i].p.y.Negate(1).Normalize()
			}
		}
	}
	return gs
}

// TestMSM compares Strauss and Pippenger with dcrd's multiplications on
// random groups (repeated and opposite points, zero scalars, the
// endomorphism), and a sum that is infinity.
func TestMSM(t *testing.T) {
	r := newRand(t)
	for _, n := range []int{0, 1, 2, 3, 7, 20, 33, 90} {
		for rep := 0; rep < 3; rep++ {
			gs := randGroups(r, n)
			if n > 0 && rep > 0 {
				// A first point with scalar ±1 (Strauss adds it without a table).
				gs[0].m1, gs[0].phi, gs[0].neg1 = [4]uint64{1}, false, rep == 2
			}
			s := randScalar(r)
			want := refMSM(&s, gs)
			st, ok := straussMSM(&s, gs)
			if !ok {
				t.Fatal("strauss refused")
			}
			pp := pippengerMSM(&s, gs)
			var a, b secp256k1.JacobianPoint
			st.toJacobian(&a)
			pp.toJacobian(&b)
			if !sameJacobian(a, want) || !sameJacobian(b, want) {
				t.Fatalf("n=%d: strauss ok=%v pippenger ok=%v", n, sameJacobian(a, want), sameJacobian(b, want))
			}
			// Cancel the sum: add -(sum) as a point with scalar 1 against G's
			// scalar... instead: s' = s, and one more group -1·want.
			if !isInf(&want) {
				w := want
				w.ToAffine()
				w.Y.Negate(1).Normalize()
				gs2 := append(gs, msmGroup{p: affinePoint{x: w.X, y: w.Y}, m1: [4]uint64{1}})
				st2, _ := straussMSM(&s, gs2)
				pp2 := pippengerMSM(&s, gs2)
				if !st2.inf || !pp2.inf {
					t.Fatalf("n=%d: sum with its negation is not infinity (strauss %v, pippenger %v)", n, st2.inf, pp2.inf)
				}
			}
		}
	}
}

// TestMSMRepeatedPoints: the same point with the same scalar many times
// (the affine bucket sums double), and with its negation (they cancel).
func TestMSMRepeatedPoints(t *testing.T) {
	r := newRand(t)
	for _, n := range []int{3, 8, 60, 200} {
		p := randPoint(r)
		k := randScalar(r)
		m1, n1, _, _ := splitScalar(&k)
		gs := make([]msmGroup, n)
		for i := range gs {
			gs[i] = msmGroup{p: affinePoint{x: p.X, y: p.Y}, m1: m1, neg1: n1}
			if i%3 == 2 {
				gs[i].p.y.Negate(1).Normalize()
			}
		}
		var s secp256k1.ModNScalar
		want := refMSM(&s, gs)
		st, _ := straussMSM(&s, gs)
		pp := pippengerMSM(&s, gs)
		var a, b secp256k1.JacobianPoint
		st.toJacobian(&a)
		pp.toJacobian(&b)
		if !sameJacobian(a, want) || !sameJacobian(b, want) {
			t.Fatalf("n=%d: strauss ok=%v pippenger ok=%v", n, sameJacobian(a, want), sameJacobian(b, want))
		}
	}
}

// TestSignedDigits: the digits recombine to ±m and stay in range.
func TestSignedDigits(t *testing.T) {
	r := newRand(t)
	for c := uint(1); c <= 16; c++ {
		for i := 0; i < 200; i++ {
			m := [4]uint64{r.Uint64(), r.Uint64()}
			if i == 0 {
				m = [4]uint64{^uint64(0), ^uint64(0)}
			}
			neg := r.Intn(2) == 0
			w := int((129 + c) / c)
			d := make([]int32, w)
			signedDigits(d, &m, neg, c)
			sum := new(bigInt)
			sum.fromDigits(d, c)
			want := limbsBig(&m)
			if neg {
				want.Neg(want)
			}
			if sum.Cmp(want) != 0 {
				t.Fatalf("c=%d: digits of %x recombine to %x", c, want, &sum.Int)
			}
			for _, x := range d {
				if x > 1<<(c-1) || x < -(1<<(c-1)) {
					t.Fatalf("c=%d: digit %d out of range", c, x)
				}
			}
		}
	}
}

// batchCase builds n items; bad lists the indices to break (each broken
// in one of several ways).
func batchCase(r *rand.Rand, n int, bad map[int]bool) []BatchItem {
	items := make([]BatchItem, n)
	for i := range items {
		c := randSigCase(r)
		for (c.expect == Valid) == bad[i] {
			c = randSigCase(r)
		}
		k := NewPubKey(c.key.PubKey())
		items[i] = BatchItem{Key: &k, R: c.r, S: c.s, Msg: c.msg}
	}
	return items
}

// checkBatch compares VerifyBatch with verifying each item alone.
func checkBatch(t *testing.T, items []BatchItem, what string) []Failure {
	t.Helper()
	got := VerifyBatch(items)
	var want []Failure
	for i := range items {
		if res := VerifyBIP340(items[i].Key, &items[i].R, &items[i].S, items[i].Msg); res != Valid {
			want = append(want, Failure{i, res})
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: VerifyBatch %v, one by one %v", what, got, want)
	}
	return got
}

// TestVerifyBatchAllValid: valid batches of many sizes (both algorithms).
func TestVerifyBatchAllValid(t *testing.T) {
	r := newRand(t)
	for _, n := range []int{0, 1, 2, 3, 5, 13, 40, 150} {
		if got := checkBatch(t, batchCase(r, n, nil), fmt.Sprintf("n=%d", n)); got != nil {
			t.Fatalf("n=%d: valid batch fails: %v", n, got)
		}
	}
}

// TestVerifyBatchOneBadEverywhere: one invalid signature at every position
// of small batches is found, with its own Result.
func TestVerifyBatchOneBadEverywhere(t *testing.T) {
	r := newRand(t)
	for n := 1; n <= 12; n++ {
		for pos := 0; pos < n; pos++ {
			got := checkBatch(t, batchCase(r, n, map[int]bool{pos: true}), fmt.Sprintf("n=%d bad=%d", n, pos))
			if len(got) != 1 || got[0].Index != pos {
				t.Fatalf("n=%d bad=%d: failures %v", n, pos, got)
			}
		}
	}
}

// TestVerifyBatchSeveralBad: several invalid signatures, random sizes and
// positions, both algorithms.
func TestVerifyBatchSeveralBad(t *testing.T) {
	r := newRand(t)
	for rep := 0; rep < 12; rep++ {
		n := 3 + r.Intn(60)
		if rep%4 == 0 {
			n = 120
		}
		bad := map[int]bool{}
		for k := 1 + r.Intn(5); k > 0; k-- {
			bad[r.Intn(n)] = true
		}
		got := checkBatch(t, batchCase(r, n, bad), fmt.Sprintf("n=%d bad=%v", n, bad))
		if len(got) != len(bad) {
			t.Fatalf("n=%d: %d failures for %d bad items", n, len(got), len(bad))
		}
	}
}

// TestVerifyBatchRandom: random mixes of valid and broken signatures,
// same outcome as one by one; also a batch that repeats one signature and
// one key many times, and items without a key.
func TestVerifyBatchRandom(t *testing.T) {
	r := newRand(t)
	for rep := 0; rep < 20; rep++ {
		n := 1 + r.Intn(40)
		items := make([]BatchItem, n)
		for i := range items {
			c := randSigCase(r)
			k := NewPubKey(c.key.PubKey())
			items[i] = BatchItem{Key: &k, R: c.r, S: c.s, Msg: c.msg}
		}
		checkBatch(t, items, fmt.Sprintf("rep %d", rep))
	}
	items := batchCase(r, 30, nil)
	for i := range items {
		items[i] = items[0]
	}
	if got := VerifyBatch(items); got != nil {
		t.Fatalf("repeated signature: %v", got)
	}
	items[7].Key = nil
	if got := VerifyBatch(items); len(got) != 1 || got[0] != (Failure{7, NoKey}) {
		t.Fatalf("nil key: %v", got)
	}
}

// TestVerifyBatchCancellingErrors: two invalid signatures whose errors
// cancel in the plain sum (s_i + δ and s_j - δ: Σ s_i·G - Σ R_i - Σ e_i·P_i
// is still infinity, checked here with dcrd's arithmetic) are both
// reported, wherever they stand: the random coefficients are what catch
// them.
func TestVerifyBatchCancellingErrors(t *testing.T) {
	r := newRand(t)
	for rep := 0; rep < 20; rep++ {
		n := 3 + r.Intn(40)
		items := batchCase(r, n, nil)
		i, j := r.Intn(n), r.Intn(n-1)
		if j >= i {
			j++
		}
		delta := randScalar(r)
		if delta.IsZero() {
			delta.SetInt(1)
		}
		var si, sj secp256k1.ModNScalar
		si.SetBytes(&items[i].S)
		sj.SetBytes(&items[j].S)
		si.Add(&delta)
		sj.Add(new(secp256k1.ModNScalar).NegateVal(&delta))
		items[i].S, items[j].S = si.Bytes(), sj.Bytes()
		// With every coefficient 1 the batch equation would hold.
		var sum secp256k1.ModNScalar
		var acc secp256k1.JacobianPoint
		for k := range items {
			it := &items[k]
			var s secp256k1.ModNScalar
			s.SetBytes(&it.S)
			sum.Add(&s)
			var R, P, eP secp256k1.JacobianPoint
			if !LiftX(&it.R, &R) {
				t.Fatal("r of a valid signature does not lift")
			}
			R.Y.Negate(1).Normalize()
			secp256k1.AddNonConst(&acc, &R, &acc)
			e := Challenge(&it.R, &it.Key.px, it.Msg)
			e.Negate()
			P.X.Set(&it.Key.p.x)
			P.Y.Set(&it.Key.p.y)
			P.Z.SetInt(1)
			secp256k1.ScalarMultNonConst(&e, &P, &eP)
			secp256k1.AddNonConst(&acc, &eP, &acc)
		}
		var sG secp256k1.JacobianPoint
		secp256k1.ScalarBaseMultNonConst(&sum, &sG)
		secp256k1.AddNonConst(&acc, &sG, &acc)
		if !isInf(&acc) {
			t.Fatalf("rep %d: the errors do not cancel in the plain sum", rep)
		}
		got := checkBatch(t, items, fmt.Sprintf("rep %d: n=%d, cancelling errors at %d and %d", rep, n, i, j))
		if len(got) != 2 {
			t.Fatalf("rep %d: failures %v, want items %d and %d", rep, got, i, j)
		}
	}
}

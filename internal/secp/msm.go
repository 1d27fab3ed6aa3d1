package secp

import (
	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// Multi-scalar multiplication for batch verification: s·G + Σ k_i·P_i
// over many points, each scalar below 2^128 in magnitude (GLV halves and
// 128-bit random coefficients). Two algorithms:
//
//   - Strauss (interleaved wNAF), for few points: one chain of doublings
//     shared by all points, a table of 8 odd multiples per point (built on
//     an isomorphic curve as in ecmult.go, then brought to affine
//     coordinates with one inversion for all tables), G from the
//     precomputed tables;
//   - Pippenger's bucket method, for many points: the scalars are cut into
//     c-bit signed digits; per window every point is added to the bucket
//     of its digit (one mixed addition per point and window), and the
//     buckets are summed with 2·2^(c-1) additions, so the cost per point
//     falls as the batch grows.
//
// The switch point (straussMax) and Pippenger's window (pippengerWindow)
// come from the benchmarks in batch_test.go. Variable time throughout:
// batch verification handles public data only.

// msmGroup is one point with one or two scalars: ±m1·P, and when phi is
// set also ±m2·φ(P) (the GLV halves of one scalar). Magnitudes are below
// 2^128.
type msmGroup struct {
	p          affinePoint
	m1, m2     [4]uint64
	neg1, neg2 bool
	phi        bool
}

// batchInverse sets out[i] = 1/in[i] for nonzero in[i] (Montgomery's
// trick: one inversion and 3(n-1) multiplications); out and in must not
// overlap. The results have magnitude 1.
func batchInverse(out, in []secp256k1.FieldVal) {
	if len(in) == 0 {
		return
	}
	var acc secp256k1.FieldVal
	acc.SetInt(1)
	for i := range in {
		out[i].Set(&acc)
		acc.Mul(&in[i])
	}
	inverseVar(&acc)
	for i := len(in) - 1; i >= 0; i-- {
		var t secp256k1.FieldVal
		t.Mul2(&out[i], &acc)
		acc.Mul(&in[i])
		out[i].Set(&t)
	}
}

// msm returns s·G + Σ groups as a Jacobian point, choosing the algorithm by
// size; ok is false only if a table could not be built (never, for curve
// points), in which case the caller must fall back.
func msm(s *secp256k1.ModNScalar, groups []msmGroup) (jacPoint, bool) {
	if len(groups) <= straussMax {
		return straussMSM(s, groups)
	}
	return pippengerMSM(s, groups), true
}

// straussMax is the largest number of groups (two per signature) for
// which Strauss beats Pippenger (BenchmarkMSMCrossover: about 26
// signatures on the 2-core machine).
const straussMax = 52

// straussMSM is the interleaved-wNAF multi-scalar multiplication.
func straussMSM(s *secp256k1.ModNScalar, groups []msmGroup) (jacPoint, bool) {
	// A point with scalar ±1 (the first R of a batch) needs no table: it
	// is added once at the end.
	var unit []msmGroup
	if len(groups) > 0 && isUnit(&groups[0]) {
		unit, groups = groups[:1], groups[1:]
	}
	n := len(groups)
	// Step 1: each point's odd multiples on its own isomorphic curve.
	tabs := make([]affinePoint, 2*n*tableA) // point tables, then φ tables
	zts := make([]secp256k1.FieldVal, n)
	var zr [tableA]secp256k1.FieldVal
	for i := range groups {
		var ok bool
		if zts[i], ok = oddMultiples(&groups[i].p, tabs[i*tableA:(i+1)*tableA], zr[:]); !ok {
			return jacPoint{}, false
		}
	}
	// Step 2: back to secp256k1 affine coordinates, one inversion for
	// all: entry (x, y) on the curve scaled by zt is (x/zt², y/zt³).
	zis := make([]secp256k1.FieldVal, n)
	batchInverse(zis, zts)
	for i := range groups {
		var zi2, zi3 secp256k1.FieldVal
		zi2.SquareVal(&zis[i])
		zi3.Mul2(&zi2, &zis[i])
		tab := tabs[i*tableA : (i+1)*tableA]
		phiTab := tabs[(n+i)*tableA : (n+i+1)*tableA]
		for j := range tab {
			tab[j].x.Mul(&zi2)
			tab[j].y.Mul(&zi3)
			if groups[i].phi {
				phiTab[j].x.Mul2(&tab[j].x, &endoBeta)
				phiTab[j].y.Set(&tab[j].y)
			}
		}
	}
	// Step 3: digits.
	digits := make([]wnafDigits, 2*n)
	length := 0
	for i := range groups {
		g := &groups[i]
		length = max(length, wnaf(&digits[2*i], &g.m1, windowA, g.neg1))
		if g.phi {
			length = max(length, wnaf(&digits[2*i+1], &g.m2, windowA, g.neg2))
		}
	}
	var ds1, ds2 wnafDigits
	lo, hi := splitBase(s)
	length = max(length, wnaf(&ds1, &lo, windowG, false))
	length = max(length, wnaf(&ds2, &hi, windowG, false))
	bt := bases()
	// Step 4: one pass, all points together.
	acc := jacPoint{inf: true}
	for pos := length - 1; pos >= 0; pos-- {
		double(&acc, &acc)
		for i := range groups {
			if d := digits[2*i][pos]; d != 0 {
				addDigit(&acc, tabs[i*tableA:(i+1)*tableA], d)
			}
			if d := digits[2*i+1][pos]; d != 0 {
				addDigit(&acc, tabs[(n+i)*tableA:(n+i+1)*tableA], d)
			}
		}
		if d := ds1[pos]; d != 0 {
			addDigit(&acc, bt.g[:], d)
		}
		if d := ds2[pos]; d != 0 {
			addDigit(&acc, bt.h[:], d)
		}
	}
	for i := range unit {
		y := unit[i].p.y
		if unit[i].neg1 {
			y.Negate(1)
		}
		addMixed(&acc, &acc, &unit[i].p.x, &y)
	}
	return acc, true
}

// isUnit reports whether g is ±1·P alone.
func isUnit(g *msmGroup) bool {
	return !g.phi && g.m1 == [4]uint64{1}
}

// msmTerm is one point and scalar of Pippenger's method.
type msmTerm struct {
	p   affinePoint
	m   [4]uint64
	neg bool
}

// pippengerWindow returns the digit width that minimises the estimated
// cost for n terms of 129-bit signed scalars: per window, about n affine
// additions into buckets, 2^(c-1) mixed and 2^(c-1) general additions to
// sum the buckets (costed at 0.33, 0.55 and 0.75 of a microsecond), plus
// c doublings (0.35).
func pippengerWindow(n int) uint {
	best, bestCost := uint(1), 0.0
	for c := uint(1); c <= 16; c++ {
		windows := float64((129 + c) / c)
		cost := windows * (float64(n)*0.33 + float64(uint(1)<<(c-1))*(0.55+0.75) + float64(c)*0.35)
		if c == 1 || cost < bestCost {
			best, bestCost = c, cost
		}
	}
	return best
}

// signedDigits writes the base-2^c signed digits of ±m (m < 2^129) into
// out, least significant first: each digit in (-2^(c-1), 2^(c-1)].
func signedDigits(out []int32, m *[4]uint64, neg bool, c uint) {
	var carry uint64
	half := uint64(1) << (c - 1)
	for w := range out {
		v := bitsAt(m, uint(w)*c, c) + carry
		carry = 0
		if v > half {
			v -= 1 << c
			carry = 1
		}
		d := int32(int64(v))
		if neg {
			d = -d
		}
		out[w] = d
	}
}

// pippengerMSM is the bucket-method multi-scalar multiplication.
//
// Within a window the points of one bucket are summed in affine
// coordinates, pairwise, level by level (a tree), and every addition of a
// level across all buckets shares one inversion (batchInverse): an affine
// addition then costs about 5 multiplications and a squaring, against 8
// and 3 for a mixed Jacobian one. The buckets, one point each, are then
// combined as a running sum in Jacobian coordinates.
func pippengerMSM(s *secp256k1.ModNScalar, groups []msmGroup) jacPoint {
	// Step 1: the terms: each group's point (and φ of it), and G, 2^128·G
	// with the halves of s.
	terms := make([]msmTerm, 0, 2*len(groups)+2)
	for i := range groups {
		g := &groups[i]
		terms = append(terms, msmTerm{p: g.p, m: g.m1, neg: g.neg1})
		if g.phi {
			t := msmTerm{p: g.p, m: g.m2, neg: g.neg2}
			t.p.x.Mul2(&g.p.x, &endoBeta)
			terms = append(terms, t)
		}
	}
	bt := bases()
	lo, hi := splitBase(s)
	terms = append(terms, msmTerm{p: bt.g[0], m: lo}, msmTerm{p: bt.h[0], m: hi})
	for i := range terms {
		terms[i].p.x.Normalize()
		terms[i].p.y.Normalize()
	}
	// Step 2: digits.
	c := pippengerWindow(len(terms))
	windows := int((129 + c) / c)
	digits := make([]int32, len(terms)*windows)
	for i := range terms {
		signedDigits(digits[i*windows:(i+1)*windows], &terms[i].m, terms[i].neg, c)
	}
	// Step 3: from the top window down: acc = 2^c·acc + Σ_j j·bucket_j.
	nb := 1 << (c - 1)
	sc := newBucketScratch(len(terms), nb)
	acc := jacPoint{inf: true}
	for w := windows - 1; w >= 0; w-- {
		for i := uint(0); i < c && !acc.inf; i++ {
			double(&acc, &acc)
		}
		if !sc.fill(terms, digits, windows, w) {
			continue
		}
		sc.reduce()
		// Σ_j j·bucket_j as a running sum from the top bucket down.
		running, sum := jacPoint{inf: true}, jacPoint{inf: true}
		for b := nb - 1; b >= 0; b-- {
			if sc.size[b] == 1 {
				q := &sc.pts[sc.start[b]]
				addMixed(&running, &running, &q.x, &q.y)
			}
			add(&sum, &sum, &running)
		}
		add(&acc, &acc, &sum)
	}
	return acc
}

// bucketScratch holds one window's buckets: bucket b's points are
// pts[start[b] : start[b]+size[b]], normalized affine.
type bucketScratch struct {
	pts         []affinePoint
	start, size []int
	next        []int // fill's cursor per bucket
	den, inv    []secp256k1.FieldVal
	pair        []int  // the buckets with pairs to add in this level
	kind        []byte // per pair: pairAdd, pairDouble or pairCancel
}

// The kinds of pair in a tree level.
const (
	pairAdd    = iota // distinct x: an addition
	pairDouble        // equal points: a doubling
	pairCancel        // opposite points: nothing
)

func newBucketScratch(nTerms, nBuckets int) *bucketScratch {
	return &bucketScratch{
		pts:   make([]affinePoint, nTerms),
		start: make([]int, nBuckets+1),
		size:  make([]int, nBuckets),
		next:  make([]int, nBuckets),
		den:   make([]secp256k1.FieldVal, nTerms/2+1),
		inv:   make([]secp256k1.FieldVal, nTerms/2+1),
		pair:  make([]int, 0, nBuckets),
		kind:  make([]byte, 0, nTerms/2+1),
	}
}

// fill sorts the terms with a nonzero digit in window w into their buckets
// (counting sort), negating y for negative digits. It reports whether any
// bucket got a point.
func (sc *bucketScratch) fill(terms []msmTerm, digits []int32, windows, w int) bool {
	clear(sc.size)
	any := false
	for i := range terms {
		if d := digits[i*windows+w]; d != 0 {
			if d < 0 {
				d = -d
			}
			sc.size[d-1]++
			any = true
		}
	}
	if !any {
		return false
	}
	sc.start[0] = 0
	for b := range sc.size {
		sc.start[b+1] = sc.start[b] + sc.size[b]
	}
	fillAt := sc.next
	copy(fillAt, sc.start[:len(sc.size)])
	for i := range terms {
		d := digits[i*windows+w]
		if d == 0 {
			continue
		}
		b := int(d) - 1
		if d < 0 {
			b = int(-d) - 1
		}
		q := &sc.pts[fillAt[b]]
		fillAt[b]++
		q.x.Set(&terms[i].p.x)
		if d > 0 {
			q.y.Set(&terms[i].p.y)
		} else {
			q.y.NegateVal(&terms[i].p.y, 1).Normalize()
		}
	}
	return true
}

// reduce sums every bucket's points to one (or none, when they cancel), a
// tree level at a time: in each level, points 2k and 2k+1 of every bucket
// are added, all with one shared inversion.
func (sc *bucketScratch) reduce() {
	for {
		// Step 1: the pairs of this level and their denominators: x2 - x1
		// for an addition, 2·y1 for a doubling (equal points); a pair of
		// opposite points cancels and needs none.
		sc.pair = sc.pair[:0]
		sc.kind = sc.kind[:0]
		nd := 0
		for b, n := range sc.size {
			for k := 0; k+1 < n; k += 2 {
				p1, p2 := &sc.pts[sc.start[b]+k], &sc.pts[sc.start[b]+k+1]
				d := &sc.den[nd]
				d.NegateVal(&p1.x, 1).Add(&p2.x).Normalize()
				switch {
				case !d.IsZero():
					sc.kind = append(sc.kind, pairAdd)
					nd++
				case p1.y.Equals(&p2.y):
					d.Set(&p1.y).MulInt(2)
					sc.kind = append(sc.kind, pairDouble)
					nd++
				default:
					sc.kind = append(sc.kind, pairCancel)
				}
			}
			if n > 1 {
				sc.pair = append(sc.pair, b)
			}
		}
		if len(sc.pair) == 0 {
			return
		}
		batchInverse(sc.inv[:nd], sc.den[:nd])
		// Step 2: the sums, written over each bucket's first slots.
		id, ik := 0, 0
		for _, b := range sc.pair {
			n, base := sc.size[b], sc.start[b]
			out := 0
			for k := 0; k+1 < n; k += 2 {
				p1, p2 := &sc.pts[base+k], &sc.pts[base+k+1]
				var lambda secp256k1.FieldVal
				kind := sc.kind[ik]
				ik++
				switch kind {
				case pairAdd:
					// λ = (y2 - y1) / (x2 - x1).
					lambda.NegateVal(&p1.y, 1).Add(&p2.y).Mul(&sc.inv[id])
					id++
				case pairDouble:
					// λ = 3·x1² / (2·y1).
					lambda.SquareVal(&p1.x).MulInt(3).Mul(&sc.inv[id])
					id++
				default:
					continue // p1 + p2 = infinity: both dropped
				}
				// x3 = λ² - x1 - x2, y3 = λ·(x1 - x3) - y1.
				var x3, y3, t secp256k1.FieldVal
				x3.SquareVal(&lambda)
				t.Set(&p1.x).Add(&p2.x).Negate(2)
				x3.Add(&t).Normalize()
				t.NegateVal(&x3, 1).Add(&p1.x)
				y3.Mul2(&lambda, &t).Add(t.NegateVal(&p1.y, 1)).Normalize()
				q := &sc.pts[base+out]
				q.x, q.y = x3, y3
				out++
			}
			if n%2 == 1 {
				sc.pts[base+out] = sc.pts[base+n-1]
				out++
			}
			sc.size[b] = out
		}
	}
}

// randScalar128 returns a nonzero 128-bit coefficient from two 64-bit
// words, as limbs and as a scalar.
func randScalar128(w0, w1 uint64) ([4]uint64, secp256k1.ModNScalar) {
	if w0|w1 == 0 {
		w0 = 1
	}
	m := [4]uint64{w0, w1}
	var b [32]byte
	for i := 0; i < 8; i++ {
		b[31-i] = byte(w0 >> (8 * i))
		b[23-i] = byte(w1 >> (8 * i))
	}
	var s secp256k1.ModNScalar
	s.SetBytes(&b)
	return m, s
}

// scalarLimbs returns the limbs of a scalar.
func scalarLimbs(s *secp256k1.ModNScalar) [4]uint64 {
	b := s.Bytes()
	return limbs(&b)
}

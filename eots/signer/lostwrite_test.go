package signer

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/btcstake/btcstake/eots"
)

// A lost write is one the disk acknowledged and then dropped: the page keeps
// what it held before. A stale write leaves an older version of the page in
// place. bbolt pages carry no checksum, so a store that lost a page write of
// one of its last transactions can open cleanly without records it had,
// and a signer that forgot a signature signs a second message at its
// height, leaking its key. The high-water mark (mark.go) is the defence;
// TestLostWrites replays such faults against a real signing history and
// counts the double-signs they allow, with and without it.
//
// The faults are found without bbolt's internals: the store file is copied
// after every transaction, and the pages that differ between the copies
// before and after a transaction are the pages it wrote (bbolt writes whole
// pages, page size from the meta page). For a crash point k (the state after
// window transaction k, with the high-water mark as it then was) and every
// window transaction j <= k, each page P that j wrote (and no later
// transaction up to k rewrote) is replaced in the state at k by:
//
//   - its content before j ("stale-prev": the write was lost);
//   - zeros ("zeroed": a lost write to a block never written before);
//   - each distinct older content it had earlier in the history
//     ("stale-older": an older version of the page).
//
// Meta pages (0 and 1) are among them: a lost meta-page write is the
// "stale-prev" fault of page 0 or 1. Each faulted state is opened, and a
// signer for every key tries a conflicting message at every height the key
// signed up to k. A conflicting message that gets a signature is a
// double-sign.

// lostWriteTxs is the number of transactions that get faults:
// $BTCSTAKE_LOSTWRITE_TXS, or 15 (about 800 faulted states, each replayed
// with and without the mark: some 6 s on two cores; 30 gives 2,600).
func lostWriteTxs(t *testing.T) int {
	n := 15
	if v := os.Getenv("BTCSTAKE_LOSTWRITE_TXS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 3 || n > 1000 {
			t.Fatalf("BTCSTAKE_LOSTWRITE_TXS=%q: want 3..1000", v)
		}
	}
	return n
}

// lwPair is one signer of the history: a key on a chain.
type lwPair struct {
	name  string
	sk    *eots.SecretKey
	chain []byte
}

// lwSnap is the state after one transaction.
type lwSnap struct {
	store  []byte
	marks  [2][]byte           // nil: the file does not exist
	signed []map[uint64][]byte // per pair: height -> message signed so far
}

type lwHistory struct {
	pairs []lwPair
	pre   []lwSnap // snapshots before the window (oldest first), for older page versions
	win   []lwSnap // win[0]: before the first window transaction; win[i]: after transaction i
}

func lwMsg(pair int, h uint64, variant string) []byte {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%d/%d/%s", pair, h, variant)))
	return append(binary.BigEndian.AppendUint64(nil, h), sum[:]...) // a 40-byte vote-like message
}

// buildLostWriteHistory signs a history of n window transactions after a
// few larger ones, snapshotting the store and its mark after each.
func buildLostWriteHistory(t *testing.T, n int) *lwHistory {
	rng := newRand(t)
	h := &lwHistory{pairs: []lwPair{
		{name: "A", sk: newKey(t, rng), chain: []byte("bbn-test-5")},
		{name: "B", sk: newKey(t, rng), chain: []byte("consumer-2")},
	}}
	path := filepath.Join(t.TempDir(), "records.db")
	st, err := OpenStore(path, StoreOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	signers := make([]*Signer, len(h.pairs))
	signed := make([]map[uint64][]byte, len(h.pairs))
	for i, p := range h.pairs {
		signers[i], _ = New(st, p.sk)
		signed[i] = map[uint64][]byte{}
	}
	snap := func() lwSnap {
		s := lwSnap{signed: make([]map[uint64][]byte, len(signed))}
		var err error
		if s.store, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
		for i, name := range markFiles(path) {
			if b, err := os.ReadFile(name); err == nil {
				s.marks[i] = b
			}
		}
		for i, m := range signed {
			s.signed[i] = map[uint64][]byte{}
			for k, v := range m {
				s.signed[i][k] = v
			}
		}
		return s
	}
	sign := func(pair int, heights ...uint64) {
		t.Helper()
		reqs := make([]Request, len(heights))
		for i, ht := range heights {
			reqs[i] = Request{Height: ht, Msg: lwMsg(pair, ht, "first")}
		}
		res, err := signers[pair].SignBatch(h.pairs[pair].chain, reqs)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Existing {
				t.Fatalf("history: height %d signed twice", r.Height)
			}
			signed[pair][r.Height] = reqs[i].Msg
		}
	}
	h.pre = append(h.pre, snap())
	// Before the window: pair A signs the even heights 2..120 (the odd
	// ones stay free for out-of-order signing), pair B 1..20, then A a
	// few single heights.
	var even []uint64
	for ht := uint64(2); ht <= 120; ht += 2 {
		even = append(even, ht)
	}
	sign(0, even...)
	h.pre = append(h.pre, snap())
	var b []uint64
	for ht := uint64(1); ht <= 20; ht++ {
		b = append(b, ht)
	}
	sign(1, b...)
	h.pre = append(h.pre, snap())
	for ht := uint64(122); ht <= 126; ht += 2 {
		sign(0, ht)
		h.pre = append(h.pre, snap())
	}
	// The window: a mix of single signatures, small and large batches,
	// out-of-order heights and the other pair.
	nextA, nextB, gap := uint64(128), uint64(21), uint64(1)
	h.win = append(h.win, snap())
	for i := 0; i < n; i++ {
		switch i % 5 {
		case 0:
			sign(0, nextA)
			nextA++
		case 1:
			sign(0, nextA, nextA+1, nextA+2)
			nextA += 3
		case 2:
			sign(0, gap) // below A's highest height: out of order
			gap += 2
		case 3:
			sign(1, nextB)
			nextB++
		case 4:
			var hs []uint64
			for j := 0; j < 12; j++ {
				hs = append(hs, nextA)
				nextA++
			}
			sign(0, hs...)
		}
		h.win = append(h.win, snap())
	}
	return h
}

// lwCounts tallies one run of the injection.
type lwCounts struct {
	faults         map[string]int // by kind
	metaFaults     int
	opened         int // faulted states that opened
	refusedOpen    map[string]int
	refusedSign    int // opened, but the signer refused (store failed) before signing
	lossyOpens     int // opened without records the store had
	doubleSigns    int
	examples       []string
	refusalChanged int // refused opens that modified a file
}

func (c *lwCounts) total() int {
	n := 0
	for _, v := range c.faults {
		n += v
	}
	return n
}

func page(b []byte, p, ps int) []byte {
	if (p+1)*ps > len(b) {
		if p*ps >= len(b) {
			return make([]byte, ps)
		}
		out := make([]byte, ps)
		copy(out, b[p*ps:])
		return out
	}
	return b[p*ps : (p+1)*ps]
}

// inject replays every fault of the window, with or without the
// high-water mark.
func (h *lwHistory) inject(t *testing.T, noMarks bool) *lwCounts {
	c := &lwCounts{faults: map[string]int{}, refusedOpen: map[string]int{}}
	dir := t.TempDir()
	path := filepath.Join(dir, "records.db")
	ps := int(binary.LittleEndian.Uint32(h.win[0].store[boltPageHeader+8:]))
	all := append(append([]lwSnap(nil), h.pre...), h.win[1:]...) // every version, oldest first
	winStart := len(h.pre) - 1                                   // all[winStart] == h.win[0]
	for k := 1; k < len(h.win); k++ {
		final := h.win[k]
		// The unfaulted state opens and holds every record.
		if r := h.try(t, path, final.store, final, noMarks, c, "none"); r != "" {
			t.Fatalf("crash point %d without a fault: %s", k, r)
		}
		for j := 1; j <= k; j++ {
			pre, post := h.win[j-1].store, h.win[j].store
			pages := (max(len(pre), len(post)) + ps - 1) / ps
			for p := 0; p < pages; p++ {
				if bytes.Equal(page(pre, p, ps), page(post, p, ps)) {
					continue // not written by transaction j
				}
				masked := false
				for l := j + 1; l <= k && !masked; l++ {
					masked = !bytes.Equal(page(h.win[l-1].store, p, ps), page(h.win[l].store, p, ps))
				}
				if masked || (p+1)*ps > len(final.store) {
					continue
				}
				// The contents page p may be left with.
				type cand struct {
					kind string
					data []byte
				}
				cands := []cand{{"stale-prev", page(pre, p, ps)}, {"zeroed", make([]byte, ps)}}
				for i := winStart + j - 2; i >= 0; i-- {
					cands = append(cands, cand{"stale-older", page(all[i].store, p, ps)})
				}
				var seen [][]byte
				for _, cd := range cands {
					dup := bytes.Equal(cd.data, page(final.store, p, ps))
					for _, s := range seen {
						dup = dup || bytes.Equal(s, cd.data)
					}
					if dup {
						continue
					}
					seen = append(seen, cd.data)
					faulted := bytes.Clone(final.store)
					copy(faulted[p*ps:(p+1)*ps], cd.data)
					c.faults[cd.kind]++
					if p < 2 {
						c.metaFaults++
					}
					h.try(t, path, faulted, final, noMarks, c, fmt.Sprintf("crash point %d, tx %d, page %d %s", k, j, p, cd.kind))
				}
			}
		}
	}
	return c
}

// try opens one state and tries a conflicting message at every signed
// height of every pair. It returns "" or, for the unfaulted state, what
// went wrong.
func (h *lwHistory) try(t *testing.T, path string, store []byte, snap lwSnap, noMarks bool, c *lwCounts, what string) string {
	t.Helper()
	if err := os.WriteFile(path, store, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, name := range markFiles(path) {
		os.Remove(name)
		if snap.marks[i] != nil {
			if err := os.WriteFile(name, snap.marks[i], 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	st, err := OpenStore(path, StoreOptions{noMarks: noMarks})
	if err != nil {
		if what == "none" {
			return fmt.Sprintf("open: %v", err)
		}
		kind := "other"
		for _, k := range []error{ErrStoreCorrupt, ErrStoreRolledBack, ErrMarkMissing} {
			if errors.Is(err, k) {
				kind = k.Error()
			}
		}
		if kind == "other" {
			t.Errorf("%s: open failed with an unexpected error: %v", what, err)
		}
		c.refusedOpen[kind]++
		after, _ := os.ReadFile(path)
		changed := !bytes.Equal(after, store)
		for i, name := range markFiles(path) {
			b, _ := os.ReadFile(name)
			changed = changed || !bytes.Equal(b, snap.marks[i])
		}
		if changed {
			c.refusalChanged++
		}
		return ""
	}
	defer st.Close()
	if what != "none" {
		c.opened++
	}
	lossy := false
	for i, p := range h.pairs {
		pk := p.sk.XOnly()
		recs, err := st.Records(p.chain, &pk)
		if err != nil {
			t.Fatalf("%s: records: %v", what, err)
		}
		have := map[uint64]bool{}
		for _, r := range recs {
			have[r.Height] = true
		}
		for ht := range snap.signed[i] {
			if !have[ht] {
				lossy = true
			}
		}
	}
	if lossy {
		if what == "none" {
			return "records missing"
		}
		c.lossyOpens++
	}
	for i, p := range h.pairs {
		s, err := New(st, p.sk)
		if err != nil {
			t.Fatal(err)
		}
		heights := make([]uint64, 0, len(snap.signed[i]))
		for ht := range snap.signed[i] {
			heights = append(heights, ht)
		}
		sort.Slice(heights, func(a, b int) bool { return heights[a] < heights[b] })
		reqs := make([]Request, len(heights))
		for j, ht := range heights {
			reqs[j] = Request{Height: ht, Msg: lwMsg(i, ht, "conflict")}
		}
		res, err := s.SignBatch(p.chain, reqs)
		s.Close()
		if res == nil {
			if what == "none" {
				return fmt.Sprintf("sign: %v", err)
			}
			c.refusedSign++
			continue
		}
		for _, r := range res {
			if r.Err == nil {
				c.doubleSigns++
				if len(c.examples) < 5 {
					c.examples = append(c.examples, fmt.Sprintf("%s: pair %s height %d", what, p.name, r.Height))
				}
			} else if !errors.Is(r.Err, ErrDoubleSign) {
				t.Errorf("%s: height %d: %v", what, r.Height, r.Err)
			}
		}
	}
	return ""
}

func (c *lwCounts) String() string {
	kinds := make([]string, 0, len(c.faults))
	for k, v := range c.faults {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(kinds)
	ref := make([]string, 0, len(c.refusedOpen))
	for k, v := range c.refusedOpen {
		ref = append(ref, fmt.Sprintf("%q %d", k, v))
	}
	sort.Strings(ref)
	return fmt.Sprintf("%d faulted states (%v; %d on meta pages): %d refused at open (%v), %d opened (%d without records they had, %d refused at the first sign), %d double-signs",
		c.total(), kinds, c.metaFaults, c.total()-c.opened, ref, c.opened, c.lossyOpens, c.refusedSign, c.doubleSigns)
}

// TestLostWrites: with the high-water mark no lost or stale page write and
// no lost meta-page write of any of the last transactions lets the signer
// sign a second message at a height it signed; without it (the same faults,
// the mark turned off), some do.
func TestLostWrites(t *testing.T) {
	n := lostWriteTxs(t)
	t0 := time.Now()
	h := buildLostWriteHistory(t, n)
	t.Logf("history: %d transactions before the window, %d in it, store of %d bytes", len(h.pre)-1, n, len(h.win[n].store))

	t1 := time.Now()
	with := h.inject(t, false)
	t.Logf("with the high-water mark: %v (%.1fs)", with, time.Since(t1).Seconds())
	t2 := time.Now()
	without := h.inject(t, true)
	t.Logf("without it:               %v (%.1fs)", without, time.Since(t2).Seconds())
	for _, e := range without.examples {
		t.Logf("  without the mark: double-sign at %s", e)
	}
	t.Logf("total %.1fs", time.Since(t0).Seconds())

	if with.total() != without.total() || with.total() < 50*n/6 {
		t.Fatalf("injected %d and %d faults: too few, or the runs differ", with.total(), without.total())
	}
	if with.metaFaults == 0 || with.faults["stale-prev"] == 0 || with.faults["zeroed"] == 0 || with.faults["stale-older"] == 0 {
		t.Fatalf("some kinds of fault were never injected: %v", with)
	}
	if with.doubleSigns != 0 || with.lossyOpens != 0 {
		for _, e := range with.examples {
			t.Errorf("double-sign at %s", e)
		}
		t.Fatalf("with the high-water mark: %d double-signs, %d stores opened without records they had", with.doubleSigns, with.lossyOpens)
	}
	if with.refusalChanged != 0 {
		t.Fatalf("%d refused opens modified the store or its mark", with.refusalChanged)
	}
	// The test has teeth: without the mark the same faults double-sign.
	if without.doubleSigns == 0 || without.lossyOpens == 0 {
		t.Fatalf("without the high-water mark no fault led to a double-sign: the injection does not reach what the mark defends against")
	}
}

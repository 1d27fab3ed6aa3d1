package signer

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// The high-water mark: what the store must hold, kept outside the bbolt
// file so that a write bbolt believes done but the disk dropped (a "lost"
// write), or one that left an older version of a page in place (a "stale"
// write), cannot make the signer forget a signature unnoticed.
//
// For every (chain, key) pair the mark holds the number of records, the
// highest recorded height, the XOR of SHA-256(key || value) over the pair's
// records (a digest of the record set), and an optional floor set by Repair.
// A store holds exactly the records its mark describes when count, highest
// height and digest all agree; a store that lost a record has one record
// fewer, and one whose record was replaced has another digest.
//
// The mark is written to two files, PATH.hwm0 and PATH.hwm1, in turn
// (sequence number n goes to file n mod 2), each written in place and
// fsynced, each with a SHA-256 checksum: a crash while writing one leaves the
// other, one step older. The valid file with the higher sequence number is
// the mark. Every write transaction goes through two steps (Store.write):
//
//  1. before bbolt commits, the mark is written with the pair's new state as
//     "pending" beside the committed state;
//  2. after bbolt's commit (and its fsyncs) succeeded, the mark is written
//     with the new state committed, and only then does a signature leave.
//
// At open the store must equal, pair by pair, the committed state, or the
// pending state (the process stopped between the bbolt commit and step 2; no
// signature of that transaction left). Anything else is refused with
// ErrStoreRolledBack. A lost meta-page write of the last transaction, for
// instance, leaves the store at the transaction before, which matches
// neither.
//
// File layout (all integers big endian):
//
//	magic   "btcstake eots signer high-water mark v1\n"
//	u64     sequence number
//	u32     number of entries, then the entries in ascending order of prefix
//	u8      1 if a pending entry follows, else 0
//	[entry] the pending entry
//	32      SHA-256 of everything before
//
//	entry:  u16 len(chain) || chain || x-only key (32)   (the record-key prefix)
//	        u64 records || u64 highest height || digest (32)
//	        u8 flags (bit 0: a floor is set) || u64 floor
var markMagic = []byte("btcstake eots signer high-water mark v1\n")

const (
	// MaxPairs bounds the (chain, key) pairs one store holds.
	MaxPairs = 1024
	// markEntryMax is the largest encoded entry.
	markEntryMax = 2 + MaxChainIDSize + 32 + 8 + 8 + 32 + 1 + 8
	// maxMarkFileSize bounds a mark file read.
	maxMarkFileSize = 64 + 8 + 4 + (MaxPairs+1)*markEntryMax + 1 + 32
	markFlagFloor   = 0x01
)

var markSuffixes = [2]string{".hwm0", ".hwm1"}

// markFiles returns the two mark file names of the store at path.
func markFiles(path string) [2]string {
	return [2]string{path + markSuffixes[0], path + markSuffixes[1]}
}

// summary is one pair's state: what the store holds, or what the mark says
// it holds.
type summary struct {
	count    uint64
	max      uint64
	digest   [32]byte
	floor    uint64
	hasFloor bool
}

// sameRecords reports whether two summaries describe the same record set
// (floors aside).
func (a summary) sameRecords(b summary) bool {
	return a.count == b.count && a.max == b.max && a.digest == b.digest
}

// add folds one record into the summary.
func (a *summary) add(key, value []byte, height uint64) {
	d := recordDigest(key, value)
	for i := range a.digest {
		a.digest[i] ^= d[i]
	}
	if a.count == 0 || height > a.max {
		a.max = height
	}
	a.count++
}

func recordDigest(key, value []byte) [32]byte {
	h := sha256.New()
	h.Write(key)
	h.Write(value)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// markState is one version of the mark. Its maps are never modified once
// the value is in use: updates build a new one.
type markState struct {
	seq     uint64
	entries map[string]summary // by record-key prefix
	pending *pendingEntry
}

type pendingEntry struct {
	prefix string
	sum    summary
}

// with returns a copy of m with entry prefix set to sum, sequence seq and
// no pending entry.
func (m *markState) with(seq uint64, prefix string, sum summary) *markState {
	out := &markState{seq: seq, entries: make(map[string]summary, len(m.entries)+1)}
	for k, v := range m.entries {
		out.entries[k] = v
	}
	out.entries[prefix] = sum
	return out
}

// errBadMark is the internal reason a mark file is unusable; readMarks turns
// it into ErrMarkMissing when neither file is usable.
var errBadMark = errors.New("malformed high-water mark file")

func encodeEntry(b []byte, prefix string, s summary) []byte {
	b = append(b, prefix...)
	b = binary.BigEndian.AppendUint64(b, s.count)
	b = binary.BigEndian.AppendUint64(b, s.max)
	b = append(b, s.digest[:]...)
	var flags byte
	if s.hasFloor {
		flags |= markFlagFloor
	}
	b = append(b, flags)
	return binary.BigEndian.AppendUint64(b, s.floor)
}

// encodeMarks returns the canonical encoding of m.
func encodeMarks(m *markState) []byte {
	keys := make([]string, 0, len(m.entries))
	for k := range m.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := append([]byte(nil), markMagic...)
	b = binary.BigEndian.AppendUint64(b, m.seq)
	b = binary.BigEndian.AppendUint32(b, uint32(len(keys)))
	for _, k := range keys {
		b = encodeEntry(b, k, m.entries[k])
	}
	if m.pending == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = encodeEntry(b, m.pending.prefix, m.pending.sum)
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

// markReader reads an encoded mark, failing on the first byte short.
type markReader struct {
	b   []byte
	err error
}

func (r *markReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.err = fmt.Errorf("%w: truncated", errBadMark)
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *markReader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (r *markReader) entry() (string, summary) {
	lb := r.take(2)
	if lb == nil {
		return "", summary{}
	}
	cl := int(binary.BigEndian.Uint16(lb))
	if cl == 0 || cl > MaxChainIDSize {
		r.err = fmt.Errorf("%w: chain ID length %d", errBadMark, cl)
		return "", summary{}
	}
	rest := r.take(cl + 32)
	if rest == nil {
		return "", summary{}
	}
	prefix := string(lb) + string(rest)
	var s summary
	s.count = r.u64()
	s.max = r.u64()
	copy(s.digest[:], r.take(32))
	flags := r.take(1)
	s.floor = r.u64()
	if r.err != nil {
		return "", summary{}
	}
	switch {
	case flags[0]&^markFlagFloor != 0:
		r.err = fmt.Errorf("%w: unknown flags %#x", errBadMark, flags[0])
	case flags[0]&markFlagFloor == 0 && s.floor != 0:
		r.err = fmt.Errorf("%w: a floor without its flag", errBadMark)
	case s.count == 0 && (s.max != 0 || s.digest != [32]byte{}):
		r.err = fmt.Errorf("%w: an empty entry with a height or digest", errBadMark)
	}
	s.hasFloor = flags[0]&markFlagFloor != 0
	return prefix, s
}

// parseMarks parses one mark file strictly: its canonical encoding only
// (entries in ascending order, no duplicates, no trailing bytes), with a
// valid checksum.
func parseMarks(data []byte) (*markState, error) {
	if len(data) > maxMarkFileSize {
		return nil, fmt.Errorf("%w: %d bytes", errBadMark, len(data))
	}
	if len(data) < len(markMagic)+8+4+1+32 || !bytes.HasPrefix(data, markMagic) {
		return nil, fmt.Errorf("%w: not a mark file", errBadMark)
	}
	body := data[:len(data)-32]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], data[len(data)-32:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", errBadMark)
	}
	r := &markReader{b: body[len(markMagic):]}
	m := &markState{seq: r.u64(), entries: map[string]summary{}}
	nb := r.take(4)
	if r.err != nil {
		return nil, r.err
	}
	n := binary.BigEndian.Uint32(nb)
	if n > MaxPairs {
		return nil, fmt.Errorf("%w: %d entries (max %d)", errBadMark, n, MaxPairs)
	}
	prev := ""
	for i := uint32(0); i < n; i++ {
		k, s := r.entry()
		if r.err != nil {
			return nil, r.err
		}
		if i > 0 && k <= prev {
			return nil, fmt.Errorf("%w: entries out of order", errBadMark)
		}
		prev = k
		m.entries[k] = s
	}
	switch p := r.take(1); {
	case r.err != nil:
		return nil, r.err
	case p[0] == 1:
		k, s := r.entry()
		if r.err != nil {
			return nil, r.err
		}
		m.pending = &pendingEntry{prefix: k, sum: s}
	case p[0] != 0:
		return nil, fmt.Errorf("%w: bad pending flag", errBadMark)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBadMark, len(r.b))
	}
	return m, nil
}

// markFileState says what readMarks found.
type markFileState int

const (
	marksAbsent  markFileState = iota // neither file exists
	marksDamaged                      // a file exists but neither is usable
	marksValid
)

// readMarks reads both mark files of the store at path and returns the
// valid one with the higher sequence number. A file must be a regular file
// no larger than maxMarkFileSize whose sequence number belongs to its slot
// (n mod 2), so that a copy of one file over the other is not taken for a
// newer mark.
func readMarks(path string) (*markState, markFileState, error) {
	var best *markState
	exists := false
	var reasons []string
	for slot, name := range markFiles(path) {
		m, present, err := readMarkFile(name)
		if present {
			exists = true
		}
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if m == nil {
			continue
		}
		if m.seq%2 != uint64(slot) {
			reasons = append(reasons, fmt.Sprintf("%s: sequence number %d belongs to the other file", name, m.seq))
			continue
		}
		if best == nil || m.seq > best.seq {
			best = m
		}
	}
	switch {
	case best != nil:
		return best, marksValid, nil
	case exists:
		return nil, marksDamaged, fmt.Errorf("%w: %s", ErrMarkMissing, strings.Join(reasons, "; "))
	default:
		return nil, marksAbsent, nil
	}
}

// readMarkFile reads one mark file: (nil, false, nil) if it does not exist.
func readMarkFile(name string) (*markState, bool, error) {
	fi, err := os.Lstat(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err
	}
	if !fi.Mode().IsRegular() {
		return nil, true, fmt.Errorf("%w: not a regular file", errBadMark)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, true, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMarkFileSize+1))
	if err != nil {
		return nil, true, err
	}
	m, err := parseMarks(data)
	return m, true, err
}

// writeMarks writes m to its file (slot m.seq mod 2) in place, mode 0600,
// and fsyncs it. The other file keeps the previous version until the next
// write. A file that does not exist yet is created atomically instead
// (temporary file, fsync, link, fsync of the directory): a new store's
// first mark has no other file to fall back on, and a full disk must not
// leave it empty or torn, which would refuse the new, empty store forever.
func writeMarks(path string, m *markState) error {
	name := markFiles(path)[m.seq%2]
	data := encodeMarks(m)
	fi, statErr := os.Lstat(name)
	if errors.Is(statErr, os.ErrNotExist) {
		return writeFileAtomic(name, data, true)
	}
	if statErr == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", name)
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Truncate(int64(len(data))); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// pairOf splits a record-key prefix into its chain ID and public key.
func pairOf(prefix string) (string, [32]byte) {
	var pk [32]byte
	copy(pk[:], prefix[len(prefix)-32:])
	return prefix[2 : len(prefix)-32], pk
}

// signed describes the records or floors m says a store held ("" if none):
// a mark that says nothing was ever signed may be replaced.
func (m *markState) signed() string {
	var records uint64
	pairs := 0
	for _, e := range m.entries {
		if e.count > 0 || e.hasFloor {
			pairs++
			records += e.count
		}
	}
	if m.pending != nil && (m.pending.sum.count > 0 || m.pending.sum.hasFloor) {
		pairs++
	}
	if pairs == 0 {
		return ""
	}
	return fmt.Sprintf("%d record(s) on %d chain/key pair(s)", records, pairs)
}

// Status compares a store with its high-water mark (Store.Status).
type Status struct {
	// Marks is what was found of the mark files: "ok"; "none" (no files:
	// a store from before the mark existed, or a new store whose first
	// mark was not written yet; a signing open writes them); "missing"
	// (no files, but the store has records and was written with a mark);
	// "damaged" (files, none of them intact).
	Marks string
	// Pairs compares every (chain, key) pair of the store or its mark.
	Pairs []PairStatus
	// Err is what a signing open of the store fails with, nil if it opens.
	Err error
}

// PairStatus compares one (chain, key) pair of a store with its mark.
type PairStatus struct {
	ChainID        string
	PublicKey      [32]byte
	StoreRecords   uint64 // records the store holds
	StoreMaxHeight uint64 // its highest recorded height (if StoreRecords > 0)
	MarkRecords    uint64 // records the mark says it holds
	MarkMaxHeight  uint64 // the highest height the mark records (if MarkRecords > 0)
	// Floor, with HasFloor, is set by Repair: heights at or below it
	// without a record are never signed.
	Floor    uint64
	HasFloor bool
	// Match: the store holds exactly the records the mark describes.
	Match bool
}

// compareMarks compares the store's pairs (sums) with mark m, pair by pair.
// A pair matches m's committed entry or, if m has a pending entry for it,
// that one (the transaction committed in bbolt but the mark was not
// updated after: none of its signatures left). It returns the committed
// mark that results (pending entries taken in), and a description of the
// first pairs that match neither ("" if all match). It fills st.Pairs.
func compareMarks(m *markState, sums map[string]summary, st *Status) (*markState, string) {
	out := &markState{seq: m.seq, entries: make(map[string]summary, len(m.entries))}
	for k, v := range m.entries {
		out.entries[k] = v
	}
	keys := map[string]bool{}
	for k := range sums {
		keys[k] = true
	}
	for k := range m.entries {
		keys[k] = true
	}
	if m.pending != nil {
		keys[m.pending.prefix] = true
	}
	var bad []string
	for k := range keys {
		have, want := sums[k], m.entries[k]
		if !have.sameRecords(want) && m.pending != nil && m.pending.prefix == k && have.sameRecords(m.pending.sum) {
			want = m.pending.sum
			out.entries[k] = want
		}
		if !have.sameRecords(want) {
			chain, pk := pairOf(k)
			bad = append(bad, fmt.Sprintf("chain %q key %x: the store holds %s, its high-water mark %s",
				chain, pk, describe(have), describe(want)))
		}
	}
	st.Pairs = pairStatuses(sums, out)
	sort.Strings(bad)
	switch len(bad) {
	case 0:
		return out, ""
	case 1:
		return out, bad[0]
	default:
		return out, fmt.Sprintf("%s (and %d more pair(s))", bad[0], len(bad)-1)
	}
}

func describe(s summary) string {
	if s.count == 0 {
		return "no records"
	}
	return fmt.Sprintf("%d record(s) up to height %d", s.count, s.max)
}

// pairStatuses lists the pairs of sums and of mark m (nil: none) in
// record-key order.
func pairStatuses(sums map[string]summary, m *markState) []PairStatus {
	keys := map[string]bool{}
	for k := range sums {
		keys[k] = true
	}
	if m != nil {
		for k := range m.entries {
			keys[k] = true
		}
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	out := make([]PairStatus, 0, len(sorted))
	for _, k := range sorted {
		have := sums[k]
		chain, pk := pairOf(k)
		ps := PairStatus{ChainID: chain, PublicKey: pk, StoreRecords: have.count, StoreMaxHeight: have.max}
		if m != nil {
			want := m.entries[k]
			ps.MarkRecords, ps.MarkMaxHeight = want.count, want.max
			ps.Floor, ps.HasFloor = want.floor, want.hasFloor
			ps.Match = have.sameRecords(want)
		}
		out = append(out, ps)
	}
	return out
}

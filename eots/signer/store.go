package signer

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/btcstake/btcstake/eots"
	"github.com/btcstake/btcstake/internal/boltfile"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Store layout (bbolt):
//
//	bucket "meta":    "format" -> "btcstake-eots-signer/1"
//	                  "high-water-mark" -> "1" (the store keeps a high-water
//	                  mark, mark.go; absent in stores made before it existed)
//	bucket "records": key   = BE16(len(chainID)) || chainID || pk(32) || BE64(height)
//	                  value = 01 || BE64(unix nanoseconds) || pubRand(32) || sig(32)
//	                          || BE32(len(msg)) || msg || first 8 bytes of sha256(key || all before)
//
// Keys sort by chain, key, then height, so a (chain, key) pair's records are
// one contiguous range in height order. The per-record checksum covers the
// key too, so a record moved to another height is detected.
var (
	bucketMeta    = []byte("meta")
	bucketRecords = []byte("records")
	keyFormat     = []byte("format")
	formatV1      = []byte("btcstake-eots-signer/1")
	keyMarked     = []byte("high-water-mark")
	markedV1      = []byte("1")
)

const (
	recordVersion = 1
	// MaxMessageSize bounds a signed message; votes are 40 bytes.
	MaxMessageSize = 1 << 16
	// MaxChainIDSize bounds a chain ID.
	MaxChainIDSize = 256
)

// Record is one signing record: what was signed at (ChainID, PublicKey,
// Height), with which randomness, and when.
type Record struct {
	ChainID   string
	PublicKey [32]byte
	Height    uint64
	Msg       []byte
	PubRand   eots.PublicRand
	Sig       eots.Signature
	Time      time.Time
}

// StoreOptions tunes OpenStore.
type StoreOptions struct {
	// Create makes a new store if the file does not exist.
	Create bool
	// LockTimeout is how long to wait for another holder of the store to
	// release it before failing with ErrStoreInUse; 0 means 100ms.
	LockTimeout time.Duration
	// ReadOnly opens the store for Records and Status even when it
	// disagrees with its high-water mark (Status().Err says how), and
	// writes nothing; Sign, Rollback and Backup are then refused. For
	// inspecting a store that a normal open refuses.
	ReadOnly bool
	// noMarks turns the high-water mark off: nothing is read or written
	// and nothing is checked against it. Tests only, to show which faults
	// the mark catches.
	noMarks bool
}

// Store is the durable record of everything a signer signed. All methods
// are safe for concurrent use. Once a write fails or corruption is seen, the
// store refuses all further signing (fail closed).
type Store struct {
	db     *bolt.DB
	path   string
	mu     sync.Mutex
	failed error

	// wmu serialises write transactions together with their high-water
	// mark writes (bbolt serialises the transactions alone).
	wmu      sync.Mutex
	marks    *markState // the committed mark; guarded by wmu
	noMarks  bool
	readOnly bool
	status   Status
	sums     map[string]summary // what the store held at open
	found    *markState         // the mark file read at open (nil if none)
	// hook, when set (tests), runs at the stages of a write: "pending"
	// (mark written, bbolt not committed) and "committed" (bbolt
	// committed, mark not yet); an error stops the write there.
	hook func(stage string) error
}

// OpenStore opens (or with opts.Create, creates) the store at path. It fails
// with ErrStoreInUse if another process holds it, ErrStoreCorrupt if the
// file is not an intact store (nothing is written to it then),
// ErrStoreNotFound if it does not exist and Create is false, and
// ErrStoreRolledBack or ErrMarkMissing if it does not hold what its
// high-water mark says it holds (mark.go; nothing is written then either).
//
// A new store is built in a temporary directory and linked into place
// complete (never over an existing file), so a failure while creating it (a
// full disk) leaves no file at path and the next create starts afresh, and
// a concurrent open sees either no file or a whole store. Creation is
// refused while high-water mark files of a store that held records are
// still there: that store was lost or moved, and a new empty one would let
// the signer sign its heights again.
func OpenStore(path string, opts StoreOptions) (*Store, error) {
	timeout := opts.LockTimeout
	if timeout == 0 {
		timeout = 100 * time.Millisecond
	}
	if opts.Create && opts.ReadOnly {
		return nil, fmt.Errorf("%w: a read-only open cannot create a store", ErrInvalidArgument)
	}
	_, err := os.Stat(path)
	switch {
	case err != nil && !os.IsNotExist(err):
		return nil, fmt.Errorf("%w: %v", ErrStoreCorrupt, err)
	case err != nil && !opts.Create:
		return nil, fmt.Errorf("%w: %s", ErrStoreNotFound, path)
	case err != nil:
		if err := createStore(path, timeout, opts.noMarks); err != nil {
			return nil, err
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStoreCorrupt, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrStoreCorrupt, path)
	}
	// Validate before bbolt maps the file (see preflight), holding the
	// store's lock so that no other process writes meanwhile. bbolt would
	// also silently initialise an empty file: an existing empty file is a
	// lost store, not a new one.
	unlock, err := lockForPreflight(path, timeout)
	if err != nil {
		return nil, err
	}
	err = preflight(path)
	unlock()
	if err != nil {
		return nil, err
	}
	db, err := openBolt(path, timeout)
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s is locked by another process", ErrStoreInUse, path)
		}
		return nil, fmt.Errorf("%w: %v", ErrStoreCorrupt, err)
	}
	s := &Store{db: db, path: path, noMarks: opts.noMarks, readOnly: opts.ReadOnly}
	if err := s.load(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// createStore puts a new, empty store at path unless a file is there by
// the time it links it (a concurrent creator won: that store is opened).
func createStore(path string, timeout time.Duration, noMarks bool) error {
	// Step 1: high-water mark files without a store mean a lost store.
	// They are read before checking that path is still absent: a
	// concurrent creator writes its mark only after linking its store,
	// so a mark read while path was absent belongs to an older store.
	m, state, err := readMarks(path)
	if _, serr := os.Lstat(path); serr == nil {
		return nil
	}
	if !noMarks {
		switch state {
		case marksDamaged:
			return fmt.Errorf("%w; the store %s is missing: refusing to create a new one (see docs/signer.md)", err, path)
		case marksValid:
			if lost := m.signed(); lost != "" {
				return fmt.Errorf("%w: %s does not exist, but its high-water mark (%s) records %s: the store was lost or moved; refusing to create a new one (see docs/signer.md)", ErrStoreRolledBack, path, markFiles(path)[m.seq%2], lost)
			}
		}
	}
	// Step 2: build the store where nobody looks for it.
	data, err := newStoreImage(timeout)
	if err != nil {
		return fmt.Errorf("%w: creating the store: %v", ErrStoreFailed, err)
	}
	// Step 3: link it into place, never over an existing file.
	if err := writeFileAtomic(path, data, true); err != nil {
		if errors.Is(err, ErrExists) {
			return nil
		}
		return fmt.Errorf("%w: creating the store: %v", ErrStoreFailed, err)
	}
	return nil
}

// newStoreImage returns the bytes of a new, empty store: bbolt's first
// pages and one transaction creating the buckets, the format marker and
// the high-water-mark flag, built in a temporary directory.
func newStoreImage(timeout time.Duration) (data []byte, err error) {
	defer recoverCorrupt(&err)
	open := func(p string) (*bolt.DB, error) { return bolt.Open(p, 0o600, &bolt.Options{Timeout: timeout}) }
	return boltfile.NewImage(open, func(db *bolt.DB) error {
		return db.Update(func(tx *bolt.Tx) error {
			m, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			if err := m.Put(keyFormat, formatV1); err != nil {
				return err
			}
			if err := m.Put(keyMarked, markedV1); err != nil {
				return err
			}
			_, err = tx.CreateBucket(bucketRecords)
			return err
		})
	})
}

// openBolt opens the file with bbolt, turning its panics on damaged pages
// into ErrStoreCorrupt. (A panic inside bolt.Open leaves its file handle,
// and so the lock, open until the process exits; a CLI exits right after.)
func openBolt(path string, timeout time.Duration) (db *bolt.DB, err error) {
	defer recoverCorrupt(&err)
	return bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
}

// sumRecords decodes every record in tx (checking its checksum) and adds
// it to sums, keyed by its key without the height: what load checks the
// high-water mark against and what a backup's marks are made from.
func sumRecords(tx *bolt.Tx, sums map[string]summary) error {
	return tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
		r, err := decodeRecord(k, v)
		if err != nil {
			return err
		}
		p := string(k[:len(k)-8])
		sum := sums[p]
		sum.add(k, v, r.Height)
		sums[p] = sum
		return nil
	})
}

// load checks an existing store: its format marker and every record's
// checksum (the pages were checked by preflight; bbolt's own tx.Check runs
// in a goroutine whose panics on a damaged page cannot be recovered, so it
// is not used), then compares it with its high-water mark.
func (s *Store) load() (err error) {
	defer recoverCorrupt(&err)
	marked := false
	sums := map[string]summary{}
	err = s.db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil || !bytes.Equal(m.Get(keyFormat), formatV1) || tx.Bucket(bucketRecords) == nil {
			return fmt.Errorf("%w: not a btcstake signer store", ErrStoreCorrupt)
		}
		switch v := m.Get(keyMarked); {
		case v == nil:
		case bytes.Equal(v, markedV1):
			marked = true
		default:
			return fmt.Errorf("%w: unknown high-water-mark flag", ErrStoreCorrupt)
		}
		return sumRecords(tx, sums)
	})
	if err != nil {
		return err
	}
	s.sums = sums
	if s.noMarks {
		return nil
	}
	return s.checkMarks(marked)
}

// checkMarks compares the store (s.sums) with its high-water mark and sets
// s.marks and s.status; unless read-only it refuses a store that disagrees
// and writes the mark when it must (the first mark of a store, or a pending
// transaction settled).
func (s *Store) checkMarks(marked bool) error {
	m, state, merr := readMarks(s.path)
	s.found = m
	var next *markState // a mark to write
	var refusal error
	records := uint64(0)
	for _, sum := range s.sums {
		records += sum.count
	}
	switch state {
	case marksAbsent:
		s.status.Marks = "none"
		switch {
		case len(s.sums) > MaxPairs:
			refusal = fmt.Errorf("%w: %s holds %d chain/key pairs (max %d)", ErrInvalidArgument, s.path, len(s.sums), MaxPairs)
		case !marked || records == 0:
			// A store from before the high-water mark, or a new one whose
			// first mark was not written yet: the mark starts from what
			// the store holds.
			next = &markState{seq: 1, entries: map[string]summary{}}
			for k, v := range s.sums {
				next.entries[k] = v
			}
		default:
			s.status.Marks = "missing"
			refusal = fmt.Errorf("%w: %s holds %d record(s) but its mark files (%s, %s) are gone; see docs/signer.md", ErrMarkMissing, s.path, records, markFiles(s.path)[0], markFiles(s.path)[1])
		}
	case marksDamaged:
		s.status.Marks = "damaged"
		refusal = fmt.Errorf("%w; see docs/signer.md", merr)
	default:
		s.status.Marks = "ok"
		committed, bad := compareMarks(m, s.sums, &s.status)
		switch {
		case bad != "":
			refusal = fmt.Errorf("%w: %s: %s; see docs/signer.md", ErrStoreRolledBack, s.path, bad)
		case m.pending != nil:
			committed.seq = m.seq + 1
			next = committed
		default:
			s.marks = m
		}
	}
	if s.status.Pairs == nil {
		s.status.Pairs = pairStatuses(s.sums, next)
	}
	s.status.Err = refusal
	if refusal != nil {
		if s.readOnly {
			return nil
		}
		return refusal
	}
	if s.readOnly {
		if next != nil {
			s.marks = next
		}
		return nil
	}
	if next != nil {
		if err := writeMarks(s.path, next); err != nil {
			return fmt.Errorf("%w: writing the high-water mark: %v", ErrStoreFailed, err)
		}
		s.marks = next
	}
	if !marked {
		// After the mark: a store flagged but without a mark is refused.
		if err := s.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keyMarked, markedV1)
		}); err != nil {
			return fmt.Errorf("%w: flagging the high-water mark: %v", ErrStoreFailed, err)
		}
	}
	return nil
}

func dirOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			return path[:i+1]
		}
	}
	return "."
}

// recoverCorrupt turns a bbolt panic on a damaged page into ErrStoreCorrupt.
func recoverCorrupt(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %v", ErrStoreCorrupt, r)
	}
}

// Path returns the store's file name.
func (s *Store) Path() string { return s.path }

// Close releases the store and its lock.
func (s *Store) Close() error { return s.db.Close() }

// Status compares the store with its high-water mark as found at open.
// Status().Err is nil for a store that opened for signing.
func (s *Store) Status() Status {
	out := s.status
	out.Pairs = append([]PairStatus(nil), s.status.Pairs...)
	return out
}

// writable refuses writes to a store opened read-only.
func (s *Store) writable() error {
	if s.readOnly {
		return fmt.Errorf("%w: the store was opened read-only", ErrInvalidArgument)
	}
	return nil
}

// hasRoomFor refuses a new (chain, key) pair beyond MaxPairs. The caller
// holds wmu.
func (s *Store) hasRoomFor(prefix string) error {
	if s.noMarks {
		return nil
	}
	if _, ok := s.marks.entries[prefix]; !ok && len(s.marks.entries) >= MaxPairs {
		return fmt.Errorf("%w: the store already holds %d chain/key pairs (max %d)", ErrInvalidArgument, len(s.marks.entries), MaxPairs)
	}
	return nil
}

// update runs fn in a bbolt write transaction on the records of one (chain,
// key) pair (the record-key prefix), keeping the high-water mark in step;
// the caller holds wmu. fn gets the records bucket and the pair's mark
// entry and returns the entry after its changes, and whether it changed
// anything (if not, the transaction is rolled back: nothing is written).
//
//  1. Before fn: the pair's highest recorded height, as the mark says, must
//     have its record (a cheap check that the store did not lose its last
//     record since it was opened); ErrStoreRolledBack otherwise.
//  2. After fn, before the commit: the mark is written with the new entry
//     pending.
//  3. bbolt commits and fsyncs.
//  4. The mark is written with the new entry committed. Only then may the
//     caller release a signature.
//
// A stop between 2 and 3 leaves the store at the committed entry, one
// between 3 and 4 at the pending one; opening accepts both (checkMarks).
// Errors from the transaction are returned as they are; a failure of step
// 4 marks the store failed.
func (s *Store) update(prefix string, fn func(b *bolt.Bucket, cur summary) (summary, bool, error)) error {
	var next summary
	var changed bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		if b == nil {
			return fmt.Errorf("%w: records bucket missing", ErrStoreCorrupt)
		}
		var cur summary
		if !s.noMarks {
			cur = s.marks.entries[prefix]
			if cur.count > 0 && b.Get(binary.BigEndian.AppendUint64([]byte(prefix), cur.max)) == nil {
				chain, pk := pairOf(prefix)
				return fmt.Errorf("%w: %s: chain %q key %x: the record at height %d, the highest the high-water mark records, is gone", ErrStoreRolledBack, s.path, chain, pk, cur.max)
			}
		}
		var err error
		next, changed, err = fn(b, cur)
		if err != nil {
			return err
		}
		if !changed {
			// Roll back so that even bbolt's meta page is not rewritten.
			return errNothingWritten
		}
		if s.noMarks {
			return nil
		}
		pending := &markState{seq: s.marks.seq + 1, entries: s.marks.entries, pending: &pendingEntry{prefix: prefix, sum: next}}
		if err := writeMarks(s.path, pending); err != nil {
			return fmt.Errorf("%w: writing the high-water mark: %v", ErrStoreFailed, err)
		}
		return s.runHook("pending")
	})
	if errors.Is(err, errNothingWritten) {
		return nil
	}
	if err != nil || s.noMarks {
		return err
	}
	if err := s.runHook("committed"); err != nil {
		return s.fail(err)
	}
	committed := s.marks.with(s.marks.seq+2, prefix, next)
	if err := writeMarks(s.path, committed); err != nil {
		return s.fail(fmt.Errorf("%w: writing the high-water mark: %v", ErrStoreFailed, err))
	}
	s.marks = committed
	return nil
}

func (s *Store) runHook(stage string) error {
	if s.hook == nil {
		return nil
	}
	return s.hook(stage)
}

func (s *Store) fail(err error) error {
	s.mu.Lock()
	if s.failed == nil {
		s.failed = err
	}
	s.mu.Unlock()
	return err
}

func (s *Store) check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return fmt.Errorf("%w: refusing to sign after an earlier failure (%v)", ErrStoreFailed, s.failed)
	}
	return nil
}

func recordKey(chainID []byte, pk *[32]byte, height uint64) []byte {
	k := make([]byte, 0, 2+len(chainID)+32+8)
	k = binary.BigEndian.AppendUint16(k, uint16(len(chainID)))
	k = append(k, chainID...)
	k = append(k, pk[:]...)
	return binary.BigEndian.AppendUint64(k, height)
}

func prefixKey(chainID []byte, pk *[32]byte) []byte {
	k := recordKey(chainID, pk, 0)
	return k[:len(k)-8]
}

func encodeRecord(key []byte, r *Record) []byte {
	v := make([]byte, 0, 1+8+32+32+4+len(r.Msg)+8)
	v = append(v, recordVersion)
	v = binary.BigEndian.AppendUint64(v, uint64(r.Time.UnixNano()))
	v = append(v, r.PubRand[:]...)
	v = append(v, r.Sig[:]...)
	v = binary.BigEndian.AppendUint32(v, uint32(len(r.Msg)))
	v = append(v, r.Msg...)
	sum := recordSum(key, v)
	return append(v, sum[:8]...)
}

func recordSum(key, v []byte) [32]byte {
	h := sha256.New()
	h.Write(key)
	h.Write(v)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func decodeRecord(key, v []byte) (*Record, error) {
	bad := func(what string) error {
		return fmt.Errorf("%w: record %x: %s", ErrStoreCorrupt, key, what)
	}
	if len(key) < 2+32+8 {
		return nil, bad("short key")
	}
	cl := int(binary.BigEndian.Uint16(key))
	if len(key) != 2+cl+32+8 {
		return nil, bad("malformed key")
	}
	if len(v) < 1+8+32+32+4+8 || v[0] != recordVersion {
		return nil, bad("malformed value")
	}
	ml := int(binary.BigEndian.Uint32(v[73:77]))
	if len(v) != 77+ml+8 {
		return nil, bad("malformed value length")
	}
	sum := recordSum(key, v[:77+ml])
	if !bytes.Equal(sum[:8], v[77+ml:]) {
		return nil, bad("checksum mismatch")
	}
	r := &Record{
		ChainID: string(key[2 : 2+cl]),
		Height:  binary.BigEndian.Uint64(key[2+cl+32:]),
		Time:    time.Unix(0, int64(binary.BigEndian.Uint64(v[1:9]))).UTC(),
		Msg:     bytes.Clone(v[77 : 77+ml]),
	}
	copy(r.PublicKey[:], key[2+cl:])
	copy(r.PubRand[:], v[9:41])
	copy(r.Sig[:], v[41:73])
	return r, nil
}

// Records returns the records of one (chain, key) pair in height order, or of
// every chain and key when chainID is nil.
func (s *Store) Records(chainID []byte, pk *[32]byte) (out []Record, err error) {
	if chainID != nil && pk == nil {
		return nil, fmt.Errorf("%w: a chain ID needs a public key", ErrInvalidArgument)
	}
	defer recoverCorrupt(&err)
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		if b == nil {
			return fmt.Errorf("%w: records bucket missing", ErrStoreCorrupt)
		}
		c := b.Cursor()
		var prefix []byte
		if chainID != nil {
			prefix = prefixKey(chainID, pk)
		}
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			r, err := decodeRecord(k, v)
			if err != nil {
				return err
			}
			out = append(out, *r)
		}
		return nil
	})
	return out, err
}

// Rollback deletes the records of (chainID, pk) above height. Deleting a
// record lets the signer sign a different message at that height again, so
// it leaks the key if the old signature was published: it runs only with
// confirmed set (ErrNotConfirmed otherwise). It returns the number deleted.
func (s *Store) Rollback(chainID []byte, pk *[32]byte, above uint64, confirmed bool) (n int, err error) {
	if pk == nil || len(chainID) == 0 {
		return 0, fmt.Errorf("%w: rollback needs a chain ID and a public key", ErrInvalidArgument)
	}
	if err := CheckChainID(chainID); err != nil {
		return 0, err
	}
	if !confirmed {
		return 0, fmt.Errorf("%w: rollback deletes signing records and can lead to a double-sign; confirm explicitly", ErrNotConfirmed)
	}
	if err := s.writable(); err != nil {
		return 0, err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.check(); err != nil {
		return 0, err
	}
	prefix := prefixKey(chainID, pk)
	defer recoverCorrupt(&err)
	err = s.update(string(prefix), func(b *bolt.Bucket, cur summary) (summary, bool, error) {
		n = 0
		next := cur
		// A floor above the new tip is lowered with it: the operator
		// confirms that nothing above `above` was published.
		floorChanged := next.hasFloor && next.floor > above
		if floorChanged {
			next.floor = above
		}
		if above == ^uint64(0) {
			return next, floorChanged, nil
		}
		c := b.Cursor()
		start := recordKey(chainID, pk, above+1)
		for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Seek(start) {
			d := recordDigest(k, v)
			for i := range next.digest {
				next.digest[i] ^= d[i]
			}
			next.count--
			if err := c.Delete(); err != nil {
				return next, false, err
			}
			n++
		}
		if n > 0 {
			// The new highest height: the last record of the pair.
			k, _ := c.Seek(start)
			if k == nil {
				k, _ = c.Last()
			} else {
				k, _ = c.Prev()
			}
			next.max = 0
			if k != nil && bytes.HasPrefix(k, prefix) {
				next.max = binary.BigEndian.Uint64(k[len(k)-8:])
			}
		}
		return next, n > 0 || floorChanged, nil
	})
	if err != nil {
		if errors.Is(err, ErrStoreCorrupt) || errors.Is(err, ErrStoreRolledBack) || errors.Is(err, ErrStoreFailed) {
			return 0, s.fail(err)
		}
		return 0, s.fail(fmt.Errorf("%w: %v", ErrStoreFailed, err))
	}
	return n, nil
}

// Backup writes a consistent copy of the store to path, with its own
// high-water mark (path.hwm1; floors carried over), mode 0600, atomically;
// it refuses to overwrite an existing file (ErrExists). A store that
// disagrees with its mark (opened read-only) is not backed up.
func (s *Store) Backup(path string) (err error) {
	if s.status.Err != nil {
		return s.status.Err
	}
	var floors map[string]summary
	if !s.noMarks {
		s.wmu.Lock()
		floors = s.marks.entries
		s.wmu.Unlock()
	}
	for _, p := range []string{path, markFiles(path)[0], markFiles(path)[1]} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%w: %s", ErrExists, p)
		}
	}
	defer recoverCorrupt(&err)
	var buf bytes.Buffer
	sums := map[string]summary{}
	if err := s.db.View(func(tx *bolt.Tx) error {
		if err := sumRecords(tx, sums); err != nil {
			return err
		}
		_, err := tx.WriteTo(&buf)
		return err
	}); err != nil {
		return err
	}
	for k, f := range floors {
		if f.hasFloor {
			sum := sums[k]
			sum.floor, sum.hasFloor = f.floor, true
			sums[k] = sum
		}
	}
	if err := writeFileAtomic(path, buf.Bytes(), true); err != nil {
		return err
	}
	if s.noMarks {
		return nil
	}
	m := &markState{seq: 1, entries: sums}
	return writeFileAtomic(markFiles(path)[1], encodeMarks(m), true)
}

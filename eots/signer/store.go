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
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Store layout (bbolt):
//
//	bucket "meta":    "format" -> "btcstake-eots-signer/1"
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
}

// Store is the durable record of everything a signer signed. All methods
// are safe for concurrent use. Once a write fails or corruption is seen, the
// store refuses all further signing (fail closed).
type Store struct {
	db     *bolt.DB
	path   string
	mu     sync.Mutex
	failed error
}

// OpenStore opens (or with opts.Create, creates) the store at path. It fails
// with ErrStoreInUse if another process holds it, ErrStoreCorrupt if the
// file is not an intact store (nothing is written to it then), and
// ErrStoreNotFound if it does not exist and Create is false.
func OpenStore(path string, opts StoreOptions) (*Store, error) {
	timeout := opts.LockTimeout
	if timeout == 0 {
		timeout = 100 * time.Millisecond
	}
	st, err := os.Stat(path)
	exists := err == nil
	switch {
	case err != nil && !os.IsNotExist(err):
		return nil, fmt.Errorf("%w: %v", ErrStoreCorrupt, err)
	case !exists && !opts.Create:
		return nil, fmt.Errorf("%w: %s", ErrStoreNotFound, path)
	case exists && !st.Mode().IsRegular():
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrStoreCorrupt, path)
	}
	if exists {
		// Validate before bbolt maps the file (see preflight), holding the
		// store's lock so that no other process writes meanwhile. bbolt
		// would also silently initialise an empty file: an existing empty
		// file is a lost store, not a new one.
		unlock, err := lockForPreflight(path, timeout)
		if err != nil {
			return nil, err
		}
		err = preflight(path)
		unlock()
		if err != nil {
			return nil, err
		}
	}
	db, err := openBolt(path, timeout)
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s is locked by another process", ErrStoreInUse, path)
		}
		return nil, fmt.Errorf("%w: %v", ErrStoreCorrupt, err)
	}
	s := &Store{db: db, path: path}
	if err := s.init(!exists); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// openBolt opens the file with bbolt, turning its panics on damaged pages
// into ErrStoreCorrupt. (A panic inside bolt.Open leaves its file handle,
// and so the lock, open until the process exits; a CLI exits right after.)
func openBolt(path string, timeout time.Duration) (db *bolt.DB, err error) {
	defer recoverCorrupt(&err)
	return bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
}

// init creates the buckets of a new store, or checks an existing one: its
// format marker and every record's checksum (the pages were checked by
// preflight; bbolt's own tx.Check runs in a goroutine whose panics on a
// damaged page cannot be recovered, so it is not used).
func (s *Store) init(fresh bool) (err error) {
	defer recoverCorrupt(&err)
	if fresh {
		if err := s.db.Update(func(tx *bolt.Tx) error {
			m, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			if err := m.Put(keyFormat, formatV1); err != nil {
				return err
			}
			_, err = tx.CreateBucket(bucketRecords)
			return err
		}); err != nil {
			return fmt.Errorf("%w: creating the store: %v", ErrStoreFailed, err)
		}
		return syncDir(dirOf(s.path))
	}
	return s.db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil || !bytes.Equal(m.Get(keyFormat), formatV1) || tx.Bucket(bucketRecords) == nil {
			return fmt.Errorf("%w: not a btcstake signer store", ErrStoreCorrupt)
		}
		return tx.Bucket(bucketRecords).ForEach(func(k, v []byte) error {
			_, err := decodeRecord(k, v)
			return err
		})
	})
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
	if !confirmed {
		return 0, fmt.Errorf("%w: rollback deletes signing records and can lead to a double-sign; confirm explicitly", ErrNotConfirmed)
	}
	if err := s.check(); err != nil {
		return 0, err
	}
	defer recoverCorrupt(&err)
	err = s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		prefix := prefixKey(chainID, pk)
		if above == ^uint64(0) {
			return nil
		}
		start := recordKey(chainID, pk, above+1)
		for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(start) {
			if err := c.Delete(); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrStoreCorrupt) {
			return 0, s.fail(err)
		}
		return 0, s.fail(fmt.Errorf("%w: %v", ErrStoreFailed, err))
	}
	return n, nil
}

// Backup writes a consistent copy of the store to path (mode 0600,
// atomically; refuses to overwrite an existing file).
func (s *Store) Backup(path string) (err error) {
	defer recoverCorrupt(&err)
	var buf bytes.Buffer
	if err := s.db.View(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(&buf)
		return err
	}); err != nil {
		return err
	}
	return writeFileAtomic(path, buf.Bytes(), true)
}

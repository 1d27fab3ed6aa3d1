package watch

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/btcstake/btcstake/internal/atomicfile"
	"github.com/btcstake/btcstake/internal/boltfile"
)

// Store layout (one bbolt file, mode 0600):
//
//	meta       "format"    -> formatV1
//	           "genesis"   -> the network's genesis hash (32 bytes)
//	           "start"     -> BE64 first height the watcher processes
//	           "cursor"    -> BE64(height+1) || hash(32): the last block processed
//	           "seq"       -> BE64 next event sequence number
//	           "delivered" -> BE64 last seq handed to Config.Handler, as of
//	                          the last commit (the marker file is ahead)
//	blocks     BE64(height) -> block hash (the last MaxReorgDepth+1 blocks)
//	undo       BE64(height) -> undo record (encodeUndo) of a recent block
//	entries    id -> Entry JSON
//	states     id -> stakeState JSON
//	outpoints  outpoint(36) -> id: every watched live output
//	pending    outpoint(36) -> id: staking outputs not yet confirmed
//	schedule   BE64(height) || kind(1) || id -> value: what to check at a height
//	fpidx      x-only fp key(32) || id -> nil: the delegations of a provider
//	ubtx       unbonding txid(32) -> id: known unbonding transactions
//	fpkeys     x-only fp key(32) -> secret key(32): leaked keys (recovered
//	           or given); the file is 0600 for this reason
//	autoslash  id || 0x00 || output kind(1) -> JSON autoSlashRecord
//	events     BE64(seq) -> Event JSON
//	sinks      name -> BE64 last seq the sink delivered
//	mempool    event id -> nil: mempool events already emitted
//	backfill   id -> BE64 next height: delegations added after the
//	           follower passed blocks that may concern them, and the
//	           first block each still has to be brought through
//	           (backfill.go); absent once up to date with the cursor
//
// Heights are stored as height+1 in the cursor so that "nothing processed
// yet below height 0" (-1) fits an unsigned field.
var (
	bucketMeta      = []byte("meta")
	bucketBlocks    = []byte("blocks")
	bucketUndo      = []byte("undo")
	bucketEntries   = []byte("entries")
	bucketStates    = []byte("states")
	bucketOutpoints = []byte("outpoints")
	bucketPending   = []byte("pending")
	bucketSchedule  = []byte("schedule")
	bucketFPIndex   = []byte("fpidx")
	bucketUbTx      = []byte("ubtx")
	bucketFPKeys    = []byte("fpkeys")
	bucketAutoSlash = []byte("autoslash")
	bucketEvents    = []byte("events")
	bucketSinks     = []byte("sinks")
	bucketMempool   = []byte("mempool")
	bucketBackfill  = []byte("backfill")

	allBuckets = [][]byte{bucketMeta, bucketBlocks, bucketUndo, bucketEntries, bucketStates, bucketOutpoints,
		bucketPending, bucketSchedule, bucketFPIndex, bucketUbTx, bucketFPKeys, bucketAutoSlash, bucketEvents,
		bucketSinks, bucketMempool, bucketBackfill}

	// addedBuckets were added to format 1 after its first release: a store
	// made before gets them, empty, when opened.
	addedBuckets = [][]byte{bucketBackfill}

	keyFormat    = []byte("format")
	keyGenesis   = []byte("genesis")
	keyStart     = []byte("start")
	keyCursor    = []byte("cursor")
	keySeq       = []byte("seq")
	keyDelivered = []byte("delivered")

	formatV1 = []byte("btcstake-watch/1")
)

// Journaled buckets: every change a block makes to them is recorded in the
// block's undo record (see blockTx), so rolling the block back is
// mechanical. The byte is the bucket's id in undo records.
const (
	jEntries byte = iota + 1
	jStates
	jOutpoints
	jPending
	jSchedule
	jFPIndex
	jUbTx
	jLast = jUbTx
)

func journalBucket(id byte) []byte {
	switch id {
	case jEntries:
		return bucketEntries
	case jStates:
		return bucketStates
	case jOutpoints:
		return bucketOutpoints
	case jPending:
		return bucketPending
	case jSchedule:
		return bucketSchedule
	case jFPIndex:
		return bucketFPIndex
	case jUbTx:
		return bucketUbTx
	}
	return nil
}

// Schedule kinds: what to check when the chain reaches a height.
const (
	schedDeep     byte = 1 // staking_deep
	schedTimelock byte = 2 // timelock_reached; value: the live outpoint
)

// openTimeout is how long Open waits for another process to release the
// file before ErrStoreInUse.
const openTimeout = 250 * time.Millisecond

// openDB validates and opens the file, creating the store first when it
// is absent (createDB).
func openDB(path string, genesis chainhash.Hash, start int64) (db *bolt.DB, err error) {
	if _, err := os.Lstat(path); os.IsNotExist(err) {
		if err := createDB(path, genesis, start); err != nil {
			return nil, err
		}
	}
	st, err := os.Stat(path)
	switch {
	case err == nil && !st.Mode().IsRegular():
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrStore, path)
	case err == nil && st.Size() == 0:
		// bbolt would silently initialise an empty file: an existing empty
		// file is a lost store, not a new one.
		return nil, fmt.Errorf("%w: %s is empty (not a watcher store)", ErrStore, path)
	case err == nil && st.Mode().Perm()&0o077 != 0 && runtime.GOOS != "windows":
		// It holds finality providers' secret keys (bucket fpkeys).
		return nil, fmt.Errorf("%w: %s has mode %04o: the group or others can read it, and it holds secret keys; run chmod 600 %s", ErrStore, path, st.Mode().Perm(), path)
	case err == nil:
		if err := preflight(path); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%w: %v", ErrStore, err)
	}
	db, err = openBolt(path)
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s is locked by another process", ErrStoreInUse, path)
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrStore, path, err)
	}
	return db, nil
}

// createDB puts a new store at path atomically, so that a full disk or a
// crash never leaves a half-made store there (which every later start
// would refuse as no watcher store):
//
//  1. build the store (bbolt's first pages, the buckets and the meta) in
//     a temporary directory;
//  2. link its bytes into place through internal/atomicfile (a temporary
//     file beside path, fsynced, then linked, never over an existing
//     file, and the directory fsynced).
//
// A store that another process linked meanwhile is kept (and opened).
func createDB(path string, genesis chainhash.Hash, start int64) error {
	data, err := newStoreImage(genesis, start)
	if err != nil {
		return fmt.Errorf("%w: creating %s: %v", ErrStore, path, err)
	}
	if err := atomicfile.Write(path, data, 0o600, true); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: creating %s: %v", ErrStore, path, err)
	}
	return nil
}

// newStoreImage returns the bytes of a new store.
func newStoreImage(genesis chainhash.Hash, start int64) ([]byte, error) {
	return boltfile.NewImage(openBolt, func(db *bolt.DB) error { return initStore(db, true, genesis, start) })
}

// openBolt opens the file with bbolt, turning its panics on damaged pages
// into errors.
func openBolt(path string) (db *bolt.DB, err error) {
	defer recoverStore(&err)
	return bolt.Open(path, 0o600, &bolt.Options{Timeout: openTimeout, FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
}

// recoverStore turns a bbolt panic on a damaged page into ErrStore.
func recoverStore(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: damaged file: %v", ErrStore, r)
	}
}

// preflight reads the file's two meta pages before bbolt maps it: a file
// that is not bbolt is refused with a clear error, and a file truncated
// below the high-water mark of its valid meta (which bbolt would fault on,
// an unrecoverable SIGBUS rather than a panic) is refused as damaged.
func preflight(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	size := st.Size()
	head := make([]byte, boltfile.PageHeaderSize+boltfile.MetaSize)
	if _, err := io.ReadFull(f, head); err != nil {
		return fmt.Errorf("%w: %s is too short to be a watcher store (%d bytes)", ErrStore, path, size)
	}
	if !boltfile.HasMagic(head) {
		return fmt.Errorf("%w: %s is not a bbolt file (not a watcher store)", ErrStore, path)
	}
	best, ok := boltfile.ParseMeta(head)
	pageSize := int64(4096)
	if ok {
		pageSize = int64(best.PageSize)
	}
	if !boltfile.PlausiblePageSize(pageSize) {
		return fmt.Errorf("%w: %s: bad page size %d", ErrStore, path, pageSize)
	}
	second := make([]byte, boltfile.PageHeaderSize+boltfile.MetaSize)
	if _, err := f.ReadAt(second, pageSize); err == nil {
		if m, ok2 := boltfile.ParseMeta(second); ok2 && (!ok || m.TxID > best.TxID) {
			best, ok = m, true
		}
	}
	if !ok {
		return fmt.Errorf("%w: %s: both bbolt meta pages are damaged", ErrStore, path)
	}
	if !best.Fits(size) {
		return fmt.Errorf("%w: %s is truncated (%d bytes, its pages reach %d)", ErrStore, path, size, int64(best.PGID)*int64(best.PageSize))
	}
	return nil
}

// initStore creates the buckets and meta of a new store, or checks those
// of an existing one (format, network).
func initStore(db *bolt.DB, fresh bool, genesis chainhash.Hash, start int64) (err error) {
	defer recoverStore(&err)
	if !fresh {
		if err := addBuckets(db); err != nil {
			return err
		}
	}
	if fresh {
		return db.Update(func(tx *bolt.Tx) error {
			for _, b := range allBuckets {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return fmt.Errorf("%w: %v", ErrStore, err)
				}
			}
			m := tx.Bucket(bucketMeta)
			for _, kv := range [][2][]byte{
				{keyFormat, formatV1}, {keyGenesis, genesis[:]}, {keyStart, be64(uint64(start))},
				{keyCursor, encodeCursor(start-1, chainhash.Hash{})}, {keySeq, be64(1)}, {keyDelivered, be64(0)},
			} {
				if err := m.Put(kv[0], kv[1]); err != nil {
					return fmt.Errorf("%w: %v", ErrStore, err)
				}
			}
			return nil
		})
	}
	return db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil || !bytes.Equal(m.Get(keyFormat), formatV1) {
			return fmt.Errorf("%w: not a btcstake watcher store (no %q format marker)", ErrStore, formatV1)
		}
		for _, b := range allBuckets {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("%w: bucket %q is missing", ErrStore, b)
			}
		}
		g := m.Get(keyGenesis)
		if len(g) != 32 {
			return fmt.Errorf("%w: no network recorded", ErrStore)
		}
		if !bytes.Equal(g, genesis[:]) {
			var h chainhash.Hash
			copy(h[:], g)
			return fmt.Errorf("%w: the store was made for the chain of genesis block %s, not %s", ErrWrongNetwork, h, genesis)
		}
		if _, _, err := decodeCursor(m.Get(keyCursor)); err != nil {
			return err
		}
		for _, k := range [][]byte{keyStart, keySeq, keyDelivered} {
			if len(m.Get(k)) != 8 {
				return fmt.Errorf("%w: meta %q is damaged", ErrStore, k)
			}
		}
		return nil
	})
}

// addBuckets creates the addedBuckets a watcher store of format 1 lacks;
// it leaves any other file as it is (the checks of initStore refuse it).
func addBuckets(db *bolt.DB) error {
	missing := false
	err := db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil || !bytes.Equal(m.Get(keyFormat), formatV1) {
			return nil
		}
		for _, b := range addedBuckets {
			if tx.Bucket(b) == nil {
				missing = true
			}
		}
		return nil
	})
	if err != nil || !missing {
		return err
	}
	return db.Update(func(tx *bolt.Tx) error {
		for _, b := range addedBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("%w: %v", ErrStore, err)
			}
		}
		return nil
	})
}

func be64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

func heightKey(h int64) []byte { return be64(uint64(h)) }

func encodeCursor(h int64, hash chainhash.Hash) []byte {
	b := make([]byte, 40)
	binary.BigEndian.PutUint64(b, uint64(h+1))
	copy(b[8:], hash[:])
	return b
}

func decodeCursor(b []byte) (int64, chainhash.Hash, error) {
	var h chainhash.Hash
	if len(b) != 40 {
		return 0, h, fmt.Errorf("%w: cursor is damaged", ErrStore)
	}
	copy(h[:], b[8:])
	v := binary.BigEndian.Uint64(b)
	if v > 1<<40 {
		return 0, h, fmt.Errorf("%w: cursor height %d is not plausible", ErrStore, v)
	}
	return int64(v) - 1, h, nil
}

// outpointKey is a watched output as a store key: txid || BE32(vout).
func outpointKey(op wire.OutPoint) []byte {
	b := make([]byte, 36)
	copy(b, op.Hash[:])
	binary.BigEndian.PutUint32(b[32:], op.Index)
	return b
}

func parseOutpointKey(b []byte) (wire.OutPoint, bool) {
	if len(b) != 36 {
		return wire.OutPoint{}, false
	}
	var op wire.OutPoint
	copy(op.Hash[:], b)
	op.Index = binary.BigEndian.Uint32(b[32:])
	return op, true
}

func scheduleKey(h int64, kind byte, id string) []byte {
	b := make([]byte, 0, 9+len(id))
	b = append(b, heightKey(h)...)
	b = append(b, kind)
	return append(b, id...)
}

// stakeState is where a watched delegation is, as the store keeps it
// (states bucket, JSON). Heights are 0 when unknown.
type stakeState struct {
	State         string `json:"state"`
	StakingHeight int64  `json:"staking_height,omitempty"`
	StakingBlock  string `json:"staking_block,omitempty"`
	// Live is the unspent output the stake sits in ("txid:vout"), its
	// kind and the height that confirmed it (0 while unconfirmed).
	Live       string `json:"live,omitempty"`
	LiveKind   string `json:"live_kind,omitempty"`
	LiveHeight int64  `json:"live_height,omitempty"`
	// UnlockAt is the first height a time-lock spend of Live can be in.
	UnlockAt        int64  `json:"unlock_at,omitempty"`
	UnbondingTxid   string `json:"unbonding_txid,omitempty"`
	UnbondingHeight int64  `json:"unbonding_height,omitempty"`
	SlashingTxid    string `json:"slashing_txid,omitempty"`
	SlashingHeight  int64  `json:"slashing_height,omitempty"`
	WithdrawTxid    string `json:"withdraw_txid,omitempty"`
	WithdrawHeight  int64  `json:"withdraw_height,omitempty"`
	ExtendedTxid    string `json:"extended_txid,omitempty"`
	ExtendedHeight  int64  `json:"extended_height,omitempty"`
}

// Stake states (StakeView.State).
const (
	StatePending   = "pending"   // staking tx not yet confirmed
	StateStaked    = "staked"    // staking output unspent
	StateUnbonding = "unbonding" // unbonding output unspent
	StateSlashed   = "slashed"   // slashed; the change output (if any) unspent
	StateWithdrawn = "withdrawn" // the staker took the stake (or the slashing change) back
	StateExtended  = "extended"  // a stake extension spent the staking output
	StateUnknown   = "spent_unknown_path"
)

// maxRecord bounds a stored record the store decodes.
const maxRecord = 1 << 20

func decodeState(b []byte) (stakeState, error) {
	var s stakeState
	if len(b) > maxRecord {
		return s, fmt.Errorf("%w: state record of %d bytes", ErrStore, len(b))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("%w: state record: %v", ErrStore, err)
	}
	switch s.State {
	case StatePending, StateStaked, StateUnbonding, StateSlashed, StateWithdrawn, StateExtended, StateUnknown:
	default:
		return s, fmt.Errorf("%w: state record: unknown state %q", ErrStore, s.State)
	}
	if s.Live != "" {
		if _, err := parseOutPoint(s.Live); err != nil {
			return s, fmt.Errorf("%w: state record: live %q", ErrStore, s.Live)
		}
	}
	return s, nil
}

func encodeState(s stakeState) []byte {
	b, _ := json.Marshal(s) // plain strings and integers
	return b
}

// undoRecord is what rolling a block back needs: the old value of every
// journaled key the block changed (nil old = the key was absent), and the
// sequence numbers of the events it produced.
type undoRecord struct {
	changes []change
	seqs    []uint64
}

type change struct {
	bucket  byte
	key     []byte
	old     []byte
	present bool
}

const undoVersion = 1

// encodeUndo: version(1) || uvarint(n changes) || n × (bucket(1) ||
// uvarint(len key) || key || present(1) || [uvarint(len old) || old]) ||
// uvarint(n seqs) || n × uvarint(seq).
func encodeUndo(u *undoRecord) []byte {
	b := []byte{undoVersion}
	b = binary.AppendUvarint(b, uint64(len(u.changes)))
	for _, c := range u.changes {
		b = append(b, c.bucket)
		b = binary.AppendUvarint(b, uint64(len(c.key)))
		b = append(b, c.key...)
		if !c.present {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(len(c.old)))
		b = append(b, c.old...)
	}
	b = binary.AppendUvarint(b, uint64(len(u.seqs)))
	for _, s := range u.seqs {
		b = binary.AppendUvarint(b, s)
	}
	return b
}

// decodeUndo is the inverse of encodeUndo; every length is checked against
// what is left of b, so a damaged record is ErrStore, never a panic or a
// huge allocation.
func decodeUndo(b []byte) (*undoRecord, error) {
	bad := func(what string) (*undoRecord, error) {
		return nil, fmt.Errorf("%w: undo record: %s", ErrStore, what)
	}
	if len(b) == 0 || b[0] != undoVersion {
		return bad("unknown version")
	}
	r := b[1:]
	uv := func() (uint64, bool) {
		v, n := binary.Uvarint(r)
		if n <= 0 || n != len(binary.AppendUvarint(nil, v)) {
			return 0, false // malformed, or not the minimal encoding
		}
		r = r[n:]
		return v, true
	}
	take := func(n uint64) ([]byte, bool) {
		if n > uint64(len(r)) {
			return nil, false
		}
		out := append([]byte(nil), r[:n]...)
		r = r[n:]
		return out, true
	}
	n, ok := uv()
	if !ok || n > uint64(len(r)) {
		return bad("bad change count")
	}
	u := &undoRecord{changes: make([]change, 0, n)}
	for range n {
		if len(r) < 1 {
			return bad("truncated")
		}
		c := change{bucket: r[0]}
		r = r[1:]
		if c.bucket < jEntries || c.bucket > jLast {
			return bad(fmt.Sprintf("unknown bucket %d", c.bucket))
		}
		kl, ok := uv()
		if !ok {
			return bad("bad key length")
		}
		if c.key, ok = take(kl); !ok || len(c.key) == 0 {
			return bad("bad key")
		}
		if len(r) < 1 || r[0] > 1 {
			return bad("bad presence flag")
		}
		c.present = r[0] == 1
		r = r[1:]
		if c.present {
			vl, ok := uv()
			if !ok {
				return bad("bad value length")
			}
			if c.old, ok = take(vl); !ok {
				return bad("truncated value")
			}
		}
		u.changes = append(u.changes, c)
	}
	ns, ok := uv()
	if !ok || ns > uint64(len(r)) {
		return bad("bad event count")
	}
	u.seqs = make([]uint64, 0, ns)
	for range ns {
		s, ok := uv()
		if !ok || s == 0 {
			return bad("bad event seq")
		}
		u.seqs = append(u.seqs, s)
	}
	if len(r) != 0 {
		return bad("trailing bytes")
	}
	return u, nil
}

// autoSlashRecord says what auto-slash did for one (delegation, output):
// broadcast Txid, or refused for Reason. It is kept outside the journal:
// a broadcast cannot be undone by a reorganisation.
//
// Incomplete marks a refusal because the slashing transaction could not
// be completed (no slashing PSBT, too few covenant adaptor signatures):
// Retry is set on it when something new may complete it (a richer entry
// of the delegation, a key of another of its providers), and the output
// is tried again. Refusals counts the refusals recorded so far (each
// refusal event has its own id). A broadcast, or a refusal by the node,
// is final.
type autoSlashRecord struct {
	Txid       string   `json:"txid,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	Missing    []string `json:"missing,omitempty"`
	Incomplete bool     `json:"incomplete,omitempty"`
	Retry      bool     `json:"retry,omitempty"`
	Refusals   int      `json:"refusals,omitempty"`
}

func decodeAutoSlash(b []byte) (autoSlashRecord, error) {
	var r autoSlashRecord
	if len(b) > maxRecord {
		return r, fmt.Errorf("%w: auto-slash record of %d bytes", ErrStore, len(b))
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%w: auto-slash record: %v", ErrStore, err)
	}
	return r, nil
}

func autoSlashKey(id string, kind byte) []byte {
	return append(append([]byte(id), 0), kind)
}

func parseOutPoint(s string) (wire.OutPoint, error) {
	op, err := wire.NewOutPointFromString(s)
	if err != nil || op == nil {
		return wire.OutPoint{}, fmt.Errorf("%w: outpoint %q", ErrInvalidArgument, s)
	}
	return *op, nil
}

// The delivered marker: a 16-byte file beside the store (path +
// "-delivered", mode 0600) holding BE64(seq) || BE64(^seq), the last seq
// the Handler returned from. It is rewritten in place after every event
// without fsync: a killed process loses nothing written (the kernel has
// it), so a restart repeats at most the one event the Handler was given
// last; after a power loss the store's own copy (updated at each commit)
// is used, and the events delivered since that commit come again.
type marker struct{ f *os.File }

// markerSuffix names the delivered marker: path + markerSuffix.
const markerSuffix = "-delivered"

func openMarker(path string) (*marker, uint64, error) {
	// The marker is written in place: whatever is at its name must be a
	// regular file itself, never a link to one (it would be written
	// through), checked before opening (which follows links).
	if fi, err := os.Lstat(path + markerSuffix); err == nil && !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%w: delivered marker %s%s is not a regular file", ErrStore, path, markerSuffix)
	}
	f, err := os.OpenFile(path+markerSuffix, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: delivered marker: %v", ErrStore, err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%w: delivered marker %s%s is not a regular file", ErrStore, path, markerSuffix)
	}
	var b [16]byte
	n, _ := f.ReadAt(b[:], 0)
	v := binary.BigEndian.Uint64(b[:8])
	if n != 16 || binary.BigEndian.Uint64(b[8:]) != ^v {
		v = 0 // absent or torn: the store's copy counts
	}
	return &marker{f: f}, v, nil
}

func (m *marker) set(seq uint64) error {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], seq)
	binary.BigEndian.PutUint64(b[8:], ^seq)
	if _, err := m.f.WriteAt(b[:], 0); err != nil {
		return fmt.Errorf("%w: delivered marker: %v", ErrStore, err)
	}
	return nil
}

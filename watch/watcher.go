package watch

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// Error kinds of the watcher (errors.Is). ErrInvalidEntry is in entry.go.
var (
	// ErrStore: the file is not a watcher store (another bbolt file, a
	// foreign file, a damaged one), or reading or writing it failed.
	ErrStore = errors.New("watch store")
	// ErrStoreInUse: another process has the store open.
	ErrStoreInUse = errors.New("watch store in use")
	// ErrWrongNetwork: the store or the node belongs to another network
	// than Config.Network.
	ErrWrongNetwork = errors.New("wrong network")
	// ErrReorgTooDeep: the node's chain left the blocks the watcher
	// processed deeper than it keeps undo records for (MaxReorgDepth).
	ErrReorgTooDeep = errors.New("reorganisation deeper than the watcher can undo")
	// ErrEntryConflict: Add got an entry whose id is stored with another
	// staking transaction or other keys.
	ErrEntryConflict = errors.New("conflicting watch entry")
	// ErrNotFound: no watched delegation has that id.
	ErrNotFound = errors.New("not watched")
	// ErrInvalidConfig: Config is missing something Open or Run needs.
	ErrInvalidConfig = errors.New("invalid watcher config")
	// ErrInvalidArgument: a malformed argument (an id that is not
	// txid:vout, a nil key).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrHandler: Config.Handler returned an error; the event and those
	// after it are handed to it again on the next Run.
	ErrHandler = errors.New("event handler failed")
	// ErrBusy: Run or CatchUp is already running, or Close was called
	// while it runs.
	ErrBusy = errors.New("watcher busy")
	// ErrClosed: the watcher was closed.
	ErrClosed = errors.New("watcher closed")
)

// Node is what the watcher needs from a Bitcoin node; *chain.Client is
// one. No transaction index is needed: Transaction is only asked about
// mempool transactions.
type Node interface {
	Height(ctx context.Context) (int64, error)
	BlockHash(ctx context.Context, height int64) (chainhash.Hash, error)
	Block(ctx context.Context, hash chainhash.Hash) (*wire.MsgBlock, error)
	MempoolTxids(ctx context.Context) ([]chainhash.Hash, error)
	Transaction(ctx context.Context, txid chainhash.Hash) (*chain.TxInfo, error)
	// Broadcast is used by auto-slash; a refusal is a *chain.RejectError
	// (errors.Is chain.ErrRejected).
	Broadcast(ctx context.Context, tx *wire.MsgTx) (chainhash.Hash, error)
}

// NetworkChecker is implemented by nodes that can tell which network they
// follow beyond the genesis hash (*chain.Client: the signet challenge).
type NetworkChecker interface {
	CheckNetwork(ctx context.Context, net *chaincfg.Params) error
}

var _ Node = (*chain.Client)(nil)
var _ NetworkChecker = (*chain.Client)(nil)

// Defaults of Config's zero values.
const (
	DefaultPollInterval  = 5 * time.Second
	DefaultPrefetch      = 8
	DefaultMaxReorgDepth = 144
	DefaultBatchBlocks   = 256
	DefaultBatchInterval = time.Second
	DefaultRetryMin      = 250 * time.Millisecond
	DefaultRetryMax      = 30 * time.Second
	DefaultMempoolFetch  = 2000
)

// Config says what the watcher follows and how.
type Config struct {
	// Network is required: the store records its genesis hash and refuses
	// another network's node or store.
	Network *chaincfg.Params
	// Node is required by Run and CatchUp (not by Open and the read API).
	Node Node
	// StartHeight is the first block a new store processes (ignored when
	// the store exists: it resumes from its cursor).
	StartHeight int64
	// PhaseOne: also watch every phase-1 staking transaction (of the tag
	// and covenant committee of the Versions version in force at its
	// height) found in a block, as an entry of SourcePhaseOne. Needs
	// Versions with staking params (not lock-only).
	PhaseOne bool
	Versions *params.Versions
	// AutoSlash: complete and broadcast the slashing transactions of every
	// watched delegation of a finality provider whose key is known.
	AutoSlash bool
	// Handler, when set, is called synchronously with each event after it
	// is durably stored, in Seq order (see Run for the guarantee).
	Handler func(Event) error
	// Observer, when set, is told about blocks, events and node errors.
	Observer Observer
	// Logger (nil: discard).
	Logger *slog.Logger
	// PollInterval is how often the caught-up watcher asks the node for a
	// new tip and polls the mempool (0: DefaultPollInterval).
	PollInterval time.Duration
	// Prefetch is how many blocks are fetched ahead concurrently (0:
	// DefaultPrefetch).
	Prefetch int
	// MaxReorgDepth is how many blocks of undo records are kept; a deeper
	// reorganisation stops Run with ErrReorgTooDeep (0:
	// DefaultMaxReorgDepth).
	MaxReorgDepth int
	// BatchBlocks and BatchInterval bound how many event-free blocks are
	// applied in one store transaction (0: the defaults).
	BatchBlocks   int
	BatchInterval time.Duration
	// RetryMin and RetryMax bound the backoff between retries of a failed
	// node call (0: the defaults).
	RetryMin, RetryMax time.Duration
	// MempoolFetch bounds how many unknown mempool transactions one poll
	// fetches to look for unbonding spends of watched staking outputs
	// (0: DefaultMempoolFetch; negative: none, only known txids are
	// recognised).
	MempoolFetch int
}

func (c *Config) withDefaults() {
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Prefetch <= 0 {
		c.Prefetch = DefaultPrefetch
	}
	if c.MaxReorgDepth <= 0 {
		c.MaxReorgDepth = DefaultMaxReorgDepth
	}
	if c.BatchBlocks <= 0 {
		c.BatchBlocks = DefaultBatchBlocks
	}
	if c.BatchInterval <= 0 {
		c.BatchInterval = DefaultBatchInterval
	}
	if c.RetryMin <= 0 {
		c.RetryMin = DefaultRetryMin
	}
	if c.RetryMax <= 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = c.RetryMin
	}
	if c.MempoolFetch == 0 {
		c.MempoolFetch = DefaultMempoolFetch
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Watcher follows a node and keeps what it learns in its store. Its
// methods are safe for concurrent use; Run (or CatchUp) runs one at a
// time.
type Watcher struct {
	cfg  Config
	db   *bolt.DB
	path string
	log  *slog.Logger

	runMu sync.Mutex // held by Run/CatchUp

	// mu guards everything below and the open batch transaction.
	mu     sync.Mutex
	closed bool
	batch  *batch
	// cursor is the last block applied (maybe not yet committed).
	cursorH    int64
	cursorHash chainhash.Hash
	nextSeq    uint64
	// Mirrors of the outpoints, pending and ubtx buckets.
	live      map[wire.OutPoint]string
	pendingTx map[chainhash.Hash]int
	ubtx      map[chainhash.Hash]string
	// Known finality-provider keys (fpkeys bucket).
	keys map[script.XOnlyKey]*btcec.PrivateKey
	// slashDue: auto-slash should look at the delegations again.
	slashDue bool
	// cache of decoded entries and their outputs, bounded.
	cache map[string]*watched
	// parsers of phase-1 staking transactions, by version activation.
	parsers map[uint32]*phaseOne
	// mempoolSeen: txids already looked at, pruned to the current mempool.
	mempoolSeen map[chainhash.Hash]struct{}
	start       int64
	// bfNext mirrors the backfill bucket: the delegations still to be
	// brought up to the cursor, each with the first block it has not
	// been through. The follower ignores them until then (watches).
	bfNext map[string]int64
	// scan is the backfill running (nil: none).
	scan *bfScan

	// evMu guards the committed-event signal.
	evMu      sync.Mutex
	lastSeq   uint64 // last committed seq
	evCh      chan struct{}
	delivered uint64 // last seq the Handler returned from
	marker    *marker

	pmu      sync.Mutex
	progress Progress
	tipSeen  bool // the node's height was asked since Open (pmu)

	wake chan struct{} // Add / AddFinalityProviderKey nudge a caught-up Run

	// Test hooks: called after a commit that stored events, before they are
	// delivered; before a block's batch commits; after the Handler returned
	// from an event, before the marker records it.
	hookAfterCommit  func() error
	hookBeforeCommit func(height int64) error
	hookAfterHandler func(Event) error
	// hookBackfillCommit: before a backfill batch commits (height: the
	// last block it applied).
	hookBackfillCommit func(height int64) error
}

// watched is an entry with the outputs the follower needs to find the
// next output of a stake by its script, each built when first needed
// (most entries are only ever confirmed; a spend needs one output).
type watched struct {
	e                    *Entry
	unbonding, slashChng *script.Output
}

func (c *watched) unbondingOut() (*script.Output, error) {
	if c.unbonding == nil {
		o, err := c.e.d.UnbondingOutput()
		if err != nil {
			return nil, fmt.Errorf("%w: entry %s: %v", ErrStore, c.e.ID(), err)
		}
		c.unbonding = o
	}
	return c.unbonding, nil
}

func (c *watched) changeOut() (*script.Output, error) {
	if c.slashChng == nil {
		o, err := c.e.d.SlashingChangeOutput()
		if err != nil {
			return nil, fmt.Errorf("%w: entry %s: %v", ErrStore, c.e.ID(), err)
		}
		c.slashChng = o
	}
	return c.slashChng, nil
}

const maxCache = 8192

// Open opens the store at path, creating it (mode 0600) when it does not
// exist. A file that is not a watcher store is ErrStore, one of another
// network ErrWrongNetwork, one held by another process ErrStoreInUse.
func Open(path string, cfg Config) (*Watcher, error) {
	if cfg.Network == nil || cfg.Network.GenesisHash == nil {
		return nil, fmt.Errorf("%w: no network", ErrInvalidConfig)
	}
	if cfg.StartHeight < 0 {
		return nil, fmt.Errorf("%w: negative start height", ErrInvalidConfig)
	}
	if cfg.PhaseOne && cfg.Versions == nil {
		return nil, fmt.Errorf("%w: watching phase-1 staking transactions needs params versions", ErrInvalidConfig)
	}
	cfg.withDefaults()
	db, err := openDB(path, *cfg.Network.GenesisHash, cfg.StartHeight)
	if err != nil {
		return nil, err
	}
	if err := initStore(db, false, *cfg.Network.GenesisHash, cfg.StartHeight); err != nil {
		db.Close()
		return nil, err
	}
	mk, delivered, err := openMarker(path)
	if err != nil {
		db.Close()
		return nil, err
	}
	w := &Watcher{cfg: cfg, db: db, path: path, log: cfg.Logger, evCh: make(chan struct{}), marker: mk, delivered: delivered,
		parsers: map[uint32]*phaseOne{}, mempoolSeen: map[chainhash.Hash]struct{}{}, wake: make(chan struct{}, 1)}
	if err := w.load(); err != nil {
		db.Close()
		mk.f.Close()
		return nil, err
	}
	w.slashDue = len(w.keys) > 0
	return w, nil
}

// load (re)reads the in-memory mirrors from the committed store.
func (w *Watcher) load() (err error) {
	defer recoverStore(&err)
	return w.db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		h, hash, err := decodeCursor(m.Get(keyCursor))
		if err != nil {
			return err
		}
		w.cursorH, w.cursorHash = h, hash
		// Progress starts at the stored cursor; the node's tip is not
		// known until Run or CatchUp asks (until then Tip is the cursor's
		// height and CaughtUp is false).
		w.setProgress(func(p *Progress) {
			p.Height, p.BlockHash = h, cursorHashString(hash)
			if !w.tipSeen || p.Tip < h {
				p.Tip = h
			}
		})
		w.start = int64(be64u(m.Get(keyStart)))
		w.nextSeq = be64u(m.Get(keySeq))
		if w.nextSeq == 0 {
			return fmt.Errorf("%w: meta seq is damaged", ErrStore)
		}
		w.evMu.Lock()
		w.lastSeq = w.nextSeq - 1
		// The marker is ahead of the store's copy, unless it was lost (a
		// power failure) or belongs to another store.
		if d := be64u(m.Get(keyDelivered)); d > w.delivered || w.delivered > w.lastSeq {
			w.delivered = d
		}
		w.evMu.Unlock()
		w.live = map[wire.OutPoint]string{}
		w.pendingTx = map[chainhash.Hash]int{}
		w.ubtx = map[chainhash.Hash]string{}
		w.keys = map[script.XOnlyKey]*btcec.PrivateKey{}
		w.cache = map[string]*watched{}
		w.bfNext = map[string]int64{}
		w.scan = nil
		if err := tx.Bucket(bucketBackfill).ForEach(func(k, v []byte) error {
			if len(v) != 8 || be64u(v) > 1<<40 {
				return fmt.Errorf("%w: backfill record of %s is damaged", ErrStore, k)
			}
			w.bfNext[string(k)] = int64(be64u(v))
			return nil
		}); err != nil {
			return err
		}
		defer w.setProgress(func(p *Progress) { p.BackfillEntries = len(w.bfNext) })
		if err := tx.Bucket(bucketOutpoints).ForEach(func(k, v []byte) error {
			op, ok := parseOutpointKey(k)
			if !ok {
				return fmt.Errorf("%w: outpoint key of %d bytes", ErrStore, len(k))
			}
			w.live[op] = string(v)
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketPending).ForEach(func(k, v []byte) error {
			op, ok := parseOutpointKey(k)
			if !ok {
				return fmt.Errorf("%w: pending key of %d bytes", ErrStore, len(k))
			}
			w.pendingTx[op.Hash]++
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketUbTx).ForEach(func(k, v []byte) error {
			if len(k) != 32 {
				return fmt.Errorf("%w: unbonding txid key of %d bytes", ErrStore, len(k))
			}
			w.ubtx[chainhash.Hash(k)] = string(v)
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bucketFPKeys).ForEach(func(k, v []byte) error {
			if len(k) != 32 || len(v) != 32 {
				return fmt.Errorf("%w: finality provider key record is damaged", ErrStore)
			}
			sk, _ := btcec.PrivKeyFromBytes(v)
			if script.XOnly(sk.PubKey()) != script.XOnlyKey(k) {
				return fmt.Errorf("%w: finality provider key record does not match its public key", ErrStore)
			}
			w.keys[script.XOnlyKey(k)] = sk
			return nil
		})
	})
}

func be64u(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

// Path is the store's file name.
func (w *Watcher) Path() string { return w.path }

// Close closes the store. Stop Run first (cancel its context and wait):
// while it runs Close returns ErrBusy.
func (w *Watcher) Close() error {
	if !w.runMu.TryLock() {
		return fmt.Errorf("%w: Run is still running", ErrBusy)
	}
	defer w.runMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	var err error
	if w.batch != nil {
		err = w.commitLocked()
	}
	if cerr := w.db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%w: %v", ErrStore, cerr)
	}
	w.marker.f.Close()
	return err
}

// abandon closes the store without committing an open batch, as a crash
// would leave it (tests).
func (w *Watcher) abandon() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.batch != nil {
		_ = w.batch.tx.Rollback()
		w.batch = nil
	}
	w.closed = true
	_ = w.db.Close()
	w.marker.f.Close()
}

// update runs f in a write transaction that also records the cursor and
// the next seq: the open batch when there is one (committing it after f),
// else a new one. On failure the store is re-read. Callers hold w.mu.
func (w *Watcher) update(f func(tx *bolt.Tx) error) (err error) {
	if w.closed {
		return ErrClosed
	}
	if w.batch != nil {
		if err := f(w.batch.tx); err != nil {
			w.rollbackLocked()
			return err
		}
		return w.commitLocked()
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: damaged file: %v", ErrStore, r)
		}
		if err != nil {
			if !isKind(err) {
				err = fmt.Errorf("%w: %v", ErrStore, err)
			}
			if lerr := w.load(); lerr != nil {
				w.log.Error("re-reading the store after a failed write", "err", lerr)
			}
			return
		}
		w.committed(w.nextSeq - 1)
	}()
	return w.db.Update(func(tx *bolt.Tx) error {
		if err := f(tx); err != nil {
			return err
		}
		return w.putMeta(tx)
	})
}

// putMeta records the cursor, the next seq and how far the Handler got.
func (w *Watcher) putMeta(tx *bolt.Tx) error {
	m := tx.Bucket(bucketMeta)
	w.evMu.Lock()
	d := w.delivered
	w.evMu.Unlock()
	if err := m.Put(keyCursor, encodeCursor(w.cursorH, w.cursorHash)); err != nil {
		return err
	}
	if err := m.Put(keyDelivered, be64(d)); err != nil {
		return err
	}
	if err := w.putBackfill(tx); err != nil {
		return err
	}
	return m.Put(keySeq, be64(w.nextSeq))
}

func isKind(err error) bool {
	for _, k := range []error{ErrStore, ErrEntryConflict, ErrInvalidEntry, ErrInvalidArgument, ErrNotFound, ErrClosed} {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}

// Add watches entries. It is idempotent by Entry.ID: an entry already
// stored with the same staking transaction and keys is left as it is,
// except that the stored one takes what the new one adds (its unbonding
// transaction when the stored one has none; a slashing PSBT of the same
// transaction with every signature of the stored one and more), and an
// output auto-slash refused for want of it is tried again; one whose id is
// stored with another staking transaction or other keys is
// ErrEntryConflict, and nothing is added.
//
// An entry new to the store is followed from the store's start height:
// when the follower has already processed blocks from there, Run or
// CatchUp first brings it through them (a backfill, see AddFrom), with the
// events and state it would have had had it been watched from the start.
func (w *Watcher) Add(entries ...*Entry) error {
	froms := make([]int64, len(entries))
	for i := range froms {
		froms[i] = -1
	}
	return w.add(froms, entries)
}

// AddFrom is Add for delegations whose staking transaction is known not
// to be in a block below height from (for instance because it confirmed
// at from): the backfill of the entries new to the store starts there
// instead of at the store's start height, and blocks below are not
// fetched. A from below the start height is honoured (the entries are
// brought through those blocks as well); one above the cursor needs no
// backfill. A negative from is ErrInvalidArgument.
func (w *Watcher) AddFrom(from int64, entries ...*Entry) error {
	if from < 0 {
		return fmt.Errorf("%w: backfill height %d is negative", ErrInvalidArgument, from)
	}
	froms := make([]int64, len(entries))
	for i := range froms {
		froms[i] = from
	}
	return w.add(froms, entries)
}

// AddEach is AddFrom with a height for each entry: entries[i] new to the
// store is brought through the blocks from from[i] (a negative from[i]:
// the store's start height, as Add). Everything is added in one store
// transaction, or nothing (an ErrEntryConflict among them, say). from and
// entries of different lengths are ErrInvalidArgument.
func (w *Watcher) AddEach(from []int64, entries []*Entry) error {
	if len(from) != len(entries) {
		return fmt.Errorf("%w: %d heights for %d entries", ErrInvalidArgument, len(from), len(entries))
	}
	return w.add(append([]int64(nil), from...), entries)
}

// add stores entries; froms[i] < 0 is the store's start.
func (w *Watcher) add(froms []int64, entries []*Entry) error {
	for i, e := range entries {
		if e == nil || e.p == nil {
			return fmt.Errorf("%w: entry %d is nil", ErrInvalidEntry, i)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range froms {
		if froms[i] < 0 {
			froms[i] = w.start
		}
	}
	newKey := false
	fresh := map[string]int64{} // new entries that need the blocks from..cursor
	added := false
	err := w.update(func(tx *bolt.Tx) error {
		for i, e := range entries {
			isNew, err := w.putEntry(tx, nil, e)
			if err != nil {
				return err
			}
			if !isNew {
				continue
			}
			added = true
			if w.knowsKeyOf(e) {
				newKey = true
			}
			// The entries new to the store need the blocks from..cursor.
			if from := froms[i]; from <= w.cursorH {
				fresh[e.ID()] = from
				if err := tx.Bucket(bucketBackfill).Put([]byte(e.ID()), be64(uint64(from))); err != nil {
					return fmt.Errorf("%w: %v", ErrStore, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if added {
		// Mempool transactions looked at before may concern them.
		clear(w.mempoolSeen)
	}
	if len(fresh) > 0 {
		for id, from := range fresh {
			w.bfNext[id] = from
		}
		w.setProgress(func(p *Progress) { p.BackfillEntries = len(w.bfNext) })
		w.nudge()
	}
	if newKey {
		w.slashDue = true
		w.nudge()
	}
	return nil
}

func (w *Watcher) knowsKeyOf(e *Entry) bool {
	for _, fp := range e.d.FinalityProviders {
		if _, ok := w.keys[script.XOnly(fp)]; ok {
			return true
		}
	}
	return false
}

func (w *Watcher) nudge() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// putEntry stores e (through the journal when j is not nil: a phase-1
// entry found in a block). It reports whether e was new.
func (w *Watcher) putEntry(tx *bolt.Tx, j *blockTx, e *Entry) (bool, error) {
	id := e.ID()
	raw, err := e.MarshalJSON()
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrInvalidEntry, err)
	}
	if old := tx.Bucket(bucketEntries).Get([]byte(id)); old != nil {
		var have Entry
		if err := have.UnmarshalJSON(old); err != nil {
			return false, fmt.Errorf("%w: stored entry %s: %v", ErrStore, id, err)
		}
		if err := sameDelegation(&have, e); err != nil {
			return false, fmt.Errorf("%w: %s: %v", ErrEntryConflict, id, err)
		}
		m, improved, ok := merge(&have, e)
		if !ok {
			return false, nil
		}
		// Keep the richer entry: same delegation, the pre-signed data of
		// both.
		raw, err := m.MarshalJSON()
		if err != nil {
			return false, fmt.Errorf("%w: %v", ErrInvalidEntry, err)
		}
		if err := w.set(tx, j, jEntries, []byte(id), raw); err != nil {
			return false, err
		}
		delete(w.cache, id)
		// An output auto-slash could not slash for want of what it has
		// now is tried again.
		for _, kind := range improved {
			if err := w.retryAutoSlash(tx, id, kind); err != nil {
				return false, err
			}
		}
		if ub := m.unbondingTx; ub != nil && have.unbondingTx == nil {
			return false, w.set(tx, j, jUbTx, hashKey(ub.TxHash()), []byte(id))
		}
		return false, nil
	}
	if err := w.set(tx, j, jEntries, []byte(id), raw); err != nil {
		return false, err
	}
	w.cacheEntry(id, &watched{e: e})
	op := e.StakingOutPoint()
	st := stakeState{State: StatePending, Live: op.String(), LiveKind: script.StakingOutputKind.String()}
	if err := w.set(tx, j, jStates, []byte(id), encodeState(st)); err != nil {
		return false, err
	}
	if err := w.set(tx, j, jOutpoints, outpointKey(op), []byte(id)); err != nil {
		return false, err
	}
	if err := w.set(tx, j, jPending, outpointKey(op), []byte(id)); err != nil {
		return false, err
	}
	for _, fp := range e.d.FinalityProviders {
		x := script.XOnly(fp)
		if err := w.set(tx, j, jFPIndex, append(x[:], id...), []byte{}); err != nil {
			return false, err
		}
	}
	if ub := e.unbondingTx; ub != nil {
		if err := w.set(tx, j, jUbTx, hashKey(ub.TxHash()), []byte(id)); err != nil {
			return false, err
		}
	}
	return true, nil
}

func hashKey(h chainhash.Hash) []byte { return append([]byte(nil), h[:]...) }

// sameDelegation: a and b describe the same delegation (staking tx, keys,
// time, params).
func sameDelegation(a, b *Entry) error {
	if a.stakingTx.TxHash() != b.stakingTx.TxHash() {
		return fmt.Errorf("staking transaction %s is stored, %s given", a.stakingTx.TxHash(), b.stakingTx.TxHash())
	}
	if !a.d.Staker.IsEqual(b.d.Staker) || a.d.StakingTime != b.d.StakingTime || len(a.d.FinalityProviders) != len(b.d.FinalityProviders) {
		return errors.New("another staker key, staking time or finality providers")
	}
	for i := range a.d.FinalityProviders {
		if !a.d.FinalityProviders[i].IsEqual(b.d.FinalityProviders[i]) {
			return errors.New("other finality providers")
		}
	}
	pa, _ := a.p.MarshalJSON()
	pb, _ := b.p.MarshalJSON()
	if !bytes.Equal(pa, pb) {
		return errors.New("other params")
	}
	if a.unbondingTx != nil && b.unbondingTx != nil && a.unbondingTx.TxHash() != b.unbondingTx.TxHash() {
		return fmt.Errorf("unbonding transaction %s is stored, %s given", a.unbondingTx.TxHash(), b.unbondingTx.TxHash())
	}
	return nil
}

// merge is have (a stored entry) with what n (the same delegation, as
// sameDelegation checked) adds to it: its unbonding transaction when have
// has none, and each slashing PSBT of n that is richer than have's
// (richerSlashing). ok is false when n adds nothing; improved lists the
// outputs whose slashing PSBT n improved. have's source and confirmation
// depth are kept.
func merge(have, n *Entry) (m *Entry, improved []script.OutputKind, ok bool) {
	c := *have
	if n.unbondingTx != nil && have.unbondingTx == nil {
		c.unbondingTx, ok = n.unbondingTx, true
	}
	if richerSlashing(n.slashing, have.slashing) {
		c.slashing, ok = n.slashing, true
		improved = append(improved, script.StakingOutputKind)
	}
	// n's unbonding slashing PSBT spends n's unbonding transaction, which
	// is have's when have has one (sameDelegation).
	if richerSlashing(n.unbondingSlashing, have.unbondingSlashing) {
		c.unbondingSlashing, ok = n.unbondingSlashing, true
		improved = append(improved, script.UnbondingOutputKind)
	}
	if !ok {
		return nil, nil, false
	}
	return &c, improved, true
}

// richerSlashing: n is a slashing PSBT and have is none, or both are of
// the same transaction and n carries every signature have carries (the
// script-path signatures by key and leaf, the covenant adaptor signatures
// by member and finality provider) and more. Entries are validated, so
// every signature counted verifies.
func richerSlashing(n, have *btcpsbt.Packet) bool {
	switch {
	case n == nil:
		return false
	case have == nil:
		return true
	case n.UnsignedTx.TxHash() != have.UnsignedTx.TxHash():
		return false
	}
	ns, hs := psbtSignatures(n), psbtSignatures(have)
	if len(ns) <= len(hs) {
		return false
	}
	for k := range hs {
		if !ns[k] {
			return false
		}
	}
	return true
}

// psbtSignatures names the signatures input 0 of a slashing PSBT
// carries: "s" || x-only key || leaf hash for a script-path signature,
// "a" || covenant member || finality provider for an adaptor signature.
func psbtSignatures(p *btcpsbt.Packet) map[string]bool {
	m := map[string]bool{}
	if len(p.Inputs) == 0 {
		return m
	}
	for _, s := range p.Inputs[0].TaprootScriptSpendSig {
		if s != nil {
			m["s"+string(s.XOnlyPubKey)+string(s.LeafHash)] = true
		}
	}
	sigs, _ := psbt.AdaptorSigs(p, 0)
	for _, a := range sigs {
		m["a"+string(a.Covenant[:])+string(a.FinalityProvider[:])] = true
	}
	return m
}

// set writes (val != nil) or deletes (val == nil) a key of a journaled
// bucket, through the journal when j is not nil, and keeps the in-memory
// mirrors in step.
func (w *Watcher) set(tx *bolt.Tx, j *blockTx, bucket byte, key, val []byte) error {
	if j != nil {
		j.journal(bucket, key)
	}
	b := tx.Bucket(journalBucket(bucket))
	var err error
	if val == nil {
		err = b.Delete(key)
	} else {
		err = b.Put(key, val)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	w.mirror(bucket, key, val)
	return nil
}

func (w *Watcher) mirror(bucket byte, key, val []byte) {
	switch bucket {
	case jOutpoints:
		op, _ := parseOutpointKey(key)
		if val == nil {
			delete(w.live, op)
		} else {
			w.live[op] = string(val)
		}
	case jPending:
		op, _ := parseOutpointKey(key)
		if val == nil {
			if w.pendingTx[op.Hash]--; w.pendingTx[op.Hash] <= 0 {
				delete(w.pendingTx, op.Hash)
			}
		} else {
			w.pendingTx[op.Hash]++
		}
	case jUbTx:
		if val == nil {
			delete(w.ubtx, chainhash.Hash(key))
		} else {
			w.ubtx[chainhash.Hash(key)] = string(val)
		}
	case jEntries:
		delete(w.cache, string(key))
	}
}

// AddFinalityProviderKey records a finality provider's secret key (for
// instance extracted from EOTS double-sign evidence). With AutoSlash on,
// the running watcher slashes every watched delegation of that provider,
// and every one added later. The key is kept in the store (mode 0600).
func (w *Watcher) AddFinalityProviderKey(sk *btcec.PrivateKey) error {
	if sk == nil || sk.Key.IsZero() {
		return fmt.Errorf("%w: no key", ErrInvalidArgument)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.update(func(tx *bolt.Tx) error { return w.putKey(tx, sk) }); err != nil {
		return err
	}
	w.slashDue = true
	w.nudge()
	return nil
}

func (w *Watcher) putKey(tx *bolt.Tx, sk *btcec.PrivateKey) error {
	x := script.XOnly(sk.PubKey())
	if _, known := w.keys[x]; !known {
		// A new key may complete what another provider's key could not:
		// the delegations of this provider that auto-slash refused for
		// want of signatures are tried again.
		c := tx.Bucket(bucketFPIndex).Cursor()
		for k, _ := c.Seek(x[:]); k != nil && bytes.HasPrefix(k, x[:]); k, _ = c.Next() {
			for _, kind := range []script.OutputKind{script.StakingOutputKind, script.UnbondingOutputKind} {
				if err := w.retryAutoSlash(tx, string(k[32:]), kind); err != nil {
					return err
				}
			}
		}
	}
	b := sk.Key.Bytes()
	defer clear(b[:])
	// bbolt keeps the value slice until the transaction ends: give it its
	// own copy.
	if err := tx.Bucket(bucketFPKeys).Put(append([]byte(nil), x[:]...), append([]byte(nil), b[:]...)); err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	k, _ := btcec.PrivKeyFromBytes(b[:])
	w.keys[x] = k
	return nil
}

// KnownKeys lists the x-only keys of the finality providers whose secret
// key the watcher holds (never the keys themselves).
func (w *Watcher) KnownKeys() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.keys))
	for x := range w.keys {
		out = append(out, x.String())
	}
	return out
}

// entryIn decodes the entry id from the store (cached).
func (w *Watcher) entryIn(tx *bolt.Tx, id string) (*watched, error) {
	if c, ok := w.cache[id]; ok {
		return c, nil
	}
	raw := tx.Bucket(bucketEntries).Get([]byte(id))
	if raw == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	var e Entry
	if err := e.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("%w: stored entry %s: %v", ErrStore, id, err)
	}
	c := &watched{e: &e}
	w.cacheEntry(id, c)
	return c, nil
}

func (w *Watcher) cacheEntry(id string, c *watched) {
	if len(w.cache) >= maxCache {
		clear(w.cache)
	}
	w.cache[id] = c
}

func stateIn(tx *bolt.Tx, id string) (stakeState, error) {
	raw := tx.Bucket(bucketStates).Get([]byte(id))
	if raw == nil {
		return stakeState{}, fmt.Errorf("%w: %s has no state", ErrStore, id)
	}
	return decodeState(raw)
}

// Stakes lists every watched delegation, ordered by id.
func (w *Watcher) Stakes() ([]StakeView, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, ErrClosed
	}
	tip := w.Progress().Tip
	var out []StakeView
	err := w.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketStates).ForEach(func(k, v []byte) error {
			st, err := decodeState(v)
			if err != nil {
				return err
			}
			c, err := w.entryIn(tx, string(k))
			if err != nil {
				return err
			}
			out = append(out, stakeView(c, st, tip))
			return nil
		})
	})
	return out, err
}

// Stake is one watched delegation ("txid:vout"); ErrNotFound when it is
// not watched.
func (w *Watcher) Stake(id string) (StakeView, error) {
	if _, err := parseOutPoint(id); err != nil {
		return StakeView{}, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return StakeView{}, ErrClosed
	}
	tip := w.Progress().Tip
	var v StakeView
	err := w.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketStates).Get([]byte(id)) == nil {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		st, err := stateIn(tx, id)
		if err != nil {
			return err
		}
		c, err := w.entryIn(tx, id)
		if err != nil {
			return err
		}
		v = stakeView(c, st, tip)
		return nil
	})
	return v, err
}

// view reads the committed store, or the open batch (callers hold w.mu).
func (w *Watcher) view(f func(tx *bolt.Tx) error) (err error) {
	defer recoverStore(&err)
	if w.batch != nil {
		return f(w.batch.tx)
	}
	return w.db.View(f)
}

func stakeView(c *watched, st stakeState, tip int64) StakeView {
	e := c.e
	v := StakeView{Delegation: e.ID(), Source: e.source, State: st.State, ValueSat: e.Value(),
		StakerPK: script.XOnly(e.d.Staker).String(), StakingTime: e.d.StakingTime,
		StakingTxid: e.stakingTx.TxHash().String(), StakingHeight: st.StakingHeight,
		UnbondingTxid: st.UnbondingTxid, SlashingTxid: st.SlashingTxid, WithdrawTxid: st.WithdrawTxid}
	for _, fp := range e.d.FinalityProviders {
		v.FinalityProviders = append(v.FinalityProviders, script.XOnly(fp).String())
	}
	if st.Live != "" && st.State != StateWithdrawn && st.State != StateExtended {
		v.Live, v.LiveKind = st.Live, st.LiveKind
		if st.UnlockAt > 0 {
			v.WithdrawableAt = st.UnlockAt
			if left := st.UnlockAt - (tip + 1); left > 0 {
				v.BlocksLeft = left
			}
		}
	}
	switch v.LiveKind {
	case script.StakingOutputKind.String():
		v.CanAutoSlash = canComplete(e, script.StakingOutputKind)
	case script.UnbondingOutputKind.String():
		v.CanAutoSlash = canComplete(e, script.UnbondingOutputKind)
	}
	return v
}

// canComplete: the entry holds a staker-signed slashing PSBT from kind
// with covenant adaptor signatures of a quorum of members for each of its
// finality providers.
func canComplete(e *Entry, kind script.OutputKind) bool {
	p := e.slashing
	if kind == script.UnbondingOutputKind {
		p = e.unbondingSlashing
	}
	if p == nil || len(p.Inputs) != 1 || len(p.Inputs[0].TaprootScriptSpendSig) == 0 {
		return false
	}
	sigs, err := psbt.AdaptorSigs(p, 0)
	if err != nil {
		return false
	}
	quorum := int(e.p.CovenantQuorum())
	for _, fp := range e.d.FinalityProviders {
		x := script.XOnly(fp)
		members := map[script.XOnlyKey]bool{}
		for _, a := range sigs {
			if a.FinalityProvider == x {
				members[a.Covenant] = true
			}
		}
		if len(members) < quorum {
			return false
		}
	}
	return true
}

// Progress is where the follower is.
func (w *Watcher) Progress() Progress {
	w.pmu.Lock()
	defer w.pmu.Unlock()
	return w.progress
}

func (w *Watcher) setProgress(f func(p *Progress)) Progress {
	w.pmu.Lock()
	defer w.pmu.Unlock()
	f(&w.progress)
	w.progress.CaughtUp = w.tipSeen && w.progress.Height >= w.progress.Tip && w.progress.BackfillEntries == 0
	return w.progress
}

// seeTip records the node's height as just asked.
func (w *Watcher) seeTip(tip int64) {
	w.setProgress(func(p *Progress) {
		w.tipSeen = true
		p.Tip = tip
	})
}

// cursorHashString is the hash of the block at the cursor as Progress
// shows it: empty while no block is processed (a new store's cursor is
// the block before its start, whose hash is learned when Run starts).
func cursorHashString(hash chainhash.Hash) string {
	if hash == (chainhash.Hash{}) {
		return ""
	}
	return hash.String()
}

// Events returns up to max stored events with Seq > afterSeq, in order
// (max <= 0: up to 1000).
func (w *Watcher) Events(afterSeq uint64, max int) ([]Event, error) {
	if max <= 0 || max > 1000 {
		max = 1000
	}
	var out []Event
	err := w.committedView(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(be64(afterSeq + 1)); k != nil && len(out) < max; k, v = c.Next() {
			e, err := decodeEvent(v)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

func decodeEvent(v []byte) (Event, error) {
	var e Event
	if len(v) > maxRecord {
		return e, fmt.Errorf("%w: event record of %d bytes", ErrStore, len(v))
	}
	if err := json.Unmarshal(v, &e); err != nil {
		return e, fmt.Errorf("%w: event record: %v", ErrStore, err)
	}
	return e, nil
}

// committedView reads the committed store only (what consumers may see).
func (w *Watcher) committedView(f func(tx *bolt.Tx) error) (err error) {
	defer recoverStore(&err)
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return w.db.View(f)
}

// LastSeq is the Seq of the last durably stored event (0: none).
func (w *Watcher) LastSeq() uint64 {
	w.evMu.Lock()
	defer w.evMu.Unlock()
	return w.lastSeq
}

// WaitEvents returns once an event with Seq > after is durably stored
// (at once if one is), or with ctx's error.
func (w *Watcher) WaitEvents(ctx context.Context, after uint64) error {
	for {
		w.evMu.Lock()
		last, ch := w.lastSeq, w.evCh
		w.evMu.Unlock()
		if last > after {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// committed records the new last seq and wakes WaitEvents.
func (w *Watcher) committed(last uint64) {
	w.evMu.Lock()
	defer w.evMu.Unlock()
	if last > w.lastSeq {
		w.lastSeq = last
		close(w.evCh)
		w.evCh = make(chan struct{})
	}
}

// SinkCursor is the last seq a named consumer (a notifier) recorded as
// delivered (0: none).
func (w *Watcher) SinkCursor(name string) (uint64, error) {
	if name == "" {
		return 0, fmt.Errorf("%w: empty sink name", ErrInvalidArgument)
	}
	var v uint64
	err := w.committedView(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSinks).Get([]byte(name))
		if b != nil && len(b) != 8 {
			return fmt.Errorf("%w: sink cursor %q is damaged", ErrStore, name)
		}
		v = be64u(b)
		return nil
	})
	return v, err
}

// SetSinkCursor records that the named consumer delivered every event up
// to seq (durably, when it returns).
func (w *Watcher) SetSinkCursor(name string, seq uint64) error {
	if name == "" || len(name) > 256 {
		return fmt.Errorf("%w: sink name must be 1 to 256 bytes", ErrInvalidArgument)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSinks).Put([]byte(name), be64(seq))
	})
}

// hexKey is an x-only key in hex.
func hexKey(x script.XOnlyKey) string { return hex.EncodeToString(x[:]) }

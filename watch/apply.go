package watch

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/btcstake/btcstake/script"
)

// batch is a write transaction kept open across several blocks while the
// watcher catches up (see Run for what a crash can lose).
type batch struct {
	tx     *bolt.Tx
	blocks int
	since  time.Time
	events bool // a block of the batch produced events
}

// beginLocked opens a batch when none is open.
func (w *Watcher) beginLocked() error {
	if w.batch != nil {
		return nil
	}
	if w.closed {
		return ErrClosed
	}
	tx, err := w.db.Begin(true)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStore, err)
	}
	w.batch = &batch{tx: tx, since: time.Now()}
	return nil
}

// commitLocked writes the cursor and seq and commits the open batch. On
// failure the batch is rolled back and the mirrors re-read: the watcher
// resumes from the last commit.
func (w *Watcher) commitLocked() (err error) {
	b := w.batch
	if b == nil {
		return nil
	}
	w.batch = nil
	defer recoverStore(&err)
	if err = w.putMeta(b.tx); err == nil {
		err = b.tx.Commit()
	} else {
		_ = b.tx.Rollback()
	}
	if err != nil {
		err = fmt.Errorf("%w: commit: %v", ErrStore, err)
		if rerr := w.load(); rerr != nil {
			w.log.Error("re-reading the store after a failed commit", "err", rerr)
		}
		return err
	}
	w.committed(w.nextSeq - 1)
	return nil
}

// rollbackLocked drops the open batch and re-reads the store.
func (w *Watcher) rollbackLocked() {
	if w.batch == nil {
		return
	}
	_ = w.batch.tx.Rollback()
	w.batch = nil
	if err := w.load(); err != nil {
		w.log.Error("re-reading the store after a rollback", "err", err)
	}
}

// blockTx is one block being applied: every change it makes to a journaled
// bucket goes through journal (called by Watcher.set), which keeps the
// key's value from before the block, once per key.
type blockTx struct {
	w      *Watcher
	tx     *bolt.Tx
	height int64
	hash   chainhash.Hash
	undo   undoRecord
	seen   map[string]struct{}
	events []Event
	// leaked keys learned in this block
	keys []*btcec.PrivateKey
	// scan is the backfill applying the block (nil: the follower).
	scan *bfScan
}

// watches: the block applies to delegation id. The follower applies every
// block to the delegations that are up to date with its cursor, not to
// those waiting for a backfill; a backfill applies a block only to the
// delegations of its group that have not been through it.
func (j *blockTx) watches(id string) bool {
	if s := j.scan; s != nil {
		first, ok := s.group[id]
		return ok && first <= j.height
	}
	if len(j.w.bfNext) == 0 {
		return true
	}
	_, waiting := j.w.bfNext[id]
	return !waiting
}

func (j *blockTx) journal(bucket byte, key []byte) {
	if j.seen == nil {
		j.seen = map[string]struct{}{}
	}
	k := string(append([]byte{bucket}, key...))
	if _, ok := j.seen[k]; ok {
		return
	}
	j.seen[k] = struct{}{}
	c := change{bucket: bucket, key: append([]byte(nil), key...)}
	if old := j.tx.Bucket(journalBucket(bucket)).Get(key); old != nil {
		c.old, c.present = append([]byte(nil), old...), true
	}
	j.undo.changes = append(j.undo.changes, c)
}

func (j *blockTx) set(bucket byte, key, val []byte) error {
	return j.w.set(j.tx, j, bucket, key, val)
}

func (j *blockTx) putState(id string, st stakeState) error {
	return j.set(jStates, []byte(id), encodeState(st))
}

// emit stores an event of this block.
func (j *blockTx) emit(e Event) error {
	if e.BlockHash == "" {
		e.BlockHash = j.hash.String()
	}
	if e.Height == 0 {
		e.Height = j.height
	}
	seq, err := j.w.storeEvent(j.tx, &e)
	if err != nil {
		return err
	}
	j.undo.seqs = append(j.undo.seqs, seq)
	j.events = append(j.events, e)
	return nil
}

// storeEvent gives e its id (when it has none) and the next seq, and
// stores it. Callers hold w.mu.
func (w *Watcher) storeEvent(tx *bolt.Tx, e *Event) (uint64, error) {
	if e.ID == "" {
		e.ID = eventID(e)
	}
	e.Seq = w.nextSeq
	raw, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrStore, err)
	}
	if err := tx.Bucket(bucketEvents).Put(be64(e.Seq), raw); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrStore, err)
	}
	w.nextSeq++
	return e.Seq, nil
}

// eventID is the first 16 bytes of sha256(block hash || kind || delegation
// || txid || output || cancels), in hex, with each part length-prefixed.
// The same event of the same block has the same id; an event that comes
// back after the block left and rejoined the chain has its old id again
// (a consumer that drops repeats by id should forget an id a reorged_out
// cancels).
func eventID(e *Event) string {
	h := sha256.New()
	for _, s := range []string{e.BlockHash, string(e.Kind), e.Delegation, e.Txid, e.Output, e.Cancels, e.FinalityProvider} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(e.Height))
	h.Write(n[:])
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// applyBlock applies the block at height (its parent is the cursor) inside
// the open batch and moves the cursor. It returns the block's events
// (stored, not yet committed).
func (w *Watcher) applyBlock(height int64, hash chainhash.Hash, blk *wire.MsgBlock) ([]Event, error) {
	if err := w.beginLocked(); err != nil {
		return nil, err
	}
	j := &blockTx{w: w, tx: w.batch.tx, height: height, hash: hash}
	if err := w.applyTxs(j, blk); err != nil {
		return nil, err
	}
	if err := w.runSchedule(j); err != nil {
		return nil, err
	}
	tx := j.tx
	if len(j.undo.changes) > 0 || len(j.undo.seqs) > 0 {
		if err := tx.Bucket(bucketUndo).Put(heightKey(height), encodeUndo(&j.undo)); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrStore, err)
		}
	}
	if err := tx.Bucket(bucketBlocks).Put(heightKey(height), hash[:]); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStore, err)
	}
	// Keep the hashes of the last D+1 blocks (the fork point of a
	// reorganisation of D blocks) and the undo records of the last D.
	d := int64(w.cfg.MaxReorgDepth)
	if old := height - d - 1; old >= 0 {
		_ = tx.Bucket(bucketBlocks).Delete(heightKey(old))
	}
	if old := height - d; old >= 0 {
		_ = tx.Bucket(bucketUndo).Delete(heightKey(old))
	}
	for _, k := range j.keys {
		if err := w.putKey(tx, k); err != nil {
			return nil, err
		}
		w.slashDue = true
	}
	w.cursorH, w.cursorHash = height, hash
	w.batch.blocks++
	if len(j.events) > 0 {
		w.batch.events = true
	}
	return j.events, nil
}

// applyTxs walks the block's transactions in order: spends of watched
// outputs (inputs) first, then what each transaction creates.
func (w *Watcher) applyTxs(j *blockTx, blk *wire.MsgBlock) error {
	for _, tx := range blk.Transactions {
		var txid chainhash.Hash
		haveTxid := false
		getTxid := func() chainhash.Hash {
			if !haveTxid {
				txid, haveTxid = tx.TxHash(), true
			}
			return txid
		}
		if len(w.live) > 0 {
			for i, in := range tx.TxIn {
				id, ok := w.live[in.PreviousOutPoint]
				if !ok || !j.watches(id) {
					continue
				}
				if err := w.applySpend(j, id, in.PreviousOutPoint, tx, getTxid(), i); err != nil {
					return err
				}
			}
		}
		if len(w.pendingTx) > 0 {
			if n := w.pendingTx[getTxid()]; n > 0 {
				if err := w.applyStaking(j, tx, getTxid()); err != nil {
					return err
				}
			}
		}
		if w.cfg.PhaseOne && j.scan == nil {
			if err := w.applyPhaseOne(j, tx, getTxid); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyStaking confirms the pending watched staking outputs tx pays.
func (w *Watcher) applyStaking(j *blockTx, tx *wire.MsgTx, txid chainhash.Hash) error {
	for i := range tx.TxOut {
		op := wire.OutPoint{Hash: txid, Index: uint32(i)}
		key := outpointKey(op)
		idb := j.tx.Bucket(bucketPending).Get(key)
		if idb == nil || !j.watches(string(idb)) {
			continue
		}
		id := string(idb)
		if err := w.confirmStaking(j, id, op); err != nil {
			return err
		}
	}
	return nil
}

func (w *Watcher) confirmStaking(j *blockTx, id string, op wire.OutPoint) error {
	c, err := w.entryIn(j.tx, id)
	if err != nil {
		return err
	}
	st, err := stateIn(j.tx, id)
	if err != nil {
		return err
	}
	if err := j.set(jPending, outpointKey(op), nil); err != nil {
		return err
	}
	st.StakingHeight, st.StakingBlock = j.height, j.hash.String()
	if st.State == StatePending {
		st.State = StateStaked
		st.LiveHeight = j.height
		st.UnlockAt = j.height + int64(c.e.d.StakingTime)
		if err := w.scheduleTimelock(j, id, st.UnlockAt, op); err != nil {
			return err
		}
	}
	// Depth k is reached by the block k-1 above the staking block.
	if err := j.set(jSchedule, scheduleKey(j.height+int64(c.e.depth)-1, schedDeep, id), []byte{}); err != nil {
		return err
	}
	if err := j.putState(id, st); err != nil {
		return err
	}
	return j.emit(Event{Kind: EventStakingConfirmed, Delegation: id, FinalityProvider: fpList(c.e),
		Output: script.StakingOutputKind.String(), Txid: op.Hash.String()})
}

// scheduleTimelock: timelock_reached is emitted by the block before
// unlockAt (when the next block can hold the withdrawal).
func (w *Watcher) scheduleTimelock(j *blockTx, id string, unlockAt int64, op wire.OutPoint) error {
	return j.set(jSchedule, scheduleKey(unlockAt-1, schedTimelock, id), outpointKey(op))
}

func fpList(e *Entry) string {
	var b []byte
	for i, fp := range e.d.FinalityProviders {
		if i > 0 {
			b = append(b, ',')
		}
		x := script.XOnly(fp)
		b = hex.AppendEncode(b, x[:])
	}
	return string(b)
}

// applySpend handles tx's input spending the watched live output op of
// delegation id: the leaf the witness reveals says which path it took.
func (w *Watcher) applySpend(j *blockTx, id string, op wire.OutPoint, tx *wire.MsgTx, txid chainhash.Hash, input int) error {
	c, err := w.entryIn(j.tx, id)
	if err != nil {
		return err
	}
	st, err := stateIn(j.tx, id)
	if err != nil {
		return err
	}
	from := st.LiveKind
	if err := j.set(jOutpoints, outpointKey(op), nil); err != nil {
		return err
	}
	if st.State == StatePending {
		// The staking transaction confirmed in a block before the watcher's
		// start: it is spent now.
		if err := j.set(jPending, outpointKey(op), nil); err != nil {
			return err
		}
	}
	if st.UnlockAt > 0 {
		if err := j.set(jSchedule, scheduleKey(st.UnlockAt-1, schedTimelock, id), nil); err != nil {
			return err
		}
	}
	st.UnlockAt = 0
	path, ok := revealedPath(tx.TxIn[input].Witness, c.e)
	if !ok {
		w.log.Warn("a watched output was spent through none of the delegation's leaves", "delegation", id, "output", from, "txid", txid)
		st.State, st.Live, st.LiveKind = StateUnknown, "", ""
		return j.putState(id, st)
	}
	ev := Event{Delegation: id, FinalityProvider: fpList(c.e), Output: from, Txid: txid.String()}
	switch path {
	case script.TimelockPath:
		st.State, st.WithdrawTxid, st.WithdrawHeight = StateWithdrawn, txid.String(), j.height
		st.Live, st.LiveKind = "", ""
		ev.Kind = EventWithdrawn
	case script.UnbondingPath:
		ub, err := c.unbondingOut()
		if err != nil {
			return err
		}
		if from == script.StakingOutputKind.String() && isExtension(tx, input, ub) {
			st.State, st.ExtendedTxid, st.ExtendedHeight = StateExtended, txid.String(), j.height
			st.Live, st.LiveKind = "", ""
			ev.Kind = EventExtended
			break
		}
		st.State, st.UnbondingTxid, st.UnbondingHeight = StateUnbonding, txid.String(), j.height
		ev.Kind = EventUnbondingConfirmed
		if err := w.moveLive(j, id, &st, tx, txid, ub); err != nil {
			return err
		}
	case script.SlashingPath:
		ch, err := c.changeOut()
		if err != nil {
			return err
		}
		st.State, st.SlashingTxid, st.SlashingHeight = StateSlashed, txid.String(), j.height
		ev.Kind = EventSlashed
		if err := w.moveLive(j, id, &st, tx, txid, ch); err != nil {
			return err
		}
	}
	if err := j.putState(id, st); err != nil {
		return err
	}
	if err := j.emit(ev); err != nil {
		return err
	}
	if path == script.SlashingPath {
		return w.recover(j, c, id, tx, input)
	}
	return nil
}

// moveLive indexes the delegation's next output (by script) in tx.
func (w *Watcher) moveLive(j *blockTx, id string, st *stakeState, tx *wire.MsgTx, txid chainhash.Hash, next *script.Output) error {
	st.Live, st.LiveKind, st.LiveHeight = "", "", 0
	idx := outputIndex(tx, next.PkScript)
	if idx < 0 {
		if next.Kind == script.UnbondingOutputKind {
			w.log.Warn("an unbonding-path spend pays no unbonding output of the delegation", "delegation", id, "txid", txid)
		}
		return nil // a slashing without change
	}
	op := wire.OutPoint{Hash: txid, Index: uint32(idx)}
	st.Live, st.LiveKind, st.LiveHeight = op.String(), next.Kind.String(), j.height
	st.UnlockAt = j.height + int64(next.Timelock)
	if err := j.set(jOutpoints, outpointKey(op), []byte(id)); err != nil {
		return err
	}
	return w.scheduleTimelock(j, id, st.UnlockAt, op)
}

// recover tries to learn the finality provider's key from a slashing
// witness and the entry's covenant adaptor signatures.
func (w *Watcher) recover(j *blockTx, c *watched, id string, tx *wire.MsgTx, input int) error {
	fp, sk, err := recoverKey(c.e, tx, input)
	if err != nil {
		w.log.Info("no finality provider key recovered from a slashing", "delegation", id, "reason", err)
		return nil
	}
	if fp == nil || sk == nil || script.XOnly(sk.PubKey()) != script.XOnly(fp) {
		w.log.Warn("key recovery returned a key that does not match", "delegation", id)
		return nil
	}
	j.keys = append(j.keys, sk)
	return j.emit(Event{Kind: EventKeyRecovered, Delegation: id, FinalityProvider: hexKey(script.XOnly(fp)),
		Txid: tx.TxHash().String()})
}

// runSchedule emits what is due at this height: staking_deep and
// timelock_reached, whose keys sort by height first.
func (w *Watcher) runSchedule(j *blockTx) error {
	b := j.tx.Bucket(bucketSchedule)
	var due [][]byte
	var vals [][]byte
	c := b.Cursor()
	limit := heightKey(j.height + 1)
	for k, v := c.First(); k != nil && bytes.Compare(k, limit) < 0; k, v = c.Next() {
		if len(k) >= 10 && !j.watches(string(k[9:])) {
			continue // another pass's (see watches)
		}
		due = append(due, append([]byte(nil), k...))
		vals = append(vals, append([]byte(nil), v...))
	}
	for i, k := range due {
		if len(k) < 10 {
			return fmt.Errorf("%w: schedule key of %d bytes", ErrStore, len(k))
		}
		at := int64(binary.BigEndian.Uint64(k))
		kind, id := k[8], string(k[9:])
		if err := j.set(jSchedule, k, nil); err != nil {
			return err
		}
		c, err := w.entryIn(j.tx, id)
		if err != nil {
			return err
		}
		switch kind {
		case schedDeep:
			if err := j.emit(Event{Kind: EventStakingDeep, Delegation: id, FinalityProvider: fpList(c.e),
				Txid: c.e.stakingTx.TxHash().String(), Depth: j.height - (at - int64(c.e.depth) + 1) + 1}); err != nil {
				return err
			}
		case schedTimelock:
			st, err := stateIn(j.tx, id)
			if err != nil {
				return err
			}
			op, _ := parseOutpointKey(vals[i])
			if st.Live != op.String() || st.UnlockAt != at+1 {
				continue // the output moved on (cannot happen: spends unschedule)
			}
			if err := j.emit(Event{Kind: EventTimelockReached, Delegation: id, FinalityProvider: fpList(c.e),
				Output: st.LiveKind, Txid: op.Hash.String(), Height: st.UnlockAt}); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: schedule kind %d", ErrStore, kind)
		}
	}
	return nil
}

// rollbackBlock undoes the block at the cursor inside tx: restores every
// journaled key, deletes its undo record and hash, moves the cursor to its
// parent. It returns the seqs of the events the block produced.
func (w *Watcher) rollbackBlock(tx *bolt.Tx) ([]uint64, error) {
	h := w.cursorH
	var u *undoRecord
	if raw := tx.Bucket(bucketUndo).Get(heightKey(h)); raw != nil {
		var err error
		if u, err = decodeUndo(raw); err != nil {
			return nil, err
		}
	} else {
		u = &undoRecord{}
	}
	// Restore in reverse: each key was journaled once, with its value
	// from before the block.
	for i := len(u.changes) - 1; i >= 0; i-- {
		c := u.changes[i]
		val := c.old
		if !c.present {
			val = nil
		} else if val == nil {
			val = []byte{}
		}
		if err := w.set(tx, nil, c.bucket, c.key, val); err != nil {
			return nil, err
		}
	}
	if err := tx.Bucket(bucketUndo).Delete(heightKey(h)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStore, err)
	}
	if err := tx.Bucket(bucketBlocks).Delete(heightKey(h)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStore, err)
	}
	prev := tx.Bucket(bucketBlocks).Get(heightKey(h - 1))
	if len(prev) != 32 {
		return nil, fmt.Errorf("%w: no stored hash for height %d", ErrReorgTooDeep, h-1)
	}
	w.cursorH, w.cursorHash = h-1, chainhash.Hash(prev)
	return u.seqs, nil
}

// revealedPath returns the kind of the leaf script the witness reveals
// (BIP-341 script path: ..., script, control block [, annex]), which must
// be a leaf of e's staker. The spent output is one of e's (the watcher
// only looks at spends of its outputs) and the spend is valid, so its
// control block commits the leaf to that output: the leaf's kind is the
// path taken, without rebuilding the output.
func revealedPath(wit wire.TxWitness, e *Entry) (script.PathKind, bool) {
	if len(wit) >= 2 && len(wit[len(wit)-1]) > 0 && wit[len(wit)-1][0] == 0x50 {
		wit = wit[:len(wit)-1]
	}
	if len(wit) < 2 {
		return 0, false
	}
	leaf, err := script.ParseLeafScript(wit[len(wit)-2])
	if err != nil || leaf.Staker != script.XOnly(e.d.Staker) {
		return 0, false
	}
	return leaf.Kind, true
}

// isExtension tells a stake extension from an unbonding: the staking
// output spent as input 0 of a transaction of exactly two inputs that
// pays no unbonding output of the delegation.
func isExtension(tx *wire.MsgTx, input int, unbonding *script.Output) bool {
	return input == 0 && len(tx.TxIn) == 2 && outputIndex(tx, unbonding.PkScript) < 0
}

func outputIndex(tx *wire.MsgTx, pkScript []byte) int {
	for i, o := range tx.TxOut {
		if bytes.Equal(o.PkScript, pkScript) {
			return i
		}
	}
	return -1
}

// Auto-slash and key recovery go through these two functions (slash.go);
// tests replace them.
var (
	recoverKey       = RecoverKey
	completeSlashing = func(e *Entry, from script.OutputKind, sk *btcec.PrivateKey) (*wire.MsgTx, error) {
		return e.CompleteSlashing(from, sk)
	}
)

// phaseOne recognises the phase-1 staking transactions of one params
// version.
type phaseOne struct {
	parser *script.StakingTxParser
}

// phaseOneAt is the recogniser of the version in force at height h (nil
// before the first version, or for a version without staking params or
// tag, which is logged once).
func (w *Watcher) phaseOneAt(h int64) *phaseOne {
	if h < 0 || h > int64(^uint32(0)) {
		return nil
	}
	v, err := w.cfg.Versions.At(uint32(h))
	if err != nil {
		return nil
	}
	if po, ok := w.parsers[v.ActivationHeight()]; ok {
		return po
	}
	po := &phaseOne{}
	w.parsers[v.ActivationHeight()] = po
	p, err := v.StakingParams()
	if err != nil {
		w.log.Warn("phase-1 staking transactions are not watched under this params version", "activation", v.ActivationHeight(), "err", err)
		return po
	}
	parser, err := script.NewStakingTxParser(script.ParserConfig{Tag: p.Tag(), Covenant: p.CovenantKeys(), CovenantQuorum: p.CovenantQuorum()})
	if err != nil {
		w.log.Warn("phase-1 staking transactions are not watched under this params version", "activation", v.ActivationHeight(), "err", err)
		return po
	}
	po.parser = parser
	return po
}

// applyPhaseOne adds tx as a watched delegation (SourcePhaseOne) when it
// is a phase-1 staking transaction of the params in force, and confirms
// it at this block.
func (w *Watcher) applyPhaseOne(j *blockTx, tx *wire.MsgTx, txid func() chainhash.Hash) error {
	po := w.phaseOneAt(j.height)
	if po == nil || po.parser == nil || !po.parser.IsPossible(tx) {
		return nil
	}
	if _, err := po.parser.Parse(tx); err != nil {
		return nil // not a staking transaction of these params
	}
	e, err := FromPhaseOne(tx, uint32(j.height), w.cfg.Versions)
	if err != nil {
		w.log.Info("a phase-1 staking transaction is not watched", "txid", txid(), "err", err)
		return nil
	}
	id := e.ID()
	if j.tx.Bucket(bucketEntries).Get([]byte(id)) != nil {
		return nil // watched already (confirmed through the pending index)
	}
	added, err := w.putEntry(j.tx, j, e)
	if err != nil || !added {
		return err
	}
	if w.knowsKeyOf(e) {
		w.slashDue = true
	}
	return w.confirmStaking(j, id, e.StakingOutPoint())
}

package signer

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// RepairRequest is what Repair needs from the operator: which (chain, key)
// pair to repair, and the highest height that key may have signed on that
// chain, confirmed.
type RepairRequest struct {
	ChainID   []byte
	PublicKey [32]byte
	// HighestSigned is the highest height the key may have signed on the
	// chain, as the operator established it (from the chain's votes, the
	// finality provider's logs, a backup). It becomes the pair's floor: no
	// height at or below it is signed unless the store has its record. It
	// may not be below a height the store or its mark records as signed.
	HighestSigned uint64
	// Confirmed must be true; Repair fails with ErrNotConfirmed otherwise.
	Confirmed bool
	// LockTimeout is as in StoreOptions.
	LockTimeout time.Duration
}

// Repair rewrites the high-water mark entry of one (chain, key) pair of the
// store at path from what the store now holds, with the floor
// req.HighestSigned, after a refusal (ErrStoreRolledBack, ErrMarkMissing):
//
//  1. The store is opened read-only (its pages and records are checked as
//     always: a corrupt store is not repaired) and its mark files read.
//  2. The floor must be at least every height the store, the mark's
//     committed entry, its pending entry or an earlier floor records for
//     the pair (ErrInvalidArgument otherwise): those were signed.
//  3. The pair's entry becomes what the store holds, with the floor; the
//     entries of other pairs stay as they were (a pending entry that the
//     store matches is taken in). The mark is written to both files.
//
// Records lost from the store stay lost: the floor is what keeps the
// signer from signing at their heights again. Repair returns the store's
// status afterwards (other pairs may still disagree).
func Repair(path string, req RepairRequest) (Status, error) {
	if err := CheckChainID(req.ChainID); err != nil {
		return Status{}, err
	}
	if !req.Confirmed {
		return Status{}, fmt.Errorf("%w: repair accepts the store as it is, and the floor is all that protects heights whose records were lost; confirm explicitly", ErrNotConfirmed)
	}
	st, err := OpenStore(path, StoreOptions{ReadOnly: true, LockTimeout: req.LockTimeout})
	if err != nil {
		return Status{}, err
	}
	defer st.Close()
	prefix := string(prefixKey(req.ChainID, &req.PublicKey))
	have := st.sums[prefix]

	// Step 1: the entries kept, and the sequence number to follow.
	base := &markState{entries: map[string]summary{}}
	if st.found != nil {
		var scratch Status
		base, _ = compareMarks(st.found, st.sums, &scratch)
	}
	old := base.entries[prefix]

	// Step 2: the floor covers every height known to be signed.
	known, why := uint64(0), ""
	consider := func(h uint64, what string) {
		if why == "" || h > known {
			known, why = h, what
		}
	}
	if have.count > 0 {
		consider(have.max, "the store holds a record at height")
	}
	if old.count > 0 {
		consider(old.max, "the high-water mark records height")
	}
	if old.hasFloor {
		consider(old.floor, "an earlier repair set the floor at height")
	}
	if f := st.found; f != nil {
		if e, ok := f.entries[prefix]; ok && e.count > 0 {
			consider(e.max, "the high-water mark records height")
		}
		if f.pending != nil && f.pending.prefix == prefix && f.pending.sum.count > 0 {
			consider(f.pending.sum.max, "the high-water mark's pending entry records height")
		}
	}
	if why != "" && req.HighestSigned < known {
		return Status{}, fmt.Errorf("%w: the highest signed height %d is below what was signed: %s %d", ErrInvalidArgument, req.HighestSigned, why, known)
	}

	// Step 3: the new mark, in both files.
	next := base.with(base.seq+1, prefix, summary{count: have.count, max: have.max, digest: have.digest, floor: req.HighestSigned, hasFloor: true})
	if st.found != nil {
		next.seq = st.found.seq + 1
	}
	if err := writeMarks(path, next); err != nil {
		return Status{}, fmt.Errorf("%w: writing the high-water mark: %v", ErrStoreFailed, err)
	}
	again := next.with(next.seq+1, prefix, next.entries[prefix])
	if err := writeMarks(path, again); err != nil {
		return Status{}, fmt.Errorf("%w: writing the high-water mark: %v", ErrStoreFailed, err)
	}
	if err := st.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyMarked, markedV1)
	}); err != nil {
		return Status{}, fmt.Errorf("%w: flagging the high-water mark: %v", ErrStoreFailed, err)
	}
	var after Status
	after.Marks = "ok"
	_, bad := compareMarks(again, st.sums, &after)
	if bad != "" {
		after.Err = fmt.Errorf("%w: %s: %s; see docs/signer.md", ErrStoreRolledBack, path, bad)
	}
	return after, nil
}

// Package signer is the slashing-protected EOTS signer of a finality
// provider: it never signs two different messages at one (chain, key,
// height), across crashes and concurrent requests (docs/spec.md §7.8).
//
// Every signature is preceded by a durable record in a bbolt store: the
// record is written and the transaction committed and fsynced before the
// signature leaves Sign. A request for a recorded height returns the stored
// signature if the message is the same and fails with ErrDoubleSign if not,
// changing nothing. bbolt runs one write transaction at a time, so concurrent
// requests are decided in some order and at most one message wins a height.
// The randomness is derived from the key, chain ID and height
// (eots.DeriveRand), so a restarted signer reproduces the public randomness
// it committed to. A store that is corrupt, unreadable or held by another
// process makes the signer refuse to sign; so does any failed write, until
// the store is reopened.
//
// The signer takes its key as an eots.SecretKey; on disk, keys live in the
// encrypted keystores of package keystore (keystore.Load, then
// eots.NewSecretKey).
package signer

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/btcstake/btcstake/eots"
	bolt "go.etcd.io/bbolt"
)

var errNothingWritten = errors.New("nothing written")

// Signer signs EOTS votes for one key, protected by a Store.
type Signer struct {
	sk    *eots.SecretKey
	pk    [32]byte
	store *Store
	now   func() time.Time
	// sign is eots.SignWithPublicRand (which verifies what it signs); tests
	// replace it to stand for a signing fault.
	sign   func(*eots.SecretKey, *eots.PrivateRand, []byte) (eots.PublicRand, eots.Signature, error)
	closed atomic.Bool
}

// New returns a signer for sk backed by store. It keeps its own copy of the
// key; Close zeroes it.
func New(store *Store, sk *eots.SecretKey) (*Signer, error) {
	if store == nil || sk == nil {
		return nil, fmt.Errorf("%w: nil store or key", ErrInvalidArgument)
	}
	raw := sk.Bytes()
	own, err := eots.ParseSecretKey(raw[:])
	clear(raw[:])
	if err != nil {
		return nil, fmt.Errorf("%w: unusable secret key", ErrInvalidArgument)
	}
	return &Signer{sk: own, pk: own.XOnly(), store: store, now: time.Now, sign: eots.SignWithPublicRand}, nil
}

// Close zeroes the signer's key; later calls fail with ErrInvalidArgument.
// It does not close the store, and must not run concurrently with signing.
func (s *Signer) Close() {
	s.closed.Store(true)
	s.sk.Zero()
}

// PublicKey returns the signer's x-only public key.
func (s *Signer) PublicKey() [32]byte { return s.pk }

// PublicRand returns the public randomness for a height (what the finality
// provider commits to; the same values as "btcstake eots pubrand").
func (s *Signer) PublicRand(chainID []byte, height uint64) (eots.PublicRand, error) {
	if s.closed.Load() {
		return eots.PublicRand{}, fmt.Errorf("%w: signer is closed", ErrInvalidArgument)
	}
	k, err := eots.DeriveRand(s.sk, chainID, height)
	if err != nil {
		return eots.PublicRand{}, err
	}
	defer k.Zero()
	return k.PublicRand(), nil
}

// Request is one message to sign at one height.
type Request struct {
	Height uint64
	Msg    []byte
}

// Result is the outcome of one request: the signature and public
// randomness, whether it was already recorded (the same message signed
// before), or the error for this height (ErrDoubleSign).
type Result struct {
	Height   uint64
	PubRand  eots.PublicRand
	Sig      eots.Signature
	Existing bool
	Err      error
}

// CheckChainID checks a chain ID the way signing does: 1 to
// MaxChainIDSize bytes (ErrInvalidArgument otherwise). Callers that create
// a store check their input with it first.
func CheckChainID(chainID []byte) error {
	if len(chainID) == 0 || len(chainID) > MaxChainIDSize {
		return fmt.Errorf("%w: chain ID must be 1..%d bytes, got %d", ErrInvalidArgument, MaxChainIDSize, len(chainID))
	}
	return nil
}

// CheckRequests checks a chain ID and requests the way SignBatch does
// (ErrInvalidArgument), without a store.
func CheckRequests(chainID []byte, reqs []Request) error {
	if err := CheckChainID(chainID); err != nil {
		return err
	}
	for _, r := range reqs {
		if len(r.Msg) > MaxMessageSize {
			return fmt.Errorf("%w: message at height %d is %d bytes (max %d)", ErrInvalidArgument, r.Height, len(r.Msg), MaxMessageSize)
		}
	}
	return nil
}

// Sign signs msg at height on chainID, or returns the recorded signature if
// the same message was signed before. A different recorded message gives
// ErrDoubleSign; a height at or below a floor set by Repair without a
// record gives ErrBelowFloor. The signature is returned only after its
// record is durably committed and the store's high-water mark updated.
func (s *Signer) Sign(chainID []byte, height uint64, msg []byte) (Result, error) {
	res, err := s.SignBatch(chainID, []Request{{Height: height, Msg: msg}})
	if err != nil {
		if len(res) == 1 && res[0].Err != nil {
			return Result{Height: height}, res[0].Err
		}
		return Result{Height: height}, err
	}
	return res[0], nil
}

// SignBatch signs many heights in one durable transaction. Each request
// gets a Result; a conflicting request (a different message than the one
// recorded at its height, or than an earlier request in the same batch) is
// refused with ErrDoubleSign in its Result, a request at or below a floor
// set by Repair whose height has no record with ErrBelowFloor, and the
// others are signed. If any request was refused the returned error wraps
// the kinds of the refusals and lists the heights. Any other error means
// nothing was signed: the results are then nil.
func (s *Signer) SignBatch(chainID []byte, reqs []Request) (results []Result, err error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("%w: signer is closed", ErrInvalidArgument)
	}
	if err := CheckRequests(chainID, reqs); err != nil {
		return nil, err
	}
	if err := s.store.writable(); err != nil {
		return nil, err
	}
	prefix := string(prefixKey(chainID, &s.pk))
	s.store.wmu.Lock()
	defer s.store.wmu.Unlock()
	if err := s.store.check(); err != nil {
		return nil, err
	}
	if err := s.store.hasRoomFor(prefix); err != nil {
		return nil, err
	}
	results = make([]Result, len(reqs))
	var refused, belowFloor []uint64
	defer func() {
		if r := recover(); r != nil {
			results = nil
			err = s.store.fail(fmt.Errorf("%w: %v", ErrStoreCorrupt, r))
		}
	}()
	txErr := s.store.update(prefix, func(b *bolt.Bucket, cur summary) (summary, bool, error) {
		refused, belowFloor = refused[:0], belowFloor[:0]
		next := cur
		wrote := false
		now := s.now()
		for i, req := range reqs {
			res := &results[i]
			*res = Result{Height: req.Height}
			key := recordKey(chainID, &s.pk, req.Height)
			// Step 1: a recorded height returns the stored signature for the
			// same message and refuses any other message.
			if v := b.Get(key); v != nil {
				rec, err := decodeRecord(key, v)
				if err != nil {
					return next, false, err
				}
				if !bytes.Equal(rec.Msg, req.Msg) {
					res.Err = fmt.Errorf("%w: height %d on %q already has a signature for a different message", ErrDoubleSign, req.Height, chainID)
					refused = append(refused, req.Height)
					continue
				}
				res.PubRand, res.Sig, res.Existing = rec.PubRand, rec.Sig, true
				continue
			}
			// Step 2: at or below a repaired floor a missing record may be
			// a lost one: nothing is signed there.
			if cur.hasFloor && req.Height <= cur.floor {
				res.Err = fmt.Errorf("%w: height %d on %q is at or below the floor %d and has no record", ErrBelowFloor, req.Height, chainID, cur.floor)
				belowFloor = append(belowFloor, req.Height)
				continue
			}
			// Step 3: derive the height's randomness (docs/spec.md §7)
			// and sign; eots verifies the signature before returning it
			// (ErrSigningFault otherwise: the transaction is rolled back).
			k, err := eots.DeriveRand(s.sk, chainID, req.Height)
			if err != nil {
				return next, false, err
			}
			r, sig, err := s.sign(s.sk, k, req.Msg)
			k.Zero()
			if err != nil {
				return next, false, err
			}
			// Step 4: record it in this transaction and in the pair's mark
			// entry; the signature is released only after the commit (and
			// its fsync) and the mark's update succeed.
			rec := Record{ChainID: string(chainID), PublicKey: s.pk, Height: req.Height, Msg: req.Msg, PubRand: r, Sig: sig, Time: now}
			v := encodeRecord(key, &rec)
			if err := b.Put(key, v); err != nil {
				return next, false, err
			}
			next.add(key, v, req.Height)
			res.PubRand, res.Sig = r, sig
			wrote = true
		}
		return next, wrote, nil
	})
	if txErr != nil {
		switch {
		case errors.Is(txErr, ErrSigningFault):
			// Nothing was written and the store is sound: it stays open.
			return nil, txErr
		case errors.Is(txErr, ErrStoreCorrupt), errors.Is(txErr, ErrStoreRolledBack), errors.Is(txErr, ErrStoreFailed):
			return nil, s.store.fail(txErr)
		}
		return nil, s.store.fail(fmt.Errorf("%w: %v", ErrStoreFailed, txErr))
	}
	switch {
	case len(refused) > 0 && len(belowFloor) > 0:
		return results, fmt.Errorf("%w: %d request(s) refused at heights %v; %w: %d at heights %v", ErrDoubleSign, len(refused), refused, ErrBelowFloor, len(belowFloor), belowFloor)
	case len(refused) > 0:
		return results, fmt.Errorf("%w: %d request(s) refused at heights %v", ErrDoubleSign, len(refused), refused)
	case len(belowFloor) > 0:
		return results, fmt.Errorf("%w: %d request(s) refused at heights %v", ErrBelowFloor, len(belowFloor), belowFloor)
	}
	return results, nil
}

// Records lists this signer's records on chainID in height order.
func (s *Signer) Records(chainID []byte) ([]Record, error) {
	return s.store.Records(chainID, &s.pk)
}

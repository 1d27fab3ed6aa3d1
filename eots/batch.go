package eots

import (
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/btcstake/btcstake/internal/secp"
	"github.com/btcsuite/btcd/btcec/v2"
)

// BatchItem is one signature for VerifyBatch: an EOTS signature
// (VoteItem, VoteItemHash) or a randomness-commitment signature
// (CommitItem). Both are BIP-340 signatures, so they batch together.
type BatchItem struct {
	pk     *btcec.PublicKey
	r, s   [32]byte
	hash   [32]byte
	commit bool
	badLen int // a commitment signature of the wrong length (else -1)
}

// VoteItem is the EOTS signature s over msg under pk and public randomness
// r, as Verify takes it.
func VoteItem(pk *btcec.PublicKey, r PublicRand, msg []byte, s Signature) BatchItem {
	return VoteItemHash(pk, r, sha256.Sum256(msg), s)
}

// VoteItemHash is VoteItem for a message already hashed to 32 bytes.
func VoteItemHash(pk *btcec.PublicKey, r PublicRand, hash [32]byte, s Signature) BatchItem {
	return BatchItem{pk: pk, r: r, s: s, hash: hash, badLen: -1}
}

// CommitItem is the 64-byte signature over CommitHashWithContext(context,
// start, count, root) under pk, as VerifyCommitWithContext takes it.
func CommitItem(pk *btcec.PublicKey, context string, start, count uint64, root [HashSize]byte, sig []byte) BatchItem {
	it := BatchItem{pk: pk, hash: CommitHashWithContext(context, start, count, root), commit: true, badLen: -1}
	if len(sig) != 64 {
		it.badLen = len(sig)
		return it
	}
	copy(it.r[:], sig[:32])
	copy(it.s[:], sig[32:])
	return it
}

// BatchFailure is an item of a batch that does not verify: its index and
// the error verifying it alone gives (Verify's, or
// VerifyCommitWithContext's).
type BatchFailure struct {
	Index int
	Err   error
}

// BatchError lists the failing items of a batch, in index order. It
// unwraps to each failure's error, so errors.Is(err, ErrInvalidSignature)
// (or ErrInvalidKey) holds when some item failed that way.
type BatchError struct {
	Failures []BatchFailure
}

func (e *BatchError) Error() string {
	parts := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		parts[i] = fmt.Sprintf("item %d: %v", f.Index, f.Err)
	}
	return fmt.Sprintf("%d signature(s) of the batch do not verify: %s", len(e.Failures), strings.Join(parts, "; "))
}

// Unwrap returns the failures' errors.
func (e *BatchError) Unwrap() []error {
	out := make([]error, len(e.Failures))
	for i, f := range e.Failures {
		out[i] = f.Err
	}
	return out
}

// VerifyBatch verifies every item at once (BIP-340 batch verification, one
// multi-scalar multiplication: internal/secp.VerifyBatch) and returns nil
// if all verify, or a *BatchError naming each item that does not, with the
// error it gets alone. For a finality provider's votes, or a watcher
// checking many, it costs a fraction of verifying them one by one.
func VerifyBatch(items []BatchItem) error {
	var fails []BatchFailure
	keys := make([]secp.PubKey, len(items))
	batch := make([]secp.BatchItem, 0, len(items))
	index := make([]int, 0, len(items))
	// Step 1: items that fail before any curve arithmetic.
	for i := range items {
		it := &items[i]
		switch {
		case it.pk == nil && it.commit:
			fails = append(fails, BatchFailure{i, fmt.Errorf("%w: nil public key", ErrInvalidKey)})
			continue
		case it.badLen >= 0:
			fails = append(fails, BatchFailure{i, fmt.Errorf("%w: commitment signature is malformed", ErrInvalidSignature)})
			continue
		case it.commit && !it.pk.IsOnCurve():
			// What VerifyCommitWithContext does with such a key.
			var sig [64]byte
			copy(sig[:32], it.r[:])
			copy(sig[32:], it.s[:])
			if err := verifyCommit(it.pk, it.hash, sig[:]); err != nil {
				fails = append(fails, BatchFailure{i, err})
			}
			continue
		case it.pk == nil || !it.pk.IsOnCurve():
			fails = append(fails, BatchFailure{i, fmt.Errorf("%w: missing public key or not a curve point", ErrInvalidKey)})
			continue
		}
		keys[i] = secp.NewPubKey(it.pk)
		batch = append(batch, secp.BatchItem{Key: &keys[i], R: it.r, S: it.s, Msg: it.hash[:]})
		index = append(index, i)
	}
	// Step 2: the batch; each failure gets the error of its kind.
	for _, f := range secp.VerifyBatch(batch) {
		i := index[f.Index]
		fails = append(fails, BatchFailure{i, itemError(&items[i], f.Result)})
	}
	if len(fails) == 0 {
		return nil
	}
	sortBatchFailures(fails)
	return &BatchError{Failures: fails}
}

// itemError is the error Verify or verifyCommit gives for res.
func itemError(it *BatchItem, res secp.Result) error {
	if !it.commit {
		return verifyError(res)
	}
	switch res {
	case secp.RNotInField, secp.SNotInOrder:
		return fmt.Errorf("%w: commitment signature is malformed", ErrInvalidSignature)
	}
	return fmt.Errorf("%w: commitment signature does not verify", ErrInvalidSignature)
}

func sortBatchFailures(f []BatchFailure) {
	for i := 1; i < len(f); i++ {
		for j := i; j > 0 && f[j].Index < f[j-1].Index; j-- {
			f[j], f[j-1] = f[j-1], f[j]
		}
	}
}

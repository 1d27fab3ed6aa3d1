package eots

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// The randomness commitment is an RFC-6962 Merkle tree, as CometBFT's
// crypto/merkle builds it (docs/spec.md §7): leaf = sha256(00 || item),
// inner = sha256(01 || left || right), a list of n > 1 items splits at the
// largest power of two below n, and the empty list hashes to sha256("").

// HashSize is the length of Merkle hashes.
const HashSize = 32

// MaxProofDepth bounds the number of aunts a proof may carry: a tree of at
// most 2^63 leaves (the item count is an int64 in CometBFT's encoding).
const MaxProofDepth = 63

// Proof is an inclusion proof for one item: the number of items, the item's
// index, its leaf hash, and the sibling hashes from the leaf's sibling upward.
type Proof struct {
	Total    uint64
	Index    uint64
	LeafHash [HashSize]byte
	Aunts    [][HashSize]byte
}

// LeafHash returns sha256(00 || item).
func LeafHash(item []byte) [HashSize]byte {
	if len(item) == 32 {
		var buf [33]byte
		copy(buf[1:], item)
		return sha256.Sum256(buf[:])
	}
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(item)
	var out [HashSize]byte
	h.Sum(out[:0])
	return out
}

// innerHash returns sha256(01 || left || right).
func innerHash(left, right *[HashSize]byte) [HashSize]byte {
	var buf [1 + 2*HashSize]byte
	buf[0] = 1
	copy(buf[1:33], left[:])
	copy(buf[33:], right[:])
	return sha256.Sum256(buf[:])
}

// splitPoint returns the largest power of two strictly below n (n >= 2).
func splitPoint(n uint64) uint64 {
	return 1 << (bits.Len64(n-1) - 1)
}

// MerkleRoot returns the root over items (any lengths).
func MerkleRoot(items [][]byte) [HashSize]byte {
	if len(items) == 0 {
		return sha256.Sum256(nil)
	}
	leaves := make([][HashSize]byte, len(items))
	for i, it := range items {
		leaves[i] = LeafHash(it)
	}
	return rootOf(leaves)
}

// CommitRoot returns the commitment root over a list of public randomness in
// height order.
func CommitRoot(rs []PublicRand) [HashSize]byte {
	if len(rs) == 0 {
		return sha256.Sum256(nil)
	}
	leaves := make([][HashSize]byte, len(rs))
	for i := range rs {
		leaves[i] = LeafHash(rs[i][:])
	}
	return rootOf(leaves)
}

func rootOf(leaves [][HashSize]byte) [HashSize]byte {
	switch len(leaves) {
	case 1:
		return leaves[0]
	}
	k := splitPoint(uint64(len(leaves)))
	l, r := rootOf(leaves[:k]), rootOf(leaves[k:])
	return innerHash(&l, &r)
}

// CommitProofs returns the commitment root over rs and an inclusion proof for
// every item. The proofs share one backing array of aunts.
func CommitProofs(rs []PublicRand) ([HashSize]byte, []Proof) {
	if len(rs) == 0 {
		return sha256.Sum256(nil), nil
	}
	n := uint64(len(rs))
	depth := bits.Len64(n - 1) // the tree's height: ceil(log2 n)
	proofs := make([]Proof, n)
	backing := make([][HashSize]byte, int(n)*depth)
	for i := range proofs {
		proofs[i] = Proof{
			Total:    n,
			Index:    uint64(i),
			LeafHash: LeafHash(rs[i][:]),
			Aunts:    backing[i*depth : i*depth : (i+1)*depth],
		}
	}
	root := buildProofs(proofs)
	return root, proofs
}

// buildProofs returns the root over the leaves of ps and appends, bottom-up,
// each proof's aunts within this subtree.
func buildProofs(ps []Proof) [HashSize]byte {
	if len(ps) == 1 {
		return ps[0].LeafHash
	}
	k := splitPoint(uint64(len(ps)))
	l, r := buildProofs(ps[:k]), buildProofs(ps[k:])
	for i := range ps[:k] {
		ps[i].Aunts = append(ps[i].Aunts, r)
	}
	for i := range ps[k:] {
		ps[int(k)+i].Aunts = append(ps[int(k)+i].Aunts, l)
	}
	return innerHash(&l, &r)
}

// Verify checks that item is the p.Index-th of p.Total items under root. It
// returns nil or an error wrapping ErrInvalidProof.
func (p *Proof) Verify(root [HashSize]byte, item []byte) error {
	if p == nil {
		return fmt.Errorf("%w: nil proof", ErrInvalidProof)
	}
	if lh := LeafHash(item); lh != p.LeafHash {
		return fmt.Errorf("%w: leaf hash does not match the item", ErrInvalidProof)
	}
	got, err := p.ComputeRoot()
	if err != nil {
		return err
	}
	if got != root {
		return fmt.Errorf("%w: proof leads to a different root", ErrInvalidProof)
	}
	return nil
}

// ComputeRoot returns the root that the proof's leaf hash and aunts lead to,
// or an error if the proof's shape does not match Total and Index.
func (p *Proof) ComputeRoot() ([HashSize]byte, error) {
	if p.Total == 0 || p.Index >= p.Total {
		return [HashSize]byte{}, fmt.Errorf("%w: index %d out of range for %d items", ErrInvalidProof, p.Index, p.Total)
	}
	if p.Total > 1<<MaxProofDepth || len(p.Aunts) > MaxProofDepth {
		return [HashSize]byte{}, fmt.Errorf("%w: proof too large", ErrInvalidProof)
	}
	root, ok := fromAunts(p.Index, p.Total, p.LeafHash, p.Aunts)
	if !ok {
		return [HashSize]byte{}, fmt.Errorf("%w: wrong number of aunts for index %d of %d items", ErrInvalidProof, p.Index, p.Total)
	}
	return root, nil
}

// fromAunts walks from the top split down, consuming the aunts from the end
// (the top-level sibling is last), exactly as CometBFT's
// computeHashFromAunts does.
func fromAunts(index, total uint64, leaf [HashSize]byte, aunts [][HashSize]byte) ([HashSize]byte, bool) {
	if total == 1 {
		return leaf, len(aunts) == 0
	}
	if len(aunts) == 0 {
		return leaf, false
	}
	k := splitPoint(total)
	last := &aunts[len(aunts)-1]
	if index < k {
		l, ok := fromAunts(index, k, leaf, aunts[:len(aunts)-1])
		if !ok {
			return l, false
		}
		return innerHash(&l, last), true
	}
	r, ok := fromAunts(index-k, total-k, leaf, aunts[:len(aunts)-1])
	if !ok {
		return r, false
	}
	return innerHash(last, &r), true
}

// MarshalBinary encodes the proof as BE64(total) || BE64(index) || leafHash ||
// aunts (32 bytes each). This is the project's own compact encoding; Babylon
// carries the same four fields in CometBFT's protobuf Proof message.
func (p *Proof) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, 16+HashSize*(1+len(p.Aunts)))
	out = binary.BigEndian.AppendUint64(out, p.Total)
	out = binary.BigEndian.AppendUint64(out, p.Index)
	out = append(out, p.LeafHash[:]...)
	for i := range p.Aunts {
		out = append(out, p.Aunts[i][:]...)
	}
	return out, nil
}

// ParseProof decodes the encoding of MarshalBinary and checks the proof's
// shape (index below total, number of aunts matching the tree).
func ParseProof(b []byte) (*Proof, error) {
	if len(b) < 16+HashSize || (len(b)-16)%HashSize != 0 {
		return nil, fmt.Errorf("%w: proof encoding must be 48 + 32·k bytes, got %d", ErrInvalidEncoding, len(b))
	}
	n := (len(b)-16)/HashSize - 1
	if n > MaxProofDepth {
		return nil, fmt.Errorf("%w: proof has %d aunts, at most %d allowed", ErrInvalidEncoding, n, MaxProofDepth)
	}
	p := &Proof{
		Total: binary.BigEndian.Uint64(b[0:8]),
		Index: binary.BigEndian.Uint64(b[8:16]),
	}
	copy(p.LeafHash[:], b[16:48])
	if n > 0 {
		p.Aunts = make([][HashSize]byte, n)
		for i := range p.Aunts {
			copy(p.Aunts[i][:], b[48+i*HashSize:])
		}
	}
	if _, err := p.ComputeRoot(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidEncoding, err)
	}
	return p, nil
}

// VerifyInclusion checks that item is the index-th of count items committed
// to by root. Prefer it to Proof.Verify: for some tree shapes the root alone
// does not bind Total (index 0 of 100 and of 101 share a path), so a caller
// must also check Total and Index against what was committed (the
// commitment's count, and height - start height).
func VerifyInclusion(root [HashSize]byte, count, index uint64, item []byte, p *Proof) error {
	if p == nil {
		return fmt.Errorf("%w: nil proof", ErrInvalidProof)
	}
	if p.Total != count || p.Index != index {
		return fmt.Errorf("%w: proof is for index %d of %d, want %d of %d", ErrInvalidProof, p.Index, p.Total, index, count)
	}
	return p.Verify(root, item)
}

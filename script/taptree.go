package script

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/btcstake/btcstake/internal/secp"
)

// BaseLeafVersion is the BIP-342 tapscript leaf version.
const BaseLeafVersion = 0xc0

// numsPoint is NUMSKey lifted to the curve once, sparing every output build
// a square root.
var numsPoint = func() secp256k1.JacobianPoint {
	var j secp256k1.JacobianPoint
	pk, err := NUMSKey.PubKey()
	if err != nil {
		panic(err)
	}
	pk.AsJacobian(&j)
	return j
}()

// NUMSKey is the BIP-341 "nothing up my sleeve" point H, the internal key of
// every staking output: nobody knows its discrete logarithm, so the key path
// cannot be spent.
var NUMSKey = mustXOnly("50929b74c1a04954b78b4b6035e97a5e078a5a0f28ec96d547bfee9ace803ac0")

func mustXOnly(s string) XOnlyKey {
	b, _ := hex.DecodeString(s)
	k, err := ParseXOnlyKey(b)
	if err != nil {
		panic(err) // a constant of this package
	}
	return k
}

// Precomputed SHA-256 of the BIP-340 tags used here.
var (
	tagLeaf   = sha256.Sum256([]byte("TapLeaf"))
	tagBranch = sha256.Sum256([]byte("TapBranch"))
	tagTweak  = sha256.Sum256([]byte("TapTweak"))
)

// TapLeaf is one script of a tap tree with its leaf version.
type TapLeaf struct {
	Version byte
	Script  []byte
}

// Hash returns the BIP-341 leaf hash:
// tagged_hash("TapLeaf", version || compact_size(len(script)) || script).
func (l TapLeaf) Hash() chainhash.Hash {
	h := sha256.New()
	h.Write(tagLeaf[:])
	h.Write(tagLeaf[:])
	var pre [10]byte
	pre[0] = l.Version
	n := putCompactSize(pre[1:], uint64(len(l.Script)))
	h.Write(pre[:1+n])
	h.Write(l.Script)
	var out chainhash.Hash
	h.Sum(out[:0])
	return out
}

func putCompactSize(b []byte, n uint64) int {
	switch {
	case n < 0xfd:
		b[0] = byte(n)
		return 1
	case n <= 0xffff:
		b[0], b[1], b[2] = 0xfd, byte(n), byte(n>>8)
		return 3
	case n <= 0xffffffff:
		b[0] = 0xfe
		for i := 0; i < 4; i++ {
			b[1+i] = byte(n >> (8 * i))
		}
		return 5
	}
	b[0] = 0xff
	for i := 0; i < 8; i++ {
		b[1+i] = byte(n >> (8 * i))
	}
	return 9
}

// branchHash returns tagged_hash("TapBranch", min(a,b) || max(a,b)).
func branchHash(a, b chainhash.Hash) chainhash.Hash {
	var buf [128]byte
	copy(buf[0:], tagBranch[:])
	copy(buf[32:], tagBranch[:])
	if compareHash(a, b) <= 0 {
		copy(buf[64:], a[:])
		copy(buf[96:], b[:])
	} else {
		copy(buf[64:], b[:])
		copy(buf[96:], a[:])
	}
	return sha256.Sum256(buf[:])
}

func compareHash(a, b chainhash.Hash) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// TreeNode describes the shape of a tap tree: a leaf (Left and Right nil,
// Leaf the index into the tree's leaves) or a branch of two subtrees.
type TreeNode struct {
	Leaf        int
	Left, Right *TreeNode
}

// LeafNode is a tree node standing for leaf i.
func LeafNode(i int) *TreeNode { return &TreeNode{Leaf: i} }

// BranchNode joins two subtrees.
func BranchNode(l, r *TreeNode) *TreeNode { return &TreeNode{Left: l, Right: r} }

// DefaultShape returns the shape btcd's AssembleTaprootScriptTree (and so
// Babylon) gives n leaves: leaves paired in order (0,1), (2,3), ...; a
// trailing odd leaf joined to the last pair; then the branches merged first
// to last, each merged branch queued at the end, until one remains. For 3
// leaves this is Branch(Branch(L0, L1), L2); for 2, Branch(L0, L1).
func DefaultShape(n int) *TreeNode {
	if n <= 0 {
		return nil
	}
	if n == 1 {
		return LeafNode(0)
	}
	var branches []*TreeNode
	for i := 0; i < n; i += 2 {
		if i == n-1 {
			branches[len(branches)-1] = BranchNode(branches[len(branches)-1], LeafNode(i))
			continue
		}
		branches = append(branches, BranchNode(LeafNode(i), LeafNode(i+1)))
	}
	for len(branches) > 1 {
		merged := BranchNode(branches[0], branches[1])
		branches = append(branches[2:], merged)
	}
	return branches[0]
}

// TapTree is a tap tree with every leaf's hash and merkle path computed.
type TapTree struct {
	leaves []TapLeaf
	hashes []chainhash.Hash
	proofs [][]chainhash.Hash // per leaf: sibling hashes from the leaf upward
	root   chainhash.Hash
}

// NewTapTree hashes leaves arranged as shape. Every leaf must appear in the
// shape exactly once. The leaves' scripts are not copied: callers must not
// modify them afterwards.
func NewTapTree(leaves []TapLeaf, shape *TreeNode) (*TapTree, error) {
	return newTapTree(leaves, nil, shape)
}

// newTapTree is NewTapTree with the leaf hashes given (when hashes is not
// nil; they must be the leaves' hashes).
func newTapTree(leaves []TapLeaf, hashes []chainhash.Hash, shape *TreeNode) (*TapTree, error) {
	if len(leaves) == 0 || shape == nil {
		return nil, fmt.Errorf("%w: no leaves", ErrInvalidTree)
	}
	t := &TapTree{
		leaves: leaves,
		hashes: make([]chainhash.Hash, len(leaves)),
		proofs: make([][]chainhash.Hash, len(leaves)),
	}
	if len(hashes) == len(leaves) {
		copy(t.hashes, hashes)
	} else {
		for i, l := range leaves {
			t.hashes[i] = l.Hash()
		}
	}
	seen := make([]bool, len(leaves))
	root, _, err := t.walk(shape, seen, 0)
	if err != nil {
		return nil, err
	}
	for i, s := range seen {
		if !s {
			return nil, fmt.Errorf("%w: leaf %d is not in the tree", ErrInvalidTree, i)
		}
	}
	t.root = root
	return t, nil
}

// walk hashes the subtree n, returning its hash and the leaves below it, and
// appends to each such leaf's proof the sibling hashes on the way up.
func (t *TapTree) walk(n *TreeNode, seen []bool, depth int) (chainhash.Hash, []int, error) {
	if depth > 128 {
		return chainhash.Hash{}, nil, fmt.Errorf("%w: deeper than 128 levels", ErrInvalidTree)
	}
	if n.Left == nil && n.Right == nil {
		if n.Leaf < 0 || n.Leaf >= len(t.leaves) {
			return chainhash.Hash{}, nil, fmt.Errorf("%w: leaf index %d out of range", ErrInvalidTree, n.Leaf)
		}
		if seen[n.Leaf] {
			return chainhash.Hash{}, nil, fmt.Errorf("%w: leaf %d appears twice", ErrInvalidTree, n.Leaf)
		}
		seen[n.Leaf] = true
		return t.hashes[n.Leaf], []int{n.Leaf}, nil
	}
	if n.Left == nil || n.Right == nil {
		return chainhash.Hash{}, nil, fmt.Errorf("%w: branch with one child", ErrInvalidTree)
	}
	lh, ll, err := t.walk(n.Left, seen, depth+1)
	if err != nil {
		return chainhash.Hash{}, nil, err
	}
	rh, rl, err := t.walk(n.Right, seen, depth+1)
	if err != nil {
		return chainhash.Hash{}, nil, err
	}
	for _, i := range ll {
		t.proofs[i] = append(t.proofs[i], rh)
	}
	for _, i := range rl {
		t.proofs[i] = append(t.proofs[i], lh)
	}
	return branchHash(lh, rh), append(ll, rl...), nil
}

// RootHash is the merkle root of the tree.
func (t *TapTree) RootHash() chainhash.Hash { return t.root }

// NumLeaves is the number of leaves.
func (t *TapTree) NumLeaves() int { return len(t.leaves) }

// Leaf returns leaf i.
func (t *TapTree) Leaf(i int) TapLeaf { return t.leaves[i] }

// LeafHash returns the hash of leaf i.
func (t *TapTree) LeafHash(i int) chainhash.Hash { return t.hashes[i] }

// Proof returns the merkle path of leaf i (sibling hashes from the leaf up).
func (t *TapTree) Proof(i int) []chainhash.Hash { return t.proofs[i] }

// TaprootOutput is a BIP-341 output: an internal key tweaked by a script
// tree's root (or by nothing, for a key-path-only output).
type TaprootOutput struct {
	InternalKey XOnlyKey
	Tree        *TapTree // nil for a key-path-only output
	Tweak       [32]byte
	OutputKey   XOnlyKey
	OddY        bool // parity of the output key, recorded in control blocks
}

// NewTaprootOutput computes Q = P + tagged_hash("TapTweak", x(P) || root)·G
// for the internal key P (BIP-341 taproot_tweak_pubkey; without a tree the
// tweak commits to x(P) alone).
func NewTaprootOutput(internal XOnlyKey, tree *TapTree) (*TaprootOutput, error) {
	var root *chainhash.Hash
	if tree != nil {
		root = &tree.root
	}
	o := &TaprootOutput{InternalKey: internal, Tree: tree}
	var err error
	o.Tweak, o.OutputKey, o.OddY, err = tweakKey(internal, root)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// tweakKey is BIP-341's taproot_tweak_pubkey: the tweak
// t = tagged_hash("TapTweak", x(P) || root) (x(P) alone when root is nil)
// and the output key Q = P + t·G as its x coordinate and y parity.
func tweakKey(internal XOnlyKey, root *chainhash.Hash) (tweak [32]byte, q XOnlyKey, oddY bool, err error) {
	var pj secp256k1.JacobianPoint
	if internal == NUMSKey {
		pj = numsPoint
	} else {
		p, err := internal.PubKey()
		if err != nil {
			return tweak, q, false, err
		}
		p.AsJacobian(&pj)
	}
	// Step 1: t = int(tagged_hash("TapTweak", x(P) || root)), fail if >= n.
	var buf [128]byte
	copy(buf[0:], tagTweak[:])
	copy(buf[32:], tagTweak[:])
	copy(buf[64:], internal[:])
	msg := buf[:96]
	if root != nil {
		copy(buf[96:], root[:])
		msg = buf[:128]
	}
	tweak = sha256.Sum256(msg)
	var t secp256k1.ModNScalar
	if overflow := t.SetBytes(&tweak); overflow != 0 {
		return tweak, q, false, fmt.Errorf("%w: tweak exceeds the group order", ErrInvalidTree)
	}
	// Step 2: Q = P + t·G (P is the even-y lift of the x-only key).
	var tg, qj secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(&t, &tg)
	secp256k1.AddNonConst(&pj, &tg, &qj)
	if (qj.X.IsZero() && qj.Y.IsZero()) || qj.Z.IsZero() {
		return tweak, q, false, fmt.Errorf("%w: tweaked key is the point at infinity", ErrInvalidTree)
	}
	// Step 3: x(Q) and the parity of y(Q).
	q, oddY = affineXParity(&qj)
	return tweak, q, oddY, nil
}

// affineXParity returns x = X/Z^2 and the parity of y = Y/Z^3 of a Jacobian
// point, inverting Z in variable time (internal/secp's safegcd inverse,
// several times faster than dcrd's Fermat inversion in ToAffine): output
// keys are public.
func affineXParity(q *secp256k1.JacobianPoint) (XOnlyKey, bool) {
	x, odd := secp.AffineXParity(q)
	return XOnlyKey(x), odd
}

// PkScript returns the segwit v1 output script OP_1 <x(Q)>.
func (o *TaprootOutput) PkScript() []byte {
	s := make([]byte, 34)
	s[0], s[1] = 0x51, 0x20
	copy(s[2:], o.OutputKey[:])
	return s
}

// Address encodes the output key as a bech32m address for net. The network
// changes only the encoding, never the output script.
func (o *TaprootOutput) Address(net *chaincfg.Params) (string, error) {
	a, err := address.NewAddressTaproot(o.OutputKey[:], net)
	if err != nil {
		return "", fmt.Errorf("taproot address: %w", err)
	}
	return a.EncodeAddress(), nil
}

// ControlBlock returns the BIP-341 control block revealing leaf i:
// (leaf version | parity of Q) || x(P) || merkle path.
func (o *TaprootOutput) ControlBlock(i int) ([]byte, error) {
	if o.Tree == nil || i < 0 || i >= len(o.Tree.leaves) {
		return nil, fmt.Errorf("%w: no leaf %d", ErrInvalidTree, i)
	}
	proof := o.Tree.proofs[i]
	cb := make([]byte, 33+32*len(proof))
	cb[0] = o.Tree.leaves[i].Version & 0xfe
	if o.OddY {
		cb[0] |= 1
	}
	copy(cb[1:33], o.InternalKey[:])
	for j, h := range proof {
		copy(cb[33+32*j:], h[:])
	}
	return cb, nil
}

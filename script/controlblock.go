package script

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// maxControlBlockDepth is BIP-341's bound on a Merkle path: 128 levels.
const maxControlBlockDepth = 128

// ControlBlock is a parsed BIP-341 control block,
//
//	(leaf version | parity of y(Q)) || x(P) || e_1 || ... || e_m
//
// the last witness item of a script-path spend: the leaf version, the
// parity of the output key Q, the internal key P and the Merkle path
// (sibling hashes from the leaf up to the root, m <= 128).
type ControlBlock struct {
	LeafVersion  byte
	OutputKeyOdd bool
	InternalKey  XOnlyKey
	Path         []chainhash.Hash
}

// ParseControlBlock decodes a control block. It fails with
// ErrInvalidControlBlock unless the length is 33 + 32m with m <= 128 and the
// internal key is the x coordinate of a curve point (BIP-341 lift_x). Any
// leaf version is accepted; ParseWitness insists on tapscript's.
func ParseControlBlock(b []byte) (*ControlBlock, error) {
	if len(b) < 33 || (len(b)-33)%32 != 0 || (len(b)-33)/32 > maxControlBlockDepth {
		return nil, fmt.Errorf("%w: %d bytes, want 33 + 32m with m <= %d", ErrInvalidControlBlock, len(b), maxControlBlockDepth)
	}
	c := &ControlBlock{LeafVersion: b[0] & 0xfe, OutputKeyOdd: b[0]&1 == 1}
	k, err := ParseXOnlyKey(b[1:33])
	if err != nil {
		return nil, fmt.Errorf("%w: internal key %x is not a curve point", ErrInvalidControlBlock, b[1:33])
	}
	c.InternalKey = k
	c.Path = make([]chainhash.Hash, (len(b)-33)/32)
	for i := range c.Path {
		copy(c.Path[i][:], b[33+32*i:])
	}
	return c, nil
}

// Bytes encodes the control block.
func (c *ControlBlock) Bytes() []byte {
	b := make([]byte, 33+32*len(c.Path))
	b[0] = c.LeafVersion & 0xfe
	if c.OutputKeyOdd {
		b[0] |= 1
	}
	copy(b[1:33], c.InternalKey[:])
	for i, h := range c.Path {
		copy(b[33+32*i:], h[:])
	}
	return b
}

// RootHash is the Merkle root the control block proves for leafScript
// (BIP-341, with the control block's leaf version):
//
//  1. k_0 = tagged_hash("TapLeaf", version || compact_size(len(s)) || s)
//  2. k_{j+1} = tagged_hash("TapBranch", min(k_j, e_j) || max(k_j, e_j))
//  3. the root is k_m.
func (c *ControlBlock) RootHash(leafScript []byte) chainhash.Hash {
	k := TapLeaf{Version: c.LeafVersion, Script: leafScript}.Hash()
	for _, e := range c.Path {
		k = branchHash(k, e)
	}
	return k
}

// Commits checks what consensus checks of a script-path spend (BIP-341):
// that the internal key tweaked by the root proven for leafScript is the
// output key of pkScript (a segwit v1 output), with the parity the control
// block records. It fails with ErrWrongOutput otherwise.
func (c *ControlBlock) Commits(leafScript, pkScript []byte) error {
	if len(pkScript) != 34 || pkScript[0] != 0x51 || pkScript[1] != 0x20 {
		return fmt.Errorf("%w: %x is not a taproot output script", ErrWrongOutput, pkScript)
	}
	root := c.RootHash(leafScript)
	_, q, odd, err := tweakKey(c.InternalKey, &root)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrWrongOutput, err)
	}
	if !bytes.Equal(q[:], pkScript[2:]) {
		return fmt.Errorf("%w: the leaf and control block commit to output key %s, the output's is %x", ErrWrongOutput, q, pkScript[2:])
	}
	if odd != c.OutputKeyOdd {
		return fmt.Errorf("%w: the control block records the wrong parity of the output key", ErrWrongOutput)
	}
	return nil
}

package script

import (
	"fmt"
	"strings"
)

// Output descriptors (BIP-380/386 with miniscript leaves) for the staking
// outputs, so a descriptor wallet can watch and sign them. Each leaf maps to
// miniscript exactly (docs/spec.md §3):
//
//	timelock   and_v(v:pk(S),older(T))
//	unbonding  and_v(v:pk(S),multi_a(M,C1,...,Cn))       or and_v(v:pk(S),pk(C))
//	slashing   and_v(v:pk(S),and_v(v:pk(F),multi_a(M,...)))
//	           and_v(v:pk(S),and_v(v:multi_a(1,F1,...,Fk),multi_a(M,...)))
//
// Keys are x-only hex, listed ascending as in the scripts.

// Descriptor returns the output's tr() descriptor with its checksum, e.g.
// tr(NUMS,{{timelock,unbonding},slashing})#checksum for a staking output.
func (o *Output) Descriptor() string {
	d := "tr(" + o.Taproot.InternalKey.String() + "," + o.treeDescriptor(o.shape()) + ")"
	return d + "#" + DescriptorChecksum(d)
}

// shape reconstructs the output's tree shape from its kind.
func (o *Output) shape() *TreeNode {
	switch len(o.Paths) {
	case 1:
		return LeafNode(0)
	case 2:
		return BranchNode(LeafNode(0), LeafNode(1))
	}
	return BranchNode(BranchNode(LeafNode(0), LeafNode(1)), LeafNode(2))
}

func (o *Output) treeDescriptor(n *TreeNode) string {
	if n.Left == nil {
		return o.LeafDescriptor(n.Leaf)
	}
	return "{" + o.treeDescriptor(n.Left) + "," + o.treeDescriptor(n.Right) + "}"
}

// LeafDescriptor returns the miniscript of leaf i, as it appears in the
// output's tr() descriptor.
func (o *Output) LeafDescriptor(i int) string {
	if i < 0 || i >= len(o.Paths) {
		return ""
	}
	return leafDescriptor(o.Paths[i].Kind, o.s, o.Timelock, o.p)
}

func leafDescriptor(kind PathKind, staker XOnlyKey, lock uint16, p *parties) string {
	s := "v:pk(" + staker.String() + ")"
	switch kind {
	case TimelockPath:
		return fmt.Sprintf("and_v(%s,older(%d))", s, lock)
	case UnbondingPath:
		return "and_v(" + s + "," + multiDescriptor(p.cov, p.quorum, false) + ")"
	case SlashingPath:
		return "and_v(" + s + ",and_v(" + multiDescriptor(p.fps, 1, true) + "," +
			multiDescriptor(p.cov, p.quorum, false) + "))"
	}
	return ""
}

func multiDescriptor(keys []XOnlyKey, m uint32, verify bool) string {
	v := ""
	if verify {
		v = "v:"
	}
	if len(keys) == 1 {
		return v + "pk(" + keys[0].String() + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%smulti_a(%d", v, m)
	for _, k := range keys {
		b.WriteString(",")
		b.WriteString(k.String())
	}
	b.WriteString(")")
	return b.String()
}

// BIP-380 descriptor checksum.
const (
	descInputCharset    = "0123456789()[],'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#\"\\ "
	descChecksumCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
)

var descGenerator = [5]uint64{0xf5dee51989, 0xa9fdca3312, 0x1bab10e32d, 0x3706b1677a, 0x644d626ffd}

func descPolymod(c uint64, v int) uint64 {
	top := c >> 35
	c = (c&0x7ffffffff)<<5 ^ uint64(v)
	for i := 0; i < 5; i++ {
		if (top>>i)&1 == 1 {
			c ^= descGenerator[i]
		}
	}
	return c
}

// DescriptorChecksum returns the 8-character BIP-380 checksum of a
// descriptor (without the '#'), or "" if it holds a character outside the
// descriptor character set.
func DescriptorChecksum(desc string) string {
	c := uint64(1)
	cls, clsCount := 0, 0
	for _, ch := range desc {
		pos := strings.IndexRune(descInputCharset, ch)
		if pos < 0 {
			return ""
		}
		c = descPolymod(c, pos&31)
		cls = cls*3 + pos>>5
		clsCount++
		if clsCount == 3 {
			c = descPolymod(c, cls)
			cls, clsCount = 0, 0
		}
	}
	if clsCount > 0 {
		c = descPolymod(c, cls)
	}
	for i := 0; i < 8; i++ {
		c = descPolymod(c, 0)
	}
	c ^= 1
	out := make([]byte, 8)
	for i := 0; i < 8; i++ {
		out[i] = descChecksumCharset[(c>>(5*(7-i)))&31]
	}
	return string(out)
}

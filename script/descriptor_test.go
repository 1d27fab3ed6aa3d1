package script

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/txscript/v2"
)

func TestDescriptorChecksumBIP380(t *testing.T) {
	// From BIP-380's test vectors.
	if got := DescriptorChecksum("raw(deadbeef)"); got != "89f8spxm" {
		t.Fatalf("checksum %q, want 89f8spxm", got)
	}
	if got := DescriptorChecksum("raw(deadbeef)\x01"); got != "" {
		t.Fatalf("invalid character gave checksum %q", got)
	}
}

// miniCompile compiles the miniscript fragments the package emits, written
// independently with btcd's ScriptBuilder.
func miniCompile(t *testing.T, ms string) []byte {
	t.Helper()
	b := txscript.NewScriptBuilder()
	var compile func(string)
	args := func(s, prefix string) []string {
		inner := strings.TrimSuffix(strings.TrimPrefix(s, prefix), ")")
		return splitTop(inner)
	}
	key := func(h string) []byte {
		k, err := hex.DecodeString(h)
		if err != nil || len(k) != 32 {
			t.Fatalf("bad key %q", h)
		}
		return k
	}
	compile = func(s string) {
		switch {
		case strings.HasPrefix(s, "and_v("):
			a := args(s, "and_v(")
			compile(a[0])
			compile(a[1])
		case strings.HasPrefix(s, "v:pk("):
			b.AddData(key(args(s, "v:pk(")[0])).AddOp(txscript.OP_CHECKSIGVERIFY)
		case strings.HasPrefix(s, "pk("):
			b.AddData(key(args(s, "pk(")[0])).AddOp(txscript.OP_CHECKSIG)
		case strings.HasPrefix(s, "older("):
			n, _ := strconv.Atoi(args(s, "older(")[0])
			b.AddInt64(int64(n)).AddOp(txscript.OP_CHECKSEQUENCEVERIFY)
		case strings.HasPrefix(s, "multi_a("), strings.HasPrefix(s, "v:multi_a("):
			verify := strings.HasPrefix(s, "v:")
			a := args(strings.TrimPrefix(s, "v:"), "multi_a(")
			m, _ := strconv.Atoi(a[0])
			for i, k := range a[1:] {
				b.AddData(key(k))
				if i == 0 {
					b.AddOp(txscript.OP_CHECKSIG)
				} else {
					b.AddOp(txscript.OP_CHECKSIGADD)
				}
			}
			b.AddInt64(int64(m))
			if verify {
				b.AddOp(txscript.OP_NUMEQUALVERIFY)
			} else {
				b.AddOp(txscript.OP_NUMEQUAL)
			}
		default:
			t.Fatalf("unexpected miniscript %q", s)
		}
	}
	compile(ms)
	s, err := b.Script()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// splitTop splits on commas not nested in parentheses or braces.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '(', '{':
			depth++
		case ')', '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// parseTr parses tr(KEY,TREE) into the internal key, leaves and shape.
func parseTr(t *testing.T, d string) (XOnlyKey, []TapLeaf, *TreeNode) {
	t.Helper()
	body, sum, ok := strings.Cut(d, "#")
	if !ok || DescriptorChecksum(body) != sum {
		t.Fatalf("descriptor %q: bad or missing checksum", d)
	}
	parts := splitTop(strings.TrimSuffix(strings.TrimPrefix(body, "tr("), ")"))
	if len(parts) != 2 {
		t.Fatalf("tr() with %d arguments", len(parts))
	}
	kb, _ := hex.DecodeString(parts[0])
	ik, err := ParseXOnlyKey(kb)
	if err != nil {
		t.Fatal(err)
	}
	var leaves []TapLeaf
	var tree func(string) *TreeNode
	tree = func(s string) *TreeNode {
		if strings.HasPrefix(s, "{") {
			lr := splitTop(s[1 : len(s)-1])
			return BranchNode(tree(lr[0]), tree(lr[1]))
		}
		leaves = append(leaves, TapLeaf{BaseLeafVersion, miniCompile(t, s)})
		return LeafNode(len(leaves) - 1)
	}
	shape := tree(parts[1])
	return ik, leaves, shape
}

// TestDescriptorsCompileToOutputs: compiling each output's descriptor
// reproduces its leaf scripts and its pkScript.
func TestDescriptorsCompileToOutputs(t *testing.T) {
	r := newRand(t)
	for _, c := range []struct{ nFP, nCov, m int }{{1, 1, 1}, {1, 5, 3}, {3, 4, 3}, {2, 20, 18}} {
		t.Run(fmt.Sprintf("%dfp-%d-of-%d", c.nFP, c.m, c.nCov), func(t *testing.T) {
			f := newFixture(t, r, c.nFP, c.nCov, uint32(c.m))
			st, _ := NewStakingOutput(f.parties(), 1000)
			ub, _ := NewUnbondingOutput(f.parties(), 17)
			ch, _ := NewSlashingChangeOutput(f.staker.PubKey(), 17)
			for _, o := range []*Output{st, ub, ch} {
				d := o.Descriptor()
				ik, leaves, shape := parseTr(t, d)
				if ik != NUMSKey {
					t.Errorf("%s: internal key %s", o.Kind, ik)
				}
				if len(leaves) != len(o.Paths) {
					t.Fatalf("%s: %d leaves, want %d", o.Kind, len(leaves), len(o.Paths))
				}
				for i := range leaves {
					if !bytes.Equal(leaves[i].Script, o.Paths[i].Script) {
						t.Errorf("%s leaf %d: descriptor compiles to %x, script is %x", o.Kind, i, leaves[i].Script, o.Paths[i].Script)
					}
				}
				tree, err := NewTapTree(leaves, shape)
				if err != nil {
					t.Fatal(err)
				}
				tr, err := NewTaprootOutput(ik, tree)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(tr.PkScript(), o.PkScript) {
					t.Errorf("%s: descriptor's pkScript %x, output's %x", o.Kind, tr.PkScript(), o.PkScript)
				}
			}
			if !strings.HasPrefix(st.Descriptor(), "tr("+NUMSKey.String()+",{{and_v(v:pk(") {
				t.Errorf("staking descriptor shape: %s", st.Descriptor())
			}
		})
	}
}

package script

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"
)

// bip341Vectors mirrors the scriptPubKey part of BIP-341's
// wallet-test-vectors.json.
type bip341Vectors struct {
	ScriptPubKey []struct {
		Given struct {
			InternalPubkey string          `json:"internalPubkey"`
			ScriptTree     json.RawMessage `json:"scriptTree"`
		} `json:"given"`
		Intermediary struct {
			LeafHashes    []string `json:"leafHashes"`
			MerkleRoot    *string  `json:"merkleRoot"`
			Tweak         string   `json:"tweak"`
			TweakedPubkey string   `json:"tweakedPubkey"`
		} `json:"intermediary"`
		Expected struct {
			ScriptPubKey            string   `json:"scriptPubKey"`
			Bip350Address           string   `json:"bip350Address"`
			ScriptPathControlBlocks []string `json:"scriptPathControlBlocks"`
		} `json:"expected"`
	} `json:"scriptPubKey"`
}

type vecLeaf struct {
	ID          int    `json:"id"`
	Script      string `json:"script"`
	LeafVersion int    `json:"leafVersion"`
}

// parseVecTree turns the vectors' nested-array tree into leaves (indexed by
// id) and a shape.
func parseVecTree(raw json.RawMessage, leaves map[int]TapLeaf) (*TreeNode, error) {
	var pair []json.RawMessage
	if err := json.Unmarshal(raw, &pair); err == nil {
		if len(pair) != 2 {
			return nil, fmt.Errorf("branch with %d children", len(pair))
		}
		l, err := parseVecTree(pair[0], leaves)
		if err != nil {
			return nil, err
		}
		r, err := parseVecTree(pair[1], leaves)
		if err != nil {
			return nil, err
		}
		return BranchNode(l, r), nil
	}
	var leaf vecLeaf
	if err := json.Unmarshal(raw, &leaf); err != nil {
		return nil, err
	}
	s, err := hex.DecodeString(leaf.Script)
	if err != nil {
		return nil, err
	}
	leaves[leaf.ID] = TapLeaf{Version: byte(leaf.LeafVersion), Script: s}
	return LeafNode(leaf.ID), nil
}

func TestBIP341WalletVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/bip341-wallet-test-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v bip341Vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.ScriptPubKey) == 0 {
		t.Fatal("no vectors")
	}
	for i, tc := range v.ScriptPubKey {
		t.Run(fmt.Sprintf("scriptPubKey/%d", i), func(t *testing.T) {
			ik, _ := hex.DecodeString(tc.Given.InternalPubkey)
			internal, err := ParseXOnlyKey(ik)
			if err != nil {
				t.Fatal(err)
			}
			var tree *TapTree
			if string(tc.Given.ScriptTree) != "null" {
				leaves := map[int]TapLeaf{}
				shape, err := parseVecTree(tc.Given.ScriptTree, leaves)
				if err != nil {
					t.Fatal(err)
				}
				ls := make([]TapLeaf, len(leaves))
				for id, l := range leaves {
					ls[id] = l
				}
				tree, err = NewTapTree(ls, shape)
				if err != nil {
					t.Fatal(err)
				}
				for j, want := range tc.Intermediary.LeafHashes {
					h := tree.LeafHash(j)
					if got := hex.EncodeToString(h[:]); got != want {
						t.Errorf("leaf %d hash %s, want %s", j, got, want)
					}
				}
				root := tree.RootHash()
				if got := hex.EncodeToString(root[:]); got != *tc.Intermediary.MerkleRoot {
					t.Errorf("merkle root %s, want %s", got, *tc.Intermediary.MerkleRoot)
				}
			}
			out, err := NewTaprootOutput(internal, tree)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(out.Tweak[:]); got != tc.Intermediary.Tweak {
				t.Errorf("tweak %s, want %s", got, tc.Intermediary.Tweak)
			}
			if got := out.OutputKey.String(); got != tc.Intermediary.TweakedPubkey {
				t.Errorf("tweaked key %s, want %s", got, tc.Intermediary.TweakedPubkey)
			}
			if got := hex.EncodeToString(out.PkScript()); got != tc.Expected.ScriptPubKey {
				t.Errorf("pkScript %s, want %s", got, tc.Expected.ScriptPubKey)
			}
			addr, err := out.Address(&chaincfg.MainNetParams)
			if err != nil || addr != tc.Expected.Bip350Address {
				t.Errorf("address %s (%v), want %s", addr, err, tc.Expected.Bip350Address)
			}
			for j, want := range tc.Expected.ScriptPathControlBlocks {
				cb, err := out.ControlBlock(j)
				if err != nil {
					t.Fatal(err)
				}
				if got := hex.EncodeToString(cb); got != want {
					t.Errorf("control block %d: %s, want %s", j, got, want)
				}
			}
		})
	}
}

// TestDefaultShapeMatchesBtcd: for any number of leaves our shape gives the
// root and control blocks btcd's AssembleTaprootScriptTree gives, which is
// what Babylon builds its outputs with.
func TestDefaultShapeMatchesBtcd(t *testing.T) {
	r := newRand(t)
	for n := 1; n <= 11; n++ {
		t.Run(fmt.Sprintf("%d-leaves", n), func(t *testing.T) {
			leaves := make([]TapLeaf, n)
			btcdLeaves := make([]txscript.TapLeaf, n)
			for i := range leaves {
				s := make([]byte, 1+r.Intn(60))
				r.Read(s)
				leaves[i] = TapLeaf{BaseLeafVersion, s}
				btcdLeaves[i] = txscript.NewBaseTapLeaf(s)
			}
			tree, err := NewTapTree(leaves, DefaultShape(n))
			if err != nil {
				t.Fatal(err)
			}
			bt := txscript.AssembleTaprootScriptTree(btcdLeaves...)
			wantRoot := bt.RootNode.TapHash()
			if tree.RootHash() != wantRoot {
				t.Fatalf("root %s, btcd %s", tree.RootHash(), wantRoot)
			}
			out, err := NewTaprootOutput(NUMSKey, tree)
			if err != nil {
				t.Fatal(err)
			}
			nums, _ := NUMSKey.PubKey()
			for i := range leaves {
				cb, _ := out.ControlBlock(i)
				bcb := bt.LeafMerkleProofs[i].ToControlBlock(nums)
				want, err := bcb.ToBytes()
				if err != nil {
					t.Fatal(err)
				}
				if hex.EncodeToString(cb) != hex.EncodeToString(want) {
					t.Errorf("leaf %d control block\n got %x\nwant %x", i, cb, want)
				}
			}
		})
	}
}

func TestDefaultShapes(t *testing.T) {
	// The fixed shapes the outputs use (1, 2 and 3 leaves) are btcd's.
	for n, want := range map[int]string{
		1: "0", 2: "(0 1)", 3: "((0 1) 2)", 4: "((0 1) (2 3))", 5: "((0 1) ((2 3) 4))",
	} {
		if got := shapeString(DefaultShape(n)); got != want {
			t.Errorf("DefaultShape(%d) = %s, want %s", n, got, want)
		}
	}
}

func shapeString(n *TreeNode) string {
	if n.Left == nil {
		return fmt.Sprint(n.Leaf)
	}
	return "(" + shapeString(n.Left) + " " + shapeString(n.Right) + ")"
}

func TestNewTapTreeRejectsBadShapes(t *testing.T) {
	leaves := []TapLeaf{{BaseLeafVersion, []byte{0x51}}, {BaseLeafVersion, []byte{0x52}}}
	cases := map[string]*TreeNode{
		"nil shape":        nil,
		"missing leaf":     LeafNode(0),
		"repeated leaf":    BranchNode(LeafNode(0), LeafNode(0)),
		"out of range":     BranchNode(LeafNode(0), LeafNode(2)),
		"negative index":   BranchNode(LeafNode(-1), LeafNode(1)),
		"one-child branch": {Left: LeafNode(0)},
	}
	for name, shape := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := NewTapTree(leaves, shape); !errorsIs(err, ErrInvalidTree) {
				t.Fatalf("got %v, want ErrInvalidTree", err)
			}
		})
	}
	if _, err := NewTapTree(nil, LeafNode(0)); !errorsIs(err, ErrInvalidTree) {
		t.Fatalf("no leaves: got %v", err)
	}
}

// TestScriptNumMatchesScriptBuilder: every time lock encodes exactly as
// txscript.ScriptBuilder.AddInt64 (which Babylon uses).
func TestScriptNumMatchesScriptBuilder(t *testing.T) {
	check := func(n int64) {
		want, err := txscript.NewScriptBuilder().AddInt64(n).Script()
		if err != nil {
			t.Fatal(err)
		}
		if got := appendScriptNum(nil, n); hex.EncodeToString(got) != hex.EncodeToString(want) {
			t.Fatalf("%d: got %x, want %x", n, got, want)
		}
	}
	for n := int64(-300); n <= 65536; n++ {
		check(n)
	}
	for _, n := range []int64{1 << 23, 1<<31 - 1, -(1 << 31), 1 << 40} {
		check(n)
	}
	// Spot checks from docs/spec.md §1.
	for n, want := range map[int64]string{1: "51", 16: "60", 100: "0164", 1000: "02e803", 65535: "03ffff00"} {
		if got := hex.EncodeToString(appendScriptNum(nil, n)); got != want {
			t.Errorf("%d: got %s, want %s", n, got, want)
		}
	}
}

package eots_test

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/btcstake/btcstake/eots"
)

// TestCometBFTRFC6962Vectors pins LeafHash and the empty root to the
// RFC-6962 hasher vectors of CometBFT's crypto/merkle (see the JSON's
// source). A one-item tree's root is its leaf hash.
func TestCometBFTRFC6962Vectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/cometbft_rfc6962_kat.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Source struct{ Repo, Path, Commit string } `json:"source"`
		Leaf   []struct {
			Name     string `json:"name"`
			Item     string `json:"item_hex"`
			LeafHash string `json:"leaf_hash"`
		} `json:"leaf_vectors"`
		Empty string `json:"empty_tree_root"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if f.Source.Repo == "" || f.Source.Path == "" || f.Source.Commit == "" || len(f.Leaf) == 0 {
		t.Fatal("missing source or vectors")
	}
	for _, v := range f.Leaf {
		t.Run(v.Name, func(t *testing.T) {
			item, err := hex.DecodeString(v.Item)
			if err != nil {
				t.Fatal(err)
			}
			if got := eots.LeafHash(item); hex.EncodeToString(got[:]) != v.LeafHash {
				t.Fatalf("LeafHash %x, want %s", got, v.LeafHash)
			}
			if got := eots.MerkleRoot([][]byte{item}); hex.EncodeToString(got[:]) != v.LeafHash {
				t.Fatalf("one-item root %x, want %s", got, v.LeafHash)
			}
		})
	}
	t.Run("RFC6962_Empty_Tree", func(t *testing.T) {
		if got := eots.MerkleRoot(nil); hex.EncodeToString(got[:]) != f.Empty {
			t.Fatalf("empty root %x", got)
		}
		if got := eots.CommitRoot(nil); hex.EncodeToString(got[:]) != f.Empty {
			t.Fatalf("empty commit root %x", got)
		}
	})
}

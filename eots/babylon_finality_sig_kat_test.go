package eots_test

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/btcstake/btcstake/eots"
)

// TestBabylonFinalityVoteProofs checks the public-randomness inclusion
// proofs of two mainnet finality votes from Babylon's msg_compat_test.go
// (testdata/babylon_finality_sig_kat.json): each CometBFT proof (70000
// leaves, 17 aunts) leads to the committed root, and VerifyInclusion accepts
// it at index height - start height, as Babylon's VerifyFinalitySig does
// before it checks the signature. The EOTS signatures in that file are not
// asserted; the JSON comment says why.
func TestBabylonFinalityVoteProofs(t *testing.T) {
	raw, err := os.ReadFile("testdata/babylon_finality_sig_kat.json")
	if err != nil {
		t.Fatal(err)
	}
	type source struct{ Repo, Path, Commit string }
	var f struct {
		Commit struct {
			StartHeight uint64 `json:"start_height"`
			NumPubRand  uint64 `json:"num_pub_rand"`
			Commitment  string `json:"commitment"`
			Source      source `json:"source"`
		} `json:"commit"`
		Votes []struct {
			Name        string `json:"name"`
			Source      source `json:"source"`
			FpBtcPk     string `json:"fp_btc_pk"`
			BlockHeight uint64 `json:"block_height"`
			PubRand     string `json:"pub_rand"`
			Proof       struct {
				Total    uint64   `json:"total"`
				Index    uint64   `json:"index"`
				LeafHash string   `json:"leaf_hash"`
				Aunts    []string `json:"aunts"`
			} `json:"proof"`
			AppHash string `json:"block_app_hash"`
			Sig     string `json:"finality_sig"`
		} `json:"votes"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Votes) == 0 {
		t.Fatal("no vectors")
	}
	unhex := func(t *testing.T, s string, n int) []byte {
		t.Helper()
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != n {
			t.Fatalf("%q: want %d hex bytes (%v)", s, n, err)
		}
		return b
	}
	root := [eots.HashSize]byte(unhex(t, f.Commit.Commitment, 32))
	for _, v := range f.Votes {
		t.Run(v.Name, func(t *testing.T) {
			if v.Source.Repo == "" || v.Source.Path == "" || v.Source.Commit == "" {
				t.Fatal("vector without source")
			}
			item := unhex(t, v.PubRand, 32)
			p := eots.Proof{
				Total:    v.Proof.Total,
				Index:    v.Proof.Index,
				LeafHash: [eots.HashSize]byte(unhex(t, v.Proof.LeafHash, 32)),
			}
			for _, a := range v.Proof.Aunts {
				p.Aunts = append(p.Aunts, [eots.HashSize]byte(unhex(t, a, 32)))
			}
			if eots.LeafHash(item) != p.LeafHash {
				t.Fatalf("leaf hash of pub_rand %x, upstream %x", eots.LeafHash(item), p.LeafHash)
			}
			if got, err := p.ComputeRoot(); err != nil || got != root {
				t.Fatalf("proof leads to %x (%v), commitment %x", got, err, root)
			}
			index := v.BlockHeight - f.Commit.StartHeight
			if err := eots.VerifyInclusion(root, f.Commit.NumPubRand, index, item, &p); err != nil {
				t.Fatalf("VerifyInclusion: %v", err)
			}
			// The proof survives our binary encoding.
			enc, err := p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			q, err := eots.ParseProof(enc)
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Verify(root, item); err != nil {
				t.Fatalf("re-parsed proof: %v", err)
			}

		})
	}
}

package eots_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/btcstake/btcstake/eots"
	"github.com/btcstake/btcstake/script"
)

// TestBabylonEOTSVectors runs EOTS values produced by Babylon's Go
// crypto/eots (testdata/babylon_eots_kat.json, with the source of each):
// the public key and public randomness derive from sk and sr, Sign
// reproduces both signatures byte for byte, Verify accepts them, r || s is
// a BIP-340 signature over sha256(msg), and Extract recovers the key.
func TestBabylonEOTSVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/babylon_eots_kat.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []struct {
			Name   string `json:"name"`
			Source struct {
				Repo, Path, Commit string
			} `json:"source"`
			Data struct {
				SK, PK, SR, PR, Msg1, Msg2, Sig1, Sig2 string
			} `json:"data"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	unhex := func(t *testing.T, s string) []byte {
		t.Helper()
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			if v.Source.Repo == "" || v.Source.Path == "" || v.Source.Commit == "" {
				t.Fatal("vector without source")
			}
			d := v.Data
			sk, err := eots.ParseSecretKey(unhex(t, d.SK))
			if err != nil {
				t.Fatal(err)
			}
			if got := sk.XOnly(); hex.EncodeToString(got[:]) != d.PK {
				t.Fatalf("pk %x, want %s", got, d.PK)
			}
			k, err := eots.ParsePrivateRand(unhex(t, d.SR))
			if err != nil {
				t.Fatal(err)
			}
			if got := k.PublicRand(); got.String() != d.PR {
				t.Fatalf("public randomness %s, want %s", got, d.PR)
			}
			pk, err := script.ParsePublicKey(unhex(t, d.PK))
			if err != nil {
				t.Fatal(err)
			}
			r, err := eots.ParsePublicRand(unhex(t, d.PR))
			if err != nil {
				t.Fatal(err)
			}
			msgs := [2][]byte{unhex(t, d.Msg1), unhex(t, d.Msg2)}
			want := [2]string{d.Sig1, d.Sig2}
			var sigs [2]eots.Signature
			for i := range msgs {
				s, err := eots.Sign(sk, k, msgs[i])
				if err != nil {
					t.Fatal(err)
				}
				if s.String() != want[i] {
					t.Fatalf("sig%d %s, want %s", i+1, s, want[i])
				}
				r2, s2, err := eots.SignWithPublicRand(sk, k, msgs[i])
				if err != nil || r2 != r || s2 != s {
					t.Fatalf("SignWithPublicRand sig%d: %s %s %v", i+1, r2, s2, err)
				}
				sigs[i], err = eots.ParseSignature(unhex(t, want[i]))
				if err != nil {
					t.Fatal(err)
				}
				if err := eots.Verify(pk, r, msgs[i], sigs[i]); err != nil {
					t.Fatalf("Verify sig%d: %v", i+1, err)
				}
				b, err := sigs[i].BIP340(r)
				if err != nil {
					t.Fatal(err)
				}
				h := sha256.Sum256(msgs[i])
				if !b.Verify(h[:], pk) {
					t.Fatalf("r || sig%d is not a BIP-340 signature over sha256(msg)", i+1)
				}
			}
			if err := eots.Verify(pk, r, msgs[0], sigs[1]); err == nil {
				t.Fatal("sig2 verifies for msg1")
			}
			// From the x-only key: the BIP-340-normalised secret, whose
			// x-only key is pk.
			x, err := eots.Extract(pk, r, msgs[0], sigs[0], msgs[1], sigs[1])
			if err != nil {
				t.Fatal(err)
			}
			if got := x.XOnly(); !bytes.Equal(got[:], unhex(t, d.PK)) {
				t.Fatalf("extracted key has x-only %x", got)
			}
			// From the full key (real parity): exactly upstream's sk.
			x, err = eots.Extract(sk.PubKey(), r, msgs[0], sigs[0], msgs[1], sigs[1])
			if err != nil {
				t.Fatal(err)
			}
			if got := x.Bytes(); hex.EncodeToString(got[:]) != d.SK {
				t.Fatalf("extracted %x, want %s", got, d.SK)
			}
		})
	}
}

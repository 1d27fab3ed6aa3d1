package adaptor

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[1:]
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func vectorName(index, comment string) string {
	name := "vector_" + index
	if comment != "" {
		name += "_" + strings.ReplaceAll(comment, " ", "_")
	}
	return name
}

// TestSpecPresigVectors runs the schnorr_adaptor spec's presign vectors
// (testdata/spec, the files Babylon runs): EncSign with the given aux
// reproduces the 65-byte pre-signature byte for byte, and EncVerify gives
// the expected result.
func TestSpecPresigVectors(t *testing.T) {
	rows := readCSV(t, "testdata/spec/presig_vectors.csv")
	if len(rows) != 8 {
		t.Fatalf("%d vectors", len(rows))
	}
	for _, row := range rows {
		index, skHex, pkHex, auxHex, msgHex, adaptorHex, presigHex, result, comment := row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8]
		t.Run(vectorName(index, comment), func(t *testing.T) {
			want := result == "TRUE"
			msg := unhex(t, msgHex)
			T, err := btcec.ParsePubKey(unhex(t, adaptorHex))
			if err != nil {
				t.Fatal(err)
			}
			ek, err := NewEncryptionKeyFromPoint(T)
			if err != nil {
				t.Fatal(err)
			}
			presig := unhex(t, presigHex)
			if skHex != "" {
				sk, _ := btcec.PrivKeyFromBytes(unhex(t, skHex))
				if got := schnorr.SerializePubKey(sk.PubKey()); !bytes.Equal(got, unhex(t, pkHex)) {
					t.Fatalf("public key %x", got)
				}
				sig, err := EncSignAux(sk, ek, msg, [32]byte(unhex(t, auxHex)))
				if err != nil {
					t.Fatal(err)
				}
				if got := sig.Bytes(); !bytes.Equal(got[:], presig) {
					t.Fatalf("pre-signature\n got %x\nwant %x", got, presig)
				}
			}
			pk, err := schnorr.ParsePubKey(unhex(t, pkHex))
			if err != nil {
				if want {
					t.Fatal(err)
				}
				return // the public key is not on the curve
			}
			sig, err := Parse(presig)
			if err != nil {
				if want {
					t.Fatal(err)
				}
				return // R' is not on the curve
			}
			if err := EncVerify(pk, ek, msg, sig); (err == nil) != want {
				t.Fatalf("EncVerify = %v, want valid=%v", err, want)
			}
		})
	}
}

// TestSpecAdaptVectors: Decrypt ("adapt") with the secret adaptor gives the
// vector's BIP-340 signature, and Extract gives the secret back.
func TestSpecAdaptVectors(t *testing.T) {
	rows := readCSV(t, "testdata/spec/adapt_vectors.csv")
	if len(rows) == 0 {
		t.Fatal("no vectors")
	}
	for _, row := range rows {
		index, pkHex, msgHex, secHex, presigHex, sigHex, result, comment := row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7]
		t.Run(vectorName(index, comment), func(t *testing.T) {
			if result != "TRUE" {
				t.Fatalf("unexpected negative vector %s", index)
			}
			sig, err := Parse(unhex(t, presigHex))
			if err != nil {
				t.Fatal(err)
			}
			var dk DecryptionKey
			if dk.t.SetByteSlice(unhex(t, secHex)) {
				t.Fatal("secadaptor >= n")
			}
			final, err := Decrypt(sig, &dk)
			if err != nil {
				t.Fatal(err)
			}
			want := unhex(t, sigHex)
			if !bytes.Equal(final.Serialize(), want) {
				t.Fatalf("signature\n got %x\nwant %x", final.Serialize(), want)
			}
			pk, err := schnorr.ParsePubKey(unhex(t, pkHex))
			if err != nil {
				t.Fatal(err)
			}
			if !final.Verify(unhex(t, msgHex), pk) {
				t.Fatal("adapted signature does not verify")
			}
			var T secp256k1.JacobianPoint
			secp256k1.ScalarBaseMultNonConst(&dk.t, &T)
			T.ToAffine()
			ek, _ := NewEncryptionKeyFromPoint(secp256k1.NewPublicKey(&T.X, &T.Y))
			got, err := Extract(sig, final, ek)
			if err != nil || got.t != dk.t {
				t.Fatalf("extract: %v", err)
			}
		})
	}
}

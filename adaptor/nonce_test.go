package adaptor

import (
	"bytes"
	"testing"

	"github.com/btcstake/btcstake/internal/secp"
)

// TestNonceFunction pins the nonce derivation to secp256k1-zkp's
// nonce_function_schnorr_adaptor: its precomputed
// TaggedHash("SchnorrAdaptor/aux", 0^32) (the ZERO_MASK constant of
// src/modules/schnorr_adaptor/main_impl.h), and the layout
// tagged_hash("SchnorrAdaptor/nonce", masked key || T33 || pk32 || msg32).
func TestNonceFunction(t *testing.T) {
	zeroMask := []byte{
		65, 206, 231, 5, 44, 99, 30, 162,
		119, 101, 143, 108, 176, 134, 217, 23,
		54, 150, 157, 221, 198, 161, 164, 85,
		235, 82, 28, 56, 164, 220, 113, 53,
	}
	var zero [32]byte
	if got := secp.TaggedHash("SchnorrAdaptor/aux", zero[:]); !bytes.Equal(got[:], zeroMask) {
		t.Fatalf("aux mask %v", got)
	}
	rng := newRand(t)
	var d, aux, px, m [32]byte
	var t33 [33]byte
	rng.Read(d[:])
	rng.Read(aux[:])
	rng.Read(px[:])
	rng.Read(m[:])
	rng.Read(t33[:])
	mask := secp.TaggedHash("SchnorrAdaptor/aux", aux[:])
	var masked [32]byte
	for i := range masked {
		masked[i] = d[i] ^ mask[i]
	}
	want := secp.TaggedHash("SchnorrAdaptor/nonce", masked[:], t33[:], px[:], m[:])
	dc, auxc := d, aux
	if got := secp.AdaptorNonce(&d, &aux, &t33, &px, &m); got != want {
		t.Fatal("nonce layout differs")
	}
	if d != dc || aux != auxc {
		t.Fatal("inputs mutated")
	}
}

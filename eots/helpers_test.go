package eots

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
)

// newRand returns a deterministic generator seeded from the clock; the seed
// is logged so that a failure can be replayed.
func newRand(t testing.TB) *rand.ChaCha8 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("BTCSTAKE_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("BTCSTAKE_SEED: %v", err)
		}
	}
	t.Logf("seed %d (BTCSTAKE_SEED=%d replays it)", seed, seed)
	return seeded(seed)
}

func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

func randBytes(r *rand.ChaCha8, n int) []byte {
	b := make([]byte, n)
	r.Read(b)
	return b
}

func mustKey(t testing.TB, r *rand.ChaCha8) *SecretKey {
	t.Helper()
	sk, err := GenerateSecretKey(r)
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

func mustRand(t testing.TB, r *rand.ChaCha8) *PrivateRand {
	t.Helper()
	k, err := GeneratePrivateRand(r)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parsePublicKey is the tests' key parser (the project's one parser,
// script.ParsePublicKey, sits above eots in the package graph): 32 bytes
// x-only, or 33 compressed.
func parsePublicKey(b []byte) (*btcec.PublicKey, error) {
	if len(b) == 32 {
		return schnorr.ParsePubKey(b)
	}
	return btcec.ParsePubKey(b)
}

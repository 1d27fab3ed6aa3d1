package script

import (
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
)

// newRand returns a seeded source and logs the seed so a failure can be
// replayed.
func newRand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := time.Now().UnixNano()
	if v := os.Getenv("BTCSTAKE_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseInt(v, 10, 64); err != nil {
			t.Fatalf("BTCSTAKE_SEED: %v", err)
		}
	}
	t.Logf("seed %d (BTCSTAKE_SEED=%d replays it)", seed, seed)
	return rand.New(rand.NewSource(seed))
}

// randKey draws a private key from r.
func randKey(t testing.TB, r *rand.Rand) *btcec.PrivateKey {
	t.Helper()
	var b [32]byte
	for {
		r.Read(b[:])
		k, _ := btcec.PrivKeyFromBytes(b[:])
		if k.Key.IsZero() {
			continue
		}
		return k
	}
}

func randKeys(t testing.TB, r *rand.Rand, n int) []*btcec.PrivateKey {
	ks := make([]*btcec.PrivateKey, n)
	for i := range ks {
		ks[i] = randKey(t, r)
	}
	return ks
}

func pubs(ks []*btcec.PrivateKey) []*btcec.PublicKey {
	out := make([]*btcec.PublicKey, len(ks))
	for i, k := range ks {
		out[i] = k.PubKey()
	}
	return out
}

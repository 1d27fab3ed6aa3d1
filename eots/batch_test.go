package eots

import (
	"errors"
	"fmt"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
)

// TestVerifyBatch: votes and commitment signatures mixed, valid and broken
// in every way; VerifyBatch reports exactly the broken items, each with
// the error Verify or VerifyCommitWithContext gives it alone.
func TestVerifyBatch(t *testing.T) {
	rng := newRand(t)
	for rep := 0; rep < 30; rep++ {
		n := 1 + int(rng.Uint64()%40)
		if rep == 0 {
			n = 120 // large enough for the bucket method
		}
		items := make([]BatchItem, n)
		alone := make([]error, n)
		for i := range items {
			sk := mustKey(t, rng)
			broken := rng.Uint64()%4 == 0
			if rng.Uint64()%3 == 0 {
				root := [HashSize]byte{byte(i)}
				sig, err := SignCommitWithContext(sk, "ctx", uint64(i), 100, root)
				if err != nil {
					t.Fatal(err)
				}
				raw := sig[:]
				pk := sk.PubKey()
				if broken {
					switch rng.Uint64() % 4 {
					case 0:
						raw = raw[:63]
					case 1:
						pk = nil
					default:
						raw[rng.Uint64()%64] ^= 1
					}
				}
				items[i] = CommitItem(pk, "ctx", uint64(i), 100, root, raw)
				alone[i] = VerifyCommitWithContext(pk, "ctx", uint64(i), 100, root, raw)
				continue
			}
			k := mustRand(t, rng)
			msg := randBytes(rng, 40)
			r, s, err := SignWithPublicRand(sk, k, msg)
			if err != nil {
				t.Fatal(err)
			}
			var pk *btcec.PublicKey = sk.PubKey()
			if broken {
				switch rng.Uint64() % 4 {
				case 0:
					pk = nil
				case 1:
					s = Signature{}
				case 2:
					r[rng.Uint64()%32] ^= 2
				default:
					msg = append(msg, 1)
				}
			}
			items[i] = VoteItem(pk, r, msg, s)
			alone[i] = Verify(pk, r, msg, s)
		}
		err := VerifyBatch(items)
		var want []BatchFailure
		for i, e := range alone {
			if e != nil {
				want = append(want, BatchFailure{i, e})
			}
		}
		if len(want) == 0 {
			if err != nil {
				t.Fatalf("rep %d: valid batch fails: %v", rep, err)
			}
			continue
		}
		var be *BatchError
		if !errors.As(err, &be) {
			t.Fatalf("rep %d: got %v, want failures %v", rep, err, want)
		}
		if fmt.Sprint(be.Failures) != fmt.Sprint(want) {
			t.Fatalf("rep %d: failures %v, want %v", rep, be.Failures, want)
		}
		for _, f := range want {
			for _, kind := range []error{ErrInvalidSignature, ErrInvalidKey} {
				if errors.Is(f.Err, kind) && !errors.Is(err, kind) {
					t.Fatalf("rep %d: batch error does not unwrap to %v", rep, kind)
				}
			}
		}
	}
}

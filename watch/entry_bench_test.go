package watch

import (
	"testing"

	"github.com/btcsuite/btcd/btcec/v2/schnorr"

	"github.com/btcstake/btcstake/script"
)

// The yardstick: one BIP-340 verification, measured in the same run.
func BenchmarkSchnorrVerify(b *testing.B) {
	w := newWorld(b, 50, 1, 3, 2)
	h := make([]byte, 32)
	sig, err := schnorr.Sign(w.staker, h)
	if err != nil {
		b.Fatal(err)
	}
	pk := w.staker.PubKey()
	b.ReportAllocs()
	for b.Loop() {
		if !sig.Verify(h, pk) {
			b.Fatal("no")
		}
	}
}

// BenchmarkEntryUnmarshalJSON: decoding (and re-validating) one stored
// entry with both slashing PSBTs, as the store does for each watched
// delegation when the watcher starts.
func BenchmarkEntryUnmarshalJSON(b *testing.B) {
	w := newWorld(b, 51, 1, 9, 6)
	e := w.delegate(b, []int{0}, 500_000, 1000, false, []int{0, 1, 2, 3, 4, 5}).entry(b)
	j := marshal(b, e)
	b.ReportAllocs()
	b.SetBytes(int64(len(j)))
	for b.Loop() {
		var back Entry
		if err := back.UnmarshalJSON(j); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompleteSlashing: auto-slash of one delegation under a 6-of-9
// covenant (checks, decryption, finalising and the script engine).
func BenchmarkCompleteSlashing(b *testing.B) {
	w := newWorld(b, 52, 1, 9, 6)
	e := w.delegate(b, []int{0}, 500_000, 1000, false, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}).entry(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.CompleteSlashing(script.StakingOutputKind, w.fps[0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecoverKey: recovering a provider's key from a slashing seen
// on chain.
func BenchmarkRecoverKey(b *testing.B) {
	w := newWorld(b, 53, 1, 9, 6)
	e := w.delegate(b, []int{0}, 500_000, 1000, false, []int{0, 1, 2, 3, 4, 5}).entry(b)
	tx, err := e.CompleteSlashing(script.StakingOutputKind, w.fps[0])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := RecoverKey(e, tx, 0); err != nil {
			b.Fatal(err)
		}
	}
}

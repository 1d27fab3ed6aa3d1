package signer

import (
	"fmt"
	"testing"

	"github.com/btcstake/btcstake/eots"
)

// BenchmarkProtectedSign: one vote per call, each with its own durable
// (fsynced) bbolt commit. ns/op is the inverse of signatures per second.
func BenchmarkProtectedSign(b *testing.B) {
	rng := newRand(b)
	st, _ := openTemp(b)
	s, _ := New(st, newKey(b, rng))
	b.ReportAllocs()
	h := uint64(0)
	for b.Loop() {
		if _, err := s.Sign([]byte("bench"), h, eots.VoteMessage(h, [32]byte{1})); err != nil {
			b.Fatal(err)
		}
		h++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sigs/s")
}

// BenchmarkProtectedSignBatch100: 100 heights per durable commit; the
// reported ns/op is per batch, sigs/s per signature.
func BenchmarkProtectedSignBatch100(b *testing.B) {
	rng := newRand(b)
	st, _ := openTemp(b)
	s, _ := New(st, newKey(b, rng))
	b.ReportAllocs()
	h := uint64(0)
	reqs := make([]Request, 100)
	for b.Loop() {
		for i := range reqs {
			reqs[i] = Request{Height: h, Msg: eots.VoteMessage(h, [32]byte{1})}
			h++
		}
		if _, err := s.SignBatch([]byte("bench"), reqs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "sigs/s")
}

// BenchmarkRepeatSign: the same message again (a lookup, no commit).
func BenchmarkRepeatSign(b *testing.B) {
	rng := newRand(b)
	st, _ := openTemp(b)
	s, _ := New(st, newKey(b, rng))
	msg := []byte(fmt.Sprintf("vote"))
	if _, err := s.Sign([]byte("bench"), 1, msg); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign([]byte("bench"), 1, msg); err != nil {
			b.Fatal(err)
		}
	}
}

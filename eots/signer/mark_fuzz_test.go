package signer

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

// FuzzParseMarks: mark files are read at every open; arbitrary bytes must
// never panic, and whatever parses is the canonical encoding of what it
// parsed to (so no two files mean the same mark). With fixSum the input is
// taken as a file body and given a valid checksum, so that the fuzzer
// reaches the parser behind it.
func FuzzParseMarks(f *testing.F) {
	pk := [32]byte{7}
	a := string(prefixKey([]byte("bbn-test-5"), &pk))
	b := string(prefixKey([]byte("c"), &pk))
	for _, m := range []*markState{
		{seq: 1, entries: map[string]summary{}},
		{seq: 8, entries: map[string]summary{
			a: {count: 3, max: 99, digest: [32]byte{1, 2}},
			b: {floor: 12, hasFloor: true},
		}, pending: &pendingEntry{prefix: a, sum: summary{count: 4, max: 100, digest: [32]byte{3}}}},
	} {
		enc := encodeMarks(m)
		f.Add(enc, false)
		f.Add(enc[:len(enc)-32], true)
	}
	f.Fuzz(func(t *testing.T, data []byte, fixSum bool) {
		if fixSum {
			sum := sha256.Sum256(data)
			data = append(bytes.Clone(data), sum[:]...)
		}
		m, err := parseMarks(data)
		if err != nil {
			return
		}
		if again := encodeMarks(m); !bytes.Equal(again, data) {
			t.Fatalf("not canonical:\n%x\n%x", data, again)
		}
	})
}

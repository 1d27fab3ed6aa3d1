package eots

import (
	"bytes"
	"testing"
)

func FuzzParseSecretKey(f *testing.F) {
	f.Add(bytes.Repeat([]byte{1}, 32))
	f.Add(bytes.Repeat([]byte{0xff}, 32))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		sk, err := ParseSecretKey(b)
		if err != nil {
			return
		}
		if got := sk.Bytes(); !bytes.Equal(got[:], b) {
			t.Fatalf("round trip %x != %x", got, b)
		}
	})
}

func FuzzParsePrivateRand(f *testing.F) {
	f.Add(bytes.Repeat([]byte{2}, 32))
	f.Add(make([]byte, 32))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePrivateRand(b)
		if err != nil {
			return
		}
		if got := k.Bytes(); !bytes.Equal(got[:], b) {
			t.Fatal("round trip")
		}
	})
}

func FuzzParsePublicRand(f *testing.F) {
	f.Add(mustHexF("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"))
	f.Add(bytes.Repeat([]byte{0xff}, 32))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParsePublicRand(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r[:], b) {
			t.Fatal("round trip")
		}
	})
}

func FuzzParseSignature(f *testing.F) {
	f.Add(bytes.Repeat([]byte{3}, 32))
	f.Add(bytes.Repeat([]byte{0xff}, 32))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSignature(b)
		if err != nil {
			return
		}
		if !bytes.Equal(s[:], b) {
			t.Fatal("round trip")
		}
	})
}

func FuzzParseProof(f *testing.F) {
	rs := make([]PublicRand, 5)
	for i := range rs {
		rs[i][0] = byte(i)
	}
	_, proofs := CommitProofs(rs)
	for i := range proofs {
		enc, _ := proofs[i].MarshalBinary()
		f.Add(enc)
	}
	f.Add(make([]byte, 48))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProof(b)
		if err != nil {
			return
		}
		enc, _ := p.MarshalBinary()
		if !bytes.Equal(enc, b) {
			t.Fatal("round trip")
		}
		if _, err := p.ComputeRoot(); err != nil {
			t.Fatalf("parsed proof has no root: %v", err)
		}
	})
}

// FuzzVerify feeds arbitrary bytes to the verifier: it must never panic and
// must reject whatever it did not sign.
func FuzzVerify(f *testing.F) {
	f.Add(make([]byte, 32), make([]byte, 32), []byte("msg"), make([]byte, 32))
	f.Fuzz(func(t *testing.T, pkb, rb, msg, sb []byte) {
		pk, err := parsePublicKey(pkb)
		if err != nil || len(rb) != 32 || len(sb) != 32 {
			return
		}
		_ = Verify(pk, PublicRand(rb), msg, Signature(sb))
		_, _ = Extract(pk, PublicRand(rb), msg, Signature(sb), append(msg, 0), Signature(sb))
	})
}

func mustHexF(s string) []byte {
	b := make([]byte, len(s)/2)
	for i := range b {
		b[i] = unhex(s[2*i])<<4 | unhex(s[2*i+1])
	}
	return b
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

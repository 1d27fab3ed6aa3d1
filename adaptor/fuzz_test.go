package adaptor

import (
	"bytes"
	"testing"
)

func FuzzParse(f *testing.F) {
	rng := seeded(1)
	cov, fp := randKey(f, rng), randKey(f, rng)
	ek, _ := NewEncryptionKey(fp.PubKey())
	for i := 0; i < 4; i++ {
		sig, _ := EncSignAux(cov, ek, bytes.Repeat([]byte{byte(i)}, 32), [32]byte{byte(i)})
		b := sig.Bytes()
		f.Add(b[:])
		legacy := append(append([]byte{0x02}, b[1:]...), b[0]-0x02)
		f.Add(legacy)
	}
	f.Add(make([]byte, 65))
	f.Fuzz(func(t *testing.T, b []byte) {
		sig, err := Parse(b)
		if err != nil {
			return
		}
		enc := sig.Bytes()
		switch len(b) {
		case Size:
			if !bytes.Equal(enc[:], b) {
				t.Fatalf("round trip %x != %x", enc, b)
			}
		case LegacySize:
			if !bytes.Equal(enc[1:], b[1:65]) || enc[0] != 0x02+b[65] {
				t.Fatalf("legacy conversion %x of %x", enc, b)
			}
		default:
			t.Fatalf("accepted %d bytes", len(b))
		}
		// Parsed signatures must be safe to use.
		var m [32]byte
		_ = EncVerify(cov.PubKey(), ek, m[:], sig)
	})
}

func FuzzParseEncryptionKey(f *testing.F) {
	rng := seeded(2)
	pk := randKey(f, rng).PubKey()
	f.Add(pk.SerializeCompressed())
	f.Add(pk.SerializeCompressed()[1:])
	f.Fuzz(func(t *testing.T, b []byte) {
		ek, err := ParseEncryptionKey(b)
		if err != nil {
			return
		}
		x := ek.Bytes()
		if !bytes.Equal(x[:], b[len(b)-32:]) {
			t.Fatal("round trip")
		}
	})
}

func FuzzParseDecryptionKey(f *testing.F) {
	f.Add(bytes.Repeat([]byte{7}, 32))
	f.Add(bytes.Repeat([]byte{0xff}, 32))
	f.Fuzz(func(t *testing.T, b []byte) {
		dk, err := ParseDecryptionKey(b)
		if err != nil {
			return
		}
		// t is b or n - b, and t·G has even y.
		ek := dk.EncryptionKey()
		if ek.t.Y.IsOdd() {
			t.Fatal("decryption key not normalised")
		}
	})
}

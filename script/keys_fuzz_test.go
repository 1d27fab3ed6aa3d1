package script

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// FuzzParsePublicKey: whatever the one parser accepts re-encodes to the
// same bytes (x-only for 32, compressed for 33); whatever it refuses is
// ErrInvalidKey.
func FuzzParsePublicKey(f *testing.F) {
	for _, s := range []string{
		"79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
		"0379be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
		"0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
		"eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34",
	} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pk, err := ParsePublicKey(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		var got []byte
		if len(b) == 32 {
			x := XOnly(pk)
			got = x[:]
		} else {
			got = pk.SerializeCompressed()
		}
		if !bytes.Equal(got, b) {
			t.Fatalf("round trip %x != %x", got, b)
		}
	})
}

func TestParsePublicKeyRefuses(t *testing.T) {
	g := "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
	for name, s := range map[string]string{
		"31 bytes":        g[2:],
		"uncompressed 04": "04" + g,
		"off curve":       "eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34",
		"empty":           "",
	} {
		b, _ := hex.DecodeString(s)
		if _, err := ParsePublicKey(b); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

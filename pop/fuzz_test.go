package pop_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/btcstake/btcstake/pop"
)

// FuzzParse: Parse never panics, refuses with ErrMalformed only, and what
// it accepts re-encodes to bytes that parse to the same proof.
func FuzzParse(f *testing.F) {
	sk, _ := btcec.PrivKeyFromBytes(bytes.Repeat([]byte{7}, 32))
	const addr = "bbn1xjz8fs9vkmefdqaxan5kv2d09vmwzru7jhy424"
	for _, c := range []struct {
		kind pop.Kind
		opts []pop.Option
	}{
		{pop.BIP340, nil}, {pop.ECDSA, nil},
		{pop.BIP322, []pop.Option{pop.WithBIP322(mainnet, pop.P2TR)}},
		{pop.BIP322, []pop.Option{pop.WithBIP322(mainnet, pop.P2WPKH)}},
	} {
		p, err := pop.Create(c.kind, sk, addr, c.opts...)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p.Marshal())
	}
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x01, 0x12, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := pop.Parse(b)
		if err != nil {
			if !errors.Is(err, pop.ErrMalformed) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		m := p.Marshal()
		q, err := pop.Parse(m)
		if err != nil {
			t.Fatalf("re-encoding does not parse: %v", err)
		}
		if q.Kind() != p.Kind() || !bytes.Equal(q.BTCSig(), p.BTCSig()) || !bytes.Equal(q.Marshal(), m) ||
			q.BIP322Address() != p.BIP322Address() {
			t.Fatal("round trip changed the proof")
		}
		_ = p.Verify(sk.PubKey(), addr, mainnet) // must not panic
		_ = p.JSON()
	})
}

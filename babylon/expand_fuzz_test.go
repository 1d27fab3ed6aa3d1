package babylon_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcstake/btcstake/babylon"
)

// FuzzUnmarshalMsgBtcStakeExpand: any bytes are refused with
// ErrInvalidMessage or decode to a message whose encoding decodes to the
// same encoding; nothing panics.
func FuzzUnmarshalMsgBtcStakeExpand(f *testing.F) {
	fx := newExpandFixture(f)
	enc := fx.signed(f).Marshal()
	for _, s := range append(fuzzSeeds(f), enc, enc[:40], []byte{0x82, 0x01, 0x00}) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := babylon.UnmarshalMsgBtcStakeExpand(b)
		if err != nil {
			if !errors.Is(err, babylon.ErrInvalidMessage) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		enc := m.Marshal()
		m2, err := babylon.UnmarshalMsgBtcStakeExpand(enc)
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		if !bytes.Equal(m2.Marshal(), enc) {
			t.Fatal("encoding not stable")
		}
		if args := m.BabylondArgs(); len(args) != 16 {
			t.Fatalf("%d babylond args", len(args))
		}
		if _, err := m.MarshalJSON(); err != nil {
			t.Fatal(err)
		}
	})
}

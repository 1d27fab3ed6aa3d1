package watch

import (
	"bytes"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
)

// FuzzDecodeUndo: any bytes decode to a record or fail with ErrStore,
// never panic; a record that decodes encodes back to the same bytes.
func FuzzDecodeUndo(f *testing.F) {
	f.Add(encodeUndo(&undoRecord{}))
	f.Add(encodeUndo(&undoRecord{
		changes: []change{{bucket: jStates, key: []byte("id:0"), old: []byte(`{"state":"staked"}`), present: true},
			{bucket: jOutpoints, key: make([]byte, 36)}, {bucket: jFPIndex, key: []byte{1}, old: nil, present: true}},
		seqs: []uint64{1, 2, 300},
	}))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := decodeUndo(b)
		if err != nil {
			return
		}
		if got := encodeUndo(u); !bytes.Equal(got, b) {
			t.Fatalf("re-encoded %x, was %x", got, b)
		}
	})
}

// FuzzDecodeState: any bytes decode to a valid state or fail.
func FuzzDecodeState(f *testing.F) {
	f.Add(encodeState(stakeState{State: StateStaked, Live: "0000000000000000000000000000000000000000000000000000000000000001:0", LiveKind: "staking", UnlockAt: 30}))
	f.Add([]byte(`{"state":"nope"}`))
	f.Add([]byte(`{"state":"staked","live":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeState(b)
		if err != nil {
			return
		}
		again, err := decodeState(encodeState(s))
		if err != nil || again != s {
			t.Fatalf("state %+v does not survive a round trip: %+v %v", s, again, err)
		}
	})
}

// FuzzDecodeCursor: 40 bytes or ErrStore; a decoded cursor encodes back.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(-1, chainhash.Hash{}))
	f.Add(encodeCursor(850_000, chainhash.Hash{1, 2, 3}))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, hash, err := decodeCursor(b)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeCursor(h, hash), b) {
			t.Fatalf("cursor %d %s from %x", h, hash, b)
		}
	})
}

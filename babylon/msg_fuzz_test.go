package babylon_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/babylon"
)

// fuzzSeeds are a registration with and without an inclusion proof.
func fuzzSeeds(f *testing.F) [][]byte {
	fx := newFixture(f)
	draft, err := babylon.PrepareRegistration(fx.request())
	if err != nil {
		f.Fatal(err)
	}
	reg, err := draft.Sign(fx.staker)
	if err != nil {
		f.Fatal(err)
	}
	m := reg.Msg()
	plain := m.Marshal()
	m.StakingTxInclusionProof = &babylon.InclusionProof{Key: babylon.TransactionKey{Index: 3}, Proof: bytes.Repeat([]byte{1}, 64)}
	return [][]byte{plain, m.Marshal(), m.StakingTxInclusionProof.Marshal(), {}, {0x08}}
}

// FuzzUnmarshalMsgCreateBTCDelegation: any bytes are refused with
// ErrInvalidMessage or decode to a message whose encoding decodes to the
// same encoding; nothing panics.
func FuzzUnmarshalMsgCreateBTCDelegation(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := babylon.UnmarshalMsgCreateBTCDelegation(b)
		if err != nil {
			if !errors.Is(err, babylon.ErrInvalidMessage) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		enc := m.Marshal()
		m2, err := babylon.UnmarshalMsgCreateBTCDelegation(enc)
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		if !bytes.Equal(m2.Marshal(), enc) {
			t.Fatal("encoding not stable")
		}
		_ = m.BabylondArgs()
	})
}

// FuzzUnmarshalInclusionProof: any bytes are refused or decode to a proof
// whose encoding round-trips; Verify never panics.
func FuzzUnmarshalInclusionProof(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := babylon.UnmarshalInclusionProof(b)
		if err != nil {
			if !errors.Is(err, babylon.ErrInvalidMessage) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		q, err := babylon.UnmarshalInclusionProof(p.Marshal())
		if err != nil || q.Key != p.Key || !bytes.Equal(q.Proof, p.Proof) {
			t.Fatalf("round trip: %v", err)
		}
		_ = p.Verify(p.Key.Block, &wire.BlockHeader{})
	})
}

// FuzzUnmarshalUndelegate covers the other two messages' decoders.
func FuzzUnmarshalUndelegate(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	u := &babylon.MsgBTCUndelegate{Signer: "bbn1x", StakingTxHash: "ab", StakeSpendingTx: []byte{1, 2},
		FundingTransactions: [][]byte{{3}, {}}}
	f.Add(u.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := babylon.UnmarshalMsgBTCUndelegate(b); err == nil {
			m2, err := babylon.UnmarshalMsgBTCUndelegate(m.Marshal())
			if err != nil || !bytes.Equal(m2.Marshal(), m.Marshal()) {
				t.Fatalf("undelegate round trip: %v", err)
			}
		} else if !errors.Is(err, babylon.ErrInvalidMessage) {
			t.Fatalf("error of another kind: %v", err)
		}
		if m, err := babylon.UnmarshalMsgAddBTCDelegationInclusionProof(b); err == nil {
			m2, err := babylon.UnmarshalMsgAddBTCDelegationInclusionProof(m.Marshal())
			if err != nil || !bytes.Equal(m2.Marshal(), m.Marshal()) {
				t.Fatalf("add-proof round trip: %v", err)
			}
		} else if !errors.Is(err, babylon.ErrInvalidMessage) {
			t.Fatalf("error of another kind: %v", err)
		}
	})
}

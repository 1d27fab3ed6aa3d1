package babylon_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/btcstake/btcstake/babylon"
)

func signedMsg(t testing.TB) *babylon.MsgCreateBTCDelegation {
	fx := newFixture(t)
	draft, err := babylon.PrepareRegistration(fx.request())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := draft.Sign(fx.staker)
	if err != nil {
		t.Fatal(err)
	}
	return reg.Msg()
}

// TestMsgCreateJSONRoundTrip: MarshalJSON's rendering, with and without an
// inclusion proof, indented or not, reads back to the same encoding.
func TestMsgCreateJSONRoundTrip(t *testing.T) {
	m := signedMsg(t)
	withProof := *m
	withProof.StakingTxInclusionProof = &babylon.InclusionProof{Key: babylon.TransactionKey{Index: 3}, Proof: bytes.Repeat([]byte{1}, 64)}
	for _, msg := range []*babylon.MsgCreateBTCDelegation{m, &withProof} {
		j, err := msg.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var indented bytes.Buffer
		if err := json.Indent(&indented, j, "", "  "); err != nil {
			t.Fatal(err)
		}
		for _, b := range [][]byte{j, indented.Bytes()} {
			got, err := babylon.UnmarshalMsgCreateBTCDelegationJSON(b)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Marshal(), msg.Marshal()) {
				t.Fatal("a different message")
			}
		}
	}
}

// TestMsgCreateJSONRefusals: a rendering that is not MarshalJSON's is
// refused with ErrInvalidMessage and says why.
func TestMsgCreateJSONRefusals(t *testing.T) {
	m := signedMsg(t)
	good, err := m.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	with := func(key string, v any) []byte {
		var o map[string]any
		if err := json.Unmarshal(good, &o); err != nil {
			t.Fatal(err)
		}
		if v == nil {
			delete(o, key)
		} else {
			o[key] = v
		}
		b, _ := json.Marshal(o)
		return b
	}
	for _, c := range []struct {
		name string
		b    []byte
		text string
	}{
		{"a field changed", with("staking_value", 1), "do not agree"},
		{"hex in capitals", with("staker_addr", strings.ToUpper(m.StakerAddr)), "do not agree"},
		{"no encoded", with("encoded", nil), "without encoded"},
		{"encoded not hex", with("encoded", "zz"), "not hex"},
		{"encoded not a message", with("encoded", "08"), "encoded"},
		{"unknown key", with("colour", 1), "colour"},
		{"key twice", append([]byte(`{"encoded":"00",`), good[1:]...), "twice"},
		{"data after", append(append([]byte{}, good...), "{}"...), "after"},
		{"not JSON", []byte("hello"), "JSON"},
	} {
		if got, err := babylon.UnmarshalMsgCreateBTCDelegationJSON(c.b); got != nil || !errors.Is(err, babylon.ErrInvalidMessage) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: msg %v, err %v", c.name, got != nil, err)
		}
	}
}

// FuzzUnmarshalMsgCreateBTCDelegationJSON: any bytes are refused with
// ErrInvalidMessage, or are a message whose own rendering reads back to
// the same encoding.
func FuzzUnmarshalMsgCreateBTCDelegationJSON(f *testing.F) {
	m := signedMsg(f)
	good, err := m.MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"encoded":""}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := babylon.UnmarshalMsgCreateBTCDelegationJSON(b)
		if err != nil {
			if !errors.Is(err, babylon.ErrInvalidMessage) {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		again, err := got.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		back, err := babylon.UnmarshalMsgCreateBTCDelegationJSON(again)
		if err != nil || !bytes.Equal(back.Marshal(), got.Marshal()) {
			t.Fatalf("own rendering does not read back: %v", err)
		}
	})
}

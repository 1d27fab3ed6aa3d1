package watch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	btcpsbt "github.com/btcsuite/btcd/psbt/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

func TestNewEntryRefusals(t *testing.T) {
	w := newWorld(t, 10, 2, 3, 2)
	f := w.delegate(t, []int{0}, 200_000, 1000, false, []int{0, 1})
	g := w.delegate(t, []int{1}, 200_000, 1000, false, []int{0, 1}) // another delegation
	if _, err := NewEntry(f.config()); err != nil {
		t.Fatal(err)
	}
	mutPacket := func(p *btcpsbt.Packet, fn func(*btcpsbt.Packet)) *btcpsbt.Packet {
		cp, err := clone(p)
		if err != nil {
			t.Fatal(err)
		}
		fn(cp)
		return cp
	}
	for _, c := range []struct {
		name string
		mut  func(*EntryConfig)
		kind error // the underlying kind too, when there is one
		text string
	}{
		{"no params", func(c *EntryConfig) { c.Params = nil }, nil, "no params"},
		{"zero params", func(c *EntryConfig) { c.Params = &params.Params{} }, nil, "no params"},
		{"no staker", func(c *EntryConfig) { c.Staker = nil }, nil, "no staker key"},
		{"no fp", func(c *EntryConfig) { c.FPs = nil }, nil, "no finality provider key"},
		{"nil fp", func(c *EntryConfig) { c.FPs = append(c.FPs, nil) }, nil, "finality provider key 1 is nil"},
		{"no staking tx", func(c *EntryConfig) { c.StakingTx = nil }, nil, "no staking transaction"},
		{"unknown source", func(c *EntryConfig) { c.Source = "carrier pigeon" }, nil, "unknown source"},
		{"staking tx of another delegation", func(c *EntryConfig) { c.StakingTx = g.stakingTx }, psbt.ErrInvalidTx, "staking transaction"},
		{"other staking time", func(c *EntryConfig) { c.StakingTime = 999 }, psbt.ErrInvalidTx, "staking transaction"},
		{"unbonding tx of another delegation", func(c *EntryConfig) { c.UnbondingTx = g.unbondingTx }, psbt.ErrTxInputs, "unbonding transaction"},
		{"unbonding tx with another fee", func(c *EntryConfig) {
			c.UnbondingTx = f.unbondingTx.Copy()
			c.UnbondingTx.TxOut[0].Value -= 1
		}, psbt.ErrTxFee, "unbonding transaction"},
		{"slashing PSBT of another delegation", func(c *EntryConfig) { c.Slashing = g.slashing }, psbt.ErrInvalidTx, "slashing PSBT of the staking output"},
		{"unbonding slashing PSBT of another delegation", func(c *EntryConfig) { c.UnbondingSlashing = g.unbondingSlashing }, psbt.ErrInvalidTx, "slashing PSBT of the unbonding output"},
		{"staking slashing PSBT as the unbonding one", func(c *EntryConfig) { c.UnbondingSlashing = f.slashing }, psbt.ErrTxInputs, "unbonding output"},
		{"unbonding slashing PSBT as the staking one", func(c *EntryConfig) { c.Slashing = f.unbondingSlashing }, psbt.ErrTxInputs, "staking output"},
		{"unbonding slashing without unbonding tx", func(c *EntryConfig) { c.UnbondingTx = nil }, nil, "needs the unbonding transaction"},
		{"slashing tx paying too little", func(c *EntryConfig) {
			c.Slashing = mutPacket(f.slashing, func(p *btcpsbt.Packet) {
				p.UnsignedTx.TxOut[0].Value -= 1_000
				p.UnsignedTx.TxOut[1].Value += 1_000
			})
		}, psbt.ErrTxValue, "slashing PSBT"},
		{"witness_utxo not the staking output", func(c *EntryConfig) {
			c.Slashing = mutPacket(f.slashing, func(p *btcpsbt.Packet) { p.Inputs[0].WitnessUtxo.Value++ })
		}, psbt.ErrInvalidPSBT, "witness_utxo"},
		{"leaf of another output", func(c *EntryConfig) {
			c.Slashing = mutPacket(f.slashing, func(p *btcpsbt.Packet) {
				p.Inputs[0].TaprootLeafScript = g.slashing.Inputs[0].TaprootLeafScript
			})
		}, nil, "slashing PSBT"},
		{"a staker signature that does not verify", func(c *EntryConfig) {
			c.Slashing = mutPacket(f.slashing, func(p *btcpsbt.Packet) { p.Inputs[0].TaprootScriptSpendSig[0].Signature[3] ^= 1 })
		}, psbt.ErrBadSignature, "slashing PSBT"},
		{"a malformed adaptor signature field", func(c *EntryConfig) {
			c.Slashing = mutPacket(f.slashing, func(p *btcpsbt.Packet) {
				u := p.Inputs[0].Unknowns[0]
				u.Value = u.Value[:10]
			})
		}, psbt.ErrInvalidPSBT, "slashing PSBT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := f.config()
			c.mut(&cfg)
			e, err := NewEntry(cfg)
			if e != nil || !errors.Is(err, ErrInvalidEntry) {
				t.Fatalf("entry %v, err %v", e, err)
			}
			if c.kind != nil && !errors.Is(err, c.kind) {
				t.Fatalf("err %v is not %v", err, c.kind)
			}
			if !strings.Contains(err.Error(), c.text) {
				t.Fatalf("err %q does not say %q", err, c.text)
			}
		})
	}
}

func TestEntryAccessorsAndCopies(t *testing.T) {
	w := newWorld(t, 11, 2, 3, 2)
	f := w.delegate(t, []int{0, 1}, 250_000, 1000, false, []int{0, 1})
	cfg := f.config()
	e, err := NewEntry(cfg)
	if err != nil {
		t.Fatal(err)
	}
	before := marshal(t, e)
	if e.ID() != fmt.Sprintf("%s:%d", f.stakingTx.TxHash(), f.index) || e.StakingOutPoint().Index != f.index || e.Value() != 250_000 ||
		e.ConfirmationDepth() != DefaultConfirmationDepth || e.Source() != SourceStakingTx {
		t.Fatalf("id %s value %d depth %d", e.ID(), e.Value(), e.ConfirmationDepth())
	}
	// The caller's values are copied in: changing them afterwards changes
	// nothing.
	cfg.StakingTx.TxOut[0].Value = 1
	cfg.UnbondingTx.Version = 9
	cfg.Slashing.UnsignedTx.LockTime = 5
	cfg.UnbondingSlashing.Inputs[0].TaprootScriptSpendSig = nil
	cfg.FPs[0] = w.staker.PubKey()
	// Accessors return copies.
	e.StakingTx().TxOut[0].Value = 1
	e.UnbondingTx().TxIn[0].Sequence = 7
	e.SlashingPSBT(script.StakingOutputKind).UnsignedTx.TxOut[0].Value = 1
	e.SlashingPSBT(script.UnbondingOutputKind).Inputs[0].Unknowns = nil
	d := e.Delegation()
	d.FinalityProviders[0] = w.staker.PubKey()
	if !bytes.Equal(before, marshal(t, e)) {
		t.Fatal("the entry changed")
	}
	if !e.Delegation().FinalityProviders[0].IsEqual(w.fps[0].PubKey()) {
		t.Fatal("the delegation changed")
	}
	// Without the optional parts.
	f2 := w.delegate(t, []int{0}, 250_000, 1000, false, nil)
	c := f2.config()
	c.UnbondingTx, c.Slashing, c.UnbondingSlashing = nil, nil, nil
	bare, err := NewEntry(c)
	if err != nil {
		t.Fatal(err)
	}
	if bare.UnbondingTx() != nil || bare.SlashingPSBT(script.StakingOutputKind) != nil || bare.SlashingPSBT(script.UnbondingOutputKind) != nil {
		t.Fatal("optional parts present")
	}
}

func TestEntryJSONRoundTrip(t *testing.T) {
	w := newWorld(t, 12, 2, 3, 2)
	full := w.delegate(t, []int{0, 1}, 250_000, 1000, false, []int{0, 1, 2})
	p1 := w.delegate(t, []int{0}, 250_000, 1000, true, []int{1})
	c := p1.config()
	c.Source, c.UnbondingTx, c.UnbondingSlashing, c.ConfirmationDepth = SourcePhaseOne, nil, nil, 30
	phase1, err := NewEntry(c)
	if err != nil {
		t.Fatal(err)
	}
	c.Slashing = nil
	bare, err := NewEntry(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*Entry{full.entry(t), phase1, bare} {
		b := marshal(t, e)
		var back Entry
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if again := marshal(t, &back); !bytes.Equal(b, again) {
			t.Fatalf("re-marshal differs:\n%s\n%s", b, again)
		}
		if back.ID() != e.ID() || back.Value() != e.Value() || back.ConfirmationDepth() != e.ConfirmationDepth() ||
			back.Source() != e.Source() || back.Params().CovenantQuorum() != e.Params().CovenantQuorum() {
			t.Fatal("fields differ")
		}
		// The decoded entry slashes like the original.
		if e.SlashingPSBT(script.StakingOutputKind) != nil {
			tx1, err1 := e.CompleteSlashing(script.StakingOutputKind, w.fps[0])
			tx2, err2 := back.CompleteSlashing(script.StakingOutputKind, w.fps[0])
			if (err1 == nil) != (err2 == nil) || (err1 == nil && tx1.TxHash() != tx2.TxHash()) {
				t.Fatalf("%v / %v", err1, err2)
			}
		}
	}
}

func TestEntryUnmarshalJSONRefusals(t *testing.T) {
	w := newWorld(t, 13, 1, 3, 2)
	e := w.delegate(t, []int{0}, 250_000, 1000, false, []int{0, 1}).entry(t)
	good := marshal(t, e)
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(good, &obj); err != nil {
		t.Fatal(err)
	}
	dupTop := append([]byte(`{"source":"phase1",`), good[1:]...)
	dupParams := bytes.Replace(good, []byte(`"params":{`), []byte(`"params":{"covenant_quorum":1,`), 1)
	unknown := append([]byte(`{"colour":"blue",`), good[1:]...)
	for _, c := range []struct {
		name string
		b    []byte
		text string
	}{
		{"duplicate key", dupTop, `"source" given twice in $`},
		{"duplicate nested key", dupParams, `"covenant_quorum" given twice in $.params`},
		{"trailing data", append(append([]byte{}, good...), []byte(` {}`)...), "data after"},
		{"trailing garbage", append(append([]byte{}, good...), 'x'), ""},
		{"unknown field", unknown, "colour"},
		{"not an object", []byte(`[1,2]`), ""},
		{"too large", append(append([]byte{}, good...), bytes.Repeat([]byte(" "), MaxEntrySize)...), "at most"},
		{"bad staking tx", bytes.Replace(good, []byte(`"staking_tx":"`), []byte(`"staking_tx":"zz`), 1), "staking_tx"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got Entry
			got = *e
			err := got.UnmarshalJSON(c.b)
			if !errors.Is(err, ErrInvalidEntry) {
				t.Fatalf("err = %v", err)
			}
			if !strings.Contains(err.Error(), c.text) {
				t.Fatalf("err %q does not say %q", err, c.text)
			}
			if !bytes.Equal(marshal(t, &got), good) {
				t.Fatal("the entry changed on error")
			}
		})
	}
	// The valid document decodes.
	var back Entry
	if err := back.UnmarshalJSON(good); err != nil {
		t.Fatal(err)
	}
}

func FuzzEntryUnmarshalJSON(f *testing.F) {
	w := newWorld(f, 14, 2, 3, 2)
	fx := w.delegate(f, []int{0}, 250_000, 1000, false, []int{0, 1})
	f.Add(marshal(f, fx.entry(f)))
	c := fx.config()
	c.UnbondingTx, c.Slashing, c.UnbondingSlashing = nil, nil, nil
	bare, err := NewEntry(c)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(marshal(f, bare))
	f.Add([]byte(`{"source":"staking_tx","source":"x"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Entry
		if err := e.UnmarshalJSON(b); err != nil {
			if !errors.Is(err, ErrInvalidEntry) {
				t.Fatalf("error of no kind: %v", err)
			}
			return
		}
		// What decodes re-encodes to a document that decodes to the same
		// encoding.
		m1 := marshal(t, &e)
		var e2 Entry
		if err := e2.UnmarshalJSON(m1); err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if m2 := marshal(t, &e2); !bytes.Equal(m1, m2) {
			t.Fatalf("not stable:\n%s\n%s", m1, m2)
		}
	})
}

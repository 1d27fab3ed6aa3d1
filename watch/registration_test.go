package watch

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2/bech32"
	"github.com/btcsuite/btcd/wire/v2"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// registration registers f's delegation (one finality provider) before
// staking under p with babylon.PrepareRegistration and the staker's key,
// as `btcstake register --key` does.
func registration(t testing.TB, w *world, f *entryFixture, p *params.Params) *babylon.Registration {
	t.Helper()
	vs := versionsOf(t, p)
	account := sha256.Sum256([]byte("watch test account"))
	addr, err := bech32.EncodeFromBase256("bbn", account[:20])
	if err != nil {
		t.Fatal(err)
	}
	var pop []byte // any ProofOfPossessionBTC-shaped bytes
	pop = protowire.AppendTag(pop, 2, protowire.BytesType)
	pop = protowire.AppendBytes(pop, bytes.Repeat([]byte{1}, 64))
	d := f.d
	d.Params = p
	draft, err := babylon.PrepareRegistration(babylon.RegistrationRequest{StakerAddress: addr, PoP: pop, Delegation: d,
		StakingTx: f.stakingTx, Versions: vs, TipHeight: 500})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := draft.Sign(w.staker)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// registerJSON is what `btcstake register --json` prints for reg.
func registerJSON(t testing.TB, reg *babylon.Registration, version *uint32) []byte {
	t.Helper()
	mj, err := reg.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	j := map[string]any{"msg": json.RawMessage(mj), "msg_hex": hex.EncodeToString(reg.Marshal()),
		"babylond_args": reg.BabylondArgs(), "staking_txid": reg.StakingTxHash().String()}
	if version != nil {
		j["params_version"] = *version
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFromRegistration(t *testing.T) {
	w := newWorld(t, 30, 1, 3, 2)
	f := w.delegate(t, []int{0}, 200_000, 1000, false, nil)
	reg := registration(t, w, f, w.params)
	msg := reg.Msg()
	e, err := FromRegistration(msg, versionsOf(t, w.params))
	if err != nil {
		t.Fatal(err)
	}
	if e.Source() != SourceRegistration || e.StakingOutPoint().Hash != reg.StakingTxHash() || e.StakingOutPoint().Index != reg.StakingOutputIndex() {
		t.Fatalf("entry %s", e.ID())
	}
	if !bytes.Equal(serializeTx(t, e.UnbondingTx()), msg.UnbondingTx) {
		t.Fatal("unbonding tx differs")
	}
	for _, c := range []struct {
		from script.OutputKind
		tx   []byte
		sig  []byte
	}{{script.StakingOutputKind, msg.SlashingTx, msg.DelegatorSlashingSig}, {script.UnbondingOutputKind, msg.UnbondingSlashingTx, msg.DelegatorUnbondingSlashingSig}} {
		p := e.SlashingPSBT(c.from)
		if !bytes.Equal(serializeTx(t, p.UnsignedTx), c.tx) {
			t.Fatal("slashing tx differs from the message's")
		}
		sigs := p.Inputs[0].TaprootScriptSpendSig
		if len(sigs) != 1 || !bytes.Equal(sigs[0].Signature, c.sig) {
			t.Fatal("not the message's staker signature")
		}
		if n, err := psbt.VerifyTapscriptSigs(p); n != 1 || err != nil {
			t.Fatalf("%d %v", n, err)
		}
		// No adaptor signatures in a registration: every member missing.
		_, err := e.CompleteSlashing(c.from, w.fps[0])
		var me *MissingAdaptorSigsError
		if !errors.As(err, &me) || !reflect.DeepEqual(me.Missing, w.xonlyHex(0, 1, 2)) || me.Valid != 0 {
			t.Fatalf("err = %v", err)
		}
	}
	// Once the covenant's adaptor signatures are added, it slashes.
	sl, usl := e.SlashingPSBT(script.StakingOutputKind), e.SlashingPSBT(script.UnbondingOutputKind)
	for _, i := range []int{0, 2} {
		covenantSign(t, sl, w.cov[i], e.Delegation())
		covenantSign(t, usl, w.cov[i], e.Delegation())
	}
	d := e.Delegation()
	full, err := NewEntry(EntryConfig{Source: SourceRegistration, Params: e.Params(), Staker: d.Staker, FPs: d.FinalityProviders,
		StakingTime: d.StakingTime, StakingTx: e.StakingTx(), UnbondingTx: e.UnbondingTx(), Slashing: sl, UnbondingSlashing: usl})
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range []script.OutputKind{script.StakingOutputKind, script.UnbondingOutputKind} {
		tx, err := full.CompleteSlashing(from, w.fps[0])
		if err != nil {
			t.Fatal(err)
		}
		prev := e.StakingTx().TxOut[e.StakingOutPoint().Index]
		if from == script.UnbondingOutputKind {
			prev = e.UnbondingTx().TxOut[0]
		}
		if err := runScript(tx, 0, prev); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFromRegistrationRefusals(t *testing.T) {
	w := newWorld(t, 31, 2, 3, 2)
	f := w.delegate(t, []int{0}, 200_000, 1000, false, nil)
	g := w.delegate(t, []int{1}, 200_000, 1000, false, nil)
	vs := versionsOf(t, w.params)
	msg := registration(t, w, f, w.params).Msg()
	other := registration(t, w, g, w.params).Msg()
	for _, c := range []struct {
		name string
		mut  func(m *babylon.MsgCreateBTCDelegation)
		kind error
		text string
	}{
		{"staking value", func(m *babylon.MsgCreateBTCDelegation) { m.StakingValue++ }, ErrInvalidEntry, "staking_value"},
		{"unbonding value", func(m *babylon.MsgCreateBTCDelegation) { m.UnbondingValue-- }, ErrInvalidEntry, "unbonding_value"},
		{"unbonding time", func(m *babylon.MsgCreateBTCDelegation) { m.UnbondingTime++ }, ErrInvalidEntry, "unbonding_time"},
		{"staker signature", func(m *babylon.MsgCreateBTCDelegation) { m.DelegatorSlashingSig[7] ^= 1 }, psbt.ErrBadSignature, "slashing_tx"},
		{"unbonding staker signature", func(m *babylon.MsgCreateBTCDelegation) { m.DelegatorUnbondingSlashingSig[7] ^= 1 }, psbt.ErrBadSignature, "unbonding_slashing_tx"},
		{"short signature", func(m *babylon.MsgCreateBTCDelegation) { m.DelegatorSlashingSig = m.DelegatorSlashingSig[:63] }, ErrInvalidEntry, "delegator_slashing_sig"},
		{"slashing tx of another delegation", func(m *babylon.MsgCreateBTCDelegation) { m.SlashingTx = other.SlashingTx }, psbt.ErrTxInputs, "slashing_tx"},
		{"unbonding tx of another delegation", func(m *babylon.MsgCreateBTCDelegation) { m.UnbondingTx = other.UnbondingTx }, psbt.ErrTxInputs, "unbonding_tx"},
		{"no unbonding slashing tx", func(m *babylon.MsgCreateBTCDelegation) { m.UnbondingSlashingTx = nil }, ErrInvalidEntry, "unbonding_slashing_tx: missing"},
		{"bad staking tx", func(m *babylon.MsgCreateBTCDelegation) { m.StakingTx = m.StakingTx[:20] }, ErrInvalidEntry, "staking_tx"},
		{"another staker", func(m *babylon.MsgCreateBTCDelegation) { m.BtcPk = other.FpBtcPkList[0] }, ErrNoParamsVersion, ""},
		{"no fp", func(m *babylon.MsgCreateBTCDelegation) { m.FpBtcPkList = nil }, ErrInvalidEntry, "fp_btc_pk_list"},
		{"bad fp key", func(m *babylon.MsgCreateBTCDelegation) { m.FpBtcPkList = [][]byte{{1, 2}} }, ErrInvalidEntry, "fp_btc_pk_list[0]"},
		{"staking time 0", func(m *babylon.MsgCreateBTCDelegation) { m.StakingTime = 0 }, ErrInvalidEntry, "staking_time"},
		{"staking time too long", func(m *babylon.MsgCreateBTCDelegation) { m.StakingTime = 1 << 16 }, ErrInvalidEntry, "staking_time"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := babylon.UnmarshalMsgCreateBTCDelegation(msg.Marshal()) // a deep copy
			if err != nil {
				t.Fatal(err)
			}
			c.mut(m)
			e, err := FromRegistration(m, vs)
			if e != nil || !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("entry %v, err %v", e, err)
			}
		})
	}
	if _, err := FromRegistration(nil, vs); !errors.Is(err, ErrInvalidEntry) {
		t.Fatalf("err = %v", err)
	}
}

func serializeTx(t tb, tx *wire.MsgTx) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tx.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestParseRegistrationForms(t *testing.T) {
	w := newWorld(t, 32, 1, 3, 2)
	f := w.delegate(t, []int{0}, 200_000, 1000, false, nil)
	pB := w.params
	pC := withUnbondingTime(t, pB, 40)
	reg := registration(t, w, f, pB)
	vs := versionsOf(t, pB, pC) // B is version 0, C version 1
	mj, err := reg.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	raw := reg.Marshal()
	zero, one := uint32(0), uint32(1)
	for name, b := range map[string][]byte{
		"register --json":                   registerJSON(t, reg, &zero),
		"register --json without a version": registerJSON(t, reg, nil),
		"message JSON":                      mj,
		"hex (--out)":                       []byte(hex.EncodeToString(raw) + "\n"),
		"base64":                            []byte(base64.StdEncoding.EncodeToString(raw)),
		"protobuf":                          raw,
	} {
		t.Run(name, func(t *testing.T) {
			e, err := ParseRegistration(b, vs)
			if err != nil {
				t.Fatal(err)
			}
			if e.StakingOutPoint().Hash != reg.StakingTxHash() || e.Params().UnbondingTime() != pB.UnbondingTime() {
				t.Fatalf("entry %s under unbonding time %d", e.ID(), e.Params().UnbondingTime())
			}
		})
	}
	// The version the file states is the one used: version 1 (C) does
	// not have the message's unbonding time.
	if _, err := ParseRegistration(registerJSON(t, reg, &one), vs); !errors.Is(err, ErrInvalidEntry) || !strings.Contains(err.Error(), "unbonding_time") {
		t.Fatalf("err = %v", err)
	}
	// A watch list may state the version when the file does not, and may
	// not contradict the file.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "stated.json"), string(registerJSON(t, reg, &zero)))
	writeFile(t, filepath.Join(dir, "plain.hex"), hex.EncodeToString(raw))
	path := filepath.Join(dir, "watch.json")
	writeFile(t, path, `{"entries":[{"registration":"plain.hex","params_version":0}]}`)
	if es, err := LoadWatchList(path, vs); err != nil || es[0].Source() != SourceRegistration {
		t.Fatalf("err = %v", err)
	}
	writeFile(t, path, `{"entries":[{"registration":"stated.json","params_version":1}]}`)
	if _, err := LoadWatchList(path, vs); !errors.Is(err, ErrInvalidWatchList) {
		t.Fatalf("err = %v", err)
	}

	good := registerJSON(t, reg, &zero)
	var m map[string]any
	if err := json.Unmarshal(mj, &m); err != nil {
		t.Fatal(err)
	}
	m["staking_value"] = 1
	tampered, _ := json.Marshal(m)
	otherTx := w.delegate(t, []int{0}, 300_000, 1000, false, nil)
	otherReg := registration(t, w, otherTx, pB)
	for _, c := range []struct {
		name string
		b    []byte
		kind error
		text string
	}{
		{"unknown key", bytes.Replace(good, []byte(`"msg_hex"`), []byte(`"colour": 1, "msg_hex"`), 1), ErrInvalidFile, "colour"},
		{"duplicate key", bytes.Replace(good, []byte(`"msg_hex"`), []byte(`"staking_txid": "x", "msg_hex"`), 1), ErrInvalidFile, `"staking_txid" given twice in $`},
		{"trailing data", append(append([]byte{}, good...), "{}"...), ErrInvalidFile, "data after"},
		{"wrong staking txid", bytes.Replace(good, []byte(reg.StakingTxHash().String()), []byte(otherReg.StakingTxHash().String()), 1), ErrInvalidFile, "staking_txid"},
		{"msg and msg_hex differ", bytes.Replace(good, []byte(`"msg_hex": "`+hex.EncodeToString(raw)), []byte(`"msg_hex": "`+hex.EncodeToString(otherReg.Marshal())), 1), ErrInvalidFile, "different messages"},
		{"fields disagree with encoded", tampered, ErrInvalidFile, "do not agree"},
		{"neither msg_hex nor encoded", []byte(`{"staker_addr":"x"}`), ErrInvalidFile, "neither"},
		{"text", []byte("hello, world"), ErrInvalidFile, "not a registration"},
		{"empty", nil, ErrInvalidFile, ""},
		{"hex of garbage", []byte("00ff00ff"), ErrInvalidFile, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := ParseRegistration(c.b, vs)
			if e != nil || !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("entry %v, err %v", e, err)
			}
		})
	}
}

func FuzzParseRegistration(f *testing.F) {
	w := newWorld(f, 33, 1, 3, 2)
	fx := w.delegate(f, []int{0}, 200_000, 1000, false, nil)
	reg := registration(f, w, fx, w.params)
	vs := versionsOf(f, w.params)
	zero := uint32(0)
	mj, _ := reg.MarshalJSON()
	f.Add(registerJSON(f, reg, &zero))
	f.Add(mj)
	f.Add([]byte(hex.EncodeToString(reg.Marshal())))
	f.Add(reg.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseRegistration(b, vs)
		if err != nil {
			for _, k := range []error{ErrInvalidFile, ErrInvalidEntry, ErrNoParamsVersion, ErrInvalidWatchList} {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("error of no kind: %v", err)
		}
		var back Entry
		if err := back.UnmarshalJSON(marshal(t, e)); err != nil {
			t.Fatal(err)
		}
	})
}

package params

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcstake/btcstake/script"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParseVersions(t *testing.T, b []byte) *Versions {
	t.Helper()
	vs, err := ParseVersions(b)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// decodeDoc decodes a JSON document keeping numbers as written.
func decodeDoc(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func encodeDoc(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// at walks a path of object keys and list indexes.
func at(t *testing.T, doc any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			doc = doc.(map[string]any)[k]
		case int:
			doc = doc.([]any)[k]
		}
	}
	return doc
}

// edit returns b with the object at path changed by f.
func edit(t *testing.T, b []byte, f func(obj map[string]any), path ...any) []byte {
	t.Helper()
	doc := decodeDoc(t, b)
	f(at(t, doc, path...).(map[string]any))
	return encodeDoc(t, doc)
}

// sameVersion fails unless a and b hold the same values (params compared
// by their canonical encoding, every accessor and the extras).
func sameVersion(t *testing.T, a, b *Version) {
	t.Helper()
	if a.ActivationHeight() != b.ActivationHeight() || a.LockOnly() != b.LockOnly() || a.Babylon() != b.Babylon() {
		t.Fatalf("version %d from %d %+v, version %d from %d %+v", a.Number(), a.ActivationHeight(), a.Babylon(),
			b.Number(), b.ActivationHeight(), b.Babylon())
	}
	ja, _ := json.Marshal(a.Params())
	jb, _ := json.Marshal(b.Params())
	if !bytes.Equal(ja, jb) {
		t.Fatalf("params differ:\n%s\n%s", ja, jb)
	}
	ca, cb := a.Config(), b.Config()
	if ca.SlashingRate != cb.SlashingRate || !bytes.Equal(ca.Tag, cb.Tag) || len(ca.CovenantKeys) != len(cb.CovenantKeys) {
		t.Fatalf("configs differ: %+v, %+v", ca, cb)
	}
}

// TestBabylonShapesMatchThePreset: each of Babylon's response shapes,
// recorded in testdata (testdata/README.md says how), gives the values of
// the bbn-1 preset, which is read from Babylon's upgrade data.
func TestBabylonShapesMatchThePreset(t *testing.T) {
	preset := mustPreset(t, "bbn-1")
	t.Run("params (REST /params, babylond query btcstaking params)", func(t *testing.T) {
		vs := mustParseVersions(t, readTestdata(t, "bbn-1-params.json"))
		if vs.Len() != 1 || vs.Format() != FormatBabylonParams {
			t.Fatalf("%d versions, format %q", vs.Len(), vs.Format())
		}
		v := vs.Latest()
		if v.NumberKnown() {
			t.Fatal("the Params response has no version number, yet one is known")
		}
		want, _ := preset.At(893362)
		sameVersion(t, v, want)
		checkValues(t, v.Params(), bbn1V4)
		// The one version applies from its activation height only.
		_, err := vs.At(893361)
		wantKind(t, err, ErrNoVersion)
	})
	t.Run("params by BTC height", func(t *testing.T) {
		vs := mustParseVersions(t, readTestdata(t, "bbn-1-params-by-btc-height-893361.json"))
		v := vs.Latest()
		if !v.NumberKnown() || v.Number() != 3 {
			t.Fatalf("version %d (known %v)", v.Number(), v.NumberKnown())
		}
		want, _ := preset.ByNumber(3)
		sameVersion(t, v, want)
		checkValues(t, v.Params(), bbn1V3)
	})
	t.Run("params versions (REST /params_versions, babylond query btcstaking params-versions)", func(t *testing.T) {
		vs := mustParseVersions(t, readTestdata(t, "bbn-1-params-versions.json"))
		if vs.Format() != FormatBabylonParamsVersions || vs.Len() != preset.Len() {
			t.Fatalf("%d versions, format %q", vs.Len(), vs.Format())
		}
		for i, v := range vs.All() {
			w := preset.All()[i]
			if v.Number() != w.Number() {
				t.Fatalf("position %d: version %d, preset %d", i, v.Number(), w.Number())
			}
			sameVersion(t, v, w)
		}
		v, err := vs.At(893362)
		if err != nil {
			t.Fatal(err)
		}
		checkValues(t, v.Params(), bbn1V4)
	})
}

// TestRecordedTestnetParams reads the params of a live testnet REST
// response that Babylon recorded in its own tests (copied unchanged; the
// upstream test keeps the inner object, so the response is rebuilt around
// it as {"params": ...}, which is what GET /babylon/btcstaking/v1/params
// answers).
func TestRecordedTestnetParams(t *testing.T) {
	inner := readTestdata(t, "babylon-testnet-params-inner.json")
	doc := append(append([]byte(`{"params":`), inner...), '}')
	vs := mustParseVersions(t, doc)
	v := vs.Latest()
	if v.ActivationHeight() != 235952 {
		t.Fatalf("activation height %d", v.ActivationHeight())
	}
	checkValues(t, v.Params(), wantValues{
		keys: []string{
			"fa9d882d45f4060bdb8042183828cd87544f1ea997380e586cab77d5fd698737",
			"0aee0509b16db71c999238a4827db945526859b13c95487ab46725357c9a9f25",
			"17921cf156ccb4e73d428f996ed11b245313e37e27c978ac4d2cc21eca4672e4",
			"113c3a32a9d320b72190a04a020a0db3976ef36972673258e9a38a364f3dc3b0",
			"79a71ffd71c503ef2e2f91bccfc8fcda7946f4653cef0d9f3dde20795ef3b9f0",
			"3bb93dfc8b61887d771f3630e9a63e97cbafcfcc78556a474df83a31a0ef899c",
			"d21faf78c6751a0d38e6bd8028b907ff07e9a869a43fc837d6b3f8dff6119a36",
			"40afaf47c4ffa56de86410d8e47baa2bb6f04b604f4ea24323737ddc3fe092df",
			"f5199efae3f28bb82476163a7e458c7ad445d9bffb0682d10d3bdb2cb41f8e8e",
		},
		quorum: 6, minValue: 50_000, maxValue: 35_000_000_000, minTime: 10_000, maxTime: 64_000,
		unbondingTime: 1_008, unbondingFee: 2_000,
		slashingScript: "00145be12624d08a2b424095d7c07221c33450d14bf1", slashingRate: "0.05", minSlashingFee: 6_000,
	})
	if got, want := v.Babylon(), (BabylonExtras{MinCommissionRate: "0.03", DelegationCreationBaseGasFee: 1_095_000, AllowListExpirationHeight: 26_124}); got != want {
		t.Fatalf("extras %+v, want %+v", got, want)
	}
}

// TestUnknownFieldsTolerated: Babylon adds fields over time; a field the
// parser does not know, at any level of a Babylon format, changes nothing.
func TestUnknownFieldsTolerated(t *testing.T) {
	add := func(obj map[string]any) {
		obj["a_field_from_the_future"] = map[string]any{"nested": []any{1, "x"}}
		obj["max_active_finality_providers"] = json.Number("0")
	}
	phase1, _ := presetFS.ReadFile("presets/bbn-1-phase1.json")
	upgrade, _ := presetFS.ReadFile("presets/bbn-1-v0-v3.json")
	for _, c := range []struct {
		name  string
		doc   []byte
		paths [][]any
	}{
		{"params", readTestdata(t, "bbn-1-params.json"), [][]any{{}, {"params"}}},
		{"params by height", readTestdata(t, "bbn-1-params-by-btc-height-893361.json"), [][]any{{}, {"params"}}},
		{"params versions", readTestdata(t, "bbn-1-params-versions.json"),
			[][]any{{}, {"pagination"}, {"params", 0}, {"params", 2, "params"}, {"params", 4, "params"}}},
		{"upgrade data", upgrade, [][]any{{0}, {3}}},
		{"phase-1", phase1, [][]any{{}, {"versions", 0}, {"versions", 2}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := mustParseVersions(t, c.doc)
			doc := c.doc
			for _, p := range c.paths {
				doc = edit(t, doc, add, p...)
			}
			if bytes.Equal(doc, c.doc) {
				t.Fatal("the document did not change")
			}
			got := mustParseVersions(t, doc)
			if got.Len() != want.Len() {
				t.Fatalf("%d versions, want %d", got.Len(), want.Len())
			}
			for i, v := range got.All() {
				sameVersion(t, v, want.All()[i])
			}
		})
	}
}

// TestOwnFormatStaysStrict: the project's own format refuses unknown
// fields, through ParseVersions too.
func TestOwnFormatStaysStrict(t *testing.T) {
	doc := edit(t, RegtestExampleJSON(), func(o map[string]any) { o["btc_activation_heigth"] = 5 })
	_, err := ParseVersions(doc)
	wantKind(t, err, ErrInvalidParams)
	if !strings.Contains(err.Error(), "btc_activation_heigth") {
		t.Fatalf("%v does not name the field", err)
	}
	vs := mustParseVersions(t, RegtestExampleJSON())
	if vs.Format() != FormatBTCStake || vs.Latest().ActivationHeight() != 0 || vs.Latest().NumberKnown() {
		t.Fatal("the own format is not one version from height 0")
	}
}

// refusal is a change to a document and what the error must say.
type refusal struct {
	name  string
	path  []any // the object to change
	set   map[string]any
	del   string
	kind  error
	field string
}

func runRefusals(t *testing.T, doc []byte, version string, cases []refusal) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := edit(t, doc, func(o map[string]any) {
				for k, v := range c.set {
					o[k] = v
				}
				if c.del != "" {
					delete(o, c.del)
				}
			}, c.path...)
			vs, err := ParseVersions(b)
			if err == nil {
				t.Fatalf("accepted: %d versions", vs.Len())
			}
			wantKind(t, err, c.kind)
			msg := err.Error()
			if !strings.Contains(msg, c.field) {
				t.Errorf("%q does not name %s", msg, c.field)
			}
			if version != "" && !strings.Contains(msg, version) {
				t.Errorf("%q does not name %s", msg, version)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("%q is not one line", msg)
			}
		})
	}
}

func TestBabylonRefusalsNameTheField(t *testing.T) {
	doc := readTestdata(t, "bbn-1-params-versions.json")
	keys := at(t, decodeDoc(t, doc), "params", 2, "params", "covenant_pks").([]any)
	withKey := func(i int, k any) []any {
		out := append([]any(nil), keys...)
		out[i] = k
		return out
	}
	p2wpkh := base64.StdEncoding.EncodeToString(append([]byte{0, 0x14}, bytes.Repeat([]byte{7}, 20)...))
	path := []any{"params", 2, "params"}
	cases := []refusal{
		{name: "quorum above the committee", set: map[string]any{"covenant_quorum": 10}, kind: ErrInvalidCovenant, field: "covenant_quorum"},
		{name: "quorum not a majority", set: map[string]any{"covenant_quorum": 4}, kind: ErrInvalidCovenant, field: "covenant_quorum"},
		{name: "quorum zero", set: map[string]any{"covenant_quorum": 0}, kind: ErrInvalidCovenant, field: "covenant_quorum"},
		{name: "no quorum", del: "covenant_quorum", kind: ErrInvalidCovenant, field: "covenant_quorum"},
		{name: "no keys", del: "covenant_pks", kind: ErrInvalidCovenant, field: "covenant_pks"},
		{name: "empty committee", set: map[string]any{"covenant_pks": []any{}}, kind: ErrInvalidCovenant, field: "covenant_pks"},
		{name: "duplicate key", set: map[string]any{"covenant_pks": withKey(3, keys[0])}, kind: ErrInvalidCovenant, field: "covenant_pks[3]"},
		{name: "key not hex", set: map[string]any{"covenant_pks": withKey(1, "zz")}, kind: ErrInvalidCovenant, field: "covenant_pks[1]"},
		{name: "key of 33 bytes", set: map[string]any{"covenant_pks": withKey(2, "02"+keys[2].(string))}, kind: ErrInvalidCovenant, field: "covenant_pks[2]"},
		{name: "key off the curve", set: map[string]any{"covenant_pks": withKey(4, strings.Repeat("ff", 32))}, kind: ErrInvalidCovenant, field: "covenant_pks[4]"},
		{name: "rate with 5 decimals", set: map[string]any{"slashing_rate": "0.000150000000000000"}, kind: ErrInvalidSlashingRate, field: "slashing_rate"},
		{name: "rate of 1", set: map[string]any{"slashing_rate": "1.000000000000000000"}, kind: ErrInvalidSlashingRate, field: "slashing_rate"},
		{name: "rate of 0", set: map[string]any{"slashing_rate": "0.000000000000000000"}, kind: ErrInvalidSlashingRate, field: "slashing_rate"},
		{name: "rate not a decimal", set: map[string]any{"slashing_rate": "1e-3"}, kind: ErrInvalidSlashingRate, field: "slashing_rate"},
		{name: "rate a number", set: map[string]any{"slashing_rate": 0.001}, kind: ErrInvalidSlashingRate, field: "slashing_rate"},
		{name: "no rate", del: "slashing_rate", kind: ErrInvalidSlashingRate, field: "slashing_rate"},
		{name: "unbonding fee zero", set: map[string]any{"unbonding_fee_sat": "0"}, kind: ErrInvalidUnbondingFee, field: "unbonding_fee_sat"},
		{name: "unbonding fee the whole stake", set: map[string]any{"unbonding_fee_sat": "500000"}, kind: ErrInvalidUnbondingFee, field: "unbonding_fee_sat"},
		{name: "unbonding fee a fraction", set: map[string]any{"unbonding_fee_sat": 9600.5}, kind: ErrInvalidUnbondingFee, field: "unbonding_fee_sat"},
		{name: "unbonding fee with a sign", set: map[string]any{"unbonding_fee_sat": "+9600"}, kind: ErrInvalidUnbondingFee, field: "unbonding_fee_sat"},
		{name: "negative stake", set: map[string]any{"min_staking_value_sat": "-5"}, kind: ErrInvalidStakingValue, field: "min_staking_value_sat"},
		{name: "max below min", set: map[string]any{"max_staking_value_sat": "499999"}, kind: ErrInvalidStakingValue, field: "max_staking_value_sat"},
		{name: "max above the money supply", set: map[string]any{"max_staking_value_sat": "2100000000000001"}, kind: ErrInvalidStakingValue, field: "max_staking_value_sat"},
		{name: "max overflowing", set: map[string]any{"max_staking_value_sat": "99999999999999999999999"}, kind: ErrInvalidStakingValue, field: "max_staking_value_sat"},
		{name: "staking time above 65535", set: map[string]any{"min_staking_time_blocks": 70000}, kind: ErrInvalidStakingTime, field: "min_staking_time_blocks"},
		{name: "max staking time below min", set: map[string]any{"max_staking_time_blocks": 63999}, kind: ErrInvalidStakingTime, field: "max_staking_time_blocks"},
		{name: "unbonding time zero", set: map[string]any{"unbonding_time_blocks": 0}, kind: ErrInvalidUnbondingTime, field: "unbonding_time_blocks"},
		{name: "slashing script not base64", set: map[string]any{"slashing_pk_script": "6a07626162796c6f6e!"}, kind: ErrInvalidSlashingScript, field: "slashing_pk_script"},
		{name: "slashing script not standard", set: map[string]any{"slashing_pk_script": "AQID"}, kind: ErrInvalidSlashingScript, field: "slashing_pk_script"},
		{name: "no slashing script", del: "slashing_pk_script", kind: ErrInvalidSlashingScript, field: "slashing_pk_script"},
		{name: "slashing fee zero", set: map[string]any{"min_slashing_tx_fee_sat": "0"}, kind: ErrInvalidSlashingFee, field: "min_slashing_tx_fee_sat"},
		{name: "dust slashing output", set: map[string]any{"slashing_pk_script": p2wpkh, "slashing_rate": "0.0001"}, kind: ErrDustOutput, field: "min_staking_value_sat"},
		{name: "no activation height", del: "btc_activation_height", kind: ErrInvalidParams, field: "btc_activation_height"},
		{name: "activation height above 32 bits", set: map[string]any{"btc_activation_height": 1 << 32}, kind: ErrInvalidParams, field: "btc_activation_height"},
		{name: "commission above 1", set: map[string]any{"min_commission_rate": "1.500000000000000000"}, kind: ErrInvalidParams, field: "min_commission_rate"},
		{name: "gas fee not a number", set: map[string]any{"delegation_creation_base_gas_fee": "lots"}, kind: ErrInvalidParams, field: "delegation_creation_base_gas_fee"},
	}
	for i := range cases {
		cases[i].path = path
	}
	t.Run("versioned", func(t *testing.T) { runRefusals(t, doc, "version 2", cases) })
	single := readTestdata(t, "bbn-1-params.json")
	for i := range cases {
		cases[i].path = []any{"params"}
	}
	t.Run("single", func(t *testing.T) { runRefusals(t, single, "", cases[:12]) })
}

func TestVersionSequenceRefusals(t *testing.T) {
	doc := readTestdata(t, "bbn-1-params-versions.json")
	change := func(f func(list []any) []any) []byte {
		d := decodeDoc(t, doc).(map[string]any)
		d["params"] = f(d["params"].([]any))
		return encodeDoc(t, d)
	}
	height := func(v any) any { return v.(map[string]any)["params"].(map[string]any)["btc_activation_height"] }
	setHeight := func(v, h any) { v.(map[string]any)["params"].(map[string]any)["btc_activation_height"] = h }
	for _, c := range []struct {
		name string
		doc  []byte
		msg  string
	}{
		{"a gap", change(func(l []any) []any { return append(l[:2:2], l[3:]...) }), "version 3 follows version 1"},
		{"a duplicate", change(func(l []any) []any { return append(l[:3:3], l[2:]...) }), "version 2 follows version 2"},
		{"not from version 0", change(func(l []any) []any { return l[1:] }), "starts at version 1"},
		{"heights out of order", change(func(l []any) []any { h := height(l[1]); setHeight(l[1], height(l[2])); setHeight(l[2], h); return l }), "activates at height"},
		{"an empty list", change(func(l []any) []any { return []any{} }), "empty"},
		{"a partial page", edit(t, doc, func(o map[string]any) { o["next_key"] = "AAAABQ==" }, "pagination"), "next_key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseVersions(c.doc)
			wantKind(t, err, ErrInvalidVersions)
			if !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("%q does not say %q", err, c.msg)
			}
		})
	}
	t.Run("the last page is complete", func(t *testing.T) {
		mustParseVersions(t, edit(t, doc, func(o map[string]any) { o["next_key"] = "" }, "pagination"))
	})
	t.Run("an empty upgrade list", func(t *testing.T) {
		_, err := ParseVersions([]byte(" [ ] "))
		wantKind(t, err, ErrInvalidVersions)
	})
	t.Run("a version number that is not one", func(t *testing.T) {
		b := edit(t, doc, func(o map[string]any) { o["version"] = "two" }, "params", 2)
		_, err := ParseVersions(b)
		wantKind(t, err, ErrInvalidParams)
		if !strings.Contains(err.Error(), "params[2]: version") {
			t.Fatalf("%v does not name params[2].version", err)
		}
	})
}

func TestPhase1RefusalsNameTheField(t *testing.T) {
	doc, err := presetFS.ReadFile("presets/bbn-1-phase1.json")
	if err != nil {
		t.Fatal(err)
	}
	p := []any{"versions", 1}
	cases := []refusal{
		{name: "tag of 3 bytes", path: p, set: map[string]any{"tag": "626e31"}, kind: ErrInvalidParams, field: "tag"},
		{name: "tag not hex", path: p, set: map[string]any{"tag": "bbn1"}, kind: ErrInvalidParams, field: "tag"},
		{name: "no tag", path: p, del: "tag", kind: ErrInvalidParams, field: "tag"},
		{name: "an x-only key", path: p, set: map[string]any{"covenant_pks": []any{bbn1Keys[0]}, "covenant_quorum": 1}, kind: ErrInvalidCovenant, field: "covenant_pks[0]"},
		{name: "an uncompressed key prefix", path: p, set: map[string]any{"covenant_pks": []any{"04" + bbn1Keys[0]}, "covenant_quorum": 1}, kind: ErrInvalidCovenant, field: "covenant_pks[0]"},
		{name: "quorum above the committee", path: p, set: map[string]any{"covenant_quorum": 10}, kind: ErrInvalidCovenant, field: "covenant_quorum"},
		{name: "both caps", path: p, set: map[string]any{"staking_cap": 100000000000}, kind: ErrInvalidParams, field: "staking_cap/cap_height"},
		{name: "no cap", path: p, del: "cap_height", kind: ErrInvalidParams, field: "staking_cap/cap_height"},
		{name: "confirmation depth 1", path: p, set: map[string]any{"confirmation_depth": 1}, kind: ErrInvalidParams, field: "confirmation_depth"},
		{name: "activation height 0", path: p, set: map[string]any{"activation_height": 0}, kind: ErrInvalidParams, field: "activation_height"},
		{name: "fee leaves under 1000 sat", path: p, set: map[string]any{"unbonding_fee": 499_500}, kind: ErrInvalidUnbondingFee, field: "unbonding_fee"},
		{name: "fee above the stake", path: p, set: map[string]any{"unbonding_fee": 600_000}, kind: ErrInvalidUnbondingFee, field: "unbonding_fee"},
		{name: "staking time above 65535", path: p, set: map[string]any{"max_staking_time": 70_000}, kind: ErrInvalidStakingTime, field: "max_staking_time"},
		{name: "max amount below min", path: p, set: map[string]any{"max_staking_amount": 400_000}, kind: ErrInvalidStakingValue, field: "max_staking_amount"},
		{name: "unbonding time zero", path: p, set: map[string]any{"unbonding_time": 0}, kind: ErrInvalidUnbondingTime, field: "unbonding_time"},
		{name: "a cap below the earlier cap", path: p, set: map[string]any{"staking_cap": 60_000_000_000}, del: "cap_height", kind: ErrInvalidParams, field: "staking_cap"},
		{name: "a cap below the largest stake", path: []any{"versions", 0}, set: map[string]any{"staking_cap": 4_000_000}, kind: ErrInvalidParams, field: "staking_cap"},
		{name: "a cap height going down", path: []any{"versions", 2}, set: map[string]any{"cap_height": 864_798}, kind: ErrInvalidParams, field: "cap_height"},
	}
	runRefusals(t, doc, "version", cases)
	for _, c := range []struct {
		name string
		path []any
		set  map[string]any
	}{
		{"activation height going down", p, map[string]any{"activation_height": 857_910}},
		{"a skipped version", p, map[string]any{"version": 5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseVersions(edit(t, doc, func(o map[string]any) {
				for k, v := range c.set {
					o[k] = v
				}
			}, c.path...))
			wantKind(t, err, ErrInvalidVersions)
		})
	}
}

func TestUnknownFormat(t *testing.T) {
	for _, doc := range []string{"", "   ", "not json", "42", `"params"`, "null", "{}", `{"foo": 1}`,
		`{"code": 12, "message": "Not Implemented", "details": []}`, `{"covenant_pks": []} trailing`, "[1,2", "<html>"} {
		t.Run(fmt.Sprintf("%.20q", doc), func(t *testing.T) {
			_, err := ParseVersions([]byte(doc))
			wantKind(t, err, ErrUnknownFormat)
		})
	}
	t.Run("params neither object nor list", func(t *testing.T) {
		_, err := ParseVersions([]byte(`{"params": "x"}`))
		wantKind(t, err, ErrInvalidParams)
	})
}

func TestLoadVersions(t *testing.T) {
	dir := t.TempDir()
	t.Run("a file", func(t *testing.T) {
		vs, err := LoadVersions(filepath.Join("testdata", "bbn-1-params-versions.json"))
		if err != nil || vs.Len() != 5 {
			t.Fatalf("%v, %v", vs, err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		_, err := LoadVersions(filepath.Join(dir, "none.json"))
		wantKind(t, err, ErrInvalidParams)
	})
	t.Run("too large", func(t *testing.T) {
		big := filepath.Join(dir, "big.json")
		b := append([]byte(`{"params":{},"x":"`), bytes.Repeat([]byte("a"), MaxFileSize)...)
		if err := os.WriteFile(big, append(b, `"}`...), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadVersions(big)
		wantKind(t, err, ErrInvalidParams)
		if !strings.Contains(err.Error(), "larger than") {
			t.Fatal(err)
		}
	})
}

func TestCanonicalDec(t *testing.T) {
	for in, want := range map[string]string{
		"0.001000000000000000": "0.001", "0.1": "0.1", "00.50": "0.5", "1.000000000000000000": "1",
		"0": "0", "0.000000000000000000": "0", "12.3400": "12.34",
	} {
		if got, err := canonicalDec(in, 18); err != nil || got != want {
			t.Errorf("canonicalDec(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", ".", "1.", ".1", "-0.1", "+0.1", "0,1", "1e-3", "0.1 ", " 0.1", "0x10", "0.0000000000000000001"} {
		if got, err := canonicalDec(in, 18); err == nil {
			t.Errorf("canonicalDec(%q) = %q, want an error", in, got)
		}
	}
}

// FuzzParseVersions: no input panics; an accepted document gives a valid
// sequence; a refused one wraps exactly one error kind.
func FuzzParseVersions(f *testing.F) {
	for _, name := range []string{"bbn-1-params.json", "bbn-1-params-versions.json", "bbn-1-params-by-btc-height-893361.json", "babylon-testnet-params-inner.json"} {
		f.Add(readTestdata(f, name))
	}
	entries, _ := presetFS.ReadDir("presets")
	for _, e := range entries {
		b, _ := presetFS.ReadFile("presets/" + e.Name())
		f.Add(b)
	}
	f.Add(RegtestExampleJSON())
	f.Add([]byte(`{"params":[]}`))
	f.Add([]byte(`{"versions":[{}]}`))
	f.Add([]byte(`[{}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		vs, err := ParseVersions(b)
		if err != nil {
			n := 0
			for _, k := range allKinds {
				if errors.Is(err, k) {
					n++
				}
			}
			if n != 1 || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q wraps %d kinds", err, n)
			}
			return
		}
		all := vs.All()
		if len(all) == 0 || len(all) != vs.Len() {
			t.Fatal("accepted without versions")
		}
		for i, v := range all {
			if i > 0 && (v.ActivationHeight() <= all[i-1].ActivationHeight() || v.Number() != all[i-1].Number()+1) {
				t.Fatalf("version %d does not follow %d", v.Number(), all[i-1].Number())
			}
			if got, err := vs.At(v.ActivationHeight()); err != nil || got.Number() != v.Number() {
				t.Fatalf("At(%d) = %v, %v", v.ActivationHeight(), got, err)
			}
			if v.LockOnly() {
				c := v.Config()
				if len(c.CovenantKeys) == 0 || len(c.Tag) != script.TagLen {
					t.Fatal("a lock-only version without committee or tag")
				}
			} else if !v.Params().Valid() {
				t.Fatal("a version with invalid params")
			}
		}
		if all[0].ActivationHeight() > 0 {
			if _, err := vs.At(all[0].ActivationHeight() - 1); !errors.Is(err, ErrNoVersion) {
				t.Fatalf("before the first version: %v", err)
			}
		}
	})
}

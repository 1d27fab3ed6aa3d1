package babylon

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/btcstake/btcstake/params"
)

// editVersions rewrites the recorded params_versions answer with f and
// parses it.
func editVersions(t *testing.T, f func(items []map[string]any) []map[string]any) *params.Versions {
	t.Helper()
	var resp struct {
		Params []map[string]any `json:"params"`
	}
	if err := json.Unmarshal(readTestdata(t, "bbn-1-params-versions.json"), &resp); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"params": f(resp.Params)})
	vs, err := params.ParseVersions(b)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func inner(it map[string]any) map[string]any { return it["params"].(map[string]any) }

func TestCompare(t *testing.T) {
	preset, err := params.Preset("bbn-1")
	if err != nil {
		t.Fatal(err)
	}
	same := editVersions(t, func(it []map[string]any) []map[string]any { return it })
	if d := Compare(preset, same, CompareOptions{}); len(d) != 0 {
		t.Fatalf("%v", d)
	}
	// Version 3 lists the same committee as version 2 in another order:
	// not a difference.
	if d := Compare(preset, editVersions(t, func(it []map[string]any) []map[string]any {
		keys := inner(it[4])["covenant_pks"].([]any)
		keys[0], keys[8] = keys[8], keys[0]
		return it
	}), CompareOptions{}); len(d) != 0 {
		t.Fatalf("reordered keys: %v", d)
	}
	// A new version 5, a raised fee and a replaced key in version 4.
	const newKey = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
	changed := editVersions(t, func(it []map[string]any) []map[string]any {
		v5 := map[string]any{"version": 5, "params": map[string]any{}}
		for k, v := range inner(it[4]) {
			inner(v5)[k] = v
		}
		inner(v5)["btc_activation_height"] = 900000
		p4 := inner(it[4])
		p4["unbonding_fee_sat"] = "12000"
		old := p4["covenant_pks"].([]any)[1].(string)
		p4["covenant_pks"].([]any)[1] = newKey
		if old != "4b15848e495a3a62283daaadb3f458a00859fe48e321f0121ebabbdd6698f9fa" {
			t.Fatalf("key 1 of version 4 is %s", old)
		}
		return append(it, v5)
	})
	d := Compare(preset, changed, CompareOptions{})
	want := []Difference{
		{Version: 4, Field: "covenant_pks", A: "4b15848e495a3a62283daaadb3f458a00859fe48e321f0121ebabbdd6698f9fa", B: newKey},
		{Version: 4, Field: "unbonding_fee_sat", A: "9600", B: "12000"},
		{Version: 5, Field: "version", B: "from height 900000"},
	}
	if len(d) != len(want) {
		t.Fatalf("%v", d)
	}
	for i := range want {
		if d[i] != want[i] {
			t.Fatalf("difference %d: %+v, want %+v", i, d[i], want[i])
		}
	}
	if s := d[1].Describe("preset", "chain"); s != "version 4: unbonding_fee_sat: 9600 (preset), 12000 (chain)" {
		t.Fatal(s)
	}
	if s := d[2].Describe("preset", "chain"); s != "version 5: only in chain (from height 900000)" {
		t.Fatal(s)
	}
	if s := Compare(changed, preset, CompareOptions{})[2].Describe("chain", "preset"); s != "version 5: only in chain (from height 900000)" {
		t.Fatal(s)
	}
	// The phase-1 preset against phase 2: the slashing values exist on
	// one side only, and the tag and caps on the other.
	p1, _ := params.Preset("bbn-1-phase1")
	var fields []string
	for _, x := range Compare(p1, preset, CompareOptions{}) {
		if x.Version == 0 {
			fields = append(fields, x.Field)
		}
	}
	got := strings.Join(fields, " ")
	for _, f := range []string{"slashing_rate", "tag", "confirmation_depth"} {
		if !strings.Contains(got, f) {
			t.Errorf("version 0 of phase 1 vs phase 2: %s lacks %s", got, f)
		}
	}
}

func BenchmarkCompare(b *testing.B) {
	preset, _ := params.Preset("bbn-1")
	other, _ := params.ParseVersions(readTestdata(b, "bbn-1-params-versions.json"))
	b.ReportAllocs()
	for b.Loop() {
		if len(Compare(preset, other, CompareOptions{})) != 0 {
			b.Fatal("differences")
		}
	}
}

package params

import (
	"math"
	"strings"
	"testing"
)

// versionAt is the oracle for At: a linear scan for the last version whose
// activation height is at most h.
func versionAt(heights []uint32, h uint32) int {
	found := -1
	for i, a := range heights {
		if a <= h {
			found = i
		}
	}
	return found
}

func mustVersion(t *testing.T, n, h uint32, p *Params) *Version {
	t.Helper()
	v, err := NewVersion(n, h, p, BabylonExtras{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAtSelectsTheVersionInForce(t *testing.T) {
	r := newRand(t)
	p := mustNew(t, testConfig(r))
	for round := range 200 {
		n := 1 + r.Intn(8)
		heights := make([]uint32, n)
		h := uint32(r.Intn(1000))
		for i := range heights {
			heights[i] = h
			h += 1 + uint32(r.Intn(1000))
		}
		first := uint32(r.Intn(100))
		var vs []*Version
		for i, a := range heights {
			vs = append(vs, mustVersion(t, first+uint32(i), a, p))
		}
		all, err := NewVersions(vs...)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		queries := []uint32{0, math.MaxUint32, uint32(r.Intn(int(h) + 10))}
		for _, a := range heights {
			queries = append(queries, a, a-1, a+1)
		}
		for _, q := range queries {
			want := versionAt(heights, q)
			got, err := all.At(q)
			if want < 0 {
				wantKind(t, err, ErrNoVersion)
				continue
			}
			if err != nil {
				t.Fatalf("round %d: At(%d): %v", round, q, err)
			}
			if got.Number() != first+uint32(want) || got.ActivationHeight() != heights[want] {
				t.Fatalf("round %d: At(%d) = version %d from %d, want %d from %d", round, q, got.Number(), got.ActivationHeight(), first+uint32(want), heights[want])
			}
		}
	}
}

func TestNewVersionsRules(t *testing.T) {
	r := newRand(t)
	p := mustNew(t, testConfig(r))
	v := func(n, h uint32) *Version { return mustVersion(t, n, h, p) }
	for _, c := range []struct {
		name string
		vs   []*Version
		msg  string
	}{
		{"none", nil, "no versions"},
		{"nil version", []*Version{v(0, 1), nil}, "not made by NewVersion"},
		{"zero version", []*Version{{}}, "not made by NewVersion"},
		{"gap in numbers", []*Version{v(0, 1), v(2, 5)}, "version 2 follows version 0"},
		{"duplicate number", []*Version{v(0, 1), v(0, 5)}, "version 0 follows version 0"},
		{"numbers going down", []*Version{v(3, 1), v(2, 5)}, "version 2 follows version 3"},
		{"number wraps around", []*Version{v(math.MaxUint32, 1), v(0, 5)}, "follows version 4294967295"},
		{"same height", []*Version{v(0, 5), v(1, 5)}, "activates at height 5, not after version 0 at 5"},
		{"height going down", []*Version{v(0, 5), v(1, 4)}, "activates at height 4"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewVersions(c.vs...)
			wantKind(t, err, ErrInvalidVersions)
			if !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("%q does not say %q", err, c.msg)
			}
		})
	}
	t.Run("unnumbered versions cannot be listed together", func(t *testing.T) {
		a, b := v(0, 1), v(1, 2)
		a.numbered = false
		_, err := NewVersions(a, b)
		wantKind(t, err, ErrInvalidVersions)
	})
	t.Run("one version at any number", func(t *testing.T) {
		vs, err := NewVersions(v(7, 100))
		if err != nil {
			t.Fatal(err)
		}
		got, err := vs.ByNumber(7)
		if err != nil || got.ActivationHeight() != 100 {
			t.Fatalf("ByNumber(7) = %v, %v", got, err)
		}
		_, err = vs.ByNumber(6)
		wantKind(t, err, ErrNoVersion)
	})
}

func TestNewVersionChecks(t *testing.T) {
	r := newRand(t)
	p := mustNew(t, testConfig(r))
	t.Run("zero params", func(t *testing.T) {
		_, err := NewVersion(0, 0, &Params{}, BabylonExtras{})
		wantKind(t, err, ErrInvalidParams)
		_, err = NewVersion(0, 0, nil, BabylonExtras{})
		wantKind(t, err, ErrInvalidParams)
	})
	for _, rate := range []string{"1.5", "-0.1", "0.1.2", "abc", ".5", "0.0000000000000000001"} {
		t.Run("commission "+rate, func(t *testing.T) {
			_, err := NewVersion(0, 0, p, BabylonExtras{MinCommissionRate: rate})
			wantKind(t, err, ErrInvalidParams)
		})
	}
	t.Run("commission is kept canonical", func(t *testing.T) {
		v, err := NewVersion(0, 0, p, BabylonExtras{MinCommissionRate: "0.050000000000000000"})
		if err != nil {
			t.Fatal(err)
		}
		if got := v.Babylon().MinCommissionRate; got != "0.05" {
			t.Fatalf("MinCommissionRate = %q", got)
		}
	})
	t.Run("negative cap", func(t *testing.T) {
		_, err := NewVersion(0, 0, p, BabylonExtras{StakingCap: -1})
		wantKind(t, err, ErrInvalidParams)
	})
}

func TestZeroVersions(t *testing.T) {
	for name, vs := range map[string]*Versions{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			_, err := vs.At(5)
			wantKind(t, err, ErrInvalidVersions)
			_, err = vs.ByNumber(0)
			wantKind(t, err, ErrInvalidVersions)
			if vs.Len() != 0 || vs.All() != nil && len(vs.All()) != 0 || vs.Latest() != nil {
				t.Fatal("a zero Versions reports versions")
			}
		})
	}
}

// TestVersionsImmutable: nothing a caller does to what Versions hands out
// changes the Versions.
func TestVersionsImmutable(t *testing.T) {
	vs, err := Preset("bbn-1")
	if err != nil {
		t.Fatal(err)
	}
	want := vs.Len()
	v, err := vs.At(893362)
	if err != nil {
		t.Fatal(err)
	}
	p := v.Params()
	*p = Params{}
	*v = Version{}
	all := vs.All()
	all[0] = nil
	*all[1] = Version{}
	latest := vs.Latest()
	*latest = Version{}
	again, err := vs.At(893362)
	if err != nil {
		t.Fatal(err)
	}
	if vs.Len() != want || again.Number() != 4 || !again.Params().Valid() || again.Params().UnbondingFee() != 9600 {
		t.Fatalf("the Versions changed: %d versions, version %d", vs.Len(), again.Number())
	}
	if got := vs.All(); got[0] == nil || got[1].Number() != 1 || got[1].ActivationHeight() != 864790 {
		t.Fatal("All changed")
	}

	// A lock-only version's Config is a copy too.
	ph1, err := Preset("bbn-1-phase1")
	if err != nil {
		t.Fatal(err)
	}
	lv, _ := ph1.At(857910)
	c := lv.Config()
	c.CovenantKeys[0] = c.CovenantKeys[1]
	c.Tag[0] ^= 0xff
	c2 := lv.Config()
	if c2.CovenantKeys[0].IsEqual(c2.CovenantKeys[1]) || string(c2.Tag) != "bbn1" {
		t.Fatal("a lock-only version's Config shares storage")
	}
	// Two Presets are independent values.
	other, _ := Preset("bbn-1")
	if other == vs {
		t.Fatal("Preset returned shared versions")
	}
}

func BenchmarkAt(b *testing.B) {
	vs, err := Preset("bbn-1")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := vs.At(857910 + uint32(i%40000)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseVersions(b *testing.B) {
	doc := readTestdata(b, "bbn-1-params-versions.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseVersions(doc); err != nil {
			b.Fatal(err)
		}
	}
}

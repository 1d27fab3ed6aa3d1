package params

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/btcstake/btcstake/script"
)

// wantValues are the values of one version, written out from the upstream
// sources (not computed by the code under test).
type wantValues struct {
	keys             []string // x-only hex, in order
	quorum           uint32
	minValue         int64
	maxValue         int64
	minTime, maxTime uint16
	unbondingTime    uint16
	unbondingFee     int64
	slashingScript   string // hex
	slashingRate     string
	minSlashingFee   int64
}

// bbn1Keys are bbn-1's covenant keys in the order of versions 0 to 2, and
// bbn1KeysV3 in the order of versions 3 and 4 (the last three moved).
var (
	bbn1Keys = []string{
		"d45c70d28f169e1f0c7f4a78e2bc73497afe585b70aa897955989068f3350aaa",
		"4b15848e495a3a62283daaadb3f458a00859fe48e321f0121ebabbdd6698f9fa",
		"23b29f89b45f4af41588dcaf0ca572ada32872a88224f311373917f1b37d08d1",
		"d3c79b99ac4d265c2f97ac11e3232c07a598b020cf56c6f055472c893c0967ae",
		"8242640732773249312c47ca7bdb50ca79f15f2ecc32b9c83ceebba44fb74df7",
		"e36200aaa8dce9453567bba108bdc51f7f1174b97a65e4dc4402fc5de779d41c",
		"cbdd028cfe32c1c1f2d84bfec71e19f92df509bba7b8ad31ca6c1a134fe09204",
		"f178fcce82f95c524b53b077e6180bd2d779a9057fdff4255a0af95af918cee0",
		"de13fc96ea6899acbdc5db3afaa683f62fe35b60ff6eb723dad28a11d2b12f8c",
	}
	bbn1KeysV3 = append(slices.Clone(bbn1Keys[:6]), bbn1Keys[7], bbn1Keys[8], bbn1Keys[6])
)

// The facts of issue 11: bbn-1 version 4 from BTC height 893362, and
// version 3 before it.
var (
	bbn1V4 = wantValues{keys: bbn1KeysV3, quorum: 6, minValue: 500_000, maxValue: 500_000_000_000,
		minTime: 64_000, maxTime: 64_000, unbondingTime: 1_008, unbondingFee: 9_600,
		slashingScript: "6a07626162796c6f6e", slashingRate: "0.001", minSlashingFee: 100_000}
	bbn1V3 = wantValues{keys: bbn1KeysV3, quorum: 6, minValue: 500_000, maxValue: 500_000_000_000,
		minTime: 64_000, maxTime: 64_000, unbondingTime: 1_008, unbondingFee: 32_000,
		slashingScript: "6a07626162796c6f6e", slashingRate: "0.001", minSlashingFee: 100_000}
)

func checkValues(t *testing.T, p *Params, w wantValues) {
	t.Helper()
	if !p.Valid() {
		t.Fatal("params not valid")
	}
	var keys []string
	for _, k := range p.CovenantKeys() {
		keys = append(keys, script.XOnly(k).String())
	}
	if !slices.Equal(keys, w.keys) {
		t.Errorf("covenant keys %v, want %v", keys, w.keys)
	}
	got := wantValues{keys: w.keys, quorum: p.CovenantQuorum(), minValue: p.MinStakingValue(), maxValue: p.MaxStakingValue(),
		minTime: p.MinStakingTime(), maxTime: p.MaxStakingTime(), unbondingTime: p.UnbondingTime(), unbondingFee: p.UnbondingFee(),
		slashingScript: hex.EncodeToString(p.SlashingPkScript()), slashingRate: p.SlashingRate(), minSlashingFee: p.MinSlashingFee()}
	got.keys = nil
	w.keys = nil
	if !equalValues(got, w) {
		t.Errorf("values\n got %+v\nwant %+v", got, w)
	}
}

func equalValues(a, b wantValues) bool {
	return slices.Equal(a.keys, b.keys) && a.quorum == b.quorum && a.minValue == b.minValue && a.maxValue == b.maxValue &&
		a.minTime == b.minTime && a.maxTime == b.maxTime && a.unbondingTime == b.unbondingTime &&
		a.unbondingFee == b.unbondingFee && a.slashingScript == b.slashingScript && a.slashingRate == b.slashingRate &&
		a.minSlashingFee == b.minSlashingFee
}

func mustPreset(t *testing.T, name string) *Versions {
	t.Helper()
	vs, err := Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestBBN1Preset(t *testing.T) {
	vs := mustPreset(t, "bbn-1")
	t.Run("893362 is version 4", func(t *testing.T) {
		v, err := vs.At(893362)
		if err != nil {
			t.Fatal(err)
		}
		if v.Number() != 4 || !v.NumberKnown() || v.ActivationHeight() != 893362 || v.LockOnly() {
			t.Fatalf("version %d (known %v) from %d", v.Number(), v.NumberKnown(), v.ActivationHeight())
		}
		checkValues(t, v.Params(), bbn1V4)
		// The slashing output script is OP_RETURN "babylon".
		if s := v.Params().SlashingPkScript(); s[0] != 0x6a || string(s[2:]) != "babylon" {
			t.Fatalf("slashing script %x", s)
		}
	})
	t.Run("893361 is version 3", func(t *testing.T) {
		v, err := vs.At(893361)
		if err != nil {
			t.Fatal(err)
		}
		if v.Number() != 3 || v.ActivationHeight() != 891425 {
			t.Fatalf("version %d from %d", v.Number(), v.ActivationHeight())
		}
		checkValues(t, v.Params(), bbn1V3)
	})
	t.Run("before the first version", func(t *testing.T) {
		for _, h := range []uint32{0, 1, 857909} {
			_, err := vs.At(h)
			wantKind(t, err, ErrNoVersion)
		}
	})
	t.Run("every activation height", func(t *testing.T) {
		// From babylon v1.0.0 app/upgrades/v1/mainnet/btcstaking_params.go
		// and, for 4, btc-staking-ts's registration.ts.
		heights := []uint32{857910, 864790, 874088, 891425, 893362}
		fees := []int64{64_000, 32_000, 32_000, 32_000, 9_600}
		maxValues := []int64{5_000_000, 50_000_000_000, 500_000_000_000, 500_000_000_000, 500_000_000_000}
		if vs.Len() != len(heights) {
			t.Fatalf("%d versions", vs.Len())
		}
		for i, h := range heights {
			for _, q := range []uint32{h, h + 1} {
				v, err := vs.At(q)
				if err != nil || v.Number() != uint32(i) {
					t.Fatalf("At(%d) = %v, %v; want version %d", q, v, err, i)
				}
				if v.Params().UnbondingFee() != fees[i] || v.Params().MaxStakingValue() != maxValues[i] {
					t.Fatalf("version %d: fee %d, max %d", i, v.Params().UnbondingFee(), v.Params().MaxStakingValue())
				}
			}
			if i > 0 {
				v, _ := vs.At(h - 1)
				if v.Number() != uint32(i-1) {
					t.Fatalf("At(%d) = version %d, want %d", h-1, v.Number(), i-1)
				}
			}
		}
		last, _ := vs.At(math.MaxUint32)
		if last.Number() != 4 || vs.Latest().Number() != 4 {
			t.Fatal("the last version is not 4")
		}
	})
	t.Run("Babylon's extras", func(t *testing.T) {
		v, _ := vs.At(893362)
		want := BabylonExtras{MinCommissionRate: "0.03", DelegationCreationBaseGasFee: 1_095_000, AllowListExpirationHeight: 139_920}
		if v.Babylon() != want {
			t.Fatalf("extras %+v, want %+v", v.Babylon(), want)
		}
	})
}

// TestBBN1PhasesAgree: the phase-1 global params (babylonlabs-io/networks)
// and the phase-2 params (babylon's v1 upgrade) are independent upstream
// files; phase-2 versions 0 to 2 carry phase-1's versions 0 to 2.
func TestBBN1PhasesAgree(t *testing.T) {
	ph1, ph2 := mustPreset(t, "bbn-1-phase1"), mustPreset(t, "bbn-1")
	if ph1.Len() != 3 {
		t.Fatalf("%d phase-1 versions", ph1.Len())
	}
	for i, a := range ph1.All() {
		b, err := ph2.ByNumber(uint32(i))
		if err != nil {
			t.Fatal(err)
		}
		ca, cb := a.Config(), b.Config()
		if a.ActivationHeight() != b.ActivationHeight() || ca.CovenantQuorum != cb.CovenantQuorum ||
			ca.MinStakingValue != cb.MinStakingValue || ca.MaxStakingValue != cb.MaxStakingValue ||
			ca.MinStakingTime != cb.MinStakingTime || ca.MaxStakingTime != cb.MaxStakingTime ||
			ca.UnbondingTime != cb.UnbondingTime || ca.UnbondingFee != cb.UnbondingFee {
			t.Errorf("version %d: phase 1 %+v from %d, phase 2 %+v from %d", i, ca, a.ActivationHeight(), cb, b.ActivationHeight())
		}
		if len(ca.CovenantKeys) != len(cb.CovenantKeys) {
			t.Fatalf("version %d: %d and %d keys", i, len(ca.CovenantKeys), len(cb.CovenantKeys))
		}
		for j := range ca.CovenantKeys {
			if script.XOnly(ca.CovenantKeys[j]) != script.XOnly(cb.CovenantKeys[j]) {
				t.Errorf("version %d: key %d differs", i, j)
			}
		}
	}
}

func TestBBN1Phase1Preset(t *testing.T) {
	vs := mustPreset(t, "bbn-1-phase1")
	if vs.Format() != FormatPhase1 {
		t.Fatalf("format %q", vs.Format())
	}
	v, err := vs.At(874088)
	if err != nil {
		t.Fatal(err)
	}
	if !v.LockOnly() || v.Params() != nil {
		t.Fatal("a phase-1 version is not lock-only")
	}
	_, err = v.StakingParams()
	wantKind(t, err, ErrLockOnly)
	c := v.Config()
	if string(c.Tag) != "bbn1" || c.SlashingPkScript != nil || c.SlashingRate != "" || c.MinSlashingFee != 0 {
		t.Fatalf("config %+v", c)
	}
	// From bbn-1/parameters/global-params.json, version 2.
	if got, want := v.Babylon(), (BabylonExtras{CapHeight: 875087, ConfirmationDepth: 10}); got != want {
		t.Fatalf("extras %+v, want %+v", got, want)
	}
	v0, _ := vs.At(857910)
	if got, want := v0.Babylon(), (BabylonExtras{StakingCap: 100_000_000_000, ConfirmationDepth: 10}); got != want {
		t.Fatalf("version 0 extras %+v, want %+v", got, want)
	}
	_, err = vs.At(857909)
	wantKind(t, err, ErrNoVersion)
}

func TestBBNTest6Preset(t *testing.T) {
	vs := mustPreset(t, "bbn-test-6")
	// From babylon v1.0.3 app/upgrades/v1/testnet/btcstaking_params.go.
	heights := []uint32{197535, 198665, 200665, 215968, 220637, 271923}
	if vs.Len() != len(heights) {
		t.Fatalf("%d versions", vs.Len())
	}
	for i, v := range vs.All() {
		if v.Number() != uint32(i) || v.ActivationHeight() != heights[i] {
			t.Fatalf("version %d from %d", v.Number(), v.ActivationHeight())
		}
	}
	v, err := vs.At(271923)
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, v.Params(), wantValues{
		keys: []string{
			"fa9d882d45f4060bdb8042183828cd87544f1ea997380e586cab77d5fd698737",
			"0aee0509b16db71c999238a4827db945526859b13c95487ab46725357c9a9f25",
			"17921cf156ccb4e73d428f996ed11b245313e37e27c978ac4d2cc21eca4672e4",
		},
		quorum: 2, minValue: 50_000, maxValue: 35_000_000_000, minTime: 10_000, maxTime: 64_000,
		unbondingTime: 301, unbondingFee: 2_000,
		slashingScript: "00145be12624d08a2b424095d7c07221c33450d14bf1", slashingRate: "0.05", minSlashingFee: 5_000,
	})
	src, err := PresetSource("bbn-test-6")
	if err != nil {
		t.Fatal(err)
	}
	if src.BitcoinNetwork != "signet" || src.CheckpointTag != hex.EncodeToString([]byte("bbt4")) {
		t.Fatalf("source %+v", src)
	}
}

// TestPresetCommitteesMatchNetworks: the covenant committees the networks
// repository publishes (testdata/networks-*.json, copied unchanged) agree
// with the presets: bbn-1's is version 4's; bbn-test-6's holds every key of
// versions 2 to 5 (version 5 uses three of them).
func TestPresetCommitteesMatchNetworks(t *testing.T) {
	committee := func(t *testing.T, file string) []string {
		b, err := os.ReadFile("testdata/" + file)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return keys
	}
	xonly := func(v *Version) []string {
		var keys []string
		for _, k := range v.Config().CovenantKeys {
			keys = append(keys, script.XOnly(k).String())
		}
		slices.Sort(keys)
		return keys
	}
	t.Run("bbn-1", func(t *testing.T) {
		v, _ := mustPreset(t, "bbn-1").At(893362)
		if got, want := xonly(v), committee(t, "networks-bbn-1-covenant-committee.json"); !slices.Equal(got, want) {
			t.Fatalf("preset %v, networks %v", got, want)
		}
	})
	t.Run("bbn-test-6", func(t *testing.T) {
		want := committee(t, "networks-bbn-test-6-covenant-committee.json")
		for _, v := range mustPreset(t, "bbn-test-6").All()[2:] {
			for _, k := range xonly(v) {
				if !slices.Contains(want, k) {
					t.Errorf("version %d: key %s is not in the published committee", v.Number(), k)
				}
			}
		}
	})
}

func TestRegtestPreset(t *testing.T) {
	vs := mustPreset(t, "regtest")
	if vs.Len() != 1 || vs.Format() != FormatBTCStake {
		t.Fatalf("%d versions, format %q", vs.Len(), vs.Format())
	}
	v, err := vs.At(0)
	if err != nil {
		t.Fatal(err)
	}
	if v.Number() != 0 || v.NumberKnown() || v.ActivationHeight() != 0 {
		t.Fatalf("version %d from %d", v.Number(), v.ActivationHeight())
	}
	got, _ := json.Marshal(v.Params())
	want, _ := json.Marshal(RegtestExample())
	if string(got) != string(want) {
		t.Fatalf("regtest preset %s, example %s", got, want)
	}
}

func TestPresetNamesAndErrors(t *testing.T) {
	if got, want := PresetNames(), []string{"bbn-1", "bbn-1-phase1", "bbn-test-6", "regtest"}; !slices.Equal(got, want) {
		t.Fatalf("PresetNames() = %v", got)
	}
	for _, name := range []string{"", "bbn-2", "BBN-1", "mainnet"} {
		t.Run("unknown "+name, func(t *testing.T) {
			_, err := Preset(name)
			wantKind(t, err, ErrUnknownPreset)
			_, err = PresetSource(name)
			wantKind(t, err, ErrUnknownPreset)
		})
	}
	for network, want := range map[string]string{"mainnet": "bbn-1", "signet": "bbn-test-6", "regtest": "regtest",
		"testnet": "", "testnet4": "", "simnet": "", "": ""} {
		if got := PresetForNetwork(network); got != want {
			t.Errorf("PresetForNetwork(%q) = %q, want %q", network, got, want)
		}
		if want != "" {
			src, err := PresetSource(want)
			if err != nil || src.BitcoinNetwork != network {
				t.Errorf("preset %s is for %q (%v)", want, src.BitcoinNetwork, err)
			}
		}
	}
}

// TestPresetSources: every preset cites its sources, each embedded
// upstream file is byte for byte the one recorded (its SHA-256), and each
// file parses in the format it is said to be in.
func TestPresetSources(t *testing.T) {
	commit := func(s string) bool { b, err := hex.DecodeString(s); return err == nil && len(b) == 20 }
	for _, name := range PresetNames() {
		t.Run(name, func(t *testing.T) {
			src, err := PresetSource(name)
			if err != nil {
				t.Fatal(err)
			}
			if src.Preset != name || src.Note == "" || len(src.Files) == 0 {
				t.Fatalf("source %+v", src)
			}
			if src.CheckpointTag != "" {
				if b, err := hex.DecodeString(src.CheckpointTag); err != nil || len(b) != 4 || src.CheckpointTagSource == "" {
					t.Fatalf("checkpoint tag %q from %q", src.CheckpointTag, src.CheckpointTagSource)
				}
			}
			for _, f := range src.Files {
				if f.Repository == "btcstake/btcstake" {
					if _, err := os.Stat("../" + f.Path); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if !strings.HasPrefix(f.Repository, "babylonlabs-io/") || f.Path == "" || !commit(f.Commit) || f.Ref == "" || f.Note == "" || src.Retrieved == "" {
					t.Fatalf("file %+v does not cite its source", f)
				}
				b, err := presetFS.ReadFile("presets/" + f.File)
				if err != nil {
					t.Fatal(err)
				}
				if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != f.SHA256 {
					t.Fatalf("%s: SHA-256 %x, sources.json says %s", f.File, sum, f.SHA256)
				}
				vs, err := ParseVersions(b)
				if err != nil {
					t.Fatalf("%s: %v", f.File, err)
				}
				if string(vs.Format()) != f.Format {
					t.Fatalf("%s: format %q, sources.json says %q", f.File, vs.Format(), f.Format)
				}
			}
		})
	}
	t.Run("returned sources are copies", func(t *testing.T) {
		a, _ := PresetSource("bbn-1")
		a.Files[0].Commit = "changed"
		b, _ := PresetSource("bbn-1")
		if b.Files[0].Commit == "changed" {
			t.Fatal("PresetSource shares storage")
		}
	})
}

func TestPresetsValidateEverywhere(t *testing.T) {
	// Every version of every preset either gives valid Params or is a
	// lock-only version with a committee; no preset fails to parse.
	for _, name := range PresetNames() {
		vs := mustPreset(t, name)
		for _, v := range vs.All() {
			if v.LockOnly() {
				if _, err := v.StakingParams(); !errors.Is(err, ErrLockOnly) {
					t.Errorf("%s version %d: %v", name, v.Number(), err)
				}
				continue
			}
			p, err := v.StakingParams()
			if err != nil || !p.Valid() {
				t.Errorf("%s version %d: %v", name, v.Number(), err)
			}
		}
	}
}

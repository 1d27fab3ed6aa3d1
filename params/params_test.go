package params

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2"
)

// newRand returns a seeded source, logging the seed; BTCSTAKE_SEED
// replays a run.
func newRand(t testing.TB) *rand.Rand {
	seed := time.Now().UnixNano()
	if s := os.Getenv("BTCSTAKE_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("BTCSTAKE_SEED: %v", err)
		}
	}
	t.Logf("seed %d (BTCSTAKE_SEED=%d replays it)", seed, seed)
	return rand.New(rand.NewSource(seed))
}

func randKey(r *rand.Rand) *btcec.PrivateKey {
	var b [32]byte
	r.Read(b[:])
	k, _ := btcec.PrivKeyFromBytes(b[:])
	return k
}

// testConfig is a valid 3-of-5 config with random keys.
func testConfig(r *rand.Rand) Config {
	var cov []*btcec.PublicKey
	for range 5 {
		cov = append(cov, randKey(r).PubKey())
	}
	return Config{
		CovenantKeys: cov, CovenantQuorum: 3,
		MinStakingValue: 10_000, MaxStakingValue: 10_000_000_000,
		MinStakingTime: 10, MaxStakingTime: 65535,
		UnbondingTime: 20, UnbondingFee: 1_000,
		SlashingPkScript: append([]byte{0x00, 0x14}, bytes.Repeat([]byte{7}, 20)...),
		SlashingRate:     "0.1", MinSlashingFee: 1_000, Tag: []byte("bbt4"),
	}
}

func mustNew(t *testing.T, c Config) *Params {
	t.Helper()
	p, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var allKinds = []error{ErrInvalidParams, ErrInvalidCovenant, ErrInvalidStakingValue, ErrInvalidStakingTime, ErrInvalidUnbondingTime,
	ErrInvalidUnbondingFee, ErrInvalidSlashingRate, ErrInvalidSlashingFee, ErrInvalidSlashingScript, ErrDustOutput,
	ErrUnknownFormat, ErrInvalidVersions, ErrNoVersion, ErrLockOnly, ErrUnknownPreset}

// wantKind fails unless err matches want and no other kind.
func wantKind(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
	for _, k := range allKinds {
		if k != want && errors.Is(err, k) {
			t.Errorf("%v also matches %v", err, k)
		}
	}
}

func TestParamsRules(t *testing.T) {
	r := newRand(t)
	raw, err := json.Marshal(mustNew(t, testConfig(r)))
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := json.Marshal(back); !bytes.Equal(again, raw) {
		t.Fatalf("params round trip:\n%s\n%s", raw, again)
	}
	mod := func(f func(m map[string]any)) []byte {
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	cases := []struct {
		name string
		json []byte
		want error
	}{
		{"not json", []byte("{"), ErrInvalidParams},
		{"trailing data", append(bytes.Clone(raw), []byte(` {"covenant_quorum": 5}`)...), ErrInvalidParams},
		{"unknown field", mod(func(m map[string]any) { m["covenant_quorom"] = 3 }), ErrInvalidParams},
		{"too large", append(bytes.Clone(raw), bytes.Repeat([]byte(" "), MaxFileSize)...), ErrInvalidParams},
		{"no covenant keys", mod(func(m map[string]any) { m["covenant_pks"] = []string{} }), ErrInvalidCovenant},
		{"covenant key not hex", mod(func(m map[string]any) { m["covenant_pks"].([]any)[0] = "zz" }), ErrInvalidCovenant},
		{"covenant key off curve", mod(func(m map[string]any) {
			m["covenant_pks"].([]any)[0] = "0000000000000000000000000000000000000000000000000000000000000005"
		}), ErrInvalidCovenant},
		{"duplicate covenant key", mod(func(m map[string]any) { c := m["covenant_pks"].([]any); c[1] = c[0] }), ErrInvalidCovenant},
		{"quorum zero", mod(func(m map[string]any) { m["covenant_quorum"] = 0 }), ErrInvalidCovenant},
		{"quorum not a majority", mod(func(m map[string]any) { m["covenant_quorum"] = 2 }), ErrInvalidCovenant},
		{"quorum above n", mod(func(m map[string]any) { m["covenant_quorum"] = 6 }), ErrInvalidCovenant},
		{"min staking value zero", mod(func(m map[string]any) { m["min_staking_value_sat"] = 0 }), ErrInvalidStakingValue},
		{"max below min", mod(func(m map[string]any) { m["max_staking_value_sat"] = 9_000 }), ErrInvalidStakingValue},
		{"max above the money supply", mod(func(m map[string]any) { m["max_staking_value_sat"] = MaxMoney + 1 }), ErrInvalidStakingValue},
		{"staking time zero", mod(func(m map[string]any) { m["min_staking_time_blocks"] = 0 }), ErrInvalidStakingTime},
		{"staking time too large", mod(func(m map[string]any) { m["max_staking_time_blocks"] = 65536 }), ErrInvalidStakingTime},
		{"max time below min", mod(func(m map[string]any) { m["max_staking_time_blocks"] = 5 }), ErrInvalidStakingTime},
		{"unbonding time zero", mod(func(m map[string]any) { m["unbonding_time_blocks"] = 0 }), ErrInvalidUnbondingTime},
		{"unbonding fee zero", mod(func(m map[string]any) { m["unbonding_fee_sat"] = 0 }), ErrInvalidUnbondingFee},
		{"unbonding fee at min value", mod(func(m map[string]any) { m["unbonding_fee_sat"] = 10_000 }), ErrInvalidUnbondingFee},
		{"slashing script empty", mod(func(m map[string]any) { m["slashing_pk_script"] = "" }), ErrInvalidSlashingScript},
		{"slashing script not hex", mod(func(m map[string]any) { m["slashing_pk_script"] = "0q" }), ErrInvalidSlashingScript},
		// OP_RETURN is allowed (Babylon mainnet slashes to OP_RETURN
		// "babylon"); a non-standard script is not.
		{"slashing script non-standard", mod(func(m map[string]any) { m["slashing_pk_script"] = "ac" }), ErrInvalidSlashingScript},
		{"rate zero", mod(func(m map[string]any) { m["slashing_rate"] = "0.0" }), ErrInvalidSlashingRate},
		{"rate one", mod(func(m map[string]any) { m["slashing_rate"] = "1" }), ErrInvalidSlashingRate},
		{"rate five decimals", mod(func(m map[string]any) { m["slashing_rate"] = "0.12345" }), ErrInvalidSlashingRate},
		{"rate with nothing after the point", mod(func(m map[string]any) { m["slashing_rate"] = "0." }), ErrInvalidSlashingRate},
		{"rate not a number", mod(func(m map[string]any) { m["slashing_rate"] = "0.1e" }), ErrInvalidSlashingRate},
		{"slashing fee zero", mod(func(m map[string]any) { m["min_slashing_tx_fee_sat"] = 0 }), ErrInvalidSlashingFee},
		{"tag three bytes", mod(func(m map[string]any) { m["tag"] = "626274" }), ErrInvalidParams},
		{"min stake slashes to dust", mod(func(m map[string]any) { m["slashing_rate"] = "0.001" }), ErrDustOutput},
		{"min stake leaves dust change", mod(func(m map[string]any) { m["min_slashing_tx_fee_sat"] = 7_800 }), ErrDustOutput},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse(c.json)
			if p != nil {
				t.Fatal("a refused document returned params")
			}
			wantKind(t, err, c.want)
		})
	}
}

func TestRatesWithTrailingZeros(t *testing.T) {
	r := newRand(t)
	for _, s := range []string{"0.1", "0.10000", "0.100000000000000000", "0.0005", "0.900000000000000000"} {
		c := testConfig(r)
		c.SlashingRate = s
		c.MinStakingValue = 1_000_000
		if _, err := New(c); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

// TestImmutable: nothing a caller does to the config it passed, to the
// Config copy, or to what accessors return changes validated params.
func TestImmutable(t *testing.T) {
	r := newRand(t)
	c := testConfig(r)
	p := mustNew(t, c)
	before, _ := json.Marshal(p)

	// The caller's config, changed after New.
	c.CovenantQuorum = 1
	c.SlashingRate = "0.5"
	c.SlashingPkScript[2] ^= 0xff
	c.Tag[0] = 'x'
	c.CovenantKeys[0] = randKey(r).PubKey()
	// The copies accessors hand out.
	p.SlashingPkScript()[2] ^= 0xff
	p.Tag()[0] = 'y'
	p.CovenantKeys()[1] = randKey(r).PubKey()
	cfg := p.Config()
	cfg.CovenantQuorum = 1
	cfg.CovenantKeys[2] = randKey(r).PubKey()
	cfg.SlashingPkScript[3] ^= 0xff

	after, _ := json.Marshal(p)
	if !bytes.Equal(before, after) {
		t.Fatalf("params changed:\n%s\n%s", before, after)
	}
	if p.CovenantQuorum() != 3 || p.Rate() != 0.1 || p.SlashingAmount(1000) != 100 {
		t.Fatalf("quorum %d, rate %v", p.CovenantQuorum(), p.Rate())
	}
}

// TestConfigRevalidates: a Config taken from valid params and made invalid
// is refused by New, with the rule's kind.
func TestConfigRevalidates(t *testing.T) {
	r := newRand(t)
	p := mustNew(t, testConfig(r))
	c := p.Config()
	c.CovenantQuorum = 1 // 1 of 5: not a majority
	_, err := New(c)
	wantKind(t, err, ErrInvalidCovenant)
	c = p.Config()
	c.SlashingRate = "0.5000001"
	_, err = New(c)
	wantKind(t, err, ErrInvalidSlashingRate)
}

// TestWholeValueCopies: a struct copy of valid params is valid and
// independent; overwriting the original with the zero value invalidates
// only it.
func TestWholeValueCopies(t *testing.T) {
	p := RegtestExample()
	want, _ := json.Marshal(p)
	q := *p
	*p = Params{}
	if p.Valid() {
		t.Fatal("params overwritten with the zero value still report valid")
	}
	got, _ := json.Marshal(&q)
	if !q.Valid() || !bytes.Equal(got, want) {
		t.Fatalf("the copy changed with the original:\n%s\n%s", got, want)
	}
}

func TestZeroParamsNotValid(t *testing.T) {
	var nilP *Params
	if nilP.Valid() || new(Params).Valid() {
		t.Fatal("nil or zero params must not be valid")
	}
	if !RegtestExample().Valid() {
		t.Fatal("the regtest example must be valid")
	}
}

// TestSlashingAmountVectors pins Babylon's rounding: the product is
// rounded half away from zero (btcutil.Amount.MulF64), never floored,
// truncated or rounded half to even. Each product below ends in exactly .5
// in float64.
func TestSlashingAmountVectors(t *testing.T) {
	r := newRand(t)
	for _, v := range []struct {
		rate  string
		value int64
		want  int64
	}{
		{"0.1", 5, 1},  // 0.5 -> 1 (floor: 0)
		{"0.1", 15, 2}, // 1.5 -> 2
		{"0.1", 25, 3}, // 2.5 -> 3 (half to even: 2)
		{"0.5", 3, 2},  // 1.5 -> 2
		{"0.5", 1_000_001, 500_001},
		{"0.25", 1_000_002, 250_001}, // 250000.5 -> 250001
		{"0.1", 2_000_000, 200_000},
		{"0.0001", 15_000, 2}, // 1.5 -> 2
		{"0.1", 14, 1},        // 1.4 -> 1 (ceiling: 2)
	} {
		t.Run(v.rate+"x"+strconv.FormatInt(v.value, 10), func(t *testing.T) {
			c := testConfig(r)
			c.SlashingRate = v.rate
			c.MinStakingValue = 10_000_000 // keeps every rate above slashable
			c.MinSlashingFee = 1_000
			p := mustNew(t, c)
			if got := p.SlashingAmount(v.value); got != v.want {
				t.Fatalf("SlashingAmount(%d) at %s = %d, want %d", v.value, v.rate, got, v.want)
			}
			// Babylon's own computation, by the library it uses.
			if got := int64(btcutil.Amount(v.value).MulF64(p.Rate())); got != v.want {
				t.Fatalf("btcutil gives %d, vector says %d", got, v.want)
			}
		})
	}
}

// TestSlashingAmountMatchesBtcutil compares with btcutil.Amount.MulF64 on
// random values and rates, including products just below a half.
func TestSlashingAmountMatchesBtcutil(t *testing.T) {
	r := newRand(t)
	c := testConfig(r)
	c.MinStakingValue = 100_000_000
	c.MaxStakingValue = MaxMoney
	for i := 0; i < 500; i++ {
		c.SlashingRate = "0." + strconv.Itoa(1000+r.Intn(9000))
		p := mustNew(t, c)
		for j := 0; j < 100; j++ {
			v := r.Int63n(MaxMoney)
			if j%2 == 0 {
				v = r.Int63n(100_000)
			}
			if got, want := p.SlashingAmount(v), int64(btcutil.Amount(v).MulF64(p.Rate())); got != want {
				t.Fatalf("value %d rate %s: %d, btcutil %d", v, c.SlashingRate, got, want)
			}
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), MaxFileSize+10), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(big)
	wantKind(t, err, ErrInvalidParams)
	_, err = Load(filepath.Join(dir, "missing.json"))
	wantKind(t, err, ErrInvalidParams)
	p, err := Load("regtest-example.json")
	if err != nil {
		t.Fatal(err)
	}
	if p.CovenantQuorum() != 2 || len(p.CovenantKeys()) != 3 || string(p.Tag()) != "bbt4" {
		t.Fatalf("regtest example: %+v", p.Config())
	}
	a, _ := json.Marshal(p)
	b, _ := json.Marshal(RegtestExample())
	if !bytes.Equal(a, b) {
		t.Fatal("the embedded example differs from the file")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(RegtestExampleJSON())
	f.Add([]byte(`{"covenant_pks":[]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := Parse(in)
		if err != nil {
			if p != nil {
				t.Fatal("params returned with an error")
			}
			return
		}
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		p2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		out2, _ := json.Marshal(p2)
		if !bytes.Equal(out, out2) {
			t.Fatal("params do not round-trip")
		}
	})
}

// TestSlashingRatePrecision: at most 4 significant decimals; trailing zeros
// (as Babylon's sdk.Dec prints rates, e.g. "0.100000000000000000") are fine.
func TestSlashingRatePrecision(t *testing.T) {
	for s, want := range map[string]float64{"0.1": 0.1, "0.10000": 0.1, "0.100000000000000000": 0.1, "0.0001": 0.0001, "0.9999": 0.9999, "0.00010": 0.0001} {
		if r, err := parseRate(s); err != nil || r != want {
			t.Errorf("%q: %v, %v", s, r, err)
		}
	}
	for _, s := range []string{"0.00001", "0.12345", "0.0", "0.", "1", "0.1e1", ".1", "0.-1", "0. 1"} {
		if _, err := parseRate(s); !errors.Is(err, ErrInvalidSlashingRate) {
			t.Errorf("%q accepted: %v", s, err)
		}
	}
}

// TestEmptySlashingScriptSaysEmpty: an empty slashing script is named as
// such, not shown as an empty hex string ("invalid slashing script:  is not
// a standard output script").
func TestEmptySlashingScriptSaysEmpty(t *testing.T) {
	c := RegtestExample().Config()
	c.SlashingPkScript = nil
	_, err := New(c)
	if !errors.Is(err, ErrInvalidSlashingScript) {
		t.Fatalf("New with an empty slashing script: %v, want ErrInvalidSlashingScript", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "empty") || strings.Contains(msg, "  ") {
		t.Errorf("error %q: want it to say the script is empty", msg)
	}
}

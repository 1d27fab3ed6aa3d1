package psbt

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

func TestRealNetwork(t *testing.T) {
	for _, c := range []struct {
		net  *chaincfg.Params
		real bool
	}{
		{&chaincfg.MainNetParams, true}, {&chaincfg.SigNetParams, true}, {&chaincfg.TestNet3Params, true},
		{&chaincfg.TestNet4Params, true}, {nil, true}, {&chaincfg.RegressionNetParams, false}, {&chaincfg.SimNetParams, false},
	} {
		if got := RealNetwork(c.net); got != c.real {
			t.Errorf("%v: %v", c.net, got)
		}
	}
}

func TestPlanStake(t *testing.T) {
	bbn1, err := params.Preset("bbn-1")
	if err != nil {
		t.Fatal(err)
	}
	phase1, _ := params.Preset("bbn-1-phase1")
	regtest, _ := params.Preset("regtest")
	staker, fp := testKey("plan staker"), testKey("plan fp")
	req := func(f func(*StakePlanRequest)) StakePlanRequest {
		r := StakePlanRequest{Net: &chaincfg.MainNetParams, Versions: bbn1, Height: 893362, HeightKnown: true,
			Staker: staker.PubKey(), FinalityProviders: []*btcec.PublicKey{fp.PubKey()}, StakingTime: 64000, Value: 1_000_000}
		if f != nil {
			f(&r)
		}
		return r
	}

	// Version 4 from 893362: the values of issue 11, written out.
	p, err := PlanStake(req(nil))
	if err != nil {
		t.Fatal(err)
	}
	pp := p.Delegation.Params
	if !p.Confirm || p.Version.Number() != 4 || p.Version.ActivationHeight() != 893362 || p.Next != nil || pp.UnbondingFee() != 9600 ||
		pp.CovenantQuorum() != 6 || len(pp.CovenantKeys()) != 9 || p.Value != 1_000_000 || p.Height != 893362 {
		t.Fatalf("%+v", p)
	}
	if p.LockDuration() != 64000*10*time.Minute || p.UnbondingDuration() != 1008*10*time.Minute {
		t.Fatalf("durations %v %v", p.LockDuration(), p.UnbondingDuration())
	}
	// The delegation builds the same staking output as one made by hand.
	want, _ := script.NewStakingOutput(script.Parties{Staker: staker.PubKey(), FinalityProviders: []*btcec.PublicKey{fp.PubKey()},
		Covenant: pp.CovenantKeys(), CovenantQuorum: 6}, 64000)
	got, err := p.Delegation.StakingOutput()
	if err != nil || string(got.PkScript) != string(want.PkScript) {
		t.Fatal("the plan's delegation is not the stake asked for")
	}
	// One block earlier: version 3, and version 4 is next.
	p, err = PlanStake(req(func(r *StakePlanRequest) { r.Height = 893361 }))
	if err != nil || p.Version.Number() != 3 || p.Delegation.Params.UnbondingFee() != 32000 || p.Next == nil || p.Next.Number() != 4 {
		t.Fatalf("at 893361: %+v %v", p, err)
	}
	// Signet counts as real too.
	if p, err := PlanStake(req(func(r *StakePlanRequest) { r.Net = &chaincfg.SigNetParams })); err != nil || !p.Confirm {
		t.Fatalf("signet: %v", err)
	}
	// Regtest with one version: no height needed, nothing to confirm.
	p, err = PlanStake(req(func(r *StakePlanRequest) {
		r.Net, r.Versions, r.HeightKnown, r.Height, r.StakingTime, r.Value = &chaincfg.RegressionNetParams, regtest, false, 0, 144, 100_000
	}))
	if err != nil || p.Confirm || p.HeightKnown {
		t.Fatalf("regtest: %+v %v", p, err)
	}

	for _, c := range []struct {
		name string
		f    func(*StakePlanRequest)
		kind error
		text string
	}{
		{"mainnet without a height", func(r *StakePlanRequest) { r.HeightKnown = false }, ErrNoHeight, "mainnet"},
		{"testnet4 without a height, one version", func(r *StakePlanRequest) {
			r.Net, r.Versions, r.HeightKnown, r.StakingTime, r.Value = &chaincfg.TestNet4Params, regtest, false, 144, 100_000
		}, ErrNoHeight, "testnet4"},
		{"regtest with several versions and no height", func(r *StakePlanRequest) { r.Net, r.HeightKnown = &chaincfg.RegressionNetParams, false }, ErrNoHeight, "5 versions"},
		{"before the first version", func(r *StakePlanRequest) { r.Height = 857909 }, params.ErrNoVersion, "857910"},
		{"phase 1", func(r *StakePlanRequest) { r.Versions, r.Height = phase1, 900000 }, params.ErrLockOnly, "phase-1"},
		{"below the minimum of version 4", func(r *StakePlanRequest) { r.Value = 499_999 }, params.ErrInvalidStakingValue, "params version 4 (from height 893362, in force at height 893362)"},
		{"above the maximum of version 0", func(r *StakePlanRequest) { r.Height, r.Value = 857910, 5_000_001 }, params.ErrInvalidStakingValue, "params version 0"},
		{"a staking time the version does not allow", func(r *StakePlanRequest) { r.StakingTime = 63999 }, params.ErrInvalidStakingTime, "64000..64000"},
		{"no versions", func(r *StakePlanRequest) { r.Versions = nil }, params.ErrInvalidVersions, ""},
		{"staker is the finality provider", func(r *StakePlanRequest) { r.FinalityProviders = []*btcec.PublicKey{staker.PubKey()} }, script.ErrDuplicateKey, ""},
	} {
		_, err := PlanStake(req(c.f))
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: %v, want %v with %q", c.name, err, c.kind, c.text)
		}
	}
}

func testKey(label string) *btcec.PrivateKey {
	h := sha256.Sum256([]byte(label))
	k, _ := btcec.PrivKeyFromBytes(h[:])
	return k
}

package params_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/btcstake/btcstake/params"
)

func ExampleNew() {
	// Start from the example regtest parameters and ask for a 1-of-3
	// committee: New validates every rule, so the change is refused.
	cfg := params.RegtestExample().Config()
	cfg.CovenantQuorum = 1
	_, err := params.New(cfg)
	fmt.Println(errors.Is(err, params.ErrInvalidCovenant))

	// A valid change gives new params; the old ones never change.
	cfg.CovenantQuorum = 3
	p, err := params.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.CovenantQuorum(), "of", len(p.CovenantKeys()))
	fmt.Println("slashed from 100000 sat:", p.SlashingAmount(100_000))
	// Output:
	// true
	// 3 of 3
	// slashed from 100000 sat: 10000
}

func ExamplePreset() {
	// Babylon's mainnet (bbn-1) params, as embedded, and the version in
	// force at Bitcoin height 893362.
	versions, err := params.Preset("bbn-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := versions.At(893362)
	if err != nil {
		fmt.Println(err)
		return
	}
	p := v.Params()
	fmt.Println("version", v.Number(), "from height", v.ActivationHeight())
	fmt.Println("covenant:", p.CovenantQuorum(), "of", len(p.CovenantKeys()))
	fmt.Println("stake:", p.MinStakingValue(), "to", p.MaxStakingValue(), "sat for", p.MinStakingTime(), "blocks")
	fmt.Println("unbonding:", p.UnbondingTime(), "blocks, fee", p.UnbondingFee(), "sat")
	fmt.Printf("slashing: %s to %x, fee at least %d sat\n", p.SlashingRate(), p.SlashingPkScript(), p.MinSlashingFee())

	// One block earlier, version 3 was in force; before the first
	// version, none.
	v3, _ := versions.At(893361)
	fmt.Println("at 893361: version", v3.Number(), "with unbonding fee", v3.Params().UnbondingFee())
	_, err = versions.At(857909)
	fmt.Println(errors.Is(err, params.ErrNoVersion))
	// Output:
	// version 4 from height 893362
	// covenant: 6 of 9
	// stake: 500000 to 500000000000 sat for 64000 blocks
	// unbonding: 1008 blocks, fee 9600 sat
	// slashing: 0.001 to 6a07626162796c6f6e, fee at least 100000 sat
	// at 893361: version 3 with unbonding fee 32000
	// true
}

func ExampleParseVersions() {
	// A response of Babylon's REST endpoint
	// /babylon/btcstaking/v1/params/btc_height/{h}: 64-bit numbers as
	// strings, the slashing script in base64, the rate as a LegacyDec.
	doc := []byte(`{"params": {
		"covenant_pks": ["8fe47b8f29b755350d4fd2eaaa881887d51caeb9edc030b5a7d94ce2e751da6a",
			"77852b76d2647acaba4f15d946323690fbe225b8849d08d0e8e79adb908710f9",
			"f7204a88a5d9d4b71bcce72b9325d8472f5b482e8c0487d5d11cfdc737a5f613"],
		"covenant_quorum": 2,
		"min_staking_value_sat": "50000", "max_staking_value_sat": "10000000000",
		"min_staking_time_blocks": 5, "max_staking_time_blocks": 65535,
		"slashing_pk_script": "agdiYWJ5bG9u", "min_slashing_tx_fee_sat": "1000",
		"slashing_rate": "0.100000000000000000",
		"unbonding_time_blocks": 10, "unbonding_fee_sat": "1000",
		"min_commission_rate": "0.030000000000000000",
		"delegation_creation_base_gas_fee": "1095000",
		"allow_list_expiration_height": "0",
		"btc_activation_height": 200,
		"a_field_babylon_adds_later": true
	}, "version": 1}`)
	versions, err := params.ParseVersions(doc)
	if err != nil {
		fmt.Println(err)
		return
	}
	v := versions.Latest()
	fmt.Println(versions.Format(), "version", v.Number(), "from height", v.ActivationHeight())
	fmt.Println("rate", v.Params().SlashingRate(), "commission", v.Babylon().MinCommissionRate)

	// A value outside the protocol is refused, naming the field.
	_, err = params.ParseVersions(bytes.Replace(doc, []byte(`"covenant_quorum": 2`), []byte(`"covenant_quorum": 4`), 1))
	fmt.Println(err)
	// Output:
	// babylon-params version 1 from height 200
	// rate 0.1 commission 0.03
	// version 1: covenant_quorum: invalid covenant committee: quorum 4 of 3 keys (need 0 < quorum <= n and 2*quorum > n)
}

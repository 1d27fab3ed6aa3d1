package params

import (
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/v2"
)

// Babylon's rules for the outputs of a slashing transaction
// (babylonlabs-io/babylon v4.3.1, commit
// a93eadc9ed357429735a1ddc3a77ec79b066b2b3, btcstaking/staking.go,
// validateSlashingTx and buildSlashingTxFromOutpoint): the slashing output
// carries at least btcutil.Amount(value).MulF64(rate), a positive value
// ("values of slashing and staking transaction must be larger than 0"),
// and is not dust unless its script starts with OP_RETURN; the change
// output is not dust. Babylon's own params check
// (x/btcstaking/types/params.go, validateNoDustSlashingOutput) skips
// OP_RETURN scripts, so it accepts params whose smallest stake could never
// be slashed; btcstake refuses them (docs/spec.md §4.6).

var opReturnBabylon = []byte{0x6a, 0x07, 'b', 'a', 'b', 'y', 'l', 'o', 'n'}

// The params of issue 11 (item 8d): slashing to OP_RETURN at rate 0.0001
// with a minimum stake of 2,000 sat slash 0 sat at the minimum stake. They
// were already refused by the re-cut's CheckSlashable (commit 394a96f);
// this pins it.
func TestZeroSlashingAmountParamsRefused(t *testing.T) {
	c := testConfig(newRand(t))
	c.SlashingPkScript = opReturnBabylon
	c.SlashingRate = "0.0001"
	c.MinStakingValue, c.UnbondingFee, c.MinSlashingFee = 2_000, 500, 500
	_, err := New(c)
	wantKind(t, err, ErrDustOutput)
	if !strings.Contains(err.Error(), "is 0 sat") {
		t.Errorf("error does not say the slashing amount is 0: %v", err)
	}
}

// TestCheckSlashableAsBabylon compares CheckSlashable, value by value
// across the boundary, with the rules above computed here with btcutil
// (Babylon's arithmetic) and Bitcoin Core's documented dust thresholds
// (330 sat for P2TR, 294 for P2WPKH).
func TestCheckSlashableAsBabylon(t *testing.T) {
	const p2trDust, p2wpkhDust = 330, 294
	p2wpkhScript := append([]byte{0x00, 0x14}, make([]byte, 20)...)
	for _, c := range []struct {
		name     string
		script   []byte
		dust     int64 // of the slashing output; 0: exempt (OP_RETURN)
		min      int64
		from, to int64
	}{
		{"op_return", opReturnBabylon, 0, 10_000, 1, 20_000},
		{"p2wpkh", p2wpkhScript, p2wpkhDust, 3_000_000, 2_930_000, 2_950_000},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(newRand(t))
			cfg.SlashingPkScript, cfg.SlashingRate = c.script, "0.0001"
			cfg.MinStakingValue, cfg.UnbondingFee, cfg.MinSlashingFee = c.min, 500, 500
			p := mustNew(t, cfg)
			ok := func(v int64) bool {
				unbonded := v - 500
				if unbonded < p2trDust {
					return false
				}
				for _, x := range []int64{v, unbonded} {
					slash := int64(btcutil.Amount(x).MulF64(0.0001))
					if slash <= 0 || slash < c.dust || x-slash-500 < p2trDust {
						return false
					}
				}
				return true
			}
			refused, accepted := 0, 0
			for v := c.from; v <= c.to; v++ {
				err := p.CheckSlashable(v)
				if want := ok(v); (err == nil) != want {
					t.Fatalf("CheckSlashable(%d) = %v, the rules say ok=%v", v, err, want)
				}
				if err != nil {
					wantKind(t, err, ErrDustOutput)
					refused++
				} else {
					accepted++
				}
			}
			if refused == 0 || accepted == 0 {
				t.Fatalf("the range does not cross the boundary: %d refused, %d accepted", refused, accepted)
			}
		})
	}
}

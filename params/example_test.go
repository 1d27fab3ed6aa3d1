package params_test

import (
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

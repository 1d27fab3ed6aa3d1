package watch

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/btcstake/btcstake/script"
)

// exampleTB stands in for a *testing.T in examples: the fixture helpers
// panic on a failure, which an example's output would show.
type exampleTB struct{}

func (exampleTB) Helper()                           {}
func (exampleTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (exampleTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// Watch the delegations whose lifecycle PSBTs sit in a directory, named
// as docs/tutorial.md names them; the files here are made with package
// psbt's builders and signers, as the CLI makes them. The second
// delegation's slashing PSBT was adaptor-signed by one covenant member
// only, so it cannot be completed yet, and the error says whose
// signatures are missing.
func ExampleFromPSBTDir() {
	t := exampleTB{}
	w := newWorld(t, 7, 2, 3, 2) // 2 finality providers, a 2-of-3 covenant
	versions := versionsOf(t, w.params)
	a := w.delegate(t, []int{0}, 200_000, 1000, false, []int{0, 1})
	b := w.delegate(t, []int{1}, 350_000, 5000, true, []int{2})

	dir, err := os.MkdirTemp("", "psbtdir")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	files(t, dir, map[string]string{
		"stake.psbt":              b64(t, a.stakingPSBT),
		"unbond.psbt":             b64(t, a.unbondingPSBT),
		"slash.psbt":              b64(t, a.slashing),
		"unbonding-slashing.psbt": b64(t, a.unbondingSlashing),
		"withdraw.psbt":           b64(t, w.withdrawPSBT(t, a)), // not needed: skipped
		"stake2.psbt":             b64(t, b.stakingPSBT),
		"slash2.psbt":             b64(t, b.slashing),
	})

	entries, err := FromPSBTDir(dir, versions)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, e := range entries {
		fmt.Printf("delegation %d: %d sat for %d blocks, unbonding tx %v, slashing PSBTs: staking %v, unbonding %v\n",
			i+1, e.Value(), e.Delegation().StakingTime, e.UnbondingTx() != nil,
			e.SlashingPSBT(script.StakingOutputKind) != nil, e.SlashingPSBT(script.UnbondingOutputKind) != nil)
	}
	if _, err := entries[0].CompleteSlashing(script.StakingOutputKind, w.fps[0]); err == nil {
		fmt.Println("delegation 1: slashing completed with its provider's key")
	}
	_, err = entries[1].CompleteSlashing(script.StakingOutputKind, w.fps[1])
	var missing *MissingAdaptorSigsError
	if errors.As(err, &missing) {
		fmt.Printf("delegation 2: %d of %d adaptor signatures; %d members missing\n", missing.Valid, missing.Needed, len(missing.Missing))
	}
	// Output:
	// delegation 1: 200000 sat for 1000 blocks, unbonding tx true, slashing PSBTs: staking true, unbonding true
	// delegation 2: 350000 sat for 5000 blocks, unbonding tx false, slashing PSBTs: staking true, unbonding false
	// delegation 1: slashing completed with its provider's key
	// delegation 2: 1 of 2 adaptor signatures; 2 members missing
}

// A watch list with one delegation given by its staking transaction and
// keys, and a directory of PSBTs next to the list (LoadWatchList takes
// relative paths from the list's directory).
func ExampleLoadWatchList() {
	t := exampleTB{}
	w := newWorld(t, 8, 2, 3, 2)
	versions := versionsOf(t, w.params)
	a := w.delegate(t, []int{0}, 200_000, 1000, false, nil)
	b := w.delegate(t, []int{1}, 500_000, 3000, false, []int{0, 2})

	dir, err := os.MkdirTemp("", "watchlist")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	if err := os.Mkdir(filepath.Join(dir, "bob"), 0o755); err != nil {
		fmt.Println(err)
		return
	}
	files(t, filepath.Join(dir, "bob"), map[string]string{"stake.psbt": b64(t, b.stakingPSBT), "slash.psbt": b64(t, b.slashing)})
	doc, _ := json.MarshalIndent(map[string]any{"entries": []map[string]any{
		{
			"staking_tx":         txHexOf(a.stakingTx),
			"staker_pk":          xonlyHexKey(a.d.Staker),
			"finality_providers": []string{xonlyHexKey(a.d.FinalityProviders[0])},
			"staking_time":       1000,
			"params_version":     0,
		},
		{"psbt_dir": "bob"},
	}}, "", "  ")
	files(t, dir, map[string]string{"watch.json": string(doc)})

	entries, err := LoadWatchList(filepath.Join(dir, "watch.json"), versions)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range entries {
		fmt.Printf("%s: %d sat, confirmed at depth %d, can slash: %v\n", e.Source(), e.Value(), e.ConfirmationDepth(),
			e.SlashingPSBT(script.StakingOutputKind) != nil)
	}
	// Output:
	// staking_tx: 200000 sat, confirmed at depth 10, can slash: false
	// psbt_dir: 500000 sat, confirmed at depth 10, can slash: true
}

// A finality provider's key leaks (an EOTS double-sign): complete the
// pre-signed slashing transaction of one of its delegations; anyone who
// sees that transaction on chain and holds the covenant's adaptor
// signatures recovers the key, and can slash every other delegation of
// that provider.
func ExampleEntry_CompleteSlashing() {
	t := exampleTB{}
	w := newWorld(t, 9, 1, 3, 2)
	e := w.delegate(t, []int{0}, 400_000, 1000, false, []int{0, 1, 2}).entry(t)
	other := w.delegate(t, []int{0}, 250_000, 2000, false, []int{1, 2}).entry(t)

	tx, err := e.CompleteSlashing(script.StakingOutputKind, w.fps[0])
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("slashing tx outputs:", tx.TxOut[0].Value, tx.TxOut[1].Value)

	fp, sk, err := RecoverKey(e, tx, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("recovered the provider's key:", script.XOnly(sk.PubKey()) == script.XOnly(fp) && script.XOnly(fp) == script.XOnly(w.fps[0].PubKey()))
	if _, err := other.CompleteSlashing(script.UnbondingOutputKind, sk); err == nil {
		fmt.Println("the other delegation's unbonding output slashed too")
	}
	// Output:
	// slashing tx outputs: 40000 359000
	// recovered the provider's key: true
	// the other delegation's unbonding output slashed too
}

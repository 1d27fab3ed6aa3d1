package main

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/script"
)

func init() {
	register(newScriptCmd)
	// "stake parse" (tx.go) was first spelt parse-staking-tx.
	register(deprecatedAlias("parse-staking-tx", "stake parse", newParseStakingTxCmd))
}

// partyFlags are the flags naming a delegation's keys.
type partyFlags struct {
	staker   string
	fps      []string
	covenant []string
	quorum   uint32
}

func (f *partyFlags) add(cmd *cobra.Command, withStakerAndFP bool) {
	if withStakerAndFP {
		cmd.Flags().StringVar(&f.staker, "staker-pk", "", "staker public key (hex, 32-byte x-only or 33-byte compressed)")
		cmd.Flags().StringArrayVar(&f.fps, "fp-pk", nil, "finality provider public key (repeatable)")
		_ = cmd.MarkFlagRequired("staker-pk")
		_ = cmd.MarkFlagRequired("fp-pk")
	}
	cmd.Flags().StringArrayVar(&f.covenant, "covenant-pk", nil, "covenant committee public key (repeatable)")
	cmd.Flags().Uint32Var(&f.quorum, "covenant-quorum", 0, "covenant signatures required (1..number of covenant keys)")
	_ = cmd.MarkFlagRequired("covenant-pk")
	_ = cmd.MarkFlagRequired("covenant-quorum")
}

func (f *partyFlags) parties() (script.Parties, error) {
	var p script.Parties
	var err error
	if p.Staker, err = parsePubKey("staker-pk", f.staker); err != nil {
		return p, err
	}
	if p.FinalityProviders, err = parsePubKeys("fp-pk", f.fps); err != nil {
		return p, err
	}
	if p.Covenant, err = parsePubKeys("covenant-pk", f.covenant); err != nil {
		return p, err
	}
	p.CovenantQuorum = f.quorum
	return p, nil
}

// flagError names the flags behind a script-package validation error.
func flagError(err error) error {
	switch {
	case errors.Is(err, script.ErrInvalidQuorum), errors.Is(err, script.ErrNoCovenantKeys):
		return fmt.Errorf("--covenant-quorum/--covenant-pk: %w", err)
	case errors.Is(err, script.ErrDuplicateKey):
		return fmt.Errorf("--staker-pk/--fp-pk/--covenant-pk: %w", err)
	case errors.Is(err, script.ErrNoFinalityProvider):
		return fmt.Errorf("--fp-pk: %w", err)
	}
	return err
}

// timelockFlag validates a time lock flag (1..65535 blocks).
func timelockFlag(name string, v int64) (uint16, error) {
	t, err := script.CheckTimelock(name, v)
	if err != nil {
		return 0, usagef(name, "%v", err)
	}
	return t, nil
}

// JSON shapes (stable field names).
type leafJSON struct {
	Path         string `json:"path"`
	Script       string `json:"script"`
	Asm          string `json:"asm"`
	LeafHash     string `json:"leaf_hash"`
	ControlBlock string `json:"control_block"`
	Timelock     uint16 `json:"timelock,omitempty"`
	Miniscript   string `json:"miniscript"`
}

type outputJSON struct {
	PkScript   string     `json:"pk_script"`
	Address    string     `json:"address"`
	OutputKey  string     `json:"output_key"`
	Descriptor string     `json:"descriptor"`
	Timelock   uint16     `json:"timelock"`
	Leaves     []leafJSON `json:"leaves"`
}

type scriptJSON struct {
	Network        string     `json:"network"`
	Staking        outputJSON `json:"staking"`
	Unbonding      outputJSON `json:"unbonding"`
	SlashingChange outputJSON `json:"slashing_change"`
	OpReturn       *opRetJSON `json:"op_return,omitempty"`
}

type opRetJSON struct {
	Script string `json:"script"`
	Tag    string `json:"tag"`
}

func describeOutput(o *script.Output, net *chaincfg.Params) (outputJSON, error) {
	addr, err := o.Address(net)
	if err != nil {
		return outputJSON{}, err
	}
	j := outputJSON{
		PkScript: hex.EncodeToString(o.PkScript), Address: addr,
		OutputKey: o.Taproot.OutputKey.String(), Descriptor: o.Descriptor(), Timelock: o.Timelock,
	}
	for i, p := range o.Paths {
		asm, _ := txscript.DisasmString(p.Script)
		j.Leaves = append(j.Leaves, leafJSON{
			Path: p.Kind.String(), Script: hex.EncodeToString(p.Script), Asm: asm,
			LeafHash: hex.EncodeToString(p.LeafHash[:]), ControlBlock: hex.EncodeToString(p.ControlBlock),
			Timelock: p.Timelock, Miniscript: o.LeafDescriptor(i),
		})
	}
	return j, nil
}

// pathSummary says in words who can spend a path and when.
func pathSummary(o *script.Output, p script.SpendPath) string {
	switch p.Kind {
	case script.TimelockPath:
		return fmt.Sprintf("the staker alone, once the output is %d blocks deep (input nSequence = %d, tx version 2)", p.Timelock, p.Timelock)
	case script.UnbondingPath:
		return fmt.Sprintf("the staker with exactly %d of the %d covenant members, at any time (early unbonding)",
			o.CovenantQuorum(), len(o.CovenantKeys()))
	case script.SlashingPath:
		return fmt.Sprintf("the staker's pre-signed slashing tx, completed by 1 of %d finality provider(s) and exactly %d of %d covenant members: spent when the finality provider double-signs",
			len(o.FinalityProviderKeys()), o.CovenantQuorum(), len(o.CovenantKeys()))
	}
	return ""
}

func (a *app) printOutput(title string, o *script.Output, j outputJSON) {
	a.printf("%s\n", title)
	a.printf("  address     %s\n", j.Address)
	a.printf("  pkScript    %s\n", j.PkScript)
	a.printf("  descriptor  %s\n", j.Descriptor)
	a.printf("  internal key is the NUMS point: no key-path spend; %d spend path(s):\n", len(o.Paths))
	for i, p := range o.Paths {
		l := j.Leaves[i]
		a.printf("  - %s: %s\n", p.Kind, pathSummary(o, p))
		a.printf("      script         %s\n", l.Script)
		a.printf("      asm            %s\n", l.Asm)
		a.printf("      leaf hash      %s\n", l.LeafHash)
		a.printf("      control block  %s\n", l.ControlBlock)
	}
}

func newScriptCmd(a *app) *cobra.Command {
	var pf partyFlags
	var stakingTime, unbondingTime int64
	var tag string
	cmd := &cobra.Command{
		Use:   "script",
		Short: "Build and explain the staking, unbonding and slashing change outputs",
		Long: `Builds the three taproot outputs of a delegation exactly as Babylon does and
explains every spend path: its script, leaf hash and control block, plus the
output's address and descriptor. With --tag it also prints the phase-1
OP_RETURN script (which requires exactly one finality provider).`,
		Example: `  # 1 finality provider, a 2-of-3 covenant committee, ~1 day staking time:
  btcstake script --network regtest \
    --staker-pk 662f9c9fbca727ab16bf97e08925ecff743611c8d8cf3c8a991cf9617fe51da5 \
    --fp-pk 55609672b207598ca05ad232d27ebe7be40cf4fd90746d890b8046f9ff87e08d \
    --covenant-pk 8fe47b8f29b755350d4fd2eaaa881887d51caeb9edc030b5a7d94ce2e751da6a \
    --covenant-pk 77852b76d2647acaba4f15d946323690fbe225b8849d08d0e8e79adb908710f9 \
    --covenant-pk f7204a88a5d9d4b71bcce72b9325d8472f5b482e8c0487d5d11cfdc737a5f613 \
    --covenant-quorum 2 --staking-time 144 --unbonding-time 101 --tag 62627434

  # the same as JSON, for scripts: add --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			net, err := a.params()
			if err != nil {
				return err
			}
			p, err := pf.parties()
			if err != nil {
				return err
			}
			st, err := timelockFlag("staking-time", stakingTime)
			if err != nil {
				return err
			}
			ut, err := timelockFlag("unbonding-time", unbondingTime)
			if err != nil {
				return err
			}
			var opret *script.V0StakingData
			if cmd.Flags().Changed("tag") {
				tb, err := parseHex("tag", tag)
				if err != nil {
					return err
				}
				if _, err := script.ParseTag(tb); err != nil {
					return usagef("tag", "%v", err)
				}
				if len(p.FinalityProviders) != 1 {
					return usagef("tag", "phase-1 staking data needs exactly one --fp-pk, got %d", len(p.FinalityProviders))
				}
				if opret, err = script.NewV0StakingData(tb, p.Staker, p.FinalityProviders, st); err != nil {
					return flagError(err)
				}
			}
			staking, err := script.NewStakingOutput(p, st)
			if err != nil {
				return flagError(err)
			}
			unbonding, err := script.NewUnbondingOutput(p, ut)
			if err != nil {
				return flagError(err)
			}
			change, err := script.NewSlashingChangeOutput(p.Staker, ut)
			if err != nil {
				return flagError(err)
			}
			out := scriptJSON{Network: net.Name}
			for _, x := range []struct {
				o *script.Output
				j *outputJSON
			}{{staking, &out.Staking}, {unbonding, &out.Unbonding}, {change, &out.SlashingChange}} {
				if *x.j, err = describeOutput(x.o, net); err != nil {
					return err
				}
			}
			if opret != nil {
				out.OpReturn = &opRetJSON{Script: hex.EncodeToString(opret.Script()), Tag: hex.EncodeToString(opret.Tag[:])}
			}
			if a.json {
				return a.printJSON(out)
			}
			a.printf("Delegation: staker %s, %d finality provider(s), covenant %d-of-%d, network %s\n\n",
				script.XOnly(p.Staker), len(p.FinalityProviders), p.CovenantQuorum, len(p.Covenant), net.Name)
			a.printOutput(fmt.Sprintf("Staking output (staking time %d blocks): the stake itself", st), staking, out.Staking)
			a.printf("\n")
			a.printOutput(fmt.Sprintf("Unbonding output (unbonding time %d blocks): what the unbonding tx creates", ut), unbonding, out.Unbonding)
			a.printf("\n")
			a.printOutput("Slashing change output: the unslashed part returned to the staker by a slashing tx", change, out.SlashingChange)
			if opret != nil {
				a.printf("\nPhase-1 OP_RETURN output (value 0, tag %s):\n  %s\n", out.OpReturn.Tag, out.OpReturn.Script)
			}
			return nil
		},
	}
	pf.add(cmd, true)
	cmd.Flags().Int64Var(&stakingTime, "staking-time", 0, "staking time lock in blocks (1..65535)")
	cmd.Flags().Int64Var(&unbondingTime, "unbonding-time", 0, "unbonding time lock in blocks (1..65535)")
	cmd.Flags().StringVar(&tag, "tag", "", "phase-1 tag (4 bytes hex): also print the OP_RETURN script")
	_ = cmd.MarkFlagRequired("staking-time")
	_ = cmd.MarkFlagRequired("unbonding-time")
	return cmd
}

type parsedJSON struct {
	Txid               string `json:"txid"`
	Staker             string `json:"staker_pk"`
	FinalityProvider   string `json:"fp_pk"`
	StakingTime        uint16 `json:"staking_time"`
	Value              int64  `json:"value_sat"`
	StakingOutputIndex int    `json:"staking_output_index"`
	OpReturnIndex      int    `json:"op_return_output_index"`
	Address            string `json:"staking_address"`
}

func newParseStakingTxCmd(a *app) *cobra.Command {
	var pf partyFlags
	var txHex, tag string
	cmd := &cobra.Command{
		Use:   "parse",
		Short: "Recognise a phase-1 staking transaction and print what it commits to",
		Long: `Checks that a transaction is a phase-1 staking transaction for the given tag
and covenant committee: exactly one OP_RETURN with the staking data, and exactly
one output paying the staking script that data describes. Prints the staker and
finality provider keys, the staking time, the staked value and the output
indexes. Exit code 1 if the transaction is not a staking transaction.
(First spelt "btcstake parse-staking-tx", which still works.)`,
		Example: `  btcstake stake parse --network signet --tx 0200000001... --tag 62627434 \
    --covenant-pk <hex> --covenant-pk <hex> --covenant-pk <hex> --covenant-quorum 2 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			net, err := a.params()
			if err != nil {
				return err
			}
			tx, err := parseTxHex("tx", txHex)
			if err != nil {
				return err
			}
			tb, err := parseHex("tag", tag)
			if err != nil {
				return err
			}
			if _, err := script.ParseTag(tb); err != nil {
				return usagef("tag", "%v", err)
			}
			cov, err := parsePubKeys("covenant-pk", pf.covenant)
			if err != nil {
				return err
			}
			parser, err := script.NewStakingTxParser(script.ParserConfig{Tag: tb, Covenant: cov, CovenantQuorum: pf.quorum})
			if err != nil {
				return flagError(err)
			}
			parsed, err := parser.Parse(tx)
			if err != nil {
				return err
			}
			addr, err := parsed.Output.Address(net)
			if err != nil {
				return err
			}
			j := parsedJSON{
				Txid: tx.TxHash().String(), Staker: parsed.Data.Staker.String(),
				FinalityProvider: parsed.Data.FinalityProvider.String(), StakingTime: parsed.Data.StakingTime,
				Value: parsed.Value, StakingOutputIndex: parsed.StakingOutputIndex,
				OpReturnIndex: parsed.OpReturnIndex, Address: addr,
			}
			if a.json {
				return a.printJSON(j)
			}
			a.printf("%s is a phase-1 staking transaction\n", j.Txid)
			a.printf("  staker            %s\n", j.Staker)
			a.printf("  finality provider %s\n", j.FinalityProvider)
			a.printf("  staking time      %d blocks\n", j.StakingTime)
			a.printf("  staked value      %d sat in output %d (%s)\n", j.Value, j.StakingOutputIndex, j.Address)
			a.printf("  op_return         output %d\n", j.OpReturnIndex)
			return nil
		},
	}
	pf.add(cmd, false)
	cmd.Flags().StringVar(&txHex, "tx", "", "the transaction, hex")
	cmd.Flags().StringVar(&tag, "tag", "", "phase-1 tag (4 bytes hex)")
	_ = cmd.MarkFlagRequired("tx")
	_ = cmd.MarkFlagRequired("tag")
	return cmd
}

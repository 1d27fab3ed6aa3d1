package main

// btcstake extend: build the stake extension transaction (Babylon v4
// MsgBtcStakeExpand, docs/spec.md §11) as a PSBT. Every rule is
// psbt.BuildExtension's; this file only maps flags.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

func init() { register(newExtendCmd) }

// prevDelegationFlags identify the previous (active) delegation of an
// extension: its params version and staking time; the staker and finality
// providers are the new delegation's --staker-pk and --fp-pk.
type prevDelegationFlags struct {
	arg         string
	height      heightFlag
	stakingTime int64
	stakingTx   string
}

func (f *prevDelegationFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.arg, "prev-params", "", "the previous delegation's params: a preset or a params file (as --params)")
	fl.Var(&f.height, "prev-btc-height", "Bitcoin height whose version of --prev-params the previous delegation was made under")
	fl.Int64Var(&f.stakingTime, "prev-staking-time", 0, "the previous delegation's staking time in blocks")
	fl.StringVar(&f.stakingTx, "prev-staking-tx", "", "the previous delegation's staking transaction: hex, a file, @file or - (stdin)")
	completeValues(cmd, "prev-params", params.PresetNames()...)
	for _, n := range []string{"prev-params", "prev-staking-time", "prev-staking-tx"} {
		_ = cmd.MarkFlagRequired(n)
	}
}

// prevFlagNames renames the flags of paramsSource in an error about the
// previous delegation's params.
var prevFlagNames = strings.NewReplacer("--params", "--prev-params", "--btc-height", "--prev-btc-height")

// delegation is the previous delegation: parties (the new delegation's
// staker and finality providers) under the --prev-params version, with
// --prev-staking-time.
func (f *prevDelegationFlags) delegation(network string, parties psbt.Delegation) (psbt.Delegation, error) {
	d := psbt.Delegation{Staker: parties.Staker, FinalityProviders: parties.FinalityProviders}
	var err error
	if d.StakingTime, err = timelockFlag("prev-staking-time", f.stakingTime); err != nil {
		return d, err
	}
	ps := paramsSource{arg: f.arg, height: f.height}
	if d.Params, err = ps.stakingParams(network); err != nil {
		var u usageError
		if errors.As(err, &u) {
			return d, usageError{errors.New(prevFlagNames.Replace(err.Error()))}
		}
		return d, fmt.Errorf("%s", prevFlagNames.Replace(err.Error()))
	}
	return d, nil
}

func newExtendCmd(a *app) *cobra.Command {
	var df delegationFlags
	var pf prevDelegationFlags
	var nf nodeFlags
	var utxo, change, out string
	var added int64
	var feeRate float64
	var yes bool
	cmd := &cobra.Command{
		Use:   "extend",
		Short: "Build the stake extension transaction (PSBT): renew and grow an active stake without unbonding",
		Long: `Builds the stake extension transaction of Babylon v4 (MsgBtcStakeExpand) as a
PSBT. It has exactly two inputs: input 0 spends the previous delegation's
staking output (found in --prev-staking-tx by its script) through its
unbonding leaf, input 1 is the --utxo coin that pays the fee and --add-value.
Its first output is the new delegation's staking output, worth the old value
plus --add-value; change goes to --change-address unless it would be dust.
The fee is exactly --fee-rate times the signed transaction's virtual size.

The previous delegation is --prev-params (with --prev-btc-height for a source
of several versions) and --prev-staking-time; the new one is --params at the
Bitcoin tip (--btc-height, or on signet, testnet and mainnet your node's tip)
and --staking-time. Both have the same --staker-pk and --fp-pk. It refuses an
extension Babylon would refuse (a lower value, another staker, a funding coin
that is a staking output, covenant committees overlapping by less than the
previous quorum), naming the rule.

On signet, testnet and mainnet it first states what the new stake locks and
asks for "yes" on the terminal, as 'btcstake stake' does (--yes for scripts).

Then: register it with Babylon (MsgBtcStakeExpand, with the new delegation's
slashing transactions); a quorum of the PREVIOUS covenant committee signs
input 0 ("btcstake sign --key" with --prev-params and --prev-staking-time);
the staker signs input 0 and the funding coin ("btcstake sign --key"); then
"btcstake finalize" and broadcast. Babylon activates the new delegation when
the old one is undelegated with this transaction and its inclusion proof.
docs/networks.md, "Extending a stake", walks through the flow.`,
		Example: `  btcstake extend ` + exDelegation + ` \
    --prev-params params/regtest-example.json --prev-staking-time 144 --prev-staking-tx staking.hex \
    --add-value 50000 --fee-rate 2 \
    --utxo 8d1c1f39b6ed3c1fe5ef1c48cde5a5de9c9a4d0e8e7b0f1d2c3b4a5968778695:0:250000:0014751e76e8199196d454941c45d1b3a323f1433bd6 \
    --change-address bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080 --out extend.psbt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			net, err := a.params()
			if err != nil {
				return err
			}
			parties, err := df.parties()
			if err != nil {
				return err
			}
			u, err := parseUTXO(utxo)
			if err != nil {
				return err
			}
			if added < 0 {
				return usagef("add-value", "must not be negative (an extension keeps at least the old value)")
			}
			rate, err := parseFeeRate(feeRate)
			if err != nil {
				return err
			}
			changePk, err := parseAddress("change-address", change, net)
			if err != nil {
				return err
			}
			prevTx, err := parseTxHex("prev-staking-tx", pf.stakingTx)
			if err != nil {
				return err
			}
			if err := a.checkOutput("out", out); err != nil {
				return err
			}
			live := psbt.RealNetwork(net)
			if live {
				if err := a.checkConfirmable(net.Name, yes); err != nil {
					return err
				}
			}
			prev, err := pf.delegation(net.Name, parties)
			if err != nil {
				return err
			}
			if _, err := prev.StakingOutput(); err != nil {
				return flagError(err)
			}
			pfund, err := fundingOf(prev, script.StakingOutputKind, "prev-staking-tx", prevTx)
			if err != nil {
				return err
			}
			value := prevTx.TxOut[pfund.Index].Value + added
			plan, l, from, err := a.planStake(cmd, &df.ps, &nf, net, live,
				psbt.Delegation{Staker: parties.Staker, FinalityProviders: parties.FinalityProviders, StakingTime: parties.StakingTime},
				value, "add-value")
			if err != nil {
				return err
			}
			res, err := psbt.BuildExtension(psbt.ExtensionRequest{Previous: prev, PreviousFunding: pfund, New: plan.Delegation,
				AddedValue: added, Funding: u, FeeRate: rate, ChangePkScript: changePk})
			if err != nil {
				return extendError(err)
			}
			lock := lockOf(plan, l, net.Name, from)
			if err := a.confirmLock(lock, plan, yes); err != nil {
				return err
			}
			return a.emitPSBTWith(res.Packet, &res.Description, nil, out, lock)
		},
	}
	df.add(cmd)
	pf.add(cmd)
	nf.add(cmd)
	f := cmd.Flags()
	f.BoolVar(&yes, "yes", false, "on signet, testnet and mainnet: build the extension without asking (the lock is still stated)")
	f.Int64Var(&added, "add-value", 0, "satoshis to add to the stake (paid by --utxo; 0 keeps the value)")
	f.StringVar(&utxo, "utxo", "", "the funding coin (input 1): txid:vout:amount_sat:pkscript_hex")
	f.Float64Var(&feeRate, "fee-rate", 0, "fee rate in sat/vB (fractions allowed, at least 1)")
	f.StringVar(&change, "change-address", "", "address for the change (of --network)")
	addOutFlag(cmd, &out, "out", "write the PSBT (base64) to this file instead of printing it")
	for _, n := range []string{"utxo", "fee-rate", "change-address"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

// extendError names the flag behind an error of psbt.BuildExtension.
func extendError(err error) error {
	switch {
	case errors.Is(err, psbt.ErrExtensionValue), errors.Is(err, psbt.ErrInsufficientFunds):
		return opError("add-value/--utxo", err)
	case errors.Is(err, psbt.ErrExtensionFunding):
		return opError("utxo", err)
	case errors.Is(err, psbt.ErrExtensionParties):
		return opError("staker-pk/--fp-pk", err)
	case errors.Is(err, psbt.ErrExtensionCovenant):
		return opError("prev-params/--params", err)
	case isDustErr(err):
		return opError("add-value", err)
	case errors.Is(err, psbt.ErrInvalidOutput) && strings.Contains(err.Error(), "change"):
		return opError("change-address", err)
	case errors.Is(err, psbt.ErrWrongInput):
		return opError("prev-staking-tx", err)
	}
	return builderError(err, "prev-staking-tx")
}

package main

// btcstake stake | unbond | slash | withdraw: build the transactions of the
// staking lifecycle as PSBTs.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

func init() {
	register(newStakeCmd)
	register(newUnbondCmd)
	register(newSlashCmd)
	register(newWithdrawCmd)
}

// The delegation of every example below: params/regtest-example.json, the
// script command's example staker and finality provider.
const exDelegation = `--params params/regtest-example.json \
    --staker-pk 662f9c9fbca727ab16bf97e08925ecff743611c8d8cf3c8a991cf9617fe51da5 \
    --fp-pk 55609672b207598ca05ad232d27ebe7be40cf4fd90746d890b8046f9ff87e08d \
    --staking-time 144`

func newStakeCmd(a *app) *cobra.Command {
	var df delegationFlags
	var nf nodeFlags
	var utxos, prevTxs []string
	var amount int64
	var feeRate float64
	var change, out string
	var phase1, yes bool
	cmd := &cobra.Command{
		Use:   "stake",
		Short: "Build the staking transaction (PSBT) from your coins; 'stake parse' recognises one",
		Long: `Builds the staking transaction as a PSBT: it locks --amount satoshis in the
delegation's staking output, funded from the given --utxo coins (P2WPKH, P2TR
key path, P2PKH, P2SH-P2WPKH). Coins are selected deterministically (largest
first), the fee is exactly --fee-rate times the signed transaction's virtual
size, and change goes to --change-address unless it would be dust.

--params is a preset (bbn-1, bbn-test-6, regtest, ...) or a params file;
the stake must meet the params version in force at the Bitcoin tip, given
with --btc-height or, without it on signet, testnet and mainnet, asked of your
node (the node flags, or a local bitcoind found by its cookie). It refuses to
build a stake that version would reject, or whose unbonding or slashing
transactions could not be valid under it (value or time outside the params,
dust slashing or change outputs), so no coins get locked that cannot be
unbonded or slashed.

On signet, testnet and mainnet it first states what the stake locks: the
value, the lock in blocks and in approximate time, the covenant committee and
the params version. Then it asks you to type "yes" on the terminal; without
a terminal, or with --json, it refuses (exit 2) unless --yes is given.

A P2PKH coin needs the transaction that created it: pass it with --prev-tx.
With --phase1 the transaction also carries the phase-1 OP_RETURN (the params
need a tag, and there must be exactly one finality provider).

Sign the funding inputs with "btcstake sign --key", then "btcstake finalize".
"btcstake stake parse" goes the other way: it recognises a phase-1 staking
transaction and prints what it commits to.`,
		Example: `  btcstake stake ` + exDelegation + ` \
    --amount 100000 --fee-rate 2 \
    --utxo 8d1c1f39b6ed3c1fe5ef1c48cde5a5de9c9a4d0e8e7b0f1d2c3b4a5968778695:0:250000:0014751e76e8199196d454941c45d1b3a323f1433bd6 \
    --change-address bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080 --phase1 --out stake.psbt

  # mainnet: the bbn-1 preset, the version in force at the tip (asks for "yes")
  btcstake stake --network mainnet --params bbn-1 --btc-height 900000 \
    --staker-pk <hex> --fp-pk <hex> --staking-time 64000 --amount 1000000 --fee-rate 4 \
    --utxo <txid:vout:sat:pkscript> --change-address <bc1...> --out stake.psbt

  # sign the funding coin, then finalise: staking.hex is the tx to broadcast
  btcstake sign --psbt stake.psbt --key funder.key --out stake-signed.psbt
  btcstake finalize --psbt stake-signed.psbt --out staking.hex`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			net, err := a.params()
			if err != nil {
				return err
			}
			d, err := df.parties()
			if err != nil {
				return err
			}
			us, err := parseUTXOs(utxos, prevTxs)
			if err != nil {
				return err
			}
			if amount <= 0 {
				return usagef("amount", "must be a positive number of satoshis")
			}
			rate, err := parseFeeRate(feeRate)
			if err != nil {
				return err
			}
			changePk, err := parseAddress("change-address", change, net)
			if err != nil {
				return err
			}
			if err := a.checkOutput("out", out); err != nil {
				return err
			}
			// On a real network the stake is confirmed before it is handed
			// on: refuse now, before any work, if it cannot be.
			live := psbt.RealNetwork(net)
			if live {
				if err := a.checkConfirmable(net.Name, yes); err != nil {
					return err
				}
			}
			plan, l, from, err := a.planStake(cmd, &df.ps, &nf, net, live, d, amount, "amount")
			if err != nil {
				return err
			}
			res, err := psbt.BuildStaking(psbt.StakingRequest{Delegation: plan.Delegation, Value: amount, UTXOs: us,
				FeeRate: rate, ChangePkScript: changePk, PhaseOne: phase1})
			if err != nil {
				switch {
				case isDustErr(err):
					return opError("amount", err)
				case errors.Is(err, psbt.ErrInvalidOutput) && strings.Contains(err.Error(), "change"):
					return opError("change-address", err)
				case errors.Is(err, psbt.ErrInvalidOutput):
					return opError("utxo", err)
				}
				return builderError(err, "prev-tx")
			}
			lock := lockOf(plan, l, net.Name, from)
			if err := a.confirmLock(lock, plan, yes); err != nil {
				return err
			}
			return a.emitPSBTWith(res.Packet, &res.Description, nil, out, lock)
		},
	}
	cmd.AddCommand(newParseStakingTxCmd(a))
	df.add(cmd)
	nf.add(cmd)
	cmd.Flags().BoolVar(&yes, "yes", false, "on signet, testnet and mainnet: build the stake without asking (the lock is still stated)")
	f := cmd.Flags()
	f.Int64Var(&amount, "amount", 0, "satoshis to lock in the staking output")
	f.StringArrayVar(&utxos, "utxo", nil, "a coin to fund from: txid:vout:amount_sat:pkscript_hex (repeatable)")
	f.StringArrayVar(&prevTxs, "prev-tx", nil, "hex of a transaction that created a --utxo coin (needed for P2PKH; repeatable)")
	f.Float64Var(&feeRate, "fee-rate", 0, "fee rate in sat/vB (fractions allowed, at least 1)")
	f.StringVar(&change, "change-address", "", "address for the change (of --network)")
	f.BoolVar(&phase1, "phase1", false, "add the phase-1 OP_RETURN staking data (needs a tag in --params and one --fp-pk)")
	addOutFlag(cmd, &out, "out", "write the PSBT (base64) to this file instead of printing it")
	for _, n := range []string{"amount", "utxo", "fee-rate", "change-address"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

func isDustErr(err error) bool { return errors.Is(err, params.ErrDustOutput) }

// planError names the flag behind an error of psbt.PlanStake.
func planError(err error, l *loadedParams) error {
	switch {
	case errors.Is(err, psbt.ErrNoHeight):
		if l.versions.Len() > 1 {
			return needHeight(l)
		}
		return usagef("btc-height", "%v", err)
	case errors.Is(err, params.ErrNoVersion):
		return opError("btc-height", fmt.Errorf("%w (--params %s)", err, l.arg))
	case errors.Is(err, params.ErrLockOnly):
		return usagef("params", "%s: %v", l.arg, err)
	case isDustErr(err):
		return opError("amount", err)
	}
	return builderError(err, "prev-tx")
}

func newUnbondCmd(a *app) *cobra.Command {
	var df delegationFlags
	var stakingHex, out string
	cmd := &cobra.Command{
		Use:   "unbond",
		Short: "Build the unbonding transaction (PSBT) spending the staking output early",
		Long: `Builds the unbonding transaction: it spends the delegation's staking output
(found in --staking-tx by its script) through the unbonding path and pays the
unbonding output, worth the staked value less exactly the params' unbonding
fee. The staker and a quorum of covenant members sign it (in any order, in
separate invocations of "btcstake sign"); then "btcstake finalize".`,
		Example: `  # staking.hex from "btcstake finalize --psbt stake.psbt --out staking.hex"
  btcstake unbond ` + exDelegation + ` \
    --staking-tx staking.hex --out unbond.psbt     # a file, @file, - (stdin) or the hex`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := df.delegation(a.netName())
			if err != nil {
				return err
			}
			tx, err := parseTxHex("staking-tx", stakingHex)
			if err != nil {
				return err
			}
			if err := a.checkOutput("out", out); err != nil {
				return err
			}
			f, err := fundingOf(d, script.StakingOutputKind, "staking-tx", tx)
			if err != nil {
				return err
			}
			res, err := psbt.BuildUnbonding(d, f)
			if err != nil {
				if isDustErr(err) {
					return opError("staking-tx", err)
				}
				return builderError(err, "staking-tx")
			}
			return a.emitPSBT(res.Packet, &res.Description, nil, out)
		},
	}
	df.add(cmd)
	cmd.Flags().StringVar(&stakingHex, "staking-tx", "", "the staking transaction, hex")
	addOutFlag(cmd, &out, "out", "write the PSBT (base64) to this file instead of printing it")
	_ = cmd.MarkFlagRequired("staking-tx")
	return cmd
}

func newSlashCmd(a *app) *cobra.Command {
	var df delegationFlags
	var from, fundingHex, out string
	cmd := &cobra.Command{
		Use:   "slash",
		Short: "Build the slashing transaction (PSBT) from the staking or unbonding output",
		Long: `Builds the slashing transaction spending the slashing path of the staking
output (--from staking) or of the unbonding output (--from unbonding), found in
--funding-tx by its script. It pays the params' slashing rate of the value
(rounded as Babylon does) to the slashing script and the rest, less the
minimum slashing fee, to the slashing change output.

The staker pre-signs it ("btcstake sign"), covenant members add adaptor
signatures ("btcstake adaptor sign-slashing"); if a finality provider
double-signs, anyone holding its extracted key completes it
("btcstake adaptor complete-slashing").`,
		Example: `  # pre-sign slashing of the staking output (staking.hex: the finalised staking tx)
  btcstake slash ` + exDelegation + ` \
    --from staking --funding-tx staking.hex --out slash.psbt
  btcstake sign --psbt slash.psbt --key staker.key --out slash-staker.psbt

  # and of the unbonding output
  btcstake slash ` + exDelegation + ` \
    --from unbonding --funding-tx unbonding.hex --out slash-unbonding.psbt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kind, err := parseFromKind(from, script.StakingOutputKind, script.UnbondingOutputKind)
			if err != nil {
				return err
			}
			d, err := df.delegation(a.netName())
			if err != nil {
				return err
			}
			tx, err := parseTxHex("funding-tx", fundingHex)
			if err != nil {
				return err
			}
			if err := a.checkOutput("out", out); err != nil {
				return err
			}
			f, err := fundingOf(d, kind, "funding-tx", tx)
			if err != nil {
				return err
			}
			res, err := psbt.BuildSlashing(d, kind, f)
			if err != nil {
				if isDustErr(err) {
					return opError("funding-tx", err)
				}
				return builderError(err, "funding-tx")
			}
			return a.emitPSBT(res.Packet, &res.Description, nil, out)
		},
	}
	df.add(cmd)
	addFromFlag(cmd, &from, "the output to slash: staking or unbonding", script.StakingOutputKind, script.UnbondingOutputKind)
	cmd.Flags().StringVar(&fundingHex, "funding-tx", "", "the transaction holding that output (staking or unbonding tx), hex")
	addOutFlag(cmd, &out, "out", "write the PSBT (base64) to this file instead of printing it")
	_ = cmd.MarkFlagRequired("from")
	_ = cmd.MarkFlagRequired("funding-tx")
	return cmd
}

func newWithdrawCmd(a *app) *cobra.Command {
	var df delegationFlags
	var from, fundingHex, to, out string
	var feeRate float64
	cmd := &cobra.Command{
		Use:   "withdraw",
		Short: "Build the withdraw transaction (PSBT) through a timelock path",
		Long: `Builds the transaction that returns the staker's coins once a time lock has
passed: from the staking output (--from staking, after the staking time), the
unbonding output (--from unbonding, after the unbonding time) or the slashing
change output of a slashing transaction (--from slashing_change, after the unbonding
time). The output is found in --funding-tx by its script; everything less the
fee for the exact signed size at --fee-rate goes to --to. Only the staker
signs ("btcstake sign"); the input's nSequence carries the time lock, so the
transaction is valid once the spent output is that many blocks deep.`,
		Example: `  # after the unbonding time: unbonding.hex from "btcstake finalize --psbt unbond.psbt --out unbonding.hex"
  btcstake withdraw ` + exDelegation + ` \
    --from unbonding --funding-tx unbonding.hex \
    --to bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080 --fee-rate 2 --out withdraw.psbt
  btcstake sign --psbt withdraw.psbt --key staker.key --out withdraw-signed.psbt
  btcstake finalize --psbt withdraw-signed.psbt --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			net, err := a.params()
			if err != nil {
				return err
			}
			kind, err := parseFromKind(from, script.StakingOutputKind, script.UnbondingOutputKind, script.SlashingChangeOutputKind)
			if err != nil {
				return err
			}
			d, err := df.delegation(a.netName())
			if err != nil {
				return err
			}
			tx, err := parseTxHex("funding-tx", fundingHex)
			if err != nil {
				return err
			}
			dest, err := parseAddress("to", to, net)
			if err != nil {
				return err
			}
			rate, err := parseFeeRate(feeRate)
			if err != nil {
				return err
			}
			if err := a.checkOutput("out", out); err != nil {
				return err
			}
			f, err := fundingOf(d, kind, "funding-tx", tx)
			if err != nil {
				return err
			}
			res, err := psbt.BuildWithdraw(psbt.WithdrawRequest{Delegation: d, From: kind,
				Funding: f, DestPkScript: dest, FeeRate: rate})
			if err != nil {
				if isDustErr(err) {
					return opError("fee-rate", err)
				}
				return builderError(err, "funding-tx")
			}
			return a.emitPSBT(res.Packet, &res.Description, nil, out)
		},
	}
	df.add(cmd)
	f := cmd.Flags()
	addFromFlag(cmd, &from, "the output to withdraw: staking, unbonding or slashing (the slashing change output)",
		script.StakingOutputKind, script.UnbondingOutputKind, script.SlashingChangeOutputKind)
	f.StringVar(&fundingHex, "funding-tx", "", "the transaction holding that output, hex")
	f.StringVar(&to, "to", "", "destination address (of --network)")
	f.Float64Var(&feeRate, "fee-rate", 0, "fee rate in sat/vB (fractions allowed, at least 1)")
	addOutFlag(cmd, &out, "out", "write the PSBT (base64) to this file instead of printing it")
	for _, n := range []string{"from", "funding-tx", "to", "fee-rate"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

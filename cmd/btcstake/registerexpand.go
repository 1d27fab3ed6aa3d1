package main

// btcstake register expand: MsgBtcStakeExpand, the registration of a stake
// extension (docs/spec.md §10.6). Every rule is babylon.PrepareExpansion's.

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/pop"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

func newRegisterExpandCmd(a *app) *cobra.Command {
	var df delegationFlags
	var extArg, prevArg, fundArg, addr, popArg, keyFile string
	var kf popKindFlags
	var pass passphraseFlags
	var out outFlags
	cmd := &cobra.Command{
		Use:   "expand",
		Short: "Build MsgBtcStakeExpand, which registers a stake extension with Babylon",
		Long: `Builds MsgBtcStakeExpand, the registration of a stake extension
('btcstake extend'), from the extension transaction (--extension-tx,
unsigned or signed), the previous delegation's staking transaction
(--prev-staking-tx, which names the old delegation), the transaction of the
funding coin (--funding-tx) and the NEW delegation (--params at
--btc-height, the Bitcoin tip as Babylon sees it; --staker-pk, exactly one
--fp-pk, --staking-time): the new delegation's unbonding, slashing and
unbonding-slashing transactions, checked as Babylon checks them, with the
staker's two slashing signatures made with --key. The proof of possession is
--pop, or is made with --key (--pop-kind).

Prints the message as protobuf hex, with --json its fields, and the
'babylond tx btcstaking btc-stake-expand' command with its 16 arguments.
Babylon checks the extension against the previous delegation; activation
follows once the extension transaction is deep enough (docs/networks.md,
"Extending a stake").`,
		Example: `  btcstake register expand ` + exDelegation + ` --btc-height 1000 \
    --extension-tx extension.hex --prev-staking-tx staking.hex --funding-tx funding.hex \
    --babylon-address bbn1... --key staker.key --out expand.hex`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr, err := checkBabylonAddress("babylon-address", addr)
			if err != nil {
				return err
			}
			if popArg != "" && (cmd.Flags().Changed("pop-kind") || cmd.Flags().Changed("bip322-address-type")) {
				return usagef("pop-kind", "only when the proof is made here (without --pop)")
			}
			if !df.ps.height.set {
				return usagef("btc-height", "required: the Bitcoin tip as Babylon sees it, which picks the params version of the new delegation")
			}
			if err := out.check(); err != nil {
				return err
			}
			ext, err := parseTxHex("extension-tx", extArg)
			if err != nil {
				return err
			}
			prev, err := parseTxHex("prev-staking-tx", prevArg)
			if err != nil {
				return err
			}
			funding, err := parseTxHex("funding-tx", fundArg)
			if err != nil {
				return err
			}
			d, err := df.parties()
			if err != nil {
				return err
			}
			var proof *pop.Proof
			var kind pop.Kind
			var popOpts []pop.Option
			if popArg != "" {
				if proof, err = readPoP("pop", popArg); err != nil {
					return err
				}
			} else if kind, popOpts, err = kf.options(cmd, "pop-kind", a); err != nil {
				return err
			}
			l, err := df.ps.load(a.netName())
			if err != nil {
				return err
			}
			if err := l.forNetwork(a.netName()); err != nil {
				return err
			}
			net, err := a.params()
			if err != nil {
				return err
			}
			sk, err := signingKeyFlag(a, "key", keyFile, &pass)
			if err != nil {
				return err
			}
			defer sk.Zero()
			if script.XOnly(sk.PubKey()) != script.XOnly(d.Staker) {
				return opError("key", fmt.Errorf("the key is not --staker-pk's (it is %s)", script.XOnly(sk.PubKey())))
			}
			if proof == nil {
				if proof, err = pop.Create(kind, sk, addr, popOpts...); err != nil {
					return fmt.Errorf("creating the proof of possession: %w", err)
				}
			}
			if err := proof.Verify(d.Staker, addr, net); err != nil {
				return opError("pop", fmt.Errorf("it does not prove possession of --staker-pk by --babylon-address: %w", err))
			}
			v, err := df.ps.version(l)
			if err != nil {
				return err
			}
			if d.Params, err = versionParams(l, v); err != nil {
				return err
			}
			if _, err := d.StakingOutput(); err != nil {
				return flagError(err)
			}
			draft, err := babylon.PrepareExpansion(babylon.ExpansionRequest{StakerAddress: addr, PoP: proof.Marshal(), Delegation: d,
				ExtensionTx: ext, PreviousStakingTxHash: prev.TxHash(), FundingTx: funding, Versions: l.versions, TipHeight: df.ps.height.v})
			if err != nil {
				if errors.Is(err, babylon.ErrInvalidExpansion) {
					return opError("extension-tx", err)
				}
				return expansionError(err)
			}
			exp, err := draft.Sign(sk)
			if err != nil {
				return opError("key", err)
			}
			return emitDelegationMsg(a, exp, exp.Msg(),
				fmt.Sprintf("extension txid %s (new staking output %d)", exp.StakingTxHash(), exp.StakingOutputIndex()),
				"btc-stake-expand", addr, &out)
		},
	}
	df.add(cmd)
	f := cmd.Flags()
	f.StringVar(&extArg, "extension-tx", "", "the extension transaction ('btcstake extend'; unsigned or signed): hex, a file, @file or -")
	f.StringVar(&prevArg, "prev-staking-tx", "", "the previous delegation's staking transaction: hex, a file, @file or -")
	f.StringVar(&fundArg, "funding-tx", "", "the transaction whose output the extension's input 1 spends: hex, a file, @file or -")
	f.StringVar(&addr, "babylon-address", "", "the staker's Babylon account (bbn1...), the previous delegation's")
	f.StringVar(&popArg, "pop", "", "the proof of possession: pop_hex, a file holding it (PATH, @PATH) or - for stdin; without it --key makes one")
	f.StringVar(&keyFile, "key", "", "the staker's key (a keystore or a file holding the key in hex): signs both slashing transactions")
	kf.add(cmd, "pop-kind")
	pass.add(cmd)
	out.add(a, cmd, "the message (hex)")
	for _, n := range []string{"extension-tx", "prev-staking-tx", "funding-tx", "babylon-address", "key"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

// expansionError names the flag behind an error of
// babylon.PrepareExpansion: in an expansion the extension transaction is
// the new delegation's staking transaction.
func expansionError(err error) error {
	switch {
	case errors.Is(err, psbt.ErrInvalidTx), errors.Is(err, psbt.ErrInvalidOutput), errors.Is(err, psbt.ErrTxOutputs),
		errors.Is(err, psbt.ErrTxValue), errors.Is(err, psbt.ErrTxInputs), errors.Is(err, params.ErrInvalidStakingValue),
		errors.Is(err, params.ErrInvalidStakingTime), errors.Is(err, params.ErrDustOutput):
		return opError("extension-tx", err)
	}
	return fmt.Errorf("expansion: %w", err)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/monitor"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
)

func init() { register(newStatusCmd) }

// stakeEvent is one step of a stake's life seen on chain.
type stakeEvent struct {
	Event         string `json:"event"`
	Txid          string `json:"txid"`
	Confirmations int64  `json:"confirmations"`
	Height        int64  `json:"height,omitempty"`
}

// stakePath is a spend path of the output the stake currently sits in.
type stakePath struct {
	Output        string `json:"output"`
	Path          string `json:"path"`
	SpendableNow  bool   `json:"spendable_now"`
	OpensInBlocks int64  `json:"opens_in_blocks,omitempty"`
	OpensAtHeight int64  `json:"opens_at_height,omitempty"`
	Needs         string `json:"needs"`
}

type stakeStatus struct {
	StakingTxid   string       `json:"staking_txid"`
	OutputIndex   uint32       `json:"staking_output_index"`
	Value         int64        `json:"value_sat"`
	StakingTime   uint16       `json:"staking_time"`
	State         string       `json:"state"`
	TipHeight     int64        `json:"tip_height"`
	Confirmations int64        `json:"confirmations"`
	Events        []stakeEvent `json:"events"`
	Paths         []stakePath  `json:"paths"`
}

// statusOf maps what monitor.Follow found to the command's output.
func statusOf(st *monitor.Status) (state string, events []stakeEvent, paths []stakePath) {
	state = st.State.String()
	for _, e := range st.Events {
		events = append(events, stakeEvent{Event: e.Name(), Txid: e.Txid.String(), Confirmations: e.Confirmations, Height: max(e.Height, 0)})
	}
	if st.Pending {
		state = st.Events[len(st.Events)-1].Name() + " (unconfirmed)"
	}
	for _, p := range st.Paths {
		paths = append(paths, stakePath{Output: p.Output.String(), Path: p.Kind.String(), SpendableNow: p.SpendableNow,
			OpensInBlocks: p.OpensInBlocks, OpensAtHeight: p.OpensAtHeight, Needs: p.Needs})
	}
	return state, events, paths
}

// inclusionParams are the params of the version in force at the height of
// the block that includes the staking transaction (docs/spec.md §8.4), or
// at the tip while it is unconfirmed.
func inclusionParams(ctx context.Context, c *chain.Client, l *loadedParams, info *chain.TxInfo) (*params.Params, error) {
	h, what := info.Height, "included at height"
	if h < 0 {
		tip, err := c.Height(ctx)
		if err != nil {
			return nil, nodeError(c, err)
		}
		h, what = tip, "unconfirmed, tip at height"
	}
	if h > math.MaxUint32 {
		return nil, fmt.Errorf("the node reports height %d", h)
	}
	v, err := l.versions.At(uint32(h))
	if err != nil {
		return nil, opError("params", fmt.Errorf("staking transaction %s (%s %d): %w", info.Tx.TxHash(), what, h, err))
	}
	return versionParams(l, v)
}

func newStatusCmd(a *app) *cobra.Command {
	var nf nodeFlags
	var pf partyFlags
	var ps paramsSource
	var txArg, txidArg string
	var stakingTime int64
	var maxScan, fromHeight int64
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Follow a stake through its life: confirmed, unbonded, slashed, withdrawn, what can be spent now",
		Long: `Finds where a stake is in its life by asking your node and following the
spends of its outputs: the staking output, the unbonding output and the
slashing change output. It prints the confirmations, what happened (unbonded,
slashed, withdrawn) with txids, and which spend paths of the current output
are open now or in how many blocks.

A phase-1 staking transaction (with the OP_RETURN the params' tag names)
describes itself; otherwise give --staker-pk, --fp-pk and --staking-time.

--params is a preset or a file; of several versions, --btc-height picks one,
else the one in force at the staking transaction's inclusion height (at the
tip while it is unconfirmed).

No transaction index (-txindex) is needed. A node with one finds the staking
transaction by id; without one, --staking-tx is found through its unspent
outputs, and otherwise (or for --txid) by reading blocks: downwards from the
tip, or upwards from --from-height when you know a height at or below the
block that confirmed it. Spends are found by reading the blocks after it.
--max-scan-blocks bounds each of these reads; on a terminal, stderr shows
how far a read has got.`,
		Example: `  btcstake status --network regtest --params params/regtest-example.json --txid 3f1c...e2
  btcstake status --params params.json --staking-tx 0200... --staker-pk <hex> --fp-pk <hex> --staking-time 1000 --json
  btcstake status --network mainnet --params bbn-1 --staking-tx staking.hex --staker-pk <hex> --fp-pk <hex> --staking-time 64000
  btcstake status --network signet --params bbn-test-6 --txid 3f1c...e2 --from-height 230000   # a node without -txindex`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lp, err := ps.load(a.netName())
			if err != nil {
				return err
			}
			if err := lp.forNetwork(a.netName()); err != nil {
				return err
			}
			// The params version: at --btc-height, or the source's only
			// one; of several, without a height, the one in force where
			// the node finds the staking transaction (below). Until then
			// the latest stands in for checking the flags.
			byInclusion := !ps.height.set && lp.versions.Len() > 1
			v := lp.versions.Latest()
			if !byInclusion {
				if v, err = ps.version(lp); err != nil {
					return err
				}
			}
			prm, err := versionParams(lp, v)
			if err != nil {
				return err
			}
			var given *wire.MsgTx
			var txid chainhash.Hash
			switch {
			case txArg != "" && txidArg != "":
				return usagef("txid", "give --staking-tx or --txid, not both")
			case txArg != "":
				if given, err = parseTxHex("staking-tx", txArg); err != nil {
					return err
				}
				txid = given.TxHash()
			case txidArg != "":
				h, err := chainhash.NewHashFromStr(txidArg)
				if err != nil || len(txidArg) != 64 {
					return usagef("txid", "not a 64-character transaction id")
				}
				txid = *h
			default:
				return usagef("txid", "give --staking-tx or --txid")
			}
			if maxScan < 1 {
				return usagef("max-scan-blocks", "must be at least 1")
			}
			if fromHeight < 0 {
				return usagef("from-height", "must not be negative")
			}
			// The delegation flags are checked before the node is asked.
			explicit := psbt.Delegation{Params: prm}
			if len(prm.Tag()) == 0 || pf.staker != "" {
				if explicit.Staker, err = parsePubKey("staker-pk", pf.staker); err != nil {
					return err
				}
				if explicit.FinalityProviders, err = parsePubKeys("fp-pk", pf.fps); err != nil {
					return err
				}
				if len(explicit.FinalityProviders) == 0 {
					return usagef("fp-pk", "at least one finality provider key is needed")
				}
				if explicit.StakingTime, err = timelockFlag("staking-time", stakingTime); err != nil {
					return err
				}
				// Keys that clash (given twice, or one key in two roles)
				// are refused here, exit 1 as in every command, before
				// any node is asked.
				if _, err := explicit.StakingOutput(); err != nil {
					return flagError(err)
				}
			} else if len(pf.fps) > 0 || cmd.Flags().Changed("staking-time") {
				return usagef("staker-pk", "--fp-pk and --staking-time describe the delegation together with --staker-pk")
			}
			ctx := cmd.Context()
			c, err := nf.connect(ctx, a)
			if err != nil {
				return err
			}
			defer c.Close()
			scan := a.scanReporter("looking for staking transaction " + txid.String())
			search := chain.TxSearch{FromHeight: fromHeight, MaxBlocks: maxScan, Progress: scan.report()}
			var info *chain.TxInfo
			if given != nil {
				info, err = c.Locate(ctx, given) // without -txindex, while an output is unspent
			}
			if given == nil || errors.Is(err, chain.ErrNotFound) {
				info, err = c.FindTransaction(ctx, txid, search) // by id, else by reading blocks
			}
			scan.done()
			if err != nil {
				if errors.Is(err, chain.ErrNotFound) && !hasIndex(c) {
					return fmt.Errorf("the node does not know staking transaction %s: %v: give --from-height at or below its block, or a larger --max-scan-blocks", txid, err)
				}
				if errors.Is(err, chain.ErrNotFound) {
					return fmt.Errorf("the node does not know staking transaction %s: %v", txid, err)
				}
				return nodeError(c, err)
			}
			if byInclusion {
				if explicit.Params, err = inclusionParams(ctx, c, lp, info); err != nil {
					return err
				}
				prm = explicit.Params
				if explicit.Staker != nil {
					if _, err := explicit.StakingOutput(); err != nil {
						return flagError(err)
					}
				}
			}
			tx := info.Tx
			d := explicit
			if len(prm.Tag()) > 0 && pf.staker == "" {
				if d, err = psbt.PhaseOneDelegation(tx, prm); err != nil {
					return fmt.Errorf("%v; for a staking tx without phase-1 data give --staker-pk, --fp-pk and --staking-time", err)
				}
			}
			stake, err := monitor.NewStake(tx, info.Height, d)
			if err != nil {
				return err
			}
			spends := a.scanReporter("looking for spends of the stake")
			st, err := monitor.Follow(ctx, c, stake, monitor.Options{MaxScanBlocks: maxScan, Progress: spends.report()})
			spends.done()
			if err != nil {
				if errors.Is(err, monitor.ErrUnexpectedSpend) {
					return err
				}
				return nodeError(c, err)
			}
			s := stakeStatus{StakingTxid: txid.String(), OutputIndex: stake.OutPoint.Index, Value: tx.TxOut[stake.OutPoint.Index].Value,
				StakingTime: d.StakingTime, TipHeight: st.Tip, Confirmations: info.Confirmations}
			s.State, s.Events, s.Paths = statusOf(st)
			if a.json {
				return a.printJSON(s)
			}
			a.printf("stake %s:%d, %d sat, staking time %d blocks\n", s.StakingTxid, s.OutputIndex, s.Value, s.StakingTime)
			a.printf("state: %s (tip height %d)\n", s.State, s.TipHeight)
			for _, e := range s.Events {
				a.printf("  %-22s %s  %d confirmation(s)\n", e.Event, e.Txid, e.Confirmations)
			}
			for _, p := range s.Paths {
				when := "open now"
				switch {
				case p.SpendableNow:
				case p.OpensAtHeight > 0:
					when = fmt.Sprintf("opens in %d block(s), at height %d", p.OpensInBlocks, p.OpensAtHeight)
				default:
					when = "not yet"
				}
				a.printf("  path %-9s of the %-15s output: %s; needs %s\n", p.Path, p.Output, when, p.Needs)
			}
			return nil
		},
	}
	nf.add(cmd)
	cmd.Flags().StringVar(&pf.staker, "staker-pk", "", "staker public key (for staking txs without phase-1 data)")
	cmd.Flags().StringArrayVar(&pf.fps, "fp-pk", nil, "finality provider public key (repeatable)")
	cmd.Flags().Int64Var(&stakingTime, "staking-time", 0, "staking time in blocks")
	cmd.Flags().StringVar(&txArg, "staking-tx", "", "the staking transaction, hex")
	cmd.Flags().StringVar(&txidArg, "txid", "", "the staking transaction's id (the node looks it up)")
	ps.add(cmd, "staking parameters: a preset or a params file (several versions: --btc-height, else the version at the staking tx's inclusion height)")
	cmd.Flags().Int64Var(&maxScan, "max-scan-blocks", 100_000, "how many blocks to read, at most, for the staking transaction (without -txindex) and for each spend")
	cmd.Flags().Int64Var(&fromHeight, "from-height", 0, "without -txindex: read blocks for the staking transaction upwards from this height (at or below its block); 0: downwards from the tip")
	return cmd
}

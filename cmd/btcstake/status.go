package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
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

// findSpender returns the transaction spending op, looking in the mempool
// and in blocks from fromHeight to the tip (at most maxScan blocks).
func (n *nodeConn) findSpender(ctx context.Context, op wire.OutPoint, fromHeight, maxScan int64) (*wire.MsgTx, error) {
	spends := func(tx *wire.MsgTx) bool {
		for _, in := range tx.TxIn {
			if in.PreviousOutPoint == op {
				return true
			}
		}
		return false
	}
	var pool []string
	if err := n.callInto(ctx, &pool, "getrawmempool"); err != nil {
		return nil, err
	}
	for _, id := range pool {
		h, err := chainhash.NewHashFromStr(id)
		if err != nil {
			continue
		}
		if tx, _, _, err := n.getTx(ctx, *h); err == nil && spends(tx) {
			return tx, nil
		}
	}
	tip, err := n.tipHeight(ctx)
	if err != nil {
		return nil, err
	}
	if fromHeight < 0 {
		fromHeight = tip
	}
	for h := fromHeight; h <= tip && h < fromHeight+maxScan; h++ {
		var hash string
		if err := n.callInto(ctx, &hash, "getblockhash", h); err != nil {
			return nil, err
		}
		var raw string
		if err := n.callInto(ctx, &raw, "getblock", hash, 0); err != nil {
			return nil, err
		}
		b, err := hex.DecodeString(raw)
		if err != nil {
			return nil, fmt.Errorf("node returned bad block hex")
		}
		var blk wire.MsgBlock
		if err := blk.Deserialize(bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("node returned an undecodable block at height %d", h)
		}
		for _, tx := range blk.Transactions {
			if spends(tx) {
				return tx, nil
			}
		}
	}
	return nil, fmt.Errorf("output %v is spent, but no spender found within %d blocks of height %d", op, maxScan, fromHeight)
}

// unspent reports whether op is unspent (mempool included).
func (n *nodeConn) unspent(ctx context.Context, op wire.OutPoint) (bool, error) {
	res, err := n.call(ctx, "gettxout", op.Hash.String(), op.Index, true)
	if err != nil {
		return false, err
	}
	return string(res) != "null" && len(res) > 0, nil
}

// spentVia names the leaf a spending input revealed.
func spentVia(tx *wire.MsgTx, op wire.OutPoint) script.PathKind {
	for _, in := range tx.TxIn {
		if in.PreviousOutPoint != op {
			continue
		}
		if s, err := script.ParseWitness(in.Witness); err == nil {
			return s.Leaf.Kind
		}
	}
	return 0
}

// timelockPath reports when a timelock path of an output confirmed at
// height opens: a spend is valid in a block of height >= height + lock.
func timelockPath(output string, lock uint16, height, tip int64) stakePath {
	p := stakePath{Output: output, Path: "timelock", Needs: "the staker's signature"}
	if height < 0 {
		p.Needs += "; the output must confirm first"
		return p
	}
	p.OpensAtHeight = height + int64(lock)
	if left := p.OpensAtHeight - (tip + 1); left > 0 {
		p.OpensInBlocks = left
	} else {
		p.SpendableNow = true
	}
	return p
}

func newStatusCmd(a *app) *cobra.Command {
	var nf nodeFlags
	var pf partyFlags
	var txArg, txidArg, paramsPath string
	var stakingTime int64
	var maxScan int64
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
The node needs -txindex to look up confirmed transactions by id.`,
		Example: `  btcstake status --network regtest --params params/regtest-example.json --txid 3f1c...e2
  btcstake status --params params.json --staking-tx 0200... --staker-pk <hex> --fp-pk <hex> --staking-time 1000 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			prm, err := params.Load(paramsPath)
			if err != nil {
				return usagef("params", "%v", err)
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
			} else if len(pf.fps) > 0 || cmd.Flags().Changed("staking-time") {
				return usagef("staker-pk", "--fp-pk and --staking-time describe the delegation together with --staker-pk")
			}
			n, err := nf.connect(a)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			tx, confs, height, err := n.getTx(ctx, txid)
			if err != nil {
				return err
			}
			d := psbt.Delegation{Params: prm}
			if len(prm.Tag()) > 0 && pf.staker == "" {
				parser, err := script.NewStakingTxParser(script.ParserConfig{Tag: prm.Tag(),
					Covenant: prm.CovenantKeys(), CovenantQuorum: prm.CovenantQuorum()})
				if err != nil {
					return err
				}
				parsed, err := parser.Parse(tx)
				if err != nil {
					return fmt.Errorf("%v; for a staking tx without phase-1 data give --staker-pk, --fp-pk and --staking-time", err)
				}
				d.Staker, _ = parsed.Data.Staker.PubKey()
				fp, _ := parsed.Data.FinalityProvider.PubKey()
				d.FinalityProviders = []*btcec.PublicKey{fp}
				d.StakingTime = parsed.Data.StakingTime
			} else {
				d = explicit
			}
			idx, err := psbt.ValidateStakingTx(tx, d)
			if err != nil {
				return err
			}
			tip, err := n.tipHeight(ctx)
			if err != nil {
				return err
			}
			s := stakeStatus{StakingTxid: txid.String(), OutputIndex: idx, Value: tx.TxOut[idx].Value,
				StakingTime: d.StakingTime, TipHeight: tip, Confirmations: confs,
				Events: []stakeEvent{{Event: "staked", Txid: txid.String(), Confirmations: confs, Height: max(height, 0)}}}
			if err := followStake(ctx, n, &s, d, wire.OutPoint{Hash: txid, Index: idx}, height, maxScan); err != nil {
				return err
			}
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
	cmd.Flags().StringVar(&paramsPath, "params", "", "staking params file (JSON)")
	cmd.Flags().Int64Var(&maxScan, "max-scan-blocks", 100_000, "how many blocks to scan for spends")
	_ = cmd.MarkFlagRequired("params")
	return cmd
}

// followStake walks the stake's outputs: staking -> (unbonding ->) slashing
// change, recording what spent each and the paths of the live output.
func followStake(ctx context.Context, n *nodeConn, s *stakeStatus, d psbt.Delegation, op wire.OutPoint, height, maxScan int64) error {
	covenant := fmt.Sprintf("the staker and %d of %d covenant members", d.Params.CovenantQuorum(), len(d.Params.CovenantKeys()))
	slashNeeds := "a finality provider's key (leaked by double-signing), " + covenant + " (pre-signed)"
	if height < 0 {
		s.State = "unconfirmed"
		return nil
	}
	cur, curName, lock := op, "staking", d.StakingTime
	for {
		open, err := n.unspent(ctx, cur)
		if err != nil {
			return err
		}
		if open {
			s.Paths = append(s.Paths, timelockPath(curName, lock, height, s.TipHeight))
			switch curName {
			case "staking":
				s.State = "staked"
				s.Paths = append(s.Paths, stakePath{Output: curName, Path: "unbonding", SpendableNow: true, Needs: covenant},
					stakePath{Output: curName, Path: "slashing", SpendableNow: true, Needs: slashNeeds})
			case "unbonding":
				s.State = "unbonding"
				s.Paths = append(s.Paths, stakePath{Output: curName, Path: "slashing", SpendableNow: true, Needs: slashNeeds})
			case "slashing change":
				s.State = "slashed"
			}
			return nil
		}
		spender, err := n.findSpender(ctx, cur, height, maxScan)
		if err != nil {
			return err
		}
		sid := spender.TxHash()
		_, c, h, err := n.getTx(ctx, sid)
		if err != nil {
			return err
		}
		via := spentVia(spender, cur)
		ev := stakeEvent{Txid: sid.String(), Confirmations: c, Height: max(h, 0)}
		switch via {
		case script.TimelockPath:
			ev.Event = "withdrawn from " + curName
			s.Events = append(s.Events, ev)
			s.State = "withdrawn"
			if curName == "slashing change" {
				s.State = "slashed, change withdrawn"
			}
			return nil
		case script.UnbondingPath:
			ev.Event = "unbonded"
			s.Events = append(s.Events, ev)
			cur, curName, lock, height = wire.OutPoint{Hash: sid, Index: 0}, "unbonding", d.Params.UnbondingTime(), h
		case script.SlashingPath:
			ev.Event = "slashed from " + curName
			s.Events = append(s.Events, ev)
			cur, curName, lock, height = wire.OutPoint{Hash: sid, Index: 1}, "slashing change", d.Params.UnbondingTime(), h
		default:
			return fmt.Errorf("output %v was spent by %s through no staking path", cur, sid)
		}
		if h < 0 {
			s.State = ev.Event + " (unconfirmed)"
			return nil
		}
	}
}

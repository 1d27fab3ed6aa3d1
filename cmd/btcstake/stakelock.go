package main

// stake on a real network: the params version in force at the Bitcoin tip,
// what the stake locks said in words, and a confirmation (docs/cli.md,
// "No coins locked by surprise").

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// lockJSON is stake's "lock" object: what the staking output locks and the
// params version it was checked against.
type lockJSON struct {
	Network                 string   `json:"network"`
	ValueSat                int64    `json:"value_sat"`
	StakingTime             uint16   `json:"staking_time"`
	ApproxDays              float64  `json:"approx_days"` // at ten minutes a block
	UnbondingTimeBlocks     uint16   `json:"unbonding_time_blocks"`
	UnbondingFeeSat         int64    `json:"unbonding_fee_sat"`
	CovenantPks             []string `json:"covenant_pks"`
	CovenantQuorum          uint32   `json:"covenant_quorum"`
	ParamsSource            string   `json:"params_source"`
	ParamsVersion           *uint32  `json:"params_version"` // null when the source does not number it
	BtcActivationHeight     uint32   `json:"btc_activation_height"`
	BtcHeight               *uint32  `json:"btc_height,omitempty"`
	BtcHeightFrom           string   `json:"btc_height_from,omitempty"` // "flag" (--btc-height) or "node"
	NextVersion             *uint32  `json:"next_version,omitempty"`
	NextBtcActivationHeight uint32   `json:"next_btc_activation_height,omitempty"`
	ConfirmRequired         bool     `json:"confirm_required"`
	ConfirmedBy             string   `json:"confirmed_by,omitempty"` // "--yes" or "terminal"
}

// checkConfirmable refuses, before anything else is done, a stake on a
// real network that could not be confirmed: --json, or no terminal on
// standard input, without --yes. Both are usage errors (exit 2) naming
// --yes.
func (a *app) checkConfirmable(network string, yes bool) error {
	switch {
	case yes:
		return nil
	case a.json:
		return usagef("yes", "on %s stake asks before it locks coins, and --json cannot ask: give --yes once you have checked the lock ('btcstake params show')", network)
	case stdinUsedBy != "":
		return usagef("yes", "on %s stake asks before it locks coins on the terminal, but standard input was read by --%s: give --yes, or that flag a file", network, stdinUsedBy)
	case a.stdinIsTerminal == nil || !a.stdinIsTerminal():
		return usagef("yes", "on %s stake asks before it locks coins, and standard input is not a terminal: run it on a terminal, or give --yes (for scripts)", network)
	}
	return nil
}

// nodeFlagNames are the flags that name a node explicitly.
var nodeFlagNames = []string{"rpc-url", "rpc-user", "rpc-pass-file", "rpc-cookie", "config"}

// stakeHeight is the Bitcoin height whose params version the stake must
// meet: --btc-height, else on a real network the tip of the node the node
// flags (or discovery) give. ok is false when neither applies (regtest
// without --btc-height).
// planStake is what stake and extend share before they build: the params
// (preset or file) for the network, the height (--btc-height or the
// node's tip) and psbt.PlanStake's verdict on a stake of value for d. Its
// errors name their flag; a stake that would leave dust names dustFlag.
func (a *app) planStake(cmd *cobra.Command, ps *paramsSource, nf *nodeFlags, net *chaincfg.Params, live bool,
	d psbt.Delegation, value int64, dustFlag string) (*psbt.StakePlan, *loadedParams, string, error) {
	l, err := ps.load(net.Name)
	if err != nil {
		return nil, nil, "", err
	}
	if err := l.forNetwork(net.Name); err != nil {
		return nil, nil, "", err
	}
	h, from, known, err := a.stakeHeight(cmd.Context(), cmd, ps, nf, live)
	if err != nil {
		return nil, nil, "", err
	}
	plan, err := psbt.PlanStake(psbt.StakePlanRequest{Net: net, Versions: l.versions, Height: h, HeightKnown: known,
		Staker: d.Staker, FinalityProviders: d.FinalityProviders, StakingTime: d.StakingTime, Value: value})
	if err != nil {
		if isDustErr(err) {
			return nil, nil, "", opError(dustFlag, err)
		}
		return nil, nil, "", planError(err, l)
	}
	return plan, l, from, nil
}

func (a *app) stakeHeight(ctx context.Context, cmd *cobra.Command, ps *paramsSource, nf *nodeFlags, live bool) (h uint32, from string, ok bool, err error) {
	if ps.height.set {
		return ps.height.v, "flag", true, nil
	}
	if !live {
		return 0, "", false, nil
	}
	c, err := nf.connect(ctx, a)
	if err != nil {
		var u usageError
		explicit := false
		for _, n := range nodeFlagNames {
			explicit = explicit || cmd.Flags().Changed(n)
		}
		if errors.As(err, &u) && !explicit {
			return 0, "", false, usagef("btc-height", "on %s a stake must meet the params version in force at the Bitcoin tip: give --btc-height N (Babylon's light-client tip) or a node to ask (%v)", a.netName(), err)
		}
		return 0, "", false, fmt.Errorf("%w; or give --btc-height N", err)
	}
	defer c.Close()
	tip, err := c.Tip(ctx)
	if err != nil {
		return 0, "", false, fmt.Errorf("%w; or give --btc-height N", nodeError(c, err))
	}
	if tip.Height < 0 || tip.Height > math.MaxUint32 {
		return 0, "", false, fmt.Errorf("the node at %s reports tip height %d", c.URL(), tip.Height)
	}
	return uint32(tip.Height), "node", true, nil
}

// lockOf summarises a planned stake for the notice and the JSON.
func lockOf(plan *psbt.StakePlan, l *loadedParams, network, from string) *lockJSON {
	p := plan.Delegation.Params
	j := &lockJSON{Network: network, ValueSat: plan.Value, StakingTime: plan.Delegation.StakingTime,
		ApproxDays:          math.Round(plan.LockDuration().Hours()/24*10) / 10,
		UnbondingTimeBlocks: p.UnbondingTime(), UnbondingFeeSat: p.UnbondingFee(), CovenantQuorum: p.CovenantQuorum(),
		ParamsSource: l.describe(), BtcActivationHeight: plan.Version.ActivationHeight(), ConfirmRequired: plan.Confirm}
	for _, k := range p.CovenantKeys() {
		j.CovenantPks = append(j.CovenantPks, script.XOnly(k).String())
	}
	if plan.Version.NumberKnown() {
		n := plan.Version.Number()
		j.ParamsVersion = &n
	}
	if plan.HeightKnown {
		h := plan.Height
		j.BtcHeight, j.BtcHeightFrom = &h, from
	}
	if plan.Next != nil {
		n := plan.Next.Number()
		j.NextVersion, j.NextBtcActivationHeight = &n, plan.Next.ActivationHeight()
	}
	return j
}

// printLockNotice states on stderr what the stake locks.
func (a *app) printLockNotice(j *lockJSON, plan *psbt.StakePlan) {
	w := a.stderr
	fmt.Fprintf(w, "btcstake: this stake locks coins on %s:\n", j.Network)
	fmt.Fprintf(w, "  value            %d sat in the staking output\n", j.ValueSat)
	fmt.Fprintf(w, "  locked for       %d blocks, %s at ten minutes a block; before that the coins move only by early unbonding or slashing\n",
		j.StakingTime, approxBlocks(uint64(j.StakingTime)))
	fmt.Fprintf(w, "  early unbonding  needs %d of the %d covenant keys below, then %d more blocks (%s); fee %d sat\n",
		j.CovenantQuorum, len(j.CovenantPks), j.UnbondingTimeBlocks, approxBlocks(uint64(j.UnbondingTimeBlocks)), j.UnbondingFeeSat)
	fmt.Fprintf(w, "  covenant         %d of %d:\n", j.CovenantQuorum, len(j.CovenantPks))
	for _, k := range j.CovenantPks {
		fmt.Fprintf(w, "                     %s\n", k)
	}
	version := "the params"
	if j.ParamsVersion != nil {
		version = fmt.Sprintf("version %d", *j.ParamsVersion)
	}
	at := ""
	if j.BtcHeight != nil {
		src := "--btc-height"
		if j.BtcHeightFrom == "node" {
			src = "the node's tip"
		}
		at = fmt.Sprintf(", in force at height %d (%s)", *j.BtcHeight, src)
	}
	fmt.Fprintf(w, "  params           %s from Bitcoin height %d%s, of %s\n", version, j.BtcActivationHeight, at, j.ParamsSource)
	if j.NextVersion != nil {
		in := ""
		if j.BtcHeight != nil {
			in = fmt.Sprintf(", in %d block(s)", j.NextBtcActivationHeight-*j.BtcHeight)
		}
		fmt.Fprintf(w, "  next version     %d from height %d%s: a registration Babylon processes from then on is judged by it\n",
			*j.NextVersion, j.NextBtcActivationHeight, in)
	}
	if strings.HasPrefix(j.ParamsSource, "preset ") {
		fmt.Fprintf(w, "  note             a preset is a dated copy: compare it with the chain first ('btcstake params fetch --compare')\n")
	}
}

// confirmLock states the lock and asks for "yes" on the terminal (with
// --yes it only states it, and under --json not even that: the lock is in
// the JSON). A different answer is a failed operation (exit 1); nothing
// is written.
func (a *app) confirmLock(j *lockJSON, plan *psbt.StakePlan, yes bool) error {
	if !j.ConfirmRequired {
		return nil
	}
	if !a.json {
		a.printLockNotice(j, plan)
	}
	if yes {
		j.ConfirmedBy = "--yes"
		return nil
	}
	fmt.Fprint(a.stderr, `Type "yes" to build this stake: `)
	line, err := bufio.NewReader(io.LimitReader(a.stdin, 256)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the confirmation: %v", err)
	}
	if strings.TrimSpace(line) != "yes" {
		return errors.New("not confirmed: nothing was written (type yes to build the stake)")
	}
	j.ConfirmedBy = "terminal"
	return nil
}

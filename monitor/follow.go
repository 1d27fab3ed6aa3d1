package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/script"
)

// Error kinds (errors.Is). Errors of the Node pass through unchanged.
var (
	// ErrInvalidArgument: the Stake is incomplete (a missing output, an
	// output of the wrong kind).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrUnexpectedSpend: an output of the stake was spent in a way the
	// protocol does not describe (a leaf that is none of the output's, an
	// unbonding-path spend that creates no unbonding output of the
	// delegation).
	ErrUnexpectedSpend = errors.New("unexpected spend of a stake output")
)

// Node is what Follow needs from a node; *chain.Client is one.
type Node interface {
	// Height is the tip's height.
	Height(ctx context.Context) (int64, error)
	// FindSpend returns the transaction spending op, nil when unspent.
	FindSpend(ctx context.Context, op wire.OutPoint, s chain.SpendSearch) (*chain.Spend, error)
}

// Stake is a delegation as Follow follows it: where its staking output is,
// and its three outputs (psbt.Delegation builds them: StakingOutput,
// UnbondingOutput, SlashingChangeOutput). NewStake makes one from the
// delegation and its staking transaction.
type Stake struct {
	// OutPoint is the staking output.
	OutPoint wire.OutPoint
	// Height is the block height that confirmed the staking transaction,
	// -1 while it waits in the mempool.
	Height int64
	// The delegation's outputs, by which Follow recognises each output
	// and each spend path.
	Staking, Unbonding, SlashingChange *script.Output
}

// State is where a stake is in its life.
type State int

const (
	// Unconfirmed: the staking transaction waits in the mempool.
	Unconfirmed State = iota + 1
	// Staked: the staking output is unspent.
	Staked
	// Unbonding: the unbonding output is unspent.
	Unbonding
	// Slashed: the stake was slashed; the slashing change output (if the
	// slashing transaction has one) is unspent.
	Slashed
	// Withdrawn: the staker took the staking or unbonding output back
	// through its time lock.
	Withdrawn
	// ChangeWithdrawn: the stake was slashed and the staker took the
	// slashing change back.
	ChangeWithdrawn
	// Extended: a stake extension (Babylon's MsgBtcStakeExpand) spent the
	// staking output into a new delegation's staking output; this stake
	// ends there.
	Extended
)

func (s State) String() string {
	switch s {
	case Unconfirmed:
		return "unconfirmed"
	case Staked:
		return "staked"
	case Unbonding:
		return "unbonding"
	case Slashed:
		return "slashed"
	case Withdrawn:
		return "withdrawn"
	case ChangeWithdrawn:
		return "slashed, change withdrawn"
	case Extended:
		return "extended"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// EventKind is a step of a stake's life.
type EventKind int

const (
	// EventStaked: the staking transaction.
	EventStaked EventKind = iota + 1
	// EventUnbonded: the unbonding transaction spent the staking output.
	EventUnbonded
	// EventSlashed: a slashing transaction spent the staking or unbonding
	// output.
	EventSlashed
	// EventWithdrawn: the staker spent an output through its time lock.
	EventWithdrawn
	// EventExtended: a stake extension spent the staking output through
	// its unbonding path as input 0 of a two-input transaction (input 1
	// funds it) that pays no unbonding output of the delegation.
	EventExtended
)

// Event is one transaction of a stake's life.
type Event struct {
	Kind EventKind
	// From is the output the transaction spent (zero for EventStaked).
	From script.OutputKind
	Txid chainhash.Hash
	// Height is the confirming block's height, -1 in the mempool.
	Height int64
	// Confirmations counts from the tip Follow saw; 0 in the mempool.
	Confirmations int64
}

// Name is the event in words: "staked", "unbonded", "slashed from
// staking", "withdrawn from unbonding", ...
func (e Event) Name() string {
	switch e.Kind {
	case EventStaked:
		return "staked"
	case EventUnbonded:
		return "unbonded"
	case EventSlashed:
		return "slashed from " + e.From.String()
	case EventWithdrawn:
		return "withdrawn from " + e.From.String()
	case EventExtended:
		return "extended"
	}
	return fmt.Sprintf("EventKind(%d)", int(e.Kind))
}

// Path is a spend path of the output the stake sits in.
type Path struct {
	Output script.OutputKind
	Kind   script.PathKind
	// SpendableNow: the path's time lock (if any) lets a spend into the
	// next block.
	SpendableNow bool
	// OpensAtHeight is the first block height a time-locked spend can be
	// in (0 for paths without a lock); OpensInBlocks how many blocks
	// must be mined before the next block is that one (0 once open).
	OpensAtHeight int64
	OpensInBlocks int64
	// Needs says whose signatures (or key) the path takes.
	Needs string
}

// Status is what Follow found.
type Status struct {
	State State
	// Pending: the spend that moved the stake into State waits in the
	// mempool (then Paths is empty).
	Pending bool
	// Tip is the height of the node's tip when Follow began.
	Tip int64
	// Events are the stake's transactions, oldest first; the first is
	// EventStaked.
	Events []Event
	// Paths are the spend paths of the unspent output the stake sits in
	// (none once withdrawn, while pending, or when a slashing left no
	// change).
	Paths []Path
	// Live is that output, when there is one.
	Live *wire.OutPoint
}

// Options tune Follow.
type Options struct {
	// MaxScanBlocks bounds each spend search (chain.SpendSearch); 0 means
	// chain.DefaultMaxScanBlocks.
	MaxScanBlocks int64
	// Progress, when set, is called after each block a spend search
	// reads (chain.SpendSearch.Progress).
	Progress func(chain.ScanProgress)
}

func (s Stake) check() error {
	for _, o := range []struct {
		out  *script.Output
		kind script.OutputKind
	}{{s.Staking, script.StakingOutputKind}, {s.Unbonding, script.UnbondingOutputKind}, {s.SlashingChange, script.SlashingChangeOutputKind}} {
		if o.out == nil || o.out.Kind != o.kind {
			return fmt.Errorf("%w: the stake's %s output is missing or of another kind", ErrInvalidArgument, o.kind)
		}
	}
	if s.Height < -1 {
		return fmt.Errorf("%w: height %d", ErrInvalidArgument, s.Height)
	}
	return nil
}

// Follow finds where a stake is: it asks n which transaction spends the
// output the stake sits in, recognises the path the spend took from the
// leaf script its witness reveals, finds the next output of the stake in
// the spender by its script, and repeats until an output is unspent, a
// spend waits in the mempool, or the staker withdrew.
func Follow(ctx context.Context, n Node, s Stake, opts Options) (*Status, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if opts.MaxScanBlocks < 0 {
		return nil, fmt.Errorf("%w: negative scan bound", ErrInvalidArgument)
	}
	tip, err := n.Height(ctx)
	if err != nil {
		return nil, err
	}
	st := &Status{Tip: tip, Events: []Event{event(EventStaked, 0, s.OutPoint.Hash, s.Height, tip)}}
	if s.Height < 0 {
		st.State = Unconfirmed
		return st, nil
	}
	cur, out, height := s.OutPoint, s.Staking, s.Height
	// Each step moves to a later output; withdrawing ends the walk, so at
	// most staking -> unbonding -> change -> withdrawn.
	for range 4 {
		sp, err := n.FindSpend(ctx, cur, chain.SpendSearch{FromHeight: height, MaxBlocks: opts.MaxScanBlocks, Progress: opts.Progress})
		if err != nil {
			return nil, err
		}
		if sp == nil {
			st.State = stateIn(out.Kind)
			st.Live = &cur
			st.Paths = paths(out, height, tip)
			return st, nil
		}
		path, err := revealedPath(sp, out)
		if err != nil {
			return nil, err
		}
		var next *script.Output
		switch path {
		case script.TimelockPath:
			st.Events = append(st.Events, event(EventWithdrawn, out.Kind, sp.Txid, sp.Height, tip))
			st.State, st.Pending = Withdrawn, !sp.Confirmed()
			if out.Kind == script.SlashingChangeOutputKind {
				st.State = ChangeWithdrawn
			}
			return st, nil
		case script.UnbondingPath:
			if isExtension(sp, out, s.Unbonding) {
				st.Events = append(st.Events, event(EventExtended, out.Kind, sp.Txid, sp.Height, tip))
				st.State, st.Pending = Extended, !sp.Confirmed()
				return st, nil
			}
			st.Events = append(st.Events, event(EventUnbonded, out.Kind, sp.Txid, sp.Height, tip))
			next = s.Unbonding
		case script.SlashingPath:
			st.Events = append(st.Events, event(EventSlashed, out.Kind, sp.Txid, sp.Height, tip))
			next = s.SlashingChange
		}
		idx := outputIndex(sp.Tx, next.PkScript)
		if idx < 0 && path == script.UnbondingPath {
			return nil, fmt.Errorf("%w: %s spent the %s output through its unbonding path but pays no unbonding output of this delegation",
				ErrUnexpectedSpend, sp.Txid, out.Kind)
		}
		st.State, st.Pending = stateIn(next.Kind), !sp.Confirmed()
		if idx < 0 || !sp.Confirmed() {
			return st, nil // a slashing without change, or a spend in the mempool
		}
		cur, out, height = wire.OutPoint{Hash: sp.Txid, Index: uint32(idx)}, next, sp.Height
	}
	return nil, fmt.Errorf("%w: the stake's outputs spend each other in a loop", ErrUnexpectedSpend)
}

// isExtension tells a stake extension (docs/spec.md §11) from an
// unbonding among the unbonding-path spends of out: the staking output
// spent as input 0 of a transaction of exactly two inputs that pays no
// unbonding output of the delegation.
func isExtension(sp *chain.Spend, out, unbonding *script.Output) bool {
	return out.Kind == script.StakingOutputKind && sp.Input == 0 && len(sp.Tx.TxIn) == 2 &&
		outputIndex(sp.Tx, unbonding.PkScript) < 0
}

func stateIn(k script.OutputKind) State {
	switch k {
	case script.UnbondingOutputKind:
		return Unbonding
	case script.SlashingChangeOutputKind:
		return Slashed
	}
	return Staked
}

func event(k EventKind, from script.OutputKind, txid chainhash.Hash, height, tip int64) Event {
	e := Event{Kind: k, From: from, Txid: txid, Height: height}
	if height >= 0 {
		e.Confirmations = tip - height + 1
	}
	return e
}

func outputIndex(tx *wire.MsgTx, pkScript []byte) int {
	for i, o := range tx.TxOut {
		if bytes.Equal(o.PkScript, pkScript) {
			return i
		}
	}
	return -1
}

// revealedPath returns the path whose leaf script the spending input's
// witness reveals (BIP-341 script path: ..., script, control block
// [, annex]).
func revealedPath(sp *chain.Spend, out *script.Output) (script.PathKind, error) {
	if sp.Tx == nil || sp.Input < 0 || sp.Input >= len(sp.Tx.TxIn) {
		return 0, fmt.Errorf("%w: spend %s has no input %d", ErrUnexpectedSpend, sp.Txid, sp.Input)
	}
	w := sp.Tx.TxIn[sp.Input].Witness
	if len(w) >= 2 && len(w[len(w)-1]) > 0 && w[len(w)-1][0] == 0x50 {
		w = w[:len(w)-1] // the annex
	}
	if len(w) >= 2 {
		leaf := w[len(w)-2]
		for _, p := range out.Paths {
			if bytes.Equal(p.Script, leaf) {
				return p.Kind, nil
			}
		}
	}
	return 0, fmt.Errorf("%w: %s spends the %s output through none of its leaves", ErrUnexpectedSpend, sp.Txid, out.Kind)
}

// paths lists the spend paths of an unspent output confirmed at height
// (time lock first): a time-locked spend is valid in a block of height >=
// height + lock.
func paths(out *script.Output, height, tip int64) []Path {
	covenant := fmt.Sprintf("the staker and %d of %d covenant members", out.CovenantQuorum(), len(out.CovenantKeys()))
	var ps []Path
	for _, k := range []script.PathKind{script.TimelockPath, script.UnbondingPath, script.SlashingPath} {
		sp, err := out.Path(k)
		if err != nil {
			continue // the output has no such leaf
		}
		p := Path{Output: out.Kind, Kind: k, SpendableNow: true}
		switch k {
		case script.TimelockPath:
			p.Needs = "the staker's signature"
			p.OpensAtHeight = height + int64(sp.Timelock)
			if left := p.OpensAtHeight - (tip + 1); left > 0 {
				p.SpendableNow, p.OpensInBlocks = false, left
			}
		case script.UnbondingPath:
			p.Needs = covenant
		case script.SlashingPath:
			p.Needs = "a finality provider's key (leaked by double-signing), " + covenant + " (pre-signed)"
		}
		ps = append(ps, p)
	}
	return ps
}

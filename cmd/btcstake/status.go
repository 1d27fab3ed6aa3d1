package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"sync/atomic"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
	"github.com/btcstake/btcstake/watch"
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
	// DBFile is the watcher store the answer came from (empty when the
	// system has no cache directory and status used a temporary one).
	DBFile string `json:"db_file,omitempty"`
}

// inclusionVersion is the params version in force at the height of the
// block that includes the staking transaction (docs/spec.md §8.4), or at
// the tip while it is unconfirmed.
func inclusionVersion(l *loadedParams, info *chain.TxInfo, tip int64) (*params.Version, error) {
	h, what := info.Height, "included at height"
	if h < 0 {
		h, what = tip, "unconfirmed, tip at height"
	}
	if h > math.MaxUint32 {
		return nil, fmt.Errorf("the node reports height %d", h)
	}
	v, err := l.versions.At(uint32(h))
	if err != nil {
		return nil, opError("params", fmt.Errorf("staking transaction %s (%s %d): %w", info.Tx.TxHash(), what, h, err))
	}
	return v, nil
}

// maxNodeFailures is how many node calls in a row may fail while status
// catches up before it gives up (the watcher itself retries forever, as a
// service should; a command answers).
const maxNodeFailures = 5

// catchUpReporter is the watcher's Observer while status catches up: a
// progress line on a terminal's stderr, and a stop once the node has
// failed maxNodeFailures calls in a row.
// NodeError is called from the watcher's fetching goroutines too.
type catchUpReporter struct {
	scan     *scanReporter
	from, to int64
	fails    atomic.Int64
	stop     context.CancelCauseFunc
}

func (r *catchUpReporter) BlockProcessed(p watch.Progress) {
	r.fails.Store(0)
	r.show(p.Height)
}

// BackfillProgress: the stake's backfill reads the blocks below the
// cursor, before the follower reads those after it; one count for both.
func (r *catchUpReporter) BackfillProgress(p watch.Progress) {
	r.fails.Store(0)
	if p.BackfillTo > 0 && p.BackfillHeight >= p.BackfillFrom {
		r.show(p.BackfillHeight)
	}
}

func (r *catchUpReporter) show(h int64) {
	if f := r.scan.report(); f != nil && r.to >= r.from && h >= r.from {
		f(chain.ScanProgress{Height: h, Read: h - r.from + 1, Total: r.to - r.from + 1})
	}
}

func (r *catchUpReporter) EventEmitted(watch.Event) {}

func (r *catchUpReporter) NodeError(err error) {
	if n := r.fails.Add(1); n >= maxNodeFailures && r.stop != nil {
		r.stop(fmt.Errorf("%d calls to the node failed in a row, the last: %w", n, err))
	}
}

// statusStore is the watcher store status answers from.
type statusStore struct {
	path    string
	cache   bool   // status's own file, rebuilt when it cannot serve
	tempDir string // removed at the end (no cache directory)
	net     *chaincfg.Params
	obs     *catchUpReporter
	w       *watch.Watcher
	// backfillFrom is the height the stake's backfill starts at when it
	// was new to the store (-1: none; the store's blocks below the cursor
	// are read again from there).
	backfillFrom int64
	// entry is the stake, added again when the store is started over.
	entry *watch.Entry
}

// useTemp makes the store a temporary one, removed at the end.
func (s *statusStore) useTemp(txid chainhash.Hash) error {
	dir, err := os.MkdirTemp("", "btcstake-status-")
	if err != nil {
		return err
	}
	s.tempDir, s.path = dir, statusCacheFile(dir, txid)
	return nil
}

func (s *statusStore) open(node watch.Node, start int64) error {
	w, err := watch.Open(s.path, watch.Config{Network: s.net, Node: node, StartHeight: max(start, 0),
		Observer: s.obs, MempoolFetch: -1})
	if err != nil {
		return err
	}
	s.w = w
	return nil
}

func (s *statusStore) close() {
	if s.w != nil {
		_ = s.w.Close()
		s.w = nil
	}
	if s.tempDir != "" {
		_ = os.RemoveAll(s.tempDir)
	}
}

// rebuild starts status's own cache over (never a --db file).
func (s *statusStore) rebuild(node watch.Node, start int64) error {
	if s.w != nil {
		_ = s.w.Close()
		s.w = nil
	}
	if err := watch.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the stale status cache: %w", err)
	}
	return s.open(node, start)
}

func newStatusCmd(a *app) *cobra.Command {
	var nf nodeFlags
	var pf partyFlags
	var ps paramsSource
	var txArg, txidArg, dbFlag string
	var stakingTime int64
	var maxScan, fromHeight int64
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Follow a stake through its life: confirmed, unbonded, slashed, withdrawn, what can be spent now",
		Long: `Finds where a stake is in its life by following the chain with the watcher
of 'btcstake watch', for this one stake: from the block that confirmed the
staking transaction to the tip, every block is read once and every spend of
the stake's outputs (staking, unbonding, slashing change) is recognised by
the leaf its witness reveals. It prints the confirmations, what happened
(unbonded, slashed, withdrawn) with txids, and which spend paths of the
current output are open now or in how many blocks.

What the watcher learns is kept in a store: --db FILE, or else a cache file
per network and staking transaction under your cache directory
(~/.cache/btcstake/status/<network>/<txid>.db on Linux), so that asking
again reads only the blocks mined since. On a terminal, stderr shows how far
the reading has got.

A phase-1 staking transaction (with the OP_RETURN the params' tag names)
describes itself; otherwise give --staker-pk, --fp-pk and --staking-time.

--params is a preset or a file; of several versions, --btc-height picks one,
else the one in force at the staking transaction's inclusion height (at the
tip while it is unconfirmed).

No transaction index (-txindex) is needed. A node with one finds the staking
transaction by id; without one, --staking-tx is found through its unspent
outputs, and otherwise (or for --txid) by reading blocks: downwards from the
tip, or upwards from --from-height when you know a height at or below the
block that confirmed it (the store remembers it for the next time).
--max-scan-blocks bounds that search and the blocks read to catch up.`,
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
			if dbFlag != "" {
				if fi, err := os.Stat(dbFlag); err == nil && !fi.Mode().IsRegular() {
					return usagef("db", "%s is not a regular file", dbFlag)
				}
			}
			ctx, stop := context.WithCancelCause(cmd.Context())
			defer stop(nil)
			c, net, err := nf.connectChain(ctx, a)
			if err != nil {
				return err
			}
			defer c.Close()

			// The store: --db, else the cache file of this transaction.
			st := &statusStore{path: dbFlag, net: net, backfillFrom: -1,
				obs: &catchUpReporter{scan: a.scanReporter("following stake " + txid.String()), stop: stop}}
			defer st.close()
			if st.path == "" {
				st.cache = true
				dir := statusCacheDir(net.Name)
				if dir == "" || os.MkdirAll(dir, 0o700) != nil {
					// No cache directory (or none that can be made): a
					// store for this run only.
					if err := st.useTemp(txid); err != nil {
						return err
					}
				} else {
					st.path = statusCacheFile(dir, txid)
				}
			}
			dbFlagName := map[bool]string{false: "db", true: ""}[st.cache]
			// A store that knows the stake tells where its block is.
			hint := int64(-1)
			if _, err := os.Stat(st.path); err == nil {
				if err := st.open(c, 0); err != nil {
					switch {
					case !st.cache:
						return storeError(dbFlagName, st.path, net.Name, err)
					case errors.Is(err, watch.ErrStoreInUse):
						// Another status follows this stake right now.
						if err := st.useTemp(txid); err != nil {
							return err
						}
					default:
						// Another network's store is started over; a
						// file that is no watcher store (damaged, or
						// not status's) is left alone.
						if rerr := watch.Remove(st.path); rerr != nil {
							fmt.Fprintf(a.stderr, "btcstake: note: the status cache file %s cannot be used (%v) nor removed (%v): answering from a temporary store; remove the file to have status keep this stake again\n",
								st.path, err, rerr)
							if err := st.useTemp(txid); err != nil {
								return err
							}
						}
					}
				} else if views, err := st.w.Stakes(); err == nil {
					for _, sv := range views {
						if sv.StakingTxid == txid.String() && sv.StakingHeight > 0 {
							hint = sv.StakingHeight
						}
					}
				}
			}

			// The tip before the lookup: a transaction found in the
			// mempool confirms in a later block.
			tip0, err := c.Height(ctx)
			if err != nil {
				return nodeError(c, err)
			}
			scan := a.scanReporter("looking for staking transaction " + txid.String())
			var info *chain.TxInfo
			if given != nil {
				info, err = c.Locate(ctx, given) // without -txindex, while an output is unspent
			}
			if (given == nil || errors.Is(err, chain.ErrNotFound)) && hint >= 0 && fromHeight == 0 {
				info, err = c.FindTransaction(ctx, txid, chain.TxSearch{FromHeight: hint, MaxBlocks: 1})
			}
			if info == nil && (given == nil || errors.Is(err, chain.ErrNotFound)) {
				search := chain.TxSearch{FromHeight: fromHeight, MaxBlocks: maxScan, Progress: scan.report()}
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
				if v, err = inclusionVersion(lp, info, tip0); err != nil {
					return err
				}
				if explicit.Params, err = versionParams(lp, v); err != nil {
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
			d, source := explicit, watch.SourceStakingTx
			if len(prm.Tag()) > 0 && pf.staker == "" {
				if d, err = psbt.PhaseOneDelegation(tx, prm); err != nil {
					return fmt.Errorf("%v; for a staking tx without phase-1 data give --staker-pk, --fp-pk and --staking-time", err)
				}
				source = watch.SourcePhaseOne
			}
			entry, err := watch.NewEntry(watch.EntryConfig{Source: source, Params: prm, Staker: d.Staker,
				FPs: d.FinalityProviders, StakingTime: d.StakingTime, StakingTx: tx, ConfirmationDepth: v.Babylon().ConfirmationDepth})
			if err != nil {
				return err
			}
			id := entry.ID()
			start := info.Height
			if start < 0 {
				start = tip0 + 1
			}
			if st.w == nil {
				if err := st.open(c, start); err != nil {
					return storeError(dbFlagName, st.path, net.Name, err)
				}
			}
			// A stake new to a store that has read past its block is
			// brought through the blocks from there first (a backfill).
			// One the store watches as unconfirmed although it read the
			// block that confirmed it (added with a height past its
			// block) cannot be seen to confirm any more.
			sv, err := st.w.Stake(id)
			if err != nil && !errors.Is(err, watch.ErrNotFound) {
				return storeError(dbFlagName, st.path, net.Name, err)
			}
			cur, _ := st.w.Cursor()
			if err == nil && sv.State == watch.StatePending && info.Height >= 0 && info.Height <= cur && st.w.Progress().BackfillEntries == 0 {
				if !st.cache {
					return fmt.Errorf("--db: %s watches staking transaction %s as unconfirmed, yet has read block %d that confirmed it (up to height %d): give a new --db (or none, for status's own cache)",
						st.path, txid, info.Height, cur)
				}
				if err := st.rebuild(c, start); err != nil {
					return storeError(dbFlagName, st.path, net.Name, err)
				}
			} else if errors.Is(err, watch.ErrNotFound) {
				st.backfillFrom = start
			}
			if err := st.w.AddFrom(start, entry); err != nil {
				if !st.cache || !errors.Is(err, watch.ErrEntryConflict) {
					return storeError(dbFlagName, st.path, net.Name, err)
				}
				// Another params version than last time (the stake
				// confirmed under a later one): start over.
				if err := st.rebuild(c, start); err != nil {
					return storeError(dbFlagName, st.path, net.Name, err)
				}
				if err := st.w.AddFrom(start, entry); err != nil {
					return storeError(dbFlagName, st.path, net.Name, err)
				}
			}

			st.entry = entry
			tip, err := st.catchUp(ctx, c, maxScan, start)
			if err != nil {
				return err
			}
			view, err := st.w.Stake(id)
			if err != nil {
				return storeError(dbFlagName, st.path, net.Name, err)
			}
			history, err := delegationEvents(st.w, id)
			if err != nil {
				return storeError(dbFlagName, st.path, net.Name, err)
			}
			s := stakeStatus{StakingTxid: txid.String(), OutputIndex: entry.StakingOutPoint().Index, Value: entry.Value(),
				StakingTime: d.StakingTime, TipHeight: tip}
			if st.tempDir == "" {
				s.DBFile = st.path
			}
			if err := fillStatus(ctx, c, &s, d, view, history); err != nil {
				return err
			}
			return a.printStakeStatus(s)
		},
	}
	nf.add(cmd)
	cmd.Flags().StringVar(&pf.staker, "staker-pk", "", "staker public key (for staking txs without phase-1 data)")
	cmd.Flags().StringArrayVar(&pf.fps, "fp-pk", nil, "finality provider public key (repeatable)")
	cmd.Flags().Int64Var(&stakingTime, "staking-time", 0, "staking time in blocks")
	cmd.Flags().StringVar(&txArg, "staking-tx", "", "the staking transaction, hex")
	cmd.Flags().StringVar(&txidArg, "txid", "", "the staking transaction's id (the node looks it up)")
	ps.add(cmd, "staking parameters: a preset or a params file (several versions: --btc-height, else the version at the staking tx's inclusion height)")
	cmd.Flags().Int64Var(&maxScan, "max-scan-blocks", 100_000, "how many blocks to read, at most, to find the staking transaction (without -txindex) and to follow the stake to the tip")
	cmd.Flags().Int64Var(&fromHeight, "from-height", 0, "without -txindex: read blocks for the staking transaction upwards from this height (at or below its block); 0: downwards from the tip")
	cmd.Flags().StringVar(&dbFlag, "db", "", "watcher store to answer from and keep (created if absent; default: a cache file per staking transaction under your cache directory)")
	return cmd
}

// catchUp follows the chain from the store's cursor to the node's tip
// (rolling back blocks the node no longer has) and returns the tip. A
// reorganisation deeper than the store can undo starts status's own cache
// over from start.
func (s *statusStore) catchUp(ctx context.Context, c *chain.Client, maxScan, start int64) (int64, error) {
	for attempt := 0; ; attempt++ {
		tip, err := c.Height(ctx)
		if err != nil {
			return 0, nodeError(c, err)
		}
		cur, _ := s.w.Cursor()
		// The blocks read: the stake's backfill through the blocks the
		// store had read (when it was new to the store), then the
		// blocks after the cursor.
		low := cur + 1
		if s.backfillFrom >= 0 && s.backfillFrom < low && s.w.Progress().BackfillEntries > 0 {
			low = s.backfillFrom
		}
		if n := tip - low + 1; n > maxScan {
			return 0, fmt.Errorf("--max-scan-blocks: following the stake from height %d to the tip %d reads %d blocks, more than %d: give a larger --max-scan-blocks (or keep it followed with 'btcstake watch')",
				low, tip, n, maxScan)
		}
		s.obs.from, s.obs.to = low, tip
		err = s.w.CatchUp(ctx, tip)
		s.obs.scan.done()
		switch {
		case err == nil:
			return tip, nil
		case context.Cause(ctx) != nil && ctx.Err() != nil && !errors.Is(context.Cause(ctx), ctx.Err()):
			return 0, fmt.Errorf("the node at %s stopped answering while status read the chain: %v", c.URL(), context.Cause(ctx))
		case errors.Is(err, watch.ErrReorgTooDeep) && s.cache && attempt == 0:
			if err := s.rebuild(c, start); err != nil {
				return 0, err
			}
			if err := s.w.AddFrom(start, s.entry); err != nil {
				return 0, storeError("", s.path, s.net.Name, err)
			}
			continue
		case errors.Is(err, chain.ErrAuth), errors.Is(err, chain.ErrUnreachable), errors.Is(err, chain.ErrTimeout):
			return 0, nodeError(c, err)
		case errors.Is(err, watch.ErrWrongNetwork), errors.Is(err, watch.ErrReorgTooDeep), errors.Is(err, watch.ErrStore):
			return 0, storeError(map[bool]string{false: "db", true: ""}[s.cache], s.path, s.net.Name, err)
		}
		return 0, nodeError(c, err)
	}
}

// delegationEvents are the stored events of delegation id, in order,
// without those a later reorged_out cancelled.
func delegationEvents(w *watch.Watcher, id string) ([]watch.Event, error) {
	var out []watch.Event
	cancelled := map[string]bool{}
	for after := uint64(0); ; {
		evs, err := w.Events(after, 1000)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			after = e.Seq
			if e.Delegation != id {
				continue
			}
			if e.Kind == watch.EventReorgedOut {
				cancelled[e.Cancels] = true
				continue
			}
			out = append(out, e)
		}
	}
	kept := out[:0]
	for _, e := range out {
		if !cancelled[e.ID] {
			kept = append(kept, e)
		}
	}
	return kept, nil
}

// fillStatus turns the watcher's view of the stake, its events and what
// the mempool holds into status's answer (s.TipHeight is set).
func fillStatus(ctx context.Context, c *chain.Client, s *stakeStatus, d psbt.Delegation, view watch.StakeView, history []watch.Event) error {
	tip := s.TipHeight
	confs := func(h int64) int64 {
		if h <= 0 {
			return 0
		}
		return tip - h + 1
	}
	if view.State == watch.StatePending {
		s.State = "unconfirmed"
		s.Events = []stakeEvent{{Event: "staked", Txid: s.StakingTxid}}
		return nil
	}
	s.Confirmations = confs(view.StakingHeight)
	s.Events = []stakeEvent{{Event: "staked", Txid: s.StakingTxid, Confirmations: s.Confirmations, Height: view.StakingHeight}}
	for _, e := range history {
		name := ""
		switch e.Kind {
		case watch.EventUnbondingConfirmed:
			name = "unbonded"
		case watch.EventSlashed:
			name = "slashed from " + e.Output
		case watch.EventWithdrawn:
			name = "withdrawn from " + e.Output
		case watch.EventExtended:
			name = "extended"
		default:
			continue
		}
		s.Events = append(s.Events, stakeEvent{Event: name, Txid: e.Txid, Confirmations: confs(e.Height), Height: e.Height})
	}
	switch view.State {
	case watch.StateStaked, watch.StateUnbonding, watch.StateSlashed:
		s.State = view.State
	case watch.StateWithdrawn:
		s.State = "withdrawn"
		if view.SlashingTxid != "" {
			s.State = "slashed, change withdrawn"
		}
		return nil
	case watch.StateExtended:
		s.State = "extended"
		return nil
	default:
		return fmt.Errorf("stake %s: an output of the stake was spent through none of its leaves, which the protocol does not describe (state %s)", view.Delegation, view.State)
	}
	if view.Live == "" {
		return nil // a slashing that left no change
	}
	kind, err := script.ParseOutputKind(view.LiveKind)
	if err != nil {
		return fmt.Errorf("stake %s: %w", view.Delegation, err)
	}
	out, err := d.Output(kind)
	if err != nil {
		return err
	}
	op, err := wire.NewOutPointFromString(view.Live)
	if err != nil {
		return fmt.Errorf("stake %s: live output %q: %w", view.Delegation, view.Live, err)
	}
	// A spend of the live output waiting in the mempool.
	spender, ok, err := c.MempoolSpender(ctx, *op)
	if err != nil {
		return nodeError(c, err)
	}
	if ok {
		info, err := c.Transaction(ctx, spender)
		if err != nil {
			return nodeError(c, err)
		}
		name, err := pendingSpend(info.Tx, *op, out, d)
		if err != nil {
			return err
		}
		s.Events = append(s.Events, stakeEvent{Event: name, Txid: spender.String()})
		s.State = name + " (unconfirmed)"
		return nil
	}
	s.Paths = spendPaths(out, view.WithdrawableAt, tip)
	return nil
}

// pendingSpend names the spend of out (the output at op) that tx makes,
// by the leaf its witness reveals.
func pendingSpend(tx *wire.MsgTx, op wire.OutPoint, out *script.Output, d psbt.Delegation) (string, error) {
	for i, in := range tx.TxIn {
		if in.PreviousOutPoint != op {
			continue
		}
		w := in.Witness
		if len(w) >= 2 && len(w[len(w)-1]) > 0 && w[len(w)-1][0] == 0x50 {
			w = w[:len(w)-1] // the annex
		}
		if len(w) >= 2 {
			for _, p := range out.Paths {
				if !bytes.Equal(p.Script, w[len(w)-2]) {
					continue
				}
				switch p.Kind {
				case script.TimelockPath:
					return "withdrawn from " + out.Kind.String(), nil
				case script.SlashingPath:
					return "slashed from " + out.Kind.String(), nil
				}
				ub, err := d.UnbondingOutput()
				if err != nil {
					return "", err
				}
				if out.Kind == script.StakingOutputKind && i == 0 && len(tx.TxIn) == 2 && !paysScript(tx, ub.PkScript) {
					return "extended", nil
				}
				return "unbonded", nil
			}
		}
		return "", fmt.Errorf("%s in the mempool spends the %s output %s through none of its leaves, which the protocol does not describe", tx.TxHash(), out.Kind, op)
	}
	return "", fmt.Errorf("the node named %s as the spender of %s, which it does not spend", tx.TxHash(), op)
}

func paysScript(tx *wire.MsgTx, pkScript []byte) bool {
	for _, o := range tx.TxOut {
		if bytes.Equal(o.PkScript, pkScript) {
			return true
		}
	}
	return false
}

// spendPaths lists the spend paths of the unspent output out (time lock
// first): its time-locked spend can be in a block of height opensAt or
// later; the next block is tip+1.
func spendPaths(out *script.Output, opensAt, tip int64) []stakePath {
	covenant := fmt.Sprintf("the staker and %d of %d covenant members", out.CovenantQuorum(), len(out.CovenantKeys()))
	var ps []stakePath
	for _, k := range []script.PathKind{script.TimelockPath, script.UnbondingPath, script.SlashingPath} {
		if _, err := out.Path(k); err != nil {
			continue // the output has no such leaf
		}
		p := stakePath{Output: out.Kind.String(), Path: k.String(), SpendableNow: true}
		switch k {
		case script.TimelockPath:
			p.Needs = "the staker's signature"
			p.OpensAtHeight = opensAt
			if left := opensAt - (tip + 1); left > 0 {
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

// printStakeStatus prints status's answer.
func (a *app) printStakeStatus(s stakeStatus) error {
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
}

package watch

// EventKind names a step the watcher reports. The spellings are the ones
// used in JSON, the --exec environment, metrics labels and docs/watch.md.
type EventKind string

const (
	// EventStakingBroadcast: the staking transaction entered the mempool.
	EventStakingBroadcast EventKind = "staking_broadcast"
	// EventStakingConfirmed: a block included the staking transaction.
	EventStakingConfirmed EventKind = "staking_confirmed"
	// EventStakingDeep: the staking transaction has the confirmation
	// depth Babylon requires (the params version's confirmation_depth; 6
	// when the params do not say).
	EventStakingDeep EventKind = "staking_deep"
	// EventUnbondingBroadcast: a transaction spending the staking output
	// through its unbonding path entered the mempool.
	EventUnbondingBroadcast EventKind = "unbonding_broadcast"
	// EventUnbondingConfirmed: a block included it.
	EventUnbondingConfirmed EventKind = "unbonding_confirmed"
	// EventSlashed: a block included a transaction spending the staking
	// or the unbonding output (Output says which) through its slashing
	// path.
	EventSlashed EventKind = "slashed"
	// EventKeyRecovered: the watcher recovered a finality provider's
	// secret key from a slashing witness and the covenant adaptor
	// signatures it holds (FinalityProvider names the provider; the key
	// itself is never in an event).
	EventKeyRecovered EventKind = "fp_key_recovered"
	// EventTimelockReached: the output the stake sits in can be withdrawn
	// through its time lock in the next block (Height is the first height
	// a withdrawal can be in).
	EventTimelockReached EventKind = "timelock_reached"
	// EventWithdrawn: a block included the staker's time-lock spend of the
	// staking, unbonding or slashing change output.
	EventWithdrawn EventKind = "withdrawn"
	// EventExtended: a block included a stake extension spending the
	// staking output.
	EventExtended EventKind = "extended"
	// EventAutoSlashBroadcast: with auto-slash on, the watcher completed
	// and broadcast this delegation's slashing transaction.
	EventAutoSlashBroadcast EventKind = "auto_slash_broadcast"
	// EventAutoSlashRefused: with auto-slash on, the watcher could not
	// slash this delegation (Reason says why; Missing lists the covenant
	// members whose adaptor signatures it lacks).
	EventAutoSlashRefused EventKind = "auto_slash_refused"
	// EventReorg: blocks the watcher had processed left the main chain
	// (Height is the first orphaned height, BlockHash the orphaned block
	// at that height); the events they produced follow as reorged_out.
	EventReorg EventKind = "reorg"
	// EventReorgedOut: an earlier event (Cancels is its id) came from a
	// block that left the main chain.
	EventReorgedOut EventKind = "reorged_out"
)

// Event is one thing the watcher reports. Its ID is stable: the same event
// reported again after a restart (docs/watch.md: at most the events of the
// block the watcher was processing) carries the same ID, so a consumer can
// drop repeats. Fields that do not apply to a kind are left empty.
type Event struct {
	ID   string    `json:"id"`
	Kind EventKind `json:"kind"`
	// Seq orders events: it increases by one per event, across restarts.
	Seq uint64 `json:"seq"`
	// Delegation is the staking output, "txid:vout".
	Delegation       string `json:"delegation,omitempty"`
	FinalityProvider string `json:"finality_provider,omitempty"`
	// Output is the output spent or reached: staking, unbonding or
	// slashing_change.
	Output    string `json:"output,omitempty"`
	Txid      string `json:"txid,omitempty"`
	Height    int64  `json:"height,omitempty"`
	BlockHash string `json:"block_hash,omitempty"`
	// Depth is the confirmation depth reached (staking_deep), or the
	// number of blocks that left the chain (reorg).
	Depth int64 `json:"depth,omitempty"`
	// Cancels is the id of the event a reorged_out withdraws.
	Cancels string `json:"cancels,omitempty"`
	// Reason and Missing explain an auto_slash_refused.
	Reason  string   `json:"reason,omitempty"`
	Missing []string `json:"missing,omitempty"`
}

// StakeView is a watched delegation as the status page, /api/stakes and
// `btcstake status` show it.
type StakeView struct {
	Delegation        string   `json:"delegation"`
	Source            string   `json:"source"`
	State             string   `json:"state"`
	ValueSat          int64    `json:"value_sat"`
	StakerPK          string   `json:"staker_pk"`
	FinalityProviders []string `json:"finality_providers"`
	StakingTime       uint16   `json:"staking_time"`
	StakingTxid       string   `json:"staking_txid"`
	StakingHeight     int64    `json:"staking_height,omitempty"`
	// Live is the unspent output the stake sits in, "txid:vout".
	Live     string `json:"live,omitempty"`
	LiveKind string `json:"live_kind,omitempty"`
	// WithdrawableAt is the first height a time-lock withdrawal of Live
	// can be in; BlocksLeft how many blocks must still be mined (0 once
	// open).
	WithdrawableAt int64  `json:"withdrawable_at,omitempty"`
	BlocksLeft     int64  `json:"blocks_left"`
	UnbondingTxid  string `json:"unbonding_txid,omitempty"`
	SlashingTxid   string `json:"slashing_txid,omitempty"`
	WithdrawTxid   string `json:"withdraw_txid,omitempty"`
	// CanAutoSlash: the watcher holds the staker-signed slashing
	// transactions and covenant adaptor signatures it needs.
	CanAutoSlash bool `json:"can_auto_slash"`
}

// Progress is where the follower is.
type Progress struct {
	// Height and BlockHash are the last block processed: from Open on,
	// the store's cursor (a new store: the block before its start height,
	// with an empty BlockHash until Run or CatchUp starts).
	Height    int64  `json:"height"`
	BlockHash string `json:"block_hash"`
	// Tip is the node's best height as last seen; until Run or CatchUp
	// has asked the node, Height.
	Tip int64 `json:"tip"`
	// CaughtUp: Height == Tip when last checked, and no backfill is due;
	// false until Run or CatchUp has asked the node its height.
	CaughtUp bool `json:"caught_up"`
	// BackfillEntries is how many delegations added after the follower
	// passed blocks that may concern them still wait to be brought through
	// those blocks (Watcher.AddFrom). While a backfill runs it scans the
	// blocks BackfillFrom..BackfillTo (BackfillTo is the cursor) and has
	// applied them up to BackfillHeight; all three are 0 when none runs.
	BackfillEntries int   `json:"backfill_entries,omitempty"`
	BackfillFrom    int64 `json:"backfill_from,omitempty"`
	BackfillHeight  int64 `json:"backfill_height,omitempty"`
	BackfillTo      int64 `json:"backfill_to,omitempty"`
}

// Observer is told what the watcher does, for metrics. Its methods must
// not block.
type Observer interface {
	// BlockProcessed is called after each block is applied.
	BlockProcessed(p Progress)
	// EventEmitted is called once per event handed to consumers.
	EventEmitted(e Event)
	// NodeError is called when a call to the node fails and will be
	// retried.
	NodeError(err error)
}

// BackfillObserver is an Observer that also wants to hear of backfill
// progress (Progress.BackfillHeight), for instance to show it on a
// terminal. Its method must not block.
type BackfillObserver interface {
	// BackfillProgress is called after each block a backfill applied,
	// and once when it is done (BackfillEntries then counts the entries
	// still waiting, usually 0).
	BackfillProgress(p Progress)
}

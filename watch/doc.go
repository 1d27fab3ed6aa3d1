// Package watch follows a Bitcoin node block by block and reports what
// happens to a set of watched Babylon delegations: staking confirmed and
// k-deep, unbonding broadcast and confirmed, slashed, a finality
// provider's key recovered from a slashing witness, time lock reached,
// withdrawn, extended, and reorged out. With auto-slash on it completes
// and broadcasts the pre-signed slashing transaction of every watched
// delegation of a finality provider whose key it learned.
//
// The watcher keeps everything in one bbolt file: its cursor (height and
// hash of the last block processed), the hashes of recent blocks (to
// notice reorganisations), an undo record per recent block (to roll back
// what orphaned blocks produced), the watched delegations and their
// state, and the event log. Events are written to the log in the same
// transaction that moves the cursor past their block and are handed to
// consumers only after it commits, so a crash at any moment loses no
// event; after a restart the watcher repeats at most the events of the
// last block it processed, with the same ids (docs/watch.md).
//
// A delegation added after the follower passed blocks that may concern it
// (from the store's start height, or from the height given to AddFrom) is
// first brought through those blocks by a backfill, with the events and
// state it would have had had it been watched from the start, before the
// cursor moves on (backfill.go; docs/watch.md, "Adding delegations
// later").
//
// Layout of the package:
//   - event.go: Event, EventKind, StakeView (the vocabulary shared with
//     the CLI, the notifiers and the web page);
//   - entry.go: Entry, a validated watched delegation, and the ways to
//     make one (a staking transaction and keys, a registration message, a
//     directory of lifecycle PSBTs, a phase-1 staking transaction);
//   - slash.go: completing an entry's slashing transaction with a
//     finality provider's key, and recovering that key from a slashing
//     witness;
//   - store.go, follow.go, apply.go, watcher.go, autoslash.go,
//     backfill.go: the bbolt store, the block follower (prefetch, reorg
//     detection, mempool), the per-block state machine, the Watcher that
//     runs them and its read API, the auto-slash rules, and the backfill
//     of delegations added late.
//
// Subpackages: notify (stdout JSON lines, --exec, --webhook delivery from
// the event log) and web (Prometheus metrics, the status page and
// /api/stakes).
package watch

// Package notify delivers the watcher's events: as JSON lines on a
// writer (stdout), to a command run once per event (--exec), and to an
// HTTP endpoint (--webhook).
//
// # Delivery from the event log
//
// The exec and webhook sinks never run on the follower's goroutine. A
// Dispatcher gives each sink its own goroutine that reads the watcher's
// event log (EventLog) from the sink's own persisted cursor: it asks for
// the events after the cursor, delivers them one at a time in Seq order,
// and after each delivered event stores the event's Seq as the sink's
// cursor (SetSinkCursor under the sink's name). The follower only writes
// events to the log and, at most, calls Dispatcher.Poke, which never
// blocks; so a slow or hanging sink delays only its own later events,
// never the follower nor another sink.
//
// Guarantees:
//   - at least once: an event is delivered at least once unless it is
//     dropped (below). The cursor moves only after a delivery succeeded
//     (or was given up), so after a crash or restart delivery resumes at
//     the first event not yet acknowledged; the event that was in flight
//     when the process stopped may be delivered again. Consumers drop
//     repeats by the event's ID (the webhook sends it as Idempotency-Key
//     and X-Btcstake-Event-Id, the command gets it in BTCSTAKE_EVENT_ID).
//   - bounded: each event gets at most Retry.Attempts attempts within
//     Retry.MaxElapsed, with exponential backoff and jitter between them.
//     An event that still fails after that, or fails permanently (a
//     webhook answering 4xx other than 408 and 429, a redirect, a command
//     that cannot be started), is logged, counted (Recorder.Dropped) and
//     skipped: the cursor moves past it so that one bad event cannot stall
//     every later one. Each failed attempt is counted too
//     (Recorder.DeliveryFailed).
//   - order: per sink, events are delivered in Seq order, one at a time.
//
// A sink whose cursor is 0 (never set) starts at the first event of the
// log; to skip the history, set its cursor to the last Seq before
// starting the Dispatcher.
//
// # The --exec command
//
// ShellArgv turns the --exec string into `/bin/sh -c CMD`, so pipes and
// redirections work. The event is never put into the command line: it is
// given in environment variables and, as one line of JSON, on the
// command's standard input. Quote the variables when a script uses them
// ("$BTCSTAKE_EVENT_TXID"). The variables:
//
//	BTCSTAKE_EVENT_ID                 the event's stable id
//	BTCSTAKE_EVENT_KIND               e.g. staking_confirmed, slashed
//	BTCSTAKE_EVENT_SEQ                the event's sequence number
//	BTCSTAKE_EVENT_DELEGATION         the staking output, txid:vout
//	BTCSTAKE_EVENT_FINALITY_PROVIDER
//	BTCSTAKE_EVENT_OUTPUT             staking, unbonding or slashing_change
//	BTCSTAKE_EVENT_TXID
//	BTCSTAKE_EVENT_HEIGHT
//	BTCSTAKE_EVENT_BLOCK_HASH
//	BTCSTAKE_EVENT_DEPTH
//	BTCSTAKE_EVENT_CANCELS            the id a reorged_out withdraws
//	BTCSTAKE_EVENT_REASON
//	BTCSTAKE_EVENT_MISSING            comma-separated
//	BTCSTAKE_EVENT_JSON               the whole event as JSON
//
// Every variable is set, empty when the field does not apply. The command
// inherits the watcher's environment except every variable whose name
// starts with BTCSTAKE_ (the watcher's own settings, among them its RPC
// password and key passphrase, never reach the command). A run that
// exits non-zero or outlives ExecConfig.Timeout is a failed attempt; on
// Unix the command runs in its own process group and the whole group is
// killed at the timeout, so a forgotten background child cannot hold the
// delivery open.
//
// # The webhook
//
// Each attempt is one HTTP POST of the event's JSON (Content-Type
// application/json) with the headers Idempotency-Key and
// X-Btcstake-Event-Id (both the event's ID) and X-Btcstake-Event-Kind.
// A 2xx answer is a delivery; 408, 429, 5xx, a timeout or a network
// error is a failed attempt that is retried; any other answer (4xx, and
// 3xx: redirects are not followed) is a permanent failure and is not
// retried. At most ResponseLimit bytes of an answer are read.
package notify

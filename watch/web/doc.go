// Package web serves what the watcher knows over HTTP: Prometheus
// metrics, a small status page and the watched stakes as JSON.
//
// NewHandler returns an http.Handler with these routes (GET and HEAD
// only: any other method is answered 405 with an Allow header, any other
// path 404):
//
//	/              the status page: progress, stake counts by state, and a
//	               table of the watched stakes (server-rendered HTML, no
//	               script, no external assets, readable on a phone; at
//	               most Config.MaxRows rows, with a note when there are
//	               more); it reloads itself every 30 seconds
//	/api/stakes    {"progress": Progress, "count": N, "stakes": [StakeView...]}
//	/api/progress  Progress
//	/metrics       the Prometheus metrics below (when Config.Metrics is set)
//
// # Metrics
//
// Metrics keeps its own registry (never the global one). Its methods
// implement watch.Observer, for the watcher to call, and notify.Recorder,
// for the notify.Dispatcher to call. The metrics:
//
//	btcstake_watch_blocks_processed_total     counter: blocks the follower applied
//	btcstake_watch_height                     gauge: last block processed
//	btcstake_watch_tip_height                 gauge: the node's best height as last seen
//	btcstake_watch_tip_lag_blocks             gauge: tip minus height (0 when not behind)
//	btcstake_watch_caught_up                  gauge: 1 when height is the tip, else 0
//	btcstake_watch_stakes{state}              gauge: watched stakes by state
//	btcstake_watch_stakes_read_errors_total   counter: scrapes that could not read the stakes
//	btcstake_watch_events_total{kind}         counter: events handed to consumers, by kind
//	btcstake_watch_node_errors_total          counter: failed calls to the node (retried)
//	btcstake_watch_deliveries_total{sink}     counter: events a sink delivered
//	btcstake_watch_delivery_failures_total{sink}
//	                                          counter: failed delivery attempts
//	                                          (sink="webhook": webhook failures,
//	                                          sink="exec": --exec failures)
//	btcstake_watch_deliveries_dropped_total{sink}
//	                                          counter: events a sink gave up on
//	                                          after its retries
//
// The progress and stake gauges are read from the Source at scrape time.
// Every known event kind, and every sink named in MetricsConfig.Sinks,
// starts at 0 so that increase() and rate() see the first event. The Go
// runtime and process collectors (go_*, process_*) are registered too.
package web

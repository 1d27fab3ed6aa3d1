package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/btcstake/btcstake/watch"
	"github.com/btcstake/btcstake/watch/notify"
)

// ErrInvalidConfig: a Metrics or handler configuration that cannot work
// (no source, a negative row cap).
var ErrInvalidConfig = errors.New("invalid web configuration")

// Source is the part of the watcher the metrics, the page and the API
// read (*watch.Watcher satisfies it). Its methods are called from HTTP
// handlers, several at once.
type Source interface {
	Stakes() ([]watch.StakeView, error)
	Progress() watch.Progress
}

// knownKinds are the event kinds whose counters start at 0.
var knownKinds = []watch.EventKind{
	watch.EventStakingBroadcast, watch.EventStakingConfirmed, watch.EventStakingDeep,
	watch.EventUnbondingBroadcast, watch.EventUnbondingConfirmed, watch.EventSlashed,
	watch.EventKeyRecovered, watch.EventTimelockReached, watch.EventWithdrawn,
	watch.EventExtended, watch.EventAutoSlashBroadcast, watch.EventAutoSlashRefused,
	watch.EventReorg, watch.EventReorgedOut,
}

// unknownLabel stands for an empty state or kind.
const unknownLabel = "unknown"

// MetricsConfig configures Metrics.
type MetricsConfig struct {
	// Source is read at scrape time for progress and stakes.
	Source Source
	// Sinks are the delivery sinks in use ("webhook", "exec"), whose
	// counters start at 0.
	Sinks []string
}

// Metrics holds the watcher's Prometheus metrics in a private registry.
// It is a watch.Observer and a notify.Recorder; its methods never block.
type Metrics struct {
	reg        *prometheus.Registry
	blocks     prometheus.Counter
	events     *prometheus.CounterVec
	nodeErrors prometheus.Counter
	delivered  *prometheus.CounterVec
	failures   *prometheus.CounterVec
	dropped    *prometheus.CounterVec
}

var (
	_ watch.Observer  = (*Metrics)(nil)
	_ notify.Recorder = (*Metrics)(nil)
)

// NewMetrics registers the metrics in a new registry.
func NewMetrics(cfg MetricsConfig) (*Metrics, error) {
	if cfg.Source == nil {
		return nil, fmt.Errorf("%w: metrics: no source", ErrInvalidConfig)
	}
	const ns = "btcstake_watch"
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		blocks: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "blocks_processed_total",
			Help: "Blocks the follower applied."}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "events_total",
			Help: "Events handed to consumers, by kind."}, []string{"kind"}),
		nodeErrors: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "node_errors_total",
			Help: "Failed calls to the node (each is retried)."}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "deliveries_total",
			Help: "Events a sink delivered."}, []string{"sink"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "delivery_failures_total",
			Help: "Failed delivery attempts, by sink (webhook, exec)."}, []string{"sink"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "deliveries_dropped_total",
			Help: "Events a sink gave up on after its retries."}, []string{"sink"}),
	}
	for _, k := range knownKinds {
		m.events.WithLabelValues(label(string(k)))
	}
	for _, s := range cfg.Sinks {
		m.delivered.WithLabelValues(label(s))
		m.failures.WithLabelValues(label(s))
		m.dropped.WithLabelValues(label(s))
	}
	for _, c := range []prometheus.Collector{
		m.blocks, m.events, m.nodeErrors, m.delivered, m.failures, m.dropped,
		newStateCollector(ns, cfg.Source),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Gatherer is the private registry, for a caller that serves it itself.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// BlockProcessed counts a block (watch.Observer).
func (m *Metrics) BlockProcessed(watch.Progress) { m.blocks.Inc() }

// EventEmitted counts an event by kind (watch.Observer).
func (m *Metrics) EventEmitted(e watch.Event) { m.events.WithLabelValues(label(string(e.Kind))).Inc() }

// NodeError counts a failed node call (watch.Observer).
func (m *Metrics) NodeError(error) { m.nodeErrors.Inc() }

// Delivered counts a delivery (notify.Recorder).
func (m *Metrics) Delivered(sink string, _ watch.Event) {
	m.delivered.WithLabelValues(label(sink)).Inc()
}

// DeliveryFailed counts a failed attempt (notify.Recorder).
func (m *Metrics) DeliveryFailed(sink string, _ watch.Event, _ error) {
	m.failures.WithLabelValues(label(sink)).Inc()
}

// Dropped counts an event given up (notify.Recorder).
func (m *Metrics) Dropped(sink string, _ watch.Event, _ error) {
	m.dropped.WithLabelValues(label(sink)).Inc()
}

// label is s as a label value: valid UTF-8 (Prometheus refuses
// anything else), "unknown" when empty.
func label(s string) string {
	if s == "" {
		return unknownLabel
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// constMetric is a gauge sample, or an invalid metric (reported by the
// scrape, never a panic) when it cannot be made.
func constMetric(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

// stateCollector reads progress and stakes from the source at scrape
// time, and counts the scrapes that could not read the stakes.
type stateCollector struct {
	src                                            Source
	readErrors                                     atomic.Uint64
	height, tip, lag, caughtUp, stake, readErrorsD *prometheus.Desc
}

func newStateCollector(ns string, src Source) *stateCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(ns, "", name), help, labels, nil)
	}
	return &stateCollector{
		src:         src,
		readErrorsD: d("stakes_read_errors_total", "Scrapes that could not read the watched stakes."),
		height:      d("height", "Last block processed."),
		tip:         d("tip_height", "The node's best height as last seen."),
		lag:         d("tip_lag_blocks", "Blocks between the last processed and the node's tip (0 when not behind)."),
		caughtUp:    d("caught_up", "1 when the follower has processed the tip, else 0."),
		stake:       d("stakes", "Watched stakes by state.", "state"),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.height, c.tip, c.lag, c.caughtUp, c.stake, c.readErrorsD} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	p := c.src.Progress()
	caught := 0.0
	if p.CaughtUp {
		caught = 1
	}
	ch <- constMetric(c.height, float64(p.Height))
	ch <- constMetric(c.tip, float64(p.Tip))
	ch <- constMetric(c.lag, float64(max(0, p.Tip-p.Height)))
	ch <- constMetric(c.caughtUp, caught)
	stakes, err := c.src.Stakes()
	if err != nil {
		c.readErrors.Add(1)
	}
	m, err2 := prometheus.NewConstMetric(c.readErrorsD, prometheus.CounterValue, float64(c.readErrors.Load()))
	if err2 != nil {
		m = prometheus.NewInvalidMetric(c.readErrorsD, err2)
	}
	ch <- m
	if err != nil {
		return
	}
	for _, sc := range countStates(stakes) {
		ch <- constMetric(c.stake, float64(sc.Count), label(sc.State))
	}
}

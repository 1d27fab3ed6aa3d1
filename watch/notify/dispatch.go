package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcstake/btcstake/watch"
)

// ErrAlreadyRunning: Run was called on a Dispatcher that has already run.
var ErrAlreadyRunning = errors.New("dispatcher already running")

// Dispatcher defaults.
const (
	// DefaultPollInterval is how often an idle sink looks at the event
	// log when nothing pokes it, and how long it waits after the log
	// fails to answer.
	DefaultPollInterval = 2 * time.Second
	// DefaultBatchSize is how many events a sink reads from the log at a
	// time.
	DefaultBatchSize = 100
	// maxSinkName is the longest sink name.
	maxSinkName = 32
)

// SinkConfig is one sink of a Dispatcher and how hard to try it.
type SinkConfig struct {
	Sink  Sink
	Retry Retry
}

// DispatcherConfig configures a Dispatcher.
type DispatcherConfig struct {
	// Log is the event log the sinks read and keep their cursors in.
	Log EventLog
	// Sinks, each with a distinct Name.
	Sinks []SinkConfig
	// Recorder, optional, is told every outcome.
	Recorder Recorder
	// Logger, optional, gets failed attempts, dropped events and log
	// errors.
	Logger *slog.Logger
	// PollInterval (0: DefaultPollInterval) and BatchSize (0:
	// DefaultBatchSize).
	PollInterval time.Duration
	BatchSize    int
}

// Dispatcher delivers the event log to its sinks, each from its own
// goroutine and cursor (see the package documentation).
type Dispatcher struct {
	log     EventLog
	sinks   []*sinkRun
	rec     Recorder
	logger  *slog.Logger
	poll    time.Duration
	batch   int
	started atomic.Bool
}

// sinkRun is a sink and its wake-up signal.
type sinkRun struct {
	sink  Sink
	retry Retry
	name  string
	wake  chan struct{}
}

// NewDispatcher checks cfg and returns a Dispatcher; Run starts it.
func NewDispatcher(cfg DispatcherConfig) (*Dispatcher, error) {
	if cfg.Log == nil {
		return nil, fmt.Errorf("%w: dispatcher: no event log", ErrInvalidConfig)
	}
	if cfg.PollInterval < 0 || cfg.BatchSize < 0 {
		return nil, fmt.Errorf("%w: dispatcher: negative poll interval or batch size", ErrInvalidConfig)
	}
	d := &Dispatcher{log: cfg.Log, rec: cfg.Recorder, logger: cfg.Logger, poll: cfg.PollInterval, batch: cfg.BatchSize}
	if d.rec == nil {
		d.rec = nopRecorder{}
	}
	if d.logger == nil {
		d.logger = slog.New(slog.DiscardHandler)
	}
	if d.poll == 0 {
		d.poll = DefaultPollInterval
	}
	if d.batch == 0 {
		d.batch = DefaultBatchSize
	}
	seen := map[string]bool{}
	for i, sc := range cfg.Sinks {
		if sc.Sink == nil {
			return nil, fmt.Errorf("%w: dispatcher: sink %d is nil", ErrInvalidConfig, i)
		}
		name := sc.Sink.Name()
		if err := checkName(name); err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: dispatcher: two sinks named %q", ErrInvalidConfig, name)
		}
		seen[name] = true
		r, err := sc.Retry.withDefaults()
		if err != nil {
			return nil, fmt.Errorf("sink %s: %w", name, err)
		}
		d.sinks = append(d.sinks, &sinkRun{sink: sc.Sink, retry: r, name: name, wake: make(chan struct{}, 1)})
	}
	return d, nil
}

// checkName accepts 1 to 32 letters, digits, '_', '-' and '.'.
func checkName(name string) error {
	if name == "" || len(name) > maxSinkName {
		return fmt.Errorf("%w: sink name %q: want 1 to %d characters", ErrInvalidConfig, name, maxSinkName)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("%w: sink name %q: only letters, digits, '_', '-' and '.'", ErrInvalidConfig, name)
		}
	}
	return nil
}

// Poke tells every sink that the log has new events. It never blocks; a
// sink that is busy delivering looks at the log when it is done anyway.
func (d *Dispatcher) Poke() {
	for _, s := range d.sinks {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Run delivers until ctx is done, then returns nil once every sink has
// stopped. A delivery in flight at that moment is abandoned without
// moving its sink's cursor, so it is made again by the next Run. A
// Dispatcher runs once.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.started.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	var wg sync.WaitGroup
	for _, s := range d.sinks {
		wg.Go(func() { d.runSink(ctx, s) })
	}
	wg.Wait()
	return nil
}

// runSink is one sink's loop: read the log after the cursor, deliver,
// move the cursor, wait for more.
func (d *Dispatcher) runSink(ctx context.Context, s *sinkRun) {
	log := d.logger.With("sink", s.name)
	var cursor uint64
	for {
		c, err := d.log.SinkCursor(s.name)
		if err == nil {
			cursor = c
			break
		}
		log.Error("cannot read the sink's cursor; retrying", "err", err)
		if !sleep(ctx, d.poll) {
			return
		}
	}
	for {
		events, err := d.log.Events(cursor, d.batch)
		if err != nil {
			log.Error("cannot read the event log; retrying", "after_seq", cursor, "err", err)
			if !sleep(ctx, d.poll) {
				return
			}
			continue
		}
		start := cursor
		for _, e := range events {
			if e.Seq <= cursor {
				log.Error("event log returned an event at or before the cursor; skipping it", "seq", e.Seq, "cursor", cursor)
				continue
			}
			if !d.deliver(ctx, s, log, e) {
				return
			}
			cursor = e.Seq
			if err := d.log.SetSinkCursor(s.name, cursor); err != nil {
				log.Error("cannot store the sink's cursor; the event may be delivered again after a restart", "seq", cursor, "err", err)
			}
		}
		// Nothing new (or nothing past the cursor): wait for more.
		if cursor == start && !d.idle(ctx, s) {
			return
		}
	}
}

// idle waits for a Poke, the poll interval or ctx; false when ctx is done.
func (d *Dispatcher) idle(ctx context.Context, s *sinkRun) bool {
	t := time.NewTimer(d.poll)
	defer t.Stop()
	select {
	case <-s.wake:
		return true
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// deliver tries e on s within its retry bounds. It returns true when the
// cursor may move past e (delivered, or dropped and counted) and false
// when ctx ended first.
func (d *Dispatcher) deliver(ctx context.Context, s *sinkRun, log *slog.Logger, e watch.Event) bool {
	deadline := time.Now().Add(s.retry.MaxElapsed)
	ectx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	log = log.With("event", e.ID, "seq", e.Seq, "kind", string(e.Kind))
	for n := 1; ; n++ {
		err := s.sink.Deliver(ectx, e)
		if err == nil {
			d.rec.Delivered(s.name, e)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		d.rec.DeliveryFailed(s.name, e, err)
		var why string
		switch wait := s.retry.backoff(n); {
		case errors.Is(err, ErrPermanent):
			why = "permanent failure"
		case n >= s.retry.Attempts:
			why = "no attempts left"
		case time.Until(deadline) <= wait:
			why = "out of time"
		default:
			log.Warn("delivery failed; retrying", "attempt", n, "retry_in", wait, "err", err)
			if !sleep(ctx, wait) {
				return false
			}
			continue
		}
		log.Error("delivery failed; event dropped by this sink", "attempts", n, "reason", why, "err", err)
		d.rec.Dropped(s.name, e, err)
		return true
	}
}

// nopRecorder records nothing.
type nopRecorder struct{}

func (nopRecorder) Delivered(string, watch.Event)             {}
func (nopRecorder) DeliveryFailed(string, watch.Event, error) {}
func (nopRecorder) Dropped(string, watch.Event, error)        {}

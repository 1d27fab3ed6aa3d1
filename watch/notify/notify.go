package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/btcstake/btcstake/watch"
)

// Error kinds (errors.Is).
var (
	// ErrInvalidConfig: a sink or dispatcher configuration that cannot
	// work (an empty command, a URL that is not http or https, a negative
	// timeout, two sinks with one name).
	ErrInvalidConfig = errors.New("invalid notify configuration")
	// ErrDeliveryFailed: one delivery attempt failed in a way a later
	// attempt may not (a timeout, a network error, a command exiting
	// non-zero, a webhook answering 408, 429 or 5xx).
	ErrDeliveryFailed = errors.New("delivery failed")
	// ErrPermanent: a delivery failed in a way retrying cannot fix (a
	// webhook answering 4xx or 3xx, a command that cannot be started).
	ErrPermanent = errors.New("delivery failed permanently")
)

// EventLog is the part of the watcher a Dispatcher reads
// (*watch.Watcher satisfies it). Its methods are called from one
// goroutine per sink at once.
type EventLog interface {
	// Events returns up to max events with Seq > afterSeq, in Seq order.
	Events(afterSeq uint64, max int) ([]watch.Event, error)
	// SinkCursor returns the Seq of the last event the named sink has
	// acknowledged, 0 when it has none.
	SinkCursor(name string) (uint64, error)
	// SetSinkCursor stores it durably.
	SetSinkCursor(name string, seq uint64) error
}

// Sink delivers one event per call; a Dispatcher retries it. Deliver
// must return when ctx is done.
type Sink interface {
	// Name is the sink's cursor name in the event log, and its label in
	// logs and metrics ("webhook", "exec", "stdout").
	Name() string
	// Deliver makes one attempt. An error wraps ErrDeliveryFailed (worth
	// retrying) or ErrPermanent (not).
	Deliver(ctx context.Context, e watch.Event) error
}

// Recorder is told the outcome of deliveries, for metrics. Its methods
// must not block. web.Metrics implements it.
type Recorder interface {
	// Delivered: the sink delivered e.
	Delivered(sink string, e watch.Event)
	// DeliveryFailed: one attempt to deliver e failed.
	DeliveryFailed(sink string, e watch.Event, err error)
	// Dropped: the sink gave e up (after its retries, or at once on a
	// permanent failure); the cursor moved past it.
	Dropped(sink string, e watch.Event, err error)
}

// Retry bounds the attempts at one event. Zero fields take the defaults.
type Retry struct {
	// Attempts is the most attempts per event, the first one included
	// (default 5, at most MaxAttempts).
	Attempts int
	// MinDelay is the wait before the second attempt (default 500ms);
	// each later wait doubles, up to MaxDelay (default 30s). Each wait is
	// drawn at random between half of it and all of it, so that many
	// watchers do not retry in step.
	MinDelay time.Duration
	MaxDelay time.Duration
	// MaxElapsed bounds the time spent on one event, attempts and waits
	// together (default 2m): no attempt runs past it, and no attempt is
	// started when the wait before it would end past it.
	MaxElapsed time.Duration
}

// Retry defaults and limits.
const (
	DefaultAttempts   = 5
	MaxAttempts       = 100
	DefaultMinDelay   = 500 * time.Millisecond
	DefaultMaxDelay   = 30 * time.Second
	DefaultMaxElapsed = 2 * time.Minute
)

// withDefaults checks r and fills its zero fields.
func (r Retry) withDefaults() (Retry, error) {
	if r.Attempts < 0 || r.Attempts > MaxAttempts {
		return r, fmt.Errorf("%w: retry attempts %d (want 1..%d, 0 for %d)", ErrInvalidConfig, r.Attempts, MaxAttempts, DefaultAttempts)
	}
	if r.MinDelay < 0 || r.MaxDelay < 0 || r.MaxElapsed < 0 {
		return r, fmt.Errorf("%w: negative retry delay", ErrInvalidConfig)
	}
	if r.Attempts == 0 {
		r.Attempts = DefaultAttempts
	}
	if r.MinDelay == 0 {
		r.MinDelay = DefaultMinDelay
	}
	if r.MaxDelay == 0 {
		r.MaxDelay = DefaultMaxDelay
	}
	if r.MaxElapsed == 0 {
		r.MaxElapsed = DefaultMaxElapsed
	}
	if r.MaxDelay < r.MinDelay {
		return r, fmt.Errorf("%w: retry max delay %v below min delay %v", ErrInvalidConfig, r.MaxDelay, r.MinDelay)
	}
	return r, nil
}

// backoff is the wait after the n-th failed attempt (n >= 1): MinDelay
// doubled n-1 times, capped at MaxDelay, then drawn from [d/2, d].
func (r Retry) backoff(n int) time.Duration {
	d := r.MinDelay
	for i := 1; i < n; i++ {
		if d > r.MaxDelay/2 {
			d = r.MaxDelay
			break
		}
		d *= 2
	}
	d = min(d, r.MaxDelay)
	half := d / 2
	return half + rand.N(d-half+1)
}

// sleep waits d or until ctx is done; it reports whether the wait ran out.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

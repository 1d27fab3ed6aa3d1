package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/btcstake/btcstake/watch"
)

// fakeLog is an in-memory EventLog: the follower's side appends, the
// dispatcher reads and moves cursors.
type fakeLog struct {
	mu      sync.Mutex
	events  []watch.Event
	cursors map[string]uint64
	// failEvents makes that many Events calls fail first.
	failEvents int
	calls      int
}

func newFakeLog() *fakeLog { return &fakeLog{cursors: map[string]uint64{}} }

// add appends n events and returns them.
func (f *fakeLog) add(n int) []watch.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []watch.Event
	for range n {
		seq := uint64(len(f.events) + 1)
		e := watch.Event{
			ID:         fmt.Sprintf("ev-%03d", seq),
			Kind:       watch.EventStakingConfirmed,
			Seq:        seq,
			Delegation: fmt.Sprintf("%064x:0", seq),
			Txid:       fmt.Sprintf("%064x", seq),
			Height:     int64(100 + seq),
		}
		f.events = append(f.events, e)
		out = append(out, e)
	}
	return out
}

func (f *fakeLog) Events(after uint64, max int) ([]watch.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.failEvents > 0 {
		f.failEvents--
		return nil, errors.New("store unavailable")
	}
	var out []watch.Event
	for _, e := range f.events {
		if e.Seq > after && len(out) < max {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeLog) SinkCursor(name string) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursors[name], nil
}

func (f *fakeLog) SetSinkCursor(name string, seq uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cursors[name] = seq
	return nil
}

func (f *fakeLog) cursor(name string) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cursors[name]
}

// fakeRecorder counts outcomes per sink.
type fakeRecorder struct {
	mu        sync.Mutex
	delivered map[string][]string // sink -> event ids
	failed    map[string]int
	dropped   map[string][]string
	lastErr   error
}

func newFakeRecorder() *fakeRecorder {
	return &fakeRecorder{delivered: map[string][]string{}, failed: map[string]int{}, dropped: map[string][]string{}}
}

func (r *fakeRecorder) Delivered(sink string, e watch.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delivered[sink] = append(r.delivered[sink], e.ID)
}

func (r *fakeRecorder) DeliveryFailed(sink string, e watch.Event, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed[sink]++
	r.lastErr = err
}

func (r *fakeRecorder) Dropped(sink string, e watch.Event, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dropped[sink] = append(r.dropped[sink], e.ID)
}

// counts returns delivered, failed and dropped counts of sink.
func (r *fakeRecorder) counts(sink string) (int, int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.delivered[sink]), r.failed[sink], len(r.dropped[sink])
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// startDispatcher runs a dispatcher until the test ends or stop is
// called; stop waits for Run to return.
func startDispatcher(t *testing.T, cfg DispatcherConfig) (d *Dispatcher, stop func()) {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	d, err := NewDispatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after its context was cancelled")
			}
		})
	}
	t.Cleanup(stop)
	return d, stop
}

// fastRetry keeps tests quick.
var fastRetry = Retry{Attempts: 5, MinDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, MaxElapsed: 10 * time.Second}

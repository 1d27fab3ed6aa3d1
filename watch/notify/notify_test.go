package notify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcstake/btcstake/watch"
)

func TestJSONLinesConcurrentWholeLines(t *testing.T) {
	var buf bytes.Buffer
	j, err := NewJSONLines(&buf)
	if err != nil {
		t.Fatal(err)
	}
	log := newFakeLog()
	evs := log.add(200)
	var wg sync.WaitGroup
	for _, e := range evs {
		wg.Go(func() {
			if err := j.Write(e); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	seen := map[string]watch.Event{}
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		line := sc.Bytes()
		var e watch.Event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, line); err != nil || !bytes.Equal(compact.Bytes(), line) {
			t.Errorf("line %q is not compact JSON", line)
		}
		seen[e.ID] = e
	}
	if len(seen) != len(evs) {
		t.Fatalf("%d distinct lines, want %d", len(seen), len(evs))
	}
	for _, e := range evs {
		if !reflect.DeepEqual(seen[e.ID], e) {
			t.Errorf("%s read back as %+v", e.ID, seen[e.ID])
		}
	}
	if _, err := NewJSONLines(nil); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil writer: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestJSONLinesWriteError(t *testing.T) {
	j, _ := NewJSONLines(failWriter{})
	if err := j.Deliver(context.Background(), watch.Event{ID: "a"}); !errors.Is(err, ErrDeliveryFailed) {
		t.Errorf("failing writer: %v", err)
	}
}

func TestEventEnvOmitsEmptyNumbers(t *testing.T) {
	env := EventEnv(watch.Event{ID: "a", Kind: watch.EventReorg, Seq: 1}, []byte(`{}`))
	want := []string{
		"BTCSTAKE_EVENT_ID=a", "BTCSTAKE_EVENT_KIND=reorg", "BTCSTAKE_EVENT_SEQ=1",
		"BTCSTAKE_EVENT_DELEGATION=", "BTCSTAKE_EVENT_FINALITY_PROVIDER=", "BTCSTAKE_EVENT_OUTPUT=",
		"BTCSTAKE_EVENT_TXID=", "BTCSTAKE_EVENT_HEIGHT=", "BTCSTAKE_EVENT_BLOCK_HASH=",
		"BTCSTAKE_EVENT_DEPTH=", "BTCSTAKE_EVENT_CANCELS=", "BTCSTAKE_EVENT_REASON=",
		"BTCSTAKE_EVENT_MISSING=", "BTCSTAKE_EVENT_JSON={}",
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("got %q\nwant %q", env, want)
	}
}

// FuzzEventEnv: whatever the event holds, the environment is well formed
// (one variable per name, no NUL) and carries every field.
func FuzzEventEnv(f *testing.F) {
	f.Add("id", "txid:0", "reason", "a,b", int64(5))
	f.Add("x\x00y", "$(rm -rf /)", "line\nbreak", "", int64(-1))
	f.Add("=", "a=b", "\xff\xfe", "\x00", int64(0))
	f.Fuzz(func(t *testing.T, id, delegation, reason, missing string, height int64) {
		e := watch.Event{ID: id, Delegation: delegation, Reason: reason, Height: height, Seq: 3}
		if missing != "" {
			e.Missing = strings.Split(missing, ",")
		}
		line, err := Line(e)
		if err != nil {
			t.Fatal(err)
		}
		env := EventEnv(e, line[:len(line)-1])
		names := map[string]string{}
		for _, kv := range env {
			if strings.IndexByte(kv, 0) >= 0 {
				t.Fatalf("NUL in %q", kv)
			}
			name, value, ok := strings.Cut(kv, "=")
			if !ok || !strings.HasPrefix(name, "BTCSTAKE_EVENT_") {
				t.Fatalf("bad entry %q", kv)
			}
			if _, dup := names[name]; dup {
				t.Fatalf("%s set twice", name)
			}
			names[name] = value
		}
		noNUL := func(s string) string { return strings.ReplaceAll(s, "\x00", "") }
		if names["BTCSTAKE_EVENT_ID"] != noNUL(id) || names["BTCSTAKE_EVENT_DELEGATION"] != noNUL(delegation) || names["BTCSTAKE_EVENT_REASON"] != noNUL(reason) {
			t.Errorf("fields not carried: %q", env)
		}
		if want := fmt.Sprint(height); height != 0 && names["BTCSTAKE_EVENT_HEIGHT"] != want {
			t.Errorf("height %q, want %q", names["BTCSTAKE_EVENT_HEIGHT"], want)
		}
		var back watch.Event
		if err := json.Unmarshal([]byte(names["BTCSTAKE_EVENT_JSON"]), &back); err != nil {
			t.Fatalf("BTCSTAKE_EVENT_JSON does not decode: %v", err)
		}
		if back.Seq != 3 || back.Height != height || len(back.Missing) != len(e.Missing) {
			t.Errorf("BTCSTAKE_EVENT_JSON decodes to %+v", back)
		}
	})
}

func TestRetryDefaultsAndBounds(t *testing.T) {
	r, err := Retry{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if r != (Retry{Attempts: DefaultAttempts, MinDelay: DefaultMinDelay, MaxDelay: DefaultMaxDelay, MaxElapsed: DefaultMaxElapsed}) {
		t.Errorf("defaults %+v", r)
	}
	for _, bad := range []Retry{{Attempts: -1}, {Attempts: MaxAttempts + 1}, {MinDelay: -1}, {MaxElapsed: -1}, {MinDelay: time.Minute, MaxDelay: time.Second}} {
		if _, err := bad.withDefaults(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	r = Retry{Attempts: 100, MinDelay: 3 * time.Millisecond, MaxDelay: 10 * time.Second, MaxElapsed: time.Hour}
	for n := 1; n <= 100; n++ {
		// The un-jittered wait: MinDelay * 2^(n-1), capped at MaxDelay,
		// computed in floating point as the oracle.
		d := float64(r.MinDelay)
		for range n - 1 {
			d *= 2
		}
		full := time.Duration(min(d, float64(r.MaxDelay)))
		for range 20 {
			got := r.backoff(n)
			if got < full/2 || got > full {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, got, full/2, full)
			}
		}
	}
	huge := Retry{MinDelay: time.Hour, MaxDelay: 1<<63 - 1}
	for n := 1; n <= 100; n++ {
		if got := huge.backoff(n); got < 0 {
			t.Fatalf("backoff(%d) overflowed to %v", n, got)
		}
	}
}

// sinkFunc is a Sink made of a function.
type sinkFunc struct {
	name string
	f    func(context.Context, watch.Event) error
}

func (s sinkFunc) Name() string                                     { return s.name }
func (s sinkFunc) Deliver(ctx context.Context, e watch.Event) error { return s.f(ctx, e) }

func TestDispatcherConfigErrors(t *testing.T) {
	ok := sinkFunc{"a", func(context.Context, watch.Event) error { return nil }}
	for name, cfg := range map[string]DispatcherConfig{
		"no log":         {Sinks: []SinkConfig{{Sink: ok}}},
		"nil sink":       {Log: newFakeLog(), Sinks: []SinkConfig{{}}},
		"duplicate name": {Log: newFakeLog(), Sinks: []SinkConfig{{Sink: ok}, {Sink: ok}}},
		"bad name":       {Log: newFakeLog(), Sinks: []SinkConfig{{Sink: sinkFunc{"a/b", ok.f}}}},
		"long name":      {Log: newFakeLog(), Sinks: []SinkConfig{{Sink: sinkFunc{strings.Repeat("a", 33), ok.f}}}},
		"bad retry":      {Log: newFakeLog(), Sinks: []SinkConfig{{Sink: ok, Retry: Retry{Attempts: -2}}}},
		"negative poll":  {Log: newFakeLog(), PollInterval: -1},
	} {
		if _, err := NewDispatcher(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestDispatcherRunsOnce(t *testing.T) {
	d, stop := startDispatcher(t, DispatcherConfig{Log: newFakeLog()})
	stop()
	if err := d.Run(context.Background()); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second Run: %v", err)
	}
}

func TestDispatcherSurvivesLogErrorsAndSinksAreIndependent(t *testing.T) {
	log := newFakeLog()
	log.failEvents = 3
	log.add(4)
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	var mu sync.Mutex
	var fast []string
	sinks := []SinkConfig{
		// stuck never finishes its first event until the test ends.
		{Sink: sinkFunc{"stuck", func(ctx context.Context, e watch.Event) error {
			select {
			case <-block:
			case <-ctx.Done():
			}
			return ctx.Err()
		}}, Retry: Retry{Attempts: 1, MaxElapsed: time.Hour}},
		{Sink: sinkFunc{"fast", func(_ context.Context, e watch.Event) error {
			mu.Lock()
			defer mu.Unlock()
			fast = append(fast, e.ID)
			return nil
		}}, Retry: fastRetry},
	}
	d, _ := startDispatcher(t, DispatcherConfig{Log: log, Sinks: sinks, BatchSize: 3})
	waitFor(t, 10*time.Second, "the fast sink to get all four", func() bool { return log.cursor("fast") == 4 })
	log.add(1)
	d.Poke()
	waitFor(t, 10*time.Second, "the fast sink to get the fifth", func() bool { return log.cursor("fast") == 5 })
	mu.Lock()
	got := append([]string(nil), fast...)
	mu.Unlock()
	if want := []string{"ev-001", "ev-002", "ev-003", "ev-004", "ev-005"}; !reflect.DeepEqual(got, want) {
		t.Errorf("fast sink got %v, want %v", got, want)
	}
	if c := log.cursor("stuck"); c != 0 {
		t.Errorf("stuck sink's cursor moved to %d", c)
	}
}

// A Poke wakes an idle sink long before its poll interval.
func TestPokeWakesIdleSink(t *testing.T) {
	log := newFakeLog()
	got := make(chan string, 1)
	d, _ := startDispatcher(t, DispatcherConfig{
		Log:          log,
		PollInterval: time.Hour,
		Sinks:        []SinkConfig{{Sink: sinkFunc{"s", func(_ context.Context, e watch.Event) error { got <- e.ID; return nil }}, Retry: fastRetry}},
	})
	// Let the sink find the log empty and go idle (its first Events
	// call), then add an event and poke.
	waitFor(t, 10*time.Second, "the sink's first look at the log", func() bool {
		log.mu.Lock()
		defer log.mu.Unlock()
		return log.calls > 0
	})
	log.add(1)
	d.Poke()
	select {
	case id := <-got:
		if id != "ev-001" {
			t.Errorf("got %s", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a Poke did not wake the idle sink")
	}
}

func ExampleJSONLines() {
	var out bytes.Buffer
	j, _ := NewJSONLines(&out)
	_ = j.Write(watch.Event{ID: "e1", Kind: watch.EventStakingConfirmed, Seq: 1, Delegation: "ab12:0", Height: 850000})
	fmt.Print(out.String())
	// Output:
	// {"id":"e1","kind":"staking_confirmed","seq":1,"delegation":"ab12:0","height":850000}
}

func ExampleShellArgv() {
	argv, _ := ShellArgv(`logger -t btcstake "$BTCSTAKE_EVENT_KIND"`)
	fmt.Printf("%q\n", argv)
	// Output:
	// ["/bin/sh" "-c" "logger -t btcstake \"$BTCSTAKE_EVENT_KIND\""]
}

func BenchmarkJSONLinesWrite(b *testing.B) {
	var buf bytes.Buffer
	j, _ := NewJSONLines(&buf)
	e := watch.Event{ID: strings.Repeat("a", 64), Kind: watch.EventSlashed, Seq: 9, Delegation: strings.Repeat("b", 64) + ":0", Txid: strings.Repeat("c", 64), Height: 850000, BlockHash: strings.Repeat("d", 64), Output: "staking"}
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := j.Write(e); err != nil {
			b.Fatal(err)
		}
	}
}

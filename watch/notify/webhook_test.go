package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcstake/btcstake/watch"
)

// hit is one request a test server received.
type hit struct {
	method, contentType, idemKey, eventID, kind string
	body                                        []byte
}

// recorder is a webhook endpoint that answers with status(n, hit) for
// the n-th request (from 1) and keeps every request.
type recorder struct {
	mu     sync.Mutex
	hits   []hit
	status func(n int, h hit) int
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	h := hit{
		method:      req.Method,
		contentType: req.Header.Get("Content-Type"),
		idemKey:     req.Header.Get("Idempotency-Key"),
		eventID:     req.Header.Get("X-Btcstake-Event-Id"),
		kind:        req.Header.Get("X-Btcstake-Event-Kind"),
		body:        body,
	}
	r.mu.Lock()
	r.hits = append(r.hits, h)
	n := len(r.hits)
	r.mu.Unlock()
	w.WriteHeader(r.status(n, h))
}

func (r *recorder) all() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

func newWebhook(t *testing.T, url string, timeout time.Duration) *Webhook {
	t.Helper()
	w, err := NewWebhook(WebhookConfig{URL: url, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWebhookFailsThenDelivers(t *testing.T) {
	const failures = 3
	rec := &recorder{status: func(n int, _ hit) int {
		if n <= failures {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	}}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	log := newFakeLog()
	metrics := newFakeRecorder()
	d, _ := startDispatcher(t, DispatcherConfig{
		Log:      log,
		Sinks:    []SinkConfig{{Sink: newWebhook(t, srv.URL, time.Second), Retry: fastRetry}},
		Recorder: metrics,
	})
	ev := log.add(1)[0]
	d.Poke()
	waitFor(t, 10*time.Second, "the cursor to reach the event", func() bool { return log.cursor("webhook") == ev.Seq })

	hits := rec.all()
	if len(hits) != failures+1 {
		t.Fatalf("%d requests, want %d", len(hits), failures+1)
	}
	for i, h := range hits {
		if h.method != http.MethodPost || h.contentType != "application/json" {
			t.Errorf("request %d: %s with Content-Type %q", i, h.method, h.contentType)
		}
		if h.idemKey != ev.ID || h.eventID != ev.ID || h.kind != string(ev.Kind) {
			t.Errorf("request %d: headers %q %q %q, want id %q kind %q", i, h.idemKey, h.eventID, h.kind, ev.ID, ev.Kind)
		}
		var got watch.Event
		if err := json.Unmarshal(h.body, &got); err != nil {
			t.Fatalf("request %d: body %q: %v", i, h.body, err)
		}
		if !reflect.DeepEqual(got, ev) {
			t.Errorf("request %d: body decodes to %+v, want %+v", i, got, ev)
		}
	}
	if del, fail, drop := metrics.counts("webhook"); del != 1 || fail != failures || drop != 0 {
		t.Errorf("delivered %d, failed %d, dropped %d; want 1, %d, 0", del, fail, failures, drop)
	}
	if !errors.Is(metrics.lastErr, ErrDeliveryFailed) || !strings.Contains(metrics.lastErr.Error(), "503") {
		t.Errorf("failure recorded as %v", metrics.lastErr)
	}
}

// hanging is an endpoint that never answers events whose id is in hang
// (until the test ends) and accepts the others.
func hanging(t *testing.T, hang map[string]bool) (*httptest.Server, *recorder) {
	release := make(chan struct{})
	rec := &recorder{status: func(int, hit) int { return http.StatusOK }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hang[r.Header.Get("X-Btcstake-Event-Id")] {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		rec.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv, rec
}

func TestWebhookHangsFollowerNeverWaits(t *testing.T) {
	log := newFakeLog()
	first := log.add(1)[0]
	srv, rec := hanging(t, map[string]bool{first.ID: true})
	metrics := newFakeRecorder()
	const attempts = 3
	d, _ := startDispatcher(t, DispatcherConfig{
		Log:      log,
		Sinks:    []SinkConfig{{Sink: newWebhook(t, srv.URL, 30*time.Millisecond), Retry: Retry{Attempts: attempts, MinDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, MaxElapsed: 10 * time.Second}}},
		Recorder: metrics,
	})
	// The follower's side while the sink hangs: appending events and
	// poking return at once, however many.
	followerDone := make(chan struct{})
	go func() {
		for range 50 {
			log.add(1)
			d.Poke()
		}
		close(followerDone)
	}()
	select {
	case <-followerDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the follower's side blocked on a hanging webhook")
	}
	waitFor(t, 10*time.Second, "every event to be handled", func() bool { return log.cursor("webhook") == 51 })
	del, fail, drop := metrics.counts("webhook")
	if drop != 1 || fail != attempts || del != 50 {
		t.Errorf("delivered %d, failed %d, dropped %d; want 50, %d, 1", del, fail, drop, attempts)
	}
	if got := metrics.dropped["webhook"]; len(got) != 1 || got[0] != first.ID {
		t.Errorf("dropped %v, want [%s]", got, first.ID)
	}
	if !errors.Is(metrics.lastErr, ErrDeliveryFailed) || !errors.Is(metrics.lastErr, context.DeadlineExceeded) {
		t.Errorf("hang recorded as %v, want a deadline", metrics.lastErr)
	}
	if n := len(rec.all()); n != 50 {
		t.Errorf("endpoint accepted %d events, want 50", n)
	}
}

func TestWebhookGivesUpAfterMaxElapsed(t *testing.T) {
	log := newFakeLog()
	ev := log.add(1)[0]
	srv, _ := hanging(t, map[string]bool{ev.ID: true})
	metrics := newFakeRecorder()
	const maxAttempts = 100
	start := time.Now()
	startDispatcher(t, DispatcherConfig{
		Log:      log,
		Sinks:    []SinkConfig{{Sink: newWebhook(t, srv.URL, 40*time.Millisecond), Retry: Retry{Attempts: maxAttempts, MinDelay: 10 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxElapsed: 150 * time.Millisecond}}},
		Recorder: metrics,
	})
	waitFor(t, 10*time.Second, "the event to be dropped", func() bool { _, _, drop := metrics.counts("webhook"); return drop == 1 })
	if _, fail, _ := metrics.counts("webhook"); fail < 1 || fail >= maxAttempts {
		t.Errorf("%d failed attempts: want the time bound, not the attempt bound, to stop them", fail)
	}
	// No attempt outlives MaxElapsed: the attempts cannot have taken
	// longer than it (plus scheduling slack).
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("gave up after %v, MaxElapsed is 150ms", elapsed)
	}
	if log.cursor("webhook") != ev.Seq {
		t.Errorf("cursor %d, want it past the dropped event", log.cursor("webhook"))
	}
}

func TestWebhookPermanentFailureNotRetried(t *testing.T) {
	log := newFakeLog()
	evs := log.add(2)
	rec := &recorder{status: func(_ int, h hit) int {
		if h.eventID == evs[0].ID {
			return http.StatusBadRequest
		}
		return http.StatusOK
	}}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	metrics := newFakeRecorder()
	startDispatcher(t, DispatcherConfig{Log: log, Sinks: []SinkConfig{{Sink: newWebhook(t, srv.URL, time.Second), Retry: fastRetry}}, Recorder: metrics})
	waitFor(t, 10*time.Second, "both events handled", func() bool { return log.cursor("webhook") == 2 })
	hits := rec.all()
	if len(hits) != 2 || hits[0].eventID != evs[0].ID || hits[1].eventID != evs[1].ID {
		t.Fatalf("requests %+v: want one per event, no retry of the 400", hits)
	}
	if del, fail, drop := metrics.counts("webhook"); del != 1 || fail != 1 || drop != 1 {
		t.Errorf("delivered %d, failed %d, dropped %d; want 1, 1, 1", del, fail, drop)
	}
	if !errors.Is(metrics.lastErr, ErrPermanent) {
		t.Errorf("400 recorded as %v, want ErrPermanent", metrics.lastErr)
	}
}

func TestWebhookStatusClasses(t *testing.T) {
	ev := watch.Event{ID: "x", Kind: watch.EventSlashed, Seq: 1}
	for _, tc := range []struct {
		status int
		want   error // nil: delivered
	}{
		{200, nil}, {201, nil}, {202, nil}, {204, nil},
		{408, ErrDeliveryFailed}, {429, ErrDeliveryFailed}, {500, ErrDeliveryFailed}, {502, ErrDeliveryFailed}, {503, ErrDeliveryFailed},
		{400, ErrPermanent}, {401, ErrPermanent}, {403, ErrPermanent}, {404, ErrPermanent}, {410, ErrPermanent}, {422, ErrPermanent},
		{301, ErrPermanent}, {302, ErrPermanent}, {307, ErrPermanent},
	} {
		var followed bool
		mux := http.NewServeMux()
		mux.HandleFunc("/elsewhere", func(http.ResponseWriter, *http.Request) { followed = true })
		mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
			if tc.status >= 300 && tc.status < 400 {
				w.Header().Set("Location", "/elsewhere")
			}
			w.WriteHeader(tc.status)
		})
		srv := httptest.NewServer(mux)
		err := newWebhook(t, srv.URL+"/hook", time.Second).Deliver(context.Background(), ev)
		srv.Close()
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%d: %v, want delivered", tc.status, err)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%d: %v, want %v", tc.status, err, tc.want)
		case tc.want == ErrDeliveryFailed && errors.Is(err, ErrPermanent):
			t.Errorf("%d: %v is both retryable and permanent", tc.status, err)
		}
		if followed {
			t.Errorf("%d: the redirect was followed", tc.status)
		}
	}
}

func TestRestartResumesFromCursor(t *testing.T) {
	rec := &recorder{status: func(int, hit) int { return http.StatusOK }}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	log := newFakeLog()
	log.add(5)
	_, stop := startDispatcher(t, DispatcherConfig{Log: log, Sinks: []SinkConfig{{Sink: newWebhook(t, srv.URL, time.Second), Retry: fastRetry}}})
	waitFor(t, 10*time.Second, "the first five", func() bool { return log.cursor("webhook") == 5 })
	stop()

	log.add(3) // written while no dispatcher runs
	d, _ := startDispatcher(t, DispatcherConfig{Log: log, Sinks: []SinkConfig{{Sink: newWebhook(t, srv.URL, time.Second), Retry: fastRetry}}})
	d.Poke()
	waitFor(t, 10*time.Second, "all eight", func() bool { return log.cursor("webhook") == 8 })

	var ids []string
	for _, h := range rec.all() {
		ids = append(ids, h.eventID)
	}
	want := []string{"ev-001", "ev-002", "ev-003", "ev-004", "ev-005", "ev-006", "ev-007", "ev-008"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("endpoint got %v, want each event once, in order: %v", ids, want)
	}
}

func TestShutdownMidDeliveryRedeliversAfterRestart(t *testing.T) {
	log := newFakeLog()
	evs := log.add(2)
	srv, _ := hanging(t, map[string]bool{evs[1].ID: true})
	metrics := newFakeRecorder()
	_, stop := startDispatcher(t, DispatcherConfig{Log: log, Sinks: []SinkConfig{{Sink: newWebhook(t, srv.URL, time.Minute), Retry: fastRetry}}, Recorder: metrics})
	waitFor(t, 10*time.Second, "the first event", func() bool { return log.cursor("webhook") == 1 })
	stop() // the second is in flight, hanging: Run must return anyway
	if c := log.cursor("webhook"); c != 1 {
		t.Fatalf("cursor %d after shutdown mid-delivery, want 1 (the second is not acknowledged)", c)
	}
	if _, fail, drop := metrics.counts("webhook"); fail != 0 || drop != 0 {
		t.Errorf("shutdown counted as %d failures and %d drops", fail, drop)
	}

	ok := &recorder{status: func(int, hit) int { return http.StatusOK }}
	srv2 := httptest.NewServer(ok)
	t.Cleanup(srv2.Close)
	startDispatcher(t, DispatcherConfig{Log: log, Sinks: []SinkConfig{{Sink: newWebhook(t, srv2.URL, time.Second), Retry: fastRetry}}})
	waitFor(t, 10*time.Second, "the second event after the restart", func() bool { return log.cursor("webhook") == 2 })
	if hits := ok.all(); len(hits) != 1 || hits[0].eventID != evs[1].ID {
		t.Errorf("after the restart the endpoint got %+v, want only %s", hits, evs[1].ID)
	}
}

// endless is a response body that never ends, counting what is read.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.read += int64(len(p))
	return len(p), nil
}
func (e *endless) Close() error { return nil }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestWebhookReadsBoundedAnswer(t *testing.T) {
	const limit = 1000
	for _, status := range []int{200, 500} {
		body := &endless{}
		w, err := NewWebhook(WebhookConfig{URL: "http://hook.invalid/", ResponseLimit: limit, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: status, Status: http.StatusText(status), Body: body, Header: http.Header{}, Request: r}, nil
		})})
		if err != nil {
			t.Fatal(err)
		}
		err = w.Deliver(context.Background(), watch.Event{ID: "a", Seq: 1})
		if (status == 200) != (err == nil) {
			t.Errorf("status %d: %v", status, err)
		}
		if body.read > limit+4096 { // a Read may fill a whole buffer
			t.Errorf("status %d: read %d bytes of an endless answer, limit %d", status, body.read, limit)
		}
	}
}

func TestWebhookNeverShowsCredentials(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	w := newWebhook(t, "http://alice:s3cretpw@"+addr+"/hook?x=1", time.Second)
	err = w.Deliver(context.Background(), watch.Event{ID: "a", Seq: 1})
	if !errors.Is(err, ErrDeliveryFailed) {
		t.Fatalf("refused connection: %v", err)
	}
	if strings.Contains(err.Error(), "s3cretpw") {
		t.Errorf("error shows the password: %v", err)
	}
	for _, bad := range []string{"", "ftp://alice:s3cretpw@host/", "http://", "mailto:x@y", "http://alice:s3cretpw@host:bad port/", "/relative"} {
		_, err := NewWebhook(WebhookConfig{URL: bad})
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("URL %q: %v, want ErrInvalidConfig", bad, err)
		} else if strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("URL %q: error shows the password: %v", bad, err)
		}
	}
	if _, err := NewWebhook(WebhookConfig{URL: "https://h/", Timeout: -1}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("negative timeout: %v", err)
	}
}

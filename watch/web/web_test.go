package web

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/btcstake/btcstake/watch"
)

// fakeSource is a Source whose answers a test sets.
type fakeSource struct {
	mu       sync.Mutex
	stakes   []watch.StakeView
	progress watch.Progress
	err      error
}

func (f *fakeSource) Stakes() ([]watch.StakeView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return append([]watch.StakeView(nil), f.stakes...), nil
}

func (f *fakeSource) Progress() watch.Progress {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.progress
}

func (f *fakeSource) set(stakes []watch.StakeView, p watch.Progress, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stakes, f.progress, f.err = stakes, p, err
}

func hex64(b byte) string { return strings.Repeat(fmt.Sprintf("%02x", b), 32) }

// stake is a stake in state with a distinct txid.
func stake(i int, state string) watch.StakeView {
	return watch.StakeView{
		Delegation:        hex64(byte(i)) + ":0",
		Source:            watch.SourceStakingTx,
		State:             state,
		ValueSat:          int64(i) * 12_345_678,
		StakerPK:          hex64(0xaa),
		FinalityProviders: []string{hex64(0xbb)},
		StakingTime:       64000,
		StakingTxid:       hex64(byte(i)),
		StakingHeight:     800_000 + int64(i),
		Live:              hex64(byte(i)) + ":0",
		LiveKind:          "staking",
		WithdrawableAt:    864_000 + int64(i),
		BlocksLeft:        int64(i),
	}
}

// serve starts the handler over a test server.
func serve(t *testing.T, src Source, withMetrics bool, maxRows int) (*httptest.Server, *Metrics) {
	t.Helper()
	var m *Metrics
	if withMetrics {
		var err error
		if m, err = NewMetrics(MetricsConfig{Source: src, Sinks: []string{"webhook", "exec"}}); err != nil {
			t.Fatal(err)
		}
	}
	h, err := NewHandler(Config{Source: src, Metrics: m, MaxRows: maxRows})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, m
}

func get(t *testing.T, method, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// scrape reads /metrics in the text format into "name{labels}" -> value,
// with an independent little parser.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, body := get(t, http.MethodGet, base+"/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s\n%s", resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("/metrics Content-Type %q", ct)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func TestMetricsFromObserverAndRecorder(t *testing.T) {
	src := &fakeSource{progress: watch.Progress{Height: 100, Tip: 130, BlockHash: hex64(1)}}
	srv, m := serve(t, src, true, 0)
	for range 3 {
		m.BlockProcessed(watch.Progress{})
	}
	for _, k := range []watch.EventKind{watch.EventSlashed, watch.EventSlashed, watch.EventStakingConfirmed, ""} {
		m.EventEmitted(watch.Event{Kind: k})
	}
	for range 4 {
		m.NodeError(errors.New("connection refused"))
	}
	m.DeliveryFailed("webhook", watch.Event{}, errors.New("503"))
	m.DeliveryFailed("webhook", watch.Event{}, errors.New("503"))
	m.DeliveryFailed("exec", watch.Event{}, errors.New("exit 1"))
	m.Dropped("webhook", watch.Event{}, errors.New("503"))
	for range 5 {
		m.Delivered("webhook", watch.Event{})
	}
	got := scrape(t, srv.URL)
	want := map[string]float64{
		"btcstake_watch_blocks_processed_total":                    3,
		"btcstake_watch_height":                                    100,
		"btcstake_watch_tip_height":                                130,
		"btcstake_watch_tip_lag_blocks":                            30,
		"btcstake_watch_caught_up":                                 0,
		`btcstake_watch_events_total{kind="slashed"}`:              2,
		`btcstake_watch_events_total{kind="staking_confirmed"}`:    1,
		`btcstake_watch_events_total{kind="unknown"}`:              1,
		`btcstake_watch_events_total{kind="withdrawn"}`:            0, // known kinds start at 0
		`btcstake_watch_events_total{kind="auto_slash_broadcast"}`: 0,
		"btcstake_watch_node_errors_total":                         4,
		`btcstake_watch_delivery_failures_total{sink="webhook"}`:   2,
		`btcstake_watch_delivery_failures_total{sink="exec"}`:      1,
		`btcstake_watch_deliveries_dropped_total{sink="webhook"}`:  1,
		`btcstake_watch_deliveries_dropped_total{sink="exec"}`:     0,
		`btcstake_watch_deliveries_total{sink="webhook"}`:          5,
		`btcstake_watch_deliveries_total{sink="exec"}`:             0,
		"btcstake_watch_stakes_read_errors_total":                  0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("the Go runtime metrics are missing")
	}

	// Caught up, and a tip below the height (a shorter chain) is no lag.
	src.set(nil, watch.Progress{Height: 200, Tip: 200, CaughtUp: true}, nil)
	got = scrape(t, srv.URL)
	if got["btcstake_watch_caught_up"] != 1 || got["btcstake_watch_tip_lag_blocks"] != 0 || got["btcstake_watch_height"] != 200 {
		t.Errorf("caught up: %v %v %v", got["btcstake_watch_caught_up"], got["btcstake_watch_tip_lag_blocks"], got["btcstake_watch_height"])
	}
	src.set(nil, watch.Progress{Height: 200, Tip: 198}, nil)
	if lag := scrape(t, srv.URL)["btcstake_watch_tip_lag_blocks"]; lag != 0 {
		t.Errorf("lag %v with the tip below the height", lag)
	}
}

func TestStakesByStateAtScrapeTime(t *testing.T) {
	states := []string{"active", "active", "unbonding", "slashed", "active", "slashed", "", "bad\xffutf8"}
	var stakes []watch.StakeView
	for i, s := range states {
		stakes = append(stakes, stake(i, s))
	}
	src := &fakeSource{stakes: stakes}
	srv, _ := serve(t, src, true, 0)
	// The oracle: count the fake's states here.
	want := map[string]float64{}
	for _, s := range src.stakes {
		switch {
		case s.State == "":
			want[`btcstake_watch_stakes{state="unknown"}`]++
		case s.State == "bad\xffutf8":
			want[`btcstake_watch_stakes{state="bad`+"\uFFFD"+`utf8"}`]++
		default:
			want[`btcstake_watch_stakes{state="`+s.State+`"}`]++
		}
	}
	gotStakes := func() map[string]float64 {
		out := map[string]float64{}
		for k, v := range scrape(t, srv.URL) {
			if strings.HasPrefix(k, "btcstake_watch_stakes{") {
				out[k] = v
			}
		}
		return out
	}
	if got := gotStakes(); !reflect.DeepEqual(got, want) {
		t.Errorf("stakes by state %v, want %v", got, want)
	}
	// The watcher moves on: the gauges follow at the next scrape, and a
	// state nobody is in any more disappears.
	src.set([]watch.StakeView{stake(1, "withdrawn"), stake(2, "withdrawn")}, watch.Progress{}, nil)
	if got := gotStakes(); !reflect.DeepEqual(got, map[string]float64{`btcstake_watch_stakes{state="withdrawn"}`: 2}) {
		t.Errorf("after the change: %v", got)
	}
	// A source that cannot answer: counted, the rest is still served.
	src.set(nil, watch.Progress{Height: 7}, errors.New("bbolt: timeout"))
	got := scrape(t, srv.URL)
	if got["btcstake_watch_stakes_read_errors_total"] < 1 || got["btcstake_watch_height"] != 7 {
		t.Errorf("with the source failing: read errors %v, height %v", got["btcstake_watch_stakes_read_errors_total"], got["btcstake_watch_height"])
	}
}

func TestStatusPage(t *testing.T) {
	hostile := `<script>alert("x")</script>`
	stakes := []watch.StakeView{stake(1, "active"), stake(2, "unbonding"), stake(3, hostile)}
	stakes[1].UnbondingTxid = hex64(0x21)
	stakes[1].LiveKind = "unbonding"
	stakes[1].BlocksLeft = 0
	stakes[2].SlashingTxid = hex64(0x31)
	stakes[2].WithdrawTxid = hex64(0x32)
	stakes[2].Delegation = `"><img src=x onerror=alert(1)>`
	stakes[2].CanAutoSlash = true
	src := &fakeSource{stakes: stakes, progress: watch.Progress{Height: 850_000, Tip: 850_010, BlockHash: hex64(9)}}
	srv, _ := serve(t, src, false, 0)

	resp, body := get(t, http.MethodGet, srv.URL+"/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	for _, want := range []string{
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		"850000", "850010", "10 blocks behind", hex64(9),
		stakes[0].Delegation, stakes[0].StakingTxid, "0.12345678", "1 block (withdrawable at 864001)", "3 blocks (withdrawable at 864003)",
		stakes[1].UnbondingTxid, "0.24691356", "withdrawable since 864002", "(unbonding)",
		stakes[2].SlashingTxid, stakes[2].WithdrawTxid, "0.37037034",
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;",
		"&#34;&gt;&lt;img src=x onerror=alert(1)&gt;",
		"active: <b>1</b>", "unbonding: <b>1</b>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Nothing hostile survives as markup, and nothing is loaded from
	// elsewhere.
	for _, bad := range []string{"<script", "<img", "http://", "https://"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if strings.Count(body, "<tr>") != 1+len(stakes) {
		t.Errorf("%d table rows, want a header and %d stakes", strings.Count(body, "<tr>"), len(stakes))
	}
	if strings.Count(body, `<td data-label="Auto-slash">yes</td>`) != 1 {
		t.Error("auto-slash column wrong")
	}
	// The policy allows the inline style by its hash, and only it.
	start, end := strings.Index(body, "<style>"), strings.Index(body, "</style>")
	sum := sha256.Sum256([]byte(body[start+len("<style>") : end]))
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.HasPrefix(csp, "default-src 'none'") {
		t.Errorf("CSP %q does not allow exactly the page's style", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff")
	}
}

func TestStatusPageCapsRows(t *testing.T) {
	var stakes []watch.StakeView
	for i := range 5 {
		stakes = append(stakes, stake(i, "active"))
	}
	srv, _ := serve(t, &fakeSource{stakes: stakes, progress: watch.Progress{CaughtUp: true}}, false, 2)
	_, body := get(t, http.MethodGet, srv.URL+"/")
	if n := strings.Count(body, "<tr>") - 1; n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
	if !strings.Contains(body, "Showing the first 2 of 5 stakes") || !strings.Contains(body, "caught up") {
		t.Error("no note about the cap, or no caught-up")
	}
	if !strings.Contains(body, stakes[1].Delegation) || strings.Contains(body, stakes[2].Delegation) {
		t.Error("wrong rows shown")
	}
	// Empty: a note, no table.
	srv2, _ := serve(t, &fakeSource{}, false, 0)
	if _, body := get(t, http.MethodGet, srv2.URL+"/"); !strings.Contains(body, "No stakes are watched") || strings.Contains(body, "<table") {
		t.Error("empty page wrong")
	}
}

func TestAPI(t *testing.T) {
	stakes := []watch.StakeView{stake(1, "active"), stake(2, "slashed")}
	p := watch.Progress{Height: 10, BlockHash: hex64(3), Tip: 12}
	src := &fakeSource{stakes: stakes, progress: p}
	srv, _ := serve(t, src, false, 1) // the cap is the page's, not the API's

	resp, body := get(t, http.MethodGet, srv.URL+"/api/stakes")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	var doc struct {
		Progress watch.Progress    `json:"progress"`
		Count    int               `json:"count"`
		Stakes   []watch.StakeView `json:"stakes"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc.Stakes, stakes) || doc.Progress != p || doc.Count != 2 {
		t.Errorf("/api/stakes = %+v", doc)
	}

	resp, body = get(t, http.MethodGet, srv.URL+"/api/progress")
	var gotP watch.Progress
	if err := json.Unmarshal([]byte(body), &gotP); err != nil || gotP != p || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("/api/progress = %s (%v)", body, err)
	}

	src.set(nil, p, nil)
	if _, body := get(t, http.MethodGet, srv.URL+"/api/stakes"); !strings.Contains(body, `"stakes":[]`) {
		t.Errorf("no stakes: %s, want an empty list", body)
	}

	src.set(nil, p, errors.New("bbolt: /secret/path corrupt"))
	for _, path := range []string{"/api/stakes", "/"} {
		resp, body := get(t, http.MethodGet, srv.URL+path)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "cannot be read") && !strings.Contains(body, "cannot read") {
			t.Errorf("%s with a failing source: %s %s", path, resp.Status, body)
		}
		if strings.Contains(body, "/secret/path") {
			t.Errorf("%s shows the source's error: %s", path, body)
		}
	}
}

func TestRoutesAndMethods(t *testing.T) {
	src := &fakeSource{stakes: []watch.StakeView{stake(1, "active")}}
	srv, _ := serve(t, src, true, 0)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/", 200}, {"HEAD", "/", 200},
		{"GET", "/api/stakes", 200}, {"HEAD", "/api/stakes", 200},
		{"GET", "/api/progress", 200}, {"GET", "/metrics", 200}, {"HEAD", "/metrics", 200},
		{"GET", "/nope", 404}, {"GET", "/index.html", 404}, {"GET", "/api", 404}, {"GET", "/api/stakes/x", 404}, {"GET", "/metrics/", 404},
		{"POST", "/", 405}, {"PUT", "/api/stakes", 405}, {"DELETE", "/metrics", 405}, {"POST", "/api/progress", 405}, {"OPTIONS", "/", 405},
	} {
		resp, body := get(t, tc.method, srv.URL+tc.path)
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %s, want %d", tc.method, tc.path, resp.Status, tc.status)
		}
		if tc.status == 405 {
			if allow := resp.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "HEAD") || strings.Contains(allow, tc.method) {
				t.Errorf("%s %s: Allow %q", tc.method, tc.path, allow)
			}
		}
		if tc.method == "HEAD" && (body != "" || resp.Header.Get("Content-Type") == "") {
			t.Errorf("HEAD %s: body %q, Content-Type %q", tc.path, body, resp.Header.Get("Content-Type"))
		}
	}
	// Without Metrics there is no /metrics.
	srv2, _ := serve(t, src, false, 0)
	if resp, _ := get(t, "GET", srv2.URL+"/metrics"); resp.StatusCode != 404 {
		t.Errorf("/metrics without Metrics: %s", resp.Status)
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := NewHandler(Config{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("no source: %v", err)
	}
	if _, err := NewHandler(Config{Source: &fakeSource{}, MaxRows: -1}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("negative rows: %v", err)
	}
	if _, err := NewMetrics(MetricsConfig{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("metrics without source: %v", err)
	}
}

func TestFormatBTC(t *testing.T) {
	for _, tc := range []struct {
		sat  int64
		want string
	}{
		{0, "0"}, {1, "0.00000001"}, {10, "0.0000001"}, {100_000_000, "1"}, {150_000_000, "1.5"},
		{12_345_678_901, "123.45678901"}, {2_100_000_000_000_000, "21000000"},
		{-5, "-0.00000005"}, {-250_000_000, "-2.5"},
		{math.MaxInt64, "92233720368.54775807"}, {math.MinInt64, "-92233720368.54775808"},
	} {
		if got := FormatBTC(tc.sat); got != tc.want {
			t.Errorf("FormatBTC(%d) = %q, want %q", tc.sat, got, tc.want)
		}
	}
}

func TestInvalidLabelsDoNotPanic(t *testing.T) {
	src := &fakeSource{stakes: []watch.StakeView{stake(1, "\xff")}}
	srv, m := serve(t, src, true, 0)
	m.EventEmitted(watch.Event{Kind: "\xfe"})
	m.DeliveryFailed("\xfd", watch.Event{}, nil)
	got := scrape(t, srv.URL)
	if got[`btcstake_watch_events_total{kind="`+"\uFFFD"+`"}`] != 1 || got[`btcstake_watch_stakes{state="`+"\uFFFD"+`"}`] != 1 {
		t.Error("invalid UTF-8 labels not replaced")
	}
}

func ExampleFormatBTC() {
	fmt.Println(FormatBTC(150_000_000), FormatBTC(5_000), FormatBTC(2_100_000_000_000_000))
	// Output:
	// 1.5 0.00005 21000000
}

func ExampleNewHandler() {
	src := &fakeSource{progress: watch.Progress{Height: 850_000, Tip: 850_000, CaughtUp: true}}
	h, _ := NewHandler(Config{Source: src})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/progress", nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// 200 {"height":850000,"block_hash":"","tip":850000,"caught_up":true}
}

func BenchmarkStatusPage(b *testing.B) {
	var stakes []watch.StakeView
	for i := range DefaultMaxRows {
		stakes = append(stakes, stake(i, "active"))
	}
	h, _ := NewHandler(Config{Source: &fakeSource{stakes: stakes}})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

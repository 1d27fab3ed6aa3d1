package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/btcstake/btcstake/watch"
)

// DefaultMaxRows is how many stakes the status page lists at most.
const DefaultMaxRows = 500

// Config configures NewHandler.
type Config struct {
	// Source is read on every request.
	Source Source
	// Metrics, when set, is served at /metrics.
	Metrics *Metrics
	// MaxRows caps the stakes the page lists (0: DefaultMaxRows);
	// /api/stakes lists them all.
	MaxRows int
	// Logger, optional, gets the errors the source returns (the
	// responses only say that the stakes could not be read).
	Logger *slog.Logger
}

// handler serves the routes of the package documentation.
type handler struct {
	src     Source
	maxRows int
	logger  *slog.Logger
}

// NewHandler returns the watcher's HTTP handler.
func NewHandler(cfg Config) (http.Handler, error) {
	if cfg.Source == nil {
		return nil, fmt.Errorf("%w: handler: no source", ErrInvalidConfig)
	}
	if cfg.MaxRows < 0 {
		return nil, fmt.Errorf("%w: handler: negative row cap %d", ErrInvalidConfig, cfg.MaxRows)
	}
	h := &handler{src: cfg.Source, maxRows: cfg.MaxRows, logger: cfg.Logger}
	if h.maxRows == 0 {
		h.maxRows = DefaultMaxRows
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	// A GET pattern serves HEAD too; any other method on these paths is
	// answered 405 with "Allow: GET, HEAD", any other path 404.
	mux.HandleFunc("GET /{$}", h.page)
	mux.HandleFunc("GET /api/stakes", h.apiStakes)
	mux.HandleFunc("GET /api/progress", h.apiProgress)
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics.Handler())
	}
	return secureHeaders(mux), nil
}

// NewServer is an http.Server for h at addr with timeouts that keep a
// slow or idle client from holding connections open.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// secureHeaders sets the headers every answer carries: no sniffing, no
// framing, no referrer, nothing cached, and a content security policy
// that allows only the page's own inline style.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		next.ServeHTTP(w, r)
	})
}

// stakesDoc is the body of /api/stakes.
type stakesDoc struct {
	Progress watch.Progress    `json:"progress"`
	Count    int               `json:"count"`
	Stakes   []watch.StakeView `json:"stakes"`
}

func (h *handler) apiStakes(w http.ResponseWriter, r *http.Request) {
	p := h.src.Progress()
	stakes, err := h.src.Stakes()
	if err != nil {
		h.logger.Error("cannot read the watched stakes", "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "cannot read the watched stakes"})
		return
	}
	if stakes == nil {
		stakes = []watch.StakeView{}
	}
	writeJSON(w, http.StatusOK, stakesDoc{Progress: p, Count: len(stakes), Stakes: stakes})
}

func (h *handler) apiProgress(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, h.src.Progress())
}

// writeJSON answers v as JSON (HTML-sensitive characters escaped).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "cannot encode the answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	data := pageData{Style: pageStyle, Progress: h.src.Progress()}
	status := http.StatusOK
	stakes, err := h.src.Stakes()
	if err != nil {
		h.logger.Error("cannot read the watched stakes", "path", r.URL.Path, "err", err)
		data.Error = "The watched stakes cannot be read right now; see the watcher's log."
		status = http.StatusServiceUnavailable
	}
	data.Total = len(stakes)
	data.Counts = countStates(stakes)
	for _, s := range stakes[:min(len(stakes), h.maxRows)] {
		data.Rows = append(data.Rows, newRow(s))
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		h.logger.Error("cannot render the status page", "err", err)
		http.Error(w, "cannot render the status page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// stateCount is how many stakes are in one state.
type stateCount struct {
	State string
	Count int
}

// countStates counts stakes by state (as a label: "unknown" for none),
// sorted by state.
func countStates(stakes []watch.StakeView) []stateCount {
	n := map[string]int{}
	for _, s := range stakes {
		n[label(s.State)]++
	}
	out := make([]stateCount, 0, len(n))
	for st, c := range n {
		out = append(out, stateCount{st, c})
	}
	slices.SortFunc(out, func(a, b stateCount) int { return strings.Compare(a.State, b.State) })
	return out
}

// FormatBTC writes sat satoshis as BTC in decimal, exactly, without
// trailing zeros: 150000000 is "1.5", 1 is "0.00000001".
func FormatBTC(sat int64) string {
	const perBTC = 100_000_000
	sign := ""
	u := uint64(sat)
	if sat < 0 {
		sign, u = "-", -u
	}
	whole, frac := u/perBTC, u%perBTC
	if frac == 0 {
		return sign + strconv.FormatUint(whole, 10)
	}
	f := strings.TrimRight(fmt.Sprintf("%08d", frac), "0")
	return sign + strconv.FormatUint(whole, 10) + "." + f
}

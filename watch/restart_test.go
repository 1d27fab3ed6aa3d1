package watch_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/regtest"
	"github.com/btcstake/btcstake/watch"
)

// The watcher process of the restart test: the test binary itself, run
// with these variables set (TestMain dispatches to runHelper). It opens
// the store, catches up to the height given and writes every event to
// stdout as one JSON line (one write per line), as `btcstake watch` does.
const (
	envHelper     = "BTCSTAKE_WATCH_TEST_HELPER" // "catchup"
	envHelperDB   = "BTCSTAKE_WATCH_TEST_DB"
	envHelperRPC  = "BTCSTAKE_WATCH_TEST_RPC" // host:port
	envHelperUser = "BTCSTAKE_WATCH_TEST_RPC_USER"
	envHelperPass = "BTCSTAKE_WATCH_TEST_RPC_PASS"
	envHelperTo   = "BTCSTAKE_WATCH_TEST_TO"
	// envHelperBatch is Config.BatchBlocks (empty: the default).
	envHelperBatch = "BTCSTAKE_WATCH_TEST_BATCH"
)

// runHelper is the helper process's main; it returns the exit code.
func runHelper() int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "watch helper: "+format+"\n", args...)
		return 1
	}
	if mode := os.Getenv(envHelper); mode != "catchup" {
		return fail("unknown mode %q", mode)
	}
	to, err := strconv.ParseInt(os.Getenv(envHelperTo), 10, 64)
	if err != nil {
		return fail("%s: %v", envHelperTo, err)
	}
	batch := 0
	if v := os.Getenv(envHelperBatch); v != "" {
		if batch, err = strconv.Atoi(v); err != nil {
			return fail("%s: %v", envHelperBatch, err)
		}
	}
	c, err := chain.New(chain.Config{URL: os.Getenv(envHelperRPC), User: os.Getenv(envHelperUser), Pass: os.Getenv(envHelperPass)})
	if err != nil {
		return fail("%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	w, err := watch.Open(os.Getenv(envHelperDB), watch.Config{Network: &chaincfg.RegressionNetParams, Node: c, BatchBlocks: batch,
		Handler: func(e watch.Event) error {
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			_, err = os.Stdout.Write(append(b, '\n'))
			return err
		}})
	if err != nil {
		return fail("%v", err)
	}
	err = w.CatchUp(ctx, to)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail("%v", err)
	}
	return 0
}

// TestNodeRestartKill9 is issue 14's crash guarantee, as a process: the
// watcher (this test binary in its helper mode: watch.Open, CatchUp,
// events as JSON lines on stdout) catches up over a chain of a few
// hundred blocks with stakes, unbondings and withdrawals, and is killed
// with SIGKILL 20 times at random moments, restarted on the same store
// each time. The events printed over all the runs must be those of a
// clean reference run over the same blocks, every one of them (same id,
// same seq, same fields), and the only repeats allowed are the documented
// ones: at the start of a run, events of the one block whose events were
// being handed out when the process died, and (Run's documentation) at
// most one of them, the one printed last.
//
// The kill moments come from the seed (BTCSTAKE_TEST_SEED replays them,
// up to the scheduler; see the schedule below). Each run's exit, event
// range and stderr are logged.
func TestNodeRestartKill9(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewSource(seed))
	n := regtest.NewTestNode(t, regtest.Options{NoTxIndex: true})
	s, err := regtest.NewScenario(n, regtest.ScenarioConfig{Seed: seed, FinalityProviders: 2})
	if err != nil {
		t.Fatal(err)
	}
	tip, err := n.Height()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "watch.db")
	w, err := watch.Open(path, watch.Config{Network: n.Params(), StartHeight: int64(tip) + 1})
	if err != nil {
		t.Fatal(err)
	}
	load, err := s.GenerateLoad(regtest.LoadConfig{Blocks: 150, TxsPerBlock: 20, Stakes: 150, SpendEvery: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, ps := range load.Stakes {
		if err := w.Add(entryOf(t, ps)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	to := int64(load.To)
	t.Logf("chain %d..%d: %d blocks of load (%d stakes, %d spends), mined in %s", tip+1, to, len(load.Blocks), len(load.Stakes), len(load.Spends),
		(load.Setup + load.Sign + load.Mine).Round(time.Millisecond))

	// The reference: a clean run, in this process, on a copy of the store.
	refPath := filepath.Join(dir, "ref.db")
	copyFile(t, path, refPath)
	rec := &recorder{}
	ref := openWatcher(t, refPath, testConfig(n, n.Chain(), 0, rec))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	refStart := time.Now()
	if err := ref.CatchUp(ctx, to); err != nil {
		t.Fatal(err)
	}
	t.Logf("the reference run took %s", time.Since(refStart).Round(time.Millisecond))
	want := rec.from(0)
	N := len(want)
	if N < 500 {
		t.Fatalf("the reference run has %d events; the test wants a few hundred", N)
	}

	// The kill schedule: 20 kills, in runs 0..19; run 20 runs to the end.
	// Runs 0, 5 and 10 die a random 0-20 ms after they start; the others
	// a random 0-2 ms after printing the event of a seq drawn above the
	// highest printed so far, so that the kills spread over the first 70%
	// of the events and leave work for the runs after them. The watcher
	// commits every 8 blocks (Config.BatchBlocks; the default, 256, would
	// make this chain one or two commits), so a kill lands between
	// commits, in one, or while events are handed out.
	const kills = 20
	const batch = 8
	timed := map[int]bool{0: true, 5: true, 10: true}
	limit := uint64(N * 7 / 10)
	var runs [][]watch.Event
	var logs []string
	defer func() {
		for i, l := range logs {
			t.Logf("run %d: %s", i, l)
		}
	}()
	var printed uint64
	for i := 0; i <= kills; i++ {
		h := startHelper(t, path, n, to, batch)
		var how string
		switch {
		case i == kills:
			how = "to the end"
		case timed[i]:
			d := time.Duration(rng.Int63n(int64(20 * time.Millisecond)))
			how = fmt.Sprintf("killed %s after the start", d)
			h.killAfter(d)
		default:
			span := uint64(1)
			if printed < limit {
				span = max(1, (limit-printed)/uint64(kills-i))
			}
			seq := printed + 1 + uint64(rng.Int63n(int64(span)))
			d := time.Duration(rng.Int63n(int64(2 * time.Millisecond)))
			how = fmt.Sprintf("killed %s after printing seq %d", d, seq)
			h.killAtSeq(seq, d)
		}
		res := h.wait()
		logs = append(logs, fmt.Sprintf("%s: %d events %s, exit %v, stderr %q", how, len(res.events), seqRange(res.events), res.err, res.stderr))
		if res.partial != "" {
			t.Fatalf("run %d (%s) left a partial line on stdout: %q", i, how, res.partial)
		}
		if res.badLine != "" {
			t.Fatalf("run %d (%s) printed a line that is not an event: %q", i, how, res.badLine)
		}
		if i < kills && !res.killed {
			t.Fatalf("run %d (%s) ended before it was killed: %v %s", i, how, res.err, res.stderr)
		}
		if i == kills && res.err != nil {
			t.Fatalf("the last run failed: %v %s", res.err, res.stderr)
		}
		runs = append(runs, res.events)
		for _, e := range res.events {
			printed = max(printed, e.Seq)
		}
	}
	// Run's documentation: a restart hands over again at most one event,
	// the one the Handler was given last (docs/watch.md: at most the
	// events of the block whose events were being handed out).
	dups, err := checkRuns(want, runs, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d runs printed %d events (%d repeats) of the reference's %d", len(runs), N+dups, dups, N)

	// The killed store ends where the reference does.
	got := openWatcher(t, path, testConfig(n, n.Chain(), 0, nil))
	a, err := got.Stakes()
	if err != nil {
		t.Fatal(err)
	}
	b, err := ref.Stakes()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d stakes after the kills, %d in the reference run", len(a), len(b))
	}
	for i := range a {
		// BlocksLeft counts from the tip a running watcher saw last.
		a[i].BlocksLeft, b[i].BlocksLeft = 0, 0
		if !reflect.DeepEqual(a[i], b[i]) {
			t.Fatalf("after the kills %+v\nthe reference run's %+v", a[i], b[i])
		}
	}
}

// checkRuns checks the events of the runs against the reference: each
// run prints consecutive seqs, each event is the reference's event of its
// seq, no seq is skipped between runs, all of 1..len(want) are printed,
// and a run repeats only at its start, only events of one block, and
// only of the block whose events were printed last before it, and at most
// maxRepeats events. It returns the number of repeats.
func checkRuns(want []watch.Event, runs [][]watch.Event, maxRepeats int) (int, error) {
	var printed uint64 // the highest seq printed so far
	var lastBlock string
	dups := 0
	for r, evs := range runs {
		for k, e := range evs {
			if e.Seq < 1 || e.Seq > uint64(len(want)) {
				return dups, fmt.Errorf("run %d printed seq %d; the reference has 1..%d", r, e.Seq, len(want))
			}
			if !reflect.DeepEqual(e, want[e.Seq-1]) {
				return dups, fmt.Errorf("run %d, seq %d: %+v\nthe reference run's: %+v", r, e.Seq, e, want[e.Seq-1])
			}
			if k > 0 && e.Seq != evs[k-1].Seq+1 {
				return dups, fmt.Errorf("run %d printed seq %d after %d", r, e.Seq, evs[k-1].Seq)
			}
		}
		if len(evs) == 0 {
			continue
		}
		if first := evs[0].Seq; first > printed+1 {
			return dups, fmt.Errorf("run %d starts at seq %d; seqs %d..%d were never printed (lost)", r, first, printed+1, first-1)
		}
		for k, e := range evs {
			if e.Seq > printed {
				break
			}
			if k == maxRepeats {
				return dups, fmt.Errorf("run %d repeats more than %d events (seqs %d..%d)", r, maxRepeats, evs[0].Seq, e.Seq)
			}
			dups++
			if e.BlockHash == "" || e.BlockHash != lastBlock {
				return dups, fmt.Errorf("run %d repeats seq %d (%s of block %q); only the block printed last (%s) may be repeated", r, e.Seq, e.Kind, e.BlockHash, lastBlock)
			}
		}
		if last := evs[len(evs)-1].Seq; last > printed {
			printed = last
		}
		lastBlock = want[printed-1].BlockHash
	}
	if printed != uint64(len(want)) {
		return dups, fmt.Errorf("the runs printed up to seq %d of %d", printed, len(want))
	}
	return dups, nil
}

// TestCheckRuns: the restart test's oracle refuses each way the runs can
// go wrong (a lost event, a repeat in the middle of a run, a repeat of an
// older block, more repeats than allowed, a changed event, a run that
// stops short) and accepts the documented repeats.
func TestCheckRuns(t *testing.T) {
	// Blocks A (seqs 1, 2), B (3, 4, 5), C (6).
	var want []watch.Event
	for i, b := range []string{"A", "A", "B", "B", "B", "C"} {
		e := watch.Event{Seq: uint64(i + 1), Kind: watch.EventStakingConfirmed, BlockHash: b}
		e.ID = fmt.Sprintf("id%d", e.Seq)
		want = append(want, e)
	}
	seqs := func(ss ...int) []watch.Event {
		out := []watch.Event{}
		for _, s := range ss {
			out = append(out, want[s-1])
		}
		return out
	}
	good := map[string][][]watch.Event{
		"no kill":                       {seqs(1, 2, 3, 4, 5, 6)},
		"killed between blocks":         {seqs(1, 2), seqs(3, 4, 5, 6)},
		"killed in block B, B repeated": {seqs(1, 2, 3), seqs(3, 4, 5, 6)},
		"killed after B, B repeated":    {seqs(1, 2, 3, 4, 5), {}, seqs(4, 5, 6)},
		"empty runs":                    {{}, seqs(1), {}, seqs(1, 2, 3, 4, 5, 6)},
	}
	for name, runs := range good {
		if _, err := checkRuns(want, runs, 3); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	changed := seqs(1, 2, 3, 4, 5, 6)
	changed[3].Txid = "other"
	bad := map[string][][]watch.Event{
		"lost event":               {seqs(1, 2), seqs(4, 5, 6)},
		"lost at the end":          {seqs(1, 2, 3, 4, 5)},
		"repeat in the middle":     {seqs(1, 2, 3), seqs(4, 5), seqs(6, 5)},
		"repeat of an older block": {seqs(1, 2, 3, 4), seqs(2, 3, 4, 5, 6)},
		"repeat of two blocks":     {seqs(1, 2, 3, 4, 5, 6), seqs(2, 3, 4, 5, 6)},
		"changed event":            {changed},
		"seq out of range":         {append(seqs(1, 2, 3, 4, 5, 6), watch.Event{Seq: 7})},
	}
	for name, runs := range bad {
		if _, err := checkRuns(want, runs, 3); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := checkRuns(want, good["killed after B, B repeated"], 1); err == nil {
		t.Error("two repeats accepted with at most one allowed")
	}
	if _, err := checkRuns(want, good["killed in block B, B repeated"], 1); err != nil {
		t.Errorf("one repeat refused with one allowed: %v", err)
	}
}

func seqRange(evs []watch.Event) string {
	if len(evs) == 0 {
		return "(none)"
	}
	return fmt.Sprintf("(seq %d..%d)", evs[0].Seq, evs[len(evs)-1].Seq)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// helperProc is one run of the watcher process.
type helperProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr bytes.Buffer
	mu     sync.Mutex
	events []watch.Event
	// seqCh gets each printed seq (dropped when nobody listens).
	seqCh   chan uint64
	done    chan struct{} // stdout read to its end
	partial string
	badLine string
	killed  atomic.Bool
	stop    chan struct{}
}

type helperResult struct {
	events  []watch.Event
	err     error
	stderr  string
	partial string
	badLine string
	killed  bool
}

func startHelper(t *testing.T, db string, n *regtest.Node, to int64, batch int) *helperProc {
	t.Helper()
	info := n.RPC()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envHelper+"=catchup", envHelperDB+"="+db, envHelperRPC+"="+info.Host,
		envHelperUser+"="+info.User, envHelperPass+"="+info.Pass, envHelperTo+"="+strconv.FormatInt(to, 10), envHelperBatch+"="+strconv.Itoa(batch))
	h := &helperProc{t: t, cmd: cmd, seqCh: make(chan uint64, 1), done: make(chan struct{}), stop: make(chan struct{})}
	cmd.Stderr = &h.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go h.read(out)
	return h
}

// read collects the complete lines of stdout as events.
func (h *helperProc) read(r io.Reader) {
	defer close(h.done)
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			h.partial = line
			return
		}
		var e watch.Event
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if derr := dec.Decode(&e); derr != nil {
			h.badLine = line
			continue
		}
		h.mu.Lock()
		h.events = append(h.events, e)
		h.mu.Unlock()
		select {
		case h.seqCh <- e.Seq:
		default:
			// the watcher of killAtSeq is behind: give it the newest seq
			select {
			case <-h.seqCh:
			default:
			}
			h.seqCh <- e.Seq
		}
	}
}

func (h *helperProc) kill() {
	h.killed.Store(true)
	_ = h.cmd.Process.Signal(syscall.SIGKILL)
}

// killAfter kills the process d after now.
func (h *helperProc) killAfter(d time.Duration) {
	timer := time.AfterFunc(d, h.kill)
	go func() {
		<-h.stop
		timer.Stop()
	}()
}

// killAtSeq kills the process d after it printed an event of seq >= seq.
func (h *helperProc) killAtSeq(seq uint64, d time.Duration) {
	go func() {
		for {
			select {
			case s := <-h.seqCh:
				if s >= seq {
					time.AfterFunc(d, h.kill)
					return
				}
			case <-h.stop:
				return
			}
		}
	}()
}

// wait waits for the process to end (2 minutes at most) and returns what
// it printed.
func (h *helperProc) wait() helperResult {
	exited := make(chan error, 1)
	go func() {
		<-h.done
		exited <- h.cmd.Wait()
	}()
	var err error
	select {
	case err = <-exited:
	case <-time.After(2 * time.Minute):
		_ = h.cmd.Process.Kill()
		err = <-exited
		h.t.Errorf("the watcher process did not end within 2 minutes")
	}
	close(h.stop)
	h.mu.Lock()
	defer h.mu.Unlock()
	killed := false
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			killed = h.killed.Load()
		}
	}
	return helperResult{events: h.events, err: err, stderr: h.stderr.String(), partial: h.partial, badLine: h.badLine, killed: killed}
}

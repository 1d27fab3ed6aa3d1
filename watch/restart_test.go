package watch_test

import (
	"bufio"
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
	"github.com/btcstake/btcstake/script"
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

// TestNodeRestartKill9 is issue 14's crash guarantee, as a process: a
// watcher process catches up over a chain of a few hundred blocks with
// stakes, unbondings and withdrawals, and is killed with SIGKILL 20 times
// at random moments, restarted on the same store each time. The events
// printed over all the runs must be those of a clean reference run over
// the same blocks, every one of them (same id, same seq, same fields),
// and the only repeats allowed are the documented ones: at the start of
// a run, events of the one block whose events were being handed out when
// the process died, and (Run's documentation) at most one of them, the
// one printed last.
//
// Two watcher processes, on one chain:
//   - "library": this test binary in its helper mode (watch.Open,
//     CatchUp, events as JSON lines on stdout), committing every 8
//     blocks, so that the 20 kills spread over the catch-up;
//   - "cli": `btcstake watch --until-height` built from cmd/btcstake, as
//     a user runs it (it adds the watch list's delegations at each start,
//     and commits with the defaults).
//
// The kill moments come from the seed (BTCSTAKE_TEST_SEED replays them,
// up to the scheduler). Each run's exit, event range and stderr are
// logged.
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
	start := int64(tip) + 1
	dir := t.TempDir()
	template := filepath.Join(dir, "template.db")
	w, err := watch.Open(template, watch.Config{Network: n.Params(), StartHeight: start})
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
	t.Logf("chain %d..%d: %d blocks of load (%d stakes, %d spends), mined in %s", start, to, len(load.Blocks), len(load.Stakes), len(load.Spends),
		(load.Setup + load.Sign + load.Mine).Round(time.Millisecond))

	// The reference: a clean run, in this process, on a copy of the store.
	refPath := filepath.Join(dir, "ref.db")
	copyFile(t, template, refPath)
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
	if len(want) < 500 {
		t.Fatalf("the reference run has %d events; the test wants a few hundred", len(want))
	}
	refStakes, err := ref.Stakes()
	if err != nil {
		t.Fatal(err)
	}
	// The store a killed watcher leaves ends where the reference's does.
	sameStakes := func(t *testing.T, path string) {
		t.Helper()
		got := openWatcher(t, path, testConfig(n, n.Chain(), 0, nil))
		a, err := got.Stakes()
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(refStakes) {
			t.Fatalf("%d stakes after the kills, %d in the reference run", len(a), len(refStakes))
		}
		for i := range a {
			b := refStakes[i]
			// BlocksLeft counts from the tip a running watcher saw last.
			a[i].BlocksLeft, b.BlocksLeft = 0, 0
			if !reflect.DeepEqual(a[i], b) {
				t.Fatalf("after the kills %+v\nthe reference run's %+v", a[i], b)
			}
		}
		if err := got.Close(); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("library", func(t *testing.T) {
		// Runs 0, 5 and 10 die a random 0-20 ms after they start; the
		// others a random 0-2 ms after printing the event of a seq drawn
		// above the highest printed so far, so that the kills spread over
		// the first 70% of the events and leave work for the runs after
		// them. The watcher commits every 8 blocks (Config.BatchBlocks;
		// the default, 256, would make this chain one or two commits), so
		// a kill lands between commits, in one, or while events are
		// handed out. Run 20 runs to the end.
		const kills = 20
		path := filepath.Join(t.TempDir(), "watch.db")
		copyFile(t, template, path)
		info := n.RPC()
		env := []string{envHelper + "=catchup", envHelperDB + "=" + path, envHelperRPC + "=" + info.Host,
			envHelperUser + "=" + info.User, envHelperPass + "=" + info.Pass, envHelperTo + "=" + strconv.FormatInt(to, 10),
			envHelperBatch + "=8"}
		helper := func() *exec.Cmd {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), env...)
			return cmd
		}
		timed := map[int]bool{0: true, 5: true, 10: true}
		limit := uint64(len(want) * 7 / 10)
		var printed uint64
		var runs [][]watch.Event
		var logs []string
		defer func() {
			for i, l := range logs {
				t.Logf("run %d: %s", i, l)
			}
		}()
		for i := 0; i <= kills; i++ {
			h := startProc(t, helper())
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
			logs = append(logs, res.summary(how))
			res.check(t, i, how, i < kills)
			runs = append(runs, res.events)
			for _, e := range res.events {
				printed = max(printed, e.Seq)
			}
		}
		// Run's documentation: a restart hands over again at most one
		// event, the one the Handler was given last (docs/watch.md: at
		// most the events of the block whose events were being handed
		// out).
		dups, err := checkRuns(want, runs, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d runs printed %d events (%d repeats) of the reference's %d", len(runs), len(want)+dups, dups, len(want))
		sameStakes(t, path)
	})

	t.Run("cli", func(t *testing.T) {
		// The CLI makes its own store from a watch list of the first 40
		// stakes (it reads and adds the list at every start: 40 keep the
		// restarts short), checked against a reference run of the same
		// entries in this process and a clean CLI run. That clean run
		// times the start (to the "watching" line) and the rest
		// (catching up, committing, printing). The CLI commits with the
		// defaults, which make this chain one commit. Then runs die until
		// 10 have been killed: while nothing is printed, in turn a random
		// moment of the start (reading the list, opening the store,
		// adding) and a random moment of the rest (mostly before the
		// commit); once events are printed, 0-200 µs after printing an
		// event of a seq drawn above the highest printed so far (while
		// events are handed out); once all are printed, in the start.
		// Then one runs to the end.
		const kills = 10
		const watched = 40
		bin := filepath.Join(t.TempDir(), "btcstake")
		if out, err := exec.Command("go", "build", "-o", bin, "github.com/btcstake/btcstake/cmd/btcstake").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		stakes := load.Stakes[:watched]
		rpath := filepath.Join(t.TempDir(), "ref.db")
		rec := &recorder{}
		cfg := testConfig(n, n.Chain(), start, rec)
		rw := openWatcher(t, rpath, cfg)
		for _, ps := range stakes {
			if err := rw.Add(entryOf(t, ps)); err != nil {
				t.Fatal(err)
			}
		}
		if err := rw.CatchUp(ctx, to); err != nil {
			t.Fatal(err)
		}
		want := rec.from(0)
		if len(want) < 100 {
			t.Fatalf("the reference run of %d stakes has %d events", watched, len(want))
		}
		cdir := t.TempDir()
		params, err := json.Marshal(s.Params)
		if err != nil {
			t.Fatal(err)
		}
		paramsFile := filepath.Join(cdir, "params.json")
		listFile := filepath.Join(cdir, "watch.json")
		passFile := filepath.Join(cdir, "rpc.pass")
		for _, f := range []struct {
			path string
			data []byte
		}{{paramsFile, params}, {listFile, watchList(t, stakes)}, {passFile, []byte(n.RPC().Pass + "\n")}} {
			if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cli := func(db string) *exec.Cmd {
			cmd := exec.Command(bin, "watch", "--db", db, "--network", "regtest", "--rpc-url", n.RPC().Host,
				"--rpc-user", n.RPC().User, "--rpc-pass-file", passFile, "--params", paramsFile, "--watch", listFile,
				"--from-height", strconv.FormatInt(start, 10), "--until-height", strconv.FormatInt(to, 10))
			cmd.Env = append(os.Environ(), "BTCSTAKE_RPC_URL=", "BTCSTAKE_NETWORK=")
			return cmd
		}
		h := startProc(t, cli(filepath.Join(t.TempDir(), "clean.db")))
		clean := h.wait()
		total := time.Since(h.began)
		startup := time.Duration(h.watchingAt.Load())
		clean.check(t, -1, "clean", false)
		if !reflect.DeepEqual(clean.events, want) || startup == 0 {
			t.Fatalf("the CLI's clean run printed %d events, not the reference's %d (or no \"watching\" line): %v", len(clean.events), len(want), clean.summary("clean"))
		}
		rest := max(total-startup, time.Millisecond)
		t.Logf("the clean CLI run took %s (%s to the \"watching\" line)", total.Round(time.Millisecond), startup.Round(time.Millisecond))
		path := filepath.Join(t.TempDir(), "watch.db")
		var runs [][]watch.Event
		var logs []string
		defer func() {
			for i, l := range logs {
				t.Logf("run %d: %s", i, l)
			}
		}()
		killed := 0
		var printed uint64
		N := uint64(len(want))
		for i := 0; ; i++ {
			if i > 5*kills {
				t.Fatalf("%d runs, only %d killed", i, killed)
			}
			h := startProc(t, cli(path))
			how := "to the end"
			switch {
			case killed == kills:
			case printed == N || (printed == 0 && i%3 == 0):
				d := time.Duration(rng.Int63n(int64(startup)))
				how = fmt.Sprintf("killed %s after the start", d)
				h.killAfter(d)
			case printed == 0 && i%3 == 1:
				d := time.Duration(rng.Int63n(int64(rest)))
				how = fmt.Sprintf("killed %s after the \"watching\" line", d)
				h.killAfterWatching(d)
			default:
				span := max(1, (N-printed)/uint64(kills-killed+1))
				seq := printed + 1 + uint64(rng.Int63n(int64(span)))
				d := time.Duration(rng.Int63n(int64(200 * time.Microsecond)))
				how = fmt.Sprintf("killed %s after printing seq %d", d, seq)
				h.killAtSeq(seq, d)
			}
			res := h.wait()
			logs = append(logs, res.summary(how))
			res.check(t, i, how, false)
			runs = append(runs, res.events)
			for _, e := range res.events {
				printed = max(printed, e.Seq)
			}
			// Starts vary with the machine's load: kill within the
			// shortest seen.
			if at := time.Duration(h.watchingAt.Load()); at > 0 {
				startup = min(startup, at)
			}
			if res.killed {
				killed++
			} else if killed == kills {
				break
			}
		}
		dups, err := checkRuns(want, runs, 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d runs (%d killed) printed %d events (%d repeats) of the reference's %d", len(runs), killed, len(want)+dups, dups, len(want))
		got := openWatcher(t, path, testConfig(n, n.Chain(), 0, nil))
		a, err := got.Stakes()
		if err != nil {
			t.Fatal(err)
		}
		b, err := rw.Stakes()
		if err != nil {
			t.Fatal(err)
		}
		for i := range a {
			a[i].BlocksLeft = 0
		}
		for i := range b {
			b[i].BlocksLeft = 0
		}
		// The CLI records the entries it read from the watch list.
		for i := range b {
			b[i].Source = watch.SourceStakingTx
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("the stakes after the kills differ from the reference run's")
		}
	})
}

// watchList is the watch list of stakes, with every pre-signed
// transaction.
func watchList(t *testing.T, stakes []*regtest.PresignedStake) []byte {
	t.Helper()
	var items []any
	for _, s := range stakes {
		var fps []string
		for _, k := range s.Delegation.FinalityProviders {
			fps = append(fps, script.XOnly(k).String())
		}
		items = append(items, map[string]any{"staking_tx": txHex(t, s.Tx), "staker_pk": script.XOnly(s.Delegation.Staker).String(),
			"finality_providers": fps, "staking_time": s.Delegation.StakingTime, "unbonding_tx": txHex(t, s.UnbondingTx),
			"slashing_psbt": psbtBase64(t, s.Slashing), "unbonding_slashing_psbt": psbtBase64(t, s.UnbondingSlashing)})
	}
	b, err := json.Marshal(map[string]any{"entries": items})
	if err != nil {
		t.Fatal(err)
	}
	return b
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
	t        *testing.T
	cmd      *exec.Cmd
	mu       sync.Mutex
	stderr   strings.Builder
	events   []watch.Event
	done     chan struct{} // stdout read to its end
	errDone  chan struct{} // stderr read to its end
	watching chan struct{} // closed at the CLI's "watching" line
	began    time.Time
	// watchingAt is when the "watching" line came, after began (0: never).
	watchingAt atomic.Int64
	// pauseAt: the reader stops reading stdout after the event of this
	// seq (0: never) until resume is closed; paused is closed then.
	pauseAt atomic.Uint64
	paused  chan struct{}
	resume  chan struct{}
	partial string
	badLine string
	killed  atomic.Bool
	stop    chan struct{} // closed when the process ended
}

// summary is the run's line in the test log.
func (r helperResult) summary(how string) string {
	return fmt.Sprintf("%s: %d events %s, exit %v, stderr %q", how, len(r.events), seqRange(r.events), r.err, tail(r.stderr, 2000))
}

// check fails the test when the run printed a partial line or a line that
// is not an event, was to be killed and was not (mustKill), or was not
// killed and failed.
func (r helperResult) check(t *testing.T, i int, how string, mustKill bool) {
	t.Helper()
	switch {
	case r.partial != "":
		t.Fatalf("run %d (%s) left a partial line on stdout: %q", i, how, r.partial)
	case r.badLine != "":
		t.Fatalf("run %d (%s) printed a line that is not an event: %q", i, how, r.badLine)
	case mustKill && !r.killed:
		t.Fatalf("run %d (%s) ended before it was killed: %v %s", i, how, r.err, r.stderr)
	case !r.killed && r.err != nil:
		t.Fatalf("run %d (%s) failed: %v %s", i, how, r.err, r.stderr)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

type helperResult struct {
	events  []watch.Event
	err     error
	stderr  string
	partial string
	badLine string
	killed  bool
}

// startProc starts cmd with its stdout read as event lines and its
// stderr kept (watching closes when a line of it says the CLI starts to
// follow the chain).
func startProc(t *testing.T, cmd *exec.Cmd) *helperProc {
	t.Helper()
	h := &helperProc{t: t, cmd: cmd, done: make(chan struct{}), errDone: make(chan struct{}),
		watching: make(chan struct{}), paused: make(chan struct{}), resume: make(chan struct{}), stop: make(chan struct{})}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	// A one-page pipe: when the reader pauses, the watcher blocks in its
	// next writes, in the middle of handing events out.
	if err := shrinkPipe(out.(*os.File)); err != nil {
		t.Fatal(err)
	}
	errOut, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	h.began = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go h.read(out)
	go h.readStderr(errOut)
	return h
}

// readStderr keeps stderr (its first 64 kB) and closes watching at the
// CLI's "watching" line.
func (h *helperProc) readStderr(r io.Reader) {
	defer close(h.errDone)
	sc := bufio.NewScanner(r)
	seen := false
	for sc.Scan() {
		line := sc.Text()
		h.mu.Lock()
		if h.stderr.Len() < 64<<10 {
			h.stderr.WriteString(line + "\n")
		}
		h.mu.Unlock()
		if !seen && strings.Contains(line, "msg=watching") {
			seen = true
			h.watchingAt.Store(int64(time.Since(h.began)))
			close(h.watching)
		}
	}
	_, _ = io.Copy(io.Discard, r)
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
		if at := h.pauseAt.Load(); at != 0 && e.Seq >= at {
			h.pauseAt.Store(0)
			close(h.paused)
			<-h.resume
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

// killAfterWatching kills the process d after the CLI says it starts to
// follow the chain.
func (h *helperProc) killAfterWatching(d time.Duration) {
	go func() {
		select {
		case <-h.watching:
			time.AfterFunc(d, h.kill)
		case <-h.stop:
		}
	}()
}

// killAtSeq kills the process d after it printed an event of seq >= seq,
// a consumer that stops reading there: the watcher goes on until its
// writes block on the full pipe.
func (h *helperProc) killAtSeq(seq uint64, d time.Duration) {
	h.pauseAt.Store(seq)
	go func() {
		select {
		case <-h.paused:
			time.AfterFunc(d, func() {
				h.kill()
				close(h.resume)
			})
		case <-h.stop:
		}
	}()
}

// wait waits for the process to end (2 minutes at most) and returns what
// it printed.
func (h *helperProc) wait() helperResult {
	exited := make(chan error, 1)
	go func() {
		<-h.done
		<-h.errDone
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

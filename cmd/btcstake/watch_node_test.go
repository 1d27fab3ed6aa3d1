package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/regtest"
	"github.com/btcstake/btcstake/script"
	"github.com/btcstake/btcstake/watch"
)

// watchWorld is a regtest node without -txindex, a scenario's stakes with
// every pre-signed transaction, their watch list and params file.
type watchWorld struct {
	t          *testing.T
	node       *regtest.Node
	sc         *regtest.Scenario
	conn       []string
	paramsFile string
	dir        string
}

func newWatchWorld(t *testing.T) *watchWorld {
	t.Setenv(statusDirEnv, t.TempDir())
	n := regtest.NewTestNode(t, regtest.Options{NoTxIndex: true})
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	sc, err := regtest.NewScenario(n, regtest.ScenarioConfig{Seed: seed, FinalityProviders: 2})
	if err != nil {
		t.Fatal(err)
	}
	w := &watchWorld{t: t, node: n, sc: sc, conn: noIndexConn(t, n), dir: t.TempDir()}
	raw, err := json.Marshal(sc.Params)
	if err != nil {
		t.Fatal(err)
	}
	w.paramsFile = filepath.Join(w.dir, "params.json")
	if err := os.WriteFile(w.paramsFile, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

// watchList writes the stakes with their pre-signed transactions as a
// watch list.
func (w *watchWorld) watchList(stakes []*regtest.PresignedStake) string {
	var items []any
	for _, s := range stakes {
		slashing, err := psbt.Encode(s.Slashing)
		if err != nil {
			w.t.Fatal(err)
		}
		ubSlashing, err := psbt.Encode(s.UnbondingSlashing)
		if err != nil {
			w.t.Fatal(err)
		}
		var fps []string
		for _, k := range s.Delegation.FinalityProviders {
			fps = append(fps, script.XOnly(k).String())
		}
		items = append(items, map[string]any{"staking_tx": txHex(s.Tx), "staker_pk": script.XOnly(s.Delegation.Staker).String(),
			"finality_providers": fps, "staking_time": s.Delegation.StakingTime, "unbonding_tx": txHex(s.UnbondingTx),
			"slashing_psbt": slashing, "unbonding_slashing_psbt": ubSlashing})
	}
	b, err := json.Marshal(map[string]any{"entries": items})
	if err != nil {
		w.t.Fatal(err)
	}
	p := filepath.Join(w.dir, "watch.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *watchWorld) height() int64 {
	h, err := w.node.Height()
	if err != nil {
		w.t.Fatal(err)
	}
	return int64(h)
}

func (w *watchWorld) mine(n int) {
	if _, err := w.node.Mine(n); err != nil {
		w.t.Fatal(err)
	}
}

// events parses JSON lines of events.
func parseEvents(t *testing.T, out string) []watch.Event {
	t.Helper()
	var evs []watch.Event
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var e watch.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("%v: %q", err, l)
		}
		evs = append(evs, e)
	}
	return evs
}

// expectedEvent is an event as the protocol's rules predict it.
type expectedEvent struct {
	height     int64
	kind       watch.EventKind
	delegation string
}

func (e expectedEvent) String() string {
	return fmt.Sprintf("%d %s %s", e.height, e.kind, e.delegation)
}

// sameEvents compares events with what the rules predict: the same
// (height, kind, delegation) multiset, seqs one apart from first, heights
// never going down, unique ids.
func sameEvents(t *testing.T, got []watch.Event, want []expectedEvent, first uint64) {
	t.Helper()
	var g, w []string
	ids := map[string]bool{}
	for i, e := range got {
		g = append(g, expectedEvent{e.Height, e.Kind, e.Delegation}.String())
		if e.Seq != first+uint64(i) || ids[e.ID] || (i > 0 && e.Height < got[i-1].Height) {
			t.Fatalf("event %d out of order or repeated: %+v (events %v)", i, e, g)
		}
		ids[e.ID] = true
	}
	for _, e := range want {
		w = append(w, e.String())
	}
	sort.Strings(g)
	sort.Strings(w)
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
}

// TestWatchOnNode: a few delegations staked on regtest (no -txindex), one
// unbonded; 'watch --until-height' prints the events the protocol's rules
// predict as JSON lines, resumes after a stop without repeating any,
// serves /metrics, / and /api/stakes while it runs (polled), and brings a
// delegation confirmed below its cursor through the blocks it missed;
// 'watch events' and 'watch
// stakes' read the stopped store; status answers from a watcher, its own
// cache or the service's store.
func TestWatchOnNode(t *testing.T) {
	w := newWatchWorld(t)
	stakes, err := w.sc.StakeMany(3, regtest.ManyOptions{PerBlock: 1})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(stakes))
	for i, s := range stakes {
		ids[i] = fmt.Sprintf("%s:%d", s.Txid, s.OutputIndex)
	}
	list := w.watchList(stakes)
	const u = 0 // the stake unbonded
	if _, err := w.node.Broadcast(stakes[u].UnbondingTx); err != nil {
		t.Fatal(err)
	}
	w.mine(1)
	ub := w.height()
	db := filepath.Join(w.dir, "stakes.db")
	from := int64(stakes[0].Height)
	watchCmd := func(until int64, extra ...string) []string {
		return append(append([]string{"watch", "--db", db, "--params", w.paramsFile, "--watch", list,
			"--from-height", strconv.FormatInt(from, 10), "--until-height", strconv.FormatInt(until, 10)}, extra...), w.conn...)
	}
	var printed []string // every line stdout printed, in order

	// 1. Up to the unbonding's block: three confirmations and the
	// unbonding; --webhook and --exec get each of them before it exits.
	var hookMu sync.Mutex
	var hooked []string
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hookMu.Lock()
		hooked = append(hooked, r.Header.Get("Idempotency-Key")+" "+strings.TrimSpace(string(b)))
		hookMu.Unlock()
	}))
	defer hook.Close()
	execLog := filepath.Join(w.dir, "exec.log")
	code, out, errOut := runCLI(t, watchCmd(ub, "--webhook", hook.URL+"/events", "--exec", `echo "$BTCSTAKE_EVENT_SEQ $BTCSTAKE_EVENT_KIND" >> `+execLog)...)
	if code != 0 {
		t.Fatalf("watch: exit %d: %s", code, errOut)
	}
	var want []expectedEvent
	for i, s := range stakes {
		want = append(want, expectedEvent{int64(s.Height), watch.EventStakingConfirmed, ids[i]})
	}
	want = append(want, expectedEvent{ub, watch.EventUnbondingConfirmed, ids[u]})
	evs := parseEvents(t, out)
	sameEvents(t, evs, want, 1)
	printed = append(printed, strings.Split(strings.TrimSpace(out), "\n")...)
	var wantHooked, wantExec []string
	for _, e := range evs {
		line, _ := json.Marshal(e)
		wantHooked = append(wantHooked, e.ID+" "+string(line))
		wantExec = append(wantExec, fmt.Sprintf("%d %s", e.Seq, e.Kind))
	}
	hookMu.Lock()
	if strings.Join(hooked, "\n") != strings.Join(wantHooked, "\n") {
		t.Fatalf("webhook got:\n%s\nwant:\n%s", strings.Join(hooked, "\n"), strings.Join(wantHooked, "\n"))
	}
	hookMu.Unlock()
	if b, err := os.ReadFile(execLog); err != nil || strings.TrimSpace(string(b)) != strings.Join(wantExec, "\n") {
		t.Fatalf("--exec ran for:\n%s (%v)\nwant:\n%s", b, err, strings.Join(wantExec, "\n"))
	}
	for _, e := range evs {
		if e.Kind == watch.EventUnbondingConfirmed && e.Txid != stakes[u].UnbondingTx.TxHash().String() {
			t.Fatalf("unbonding txid %s, want %s", e.Txid, stakes[u].UnbondingTx.TxHash())
		}
	}

	// 2. Six blocks later: each stake 6 deep (Babylon's default depth),
	// the unbonding output's lock (5 blocks) and the first stake's (10)
	// reached; restarted with the same flags, nothing repeats.
	w.mine(6)
	until := ub + 6
	code, out, errOut = runCLI(t, watchCmd(until)...)
	if code != 0 {
		t.Fatalf("watch again: exit %d: %s", code, errOut)
	}
	want = nil
	for i, s := range stakes {
		want = append(want, expectedEvent{int64(s.Height) + 5, watch.EventStakingDeep, ids[i]})
		if i != u && int64(s.Height)+int64(w.sc.StakingTime)-1 <= until {
			want = append(want, expectedEvent{int64(s.Height) + int64(w.sc.StakingTime), watch.EventTimelockReached, ids[i]})
		}
	}
	want = append(want, expectedEvent{ub + int64(w.sc.Params.UnbondingTime()), watch.EventTimelockReached, ids[u]})
	sameEvents(t, parseEvents(t, out), want, uint64(len(printed))+1)
	printed = append(printed, strings.Split(strings.TrimSpace(out), "\n")...)

	// 3. Served while it runs: it waits at the tip for block until+2,
	// polled meanwhile; one block later it has moved on.
	lines, stderr, done := streamWatch(t, watchCmd(until+2, "--listen", "127.0.0.1:0", "--poll-interval", "20ms")...)
	addr := ""
	for addr == "" {
		select {
		case l := <-stderr:
			if m := regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`).FindStringSubmatch(l); m != nil {
				addr = m[1]
			}
		case r := <-done:
			t.Fatalf("watch --listen ended: exit %d", r.code)
		case <-time.After(30 * time.Second):
			t.Fatal("no listening address logged")
		}
	}
	go func() {
		for range stderr {
		}
	}()
	get := func(path string) string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get("http://" + addr + path)
			if err == nil {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return string(b)
				}
				err = fmt.Errorf("status %d: %s", resp.StatusCode, b)
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %v", path, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	type apiStakes struct {
		Progress watch.Progress    `json:"progress"`
		Count    int               `json:"count"`
		Stakes   []watch.StakeView `json:"stakes"`
	}
	// poll /api/stakes until ok says the follower is where it should be.
	poll := func(ok func(apiStakes) bool) apiStakes {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			var api apiStakes
			if err := json.Unmarshal([]byte(get("/api/stakes")), &api); err != nil {
				t.Fatal(err)
			}
			if ok(api) {
				return api
			}
			if time.Now().After(deadline) {
				t.Fatalf("/api/stakes never got there: %+v", api)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	api := poll(func(a apiStakes) bool { return a.Progress.Tip == until })
	states := map[string]string{}
	for _, s := range api.Stakes {
		states[s.Delegation] = s.State
		if !s.CanAutoSlash {
			t.Errorf("%s: the watch list's pre-signed slashing should allow auto-slash: %+v", s.Delegation, s)
		}
	}
	if api.Count != 3 || states[ids[u]] != "unbonding" || states[ids[1]] != "staked" || states[ids[2]] != "staked" {
		t.Fatalf("/api/stakes: %+v", api)
	}
	page := get("/")
	for _, s := range stakes {
		if !strings.Contains(page, s.Txid.String()) {
			t.Fatalf("the status page does not list %s:\n%s", s.Txid, page)
		}
	}
	w.mine(1)
	poll(func(a apiStakes) bool { return a.Progress.Height == until+1 })
	metrics := get("/metrics")
	for _, m := range []string{`btcstake_watch_stakes{state="staked"} 2`, `btcstake_watch_stakes{state="unbonding"} 1`,
		"btcstake_watch_height " + strconv.FormatInt(until+1, 10), "btcstake_watch_blocks_processed_total 1\n",
		`btcstake_watch_events_total{kind="staking_confirmed"} 0`} {
		if !strings.Contains(metrics, m) {
			t.Fatalf("/metrics lacks %q:\n%s", m, metrics)
		}
	}
	w.mine(1)
	if r := <-done; r.code != 0 {
		t.Fatalf("watch --listen: exit %d", r.code)
	}
	var third []string
	for l := range lines {
		third = append(third, l)
	}
	want = nil
	for i, s := range stakes {
		if lock := int64(s.Height) + int64(w.sc.StakingTime); i != u && lock-1 > until && lock-1 <= until+2 {
			want = append(want, expectedEvent{lock, watch.EventTimelockReached, ids[i]})
		}
	}
	sameEvents(t, parseEvents(t, strings.Join(third, "\n")), want, uint64(len(printed))+1)
	printed = append(printed, third...)
	if _, err := http.Get("http://" + addr + "/api/stakes"); err == nil {
		t.Fatal("still serving after the watcher stopped")
	}

	// 4. The stopped store, read by the subcommands.
	code, out, errOut = runCLI(t, "watch", "events", "--db", db)
	if code != 0 || strings.TrimSpace(out) != strings.Join(printed, "\n") {
		t.Fatalf("watch events: exit %d %s\n%s\nwant\n%s", code, errOut, out, strings.Join(printed, "\n"))
	}
	code, out, _ = runCLI(t, "watch", "events", "--db", db, "--after", "4", "--limit", "2")
	if got := parseEvents(t, out); code != 0 || len(got) != 2 || got[0].Seq != 5 || got[1].Seq != 6 {
		t.Fatalf("watch events --after 4 --limit 2: %v", got)
	}
	code, out, errOut = runCLI(t, "watch", "stakes", "--db", db, "--json")
	if code != 0 {
		t.Fatalf("watch stakes: exit %d %s", code, errOut)
	}
	sj := mustJSON[watchStakesJSON](t, out)
	if sj.Count != 3 || sj.Height != until+2 || sj.StartedAt != from {
		t.Fatalf("watch stakes: %+v", sj)
	}
	for _, s := range sj.Stakes {
		if s.Delegation == ids[2] {
			if lock := int64(stakes[2].Height) + int64(w.sc.StakingTime); s.WithdrawableAt != lock || s.BlocksLeft != max(0, lock-(until+3)) {
				t.Fatalf("stake 2 from the stopped store: %+v (lock %d, store at %d)", s, lock, until+2)
			}
		}
	}

	// 5. status, without -txindex: from its own cache, and from the
	// service's store.
	deleg := func(i int) []string {
		s := stakes[i]
		return []string{"--params", w.paramsFile, "--staker-pk", script.XOnly(s.Delegation.Staker).String(),
			"--fp-pk", script.XOnly(s.Delegation.FinalityProviders[0]).String(), "--staking-time", strconv.Itoa(int(s.Delegation.StakingTime))}
	}
	status := func(i int, extra ...string) stakeStatus {
		t.Helper()
		code, out, errOut := runCLI(t, append(append(append([]string{"status", "--json", "--txid", stakes[i].Txid.String()}, deleg(i)...), extra...), w.conn...)...)
		if code != 0 {
			t.Fatalf("status: exit %d %s", code, errOut)
		}
		return mustJSON[stakeStatus](t, out)
	}
	tip := w.height()
	s := status(u)
	if s.State != "unbonding" || len(s.Events) != 2 || s.Events[1].Event != "unbonded" || s.Events[1].Height != ub ||
		s.Events[1].Txid != stakes[u].UnbondingTx.TxHash().String() || s.Events[1].Confirmations != tip-ub+1 ||
		s.Paths[0].OpensAtHeight != ub+int64(w.sc.Params.UnbondingTime()) || !s.Paths[0].SpendableNow || s.TipHeight != tip {
		t.Fatalf("status of the unbonded stake: %+v", s)
	}
	s = status(1, "--db", db)
	if s.State != "staked" || s.DBFile != db || s.Confirmations != tip-int64(stakes[1].Height)+1 || len(s.Paths) != 3 {
		t.Fatalf("status from the service's store: %+v", s)
	}

	// 6. A delegation confirmed below the store's cursor is added and
	// brought through the blocks from its staking block (found through
	// the node's unspent outputs): its events appear, from that block,
	// after the store's others, which are not repeated.
	late, err := w.sc.Stake(regtest.StakeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lateID := fmt.Sprintf("%s:%d", late.Txid, late.OutputIndex)
	w.mine(2)
	tip = w.height()
	if code, _, errOut := runCLI(t, watchCmd(tip)...); code != 0 {
		t.Fatalf("watch to the tip: %s", errOut)
	}
	_, before, _ := runCLI(t, "watch", "events", "--db", db)
	stored := uint64(len(parseEvents(t, before)))
	lateFlags := []string{"--staking-tx", txHex(late.Tx), "--staker-pk", script.XOnly(late.Delegation.Staker).String(), "--staking-time", strconv.Itoa(int(late.Delegation.StakingTime))}
	for _, fp := range late.Delegation.FinalityProviders {
		lateFlags = append(lateFlags, "--fp-pk", script.XOnly(fp).String())
	}
	// status on a copy of the store: the same.
	raw, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	dbCopy := filepath.Join(w.dir, "copy.db")
	if err := os.WriteFile(dbCopy, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, append(append([]string{"status", "--json", "--params", w.paramsFile, "--db", dbCopy}, lateFlags...), w.conn...)...)
	if s := mustJSON[stakeStatus](t, out); code != 0 || s.State != "staked" || s.Confirmations != tip-int64(late.Height)+1 || s.DBFile != dbCopy {
		t.Fatalf("status of the late delegation from a store past its block: exit %d %+v %q", code, s, errOut)
	}
	code, out, errOut = runCLI(t, watchCmd(tip, lateFlags...)...)
	if code != 0 || !strings.Contains(errOut, "the store goes back through the blocks from there") {
		t.Fatalf("late delegation: exit %d %q", code, errOut)
	}
	want = []expectedEvent{{int64(late.Height), watch.EventStakingConfirmed, lateID}}
	if deep := int64(late.Height) + 5; deep <= tip {
		want = append(want, expectedEvent{deep, watch.EventStakingDeep, lateID})
	}
	sameEvents(t, parseEvents(t, out), want, stored+1)
	code, out, _ = runCLI(t, "watch", "stakes", "--db", db, "--json")
	sj = mustJSON[watchStakesJSON](t, out)
	lateState := ""
	for _, v := range sj.Stakes {
		if v.Delegation == lateID {
			lateState = v.State
		}
	}
	if code != 0 || sj.Count != 4 || lateState != watch.StateStaked {
		t.Fatalf("the late delegation: %+v", sj)
	}
	// Given again: nothing new.
	if code, out, errOut := runCLI(t, watchCmd(tip, lateFlags...)...); code != 0 || out != "" {
		t.Fatalf("the late delegation again: exit %d %q %q", code, out, errOut)
	}

	// 7. Auto-slash with provider 0's key (EOTS evidence): its two
	// delegations are slashed, the unbonded one from its unbonding
	// output; provider 1's is not.
	fp0 := writeKey(t, w.dir, "fp0.key", w.sc.FinalityProviders[0])
	slashedBy := map[string]string{ids[u]: "unbonding", ids[2]: "staking"}
	code, out, errOut = runCLI(t, watchCmd(tip, "--auto-slash", "--fp-key", fp0)...)
	if code != 0 || strings.Contains(errOut, hex.EncodeToString(w.sc.FinalityProviders[0].Serialize())) {
		t.Fatalf("auto-slash: exit %d %s", code, errOut)
	}
	txids := map[string]string{}
	for _, e := range parseEvents(t, out) {
		if e.Delegation == lateID {
			// Watched without its pre-signed transactions: refused when
			// provider 0 is one of its providers.
			if e.Kind != watch.EventAutoSlashRefused || e.Reason == "" {
				t.Fatalf("the late delegation: %+v", e)
			}
			continue
		}
		if e.Kind != watch.EventAutoSlashBroadcast || slashedBy[e.Delegation] != e.Output || e.FinalityProvider != script.XOnly(w.sc.FinalityProviders[0].PubKey()).String() {
			t.Fatalf("auto-slash event %+v", e)
		}
		txids[e.Delegation] = e.Txid
	}
	if len(txids) != 2 {
		t.Fatalf("auto-slash slashed %v, want %v", txids, slashedBy)
	}
	w.mine(1)
	code, out, errOut = runCLI(t, watchCmd(tip+1, "--auto-slash")...)
	if code != 0 {
		t.Fatalf("after the slashings: exit %d %s", code, errOut)
	}
	slashed := map[string]string{}
	for _, e := range parseEvents(t, out) {
		if e.Delegation == ids[1] || (e.Delegation == lateID && e.Kind != watch.EventStakingDeep && e.Kind != watch.EventTimelockReached) {
			t.Fatalf("a delegation not slashed: %+v", e)
		}
		if e.Kind == watch.EventSlashed {
			if e.Txid != txids[e.Delegation] || e.Output != slashedBy[e.Delegation] || e.Height != tip+1 {
				t.Fatalf("slashed %+v, broadcast %v", e, txids)
			}
			slashed[e.Delegation] = e.Txid
		}
	}
	if len(slashed) != 2 {
		t.Fatalf("slashed %v, want both of %v", slashed, txids)
	}
}

type watchResult struct{ code int }

// streamWatch runs the CLI in the background, its stdout and stderr as
// streams of lines.
func streamWatch(t *testing.T, args ...string) (stdout, stderr <-chan string, done <-chan watchResult) {
	t.Helper()
	or, ow := io.Pipe()
	er, ew := io.Pipe()
	outLines, errLines := make(chan string, 256), make(chan string, 256)
	d := make(chan watchResult, 1)
	readLines := func(r io.Reader, ch chan<- string) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
		close(ch)
	}
	go readLines(or, outLines)
	go readLines(er, errLines)
	go func() {
		code := run(args, ow, ew)
		ow.Close()
		ew.Close()
		d <- watchResult{code: code}
	}()
	return outLines, errLines, d
}

// TestWatchStopsOnSignal runs the built binary as a service: SIGTERM and
// SIGINT each stop it cleanly (exit 0), and the next start resumes from
// where it stopped.
func TestWatchStopsOnSignal(t *testing.T) {
	t.Setenv(statusDirEnv, t.TempDir())
	bin := filepath.Join(t.TempDir(), "btcstake")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	n := regtest.NewTestNode(t, regtest.Options{NoTxIndex: true})
	w := &watchWorld{t: t, node: n}
	w.mine(3)
	conn := noIndexConn(t, n)
	db := filepath.Join(t.TempDir(), "w.db")
	for i, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd := exec.Command(bin, append([]string{"watch", "--db", db, "--from-height", "1", "--poll-interval", "50ms"}, conn...)...)
		cmd.Env = append(os.Environ(), "BTCSTAKE_RPC_URL=", "BTCSTAKE_NETWORK=")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		caught := make(chan string, 1)
		var log strings.Builder
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				log.WriteString(sc.Text() + "\n")
				if strings.Contains(sc.Text(), "caught up with the node") {
					caught <- sc.Text()
				}
			}
			close(caught)
		}()
		line, ok := <-caught
		if !ok {
			cmd.Wait()
			t.Fatalf("run %d: never caught up:\n%s", i, log.String())
		}
		if want := fmt.Sprintf("height=%d", w.height()); !strings.Contains(line, want) {
			t.Fatalf("run %d: caught up at %q, want %s", i, line, want)
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		for range caught {
		}
		if err := cmd.Wait(); err != nil || cmd.ProcessState.ExitCode() != 0 || !strings.Contains(log.String(), "stopped by a signal") {
			t.Fatalf("run %d, %v: %v, exit %d\n%s", i, sig, err, cmd.ProcessState.ExitCode(), log.String())
		}
		if i == 0 {
			w.mine(2) // the second run reads these two only
			if !strings.Contains(log.String(), "from_height=1 ") {
				t.Fatalf("first run did not start at height 1:\n%s", log.String())
			}
		} else if want := fmt.Sprintf("from_height=%d ", w.height()-1); !strings.Contains(log.String(), want) {
			t.Fatalf("second run did not resume after the first (%s):\n%s", want, log.String())
		}
	}
}

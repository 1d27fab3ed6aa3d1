//go:build unix

package notify

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/btcstake/btcstake/watch"
)

// writeScript writes an executable shell script into dir.
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// shQuote quotes s for /bin/sh.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// readEnvFile parses the NAME=value lines `env` printed (values here
// hold no newline).
func readEnvFile(t *testing.T, p string) map[string]string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	return env
}

func TestExecGetsEventInEnvAndStdin(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out dir") // a space, to prove the quoting is the caller's
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	script := writeScript(t, dir, "hook.sh", `env > "$1/$BTCSTAKE_EVENT_SEQ.env"
cat > "$1/$BTCSTAKE_EVENT_SEQ.stdin"
`)
	// The watcher's own secrets must not reach the command.
	t.Setenv("BTCSTAKE_RPC_PASS", "rpc-secret")
	t.Setenv("BTCSTAKE_PASSPHRASE", "key-secret")
	t.Setenv("HOOK_TEST_KEEP", "kept")

	argv, err := ShellArgv(shQuote(script) + " " + shQuote(out))
	if err != nil {
		t.Fatal(err)
	}
	x, err := NewExec(ExecConfig{Argv: argv, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	pwned := filepath.Join(dir, "pwned")
	ev := watch.Event{
		ID:               "id-1",
		Kind:             watch.EventAutoSlashRefused,
		Seq:              7,
		Delegation:       "$(touch " + pwned + ")`touch " + pwned + "`; touch " + pwned,
		FinalityProvider: "fp'\"<>",
		Output:           "staking",
		Txid:             strings.Repeat("ab", 32),
		Height:           812345,
		BlockHash:        strings.Repeat("0f", 32),
		Depth:            6,
		Cancels:          "id-0",
		Reason:           "missing covenant signatures * ?",
		Missing:          []string{"aa", "bb"},
	}
	if err := x.Deliver(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Fatal("an event field was run as a command")
	}
	env := readEnvFile(t, filepath.Join(out, "7.env"))
	wantJSON, _ := json.Marshal(ev)
	want := map[string]string{
		"BTCSTAKE_EVENT_ID":                "id-1",
		"BTCSTAKE_EVENT_KIND":              "auto_slash_refused",
		"BTCSTAKE_EVENT_SEQ":               "7",
		"BTCSTAKE_EVENT_DELEGATION":        ev.Delegation,
		"BTCSTAKE_EVENT_FINALITY_PROVIDER": ev.FinalityProvider,
		"BTCSTAKE_EVENT_OUTPUT":            "staking",
		"BTCSTAKE_EVENT_TXID":              ev.Txid,
		"BTCSTAKE_EVENT_HEIGHT":            "812345",
		"BTCSTAKE_EVENT_BLOCK_HASH":        ev.BlockHash,
		"BTCSTAKE_EVENT_DEPTH":             "6",
		"BTCSTAKE_EVENT_CANCELS":           "id-0",
		"BTCSTAKE_EVENT_REASON":            ev.Reason,
		"BTCSTAKE_EVENT_MISSING":           "aa,bb",
		"BTCSTAKE_EVENT_JSON":              string(wantJSON),
	}
	got := map[string]string{}
	for k, v := range env {
		if strings.HasPrefix(k, "BTCSTAKE_") {
			got[k] = v
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("BTCSTAKE_ environment:\n got %v\nwant %v", got, want)
	}
	if env["HOOK_TEST_KEEP"] != "kept" {
		t.Errorf("the rest of the environment was not inherited")
	}
	stdin, err := os.ReadFile(filepath.Join(out, "7.stdin"))
	if err != nil {
		t.Fatal(err)
	}
	if string(stdin) != string(wantJSON)+"\n" {
		t.Errorf("stdin %q, want the event's JSON line %q", stdin, wantJSON)
	}
}

func TestExecThroughDispatcher(t *testing.T) {
	dir := t.TempDir()
	// Fails its first two runs (counted in a file), then records each
	// event id it gets.
	script := writeScript(t, dir, "flaky.sh", `n=$(cat "$1/runs" 2>/dev/null || echo 0)
echo $((n+1)) > "$1/runs"
if [ "$n" -lt 2 ]; then echo "not yet" >&2; exit 3; fi
echo "$BTCSTAKE_EVENT_ID" >> "$1/ids"
`)
	x, err := NewExec(ExecConfig{Argv: []string{"/bin/sh", script, dir}, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	log := newFakeLog()
	log.add(3)
	metrics := newFakeRecorder()
	startDispatcher(t, DispatcherConfig{Log: log, Sinks: []SinkConfig{{Sink: x, Retry: fastRetry}}, Recorder: metrics})
	waitFor(t, 20*time.Second, "three events", func() bool { return log.cursor("exec") == 3 })
	ids, err := os.ReadFile(filepath.Join(dir, "ids"))
	if err != nil {
		t.Fatal(err)
	}
	if string(ids) != "ev-001\nev-002\nev-003\n" {
		t.Errorf("command saw %q", ids)
	}
	if del, fail, drop := metrics.counts("exec"); del != 3 || fail != 2 || drop != 0 {
		t.Errorf("delivered %d, failed %d, dropped %d; want 3, 2, 0", del, fail, drop)
	}
	if err := metrics.lastErr; !errors.Is(err, ErrDeliveryFailed) || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "not yet") {
		t.Errorf("failure recorded as %v, want the exit status and output", err)
	}
}

func TestExecFailingIsDroppedAfterRetries(t *testing.T) {
	log := newFakeLog()
	log.add(2)
	metrics := newFakeRecorder()
	x, err := NewExec(ExecConfig{Argv: []string{"/bin/sh", "-c", "exit 1"}})
	if err != nil {
		t.Fatal(err)
	}
	retry := fastRetry
	retry.Attempts = 3
	startDispatcher(t, DispatcherConfig{Log: log, Sinks: []SinkConfig{{Sink: x, Retry: retry}}, Recorder: metrics})
	waitFor(t, 20*time.Second, "both events given up", func() bool { return log.cursor("exec") == 2 })
	if del, fail, drop := metrics.counts("exec"); del != 0 || fail != 6 || drop != 2 {
		t.Errorf("delivered %d, failed %d, dropped %d; want 0, 6, 2", del, fail, drop)
	}
}

func TestExecTimeout(t *testing.T) {
	x, err := NewExec(ExecConfig{Argv: []string{"/bin/sh", "-c", "sleep 30"}, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- x.Deliver(context.Background(), watch.Event{ID: "a", Seq: 1}) }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrDeliveryFailed) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("timed-out run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Deliver did not return after the command's timeout")
	}
}

func TestExecCannotStartIsPermanent(t *testing.T) {
	x, err := NewExec(ExecConfig{Argv: []string{filepath.Join(t.TempDir(), "no-such-program")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Deliver(context.Background(), watch.Event{ID: "a", Seq: 1}); !errors.Is(err, ErrPermanent) {
		t.Errorf("missing program: %v, want ErrPermanent", err)
	}
}

func TestExecConfigErrors(t *testing.T) {
	for name, cfg := range map[string]ExecConfig{
		"no argv":          {},
		"empty program":    {Argv: []string{""}},
		"NUL in argument":  {Argv: []string{"/bin/echo", "a\x00b"}},
		"negative timeout": {Argv: []string{"/bin/true"}, Timeout: -time.Second},
		"bad name":         {Argv: []string{"/bin/true"}, Name: "a b"},
	} {
		if _, err := NewExec(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
	for _, cmd := range []string{"", "  \t", "echo a\x00b"} {
		if _, err := ShellArgv(cmd); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("ShellArgv(%q): %v, want ErrInvalidConfig", cmd, err)
		}
	}
}

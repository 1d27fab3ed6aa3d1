package notify

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcstake/btcstake/watch"
)

// alive reports whether pid is a process that is neither gone nor a
// zombie, from /proc.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) STATE ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

func TestExecTimeoutKillsBackgroundChildren(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	// A background child that would outlive its shell, and keeps the
	// output pipe open.
	x, err := NewExec(ExecConfig{
		Argv:    []string{"/bin/sh", "-c", `sleep 30 & echo $! > "$0.tmp" && mv "$0.tmp" "$0"; wait`, pidFile},
		Timeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	err = x.Deliver(context.Background(), watch.Event{ID: "a", Seq: 1})
	if !errors.Is(err, ErrDeliveryFailed) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timed-out run: %v", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the script did not start its child in time: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the background child to die", func() bool { return !alive(pid) })
}

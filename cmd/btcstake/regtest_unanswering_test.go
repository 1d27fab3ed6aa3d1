package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/btcstake/btcstake/regtest"
)

// TestRegtestCLIUnansweringNode: a node that is alive but does not answer
// the state file's RPC credentials (stale credentials, or a hung node) is
// stopped by "regtest stop" and by a new "regtest start" in its directory,
// never orphaned: both used to delete its state and data and leave it
// running with its port bound, where no btcstake command could reach it.
func TestRegtestCLIUnansweringNode(t *testing.T) {
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.json")
	var started []regtest.State
	t.Cleanup(func() {
		for _, st := range started {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if n, err := regtest.Attach(ctx, st); err == nil {
				_ = n.Stop()
			} else if p, err := os.FindProcess(st.Pid); err == nil {
				_ = p.Kill() // this test started it
			}
			cancel()
		}
	})
	start := func() regtest.State {
		t.Helper()
		if code, _, stderr := runRegtestCLI(t, "regtest", "start", "--dir", dir, "--blocks", "1"); code != exitOK {
			t.Fatalf("start: exit %d: %s", code, stderr)
		}
		st, err := regtest.LoadState(statePath)
		if err != nil {
			t.Fatal(err)
		}
		started = append(started, st)
		// Make the node unreachable through the state file.
		bad := st
		bad.RPC.Pass = "not-the-password"
		if err := regtest.SaveState(statePath, bad); err != nil {
			t.Fatal(err)
		}
		return st
	}
	// stopped checks that the node of st no longer runs: it does not
	// answer its real credentials and its RPC port is free again.
	stopped := func(what string, st regtest.State) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if n, err := regtest.Attach(ctx, st); err == nil {
			n.Close()
			t.Fatalf("%s: the node (pid %d) still runs", what, st.Pid)
		}
		l, err := net.Listen("tcp", st.RPC.Host)
		if err != nil {
			t.Fatalf("%s: the node's RPC port is still bound: %v", what, err)
		}
		l.Close()
	}

	first := start()
	code, stdout, stderr := runRegtestCLI(t, "regtest", "start", "--dir", dir, "--blocks", "1")
	if code != exitOK {
		t.Fatalf("start over an unanswering node: exit %d: %s", code, stderr)
	}
	second, err := regtest.LoadState(statePath)
	if err != nil {
		t.Fatal(err)
	}
	started = append(started, second)
	stopped("start over an unanswering node", first)
	if second.Pid == first.Pid {
		t.Fatalf("start reported the old node: %s", stdout)
	}
	if code, _, stderr := runRegtestCLI(t, "regtest", "stop", "--dir", dir); code != exitOK {
		t.Fatalf("stop: exit %d: %s", code, stderr)
	}

	third := start()
	code, stdout, stderr = runRegtestCLI(t, "regtest", "stop", "--dir", dir)
	if code != exitOK || !strings.Contains(stdout, "stopped") || strings.Contains(stdout, "not running") {
		t.Fatalf("stop of an unanswering node: exit %d: %q %s", code, stdout, stderr)
	}
	stopped("stop", third)
	if _, err := os.Stat(statePath); !os.IsNotExist(err) {
		t.Fatalf("state file left after stop: %v", err)
	}
}

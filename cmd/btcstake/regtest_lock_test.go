package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/btcstake/btcstake/regtest"
)

// nodesIn returns the pids of the live processes whose command line names
// a path inside dir+"/node" (the regtest nodes of that --dir), from
// /proc; zombies are not counted.
func nodesIn(t *testing.T, dir string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("this test lists processes in /proc: %v", err)
	}
	marker := filepath.Join(dir, "node")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(cmdline, []byte(marker)) {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if i := bytes.LastIndexByte(stat, ')'); err == nil && i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// TestRegtestConcurrentStarts: "regtest start" locks its --dir. Several
// starts at once, each its own process, leave exactly one node: one start
// succeeds, every other exits 1 naming that node's pid and RPC address;
// the node alone holds the lock once every start has exited, a later start
// reports it too, and "regtest stop" leaves no node process behind and the
// directory free. (Before the lock, all three started, and stop reached
// one node while the others ran on in deleted directories.)
func TestRegtestConcurrentStarts(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "btcstake")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	t.Cleanup(func() {
		for _, pid := range nodesIn(t, dir) {
			t.Errorf("node %d left running; killing it", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL) // a node this test started
		}
	})
	cli := func(args ...string) (int, string, string) {
		cmd := exec.Command(bin, append([]string{"regtest"}, append(args, "--network", "regtest", "--dir", dir)...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			return exit.ExitCode(), out.String(), errb.String()
		case err != nil:
			t.Fatal(err)
		}
		return 0, out.String(), errb.String()
	}

	const starts = 3
	type result struct {
		code        int
		out, errOut string
	}
	results := make([]result, starts)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, out, errOut := cli("start", "--blocks", "1", "--json")
			results[i] = result{code, out, errOut}
		}()
	}
	wg.Wait()
	var started *regtestStartJSON
	for _, r := range results {
		if r.code == exitOK {
			if started != nil {
				t.Fatalf("two starts succeeded in one directory:\n%s\n%s", started.RPCHost, r.out)
			}
			started = new(regtestStartJSON)
			if err := json.Unmarshal([]byte(r.out), started); err != nil {
				t.Fatalf("start --json: %v: %q", err, r.out)
			}
		}
	}
	if started == nil {
		t.Fatalf("no start succeeded: %+v", results)
	}
	for _, r := range results {
		if r.code == exitOK {
			continue
		}
		if r.code != exitError || r.out != "" || strings.Count(r.errOut, "\n") != 1 || !strings.Contains(r.errOut, "already running") ||
			!strings.Contains(r.errOut, "pid "+strconv.Itoa(started.Pid)) || !strings.Contains(r.errOut, started.RPCHost) {
			t.Fatalf("a second start: exit %d %q %q; want exit 1 naming pid %d and %s", r.code, r.out, r.errOut, started.Pid, started.RPCHost)
		}
	}
	if fi, err := os.Stat(started.ConfFile); err != nil || fi.Mode().Perm() != 0o600 || filepath.Dir(started.ConfFile) != started.DataDir {
		t.Fatalf("conf_file %q: %v, %v; want a 0600 file in the data directory", started.ConfFile, fi, err)
	}
	if pids := nodesIn(t, dir); len(pids) != 1 || pids[0] != started.Pid {
		t.Fatalf("node processes %v, want only %d", pids, started.Pid)
	}
	// Every start has exited: the node holds the lock.
	_, err := regtest.LockDir(dir)
	var inUse *regtest.DirInUseError
	if !errors.As(err, &inUse) || inUse.Node != started.Pid || inUse.Starting {
		t.Fatalf("the directory's lock after the starts: %v", err)
	}
	if code, out, errOut := cli("start"); code != exitError || out != "" || !strings.Contains(errOut, "pid "+strconv.Itoa(started.Pid)) {
		t.Fatalf("a later start: exit %d %q %q", code, out, errOut)
	}

	if code, _, errOut := cli("stop"); code != exitOK {
		t.Fatalf("stop: exit %d %q", code, errOut)
	}
	if pids := nodesIn(t, dir); len(pids) != 0 {
		t.Fatalf("node processes %v after stop", pids)
	}
	l, err := regtest.LockDir(dir)
	if err != nil {
		t.Fatalf("the directory after stop: %v", err)
	}
	l.Close()
	if _, err := os.Stat(filepath.Join(dir, "state.json")); !os.IsNotExist(err) {
		t.Fatalf("state after stop: %v", err)
	}

	// The directory serves again; the way to connect that start prints
	// reads the password from the config file, not a command line.
	code, out, errOut := cli("start", "--blocks", "1")
	if code != exitOK {
		t.Fatalf("start after stop: exit %d %q", code, errOut)
	}
	st, err := regtest.LoadState(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var connect string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "connect: ") {
			connect = line
		}
	}
	if !strings.Contains(connect, "-C "+st.Conf+" ") || strings.Contains(connect, st.RPC.Pass) {
		t.Fatalf("connect line %q: want the config file %s and no password", connect, st.Conf)
	}
	if code, _, errOut := cli("stop"); code != exitOK || len(nodesIn(t, dir)) != 0 {
		t.Fatalf("second stop: exit %d %q", code, errOut)
	}
}

// TestRegtestStartKeepsForeignNodeDir: "regtest start" clears --dir/node
// to begin afresh; when that directory (or file) is not one a regtest node
// made, such as a project's "node" directory in the --dir a user gave,
// start refuses (exit 2, naming what it would delete) and deletes nothing,
// before any node is built or started. It used to delete it silently.
func TestRegtestStartKeepsForeignNodeDir(t *testing.T) {
	isolate(t)
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"a project directory", func(t *testing.T, dir string) {
			os.MkdirAll(filepath.Join(dir, "node", "data"), 0o755)
			os.WriteFile(filepath.Join(dir, "node", "package.json"), []byte("{}\n"), 0o644)
		}, "holds package.json"},
		{"a file", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "node"), []byte("notes\n"), 0o644)
		}, "is not a directory a regtest node made"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.setup(t, dir)
			before := dirSnapshot(t, filepath.Join(dir, "node"))
			code, out, errOut := runCLI(t, "regtest", "start", "--dir", dir)
			if code != 2 || out != "" || !strings.Contains(errOut, "--dir") || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
				t.Fatalf("exit %d %q %q", code, out, errOut)
			}
			after := dirSnapshot(t, filepath.Join(dir, "node"))
			if len(before) != len(after) {
				t.Fatalf("the node directory changed: %v -> %v", before, after)
			}
			for k, v := range before {
				if after[k] != v {
					t.Fatalf("%s changed", k)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "state.json")); err == nil {
				t.Fatal("a state file was written")
			}
		})
	}
}

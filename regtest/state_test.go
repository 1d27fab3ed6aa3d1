//go:build unix

package regtest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadStateStrict: the state file is read like every file the project
// is handed (bounded, regular, owner-only: it holds the mining key) and
// decoded strictly (no field twice, nothing after the object, no unknown
// field). None of these needs a node.
func TestLoadStateStrict(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "state.json")
	st := State{Kind: Btcd, Pid: 4242, RPC: RPCInfo{Host: "127.0.0.1:18443", User: "u", Pass: "rpc-secret"},
		Dir: dir, MiningKey: Secret(bytes.Repeat([]byte{7}, 32)), Started: time.Unix(1700000000, 0).UTC()}
	if err := SaveState(good, st); err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(good)
	if err != nil || got.Pid != st.Pid || got.RPC != st.RPC || !bytes.Equal(got.MiningKey, st.MiningKey) || !got.Started.Equal(st.Started) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	raw, _ := os.ReadFile(good)
	put := func(name string, b []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		return p
	}
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path, want string
	}{
		{"pid twice", put("twice.json", bytes.Replace(raw, []byte(`"pid": 4242,`), []byte(`"pid": 4242, "pid": 1,`), 1), 0o600), `"pid" given twice in $`},
		{"rpc host twice", put("host.json", bytes.Replace(raw, []byte(`"host": "127.0.0.1:18443",`), []byte(`"host": "127.0.0.1:18443", "Host": "10.0.0.1:1",`), 1), 0o600), `in $.rpc`},
		{"data after", put("trail.json", append(bytes.Clone(raw), "{}"...), 0o600), "data after the JSON value"},
		{"unknown field", put("unknown.json", bytes.Replace(raw, []byte(`"pid"`), []byte(`"colour": 1, "pid"`), 1), 0o600), `"colour"`},
		{"group-readable", put("group.json", raw, 0o640), "chmod 600"},
		{"too large", put("big.json", bytes.Repeat([]byte(" "), maxStateSize+1), 0o600), "larger than 64 KiB"},
		{"a named pipe", fifo, "named pipe"},
		{"a device", "/dev/zero", "character device"},
		{"a directory", dir, "directory"},
		{"missing", filepath.Join(dir, "none.json"), "is a node running?"},
	} {
		start := time.Now()
		_, err := LoadState(c.path)
		if !errors.Is(err, ErrState) || !strings.Contains(err.Error(), c.want) || time.Since(start) > 2*time.Second {
			t.Errorf("%s: %v, want ErrState with %q", c.name, err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), "rpc-secret") || strings.Contains(err.Error(), "0707070707")) {
			t.Errorf("%s: a secret in the error", c.name)
		}
	}
}

package regtest

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestRPCPasswordOffCommandLine: the node the harness starts (btcd, or
// bitcoind with BTCSTAKE_NODE=bitcoind) gets its RPC password from a 0600
// config file: the password is nowhere in the process's command line,
// which any user can read in /proc/PID/cmdline, and the node answers it.
func TestRPCPasswordOffCommandLine(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Fatalf("this test reads /proc/PID/cmdline: %v", err)
	}
	n := NewTestNode(t, Options{InitialBlocks: -1})
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(n.Pid()) + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	args := strings.ReplaceAll(string(cmdline), "\x00", " ")
	if !strings.Contains(args, n.Dir()) {
		t.Fatalf("read the command line of another process: %s", args)
	}
	pass := n.RPC().Pass
	if len(pass) < 16 || strings.Contains(args, pass) {
		t.Fatalf("the RPC password (%d chars) is on the node's command line: %s", len(pass), args)
	}
	if strings.Contains(args, "rpcpass") {
		t.Fatalf("an RPC password flag is on the node's command line: %s", args)
	}
	fi, err := os.Stat(n.confPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file %s: %v, %v; want mode 0600", n.confPath, fi, err)
	}
	conf, err := os.ReadFile(n.confPath)
	if err != nil || !strings.Contains(string(conf), pass) {
		t.Fatalf("the config file does not hold the password: %v", err)
	}
	// The node took the password from the file: it answers it.
	if _, err := n.Height(); err != nil {
		t.Fatal(err)
	}
}

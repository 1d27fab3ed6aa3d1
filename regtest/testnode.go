package regtest

import (
	"context"
	"time"
)

// TB is the part of testing.TB the test helper needs (so this package does
// not import "testing"); *testing.T and *testing.B satisfy it.
type TB interface {
	Helper()
	TempDir() string
	Cleanup(func())
	Failed() bool
	Logf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// NewTestNode starts a node for a test: its directory is t.TempDir() unless
// opts.Dir is set, it is stopped by t.Cleanup, and when the test fails the
// tail of the node's log is printed. A node that cannot start fails the
// test (with the log tail). The first run may build btcd (about 30 s).
func NewTestNode(t TB, opts Options) *Node {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	timeout := 3 * time.Minute // includes a first-time btcd build
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	n, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("starting the regtest node: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log %s (last 40 lines):\n%s", n.Kind(), n.LogPath(), n.LogTail(40))
		}
		if err := n.Stop(); err != nil {
			t.Logf("stopping the regtest node: %v", err)
		}
	})
	return n
}

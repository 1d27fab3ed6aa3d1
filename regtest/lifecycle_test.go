package regtest

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
)

// TestStopIdempotent: Stop ends the process, removes a directory Start
// created, can be called again, and later calls fail with ErrStopped.
func TestStopIdempotent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, err := Start(ctx, Options{InitialBlocks: -1, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	if h, err := n.Height(); err != nil || h != 0 {
		t.Fatalf("height %d, %v; want 0 with InitialBlocks < 0", h, err)
	}
	if !processAlive(n.Pid()) {
		t.Fatal("node process not alive")
	}
	dir := n.Dir()
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	if processAlive(n.Pid()) {
		t.Fatal("node process still alive after Stop")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("temporary directory %s not removed: %v", dir, err)
	}
	if err := n.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := n.Height(); !errors.Is(err, ErrStopped) {
		t.Fatalf("Height after Stop: %v, want ErrStopped", err)
	}
	if _, _, err := n.Fund([]byte{0x51}, 1000); !errors.Is(err, ErrStopped) {
		t.Fatalf("Fund after Stop: %v, want ErrStopped", err)
	}
}

// TestStartFailures: bad binaries and kinds fail with the right kind and
// leave nothing behind.
func TestStartFailures(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if _, err := Start(ctx, Options{Kind: "litecoind"}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("unknown kind: %v", err)
	}
	dir := t.TempDir()
	_, err := Start(ctx, Options{Dir: dir, Binary: filepath.Join(dir, "no-such-btcd")})
	if !errors.Is(err, ErrStart) {
		t.Fatalf("missing binary: %v, want ErrStart", err)
	}
	// A program that exits at once: the start fails fast (no waiting for
	// the timeout) and names the log.
	exit := filepath.Join(dir, "exits")
	if err := os.WriteFile(exit, []byte("#!/bin/sh\necho 'fatal: cannot start' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	_, err = Start(ctx, Options{Dir: dir, Binary: exit})
	if !errors.Is(err, ErrStart) {
		t.Fatalf("exiting binary: %v, want ErrStart", err)
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Fatalf("exiting binary detected after %v", d)
	}
	if !strings.Contains(err.Error(), "fatal: cannot start") || !strings.Contains(err.Error(), "node.log") {
		t.Fatalf("error does not show the log: %v", err)
	}
	// A program that never answers RPC: StartTimeout bounds the wait.
	hang := filepath.Join(dir, "hangs")
	if err := os.WriteFile(hang, []byte("#!/bin/sh\necho 'loading block index' >&2\nexec sleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = Start(ctx, Options{Dir: dir, Binary: hang, StartTimeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrStart) {
		t.Fatalf("silent binary: %v, want ErrStart", err)
	}
	// The timeout also shows the log's last lines: a test's directory is
	// gone by the time anyone could read node.log.
	if !strings.Contains(err.Error(), "loading block index") {
		t.Fatalf("start timeout does not show the log: %v", err)
	}

	t.Setenv(EnvBtcd, filepath.Join(dir, "nope"))
	if _, err := Start(ctx, Options{Dir: dir}); !errors.Is(err, ErrBuild) {
		t.Fatalf("%s pointing nowhere: %v, want ErrBuild", EnvBtcd, err)
	}
	t.Setenv(EnvBtcd, "")
	t.Setenv(EnvNode, "bitcoind")
	t.Setenv("PATH", dir) // no bitcoind here
	if _, err := Start(ctx, Options{Dir: dir}); !errors.Is(err, ErrBuild) {
		t.Fatalf("bitcoind not on PATH: %v, want ErrBuild", err)
	}
}

// TestInvalidArguments: bad inputs are ErrInvalidArgument, not panics.
func TestInvalidArguments(t *testing.T) {
	n := NewTestNode(t, Options{InitialBlocks: -1})
	if _, err := n.Mine(0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Mine(0): %v", err)
	}
	if _, err := n.Broadcast(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Broadcast(nil): %v", err)
	}
	if err := n.TestMempoolAccept(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("TestMempoolAccept(nil): %v", err)
	}
	if _, _, err := n.Fund(nil, 1000); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Fund(nil script): %v", err)
	}
	if _, _, err := n.Fund([]byte{0x51}, -1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Fund(-1): %v", err)
	}
	if _, err := n.FundOutputs(); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("FundOutputs(): %v", err)
	}
	if err := n.ScanBlocks(5, 1, func(int32, *wire.MsgBlock) error { return nil }); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("ScanBlocks(5, 1): %v", err)
	}
	// No mature coins yet: a clear error, not a broadcast of nonsense.
	if _, _, err := n.Fund([]byte{0x51}, 1000); !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("Fund without mature coins: %v", err)
	}
	if _, err := n.Mine(100); err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Fund([]byte{0x51}, 100e8); !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("Fund beyond the balance: %v", err)
	}
}

// TestAttach: a second handle from the saved State sees the chain, funds
// from the same key after the first handle's unconfirmed payments, and
// stops the node.
func TestAttach(t *testing.T) {
	n := NewTestNode(t, Options{})
	path := filepath.Join(t.TempDir(), "state", "node.json")
	st := n.State()
	if err := SaveState(path, st); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	got, err := LoadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.MiningKey) != string(st.MiningKey) || got.RPC != st.RPC || got.Pid != st.Pid {
		t.Fatal("state did not round-trip")
	}

	// The first handle spends a coin without mining; the attached one
	// must not pick it again.
	op1, _, err := n.Fund([]byte{0x51, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := Attach(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	spendable1, _, _ := n.Balance()
	spendable2, _, _ := a.Balance()
	if spendable1 != spendable2 {
		t.Fatalf("balances differ: %d vs %d", spendable1, spendable2)
	}
	op2, _, err := a.Fund([]byte{0x51, 0x20, 9, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}, 20_000)
	if err != nil {
		t.Fatal(err)
	}
	// And the first handle recovers from the coin the second one took.
	op3, _, err := n.Fund([]byte{0x51, 0x20, 8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}, 30_000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Mine(1); err != nil {
		t.Fatal(err)
	}
	for _, op := range []wire.OutPoint{op1, op2, op3} {
		if c, err := n.Confirmations(op.Hash); err != nil || c != 1 {
			t.Fatalf("%v: confirmations %d, %v", op, c, err)
		}
	}

	bad := got
	bad.MiningKey = Secret(make([]byte, 31))
	if _, err := Attach(ctx, bad); !errors.Is(err, ErrState) {
		t.Fatalf("short key: %v", err)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", st, st, st, st.MiningKey); strings.Contains(s, hex.EncodeToString(st.MiningKey)) {
		t.Fatalf("printing State leaks the mining key: %s", s)
	}

	// Stop through the attached handle (as the CLI's stop does).
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	if processAlive(st.Pid) {
		t.Fatal("node still running after Stop through Attach")
	}
	if _, err := Attach(ctx, got); !errors.Is(err, ErrState) {
		t.Fatalf("attach to a stopped node: %v", err)
	}
}

// TestBtcdBinaryBuild builds btcd into an empty cache, inside the module
// (go build) and outside any module (go install btcd@version), with two
// concurrent callers sharing one build.
func TestBtcdBinaryBuild(t *testing.T) {
	if os.Getenv(EnvBtcd) != "" {
		t.Setenv(EnvBtcd, "")
	}
	want := BtcdVersion()
	root := findModuleRoot()
	if root == "" {
		t.Fatal("the test does not run inside the module")
	}
	if v, err := goModVersion(filepath.Join(root, btcdNodeDir, "go.mod")); err != nil || v != pinnedBtcdVersion || want != v {
		t.Fatalf("%s/go.mod pins btcd %s (%v); pinnedBtcdVersion is %s, BtcdVersion %s: keep them equal", btcdNodeDir, v, err, pinnedBtcdVersion, want)
	}
	// The btcd root module must stay out of btcstake's own go.mod: it
	// would enter the module graph of every program importing btcstake.
	if v, err := goModVersion(filepath.Join(root, "go.mod")); err == nil {
		t.Fatalf("go.mod requires the btcd root module (%s); the node is pinned in %s only", v, btcdNodeDir)
	}
	for _, inModule := range []bool{true, false} {
		cache := t.TempDir()
		t.Setenv(EnvCacheDir, cache) // an empty btcd cache, on every platform
		if !inModule {
			t.Chdir(t.TempDir())
			if findModuleRoot() != "" {
				t.Fatal("temp dir is inside the module")
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		var wg sync.WaitGroup
		paths := make([]string, 2)
		errs := make([]error, 2)
		var builds int
		var mu sync.Mutex
		for i := range paths {
			wg.Add(1)
			go func() {
				defer wg.Done()
				paths[i], errs[i] = BtcdBinary(ctx, func(string) { mu.Lock(); builds++; mu.Unlock() })
			}()
		}
		wg.Wait()
		cancel()
		for i := range paths {
			if errs[i] != nil {
				t.Fatalf("inModule=%v: %v", inModule, errs[i])
			}
		}
		if paths[0] != paths[1] || builds != 1 {
			t.Fatalf("inModule=%v: paths %q, %d builds; want one shared build", inModule, paths, builds)
		}
		if !strings.Contains(paths[0], cache) || !strings.Contains(paths[0], want) {
			t.Fatalf("binary %s is not in the cache %s keyed by %s", paths[0], cache, want)
		}
		if err := checkExecutable(paths[0]); err != nil {
			t.Fatal(err)
		}
		leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(paths[0]), ".btcd-*"))
		if len(leftovers) != 0 {
			t.Fatalf("temporary build files left: %v", leftovers)
		}
	}
}

package regtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

const (
	// modulePath is this project's module; the btcd build happens inside
	// its checkout (in btcdNodeDir) when the program runs there.
	modulePath = "github.com/btcstake/btcstake"
	// btcdModule is the module (and main package) of the btcd node.
	btcdModule = "github.com/btcsuite/btcd"
	// EnvBtcd names an environment variable holding the path of a btcd
	// binary to use instead of building one.
	EnvBtcd = "BTCSTAKE_BTCD"
	// EnvNode names an environment variable selecting the node
	// implementation: "btcd" (the default) or "bitcoind".
	EnvNode = "BTCSTAKE_NODE"
	// EnvCacheDir names an environment variable holding the directory for
	// the cached btcd build, instead of <user cache dir>/btcstake (useful
	// for CI caches).
	EnvCacheDir = "BTCSTAKE_CACHE_DIR"
)

// btcdNodeDir is the nested module, relative to the checkout's root, that
// pins the btcd node: a module of its own, so the btcd root module stays
// out of btcstake's module graph (and out of every program importing it).
const btcdNodeDir = "regtest/btcdnode"

// pinnedBtcdVersion is the btcd version regtest/btcdnode/go.mod requires,
// for programs running outside the checkout (where the nested module is
// absent: it is not part of btcstake's module zip). A test keeps the two
// equal.
const pinnedBtcdVersion = "v0.26.2"

// BtcdVersion returns the btcd module version the harness builds: the one
// regtest/btcdnode/go.mod requires when the program runs inside a
// btcstake checkout, else pinnedBtcdVersion.
func BtcdVersion() string {
	if root := findModuleRoot(); root != "" {
		if v, err := goModVersion(filepath.Join(root, btcdNodeDir, "go.mod")); err == nil {
			return v
		}
	}
	return pinnedBtcdVersion
}

// goModVersion reads the required version of btcd from a go.mod file.
func goModVersion(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require "))
		if len(f) >= 2 && f[0] == btcdModule && strings.HasPrefix(f[1], "v") {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("%w: %s does not require %s", ErrBuild, path, btcdModule)
}

// findModuleRoot walks up from the working directory to the directory
// whose go.mod declares this project's module, or returns "".
func findModuleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) == 2 && f[0] == "module" && strings.Trim(f[1], `"`) == modulePath {
					return dir
				}
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// BtcdBinary returns the path of a btcd executable: $BTCSTAKE_BTCD when
// set, otherwise a cached build of the pinned btcd version (under
// $BTCSTAKE_CACHE_DIR, or the user cache directory), building it
// with the Go toolchain on first use. The build runs in the nested module
// regtest/btcdnode when the program runs inside a btcstake checkout (so
// its go.mod/go.sum pin every dependency), else with "go install
// btcd@version" in a scratch directory; either way modules come only
// through the Go module proxy. Builds are atomic (temp
// name, then rename) and serialised by a lock file, so concurrent test
// processes share one build. log, when not nil, receives a line before a
// build starts.
func BtcdBinary(ctx context.Context, log func(string)) (string, error) {
	if p := os.Getenv(EnvBtcd); p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrBuild, EnvBtcd, p, err)
		}
		return p, nil
	}
	root := findModuleRoot()
	version := BtcdVersion()
	base := os.Getenv(EnvCacheDir)
	if base == "" {
		cache, err := os.UserCacheDir()
		if err != nil || cache == "" {
			cache = os.TempDir()
		}
		base = filepath.Join(cache, "btcstake")
	}
	dir := filepath.Join(base, "btcd-"+version+"-"+runtime.GOOS+"-"+runtime.GOARCH)
	exe := "btcd"
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	bin := filepath.Join(dir, exe)
	if checkExecutable(bin) == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBuild, err)
	}
	unlock, err := lockFile(filepath.Join(dir, ".lock"))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBuild, err)
	}
	defer unlock()
	if checkExecutable(bin) == nil { // built by another process meanwhile
		return bin, nil
	}
	if log != nil {
		log(fmt.Sprintf("building btcd %s into %s (once; takes about 30 s)", version, dir))
	}
	if err := buildBtcd(ctx, root, version, dir, bin); err != nil {
		return "", err
	}
	return bin, nil
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("is a directory")
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("not executable")
	}
	return nil
}

func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if checkExecutable(p) == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w: the go command is not on PATH; install Go or set %s", ErrBuild, EnvBtcd)
}

func buildBtcd(ctx context.Context, root, version, dir, bin string) error {
	gobin, err := goTool()
	if err != nil {
		return err
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	tmp := filepath.Join(dir, ".btcd-"+hex.EncodeToString(suffix[:]))
	defer func() { _ = os.Remove(tmp) }() // no-op after the rename

	if nodeDir := filepath.Join(root, btcdNodeDir); root != "" && dirExists(nodeDir) {
		// Inside the checkout: the nested module's go.mod and go.sum pin
		// btcd and every dependency.
		cmd := exec.CommandContext(ctx, gobin, "build", "-o", tmp, btcdModule)
		cmd.Dir = nodeDir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%w: go build %s in %s: %v: %s", ErrBuild, btcdModule, nodeDir, err, lastLines(out, 5))
		}
	} else {
		// Elsewhere: go install pkg@version resolves btcd's own go.mod
		// through the module proxy (checked against the checksum DB).
		// The local module cache is tried first as a file:// proxy: it
		// serves modules already downloaded (and verified), so a machine
		// that built btcstake once needs no network.
		scratch, err := os.MkdirTemp("", "btcstake-btcd-build-")
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBuild, err)
		}
		defer os.RemoveAll(scratch)
		var proxies []string
		if p := localModuleProxy(ctx, gobin); p != "" {
			proxies = append(proxies, "GOPROXY="+p)
		}
		proxies = append(proxies, "") // the configured GOPROXY
		var out []byte
		for _, proxy := range proxies {
			cmd := exec.CommandContext(ctx, gobin, "install", btcdModule+"@"+version)
			cmd.Dir = scratch
			cmd.Env = append(os.Environ(), "GOBIN="+scratch, "GOFLAGS=", "GOWORK=off")
			if proxy != "" {
				cmd.Env = append(cmd.Env, proxy)
			}
			if out, err = cmd.CombinedOutput(); err == nil {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("%w: go install %s@%s: %v: %s", ErrBuild, btcdModule, version, err, lastLines(out, 5))
		}
		if err := copyFile(filepath.Join(scratch, filepath.Base(bin)), tmp); err != nil {
			return fmt.Errorf("%w: %v", ErrBuild, err)
		}
	}
	if err := os.Rename(tmp, bin); err != nil {
		return fmt.Errorf("%w: %v", ErrBuild, err)
	}
	return nil
}

// localModuleProxy returns the module download cache as a file:// GOPROXY
// URL, or "" if there is none.
func localModuleProxy(ctx context.Context, gobin string) string {
	out, err := exec.CommandContext(ctx, gobin, "env", "GOMODCACHE").Output()
	if err != nil {
		return ""
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "cache", "download")
	if !dirExists(dir) {
		return ""
	}
	u := filepath.ToSlash(dir)
	if !strings.HasPrefix(u, "/") {
		u = "/" + u // file:///C:/...
	}
	return "file://" + u
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o755)
}

// lastLines returns the last n non-empty lines of out joined with " | ".
func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

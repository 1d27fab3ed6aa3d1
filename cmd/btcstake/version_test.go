package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestBuildVersion: the version fields come from the build information the
// go command records (parsed here from its text form, as "go version -m"
// prints it; ParseBuildInfo leaves the Go version to the caller).
func TestBuildVersion(t *testing.T) {
	const stamped = "path\tgithub.com/btcstake/btcstake/cmd/btcstake\n" +
		"mod\tgithub.com/btcstake/btcstake\t(devel)\t\n" +
		"build\tvcs=git\nbuild\tvcs.revision=aa20459bf2702f38c9cc9e9c88fa085fcce737bb\n" +
		"build\tvcs.time=2026-12-02T14:06:27Z\nbuild\tvcs.modified=true\n"
	const released = "path\tgithub.com/btcstake/btcstake/cmd/btcstake\n" +
		"mod\tgithub.com/btcstake/btcstake\tv1.2.3\th1:abc=\n"
	for _, c := range []struct {
		name, info string
		ok         bool
		want       versionJSON
		text       string
	}{
		{"checkout", stamped, true, versionJSON{Module: "github.com/btcstake/btcstake", Version: "(devel)",
			Commit: "aa20459bf2702f38c9cc9e9c88fa085fcce737bb", CommitTime: "2026-12-02T14:06:27Z", Modified: true, GoVersion: "go1.26.8"},
			"btcstake (devel) commit aa20459bf270 (modified), 2026-12-02T14:06:27Z, built with go1.26.8"},
		{"go install @v1.2.3", released, true, versionJSON{Module: "github.com/btcstake/btcstake", Version: "v1.2.3", GoVersion: "go1.26.8"},
			"btcstake v1.2.3, built with go1.26.8"},
		{"no build info", "", false, versionJSON{Module: "github.com/btcstake/btcstake", Version: "unknown"}, "btcstake unknown"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var bi *debug.BuildInfo
			if c.ok {
				var err error
				if bi, err = debug.ParseBuildInfo(c.info); err != nil {
					t.Fatal(err)
				}
				bi.GoVersion = "go1.26.8"
			}
			got := buildVersion(bi, c.ok)
			if got != c.want || got.String() != c.text {
				t.Fatalf("got %+v %q\nwant %+v %q", got, got.String(), c.want, c.text)
			}
		})
	}
}

// TestVersionCommand: "btcstake --version" and "btcstake version" print the
// same line; --json gives the object, with the Go version the test runs on.
func TestVersionCommand(t *testing.T) {
	_, flag, _ := runCLI(t, "--version")
	code, cmd, errOut := runCLI(t, "version")
	if code != 0 || flag != cmd || !strings.HasPrefix(cmd, "btcstake ") || strings.Count(cmd, "\n") != 1 {
		t.Fatalf("--version %q, version %q (exit %d, %q)", flag, cmd, code, errOut)
	}
	for _, args := range [][]string{{"version", "--json"}, {"--version", "--json"}} {
		var v versionJSON
		code, out, _ := runCLI(t, args...)
		if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.GoVersion != runtime.Version() || v.Version == "" ||
			v.Module != "github.com/btcstake/btcstake" {
			t.Fatalf("%v: exit %d %q", args, code, out)
		}
	}
	if code, _, errOut := runCLI(t, "version", "extra"); code != exitUsage {
		t.Fatalf("version extra: exit %d %q", code, errOut)
	}
}

// TestVersionOfBuiltBinary builds btcstake from a clone of this checkout's
// commit with VCS stamping on and checks that "version --json" names that
// commit, clean (the go command derives a pseudo-version ending in the
// commit), then modified after a change to a tracked file ("+dirty"). git
// is the oracle.
func TestVersionOfBuiltBinary(t *testing.T) {
	src := sourceRepo(t)
	dir := filepath.Join(t.TempDir(), "src")
	git := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("git", "clone", "--quiet", "--no-hardlinks", src, dir).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	commit := git("rev-parse", "HEAD")
	version := func() versionJSON {
		t.Helper()
		bin := filepath.Join(t.TempDir(), "btcstake")
		build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/btcstake")
		build.Dir = dir
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		out, err := exec.Command(bin, "version", "--json").Output()
		if err != nil {
			t.Fatal(err)
		}
		var v versionJSON
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return v
	}
	if v := version(); v.Commit != commit || v.Modified || v.CommitTime == "" ||
		(v.Version != "(devel)" && !strings.HasSuffix(v.Version, "-"+commit[:12])) {
		t.Fatalf("clean build of %s: %+v", commit, v)
	}
	readme := filepath.Join(dir, "README.md")
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(readme, append(b, "\nchanged\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if git("status", "--porcelain") == "" {
		t.Fatal("the change is not visible to git")
	}
	if v := version(); v.Commit != commit || !v.Modified || (v.Version != "(devel)" && !strings.HasSuffix(v.Version, "+dirty")) {
		t.Fatalf("modified build of %s: %+v", commit, v)
	}
}

// sourceRepo returns a git repository holding this module: the checkout
// the test runs in, or, when the source is not in one (an unpacked
// archive), a fresh repository made from a copy of the module tree, so
// the test runs either way instead of being skipped.
func sourceRepo(t *testing.T) string {
	t.Helper()
	if top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output(); err == nil {
		return strings.TrimSpace(string(top))
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(t.TempDir(), "repo")
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(repo, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(repo, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "--quiet"}, {"add", "-A"},
		{"-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "--quiet", "-m", "source"}} {
		if out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return repo
}

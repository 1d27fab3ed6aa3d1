package main

// btcstake version (and btcstake --version): which build this is.

import (
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func init() { register(newVersionCmd) }

// versionJSON is what "btcstake version --json" prints. Commit, CommitTime
// and Modified come from the VCS stamp the go command records when it
// builds from a checkout (go build -buildvcs, the default); a build
// without one (go install module@version, go run, -buildvcs=false) leaves
// them empty.
type versionJSON struct {
	Module     string `json:"module"`
	Version    string `json:"version"` // module version: "v1.2.3"; from a checkout a pseudo-version ("+dirty" if modified) or "(devel)"
	Commit     string `json:"commit,omitempty"`
	CommitTime string `json:"commit_time,omitempty"`
	Modified   bool   `json:"modified"` // the checkout had uncommitted changes
	GoVersion  string `json:"go_version"`
}

// buildVersion reads the version out of a binary's build information
// (debug.ReadBuildInfo); ok false (a binary built without module support)
// gives version "unknown".
func buildVersion(bi *debug.BuildInfo, ok bool) versionJSON {
	v := versionJSON{Module: "github.com/btcstake/btcstake", Version: "unknown"}
	if !ok || bi == nil {
		return v
	}
	v.GoVersion = bi.GoVersion
	if bi.Main.Path != "" {
		v.Module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.CommitTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String is the one-line text form: "btcstake v1.2.3", or for a build
// from a checkout "btcstake v0.0.0-20260102030405-1a2b3c4d5e6f+dirty commit
// 1a2b3c4d5e6f (modified), 2026-01-02T03:04:05Z", then the Go version.
func (v versionJSON) String() string {
	var b strings.Builder
	b.WriteString("btcstake " + v.Version)
	if v.Commit != "" {
		b.WriteString(" commit " + v.Commit[:min(12, len(v.Commit))])
		if v.Modified {
			b.WriteString(" (modified)")
		}
		if v.CommitTime != "" {
			b.WriteString(", " + v.CommitTime)
		}
	}
	if v.GoVersion != "" {
		b.WriteString(", built with " + v.GoVersion)
	}
	return b.String()
}

func (a *app) printVersion() error {
	v := buildVersion(debug.ReadBuildInfo())
	if a.json {
		return a.printJSON(v)
	}
	a.printf("%s\n", v)
	return nil
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and commit of this build",
		Long: `Prints the module version (a release tag; for a build from a checkout the
pseudo-version the go command derives from the commit, with +dirty when the
checkout had changes, or "(devel)" when it could not tell), the commit and
whether the checkout was modified (as the go command stamps them), and the
Go version. "btcstake --version" prints the same.`,
		Example: `  btcstake version
  btcstake v0.0.0-20260102030405-1a2b3c4d5e6f commit 1a2b3c4d5e6f, 2026-01-02T03:04:05Z, built with go1.26.8
  btcstake version --json | jq -r .commit`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return a.printVersion() },
	}
}

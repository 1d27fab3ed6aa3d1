//go:build unix

package params

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRepeatedKeysRefused is issue 15's defect 5: a params file giving
// unbonding_time_blocks twice used to build with the last value, silently.
// Now every params document, in every format, is refused when any object
// in it repeats a key (also one differing only in case, which
// encoding/json would fill into the same field), or when anything follows
// the document; the error names the key.
func TestRepeatedKeysRefused(t *testing.T) {
	own := string(RegtestExampleJSON())
	if !strings.Contains(own, `"unbonding_time_blocks": 10,`) {
		t.Fatal("the regtest example changed shape; update the test")
	}
	babylon, err := os.ReadFile(filepath.Join("testdata", "bbn-1-params-versions.json"))
	if err != nil {
		t.Fatal(err)
	}
	twice := strings.Replace(own, `"unbonding_time_blocks": 10,`, `"unbonding_time_blocks": 10, "unbonding_time_blocks": 20,`, 1)
	caseTwice := strings.Replace(own, `"unbonding_time_blocks": 10,`, `"unbonding_time_blocks": 10, "Unbonding_Time_Blocks": 20,`, 1)
	// Version 3 of Babylon's list gives its unbonding time twice.
	v3 := strings.Index(string(babylon), `{"version":3,`)
	at := v3 + strings.Index(string(babylon[v3:]), `"unbonding_time_blocks":1008,`)
	nested := string(babylon[:at]) + `"unbonding_time_blocks":1008,"unbonding_time_blocks":5,` + string(babylon[at+len(`"unbonding_time_blocks":1008,`):])

	for _, c := range []struct {
		name, doc string
		parse     bool // also through Parse (the project's own format)
		want      string
	}{
		{"own format, a key twice", twice, true, `"unbonding_time_blocks" given twice in $`},
		{"own format, a key twice in two cases", caseTwice, true, `"unbonding_time_blocks" and "Unbonding_Time_Blocks" are the same key`},
		{"Babylon's versions, a key twice in version 3", nested, false, `"unbonding_time_blocks" given twice in $.params[3].params`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseVersions([]byte(c.doc))
			wantKind(t, err, ErrInvalidParams)
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ParseVersions: %v, want %q", err, c.want)
			}
			if c.parse {
				_, err := Parse([]byte(c.doc))
				wantKind(t, err, ErrInvalidParams)
				if !strings.Contains(err.Error(), c.want) {
					t.Fatalf("Parse: %v, want %q", err, c.want)
				}
			}
		})
	}
	// The unmodified documents still load: the refusal is the repetition.
	if _, err := ParseVersions(babylon); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse([]byte(own)); err != nil {
		t.Fatal(err)
	}
	// Data after the document.
	for _, tail := range []string{`{"unbonding_time_blocks": 20}`, "garbage", "]"} {
		_, err := Parse([]byte(own + tail))
		wantKind(t, err, ErrInvalidParams)
		_, err = ParseVersions([]byte(own + tail))
		wantKind(t, err, ErrUnknownFormat)
		if !strings.Contains(err.Error(), "data after the JSON value") {
			t.Fatalf("trailing %q: %v", tail, err)
		}
	}
}

// TestLoadRefusesNonRegularFiles: /dev/zero, a named pipe and a directory
// are refused at once, by Load and LoadVersions alike.
func TestLoadRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "params.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/dev/zero", fifo, dir} {
		for name, load := range map[string]func(string) error{
			"Load":         func(p string) error { _, err := Load(p); return err },
			"LoadVersions": func(p string) error { _, err := LoadVersions(p); return err },
		} {
			start := time.Now()
			err := load(p)
			wantKind(t, err, ErrInvalidParams)
			if !strings.Contains(err.Error(), "not a regular file") || time.Since(start) > 2*time.Second {
				t.Errorf("%s(%s): %v after %v", name, p, err, time.Since(start))
			}
		}
	}
}

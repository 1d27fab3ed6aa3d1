//go:build unix

package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/btcstake/btcstake/keystore"
)

// TestOutputModes: a file holding no secret gets 0666 less the umask, as
// the shell's ">" would make it; a keystore 0600 whatever the umask. With
// --force an existing file (not an input, not a key) is replaced.
func TestOutputModes(t *testing.T) {
	w := newTxWorld(t)
	stHex := txHex(w.stake(t))
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	out := filepath.Join(w.dir, "unbond-umask.psbt")
	args := append(append([]string{"unbond", "--json"}, w.delegationArgs()...), "--staking-tx", stHex, "--out", out)
	j := mustJSON[psbtJSON](t, mustRun(t, args...))
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("--out mode %v (%v), want 0640 under umask 027", fi.Mode().Perm(), err)
	}
	// Again: refused without --force, replaced with it (same content: the
	// same PSBT), the mode from the umask of this run.
	if code, _, errOut := runCLI(t, args...); code != exitUsage || !strings.Contains(errOut, "exists; give --force") {
		t.Fatalf("second write: exit %d %s", code, errOut)
	}
	syscall.Umask(0o022)
	j2 := mustJSON[psbtJSON](t, mustRun(t, append(args, "--force")...))
	b, _ := os.ReadFile(out)
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o644 || j2.PSBT != j.PSBT || strings.TrimSpace(string(b)) != j.PSBT {
		t.Fatalf("--force: mode %v, content %q", fi.Mode().Perm(), b)
	}
	syscall.Umask(0)
	pass := writeKeyText(t, w.dir, "pass.txt", "pw")
	ks := filepath.Join(w.dir, "k.keystore")
	mustRun(t, "key", "import", "--key", ks, "--sk-file", w.stakerFile, "--passphrase-file", pass, "--scrypt-work-factor", "10")
	if fi, err := os.Stat(ks); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keystore mode %v (%v), want 0600 under umask 0", fi.Mode().Perm(), err)
	}
}

// TestImportForceSameKeyOnly: import --force rewrites a keystore of the
// same key (a new passphrase), and nothing else that holds a key.
func TestImportForceSameKeyOnly(t *testing.T) {
	w := newTxWorld(t)
	pass := writeKeyText(t, w.dir, "pass.txt", "first")
	pass2 := writeKeyText(t, w.dir, "pass2.txt", "second")
	ks := filepath.Join(w.dir, "staker.keystore")
	mustRun(t, "key", "import", "--key", ks, "--sk-file", w.stakerFile, "--passphrase-file", pass, "--scrypt-work-factor", "10")
	mustRun(t, "key", "import", "--key", ks, "--sk-file", w.stakerFile, "--passphrase-file", pass2, "--scrypt-work-factor", "10", "--force")
	k, err := keystore.Load(ks, []byte("second"))
	if err != nil || !k.Key.Equals(&w.staker.Key) {
		t.Fatalf("after the new passphrase: %v", err)
	}
	before, _ := os.ReadFile(ks)
	code, _, errOut := runCLI(t, "key", "import", "--key", ks, "--sk-file", w.fpFile, "--passphrase-file", pass, "--scrypt-work-factor", "10", "--force")
	if after, _ := os.ReadFile(ks); code != exitUsage || !strings.Contains(errOut, "not a keystore of this key") || string(after) != string(before) {
		t.Fatalf("another key over the keystore: exit %d %s", code, errOut)
	}
}

// TestStdinIsBoundedAndTimed: "-" reads standard input within
// stdinTimeout and a limit; a writer that never finishes does not hang the
// command, and a secret on standard input has the secret's limit.
func TestStdinIsBoundedAndTimed(t *testing.T) {
	w := newTxWorld(t)
	saved, savedTimeout := stdinSource, stdinTimeout
	t.Cleanup(func() { stdinSource, stdinTimeout = saved, savedTimeout })
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("02000000")) // a start, then silence
	stdinSource, stdinTimeout = pr, 200*time.Millisecond
	start := time.Now()
	code, _, errOut := runCLI(t, "inspect", "--tx", "-")
	if code != exitUsage || !strings.Contains(errOut, "--tx: reading standard input: input did not end in time") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("silent stdin: exit %d %q", code, errOut)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	stdinSource, stdinTimeout = strings.NewReader(strings.Repeat("ab", maxSecretFileSize)), time.Second
	pass := writeKeyText(t, w.dir, "pass.txt", "pw")
	code, _, errOut = runCLI(t, "key", "import", "--key", filepath.Join(w.dir, "k.keystore"), "--sk-file", "-", "--passphrase-file", pass)
	if code != exitUsage || !strings.Contains(errOut, "--sk-file: reading standard input: larger than the limit") {
		t.Fatalf("long secret on stdin: exit %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(w.dir, "k.keystore")); err == nil {
		t.Fatal("a keystore was written")
	}
}

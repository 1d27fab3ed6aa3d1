//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns a pseudo-terminal pair (Linux /dev/ptmx).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal available: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestPassphrasePrompt unlocks through the terminal prompt: keygen asks
// twice, show needs nothing, export asks once; a mismatch is refused.
func TestPassphrasePrompt(t *testing.T) {
	_, key, _ := signerEnv(t)
	master, slave := openPTY(t)
	saved := os.Stdin
	os.Stdin = slave
	defer func() { os.Stdin = saved }()

	if _, err := master.WriteString("s3cret words\ns3cret words\n"); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, "eots", "keygen", "--key", key, "--scrypt-work-factor", "10", "--json")
	if code != 0 {
		t.Fatalf("keygen via prompt: %d %q", code, errOut)
	}
	if !strings.Contains(errOut, "keystore passphrase:") || !strings.Contains(errOut, "again:") {
		t.Fatalf("no prompt on stderr: %q", errOut)
	}
	var k keyJSON
	if json.Unmarshal([]byte(out), &k) != nil || len(k.PublicKey) != 64 {
		t.Fatalf("keygen output %q", out)
	}
	master.WriteString("s3cret words\n")
	code, out, errOut = cli(t, "eots", "export", "--key", key, "--show-secret")
	if code != 0 || len(strings.TrimSpace(out)) != 64 {
		t.Fatalf("export via prompt: %d %q %q", code, out, errOut)
	}
	// Mismatched confirmation: refused, nothing written.
	other := filepath.Join(filepath.Dir(key), "other.key")
	master.WriteString("one\ntwo\n")
	if code, _, errOut := cli(t, "eots", "keygen", "--key", other, "--scrypt-work-factor", "10"); code != 2 || !strings.Contains(errOut, "differ") {
		t.Fatalf("mismatch: %d %q", code, errOut)
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Fatal("keystore written despite mismatched passphrases")
	}
}

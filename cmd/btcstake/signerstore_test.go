package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// signerKeystore imports the worked example's EOTS key into a fast
// keystore and returns the directory, keystore and passphrase file.
func signerKeystore(t *testing.T) (dir, key, pass string) {
	t.Helper()
	dir, key, pass = signerEnv(t)
	skFile := filepath.Join(dir, "sk.hex")
	os.WriteFile(skFile, []byte(exEotsSK+"\n"), 0o600)
	if code, _, errOut := cli(t, "eots", "import", "--key", key, "--sk-file", skFile, "--passphrase-file", pass, "--scrypt-work-factor", "10"); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	os.Remove(skFile)
	return dir, key, pass
}

// dirNames lists a directory.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestEotsSignValidatesFirst: eots sign and sign-batch check --chain-id and
// the messages before they unlock the key or create the store: a bad value
// is a usage error naming its flag and leaves no store (nor mark) behind.
// "eots sign --create-db" used to create the store and only then refuse a
// chain ID longer than the signer takes.
func TestEotsSignValidatesFirst(t *testing.T) {
	dir, key, pass := signerKeystore(t)
	db := filepath.Join(dir, "records.db")
	before := dirNames(t, dir)
	batch := filepath.Join(t.TempDir(), "batch.txt")
	os.WriteFile(batch, []byte("100 "+exEotsM1+"\n"), 0o600)
	bigBatch := filepath.Join(t.TempDir(), "big.txt")
	os.WriteFile(bigBatch, []byte("100 "+strings.Repeat("ab", 1<<16+1)+"\n"), 0o600)
	sign := func(chain string, extra ...string) []string {
		return append([]string{"eots", "sign", "--key", key, "--db", db, "--create-db", "--chain-id", chain, "--passphrase-file", pass, "--height", "100"}, extra...)
	}
	cases := []struct {
		name string
		args []string
		flag string
	}{
		{"chain ID too long", sign(strings.Repeat("c", 257), "--msg", exEotsM1), "--chain-id"},
		{"empty chain ID", sign("", "--msg", exEotsM1), "--chain-id"},
		{"chain ID with a space", sign("bbn test", "--msg", exEotsM1), "--chain-id"},
		{"chain ID with a control character", sign("bbn\x01", "--msg", exEotsM1), "--chain-id"},
		{"chain ID not UTF-8", sign("bbn-\xff", "--msg", exEotsM1), "--chain-id"},
		{"message too long", sign("bbn-test-5", "--msg", strings.Repeat("ab", 1<<16+1)), "--msg"},
		{"sign-batch: chain ID too long", []string{"eots", "sign-batch", "--key", key, "--db", db, "--create-db", "--chain-id", strings.Repeat("c", 300), "--passphrase-file", pass, "--input", batch}, "--chain-id"},
		{"sign-batch: message too long", []string{"eots", "sign-batch", "--key", key, "--db", db, "--create-db", "--chain-id", "c", "--passphrase-file", pass, "--input", bigBatch}, "--input"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := cli(t, c.args...)
			if code != exitUsage || out != "" || !strings.Contains(errOut, c.flag) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			if got := dirNames(t, dir); strings.Join(got, " ") != strings.Join(before, " ") {
				t.Fatalf("the directory changed: %v, was %v", got, before)
			}
		})
	}
	// The longest chain ID the signer takes works.
	if code, _, errOut := cli(t, sign(strings.Repeat("c", 256), "--msg", exEotsM1)...); code != 0 {
		t.Fatalf("256-byte chain ID: %s", errOut)
	}
}

// TestEotsCheckAndRepair: a store put back to an older state (as a lost
// write leaves it) is refused by sign, reported by check, listed by
// records with a warning, and after "repair --highest-signed --yes" signs
// again above the floor and never at the lost height.
func TestEotsCheckAndRepair(t *testing.T) {
	dir, key, pass := signerKeystore(t)
	db := filepath.Join(dir, "records.db")
	sign := func(height, msg string, extra ...string) (int, string, string) {
		return cli(t, append([]string{"eots", "sign", "--key", key, "--db", db, "--chain-id", "bbn-test-5", "--passphrase-file", pass, "--height", height, "--msg", msg}, extra...)...)
	}
	if code, _, errOut := sign("100", exEotsM1, "--create-db"); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := sign("101", "aa"); code != 0 {
		t.Fatal(errOut)
	}
	old, _ := os.ReadFile(db)
	if code, _, errOut := sign("102", "bb"); code != 0 {
		t.Fatal(errOut)
	}
	if code, out, _ := cli(t, "eots", "check", "--db", db); code != 0 || !strings.Contains(out, "ok:") {
		t.Fatalf("check of a healthy store: %d %q", code, out)
	}
	os.WriteFile(db, old, 0o600) // height 102 is gone from the store

	code, out, errOut := sign("102", "cc")
	if code != exitError || out != "" || !strings.Contains(errOut, "behind its high-water mark") || !strings.Contains(errOut, "eots check") {
		t.Fatalf("sign on a rolled-back store: %d %q %q", code, out, errOut)
	}
	code, out, errOut = cli(t, "eots", "check", "--db", db)
	if code != exitError || !strings.Contains(out, "store 2 records up to 101, mark 3 records up to 102") || !strings.Contains(out, "DISAGREE") || !strings.Contains(errOut, "behind") {
		t.Fatalf("check: %d %q %q", code, out, errOut)
	}
	code, out, _ = cli(t, "eots", "check", "--db", db, "--json")
	var st storeStatusJSON
	if code != exitError || json.Unmarshal([]byte(out), &st) != nil || st.OK || len(st.Pairs) != 1 || st.Pairs[0].Match || *st.Pairs[0].MarkMaxHeight != 102 || st.Pairs[0].PublicKey != exEotsPK {
		t.Fatalf("check --json: %d %q", code, out)
	}
	code, out, errOut = cli(t, "eots", "records", "--db", db)
	if code != 0 || strings.Count(out, "height") != 2 || !strings.Contains(errOut, "warning") {
		t.Fatalf("records of a refused store: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := cli(t, "eots", "backup", "--db", db, "--out", filepath.Join(dir, "b.db")); code != exitError || !strings.Contains(errOut, "behind") {
		t.Fatalf("backup of a refused store: %d %q", code, errOut)
	}
	stored, _ := os.ReadFile(db)
	repair := func(extra ...string) (int, string, string) {
		return cli(t, append([]string{"eots", "repair", "--db", db, "--key", key, "--chain-id", "bbn-test-5"}, extra...)...)
	}
	if code, _, errOut := repair("--highest-signed", "102"); code != exitUsage || !strings.Contains(errOut, "--yes") {
		t.Fatalf("repair without --yes: %d %q", code, errOut)
	}
	if code, _, errOut := repair("--yes"); code != exitUsage || !strings.Contains(errOut, "--highest-signed") {
		t.Fatalf("repair without --highest-signed: %d %q", code, errOut)
	}
	if code, _, errOut := repair("--highest-signed", "101", "--yes"); code != exitUsage || !strings.Contains(errOut, "--highest-signed") || !strings.Contains(errOut, "102") {
		t.Fatalf("repair below the mark: %d %q", code, errOut)
	}
	if after, _ := os.ReadFile(db); string(after) != string(stored) {
		t.Fatal("a refused repair changed the store")
	}
	code, out, errOut = repair("--highest-signed", "102", "--yes")
	if code != 0 || !strings.Contains(out, "floor 102") || !strings.Contains(out, "ok:") {
		t.Fatalf("repair: %d %q %q", code, out, errOut)
	}
	if code, out, _ := cli(t, "eots", "check", "--db", db); code != 0 || !strings.Contains(out, "floor 102") {
		t.Fatalf("check after repair: %d %q", code, out)
	}
	// Height 102's record is gone: no message is signed there again.
	for _, msg := range []string{"bb", "cc"} {
		if code, _, errOut := sign("102", msg); code != exitError || !strings.Contains(errOut, "floor") {
			t.Fatalf("height 102 after repair (%s): %d %q", msg, code, errOut)
		}
	}
	if code, _, errOut := sign("101", "dd"); code != exitError || !strings.Contains(errOut, "double-sign") {
		t.Fatalf("recorded height: %d %q", code, errOut)
	}
	if code, _, errOut := sign("103", "cc"); code != 0 {
		t.Fatalf("above the floor: %q", errOut)
	}
	for _, name := range []string{db + ".hwm0", db + ".hwm1"} {
		if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

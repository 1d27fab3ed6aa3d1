package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// signerEnv prepares a directory with a passphrase file and a fast keystore.
func signerEnv(t *testing.T) (dir, key, pass string) {
	t.Helper()
	// Only --passphrase-file may be used: t.Setenv restores the variable
	// after the test, Unsetenv removes it meanwhile.
	t.Setenv(passphraseEnv, "")
	os.Unsetenv(passphraseEnv)
	dir = t.TempDir()
	pass = filepath.Join(dir, "pass.txt")
	if err := os.WriteFile(pass, []byte("correct horse battery\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key = filepath.Join(dir, "fp.key")
	return dir, key, pass
}

func TestEotsSignerCommands(t *testing.T) {
	dir, key, pass := signerEnv(t)
	skHex := exEotsSK
	skFile := filepath.Join(dir, "sk.hex")
	os.WriteFile(skFile, []byte(skHex+"\n"), 0o600)

	code, out, errOut := cli(t, "eots", "import", "--key", key, "--sk-file", skFile, "--passphrase-file", pass, "--scrypt-work-factor", "10", "--json")
	if code != 0 {
		t.Fatalf("import: %d %s", code, errOut)
	}
	if strings.Contains(out, skHex) {
		t.Fatal("import printed the secret")
	}
	var k keyJSON
	json.Unmarshal([]byte(out), &k)
	if k.PublicKey != exEotsPK {
		t.Fatalf("import: %+v", k)
	}
	if fi, _ := os.Stat(key); fi.Mode().Perm() != 0o600 {
		t.Fatalf("keystore mode %v", fi.Mode())
	}
	// show needs no passphrase and prints no secret.
	code, out, _ = cli(t, "eots", "show", "--key", key)
	if code != 0 || !strings.Contains(out, exEotsPK) || strings.Contains(out, skHex) {
		t.Fatalf("show: %d %q", code, out)
	}
	// export only with --show-secret.
	if code, out, _ := cli(t, "eots", "export", "--key", key, "--passphrase-file", pass); code != 2 || strings.Contains(out, skHex) {
		t.Fatalf("export without --show-secret: %d", code)
	}
	if code, out, _ := cli(t, "eots", "export", "--key", key, "--passphrase-file", pass, "--show-secret"); code != 0 || strings.TrimSpace(out) != skHex {
		t.Fatalf("export: %d %q", code, out)
	}
	// import refuses to overwrite.
	if code, _, errOut := cli(t, "eots", "import", "--key", key, "--sk-file", skFile, "--passphrase-file", pass, "--scrypt-work-factor", "10"); code != 1 || !strings.Contains(errOut, "exists") {
		t.Fatalf("overwrite: %d %q", code, errOut)
	}

	db := filepath.Join(dir, "records.db")
	sign := func(extra ...string) (int, string, string) {
		args := append([]string{"eots", "sign", "--key", key, "--db", db, "--chain-id", "bbn-test-5", "--passphrase-file", pass}, extra...)
		return cli(t, args...)
	}
	// A missing store is not created silently.
	if code, _, errOut := sign("--height", "100", "--msg", exEotsM1); code != 1 || !strings.Contains(errOut, "--create-db") {
		t.Fatalf("missing store: %d %q", code, errOut)
	}
	code, out, errOut = sign("--height", "100", "--msg", exEotsM1, "--create-db", "--json")
	var s1 signJSON
	if code != 0 || json.Unmarshal([]byte(out), &s1) != nil {
		t.Fatalf("sign: %d %q %q", code, out, errOut)
	}
	// The same result as the library and as "eots pubrand" for this key,
	// chain and height (the worked example's values).
	if s1.PubRand != exEotsR || s1.Signature != exEotsS1 || s1.Existing {
		t.Fatalf("sign: %+v", s1)
	}
	code, out, _ = cli(t, "eots", "pubrand", "--key", secretFile(t, skHex), "--chain-id", "bbn-test-5", "--start-height", "100", "--count", "1", "--json")
	var pr pubrandOutJSON
	if code != 0 || json.Unmarshal([]byte(out), &pr) != nil || pr.PubRand[0].PubRand != s1.PubRand {
		t.Fatal("pubrand disagrees with the signer")
	}
	code, out, _ = cli(t, "eots", "pubrand", "--key", key, "--passphrase-file", pass, "--chain-id", "bbn-test-5", "--start-height", "100", "--count", "1", "--json")
	var pr2 pubrandOutJSON
	if code != 0 || json.Unmarshal([]byte(out), &pr2) != nil || pr2.PubRand[0].PubRand != s1.PubRand {
		t.Fatal("pubrand --key disagrees with the signer")
	}
	if code, _, _ := cli(t, "eots", "verify", "--pk", s1.PublicKey, "--pub-rand", s1.PubRand, "--msg", exEotsM1, "--sig", s1.Signature); code != 0 {
		t.Fatal("signature does not verify")
	}
	// Again: the stored signature.
	code, out, _ = sign("--height", "100", "--msg", exEotsM1, "--json")
	var s2 signJSON
	if code != 0 || json.Unmarshal([]byte(out), &s2) != nil || !s2.Existing || s2.Signature != s1.Signature {
		t.Fatalf("repeat: %d %q", code, out)
	}
	// A different message: refused, exit 1.
	code, out, errOut = sign("--height", "100", "--msg", exEotsM2)
	if code != 1 || out != "" || !strings.Contains(errOut, "refusing to double-sign") {
		t.Fatalf("double sign: %d %q %q", code, out, errOut)
	}
	// Wrong passphrase.
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("wrong\n"), 0o600)
	if code, _, errOut := cli(t, "eots", "sign", "--key", key, "--db", db, "--chain-id", "bbn-test-5", "--passphrase-file", bad, "--height", "101", "--msg", "00"); code != 1 || !strings.Contains(errOut, "wrong passphrase") {
		t.Fatalf("wrong passphrase: %d %q", code, errOut)
	}
	// The passphrase from the environment works too.
	t.Setenv(passphraseEnv, "correct horse battery")
	if code, _, errOut := cli(t, "eots", "sign", "--key", key, "--db", db, "--chain-id", "bbn-test-5", "--height", "101", "--msg", "01"); code != 0 {
		t.Fatalf("env passphrase: %q", errOut)
	}
	os.Unsetenv(passphraseEnv)

	// Batch: one repeat, one conflict, two new heights.
	in := filepath.Join(dir, "batch.txt")
	os.WriteFile(in, []byte("# height msg\n100 "+exEotsM1+"\n101 02\n102 aa\n103 bb\n"), 0o600)
	code, out, errOut = cli(t, "eots", "sign-batch", "--key", key, "--db", db, "--chain-id", "bbn-test-5", "--passphrase-file", pass, "--input", in, "--json")
	var batch []signJSON
	if code != 1 || json.Unmarshal([]byte(out), &batch) != nil || len(batch) != 4 {
		t.Fatalf("batch: %d %q %q", code, out, errOut)
	}
	if !batch[0].Existing || batch[1].Error == "" || batch[2].Signature == "" || batch[3].Signature == "" {
		t.Fatalf("batch results: %+v", batch)
	}
	if !strings.Contains(errOut, "101") {
		t.Fatalf("refused height not reported: %q", errOut)
	}

	// Records, backup, rollback.
	code, out, _ = cli(t, "eots", "records", "--db", db, "--json")
	var recs []recordJSON
	if code != 0 || json.Unmarshal([]byte(out), &recs) != nil || len(recs) != 4 {
		t.Fatalf("records: %d %q", code, out)
	}
	if recs[0].Height != 100 || recs[0].Msg != exEotsM1 || recs[0].Signature != exEotsS1 {
		t.Fatalf("record: %+v", recs[0])
	}
	bk := filepath.Join(dir, "backup.db")
	if code, _, errOut := cli(t, "eots", "backup", "--db", db, "--out", bk); code != 0 {
		t.Fatalf("backup: %q", errOut)
	}
	if code, _, _ := cli(t, "eots", "rollback", "--db", db, "--key", key, "--chain-id", "bbn-test-5", "--above", "101"); code != 2 {
		t.Fatal("rollback without --yes")
	}
	code, out, _ = cli(t, "eots", "rollback", "--db", db, "--key", key, "--chain-id", "bbn-test-5", "--above", "101", "--yes")
	if code != 0 || !strings.Contains(out, "deleted 2") {
		t.Fatalf("rollback: %d %q", code, out)
	}
	if code, out, _ := cli(t, "eots", "records", "--db", bk, "--chain-id", "bbn-test-5", "--pk", exEotsPK, "--json"); code != 0 || strings.Count(out, "\"height\"") != 4 {
		t.Fatalf("backup records: %q", out)
	}
	// A damaged store: refused, exit 1.
	os.WriteFile(db, []byte("garbage"), 0o600)
	if code, _, errOut := sign("--height", "200", "--msg", "00"); code != 1 || !strings.Contains(errOut, "corrupt") {
		t.Fatalf("damaged store: %d %q", code, errOut)
	}
}

func TestEotsKeygen(t *testing.T) {
	_, key, pass := signerEnv(t)
	code, out, errOut := cli(t, "eots", "keygen", "--key", key, "--passphrase-file", pass, "--scrypt-work-factor", "10", "--json")
	var k keyJSON
	if code != 0 || json.Unmarshal([]byte(out), &k) != nil || len(k.PublicKey) != 64 {
		t.Fatalf("keygen: %d %q %q", code, out, errOut)
	}
	if code, _, _ := cli(t, "eots", "keygen", "--key", key, "--passphrase-file", pass, "--scrypt-work-factor", "10"); code != 1 {
		t.Fatal("keygen overwrote a keystore")
	}
	// Without any passphrase source and no terminal: a usage error.
	if code, _, errOut := cli(t, "eots", "keygen", "--key", key+"2", "--scrypt-work-factor", "10"); code != 2 || !strings.Contains(errOut, "passphrase") {
		t.Fatalf("no passphrase: %d %q", code, errOut)
	}
}

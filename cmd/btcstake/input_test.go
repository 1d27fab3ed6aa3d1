package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// withStdin makes "-" read s for the rest of the test.
func withStdin(t *testing.T, s string) {
	t.Helper()
	saved := stdinSource
	stdinSource = strings.NewReader(s)
	t.Cleanup(func() { stdinSource = saved })
}

// writeFile writes data to a new file in dir and returns its path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// wrap76 breaks s into lines of 76 characters, as base64 tools do.
func wrap76(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	return b.String() + s + "\n"
}

// TestTxAndPSBTFlagForms: every flag that takes a transaction or a PSBT
// reads the value itself, a file (by name or @name, text or binary) and
// standard input ("-"), and the command's output is the same whichever
// form the value came in.
func TestTxAndPSBTFlagForms(t *testing.T) {
	w := newTxWorld(t)
	stTx := w.stake(t)
	stHex := txHex(stTx)
	deleg := w.delegationArgs()
	cov := []string{"--covenant-quorum", "2"}
	for _, k := range w.params.CovenantKeys() {
		cov = append(cov, "--covenant-pk", hex.EncodeToString(k.SerializeCompressed()))
	}
	prevP2PKH, coin := fundingCoin("forms coin", p2pkhScript(w.funder), 300_000)

	// The PSBTs: an unbonding one, a slashing one, a slashing one signed
	// by the staker and a quorum of the covenant, a signed staking one.
	ub := mustJSON[psbtJSON](t, mustRun(t, append([]string{"unbond", "--json", "--staking-tx", stHex}, deleg...)...)).PSBT
	sl := mustJSON[psbtJSON](t, mustRun(t, append([]string{"slash", "--json", "--from", "staking", "--funding-tx", stHex}, deleg...)...)).PSBT
	slFile := writeFile(t, w.dir, "presigned.psbt", []byte(sl))
	mustRunInPlace(t, "sign", "--psbt", slFile, "--key", w.stakerFile, "--out", slFile)
	for _, k := range w.covFiles[:2] {
		mustRunInPlace(t, w.asCovenant("adaptor", "sign-slashing", "--psbt", slFile, "--key", k, "--out", slFile)...)
	}
	presigned, _ := os.ReadFile(slFile)
	stakeArgs := append([]string{"stake", "--json", "--amount", "100000", "--fee-rate", "2", "--utxo", coin,
		"--change-address", w.changeAddr}, deleg...)
	unsignedStake := mustJSON[psbtJSON](t, mustRun(t, append(slices.Clone(stakeArgs), "--prev-tx", txHex(prevP2PKH))...)).PSBT
	signedStake := mustJSON[psbtJSON](t, mustRun(t, "sign", "--json", "--key", w.funderFile, "--psbt", unsignedStake)).PSBT

	type kind int
	const (
		isTx kind = iota
		isPSBT
	)
	for _, c := range []struct {
		name  string
		args  []string // the command, without the flag
		flag  string
		kind  kind
		value string
		// drop names an output field that differs between runs (fresh
		// randomness), compared without it.
		drop string
	}{
		{"unbond --staking-tx", append([]string{"unbond", "--json"}, deleg...), "staking-tx", isTx, stHex, ""},
		{"slash --funding-tx", append([]string{"slash", "--json", "--from", "staking"}, deleg...), "funding-tx", isTx, stHex, ""},
		{"withdraw --funding-tx", append([]string{"withdraw", "--json", "--from", "staking", "--to", w.withdrawAddr, "--fee-rate", "2"}, deleg...), "funding-tx", isTx, stHex, ""},
		{"stake --prev-tx", stakeArgs, "prev-tx", isTx, txHex(prevP2PKH), ""},
		{"stake parse --tx", append([]string{"stake", "parse", "--json", "--tag", hex.EncodeToString(w.params.Tag())}, cov...), "tx", isTx, stHex, ""},
		{"inspect --tx", []string{"inspect", "--json"}, "tx", isTx, stHex, ""},
		{"inspect --psbt", []string{"inspect", "--json"}, "psbt", isPSBT, ub, ""},
		{"sign --psbt", []string{"sign", "--json", "--key", w.stakerFile}, "psbt", isPSBT, ub, ""},
		{"finalize --psbt", []string{"finalize", "--json"}, "psbt", isPSBT, signedStake, ""},
		{"adaptor sign-slashing --psbt", w.asCovenant("adaptor", "sign-slashing", "--json", "--key", w.covFiles[0]), "psbt", isPSBT, sl, "psbt"},
		{"adaptor complete-slashing --psbt", []string{"adaptor", "complete-slashing", "--json", "--fp-sk-file", w.fpFile}, "psbt", isPSBT, strings.TrimSpace(string(presigned)), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			var binary []byte
			var err error
			if c.kind == isTx {
				binary, err = hex.DecodeString(c.value)
			} else {
				binary, err = base64.StdEncoding.DecodeString(c.value)
			}
			if err != nil {
				t.Fatal(err)
			}
			text := writeFile(t, dir, "value.txt", []byte(c.value+"\n"))
			forms := []struct {
				name, value, stdin string
			}{
				{"a file", text, ""},
				{"@file", "@" + text, ""},
				{"a binary file", writeFile(t, dir, "value.bin", binary), ""},
				{"stdin", "-", c.value + "\n"},
				{"binary on stdin", "-", string(binary)},
				{"surrounding space", "  " + c.value + "\n", ""},
			}
			if c.kind == isPSBT {
				forms = append(forms, struct{ name, value, stdin string }{"a wrapped base64 file", writeFile(t, dir, "wrapped.txt", []byte(wrap76(c.value))), ""})
			} else {
				forms = append(forms, struct{ name, value, stdin string }{"0x prefix", "0x" + c.value, ""})
			}
			norm := func(out string) string {
				if c.drop == "" {
					return out
				}
				var m map[string]any
				if err := json.Unmarshal([]byte(out), &m); err != nil {
					t.Fatalf("%v: %s", err, out)
				}
				delete(m, c.drop)
				b, _ := json.Marshal(m)
				return string(b)
			}
			want := norm(mustRun(t, append(c.args, "--"+c.flag, c.value)...))
			for _, f := range forms {
				if f.stdin != "" {
					withStdin(t, f.stdin)
				}
				code, out, errOut := runCLI(t, append(c.args, "--"+c.flag, f.value)...)
				if code != 0 || norm(out) != want {
					t.Errorf("%s: exit %d %q\nstdout %s\nwant   %s", f.name, code, errOut, out, want)
				}
			}
		})
	}
}

// TestInputFlagRules: the edges of the reading rules: which values are
// files, the size bound, standard input read once, and errors that never
// echo a value that might be a secret.
func TestInputFlagRules(t *testing.T) {
	w := newTxWorld(t)
	stTx := w.stake(t)
	stHex := txHex(stTx)
	inspect := func(args ...string) (int, string, string) {
		return runCLI(t, append([]string{"inspect", "--json"}, args...)...)
	}
	want := mustRun(t, "inspect", "--json", "--tx", stHex)
	ub := mustJSON[psbtJSON](t, mustRun(t, append([]string{"unbond", "--json", "--staking-tx", stHex}, w.delegationArgs()...)...)).PSBT

	// A file whose name is all hex digits is read as a file only with @
	// or a path: the bare name is a (wrong) literal transaction.
	t.Chdir(t.TempDir())
	writeFile(t, ".", "00ff", []byte(stHex))
	if code, _, errOut := inspect("--tx", "00ff"); code != exitUsage || !strings.Contains(errOut, "--tx: not a bitcoin transaction") {
		t.Errorf("hex-named file without @: exit %d %q", code, errOut)
	}
	for _, v := range []string{"@00ff", "./00ff"} {
		if code, out, errOut := inspect("--tx", v); code != 0 || out != want {
			t.Errorf("%s: exit %d %q", v, code, errOut)
		}
	}
	// Likewise a file named like a base64 PSBT.
	writeFile(t, ".", "cHNidPfile", []byte(ub))
	if code, _, errOut := inspect("--psbt", "cHNidPfile"); code != exitUsage || !strings.Contains(errOut, "--psbt") {
		t.Errorf("PSBT-named file without @: exit %d %q", code, errOut)
	}
	if code, _, errOut := inspect("--psbt", "@cHNidPfile"); code != 0 {
		t.Errorf("@cHNidPfile: exit %d %q", code, errOut)
	}

	secret := "0123456789abcdef-not-a-file"
	big := writeFile(t, ".", "big.hex", nil)
	if err := os.Truncate(big, maxInputSize+1); err != nil {
		t.Fatal(err)
	}
	writeFile(t, ".", "empty.hex", []byte(" \n"))
	if err := os.Mkdir("adir", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"missing file, not echoed", []string{"--tx", secret}, "", "--tx: neither a readable file nor a hex transaction (27 characters)"},
		{"missing @file, named", []string{"--tx", "@nofile"}, "", "--tx: nofile does not exist"},
		{"larger than the bound", []string{"--tx", "big.hex"}, "", "--tx: larger than the limit: big.hex is larger than 8 MiB"},
		{"larger than the bound on stdin", []string{"--tx", "-"}, strings.Repeat("0", maxInputSize+1), "--tx: reading standard input: larger than the limit: more than 8 MiB"},
		{"empty file", []string{"--tx", "@empty.hex"}, "", "--tx: empty.hex: empty"},
		{"empty stdin", []string{"--tx", "-"}, "", "--tx: reading standard input: empty"},
		{"a directory", []string{"--tx", "adir"}, "", "--tx: not a regular file: adir is a directory"},
		{"a device", []string{"--tx", "/dev/zero"}, "", "--tx: not a regular file: /dev/zero is a character device"},
		{"a device, named", []string{"--psbt", "@/dev/zero"}, "", "--psbt: not a regular file: /dev/zero is a character device"},
		{"binary garbage", []string{"--tx", "-"}, "\x02\x00\x00\x00garbage", "--tx: not a bitcoin transaction"},
		{"empty value", []string{"--tx", " "}, "", "--tx: empty value"},
		{"PSBT not base64", []string{"--psbt", "cHNidP8!!"}, "", "--psbt:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			withStdin(t, c.stdin)
			code, out, errOut := inspect(c.args...)
			if code != exitUsage || out != "" || !strings.Contains(errOut, c.want) || strings.Contains(errOut, secret) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, out, errOut, c.want)
			}
		})
	}

	// Standard input is read by one flag only.
	withStdin(t, ub)
	code, _, errOut := runCLI(t, "finalize", "--psbt", "-", "--psbt", "-")
	if code != exitUsage || !strings.Contains(errOut, "--psbt: standard input was already read by --psbt") {
		t.Errorf("two flags reading stdin: exit %d %q", code, errOut)
	}
}

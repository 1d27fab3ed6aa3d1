package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"
)

// fuzzDir is a directory for the files a fuzz target writes per input: in
// memory (/dev/shm) where the system has it, so the fuzzer's time goes to
// the parser rather than to the disk, else a temporary directory.
func fuzzDir(f *testing.F) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "btcstake-fuzz-"); err == nil {
			f.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return f.TempDir()
}

// wantUsage fails unless err is a usage error whose message starts with
// the flag.
func wantUsage(t *testing.T, err error, flags ...string) {
	t.Helper()
	var u usageError
	if !errors.As(err, &u) {
		t.Fatalf("refusal %q is not a usage error", err)
	}
	for _, fl := range flags {
		if strings.HasPrefix(err.Error(), "--"+fl+":") || strings.HasPrefix(err.Error(), "--"+fl+" ") {
			return
		}
	}
	t.Fatalf("refusal %q names none of %v", err, flags)
}

// FuzzConfigFile: any config file either loads, and then encodes and
// loads back to the same settings, or is a usage error naming --config;
// nothing panics.
func FuzzConfigFile(f *testing.F) {
	for _, s := range []string{
		`{"network":"signet","rpc_url":"127.0.0.1:38332","rpc_user":"u","rpc_pass":"p","rpc_cookie":"/c","signet_challenge":"51"}`,
		`{"network":"regtest"}`, `{}`, `{"rpc_url":1}`, `{"unknown":true}`, `[]`, ``, `{"network":"a"}{"network":"b"}`,
		`{"network":"mainnet","network":"regtest"}`,
	} {
		f.Add([]byte(s))
	}
	dir := fuzzDir(f)
	path, again := filepath.Join(dir, "config.json"), filepath.Join(dir, "again.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := loadConfigFile(path, true)
		if err != nil {
			wantUsage(t, err, "config")
			return
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(again, b, 0o600); err != nil {
			t.Fatal(err)
		}
		c2, err := loadConfigFile(again, true)
		if err != nil || c2 != c {
			t.Fatalf("a loaded config does not load back: %+v, %+v, %v", c, c2, err)
		}
	})
}

// FuzzUTXOFlags: any --utxo value with any --prev-tx either parses, and
// then formats and parses back to the same coin with the previous
// transaction attached only to the coins it created, or is a usage error
// naming one of the two flags (or a failed operation naming --utxo for a
// coin given twice); nothing panics. A --prev-tx that would be read as a
// file or standard input is skipped: the values themselves are fuzzed.
func FuzzUTXOFlags(f *testing.F) {
	prev := wire.NewMsgTx(2)
	prev.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: 3}, nil, nil))
	prev.AddTxOut(wire.NewTxOut(50_000, []byte{0x00, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}))
	prevHex := txHex(prev)
	utxo := fmt.Sprintf("%s:0:50000:%x", prev.TxHash(), prev.TxOut[0].PkScript)
	f.Add(utxo, prevHex, false)
	f.Add(utxo, "", true)
	f.Add(utxo, "0x"+prevHex, false)
	f.Add(strings.Repeat("0", 64)+":4294967295:1:51", "", false)
	f.Add(strings.Repeat("0", 64)+":4294967296:1:51", "", false)
	f.Add(strings.Repeat("0", 64)+":0:2100000000000001:51", "", false)
	f.Add("a:b:c", "zz", false)
	f.Fuzz(func(t *testing.T, u, prevTx string, twice bool) {
		var prevs []string
		if prevTx != "" {
			if v := strings.TrimSpace(prevTx); v == "-" || !isHexText(v) {
				return // a file name or standard input: not the fuzzer's business
			}
			prevs = []string{prevTx}
		}
		vals := []string{u}
		if twice {
			vals = append(vals, u)
		}
		coins, err := parseUTXOs(vals, prevs)
		if err != nil {
			var u usageError
			if errors.As(err, &u) {
				wantUsage(t, err, "utxo", "prev-tx")
			} else if !twice || !strings.HasPrefix(err.Error(), "--utxo: ") || !strings.Contains(err.Error(), "given twice") {
				t.Fatalf("refusal %q", err)
			}
			return
		}
		if twice || len(coins) != 1 {
			t.Fatalf("%d coins from %d values (twice %v)", len(coins), len(vals), twice)
		}
		c := coins[0]
		if c.Value <= 0 || c.Value > 21e14 || len(c.PkScript) == 0 {
			t.Fatalf("accepted coin %+v", c)
		}
		back, err := parseUTXO(fmt.Sprintf("%s:%d:%d:%s", c.OutPoint.Hash, c.OutPoint.Index, c.Value, hex.EncodeToString(c.PkScript)))
		if err != nil || back.OutPoint != c.OutPoint || back.Value != c.Value || !bytes.Equal(back.PkScript, c.PkScript) {
			t.Fatalf("coin %+v does not format and parse back: %+v, %v", c, back, err)
		}
		switch {
		case len(prevs) == 0 && c.PrevTx != nil:
			t.Fatal("a previous transaction appeared from nowhere")
		case len(prevs) == 1 && (c.PrevTx == nil || c.PrevTx.TxHash() != c.OutPoint.Hash):
			t.Fatalf("--prev-tx attached to a coin it did not create: %+v", c)
		}
	})
}

// signBatchLines is the sign-batch input format, written down apart from
// the command: lines "HEIGHT MSG_HEX" (white space around and between),
// blank lines and lines starting with # skipped, at least one request.
// It returns the heights in order, and false when the input is not in the
// format.
func signBatchLines(input []byte) ([]uint64, bool) {
	var heights []uint64
	for _, line := range strings.Split(string(input), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, false
		}
		h, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return nil, false
		}
		if _, err := hex.DecodeString(fields[1]); err != nil {
			return nil, false
		}
		heights = append(heights, h)
	}
	return heights, len(heights) > 0
}

// FuzzSignBatchInput feeds arbitrary --input files to "eots sign-batch"
// with a real key and store: exit 0, 1 or 2 with a one-line error, never
// a panic; a file in the format (signBatchLines) is signed line by line,
// one result per request in order (a refused line, such as a second
// message at a height, is exit 1); anything else is a usage error naming
// --input and nothing is signed. Inputs of 4 KiB and more are only run
// (limits on line and file size are the command's to choose).
func FuzzSignBatchInput(f *testing.F) {
	for _, s := range []string{
		"100 0000000000000064aa\n101 0000000000000065bb\n",
		"# comment\n\n  7\tabcd  \r\n",
		"100 0000000000000064cc\n", // a second message at height 100
		"18446744073709551615 00\n", "18446744073709551616 00\n", "-1 00\n", "5 abc\n", "5\n", "5 00 00\n", "",
	} {
		f.Add([]byte(s))
	}
	dir := fuzzDir(f)
	key, db, input := filepath.Join(dir, "fp.keystore"), filepath.Join(dir, "fp.db"), filepath.Join(dir, "input")
	pass := filepath.Join(dir, "pass")
	if err := os.WriteFile(pass, []byte("fuzz passphrase\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	var o, e bytes.Buffer
	if code := run([]string{"eots", "keygen", "--key", key, "--passphrase-file", pass, "--scrypt-work-factor", "10"}, &o, &e); code != 0 {
		f.Fatalf("keygen: exit %d: %s", code, e.String())
	}
	if err := os.WriteFile(input, []byte("1 00\n"), 0o600); err != nil {
		f.Fatal(err)
	}
	if code := run([]string{"eots", "sign-batch", "--key", key, "--passphrase-file", pass, "--db", db, "--create-db", "--chain-id", "fuzz", "--input", input}, &o, &e); code != 0 {
		f.Fatalf("creating the store: exit %d: %s", code, e.String())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(input, data, 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		code := run([]string{"eots", "sign-batch", "--key", key, "--passphrase-file", pass, "--db", db, "--chain-id", "fuzz", "--input", input, "--json"}, &out, &errOut)
		// Under --json an error is one JSON object on one line.
		var fail struct {
			Error    string `json:"error"`
			ExitCode int    `json:"exit_code"`
		}
		if code != 0 && (code > 2 || strings.Count(errOut.String(), "\n") != 1 || json.Unmarshal(errOut.Bytes(), &fail) != nil ||
			fail.ExitCode != code || fail.Error == "") {
			t.Fatalf("exit %d with stderr %q", code, errOut.String())
		}
		if len(data) >= 4096 {
			return
		}
		heights, wellFormed := signBatchLines(data)
		if !wellFormed {
			if code != exitUsage || !strings.HasPrefix(fail.Error, "--input: ") || out.Len() != 0 {
				t.Fatalf("input %q not in the format: exit %d %q %q", data, code, out.String(), errOut.String())
			}
			return
		}
		if code == exitUsage {
			t.Fatalf("input %q in the format refused: %q", data, errOut.String())
		}
		var results []signJSON
		if err := json.Unmarshal(out.Bytes(), &results); err != nil {
			t.Fatalf("input %q: exit %d, output %q: %v (stderr %q)", data, code, out.String(), err, errOut.String())
		}
		refused := false
		for i, r := range results {
			if i >= len(heights) || r.Height != heights[i] || (r.Error == "") == (r.Signature == "") {
				t.Fatalf("input %q: result %d %+v, want height %v", data, i, r, heights)
			}
			refused = refused || r.Error != ""
		}
		if len(results) != len(heights) || refused != (code == exitError) {
			t.Fatalf("input %q: %d results for %d requests, refused %v, exit %d", data, len(results), len(heights), refused, code)
		}
	})
}

package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// FuzzTxAndPSBTFlags feeds arbitrary flag values and standard input to the
// transaction and PSBT flag readers: they never panic, every refusal is a
// usage error naming the flag, and standard input is read at most once. Values are kept away from the file system: anything that would be
// read as a file is skipped, except "-" and the values themselves.
func FuzzTxAndPSBTFlags(f *testing.F) {
	psbts, txs := fuzzSeeds(f)
	for _, p := range psbts {
		f.Add(strings.TrimSpace(string(p)), []byte(nil))
		f.Add("-", p)
	}
	for _, tx := range txs {
		f.Add(hex.EncodeToString(tx), []byte(nil))
		f.Add("-", tx)
		f.Add("-", []byte(hex.EncodeToString(tx)+"\n"))
	}
	f.Add("0x", []byte(nil))
	f.Add("-", []byte(" \n"))
	f.Fuzz(func(t *testing.T, value string, stdin []byte) {
		t.Cleanup(func() { stdinSource, stdinUsedBy = strings.NewReader(""), "" })
		v := strings.TrimSpace(value)
		if v != "-" && !isHexText(v) && !isBase64PSBT(v) {
			return // a file name: not the fuzzer's business
		}
		stdinSource, stdinUsedBy = bytes.NewReader(stdin), ""
		if _, err := parseTxHex("tx", value); err != nil {
			var u usageError
			if !errors.As(err, &u) || !strings.HasPrefix(err.Error(), "--tx: ") {
				t.Fatalf("refusal %q is not a usage error naming --tx", err)
			}
		}
		if v == "-" {
			// A second reader of standard input is refused.
			if _, err := readPSBT("psbt", "-"); err == nil || !strings.Contains(err.Error(), "already read by --tx") {
				t.Fatalf("second read of stdin: %v", err)
			}
			stdinSource, stdinUsedBy = bytes.NewReader(stdin), ""
		}
		if _, err := readPSBT("psbt", value); err != nil {
			var u usageError
			if !errors.As(err, &u) || !strings.HasPrefix(err.Error(), "--psbt: ") {
				t.Fatalf("refusal %q is not a usage error naming --psbt", err)
			}
		}
	})
}

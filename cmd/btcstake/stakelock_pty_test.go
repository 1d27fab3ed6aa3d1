//go:build linux

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
)

// TestStakeConfirmsOnARealTerminal: the shell's own standard input, a
// pseudo-terminal, is where stake asks; piped input is not.
func TestStakeConfirmsOnARealTerminal(t *testing.T) {
	isolate(t)
	w := newTxWorld(t)
	master, slave := openPTY(t)
	saved := os.Stdin
	os.Stdin = slave
	defer func() { os.Stdin = saved }()
	if _, err := master.WriteString("yes\n"); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, replaceFlag(realStake(t, w, &chaincfg.SigNetParams, "--btc-height", "300000"), "--params", "bbn-test-6")...)
	if code != 0 || !strings.Contains(errOut, `Type "yes"`) || !strings.Contains(errOut, "locks coins on signet") || !strings.Contains(out, "psbt   cHNidP") {
		t.Fatalf("exit %d %q %q", code, out, errOut)
	}
	// A pipe is not a terminal.
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	wr.WriteString("yes\n")
	wr.Close()
	os.Stdin = r
	if code, _, errOut := cli(t, replaceFlag(realStake(t, w, &chaincfg.SigNetParams, "--btc-height", "300000"), "--params", "bbn-test-6")...); code != exitUsage || !strings.Contains(errOut, "not a terminal") {
		t.Fatalf("pipe: exit %d %q", code, errOut)
	}
}

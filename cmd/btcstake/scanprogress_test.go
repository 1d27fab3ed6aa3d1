//go:build linux

package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/txscript/v2"

	"github.com/btcstake/btcstake/regtest"
)

// TestScanProgressOnATerminal: while wait reads past blocks on a node
// without -txindex, a stderr that is a terminal shows one progress line,
// cleared when done; under --json the terminal gets nothing.
func TestScanProgressOnATerminal(t *testing.T) {
	n := regtest.NewTestNode(t, regtest.Options{NoTxIndex: true})
	conn := noIndexConn(t, n)
	key, _ := btcec.NewPrivateKey()
	pk, _ := txscript.PayToTaprootScript(txscript.ComputeTaprootKeyNoScript(key.PubKey()))
	op, _, err := n.Fund(pk, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Mine(30); err != nil {
		t.Fatal(err)
	}
	txid := op.Hash.String()
	onTerminal := func(args ...string) (code int, stdout, terminal string) {
		master, slave := openPTY(t)
		read := make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(master) // until the slave closes (EIO)
			read <- b
		}()
		var out bytes.Buffer
		code = run(append(args, conn...), &out, slave)
		slave.Close()
		return code, out.String(), string(<-read)
	}
	code, out, term := onTerminal("wait", "--txid", txid, "--confirmations", "30")
	if code != 0 || !strings.Contains(out, txid+": 30/30 confirmations") {
		t.Fatalf("wait: exit %d %q %q", code, out, term)
	}
	if !strings.Contains(term, "looking for "+txid+" in past blocks: block ") || !strings.Contains(term, " read)") ||
		!strings.HasSuffix(term, "\r\x1b[K") {
		t.Fatalf("no progress line, or not cleared: %q", term)
	}
	code, out, term = onTerminal("wait", "--json", "--txid", txid, "--confirmations", "30")
	if code != 0 || !strings.Contains(out, `"confirmations": 30`) || term != "" {
		t.Fatalf("wait --json: exit %d %q; terminal %q", code, out, term)
	}
}

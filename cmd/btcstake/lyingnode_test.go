package main

import (
	"strings"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"
)

// TestBroadcastLyingNode: a node that answers a broadcast with another
// transaction's id is not believed: broadcast fails naming both ids and
// the call that lied, and prints no txid. A verdict on another
// transaction sends nothing.
func TestBroadcastLyingNode(t *testing.T) {
	isolate(t)
	node := newFakeNodeServer(t, "regtest")
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: 1}, nil, nil))
	tx.AddTxOut(wire.NewTxOut(1000, []byte{0x51}))
	other := strings.Repeat("ab", 32)
	args := []string{"broadcast", "--network", "regtest", "--tx", txHex(tx),
		"--rpc-url", node.srv.URL, "--rpc-user", "u", "--rpc-pass-file", secretFile(t, "p")}

	code, out, errOut := runCLI(t, args...)
	if code != 0 || strings.TrimSpace(out) != "broadcast "+tx.TxHash().String() {
		t.Fatalf("honest node: exit %d %q %q", code, out, errOut)
	}
	for _, lieIn := range []string{"testmempoolaccept", "sendrawtransaction"} {
		node.mu.Lock()
		node.lieTxid, node.lieIn = other, lieIn
		node.mu.Unlock()
		node.reset()
		code, out, errOut = runCLI(t, args...)
		if code != 1 || out != "" || !strings.Contains(errOut, other) || !strings.Contains(errOut, tx.TxHash().String()) ||
			!strings.Contains(errOut, lieIn) || strings.Count(errOut, "\n") != 1 {
			t.Fatalf("node lying in %s: exit %d %q %q", lieIn, code, out, errOut)
		}
		if calls := strings.Join(node.calls(), ","); lieIn == "testmempoolaccept" && strings.Contains(calls, "sendrawtransaction") {
			t.Fatalf("a transaction was sent after a verdict on another one: %s", calls)
		}
	}
}

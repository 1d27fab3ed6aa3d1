// Package regtest runs a local Bitcoin regtest node for tests and for the
// btcstake CLI: btcd built by the Go toolchain from the version pinned in
// the nested module regtest/btcdnode (cached after the first build), or
// bitcoind from PATH when
// BTCSTAKE_NODE=bitcoind.
//
// The node listens on 127.0.0.1 only, on a free port, in a fresh directory.
// The harness mines to a key it generates and pays any script from the
// mature coinbase coins of that key (Fund), so tests need no wallet:
//
//	n := regtest.NewTestNode(t, regtest.Options{}) // stopped by t.Cleanup
//	op, _, err := n.Fund(pkScript, 100_000)        // broadcast
//	_, err = n.Mine(1)                             // confirmed
//	err = n.TestMempoolAccept(spend)               // errors.Is(err, regtest.ErrSequenceLock) ...
//	txid, err := n.Broadcast(spend)
//
// Refusals by the node are *RejectError values that match ErrRejected and
// a kind (ErrSequenceLock, ErrImmatureCoinbase, ErrScriptFailure, ErrFee,
// ErrNonStandard, ErrMissingInputs, ...) with errors.Is; they are package
// chain's kinds, and Chain gives the typed client the harness talks
// through. See docs/regtest.md.
package regtest

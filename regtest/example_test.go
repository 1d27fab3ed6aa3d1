package regtest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/txscript/v2"

	"github.com/btcstake/btcstake/regtest"
)

// Start a node, pay a script, confirm the payment and stop. (Examples
// without output are compiled, not run; the tests run the same steps.)
func ExampleStart() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n, err := regtest.Start(ctx, regtest.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer n.Stop()

	key, _ := btcec.NewPrivateKey()
	pkScript, _ := txscript.PayToTaprootScript(txscript.ComputeTaprootKeyNoScript(key.PubKey()))
	op, _, err := n.Fund(pkScript, 100_000)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := n.Mine(1); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("funded", op, "via", n.RPC().Host)
}

// Classify a node's reject text; Broadcast and TestMempoolAccept do this
// for you and return a *RejectError.
func ExampleClassifyReject() {
	for _, text := range []string{
		"TX rejected: transaction's sequence locks on inputs not met", // btcd
		"non-BIP68-final", // bitcoind
		"bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth 5",
		"something new",
	} {
		fmt.Println(regtest.ClassifyReject(text))
	}
	// Output:
	// sequence locks not met
	// sequence locks not met
	// immature coinbase spend
	// transaction rejected
}

// A coinbase built by the harness is a function of its arguments alone:
// the block at height 111 paying 0.01 BTC to this script holds this txid
// in every run (Node.MineCoinbase mines it).
func ExampleCoinbaseTx() {
	pkScript := append([]byte{0x00, 0x14}, make([]byte, 20)...) // P2WPKH of the zero hash
	a, _ := regtest.CoinbaseTx(111, []byte("example"), pkScript, 1_000_000)
	b, _ := regtest.CoinbaseTx(111, []byte("example"), pkScript, 1_000_000)
	fmt.Println(a.TxHash() == b.TxHash(), len(a.TxIn[0].SignatureScript), a.TxOut[0].Value)
	// Output: true 10 1000000
}

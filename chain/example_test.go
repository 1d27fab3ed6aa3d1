package chain_test

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/v2"

	"github.com/btcstake/btcstake/chain"
)

// A node's reject text, whichever node wrote it, becomes one kind to
// branch on.
func ExampleClassifyReject() {
	for _, reason := range []string{
		"non-BIP68-final", // Bitcoin Core
		"TX rejected: transaction's sequence locks on inputs not met", // btcd
		"mandatory-script-verify-flag-failed (Invalid Schnorr signature)",
		"min relay fee not met, 0 < 110",
	} {
		err := error(&chain.RejectError{Kind: chain.ClassifyReject(reason), Reason: reason})
		fmt.Println(errors.Is(err, chain.ErrSequenceLock), errors.Is(err, chain.ErrScriptFailure), errors.Is(err, chain.ErrFee))
	}
	// Output:
	// true false false
	// true false false
	// false true false
	// false false true
}

// Where a local bitcoind listens and keeps its cookie, per network.
func ExampleCookiePath() {
	for _, net := range []*chaincfg.Params{&chaincfg.MainNetParams, &chaincfg.SigNetParams, &chaincfg.RegressionNetParams} {
		port, _ := chain.DefaultRPCPort(net)
		cookie, _ := chain.CookiePath("/home/me/.bitcoin", net)
		fmt.Println(net.Name, port, cookie)
	}
	// Output:
	// mainnet 8332 /home/me/.bitcoin/.cookie
	// signet 38332 /home/me/.bitcoin/signet/.cookie
	// regtest 18443 /home/me/.bitcoin/regtest/.cookie
}

// Every signet shares the genesis block; its challenge sets the network
// magic, which is how CheckNetwork tells the default signet from a custom
// one (chaincfg.CustomSignetParams, with Net set to SignetMagic).
func ExampleSignetMagic() {
	m := chain.SignetMagic(chaincfg.DefaultSignetChallenge)
	fmt.Println(m == chaincfg.SigNetParams.Net)
	fmt.Printf("%08x\n", uint32(m)) // 0a03cf40 on the wire, little-endian
	// Output:
	// true
	// 40cf030a
}

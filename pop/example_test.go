package pop_test

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"

	"github.com/btcstake/btcstake/pop"
)

// Create a BIP-322 proof of possession with the staker key's BIP-86
// taproot address, print what babylond takes as pop_hex, and check it.
func Example() {
	skBytes, _ := hex.DecodeString("adce25dc25ef89f06a722abdc4b601d706c9efc6bc84075355e6b96ca3871621")
	sk, pk := btcec.PrivKeyFromBytes(skBytes)
	const babylonAddr = "bbn1xjz8fs9vkmefdqaxan5kv2d09vmwzru7jhy424"

	p, err := pop.Create(pop.BIP322, sk, babylonAddr, pop.WithBIP322(&chaincfg.MainNetParams, pop.P2TR))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Kind(), p.BIP322Address())
	fmt.Println(p.Hex())

	q, err := pop.ParseHex(p.Hex())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("verify:", q.Verify(pk, babylonAddr, &chaincfg.MainNetParams))
	fmt.Println("another account:", errors.Is(q.Verify(pk, "bbn1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqya3wcy", &chaincfg.MainNetParams), pop.ErrBadSignature))
	// Output:
	// BIP322 bc1pqwfpg3m40rahlprn7l7ys8tdwus224cz3jk4m06fy7aldsgt225qr9a9ha
	// 08011284010a3e626331707177667067336d34307261686c70726e376c377973387464777573323234637a336a6b346d3036667937616c647367743232357172396139686112420140c5bf612c62fa0674de7a5358d8e12d710fb1b866636d257daf0b52928a90cc9e0f548f3f485781887fe2ebb31700a81464c2ba5a9a032416d98afe72212c8ca9
	// verify: <nil>
	// another account: true
}

// Make an ECDSA (signed-message) proof; the signature is deterministic.
func ExampleCreate_ecdsa() {
	skBytes, _ := hex.DecodeString("adce25dc25ef89f06a722abdc4b601d706c9efc6bc84075355e6b96ca3871621")
	sk, _ := btcec.PrivKeyFromBytes(skBytes)
	p, err := pop.Create(pop.ECDSA, sk, "bbn1xjz8fs9vkmefdqaxan5kv2d09vmwzru7jhy424")
	if err != nil {
		fmt.Println(err)
		return
	}
	j := p.JSON()
	fmt.Println(j.Type, j.TypeValue, len(p.BTCSig()))
	fmt.Println(j.PopHex)
	// Output:
	// ECDSA 2 65
	// 080212411f18f102805438c330e7553d9d583f74bf8051614856a2fd590be8344aa6af7800741968a8b0a5ca6d006b18e802dc5f233b801b18ec93dc95e327c87706d6bbc4
}

package babylon_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/btcsuite/btcd/address/v2/bech32"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
)

// Extend a stake: the extension transaction spends the previous staking
// output (input 0) and a funding coin (input 1) into a new, larger staking
// output; build the new delegation's transactions, sign its two slashing
// transactions and print what babylond's btc-stake-expand takes.
func ExamplePrepareExpansion() {
	key := func(label string) *btcec.PrivateKey {
		h := sha256.Sum256([]byte(label))
		k, _ := btcec.PrivKeyFromBytes(h[:])
		return k
	}
	staker, fp := key("example staker"), key("example fp")
	p := params.RegtestExample()
	d := psbt.Delegation{Params: p, Staker: staker.PubKey(), FinalityProviders: []*btcec.PublicKey{fp.PubKey()}, StakingTime: 1000}
	out, _ := d.StakingOutput()

	previous := chainhash.Hash{0xaa} // the previous delegation's staking txid
	funding := wire.NewMsgTx(2)
	funding.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{1}}, nil, nil))
	funding.AddTxOut(wire.NewTxOut(60_000, append([]byte{0x00, 0x14}, make([]byte, 20)...)))

	ext := wire.NewMsgTx(2)
	ext.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: previous, Index: 0}, nil, nil)) // old stake: 100,000 sat
	ext.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: funding.TxHash(), Index: 0}, nil, nil))
	ext.AddTxOut(wire.NewTxOut(150_000, out.PkScript))

	v, _ := params.NewVersion(5, 0, p, params.BabylonExtras{})
	versions, _ := params.NewVersions(v)
	account := sha256.Sum256([]byte("example account"))
	addr, _ := bech32.EncodeFromBase256("bbn", account[:20])
	var pop []byte // from package pop; any ProofOfPossessionBTC here
	pop = protowire.AppendTag(pop, 2, protowire.BytesType)
	pop = protowire.AppendBytes(pop, bytes.Repeat([]byte{1}, 64))

	draft, err := babylon.PrepareExpansion(babylon.ExpansionRequest{
		StakerAddress: addr, PoP: pop, Delegation: d, ExtensionTx: ext,
		PreviousStakingTxHash: previous, FundingTx: funding, Versions: versions, TipHeight: 500,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	e, err := draft.Sign(staker)
	if err != nil {
		fmt.Println(err)
		return
	}
	m := e.Msg()
	fmt.Println("new stake:", m.StakingValue, "sat for", m.StakingTime, "blocks, output", e.StakingOutputIndex())
	fmt.Println("unbonding:", m.UnbondingValue, "sat")
	args := e.BabylondArgs()
	fmt.Println("babylond args:", len(args), "inclusion proof:", fmt.Sprintf("%q", args[3]))
	fmt.Println("previous staking txid argument:", args[14] == previous.String())
	back, _ := babylon.UnmarshalMsgBtcStakeExpand(e.Marshal())
	fmt.Println("decodes back:", bytes.Equal(back.Marshal(), e.Marshal()))
	// Output:
	// new stake: 150000 sat for 1000 blocks, output 0
	// unbonding: 149000 sat
	// babylond args: 16 inclusion proof: ""
	// previous staking txid argument: true
	// decodes back: true
}

package script_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/script"
)

// key derives a fixed example key from a label (never do this with real
// money: these keys are public).
func key(label string) *btcec.PrivateKey {
	h := sha256.Sum256([]byte(label))
	k, _ := btcec.PrivKeyFromBytes(h[:])
	return k
}

func ExampleNewStakingOutput() {
	out, err := script.NewStakingOutput(script.Parties{
		Staker:            key("staker").PubKey(),
		FinalityProviders: []*btcec.PublicKey{key("fp").PubKey()},
		Covenant: []*btcec.PublicKey{
			key("cov1").PubKey(), key("cov2").PubKey(), key("cov3").PubKey(),
		},
		CovenantQuorum: 2,
	}, 144)
	if err != nil {
		fmt.Println(err)
		return
	}
	addr, _ := out.Address(&chaincfg.RegressionNetParams)
	fmt.Println("address:", addr)
	for _, p := range out.Paths {
		fmt.Printf("%-9s leaf: %3d-byte script, %d-byte control block\n", p.Kind, len(p.Script), len(p.ControlBlock))
	}
	// Output:
	// address: bcrt1p6h053jdj5g2vcrxmevyq9ezedrydmk604yj6xvsnlwdfc8avq7lq8dtqqx
	// timelock  leaf:  38-byte script, 97-byte control block
	// unbonding leaf: 138-byte script, 97-byte control block
	// slashing  leaf: 172-byte script, 65-byte control block
}

func ExampleOutput_Witness() {
	staker, cov1, cov2 := key("staker"), key("cov1"), key("cov2")
	out, _ := script.NewStakingOutput(script.Parties{
		Staker:            staker.PubKey(),
		FinalityProviders: []*btcec.PublicKey{key("fp").PubKey()},
		Covenant:          []*btcec.PublicKey{cov1.PubKey(), cov2.PubKey(), key("cov3").PubKey()},
		CovenantQuorum:    2,
	}, 144)

	// Real signatures come from signing the spending transaction's tapscript
	// sighash; any 64 bytes show the layout here.
	sig := func(b byte) []byte { s := make([]byte, 64); s[0] = b; return s }
	w, err := out.Witness(script.UnbondingPath, script.Signatures{
		Staker: sig(1),
		Covenant: map[script.XOnlyKey][]byte{
			script.XOnly(cov1.PubKey()): sig(2),
			script.XOnly(cov2.PubKey()): sig(3),
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, item := range w {
		fmt.Printf("item %d: %d bytes\n", i, len(item))
	}

	// One covenant signature short of the quorum is refused.
	_, err = out.Witness(script.UnbondingPath, script.Signatures{
		Staker:   sig(1),
		Covenant: map[script.XOnlyKey][]byte{script.XOnly(cov1.PubKey()): sig(2)},
	})
	fmt.Println(err)
	// Output:
	// item 0: 64 bytes
	// item 1: 64 bytes
	// item 2: 0 bytes
	// item 3: 64 bytes
	// item 4: 138 bytes
	// item 5: 97 bytes
	// wrong number of signatures: 1 covenant signatures, the script needs exactly 2
}

func ExampleParseWitness() {
	staker, cov1, cov2, cov3 := key("staker"), key("cov1"), key("cov2"), key("cov3")
	out, _ := script.NewStakingOutput(script.Parties{
		Staker:            staker.PubKey(),
		FinalityProviders: []*btcec.PublicKey{key("fp").PubKey()},
		Covenant:          []*btcec.PublicKey{cov1.PubKey(), cov2.PubKey(), cov3.PubKey()},
		CovenantQuorum:    2,
	}, 144)
	sig := func(b byte) []byte { s := make([]byte, 64); s[0] = b; return s }
	w, _ := out.Witness(script.UnbondingPath, script.Signatures{
		Staker: sig(1),
		Covenant: map[script.XOnlyKey][]byte{
			script.XOnly(cov1.PubKey()): sig(2),
			script.XOnly(cov3.PubKey()): sig(3),
		},
	})

	// Read the witness back: which leaf, and who signed.
	s, err := out.ParseWitness(w)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("leaf:", s.Leaf.Kind, "quorum", s.Leaf.Quorum)
	fmt.Println("staker signed:", s.Staker != nil)
	for _, c := range []*btcec.PrivateKey{cov1, cov2, cov3} {
		fmt.Println("covenant signed:", s.Signed(script.XOnly(c.PubKey())))
	}
	r := script.RevealOutput(s.Leaf, s.ControlBlock, script.TimelockSearch{Exhaustive: true})
	fmt.Println("spends the", r.Kind, "output, staking time", r.StakingTime)
	// Output:
	// leaf: unbonding quorum 2
	// staker signed: true
	// covenant signed: true
	// covenant signed: false
	// covenant signed: true
	// spends the staking output, staking time 144
}

// Scanning a serialized block (the bytes a node serves) for phase-1
// staking transactions: ordinary transactions are skipped in place.
func ExampleStakingTxParser_ScanBlock() {
	cov := []*btcec.PublicKey{key("cov1").PubKey(), key("cov2").PubKey(), key("cov3").PubKey()}
	parser, _ := script.NewStakingTxParser(script.ParserConfig{Tag: []byte("bbt4"), Covenant: cov, CovenantQuorum: 2})

	// A block with a payment and a staking transaction.
	staker, fp := key("staker").PubKey(), key("fp").PubKey()
	out, _ := script.NewStakingOutput(script.Parties{Staker: staker, FinalityProviders: []*btcec.PublicKey{fp},
		Covenant: cov, CovenantQuorum: 2}, 1000)
	data, _ := script.NewV0StakingData([]byte("bbt4"), staker, []*btcec.PublicKey{fp}, 1000)
	payment, stake := wire.NewMsgTx(2), wire.NewMsgTx(2)
	for _, tx := range []*wire.MsgTx{payment, stake} {
		tx.AddTxIn(&wire.TxIn{Witness: wire.TxWitness{make([]byte, 64)}})
	}
	payment.AddTxOut(wire.NewTxOut(5000, append([]byte{0x00, 0x14}, make([]byte, 20)...)))
	stake.AddTxOut(out.TxOut(100_000))
	stake.AddTxOut(data.TxOut())
	block := wire.MsgBlock{Transactions: []*wire.MsgTx{payment, stake}}
	var raw bytes.Buffer
	_ = block.Serialize(&raw)

	found, err := parser.ScanBlock(raw.Bytes())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range found {
		fmt.Println("tx", f.Index, "stakes", f.Parsed.Value, "sat for", f.Parsed.Data.StakingTime, "blocks")
	}
	// Output:
	// tx 1 stakes 100000 sat for 1000 blocks
}

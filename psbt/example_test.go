package psbt_test

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// exampleKey derives a fixed key from a label. These keys are public: never
// use them for real coins.
func exampleKey(label string) *btcec.PrivateKey {
	h := sha256.Sum256([]byte(label))
	k, _ := btcec.PrivKeyFromBytes(h[:])
	return k
}

func p2wpkh(k *btcec.PrivateKey) []byte {
	return append([]byte{0x00, 0x14}, address.Hash160(k.PubKey().SerializeCompressed())...)
}

// exampleSetup takes the example regtest params (whose covenant keys are
// the "btcstake example covenant N" keys) and describes a delegation.
func exampleSetup() (psbt.Delegation, []*btcec.PrivateKey, *btcec.PrivateKey, *btcec.PrivateKey) {
	prm := params.RegtestExample()
	staker, fp := exampleKey("btcstake example staker"), exampleKey("btcstake example fp")
	cov := []*btcec.PrivateKey{exampleKey("btcstake example covenant 1"), exampleKey("btcstake example covenant 2"),
		exampleKey("btcstake example covenant 3")}
	d := psbt.Delegation{Params: prm, Staker: staker.PubKey(),
		FinalityProviders: []*btcec.PublicKey{fp.PubKey()}, StakingTime: 144}
	return d, cov, staker, fp
}

func ExampleBuildStaking() {
	d, _, _, _ := exampleSetup()
	wallet := exampleKey("btcstake example wallet")
	coin := psbt.UTXO{
		OutPoint: wire.OutPoint{Hash: chainhash.Hash{1}, Index: 0},
		Value:    250_000,
		PkScript: p2wpkh(wallet),
	}
	rate, _ := psbt.FeeRateFromSatPerVB(2)
	res, err := psbt.BuildStaking(psbt.StakingRequest{
		Delegation:     d,
		Value:          100_000,
		UTXOs:          []psbt.UTXO{coin},
		FeeRate:        rate,
		ChangePkScript: p2wpkh(wallet),
		PhaseOne:       true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	desc := res.Description
	fmt.Printf("fee %d sat for %d vB\n", desc.Fee, desc.VSize)
	for _, o := range desc.Outputs {
		fmt.Printf("output %d: %-9s %6d sat\n", o.Index, o.Role, o.Value)
	}

	// A stake the params do not allow is refused before anything is built.
	_, err = psbt.BuildStaking(psbt.StakingRequest{Delegation: d, Value: 1_000,
		UTXOs: []psbt.UTXO{coin}, FeeRate: rate, ChangePkScript: p2wpkh(wallet)})
	fmt.Println(errors.Is(err, params.ErrInvalidStakingValue))
	// Output:
	// fee 470 sat for 235 vB
	// output 0: staking   100000 sat
	// output 1: op_return      0 sat
	// output 2: change    149530 sat
	// true
}

func ExampleCompleteSlashing() {
	d, cov, staker, fp := exampleSetup()
	st, _ := d.StakingOutput()
	stakingTx := wire.NewMsgTx(2)
	stakingTx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: chainhash.Hash{2}}})
	stakingTx.AddTxOut(st.TxOut(100_000))

	// 1. The staker pre-signs the slashing transaction.
	res, err := psbt.BuildSlashing(d, script.StakingOutputKind, psbt.Funding{Tx: stakingTx, Index: 0})
	if err != nil {
		fmt.Println(err)
		return
	}
	slashing := res.Packet
	if err := psbt.SignTapscript(slashing, 0, staker); err != nil {
		fmt.Println(err)
		return
	}
	// 2. Covenant members check the transaction against the delegation and
	// add adaptor signatures encrypted to the FP's key.
	for _, k := range cov[:2] {
		signer, _ := psbt.NewCovenantSigner(k)
		if _, err := signer.Sign(slashing, 0, d); err != nil {
			fmt.Println(err)
			return
		}
	}
	// 3. The FP double-signs; its key leaks (eots.Extract); anyone completes.
	tx, err := psbt.CompleteSlashing(slashing, fp)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("valid:", psbt.ValidateSlashingTx(tx, stakingTx, 0, script.StakingOutputKind, d) == nil)
	fmt.Printf("slashed %d sat, %d sat back to the staker after %d blocks\n",
		tx.TxOut[0].Value, tx.TxOut[1].Value, d.Params.UnbondingTime())

	// 4. Anyone holding an adaptor signature recovers the FP key from the
	// completed transaction.
	sigs, _ := psbt.AdaptorSigs(slashing, 0)
	for _, a := range sigs {
		if k, err := psbt.RecoverFinalityProviderKey(tx, 0, a); err == nil {
			fmt.Println("recovered the FP key:", script.XOnly(k.PubKey()) == script.XOnly(fp.PubKey()))
			break
		}
	}
	// Output:
	// valid: true
	// slashed 10000 sat, 89000 sat back to the staker after 10 blocks
	// recovered the FP key: true
}

func ExampleAnalyze() {
	d, cov, staker, _ := exampleSetup()
	st, _ := d.StakingOutput()
	stakingTx := wire.NewMsgTx(2)
	stakingTx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: chainhash.Hash{3}}})
	stakingTx.AddTxOut(st.TxOut(100_000))
	res, err := psbt.BuildUnbonding(d, psbt.Funding{Tx: stakingTx, Index: 0})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = psbt.SignTapscript(res.Packet, 0, staker)
	member, _ := psbt.NewCovenantSigner(cov[0])
	_, _ = member.Sign(res.Packet, 0, d)

	// What is it, who signed, what is missing?
	a, err := psbt.Analyze(res.Packet, psbt.AnalyzeOptions{Params: d.Params, TimelockSearches: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	in := a.Inputs[0]
	fmt.Println(a.Kind, "transaction spending the", in.SpentOutput, "output through the", in.Leaf.Kind, "path")
	fmt.Println("staking time", in.StakingTime, "staker signed", in.StakerSigned)
	fmt.Printf("covenant %d of %d, quorum %d\n", in.CovenantSigned(), len(in.Covenant), in.Leaf.Quorum)
	for _, m := range a.Missing() {
		fmt.Println("missing:", m)
	}
	fmt.Printf("output 0: %s, fee %d sat, %d vB once signed\n", a.Outputs[0].Role, a.Fee, a.VSize)
	// Output:
	// unbonding transaction spending the staking output through the unbonding path
	// staking time 144 staker signed true
	// covenant 1 of 3, quorum 2
	// missing: input 0: 1 more covenant signature(s) (1 of 3, quorum 2)
	// output 0: unbonding, fee 1000 sat, 203 vB once signed
}

package psbt_test

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
)

func ExampleBuildExtension() {
	prev, cov, staker, _ := exampleSetup()
	st, _ := prev.StakingOutput()
	stakingTx := wire.NewMsgTx(2)
	stakingTx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: chainhash.Hash{4}}})
	stakingTx.AddTxOut(st.TxOut(100_000))

	// The current params: covenant members 1 and 2 stay, a new one joins.
	newMember := exampleKey("btcstake example covenant 4")
	cfg := prev.Params.Config()
	cfg.CovenantKeys = []*btcec.PublicKey{cov[0].PubKey(), cov[1].PubKey(), newMember.PubKey()}
	current, err := params.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	next := prev
	next.Params, next.StakingTime = current, 288

	wallet := exampleKey("btcstake example wallet")
	rate, _ := psbt.FeeRateFromSatPerVB(2)
	res, err := psbt.BuildExtension(psbt.ExtensionRequest{
		Previous: prev, PreviousFunding: psbt.Funding{Tx: stakingTx, Index: 0}, New: next,
		AddedValue: 50_000,
		Funding:    psbt.UTXO{OutPoint: wire.OutPoint{Hash: chainhash.Hash{5}}, Value: 80_000, PkScript: p2wpkh(wallet)},
		FeeRate:    rate, ChangePkScript: p2wpkh(wallet),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range res.Description.Outputs {
		fmt.Printf("output %d: %-7s %6d sat\n", o.Index, o.Role, o.Value)
	}
	fmt.Printf("fee %d sat for %d vB\n", res.Description.Fee, res.Description.VSize)

	// The staker signs input 0 (the old output's unbonding leaf) and the
	// funding coin; members of the OLD committee sign input 0 after
	// checking the extension against both delegations.
	_ = psbt.SignTapscript(res.Packet, 0, staker)
	for _, k := range cov[:2] {
		member, _ := psbt.NewCovenantSigner(k)
		if _, err := member.SignExtension(res.Packet, next, prev); err != nil {
			fmt.Println(err)
			return
		}
	}
	stranger, _ := psbt.NewCovenantSigner(newMember)
	_, err = stranger.SignExtension(res.Packet, next, prev)
	fmt.Println("new member refused:", errors.Is(err, psbt.ErrNotSignable))
	_, _ = psbt.SignFundingInput(res.Packet, 1, wallet)
	tx, err := psbt.Finalize(res.Packet)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("vsize as estimated:", psbt.VSize(tx) == res.Description.VSize)
	// Output:
	// output 0: staking 150000 sat
	// output 1: change   29396 sat
	// fee 604 sat for 302 vB
	// new member refused: true
	// vsize as estimated: true
}

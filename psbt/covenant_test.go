package psbt

import (
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/script"
)

func TestCheckCovenantSigning(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 2, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	f := Funding{stTx, outputIndex(stTx, st)}
	ub, _ := BuildUnbonding(d, f)
	slash, _ := BuildSlashing(d, script.StakingOutputKind, f)
	if err := CheckCovenantSigning(ub.Packet, 0, d); err != nil {
		t.Fatalf("honest unbonding: %v", err)
	}
	if err := CheckCovenantSigning(slash.Packet, 0, d); err != nil {
		t.Fatalf("honest slashing: %v", err)
	}
	signAll(t, ub.Packet, append([]*btcec.PrivateKey{w.staker}, w.cov...)...)
	ubTx, err := Finalize(ub.Packet)
	if err != nil {
		t.Fatal(err)
	}
	slashUB, _ := BuildSlashing(d, script.UnbondingOutputKind, Funding{ubTx, 0})
	if err := CheckCovenantSigning(slashUB.Packet, 0, d); err != nil {
		t.Fatalf("honest slashing of the unbonding output: %v", err)
	}

	// A staker's attempts to get covenant signatures it should not get.
	thief := p2wpkh(w.staker)
	cases := []struct {
		name string
		res  *Result
		mod  func(*wire.MsgTx)
		d    Delegation
		want error
	}{
		{"unbonding paying the staker directly", mustBuild(BuildUnbonding(d, f)), func(tx *wire.MsgTx) { tx.TxOut[0].PkScript = thief }, d, ErrTxOutputs},
		{"unbonding with a bigger fee", mustBuild(BuildUnbonding(d, f)), func(tx *wire.MsgTx) { tx.TxOut[0].Value -= 5000 }, d, ErrTxFee},
		{"unbonding with an extra output", withExtraOutput(mustBuild(BuildUnbonding(d, f)), thief), nil, d, ErrTxOutputs},
		{"unbonding with a lock time", mustBuild(BuildUnbonding(d, f)), func(tx *wire.MsgTx) { tx.LockTime = 5 }, d, ErrTxLockTime},
		{"slashing paying the staker", mustBuild(BuildSlashing(d, script.StakingOutputKind, f)), func(tx *wire.MsgTx) { tx.TxOut[0].PkScript = thief }, d, ErrTxOutputs},
		{"slashing a tenth of the amount", mustBuild(BuildSlashing(d, script.StakingOutputKind, f)), func(tx *wire.MsgTx) {
			tx.TxOut[1].Value += tx.TxOut[0].Value * 9 / 10
			tx.TxOut[0].Value /= 10
		}, d, ErrTxValue},
		{"another delegation (staking time)", mustBuild(BuildUnbonding(d, f)), nil, func() Delegation { o := d; o.StakingTime = 101; return o }(), ErrWrongInput},
		{"another delegation (finality provider)", mustBuild(BuildSlashing(d, script.StakingOutputKind, f)), nil,
			func() Delegation { o := d; o.FinalityProviders = o.FinalityProviders[:1]; return o }(), ErrWrongInput},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.mod != nil {
				c.mod(c.res.Packet.UnsignedTx)
			}
			if err := CheckCovenantSigning(c.res.Packet, 0, c.d); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	// The leaf revealed must be the output's own: swapping in the timelock
	// leaf is refused.
	swapped := mustBuild(BuildUnbonding(d, f))
	tl, _ := st.Path(script.TimelockPath)
	swapped.Packet.Inputs[0].TaprootLeafScript[0].Script = tl.Script
	swapped.Packet.Inputs[0].TaprootLeafScript[0].ControlBlock = tl.ControlBlock
	if err := CheckCovenantSigning(swapped.Packet, 0, d); !errors.Is(err, ErrNotSignable) {
		t.Fatalf("timelock leaf: %v", err)
	}
}

// withExtraOutput adds an output to the transaction and to the PSBT's output
// list, keeping the packet consistent.
func withExtraOutput(r *Result, pkScript []byte) *Result {
	r.Packet.UnsignedTx.AddTxOut(wire.NewTxOut(1000, pkScript))
	r.Packet.Outputs = append(r.Packet.Outputs, psbt.POutput{})
	return r
}

func mustBuild(r *Result, err error) *Result {
	if err != nil {
		panic(err)
	}
	return r
}

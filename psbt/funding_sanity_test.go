package psbt

import (
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// TestFundingTxSanity: unbond, slash and withdraw refuse a funding
// transaction that breaks Bitcoin's context-free rules (found by
// FuzzFundingTx: a staking transaction with another output above 21M BTC
// got an unbonding PSBT that ValidateUnbondingTx then refused), naming the
// rule, and build from the same transaction once it is valid.
func TestFundingTxSanity(t *testing.T) {
	r := rand.New(rand.NewSource(16))
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	out, _ := d.StakingOutput()
	idx := outputIndex(stTx, out)
	builders := map[string]func(f Funding) error{
		"unbonding": func(f Funding) error { _, err := BuildUnbonding(d, f); return err },
		"slashing":  func(f Funding) error { _, err := BuildSlashing(d, script.StakingOutputKind, f); return err },
		"withdraw": func(f Funding) error {
			_, err := BuildWithdraw(WithdrawRequest{Delegation: d, From: script.StakingOutputKind, Funding: f, DestPkScript: p2wpkh(w.staker), FeeRate: 2000})
			return err
		},
	}
	for name, build := range builders {
		if err := build(Funding{stTx, idx}); err != nil {
			t.Fatalf("%s from the valid staking tx: %v", name, err)
		}
		for what, bad := range map[string]struct {
			mutate func(tx *wire.MsgTx)
			text   string
		}{
			"an output above 21M BTC": {func(tx *wire.MsgTx) { tx.AddTxOut(wire.NewTxOut(params.MaxMoney+1, []byte{0x51})) }, "outside"},
			"outputs summing above 21M BTC": {func(tx *wire.MsgTx) {
				tx.AddTxOut(wire.NewTxOut(params.MaxMoney, []byte{0x51}))
			}, "sum to more"},
			"an input spent twice": {func(tx *wire.MsgTx) { tx.AddTxIn(wire.NewTxIn(&tx.TxIn[0].PreviousOutPoint, nil, nil)) }, "again"},
		} {
			tx := stTx.Copy()
			bad.mutate(tx)
			err := build(Funding{tx, idx})
			if !errors.Is(err, ErrWrongInput) || !strings.Contains(err.Error(), bad.text) {
				t.Errorf("%s from a funding tx with %s: %v", name, what, err)
			}
		}
	}
}

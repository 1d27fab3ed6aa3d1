package monitor

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// TestNewStake: the Stake of a staking transaction points at the output
// that pays the staking script (output 1 here, by construction) and holds
// the delegation's three outputs, each rebuilt here from the parties; a
// transaction that does not pay the delegation, or an impossible height,
// is refused.
func TestNewStake(t *testing.T) {
	prm, err := params.Load("../params/regtest-example.json")
	if err != nil {
		t.Fatal(err)
	}
	staker, fp := newKey(t), newKey(t)
	d := psbt.Delegation{Params: prm, Staker: staker, FinalityProviders: []*btcec.PublicKey{fp}, StakingTime: 144}
	parties := script.Parties{Staker: staker, FinalityProviders: []*btcec.PublicKey{fp},
		Covenant: prm.CovenantKeys(), CovenantQuorum: prm.CovenantQuorum()}
	st, err := script.NewStakingOutput(parties, 144)
	if err != nil {
		t.Fatal(err)
	}
	ub, err := script.NewUnbondingOutput(parties, prm.UnbondingTime())
	if err != nil {
		t.Fatal(err)
	}
	ch, err := script.NewSlashingChangeOutput(staker, prm.UnbondingTime())
	if err != nil {
		t.Fatal(err)
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: [32]byte{7}}})
	tx.AddTxOut(wire.NewTxOut(30_000, []byte{0x00, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}))
	tx.AddTxOut(wire.NewTxOut(100_000, st.PkScript))

	for _, h := range []int64{-1, 0, 812_345} {
		s, err := NewStake(tx, h, d)
		if err != nil {
			t.Fatalf("height %d: %v", h, err)
		}
		if s.OutPoint != (wire.OutPoint{Hash: tx.TxHash(), Index: 1}) || s.Height != h {
			t.Errorf("height %d: outpoint %v, height %d", h, s.OutPoint, s.Height)
		}
		for _, c := range []struct {
			got, want *script.Output
		}{{s.Staking, st}, {s.Unbonding, ub}, {s.SlashingChange, ch}} {
			if c.got == nil || !bytes.Equal(c.got.PkScript, c.want.PkScript) {
				t.Errorf("height %d: an output of the stake is not the delegation's", h)
			}
		}
		if err := s.check(); err != nil {
			t.Errorf("height %d: Follow would refuse the stake: %v", h, err)
		}
	}

	other := d
	other.StakingTime = 145
	if _, err := NewStake(tx, 10, other); !errors.Is(err, psbt.ErrInvalidTx) {
		t.Errorf("another delegation's staking tx: %v, want psbt.ErrInvalidTx", err)
	}
	if _, err := NewStake(tx, -2, d); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("height -2: %v, want ErrInvalidArgument", err)
	}
	if _, err := NewStake(nil, 10, d); !errors.Is(err, psbt.ErrInvalidTx) {
		t.Errorf("no transaction: %v, want psbt.ErrInvalidTx", err)
	}
}

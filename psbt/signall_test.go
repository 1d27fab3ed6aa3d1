package psbt

import (
	"errors"
	"testing"

	"github.com/btcstake/btcstake/script"
)

// TestSign: one call signs what the key may sign, by its role, and
// refuses the rest with the library's rules; a refusal changes nothing.
func TestSign(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	f, err := d.FundingFrom(stTx, script.StakingOutputKind)
	if err != nil {
		t.Fatal(err)
	}
	deleg := func(int, *script.Leaf) (Delegation, error) { return d, nil }

	t.Run("staker and covenant on an unbonding tx", func(t *testing.T) {
		ub := mustBuild(BuildUnbonding(d, f))
		s, err := Sign(ub.Packet, SignRequest{Key: w.staker})
		if err != nil || len(s) != 1 || s[0].Role != script.StakerRole || s[0].Kind != TapScriptSig {
			t.Fatalf("staker: %+v, %v", s, err)
		}
		// Without a delegation a covenant key is refused, the packet unchanged.
		before := packetBytes(t, ub.Packet)
		if _, err := Sign(ub.Packet, SignRequest{Key: w.cov[0]}); !errors.Is(err, ErrUncheckedCovenant) {
			t.Fatalf("covenant without a delegation: %v", err)
		}
		if string(before) != string(packetBytes(t, ub.Packet)) {
			t.Fatal("a refusal changed the packet")
		}
		for _, k := range w.cov[:2] {
			s, err := Sign(ub.Packet, SignRequest{Key: k, Covenant: deleg})
			if err != nil || len(s) != 1 || s[0].Role != script.CovenantRole {
				t.Fatalf("covenant: %+v, %v", s, err)
			}
		}
		if _, err := Finalize(ub.Packet); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a covenant check failing refuses the whole call", func(t *testing.T) {
		ub := mustBuild(BuildUnbonding(d, f))
		ub.Packet.UnsignedTx.TxOut[0].Value -= 5000 // a bigger fee than the params allow
		before := packetBytes(t, ub.Packet)
		if _, err := Sign(ub.Packet, SignRequest{Key: w.cov[0], Covenant: deleg}); !errors.Is(err, ErrTxFee) {
			t.Fatalf("got %v, want ErrTxFee", err)
		}
		if string(before) != string(packetBytes(t, ub.Packet)) {
			t.Fatal("a refusal changed the packet")
		}
	})
	t.Run("slashing leaf: staker signs, covenant and FP are refused with their role", func(t *testing.T) {
		sl := mustBuild(BuildSlashing(d, script.StakingOutputKind, f))
		for _, c := range []struct {
			key  int
			role script.Role
		}{{0, script.CovenantRole}, {1, script.FinalityProviderRole}} {
			k := w.cov[0]
			if c.key == 1 {
				k = w.fps[0]
			}
			_, err := Sign(sl.Packet, SignRequest{Key: k, Covenant: deleg})
			var refusal *RefusalError
			if !errors.Is(err, ErrSlashingLeafRole) || !errors.As(err, &refusal) || refusal.Role != c.role || refusal.Input != 0 || refusal.Leaf != script.SlashingPath {
				t.Fatalf("%v: %v", c.role, err)
			}
		}
		if s, err := Sign(sl.Packet, SignRequest{Key: w.staker}); err != nil || len(s) != 1 {
			t.Fatalf("staker: %+v, %v", s, err)
		}
	})
	t.Run("funding coins and strangers", func(t *testing.T) {
		k := randKey(r)
		res, err := BuildStaking(StakingRequest{Delegation: w.delegation(100), Value: 100_000, FeeRate: 1000, ChangePkScript: p2wpkh(k),
			UTXOs: []UTXO{coin(r, k, p2wpkh(k), 70_000), coin(r, k, p2tr(k), 70_000)}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Sign(res.Packet, SignRequest{Key: randKey(r)}); !errors.Is(err, ErrNotSignable) {
			t.Fatalf("a stranger: %v", err)
		}
		s, err := Sign(res.Packet, SignRequest{Key: k, Inputs: []int{1}})
		if err != nil || len(s) != 1 || s[0].Input != 1 || s[0].Kind != FundingSig {
			t.Fatalf("input 1 only: %+v, %v", s, err)
		}
		if _, err := Sign(res.Packet, SignRequest{Key: k, Inputs: []int{2}}); !errors.Is(err, ErrWrongInput) {
			t.Fatalf("input out of range: %v", err)
		}
		if s, err := Sign(res.Packet, SignRequest{Key: k}); err != nil || len(s) != 2 {
			t.Fatalf("all (re-signing input 1): %+v, %v", s, err)
		}
		if _, err := Finalize(res.Packet); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := Sign(nil, SignRequest{Key: w.staker}); !errors.Is(err, ErrInvalidPSBT) {
		t.Fatalf("nil packet: %v", err)
	}
	if _, err := Sign(mustBuild(BuildUnbonding(d, f)).Packet, SignRequest{}); !errors.Is(err, ErrNotSignable) {
		t.Fatalf("no key: %v", err)
	}
}

package psbt

import (
	"bytes"
	"errors"
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// phaseOneTx builds (unsigned) a phase-1 staking transaction of d.
func phaseOneTx(t testing.TB, r *rand.Rand, d Delegation, value int64) *wire.MsgTx {
	t.Helper()
	k := randKey(r)
	res, err := BuildStaking(StakingRequest{Delegation: d, Value: value, UTXOs: []UTXO{coin(r, k, p2wpkh(k), value+50_000)},
		FeeRate: 2000, ChangePkScript: p2wpkh(k), PhaseOne: true})
	if err != nil {
		t.Fatal(err)
	}
	return res.Packet.UnsignedTx
}

// TestPhaseOneDelegation: the delegation read from a phase-1 staking
// transaction is the one it was built for, and ValidateStakingTx finds
// the same staking output with it; a transaction or params that do not
// fit are refused with the kind that says why.
func TestPhaseOneDelegation(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	want := w.delegation(1234)
	tx := phaseOneTx(t, r, want, 200_000)
	var before bytes.Buffer
	_ = tx.Serialize(&before)

	got, err := PhaseOneDelegation(tx, w.params)
	if err != nil {
		t.Fatal(err)
	}
	if got.Params != w.params || got.StakingTime != 1234 || len(got.FinalityProviders) != 1 ||
		script.XOnly(got.Staker) != script.XOnly(w.staker.PubKey()) ||
		script.XOnly(got.FinalityProviders[0]) != script.XOnly(w.fps[0].PubKey()) {
		t.Fatalf("got staker %s, fps %v, staking time %d", script.XOnly(got.Staker), got.FinalityProviders, got.StakingTime)
	}
	wantIdx, err := ValidateStakingTx(tx, want)
	if err != nil {
		t.Fatal(err)
	}
	if idx, err := ValidateStakingTx(tx, got); err != nil || idx != wantIdx {
		t.Fatalf("ValidateStakingTx with the read delegation: %d, %v; want %d", idx, err, wantIdx)
	}
	var after bytes.Buffer
	_ = tx.Serialize(&after)
	if !bytes.Equal(before.Bytes(), after.Bytes()) {
		t.Fatal("the transaction was changed")
	}

	noTag, err := params.New(params.Config{CovenantKeys: pubs(w.cov), CovenantQuorum: 2,
		MinStakingValue: 10_000, MaxStakingValue: 10_000_000_000, MinStakingTime: 10, MaxStakingTime: 65535,
		UnbondingTime: 20, UnbondingFee: 1_000, SlashingPkScript: p2wpkh(w.slashKey), SlashingRate: "0.1", MinSlashingFee: 1_000})
	if err != nil {
		t.Fatal(err)
	}
	other := newWorld(t, r, 1, 3, 2) // same tag, another committee
	plain, _ := w.stake(t, 200_000, 1234)
	for _, c := range []struct {
		name string
		tx   *wire.MsgTx
		p    *params.Params
		want error
	}{
		{"no params", tx, nil, params.ErrInvalidParams},
		{"params without a tag", tx, noTag, params.ErrInvalidParams},
		{"another covenant committee", tx, other.params, script.ErrNotStakingTx},
		{"no phase-1 data", plain, w.params, script.ErrNotStakingTx},
		{"no transaction", nil, w.params, script.ErrNotStakingTx},
	} {
		if _, err := PhaseOneDelegation(c.tx, c.p); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// FuzzPhaseOneDelegation: any bytes that decode to a transaction either
// are refused or give a delegation whose staking output exactly one output
// of the transaction pays.
func FuzzPhaseOneDelegation(f *testing.F) {
	r := rand.New(rand.NewSource(3))
	w := newWorld(f, r, 1, 3, 2)
	var b bytes.Buffer
	_ = phaseOneTx(f, r, w.delegation(500), 100_000).Serialize(&b)
	f.Add(b.Bytes())
	plain, _ := w.stake(f, 100_000, 500)
	b.Reset()
	_ = plain.Serialize(&b)
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, raw []byte) {
		var tx wire.MsgTx
		if tx.Deserialize(bytes.NewReader(raw)) != nil {
			return
		}
		d, err := PhaseOneDelegation(&tx, w.params)
		if err != nil {
			return
		}
		st, err := d.StakingOutput()
		if err != nil {
			t.Fatalf("the read delegation has no staking output: %v", err)
		}
		n := 0
		for _, o := range tx.TxOut {
			if bytes.Equal(o.PkScript, st.PkScript) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d outputs pay the read delegation's staking output", n)
		}
	})
}

package psbt

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

func TestValidateUnbondingTxRules(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	res, _ := BuildUnbonding(d, Funding{stTx, outputIndex(stTx, st)})
	signAll(t, res.Packet, w.staker, w.cov[0], w.cov[1])
	good, err := Finalize(res.Packet)
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateUnbondingTx(good, stTx, d); err != nil {
		t.Fatal(err)
	}
	ub, _ := d.UnbondingOutput()
	cases := []struct {
		name string
		mod  func(*wire.MsgTx)
		want error
	}{
		{"version 1", func(tx *wire.MsgTx) { tx.Version = 1 }, ErrTxVersion},
		{"two inputs", func(tx *wire.MsgTx) { tx.AddTxIn(&wire.TxIn{}) }, ErrTxInputs},
		{"other outpoint", func(tx *wire.MsgTx) { tx.TxIn[0].PreviousOutPoint.Index++ }, ErrTxInputs},
		{"scriptSig", func(tx *wire.MsgTx) { tx.TxIn[0].SignatureScript = []byte{0x51} }, ErrTxInputs},
		{"sequence", func(tx *wire.MsgTx) { tx.TxIn[0].Sequence = 0xfffffffe }, ErrTxSequence},
		{"lock time", func(tx *wire.MsgTx) { tx.LockTime = 1 }, ErrTxLockTime},
		{"extra output", func(tx *wire.MsgTx) { tx.AddTxOut(wire.NewTxOut(1, ub.PkScript)) }, ErrTxOutputs},
		{"other script", func(tx *wire.MsgTx) { tx.TxOut[0].PkScript = st.PkScript }, ErrTxOutputs},
		{"fee one sat high", func(tx *wire.MsgTx) { tx.TxOut[0].Value-- }, ErrTxFee},
		{"fee one sat low", func(tx *wire.MsgTx) { tx.TxOut[0].Value++ }, ErrTxFee},
		{"too heavy", func(tx *wire.MsgTx) { tx.TxIn[0].Witness = wire.TxWitness{make([]byte, 400_000)} }, ErrTxWeight},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx := good.Copy()
			c.mod(tx)
			err := ValidateUnbondingTx(tx, stTx, d)
			if !errors.Is(err, c.want) || !errors.Is(err, ErrInvalidTx) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	// Staking side: a staking tx for another delegation is refused.
	other := d
	other.StakingTime = 101
	if err := ValidateUnbondingTx(good, stTx, other); !errors.Is(err, ErrTxOutputs) {
		t.Errorf("staking tx of another delegation: %v", err)
	}
}

func TestValidateSlashingTxRules(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	f := Funding{stTx, outputIndex(stTx, st)}
	res, _ := BuildSlashing(d, script.StakingOutputKind, f)
	good := res.Packet.UnsignedTx
	if err := ValidateSlashingTx(good, stTx, f.Index, script.StakingOutputKind, d); err != nil {
		t.Fatal(err)
	}
	v2 := good.Copy()
	v2.Version = 2
	if err := ValidateSlashingTx(v2, stTx, f.Index, script.StakingOutputKind, d); err != nil {
		t.Fatalf("version 2 (as the TS library builds) refused: %v", err)
	}
	cases := []struct {
		name string
		mod  func(*wire.MsgTx)
		want error
	}{
		{"version 3", func(tx *wire.MsgTx) { tx.Version = 3 }, ErrTxVersion},
		{"two inputs", func(tx *wire.MsgTx) { tx.AddTxIn(&wire.TxIn{}) }, ErrTxInputs},
		{"other outpoint", func(tx *wire.MsgTx) { tx.TxIn[0].PreviousOutPoint.Hash[0] ^= 1 }, ErrTxInputs},
		{"sequence", func(tx *wire.MsgTx) { tx.TxIn[0].Sequence = 5 }, ErrTxSequence},
		{"lock time", func(tx *wire.MsgTx) { tx.LockTime = 7 }, ErrTxLockTime},
		{"three outputs", func(tx *wire.MsgTx) { tx.AddTxOut(wire.NewTxOut(1000, p2wpkh(w.staker))) }, ErrTxOutputs},
		{"slashing script", func(tx *wire.MsgTx) { tx.TxOut[0].PkScript = p2wpkh(w.staker) }, ErrTxOutputs},
		{"change script", func(tx *wire.MsgTx) { tx.TxOut[1].PkScript = p2wpkh(w.staker) }, ErrTxOutputs},
		{"slashed one sat short", func(tx *wire.MsgTx) { tx.TxOut[0].Value--; tx.TxOut[1].Value++ }, ErrTxValue},
		{"fee below minimum", func(tx *wire.MsgTx) { tx.TxOut[1].Value++ }, ErrTxFee},
		{"dust change", func(tx *wire.MsgTx) { tx.TxOut[1].Value = 329 }, params.ErrDustOutput},
		// Values no transaction can carry: their sum wraps around int64 to
		// a fee that looks valid, and the dust check overflows too.
		{"outputs above 21M BTC", func(tx *wire.MsgTx) {
			tx.TxOut[0].Value, tx.TxOut[1].Value = 1<<62+200_000, 1<<62+200_000
		}, ErrTxValue},
		{"outputs of max int64", func(tx *wire.MsgTx) {
			tx.TxOut[0].Value, tx.TxOut[1].Value = math.MaxInt64, math.MaxInt64
		}, ErrTxValue},
		{"slashing output above 21M BTC", func(tx *wire.MsgTx) { tx.TxOut[0].Value = 21_000_000*100_000_000 + 1 }, ErrTxValue},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx := good.Copy()
			c.mod(tx)
			err := ValidateSlashingTx(tx, stTx, f.Index, script.StakingOutputKind, d)
			if !errors.Is(err, c.want) || !errors.Is(err, ErrInvalidTx) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	if err := ValidateSlashingTx(good, stTx, f.Index, script.UnbondingOutputKind, d); !errors.Is(err, ErrWrongInput) {
		t.Errorf("funding is not the unbonding output: %v", err)
	}
}

func TestValidateStakingTxRules(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	idx := outputIndex(stTx, st)
	for _, c := range []struct {
		name string
		mod  func(*wire.MsgTx)
		want error
	}{
		{"no inputs", func(tx *wire.MsgTx) { tx.TxIn = nil }, ErrTxInputs},
		{"no staking output", func(tx *wire.MsgTx) { tx.TxOut[idx].PkScript = p2wpkh(w.staker) }, ErrTxOutputs},
		{"two staking outputs", func(tx *wire.MsgTx) { tx.AddTxOut(st.TxOut(200_000)) }, ErrTxOutputs},
		{"value below min", func(tx *wire.MsgTx) { tx.TxOut[idx].Value = 9_999 }, params.ErrInvalidStakingValue},
	} {
		t.Run(c.name, func(t *testing.T) {
			tx := stTx.Copy()
			c.mod(tx)
			if _, err := ValidateStakingTx(tx, d); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	bad := d
	bad.StakingTime = 5
	if _, err := ValidateStakingTx(stTx, bad); !errors.Is(err, params.ErrInvalidStakingTime) {
		t.Errorf("staking time below min: %v", err)
	}
}

func FuzzDecodePSBT(f *testing.F) {
	r := newRand(f)
	w := newWorld(f, r, 1, 3, 2)
	stTx, d := w.stake(f, 100_000, 100)
	st, _ := d.StakingOutput()
	res, _ := BuildSlashing(d, script.StakingOutputKind, Funding{stTx, outputIndex(stTx, st)})
	_ = SignTapscript(res.Packet, 0, w.staker)
	_, _ = adaptorSignSlashing(res.Packet, 0, w.cov[0])
	f.Add(serialize(f, res.Packet))
	s, _ := Encode(res.Packet)
	f.Add([]byte(s))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := Decode(in)
		if err != nil {
			return
		}
		raw := serialize(t, p)
		p2, err := Decode(raw)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(raw, serialize(t, p2)) {
			t.Fatal("psbt does not round-trip")
		}
		// Reading our fields never panics.
		for i := range p.Inputs {
			_, _ = AdaptorSigs(p, i)
		}
		_, _ = VerifyTapscriptSigs(p)
	})
}

// TestNilTxPartsRefused: a hand-built transaction with a nil input or
// output is refused with an error of the rule's kind, never a panic, by the
// validators and the builders that take a funding transaction.
func TestNilTxPartsRefused(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	idx := outputIndex(stTx, st)
	ubRes, err := BuildUnbonding(d, Funding{stTx, idx})
	if err != nil {
		t.Fatal(err)
	}
	ubTx := ubRes.Packet.UnsignedTx
	slRes, err := BuildSlashing(d, script.StakingOutputKind, Funding{stTx, idx})
	if err != nil {
		t.Fatal(err)
	}
	slTx := slRes.Packet.UnsignedTx
	nilOut := func(tx *wire.MsgTx, i int) *wire.MsgTx { c := tx.Copy(); c.TxOut[i] = nil; return c }
	nilIn := func(tx *wire.MsgTx, i int) *wire.MsgTx { c := tx.Copy(); c.TxIn[i] = nil; return c }
	withNilOut := func(tx *wire.MsgTx) *wire.MsgTx { c := tx.Copy(); c.TxOut = append(c.TxOut, nil); return c }
	for _, c := range []struct {
		name string
		run  func() error
		want error
	}{
		{"staking tx with a nil output", func() error { _, err := ValidateStakingTx(withNilOut(stTx), d); return err }, ErrTxOutputs},
		{"unbonding tx with a nil input", func() error { return ValidateUnbondingTx(nilIn(ubTx, 0), stTx, d) }, ErrTxInputs},
		{"unbonding tx with a nil output", func() error { return ValidateUnbondingTx(nilOut(ubTx, 0), stTx, d) }, ErrTxOutputs},
		{"slashing tx with a nil input", func() error {
			return ValidateSlashingTx(nilIn(slTx, 0), stTx, idx, script.StakingOutputKind, d)
		}, ErrTxInputs},
		{"slashing tx with a nil output", func() error {
			return ValidateSlashingTx(nilOut(slTx, 1), stTx, idx, script.StakingOutputKind, d)
		}, ErrTxOutputs},
		{"funding output nil", func() error { _, err := BuildUnbonding(d, Funding{nilOut(stTx, int(idx)), idx}); return err }, ErrWrongInput},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("panic: %v", p)
					}
				}()
				err = c.run()
			}()
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

// TestMalformedPacketRefused: a hand-built packet whose input list does not
// match its transaction (or that has no transaction) is refused with
// ErrInvalidPSBT by every entry point, never a panic.
func TestMalformedPacketRefused(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	res, err := BuildUnbonding(d, Funding{stTx, outputIndex(stTx, st)})
	if err != nil {
		t.Fatal(err)
	}
	short := *res.Packet
	short.Inputs = nil
	noTx := *res.Packet
	noTx.UnsignedTx = nil
	// Nil keys are refused too.
	for op, f := range map[string]func() error{
		"SignTapscript":       func() error { return SignTapscript(res.Packet, 0, nil) },
		"SignFundingInputs":   func() error { _, err := SignFundingInputs(res.Packet, nil); return err },
		"AdaptorSignSlashing": func() error { _, err := adaptorSignSlashing(res.Packet, 0, nil); return err },
		"CompleteSlashing":    func() error { _, err := CompleteSlashing(res.Packet, nil); return err },
	} {
		t.Run("nil key/"+op, func(t *testing.T) {
			defer func() {
				if x := recover(); x != nil {
					t.Fatalf("panic: %v", x)
				}
			}()
			if err := f(); !errors.Is(err, ErrNotSignable) {
				t.Fatalf("got %v, want ErrNotSignable", err)
			}
		})
	}
	// VerifyTx of a transaction spending an output the packet does not describe.
	other := res.Packet.UnsignedTx.Copy()
	other.TxIn[0].PreviousOutPoint.Index++
	if err := VerifyTx(other, res.Packet); !errors.Is(err, ErrInvalidPSBT) {
		t.Errorf("VerifyTx of another transaction: %v", err)
	}
	for name, p := range map[string]*psbt.Packet{"no inputs": &short, "no transaction": &noTx, "nil": nil} {
		for op, f := range map[string]func() error{
			"SignTapscript":       func() error { return SignTapscript(p, 0, w.staker) },
			"TapscriptSigHash":    func() error { _, err := TapscriptSigHash(p, 0); return err },
			"SignFundingInputs":   func() error { _, err := SignFundingInputs(p, w.staker); return err },
			"VerifyTapscriptSigs": func() error { _, err := VerifyTapscriptSigs(p); return err },
			"Finalize":            func() error { _, err := Finalize(p); return err },
			"Combine":             func() error { _, err := Combine(p, res.Packet); return err },
			"AdaptorSignSlashing": func() error { _, err := adaptorSignSlashing(p, 0, w.cov[0]); return err },
			"CompleteSlashing":    func() error { _, err := CompleteSlashing(p, w.fps[0]); return err },
			"AdaptorSigs":         func() error { _, err := AdaptorSigs(p, 0); return err },
		} {
			t.Run(name+"/"+op, func(t *testing.T) {
				var err error
				func() {
					defer func() {
						if x := recover(); x != nil {
							t.Fatalf("panic: %v", x)
						}
					}()
					err = f()
				}()
				if !errors.Is(err, ErrInvalidPSBT) {
					t.Fatalf("got %v, want ErrInvalidPSBT", err)
				}
			})
		}
	}
}

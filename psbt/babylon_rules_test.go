package psbt

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// Regression tests for the places where btcstake's validators decided
// differently from Babylon's Go code (issue 11, item 8). The rules are
// Babylon's, read from babylonlabs-io/babylon at tag v4.3.1 (commit
// a93eadc9ed357429735a1ddc3a77ec79b066b2b3):
//
//   - btcstaking/staking.go: CheckPreSignedTxSanity (with
//     CheckPreSignedUnbondingTxSanity: 1 input, 1 output, version 2..2, and
//     CheckPreSignedSlashingTxSanity: 1 input, 2 outputs, version 1..2),
//     MaxStandardTxWeight = 400000, validateSlashingTx,
//     buildSlashingTxFromOutpoint ("slashingAmount <= 0" refused with
//     ErrInsufficientSlashingAmount), CheckSlashingTxMatchFundingTx (which
//     runs blockchain.CheckTransactionSanity on the staking tx);
//   - x/btcstaking/types/validate_parsed_message.go:
//     ValidateParsedMessageAgainstTheParams, which checks no version of the
//     staking transaction;
//   - btcd v0.24.2 (Babylon's pinned version) blockchain/validate.go:
//     CheckTransactionSanity.

// weightOf is BIP-141's definition, computed here independently of the
// package: stripped size * 3 + full size.
func weightOf(tx *wire.MsgTx) int {
	return tx.SerializeSizeStripped()*3 + tx.SerializeSize()
}

// padToWeight gives input 0 a single witness item so that tx weighs
// exactly target.
func padToWeight(t *testing.T, tx *wire.MsgTx, target int) {
	t.Helper()
	n := 0
	for range 4 {
		tx.TxIn[0].Witness = wire.TxWitness{make([]byte, n)}
		w := weightOf(tx)
		if w == target {
			return
		}
		n += target - w
	}
	t.Fatalf("cannot pad to weight %d", target)
}

// (a) Babylon checks no version of the staking transaction (the version-2
// rule is for transactions that spend a relative time lock), only
// blockchain.CheckTransactionSanity. Before the fix ValidateStakingTx
// refused every version but 2, and accepted a staking tx with no inputs.
func TestValidateStakingTxAnyVersionAsBabylon(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	if stTx.Version != 2 {
		t.Fatalf("the builder made version %d, want 2", stTx.Version)
	}
	st, _ := d.StakingOutput()
	want := outputIndex(stTx, st)
	for _, v := range []int32{1, 3, 0, -1, math.MaxInt32, math.MinInt32} {
		tx := stTx.Copy()
		tx.Version = v
		idx, err := ValidateStakingTx(tx, d)
		if err != nil || idx != want {
			t.Errorf("version %d: index %d, %v (Babylon accepts any version)", v, idx, err)
		}
	}

	// blockchain.CheckTransactionSanity, which Babylon runs on the staking
	// tx (CheckSlashingTxMatchFundingTx).
	nullOut := wire.OutPoint{Index: math.MaxUint32}
	for _, c := range []struct {
		name string
		mod  func(*wire.MsgTx)
		want error
	}{
		{"no inputs", func(tx *wire.MsgTx) { tx.TxIn = nil }, ErrTxInputs},
		{"the same input twice", func(tx *wire.MsgTx) { in := *tx.TxIn[0]; tx.AddTxIn(&in) }, ErrTxInputs},
		{"a null previous outpoint beside another input", func(tx *wire.MsgTx) {
			tx.AddTxIn(&wire.TxIn{PreviousOutPoint: nullOut})
		}, ErrTxInputs},
		{"a coinbase with a 1-byte script", func(tx *wire.MsgTx) {
			tx.TxIn = []*wire.TxIn{{PreviousOutPoint: nullOut, SignatureScript: []byte{1}}}
		}, ErrTxInputs},
		{"a coinbase with a 101-byte script", func(tx *wire.MsgTx) {
			tx.TxIn = []*wire.TxIn{{PreviousOutPoint: nullOut, SignatureScript: make([]byte, 101)}}
		}, ErrTxInputs},
		{"a negative output", func(tx *wire.MsgTx) { tx.AddTxOut(wire.NewTxOut(-1, p2wpkh(w.staker))) }, ErrTxValue},
		{"an output above 21M BTC", func(tx *wire.MsgTx) { tx.AddTxOut(wire.NewTxOut(params.MaxMoney+1, p2wpkh(w.staker))) }, ErrTxValue},
		{"outputs summing above 21M BTC", func(tx *wire.MsgTx) {
			tx.AddTxOut(wire.NewTxOut(params.MaxMoney, p2wpkh(w.staker)))
		}, ErrTxValue},
		{"larger than a block without witnesses", func(tx *wire.MsgTx) {
			tx.AddTxOut(wire.NewTxOut(0, make([]byte, 1_000_000)))
		}, ErrTxWeight},
	} {
		t.Run(c.name, func(t *testing.T) {
			tx := stTx.Copy()
			c.mod(tx)
			if _, err := ValidateStakingTx(tx, d); !errors.Is(err, c.want) || !errors.Is(err, ErrInvalidTx) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	// A coinbase (a miner staking) with a script of 2..100 bytes is sane.
	for _, n := range []int{2, 100} {
		tx := stTx.Copy()
		tx.TxIn = []*wire.TxIn{{PreviousOutPoint: nullOut, SignatureScript: make([]byte, n), Sequence: wire.MaxTxInSequenceNum}}
		if _, err := ValidateStakingTx(tx, d); err != nil {
			t.Errorf("coinbase staking tx with a %d-byte script: %v", n, err)
		}
	}
}

// slashingFixtures are an honest slashing tx of the staking output and one
// of the unbonding output, with what validates them.
type slashingFixture struct {
	name    string
	tx      *wire.MsgTx
	packet  func() *Result
	funding *wire.MsgTx
	from    script.OutputKind
}

func slashingFixtures(t *testing.T, w *world) ([]slashingFixture, Delegation) {
	t.Helper()
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	f := Funding{stTx, outputIndex(stTx, st)}
	ub := mustBuild(BuildUnbonding(d, f))
	ubTx := ub.Packet.UnsignedTx
	build := func(from script.OutputKind, fund Funding) func() *Result {
		return func() *Result { return mustBuild(BuildSlashing(d, from, fund)) }
	}
	var out []slashingFixture
	for _, c := range []struct {
		name string
		from script.OutputKind
		fund Funding
	}{{"staking", script.StakingOutputKind, f}, {"unbonding", script.UnbondingOutputKind, Funding{ubTx, 0}}} {
		b := build(c.from, c.fund)
		out = append(out, slashingFixture{name: c.name, tx: b().Packet.UnsignedTx, packet: b, funding: c.fund.Tx, from: c.from})
	}
	return out, d
}

// (b) and (c): Babylon's CheckPreSignedTxSanity refuses a slashing tx
// whose input has a signature script ("pre-signed tx must not have
// signature script") or that weighs more than MaxStandardTxWeight
// (400,000). Before the fix ValidateSlashingTx, and CheckCovenantSigning
// with it, accepted both.
func TestSlashingTxPreSignedSanityAsBabylon(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	fixtures, d := slashingFixtures(t, w)
	for _, fx := range fixtures {
		validate := func(tx *wire.MsgTx) error { return ValidateSlashingTx(tx, fx.funding, 0, fx.from, d) }
		if fx.from == script.StakingOutputKind {
			st, _ := d.StakingOutput()
			idx := outputIndex(fx.funding, st)
			validate = func(tx *wire.MsgTx) error { return ValidateSlashingTx(tx, fx.funding, idx, fx.from, d) }
		}
		// Through CheckCovenantSigning: the same transaction inside the
		// packet a covenant member is asked to adaptor-sign.
		covenant := func(tx *wire.MsgTx) error {
			res := fx.packet()
			res.Packet.UnsignedTx = tx
			return CheckCovenantSigning(res.Packet, 0, d)
		}
		for name, check := range map[string]func(*wire.MsgTx) error{"ValidateSlashingTx": validate, "CheckCovenantSigning": covenant} {
			t.Run(fx.name+"/"+name, func(t *testing.T) {
				if err := check(fx.tx.Copy()); err != nil {
					t.Fatalf("honest slashing tx: %v", err)
				}
				sig := fx.tx.Copy()
				sig.TxIn[0].SignatureScript = []byte{0x51}
				if err := check(sig); !errors.Is(err, ErrTxInputs) || !errors.Is(err, ErrInvalidTx) {
					t.Errorf("non-empty scriptSig: got %v, want ErrTxInputs", err)
				}
				atLimit := fx.tx.Copy()
				padToWeight(t, atLimit, 400_000)
				if err := check(atLimit); err != nil {
					t.Errorf("weight exactly 400,000: %v", err)
				}
				heavy := fx.tx.Copy()
				padToWeight(t, heavy, 400_001)
				if err := check(heavy); !errors.Is(err, ErrTxWeight) || !errors.Is(err, ErrInvalidTx) {
					t.Errorf("weight 400,001: got %v, want ErrTxWeight", err)
				}
			})
		}
	}
}

// The unbonding tx under the same rules (it had them already); its weight
// limit is now checked with the other pre-signed rules, before the outputs.
func TestUnbondingTxPreSignedSanityAsBabylon(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	good := mustBuild(BuildUnbonding(d, Funding{stTx, outputIndex(stTx, st)})).Packet.UnsignedTx
	atLimit := good.Copy()
	padToWeight(t, atLimit, 400_000)
	if err := ValidateUnbondingTx(atLimit, stTx, d); err != nil {
		t.Errorf("weight exactly 400,000: %v", err)
	}
	heavy := good.Copy()
	padToWeight(t, heavy, 400_001)
	if err := ValidateUnbondingTx(heavy, stTx, d); !errors.Is(err, ErrTxWeight) {
		t.Errorf("weight 400,001: got %v, want ErrTxWeight", err)
	}
	for _, v := range []int32{1, 3} {
		tx := good.Copy()
		tx.Version = v
		if err := ValidateUnbondingTx(tx, stTx, d); !errors.Is(err, ErrTxVersion) {
			t.Errorf("version %d: got %v, want ErrTxVersion (Babylon: unbonding is version 2 only)", v, err)
		}
	}
}

// opReturnWorld is a world whose params slash to OP_RETURN "babylon" at
// rate 0.0001: a stake of 10,000 sat slashes 1 sat, one of 2,000 sat would
// slash 0.
func opReturnWorld(t *testing.T, minStake int64) (*world, error) {
	t.Helper()
	r := newRand(t)
	w := &world{r: r, staker: randKey(r), fps: randKeys(r, 1), cov: randKeys(r, 3), slashKey: randKey(r)}
	var err error
	w.params, err = params.New(params.Config{
		CovenantKeys: pubs(w.cov), CovenantQuorum: 2,
		MinStakingValue: minStake, MaxStakingValue: 10_000_000_000,
		MinStakingTime: 10, MaxStakingTime: 65535,
		UnbondingTime: 20, UnbondingFee: 500,
		SlashingPkScript: []byte{0x6a, 0x07, 'b', 'a', 'b', 'y', 'l', 'o', 'n'}, SlashingRate: "0.0001", MinSlashingFee: 500,
	})
	return w, err
}

// (d) Babylon's builder refuses a slashing amount of 0
// (buildSlashingTxFromOutpoint: ErrInsufficientSlashingAmount) and its
// validator a slashing output of no value ("values of slashing and staking
// transaction must be larger than 0"), OP_RETURN or not. Before the fix
// BuildSlashing built a slashing tx with a 0-sat OP_RETURN output for a
// 2,000-sat output at rate 0.0001: a transaction nobody accepts.
func TestZeroSlashingAmountRefusedAsBabylon(t *testing.T) {
	// The exact numbers of the report: these params do not validate, so
	// no stake can be built or validated under them.
	if _, err := opReturnWorld(t, 2_000); !errors.Is(err, params.ErrDustOutput) {
		t.Fatalf("params with min stake 2,000 at rate 0.0001 to OP_RETURN: got %v, want ErrDustOutput", err)
	}
	// Valid params (their smallest stake slashes 1 sat); a 2,000-sat
	// output paying this delegation's scripts, made by hand.
	w, err := opReturnWorld(t, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	d := w.delegation(100)
	st, _ := d.StakingOutput()
	ub, _ := d.UnbondingOutput()
	for _, c := range []struct {
		from script.OutputKind
		out  *script.Output
	}{{script.StakingOutputKind, st}, {script.UnbondingOutputKind, ub}} {
		fund := wire.NewMsgTx(2)
		fund.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: chainhash.Hash{1}}})
		fund.AddTxOut(c.out.TxOut(2_000))
		res, err := BuildSlashing(d, c.from, Funding{fund, 0})
		if !errors.Is(err, params.ErrDustOutput) {
			var vals []int64
			if res != nil {
				for _, o := range res.Packet.UnsignedTx.TxOut {
					vals = append(vals, o.Value)
				}
			}
			t.Errorf("slashing a 2,000-sat %v output: got %v (output values %v), want ErrDustOutput", c.from, err, vals)
		}
		if c.from == script.StakingOutputKind {
			if _, err := ValidateStakingTx(fund, d); !errors.Is(err, params.ErrInvalidStakingValue) {
				t.Errorf("2,000-sat staking tx: got %v, want ErrInvalidStakingValue", err)
			}
		}
	}
	// At the smallest stake, both slashing txs slash at least 1 sat and
	// validate.
	stTx, _ := w.stake(t, 10_000, 100)
	f := Funding{stTx, outputIndex(stTx, st)}
	sl := mustBuild(BuildSlashing(d, script.StakingOutputKind, f)).Packet.UnsignedTx
	if sl.TxOut[0].Value != 1 || !bytes.Equal(sl.TxOut[0].PkScript, w.params.SlashingPkScript()) {
		t.Fatalf("slashing output %v, want 1 sat to OP_RETURN", sl.TxOut[0])
	}
	if err := ValidateSlashingTx(sl, stTx, f.Index, script.StakingOutputKind, d); err != nil {
		t.Fatal(err)
	}
	zero := sl.Copy()
	zero.TxOut[1].Value += zero.TxOut[0].Value
	zero.TxOut[0].Value = 0
	if err := ValidateSlashingTx(zero, stTx, f.Index, script.StakingOutputKind, d); !errors.Is(err, ErrInvalidTx) {
		t.Errorf("0-sat OP_RETURN slashing output: %v", err)
	}
}

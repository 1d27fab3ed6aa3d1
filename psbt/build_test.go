package psbt

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// TestStakingFeesExactAcrossInputKinds: for every funding input kind the
// finalised transaction's vsize equals what the builder charged for, and
// the fee is exactly the rate times that size.
func TestStakingFeesExactAcrossInputKinds(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 5, 3)
	kinds := map[string]func(*btcec.PrivateKey) []byte{
		"p2wpkh": p2wpkh, "p2tr": p2tr, "p2pkh": p2pkh, "p2sh-p2wpkh": p2shP2wpkh,
	}
	type tc struct {
		name  string
		kinds []string
	}
	cases := []tc{{"p2wpkh", []string{"p2wpkh"}}, {"p2tr", []string{"p2tr"}}, {"p2pkh", []string{"p2pkh"}},
		{"p2sh-p2wpkh", []string{"p2sh-p2wpkh"}}, {"mixed", []string{"p2pkh", "p2tr", "p2sh-p2wpkh", "p2wpkh"}},
		{"legacy only x2", []string{"p2pkh", "p2pkh"}}}
	for _, c := range cases {
		for _, phaseOne := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/phase1=%v", c.name, phaseOne), func(t *testing.T) {
				var utxos []UTXO
				var keys []*btcec.PrivateKey
				// Each coin alone is too small, so every one is selected.
				for _, k := range c.kinds {
					key := randKey(r)
					keys = append(keys, key)
					utxos = append(utxos, coin(r, key, kinds[k](key), 60_000))
				}
				rate := FeeRate(1000 + r.Intn(20_000))
				value := int64(60_000*len(utxos)) - 25_000
				res, err := BuildStaking(StakingRequest{Delegation: w.delegation(1000), Value: value, UTXOs: utxos,
					FeeRate: rate, ChangePkScript: p2tr(keys[0]), PhaseOne: phaseOne})
				if err != nil {
					t.Fatal(err)
				}
				if n, err := SignFundingInputs(res.Packet, keys...); err != nil || n != len(utxos) {
					t.Fatalf("signed %d of %d: %v", n, len(utxos), err)
				}
				tx, err := Finalize(res.Packet)
				if err != nil {
					t.Fatal(err)
				}
				d := res.Description
				if got := VSize(tx); got != d.VSize {
					t.Errorf("actual vsize %d, builder charged for %d", got, d.VSize)
				}
				var in, out int64
				for _, u := range utxos {
					in += u.Value
				}
				for _, o := range tx.TxOut {
					out += o.Value
				}
				if in-out != d.Fee {
					t.Errorf("fee %d, description says %d", in-out, d.Fee)
				}
				if len(tx.TxOut) == 2+boolInt(phaseOne) && d.Fee != rate.Fee(d.VSize) {
					t.Errorf("fee %d, want rate %v x %d vB = %d", d.Fee, rate, d.VSize, rate.Fee(d.VSize))
				}
				if tx.TxOut[0].Value != value || tx.Version != 2 {
					t.Errorf("staking output %d, version %d", tx.TxOut[0].Value, tx.Version)
				}
				if phaseOne {
					p, _ := script.NewStakingTxParser(script.ParserConfig{Tag: w.params.Tag(), Covenant: w.params.CovenantKeys(), CovenantQuorum: 3})
					if got, err := p.Parse(tx); err != nil || got.Value != value {
						t.Errorf("phase-1 tx not recognised: %v", err)
					}
				}
				if _, err := ValidateStakingTx(tx, w.delegation(1000)); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestStakingCoinSelection(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	k := randKey(r)
	utxos := []UTXO{coin(r, k, p2wpkh(k), 30_000), coin(r, k, p2wpkh(k), 500_000), coin(r, k, p2wpkh(k), 80_000)}
	req := StakingRequest{Delegation: w.delegation(100), Value: 100_000, UTXOs: utxos, FeeRate: 1000, ChangePkScript: p2wpkh(k)}
	res, err := BuildStaking(req)
	if err != nil {
		t.Fatal(err)
	}
	// The largest coin alone suffices.
	if ins := res.Packet.UnsignedTx.TxIn; len(ins) != 1 || ins[0].PreviousOutPoint != utxos[1].OutPoint {
		t.Fatalf("selected %v", ins)
	}
	// Order of the given coins does not matter.
	req.UTXOs = []UTXO{utxos[2], utxos[1], utxos[0]}
	res2, _ := BuildStaking(req)
	if res2.Packet.UnsignedTx.TxHash() != res.Packet.UnsignedTx.TxHash() {
		t.Fatal("selection depends on input order")
	}
	// Change below dust goes to the fee.
	exact := StakingRequest{Delegation: w.delegation(100), Value: 100_000, FeeRate: 1000, ChangePkScript: p2wpkh(k),
		UTXOs: []UTXO{coin(r, k, p2wpkh(k), 100_000+150+200)}}
	res3, err := BuildStaking(exact)
	if err != nil {
		t.Fatal(err)
	}
	if len(res3.Packet.UnsignedTx.TxOut) != 1 || res3.Description.Fee != 350 || len(res3.Description.Notes) < 2 {
		t.Fatalf("dust change: outputs %d fee %d notes %v", len(res3.Packet.UnsignedTx.TxOut), res3.Description.Fee, res3.Description.Notes)
	}
	// Not enough.
	exact.UTXOs = []UTXO{coin(r, k, p2wpkh(k), 100_050)}
	if _, err := BuildStaking(exact); !errors.Is(err, ErrInsufficientFunds) {
		t.Fatalf("got %v", err)
	}
}

// TestBuildStakingRefuses: every rule that would lock coins refuses to build.
func TestBuildStakingRefuses(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 2, 5, 3)
	k := randKey(r)
	good := func() StakingRequest {
		return StakingRequest{Delegation: w.delegation(1000), Value: 50_000, FeeRate: 1000, ChangePkScript: p2wpkh(k),
			UTXOs: []UTXO{coin(r, k, p2wpkh(k), 1_000_000)}}
	}
	if _, err := BuildStaking(good()); err != nil {
		t.Fatal(err)
	}
	noPrev := coin(r, k, p2pkh(k), 1_000_000)
	noPrev.PrevTx = nil
	wrongPrev := coin(r, k, p2wpkh(k), 1_000_000)
	wrongPrev.Value++
	noTagCfg := w.params.Config()
	noTagCfg.Tag = nil
	noTag, err := params.New(noTagCfg)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		mod  func(*StakingRequest)
		want error
	}{
		{"value below min", func(q *StakingRequest) { q.Value = 9_999 }, params.ErrInvalidStakingValue},
		{"value above max", func(q *StakingRequest) { q.Value = 10_000_000_001 }, params.ErrInvalidStakingValue},
		{"staking time below min", func(q *StakingRequest) { q.StakingTime = 9 }, params.ErrInvalidStakingTime},
		{"phase-1 without tag", func(q *StakingRequest) { q.Params = noTag; q.PhaseOne = true }, params.ErrInvalidParams},
		{"zero params", func(q *StakingRequest) { q.Params = new(params.Params) }, params.ErrInvalidParams},
		{"phase-1 with two fps", func(q *StakingRequest) { q.PhaseOne = true }, script.ErrTooManyFinalityProviders},
		{"staker is a covenant member", func(q *StakingRequest) { q.Staker = w.cov[0].PubKey() }, script.ErrDuplicateKey},
		{"fee rate below 1 sat/vB", func(q *StakingRequest) { q.FeeRate = 999 }, ErrInvalidFeeRate},
		// A rate whose fee overflows int64 would make the change larger
		// than the coins; FeeRateFromSatPerVB's bound applies.
		{"fee rate above 100000 sat/vB", func(q *StakingRequest) { q.FeeRate = 100_000_001 }, ErrInvalidFeeRate},
		{"fee rate overflowing the fee", func(q *StakingRequest) { q.FeeRate = math.MaxInt64 / 100 }, ErrInvalidFeeRate},
		{"coin above 21M BTC", func(q *StakingRequest) {
			q.UTXOs = []UTXO{coin(r, k, p2wpkh(k), 1<<62), coin(r, k, p2wpkh(k), 1<<62)}
		}, ErrInvalidOutput},
		{"p2pkh without previous tx", func(q *StakingRequest) { q.UTXOs = []UTXO{noPrev} }, ErrMissingPrevTx},
		{"previous tx does not match", func(q *StakingRequest) { q.UTXOs = []UTXO{wrongPrev} }, ErrWrongInput},
		{"unsupported input", func(q *StakingRequest) { u := coin(r, k, []byte{0x51}, 1_000_000); q.UTXOs = []UTXO{u} }, ErrUnsupportedInput},
		{"duplicate utxo", func(q *StakingRequest) { q.UTXOs = append(q.UTXOs, q.UTXOs[0]) }, ErrInvalidOutput},
		{"op_return change", func(q *StakingRequest) { q.ChangePkScript = []byte{0x6a, 0x01, 0x01} }, ErrInvalidOutput},
		{"no params", func(q *StakingRequest) { q.Params = nil }, params.ErrInvalidParams},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := good()
			c.mod(&q)
			if res, err := BuildStaking(q); !errors.Is(err, c.want) {
				t.Fatalf("got %v (%v), want %v", err, res != nil, c.want)
			}
		})
	}
}

// signAll has each key sign input 0 in its slot, without SignTapscript's role
// rules: a fixture writer, also for transactions the rules would refuse.
func signAll(t *testing.T, p *psbt.Packet, keys ...*btcec.PrivateKey) {
	t.Helper()
	for _, k := range keys {
		if err := signTapscript(p, 0, k); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUnbondingAndWithdraw(t *testing.T) {
	r := newRand(t)
	for _, c := range []struct{ nFP, nCov, m int }{{1, 1, 1}, {1, 3, 2}, {3, 5, 3}} {
		t.Run(fmt.Sprintf("%dfp-%d-of-%d", c.nFP, c.m, c.nCov), func(t *testing.T) {
			w := newWorld(t, r, c.nFP, c.nCov, uint32(c.m))
			stTx, d := w.stake(t, 200_000, 500)
			st, _ := d.StakingOutput()
			res, err := BuildUnbonding(d, Funding{Tx: stTx, Index: outputIndex(stTx, st)})
			if err != nil {
				t.Fatal(err)
			}
			before := serialize(t, res.Packet)
			signAll(t, res.Packet, append([]*btcec.PrivateKey{w.staker}, w.cov[:c.m-1]...)...)
			// One covenant signature short: refused, packet unchanged.
			signed := serialize(t, res.Packet)
			if _, err := Finalize(res.Packet); !errors.Is(err, ErrNotFinalizable) {
				t.Fatalf("short of quorum: %v", err)
			}
			if !bytes.Equal(signed, serialize(t, res.Packet)) || bytes.Equal(before, signed) {
				t.Fatal("failed finalize changed the packet")
			}
			signAll(t, res.Packet, w.cov[c.m-1:]...) // everyone else signs too: more than quorum
			ubTx, err := Finalize(res.Packet)
			if err != nil {
				t.Fatal(err)
			}
			if got := VSize(ubTx); got != res.Description.VSize {
				t.Errorf("unbonding vsize %d, charged %d", got, res.Description.VSize)
			}
			if res.Description.Fee != w.params.UnbondingFee() || ubTx.TxIn[0].Sequence != wire.MaxTxInSequenceNum {
				t.Errorf("fee %d, sequence %x", res.Description.Fee, ubTx.TxIn[0].Sequence)
			}
			if err := ValidateUnbondingTx(ubTx, stTx, d); err != nil {
				t.Error(err)
			}

			// Withdraw from the staking output and from the unbonding output.
			dest := p2tr(randKey(r))
			for _, wd := range []struct {
				from script.OutputKind
				tx   *wire.MsgTx
				idx  uint32
				lock uint16
			}{{script.StakingOutputKind, stTx, outputIndex(stTx, st), 500}, {script.UnbondingOutputKind, ubTx, 0, 20}} {
				rate := FeeRate(1000 + r.Intn(5000))
				res, err := BuildWithdraw(WithdrawRequest{Delegation: d, From: wd.from,
					Funding: Funding{Tx: wd.tx, Index: wd.idx}, DestPkScript: dest, FeeRate: rate})
				if err != nil {
					t.Fatal(err)
				}
				signAll(t, res.Packet, w.staker)
				tx, err := Finalize(res.Packet)
				if err != nil {
					t.Fatal(err)
				}
				if tx.TxIn[0].Sequence != uint32(wd.lock) || tx.Version != 2 {
					t.Errorf("%v: sequence %d version %d", wd.from, tx.TxIn[0].Sequence, tx.Version)
				}
				if got := VSize(tx); got != res.Description.VSize || res.Description.Fee != rate.Fee(got) {
					t.Errorf("%v: vsize %d charged %d, fee %d", wd.from, got, res.Description.VSize, res.Description.Fee)
				}
			}
			// A covenant key cannot sign the timelock path.
			wr, _ := BuildWithdraw(WithdrawRequest{Delegation: d, From: script.UnbondingOutputKind,
				Funding: Funding{Tx: ubTx, Index: 0}, DestPkScript: dest, FeeRate: 1000})
			if err := SignTapscript(wr.Packet, 0, w.cov[0]); !errors.Is(err, ErrNotSignable) {
				t.Errorf("covenant signing timelock leaf: %v", err)
			}
			// The wrong funding output is refused.
			if _, err := BuildWithdraw(WithdrawRequest{Delegation: d, From: script.StakingOutputKind,
				Funding: Funding{Tx: ubTx, Index: 0}, DestPkScript: dest, FeeRate: 1000}); !errors.Is(err, ErrWrongInput) {
				t.Errorf("wrong funding: %v", err)
			}
		})
	}
}

// TestSignedInParts: the staker and each covenant member sign separate
// copies (as base64, as they would travel), which combine and finalise.
func TestSignedInParts(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 5, 3)
	stTx, d := w.stake(t, 300_000, 1000)
	st, _ := d.StakingOutput()
	res, err := BuildUnbonding(d, Funding{Tx: stTx, Index: outputIndex(stTx, st)})
	if err != nil {
		t.Fatal(err)
	}
	b64, _ := Encode(res.Packet)
	var parts []*psbt.Packet
	for _, k := range []*btcec.PrivateKey{w.staker, w.cov[4], w.cov[1], w.cov[2]} {
		p, err := Decode([]byte(b64))
		if err != nil {
			t.Fatal(err)
		}
		signAll(t, p, k)
		s, _ := Encode(p)
		back, err := Decode([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, back)
	}
	combined, err := Combine(parts...)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := VerifyTapscriptSigs(combined); err != nil || n != 4 {
		t.Fatalf("verified %d: %v", n, err)
	}
	if _, err := Finalize(combined); err != nil {
		t.Fatal(err)
	}
	// A PSBT of another transaction does not combine.
	other, _ := BuildWithdraw(WithdrawRequest{Delegation: d, From: script.StakingOutputKind,
		Funding: Funding{Tx: stTx, Index: outputIndex(stTx, st)}, DestPkScript: p2tr(w.staker), FeeRate: 1000})
	if _, err := Combine(parts[0], other.Packet); !errors.Is(err, ErrInvalidPSBT) {
		t.Fatalf("combined PSBTs of different transactions: %v", err)
	}
}

// TestPSBTRoundTrip: every builder's PSBT survives btcd's parser unchanged.
func TestPSBTRoundTrip(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 2, 3, 2)
	stTx, d := w.stake(t, 100_000, 100)
	d.StakerOrigin = &KeyOrigin{Fingerprint: 0xdeadbeef, Path: []uint32{86 + 1<<31, 1 << 31, 1 << 31, 0, 7}}
	st, _ := d.StakingOutput()
	f := Funding{Tx: stTx, Index: outputIndex(stTx, st)}
	k := randKey(r)
	var results []*Result
	add := func(res *Result, err error) {
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	add(BuildStaking(StakingRequest{Delegation: d, Value: 50_000, FeeRate: 1500, ChangePkScript: p2wpkh(k),
		UTXOs: []UTXO{coin(r, k, p2pkh(k), 80_000)}}))
	add(BuildUnbonding(d, f))
	add(BuildSlashing(d, script.StakingOutputKind, f))
	add(BuildWithdraw(WithdrawRequest{Delegation: d, From: script.StakingOutputKind, Funding: f, DestPkScript: p2wpkh(k), FeeRate: 1000}))
	slash := results[2].Packet
	signAll(t, slash, w.staker)
	if _, err := adaptorSignSlashing(slash, 0, w.cov[0]); err != nil {
		t.Fatal(err)
	}
	for i, res := range results {
		raw := serialize(t, res.Packet)
		back, err := Decode(raw)
		if err != nil {
			t.Fatalf("result %d: %v", i, err)
		}
		if !bytes.Equal(raw, serialize(t, back)) {
			t.Errorf("result %d (%s) changed in a round trip", i, res.Description.Kind)
		}
	}
	in := slash.Inputs[0]
	if len(in.TaprootBip32Derivation) != 1 || in.TaprootBip32Derivation[0].MasterKeyFingerprint != 0xdeadbeef ||
		len(in.TaprootBip32Derivation[0].LeafHashes) != 1 || in.TaprootInternalKey == nil || len(in.TaprootLeafScript) != 1 {
		t.Errorf("taproot input fields missing: %+v", in)
	}
	if a, _ := AdaptorSigs(slash, 0); len(a) != 2 {
		t.Errorf("%d adaptor signatures, want one per finality provider", len(a))
	}
}

func TestSignECDSAIsAlways71Bytes(t *testing.T) {
	r := newRand(t)
	for i := 0; i < 300; i++ {
		k := randKey(r)
		h := make([]byte, 32)
		r.Read(h)
		sig := signECDSA(k, h)
		if len(sig) != 71 {
			t.Fatalf("signature of %d bytes", len(sig))
		}
		s, err := ecdsaParse(sig[:70])
		if err != nil || !s.Verify(h, k.PubKey()) {
			t.Fatalf("signature does not verify: %v", err)
		}
	}
}

// TestSignFundingInputsTwice: signing the same coins again replaces the
// signatures instead of adding a second partial_sig for the key, which
// would serialise to a PSBT with a duplicate key that no parser accepts.
func TestSignFundingInputsTwice(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	k := randKey(r)
	res, err := BuildStaking(StakingRequest{Delegation: w.delegation(100), Value: 100_000, FeeRate: 1000, ChangePkScript: p2wpkh(k),
		UTXOs: []UTXO{coin(r, k, p2wpkh(k), 70_000), coin(r, k, p2pkh(k), 70_000), coin(r, k, p2shP2wpkh(k), 70_000), coin(r, k, p2tr(k), 70_000)}})
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		if n, err := SignFundingInputs(res.Packet, k); err != nil || n != len(res.Packet.Inputs) {
			t.Fatalf("round %d: signed %d: %v", round, n, err)
		}
	}
	for i, in := range res.Packet.Inputs {
		if len(in.PartialSigs) > 1 {
			t.Errorf("input %d has %d partial signatures", i, len(in.PartialSigs))
		}
	}
	p, err := Decode(serialize(t, res.Packet))
	if err != nil {
		t.Fatalf("re-signed PSBT does not parse: %v", err)
	}
	if _, err := Finalize(p); err != nil {
		t.Fatal(err)
	}
}

// TestSignFundingInputsChecksLegacyValue: a legacy (P2PKH) signature does
// not commit to the value it spends, so a PSBT whose witness_utxo claims a
// smaller value than the previous transaction really holds would make the
// signer pay a fee it never saw. The signer refuses a witness_utxo that
// contradicts non_witness_utxo, and a P2PKH input without non_witness_utxo,
// and leaves the packet unchanged.
func TestSignFundingInputsChecksLegacyValue(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	k := randKey(r)
	build := func() *psbt.Packet {
		res, err := BuildStaking(StakingRequest{Delegation: w.delegation(100), Value: 100_000, FeeRate: 1000,
			ChangePkScript: p2wpkh(k), UTXOs: []UTXO{coin(r, k, p2pkh(k), 5_000_000)}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Packet
	}
	// witness_utxo understating the coin's value.
	p := build()
	p.Inputs[0].WitnessUtxo = wire.NewTxOut(200_000, p2pkh(k))
	before := serialize(t, p)
	if n, err := SignFundingInputs(p, k); !errors.Is(err, ErrInvalidPSBT) || n != 0 {
		t.Errorf("lying witness_utxo: signed %d, err %v; want ErrInvalidPSBT", n, err)
	}
	if !bytes.Equal(before, serialize(t, p)) {
		t.Error("refused signing changed the packet")
	}
	// A P2PKH input known only by a witness_utxo: its value cannot be checked.
	p = build()
	p.Inputs[0].WitnessUtxo = p.Inputs[0].NonWitnessUtxo.TxOut[p.UnsignedTx.TxIn[0].PreviousOutPoint.Index]
	p.Inputs[0].NonWitnessUtxo = nil
	before = serialize(t, p)
	if n, err := SignFundingInputs(p, k); !errors.Is(err, ErrMissingPrevTx) || n != 0 {
		t.Errorf("p2pkh without non_witness_utxo: signed %d, err %v; want ErrMissingPrevTx", n, err)
	}
	if !bytes.Equal(before, serialize(t, p)) {
		t.Error("refused signing changed the packet")
	}
	// The honest packet still signs and finalises.
	p = build()
	if n, err := SignFundingInputs(p, k); err != nil || n != 1 {
		t.Fatalf("signed %d: %v", n, err)
	}
	if _, err := Finalize(p); err != nil {
		t.Fatal(err)
	}
}

// TestBuildWithdrawRefusesUnspendableDestination: a withdraw sends the
// whole stake to its destination, so an OP_RETURN (which burns it) or a
// non-standard script (which no node relays) is refused as an invalid
// output, as BuildStaking refuses such a change script.
func TestBuildWithdrawRefusesUnspendableDestination(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 100_000, 100)
	st, _ := d.StakingOutput()
	for _, dest := range [][]byte{
		{0x6a},                   // OP_RETURN: burns the stake
		{0x6a, 0x04, 1, 2, 3, 4}, // OP_RETURN with data
		{0x01, 0x02, 0x03},       // not even a parseable script
		{0x51},                   // OP_TRUE: anyone can spend, non-standard
	} {
		_, err := BuildWithdraw(WithdrawRequest{Delegation: d, From: script.StakingOutputKind,
			Funding: Funding{stTx, outputIndex(stTx, st)}, DestPkScript: dest, FeeRate: 1000})
		if !errors.Is(err, ErrInvalidOutput) {
			t.Errorf("destination %x: %v, want ErrInvalidOutput", dest, err)
		}
	}
}

// TestCombineUnitesScriptsAndDerivations: Combine merges more than
// signatures: a copy that lost its leaf scripts, keys and derivations (a
// signer that strips what it does not need) comes first and the
// combination still finalises, with the derivations kept.
func TestCombineUnitesScriptsAndDerivations(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 300_000, 1000)
	d.StakerOrigin = &KeyOrigin{Fingerprint: 0xfeedf00d, Path: []uint32{86 + 1<<31, 1 << 31, 1 << 31, 0, 3}}
	st, _ := d.StakingOutput()
	res, err := BuildUnbonding(d, Funding{Tx: stTx, Index: outputIndex(stTx, st)})
	if err != nil {
		t.Fatal(err)
	}
	full := serialize(t, res.Packet)
	stripped, _ := Decode(full)
	signAll(t, stripped, w.cov[0], w.cov[1])
	in, out := &stripped.Inputs[0], &stripped.Outputs[0]
	in.TaprootLeafScript, in.TaprootBip32Derivation, in.TaprootInternalKey, in.TaprootMerkleRoot = nil, nil, nil, nil
	out.TaprootInternalKey, out.TaprootTapTree, out.TaprootBip32Derivation = nil, nil, nil
	staker, _ := Decode(full)
	signAll(t, staker, w.staker)
	strippedBefore, stakerBefore := serialize(t, stripped), serialize(t, staker)

	c, err := Combine(stripped, staker)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(strippedBefore, serialize(t, stripped)) || !bytes.Equal(stakerBefore, serialize(t, staker)) {
		t.Error("Combine modified its inputs")
	}
	ci, co := c.Inputs[0], c.Outputs[0]
	if len(ci.TaprootLeafScript) != 1 || len(ci.TaprootBip32Derivation) != 1 || ci.TaprootInternalKey == nil || ci.TaprootMerkleRoot == nil {
		t.Errorf("input fields not united: leaf scripts %d, derivations %d", len(ci.TaprootLeafScript), len(ci.TaprootBip32Derivation))
	}
	if co.TaprootInternalKey == nil || co.TaprootTapTree == nil || len(co.TaprootBip32Derivation) != 1 ||
		co.TaprootBip32Derivation[0].MasterKeyFingerprint != 0xfeedf00d {
		t.Error("output fields not united")
	}
	if n, err := VerifyTapscriptSigs(c); err != nil || n != 3 {
		t.Fatalf("verified %d: %v", n, err)
	}
	if _, err := Finalize(c); err != nil {
		t.Fatal(err)
	}
	// A copy naming another leaf for the input does not add a second one
	// (which would make the input unfinalisable): the first packet's wins.
	hostile, _ := Decode(full)
	tl, _ := st.Path(script.TimelockPath)
	hostile.Inputs[0].TaprootLeafScript[0].Script = tl.Script
	hostile.Inputs[0].TaprootLeafScript[0].ControlBlock = tl.ControlBlock
	staker2, _ := Decode(full)
	signAll(t, staker2, w.staker, w.cov[0], w.cov[1])
	c3, err := Combine(staker2, hostile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Finalize(c3); err != nil {
		t.Errorf("a copy with another leaf broke finalisation: %v", err)
	}
	// Combining a packet with itself adds nothing twice.
	c2, err := Combine(c, c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(serialize(t, c), serialize(t, c2)) {
		t.Error("combining a packet with itself changed it")
	}
}

// TestCombinePrefersValidSignature: a copy carrying a bad signature for a
// key, passed first, does not shadow another copy's good one.
func TestCombinePrefersValidSignature(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	res, err := BuildUnbonding(d, Funding{Tx: stTx, Index: outputIndex(stTx, st)})
	if err != nil {
		t.Fatal(err)
	}
	good, _ := clonePacket(res.Packet)
	signAll(t, good, w.staker, w.cov[0], w.cov[1])
	bad, _ := clonePacket(good)
	for _, s := range bad.Inputs[0].TaprootScriptSpendSig {
		if bytes.Equal(s.XOnlyPubKey, script.XOnly(w.cov[0].PubKey()).Bytes()) {
			s.Signature[10] ^= 1
		}
	}
	for _, order := range [][]*psbt.Packet{{bad, good}, {good, bad}} {
		c, err := Combine(order...)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := VerifyTapscriptSigs(c); err != nil || n != 3 {
			t.Fatalf("combined: %d verified, %v", n, err)
		}
		if _, err := Finalize(c); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCombinePrefersValidAdaptorSig: the same for covenant adaptor
// signatures. A copy whose adaptor fields were damaged (by a relay, or by a
// staker who would rather not be slashable), passed first, must not shadow
// the members' good ones: CompleteSlashing then finds the quorum whatever
// the order.
func TestCombinePrefersValidAdaptorSig(t *testing.T) {
	r := newRand(t)
	w := newWorld(t, r, 1, 3, 2)
	stTx, d := w.stake(t, 200_000, 100)
	st, _ := d.StakingOutput()
	res, err := BuildSlashing(d, script.StakingOutputKind, Funding{Tx: stTx, Index: outputIndex(stTx, st)})
	if err != nil {
		t.Fatal(err)
	}
	if err := SignTapscript(res.Packet, 0, w.staker); err != nil {
		t.Fatal(err)
	}
	good, _ := clonePacket(res.Packet)
	for _, k := range w.cov[:2] {
		s, err := NewCovenantSigner(k)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := s.Sign(good, 0, d); err != nil || n != 1 {
			t.Fatalf("adaptor-signed %d: %v", n, err)
		}
	}
	bad, _ := clonePacket(good)
	if len(bad.Inputs[0].Unknowns) != 2 {
		t.Fatalf("%d adaptor fields, want 2", len(bad.Inputs[0].Unknowns))
	}
	for _, u := range bad.Inputs[0].Unknowns {
		u.Value[40] ^= 1 // inside s0: still parses, no longer verifies
	}
	for _, order := range [][]*psbt.Packet{{bad, good}, {good, bad}} {
		c, err := Combine(order...)
		if err != nil {
			t.Fatal(err)
		}
		sigs, err := AdaptorSigs(c, 0)
		if err != nil || len(sigs) != 2 {
			t.Fatalf("combined: %d adaptor signatures, %v", len(sigs), err)
		}
		for _, a := range sigs {
			if err := AddAdaptorSig(c, 0, a); err != nil {
				t.Fatalf("combined kept a bad adaptor signature of %s: %v", a.Covenant, err)
			}
		}
		if _, err := CompleteSlashing(c, w.fps[0]); err != nil {
			t.Fatalf("complete slashing: %v", err)
		}
	}
}

package psbt

import (
	"bytes"
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// paramsWithCommittee is w's params with another covenant committee.
func paramsWithCommittee(t testing.TB, w *world, cov []*btcec.PrivateKey, quorum uint32) *params.Params {
	t.Helper()
	p, err := params.New(params.Config{
		CovenantKeys: pubs(cov), CovenantQuorum: quorum,
		MinStakingValue: 10_000, MaxStakingValue: 10_000_000_000,
		MinStakingTime: 10, MaxStakingTime: 65535,
		UnbondingTime: 20, UnbondingFee: 1_000,
		SlashingPkScript: p2wpkh(w.slashKey), SlashingRate: "0.1", MinSlashingFee: 1_000,
		Tag: []byte("bbt4"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// extFixture is an active delegation under params A (2-of-3) and the
// current params B, whose 2-of-3 committee keeps two of A's keys and adds
// one new key.
type extFixture struct {
	w          *world
	covB       []*btcec.PrivateKey
	newOnly    *btcec.PrivateKey // in B's committee, not in A's
	stTx       *wire.MsgTx
	prev, next Delegation
	prevF      Funding
}

func newExtFixture(t testing.TB, r *rand.Rand) *extFixture {
	t.Helper()
	w := newWorld(t, r, 1, 3, 2)
	f := &extFixture{w: w, newOnly: randKey(r)}
	f.covB = []*btcec.PrivateKey{w.cov[0], w.cov[1], f.newOnly}
	f.stTx, f.prev = w.stake(t, 200_000, 100)
	st, _ := f.prev.StakingOutput()
	f.prevF = Funding{f.stTx, outputIndex(f.stTx, st)}
	f.next = Delegation{Params: paramsWithCommittee(t, w, f.covB, 2), Staker: w.staker.PubKey(),
		FinalityProviders: pubs(w.fps), StakingTime: 150}
	return f
}

func (f *extFixture) request(fund UTXO, added int64) ExtensionRequest {
	return ExtensionRequest{Previous: f.prev, PreviousFunding: f.prevF, New: f.next, AddedValue: added,
		Funding: fund, FeeRate: 3000, ChangePkScript: p2wpkh(f.w.staker)}
}

// signExtension signs input 0 as the staker and covs (through
// CovenantSigner.SignExtension) and input 1 with funder.
func (f *extFixture) signExtension(t testing.TB, p *Result, funder *btcec.PrivateKey, covs ...*btcec.PrivateKey) {
	t.Helper()
	if err := SignTapscript(p.Packet, 0, f.w.staker); err != nil {
		t.Fatal(err)
	}
	for _, k := range covs {
		s, _ := NewCovenantSigner(k)
		if n, err := s.SignExtension(p.Packet, f.next, f.prev); err != nil || n != 1 {
			t.Fatalf("covenant %s: %d, %v", script.XOnly(k.PubKey()), n, err)
		}
	}
	if ok, err := SignFundingInput(p.Packet, 1, funder); err != nil || !ok {
		t.Fatalf("funding input: %v %v", ok, err)
	}
}

func TestBuildExtensionSignFinalize(t *testing.T) {
	r := newRand(t)
	kinds := []struct {
		name string
		pk   func(*btcec.PrivateKey) []byte
	}{{"p2wpkh", p2wpkh}, {"p2tr", p2tr}, {"p2pkh", p2pkh}, {"p2sh-p2wpkh", p2shP2wpkh}}
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			f := newExtFixture(t, r)
			funder := f.w.staker
			fund := coin(r, funder, kind.pk(funder), 90_000)
			res, err := BuildExtension(f.request(fund, 50_000))
			if err != nil {
				t.Fatal(err)
			}
			p := res.Packet
			tx := p.UnsignedTx
			pst, _ := f.prev.StakingOutput()
			nst, _ := f.next.StakingOutput()
			// Shape: input 0 the previous staking output, input 1 the coin.
			if len(tx.TxIn) != 2 || tx.TxIn[0].PreviousOutPoint != (wire.OutPoint{Hash: f.stTx.TxHash(), Index: f.prevF.Index}) ||
				tx.TxIn[1].PreviousOutPoint != fund.OutPoint {
				t.Fatalf("inputs %v", tx.TxIn)
			}
			if !bytes.Equal(tx.TxOut[0].PkScript, nst.PkScript) || tx.TxOut[0].Value != 250_000 {
				t.Fatalf("output 0: %d %x", tx.TxOut[0].Value, tx.TxOut[0].PkScript)
			}
			path, _ := pst.Path(script.UnbondingPath)
			in0 := p.Inputs[0]
			if len(in0.TaprootLeafScript) != 1 || !bytes.Equal(in0.TaprootLeafScript[0].Script, path.Script) ||
				!bytes.Equal(in0.TaprootLeafScript[0].ControlBlock, path.ControlBlock) ||
				!bytes.Equal(in0.TaprootInternalKey, pst.Taproot.InternalKey.Bytes()) ||
				in0.WitnessUtxo == nil || in0.WitnessUtxo.Value != 200_000 || !bytes.Equal(in0.WitnessUtxo.PkScript, pst.PkScript) {
				t.Fatal("input 0 does not carry the previous output's unbonding leaf")
			}
			// The leaf is the OLD committee's.
			leaf, _ := script.ParseLeafScript(in0.TaprootLeafScript[0].Script)
			if leaf.Quorum != 2 || len(leaf.Covenant) != 3 || leaf.Role(script.XOnly(f.w.cov[2].PubKey())) != script.CovenantRole ||
				leaf.Role(script.XOnly(f.newOnly.PubKey())) != script.NoRole {
				t.Fatal("input 0's leaf is not the previous committee's")
			}

			// Sign does not take an extension; a key only in the new
			// committee cannot sign input 0.
			s, _ := NewCovenantSigner(f.w.cov[0])
			if _, err := s.Sign(p, 0, f.prev); !errors.Is(err, ErrTxInputs) {
				t.Fatalf("Sign on an extension: %v", err)
			}
			sNew, _ := NewCovenantSigner(f.newOnly)
			if _, err := sNew.SignExtension(p, f.next, f.prev); !errors.Is(err, ErrNotSignable) {
				t.Fatalf("new-only key: %v", err)
			}
			if err := SignTapscript(p, 0, f.w.cov[0]); !errors.Is(err, ErrUncheckedCovenant) {
				t.Fatalf("SignTapscript with a covenant key: %v", err)
			}

			// One covenant signature short: not finalizable.
			short := mustClone(t, res)
			f.signExtension(t, short, funder, f.w.cov[1])
			if _, err := Finalize(short.Packet); !errors.Is(err, ErrNotFinalizable) {
				t.Fatalf("one covenant signature short: %v", err)
			}

			f.signExtension(t, res, funder, f.w.cov[1], f.w.cov[2])
			final, err := Finalize(p)
			if err != nil {
				t.Fatal(err)
			}
			if VSize(final) != res.Description.VSize {
				t.Fatalf("vsize %d, estimated %d", VSize(final), res.Description.VSize)
			}
			fee := 200_000 + fund.Value
			for _, o := range final.TxOut {
				fee -= o.Value
			}
			if fee != res.Description.Fee || (len(final.TxOut) == 2 && fee != FeeRate(3000).Fee(VSize(final))) {
				t.Fatalf("fee %d, description %d, rate wants %d", fee, res.Description.Fee, FeeRate(3000).Fee(VSize(final)))
			}
			if idx, err := ValidateExtensionTx(final, f.prev, f.stTx, f.next, fund.PrevTx); err != nil || idx != 0 {
				t.Fatalf("validate: %d %v", idx, err)
			}

			// Independent check with btcd alone: the script engine over both
			// prevouts, and the BIP-341 sighash of input 0 computed by
			// txscript, against which every signature in the witness verifies.
			fetch := txscript.NewMultiPrevOutFetcher(map[wire.OutPoint]*wire.TxOut{
				final.TxIn[0].PreviousOutPoint: f.stTx.TxOut[f.prevF.Index],
				final.TxIn[1].PreviousOutPoint: fund.PrevTx.TxOut[fund.OutPoint.Index],
			})
			hashes := txscript.NewTxSigHashes(final, fetch)
			for i := range final.TxIn {
				prev := fetch.FetchPrevOutput(final.TxIn[i].PreviousOutPoint)
				vm, err := txscript.NewEngine(prev.PkScript, final, i, txscript.StandardVerifyFlags, nil, hashes, prev.Value, fetch)
				if err != nil {
					t.Fatal(err)
				}
				if err := vm.Execute(); err != nil {
					t.Fatalf("input %d: %v", i, err)
				}
			}
			ws, err := script.ParseWitness(final.TxIn[0].Witness)
			if err != nil || ws.Leaf.Kind != script.UnbondingPath {
				t.Fatalf("input 0 witness: %v", err)
			}
			h, err := txscript.CalcTapscriptSignaturehash(hashes, txscript.SigHashDefault, final, 0, fetch, txscript.NewBaseTapLeaf(ws.Script))
			if err != nil {
				t.Fatal(err)
			}
			verify := func(k script.XOnlyKey, sig []byte, hash []byte) bool {
				pk, _ := k.PubKey()
				s, err := schnorr.ParseSignature(sig)
				return err == nil && s.Verify(hash, pk)
			}
			if !verify(script.XOnly(f.w.staker.PubKey()), ws.Staker, h) {
				t.Fatal("staker signature does not verify against txscript's sighash")
			}
			nCov := 0
			for _, slot := range ws.Covenant {
				if slot.Sig == nil {
					continue
				}
				nCov++
				if !verify(slot.Key, slot.Sig, h) {
					t.Fatalf("covenant %s: signature does not verify against txscript's sighash", slot.Key)
				}
			}
			if nCov != 2 {
				t.Fatalf("%d covenant signatures, want the previous quorum 2", nCov)
			}
			// The sighash commits to input 1's prevout: with another
			// funding value it differs and no signature verifies.
			other := txscript.NewMultiPrevOutFetcher(map[wire.OutPoint]*wire.TxOut{
				final.TxIn[0].PreviousOutPoint: f.stTx.TxOut[f.prevF.Index],
				final.TxIn[1].PreviousOutPoint: wire.NewTxOut(fund.Value+1, fund.PkScript),
			})
			h2, _ := txscript.CalcTapscriptSignaturehash(txscript.NewTxSigHashes(final, other), txscript.SigHashDefault, final, 0, other, txscript.NewBaseTapLeaf(ws.Script))
			if verify(script.XOnly(f.w.staker.PubKey()), ws.Staker, h2) {
				t.Fatal("staker signature verifies with another funding prevout")
			}

			// The new delegation unbonds under B's committee.
			ub, err := BuildUnbonding(f.next, Funding{final, 0})
			if err != nil {
				t.Fatal(err)
			}
			if err := SignTapscript(ub.Packet, 0, f.w.staker); err != nil {
				t.Fatal(err)
			}
			for _, k := range []*btcec.PrivateKey{f.covB[0], f.newOnly} {
				s, _ := NewCovenantSigner(k)
				if _, err := s.Sign(ub.Packet, 0, f.next); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := Finalize(ub.Packet); err != nil {
				t.Fatalf("unbonding the extended stake: %v", err)
			}
		})
	}
}

func mustClone(t testing.TB, r *Result) *Result {
	t.Helper()
	c, err := clonePacket(r.Packet)
	if err != nil {
		t.Fatal(err)
	}
	return &Result{Packet: c, Description: r.Description}
}

func TestBuildExtensionRefusals(t *testing.T) {
	r := newRand(t)
	f := newExtFixture(t, r)
	funder := f.w.staker
	fund := coin(r, funder, p2wpkh(funder), 90_000)
	pst, _ := f.prev.StakingOutput()
	other := randKey(r)
	lowOverlap := paramsWithCommittee(t, f.w, []*btcec.PrivateKey{f.w.cov[0], f.newOnly, randKey(r)}, 2)
	cases := []struct {
		name string
		mod  func(*ExtensionRequest)
		want []error
	}{
		{"new value below old", func(q *ExtensionRequest) { q.AddedValue = -1 }, []error{ErrInvalidExtension, ErrExtensionValue}},
		{"another staker", func(q *ExtensionRequest) { q.New.Staker = other.PubKey() }, []error{ErrInvalidExtension, ErrExtensionParties}},
		{"finality provider dropped", func(q *ExtensionRequest) { q.New.FinalityProviders = []*btcec.PublicKey{other.PubKey()} },
			[]error{ErrInvalidExtension, ErrExtensionParties}},
		{"funding is the staking output", func(q *ExtensionRequest) {
			q.Funding = UTXO{OutPoint: wire.OutPoint{Hash: f.stTx.TxHash(), Index: f.prevF.Index}, Value: 200_000, PkScript: pst.PkScript}
		}, []error{ErrInvalidExtension, ErrExtensionFunding}},
		{"funding pays a staking script", func(q *ExtensionRequest) { q.Funding.PkScript = pst.PkScript; q.Funding.PrevTx = nil },
			[]error{ErrInvalidExtension, ErrExtensionFunding}},
		{"funding worth nothing", func(q *ExtensionRequest) { q.Funding.Value = 0 }, []error{ErrInvalidExtension, ErrExtensionFunding}},
		{"covenant overlap below the old quorum", func(q *ExtensionRequest) { q.New.Params = lowOverlap },
			[]error{ErrInvalidExtension, ErrExtensionCovenant}},
		{"previous funding is not the staking output", func(q *ExtensionRequest) { q.PreviousFunding.Index ^= 1 }, []error{ErrWrongInput}},
		{"coin cannot pay the fee", func(q *ExtensionRequest) { q.AddedValue = 89_900 }, []error{ErrInsufficientFunds}},
		{"fee rate 0", func(q *ExtensionRequest) { q.FeeRate = 0 }, []error{ErrInvalidFeeRate}},
		{"staking time outside the current params", func(q *ExtensionRequest) { q.New.StakingTime = 5 }, []error{params.ErrInvalidStakingTime}},
		{"change script not standard", func(q *ExtensionRequest) { q.ChangePkScript = []byte{0x6a} }, []error{ErrInvalidOutput}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := f.request(fund, 10_000)
			c.mod(&q)
			res, err := BuildExtension(q)
			for _, k := range c.want {
				if !errors.Is(err, k) {
					t.Fatalf("got %v (result %v), want %v", err, res != nil, k)
				}
			}
		})
	}
	// The honest request builds, and the fixture was not changed by the
	// refusals.
	if _, err := BuildExtension(f.request(fund, 10_000)); err != nil {
		t.Fatal(err)
	}
}

func TestValidateExtensionTxRefusals(t *testing.T) {
	r := newRand(t)
	f := newExtFixture(t, r)
	fund := coin(r, f.w.staker, p2wpkh(f.w.staker), 90_000)
	res, err := BuildExtension(f.request(fund, 10_000))
	if err != nil {
		t.Fatal(err)
	}
	base := res.Packet.UnsignedTx
	if _, err := ValidateExtensionTx(base, f.prev, f.stTx, f.next, fund.PrevTx); err != nil {
		t.Fatalf("honest: %v", err)
	}
	nst, _ := f.next.StakingOutput()
	cases := []struct {
		name    string
		mod     func(*wire.MsgTx)
		funding *wire.MsgTx
		want    []error
	}{
		{"three inputs", func(tx *wire.MsgTx) {
			tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: fund.OutPoint.Hash, Index: 7}})
		}, fund.PrevTx, []error{ErrInvalidExtension, ErrInvalidTx, ErrTxInputs}},
		{"one input", func(tx *wire.MsgTx) { tx.TxIn = tx.TxIn[:1] }, fund.PrevTx, []error{ErrInvalidExtension, ErrTxInputs}},
		{"inputs swapped", func(tx *wire.MsgTx) { tx.TxIn[0], tx.TxIn[1] = tx.TxIn[1], tx.TxIn[0] }, fund.PrevTx, []error{ErrInvalidExtension, ErrTxInputs}},
		{"new value below old", func(tx *wire.MsgTx) { tx.TxOut[0].Value = 199_999 }, fund.PrevTx, []error{ErrInvalidExtension, ErrExtensionValue}},
		{"no fee", func(tx *wire.MsgTx) { tx.TxOut[1].Value += res.Description.Fee }, fund.PrevTx, []error{ErrInvalidExtension, ErrInvalidTx, ErrTxFee}},
		{"two staking outputs", func(tx *wire.MsgTx) { tx.AddTxOut(wire.NewTxOut(1000, nst.PkScript)) }, fund.PrevTx,
			[]error{ErrInvalidExtension, ErrTxOutputs}},
		{"no new staking output", func(tx *wire.MsgTx) { tx.TxOut[0].PkScript = p2wpkh(f.w.staker) }, fund.PrevTx,
			[]error{ErrInvalidExtension, ErrTxOutputs}},
		{"another funding tx", nil, f.stTx, []error{ErrInvalidExtension, ErrTxInputs}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx := base.Copy()
			if c.mod != nil {
				c.mod(tx)
			}
			_, err := ValidateExtensionTx(tx, f.prev, f.stTx, f.next, c.funding)
			for _, k := range c.want {
				if !errors.Is(err, k) {
					t.Fatalf("got %v, want %v", err, k)
				}
			}
		})
	}
	// The funding coin may not be a staking output: a funding tx whose
	// output pays the previous staking script.
	bad := fund.PrevTx.Copy()
	pst, _ := f.prev.StakingOutput()
	bad.TxOut[fund.OutPoint.Index].PkScript = pst.PkScript
	tx := base.Copy()
	tx.TxIn[1].PreviousOutPoint.Hash = bad.TxHash()
	if _, err := ValidateExtensionTx(tx, f.prev, f.stTx, f.next, bad); !errors.Is(err, ErrExtensionFunding) {
		t.Fatalf("staking output as funding: %v", err)
	}
	// Covenant overlap below the old quorum.
	low := f.next
	low.Params = paramsWithCommittee(t, f.w, []*btcec.PrivateKey{f.w.cov[2], randKey(r), randKey(r)}, 2)
	if _, err := ValidateExtensionTx(base, f.prev, f.stTx, low, fund.PrevTx); !errors.Is(err, ErrExtensionCovenant) {
		t.Fatalf("low overlap: %v", err)
	}
}

func TestCheckExtensionSigningRefusals(t *testing.T) {
	r := newRand(t)
	f := newExtFixture(t, r)
	fund := coin(r, f.w.staker, p2tr(f.w.staker), 90_000)
	build := func() *Result { return mustBuild(BuildExtension(f.request(fund, 10_000))) }
	pst, _ := f.prev.StakingOutput()
	thief := p2wpkh(f.w.staker)
	cases := []struct {
		name string
		mod  func(*Result)
		next func() Delegation
		want error
	}{
		{"stake paid to the staker", func(x *Result) { x.Packet.UnsignedTx.TxOut[0].PkScript = thief }, nil, ErrTxOutputs},
		{"stake reduced", func(x *Result) { x.Packet.UnsignedTx.TxOut[0].Value -= 20_000 }, nil, ErrExtensionValue},
		{"timelock leaf instead of unbonding", func(x *Result) {
			tl, _ := pst.Path(script.TimelockPath)
			x.Packet.Inputs[0].TaprootLeafScript[0].Script = tl.Script
			x.Packet.Inputs[0].TaprootLeafScript[0].ControlBlock = tl.ControlBlock
		}, nil, ErrWrongInput},
		{"funding prevout unknown", func(x *Result) { x.Packet.Inputs[1].WitnessUtxo = nil; x.Packet.Inputs[1].NonWitnessUtxo = nil }, nil, ErrUnknownSpentOutput},
		{"another new delegation", nil, func() Delegation { d := f.next; d.StakingTime = 151; return d }, ErrTxOutputs},
		{"another staker", nil, func() Delegation { d := f.next; d.Staker = randKey(r).PubKey(); return d }, ErrExtensionParties},
	}
	s, _ := NewCovenantSigner(f.w.cov[0])
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := build()
			if c.mod != nil {
				c.mod(x)
			}
			next := f.next
			if c.next != nil {
				next = c.next()
			}
			before := serializeOrNil(x)
			if _, err := s.SignExtension(x.Packet, next, f.prev); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if !bytes.Equal(before, serializeOrNil(x)) {
				t.Fatal("a refused signing changed the packet")
			}
		})
	}
}

func serializeOrNil(r *Result) []byte {
	var b bytes.Buffer
	if err := r.Packet.Serialize(&b); err != nil {
		return nil
	}
	return b.Bytes()
}

// FuzzValidateExtensionTx: any transaction (and any funding transaction)
// is judged without a panic, and one that passes obeys the rules the
// validator claims: 2 inputs, input 0 the previous staking output, a new
// staking output worth at least the old value, a fee above 0.
func FuzzValidateExtensionTx(f *testing.F) {
	r := rand.New(rand.NewSource(7))
	x := newExtFixture(f, r)
	fund := coin(r, x.w.staker, p2wpkh(x.w.staker), 90_000)
	res, err := BuildExtension(x.request(fund, 10_000))
	if err != nil {
		f.Fatal(err)
	}
	var tb, fb bytes.Buffer
	_ = res.Packet.UnsignedTx.Serialize(&tb)
	_ = fund.PrevTx.Serialize(&fb)
	f.Add(tb.Bytes(), fb.Bytes())
	f.Fuzz(func(t *testing.T, txb, fundb []byte) {
		tx, ftx := wire.NewMsgTx(2), wire.NewMsgTx(2)
		if tx.Deserialize(bytes.NewReader(txb)) != nil || ftx.Deserialize(bytes.NewReader(fundb)) != nil {
			return
		}
		idx, err := ValidateExtensionTx(tx, x.prev, x.stTx, x.next, ftx)
		if err != nil {
			return
		}
		fee := x.stTx.TxOut[x.prevF.Index].Value + ftx.TxOut[tx.TxIn[1].PreviousOutPoint.Index].Value
		for _, o := range tx.TxOut {
			fee -= o.Value
		}
		if len(tx.TxIn) != 2 || tx.TxIn[0].PreviousOutPoint != (wire.OutPoint{Hash: x.stTx.TxHash(), Index: x.prevF.Index}) ||
			tx.TxOut[idx].Value < x.stTx.TxOut[x.prevF.Index].Value || fee <= 0 {
			t.Fatal("an extension breaking the rules passed")
		}
	})
}

func BenchmarkBuildExtension(b *testing.B) {
	r := rand.New(rand.NewSource(3))
	x := newExtFixture(b, r)
	req := x.request(coin(r, x.w.staker, p2tr(x.w.staker), 90_000), 10_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildExtension(req); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSignRoutesExtension: Sign hands a covenant key's input 0 of a stake
// extension to SignExtension with the delegations Extension returns,
// refuses it without Extension, signs the staker's input 0 and the
// funding coin as usual, and the result finalises.
func TestSignRoutesExtension(t *testing.T) {
	r := newRand(t)
	f := newExtFixture(t, r)
	funder := f.w.staker
	fund := coin(r, funder, p2wpkh(funder), 90_000)
	res, err := BuildExtension(f.request(fund, 10_000))
	if err != nil {
		t.Fatal(err)
	}
	p := res.Packet
	ext := func(*script.Leaf) (Delegation, Delegation, error) { return f.next, f.prev, nil }
	if _, err := Sign(p, SignRequest{Key: f.w.cov[0]}); !errors.Is(err, ErrUncheckedCovenant) {
		t.Fatalf("covenant key without Extension: %v", err)
	}
	// A covenant callback alone is not enough: an extension is no unbonding.
	onlyCov := SignRequest{Key: f.w.cov[0], Covenant: func(int, *script.Leaf) (Delegation, error) { return f.prev, nil }}
	if _, err := Sign(p, onlyCov); !errors.Is(err, ErrUncheckedCovenant) {
		t.Fatalf("covenant key with Covenant only: %v", err)
	}
	// Wrong delegations (the previous given as the new one, whose staking
	// time differs from the output) are refused and change nothing.
	swapped := func(*script.Leaf) (Delegation, Delegation, error) {
		bad := f.next
		bad.StakingTime = 151
		return bad, f.prev, nil
	}
	if _, err := Sign(p, SignRequest{Key: f.w.cov[0], Extension: swapped}); err == nil {
		t.Fatal("signed against the wrong new delegation")
	}
	if len(p.Inputs[0].TaprootScriptSpendSig) != 0 {
		t.Fatal("a refused signature changed the packet")
	}
	for _, k := range []*btcec.PrivateKey{f.w.cov[0], f.w.cov[2]} {
		s, err := Sign(p, SignRequest{Key: k, Extension: ext})
		if err != nil || len(s) != 1 || s[0].Input != 0 || s[0].Role != script.CovenantRole {
			t.Fatalf("covenant %v: %v", s, err)
		}
	}
	// The staker's key signs input 0 (its slot) and input 1 (its coin).
	s, err := Sign(p, SignRequest{Key: funder})
	if err != nil || len(s) != 2 || s[0].Kind != TapScriptSig || s[1].Kind != FundingSig {
		t.Fatalf("staker: %v %v", s, err)
	}
	final, err := Finalize(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ValidateExtensionTx(final, f.prev, f.stTx, f.next, fund.PrevTx); err != nil {
		t.Fatal(err)
	}
}

// TestAnalyzeExtension: Analyze and AnalyzeTx tell a stake extension by
// its shape (two inputs, input 0 on an unbonding leaf) and name its new
// staking output; a one-input unbonding stays an unbonding.
func TestAnalyzeExtension(t *testing.T) {
	r := newRand(t)
	f := newExtFixture(t, r)
	fund := coin(r, f.w.staker, p2wpkh(f.w.staker), 90_000)
	res, err := BuildExtension(f.request(fund, 10_000))
	if err != nil {
		t.Fatal(err)
	}
	a, err := Analyze(res.Packet, AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind != TxExtension || a.Kind.String() != "extension" || a.Outputs[0].Role != RoleStaking {
		t.Fatalf("packet: kind %v, output 0 %v", a.Kind, a.Outputs[0].Role)
	}
	if !strings.Contains(a.Summary(), "stake extension") {
		t.Fatalf("summary %q", a.Summary())
	}
	f.signExtension(t, res, f.w.staker, f.w.cov[0], f.w.cov[1])
	final, err := Finalize(res.Packet)
	if err != nil {
		t.Fatal(err)
	}
	at, err := AnalyzeTx(final, AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if at.Kind != TxExtension || at.Outputs[0].Role != RoleStaking {
		t.Fatalf("tx: kind %v, output 0 %v", at.Kind, at.Outputs[0].Role)
	}
	for i, o := range at.Outputs[1:] {
		if o.Role == RoleStaking {
			t.Fatalf("output %d (change) taken for a staking output", i+1)
		}
	}
	ub, err := BuildUnbonding(f.prev, f.prevF)
	if err != nil {
		t.Fatal(err)
	}
	if au, err := Analyze(ub.Packet, AnalyzeOptions{}); err != nil || au.Kind != TxUnbonding {
		t.Fatalf("unbonding analysed as %v (%v)", au.Kind, err)
	}
}

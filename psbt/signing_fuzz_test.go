package psbt

import (
	"bytes"
	"math/rand"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/script"
)

// The fuzz targets below feed arbitrary PSBTs and transactions to what
// sits behind the commands that take them from users: sign (Sign),
// finalize (Finalize), adaptor sign-slashing (CovenantSigner.Sign),
// complete-slashing (CompleteSlashing), and the funding transaction of
// unbond, slash and withdraw (FundingFrom and the builders). The fixture
// is built once per fuzzing process; the fuzz functions do only the call
// and its checks.

// signingFixture is one delegation (one finality provider, a 2-of-3
// covenant) with a confirmed staking transaction, and PSBTs of every
// transaction of its lifecycle at several signing stages (the seeds).
type signingFixture struct {
	w      *world
	d      Delegation
	stTx   *wire.MsgTx
	funder *btcec.PrivateKey
	psbts  [][]byte
	txs    [][]byte // staking, unbonding and slashing transactions
}

func newSigningFixture(f *testing.F) *signingFixture {
	r := rand.New(rand.NewSource(15))
	w := newWorld(f, r, 1, 3, 2)
	fx := &signingFixture{w: w, funder: randKey(r)}
	fx.d = w.delegation(100)
	add := func(p *psbt.Packet) { fx.psbts = append(fx.psbts, serialize(f, p)) }
	addTx := func(tx *wire.MsgTx) {
		var b bytes.Buffer
		if err := tx.Serialize(&b); err != nil {
			f.Fatal(err)
		}
		fx.txs = append(fx.txs, b.Bytes())
	}
	must := func(r *Result, err error) *Result {
		if err != nil {
			f.Fatal(err)
		}
		return r
	}
	st := must(BuildStaking(StakingRequest{Delegation: fx.d, Value: 200_000,
		UTXOs: []UTXO{coin(r, fx.funder, p2wpkh(fx.funder), 400_000)}, FeeRate: 2000, ChangePkScript: p2wpkh(fx.funder)}))
	add(st.Packet)
	if _, err := SignFundingInputs(st.Packet, fx.funder); err != nil {
		f.Fatal(err)
	}
	add(st.Packet)
	var err error
	if fx.stTx, err = Finalize(st.Packet); err != nil {
		f.Fatal(err)
	}
	add(st.Packet)
	addTx(fx.stTx)
	out, _ := fx.d.StakingOutput()
	fund := Funding{Tx: fx.stTx, Index: outputIndex(fx.stTx, out)}

	ub := must(BuildUnbonding(fx.d, fund))
	add(ub.Packet)
	if err := SignTapscript(ub.Packet, 0, w.staker); err != nil {
		f.Fatal(err)
	}
	add(ub.Packet)
	for _, c := range w.cov[:2] {
		signer, _ := NewCovenantSigner(c)
		if _, err := signer.Sign(ub.Packet, 0, fx.d); err != nil {
			f.Fatal(err)
		}
	}
	add(ub.Packet)
	ubTx, err := Finalize(ub.Packet)
	if err != nil {
		f.Fatal(err)
	}
	add(ub.Packet)
	addTx(ubTx)

	sl := must(BuildSlashing(fx.d, script.StakingOutputKind, fund))
	add(sl.Packet)
	if err := SignTapscript(sl.Packet, 0, w.staker); err != nil {
		f.Fatal(err)
	}
	for _, c := range w.cov[:2] {
		if _, err := adaptorSignSlashing(sl.Packet, 0, c); err != nil {
			f.Fatal(err)
		}
		add(sl.Packet)
	}
	slTx, err := CompleteSlashing(sl.Packet, w.fps[0])
	if err != nil {
		f.Fatal(err)
	}
	addTx(slTx)

	wd := must(BuildWithdraw(WithdrawRequest{Delegation: fx.d, From: script.StakingOutputKind, Funding: fund,
		DestPkScript: p2wpkh(fx.funder), FeeRate: 2000}))
	add(wd.Packet)
	if err := SignTapscript(wd.Packet, 0, w.staker); err != nil {
		f.Fatal(err)
	}
	add(wd.Packet)
	return fx
}

// keys are the keys a fuzz input may sign with: every party, the funder
// and a stranger.
func (fx *signingFixture) keys() []*btcec.PrivateKey {
	return append(append([]*btcec.PrivateKey{fx.w.staker, fx.funder, fx.w.slashKey}, fx.w.fps...), fx.w.cov...)
}

// executeTx runs every input of tx through btcd's script engine against
// the outputs p says they spend: the check is btcd's, not this package's.
func executeTx(t *testing.T, tx *wire.MsgTx, p *psbt.Packet) {
	t.Helper()
	if len(p.Inputs) != len(tx.TxIn) {
		t.Fatalf("%d inputs in the PSBT, %d in the transaction", len(p.Inputs), len(tx.TxIn))
	}
	fetch := txscript.NewMultiPrevOutFetcher(nil)
	for i, in := range tx.TxIn {
		u := p.Inputs[i].WitnessUtxo
		if u == nil {
			t.Fatalf("input %d: no witness UTXO to check against", i)
		}
		fetch.AddPrevOut(in.PreviousOutPoint, u)
	}
	hashes := txscript.NewTxSigHashes(tx, fetch)
	for i, in := range tx.TxIn {
		u := fetch.FetchPrevOutput(in.PreviousOutPoint)
		vm, err := txscript.NewEngine(u.PkScript, tx, i, txscript.StandardVerifyFlags, nil, hashes, u.Value, fetch)
		if err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
		if err := vm.Execute(); err != nil {
			t.Fatalf("input %d does not verify: %v", i, err)
		}
	}
}

// decodeForFuzz decodes a fuzz input as a PSBT, nil when it is none.
func decodeForFuzz(t *testing.T, data []byte) (*psbt.Packet, []byte) {
	p, err := Decode(data)
	if err != nil {
		return nil, nil
	}
	var b bytes.Buffer
	if err := p.Serialize(&b); err != nil {
		return nil, nil
	}
	return p, b.Bytes()
}

func unchanged(t *testing.T, what string, p *psbt.Packet, before []byte) {
	t.Helper()
	var b bytes.Buffer
	if err := p.Serialize(&b); err != nil || !bytes.Equal(b.Bytes(), before) {
		t.Fatalf("%s changed the PSBT (%v)", what, err)
	}
}

// FuzzSign: Sign (the sign command) with any key on any PSBT never panics;
// a refusal leaves the PSBT unchanged; a success changes no transaction,
// reports at least one signature, each tapscript signature it reports is
// in its input under the key, and when every tapscript signature verified
// before, every one verifies after.
func FuzzSign(f *testing.F) {
	fx := newSigningFixture(f)
	keys := fx.keys()
	for _, p := range fx.psbts {
		for k := range keys {
			f.Add(p, uint8(k))
		}
	}
	covenant := func(int, *script.Leaf) (Delegation, error) { return fx.d, nil }
	f.Fuzz(func(t *testing.T, data []byte, who uint8) {
		p, before := decodeForFuzz(t, data)
		if p == nil {
			return
		}
		txid := p.UnsignedTx.TxHash()
		nBefore, verr := VerifyTapscriptSigs(p)
		key := keys[int(who)%len(keys)]
		signed, err := Sign(p, SignRequest{Key: key, Covenant: covenant})
		if err != nil {
			unchanged(t, "a refused Sign", p, before)
			return
		}
		if len(signed) == 0 || p.UnsignedTx.TxHash() != txid {
			t.Fatalf("Sign succeeded with %d signatures, txid %s -> %s", len(signed), txid, p.UnsignedTx.TxHash())
		}
		x := script.XOnly(key.PubKey())
		for _, s := range signed {
			if s.Kind != TapScriptSig {
				continue
			}
			found := false
			for _, sig := range p.Inputs[s.Input].TaprootScriptSpendSig {
				found = found || bytes.Equal(sig.XOnlyPubKey, x[:])
			}
			if !found {
				t.Fatalf("Sign reports a signature on input %d that is not there", s.Input)
			}
		}
		if verr == nil {
			// Every signature verified before; the ones added (or
			// replaced) verify too.
			nAfter, err := VerifyTapscriptSigs(p)
			if err != nil || nAfter < nBefore {
				t.Fatalf("after signing: %d signatures verify (before %d): %v", nAfter, nBefore, err)
			}
		}
	})
}

// FuzzFinalize: Finalize (the finalize command) never panics; a refusal
// leaves the PSBT unchanged; a transaction it returns is the PSBT's, and
// every input of it verifies in btcd's script engine.
func FuzzFinalize(f *testing.F) {
	fx := newSigningFixture(f)
	for _, p := range fx.psbts {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, before := decodeForFuzz(t, data)
		if p == nil {
			return
		}
		txid := p.UnsignedTx.TxHash()
		tx, err := Finalize(p)
		if err != nil {
			unchanged(t, "a refused Finalize", p, before)
			return
		}
		if tx.TxHash() != txid {
			t.Fatalf("finalised %s, the PSBT is for %s", tx.TxHash(), txid)
		}
		executeTx(t, tx, p)
	})
}

// FuzzCovenantSign: a covenant member's checked signer (adaptor
// sign-slashing, and the unbonding signature) on any PSBT never panics; a
// refusal leaves the PSBT unchanged; a success changes no transaction and
// leaves in the input as many valid signatures of the member as it
// reports.
func FuzzCovenantSign(f *testing.F) {
	fx := newSigningFixture(f)
	for _, p := range fx.psbts {
		for k := range fx.w.cov {
			f.Add(p, uint8(k), uint8(0))
		}
	}
	signers := make([]*CovenantSigner, len(fx.w.cov))
	for i, c := range fx.w.cov {
		var err error
		if signers[i], err = NewCovenantSigner(c); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, who, input uint8) {
		p, before := decodeForFuzz(t, data)
		if p == nil || len(p.Inputs) == 0 {
			return
		}
		s := signers[int(who)%len(signers)]
		idx := int(input) % len(p.Inputs)
		txid := p.UnsignedTx.TxHash()
		n, err := s.Sign(p, idx, fx.d)
		if err != nil {
			unchanged(t, "a refused covenant signature", p, before)
			return
		}
		if n <= 0 || p.UnsignedTx.TxHash() != txid {
			t.Fatalf("signed %d, txid %s -> %s", n, txid, p.UnsignedTx.TxHash())
		}
		// The member's signatures are there and verify: one adaptor
		// signature per finality provider on a slashing leaf, one
		// signature on an unbonding leaf. (Other fields of the input
		// may be malformed: they came with the PSBT.)
		me := s.PublicKey()
		adaptorSigs, tapSigs := 0, 0
		for i := range p.Inputs[idx].Unknowns {
			u := p.Inputs[idx].Unknowns[i]
			if a, ok, err := parseAdaptorUnknown(u); ok && err == nil && a.Covenant == me && adaptorFieldValid(p, idx, u) {
				adaptorSigs++
			}
		}
		ls, _, err := tapLeaf(p, idx)
		if err != nil {
			t.Fatalf("signed an input without a leaf: %v", err)
		}
		lh := leafHash(ls.Script)
		for _, sig := range p.Inputs[idx].TaprootScriptSpendSig {
			if bytes.Equal(sig.XOnlyPubKey, me[:]) && bytes.Equal(sig.LeafHash, lh[:]) {
				tapSigs++
			}
		}
		if adaptorSigs != n && !(n == 1 && tapSigs == 1) {
			t.Fatalf("signed %d, but input %d holds %d valid adaptor signatures and %d signatures of the member", n, idx, adaptorSigs, tapSigs)
		}
	})
}

// FuzzCompleteSlashing: completing any PSBT with any finality provider
// key (complete-slashing) never panics and never changes the PSBT; a
// transaction it returns is the PSBT's, and every input verifies in btcd's
// script engine.
func FuzzCompleteSlashing(f *testing.F) {
	fx := newSigningFixture(f)
	keys := fx.keys()
	for _, p := range fx.psbts {
		f.Add(p, uint8(3)) // keys[3] is the finality provider
		f.Add(p, uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, who uint8) {
		p, before := decodeForFuzz(t, data)
		if p == nil {
			return
		}
		tx, err := CompleteSlashing(p, keys[int(who)%len(keys)])
		unchanged(t, "CompleteSlashing", p, before)
		if err != nil {
			return
		}
		if tx.TxHash() != p.UnsignedTx.TxHash() {
			t.Fatalf("completed %s, the PSBT is for %s", tx.TxHash(), p.UnsignedTx.TxHash())
		}
		executeTx(t, tx, p)
	})
}

// FuzzFundingTx: any transaction given as the funding transaction of
// unbond, slash or withdraw (from any of the delegation's outputs) either
// yields a PSBT that spends exactly the delegation's output it holds (and,
// from a staking transaction ValidateStakingTx accepts, one the protocol's
// checks of the pair accept: ValidateUnbondingTx, ValidateSlashingTx), or
// is refused; nothing panics and the transaction is not changed.
func FuzzFundingTx(f *testing.F) {
	fx := newSigningFixture(f)
	for _, tx := range fx.txs {
		for op := uint8(0); op < 3; op++ {
			for kind := uint8(0); kind < 3; kind++ {
				f.Add(tx, op, kind)
			}
		}
	}
	kinds := []script.OutputKind{script.StakingOutputKind, script.UnbondingOutputKind, script.SlashingChangeOutputKind}
	dest := p2wpkh(fx.funder)
	f.Fuzz(func(t *testing.T, data []byte, op, kindSel uint8) {
		tx := new(wire.MsgTx)
		if tx.Deserialize(bytes.NewReader(data)) != nil {
			return
		}
		var was bytes.Buffer
		_ = tx.Serialize(&was)
		kind := kinds[int(kindSel)%len(kinds)]
		fund, err := fx.d.FundingFrom(tx, kind)
		if err != nil {
			return
		}
		want, err := fx.d.Output(kind)
		if err != nil {
			t.Fatal(err)
		}
		if fund.Tx != tx || int(fund.Index) >= len(tx.TxOut) || !bytes.Equal(tx.TxOut[fund.Index].PkScript, want.PkScript) {
			t.Fatalf("FundingFrom named output %d, which is not the %v output", fund.Index, kind)
		}
		var res *Result
		switch op % 3 {
		case 0:
			res, err = BuildUnbonding(fx.d, fund)
		case 1:
			res, err = BuildSlashing(fx.d, kind, fund)
		default:
			res, err = BuildWithdraw(WithdrawRequest{Delegation: fx.d, From: kind, Funding: fund, DestPkScript: dest, FeeRate: 2000})
		}
		var now bytes.Buffer
		_ = tx.Serialize(&now)
		if !bytes.Equal(was.Bytes(), now.Bytes()) {
			t.Fatal("building changed the funding transaction")
		}
		if err != nil {
			return
		}
		u := res.Packet.UnsignedTx
		spent := wire.OutPoint{Hash: tx.TxHash(), Index: fund.Index}
		if len(u.TxIn) != 1 || u.TxIn[0].PreviousOutPoint != spent {
			t.Fatalf("the PSBT spends %v, want only %v", u.TxIn, spent)
		}
		if wu := res.Packet.Inputs[0].WitnessUtxo; wu == nil || wu.Value != tx.TxOut[fund.Index].Value || !bytes.Equal(wu.PkScript, want.PkScript) {
			t.Fatal("the PSBT's witness UTXO is not the output spent")
		}
		// From a staking transaction the protocol accepts, what is built
		// passes the protocol's checks of the pair. (A stake it refuses,
		// say of a value outside the params, can still be withdrawn and
		// is still built for; no promise is made of its checks.)
		if kind != script.StakingOutputKind {
			return
		}
		if _, err := ValidateStakingTx(tx, fx.d); err != nil {
			return
		}
		switch op % 3 {
		case 0:
			if err := ValidateUnbondingTx(u, tx, fx.d); err != nil {
				t.Fatalf("a built unbonding transaction fails validation: %v", err)
			}
		case 1:
			if err := ValidateSlashingTx(u, tx, fund.Index, kind, fx.d); err != nil {
				t.Fatalf("a built slashing transaction fails validation: %v", err)
			}
		}
	})
}

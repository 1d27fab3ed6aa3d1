package watch

import (
	"bytes"
	"encoding/hex"
	"math/rand"
	"sort"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// tb is what the helpers need of a test (testing.TB, or an example's
// stand-in that panics).
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// world is a set of parties with every private key, under test params:
// what a delegation's whole lifecycle is built from with the project's
// own builders, without a node.
type world struct {
	r        *rand.Rand
	params   *params.Params
	staker   *btcec.PrivateKey
	fps      []*btcec.PrivateKey
	cov      []*btcec.PrivateKey
	slashKey *btcec.PrivateKey
}

func randKey(r *rand.Rand) *btcec.PrivateKey {
	var b [32]byte
	for {
		r.Read(b[:])
		k, _ := btcec.PrivKeyFromBytes(b[:])
		if !k.Key.IsZero() {
			return k
		}
	}
}

func p2wpkh(pk *btcec.PublicKey) []byte {
	return append([]byte{0x00, 0x14}, address.Hash160(pk.SerializeCompressed())...)
}

// newWorld makes nFP finality providers and nCov covenant members with the
// given quorum, all keys drawn from seed.
func newWorld(t tb, seed int64, nFP, nCov int, quorum uint32) *world {
	t.Helper()
	r := rand.New(rand.NewSource(seed))
	w := &world{r: r, staker: randKey(r), slashKey: randKey(r)}
	for range nFP {
		w.fps = append(w.fps, randKey(r))
	}
	var covPubs []*btcec.PublicKey
	for range nCov {
		k := randKey(r)
		w.cov = append(w.cov, k)
		covPubs = append(covPubs, k.PubKey())
	}
	var err error
	w.params, err = params.New(params.Config{
		CovenantKeys: covPubs, CovenantQuorum: quorum,
		MinStakingValue: 10_000, MaxStakingValue: 10_000_000_000,
		MinStakingTime: 10, MaxStakingTime: 65535,
		UnbondingTime: 20, UnbondingFee: 1_000,
		SlashingPkScript: p2wpkh(w.slashKey.PubKey()), SlashingRate: "0.1", MinSlashingFee: 1_000,
		Tag: []byte("bbt4"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) fpPubs(idx ...int) []*btcec.PublicKey {
	var out []*btcec.PublicKey
	for _, i := range idx {
		out = append(out, w.fps[i].PubKey())
	}
	return out
}

// fixture is one delegation's lifecycle: the staking and unbonding
// transactions (signed), and the two slashing PSBTs, staker-signed and
// adaptor-signed by the covenant members covSigners.
type entryFixture struct {
	d                 psbt.Delegation
	stakingTx         *wire.MsgTx
	stakingPSBT       *btcpsbt.Packet // signed, not finalised
	index             uint32
	unbondingTx       *wire.MsgTx
	unbondingPSBT     *btcpsbt.Packet // signed, finalised
	slashing          *btcpsbt.Packet
	unbondingSlashing *btcpsbt.Packet
}

// delegate stakes value for the finality providers fpIdx with a phase-1
// OP_RETURN when phaseOne, and pre-signs everything as a delegation that
// Babylon accepted has it: the unbonding transaction signed by the staker
// and a quorum of the covenant, both slashing transactions signed by the
// staker and adaptor-signed by the members covSigners.
func (w *world) delegate(t tb, fpIdx []int, value int64, stakingTime uint16, phaseOne bool, covSigners []int) *entryFixture {
	t.Helper()
	d := psbt.Delegation{Params: w.params, Staker: w.staker.PubKey(), FinalityProviders: w.fpPubs(fpIdx...), StakingTime: stakingTime}
	funder := randKey(w.r)
	prev := wire.NewMsgTx(2)
	var h chainhash.Hash
	w.r.Read(h[:])
	prev.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: h}})
	prev.AddTxOut(wire.NewTxOut(value+100_000, p2wpkh(funder.PubKey())))
	res, err := psbt.BuildStaking(psbt.StakingRequest{Delegation: d, Value: value, PhaseOne: phaseOne,
		UTXOs:   []psbt.UTXO{{OutPoint: wire.OutPoint{Hash: prev.TxHash()}, Value: value + 100_000, PkScript: p2wpkh(funder.PubKey()), PrevTx: prev}},
		FeeRate: 2000, ChangePkScript: p2wpkh(funder.PubKey())})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := psbt.SignFundingInputs(res.Packet, funder); err != nil || n != 1 {
		t.Fatalf("signed %d: %v", n, err)
	}
	f := &entryFixture{d: d}
	if f.stakingPSBT, err = clone(res.Packet); err != nil {
		t.Fatal(err)
	}
	if f.stakingTx, err = psbt.Finalize(res.Packet); err != nil {
		t.Fatal(err)
	}
	if f.index, err = psbt.ValidateStakingTx(f.stakingTx, d); err != nil {
		t.Fatal(err)
	}
	ub, err := psbt.BuildUnbonding(d, psbt.Funding{Tx: f.stakingTx, Index: f.index})
	if err != nil {
		t.Fatal(err)
	}
	if err := psbt.SignTapscript(ub.Packet, 0, w.staker); err != nil {
		t.Fatal(err)
	}
	for _, k := range w.cov[:w.params.CovenantQuorum()] {
		covenantSign(t, ub.Packet, k, d)
	}
	if f.unbondingTx, err = psbt.Finalize(ub.Packet); err != nil {
		t.Fatal(err)
	}
	f.unbondingPSBT = ub.Packet
	f.slashing = w.presign(t, d, script.StakingOutputKind, psbt.Funding{Tx: f.stakingTx, Index: f.index}, covSigners, true)
	f.unbondingSlashing = w.presign(t, d, script.UnbondingOutputKind, psbt.Funding{Tx: f.unbondingTx, Index: 0}, covSigners, true)
	return f
}

// presign builds the slashing PSBT from the output, signs it as the staker
// (when staker) and has the covenant members covSigners adaptor-sign it
// through psbt.CovenantSigner.
func (w *world) presign(t tb, d psbt.Delegation, from script.OutputKind, f psbt.Funding, covSigners []int, staker bool) *btcpsbt.Packet {
	t.Helper()
	res, err := psbt.BuildSlashing(d, from, f)
	if err != nil {
		t.Fatal(err)
	}
	if staker {
		if err := psbt.SignTapscript(res.Packet, 0, w.staker); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range covSigners {
		covenantSign(t, res.Packet, w.cov[i], d)
	}
	return res.Packet
}

func covenantSign(t tb, p *btcpsbt.Packet, k *btcec.PrivateKey, d psbt.Delegation) {
	t.Helper()
	s, err := psbt.NewCovenantSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Zero()
	if _, err := s.Sign(p, 0, d); err != nil {
		t.Fatal(err)
	}
}

func clone(p *btcpsbt.Packet) (*btcpsbt.Packet, error) {
	var b bytes.Buffer
	if err := p.Serialize(&b); err != nil {
		return nil, err
	}
	return btcpsbt.NewFromRawBytes(&b, false)
}

// config is the EntryConfig of the whole fixture.
func (f *entryFixture) config() EntryConfig {
	return EntryConfig{Source: SourceStakingTx, Params: f.d.Params, Staker: f.d.Staker, FPs: f.d.FinalityProviders,
		StakingTime: f.d.StakingTime, StakingTx: f.stakingTx, UnbondingTx: f.unbondingTx,
		Slashing: f.slashing, UnbondingSlashing: f.unbondingSlashing}
}

func (f *entryFixture) entry(t tb) *Entry {
	t.Helper()
	e, err := NewEntry(f.config())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// marshal is the entry's JSON, to compare an entry before and after a call.
func marshal(t tb, e *Entry) []byte {
	t.Helper()
	b, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runScript executes input i of tx against prev with btcd's script engine
// (standard flags): the oracle for a completed spend, independent of the
// package's own verification.
func runScript(tx *wire.MsgTx, i int, prev *wire.TxOut) error {
	fetch := txscript.NewCannedPrevOutputFetcher(prev.PkScript, prev.Value)
	vm, err := txscript.NewEngine(prev.PkScript, tx, i, txscript.StandardVerifyFlags, nil, txscript.NewTxSigHashes(tx, fetch), prev.Value, fetch)
	if err != nil {
		return err
	}
	return vm.Execute()
}

// xonlyHex lists the covenant members idx as x-only hex, ascending by key
// (the leaf's order).
func (w *world) xonlyHex(idx ...int) []string {
	var out []string
	for _, i := range idx {
		x := script.XOnly(w.cov[i].PubKey())
		out = append(out, hex.EncodeToString(x[:]))
	}
	sort.Strings(out)
	return out
}

func leafHash(s []byte) chainhash.Hash { return txscript.NewBaseTapLeaf(s).TapHash() }

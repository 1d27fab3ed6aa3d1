package babylon_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chainhash/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// The numbers and wire types of MsgBtcStakeExpand, read from babylon
// proto/babylon/btcstaking/v1/tx.proto (commit a3b6540f): staker_addr 1
// string, pop 2 message, btc_pk 3 bytes, fp_btc_pk_list 4 repeated bytes,
// staking_time 5 uint32, staking_value 6 int64, staking_tx 7 bytes,
// slashing_tx 8 bytes, delegator_slashing_sig 9 bytes, unbonding_time 10
// uint32, unbonding_tx 11 bytes, unbonding_value 12 int64,
// unbonding_slashing_tx 13 bytes, delegator_unbonding_slashing_sig 14
// bytes, previous_staking_tx_hash 15 string, funding_tx 16 bytes.
var expandSchema = map[protowire.Number]protowire.Type{
	1: protowire.BytesType, 2: protowire.BytesType, 3: protowire.BytesType, 4: protowire.BytesType,
	5: protowire.VarintType, 6: protowire.VarintType, 7: protowire.BytesType, 8: protowire.BytesType,
	9: protowire.BytesType, 10: protowire.VarintType, 11: protowire.BytesType, 12: protowire.VarintType,
	13: protowire.BytesType, 14: protowire.BytesType, 15: protowire.BytesType, 16: protowire.BytesType,
}

// expandFixture extends the registration fixture's delegation (staking
// output 1 of f.tx, 300,000 sat) into a new staking output of 400,000 sat
// for 250 blocks, with a funding coin of 150,000 sat; the extension tx is
// built by hand: input 0 the previous staking output, input 1 the funding
// output; output 0 change, output 1 the new staking output.
type expandFixture struct {
	*fixture
	newD    psbt.Delegation
	funding *wire.MsgTx
	ext     *wire.MsgTx
}

const expandedValue = 400_000

func newExpandFixture(t testing.TB) *expandFixture {
	t.Helper()
	f := newFixture(t)
	newD := f.d
	newD.StakingTime = 250
	out, err := newD.StakingOutput()
	if err != nil {
		t.Fatal(err)
	}
	funding := wire.NewMsgTx(2)
	funding.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{9}, Index: 0}, nil, nil))
	funding.AddTxOut(wire.NewTxOut(10_000, append([]byte{0x00, 0x14}, bytes.Repeat([]byte{2}, 20)...)))
	funding.AddTxOut(wire.NewTxOut(150_000, append([]byte{0x00, 0x14}, bytes.Repeat([]byte{3}, 20)...)))
	ext := wire.NewMsgTx(2)
	ext.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: f.tx.TxHash(), Index: 1}, nil, nil))
	ext.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: funding.TxHash(), Index: 1}, nil, nil))
	ext.AddTxOut(wire.NewTxOut(49_000, append([]byte{0x00, 0x14}, bytes.Repeat([]byte{4}, 20)...)))
	ext.AddTxOut(wire.NewTxOut(expandedValue, out.PkScript))
	return &expandFixture{fixture: f, newD: newD, funding: funding, ext: ext}
}

func (f *expandFixture) request() babylon.ExpansionRequest {
	return babylon.ExpansionRequest{StakerAddress: f.addr, PoP: testPoP(), Delegation: f.newD, ExtensionTx: f.ext,
		PreviousStakingTxHash: f.tx.TxHash(), FundingTx: f.funding, Versions: f.versions, TipHeight: 150}
}

func (f *expandFixture) signed(t testing.TB) *babylon.Expansion {
	t.Helper()
	draft, err := babylon.PrepareExpansion(f.request())
	if err != nil {
		t.Fatal(err)
	}
	e, err := draft.Sign(f.staker)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestExpansionEncodesEveryField(t *testing.T) {
	f := newExpandFixture(t)
	e := f.signed(t)
	enc := e.Marshal()

	// The new delegation's transactions, from psbt's builders directly,
	// spending output 1 of the extension tx.
	d := f.newD
	stF := psbt.Funding{Tx: f.ext, Index: 1}
	ub, err := psbt.BuildUnbonding(d, stF)
	if err != nil {
		t.Fatal(err)
	}
	sl, err := psbt.BuildSlashing(d, script.StakingOutputKind, stF)
	if err != nil {
		t.Fatal(err)
	}
	usl, err := psbt.BuildSlashing(d, script.UnbondingOutputKind, psbt.Funding{Tx: ub.Packet.UnsignedTx, Index: 0})
	if err != nil {
		t.Fatal(err)
	}
	if sl.Packet.UnsignedTx.TxIn[0].PreviousOutPoint != (wire.OutPoint{Hash: f.ext.TxHash(), Index: 1}) {
		t.Fatal("slashing tx does not spend the extension's staking output")
	}
	stakerX := schnorr.SerializePubKey(f.staker.PubKey())
	fpX := schnorr.SerializePubKey(f.fp.PubKey())

	// Independent walk: every field 1..16 in ascending order with the
	// proto's wire type.
	fs := walk(t, enc)
	if len(fs) != 16 {
		t.Fatalf("%d records, want 16", len(fs))
	}
	got := map[protowire.Number]walkedField{}
	for i, w := range fs {
		want := protowire.Number(i + 1)
		if w.num != want || w.typ != expandSchema[w.num] {
			t.Fatalf("record %d: field %d type %d, want field %d type %d", i, w.num, w.typ, want, expandSchema[want])
		}
		got[w.num] = w
	}
	checkBytes := func(n protowire.Number, want []byte) {
		t.Helper()
		if !bytes.Equal(got[n].b, want) {
			t.Errorf("field %d = %.80x, want %.80x", n, got[n].b, want)
		}
	}
	checkBytes(1, []byte(f.addr))
	checkBytes(2, testPoP())
	checkBytes(3, stakerX)
	checkBytes(4, fpX)
	checkBytes(7, serialize(t, f.ext))
	checkBytes(8, serialize(t, sl.Packet.UnsignedTx))
	checkBytes(11, serialize(t, ub.Packet.UnsignedTx))
	checkBytes(13, serialize(t, usl.Packet.UnsignedTx))
	checkBytes(15, []byte(f.tx.TxHash().String()))
	checkBytes(16, serialize(t, f.funding))
	for n, want := range map[protowire.Number]uint64{5: 250, 6: expandedValue, 10: uint64(d.Params.UnbondingTime()),
		12: uint64(expandedValue - d.Params.UnbondingFee())} {
		if got[n].v != want {
			t.Errorf("field %d = %d, want %d", n, got[n].v, want)
		}
	}
	// The two signatures verify against the new slashing sighashes.
	for _, c := range []struct {
		n protowire.Number
		p *btcpsbt.Packet
	}{{9, sl.Packet}, {14, usl.Packet}} {
		h, err := psbt.TapscriptSigHash(c.p, 0)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := schnorr.ParseSignature(got[c.n].b)
		if err != nil || !sig.Verify(h, f.staker.PubKey()) {
			t.Errorf("field %d: not the staker's signature of the slashing sighash (%v)", c.n, err)
		}
	}

	// Decoding gives back every field.
	m, err := babylon.UnmarshalMsgBtcStakeExpand(enc)
	if err != nil {
		t.Fatal(err)
	}
	if m.StakerAddr != f.addr || !bytes.Equal(m.Pop, testPoP()) || !bytes.Equal(m.BtcPk, stakerX) ||
		len(m.FpBtcPkList) != 1 || !bytes.Equal(m.FpBtcPkList[0], fpX) || m.StakingTime != 250 ||
		m.StakingValue != expandedValue || !bytes.Equal(m.StakingTx, got[7].b) ||
		!bytes.Equal(m.SlashingTx, got[8].b) || !bytes.Equal(m.DelegatorSlashingSig, got[9].b) ||
		m.UnbondingTime != uint32(d.Params.UnbondingTime()) || !bytes.Equal(m.UnbondingTx, got[11].b) ||
		m.UnbondingValue != expandedValue-d.Params.UnbondingFee() || !bytes.Equal(m.UnbondingSlashingTx, got[13].b) ||
		!bytes.Equal(m.DelegatorUnbondingSlashingSig, got[14].b) || m.PreviousStakingTxHash != f.tx.TxHash().String() ||
		!bytes.Equal(m.FundingTx, serialize(t, f.funding)) {
		t.Errorf("decoded message differs: %v", m)
	}
	if !bytes.Equal(m.Marshal(), enc) {
		t.Error("re-encoding the decoded message changes the bytes")
	}
	if e.StakingTxHash() != f.ext.TxHash() || e.StakingOutputIndex() != 1 {
		t.Error("wrong staking tx hash or index")
	}
	if v, ok := e.ParamsVersion(); v != 4 || !ok {
		t.Errorf("params version %d %v, want 4", v, ok)
	}
	// Msg is a copy.
	m1 := e.Msg()
	m1.StakingTx[0] ^= 1
	m1.FundingTx[0] ^= 1
	if !bytes.Equal(e.Marshal(), enc) {
		t.Error("editing Msg's copy changed the expansion")
	}
}

// TestExpansionBabylondArgs checks the 16 arguments against babylond's
// order (x/btcstaking/client/cli/tx.go, NewBTCStakeExpandCmd).
func TestExpansionBabylondArgs(t *testing.T) {
	f := newExpandFixture(t)
	e := f.signed(t)
	m := e.Msg()
	args := e.BabylondArgs()
	want := []string{
		hex.EncodeToString(schnorr.SerializePubKey(f.staker.PubKey())), hex.EncodeToString(testPoP()),
		hex.EncodeToString(serialize(t, f.ext)), "",
		hex.EncodeToString(schnorr.SerializePubKey(f.fp.PubKey())), "250", "400000",
		hex.EncodeToString(m.SlashingTx), hex.EncodeToString(m.DelegatorSlashingSig), hex.EncodeToString(m.UnbondingTx),
		hex.EncodeToString(m.UnbondingSlashingTx), strconv.Itoa(int(f.newD.Params.UnbondingTime())),
		strconv.FormatInt(expandedValue-f.newD.Params.UnbondingFee(), 10), hex.EncodeToString(m.DelegatorUnbondingSlashingSig),
		f.tx.TxHash().String(), hex.EncodeToString(serialize(t, f.funding)),
	}
	if len(args) != 16 {
		t.Fatalf("%d args, want 16", len(args))
	}
	for i := range want {
		if args[i] != want[i] {
			t.Errorf("arg %d = %.40s, want %.40s", i, args[i], want[i])
		}
	}
	var j map[string]any
	b, err := json.Marshal(e)
	if err != nil || json.Unmarshal(b, &j) != nil {
		t.Fatal(err)
	}
	if j["encoded"] != hex.EncodeToString(e.Marshal()) || j["staking_value"] != float64(expandedValue) ||
		j["previous_staking_tx_hash"] != f.tx.TxHash().String() || j["funding_tx"] != hex.EncodeToString(serialize(t, f.funding)) ||
		j["staker_addr"] != f.addr {
		t.Errorf("JSON rendering: %s", b)
	}
	if _, has := j["staking_tx_inclusion_proof"]; has {
		t.Error("JSON has an inclusion proof field, the message has none")
	}
}

func TestExpansionExternalSigner(t *testing.T) {
	f := newExpandFixture(t)
	draft, err := babylon.PrepareExpansion(f.request())
	if err != nil {
		t.Fatal(err)
	}
	withKey, err := draft.Sign(f.staker)
	if err != nil {
		t.Fatal(err)
	}
	sp, up, err := draft.SlashingPackets()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*btcpsbt.Packet{sp, up} {
		if err := psbt.SignTapscript(p, 0, f.staker); err != nil {
			t.Fatal(err)
		}
	}
	ext, err := draft.Complete(sp, up)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ext.Marshal(), withKey.Marshal()) {
		t.Error("externally signed expansion differs from the key-signed one")
	}
	if _, err := draft.Complete(up, sp); !errors.Is(err, babylon.ErrInvalidRegistration) {
		t.Errorf("swapped packets: %v, want ErrInvalidRegistration", err)
	}
	if _, err := draft.Sign(f.fp); !errors.Is(err, babylon.ErrInvalidRegistration) {
		t.Errorf("signing with the FP key: %v, want ErrInvalidRegistration", err)
	}
}

func TestExpansionRefusals(t *testing.T) {
	f := newExpandFixture(t)
	editTx := func(edit func(tx *wire.MsgTx)) func(r *babylon.ExpansionRequest) {
		return func(r *babylon.ExpansionRequest) {
			tx := f.ext.Copy()
			edit(tx)
			r.ExtensionTx = tx
		}
	}
	cases := []struct {
		name string
		edit func(r *babylon.ExpansionRequest)
		want error
	}{
		{"input 0 spends another transaction", editTx(func(tx *wire.MsgTx) {
			tx.TxIn[0].PreviousOutPoint.Hash = chainhash.Hash{5}
		}), babylon.ErrInvalidExpansion},
		{"inputs swapped", editTx(func(tx *wire.MsgTx) { tx.TxIn[0], tx.TxIn[1] = tx.TxIn[1], tx.TxIn[0] }), babylon.ErrInvalidExpansion},
		{"one input", editTx(func(tx *wire.MsgTx) { tx.TxIn = tx.TxIn[:1] }), babylon.ErrInvalidExpansion},
		{"three inputs", editTx(func(tx *wire.MsgTx) {
			tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{6}}, nil, nil))
		}), babylon.ErrInvalidExpansion},
		{"no new staking output", editTx(func(tx *wire.MsgTx) { tx.TxOut = tx.TxOut[:1] }), psbt.ErrInvalidTx},
		{"staking output of the old staking time", editTx(func(tx *wire.MsgTx) {
			old, _ := f.d.StakingOutput()
			tx.TxOut[1].PkScript = old.PkScript
		}), psbt.ErrInvalidTx},
		{"funding tx is not input 1's", func(r *babylon.ExpansionRequest) {
			other := f.funding.Copy()
			other.LockTime = 1
			r.FundingTx = other
		}, babylon.ErrInvalidExpansion},
		{"input 1 spends a missing funding output", editTx(func(tx *wire.MsgTx) { tx.TxIn[1].PreviousOutPoint.Index = 2 }),
			babylon.ErrInvalidExpansion},
		{"funding output of 0 sat", func(r *babylon.ExpansionRequest) {
			fund := f.funding.Copy()
			fund.TxOut[1].Value = 0
			tx := f.ext.Copy()
			tx.TxIn[1].PreviousOutPoint.Hash = fund.TxHash()
			r.FundingTx, r.ExtensionTx = fund, tx
		}, babylon.ErrInvalidExpansion},
		{"funding tx is the previous staking tx", func(r *babylon.ExpansionRequest) {
			tx := f.ext.Copy()
			tx.TxIn[1].PreviousOutPoint = wire.OutPoint{Hash: f.tx.TxHash(), Index: 0}
			r.ExtensionTx, r.FundingTx = tx, f.tx
		}, babylon.ErrInvalidExpansion},
		{"no funding tx", func(r *babylon.ExpansionRequest) { r.FundingTx = nil }, babylon.ErrInvalidExpansion},
		{"no extension tx", func(r *babylon.ExpansionRequest) { r.ExtensionTx = nil }, babylon.ErrInvalidExpansion},
		{"previous hash of another tx", func(r *babylon.ExpansionRequest) { r.PreviousStakingTxHash = chainhash.Hash{8} },
			babylon.ErrInvalidExpansion},
		{"two finality providers", func(r *babylon.ExpansionRequest) {
			r.Delegation.FinalityProviders = []*btcec.PublicKey{f.fp.PubKey(), testKey("other fp").PubKey()}
		}, babylon.ErrInvalidRegistration},
		{"tip before the first version", func(r *babylon.ExpansionRequest) { r.TipHeight = 99 }, params.ErrNoVersion},
		{"bad address", func(r *babylon.ExpansionRequest) { r.StakerAddress = "bbn1" }, babylon.ErrInvalidAddress},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.request()
			c.edit(&r)
			_, err := babylon.PrepareExpansion(r)
			if !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
	// The caller's transactions are not changed.
	before := serialize(t, f.ext)
	if _, err := babylon.PrepareExpansion(f.request()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(serialize(t, f.ext), before) {
		t.Error("PrepareExpansion changed the caller's extension tx")
	}
}

func TestUnmarshalExpandStrict(t *testing.T) {
	f := newExpandFixture(t)
	enc := f.signed(t).Marshal()
	cases := map[string][]byte{
		"unknown field 17":      protowire.AppendBytes(protowire.AppendTag(bytes.Clone(enc), 17, protowire.BytesType), []byte{1}),
		"funding as varint":     protowire.AppendVarint(protowire.AppendTag(nil, 16, protowire.VarintType), 1),
		"prev hash twice":       protowire.AppendBytes(protowire.AppendTag(bytes.Clone(enc), 15, protowire.BytesType), []byte("x")),
		"short sig in 9":        protowire.AppendBytes(protowire.AppendTag(nil, 9, protowire.BytesType), make([]byte, 63)),
		"short sig in 14":       protowire.AppendBytes(protowire.AppendTag(nil, 14, protowire.BytesType), make([]byte, 65)),
		"unbonding time uint64": protowire.AppendVarint(protowire.AppendTag(nil, 10, protowire.VarintType), 1<<32),
		"truncated":             enc[:len(enc)-1],
	}
	for name, b := range cases {
		if _, err := babylon.UnmarshalMsgBtcStakeExpand(b); !errors.Is(err, babylon.ErrInvalidMessage) {
			t.Errorf("%s: %v, want ErrInvalidMessage", name, err)
		}
	}
	// A MsgCreateBTCDelegation is not taken for an expansion: its field 10
	// (the slashing signature, bytes) is the expansion's unbonding_time, a
	// varint, so the wire type refuses it.
	reg, _ := babylon.PrepareRegistration(f.fixture.request())
	r, err := reg.Sign(f.staker)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := babylon.UnmarshalMsgBtcStakeExpand(r.Marshal()); !errors.Is(err, babylon.ErrInvalidMessage) {
		t.Errorf("a MsgCreateBTCDelegation decoded as MsgBtcStakeExpand: %v", err)
	}
}

// TestActivateExpansion: the MsgBTCUndelegate of the old delegation with
// the 2-input extension tx as stake_spending_tx carries [old staking tx,
// funding tx] as funding_transactions, in input order.
func TestActivateExpansion(t *testing.T) {
	f := newExpandFixture(t)
	signedExt := f.ext.Copy()
	signedExt.TxIn[0].Witness = wire.TxWitness{{1}, {2}, {3}, {4}}
	signedExt.TxIn[1].Witness = wire.TxWitness{{5}, {6}}
	coinbase := wire.NewMsgTx(1)
	coinbase.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: wire.MaxPrevOutIndex}, []byte{1, 2}, nil))
	coinbase.AddTxOut(wire.NewTxOut(50, []byte{0x51}))
	block := &wire.MsgBlock{Transactions: []*wire.MsgTx{coinbase, signedExt}}
	block.Header.MerkleRoot = merkleRoot(block.Transactions)
	proof, err := babylon.ProveInBlock(block, signedExt.TxHash())
	if err != nil {
		t.Fatal(err)
	}
	proven := &babylon.ProvenTx{Tx: signedExt, Proof: proof, Header: block.Header, Height: 300, TipHeight: 330}
	prev := psbt.Funding{Tx: f.tx, Index: 1}
	signer := testAddress(t, "staker account")
	rule := babylon.DepthRule{ConfirmationDepth: 30}

	m, err := babylon.NewMsgActivateExpansion(signer, prev, proven, f.funding, rule)
	if err != nil {
		t.Fatal(err)
	}
	// The existing builder gives the same message for a 2-input spend.
	direct, err := babylon.NewMsgBTCUndelegate(signer, prev, proven, []*wire.MsgTx{f.funding})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(direct.Marshal(), m.Marshal()) {
		t.Error("NewMsgActivateExpansion differs from NewMsgBTCUndelegate")
	}
	fs := walk(t, m.Marshal())
	wantNums := []protowire.Number{1, 2, 3, 4, 5, 5}
	if len(fs) != len(wantNums) {
		t.Fatalf("%d records, want %d", len(fs), len(wantNums))
	}
	for i, w := range fs {
		if w.num != wantNums[i] || w.typ != protowire.BytesType {
			t.Fatalf("record %d: field %d type %d", i, w.num, w.typ)
		}
	}
	if string(fs[0].b) != signer || string(fs[1].b) != f.tx.TxHash().String() || !bytes.Equal(fs[2].b, serialize(t, signedExt)) ||
		!bytes.Equal(fs[3].b, proof.Marshal()) || !bytes.Equal(fs[4].b, serialize(t, f.tx)) || !bytes.Equal(fs[5].b, serialize(t, f.funding)) {
		t.Error("fields are not signer, old staking txid, extension tx, proof, [old staking tx, funding tx]")
	}
	args := m.BabylondArgs()
	if len(args) != 4 || args[0] != f.tx.TxHash().String() ||
		args[3] != hex.EncodeToString(serialize(t, f.tx))+","+hex.EncodeToString(serialize(t, f.funding)) {
		t.Errorf("babylond args %.60q", args)
	}

	// Refusals.
	shallow := *proven
	shallow.TipHeight = 329
	if _, err := babylon.NewMsgActivateExpansion(signer, prev, &shallow, f.funding, rule); !errors.Is(err, babylon.ErrShallow) {
		t.Errorf("29 deep: %v, want ErrShallow", err)
	}
	if _, err := babylon.NewMsgActivateExpansion(signer, psbt.Funding{Tx: f.tx, Index: 0}, proven, f.funding, rule); !errors.Is(err, babylon.ErrInvalidExpansion) {
		t.Errorf("another previous output: %v, want ErrInvalidExpansion", err)
	}
	otherFunding := f.funding.Copy()
	otherFunding.LockTime = 3
	if _, err := babylon.NewMsgActivateExpansion(signer, prev, proven, otherFunding, rule); !errors.Is(err, babylon.ErrInvalidExpansion) {
		t.Errorf("another funding tx: %v, want ErrInvalidExpansion", err)
	}
	if _, err := babylon.NewMsgActivateExpansion(signer, prev, proven, nil, rule); !errors.Is(err, babylon.ErrInvalidExpansion) {
		t.Errorf("no funding tx: %v, want ErrInvalidExpansion", err)
	}
	moved := *proven
	moved.Header.Nonce++
	if _, err := babylon.NewMsgActivateExpansion(signer, prev, &moved, f.funding, rule); !errors.Is(err, babylon.ErrInvalidProof) {
		t.Errorf("proof against another header: %v, want ErrInvalidProof", err)
	}
	if _, err := babylon.NewMsgActivateExpansion("cosmos1x", prev, proven, f.funding, rule); !errors.Is(err, babylon.ErrInvalidAddress) {
		t.Errorf("bad signer: %v, want ErrInvalidAddress", err)
	}
}

func BenchmarkMarshalExpansion(b *testing.B) {
	f := newExpandFixture(b)
	e := f.signed(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = e.Marshal()
	}
}

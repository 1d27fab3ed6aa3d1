package babylon_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"testing"

	"github.com/btcsuite/btcd/address/v2/bech32"
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

// testKey derives a fixed, public key from a label: never for real coins.
func testKey(label string) *btcec.PrivateKey {
	h := sha256.Sum256([]byte(label))
	k, _ := btcec.PrivKeyFromBytes(h[:])
	return k
}

// testAddress is a bbn1 address of a fixed 20-byte account.
func testAddress(t testing.TB, label string) string {
	h := sha256.Sum256([]byte(label))
	a, err := bech32.EncodeFromBase256("bbn", h[:20])
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// testPoP is a ProofOfPossessionBTC-shaped encoding (type 0, 64 bytes of
// signature); the registration builder checks its shape only.
func testPoP() []byte {
	var b []byte
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendBytes(b, bytes.Repeat([]byte{0xab}, 64))
}

type fixture struct {
	d        psbt.Delegation
	staker   *btcec.PrivateKey
	fp       *btcec.PrivateKey
	tx       *wire.MsgTx
	versions *params.Versions
	addr     string
	value    int64
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	p := params.RegtestExample()
	staker, fp := testKey("babylon test staker"), testKey("babylon test fp")
	d := psbt.Delegation{Params: p, Staker: staker.PubKey(), FinalityProviders: []*btcec.PublicKey{fp.PubKey()}, StakingTime: 200}
	out, err := d.StakingOutput()
	if err != nil {
		t.Fatal(err)
	}
	const value = 300_000
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{7}, Index: 1}, nil, nil))
	tx.AddTxOut(wire.NewTxOut(50_000, append([]byte{0x00, 0x14}, bytes.Repeat([]byte{1}, 20)...)))
	tx.AddTxOut(wire.NewTxOut(value, out.PkScript))
	v, err := params.NewVersion(4, 100, p, params.BabylonExtras{})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := params.NewVersions(v)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{d: d, staker: staker, fp: fp, tx: tx, versions: vs, addr: testAddress(t, "staker account"), value: value}
}

func (f *fixture) request() babylon.RegistrationRequest {
	return babylon.RegistrationRequest{StakerAddress: f.addr, PoP: testPoP(), Delegation: f.d, StakingTx: f.tx,
		Versions: f.versions, TipHeight: 150}
}

func serialize(t testing.TB, tx *wire.MsgTx) []byte {
	var b bytes.Buffer
	if err := tx.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// walkedField is a record read by the test's own protowire walk.
type walkedField struct {
	num protowire.Number
	typ protowire.Type
	v   uint64
	b   []byte
}

// walk reads every record of b with protowire.ConsumeField, independently
// of the package's decoder.
func walk(t testing.TB, b []byte) []walkedField {
	t.Helper()
	var out []walkedField
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeField(b)
		if n < 0 {
			t.Fatalf("bad record: %v", protowire.ParseError(n))
		}
		_, _, tl := protowire.ConsumeTag(b)
		f := walkedField{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, _ = protowire.ConsumeVarint(b[tl:n])
		case protowire.BytesType:
			f.b, _ = protowire.ConsumeBytes(b[tl:n])
		default:
			t.Fatalf("field %d: unexpected wire type %d", num, typ)
		}
		out = append(out, f)
		b = b[n:]
	}
	return out
}

// The numbers and wire types of MsgCreateBTCDelegation, read from babylon
// proto/babylon/btcstaking/v1/tx.proto (commit a3b6540f): string and bytes
// and messages are length-delimited (2), uint32 and int64 varints (0).
var createSchema = map[protowire.Number]protowire.Type{
	1: protowire.BytesType, 2: protowire.BytesType, 3: protowire.BytesType, 4: protowire.BytesType,
	5: protowire.VarintType, 6: protowire.VarintType, 7: protowire.BytesType, 8: protowire.BytesType,
	9: protowire.BytesType, 10: protowire.BytesType, 11: protowire.VarintType, 12: protowire.BytesType,
	13: protowire.VarintType, 14: protowire.BytesType, 15: protowire.BytesType,
}

func TestRegistrationEncodesEveryField(t *testing.T) {
	f := newFixture(t)
	draft, err := babylon.PrepareRegistration(f.request())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := draft.Sign(f.staker)
	if err != nil {
		t.Fatal(err)
	}
	enc := reg.Marshal()

	// The expected transactions, from psbt's builders directly.
	d := f.d
	stF := psbt.Funding{Tx: f.tx, Index: 1}
	ub, err := psbt.BuildUnbonding(d, stF)
	if err != nil {
		t.Fatal(err)
	}
	sl, _ := psbt.BuildSlashing(d, script.StakingOutputKind, stF)
	usl, _ := psbt.BuildSlashing(d, script.UnbondingOutputKind, psbt.Funding{Tx: ub.Packet.UnsignedTx, Index: 0})
	stakerX := schnorr.SerializePubKey(f.staker.PubKey())
	fpX := schnorr.SerializePubKey(f.fp.PubKey())

	// Independent walk: every field in ascending order with the proto's
	// wire type, no field 8 before staking.
	fs := walk(t, enc)
	wantNums := []protowire.Number{1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15}
	if len(fs) != len(wantNums) {
		t.Fatalf("%d records, want %d", len(fs), len(wantNums))
	}
	got := map[protowire.Number]walkedField{}
	for i, w := range fs {
		if w.num != wantNums[i] || w.typ != createSchema[w.num] {
			t.Fatalf("record %d: field %d type %d, want field %d type %d", i, w.num, w.typ, wantNums[i], createSchema[wantNums[i]])
		}
		got[w.num] = w
	}
	checkBytes := func(n protowire.Number, want []byte) {
		t.Helper()
		if !bytes.Equal(got[n].b, want) {
			t.Errorf("field %d = %x, want %x", n, got[n].b, want)
		}
	}
	checkBytes(1, []byte(f.addr))
	checkBytes(2, testPoP())
	checkBytes(3, stakerX)
	checkBytes(4, fpX)
	checkBytes(7, serialize(t, f.tx))
	checkBytes(9, serialize(t, sl.Packet.UnsignedTx))
	checkBytes(12, serialize(t, ub.Packet.UnsignedTx))
	checkBytes(14, serialize(t, usl.Packet.UnsignedTx))
	for n, want := range map[protowire.Number]uint64{5: 200, 6: uint64(f.value), 11: uint64(d.Params.UnbondingTime()),
		13: uint64(f.value - d.Params.UnbondingFee())} {
		if got[n].v != want {
			t.Errorf("field %d = %d, want %d", n, got[n].v, want)
		}
	}
	// The two signatures verify against the slashing sighashes.
	for _, c := range []struct {
		n protowire.Number
		p *btcpsbt.Packet
	}{{10, sl.Packet}, {15, usl.Packet}} {
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
	m, err := babylon.UnmarshalMsgCreateBTCDelegation(enc)
	if err != nil {
		t.Fatal(err)
	}
	if m.StakerAddr != f.addr || !bytes.Equal(m.Pop, testPoP()) || !bytes.Equal(m.BtcPk, stakerX) ||
		len(m.FpBtcPkList) != 1 || !bytes.Equal(m.FpBtcPkList[0], fpX) || m.StakingTime != 200 ||
		m.StakingValue != f.value || !bytes.Equal(m.StakingTx, got[7].b) || m.StakingTxInclusionProof != nil ||
		!bytes.Equal(m.SlashingTx, got[9].b) || !bytes.Equal(m.DelegatorSlashingSig, got[10].b) ||
		m.UnbondingTime != uint32(d.Params.UnbondingTime()) || !bytes.Equal(m.UnbondingTx, got[12].b) ||
		m.UnbondingValue != f.value-d.Params.UnbondingFee() || !bytes.Equal(m.UnbondingSlashingTx, got[14].b) ||
		!bytes.Equal(m.DelegatorUnbondingSlashingSig, got[15].b) {
		t.Errorf("decoded message differs: %+v", m)
	}
	if !bytes.Equal(m.Marshal(), enc) {
		t.Error("re-encoding the decoded message changes the bytes")
	}
	// The decoded transactions pass Babylon's rules (psbt's validators).
	var slTx, ubTx wire.MsgTx
	if err := slTx.Deserialize(bytes.NewReader(m.SlashingTx)); err != nil {
		t.Fatal(err)
	}
	if err := ubTx.Deserialize(bytes.NewReader(m.UnbondingTx)); err != nil {
		t.Fatal(err)
	}
	if err := psbt.ValidateUnbondingTx(&ubTx, f.tx, d); err != nil {
		t.Error(err)
	}
	if err := psbt.ValidateSlashingTx(&slTx, f.tx, 1, script.StakingOutputKind, d); err != nil {
		t.Error(err)
	}
	if v, ok := reg.ParamsVersion(); v != 4 || !ok {
		t.Errorf("params version %d %v, want 4", v, ok)
	}
	if reg.StakingTxHash() != f.tx.TxHash() || reg.StakingOutputIndex() != 1 {
		t.Error("wrong staking tx hash or index")
	}
}

// TestBabylondArgs checks the 14 arguments against babylond's order
// (x/btcstaking/client/cli/tx.go, create-btc-delegation).
func TestBabylondArgs(t *testing.T) {
	f := newFixture(t)
	draft, err := babylon.PrepareRegistration(f.request())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := draft.Sign(f.staker)
	if err != nil {
		t.Fatal(err)
	}
	m := reg.Msg()
	args := reg.BabylondArgs()
	want := []string{
		hex.EncodeToString(m.BtcPk), hex.EncodeToString(testPoP()), hex.EncodeToString(serialize(t, f.tx)), "",
		hex.EncodeToString(schnorr.SerializePubKey(f.fp.PubKey())), "200", strconv.FormatInt(f.value, 10),
		hex.EncodeToString(m.SlashingTx), hex.EncodeToString(m.DelegatorSlashingSig), hex.EncodeToString(m.UnbondingTx),
		hex.EncodeToString(m.UnbondingSlashingTx), strconv.Itoa(int(f.d.Params.UnbondingTime())),
		strconv.FormatInt(f.value-f.d.Params.UnbondingFee(), 10), hex.EncodeToString(m.DelegatorUnbondingSlashingSig),
	}
	if len(args) != 14 {
		t.Fatalf("%d args", len(args))
	}
	for i := range want {
		if args[i] != want[i] {
			t.Errorf("arg %d = %.40s, want %.40s", i, args[i], want[i])
		}
	}
	var j map[string]any
	b, err := json.Marshal(reg)
	if err != nil || json.Unmarshal(b, &j) != nil {
		t.Fatal(err)
	}
	if j["encoded"] != hex.EncodeToString(reg.Marshal()) || j["staking_value"] != float64(f.value) || j["staker_addr"] != f.addr {
		t.Errorf("JSON rendering: %s", b)
	}
}

// TestExternalSigner: the PSBTs signed outside give the same message as
// signing with the key (BIP-340 signing here is deterministic).
func TestExternalSigner(t *testing.T) {
	f := newFixture(t)
	draft, err := babylon.PrepareRegistration(f.request())
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
	if _, err := draft.Complete(sp, up); !errors.Is(err, babylon.ErrInvalidRegistration) {
		t.Errorf("unsigned packets: %v, want ErrInvalidRegistration", err)
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
		t.Error("externally signed registration differs from the key-signed one")
	}
	// A tampered signature is refused.
	bad, _, _ := draft.SlashingPackets()
	_ = psbt.SignTapscript(bad, 0, f.staker)
	bad.Inputs[0].TaprootScriptSpendSig[0].Signature[5] ^= 1
	if _, err := draft.Complete(bad, up); !errors.Is(err, psbt.ErrBadSignature) {
		t.Errorf("tampered signature: %v, want psbt.ErrBadSignature", err)
	}
	// The packets swapped are other transactions.
	if _, err := draft.Complete(up, sp); !errors.Is(err, babylon.ErrInvalidRegistration) {
		t.Errorf("swapped packets: %v, want ErrInvalidRegistration", err)
	}
	if _, err := draft.Sign(f.fp); !errors.Is(err, babylon.ErrInvalidRegistration) {
		t.Errorf("signing with the FP key: %v, want ErrInvalidRegistration", err)
	}
}

func TestRegistrationRefusals(t *testing.T) {
	f := newFixture(t)
	other := testKey("other fp")
	otherParams := f.d.Params.Config()
	otherParams.UnbondingFee = 2000
	op, err := params.New(otherParams)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(r *babylon.RegistrationRequest)
		want error
	}{
		{"two finality providers", func(r *babylon.RegistrationRequest) {
			r.Delegation.FinalityProviders = []*btcec.PublicKey{f.fp.PubKey(), other.PubKey()}
		}, babylon.ErrInvalidRegistration},
		{"no finality provider", func(r *babylon.RegistrationRequest) { r.Delegation.FinalityProviders = nil }, babylon.ErrInvalidRegistration},
		{"cosmos prefix", func(r *babylon.RegistrationRequest) {
			h := sha256.Sum256([]byte("x"))
			r.StakerAddress, _ = bech32.EncodeFromBase256("cosmos", h[:20])
		}, babylon.ErrInvalidAddress},
		{"bad checksum", func(r *babylon.RegistrationRequest) {
			a := []byte(r.StakerAddress)
			a[len(a)-1] ^= 1
			r.StakerAddress = string(a)
		}, babylon.ErrInvalidAddress},
		{"no pop", func(r *babylon.RegistrationRequest) { r.PoP = nil }, babylon.ErrInvalidMessage},
		{"staking tx pays elsewhere", func(r *babylon.RegistrationRequest) {
			tx := f.tx.Copy()
			tx.TxOut[1].PkScript = tx.TxOut[0].PkScript
			r.StakingTx = tx
		}, psbt.ErrInvalidTx},
		{"params of another version", func(r *babylon.RegistrationRequest) { r.Delegation.Params = op }, babylon.ErrInvalidRegistration},
		{"tip before the first version", func(r *babylon.RegistrationRequest) { r.TipHeight = 99 }, params.ErrNoVersion},
		{"no versions", func(r *babylon.RegistrationRequest) { r.Versions = nil }, babylon.ErrInvalidRegistration},
		{"staking value below minimum", func(r *babylon.RegistrationRequest) {
			tx := f.tx.Copy()
			tx.TxOut[1].Value = 1000
			r.StakingTx = tx
		}, params.ErrInvalidStakingValue},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.request()
			c.edit(&r)
			if _, err := babylon.PrepareRegistration(r); !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestUnmarshalStrict(t *testing.T) {
	f := newFixture(t)
	draft, _ := babylon.PrepareRegistration(f.request())
	reg, err := draft.Sign(f.staker)
	if err != nil {
		t.Fatal(err)
	}
	enc := reg.Marshal()
	cases := map[string][]byte{
		"unknown field":    protowire.AppendBytes(protowire.AppendTag(bytes.Clone(enc), 16, protowire.BytesType), []byte{1}),
		"wrong wire type":  protowire.AppendVarint(protowire.AppendTag(bytes.Clone(enc), 7, protowire.VarintType), 1),
		"repeated scalar":  protowire.AppendVarint(protowire.AppendTag(bytes.Clone(enc), 5, protowire.VarintType), 1),
		"short key":        protowire.AppendBytes(protowire.AppendTag(nil, 3, protowire.BytesType), make([]byte, 31)),
		"short sig":        protowire.AppendBytes(protowire.AppendTag(nil, 10, protowire.BytesType), make([]byte, 63)),
		"truncated":        enc[:len(enc)-1],
		"time over uint32": protowire.AppendVarint(protowire.AppendTag(nil, 5, protowire.VarintType), 1<<32),
	}
	for name, b := range cases {
		if _, err := babylon.UnmarshalMsgCreateBTCDelegation(b); !errors.Is(err, babylon.ErrInvalidMessage) {
			t.Errorf("%s: %v, want ErrInvalidMessage", name, err)
		}
	}
}

// provedVector is one block of babylon's TestParsingCorrectBtcProofs
// (testdata/babylon_btcutils_proofs.json, copied unchanged).
type provedVector struct {
	Header       string   `json:"header"`
	Transactions []string `json:"transactions"`
}

func loadBlocks(t *testing.T) []*wire.MsgBlock {
	t.Helper()
	raw, err := os.ReadFile("testdata/babylon_btcutils_proofs.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Cases []provedVector `json:"cases"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var blocks []*wire.MsgBlock
	for _, c := range v.Cases {
		hb, _ := hex.DecodeString(c.Header)
		var b wire.MsgBlock
		if err := b.Header.Deserialize(bytes.NewReader(hb)); err != nil {
			t.Fatal(err)
		}
		for _, s := range c.Transactions {
			tb, _ := hex.DecodeString(s)
			var tx wire.MsgTx
			if err := tx.Deserialize(bytes.NewReader(tb)); err != nil {
				t.Fatal(err)
			}
			b.Transactions = append(b.Transactions, &tx)
		}
		blocks = append(blocks, &b)
	}
	return blocks
}

func dsha(b []byte) []byte {
	h := sha256.Sum256(b)
	h = sha256.Sum256(h[:])
	return h[:]
}

// foldProof recomputes the root from a proof by Babylon's rule (the
// summa-tx bitcoin-spv loop its btccheckpoint verify copies), written
// here from crypto/sha256 alone.
func foldProof(txid []byte, proof []byte, index uint32) []byte {
	cur := txid
	for i := 0; i+32 <= len(proof); i += 32 {
		next := proof[i : i+32]
		if index%2 == 1 {
			cur = dsha(append(append([]byte{}, next...), cur...))
		} else {
			cur = dsha(append(append([]byte{}, cur...), next...))
		}
		index >>= 1
	}
	return cur
}

// TestInclusionProofRealBlocks proves every non-coinbase transaction of
// real testnet3 blocks and checks each proof against the Merkle root in
// the block's own header bytes, folding it with sha256 directly.
func TestInclusionProofRealBlocks(t *testing.T) {
	blocks := loadBlocks(t)
	if len(blocks) != 5 {
		t.Fatalf("%d blocks", len(blocks))
	}
	for bi, b := range blocks {
		var hdr bytes.Buffer
		_ = b.Header.Serialize(&hdr)
		root := hdr.Bytes()[36:68]
		blockHash := dsha(hdr.Bytes())
		for i := 1; i < len(b.Transactions); i++ {
			txid := b.Transactions[i].TxHash()
			p, err := babylon.ProveInBlock(b, txid)
			if err != nil {
				t.Fatalf("block %d tx %d: %v", bi, i, err)
			}
			if p.Key.Index != uint32(i) || !bytes.Equal(p.Key.Block[:], blockHash) {
				t.Errorf("block %d tx %d: key %d %x", bi, i, p.Key.Index, p.Key.Block[:])
			}
			if got := foldProof(txid[:], p.Proof, p.Key.Index); !bytes.Equal(got, root) {
				t.Errorf("block %d tx %d: proof folds to %x, header root %x", bi, i, got, root)
			}
			// Round trip of the encoding, and the independent walk.
			enc := p.Marshal()
			back, err := babylon.UnmarshalInclusionProof(enc)
			if err != nil || back.Key != p.Key || !bytes.Equal(back.Proof, p.Proof) {
				t.Errorf("round trip: %v", err)
			}
			fs := walk(t, enc)
			if len(fs) != 2 || fs[0].num != 1 || fs[0].typ != protowire.BytesType || fs[1].num != 2 || !bytes.Equal(fs[1].b, p.Proof) {
				t.Fatalf("InclusionProof records %+v", fs)
			}
			key := walk(t, fs[0].b)
			if len(key) != 2 || key[0].num != 1 || key[0].typ != protowire.VarintType || key[0].v != uint64(i) ||
				key[1].num != 2 || !bytes.Equal(key[1].b, blockHash) {
				t.Fatalf("TransactionKey records %+v", key)
			}
			// A flipped bit or another index does not verify.
			bad := &babylon.InclusionProof{Key: p.Key, Proof: bytes.Clone(p.Proof)}
			bad.Proof[3] ^= 1
			if err := bad.Verify(txid, &b.Header); !errors.Is(err, babylon.ErrInvalidProof) {
				t.Errorf("flipped proof: %v", err)
			}
			other := &babylon.InclusionProof{Key: babylon.TransactionKey{Index: p.Key.Index ^ 1, Block: p.Key.Block}, Proof: p.Proof}
			// (When the tx is last on an odd level its sibling is itself
			// and both indexes hash alike, in Bitcoin as in Babylon.)
			if other.Key.Index != 0 && !bytes.Equal(p.Proof[:32], txid[:]) {
				if err := other.Verify(txid, &b.Header); !errors.Is(err, babylon.ErrInvalidProof) {
					t.Errorf("wrong index: %v", err)
				}
			}
		}
		if _, err := babylon.ProveInBlock(b, b.Transactions[0].TxHash()); !errors.Is(err, babylon.ErrCoinbase) {
			t.Errorf("coinbase: %v", err)
		}
		if _, err := babylon.ProveInBlock(b, chainhash.Hash{9}); !errors.Is(err, babylon.ErrNotInBlock) {
			t.Errorf("absent tx: %v", err)
		}
	}
	// A block whose transactions do not match its header's root.
	b := blocks[1]
	forged := &wire.MsgBlock{Header: b.Header, Transactions: append([]*wire.MsgTx{}, b.Transactions[:len(b.Transactions)-1]...)}
	if _, err := babylon.ProveInBlock(forged, forged.Transactions[1].TxHash()); !errors.Is(err, babylon.ErrInvalidProof) {
		t.Errorf("forged block: %v", err)
	}
}

func TestDepthRule(t *testing.T) {
	r := babylon.DepthRule{ConfirmationDepth: babylon.MainnetConfirmationDepth}
	if err := r.Check(100, 130); err != nil {
		t.Errorf("depth 30: %v", err)
	}
	if err := r.Check(100, 129); !errors.Is(err, babylon.ErrShallow) {
		t.Errorf("depth 29: %v", err)
	}
	r.AllowShallow = true
	if err := r.Check(100, 100); err != nil {
		t.Errorf("allow shallow: %v", err)
	}
}

func TestCheckAddress(t *testing.T) {
	h := sha256.Sum256([]byte("a"))
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{testAddress(t, "x"), true},
		{func() string { a, _ := bech32.EncodeFromBase256("bbn", h[:]); return a }(), true},
		{func() string { a, _ := bech32.EncodeFromBase256("bbn", h[:19]); return a }(), false},
		{func() string { a, _ := bech32.EncodeFromBase256("bbnx", h[:20]); return a }(), false},
		{func() string {
			d, _ := bech32.ConvertBits(h[:20], 8, 5, true)
			a, _ := bech32.EncodeM("bbn", d)
			return a
		}(), false},
		{"", false},
	} {
		if err := babylon.CheckAddress(c.addr); (err == nil) != c.ok || (err != nil && !errors.Is(err, babylon.ErrInvalidAddress)) {
			t.Errorf("%q: %v", c.addr, err)
		}
	}
}

// TestUndelegateFunding: the funding transactions are those the inputs
// spend, in input order, each once, the staking tx among them.
func TestUndelegateFunding(t *testing.T) {
	f := newFixture(t)
	other := wire.NewMsgTx(2)
	other.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{3}}, nil, nil))
	other.AddTxOut(wire.NewTxOut(1000, []byte{0x51}))
	other.AddTxOut(wire.NewTxOut(2000, []byte{0x51}))
	spend := wire.NewMsgTx(2)
	spend.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: other.TxHash(), Index: 1}, nil, nil))
	spend.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: f.tx.TxHash(), Index: 1}, nil, wire.TxWitness{{1}, {2}, {3}}))
	spend.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: other.TxHash(), Index: 0}, nil, nil))
	spend.AddTxOut(wire.NewTxOut(300_000, []byte{0x51}))
	coinbase := wire.NewMsgTx(1)
	coinbase.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: wire.MaxPrevOutIndex}, []byte{1, 2}, nil))
	coinbase.AddTxOut(wire.NewTxOut(50, []byte{0x51}))
	block := &wire.MsgBlock{Transactions: []*wire.MsgTx{coinbase, spend}}
	block.Header.MerkleRoot = merkleRoot(block.Transactions)
	proof, err := babylon.ProveInBlock(block, spend.TxHash())
	if err != nil {
		t.Fatal(err)
	}
	proven := &babylon.ProvenTx{Tx: spend, Proof: proof, Header: block.Header, Height: 10, TipHeight: 10}
	staking := psbt.Funding{Tx: f.tx, Index: 1}
	signer := testAddress(t, "signer")
	m, err := babylon.NewMsgBTCUndelegate(signer, staking, proven, []*wire.MsgTx{other})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.FundingTransactions) != 2 || !bytes.Equal(m.FundingTransactions[0], serialize(t, other)) ||
		!bytes.Equal(m.FundingTransactions[1], serialize(t, f.tx)) {
		t.Errorf("funding transactions not [other, staking]")
	}
	fs := walk(t, m.Marshal())
	want := []protowire.Number{1, 2, 3, 4, 5, 5}
	if len(fs) != len(want) {
		t.Fatalf("%d records", len(fs))
	}
	for i, w := range fs {
		if w.num != want[i] || w.typ != protowire.BytesType {
			t.Errorf("record %d: field %d type %d", i, w.num, w.typ)
		}
	}
	if string(fs[1].b) != f.tx.TxHash().String() || !bytes.Equal(fs[3].b, proof.Marshal()) {
		t.Error("staking_tx_hash or proof field wrong")
	}
	if args := m.BabylondArgs(); len(args) != 4 || args[0] != f.tx.TxHash().String() {
		t.Errorf("args %v", args)
	}
	if _, err := babylon.NewMsgBTCUndelegate(signer, staking, proven, nil); !errors.Is(err, babylon.ErrInvalidRegistration) {
		t.Errorf("missing funding tx: %v", err)
	}
	// A proof against another header is refused.
	moved := *proven
	moved.Header.Nonce++
	if _, err := babylon.NewMsgBTCUndelegate(signer, staking, &moved, []*wire.MsgTx{other}); !errors.Is(err, babylon.ErrInvalidProof) {
		t.Errorf("other header: %v", err)
	}
	// The staking input without a script-path witness.
	bare := spend.Copy()
	bare.TxIn[1].Witness = nil
	block.Transactions[1] = bare
	block.Header.MerkleRoot = merkleRoot(block.Transactions)
	bp, _ := babylon.ProveInBlock(block, bare.TxHash())
	if _, err := babylon.NewMsgBTCUndelegate(signer, staking, &babylon.ProvenTx{Tx: bare, Proof: bp, Header: block.Header}, []*wire.MsgTx{other}); !errors.Is(err, babylon.ErrInvalidRegistration) {
		t.Errorf("no witness: %v", err)
	}
}

// TestRegistrationIncluded: with a proof, the version is the one at the
// inclusion height, and a stake with no more than the unbonding time left
// at the tip is refused, as Babylon refuses it.
func TestRegistrationIncluded(t *testing.T) {
	f := newFixture(t)
	coinbase := wire.NewMsgTx(1)
	coinbase.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: wire.MaxPrevOutIndex}, []byte{1, 2}, nil))
	coinbase.AddTxOut(wire.NewTxOut(50, []byte{0x51}))
	block := &wire.MsgBlock{Transactions: []*wire.MsgTx{coinbase, f.tx}}
	block.Header.MerkleRoot = merkleRoot(block.Transactions)
	proof, err := babylon.ProveInBlock(block, f.tx.TxHash())
	if err != nil {
		t.Fatal(err)
	}
	unbonding := int64(f.d.Params.UnbondingTime())
	for _, c := range []struct {
		height, tip int64
		want        error
	}{
		{200, 230, nil},
		{200, 200 + 200 - unbonding - 1, nil},
		{200, 200 + 200 - unbonding, babylon.ErrInvalidRegistration},
		{99, 130, params.ErrNoVersion},
	} {
		r := f.request()
		r.TipHeight = 0 // not used with a proof
		r.Included = &babylon.ProvenTx{Tx: f.tx, Proof: proof, Header: block.Header, Height: c.height, TipHeight: c.tip}
		d, err := babylon.PrepareRegistration(r)
		if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
			t.Errorf("height %d tip %d: %v, want %v", c.height, c.tip, err, c.want)
			continue
		}
		if err == nil {
			reg, err := d.Sign(f.staker)
			if err != nil {
				t.Fatal(err)
			}
			if m := reg.Msg(); m.StakingTxInclusionProof == nil || m.StakingTxInclusionProof.Key != proof.Key {
				t.Error("no proof in the message")
			}
		}
	}
	r := f.request()
	other := f.tx.Copy()
	other.LockTime = 7
	r.Included = &babylon.ProvenTx{Tx: other, Proof: proof, Header: block.Header, Height: 200, TipHeight: 230}
	if _, err := babylon.PrepareRegistration(r); !errors.Is(err, babylon.ErrInvalidProof) {
		t.Errorf("proof of another tx: %v", err)
	}
}

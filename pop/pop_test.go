package pop_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/address/v2/bech32"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/pop"
)

var mainnet = &chaincfg.MainNetParams

// babylonAddr returns a fresh bech32 bbn address and its raw bytes.
func babylonAddr(t testing.TB) (string, []byte) {
	t.Helper()
	raw := make([]byte, 20)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	s, err := bech32.EncodeFromBase256("bbn", raw)
	if err != nil {
		t.Fatal(err)
	}
	return s, raw
}

func newKey(t testing.TB) *btcec.PrivateKey {
	t.Helper()
	k, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// --- independent oracles, written from the BIP texts and btcd's engine ---

// toSpendToSign builds BIP-322's virtual transactions from the BIP text.
func toSpendToSign(msg, pkScript []byte) (*wire.MsgTx, *wire.MsgTx) {
	tag := sha256.Sum256([]byte("BIP0322-signed-message"))
	h := sha256.New()
	h.Write(tag[:])
	h.Write(tag[:])
	h.Write(msg)
	script, _ := txscript.NewScriptBuilder().AddOp(txscript.OP_0).AddData(h.Sum(nil)).Script()
	toSpend := wire.NewMsgTx(0)
	toSpend.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&chainhash.Hash{}, 0xFFFFFFFF), script, nil))
	toSpend.TxIn[0].Sequence = 0
	toSpend.AddTxOut(wire.NewTxOut(0, pkScript))
	toSign := wire.NewMsgTx(0)
	id := toSpend.TxHash()
	toSign.AddTxIn(wire.NewTxIn(wire.NewOutPoint(&id, 0), nil, nil))
	toSign.TxIn[0].Sequence = 0
	toSign.AddTxOut(wire.NewTxOut(0, []byte{txscript.OP_RETURN}))
	return toSpend, toSign
}

// engineCheck runs to_sign with witness through btcd's script engine.
func engineCheck(msg []byte, btcAddr string, witness [][]byte) error {
	a, err := address.DecodeAddress(btcAddr, mainnet)
	if err != nil {
		return err
	}
	pkScript, err := txscript.PayToAddrScript(a)
	if err != nil {
		return err
	}
	toSpend, toSign := toSpendToSign(msg, pkScript)
	toSign.TxIn[0].Witness = witness
	fetcher := txscript.NewCannedPrevOutputFetcher(pkScript, 0)
	vm, err := txscript.NewEngine(pkScript, toSign, 0, txscript.StandardVerifyFlags, nil,
		txscript.NewTxSigHashes(toSign, fetcher), 0, fetcher)
	if err != nil {
		return err
	}
	_ = toSpend
	return vm.Execute()
}

// magicHash is the Bitcoin signed-message digest, with the CompactSize
// lengths written out (both are below 0xfd here).
func magicHash(msg string) []byte {
	const prefix = "Bitcoin Signed Message:\n"
	b := append([]byte{byte(len(prefix))}, prefix...)
	b = append(b, byte(len(msg)))
	b = append(b, msg...)
	h1 := sha256.Sum256(b)
	h2 := sha256.Sum256(h1[:])
	return h2[:]
}

// serializeWitness writes a witness stack (all items below 0xfd bytes).
func serializeWitness(w [][]byte) []byte {
	b := []byte{byte(len(w))}
	for _, item := range w {
		b = append(b, byte(len(item)))
		b = append(b, item...)
	}
	return b
}

// theirsBIP322 makes a BIP-322 PoP with btcd's own signers (not ours).
func theirsBIP322(t *testing.T, sk *btcec.PrivateKey, msg []byte, taproot bool) *pop.Proof {
	t.Helper()
	var a address.Address
	var err error
	if taproot {
		a, err = address.NewAddressTaproot(schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(sk.PubKey())), mainnet)
	} else {
		a, err = address.NewAddressWitnessPubKeyHash(address.Hash160(sk.PubKey().SerializeCompressed()), mainnet)
	}
	if err != nil {
		t.Fatal(err)
	}
	pkScript, _ := txscript.PayToAddrScript(a)
	_, toSign := toSpendToSign(msg, pkScript)
	fetcher := txscript.NewCannedPrevOutputFetcher(pkScript, 0)
	hashes := txscript.NewTxSigHashes(toSign, fetcher)
	var w wire.TxWitness
	if taproot {
		w, err = txscript.TaprootWitnessSignature(toSign, hashes, 0, 0, pkScript, txscript.SigHashDefault, sk)
	} else {
		w, err = txscript.WitnessSignature(toSign, hashes, 0, 0, pkScript, txscript.SigHashAll, sk, true)
	}
	if err != nil {
		t.Fatal(err)
	}
	p, err := pop.NewBIP322(a.EncodeAddress(), serializeWitness(w))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// --- both directions ---

// TestOursUnderIndependentChecks creates each kind and checks it with a
// check that does not use this package: btcec's schnorr.Verify, btcec's
// RecoverCompact, btcd's script engine.
func TestOursUnderIndependentChecks(t *testing.T) {
	for i := 0; i < 8; i++ {
		sk := newKey(t)
		addr, raw := babylonAddr(t)
		xonly := schnorr.SerializePubKey(sk.PubKey())

		p, err := pop.Create(pop.BIP340, sk, addr)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := schnorr.ParseSignature(p.BTCSig())
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(raw)
		pk, _ := schnorr.ParsePubKey(xonly)
		if !sig.Verify(h[:], pk) {
			t.Fatal("BIP-340: schnorr.Verify refuses ours")
		}

		p, err = pop.Create(pop.ECDSA, sk, addr)
		if err != nil {
			t.Fatal(err)
		}
		rec, compressed, err := ecdsa.RecoverCompact(p.BTCSig(), magicHash(addr))
		if err != nil || !compressed || !bytes.Equal(schnorr.SerializePubKey(rec), xonly) {
			t.Fatalf("ECDSA: RecoverCompact gives %v, compressed %v, err %v", rec, compressed, err)
		}
		var s btcec.ModNScalar
		s.SetByteSlice(p.BTCSig()[33:])
		if s.IsOverHalfOrder() {
			t.Fatal("ECDSA: high s")
		}

		for _, at := range []pop.AddressType{pop.P2TR, pop.P2WPKH} {
			p, err = pop.Create(pop.BIP322, sk, addr, pop.WithBIP322(mainnet, at))
			if err != nil {
				t.Fatal(err)
			}
			if err := engineCheck([]byte(addr), p.BIP322Address(), p.BIP322Witness()); err != nil {
				t.Fatalf("BIP-322 %v: script engine: %v", at, err)
			}
			// The address is the staker key's, by construction here.
			var want address.Address
			if at == pop.P2TR {
				want, _ = address.NewAddressTaproot(schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(sk.PubKey())), mainnet)
			} else {
				want, _ = address.NewAddressWitnessPubKeyHash(address.Hash160(sk.PubKey().SerializeCompressed()), mainnet)
			}
			if p.BIP322Address() != want.EncodeAddress() {
				t.Fatalf("BIP-322 %v address %s, want %s", at, p.BIP322Address(), want.EncodeAddress())
			}
			if err := engineCheck([]byte(addr+" "), p.BIP322Address(), p.BIP322Witness()); err == nil {
				t.Fatalf("BIP-322 %v: the engine accepts it for another message", at)
			}
		}
	}
}

// TestTheirsVerify makes proofs with btcd's and btcec's signers, as the
// Babylon datagen helpers do, and verifies them with Verify.
func TestTheirsVerify(t *testing.T) {
	for i := 0; i < 4; i++ {
		sk := newKey(t)
		addr, raw := babylonAddr(t)
		h := sha256.Sum256(raw)
		sig, err := schnorr.Sign(sk, h[:])
		if err != nil {
			t.Fatal(err)
		}
		p, err := pop.New(pop.BIP340, sig.Serialize())
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(sk.PubKey(), addr, mainnet); err != nil {
			t.Fatalf("BIP-340: %v", err)
		}
		p, err = pop.New(pop.ECDSA, ecdsa.SignCompact(sk, magicHash(addr), true))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(sk.PubKey(), addr, mainnet); err != nil {
			t.Fatalf("ECDSA: %v", err)
		}
		// Babylon ignores the compressed flag of the header byte.
		p, _ = pop.New(pop.ECDSA, ecdsa.SignCompact(sk, magicHash(addr), false))
		if err := p.Verify(sk.PubKey(), addr, mainnet); err != nil {
			t.Fatalf("ECDSA, uncompressed header: %v", err)
		}
		for _, taproot := range []bool{true, false} {
			p := theirsBIP322(t, sk, []byte(addr), taproot)
			if err := p.Verify(sk.PubKey(), addr, mainnet); err != nil {
				t.Fatalf("BIP-322 taproot=%v: %v", taproot, err)
			}
		}
	}
}

// TestVerifyBIP322SighashAll accepts a 65-byte P2TR signature with sighash
// 0x01 (made by btcd) and refuses the other sighash types.
func TestVerifyBIP322SighashTypes(t *testing.T) {
	sk := newKey(t)
	addr, _ := babylonAddr(t)
	tr, _ := address.NewAddressTaproot(schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(sk.PubKey())), mainnet)
	wpkh, _ := address.NewAddressWitnessPubKeyHash(address.Hash160(sk.PubKey().SerializeCompressed()), mainnet)
	for _, c := range []struct {
		a  address.Address
		ht txscript.SigHashType
		ok bool
	}{
		{tr, txscript.SigHashDefault, true}, {tr, txscript.SigHashAll, true},
		{tr, txscript.SigHashNone, false}, {tr, txscript.SigHashSingle, false},
		{tr, txscript.SigHashAll | txscript.SigHashAnyOneCanPay, false},
		{tr, txscript.SigHashNone | txscript.SigHashAnyOneCanPay, false},
		{tr, txscript.SigHashSingle | txscript.SigHashAnyOneCanPay, false},
		{wpkh, txscript.SigHashAll, true}, {wpkh, txscript.SigHashNone, false},
		{wpkh, txscript.SigHashSingle, false},
		{wpkh, txscript.SigHashAll | txscript.SigHashAnyOneCanPay, false},
		{wpkh, txscript.SigHashNone | txscript.SigHashAnyOneCanPay, false},
		{wpkh, txscript.SigHashSingle | txscript.SigHashAnyOneCanPay, false},
	} {
		pkScript, _ := txscript.PayToAddrScript(c.a)
		_, toSign := toSpendToSign([]byte(addr), pkScript)
		fetcher := txscript.NewCannedPrevOutputFetcher(pkScript, 0)
		hashes := txscript.NewTxSigHashes(toSign, fetcher)
		var w wire.TxWitness
		var err error
		if c.a == tr {
			w, err = txscript.TaprootWitnessSignature(toSign, hashes, 0, 0, pkScript, c.ht, sk)
		} else {
			w, err = txscript.WitnessSignature(toSign, hashes, 0, 0, pkScript, c.ht, sk, true)
		}
		if err != nil {
			t.Fatal(err)
		}
		p, err := pop.NewBIP322(c.a.EncodeAddress(), serializeWitness(w))
		if err != nil {
			t.Fatal(err)
		}
		err = p.Verify(sk.PubKey(), addr, mainnet)
		if c.ok && err != nil {
			t.Errorf("%T sighash 0x%02x: %v", c.a, c.ht, err)
		}
		if !c.ok && !errors.Is(err, pop.ErrMalformed) {
			t.Errorf("%T sighash 0x%02x: err %v, want ErrMalformed", c.a, c.ht, err)
		}
	}
}

// --- Babylon's randomly generated cases (x/btcstaking/types/pop_test.go) ---

func TestBabylonPoPScenarios(t *testing.T) {
	sk := newKey(t)
	addr, _ := babylonAddr(t)
	other, _ := babylonAddr(t)
	otherKey := newKey(t)
	kinds := []struct {
		kind pop.Kind
		opts []pop.Option
	}{
		{pop.BIP340, nil}, {pop.ECDSA, nil},
		{pop.BIP322, []pop.Option{pop.WithBIP322(mainnet, pop.P2WPKH)}},
		{pop.BIP322, []pop.Option{pop.WithBIP322(mainnet, pop.P2TR)}},
	}
	for _, k := range kinds {
		p, err := pop.Create(k.kind, sk, addr, k.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(sk.PubKey(), addr, mainnet); err != nil {
			t.Errorf("%v: %v", k.kind, err)
		}
		// "bad addr": verified for another Babylon account.
		if err := p.Verify(sk.PubKey(), other, mainnet); !errors.Is(err, pop.ErrBadSignature) {
			t.Errorf("%v for another address: err %v, want ErrBadSignature", k.kind, err)
		}
		// Another staker key.
		want := pop.ErrBadSignature
		if k.kind == pop.BIP322 {
			want = pop.ErrAddressNotStakerKey
		}
		if err := p.Verify(otherKey.PubKey(), addr, mainnet); !errors.Is(err, want) {
			t.Errorf("%v for another key: err %v, want %v", k.kind, err, want)
		}
	}
	// A random 32-byte "signature" as BIP-340, "ss" as BIP-322, a BIP-340
	// signature as ECDSA, a BIP-322 signature as BIP-340, an empty
	// signature and an unknown type: all malformed.
	bip340, _ := pop.Create(pop.BIP340, sk, addr)
	bip322, _ := pop.Create(pop.BIP322, sk, addr, pop.WithBIP322(mainnet, pop.P2WPKH))
	rnd := make([]byte, 32)
	_, _ = rand.Read(rnd)
	for _, c := range []struct {
		name string
		kind pop.Kind
		sig  []byte
	}{
		{"random 32 bytes as BIP340", pop.BIP340, rnd},
		{"ss as BIP322", pop.BIP322, []byte("ss")},
		{"BIP-340 sig as ECDSA", pop.ECDSA, bip340.BTCSig()},
		{"BIP-322 sig as BIP340", pop.BIP340, bip322.BTCSig()},
		{"empty BIP322", pop.BIP322, nil},
		{"type 123", pop.Kind(123), bip340.BTCSig()},
	} {
		if _, err := pop.New(c.kind, c.sig); !errors.Is(err, pop.ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", c.name, err)
		}
	}
}

// --- bad input ---

func TestBadBabylonAddress(t *testing.T) {
	sk := newKey(t)
	addr, raw := babylonAddr(t)
	cosmos, _ := bech32.EncodeFromBase256("cosmos", raw)
	flipped := []byte(addr)
	if flipped[10] == 'q' {
		flipped[10] = 'p'
	} else {
		flipped[10] = 'q'
	}
	m, _ := bech32.ConvertBits(raw, 8, 5, true)
	bech32m, _ := bech32.EncodeM("bbn", m)
	short, _ := bech32.EncodeFromBase256("bbn", raw[:19])
	upper := []byte(addr)
	for i := range upper {
		if upper[i] >= 'a' && upper[i] <= 'z' {
			upper[i] -= 'a' - 'A'
		}
	}
	p, _ := pop.Create(pop.BIP340, sk, addr)
	for _, bad := range []string{cosmos, string(flipped), bech32m, short, string(upper), "", "bbn1"} {
		if _, err := pop.Create(pop.BIP340, sk, bad); !errors.Is(err, pop.ErrInvalidAddress) {
			t.Errorf("Create(%q): err %v, want ErrInvalidAddress", bad, err)
		}
		if err := p.Verify(sk.PubKey(), bad, mainnet); !errors.Is(err, pop.ErrInvalidAddress) {
			t.Errorf("Verify(%q): err %v, want ErrInvalidAddress", bad, err)
		}
	}
}

func TestBIP322BadAddresses(t *testing.T) {
	sk := newKey(t)
	addr, _ := babylonAddr(t)
	w := [][]byte{make([]byte, 64)}
	// A P2TR address of the staker key without the BIP-86 tweak.
	raw, _ := address.NewAddressTaproot(schnorr.SerializePubKey(sk.PubKey()), mainnet)
	p, err := pop.NewBIP322(raw.EncodeAddress(), serializeWitness(w))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(sk.PubKey(), addr, mainnet); !errors.Is(err, pop.ErrAddressNotStakerKey) {
		t.Errorf("untweaked P2TR: err %v, want ErrAddressNotStakerKey", err)
	}
	// P2PKH, P2SH and P2WSH are not accepted.
	pkh, _ := address.NewAddressPubKeyHash(address.Hash160(sk.PubKey().SerializeCompressed()), mainnet)
	sh, _ := address.NewAddressScriptHash([]byte{txscript.OP_TRUE}, mainnet)
	wsh, _ := address.NewAddressWitnessScriptHash(make([]byte, 32), mainnet)
	for _, a := range []address.Address{pkh, sh, wsh} {
		p, err := pop.NewBIP322(a.EncodeAddress(), serializeWitness(w))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(sk.PubKey(), addr, mainnet); !errors.Is(err, pop.ErrUnsupportedAddress) {
			t.Errorf("%T: err %v, want ErrUnsupportedAddress", a, err)
		}
	}
	// A mainnet address checked on testnet, and garbage.
	good, _ := pop.Create(pop.BIP322, sk, addr, pop.WithBIP322(mainnet, pop.P2TR))
	if err := good.Verify(sk.PubKey(), addr, &chaincfg.TestNet3Params); !errors.Is(err, pop.ErrInvalidAddress) {
		t.Errorf("mainnet address on testnet: err %v, want ErrInvalidAddress", err)
	}
	p, _ = pop.NewBIP322("bc1notanaddress", serializeWitness(w))
	if err := p.Verify(sk.PubKey(), addr, mainnet); !errors.Is(err, pop.ErrInvalidAddress) {
		t.Errorf("garbage address: err %v, want ErrInvalidAddress", err)
	}
}

func TestBIP322UncompressedKey(t *testing.T) {
	sk := newKey(t)
	addr, _ := babylonAddr(t)
	good, _ := pop.Create(pop.BIP322, sk, addr, pop.WithBIP322(mainnet, pop.P2WPKH))
	w := good.BIP322Witness()
	w[1] = sk.PubKey().SerializeUncompressed()
	p, err := pop.NewBIP322(good.BIP322Address(), serializeWitness(w))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(sk.PubKey(), addr, mainnet); !errors.Is(err, pop.ErrUncompressedKey) {
		t.Fatalf("err %v, want ErrUncompressedKey", err)
	}
	// A P2WPKH address of the uncompressed key, signed by btcd: refused too.
	ua, _ := address.NewAddressWitnessPubKeyHash(address.Hash160(sk.PubKey().SerializeUncompressed()), mainnet)
	pkScript, _ := txscript.PayToAddrScript(ua)
	_, toSign := toSpendToSign([]byte(addr), pkScript)
	fetcher := txscript.NewCannedPrevOutputFetcher(pkScript, 0)
	wit, err := txscript.WitnessSignature(toSign, txscript.NewTxSigHashes(toSign, fetcher), 0, 0, pkScript, txscript.SigHashAll, sk, false)
	if err != nil {
		t.Fatal(err)
	}
	p, _ = pop.NewBIP322(ua.EncodeAddress(), serializeWitness(wit))
	if err := p.Verify(sk.PubKey(), addr, mainnet); !errors.Is(err, pop.ErrUncompressedKey) {
		t.Fatalf("uncompressed-key address: err %v, want ErrUncompressedKey", err)
	}
}

// highS rewrites a DER signature with s replaced by n - s.
func highS(t *testing.T, der []byte) []byte {
	t.Helper()
	rLen := int(der[3])
	r := der[4 : 4+rLen]
	sBytes := der[4+rLen+2:]
	var s btcec.ModNScalar
	s.SetByteSlice(sBytes)
	s.Negate()
	sb := s.Bytes()
	sEnc := sb[:]
	for len(sEnc) > 1 && sEnc[0] == 0 && sEnc[1] < 0x80 {
		sEnc = sEnc[1:]
	}
	if sEnc[0] >= 0x80 {
		sEnc = append([]byte{0}, sEnc...)
	}
	out := []byte{0x30, byte(4 + len(r) + len(sEnc)), 0x02, byte(len(r))}
	out = append(out, r...)
	out = append(out, 0x02, byte(len(sEnc)))
	return append(out, sEnc...)
}

func TestHighS(t *testing.T) {
	sk := newKey(t)
	addr, _ := babylonAddr(t)
	// ECDSA: Babylon's malleability test, recovery id flipped and s negated.
	p, _ := pop.Create(pop.ECDSA, sk, addr)
	sig := p.BTCSig()
	sig[0] = ((sig[0] - 27) ^ 1) + 27
	var s btcec.ModNScalar
	s.SetByteSlice(sig[33:65])
	s.Negate()
	s.PutBytesUnchecked(sig[33:65])
	if rec, _, err := ecdsa.RecoverCompact(sig, magicHash(addr)); err != nil || !bytes.Equal(schnorr.SerializePubKey(rec), schnorr.SerializePubKey(sk.PubKey())) {
		t.Fatalf("the malleated signature should still recover the key (err %v)", err)
	}
	q, _ := pop.New(pop.ECDSA, sig)
	if err := q.Verify(sk.PubKey(), addr, mainnet); !errors.Is(err, pop.ErrHighS) {
		t.Fatalf("ECDSA: err %v, want ErrHighS", err)
	}
	// BIP-322 P2WPKH with s negated.
	b, _ := pop.Create(pop.BIP322, sk, addr, pop.WithBIP322(mainnet, pop.P2WPKH))
	w := b.BIP322Witness()
	w[0] = append(highS(t, w[0][:len(w[0])-1]), 0x01)
	if err := engineCheck([]byte(addr), b.BIP322Address(), w); err == nil {
		t.Fatal("the script engine accepts the high-s form: the test is wrong")
	}
	q, _ = pop.NewBIP322(b.BIP322Address(), serializeWitness(w))
	if err := q.Verify(sk.PubKey(), addr, mainnet); !errors.Is(err, pop.ErrHighS) {
		t.Fatalf("BIP-322: err %v, want ErrHighS", err)
	}
}

// TestLegacyMessages: the late-2024 message forms verify as signatures but
// are refused with ErrLegacyMessage.
func TestLegacyMessages(t *testing.T) {
	sk := newKey(t)
	addr, raw := babylonAddr(t)
	h := sha256.Sum256(raw)
	for _, taproot := range []bool{true, false} {
		p := theirsBIP322(t, sk, h[:], taproot)
		if err := p.Verify(sk.PubKey(), addr, mainnet); !errors.Is(err, pop.ErrLegacyMessage) {
			t.Errorf("BIP-322 taproot=%v over SHA256(address): err %v, want ErrLegacyMessage", taproot, err)
		}
	}
	p, _ := pop.New(pop.ECDSA, ecdsa.SignCompact(sk, magicHash(hex.EncodeToString(raw)), true))
	if err := p.Verify(sk.PubKey(), addr, mainnet); !errors.Is(err, pop.ErrLegacyMessage) {
		t.Errorf("ECDSA over hex(address): err %v, want ErrLegacyMessage", err)
	}
	// Another key's legacy signature is just a bad signature.
	other := newKey(t)
	p, _ = pop.New(pop.ECDSA, ecdsa.SignCompact(other, magicHash(hex.EncodeToString(raw)), true))
	if err := p.Verify(sk.PubKey(), addr, mainnet); !errors.Is(err, pop.ErrBadSignature) {
		t.Errorf("another key's legacy ECDSA: err %v, want ErrBadSignature", err)
	}
}

func TestCreateOptions(t *testing.T) {
	sk := newKey(t)
	addr, _ := babylonAddr(t)
	if _, err := pop.Create(pop.BIP322, sk, addr); !errors.Is(err, pop.ErrOption) {
		t.Errorf("BIP322 without WithBIP322: err %v", err)
	}
	if _, err := pop.Create(pop.BIP340, sk, addr, pop.WithBIP322(mainnet, pop.P2TR)); !errors.Is(err, pop.ErrOption) {
		t.Errorf("BIP340 with WithBIP322: err %v", err)
	}
	if _, err := pop.Create(pop.BIP322, sk, addr, pop.WithBIP322(mainnet, pop.AddressType(7))); !errors.Is(err, pop.ErrOption) {
		t.Errorf("address type 7: err %v", err)
	}
	if _, err := pop.Create(pop.Kind(5), sk, addr); !errors.Is(err, pop.ErrOption) {
		t.Errorf("kind 5: err %v", err)
	}
	if _, err := pop.Create(pop.BIP340, nil, addr); !errors.Is(err, pop.ErrOption) {
		t.Errorf("nil key: err %v", err)
	}
	for s, want := range map[string]pop.Kind{"bip340": pop.BIP340, "BIP322": pop.BIP322, "ecdsa": pop.ECDSA} {
		if k, err := pop.ParseKind(s); err != nil || k != want {
			t.Errorf("ParseKind(%q) = %v, %v", s, k, err)
		}
	}
	if _, err := pop.ParseKind("schnorr"); !errors.Is(err, pop.ErrOption) {
		t.Errorf("ParseKind(schnorr): err %v", err)
	}
}

// --- encoding ---

// lenPrefix is a protobuf length below 2^14: one byte below 128, else
// the low 7 bits with the continuation bit, then the rest.
func lenPrefix(n int) []byte {
	if n < 128 {
		return []byte{byte(n)}
	}
	return []byte{byte(n&0x7f) | 0x80, byte(n >> 7)}
}

// TestEncoding checks the bytes against the protobuf wire format written
// out by hand from pop.proto: field 1 varint (omitted for BIP340 = 0),
// field 2 bytes; BIP322Sig field 1 string, field 2 bytes.
func TestEncoding(t *testing.T) {
	sk := newKey(t)
	addr, _ := babylonAddr(t)
	b340, _ := pop.Create(pop.BIP340, sk, addr)
	want := append([]byte{0x12, 64}, b340.BTCSig()...)
	if !bytes.Equal(b340.Marshal(), want) {
		t.Errorf("BIP340: %x, want %x", b340.Marshal(), want)
	}
	ec, _ := pop.Create(pop.ECDSA, sk, addr)
	want = append([]byte{0x08, 0x02, 0x12, 65}, ec.BTCSig()...)
	if !bytes.Equal(ec.Marshal(), want) {
		t.Errorf("ECDSA: %x, want %x", ec.Marshal(), want)
	}
	b322, _ := pop.Create(pop.BIP322, sk, addr, pop.WithBIP322(mainnet, pop.P2TR))
	w := serializeWitness(b322.BIP322Witness())
	inner := append([]byte{0x0a, byte(len(b322.BIP322Address()))}, b322.BIP322Address()...)
	inner = append(append(inner, 0x12, byte(len(w))), w...)
	want = append(append([]byte{0x08, 0x01, 0x12}, lenPrefix(len(inner))...), inner...)
	if !bytes.Equal(b322.Marshal(), want) {
		t.Errorf("BIP322: %x, want %x", b322.Marshal(), want)
	}
	if b322.Hex() != hex.EncodeToString(want) {
		t.Errorf("Hex: %s", b322.Hex())
	}
	// Round trips, and an explicit btc_sig_type 0 is read as BIP340.
	for _, p := range []*pop.Proof{b340, ec, b322} {
		q, err := pop.ParseHex(p.Hex())
		if err != nil {
			t.Fatal(err)
		}
		if q.Kind() != p.Kind() || !bytes.Equal(q.Marshal(), p.Marshal()) {
			t.Errorf("%v: round trip differs", p.Kind())
		}
		if err := q.Verify(sk.PubKey(), addr, mainnet); err != nil {
			t.Errorf("%v after a round trip: %v", p.Kind(), err)
		}
	}
	q, err := pop.Parse(append([]byte{0x08, 0x00}, b340.Marshal()...))
	if err != nil || q.Kind() != pop.BIP340 || !bytes.Equal(q.Marshal(), b340.Marshal()) {
		t.Errorf("explicit btc_sig_type 0: %v", err)
	}
	// JSON.
	var j map[string]any
	raw, _ := json.Marshal(b322)
	if err := json.Unmarshal(raw, &j); err != nil {
		t.Fatal(err)
	}
	bj, _ := j["bip322_sig"].(map[string]any)
	if j["btc_sig_type"] != "BIP322" || j["btc_sig_type_value"] != 1.0 || j["pop_hex"] != b322.Hex() ||
		bj == nil || bj["address"] != b322.BIP322Address() || bj["sig"] != hex.EncodeToString(w) {
		t.Errorf("JSON: %s", raw)
	}
}

func TestParseRefuses(t *testing.T) {
	sk := newKey(t)
	addr, _ := babylonAddr(t)
	b340, _ := pop.Create(pop.BIP340, sk, addr)
	m := b340.Marshal()
	b322, _ := pop.Create(pop.BIP322, sk, addr, pop.WithBIP322(mainnet, pop.P2WPKH))
	tw := append(serializeWitness(b322.BIP322Witness()), 0x00)
	trailing := append([]byte{0x0a, byte(len(b322.BIP322Address()))}, b322.BIP322Address()...)
	trailing = append(append(trailing, 0x12, byte(len(tw))), tw...)
	wrap := func(inner []byte) []byte {
		return append(append([]byte{0x08, 0x01, 0x12}, lenPrefix(len(inner))...), inner...)
	}
	for name, b := range map[string][]byte{
		"empty":              {},
		"truncated":          m[:len(m)-1],
		"unknown field":      append(append([]byte{}, m...), 0x18, 0x01),
		"btc_sig twice":      append(append([]byte{}, m...), m...),
		"type 3":             append([]byte{0x08, 0x03}, m...),
		"type twice":         append([]byte{0x08, 0x00, 0x08, 0x00}, m...),
		"type as bytes":      append([]byte{0x0a, 0x00}, m...),
		"BIP340 63 bytes":    append([]byte{0x12, 63}, make([]byte, 63)...),
		"ECDSA 64 bytes":     append([]byte{0x08, 0x02, 0x12, 64}, make([]byte, 64)...),
		"BIP322 trailing":    wrap(trailing),
		"BIP322 no address":  wrap([]byte{0x12, 0x02, 0x01, 0x00}),
		"BIP322 no sig":      wrap([]byte{0x0a, 0x02, 'b', 'c'}),
		"BIP322 bad witness": wrap([]byte{0x0a, 0x02, 'b', 'c', 0x12, 0x02, 0x02, 0x05}),
		"BIP322 not UTF-8":   wrap([]byte{0x0a, 0x01, 0xff, 0x12, 0x02, 0x01, 0x00}),
		"too long":           make([]byte, pop.MaxEncodedSize+1),
	} {
		_, err := pop.Parse(b)
		if !errors.Is(err, pop.ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
	if _, err := pop.ParseHex("zz"); !errors.Is(err, pop.ErrMalformed) {
		t.Errorf("not hex: err %v", err)
	}
}

// TestImmutable: accessors return copies.
func TestImmutable(t *testing.T) {
	sk := newKey(t)
	addr, _ := babylonAddr(t)
	p, _ := pop.Create(pop.BIP322, sk, addr, pop.WithBIP322(mainnet, pop.P2WPKH))
	before := p.Hex()
	p.BTCSig()[0] ^= 1
	p.BIP322Witness()[0][0] ^= 1
	if p.Hex() != before {
		t.Fatal("a caller changed the proof through an accessor")
	}
	if err := p.Verify(sk.PubKey(), addr, mainnet); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkVerify(b *testing.B) {
	sk := newKey(b)
	addr, raw := babylonAddr(b)
	h := sha256.Sum256(raw)
	for _, c := range []struct {
		name string
		kind pop.Kind
		opts []pop.Option
	}{
		{"BIP340", pop.BIP340, nil}, {"ECDSA", pop.ECDSA, nil},
		{"BIP322-P2TR", pop.BIP322, []pop.Option{pop.WithBIP322(mainnet, pop.P2TR)}},
		{"BIP322-P2WPKH", pop.BIP322, []pop.Option{pop.WithBIP322(mainnet, pop.P2WPKH)}},
	} {
		p, err := pop.Create(c.kind, sk, addr, c.opts...)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := p.Verify(sk.PubKey(), addr, mainnet); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// The yardstick: one btcec schnorr.Verify.
	sig, _ := schnorr.Sign(sk, h[:])
	pk, _ := schnorr.ParsePubKey(schnorr.SerializePubKey(sk.PubKey()))
	b.Run("yardstick-schnorr.Verify", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if !sig.Verify(h[:], pk) {
				b.Fatal("verify")
			}
		}
	})
}

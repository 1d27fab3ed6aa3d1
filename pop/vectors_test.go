package pop

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
)

// bip322File is testdata/bip322-basic-test-vectors.json (BIP-322).
type bip322File struct {
	TxHashes []struct {
		Message     string `json:"message"`
		Address     string `json:"address"`
		MessageHash string `json:"message_hash"`
		ToSpend     string `json:"to_spend_tx_hash"`
		ToSign      string `json:"to_sign_tx_hash"`
	} `json:"tx_hashes"`
	Simple []struct {
		Message     string   `json:"message"`
		PrivateKeys []string `json:"private_keys"`
		Address     string   `json:"address"`
		Type        string   `json:"type"`
		Signatures  []string `json:"bip322_signatures"`
	} `json:"simple"`
	Error []struct {
		Description string `json:"description"`
		Message     string `json:"message"`
		Address     string `json:"address"`
		Signature   string `json:"signature"`
	} `json:"error"`
}

// upstreamFile is testdata/upstream-pop-vectors.json.
type upstreamFile struct {
	BIP322 struct {
		MsgHash []struct {
			Message string `json:"message"`
			Hash    string `json:"hash"`
		} `json:"msg_hash"`
		TxHashes []struct {
			Address string `json:"address"`
			Message string `json:"message"`
			ToSpend string `json:"to_spend"`
			ToSign  string `json:"to_sign"`
		} `json:"tx_hashes"`
		Verify []struct {
			Address   string `json:"address"`
			MsgBase64 string `json:"msg_base64"`
			SigBase64 string `json:"sig_base64"`
		} `json:"verify"`
	} `json:"babylon_bip322"`
	ECDSA struct {
		SK        string `json:"sk_hex"`
		Message   string `json:"message"`
		SigBase64 string `json:"sig_base64"`
	} `json:"babylon_ecdsa"`
	Staker struct {
		BabyAddress  string `json:"babyAddress"`
		BTCAddress   string `json:"btcAddress"`
		BTCPublicKey string `json:"btcPublicKey"`
		BTCSignBaby  string `json:"btcSignBaby"`
	} `json:"btc_staker_pop"`
}

func loadJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decodeSimpleText reads the BIP-322 text form of a signature: "smp" +
// base64(witness), or bare base64 (the pre-prefix form). Other variants
// ("ful", "pof") are refused: a proof of possession is a simple signature.
func decodeSimpleText(s string) ([]byte, error) {
	switch {
	case strings.HasPrefix(s, "smp"):
		s = s[3:]
	case strings.HasPrefix(s, "ful"), strings.HasPrefix(s, "pof"):
		return nil, errors.New("not a simple signature: " + s[:3])
	}
	return base64.StdEncoding.DecodeString(s)
}

func pkScriptOf(t *testing.T, addr string, net *chaincfg.Params) bip322Address {
	t.Helper()
	a, err := parseBIP322Address(addr, net)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestBIP322TxHashes checks message_hash, to_spend and to_sign against the
// BIP-322 vectors and Babylon's bip322_test.go values.
func TestBIP322TxHashes(t *testing.T) {
	var bip bip322File
	loadJSON(t, "bip322-basic-test-vectors.json", &bip)
	var up upstreamFile
	loadJSON(t, "upstream-pop-vectors.json", &up)
	type row struct{ msg, addr, hash, toSpend, toSign string }
	var rows []row
	for _, v := range bip.TxHashes {
		rows = append(rows, row{v.Message, v.Address, v.MessageHash, v.ToSpend, v.ToSign})
	}
	for _, v := range up.BIP322.TxHashes {
		rows = append(rows, row{v.Message, v.Address, "", v.ToSpend, v.ToSign})
	}
	if len(rows) != 5 {
		t.Fatalf("%d tx-hash vectors, want 5", len(rows))
	}
	for _, r := range rows {
		if r.hash != "" {
			if h := bip322MessageHash([]byte(r.msg)); hex.EncodeToString(h[:]) != r.hash {
				t.Errorf("message hash of %q = %x, want %s", r.msg, h, r.hash)
			}
		}
		a := pkScriptOf(t, r.addr, &chaincfg.MainNetParams)
		toSpend := bip322ToSpend([]byte(r.msg), a.pkScript)
		if got := toSpend.TxHash().String(); got != r.toSpend {
			t.Errorf("to_spend of %q = %s, want %s", r.msg, got, r.toSpend)
		}
		if got := bip322ToSign(toSpend).TxHash().String(); got != r.toSign {
			t.Errorf("to_sign of %q = %s, want %s", r.msg, got, r.toSign)
		}
	}
	for _, v := range up.BIP322.MsgHash {
		if h := bip322MessageHash([]byte(v.Message)); hex.EncodeToString(h[:]) != v.Hash {
			t.Errorf("Babylon message hash of %q = %x, want %s", v.Message, h, v.Hash)
		}
	}
}

// TestBIP322SimpleVectors verifies the BIP's simple signatures for the
// address kinds a PoP allows (P2WPKH, P2TR), refuses P2WSH as unsupported,
// and re-signs with the vector keys to check ours verify and, for P2WPKH
// (deterministic RFC 6979), equal one of the vector signatures.
func TestBIP322SimpleVectors(t *testing.T) {
	var bip bip322File
	loadJSON(t, "bip322-basic-test-vectors.json", &bip)
	net := &chaincfg.MainNetParams
	var p2wpkh, p2tr, p2wsh int
	for _, v := range bip.Simple {
		switch v.Type {
		case "p2wsh-multisig-3of3":
			p2wsh++
			if _, err := parseBIP322Address(v.Address, net); !errors.Is(err, ErrUnsupportedAddress) {
				t.Errorf("%s: err %v, want ErrUnsupportedAddress", v.Type, err)
			}
			continue
		case "p2wpkh":
			p2wpkh++
		case "p2tr":
			p2tr++
		default:
			t.Fatalf("unknown vector type %q", v.Type)
		}
		a := pkScriptOf(t, v.Address, net)
		for _, s := range v.Signatures {
			raw, err := decodeSimpleText(s)
			if err != nil {
				t.Fatal(err)
			}
			w, err := parseWitness(raw)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkBIP322Shape(a, w); err != nil {
				t.Errorf("%s %q: shape: %v", v.Type, v.Message, err)
			}
			if err := verifyBIP322Simple(a, []byte(v.Message), w); err != nil {
				t.Errorf("%s %q: %v", v.Type, v.Message, err)
			}
			if err := verifyBIP322Simple(a, []byte(v.Message+"x"), w); !errors.Is(err, ErrBadSignature) {
				t.Errorf("%s %q with another message: err %v, want ErrBadSignature", v.Type, v.Message, err)
			}
		}
		// Ours, by the vector key, for the vector address.
		wif, err := btcutil.DecodeWIF(v.PrivateKeys[0])
		if err != nil {
			t.Fatal(err)
		}
		at := P2TR
		if v.Type == "p2wpkh" {
			at = P2WPKH
		}
		addr, w, err := signBIP322(wif.PrivKey, []byte(v.Message), at, net)
		if err != nil {
			t.Fatal(err)
		}
		if v.Type == "p2wpkh" && addr != v.Address {
			t.Errorf("our P2WPKH address %s, want %s", addr, v.Address)
		}
		b := pkScriptOf(t, addr, net)
		if err := verifyBIP322Simple(b, []byte(v.Message), w); err != nil {
			t.Errorf("ours %s %q: %v", v.Type, v.Message, err)
		}
		if v.Type == "p2wpkh" {
			// RFC 6979 without extra entropy is deterministic; the BIP
			// lists it beside Bitcoin Core's low-R ground signature.
			got, found := serializeWitness(w), false
			for _, s := range v.Signatures {
				want, _ := decodeSimpleText(s)
				found = found || string(got) == string(want)
			}
			if !found {
				t.Errorf("our P2WPKH signature over %q is none of the vector's: %x", v.Message, got)
			}
		}
	}
	if p2wpkh != 2 || p2tr != 1 || p2wsh != 1 {
		t.Fatalf("vector counts p2wpkh=%d p2tr=%d p2wsh=%d, want 2 1 1", p2wpkh, p2tr, p2wsh)
	}
}

// TestBIP322ErrorVectors checks every error vector is refused at the step
// that fits it.
func TestBIP322ErrorVectors(t *testing.T) {
	var bip bip322File
	loadJSON(t, "bip322-basic-test-vectors.json", &bip)
	net := &chaincfg.MainNetParams
	if len(bip.Error) != 8 {
		t.Fatalf("%d error vectors, want 8", len(bip.Error))
	}
	var textRefused, unsupported, ours int
	for _, v := range bip.Error {
		raw, err := decodeSimpleText(v.Signature)
		if err != nil {
			textRefused++
			continue // not base64, or not the simple variant: refused before any of our code
		}
		a, err := parseBIP322Address(v.Address, net)
		if err != nil {
			if !errors.Is(err, ErrUnsupportedAddress) {
				t.Errorf("%s: address err %v", v.Description, err)
			}
			unsupported++
			continue // P2WSH: not an address a PoP may use
		}
		ours++
		w, err := parseWitness(raw)
		if err == nil {
			err = checkBIP322Shape(a, w)
		}
		if err == nil {
			err = verifyBIP322Simple(a, []byte(v.Message), w)
		}
		if err == nil {
			t.Errorf("%s: accepted", v.Description)
		} else if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: err %v, want ErrMalformed or ErrBadSignature", v.Description, err)
		}
	}
	if textRefused != 3 || unsupported != 2 || ours != 3 {
		t.Errorf("refused as text %d, as P2WSH %d, by the checks %d; want 3 2 3", textRefused, unsupported, ours)
	}
}

// TestBabylonBIP322Verify is Babylon's TestBIP322_Verify: a P2WPKH
// signature over arbitrary bytes on testnet.
func TestBabylonBIP322Verify(t *testing.T) {
	var up upstreamFile
	loadJSON(t, "upstream-pop-vectors.json", &up)
	v := up.BIP322.Verify[0]
	net := &chaincfg.TestNet3Params
	a := pkScriptOf(t, v.Address, net)
	w, err := parseWitness(mustB64(t, v.SigBase64))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkBIP322Shape(a, w); err != nil {
		t.Fatal(err)
	}
	msg := mustB64(t, v.MsgBase64)
	if err := verifyBIP322Simple(a, msg, w); err != nil {
		t.Fatal(err)
	}
	msg[0] ^= 1
	if err := verifyBIP322Simple(a, msg, w); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("flipped message: err %v, want ErrBadSignature", err)
	}
}

// TestBabylonECDSAVector is Babylon's ecdsa_test.go: our signed-message
// signature equals the vector, the vector recovers to the key, and the
// malleated form (recovery id flipped, s negated) is refused as high-S.
func TestBabylonECDSAVector(t *testing.T) {
	var up upstreamFile
	loadJSON(t, "upstream-pop-vectors.json", &up)
	sk, pk := btcec.PrivKeyFromBytes(mustHex(t, up.ECDSA.SK))
	want := mustB64(t, up.ECDSA.SigBase64)
	h := signedMessageHash(up.ECDSA.Message)
	if got := ecdsa.SignCompact(sk, h[:], true); string(got) != string(want) {
		t.Fatalf("signature\n got %x\nwant %x", got, want)
	}
	if err := checkCompactSig(want); err != nil || !recoversTo(want, h, schnorr.SerializePubKey(pk)) {
		t.Fatalf("vector does not check (%v) or recover to the key", err)
	}
	m := append([]byte(nil), want...)
	m[0] = ((m[0] - 27) ^ 1) + 27
	var s btcec.ModNScalar
	s.SetByteSlice(m[33:65])
	s.Negate()
	s.PutBytesUnchecked(m[33:65])
	if !recoversTo(m, h, schnorr.SerializePubKey(pk)) {
		t.Fatal("the malleated signature should still recover (the s check is what refuses it)")
	}
	if err := checkCompactSig(m); !errors.Is(err, ErrHighS) {
		t.Fatalf("malleated: err %v, want ErrHighS", err)
	}
}

// TestBTCStakerVector verifies btc-staker's PoP (a BIP-322 P2WPKH signature
// over the Babylon address text) as a BIP322 proof of possession.
func TestBTCStakerVector(t *testing.T) {
	var up upstreamFile
	loadJSON(t, "upstream-pop-vectors.json", &up)
	v := up.Staker
	p, err := NewBIP322(v.BTCAddress, mustB64(t, v.BTCSignBaby))
	if err != nil {
		t.Fatal(err)
	}
	pk, err := schnorr.ParsePubKey(mustHex(t, v.BTCPublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(pk, v.BabyAddress, &chaincfg.MainNetParams); err != nil {
		t.Fatal(err)
	}
	q, err := Parse(p.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Verify(pk, v.BabyAddress, &chaincfg.MainNetParams); err != nil {
		t.Fatalf("after a round trip: %v", err)
	}
	other, _ := btcec.NewPrivateKey()
	if err := p.Verify(other.PubKey(), v.BabyAddress, &chaincfg.MainNetParams); !errors.Is(err, ErrAddressNotStakerKey) {
		t.Fatalf("another staker key: err %v, want ErrAddressNotStakerKey", err)
	}
	if err := p.Verify(pk, v.BabyAddress, &chaincfg.TestNet3Params); !errors.Is(err, ErrInvalidAddress) {
		t.Fatalf("testnet: err %v, want ErrInvalidAddress", err)
	}
}

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2/bech32"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/pop"
)

const testBabylonAddr = "bbn1xjz8fs9vkmefdqaxan5kv2d09vmwzru7jhy424"

// rawBabylon decodes a bech32 Babylon address to its bytes (an oracle
// apart from package pop's parser).
func rawBabylon(t *testing.T, s string) []byte {
	t.Helper()
	_, data, err := bech32.Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := bech32.ConvertBits(data, 5, 8, false)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// signedMessageDigest is Bitcoin's signed-message digest, written here
// from its definition: SHA256d(varstr("Bitcoin Signed Message:\n") ||
// varstr(msg)).
func signedMessageDigest(msg string) []byte {
	var b bytes.Buffer
	_ = wire.WriteVarString(&b, 0, "Bitcoin Signed Message:\n")
	_ = wire.WriteVarString(&b, 0, msg)
	return chainhash.DoubleHashB(b.Bytes())
}

// TestPopCreateVerifyEachKind: pop create makes each kind, pop verify
// accepts it for the key and the address and refuses it for another
// address (exit 1); BIP-340 and ECDSA are checked against the curve
// directly, outside package pop.
func TestPopCreateVerifyEachKind(t *testing.T) {
	w := newTxWorld(t)
	pk := xonlyHex(w.staker)
	other := testBabylonAddrOther(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"bip340", []string{"--kind", "bip340"}},
		{"bip322-p2tr", []string{"--kind", "bip322"}},
		{"bip322-p2wpkh", []string{"--kind", "bip322", "--bip322-address-type", "p2wpkh"}},
		{"ecdsa", []string{"--kind", "ecdsa"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"pop", "create", "--key", w.stakerFile, "--babylon-address", testBabylonAddr}, tc.args...)
			hexOut := strings.TrimSpace(mustRun(t, args...))
			j := mustJSON[popJSON](t, mustRun(t, append(args, "--json")...))
			if j.PopHex != hexOut || j.StakerPK != pk || j.BabylonAddress != testBabylonAddr {
				t.Fatalf("json %+v, hex %s", j, hexOut)
			}
			sig, _ := hex.DecodeString(j.BTCSig)
			switch tc.name {
			case "bip340":
				m := sha256.Sum256(rawBabylon(t, testBabylonAddr))
				s, err := schnorr.ParseSignature(sig)
				if err != nil || !s.Verify(m[:], w.staker.PubKey()) {
					t.Fatalf("BIP-340 signature does not verify: %v", err)
				}
			case "ecdsa":
				k, _, err := ecdsa.RecoverCompact(sig, signedMessageDigest(testBabylonAddr))
				if err != nil || !k.IsEqual(w.staker.PubKey()) {
					t.Fatalf("ECDSA recovers %v, %v", k, err)
				}
			default:
				if j.BIP322 == nil || !strings.HasPrefix(j.BIP322.Address, "bcrt1") {
					t.Fatalf("bip322 parts %+v", j.BIP322)
				}
			}
			mustRun(t, "pop", "verify", "--pop", hexOut, "--staker-pk", pk, "--babylon-address", testBabylonAddr)
			// From a file too.
			f := filepath.Join(t.TempDir(), "pop.hex")
			_ = os.WriteFile(f, []byte(hexOut+"\n"), 0o644)
			v := mustJSON[popVerifyJSON](t, mustRun(t, "pop", "verify", "--json", "--pop", f, "--staker-pk", pk, "--babylon-address", testBabylonAddr))
			if !v.Valid || v.PopHex != hexOut {
				t.Fatalf("verify json %+v", v)
			}
			code, _, errOut := runCLI(t, "pop", "verify", "--pop", hexOut, "--staker-pk", pk, "--babylon-address", other)
			if code != exitError || !strings.Contains(errOut, "invalid proof of possession") {
				t.Fatalf("another address: exit %d %s", code, errOut)
			}
			code, _, errOut = runCLI(t, "pop", "verify", "--pop", hexOut, "--staker-pk", xonlyHex(w.fp), "--babylon-address", testBabylonAddr)
			if code != exitError {
				t.Fatalf("another key: exit %d %s", code, errOut)
			}
		})
	}
}

// TestPopVerifyUpstreamVector: btc-staker's BIP-322 proof of possession
// (pop/testdata/upstream-pop-vectors.json, copied from its tests) verifies
// on mainnet, and not for another address.
func TestPopVerifyUpstreamVector(t *testing.T) {
	b, err := os.ReadFile("../../pop/testdata/upstream-pop-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		S struct {
			Baby string `json:"babyAddress"`
			BTC  string `json:"btcAddress"`
			PK   string `json:"btcPublicKey"`
			Sig  string `json:"btcSignBaby"`
		} `json:"btc_staker_pop"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	wit, err := base64.StdEncoding.DecodeString(v.S.Sig)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pop.NewBIP322(v.S.BTC, wit)
	if err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "pop", "verify", "--network", "mainnet", "--pop", p.Hex(), "--staker-pk", v.S.PK, "--babylon-address", v.S.Baby)
	if !strings.HasPrefix(out, "valid BIP322") {
		t.Fatalf("output %q", out)
	}
	// The same proof read on regtest: its bc1 address is not a regtest one.
	if code, _, _ := runCLI(t, "pop", "verify", "--pop", p.Hex(), "--staker-pk", v.S.PK, "--babylon-address", v.S.Baby); code != exitError {
		t.Fatalf("mainnet proof on regtest: exit %d", code)
	}
	if code, _, _ := runCLI(t, "pop", "verify", "--network", "mainnet", "--pop", p.Hex(), "--staker-pk", v.S.PK, "--babylon-address", testBabylonAddrOther(t)); code != exitError {
		t.Fatalf("another address: exit %d", code)
	}
}

// testBabylonAddrOther is a valid Babylon address other than testBabylonAddr.
func testBabylonAddrOther(t *testing.T) string {
	conv, err := bech32.ConvertBits(bytes.Repeat([]byte{7}, 20), 8, 5, true)
	if err != nil {
		t.Fatal(err)
	}
	s, err := bech32.Encode("bbn", conv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestPopVerifyLegacyECDSA: an ECDSA signature over the late-2024 message
// (the hex of the address bytes) is refused with a reason saying so.
func TestPopVerifyLegacyECDSA(t *testing.T) {
	w := newTxWorld(t)
	msg := hex.EncodeToString(rawBabylon(t, testBabylonAddr))
	sig := ecdsa.SignCompact(w.staker, signedMessageDigest(msg), true)
	p, err := pop.New(pop.ECDSA, sig)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "pop", "verify", "--json", "--pop", p.Hex(), "--staker-pk", xonlyHex(w.staker), "--babylon-address", testBabylonAddr)
	if code != exitError || !strings.Contains(errOut, "late-2024") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if v := mustJSON[popVerifyJSON](t, out); v.Valid || !strings.Contains(v.Reason, "late-2024") {
		t.Fatalf("json %+v", v)
	}
}

// TestPopBadInput: malformed inputs are usage errors (exit 2), one line.
func TestPopBadInput(t *testing.T) {
	w := newTxWorld(t)
	good := strings.TrimSpace(mustRun(t, "pop", "create", "--key", w.stakerFile, "--babylon-address", testBabylonAddr))
	pk := xonlyHex(w.staker)
	uncompressed := hex.EncodeToString(w.staker.PubKey().SerializeUncompressed())
	cosmos := func() string {
		conv, _ := bech32.ConvertBits(rawBabylon(t, testBabylonAddr), 8, 5, true)
		s, _ := bech32.Encode("cosmos", conv)
		return s
	}()
	for _, tc := range []struct {
		name, flag string
		args       []string
	}{
		{"other prefix", "--babylon-address", []string{"pop", "verify", "--pop", good, "--staker-pk", pk, "--babylon-address", cosmos}},
		{"bad checksum", "--babylon-address", []string{"pop", "verify", "--pop", good, "--staker-pk", pk, "--babylon-address", testBabylonAddr[:len(testBabylonAddr)-1] + "5"}},
		{"uncompressed key", "--staker-pk", []string{"pop", "verify", "--pop", good, "--staker-pk", uncompressed, "--babylon-address", testBabylonAddr}},
		{"not a proof", "--pop", []string{"pop", "verify", "--pop", "0a01", "--staker-pk", pk, "--babylon-address", testBabylonAddr}},
		{"create: other prefix", "--babylon-address", []string{"pop", "create", "--key", w.stakerFile, "--babylon-address", cosmos}},
		{"create: unknown kind", "--kind", []string{"pop", "create", "--key", w.stakerFile, "--babylon-address", testBabylonAddr, "--kind", "bip341"}},
		{"create: address type without bip322", "--bip322-address-type", []string{"pop", "create", "--key", w.stakerFile, "--babylon-address", testBabylonAddr, "--bip322-address-type", "p2wpkh"}},
		{"create: key on the command line", "--sk", []string{"pop", "create", "--sk", "11", "--key", w.stakerFile, "--babylon-address", testBabylonAddr}},
	} {
		code, out, errOut := runCLI(t, tc.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tc.flag) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", tc.name, code, out, errOut)
		}
	}
}

// TestPopVerifyHighS: an ECDSA proof whose s is replaced by n - s (the
// same signature, malleated) is refused, saying why, and never valid.
func TestPopVerifyHighS(t *testing.T) {
	w := newTxWorld(t)
	j := mustJSON[popJSON](t, mustRun(t, "pop", "create", "--json", "--kind", "ecdsa", "--key", w.stakerFile, "--babylon-address", testBabylonAddr))
	sig, _ := hex.DecodeString(j.BTCSig)
	s := new(big.Int).SetBytes(sig[33:65])
	s.Sub(btcec.S256().N, s)
	high := append([]byte(nil), sig...)
	s.FillBytes(high[33:65])
	// Flip the recovery id too, so the malleated signature still recovers
	// the staker key: only the high-s rule refuses it.
	high[0] ^= 1
	p, err := pop.New(pop.ECDSA, high)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "pop", "verify", "--pop", p.Hex(), "--staker-pk", xonlyHex(w.staker), "--babylon-address", testBabylonAddr)
	if code == exitOK || out != "" || !strings.Contains(errOut, "high s") {
		t.Fatalf("high-s proof: exit %d %q %s", code, out, errOut)
	}
}

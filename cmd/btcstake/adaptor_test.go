package main

import (
	"encoding/json"
	"strings"
	"testing"
)

const (
	exCovSK   = "0000000000000000000000000000000000000000000000000000000000000003"
	exCovPK   = "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
	exSighash = "31af10958c444c19b6bc71c82b07c30cd24661f75920f93975a31fab1455d050"
	exAdSig   = "0316a2265d8fc9324123ce019712fb847263a34cc93568de69ca5783c893a6e79ec61e6749b29b22392d5db997938b911ed2d4b4b9f2daedd6fcf9ea1e5edd5da0"
	exFinal   = "16a2265d8fc9324123ce019712fb847263a34cc93568de69ca5783c893a6e79e0e3d15e727adf7ce6dec6116f6969d576fed9eaaba2613805575111a0d4c8db1"
)

func TestAdaptorCommandsRoundTrip(t *testing.T) {
	zero := strings.Repeat("00", 32)
	code, out, errOut := cli(t, "adaptor", "sign", "--key", secretFile(t, exCovSK), "--enc-key", exEotsPK, "--msg-hash", exSighash, "--aux", zero)
	if code != 0 || strings.TrimSpace(out) != exAdSig {
		t.Fatalf("sign: exit %d %q %q", code, out, errOut)
	}
	// Without --aux: fresh randomness, still valid.
	code, out, _ = cli(t, "adaptor", "sign", "--key", secretFile(t, exCovSK), "--enc-key", exEotsPK, "--msg-hash", exSighash, "--json")
	var s adaptorSigJSON
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil || s.AdaptorSignature == exAdSig {
		t.Fatalf("random sign: exit %d %q", code, out)
	}
	for _, sig := range []string{exAdSig, s.AdaptorSignature} {
		if code, out, errOut := cli(t, "adaptor", "verify", "--pk", exCovPK, "--enc-key", exEotsPK, "--msg-hash", exSighash, "--sig", sig); code != 0 || out != "valid\n" {
			t.Fatalf("verify: exit %d %q %q", code, out, errOut)
		}
	}
	code, _, errOut = cli(t, "adaptor", "verify", "--pk", exCovPK, "--enc-key", exCovPK, "--msg-hash", exSighash, "--sig", exAdSig)
	if code != 1 || !strings.Contains(errOut, "invalid adaptor signature") {
		t.Fatalf("wrong enc key: exit %d %q", code, errOut)
	}
	code, out, _ = cli(t, "adaptor", "decrypt", "--sig", exAdSig, "--key", secretFile(t, exEotsSK))
	if code != 0 || strings.TrimSpace(out) != exFinal {
		t.Fatalf("decrypt: exit %d %q", code, out)
	}
	// The legacy 66-byte form of the same signature decrypts identically:
	// R with prefix 02, s', and needNegation = 1 because R0 has odd y.
	legacy := "02" + exAdSig[2:] + "01"
	code, out, _ = cli(t, "adaptor", "decrypt", "--sig", legacy, "--key", secretFile(t, exEotsSK))
	if code != 0 || strings.TrimSpace(out) != exFinal {
		t.Fatalf("legacy decrypt: exit %d %q", code, out)
	}
	code, out, errOut = cli(t, "adaptor", "extract", "--sig", exAdSig, "--schnorr-sig", exFinal, "--enc-key", exEotsPK33, "--json")
	var x adaptorExtractJSON
	if code != 0 || json.Unmarshal([]byte(out), &x) != nil || x.SecretKey != exEotsSK {
		t.Fatalf("extract: exit %d %q %q", code, out, errOut)
	}
	code, _, errOut = cli(t, "adaptor", "extract", "--sig", exAdSig, "--schnorr-sig", exFinal, "--enc-key", exCovPK)
	if code != 1 || !strings.Contains(errOut, "cannot extract") {
		t.Fatalf("extract with the wrong key: exit %d %q", code, errOut)
	}
	for _, args := range [][]string{
		{"adaptor", "sign", "--key", secretFile(t, exCovSK), "--enc-key", exEotsPK, "--msg-hash", exSighash[:62]},
		{"adaptor", "sign", "--key", secretFile(t, zero), "--enc-key", exEotsPK, "--msg-hash", exSighash},
		{"adaptor", "verify", "--pk", exCovPK, "--enc-key", exEotsPK, "--msg-hash", exSighash, "--sig", exAdSig[:128]},
		{"adaptor", "decrypt", "--sig", "04" + exAdSig[2:], "--key", secretFile(t, exEotsSK)},
		{"adaptor", "extract", "--sig", exAdSig, "--schnorr-sig", exFinal[:126], "--enc-key", exEotsPK},
	} {
		if code, _, errOut := cli(t, args...); code != 2 {
			t.Fatalf("%v: exit %d %q", args, code, errOut)
		}
	}
}

package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/btcstake/btcstake/eots"
)

// The worked example used in the --help texts.
const (
	exEotsSK   = "b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef"
	exEotsPK   = "dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659"
	exEotsPK33 = "02" + exEotsPK
	exEotsR    = "09e70540627b4945c7b7268d36ea371512448d490113b234e9f141a841975f37"
	exEotsM1   = "00000000000000640101010101010101010101010101010101010101010101010101010101010101"
	exEotsS1   = "75e54e3199428fb4407f8e061d2a2c4efed82ec058f3323b06179c9b22646e71"
	exEotsM2   = "00000000000000640202020202020202020202020202020202020202020202020202020202020202"
	exEotsS2   = "c619fc81c1866edf2efb918a6f023e79dc70787ff962bc18ca52fa9fcd0977d2"
)

func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var o, e bytes.Buffer
	code := run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestEotsPubrandMatchesLibrary(t *testing.T) {
	code, out, errOut := cli(t, "eots", "pubrand", "--key", secretFile(t, exEotsSK), "--chain-id", "bbn-test-5", "--start-height", "100", "--count", "7", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got pubrandOutJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, exEotsSK) {
		t.Fatal("secret key printed")
	}
	skb, _ := hex.DecodeString(exEotsSK)
	sk, _ := eots.ParseSecretKey(skb)
	list, _ := eots.PublicRandList(sk, []byte("bbn-test-5"), 100, 7, 1)
	root := eots.CommitRoot(list)
	if got.PublicKey != exEotsPK || got.Commitment != hex.EncodeToString(root[:]) || got.Count != 7 || got.StartHeight != 100 || len(got.PubRand) != 7 {
		t.Fatalf("unexpected output %+v", got)
	}
	if got.PubRand[0].PubRand != exEotsR {
		t.Fatalf("height 100 randomness %s, want %s", got.PubRand[0].PubRand, exEotsR)
	}
	csig, _ := hex.DecodeString(got.CommitSignature)
	if err := eots.VerifyCommit(sk.PubKey(), 100, 7, root, csig); err != nil {
		t.Fatal(err)
	}
	for i, r := range got.PubRand {
		if r.Height != 100+uint64(i) || r.PubRand != list[i].String() {
			t.Fatalf("item %d: %+v", i, r)
		}
		p := eots.Proof{Total: r.Proof.Total, Index: r.Proof.Index}
		lh, _ := hex.DecodeString(r.Proof.LeafHash)
		copy(p.LeafHash[:], lh)
		for _, a := range r.Proof.Aunts {
			b, _ := hex.DecodeString(a)
			p.Aunts = append(p.Aunts, [32]byte(b))
		}
		if err := eots.VerifyInclusion(root, 7, uint64(i), list[i][:], &p); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	// With Babylon v3's signing context the commitment is signed over the
	// prefixed hash.
	code, out, _ = cli(t, "eots", "pubrand", "--key", secretFile(t, exEotsSK), "--chain-id", "bbn-test-5", "--start-height", "100", "--count", "7", "--context-address", "bbn1finality", "--json")
	var withCtx pubrandOutJSON
	if code != 0 || json.Unmarshal([]byte(out), &withCtx) != nil || withCtx.SigningContext != eots.SigningContext(eots.ContextRandCommit, "bbn-test-5", "bbn1finality") {
		t.Fatalf("context: %d %q", code, out)
	}
	csig2, _ := hex.DecodeString(withCtx.CommitSignature)
	if err := eots.VerifyCommitWithContext(sk.PubKey(), withCtx.SigningContext, 100, 7, root, csig2); err != nil {
		t.Fatal(err)
	}
	// Text output carries the same values.
	code, text, _ := cli(t, "eots", "pubrand", "--key", secretFile(t, exEotsSK), "--chain-id", "bbn-test-5", "--start-height", "100", "--count", "7")
	if code != 0 || !strings.Contains(text, got.Commitment) || !strings.Contains(text, exEotsR) {
		t.Fatalf("text output: %s", text)
	}
}

func TestEotsVerifyCommand(t *testing.T) {
	ok := []string{"eots", "verify", "--pk", exEotsPK, "--pub-rand", exEotsR, "--msg", exEotsM1, "--sig", exEotsS1}
	if code, out, _ := cli(t, ok...); code != 0 || out != "valid\n" {
		t.Fatalf("exit %d %q", code, out)
	}
	if code, _, _ := cli(t, "eots", "verify", "--pk", exEotsPK33, "--pub-rand", exEotsR, "--msg", exEotsM1, "--sig", exEotsS1); code != 0 {
		t.Fatal("33-byte key rejected")
	}
	code, out, errOut := cli(t, "eots", "verify", "--pk", exEotsPK, "--pub-rand", exEotsR, "--msg", exEotsM2, "--sig", exEotsS1)
	if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "invalid signature") {
		t.Fatalf("invalid: exit %d %q %q", code, out, errOut)
	}
	code, out, _ = cli(t, "eots", "verify", "--pk", exEotsPK, "--pub-rand", exEotsR, "--msg", exEotsM2, "--sig", exEotsS1, "--json")
	var v verifyJSON
	if code != 1 || json.Unmarshal([]byte(out), &v) != nil || v.Valid || v.Reason == "" {
		t.Fatalf("json invalid: exit %d %q", code, out)
	}
	usage := []struct {
		name string
		args []string
		want string
	}{
		{"bad hex", []string{"--pk", "zz", "--pub-rand", exEotsR, "--msg", exEotsM1, "--sig", exEotsS1}, "--pk"},
		{"short sig", []string{"--pk", exEotsPK, "--pub-rand", exEotsR, "--msg", exEotsM1, "--sig", exEotsS1[:62]}, "--sig"},
		{"pub rand off curve", []string{"--pk", exEotsPK, "--pub-rand", strings.Repeat("ff", 32), "--msg", exEotsM1, "--sig", exEotsS1}, "--pub-rand"},
		{"missing msg", []string{"--pk", exEotsPK, "--pub-rand", exEotsR, "--sig", exEotsS1}, "msg"},
	}
	for _, c := range usage {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := cli(t, append([]string{"eots", "verify"}, c.args...)...)
			if code != 2 || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d %q", code, errOut)
			}
		})
	}
}

func TestEotsExtractCommand(t *testing.T) {
	code, out, errOut := cli(t, "eots", "extract", "--pk", exEotsPK33, "--pub-rand", exEotsR,
		"--msg1", exEotsM1, "--sig1", exEotsS1, "--msg2", exEotsM2, "--sig2", exEotsS2, "--json")
	var got extractJSON
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("exit %d %q %q", code, out, errOut)
	}
	if got.SecretKey != exEotsSK || got.PublicKeyCompressed != exEotsPK33 || got.PublicKey != exEotsPK33[2:] {
		t.Fatalf("%+v", got)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"same message", []string{"--msg1", exEotsM1, "--sig1", exEotsS1, "--msg2", exEotsM1, "--sig2", exEotsS1}, "same message"},
		{"invalid signature", []string{"--msg1", exEotsM1, "--sig1", exEotsS2, "--msg2", exEotsM2, "--sig2", exEotsS2}, "signature 1 does not verify"},
		{"different randomness", []string{"--pub-rand2", exEotsPK, "--msg1", exEotsM1, "--sig1", exEotsS1, "--msg2", exEotsM2, "--sig2", exEotsS2}, "different public randomness"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"eots", "extract", "--pk", exEotsPK, "--pub-rand", exEotsR}, c.args...)
			code, out, errOut := cli(t, args...)
			if code != 1 || out != "" || !strings.Contains(errOut, "no key can be extracted") || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d %q %q", code, out, errOut)
			}
		})
	}
}

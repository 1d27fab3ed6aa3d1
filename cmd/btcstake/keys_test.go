package main

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeystoreKeysSign: staker and covenant keys imported into keystores
// sign an unbonding PSBT through --key, the result finalises, and a wrong
// passphrase is its own error (exit 1) that writes nothing.
func TestKeystoreKeysSign(t *testing.T) {
	t.Setenv(passphraseEnv, "")
	os.Unsetenv(passphraseEnv)
	w := newTxWorld(t)
	stTx := w.stake(t)
	pass := writeKeyText(t, w.dir, "pass.txt", "staker passphrase")
	wrong := writeKeyText(t, w.dir, "wrong.txt", "not the passphrase")

	ks := func(name, plain string) string {
		f := filepath.Join(w.dir, name)
		j := mustJSON[keyJSON](t, mustRun(t, "key", "import", "--json", "--key", f, "--sk-file", plain,
			"--passphrase-file", pass, "--scrypt-work-factor", "10"))
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("keystore %s: %v %v", f, fi, err)
		}
		if show := mustJSON[keyJSON](t, mustRun(t, "key", "show", "--json", "--key", f)); show.PublicKey != j.PublicKey {
			t.Fatalf("show %s, import %s", show.PublicKey, j.PublicKey)
		}
		return f
	}
	stakerKS := ks("staker.keystore", w.stakerFile)
	covKS := ks("cov1.keystore", w.covFiles[0])
	if j := mustJSON[keyJSON](t, mustRun(t, "key", "show", "--json", "--key", stakerKS)); j.PublicKey != xonlyHex(w.staker) {
		t.Fatalf("staker keystore holds %s, want %s", j.PublicKey, xonlyHex(w.staker))
	}

	ub := filepath.Join(w.dir, "unbond.psbt")
	mustRun(t, append(append([]string{"unbond"}, w.delegationArgs()...), "--staking-tx", txHex(stTx), "--out", ub)...)
	before, _ := os.ReadFile(ub)

	// Wrong passphrase: exit 1, one line naming --key, --out untouched.
	out2 := filepath.Join(w.dir, "never.psbt")
	code, out, errOut := runCLI(t, "sign", "--psbt", ub, "--key", stakerKS, "--passphrase-file", wrong, "--out", out2)
	if code != exitError || out != "" || strings.Count(errOut, "\n") != 1 ||
		!strings.HasPrefix(errOut, "btcstake: error: --key: wrong passphrase") {
		t.Fatalf("wrong passphrase: exit %d %q %q", code, out, errOut)
	}
	if _, err := os.Stat(out2); !os.IsNotExist(err) {
		t.Fatal("a failed sign wrote --out")
	}
	// No passphrase at all (no file, no environment, no terminal): exit 2.
	if code, _, errOut := runCLI(t, "sign", "--psbt", ub, "--key", stakerKS); code != exitUsage || !strings.Contains(errOut, "--passphrase-file") {
		t.Fatalf("no passphrase: exit %d %q", code, errOut)
	}
	if after, _ := os.ReadFile(ub); string(after) != string(before) {
		t.Fatal("failed signs changed the PSBT")
	}

	s1 := mustJSON[psbtJSON](t, mustRunInPlace(t, "sign", "--json", "--psbt", ub, "--key", stakerKS, "--passphrase-file", pass, "--out", ub))
	if len(s1.Signed) != 1 || s1.Signed[0].Role != "staker" {
		t.Fatalf("staker keystore sign: %+v", s1.Signed)
	}
	t.Setenv(passphraseEnv, "staker passphrase") // the environment unlocks too
	s2 := mustJSON[psbtJSON](t, mustRunInPlace(t, w.asCovenant("sign", "--json", "--psbt", ub, "--key", covKS, "--out", ub)...))
	if len(s2.Signed) != 1 || s2.Signed[0].Role != "covenant member" {
		t.Fatalf("covenant keystore sign: %+v", s2.Signed)
	}
	// A plain key file still works beside keystores.
	mustRunInPlace(t, w.asCovenant("sign", "--psbt", ub, "--key", w.covFiles[1], "--out", ub)...)
	finalizeFiles(t, ub)

	// Slashing: the covenant adaptor-signs from a keystore, and the
	// finality provider's key completes it from a keystore too.
	sl := filepath.Join(w.dir, "slash.psbt")
	mustRun(t, append(append([]string{"slash", "--from", "staking"}, w.delegationArgs()...), "--funding-tx", txHex(stTx), "--out", sl)...)
	mustRunInPlace(t, "sign", "--psbt", sl, "--key", stakerKS, "--out", sl)
	aj := mustJSON[psbtJSON](t, mustRunInPlace(t, w.asCovenant("adaptor", "sign-slashing", "--json", "--psbt", sl, "--key", covKS, "--out", sl)...))
	if len(aj.Signed) != 1 || aj.Signed[0].Kind != "adaptor_sig" {
		t.Fatalf("adaptor-sign from keystore: %+v", aj.Signed)
	}
	mustRunInPlace(t, w.asCovenant("adaptor", "sign-slashing", "--psbt", sl, "--key", w.covFiles[1], "--out", sl)...)
	fpKS := ks("fp.keystore", w.fpFile)
	os.Unsetenv(passphraseEnv)
	if code, _, errOut := runCLI(t, "adaptor", "complete-slashing", "--psbt", sl, "--fp-sk-file", fpKS, "--passphrase-file", wrong); code != exitError ||
		!strings.HasPrefix(errOut, "btcstake: error: --fp-sk-file: wrong passphrase") {
		t.Fatalf("complete-slashing, wrong passphrase: exit %d %q", code, errOut)
	}
	mustJSON[finalJSON](t, mustRun(t, "adaptor", "complete-slashing", "--json", "--psbt", sl, "--fp-sk-file", fpKS, "--passphrase-file", pass))

	// The addresses key show prints are the key's own: coins paid to either
	// are signed by sign --key and pass the script engine in finalize.
	show := mustJSON[keyShowJSON](t, mustRun(t, "key", "show", "--json", "--key", stakerKS))
	if show.P2WPKHPkScript != hex.EncodeToString(p2wpkhScript(w.staker)) || !strings.HasPrefix(show.P2TR, "bcrt1p") {
		t.Fatalf("key show: %+v", show)
	}
	for _, pk := range []string{show.P2WPKHPkScript, show.P2TRPkScript} {
		script, _ := hex.DecodeString(pk)
		_, utxo := fundingCoin("key show coin "+pk, script, 300_000)
		f := filepath.Join(w.dir, "stake-"+pk[:4]+".psbt")
		mustRun(t, append(append([]string{"stake"}, w.delegationArgs()...), "--amount", "100000", "--fee-rate", "2",
			"--utxo", utxo, "--change-address", show.P2WPKH, "--out", f)...)
		sj := mustJSON[psbtJSON](t, mustRunInPlace(t, "sign", "--json", "--psbt", f, "--key", stakerKS, "--passphrase-file", pass, "--out", f))
		if len(sj.Signed) != 1 || sj.Signed[0].Kind != "funding" {
			t.Fatalf("funding coin %s: %+v", pk, sj.Signed)
		}
		finalizeFiles(t, f)
	}

	// A keystore is never mistaken for a hex key, and a broken one is named.
	broken := writeKeyText(t, w.dir, "broken.keystore", `{"version": 1, "public_key": "zz"}`)
	if code, _, errOut := runCLI(t, "sign", "--psbt", ub, "--key", broken, "--passphrase-file", pass); code != exitUsage ||
		!strings.HasPrefix(errOut, "btcstake: error: --key: ") || !strings.Contains(errOut, "keystore") {
		t.Fatalf("broken keystore: exit %d %q", code, errOut)
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	btcpsbt "github.com/btcsuite/btcd/psbt/v2"

	"github.com/btcstake/btcstake/psbt"
)

// tamper decodes a PSBT (base64), lets mod change its unsigned transaction,
// and writes it to a new file.
func tamper(t *testing.T, dir, name, b64 string, mod func(p *btcpsbt.Packet)) string {
	t.Helper()
	p, err := psbt.Decode([]byte(b64))
	if err != nil {
		t.Fatal(err)
	}
	mod(p)
	s, err := psbt.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, name)
	if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestCovenantChecksBeforeSigning: a covenant key signs only the exact
// unbonding or slashing transaction the delegation allows.
func TestCovenantChecksBeforeSigning(t *testing.T) {
	w := newTxWorld(t)
	stTx := w.stake(t)
	thief := p2wpkhScript(w.staker)

	uj := mustJSON[psbtJSON](t, mustRun(t, append(append([]string{"unbond", "--json"}, w.delegationArgs()...), "--staking-tx", txHex(stTx))...))
	sj := mustJSON[psbtJSON](t, mustRun(t, append(append([]string{"slash", "--json", "--from", "staking"}, w.delegationArgs()...), "--funding-tx", txHex(stTx))...))

	stolenUnbond := tamper(t, w.dir, "stolen-unbond.psbt", uj.PSBT, func(p *btcpsbt.Packet) { p.UnsignedTx.TxOut[0].PkScript = thief })
	cheapSlash := tamper(t, w.dir, "cheap-slash.psbt", sj.PSBT, func(p *btcpsbt.Packet) {
		p.UnsignedTx.TxOut[1].Value += p.UnsignedTx.TxOut[0].Value - 1000
		p.UnsignedTx.TxOut[0].Value = 1000
	})
	out := filepath.Join(w.dir, "signed.psbt")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unbonding paying the staker", w.asCovenant("sign", "--psbt", stolenUnbond, "--key", w.covFiles[0], "--out", out), exitError, "wrong transaction outputs"},
		{"slashing paying less", w.asCovenant("adaptor", "sign-slashing", "--psbt", cheapSlash, "--key", w.covFiles[0], "--out", out), exitError, "wrong output value"},
		{"covenant key without the delegation", []string{"sign", "--psbt", uj.PSBT, "--key", w.covFiles[0], "--out", out}, exitUsage, "--params"},
		{"adaptor-sign without the delegation", []string{"adaptor", "sign-slashing", "--psbt", sj.PSBT, "--key", w.covFiles[0], "--out", out}, exitUsage, "--params"},
		{"another staker named", append(w.asCovenant("sign", "--psbt", uj.PSBT, "--key", w.covFiles[0], "--out", out), "--staker-pk", xonlyHex(w.fp)), exitError, "--staker-pk"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 || stdout != "" {
				t.Fatalf("exit %d, stderr %q, stdout %q; want exit %d mentioning %q", code, stderr, stdout, c.code, c.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatal("a refused signature still wrote --out")
			}
		})
	}
	// The honest transactions are signed.
	mustRun(t, w.asCovenant("sign", "--psbt", uj.PSBT, "--key", w.covFiles[0], "--out", out)...)
	mustRun(t, w.asCovenant("adaptor", "sign-slashing", "--psbt", sj.PSBT, "--key", w.covFiles[1], "--out", out, "--force")...)
	// The staker needs no delegation flags to sign its own transactions.
	mustRun(t, "sign", "--psbt", uj.PSBT, "--key", w.stakerFile)
}

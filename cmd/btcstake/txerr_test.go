package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/btcstake/btcstake/psbt"
)

// TestTxCommandsBadInput: every bad input gets a one-line error naming the
// flag, the documented exit code, no panic, and no --out file.
func TestTxCommandsBadInput(t *testing.T) {
	w := newTxWorld(t)
	stTx := w.stake(t)
	stHex := txHex(stTx)
	ubJSON := mustJSON[psbtJSON](t, mustRun(t, append(append([]string{"unbond", "--json"}, w.delegationArgs()...), "--staking-tx", stHex)...))
	slJSON := mustJSON[psbtJSON](t, mustRun(t, append(append([]string{"slash", "--json", "--from", "staking"}, w.delegationArgs()...), "--funding-tx", stHex)...))
	ubPSBT, slPSBT := ubJSON.PSBT, slJSON.PSBT
	fin, err := psbt.Decode([]byte(ubPSBT))
	if err != nil {
		t.Fatal(err)
	}
	if err := psbt.SignTapscript(fin, 0, w.staker); err != nil {
		t.Fatal(err)
	}
	for _, k := range []*btcec.PrivateKey{w.cov[0], w.cov[1]} {
		signer, _ := psbt.NewCovenantSigner(k)
		if _, err := signer.Sign(fin, 0, w.delegation(t)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := psbt.Finalize(fin); err != nil {
		t.Fatal(err)
	}
	finalPSBT, _ := psbt.Encode(fin)

	loose := filepath.Join(w.dir, "loose.key")
	os.WriteFile(loose, []byte(hex32(w.staker)), 0o644)
	os.Chmod(loose, 0o644)
	short := writeKeyText(t, w.dir, "short.key", strings.Repeat("ab", 31))
	overN := writeKeyText(t, w.dir, "overn.key", strings.Repeat("ff", 32))
	notHexKey := writeKeyText(t, w.dir, "nothex.key", "not a key")
	_, utxo := fundingCoin("bad input coin", p2wpkhScript(w.funder), 500_000)
	_, p2pkhUtxo := fundingCoin("p2pkh coin", p2pkhScript(w.funder), 500_000)
	unrelated, _ := fundingCoin("unrelated", p2wpkhScript(w.funder), 1)
	notOnCurve := strings.Repeat("00", 31) + "05"
	mainnetAddr := "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
	testnetAddr := "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"

	stake := func(extra ...string) []string {
		a := append([]string{"stake"}, w.delegationArgs()...)
		a = append(a, "--amount", "100000", "--fee-rate", "2", "--utxo", utxo, "--change-address", w.changeAddr)
		return append(a, extra...)
	}
	replace := func(args []string, flag, val string) []string {
		out := append([]string(nil), args...)
		for i := range out {
			if out[i] == flag {
				out[i+1] = val
				return out
			}
		}
		return append(out, flag, val)
	}
	unbond := append(append([]string{"unbond"}, w.delegationArgs()...), "--staking-tx", stHex)
	withdraw := append(append([]string{"withdraw", "--from", "staking"}, w.delegationArgs()...),
		"--funding-tx", stHex, "--to", w.withdrawAddr, "--fee-rate", "2")

	cases := []struct {
		name string
		args []string
		code int
		flag string
		want string
	}{
		{"bad hex key", replace(stake(), "--staker-pk", "zz11"), exitUsage, "--staker-pk", "not hex"},
		{"wrong key length", replace(stake(), "--fp-pk", strings.Repeat("11", 31)), exitUsage, "--fp-pk", "31 bytes"},
		{"key not on curve", replace(stake(), "--fp-pk", notOnCurve), exitUsage, "--fp-pk", "no curve point"},
		{"staker is a covenant member", replace(stake(), "--staker-pk", xonlyHex(w.cov[0])), exitError, "--staker-pk", "duplicate"},
		{"bad utxo syntax", replace(stake(), "--utxo", "abcd:0:1000"), exitUsage, "--utxo", "txid:vout:amount_sat:pkscript_hex"},
		{"bad utxo txid", replace(stake(), "--utxo", "zz:0:1000:0014"), exitUsage, "--utxo", "txid"},
		{"bad utxo amount", replace(stake(), "--utxo", strings.Replace(utxo, ":500000:", ":-5:", 1)), exitUsage, "--utxo", "amount"},
		{"bad utxo pkscript", replace(stake(), "--utxo", strings.TrimSuffix(utxo, utxo[len(utxo)-3:])+"zzz"), exitUsage, "--utxo", "pkscript"},
		{"duplicate utxo", stake("--utxo", utxo), exitError, "--utxo", "given twice"},
		{"dust amount", replace(stake(), "--amount", "300"), exitError, "--amount", "staking value"},
		{"zero amount", replace(stake(), "--amount", "0"), exitUsage, "--amount", "positive"},
		{"insufficient funds", replace(stake(), "--amount", "600000"), exitError, "--utxo", "insufficient"},
		{"fee rate below 1", replace(stake(), "--fee-rate", "0.5"), exitUsage, "--fee-rate", "fee rate"},
		{"staking time outside params", replace(stake(), "--staking-time", "2"), exitError, "--staking-time", "staking time"},
		{"staking time not a lock", replace(stake(), "--staking-time", "70000"), exitUsage, "--staking-time", ""},
		{"mainnet change address", replace(stake(), "--change-address", mainnetAddr), exitUsage, "--change-address", "network"},
		{"testnet change address", replace(stake(), "--change-address", testnetAddr), exitUsage, "--change-address", "network"},
		{"garbage change address", replace(stake(), "--change-address", "nonsense"), exitUsage, "--change-address", ""},
		{"p2pkh without prev tx", replace(stake(), "--utxo", p2pkhUtxo), exitError, "--prev-tx", "previous transaction"},
		{"unrelated prev tx", stake("--prev-tx", txHex(unrelated)), exitUsage, "--prev-tx", "created none"},
		{"bad prev tx hex", stake("--prev-tx", "00zz"), exitUsage, "--prev-tx", "neither a readable file nor a hex transaction"},
		{"missing params file", replace(stake(), "--params", filepath.Join(w.dir, "nope.json")), exitUsage, "--params", ""},
		{"phase1 with two fps", stake("--fp-pk", xonlyHex(w.funder), "--phase1"), exitError, "--fp-pk", ""},
		{"bad staking tx hex", replace(unbond, "--staking-tx", "0200zz"), exitUsage, "--staking-tx", "neither a readable file nor a hex transaction"},
		{"truncated staking tx", replace(unbond, "--staking-tx", stHex[:len(stHex)-10]), exitUsage, "--staking-tx", "not a bitcoin transaction"},
		{"staking tx of another delegation", replace(unbond, "--staking-tx", txHex(unrelated)), exitError, "--staking-tx", "no staking output"},
		{"unknown --from (slash)", append(append([]string{"slash", "--from", "withdraw"}, w.delegationArgs()...), "--funding-tx", stHex), exitUsage, "--from", "staking or unbonding"},
		{"slash --from slashing", append(append([]string{"slash", "--from", "slashing"}, w.delegationArgs()...), "--funding-tx", stHex), exitUsage, "--from", ""},
		{"unknown --from (withdraw)", replace(withdraw, "--from", "everything"), exitUsage, "--from", "staking, unbonding"},
		{"withdraw from the wrong output", replace(withdraw, "--from", "unbonding"), exitError, "--funding-tx", "no unbonding output"},
		{"withdraw to another network", replace(withdraw, "--to", mainnetAddr), exitUsage, "--to", "network"},
		{"withdraw fee eats everything", replace(withdraw, "--fee-rate", "1000"), exitError, "--fee-rate", "dust"},
		{"sign: truncated psbt", []string{"sign", "--psbt", ubPSBT[:len(ubPSBT)/2], "--key", w.stakerFile}, exitUsage, "--psbt", "invalid psbt"},
		{"sign: not a psbt", []string{"sign", "--psbt", "hello", "--key", w.stakerFile}, exitUsage, "--psbt", "neither a readable file"},
		{"sign: key file mode 0644", []string{"sign", "--psbt", ubPSBT, "--key", loose}, exitUsage, "--key", "0644"},
		{"sign: key file missing", []string{"sign", "--psbt", ubPSBT, "--key", filepath.Join(w.dir, "none.key")}, exitUsage, "--key", ""},
		{"sign: wrong key length", []string{"sign", "--psbt", ubPSBT, "--key", short}, exitUsage, "--key", "32 bytes"},
		{"sign: key out of range", []string{"sign", "--psbt", ubPSBT, "--key", overN}, exitUsage, "--key", "not in [1, n-1]"},
		{"sign: key not hex", []string{"sign", "--psbt", ubPSBT, "--key", notHexKey}, exitUsage, "--key", "hex"},
		{"sign: key without a role", []string{"sign", "--psbt", ubPSBT, "--key", w.fpFile}, exitError, "--key", "no role"},
		{"sign: finalised psbt", []string{"sign", "--psbt", finalPSBT, "--key", w.stakerFile}, exitUsage, "--psbt", "already finalised"},
		{"sign: finalised input", []string{"sign", "--psbt", finalPSBT, "--key", w.stakerFile, "--input", "0"}, exitUsage, "--input", "already finalised"},
		{"sign: no such input", []string{"sign", "--psbt", ubPSBT, "--key", w.stakerFile, "--input", "3"}, exitUsage, "--input", "no input 3"},
		{"sign: fp on slashing leaf", []string{"sign", "--psbt", slPSBT, "--key", w.fpFile}, exitError, "--key", "complete-slashing"},
		{"adaptor-sign: not a slashing psbt", []string{"adaptor", "sign-slashing", "--psbt", ubPSBT, "--key", w.covFiles[0]}, exitUsage, "--psbt", "not a slashing PSBT"},
		{"adaptor-sign: staker key", []string{"adaptor", "sign-slashing", "--psbt", slPSBT, "--key", w.stakerFile}, exitError, "--key", "only covenant members"},
		{"complete-slashing: unbonding psbt", []string{"adaptor", "complete-slashing", "--psbt", ubPSBT, "--fp-sk-file", w.fpFile}, exitUsage, "--psbt", "not a slashing PSBT"},
		{"complete-slashing: not signed", []string{"adaptor", "complete-slashing", "--psbt", slPSBT, "--fp-sk-file", w.fpFile}, exitError, "--psbt", ""},
		{"complete-slashing: loose fp key", []string{"adaptor", "complete-slashing", "--psbt", slPSBT, "--fp-sk-file", loose}, exitUsage, "--fp-sk-file", "0644"},
		{"finalize: psbts of another tx", []string{"finalize", "--psbt", ubPSBT, "--psbt", slPSBT}, exitUsage, "--psbt", "is for transaction"},
		{"finalize: unsigned", []string{"finalize", "--psbt", ubPSBT}, exitError, "--psbt", "not signed"},
		{"finalize: truncated psbt", []string{"finalize", "--psbt", slPSBT[:40]}, exitUsage, "--psbt", ""},
		{"inspect: neither --psbt nor --tx", []string{"inspect"}, exitUsage, "--psbt", "exactly one"},
		{"inspect: bad tx", []string{"inspect", "--tx", "01"}, exitUsage, "--tx", ""},
		{"unknown network", append([]string{"--network", "moon"}, stake()...), exitUsage, "--network", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(w.dir, "out-"+strings.ReplaceAll(c.name, " ", "_"))
			args := c.args
			if cmdTakesOut(args) {
				args = append(append([]string(nil), args...), "--out", out)
			}
			code, stdout, stderr := runCLI(t, args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, c.code, stderr)
			}
			first, _, _ := strings.Cut(stderr, "\n")
			if !strings.HasPrefix(first, "btcstake: error: ") || !strings.Contains(first, c.flag) || !strings.Contains(first, c.want) {
				t.Fatalf("stderr %q: want one line naming %s with %q", stderr, c.flag, c.want)
			}
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "internal error") {
				t.Fatalf("stderr %q", stderr)
			}
			if stdout != "" {
				t.Errorf("stdout on error: %q", stdout)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("--out written on error")
			}
			// No secret key material in the error.
			for _, k := range append(w.cov, w.staker, w.fp) {
				if strings.Contains(stderr, hex32(k)) {
					t.Fatal("secret key in the error")
				}
			}
		})
	}
}

func cmdTakesOut(args []string) bool {
	for _, a := range args {
		switch a {
		case "stake", "unbond", "slash", "withdraw", "sign", "sign-slashing", "complete-slashing", "finalize":
			return true
		case "inspect":
			return false
		}
	}
	return false
}

func writeKeyText(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTxOutDirectoryMissing: an --out in a missing directory is refused up
// front.
func TestTxOutDirectoryMissing(t *testing.T) {
	w := newTxWorld(t)
	stTx := w.stake(t)
	args := append(append([]string{"unbond"}, w.delegationArgs()...), "--staking-tx", txHex(stTx), "--out", filepath.Join(w.dir, "no", "such", "f"))
	if code, _, e := runCLI(t, args...); code != exitUsage || !strings.Contains(e, "--out") {
		t.Fatalf("exit %d %q", code, e)
	}
}

// TestFailedSignLeavesOutUntouched: a failing command does not touch an
// existing --out file it was allowed to replace (--force).
func TestFailedSignLeavesOutUntouched(t *testing.T) {
	w := newTxWorld(t)
	stTx := w.stake(t)
	f := filepath.Join(w.dir, "unbond.psbt")
	mustRun(t, append(append([]string{"unbond"}, w.delegationArgs()...), "--staking-tx", txHex(stTx), "--out", f)...)
	out := filepath.Join(w.dir, "signed.psbt")
	if err := os.WriteFile(out, []byte("an earlier signed PSBT\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(out)
	if code, _, _ := runCLI(t, "sign", "--psbt", f, "--key", w.fpFile, "--out", out, "--force"); code != exitError {
		t.Fatalf("exit %d", code)
	}
	after, _ := os.ReadFile(out)
	if string(before) != string(after) {
		t.Fatal("failed sign changed --out")
	}
	entries, _ := os.ReadDir(w.dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

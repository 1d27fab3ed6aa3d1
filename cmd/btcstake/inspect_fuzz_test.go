package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/psbt"
)

// fuzzSeeds are PSBTs and transactions of every kind, made through the
// commands.
func fuzzSeeds(f *testing.F) (psbts, txs [][]byte) {
	dir := f.TempDir()
	run := func(args ...string) string {
		var o, e bytes.Buffer
		if code := run(args, &o, &e); code != 0 {
			f.Fatalf("%v: %s", args, e.String())
		}
		return o.String()
	}
	w := &txWorld{dir: dir, stakingTime: "144", staker: keyFromSeed("fz staker"), fp: keyFromSeed("fz fp"), funder: keyFromSeed("fz funder")}
	write := func(name, hexKey string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(hexKey), 0o600)
		return p
	}
	w.stakerFile = write("s", hex32(w.staker))
	w.funderFile = write("f", hex32(w.funder))
	cov := write("c", hex32(keyFromSeed("btcstake example covenant 1")))
	_, u := fundingCoin("fz", p2wpkhScript(w.funder), 300_000)
	addr := "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080"
	sp := filepath.Join(dir, "stake")
	run(append(append([]string{"stake"}, w.delegationArgs()...), "--amount", "100000", "--fee-rate", "1", "--utxo", u, "--change-address", addr, "--phase1", "--out", sp)...)
	run("sign", "--psbt", sp, "--key", w.funderFile, "--out", sp+"-signed")
	sp += "-signed"
	stHex := run("finalize", "--psbt", sp, "--json")
	var fj struct{ Tx string }
	if err := jsonUnmarshal(stHex, &fj); err != nil {
		f.Fatal(err)
	}
	sl := filepath.Join(dir, "slash")
	run(append(append([]string{"slash", "--from", "staking"}, w.delegationArgs()...), "--funding-tx", fj.Tx, "--out", sl)...)
	run("sign", "--psbt", sl, "--key", w.stakerFile, "--out", sl+"-staker")
	run(w.asCovenant("adaptor", "sign-slashing", "--psbt", sl+"-staker", "--key", cov, "--out", sl+"-covenant")...)
	sl += "-covenant"
	for _, p := range []string{sp, sl} {
		b, _ := os.ReadFile(p)
		raw, _ := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(b)))
		psbts = append(psbts, raw)
	}
	raw, _ := hexDecode(fj.Tx)
	txs = append(txs, raw)
	return psbts, txs
}

// FuzzInspect: inspect's mapping of an analysis to JSON and text never
// panics on any PSBT or transaction that decodes (psbt.FuzzAnalyze covers
// the analysis itself).
func FuzzInspect(f *testing.F) {
	psbts, txs := fuzzSeeds(f)
	for _, p := range psbts {
		f.Add(p, false)
	}
	for _, tx := range txs {
		f.Add(tx, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, isTx bool) {
		if isTx {
			tx := wire.NewMsgTx(2)
			if tx.Deserialize(bytes.NewReader(b)) != nil {
				return
			}
			an, err := psbt.AnalyzeTx(tx, psbt.AnalyzeOptions{Net: &chaincfg.RegressionNetParams})
			if err == nil {
				inspectOf(an)
				(&app{stdout: io.Discard, stderr: io.Discard}).printInspect(an)
			}
			return
		}
		p, err := psbt.Decode(b)
		if err != nil {
			return
		}
		if an, err := psbt.Analyze(p, psbt.AnalyzeOptions{Net: &chaincfg.RegressionNetParams}); err == nil {
			inspectOf(an)
			psbtStatus(an)
			(&app{stdout: io.Discard, stderr: io.Discard}).printInspect(an)
		}
	})
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }

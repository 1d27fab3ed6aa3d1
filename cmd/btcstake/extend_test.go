package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/psbt"
)

// extendArgs are the flags of an extension of w's delegation (staked in
// stTx) funded by coin, adding added satoshis.
func (w *txWorld) extendArgs(stTx *wire.MsgTx, coin, added string) []string {
	return append(append([]string{"extend"}, w.delegationArgs()...),
		"--prev-params", regtestParams, "--prev-staking-time", w.stakingTime, "--prev-staking-tx", txHex(stTx),
		"--add-value", added, "--fee-rate", "2", "--utxo", coin, "--change-address", w.changeAddr)
}

// TestExtendLifecycle: extend builds the two-input extension, the staker
// signs both inputs with plain "sign --key", and the checks of the
// extension itself (ValidateExtensionTx, and every signature verified with
// btcd's txscript engine against both prevouts) pass on the result.
func TestExtendLifecycle(t *testing.T) {
	w := newTxWorld(t)
	stTx := w.stake(t)
	fundTx, coin := fundingCoin("extension coin", p2wpkhScript(w.funder), 90_000)
	file := filepath.Join(w.dir, "extend.psbt")
	j := mustJSON[psbtJSON](t, mustRun(t, append(w.extendArgs(stTx, coin, "50000"), "--json", "--out", file)...))
	unsigned := decodeTx(t, j.UnsignedTx)
	if len(unsigned.TxIn) != 2 || unsigned.TxIn[1].PreviousOutPoint.Hash != fundTx.TxHash() ||
		unsigned.TxIn[0].PreviousOutPoint.Hash != stTx.TxHash() || j.Fee <= 0 || j.Description == nil || j.Description.Kind != "extension" {
		t.Fatalf("extension: %d inputs, %+v", len(unsigned.TxIn), j)
	}
	next := w.delegation(t)
	nst, _ := next.StakingOutput()
	if unsigned.TxOut[0].Value != 100_000+50_000 || !bytes.Equal(unsigned.TxOut[0].PkScript, nst.PkScript) {
		t.Fatalf("new staking output %d sat %x", unsigned.TxOut[0].Value, unsigned.TxOut[0].PkScript)
	}
	// The fee is what the inputs give and the outputs do not take.
	var outs int64
	for _, o := range unsigned.TxOut {
		outs += o.Value
	}
	if prevVal := stakingValue(t, stTx, nst.PkScript); prevVal+90_000-outs != j.Fee {
		t.Fatalf("fee %d, inputs %d+90000, outputs %d", j.Fee, prevVal, outs)
	}
	if _, err := psbt.ValidateExtensionTx(unsigned, w.delegation(t), stTx, next, fundTx); err != nil {
		t.Fatal(err)
	}
	// The staker's key signs input 0 (tapscript) and the funder's key input 1.
	sj := mustJSON[psbtJSON](t, mustRunInPlace(t, "sign", "--json", "--psbt", file, "--key", w.stakerFile, "--out", file))
	if len(sj.Signed) != 1 || sj.Signed[0].Input != 0 {
		t.Fatalf("staker signed %+v", sj.Signed)
	}
	sj = mustJSON[psbtJSON](t, mustRunInPlace(t, "sign", "--json", "--psbt", file, "--key", w.funderFile, "--out", file))
	if len(sj.Signed) != 1 || sj.Signed[0].Input != 1 {
		t.Fatalf("funder signed %+v", sj.Signed)
	}
	// Without the previous committee's quorum it cannot be finalised.
	if code, _, stderr := runCLI(t, "finalize", "--psbt", file); code != exitError {
		t.Fatalf("finalize without covenant signatures: exit %d %s", code, stderr)
	}
	// A covenant member who does not name the previous delegation is
	// refused, and the file is untouched.
	before, _ := os.ReadFile(file)
	code, stdout, stderr := runCLI(t, w.asCovenant("sign", "--psbt", file, "--key", w.covFiles[0], "--out", file+".cov")...)
	if after, _ := os.ReadFile(file); code != exitUsage || !strings.Contains(stderr, "--prev-params") || stdout != "" || !bytes.Equal(before, after) {
		t.Fatalf("covenant sign without --prev-params: exit %d %q", code, stderr)
	}
	// Naming another previous staking time (a delegation that is not the
	// one spent) is refused too.
	code, _, stderr = runCLI(t, append(w.asCovenant("sign", "--psbt", file, "--key", w.covFiles[0], "--out", file+".cov"),
		"--prev-params", regtestParams, "--prev-staking-time", "150")...)
	if after, _ := os.ReadFile(file); code != exitError || !bytes.Equal(before, after) {
		t.Fatalf("covenant sign against another previous delegation: exit %d %q", code, stderr)
	}
	// The covenant members sign through CovenantSigner.SignExtension: they
	// give both delegations.
	for _, k := range w.covFiles[:2] {
		mustRunInPlace(t, append(w.asCovenant("sign", "--psbt", file, "--key", k, "--out", file),
			"--prev-params", regtestParams, "--prev-staking-time", w.stakingTime)...)
	}
	// inspect names it, as a PSBT and as the finished transaction.
	if ij := mustJSON[inspectJSON](t, mustRun(t, "inspect", "--json", "--psbt", file)); ij.Kind != "extension" {
		t.Fatalf("inspect --psbt: kind %q", ij.Kind)
	}
	// With the (new) delegation, inspect marks the new staking output.
	if ij := mustJSON[inspectJSON](t, mustRun(t, append([]string{"inspect", "--json", "--psbt", file}, w.delegationArgs()...)...)); ij.Kind != "extension" {
		t.Fatalf("inspect --psbt with the delegation: kind %q", ij.Kind)
	}
	tx, _ := finalizeFiles(t, file)
	for _, extra := range [][]string{nil, w.delegationArgs()} {
		ij := mustJSON[inspectJSON](t, mustRun(t, append([]string{"inspect", "--json", "--tx", txHex(tx)}, extra...)...))
		if ij.Kind != "extension" || ij.Outputs[0].Role != "staking" || (len(ij.Outputs) > 1 && ij.Outputs[1].Role == "staking") {
			t.Fatalf("inspect --tx %v: kind %q, outputs %+v", extra, ij.Kind, ij.Outputs)
		}
	}
	// Oracle: btcd's script engine with both prevouts.
	fetcher := txscript.NewMultiPrevOutFetcher(map[wire.OutPoint]*wire.TxOut{
		tx.TxIn[0].PreviousOutPoint: stTx.TxOut[tx.TxIn[0].PreviousOutPoint.Index],
		tx.TxIn[1].PreviousOutPoint: fundTx.TxOut[1],
	})
	for i := range tx.TxIn {
		prev := fetcher.FetchPrevOutput(tx.TxIn[i].PreviousOutPoint)
		vm, err := txscript.NewEngine(prev.PkScript, tx, i, txscript.StandardVerifyFlags, nil,
			txscript.NewTxSigHashes(tx, fetcher), prev.Value, fetcher)
		if err != nil {
			t.Fatal(err)
		}
		if err := vm.Execute(); err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
	}
}

func stakingValue(t *testing.T, tx *wire.MsgTx, pk []byte) int64 {
	t.Helper()
	for _, o := range tx.TxOut {
		if bytes.Equal(o.PkScript, pk) {
			return o.Value
		}
	}
	t.Fatal("no staking output")
	return 0
}

// TestExtendRefusals: a refused extension exits with the right code,
// names the flag, and writes nothing.
func TestExtendRefusals(t *testing.T) {
	w := newTxWorld(t)
	stTx := w.stake(t)
	_, coin := fundingCoin("extension coin", p2wpkhScript(w.funder), 90_000)
	_, small := fundingCoin("small coin", p2wpkhScript(w.funder), 1_000)
	out := filepath.Join(w.dir, "extend.psbt")
	with := func(args []string, extra ...string) []string { return append(append(args, extra...), "--out", out) }
	base := w.extendArgs(stTx, coin, "0")
	sa, err := address.NewAddressWitnessPubKeyHash(address.Hash160(w.funder.PubKey().SerializeCompressed()), &chaincfg.SigNetParams)
	if err != nil {
		t.Fatal(err)
	}
	signetAddr := sa.EncodeAddress()
	// With --yes the lock of the new stake is stated (as for stake) and
	// the extension is built.
	j := mustJSON[psbtJSON](t, mustRun(t, append([]string{"--network", "signet", "--json"},
		append(replaceFlag(base, "--change-address", signetAddr), "--yes", "--btc-height", "1000")...)...))
	if j.Lock == nil || j.Lock.ValueSat != 100_000 || j.Lock.ConfirmedBy != "--yes" || j.Description == nil {
		t.Fatalf("signet extension: lock %+v", j.Lock)
	}
	// Current params whose committee keeps only one of the previous three
	// keys (the previous quorum is 2).
	raw, err := os.ReadFile(regtestParams)
	if err != nil {
		t.Fatal(err)
	}
	newCommittee := string(raw)
	for i, k := range w.cov[1:] {
		repl := xonlyHex(keyFromSeed(fmt.Sprintf("another committee %d", i)))
		newCommittee = strings.Replace(newCommittee, hex.EncodeToString(k.PubKey().SerializeCompressed()), "02"+repl, 1)
		newCommittee = strings.Replace(newCommittee, xonlyHex(k), repl, 1)
	}
	if newCommittee == string(raw) {
		t.Fatal("the committee was not replaced")
	}
	otherParams := filepath.Join(w.dir, "other-committee.json")
	if err := os.WriteFile(otherParams, []byte(newCommittee), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"committees overlap below the previous quorum", with(replaceFlag(base, "--params", otherParams)), exitError, "--prev-params/--params"},
		{"negative added value", with(w.extendArgs(stTx, coin, "-1")), exitUsage, "--add-value"},
		{"coin too small", with(w.extendArgs(stTx, small, "50000")), exitError, "--add-value/--utxo"},
		{"no previous staking output", with(replaceFlag(base, "--prev-staking-time", "150")), exitError, "--prev-staking-tx"},
		{"missing previous params", with(dropFlag(base, "--prev-params")), exitUsage, "prev-params"},
		{"previous params unknown", with(replaceFlag(base, "--prev-params", "nosuchpreset")), exitUsage, "--prev-params"},
		{"bad utxo", with(replaceFlag(base, "--utxo", "x")), exitUsage, "--utxo"},
		{"signet with --json and no --yes", with(append([]string{"--network", "signet", "--json"}, replaceFlag(base, "--change-address", signetAddr)...)), exitUsage, "--yes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) || stdout != "" {
				t.Fatalf("exit %d, stderr %q, stdout %q; want exit %d mentioning %q", code, stderr, stdout, c.code, c.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatal("a refused extension still wrote --out")
			}
		})
	}
}

// dropFlag removes a flag and its value.
func dropFlag(args []string, flag string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == flag {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// TestRegisterExpand: register expand turns an extension built by extend
// into MsgBtcStakeExpand whose fields name the previous staking tx and
// carry the funding tx, with babylond's 16 arguments; a funding tx that
// input 1 does not spend is refused and nothing is written.
func TestRegisterExpand(t *testing.T) {
	w := newTxWorld(t)
	stTx := w.stake(t)
	fundTx, coin := fundingCoin("extension coin", p2wpkhScript(w.funder), 90_000)
	j := mustJSON[psbtJSON](t, mustRun(t, append(w.extendArgs(stTx, coin, "50000"), "--json")...))
	out := filepath.Join(w.dir, "expand.hex")
	args := append(append([]string{"register", "expand", "--json"}, w.delegationArgs()...), "--btc-height", "100",
		"--extension-tx", j.UnsignedTx, "--prev-staking-tx", txHex(stTx), "--babylon-address", testBabylonAddr, "--key", w.stakerFile, "--out", out)
	mj := mustJSON[msgJSON](t, mustRun(t, append(args, "--funding-tx", txHex(fundTx))...))
	if len(mj.BabylondArgs) != 16 || mj.BabylondArgs[14] != stTx.TxHash().String() || mj.BabylondArgs[15] != txHex(fundTx) ||
		mj.StakingTxid != j.Txid {
		t.Fatalf("babylond args %q, staking txid %s (extension %s)", mj.BabylondArgs, mj.StakingTxid, j.Txid)
	}
	raw, err := hex.DecodeString(mj.MsgHex)
	if err != nil {
		t.Fatal(err)
	}
	m, err := babylon.UnmarshalMsgBtcStakeExpand(raw)
	if err != nil {
		t.Fatal(err)
	}
	if m.PreviousStakingTxHash != stTx.TxHash().String() || !bytes.Equal(m.FundingTx, decodeHex(t, txHex(fundTx))) {
		t.Fatalf("message: previous %s", m.PreviousStakingTxHash)
	}
	if b, _ := os.ReadFile(out); strings.TrimSpace(string(b)) != mj.MsgHex {
		t.Fatal("--out differs from the message")
	}
	os.Remove(out)
	code, stdout, stderr := runCLI(t, append(args, "--funding-tx", txHex(stTx))...)
	if code != exitError || !strings.Contains(stderr, "--extension-tx") || stdout != "" {
		t.Fatalf("wrong funding tx: exit %d %q", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("a refused expansion still wrote --out")
	}
}

func decodeHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

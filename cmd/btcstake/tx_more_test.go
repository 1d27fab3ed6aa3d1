package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/txscript/v2"

	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// TestStakeEveryCoinKind: P2TR and P2SH-P2WPKH coins (with P2WPKH and
// P2PKH in the lifecycle test) are signed by "sign" and the finalised
// transaction has exactly the size and fee the builder charged.
func TestStakeEveryCoinKind(t *testing.T) {
	w := newTxWorld(t)
	k1, k2 := keyFromSeed("p2tr coin owner"), keyFromSeed("p2sh coin owner")
	q := txscript.ComputeTaprootKeyNoScript(k1.PubKey())
	p2tr := append([]byte{0x51, 0x20}, schnorr.SerializePubKey(q)...)
	p2sh := append(append([]byte{0xa9, 0x14}, address.Hash160(p2wpkhScript(k2))...), 0x87)
	_, u1 := fundingCoin("tr", p2tr, 60_000)
	_, u2 := fundingCoin("sh", p2sh, 60_000)
	f := filepath.Join(w.dir, "s.psbt")
	args := append([]string{"stake", "--json"}, w.delegationArgs()...)
	j := mustJSON[psbtJSON](t, mustRun(t, append(args, "--amount", "100000", "--fee-rate", "7.3", "--utxo", u1, "--utxo", u2,
		"--change-address", w.changeAddr, "--out", f)...))
	if j.TxidFinal {
		t.Error("txid_is_final with a P2SH coin")
	}
	// Each owner signs in turn; the status tracks what is missing.
	k1File := writeKey(t, w.dir, "k1", k1)
	s1 := mustJSON[psbtJSON](t, mustRunInPlace(t, "sign", "--json", "--psbt", f, "--key", k1File, "--out", f))
	if len(s1.Signed) != 1 || s1.Status.Ready || len(s1.Status.Missing) != 1 {
		t.Fatalf("first owner: %+v", s1)
	}
	mustRunInPlace(t, "sign", "--psbt", f, "--key", writeKey(t, w.dir, "k2", k2), "--out", f)
	// Signing again replaces the signature (the PSBT stays parseable).
	mustRunInPlace(t, "sign", "--psbt", f, "--key", k1File, "--out", f)
	tx, fj := finalizeFiles(t, f)
	if fj.VSize != j.VSize || fj.Fee != j.Fee || fj.Fee != (j.VSize*7300+999)/1000 {
		t.Errorf("vsize %d fee %d; charged for %d vB, fee %d", fj.VSize, fj.Fee, j.VSize, j.Fee)
	}
	if _, err := psbt.ValidateStakingTx(tx, w.delegation(t)); err != nil {
		t.Fatal(err)
	}
	ji := inspectJSONOf(t, "--tx", txHex(tx))
	kinds := []string{ji.Inputs[0].Type, ji.Inputs[1].Type}
	if !(strings.Contains(strings.Join(kinds, ","), "p2tr") && strings.Contains(strings.Join(kinds, ","), "p2sh-p2wpkh")) {
		t.Errorf("inspect input kinds %v", kinds)
	}
}

// TestSlashingSeveralFinalityProviders: with two finality providers each
// covenant member encrypts to both, and either provider's key completes
// the slashing transaction.
func TestSlashingSeveralFinalityProviders(t *testing.T) {
	w := newTxWorld(t)
	fp2 := keyFromSeed("second finality provider")
	// Make sure both parities of y are exercised across the two keys.
	for i := 0; fp2.PubKey().SerializeCompressed()[0] == w.fp.PubKey().SerializeCompressed()[0]; i++ {
		fp2 = keyFromSeed(fmt.Sprintf("second finality provider %d", i))
	}
	fp2File := writeKey(t, w.dir, "fp2.key", fp2)
	// A two-provider delegation, staked without phase-1 data.
	_, u := fundingCoin("two fps", p2wpkhScript(w.funder), 300_000)
	deleg := append(w.delegationArgs(), "--fp-pk", xonlyHex(fp2))
	f := filepath.Join(w.dir, "stake2.psbt")
	mustRun(t, append(append([]string{"stake"}, deleg...), "--amount", "200000", "--fee-rate", "1", "--utxo", u,
		"--change-address", w.changeAddr, "--out", f)...)
	mustRunInPlace(t, "sign", "--psbt", f, "--key", w.funderFile, "--out", f)
	st2, _ := finalizeFiles(t, f)
	// Without phase-1 data only the delegation identifies the staking tx.
	if j := inspectJSONOf(t, "--tx", txHex(st2), "--params", regtestParams); j.Kind != "unknown" {
		t.Errorf("non-phase-1 staking tx recognised without the delegation: %s", j.Kind)
	}
	if j := inspectJSONOf(t, append([]string{"--tx", txHex(st2)}, deleg...)...); j.Kind != "staking" ||
		j.Outputs[0].Role != "staking" || j.Outputs[0].Timelock != 144 || !strings.HasPrefix(j.Summary, st2.TxHash().String()+" is a staking transaction") {
		t.Errorf("non-phase-1 staking tx with the delegation: %+v", j)
	}
	d := w.delegation(t)
	d.FinalityProviders = []*btcec.PublicKey{w.fp.PubKey(), fp2.PubKey()}
	for n, fpFile := range []string{w.fpFile, fp2File} {
		sl := filepath.Join(w.dir, fmt.Sprintf("slash%d.psbt", n))
		mustRun(t, append(append([]string{"slash", "--from", "staking"}, deleg...), "--funding-tx", txHex(st2), "--out", sl)...)
		mustRunInPlace(t, "sign", "--psbt", sl, "--key", w.stakerFile, "--out", sl)
		// All three covenant members adaptor-sign, on separate copies
		// combined by complete-slashing.
		var copies []string
		for i, k := range w.covFiles {
			c := filepath.Join(w.dir, fmt.Sprintf("slash%d-cov%d.psbt", n, i))
			aj := mustJSON[psbtJSON](t, mustRun(t, append([]string{"adaptor", "sign-slashing", "--json", "--psbt", sl, "--key", k, "--out", c}, deleg...)...))
			if aj.Signed[0].Count != 2 {
				t.Fatalf("adaptor signatures per member: %d, want 2", aj.Signed[0].Count)
			}
			copies = append(copies, "--psbt", c)
		}
		cj := mustJSON[finalJSON](t, mustRun(t, append(append([]string{"adaptor", "complete-slashing", "--json"}, copies...), "--fp-sk-file", fpFile)...))
		tx := decodeTx(t, cj.Tx)
		if err := psbt.ValidateSlashingTx(tx, st2, 0, script.StakingOutputKind, d); err != nil {
			t.Fatal(err)
		}
		ji := inspectJSONOf(t, "--tx", cj.Tx)
		if countSigned(ji.Inputs[0].FPs) != 1 || !ji.Inputs[0].FPs[0].Signed && !ji.Inputs[0].FPs[1].Signed {
			t.Errorf("inspect of the completed tx: %+v", ji.Inputs[0].FPs)
		}
	}
}

package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/regtest"
)

// TestNodeExtend: on a real btcd, a stake is extended with added value
// through the commands only (extend, sign by the staker, the funder and
// two previous covenant members, finalize, broadcast); the node accepts
// it, and status of the old stake ends in "extended" with its txid.
func TestNodeExtend(t *testing.T) {
	w := newNodeWorld(t, regtest.Options{})
	stTx, _ := w.stake(5)
	w.mine(1)
	dir := t.TempDir()
	funder := nodeRandKey(w.r)
	op, fundTx, err := w.node.Fund(wpkh(funder), 150_000)
	if err != nil {
		t.Fatal(err)
	}
	w.mine(1)
	coin := fmt.Sprintf("%s:%d:%d:%x", op.Hash, op.Index, 150_000, wpkh(funder))
	deleg := []string{"--params", w.paramsFile, "--staker-pk", xonlyHex(w.staker), "--fp-pk", xonlyHex(w.fp), "--staking-time", "10"}
	file := filepath.Join(dir, "extend.psbt")
	args := append(append([]string{"extend", "--network", "regtest"}, deleg...),
		"--prev-params", w.paramsFile, "--prev-staking-time", "5", "--prev-staking-tx", txHex(stTx),
		"--add-value", "100000", "--fee-rate", "2", "--utxo", coin, "--change-address", p2wpkhAddr(t, funder), "--out", file)
	mustRun(t, args...)
	mustRunInPlace(t, "sign", "--psbt", file, "--key", writeKey(t, dir, "staker.key", w.staker), "--out", file)
	mustRunInPlace(t, "sign", "--psbt", file, "--key", writeKey(t, dir, "funder.key", funder), "--out", file)
	for i, k := range w.cov[:2] {
		mustRunInPlace(t, append(append([]string{"sign", "--psbt", file, "--key", writeKey(t, dir, "cov"+strconv.Itoa(i)+".key", k), "--out", file}, deleg...),
			"--prev-params", w.paramsFile, "--prev-staking-time", "5")...)
	}
	tx, _ := finalizeFiles(t, file)
	if code, out, errOut := w.cli("broadcast", "--tx", txHex(tx)); code != 0 || !strings.Contains(out, tx.TxHash().String()) {
		t.Fatalf("broadcast extension: exit %d %q %q", code, out, errOut)
	}
	w.mine(1)
	s := w.status(stTx.TxHash().String())
	last := s.Events[len(s.Events)-1]
	if s.State != "extended" || last.Event != "extended" || last.Txid != tx.TxHash().String() || last.Confirmations != 1 {
		t.Fatalf("status after the extension: %+v", s)
	}
	if tx.TxOut[0].Value != 300_000 {
		t.Fatalf("new staking output %d sat", tx.TxOut[0].Value)
	}
	// The new stake is followed from the extension transaction.
	var ns stakeStatus
	if err := json.Unmarshal([]byte(mustNode(t, w, append([]string{"status", "--json", "--txid", tx.TxHash().String()}, deleg...)...)), &ns); err != nil {
		t.Fatal(err)
	}
	if ns.State != "staked" || ns.Value != 300_000 || ns.StakingTime != 10 || ns.OutputIndex != 0 {
		t.Fatalf("the new stake: %+v", ns)
	}

	// Activation: MsgBTCUndelegate of the old delegation with the
	// extension, its proof, and funding_transactions = [old staking tx,
	// funding tx]; refused while the block is shallower than the depth.
	old := []string{"--params", w.paramsFile, "--staker-pk", xonlyHex(w.staker), "--fp-pk", xonlyHex(w.fp), "--staking-time", "5"}
	act := append(append([]string{"undelegate", "--extension", "--json"}, old...), "--staking-tx", txHex(stTx), "--txid", tx.TxHash().String(),
		"--prev-tx", txHex(fundTx), "--babylon-address", testBabylonAddr, "--confirmation-depth", "2")
	if code, _, errOut := w.cli(act...); code != exitError {
		t.Fatalf("activation one block deep with depth 2: exit %d %q", code, errOut)
	}
	if code, _, errOut := w.cli(append(dropFlag(act, "--extension"), "--prev-tx", txHex(fundTx))...); code != exitUsage || !strings.Contains(errOut, "--confirmation-depth") {
		t.Fatalf("--confirmation-depth without --extension: exit %d %q", code, errOut)
	}
	w.mine(2)
	mj := mustJSON[msgJSON](t, mustNode(t, w, act...))
	raw, err := hex.DecodeString(mj.MsgHex)
	if err != nil {
		t.Fatal(err)
	}
	m, err := babylon.UnmarshalMsgBTCUndelegate(raw)
	if err != nil {
		t.Fatal(err)
	}
	var spending wire.MsgTx
	if err := spending.Deserialize(bytes.NewReader(m.StakeSpendingTx)); err != nil {
		t.Fatal(err)
	}
	if m.StakingTxHash != stTx.TxHash().String() || spending.TxHash() != tx.TxHash() || len(m.FundingTransactions) != 2 ||
		!bytes.Equal(m.FundingTransactions[0], decodeHex(t, txHex(stTx))) || !bytes.Equal(m.FundingTransactions[1], decodeHex(t, txHex(fundTx))) ||
		m.StakeSpendingTxInclusionProof == nil {
		t.Fatalf("activation message: %+v", m)
	}
}

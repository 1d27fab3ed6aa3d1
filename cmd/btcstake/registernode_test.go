package main

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/regtest"
)

// merkleRootFromProof folds a Merkle branch as Bitcoin does, written here
// from its definition: at each level the running hash is hashed with the
// sibling (32 bytes, internal order), on the right when the index bit is
// 0 and on the left when it is 1.
func merkleRootFromProof(t *testing.T, txid chainhash.Hash, index uint32, siblings []byte) chainhash.Hash {
	t.Helper()
	if len(siblings)%32 != 0 {
		t.Fatalf("proof of %d bytes", len(siblings))
	}
	h := txid
	for i := 0; i < len(siblings); i += 32 {
		var b []byte
		if index&1 == 0 {
			b = append(append(b, h[:]...), siblings[i:i+32]...)
		} else {
			b = append(append(b, siblings[i:i+32]...), h[:]...)
		}
		h = chainhash.DoubleHashH(b)
		index >>= 1
	}
	return h
}

// TestRegisterOnNode: on a real btcd, register a stake before it is
// sent (the tip from the node), prove it once confirmed (refused below
// the depth, then built), register after staking from the node and from
// prove's file (the same bytes), and after unbonding build
// MsgBTCUndelegate; each message is decoded and compared with the chain.
// With and without a transaction index (the node's blocks are read then).
func TestRegisterOnNode(t *testing.T) {
	for _, noIndex := range []bool{false, true} {
		t.Run(map[bool]string{false: "txindex", true: "no txindex"}[noIndex], func(t *testing.T) {
			registerOnNode(t, noIndex)
		})
	}
}

func registerOnNode(t *testing.T, noIndex bool) {
	w := newNodeWorld(t, regtest.Options{NoTxIndex: noIndex})
	dir := t.TempDir()
	stakerKey := writeKey(t, dir, "staker.key", w.staker)
	st, d := w.stake(100)
	stFile := filepath.Join(dir, "staking.hex")
	_ = os.WriteFile(stFile, []byte(txHex(st)), 0o644)
	deleg := []string{"--params", w.paramsFile, "--staker-pk", xonlyHex(w.staker), "--fp-pk", xonlyHex(w.fp), "--staking-time", "100"}
	reg := func(extra ...string) []string {
		return append(append(append([]string{"register"}, deleg...), "--staking-tx", stFile, "--babylon-address", testBabylonAddr,
			"--key", stakerKey, "--json"), extra...)
	}

	// Before staking (the tx is in the mempool, unconfirmed).
	pre := mustJSON[msgJSON](t, mustNode(t, w, reg("--tip-from-node")...))
	preRaw, _ := hex.DecodeString(pre.MsgHex)
	preMsg, err := babylon.UnmarshalMsgCreateBTCDelegation(preRaw)
	if err != nil || preMsg.StakingTxInclusionProof != nil || !bytes.Equal(preMsg.StakingTx, serialize(t, st)) {
		t.Fatalf("pre-staking message: %v %+v", err, preMsg)
	}
	// Not confirmed yet: nothing to prove.
	if code, _, errOut := w.cli("prove", "--txid", st.TxHash().String()); code != exitError || !strings.Contains(errOut, "mempool") {
		t.Fatalf("prove of a mempool tx: exit %d %s", code, errOut)
	}
	hashes, err := w.node.Mine(1)
	if err != nil {
		t.Fatal(err)
	}
	// Depth 0 is below 30: refused, unless --allow-shallow.
	if code, out, errOut := w.cli("prove", "--txid", st.TxHash().String()); code != exitError || out != "" || !strings.Contains(errOut, "--allow-shallow") {
		t.Fatalf("shallow prove: exit %d %q %s", code, out, errOut)
	}
	w.mine(2)
	proofFile := filepath.Join(dir, "proof.json")
	pj := mustJSON[provenJSON](t, mustNode(t, w, "prove", "--txid", st.TxHash().String(), "--confirmation-depth", "2",
		"--babylon-address", testBabylonAddr, "--out", proofFile, "--json"))
	block, err := w.node.GetBlock(hashes[0])
	if err != nil {
		t.Fatal(err)
	}
	var hdr bytes.Buffer
	_ = block.Header.Serialize(&hdr)
	if pj.BlockHash != hashes[0].String() || pj.Header != hex.EncodeToString(hdr.Bytes()) || pj.Depth != 2 || pj.Txid != st.TxHash().String() {
		t.Fatalf("prove json %+v", pj)
	}
	// The proof, decoded, folds to the node's block's Merkle root.
	addMsgRaw, _ := hex.DecodeString(pj.MsgHex)
	add, err := babylon.UnmarshalMsgAddBTCDelegationInclusionProof(addMsgRaw)
	if err != nil || add.Signer != testBabylonAddr || add.StakingTxHash != st.TxHash().String() {
		t.Fatalf("MsgAddBTCDelegationInclusionProof %+v %v", add, err)
	}
	p := add.StakingTxInclusionProof
	if p.Key.Block != hashes[0] || block.Transactions[p.Key.Index].TxHash() != st.TxHash() ||
		merkleRootFromProof(t, st.TxHash(), p.Key.Index, p.Proof) != block.Header.MerkleRoot {
		t.Fatalf("proof %+v does not lead to block %s's Merkle root", p, hashes[0])
	}
	if len(pj.BabylondArgs) != 2 || pj.BabylondArgs[1] != hex.EncodeToString(p.Marshal()) {
		t.Fatalf("babylond args %q", pj.BabylondArgs)
	}
	text := mustNode(t, w, "prove", "--txid", st.TxHash().String(), "--confirmation-depth", "2", "--babylon-address", testBabylonAddr)
	if !strings.Contains(text, "babylond tx btcstaking add-btc-inclusion-proof "+strings.Join(pj.BabylondArgs, " ")+" --from "+testBabylonAddr) {
		t.Fatalf("prove text:\n%s", text)
	}

	// After staking: from the node, and from the file; the same message,
	// with the proof prove made.
	post := mustJSON[msgJSON](t, mustNode(t, w, reg("--confirmed", "--confirmation-depth", "2")...))
	fromFile := mustJSON[msgJSON](t, mustRun(t, reg("--inclusion-proof", proofFile, "--confirmation-depth", "2")...))
	if post.MsgHex != fromFile.MsgHex {
		t.Fatal("register --confirmed and --inclusion-proof differ")
	}
	postRaw, _ := hex.DecodeString(post.MsgHex)
	postMsg, err := babylon.UnmarshalMsgCreateBTCDelegation(postRaw)
	if err != nil || postMsg.StakingTxInclusionProof == nil || !bytes.Equal(postMsg.StakingTxInclusionProof.Marshal(), p.Marshal()) {
		t.Fatalf("post-staking message: %v %+v", err, postMsg)
	}
	// Everything else is the pre-staking message's.
	postMsg.StakingTxInclusionProof = nil
	if !bytes.Equal(postMsg.Marshal(), preRaw) {
		t.Fatal("the post-staking message differs from the pre-staking one beyond the proof")
	}
	// The file's depth rule applies too.
	if code, _, errOut := runCLI(t, reg("--inclusion-proof", proofFile)...); code != exitError || !strings.Contains(errOut, "--inclusion-proof") {
		t.Fatalf("file below depth 30: exit %d %s", code, errOut)
	}

	// Unbond (the staker and two covenant members sign the registered
	// unbonding transaction), then MsgBTCUndelegate.
	idx := uint32(0)
	for i, o := range st.TxOut {
		if o.Value == 200_000 {
			idx = uint32(i)
		}
	}
	ub, err := psbt.BuildUnbonding(d, psbt.Funding{Tx: st, Index: idx})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(serialize(t, ub.Packet.UnsignedTx), preMsg.UnbondingTx) {
		t.Fatal("the registered unbonding tx is not the one the staker builds")
	}
	if err := psbt.SignTapscript(ub.Packet, 0, w.staker); err != nil {
		t.Fatal(err)
	}
	for _, k := range []*btcec.PrivateKey{w.cov[0], w.cov[2]} {
		signer, _ := psbt.NewCovenantSigner(k)
		if _, err := signer.Sign(ub.Packet, 0, d); err != nil {
			t.Fatal(err)
		}
	}
	ubTx, err := psbt.Finalize(ub.Packet)
	if err != nil {
		t.Fatal(err)
	}
	mustNode(t, w, "broadcast", "--tx", txHex(ubTx))
	ubHashes, err := w.node.Mine(1)
	if err != nil {
		t.Fatal(err)
	}
	uj := mustJSON[msgJSON](t, mustNode(t, w, append(append([]string{"undelegate"}, deleg...), "--staking-tx", stFile,
		"--txid", ubTx.TxHash().String(), "--babylon-address", testBabylonAddr, "--json")...))
	uRaw, _ := hex.DecodeString(uj.MsgHex)
	u, err := babylon.UnmarshalMsgBTCUndelegate(uRaw)
	if err != nil {
		t.Fatal(err)
	}
	ubBlock, _ := w.node.GetBlock(ubHashes[0])
	up := u.StakeSpendingTxInclusionProof
	if u.Signer != testBabylonAddr || u.StakingTxHash != st.TxHash().String() || !bytes.Equal(u.StakeSpendingTx, serialize(t, ubTx)) ||
		len(u.FundingTransactions) != 1 || !bytes.Equal(u.FundingTransactions[0], serialize(t, st)) || up == nil ||
		up.Key.Block != ubHashes[0] || merkleRootFromProof(t, ubTx.TxHash(), up.Key.Index, up.Proof) != ubBlock.Header.MerkleRoot {
		t.Fatalf("MsgBTCUndelegate %+v", u)
	}
	if len(uj.BabylondArgs) != 4 || uj.BabylondArgs[0] != st.TxHash().String() {
		t.Fatalf("undelegate babylond args %q", uj.BabylondArgs)
	}
	utext := mustNode(t, w, append(append([]string{"undelegate"}, deleg...), "--staking-tx", stFile,
		"--txid", ubTx.TxHash().String(), "--babylon-address", testBabylonAddr)...)
	if !strings.Contains(utext, "babylond tx btcstaking btc-undelegate "+strings.Join(uj.BabylondArgs, " ")+" --from "+testBabylonAddr) {
		t.Fatalf("undelegate text:\n%s", utext)
	}
	// The staking transaction's own confirmation is not a spend of it.
	if code, _, errOut := w.cli(append(append([]string{"undelegate"}, deleg...), "--staking-tx", stFile,
		"--txid", st.TxHash().String(), "--babylon-address", testBabylonAddr)...); code != exitError {
		t.Fatalf("undelegate with the staking tx as the spend: exit %d %s", code, errOut)
	}
}

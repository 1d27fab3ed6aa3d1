package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/address/v2/bech32"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

func serialize(t *testing.T, tx *wire.MsgTx) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tx.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// registerArgs are the flags of a pre-staking registration of w's
// delegation with staking transaction file st.
func (w *txWorld) registerArgs(st string, extra ...string) []string {
	args := append([]string{"register"}, w.delegationArgs()...)
	args = append(args, "--btc-height", "100", "--staking-tx", st, "--babylon-address", testBabylonAddr)
	return append(args, extra...)
}

// TestRegisterPreStaking: register with --key, and through exported PSBTs
// signed by 'btcstake sign' as the external signer, give the same bytes;
// the message decodes to exactly the delegation's fields, the slashing
// signatures verify against transactions built apart, and the babylond
// line has the 14 arguments.
func TestRegisterPreStaking(t *testing.T) {
	w := newTxWorld(t)
	tx := w.stake(t)
	st := filepath.Join(w.dir, "staking.hex")
	if err := os.WriteFile(st, []byte(txHex(tx)), 0o644); err != nil {
		t.Fatal(err)
	}
	popHex := strings.TrimSpace(mustRun(t, "pop", "create", "--key", w.stakerFile, "--babylon-address", testBabylonAddr))
	out := filepath.Join(w.dir, "register.hex")
	j := mustJSON[msgJSON](t, mustRun(t, w.registerArgs(st, "--key", w.stakerFile, "--out", out, "--json")...))
	if b, _ := os.ReadFile(out); strings.TrimSpace(string(b)) != j.MsgHex || j.OutFile != out {
		t.Fatalf("--out holds %q, json msg_hex %s", b, j.MsgHex)
	}

	// Decode and compare field by field.
	raw, _ := hex.DecodeString(j.MsgHex)
	m, err := babylon.UnmarshalMsgCreateBTCDelegation(raw)
	if err != nil {
		t.Fatal(err)
	}
	d := w.delegation(t)
	stIdx := -1
	for i, o := range tx.TxOut {
		if o.Value == 100_000 {
			stIdx = i
		}
	}
	if stIdx < 0 {
		t.Fatal("no 100000 sat output in the staking tx")
	}
	want := map[string][2]string{
		"staker_addr":    {m.StakerAddr, testBabylonAddr},
		"pop":            {hex.EncodeToString(m.Pop), popHex},
		"btc_pk":         {hex.EncodeToString(m.BtcPk), xonlyHex(w.staker)},
		"fp_btc_pk":      {hex.EncodeToString(bytes.Join(m.FpBtcPkList, nil)), xonlyHex(w.fp)},
		"staking_time":   {strconv.Itoa(int(m.StakingTime)), "144"},
		"staking_value":  {strconv.FormatInt(m.StakingValue, 10), "100000"},
		"staking_tx":     {hex.EncodeToString(m.StakingTx), txHex(tx)},
		"unbonding_time": {strconv.Itoa(int(m.UnbondingTime)), strconv.Itoa(int(w.params.UnbondingTime()))},
		"unbonding_value": {strconv.FormatInt(m.UnbondingValue, 10),
			strconv.FormatInt(100_000-w.params.UnbondingFee(), 10)},
		"staking_txid": {j.StakingTxid, tx.TxHash().String()},
	}
	for k, v := range want {
		if v[0] != v[1] {
			t.Errorf("%s = %s, want %s", k, v[0], v[1])
		}
	}
	if m.StakingTxInclusionProof != nil || len(m.FpBtcPkList) != 1 {
		t.Errorf("pre-staking message has an inclusion proof (%v) or %d providers", m.StakingTxInclusionProof, len(m.FpBtcPkList))
	}
	// The three transactions as package psbt builds them, and the staker's
	// signatures checked against their sighashes.
	staking := psbt.Funding{Tx: tx, Index: uint32(stIdx)}
	ub, err := psbt.BuildUnbonding(d, staking)
	if err != nil {
		t.Fatal(err)
	}
	sl, err := psbt.BuildSlashing(d, script.StakingOutputKind, staking)
	if err != nil {
		t.Fatal(err)
	}
	usl, err := psbt.BuildSlashing(d, script.UnbondingOutputKind, psbt.Funding{Tx: ub.Packet.UnsignedTx, Index: 0})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.UnbondingTx, serialize(t, ub.Packet.UnsignedTx)) || !bytes.Equal(m.SlashingTx, serialize(t, sl.Packet.UnsignedTx)) ||
		!bytes.Equal(m.UnbondingSlashingTx, serialize(t, usl.Packet.UnsignedTx)) {
		t.Fatal("the unbonding or a slashing transaction differs from package psbt's")
	}
	staker := script.XOnly(w.staker.PubKey())
	if err := psbt.AddTapscriptSig(sl.Packet, 0, staker, m.DelegatorSlashingSig); err != nil {
		t.Errorf("delegator_slashing_sig: %v", err)
	}
	if err := psbt.AddTapscriptSig(usl.Packet, 0, staker, m.DelegatorUnbondingSlashingSig); err != nil {
		t.Errorf("delegator_unbonding_slashing_sig: %v", err)
	}
	if len(j.BabylondArgs) != 14 || j.BabylondArgs[0] != xonlyHex(w.staker) || j.BabylondArgs[1] != popHex || j.BabylondArgs[3] != "" {
		t.Fatalf("babylond args %q", j.BabylondArgs)
	}
	text := mustRun(t, w.registerArgs(st, "--key", w.stakerFile)...)
	if !strings.Contains(text, "babylond tx btcstaking create-btc-delegation "+strings.Join(j.BabylondArgs[:3], " ")+` "" `) ||
		!strings.Contains(text, j.MsgHex) || !strings.Contains(text, "--from "+testBabylonAddr) {
		t.Fatalf("text output:\n%s", text)
	}

	// The external signer's way: export, sign with 'btcstake sign', complete.
	dir := filepath.Join(w.dir, "sign")
	_ = os.Mkdir(dir, 0o755)
	ej := mustJSON[exportJSON](t, mustRun(t, w.registerArgs(st, "--pop", popHex, "--export-slashing-psbts", dir, "--json")...))
	if ej.SlashingTxid != sl.Packet.UnsignedTx.TxHash().String() || ej.UnbondingSlashingTxid != usl.Packet.UnsignedTx.TxHash().String() {
		t.Fatalf("export %+v", ej)
	}
	for _, f := range []string{ej.SlashingPSBTFile, ej.UnbondingSlashingPSBTFile} {
		mustRunInPlace(t, "sign", "--psbt", f, "--key", w.stakerFile, "--out", f, "--json")
	}
	j2 := mustJSON[msgJSON](t, mustRun(t, w.registerArgs(st, "--pop", popHex, "--signed-slashing-psbt", ej.SlashingPSBTFile,
		"--signed-unbonding-slashing-psbt", ej.UnbondingSlashingPSBTFile, "--json")...))
	if j2.MsgHex != j.MsgHex {
		t.Fatalf("with external PSBTs:\n%s\nwith --key:\n%s", j2.MsgHex, j.MsgHex)
	}
	// Exporting again without --force is refused and changes nothing.
	before, _ := os.ReadFile(ej.SlashingPSBTFile)
	code, _, errOut := runCLI(t, w.registerArgs(st, "--pop", popHex, "--export-slashing-psbts", dir)...)
	if after, _ := os.ReadFile(ej.SlashingPSBTFile); code != exitUsage || !bytes.Equal(before, after) {
		t.Fatalf("second export: exit %d %s", code, errOut)
	}
	// A directory that does not exist is named as such, and is not made;
	// a file in its place is not a directory.
	missing := filepath.Join(w.dir, "no-such-dir")
	code, out, errOut = runCLI(t, w.registerArgs(st, "--pop", popHex, "--export-slashing-psbts", missing)...)
	if _, err := os.Stat(missing); code != exitUsage || out != "" || !strings.Contains(errOut, missing+" does not exist") || err == nil {
		t.Fatalf("export to a missing directory: exit %d %q %s (stat %v)", code, out, errOut, err)
	}
	code, _, errOut = runCLI(t, w.registerArgs(st, "--pop", popHex, "--export-slashing-psbts", ej.SlashingPSBTFile)...)
	if after, _ := os.ReadFile(ej.SlashingPSBTFile); code != exitUsage || !strings.Contains(errOut, "is not a directory") || !bytes.Equal(before, after) {
		t.Fatalf("export to a file: exit %d %s", code, errOut)
	}
	// The PSBTs unsigned (as exported) are refused.
	ej2 := mustJSON[exportJSON](t, mustRun(t, w.registerArgs(st, "--pop", popHex, "--export-slashing-psbts", dir, "--force", "--json")...))
	code, _, errOut = runCLI(t, w.registerArgs(st, "--pop", popHex, "--signed-slashing-psbt", ej2.SlashingPSBTFile,
		"--signed-unbonding-slashing-psbt", ej2.UnbondingSlashingPSBTFile)...)
	if code != exitError || !strings.Contains(errOut, "staker signatures") {
		t.Fatalf("unsigned PSBTs: exit %d %s", code, errOut)
	}

	// Each pop kind made by register itself verifies through pop verify.
	for _, kind := range []string{"bip340", "bip322", "ecdsa"} {
		jk := mustJSON[msgJSON](t, mustRun(t, w.registerArgs(st, "--key", w.stakerFile, "--pop-kind", kind, "--json")...))
		mustRun(t, "pop", "verify", "--pop", jk.BabylondArgs[1], "--staker-pk", xonlyHex(w.staker), "--babylon-address", testBabylonAddr)
	}
}

// TestRegisterBadInput: each bad input is one line, the right exit code,
// and no --out file.
func TestRegisterBadInput(t *testing.T) {
	w := newTxWorld(t)
	tx := w.stake(t)
	st := filepath.Join(w.dir, "staking.hex")
	_ = os.WriteFile(st, []byte(txHex(tx)), 0o644)
	popHex := strings.TrimSpace(mustRun(t, "pop", "create", "--key", w.stakerFile, "--babylon-address", testBabylonAddr))
	// A transaction that does not pay the delegation: the staking output
	// sent to another script.
	other := tx.Copy()
	for _, o := range other.TxOut {
		if o.Value == 100_000 {
			o.PkScript = p2wpkhScript(w.funder)
		}
	}
	otherFile := filepath.Join(w.dir, "other.hex")
	_ = os.WriteFile(otherFile, []byte(txHex(other)), 0o644)
	existing := filepath.Join(w.dir, "existing.hex")
	_ = os.WriteFile(existing, []byte("keep\n"), 0o644)
	conv, _ := bech32.ConvertBits(rawBabylon(t, testBabylonAddr), 8, 5, true)
	cosmos, _ := bech32.Encode("cosmos", conv)
	fpPop := strings.TrimSpace(mustRun(t, "pop", "create", "--key", w.fpFile, "--babylon-address", testBabylonAddr))
	set := func(args []string, flag, v string) []string {
		out := append([]string(nil), args...)
		for i := range out {
			if out[i] == flag {
				out[i+1] = v
				return out
			}
		}
		return append(out, flag, v)
	}
	base := w.registerArgs(st, "--key", w.stakerFile)
	outFile := filepath.Join(w.dir, "out.hex")
	for _, tc := range []struct {
		name string
		args []string
		code int
		flag string
	}{
		{"other prefix", set(base, "--babylon-address", cosmos), exitUsage, "--babylon-address"},
		{"bad checksum", set(base, "--babylon-address", testBabylonAddr[:len(testBabylonAddr)-1]+"5"), exitUsage, "--babylon-address"},
		{"uncompressed staker key", set(base, "--staker-pk", hex.EncodeToString(w.staker.PubKey().SerializeUncompressed())), exitUsage, "--staker-pk"},
		{"staking tx not paying the delegation", set(base, "--staking-tx", otherFile), exitError, "--staking-tx"},
		{"existing --out", append(append([]string(nil), base...), "--out", existing), exitUsage, "--out"},
		{"no height before staking", w.registerArgsNoHeight(st, "--key", w.stakerFile), exitUsage, "--btc-height"},
		{"two signers", append(append([]string(nil), base...), "--export-slashing-psbts", w.dir), exitUsage, "--key"},
		{"no signer", w.registerArgs(st, "--pop", popHex), exitUsage, "--key"},
		{"pop of another key", append(append([]string(nil), base...), "--pop", fpPop), exitError, "--pop"},
		{"key not the staker's", set(base, "--key", w.fpFile), exitError, "--key"},
		{"two finality providers", append(append([]string(nil), base...), "--fp-pk", xonlyHex(w.funder)), exitError, "finality providers"},
	} {
		args := tc.args
		if tc.name != "existing --out" {
			args = append(append([]string(nil), args...), "--out", outFile)
		}
		code, stdout, errOut := runCLI(t, args...)
		if code != tc.code || stdout != "" || !strings.Contains(errOut, tc.flag) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: exit %d (want %d), stdout %q, stderr %q", tc.name, code, tc.code, stdout, errOut)
		}
		if _, err := os.Stat(outFile); err == nil {
			t.Errorf("%s: --out written", tc.name)
			_ = os.Remove(outFile)
		}
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep\n" {
		t.Errorf("existing --out replaced: %q", b)
	}
}

func (w *txWorld) registerArgsNoHeight(st string, extra ...string) []string {
	args := append([]string{"register"}, w.delegationArgs()...)
	args = append(args, "--staking-tx", st, "--babylon-address", testBabylonAddr)
	return append(args, extra...)
}

// TestRegisterInclusionProofFile: after staking, with the proof from a
// file in prove's format (here for a block made in the test, its Merkle
// root computed from the definition): the message carries the proof; a
// file whose header does not commit to the transaction, or that proves
// another transaction, is refused naming --inclusion-proof, exit 1, with
// nothing written.
func TestRegisterInclusionProofFile(t *testing.T) {
	w := newTxWorld(t)
	tx := w.stake(t)
	st := filepath.Join(w.dir, "staking.hex")
	_ = os.WriteFile(st, []byte(txHex(tx)), 0o644)
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: ^uint32(0)}, SignatureScript: []byte{1, 2}})
	cb.AddTxOut(wire.NewTxOut(50, []byte{0x51}))
	h0, h1 := cb.TxHash(), tx.TxHash()
	root := chainhash.DoubleHashH(append(h0[:], h1[:]...))
	block := wire.NewMsgBlock(wire.NewBlockHeader(2, &chainhash.Hash{}, &root, 0, 0))
	_ = block.AddTransaction(cb)
	_ = block.AddTransaction(tx)
	proof, err := babylon.ProveInBlock(block, h1)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, p *babylon.ProvenTx) string {
		j, err := newProvenJSON(p, 30)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(j)
		f := filepath.Join(w.dir, name)
		_ = os.WriteFile(f, b, 0o644)
		return f
	}
	good := write("proof.json", &babylon.ProvenTx{Tx: tx, Proof: proof, Header: block.Header, Height: 100, TipHeight: 140})
	args := append([]string{"register"}, w.delegationArgs()...)
	args = append(args, "--staking-tx", st, "--babylon-address", testBabylonAddr, "--key", w.stakerFile, "--json")
	j := mustJSON[msgJSON](t, mustRun(t, append(args, "--inclusion-proof", good)...))
	raw, _ := hex.DecodeString(j.MsgHex)
	m, err := babylon.UnmarshalMsgCreateBTCDelegation(raw)
	if err != nil || m.StakingTxInclusionProof == nil || m.StakingTxInclusionProof.Key.Block != block.BlockHash() ||
		m.StakingTxInclusionProof.Key.Index != 1 || !bytes.Equal(m.StakingTxInclusionProof.Proof, h0[:]) {
		t.Fatalf("message proof %+v, %v", m.StakingTxInclusionProof, err)
	}
	if len(j.BabylondArgs) != 14 || j.BabylondArgs[3] != hex.EncodeToString(m.StakingTxInclusionProof.Marshal()) {
		t.Fatalf("babylond args[3] %q", j.BabylondArgs[3])
	}
	// --btc-height has no say after staking.
	if code, _, _ := runCLI(t, append(args, "--inclusion-proof", good, "--btc-height", "100")...); code != exitUsage {
		t.Fatalf("--btc-height with --inclusion-proof: exit %d", code)
	}
	badHeader := block.Header
	badHeader.MerkleRoot = chainhash.DoubleHashH(h1[:])
	// The same proof naming the bad header: only the Merkle root refuses it.
	renamed := &babylon.InclusionProof{Key: proof.Key, Proof: proof.Proof}
	renamed.Key.Block = badHeader.BlockHash()
	other, _ := fundingCoin("another tx", []byte{0x51}, 5000)
	out := filepath.Join(w.dir, "out.hex")
	for name, f := range map[string]string{
		"header without the tx": write("bad-header.json", &babylon.ProvenTx{Tx: tx, Proof: proof, Header: badHeader, Height: 100, TipHeight: 140}),
		"root without the tx":   write("bad-root.json", &babylon.ProvenTx{Tx: tx, Proof: renamed, Header: badHeader, Height: 100, TipHeight: 140}),
		"another tx":            write("other.json", &babylon.ProvenTx{Tx: other, Proof: proof, Header: block.Header, Height: 100, TipHeight: 140}),
		"too shallow":           write("shallow.json", &babylon.ProvenTx{Tx: tx, Proof: proof, Header: block.Header, Height: 100, TipHeight: 110}),
	} {
		code, stdout, errOut := runCLI(t, append(args, "--inclusion-proof", f, "--out", out)...)
		if code != exitError || stdout != "" || !strings.Contains(errOut, "--inclusion-proof") {
			t.Errorf("%s: exit %d %q %s", name, code, stdout, errOut)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: --out written", name)
		}
	}
	// The file is strict JSON: a key given twice (here the height, which
	// decides the params version) or data after the object is refused,
	// naming the key, before anything is checked.
	goodJSON, _ := os.ReadFile(good)
	twice := bytes.Replace(goodJSON, []byte(`"block_height":100,`), []byte(`"block_height":100,"block_height":90,`), 1)
	if bytes.Equal(twice, goodJSON) {
		t.Fatal("the proof JSON changed shape; update the test")
	}
	for name, c := range map[string]struct {
		doc  []byte
		want string
	}{
		"a key twice":     {twice, `block_height\" given twice`},
		"data after":      {append(bytes.Clone(goodJSON), "{}"...), "data after the JSON value"},
		"non-UTF-8 value": {bytes.Replace(goodJSON, []byte(`"txid":"`), []byte("\"txid\":\"\xff"), 1), "not UTF-8"},
	} {
		f := filepath.Join(w.dir, "strict.json")
		_ = os.WriteFile(f, c.doc, 0o644)
		code, stdout, errOut := runCLI(t, append(args, "--inclusion-proof", f, "--out", out)...)
		if code != exitUsage || stdout != "" || !strings.Contains(errOut, "--inclusion-proof") || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d %q %s", name, code, stdout, errOut)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: --out written", name)
		}
	}
}

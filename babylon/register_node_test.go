package babylon_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/btcsuite/btcd/address/v2/bech32"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/pop"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/regtest"
	"github.com/btcstake/btcstake/script"
)

// mainnetShaped returns bbn-1's params version 4 as embedded (9 covenant
// keys, quorum 6, the OP_RETURN "babylon" slashing script, rate 0.001,
// minimum slashing fee and unbonding fee as on mainnet) with the
// covenant keys replaced by the scenario's (whose secrets the test holds)
// and the times shortened to what a test can mine.
func mainnetShaped(t *testing.T, covenant []*btcec.PublicKey, minTime, maxTime, unbonding uint16) *params.Params {
	t.Helper()
	vs, err := params.Preset("bbn-1")
	if err != nil {
		t.Fatal(err)
	}
	v4, err := vs.ByNumber(4)
	if err != nil {
		t.Fatal(err)
	}
	c := v4.Config()
	// What makes it mainnet-shaped, checked against the embedded preset
	// rather than assumed.
	if len(c.CovenantKeys) != 9 || c.CovenantQuorum != 6 || hex.EncodeToString(c.SlashingPkScript) != "6a07626162796c6f6e" ||
		c.SlashingRate != "0.001" || c.UnbondingFee != 9600 || c.MinSlashingFee != 100_000 || c.MinStakingValue != 500_000 {
		t.Fatalf("bbn-1 v4 is not what this test assumes: %+v", c)
	}
	if len(covenant) != len(c.CovenantKeys) {
		t.Fatalf("%d covenant keys for a committee of %d", len(covenant), len(c.CovenantKeys))
	}
	c.CovenantKeys = covenant
	c.MinStakingTime, c.MaxStakingTime, c.UnbondingTime = minTime, maxTime, unbonding
	p, err := params.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// signedMessageDigest is Bitcoin's signed-message digest, written here
// from crypto/sha256: SHA256d(varstr("Bitcoin Signed Message:\n") ||
// varstr(msg)), with single-byte lengths (both are below 253).
func signedMessageDigest(msg string) []byte {
	const prefix = "Bitcoin Signed Message:\n"
	b := append([]byte{byte(len(prefix))}, prefix...)
	b = append(b, byte(len(msg)))
	b = append(b, msg...)
	return dsha(b)
}

// checkPoPIndependently checks a proof's signature without package pop
// for the kinds that need no BIP-322 machinery: BIP-340 over SHA256 of
// the address's 20 raw bytes, ECDSA by key recovery over the
// signed-message digest of the address text.
func checkPoPIndependently(t *testing.T, p *pop.Proof, staker *btcec.PublicKey, addr string) {
	t.Helper()
	switch p.Kind() {
	case pop.BIP340:
		_, raw, err := bech32.DecodeToBase256(addr)
		if err != nil {
			t.Fatal(err)
		}
		m := sha256.Sum256(raw)
		sig, err := schnorr.ParseSignature(p.BTCSig())
		if err != nil || !sig.Verify(m[:], staker) {
			t.Errorf("BIP340 PoP does not verify independently: %v", err)
		}
	case pop.ECDSA:
		pk, compressed, err := ecdsa.RecoverCompact(p.BTCSig(), signedMessageDigest(addr))
		if err != nil || !compressed || !bytes.Equal(schnorr.SerializePubKey(pk), schnorr.SerializePubKey(staker)) {
			t.Errorf("ECDSA PoP does not recover to the staker key: %v", err)
		}
	}
}

// checkSlashingSig verifies a delegator signature against the sighash
// computed here with txscript: the slashing leaf (built by package
// script from the delegation's keys), SIGHASH_DEFAULT, input 0 spending
// prev.
func checkSlashingSig(t *testing.T, what string, txBytes, sig []byte, prev *wire.TxOut, leaf []byte, staker *btcec.PublicKey) {
	t.Helper()
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(txBytes)); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	fetch := txscript.NewCannedPrevOutputFetcher(prev.PkScript, prev.Value)
	h, err := txscript.CalcTapscriptSignaturehash(txscript.NewTxSigHashes(&tx, fetch), txscript.SigHashDefault, &tx, 0, fetch, txscript.NewBaseTapLeaf(leaf))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	s, err := schnorr.ParseSignature(sig)
	if err != nil || len(sig) != 64 || !s.Verify(h, staker) {
		t.Errorf("%s: the delegator signature does not verify against the sighash (%v)", what, err)
	}
}

// proveIndependently fetches the block header's bytes from the node
// (getblockheader, not verbose) and checks the proof against them with
// crypto/sha256 alone: the header hashes to the key's block, and the
// proof folds from txid to the header's Merkle root.
func proveIndependently(t *testing.T, ctx context.Context, c *chain.Client, txid chainhash.Hash, p *babylon.InclusionProof) {
	t.Helper()
	raw, err := c.Call(ctx, "getblockheader", p.Key.Block.String(), false)
	if err != nil {
		t.Fatal(err)
	}
	var hx string
	if err := jsonString(raw, &hx); err != nil {
		t.Fatal(err)
	}
	hdr, err := hex.DecodeString(hx)
	if err != nil || len(hdr) != 80 {
		t.Fatalf("header %q: %v", hx, err)
	}
	if !bytes.Equal(dsha(hdr), p.Key.Block[:]) {
		t.Errorf("the proof names block %s, the node's header hashes to %x", p.Key.Block, dsha(hdr))
	}
	if len(p.Proof)%32 != 0 || len(p.Proof) == 0 {
		t.Fatalf("proof of %d bytes", len(p.Proof))
	}
	if got := foldProof(txid[:], p.Proof, p.Key.Index); !bytes.Equal(got, hdr[36:68]) {
		t.Errorf("proof of %s folds to %x, the node's header has Merkle root %x", txid, got, hdr[36:68])
	}
}

func jsonString(raw []byte, out *string) error {
	s := string(bytes.TrimSpace(raw))
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return fmt.Errorf("not a JSON string: %.80s", s)
	}
	*out = s[1 : len(s)-1]
	return nil
}

// TestRegistrationOnNodeMainnetShaped does the Bitcoin side of a Babylon
// registration end to end on a btcd regtest node, under bbn-1's v4
// params with short times: a PoP of each kind (created, verified,
// parsed back, checked independently), the registration before staking
// (unsigned staking tx, the version at the tip), the staking tx signed
// and mined among other transactions, its proof refused one block before
// the confirmation depth and accepted at it, checked against the header
// the node serves, the registration after staking and its
// MsgAddBTCDelegationInclusionProof; then a real unbonding by 6 of the 9
// covenant members through psbt.CovenantSigner, mined, and its
// MsgBTCUndelegate. Every message is decoded back and compared field by
// field with what went in.
func TestRegistrationOnNodeMainnetShaped(t *testing.T) {
	n := regtest.NewTestNode(t, regtest.Options{})
	const (
		seed        = 1212
		stakingTime = 150
		unbonding   = 7
		depth       = 4 // the confirmation depth of this test's chain
		value       = 1_000_000
	)
	s, err := regtest.NewScenario(n, regtest.ScenarioConfig{Seed: seed, CovenantMembers: 9, CovenantQuorum: 6,
		StakingTime: stakingTime, UnbondingTime: unbonding}) // its keys; the params are replaced below
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %d", seed)
	p := mainnetShaped(t, s.Params.CovenantKeys(), 64, 200, unbonding)
	v, err := params.NewVersion(4, 0, p, params.BabylonExtras{})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := params.NewVersions(v)
	if err != nil {
		t.Fatal(err)
	}
	staker, fp := s.Staker, s.FinalityProviders[0]
	d := psbt.Delegation{Params: p, Staker: staker.PubKey(), FinalityProviders: []*btcec.PublicKey{fp.PubKey()}, StakingTime: stakingTime}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := n.Chain()
	net := &chaincfg.RegressionNetParams
	addr := testAddress(t, "mainnet-shaped node staker")

	// 1. Proofs of possession, every kind (BIP-322 with both address
	// types): verified, parsed back to the same parts, refused for
	// another account, and the BIP-340 and ECDSA ones checked without
	// package pop.
	type popCase struct {
		name string
		kind pop.Kind
		opts []pop.Option
	}
	var pops []*pop.Proof
	for _, pc := range []popCase{{"bip340", pop.BIP340, nil}, {"bip322-p2tr", pop.BIP322, []pop.Option{pop.WithBIP322(net, pop.P2TR)}},
		{"bip322-p2wpkh", pop.BIP322, []pop.Option{pop.WithBIP322(net, pop.P2WPKH)}}, {"ecdsa", pop.ECDSA, nil}} {
		pr, err := pop.Create(pc.kind, staker, addr, pc.opts...)
		if err != nil {
			t.Fatalf("%s: %v", pc.name, err)
		}
		if err := pr.Verify(staker.PubKey(), addr, net); err != nil {
			t.Errorf("%s: %v", pc.name, err)
		}
		back, err := pop.Parse(pr.Marshal())
		if err != nil {
			t.Fatalf("%s: %v", pc.name, err)
		}
		if back.Kind() != pc.kind || !bytes.Equal(back.BTCSig(), pr.BTCSig()) || back.BIP322Address() != pr.BIP322Address() ||
			!bytes.Equal(back.Marshal(), pr.Marshal()) {
			t.Errorf("%s: parsed back differs", pc.name)
		}
		if err := back.Verify(staker.PubKey(), addr, net); err != nil {
			t.Errorf("%s parsed back: %v", pc.name, err)
		}
		if err := back.Verify(staker.PubKey(), testAddress(t, "someone else"), net); !errors.Is(err, pop.ErrBadSignature) {
			t.Errorf("%s for another account: %v, want ErrBadSignature", pc.name, err)
		}
		if err := back.Verify(fp.PubKey(), addr, net); err == nil {
			t.Errorf("%s verifies for the finality provider's key", pc.name)
		}
		checkPoPIndependently(t, back, staker.PubKey(), addr)
		pops = append(pops, pr)
	}

	// 2. The staking tx, built from a payment to the staker's wallet and
	// not yet signed.
	wallet := s.WalletPkScript()
	op, fundTx, err := n.Fund(wallet, value+20_000)
	if err != nil {
		t.Fatal(err)
	}
	res, err := psbt.BuildStaking(psbt.StakingRequest{Delegation: d, Value: value, FeeRate: 2000, ChangePkScript: wallet,
		UTXOs: []psbt.UTXO{{OutPoint: op, Value: value + 20_000, PkScript: wallet, PrevTx: fundTx}}})
	if err != nil {
		t.Fatal(err)
	}
	unsigned := res.Packet.UnsignedTx.Copy()
	stOut, err := d.StakingOutput()
	if err != nil {
		t.Fatal(err)
	}
	stIdx := -1
	for i, o := range unsigned.TxOut {
		if bytes.Equal(o.PkScript, stOut.PkScript) && o.Value == value {
			stIdx = i
		}
	}
	if stIdx < 0 {
		t.Fatal("the staking tx has no staking output")
	}
	covX := make([]script.XOnlyKey, 0, 9)
	for _, k := range p.CovenantKeys() {
		covX = append(covX, script.XOnly(k))
	}
	leaf, err := script.SlashingScript(script.XOnly(staker.PubKey()), []script.XOnlyKey{script.XOnly(fp.PubKey())}, covX, 6)
	if err != nil {
		t.Fatal(err)
	}

	// check compares a decoded registration with what was given.
	check := func(name string, reg *babylon.Registration, wantPoP []byte, stakingTx *wire.MsgTx, proof *babylon.InclusionProof) *wire.MsgTx {
		t.Helper()
		m, err := babylon.UnmarshalMsgCreateBTCDelegation(reg.Marshal())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.StakerAddr != addr {
			t.Errorf("%s: staker_addr %q", name, m.StakerAddr)
		}
		if !bytes.Equal(m.Pop, wantPoP) {
			t.Errorf("%s: pop differs", name)
		} else if pr, err := pop.Parse(m.Pop); err != nil || pr.Verify(staker.PubKey(), m.StakerAddr, net) != nil {
			t.Errorf("%s: the message's PoP does not verify for its btc_pk and staker_addr: %v", name, err)
		}
		if !bytes.Equal(m.BtcPk, schnorr.SerializePubKey(staker.PubKey())) {
			t.Errorf("%s: btc_pk %x", name, m.BtcPk)
		}
		if len(m.FpBtcPkList) != 1 || !bytes.Equal(m.FpBtcPkList[0], schnorr.SerializePubKey(fp.PubKey())) {
			t.Errorf("%s: fp_btc_pk_list %x", name, m.FpBtcPkList)
		}
		if m.StakingTime != stakingTime || m.StakingValue != value {
			t.Errorf("%s: staking time %d value %d", name, m.StakingTime, m.StakingValue)
		}
		// The staking tx goes in as given: unsigned before staking, as
		// signed and mined after (Babylon reads both; the proof is over the
		// txid, which signing does not change).
		if !bytes.Equal(m.StakingTx, serialize(t, stakingTx)) {
			t.Errorf("%s: staking_tx differs from the staking tx given", name)
		}
		if (proof == nil) != (m.StakingTxInclusionProof == nil) {
			t.Fatalf("%s: inclusion proof %v, want %v", name, m.StakingTxInclusionProof, proof)
		}
		if proof != nil && (m.StakingTxInclusionProof.Key != proof.Key || !bytes.Equal(m.StakingTxInclusionProof.Proof, proof.Proof)) {
			t.Errorf("%s: the inclusion proof differs", name)
		}
		// The slashing tx: one input, the staking output; pays the
		// OP_RETURN "babylon" script value×0.001 and the rest less the
		// minimum slashing fee.
		var sl wire.MsgTx
		if err := sl.Deserialize(bytes.NewReader(m.SlashingTx)); err != nil {
			t.Fatal(err)
		}
		wantOP := wire.OutPoint{Hash: stakingTx.TxHash(), Index: uint32(stIdx)}
		if len(sl.TxIn) != 1 || sl.TxIn[0].PreviousOutPoint != wantOP || len(sl.TxOut) != 2 ||
			hex.EncodeToString(sl.TxOut[0].PkScript) != "6a07626162796c6f6e" || sl.TxOut[0].Value != value/1000 ||
			sl.TxOut[0].Value+sl.TxOut[1].Value != value-100_000 {
			t.Errorf("%s: slashing tx %+v", name, sl)
		}
		checkSlashingSig(t, name+" slashing", m.SlashingTx, m.DelegatorSlashingSig, unsigned.TxOut[stIdx], leaf, staker.PubKey())
		// The unbonding tx: the staking output to one output worth the
		// value less the unbonding fee, after the unbonding time.
		var ub wire.MsgTx
		if err := ub.Deserialize(bytes.NewReader(m.UnbondingTx)); err != nil {
			t.Fatal(err)
		}
		if m.UnbondingTime != unbonding || m.UnbondingValue != value-9600 || len(ub.TxIn) != 1 ||
			ub.TxIn[0].PreviousOutPoint != wantOP || len(ub.TxOut) != 1 || ub.TxOut[0].Value != m.UnbondingValue {
			t.Errorf("%s: unbonding time %d value %d tx %+v", name, m.UnbondingTime, m.UnbondingValue, ub)
		}
		var usl wire.MsgTx
		if err := usl.Deserialize(bytes.NewReader(m.UnbondingSlashingTx)); err != nil {
			t.Fatal(err)
		}
		if len(usl.TxIn) != 1 || usl.TxIn[0].PreviousOutPoint != (wire.OutPoint{Hash: ub.TxHash()}) ||
			hex.EncodeToString(usl.TxOut[0].PkScript) != "6a07626162796c6f6e" {
			t.Errorf("%s: unbonding slashing tx %+v", name, usl)
		}
		checkSlashingSig(t, name+" unbonding slashing", m.UnbondingSlashingTx, m.DelegatorUnbondingSlashingSig, ub.TxOut[0], leaf, staker.PubKey())
		// Every field present, in number order, and nothing else.
		var nums []int
		for _, f := range walk(t, reg.Marshal()) {
			nums = append(nums, int(f.num))
		}
		want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
		if proof == nil {
			want = []int{1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15}
		}
		if fmt.Sprint(nums) != fmt.Sprint(want) {
			t.Errorf("%s: fields %v, want %v", name, nums, want)
		}
		if args := reg.BabylondArgs(); len(args) != 14 {
			t.Errorf("%s: %d babylond arguments", name, len(args))
		}
		return &ub
	}

	// 3. Registration before staking: the unsigned staking tx, the
	// version in force at the tip; signed through the PSBTs an external
	// signer would get (Complete).
	tip, err := n.Height()
	if err != nil {
		t.Fatal(err)
	}
	pre, err := babylon.PrepareRegistration(babylon.RegistrationRequest{StakerAddress: addr, PoP: pops[0].Marshal(),
		Delegation: d, StakingTx: unsigned, Versions: vs, TipHeight: uint32(tip)})
	if err != nil {
		t.Fatal(err)
	}
	slPkt, uslPkt, err := pre.SlashingPackets()
	if err != nil {
		t.Fatal(err)
	}
	if err := psbt.SignTapscript(slPkt, 0, staker); err != nil {
		t.Fatal(err)
	}
	if err := psbt.SignTapscript(uslPkt, 0, staker); err != nil {
		t.Fatal(err)
	}
	preReg, err := pre.Complete(slPkt, uslPkt)
	if err != nil {
		t.Fatal(err)
	}
	if preReg.StakingTxHash() != unsigned.TxHash() || preReg.StakingOutputIndex() != uint32(stIdx) {
		t.Errorf("pre-staking registration names %s:%d", preReg.StakingTxHash(), preReg.StakingOutputIndex())
	}
	registeredUnbonding := check("pre-staking", preReg, pops[0].Marshal(), unsigned, nil)

	// 4. Sign and broadcast the staking tx, in a block with other
	// payments so that its proof has more than one level.
	if _, err := psbt.SignFundingInputs(res.Packet, s.Wallet); err != nil {
		t.Fatal(err)
	}
	stakingTx, err := psbt.Finalize(res.Packet)
	if err != nil {
		t.Fatal(err)
	}
	if stakingTx.TxHash() != unsigned.TxHash() {
		t.Fatal("signing changed the staking txid")
	}
	for i := range 4 {
		if _, _, err := n.Fund(p2trScript(t, s, i), 50_000+int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	stTxid, err := n.Broadcast(stakingTx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Mine(1); err != nil {
		t.Fatal(err)
	}
	if err := n.WaitConfirmations(ctx, stTxid, 1); err != nil {
		t.Fatal(err)
	}
	stHeight, err := n.Height()
	if err != nil {
		t.Fatal(err)
	}
	blk, err := n.BlockAt(stHeight)
	if err != nil {
		t.Fatal(err)
	}
	if len(blk.Transactions) < 6 {
		t.Fatalf("the staking block holds %d transactions, want at least 6", len(blk.Transactions))
	}

	// 5. The proof: refused one block before the depth, accepted at it.
	rule := babylon.DepthRule{ConfirmationDepth: depth}
	if _, err := n.Mine(depth - 1); err != nil {
		t.Fatal(err)
	}
	if _, err := babylon.ProveFromNode(ctx, c, stTxid, chain.TxSearch{}, rule); !errors.Is(err, babylon.ErrShallow) {
		t.Fatalf("at depth %d: %v, want ErrShallow", depth-1, err)
	}
	if _, err := n.Mine(1); err != nil {
		t.Fatal(err)
	}
	proven, err := babylon.ProveFromNode(ctx, c, stTxid, chain.TxSearch{}, rule)
	if err != nil {
		t.Fatal(err)
	}
	if proven.Depth() != depth || proven.Height != int64(stHeight) || blk.Transactions[proven.Proof.Key.Index].TxHash() != stTxid {
		t.Errorf("proof at height %d depth %d index %d", proven.Height, proven.Depth(), proven.Proof.Key.Index)
	}
	proveIndependently(t, ctx, c, stTxid, proven.Proof)

	// 6. Registration after staking, with the proof and another kind of
	// PoP (signed with the key, Sign); and the pre-staking flow's
	// MsgAddBTCDelegationInclusionProof.
	for i, pr := range pops[1:] {
		post, err := babylon.PrepareRegistration(babylon.RegistrationRequest{StakerAddress: addr, PoP: pr.Marshal(),
			Delegation: d, StakingTx: stakingTx, Included: proven, Versions: vs})
		if err != nil {
			t.Fatal(err)
		}
		postReg, err := post.Sign(staker)
		if err != nil {
			t.Fatal(err)
		}
		ub := check(fmt.Sprintf("post-staking %d", i), postReg, pr.Marshal(), stakingTx, proven.Proof)
		if ub.TxHash() != registeredUnbonding.TxHash() {
			t.Error("the post-staking registration has another unbonding tx than the pre-staking one")
		}
	}
	add, err := babylon.NewMsgAddInclusionProof(addr, proven)
	if err != nil {
		t.Fatal(err)
	}
	addBack, err := babylon.UnmarshalMsgAddBTCDelegationInclusionProof(add.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if addBack.Signer != addr || addBack.StakingTxHash != stTxid.String() || addBack.StakingTxInclusionProof == nil ||
		addBack.StakingTxInclusionProof.Key != proven.Proof.Key || !bytes.Equal(addBack.StakingTxInclusionProof.Proof, proven.Proof.Proof) {
		t.Errorf("MsgAddBTCDelegationInclusionProof decodes to %+v", addBack)
	}

	// 7. Unbond for real: the staker and 6 of the 9 covenant members (not
	// the first six) sign through psbt.CovenantSigner; the transaction is
	// the one registered.
	ubRes, err := psbt.BuildUnbonding(d, psbt.Funding{Tx: stakingTx, Index: uint32(stIdx)})
	if err != nil {
		t.Fatal(err)
	}
	if ubRes.Packet.UnsignedTx.TxHash() != registeredUnbonding.TxHash() {
		t.Fatal("the unbonding tx built now is not the registered one")
	}
	if err := psbt.SignTapscript(ubRes.Packet, 0, staker); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{8, 1, 6, 3, 4, 7} {
		signer, err := psbt.NewCovenantSigner(s.Covenant[i])
		if err != nil {
			t.Fatal(err)
		}
		_, err = signer.Sign(ubRes.Packet, 0, d)
		signer.Zero()
		if err != nil {
			t.Fatalf("covenant member %d: %v", i, err)
		}
	}
	ubTx, err := psbt.Finalize(ubRes.Packet)
	if err != nil {
		t.Fatal(err)
	}
	ubTxid, err := n.Broadcast(ubTx)
	if err != nil {
		t.Fatal(err)
	}
	if ubTxid != registeredUnbonding.TxHash() {
		t.Error("the mined unbonding tx is not the registered one")
	}
	if _, err := n.Mine(1); err != nil {
		t.Fatal(err)
	}
	if err := n.WaitConfirmations(ctx, ubTxid, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Mine(depth); err != nil {
		t.Fatal(err)
	}
	spent, err := babylon.ProveFromNode(ctx, c, ubTxid, chain.TxSearch{}, rule)
	if err != nil {
		t.Fatal(err)
	}
	proveIndependently(t, ctx, c, ubTxid, spent.Proof)

	// 8. MsgBTCUndelegate: the unbonding tx as mined (with its witness),
	// its proof and the staking tx as the funding transaction.
	undel, err := babylon.NewMsgBTCUndelegate(addr, psbt.Funding{Tx: stakingTx, Index: uint32(stIdx)}, spent, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := babylon.UnmarshalMsgBTCUndelegate(undel.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if u.Signer != addr || u.StakingTxHash != stTxid.String() {
		t.Errorf("signer %q staking_tx_hash %q", u.Signer, u.StakingTxHash)
	}
	var spending wire.MsgTx
	if err := spending.Deserialize(bytes.NewReader(u.StakeSpendingTx)); err != nil {
		t.Fatal(err)
	}
	if spending.TxHash() != ubTxid || !bytes.Equal(u.StakeSpendingTx, serialize(t, ubTx)) || len(spending.TxIn[0].Witness) < 3 {
		t.Errorf("stake_spending_tx is not the mined unbonding tx with its witness")
	}
	if u.StakeSpendingTxInclusionProof == nil || u.StakeSpendingTxInclusionProof.Key != spent.Proof.Key ||
		!bytes.Equal(u.StakeSpendingTxInclusionProof.Proof, spent.Proof.Proof) {
		t.Errorf("stake_spending_tx_inclusion_proof differs")
	}
	if len(u.FundingTransactions) != 1 || !bytes.Equal(u.FundingTransactions[0], serialize(t, stakingTx)) {
		t.Errorf("funding_transactions are not the signed staking tx")
	}
	var nums []int
	for _, f := range walk(t, undel.Marshal()) {
		nums = append(nums, int(f.num))
	}
	if fmt.Sprint(nums) != "[1 2 3 4 5]" {
		t.Errorf("MsgBTCUndelegate fields %v", nums)
	}
	// The node agrees the staking output is spent.
	if _, err := n.GetTxOut(wire.OutPoint{Hash: stTxid, Index: uint32(stIdx)}); !errors.Is(err, regtest.ErrNotFound) {
		t.Errorf("the staking output after unbonding: %v, want ErrNotFound", err)
	}
}

// p2trScript is a throwaway P2TR script derived from the scenario's seed.
func p2trScript(t *testing.T, s *regtest.Scenario, i int) []byte {
	t.Helper()
	h := sha256.Sum256([]byte(fmt.Sprintf("filler %d %d", s.Seed, i)))
	_, pk := btcec.PrivKeyFromBytes(h[:])
	return append([]byte{txscript.OP_1, txscript.OP_DATA_32}, schnorr.SerializePubKey(txscript.ComputeTaprootKeyNoScript(pk))...)
}

package babylon_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/regtest"
)

// TestOnNode stakes on a real btcd regtest node, proves the staking
// transaction from the node's block (checked against the header the node
// serves, folded with sha256 here), registers it with the proof, and
// after unbonding builds MsgBTCUndelegate with the unbonding transaction's
// proof; the refusals (coinbase, tx not in the block, shallow depth) are
// checked on the same blocks.
func TestOnNode(t *testing.T) {
	n := regtest.NewTestNode(t, regtest.Options{})
	s, err := regtest.NewScenario(n, regtest.ScenarioConfig{Seed: 12, StakingTime: 60, UnbondingTime: 5})
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Stake(regtest.StakeOptions{Value: 500_000})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := n.Chain()
	const k = 3
	rule := babylon.DepthRule{ConfirmationDepth: k}

	// The staking tx is in the tip block: depth 0, too shallow.
	if _, err := babylon.ProveFromNode(ctx, c, st.Txid, chain.TxSearch{}, rule); !errors.Is(err, babylon.ErrShallow) {
		t.Fatalf("depth 0: %v, want ErrShallow", err)
	}
	shallow, err := babylon.ProveFromNode(ctx, c, st.Txid, chain.TxSearch{}, babylon.DepthRule{ConfirmationDepth: k, AllowShallow: true})
	if err != nil || shallow.Depth() != 0 {
		t.Fatalf("allow shallow: %v", err)
	}
	if _, err := n.Mine(k); err != nil {
		t.Fatal(err)
	}
	proven, err := babylon.ProveFromNode(ctx, c, st.Txid, chain.TxSearch{}, rule)
	if err != nil {
		t.Fatal(err)
	}
	if proven.Depth() != k || proven.Height != int64(st.Height) {
		t.Errorf("depth %d at height %d, want %d at %d", proven.Depth(), proven.Height, k, st.Height)
	}
	// The block as the node serves it, independently: the header's root
	// and hash against the proof folded with sha256.
	block, err := n.BlockAt(st.Height)
	if err != nil {
		t.Fatal(err)
	}
	var hdr bytes.Buffer
	_ = block.Header.Serialize(&hdr)
	if !bytes.Equal(dsha(hdr.Bytes()), proven.Proof.Key.Block[:]) {
		t.Error("the proof names another block")
	}
	if got := foldProof(st.Txid[:], proven.Proof.Proof, proven.Proof.Key.Index); !bytes.Equal(got, hdr.Bytes()[36:68]) {
		t.Errorf("proof folds to %x, the node's header has root %x", got, hdr.Bytes()[36:68])
	}
	if block.Transactions[proven.Proof.Key.Index].TxHash() != st.Txid {
		t.Error("the key's index is not the transaction's position in the node's block")
	}
	if _, err := babylon.ProveInBlock(block, block.Transactions[0].TxHash()); !errors.Is(err, babylon.ErrCoinbase) {
		t.Errorf("coinbase: %v", err)
	}
	other, err := n.BlockAt(st.Height + 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := babylon.ProveInBlock(other, st.Txid); !errors.Is(err, babylon.ErrNotInBlock) {
		t.Errorf("another block: %v", err)
	}

	// Registration with the proof, under the version in force at the
	// inclusion height.
	v, err := params.NewVersion(4, 0, s.Params, params.BabylonExtras{})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := params.NewVersions(v)
	if err != nil {
		t.Fatal(err)
	}
	addr := testAddress(t, "node staker")
	draft, err := babylon.PrepareRegistration(babylon.RegistrationRequest{StakerAddress: addr, PoP: testPoP(),
		Delegation: st.Delegation, StakingTx: st.Tx, Included: proven, Versions: vs})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := draft.Sign(s.Staker)
	if err != nil {
		t.Fatal(err)
	}
	m, err := babylon.UnmarshalMsgCreateBTCDelegation(reg.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if m.StakingTxInclusionProof == nil || m.StakingTxInclusionProof.Key != proven.Proof.Key ||
		!bytes.Equal(m.StakingTxInclusionProof.Proof, proven.Proof.Proof) || !bytes.Equal(m.StakingTx, serialize(t, st.Tx)) ||
		m.StakingValue != st.Value || m.StakerAddr != addr {
		t.Errorf("decoded registration differs: %v", m)
	}
	fs := walk(t, reg.Marshal())
	has8 := false
	for _, f := range fs {
		has8 = has8 || (f.num == 8 && bytes.Equal(f.b, proven.Proof.Marshal()))
	}
	if !has8 {
		t.Error("field 8 is not the inclusion proof")
	}
	// Its args carry the proof's hex in position 3.
	if args := reg.BabylondArgs(); args[3] == "" {
		t.Error("no inclusion proof argument")
	}
	addMsg, err := babylon.NewMsgAddInclusionProof(addr, proven)
	if err != nil {
		t.Fatal(err)
	}
	back, err := babylon.UnmarshalMsgAddBTCDelegationInclusionProof(addMsg.Marshal())
	if err != nil || back.Signer != addr || back.StakingTxHash != st.Txid.String() || back.StakingTxInclusionProof.Key != proven.Proof.Key {
		t.Errorf("MsgAddBTCDelegationInclusionProof: %v %+v", err, back)
	}

	// Unbond, prove the unbonding tx, and build MsgBTCUndelegate.
	ub, err := s.Unbond(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	spent, err := babylon.ProveFromNode(ctx, c, ub.Txid, chain.TxSearch{}, babylon.DepthRule{})
	if err != nil {
		t.Fatal(err)
	}
	undel, err := babylon.NewMsgBTCUndelegate(addr, st.Funding(), spent, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := babylon.UnmarshalMsgBTCUndelegate(undel.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if u.Signer != addr || u.StakingTxHash != st.Txid.String() || !bytes.Equal(u.StakeSpendingTx, serialize(t, ub.Tx)) ||
		len(u.FundingTransactions) != 1 || !bytes.Equal(u.FundingTransactions[0], serialize(t, st.Tx)) ||
		u.StakeSpendingTxInclusionProof.Key != spent.Proof.Key {
		t.Errorf("decoded undelegation differs: %+v", u)
	}
	wantNums := []int{1, 2, 3, 4, 5}
	for i, f := range walk(t, undel.Marshal()) {
		if i >= len(wantNums) || int(f.num) != wantNums[i] {
			t.Fatalf("MsgBTCUndelegate record %d is field %d", i, f.num)
		}
	}
	// Refusals: a spend of another output, a funding tx no input spends,
	// a signer of another chain.
	if _, err := babylon.NewMsgBTCUndelegate(addr, st.Funding(), spent, []*wire.MsgTx{block.Transactions[0]}); !errors.Is(err, babylon.ErrInvalidRegistration) {
		t.Errorf("extra funding tx: %v", err)
	}
	notStake := st.Funding()
	notStake.Index ^= 1
	if _, err := babylon.NewMsgBTCUndelegate(addr, notStake, spent, nil); !errors.Is(err, babylon.ErrInvalidRegistration) {
		t.Errorf("another output: %v", err)
	}
	if _, err := babylon.NewMsgBTCUndelegate("bbn1qqqq", st.Funding(), spent, nil); !errors.Is(err, babylon.ErrInvalidAddress) {
		t.Errorf("bad signer: %v", err)
	}
}

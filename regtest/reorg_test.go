package regtest

import (
	"errors"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/psbt"
)

// TestReorgOnNode: a 2-block reorg replaces a confirmed unbonding by the
// slashing of the same staking output; a 1-block reorg without
// replacement returns an unbonding to the mempool, and mining confirms it
// again. The harness wallet keeps only coins the node has.
func TestReorgOnNode(t *testing.T) {
	n := NewTestNode(t, Options{})
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	s, err := NewScenario(n, ScenarioConfig{Seed: seed, FinalityProviders: 3})
	if err != nil {
		t.Fatal(err)
	}
	stakes, err := s.StakeMany(2, ManyOptions{DistinctStakers: true})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("bad arguments change nothing", func(t *testing.T) {
		tip, _ := n.Height()
		if _, err := n.Reorg(0, nil); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("depth 0: %v", err)
		}
		if _, err := n.Reorg(int(tip)+1, nil); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("depth past genesis: %v", err)
		}
		if _, _, err := n.MineBlock([]*wire.MsgTx{nil}, []byte("x")); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("nil tx: %v", err)
		}
		// A block spending an output twice is refused by the node.
		if _, _, err := n.MineBlock([]*wire.MsgTx{stakes[0].UnbondingTx, stakes[0].UnbondingTx}, []byte("x")); !errors.Is(err, ErrRPC) {
			t.Errorf("a block with a double spend: %v, want ErrRPC", err)
		}
		if now, err := n.Height(); err != nil || now != tip {
			t.Fatalf("tip %d, was %d (%v)", now, tip, err)
		}
	})

	t.Run("a 2-block reorg replaces a confirmed unbonding by a slashing", func(t *testing.T) {
		st := stakes[0]
		ub, err := s.UnbondPresigned(st)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Mine(1); err != nil {
			t.Fatal(err)
		}
		slash, err := psbt.CompleteSlashing(st.Slashing, s.FinalityProviders[st.FinalityProvider])
		if err != nil {
			t.Fatal(err)
		}
		checkWalletOnChain(t, n) // the wallet has read the blocks about to be orphaned
		r, err := n.Reorg(2, []*wire.MsgTx{slash})
		if err != nil {
			t.Fatal(err)
		}
		if r.ForkHeight != ub.Height || len(r.Orphaned) != 2 || len(r.Replacement) != 3 {
			t.Fatalf("reorg %+v, unbonding was at %d", r, ub.Height)
		}
		if tip, err := n.Height(); err != nil || tip != ub.Height+2 {
			t.Fatalf("tip %d, want %d (%v)", tip, ub.Height+2, err)
		}
		for i, h := range r.Replacement {
			got, err := n.GetBlockHash(r.ForkHeight + int32(i))
			if err != nil || got != h {
				t.Fatalf("block %d is %s, want the replacement %s (%v)", r.ForkHeight+int32(i), got, h, err)
			}
		}
		// bitcoind reports an orphaned block with -1 confirmations;
		// btcd's getblockheader refuses a block off the main chain.
		for _, h := range r.Orphaned {
			if hdr, err := n.Chain().BlockHeader(ctxT(t), h); err == nil && hdr.Confirmations != -1 {
				t.Fatalf("orphaned block %s: %+v", h, hdr)
			}
		}
		b, err := n.BlockAt(r.ForkHeight)
		if err != nil {
			t.Fatal(err)
		}
		if !blockHas(b, slash.TxHash()) || len(b.Transactions) != 2 {
			t.Fatalf("first replacement block holds %d txs, slashing in it: %v", len(b.Transactions), blockHas(b, slash.TxHash()))
		}
		if _, err := n.Confirmations(ub.Txid); !errors.Is(err, ErrNotFound) {
			t.Fatalf("the replaced unbonding: %v, want ErrNotFound", err)
		}
		checkSpent(t, n, wire.OutPoint{Hash: st.Txid, Index: st.OutputIndex})
		checkWalletOnChain(t, n)
	})

	t.Run("a 1-block reorg returns an unbonding to the mempool", func(t *testing.T) {
		st := stakes[1]
		ub, err := s.UnbondPresigned(st)
		if err != nil {
			t.Fatal(err)
		}
		checkWalletOnChain(t, n)
		r, err := n.Reorg(1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.ForkHeight != ub.Height || len(r.Replacement) != 2 {
			t.Fatalf("reorg %+v", r)
		}
		if confs, err := n.Confirmations(ub.Txid); err != nil || confs != 0 {
			t.Fatalf("unbonding after the reorg: %d confirmations, %v; want 0 (in the mempool)", confs, err)
		}
		if _, err := n.Mine(1); err != nil {
			t.Fatal(err)
		}
		if confs, err := n.Confirmations(ub.Txid); err != nil || confs != 1 {
			t.Fatalf("unbonding mined again: %d confirmations, %v", confs, err)
		}
		checkWalletOnChain(t, n)
	})

	t.Run("the wallet funds after the reorgs, also once orphaned coinbases would be mature", func(t *testing.T) {
		if _, err := n.Mine(int(n.Params().CoinbaseMaturity)); err != nil {
			t.Fatal(err)
		}
		checkWalletOnChain(t, n)
		op, _, err := n.Fund(s.WalletPkScript(), 50_0000_0000)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Mine(1); err != nil {
			t.Fatal(err)
		}
		if _, err := n.GetTxOut(op); err != nil {
			t.Fatal(err)
		}
	})
}

// checkWalletOnChain: every coin the harness wallet counts (after a sync)
// is unspent on the node, confirmed ones at their height.
func checkWalletOnChain(t *testing.T, n *Node) {
	t.Helper()
	if _, _, err := n.Balance(); err != nil {
		t.Fatal(err)
	}
	n.wmu.Lock()
	defer n.wmu.Unlock()
	for op, u := range n.w.utxos {
		o, err := n.GetTxOut(op)
		if err != nil {
			t.Fatalf("wallet coin %v (height %d, coinbase %v): %v", op, u.height, u.coinbase, err)
		}
		if o.Value != u.value {
			t.Fatalf("wallet coin %v: %d sat, node says %d", op, u.value, o.Value)
		}
	}
}

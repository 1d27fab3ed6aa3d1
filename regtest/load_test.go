package regtest

import (
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/script"
)

// TestGenerateLoadOnNode mines a small load and counts, from the node's
// blocks alone, what each block holds: exactly the configured ordinary
// transactions (P2WPKH and P2TR spends paying loadPayment), the staking
// transactions of the stakes scheduled there, their unbondings and their
// withdrawals as the time locks first allow. A second fresh node given
// the same seed repeats every txid.
func TestGenerateLoadOnNode(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	cfg := LoadConfig{Blocks: 8, TxsPerBlock: 20, Stakes: 12, SpendEvery: 3, UnbondAfter: 1}
	run := func(t *testing.T) (*Node, *Scenario, *Load) {
		n := NewTestNode(t, Options{NoTxIndex: true})
		s, err := NewScenario(n, ScenarioConfig{Seed: seed, FinalityProviders: 3, StakingTime: 3, UnbondingTime: 2})
		if err != nil {
			t.Fatal(err)
		}
		load, err := s.GenerateLoad(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("setup %s, sign %s, mine %s", load.Setup, load.Sign, load.Mine)
		return n, s, load
	}
	n, s, load := run(t)

	if len(load.Blocks) != cfg.Blocks || load.To-load.From+1 != int32(cfg.Blocks) {
		t.Fatalf("%d blocks %d..%d, want %d", len(load.Blocks), load.From, load.To, cfg.Blocks)
	}
	if tip, err := n.Height(); err != nil || tip != load.To {
		t.Fatalf("tip %d, load ends at %d (%v)", tip, load.To, err)
	}
	// Stake j is staked in block j*8/12; j = 0, 3, 6 unbond one block
	// later and withdraw the unbonding two blocks after that (j = 9
	// unbonds in the last block, too late to withdraw); j = 1, 4, 7
	// withdraw the staking output three blocks after staking (j = 10 is
	// staked too late).
	wantStakes := []int{2, 1, 2, 1, 2, 1, 2, 1}
	wantUnbond := []int{0, 1, 0, 1, 0, 1, 0, 1}
	wantWithdraw := []int{0, 0, 0, 2, 0, 2, 0, 2}
	if len(load.Stakes) != cfg.Stakes {
		t.Fatalf("%d stakes, want %d", len(load.Stakes), cfg.Stakes)
	}
	staking := map[chainhash.Hash]int{}
	stakingOut := map[wire.OutPoint]int{}
	unbondingOut := map[wire.OutPoint]int{}
	for j, st := range load.Stakes {
		staking[st.Txid] = j
		stakingOut[wire.OutPoint{Hash: st.Txid, Index: st.OutputIndex}] = j
		unbondingOut[wire.OutPoint{Hash: st.UnbondingTx.TxHash()}] = j
		if want := load.From + int32(j*cfg.Blocks/cfg.Stakes); st.Height != want {
			t.Errorf("stake %d at height %d, want %d", j, st.Height, want)
		}
		if st.FinalityProvider != j%3 {
			t.Errorf("stake %d to provider %d", j, st.FinalityProvider)
		}
	}
	kinds := map[string]int{}
	var p2wpkhSeen, p2trSeen bool
	for i, lb := range load.Blocks {
		h := load.From + int32(i)
		b, err := n.BlockAt(h)
		if err != nil {
			t.Fatal(err)
		}
		if b.BlockHash() != lb.Hash || lb.Height != h || len(b.Transactions) != lb.Txs() {
			t.Fatalf("block %d: %s with %d txs, load says %s at %d with %d", h, b.BlockHash(), len(b.Transactions), lb.Hash, lb.Height, lb.Txs())
		}
		var ord, stk, unb, wd int
		for _, tx := range b.Transactions[1:] {
			prev := tx.TxIn[0].PreviousOutPoint
			if j, ok := staking[tx.TxHash()]; ok {
				stk++
				if load.Stakes[j].Height != h {
					t.Errorf("stake %d found at %d, load says %d", j, h, load.Stakes[j].Height)
				}
				continue
			}
			if j, ok := stakingOut[prev]; ok {
				switch tx.TxIn[0].Sequence {
				case uint32(s.StakingTime):
					wd++
				case wire.MaxTxInSequenceNum:
					if tx.TxHash() != load.Stakes[j].UnbondingTx.TxHash() {
						t.Errorf("block %d: %s spends stake %d but is not its unbonding", h, tx.TxHash(), j)
					}
					unb++
				default:
					t.Errorf("block %d: %s spends stake %d with sequence %d", h, tx.TxHash(), j, tx.TxIn[0].Sequence)
				}
				continue
			}
			if _, ok := unbondingOut[prev]; ok {
				if tx.TxIn[0].Sequence != uint32(s.Params.UnbondingTime()) {
					t.Errorf("block %d: withdraw of an unbonding with sequence %d", h, tx.TxIn[0].Sequence)
				}
				wd++
				continue
			}
			ord++
			if len(tx.TxIn) != 1 || len(tx.TxOut) != 2 || tx.TxOut[0].Value != loadPayment {
				t.Errorf("block %d: ordinary tx %s with %d inputs, outputs %v", h, tx.TxHash(), len(tx.TxIn), tx.TxOut)
			}
			switch txscript.GetScriptClass(tx.TxOut[1].PkScript) {
			case txscript.WitnessV0PubKeyHashTy:
				p2wpkhSeen = true
			case txscript.WitnessV1TaprootTy:
				p2trSeen = true
			default:
				t.Errorf("block %d: ordinary change to %x", h, tx.TxOut[1].PkScript)
			}
		}
		if ord != cfg.TxsPerBlock || stk != wantStakes[i] || unb != wantUnbond[i] || wd != wantWithdraw[i] {
			t.Errorf("block %d holds %d ordinary, %d staking, %d unbonding, %d withdraw txs; want %d, %d, %d, %d",
				h, ord, stk, unb, wd, cfg.TxsPerBlock, wantStakes[i], wantUnbond[i], wantWithdraw[i])
		}
		if lb.Ordinary != ord || lb.Staking != stk || lb.Unbonding != unb || lb.Withdraw != wd {
			t.Errorf("block %d: the load reports %+v", h, lb)
		}
		kinds["staking"] += stk
		kinds["unbonding"] += unb
		kinds["withdraw"] += wd
	}
	if !p2wpkhSeen || !p2trSeen {
		t.Errorf("ordinary spends: P2WPKH %v, P2TR %v; want both", p2wpkhSeen, p2trSeen)
	}
	if kinds["staking"] != 12 || kinds["unbonding"] != 4 || kinds["withdraw"] != 6 {
		t.Errorf("load holds %v", kinds)
	}
	if len(load.Spends) != 10 {
		t.Fatalf("%d spends recorded, want 10", len(load.Spends))
	}
	for _, sp := range load.Spends {
		if sp.Kind == "withdraw" && sp.From == script.UnbondingOutputKind {
			// The withdraw of an unbonding went in the first block its lock allows.
			var ubHeight int32
			for _, u := range load.Spends {
				if u.Kind == "unbonding" && u.Stake == sp.Stake {
					ubHeight = u.Height
				}
			}
			if sp.Height != ubHeight+int32(s.Params.UnbondingTime()) {
				t.Errorf("stake %d: unbonding withdrawn at %d, unbonded at %d", sp.Stake, sp.Height, ubHeight)
			}
		}
	}
	// An unspent stake still holds its staking output; the pre-signed
	// unbonding of a stake that has not unbonded is accepted.
	st := load.Stakes[11]
	if _, err := n.GetTxOut(wire.OutPoint{Hash: st.Txid, Index: st.OutputIndex}); err != nil {
		t.Fatalf("stake 11's staking output: %v", err)
	}
	if err := n.TestMempoolAccept(st.UnbondingTx); err != nil {
		t.Fatalf("stake 11's unbonding: %v", err)
	}

	t.Run("same seed, fresh node: the same txids", func(t *testing.T) {
		n2, _, again := run(t)
		if again.From != load.From || len(again.Blocks) != len(load.Blocks) {
			t.Fatalf("blocks %d..%d, first run %d..%d", again.From, again.To, load.From, load.To)
		}
		for i := range load.Blocks {
			a, b := blockTxids(t, n, load.From+int32(i)), blockTxids(t, n2, again.From+int32(i))
			if len(a) != len(b) {
				t.Fatalf("block %d: %d txs, first run %d", i, len(b), len(a))
			}
			for id := range a {
				if !b[id] {
					t.Fatalf("block %d: %s of the first run is not in the second", i, id)
				}
			}
		}
	})
}

// blockTxids is the set of non-coinbase txids of the block at height h.
func blockTxids(t *testing.T, n *Node, h int32) map[chainhash.Hash]bool {
	t.Helper()
	b, err := n.BlockAt(h)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[chainhash.Hash]bool{}
	for _, tx := range b.Transactions[1:] {
		ids[tx.TxHash()] = true
	}
	return ids
}

package monitor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/script"
)

// fakeNode knows which transaction spends which outpoint (and at what
// height) and checks the searches Follow asks for.
type fakeNode struct {
	t        testing.TB
	tip      int64
	spends   map[wire.OutPoint]*chain.Spend
	heights  map[wire.OutPoint]int64 // the height each outpoint was confirmed at
	maxScan  int64
	searched []wire.OutPoint
	err      error
}

func (f *fakeNode) Height(context.Context) (int64, error) { return f.tip, nil }

func (f *fakeNode) FindSpend(_ context.Context, op wire.OutPoint, s chain.SpendSearch) (*chain.Spend, error) {
	f.searched = append(f.searched, op)
	if f.err != nil {
		return nil, f.err
	}
	if want, ok := f.heights[op]; ok && s.FromHeight != want {
		f.t.Errorf("search for %v from height %d, want %d (the output's own block)", op, s.FromHeight, want)
	}
	if s.MaxBlocks != f.maxScan {
		f.t.Errorf("search bound %d, want %d", s.MaxBlocks, f.maxScan)
	}
	if s.Progress != nil {
		s.Progress(chain.ScanProgress{Height: s.FromHeight, Read: 1, Total: 1})
	}
	return f.spends[op], nil
}

type world struct {
	stake Stake
	node  *fakeNode
}

func newKey(t testing.TB) *btcec.PublicKey {
	k, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k.PubKey()
}

// newWorld is a delegation (staking time 10, unbonding time 4, covenant 2
// of 3) whose staking output is output 1 of a tx confirmed at height 100.
func newWorld(t testing.TB) *world {
	p := script.Parties{Staker: newKey(t), FinalityProviders: []*btcec.PublicKey{newKey(t)},
		Covenant: []*btcec.PublicKey{newKey(t), newKey(t), newKey(t)}, CovenantQuorum: 2}
	st, err := script.NewStakingOutput(p, 10)
	if err != nil {
		t.Fatal(err)
	}
	ub, err := script.NewUnbondingOutput(p, 4)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := script.NewSlashingChangeOutput(p.Staker, 4)
	if err != nil {
		t.Fatal(err)
	}
	op := wire.OutPoint{Hash: [32]byte{1}, Index: 1}
	return &world{
		stake: Stake{OutPoint: op, Height: 100, Staking: st, Unbonding: ub, SlashingChange: ch},
		node: &fakeNode{t: t, tip: 103, spends: map[wire.OutPoint]*chain.Spend{},
			heights: map[wire.OutPoint]int64{op: 100}},
	}
}

// spend records that a tx at height h spends op through path of out,
// paying outs; it returns the tx's id. The spending input is input 1,
// after an unrelated one.
func (w *world) spend(t *testing.T, op wire.OutPoint, out *script.Output, path script.PathKind, h int64, outs ...[]byte) wire.OutPoint {
	t.Helper()
	p, err := out.Path(path)
	if err != nil {
		t.Fatal(err)
	}
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: [32]byte{9}, Index: uint32(len(w.node.spends))}, nil, nil))
	tx.AddTxIn(wire.NewTxIn(&op, nil, wire.TxWitness{make([]byte, 64), p.Script, p.ControlBlock}))
	for _, pk := range outs {
		tx.AddTxOut(wire.NewTxOut(50_000, pk))
	}
	w.node.spends[op] = &chain.Spend{Tx: tx, Txid: tx.TxHash(), Input: 1, Height: h}
	return wire.OutPoint{Hash: tx.TxHash()}
}

func (w *world) follow(t *testing.T) *Status {
	t.Helper()
	var reports int
	searched := len(w.node.searched)
	s, err := Follow(context.Background(), w.node, w.stake, Options{MaxScanBlocks: w.node.maxScan,
		Progress: func(chain.ScanProgress) { reports++ }})
	if err != nil {
		t.Fatal(err)
	}
	// Every spend search reports its progress to the caller.
	if n := len(w.node.searched) - searched; reports != n {
		t.Fatalf("%d progress reports for %d searches", reports, n)
	}
	return s
}

func describe(s *Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s pending=%v;", s.State, s.Pending)
	for _, e := range s.Events {
		fmt.Fprintf(&b, " %s@%d/%d", e.Name(), e.Height, e.Confirmations)
	}
	b.WriteString(";")
	for _, p := range s.Paths {
		fmt.Fprintf(&b, " %s.%s now=%v at=%d in=%d", p.Output, p.Kind, p.SpendableNow, p.OpensAtHeight, p.OpensInBlocks)
	}
	return b.String()
}

var other = []byte{0x00, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}

func TestFollow(t *testing.T) {
	t.Run("unconfirmed", func(t *testing.T) {
		w := newWorld(t)
		w.stake.Height = -1
		s := w.follow(t)
		if got := describe(s); got != "unconfirmed pending=false; staked@-1/0;" {
			t.Fatal(got)
		}
		if len(w.node.searched) != 0 {
			t.Fatal("an unconfirmed stake was searched for spends")
		}
	})
	t.Run("staked, time lock closed then open", func(t *testing.T) {
		w := newWorld(t)
		s := w.follow(t)
		// Confirmed at 100, lock 10: a spend may be in block 110; the tip
		// is 103, so 6 more blocks before the next one is 110.
		want := "staked pending=false; staked@100/4; staking.timelock now=false at=110 in=6 staking.unbonding now=true at=0 in=0 staking.slashing now=true at=0 in=0"
		if got := describe(s); got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
		if *s.Live != w.stake.OutPoint || !strings.Contains(s.Paths[1].Needs, "2 of 3 covenant") || !strings.Contains(s.Paths[2].Needs, "finality provider") {
			t.Fatalf("live %v, needs %q / %q", s.Live, s.Paths[1].Needs, s.Paths[2].Needs)
		}
		w.node.tip = 108 // next block 109: still one short
		if p := w.follow(t).Paths[0]; p.SpendableNow || p.OpensInBlocks != 1 {
			t.Fatalf("one block short: %+v", p)
		}
		w.node.tip = 109 // next block 110: open
		if p := w.follow(t).Paths[0]; !p.SpendableNow || p.OpensInBlocks != 0 || p.OpensAtHeight != 110 {
			t.Fatalf("at the lock: %+v", p)
		}
	})
	t.Run("withdrawn, pending then confirmed", func(t *testing.T) {
		w := newWorld(t)
		w.spend(t, w.stake.OutPoint, w.stake.Staking, script.TimelockPath, -1, other)
		if got := describe(w.follow(t)); got != "withdrawn pending=true; staked@100/4 withdrawn from staking@-1/0;" {
			t.Fatal(got)
		}
		w.node.tip = 112
		w.spend(t, w.stake.OutPoint, w.stake.Staking, script.TimelockPath, 110, other)
		if got := describe(w.follow(t)); got != "withdrawn pending=false; staked@100/13 withdrawn from staking@110/3;" {
			t.Fatal(got)
		}
	})
	t.Run("unbonded, the output found by script, then withdrawn", func(t *testing.T) {
		w := newWorld(t)
		// The unbonding output is output 1 here, not 0: found by script.
		ub := w.spend(t, w.stake.OutPoint, w.stake.Staking, script.UnbondingPath, -1, other, w.stake.Unbonding.PkScript)
		if got := describe(w.follow(t)); got != "unbonding pending=true; staked@100/4 unbonded@-1/0;" {
			t.Fatal(got)
		}
		ub = w.spend(t, w.stake.OutPoint, w.stake.Staking, script.UnbondingPath, 102, other, w.stake.Unbonding.PkScript)
		ub.Index = 1
		w.node.heights[ub] = 102
		s := w.follow(t)
		want := "unbonding pending=false; staked@100/4 unbonded@102/2; unbonding.timelock now=false at=106 in=2 unbonding.slashing now=true at=0 in=0"
		if got := describe(s); got != want || *s.Live != ub {
			t.Fatalf("got  %s (live %v)\nwant %s (live %v)", got, s.Live, want, ub)
		}
		w.node.tip = 107
		w.spend(t, ub, w.stake.Unbonding, script.TimelockPath, 106, other)
		if got := describe(w.follow(t)); got != "withdrawn pending=false; staked@100/8 unbonded@102/6 withdrawn from unbonding@106/2;" {
			t.Fatal(got)
		}
	})
	t.Run("slashed from unbonding, change withdrawn", func(t *testing.T) {
		w := newWorld(t)
		w.node.tip = 120
		ub := w.spend(t, w.stake.OutPoint, w.stake.Staking, script.UnbondingPath, 101, w.stake.Unbonding.PkScript)
		w.node.heights[ub] = 101
		// Change first, the slashing script second: found by script.
		ch := w.spend(t, ub, w.stake.Unbonding, script.SlashingPath, 103, w.stake.SlashingChange.PkScript, other)
		w.node.heights[ch] = 103
		s := w.follow(t)
		want := "slashed pending=false; staked@100/21 unbonded@101/20 slashed from unbonding@103/18; slashing_change.timelock now=true at=107 in=0"
		if got := describe(s); got != want || *s.Live != ch {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
		w.spend(t, ch, w.stake.SlashingChange, script.TimelockPath, 119, other)
		if got := describe(w.follow(t)); got != "slashed, change withdrawn pending=false; staked@100/21 unbonded@101/20 slashed from unbonding@103/18 withdrawn from slashing_change@119/2;" {
			t.Fatal(got)
		}
	})
	t.Run("slashed without change", func(t *testing.T) {
		w := newWorld(t)
		w.spend(t, w.stake.OutPoint, w.stake.Staking, script.SlashingPath, 101, other)
		s := w.follow(t)
		if got := describe(s); got != "slashed pending=false; staked@100/4 slashed from staking@101/3;" || s.Live != nil {
			t.Fatal(got)
		}
	})
}

func TestFollowRefuses(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	// A leaf of another output (the change output's time lock differs from
	// the staking output's): none of the staking output's.
	w.spend(t, w.stake.OutPoint, w.stake.SlashingChange, script.TimelockPath, 101, other)
	if _, err := Follow(ctx, w.node, w.stake, Options{}); !errors.Is(err, ErrUnexpectedSpend) {
		t.Fatalf("foreign leaf: %v", err)
	}
	// A key-path-looking witness.
	w.node.spends[w.stake.OutPoint].Tx.TxIn[1].Witness = wire.TxWitness{make([]byte, 64)}
	if _, err := Follow(ctx, w.node, w.stake, Options{}); !errors.Is(err, ErrUnexpectedSpend) {
		t.Fatalf("one-element witness: %v", err)
	}
	// An unbonding-path spend that pays no unbonding output.
	w.spend(t, w.stake.OutPoint, w.stake.Staking, script.UnbondingPath, 101, other)
	if _, err := Follow(ctx, w.node, w.stake, Options{}); !errors.Is(err, ErrUnexpectedSpend) {
		t.Fatalf("unbonding without the unbonding output: %v", err)
	}
	// The node's errors pass through.
	w.node.err = fmt.Errorf("%w: refused", chain.ErrUnreachable)
	if _, err := Follow(ctx, w.node, w.stake, Options{}); !errors.Is(err, chain.ErrUnreachable) {
		t.Fatalf("node error: %v", err)
	}
	// Incomplete stakes.
	for name, mod := range map[string]func(*Stake){
		"no unbonding output":  func(s *Stake) { s.Unbonding = nil },
		"outputs swapped":      func(s *Stake) { s.Staking, s.Unbonding = s.Unbonding, s.Staking },
		"change of wrong kind": func(s *Stake) { s.SlashingChange = s.Staking },
		"height below -1":      func(s *Stake) { s.Height = -2 },
	} {
		s := w.stake
		mod(&s)
		if _, err := Follow(ctx, w.node, s, Options{}); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Follow(ctx, w.node, w.stake, Options{MaxScanBlocks: -1}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("negative scan bound: %v", err)
	}
}

// TestFollowExtended: a stake extension (the staking output spent through
// its unbonding leaf as input 0 of a two-input tx paying a new staking
// output) ends the stake as "extended" with the extension's txid; the same
// spend with a third input, or with the staking output as input 1, is no
// extension and is refused as before.
func TestFollowExtended(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	next, err := script.NewStakingOutput(script.Parties{Staker: newKey(t), FinalityProviders: []*btcec.PublicKey{newKey(t)},
		Covenant: []*btcec.PublicKey{newKey(t)}, CovenantQuorum: 1}, 20)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := w.stake.Staking.Path(script.UnbondingPath)
	ext := wire.NewMsgTx(2)
	ext.AddTxIn(wire.NewTxIn(&w.stake.OutPoint, nil, wire.TxWitness{make([]byte, 64), p.Script, p.ControlBlock}))
	ext.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: [32]byte{7}}, nil, nil))
	ext.AddTxOut(wire.NewTxOut(150_000, next.PkScript))
	ext.AddTxOut(wire.NewTxOut(10_000, other))
	w.node.spends[w.stake.OutPoint] = &chain.Spend{Tx: ext, Txid: ext.TxHash(), Input: 0, Height: 102}
	s := w.follow(t)
	if got := describe(s); got != "extended pending=false; staked@100/4 extended@102/2;" {
		t.Fatalf("got %q", got)
	}
	if s.Events[1].Kind != EventExtended || s.Events[1].Txid != ext.TxHash() || s.Live != nil {
		t.Fatalf("event %+v, live %v", s.Events[1], s.Live)
	}
	// In the mempool it is pending.
	w.node.spends[w.stake.OutPoint].Height = -1
	if got := describe(w.follow(t)); got != "extended pending=true; staked@100/4 extended@-1/0;" {
		t.Fatalf("mempool: %q", got)
	}
	// A third input: not an extension's shape.
	ext.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: [32]byte{8}}, nil, nil))
	w.node.spends[w.stake.OutPoint] = &chain.Spend{Tx: ext, Txid: ext.TxHash(), Input: 0, Height: 102}
	if _, err := Follow(ctx, w.node, w.stake, Options{}); !errors.Is(err, ErrUnexpectedSpend) {
		t.Fatalf("three inputs: %v", err)
	}
}

package regtest

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// Bounds of LoadConfig: a chain for a benchmark, not a stress test of the
// node.
const (
	MaxLoadBlocks      = 10_000
	MaxLoadTxsPerBlock = 2_000
)

// loadPayment is what every ordinary transaction of a load pays to
// someone else (above the dust limit of a P2TR output, 330 sat).
const loadPayment = 1_000

// loadKeys is how many keys the ordinary transactions of a load rotate
// through (half their coins P2WPKH, half P2TR).
const loadKeys = 16

// maxLoadFee bounds the fee of one ordinary load transaction: one P2WPKH
// input and two outputs is at most 145 vB, 290 sat at FeeRate.
const maxLoadFee = 400

// LoadConfig describes the chain GenerateLoad mines. The zero value is the
// benchmark's chain of issue 14: 300 blocks of 100 ordinary transactions
// each, with the staking transactions of 1,000 delegations among them.
type LoadConfig struct {
	// Blocks is the number of blocks of the load (default 300).
	Blocks int
	// TxsPerBlock is the number of ordinary transactions in each block
	// (default 100): P2WPKH and P2TR spends that pay someone and keep
	// the change, none of them the watcher's business.
	TxsPerBlock int
	// Stakes is the number of delegations whose staking transactions are
	// spread evenly over the blocks (default 1,000; negative: none). They
	// are made as StakeMany makes them (distinct staker keys, one finality
	// provider each, everything pre-signed), so a watcher can be given
	// them.
	Stakes int
	// StakeValue is each stake's amount (default 100,000 sat).
	StakeValue int64
	// FinalityProviders: as ManyOptions.FinalityProviders.
	FinalityProviders []int
	// SpendEvery makes stake j with j mod SpendEvery = 0 broadcast its
	// pre-signed unbonding UnbondAfter blocks after it was staked and
	// withdraw the unbonding output as soon as the unbonding time allows,
	// and stake j with j mod SpendEvery = 1 withdraw its staking output as
	// soon as the staking time allows, each when that falls within the
	// load's blocks (default 10; negative: no spends).
	SpendEvery int
	// UnbondAfter is the number of blocks between a stake and its
	// unbonding (default 3).
	UnbondAfter int
	// Logf, when set, receives a progress line every 50 blocks.
	Logf func(format string, args ...any)
}

// Load is the chain GenerateLoad mined.
type Load struct {
	// Config is the configuration the load was mined with, defaults
	// filled in.
	Config LoadConfig
	// From and To are the heights of the first and the last block of the
	// load (the blocks before From fund it).
	From, To int32
	Blocks   []LoadBlock
	// Stakes are the delegations staked in the load, in the order they
	// were staked (Height set).
	Stakes []*PresignedStake
	// Spends are the unbondings and withdrawals of Stakes, in the order
	// they were mined.
	Spends []LoadSpend
	// Setup is the time spent funding the load (the blocks before From),
	// Sign the time building and signing every transaction, Mine the time
	// broadcasting and mining the load's blocks.
	Setup, Sign, Mine time.Duration
}

// LoadBlock is one block of a Load and what the generator put in it
// (besides the coinbase).
type LoadBlock struct {
	Height                                 int32
	Hash                                   chainhash.Hash
	Ordinary, Staking, Unbonding, Withdraw int
}

// Txs is the number of transactions in the block, the coinbase included.
func (b LoadBlock) Txs() int { return 1 + b.Ordinary + b.Staking + b.Unbonding + b.Withdraw }

// LoadSpend is an unbonding or a withdrawal of a stake of a Load.
type LoadSpend struct {
	Stake  int    // index into Load.Stakes
	Kind   string // "unbonding" or "withdraw"
	From   script.OutputKind
	Tx     *wire.MsgTx
	Txid   chainhash.Hash
	Height int32
}

// loadPlan is GenerateLoad's schedule: what goes in block b.
type loadPlan struct {
	cfg      LoadConfig
	stakeAt  []int // block of stake j
	perBlock [][]loadItem
}

type loadItem struct {
	stake int
	kind  string // "staking", "unbonding", "withdraw"
	from  script.OutputKind
}

func (c *LoadConfig) fill() error {
	if c.Blocks == 0 {
		c.Blocks = 300
	}
	if c.TxsPerBlock == 0 {
		c.TxsPerBlock = 100
	}
	if c.Stakes == 0 {
		c.Stakes = 1000
	}
	if c.Stakes < 0 {
		c.Stakes = 0
	}
	if c.StakeValue == 0 {
		c.StakeValue = 100_000
	}
	if c.SpendEvery == 0 {
		c.SpendEvery = 10
	}
	if c.UnbondAfter == 0 {
		c.UnbondAfter = 3
	}
	switch {
	case c.Blocks < 1 || c.Blocks > MaxLoadBlocks:
		return fmt.Errorf("%w: %d load blocks (want 1..%d)", ErrInvalidArgument, c.Blocks, MaxLoadBlocks)
	case c.TxsPerBlock < 1 || c.TxsPerBlock > MaxLoadTxsPerBlock:
		return fmt.Errorf("%w: %d transactions per block (want 1..%d)", ErrInvalidArgument, c.TxsPerBlock, MaxLoadTxsPerBlock)
	case c.Stakes > MaxStakeMany:
		return fmt.Errorf("%w: %d stakes (want at most %d)", ErrInvalidArgument, c.Stakes, MaxStakeMany)
	case c.UnbondAfter < 1:
		return fmt.Errorf("%w: unbonding %d blocks after staking (want at least 1)", ErrInvalidArgument, c.UnbondAfter)
	}
	return nil
}

// plan schedules the load: stake j in block j*Blocks/Stakes, its
// unbonding UnbondAfter blocks later and the withdrawals in the first
// block their time locks allow (a spend of an output confirmed in block b
// with a lock of L blocks may go into block b+L, BIP 68).
func (s *Scenario) planLoad(cfg LoadConfig) loadPlan {
	p := loadPlan{cfg: cfg, stakeAt: make([]int, cfg.Stakes), perBlock: make([][]loadItem, cfg.Blocks)}
	add := func(b int, it loadItem) {
		if b < cfg.Blocks {
			p.perBlock[b] = append(p.perBlock[b], it)
		}
	}
	for j := range cfg.Stakes {
		b := j * cfg.Blocks / cfg.Stakes
		p.stakeAt[j] = b
		add(b, loadItem{stake: j, kind: "staking"})
		if cfg.SpendEvery < 0 {
			continue
		}
		switch j % cfg.SpendEvery {
		case 0:
			u := b + cfg.UnbondAfter
			add(u, loadItem{stake: j, kind: "unbonding", from: script.StakingOutputKind})
			if u < cfg.Blocks {
				add(u+int(s.Params.UnbondingTime()), loadItem{stake: j, kind: "withdraw", from: script.UnbondingOutputKind})
			}
		case 1:
			add(b+int(s.StakingTime), loadItem{stake: j, kind: "withdraw", from: script.StakingOutputKind})
		}
	}
	return p
}

// GenerateLoad mines a chain for a catch-up benchmark: cfg.Blocks blocks,
// each holding exactly cfg.TxsPerBlock ordinary transactions and its
// share of the staking transactions (and spends) of cfg.Stakes
// delegations. The node's mempool must be empty when it starts.
//
// Funding first (the blocks before Load.From): one coinbase the harness
// builds (Node.MineCoinbase) paying a key drawn from the scenario's seed,
// matured for 100 blocks, then fan-out transactions (mined in one block
// per 20 of them) paying one coin to each of cfg.TxsPerBlock ordinary
// chains and one to the staker's wallet for each stake. Then every
// transaction of the load is built and signed up front, on all cores and
// without the node (each block spends only outputs of earlier blocks,
// which the generator made itself): chain c's transaction in block b
// spends its coin from block b-1, pays loadPayment to one of loadKeys
// keys' P2WPKH and P2TR scripts and keeps the change, alternately P2WPKH
// (ECDSA) and P2TR (BIP-86 key path). Then block by block: broadcast the
// block's transactions, mine one block, read it back and check it holds
// exactly them.
//
// Every key and so every transaction of the load depends only on the
// scenario's seed and the height the node starts at: on a fresh node
// with the same seed the load repeats every txid (block hashes differ:
// block times do).
func (s *Scenario) GenerateLoad(cfg LoadConfig) (*Load, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	start := time.Now()
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	plan := s.planLoad(cfg)
	stakePlans, err := s.planMany(cfg.Stakes, ManyOptions{Value: cfg.StakeValue, FinalityProviders: cfg.FinalityProviders,
		DistinctStakers: true})
	if err != nil && cfg.Stakes > 0 {
		return nil, err
	}

	// The ordinary chains' keys and scripts.
	funder := s.newKey()
	keys := make([]*btcec.PrivateKey, loadKeys)
	scripts := make([][]byte, 2*loadKeys)
	for i := range keys {
		keys[i] = s.newKey()
		scripts[2*i], scripts[2*i+1] = p2wpkh(keys[i].PubKey()), p2tr(keys[i].PubKey())
	}
	chainScript := func(c int) ([]byte, *btcec.PrivateKey) { return scripts[c%len(scripts)], keys[(c%len(scripts))/2] }
	perChain := int64(cfg.Blocks)*(loadPayment+maxLoadFee) + 10_000

	// Funding: a coinbase to the funder, matured, fanned out.
	values := make([]int64, 0, cfg.TxsPerBlock+cfg.Stakes)
	outs := make([]*wire.TxOut, 0, cfg.TxsPerBlock+cfg.Stakes)
	for c := range cfg.TxsPerBlock {
		sc, _ := chainScript(c)
		values = append(values, perChain)
		outs = append(outs, wire.NewTxOut(perChain, sc))
	}
	for range cfg.Stakes {
		v := cfg.StakeValue + stakeFundMargin
		values = append(values, v)
		outs = append(outs, wire.NewTxOut(v, s.WalletPkScript()))
	}
	fanTxs, err := s.fundLoad(funder, outs)
	if err != nil {
		return nil, err
	}
	// Output k of the fan-out is output k mod maxFanOutOutputs of fan-out
	// transaction k / maxFanOutOutputs.
	coinOf := func(k int) wire.OutPoint {
		return wire.OutPoint{Hash: fanTxs[k/maxFanOutOutputs].TxHash(), Index: uint32(k % maxFanOutOutputs)}
	}
	load := &Load{Config: cfg, Setup: time.Since(start)}
	load.Config.Logf = nil
	logf("load: funded in %s", load.Setup.Round(time.Millisecond))

	// Sign everything.
	signStart := time.Now()
	utxos := make([]psbt.UTXO, cfg.Stakes)
	for j := range utxos {
		k := cfg.TxsPerBlock + j
		utxos[j] = psbt.UTXO{OutPoint: coinOf(k), Value: values[k], PkScript: s.WalletPkScript()}
	}
	if cfg.Stakes > 0 {
		if load.Stakes, err = s.presignMany(stakePlans, utxos); err != nil {
			return nil, err
		}
	}
	ordinary := make([][]*wire.MsgTx, cfg.Blocks) // [block][chain]
	for b := range ordinary {
		ordinary[b] = make([]*wire.MsgTx, cfg.TxsPerBlock)
	}
	err = parallel(cfg.TxsPerBlock, func(c int) error {
		sc, key := chainScript(c)
		coin := spendable{op: coinOf(c), value: perChain, pkScript: sc, key: key}
		for b := range cfg.Blocks {
			payee := scripts[(c+b+1)%len(scripts)]
			tx, change, err := payFrom([]spendable{coin}, []*wire.TxOut{wire.NewTxOut(loadPayment, payee)}, sc, key)
			if err != nil {
				return fmt.Errorf("%w: ordinary chain %d, block %d: %w", ErrScenario, c, b, err)
			}
			if change == nil {
				return fmt.Errorf("%w: ordinary chain %d ran dry at block %d", ErrScenario, c, b)
			}
			ordinary[b][c], coin = tx, *change
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	withdraws := map[loadItem]*wire.MsgTx{}
	for _, items := range plan.perBlock {
		for _, it := range items {
			if it.kind != "withdraw" {
				continue
			}
			st := load.Stakes[it.stake]
			f := st.Funding()
			if it.from == script.UnbondingOutputKind {
				f = st.UnbondingFunding()
			}
			tx, err := withdrawWith(st, it.from, f, s.WalletPkScript())
			if err != nil {
				return nil, err
			}
			withdraws[it] = tx
		}
	}
	load.Sign = time.Since(signStart)
	logf("load: signed %d ordinary transactions and %d stakes in %s", cfg.Blocks*cfg.TxsPerBlock, cfg.Stakes, load.Sign.Round(time.Millisecond))

	// Mine block by block.
	mineStart := time.Now()
	for b := range cfg.Blocks {
		txs := append([]*wire.MsgTx(nil), ordinary[b]...)
		lb := LoadBlock{Ordinary: len(txs)}
		var spends []LoadSpend
		for _, it := range plan.perBlock[b] {
			st := load.Stakes[it.stake]
			switch it.kind {
			case "staking":
				txs = append(txs, st.Tx)
				lb.Staking++
			case "unbonding":
				txs = append(txs, st.UnbondingTx)
				lb.Unbonding++
				spends = append(spends, LoadSpend{Stake: it.stake, Kind: "unbonding", From: it.from, Tx: st.UnbondingTx})
			case "withdraw":
				tx := withdraws[it]
				txs = append(txs, tx)
				lb.Withdraw++
				spends = append(spends, LoadSpend{Stake: it.stake, Kind: "withdraw", From: it.from, Tx: tx})
			}
		}
		if lb.Height, lb.Hash, err = mineBlockOf(s.Node, txs, fmt.Sprintf("load block %d", b)); err != nil {
			return nil, err
		}
		if b == 0 {
			load.From = lb.Height
		} else if lb.Height != load.From+int32(b) {
			return nil, fmt.Errorf("%w: load block %d at height %d, want %d (someone else mines on this node)", ErrScenario, b, lb.Height, load.From+int32(b))
		}
		for _, it := range plan.perBlock[b] {
			if it.kind == "staking" {
				load.Stakes[it.stake].Height = lb.Height
			}
		}
		for i := range spends {
			spends[i].Txid, spends[i].Height = spends[i].Tx.TxHash(), lb.Height
		}
		load.Spends = append(load.Spends, spends...)
		load.Blocks = append(load.Blocks, lb)
		if (b+1)%50 == 0 {
			logf("load: %d of %d blocks mined (%s)", b+1, cfg.Blocks, time.Since(mineStart).Round(time.Millisecond))
		}
	}
	load.To = load.From + int32(cfg.Blocks) - 1
	load.Mine = time.Since(mineStart)
	logf("load: blocks %d..%d mined in %s", load.From, load.To, load.Mine.Round(time.Millisecond))
	return load, nil
}

// fundLoad pays outs from one harness-built coinbase to funder (matured
// 100 blocks), maxFanOutOutputs outputs per fan-out transaction, each
// fan-out spending the previous one's change; they are mined 20 to a
// block (bitcoind's default limit of 25 unconfirmed ancestors). It
// returns the fan-outs in order.
func (s *Scenario) fundLoad(funder *btcec.PrivateKey, outs []*wire.TxOut) ([]*wire.MsgTx, error) {
	funderScript := p2wpkh(funder.PubKey())
	chunks := (len(outs) + maxFanOutOutputs - 1) / maxFanOutOutputs
	total := int64(chunks) * 70_000 // fan-out fees, see fanOutToWallet
	for _, o := range outs {
		total += o.Value
	}
	var coins []spendable
	for left := total; left > 0; {
		tip, err := s.Node.Height()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrScenario, err)
		}
		v := min(left, s.Node.subsidy(tip+1))
		if v <= 0 {
			return nil, fmt.Errorf("%w: the block reward at height %d is gone", ErrInsufficientFunds, tip+1)
		}
		cb, _, err := s.Node.MineCoinbase(funderScript, v, []byte("btcstake load"))
		if err != nil {
			return nil, fmt.Errorf("%w: funding the load: %w", ErrScenario, err)
		}
		coins = append(coins, spendable{op: wire.OutPoint{Hash: cb.TxHash()}, value: v, pkScript: funderScript, key: funder})
		left -= v
	}
	if _, err := s.Node.Mine(int(s.Node.Params().CoinbaseMaturity)); err != nil {
		return nil, fmt.Errorf("%w: maturing the load's coinbase: %w", ErrScenario, err)
	}
	var fans, pending []*wire.MsgTx
	for from := 0; from < len(outs); from += maxFanOutOutputs {
		tx, change, err := payFrom(coins, outs[from:min(len(outs), from+maxFanOutOutputs)], funderScript, funder)
		if err != nil {
			return nil, fmt.Errorf("%w: the load's fan-out: %w", ErrScenario, err)
		}
		fans, pending = append(fans, tx), append(pending, tx)
		if len(pending) == 20 || from+maxFanOutOutputs >= len(outs) {
			if _, _, err := mineBlockOf(s.Node, pending, "fan-out"); err != nil {
				return nil, err
			}
			pending = nil
		}
		if change == nil {
			if from+maxFanOutOutputs < len(outs) {
				return nil, fmt.Errorf("%w: the load's fan-out left no change for the next one", ErrScenario)
			}
			break
		}
		coins = []spendable{*change}
	}
	return fans, nil
}

// withdrawWith builds and signs, with the stake's own staker key, the
// withdraw of output f (of kind from) of st to dest.
func withdrawWith(st *PresignedStake, from script.OutputKind, f psbt.Funding, dest []byte) (*wire.MsgTx, error) {
	res, err := psbt.BuildWithdraw(psbt.WithdrawRequest{Delegation: st.Delegation, From: from, Funding: f,
		DestPkScript: dest, FeeRate: scenarioFeeRate})
	if err != nil {
		return nil, fmt.Errorf("%w: building the withdraw tx: %w", ErrScenario, err)
	}
	if err := psbt.SignTapscript(res.Packet, 0, st.StakerKey); err != nil {
		return nil, fmt.Errorf("%w: signing the withdraw tx: %w", ErrScenario, err)
	}
	tx, err := psbt.Finalize(res.Packet)
	if err != nil {
		return nil, fmt.Errorf("%w: finalizing the withdraw tx: %w", ErrScenario, err)
	}
	return tx, nil
}

// mineBlockOf broadcasts txs (none spending another; a few at a time),
// mines one block and checks it holds exactly them; it returns the
// block's height and hash.
func mineBlockOf(n *Node, txs []*wire.MsgTx, what string) (int32, chainhash.Hash, error) {
	want := make(map[chainhash.Hash]bool, len(txs))
	for _, tx := range txs {
		want[tx.TxHash()] = true
	}
	// Dependent transactions (a chain of fan-outs) go in order; the
	// others a few at a time.
	err := parallelN(min(4, len(txs)), len(txs), func(i int) error {
		if len(txs[i].TxIn) > 0 && want[txs[i].TxIn[0].PreviousOutPoint.Hash] {
			return nil // sent below, after its parent
		}
		_, err := n.Broadcast(txs[i])
		return err
	})
	if err == nil {
		for _, tx := range txs {
			if len(tx.TxIn) > 0 && want[tx.TxIn[0].PreviousOutPoint.Hash] {
				if _, err = n.Broadcast(tx); err != nil {
					break
				}
			}
		}
	}
	if err != nil {
		return 0, chainhash.Hash{}, fmt.Errorf("%w: broadcasting the %s txs: %w", ErrScenario, what, err)
	}
	hashes, err := n.Mine(1)
	if err != nil {
		return 0, chainhash.Hash{}, fmt.Errorf("%w: mining the %s txs: %w", ErrScenario, what, err)
	}
	h, err := checkBlock(n, hashes[0], want, what)
	return h, hashes[0], err
}

// parallel runs f(0..n-1) on GOMAXPROCS goroutines and returns the first
// error (after which no new call starts).
func parallel(n int, f func(i int) error) error {
	return parallelN(runtime.GOMAXPROCS(0), n, f)
}

func parallelN(workers, n int, f func(i int) error) error {
	if n == 0 {
		return nil
	}
	workers = max(1, min(workers, n))
	var (
		mu    sync.Mutex
		next  int
		first error
		wg    sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if first != nil || next >= n {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

package regtest

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// MaxStakeMany bounds StakeMany's n (and LoadConfig.Stakes): a
// regtest harness, not a load generator for millions of delegations.
const MaxStakeMany = 100_000

// DefaultStakesPerBlock is how many staking transactions StakeMany puts in
// one block when ManyOptions.PerBlock is zero. A staking transaction is
// about 235 bytes (153 vbytes), so 500 of them fill a sixth of btcd's
// default 750 kB block template.
const DefaultStakesPerBlock = 500

// maxFanOutOutputs bounds the outputs of one fan-out transaction: 1,000
// P2WPKH outputs are about 31 kvB, well below the 100 kvB standardness
// limit of both nodes.
const maxFanOutOutputs = 1000

// stakeFundMargin is what StakeMany pays the staker's wallet on top of
// each stake's value: the staking fee (about 306 sat at 2 sat/vB) and a
// change output well above the dust limit.
const stakeFundMargin = 5_000

// ManyOptions describe the stakes of StakeMany. The zero value is usable.
type ManyOptions struct {
	// Value is each stake's amount in satoshis (default 1,000,000).
	Value int64
	// FinalityProviders are indices into Scenario.FinalityProviders:
	// stake i delegates to FinalityProviders[i mod len] alone (one
	// provider per delegation, round robin). nil means every provider of
	// the scenario, in order.
	FinalityProviders []int
	// DistinctStakers gives every stake its own staker key, drawn from the
	// scenario's seed (PresignedStake.StakerKey), so that no two stakes
	// share a staking script, as on a real chain. Without it every stake
	// is Scenario.Staker's, and Scenario.Withdraw and Unbond work on
	// &PresignedStake.Stake as on a stake from Scenario.Stake.
	DistinctStakers bool
	// PerBlock is the most staking transactions mined in one block
	// (default DefaultStakesPerBlock).
	PerBlock int
}

// PresignedStake is a confirmed stake with everything a Babylon
// delegation holds once the covenant committee has verified it:
//
//   - Stake.Slashing: the slashing transaction of the staking output,
//     signed by the staker and adaptor-signed by a covenant quorum;
//   - UnbondingTx: the unbonding transaction, signed by the staker and a
//     covenant quorum, complete and ready to broadcast (not broadcast);
//   - UnbondingSlashing: the slashing transaction of UnbondingTx's output,
//     pre-signed like Stake.Slashing.
//
// Whoever learns the finality provider's secret key can complete the
// slashing of either output with psbt.CompleteSlashing.
type PresignedStake struct {
	Stake
	// FinalityProvider is the index (into Scenario.FinalityProviders) of
	// the one provider the stake delegates to.
	FinalityProvider int
	// StakerKey signs the stake's staking scripts (Scenario.Staker unless
	// ManyOptions.DistinctStakers).
	StakerKey         *btcec.PrivateKey
	UnbondingTx       *wire.MsgTx
	UnbondingSlashing *btcpsbt.Packet
}

// UnbondingFunding is the unbonding output as a psbt.Funding.
func (ps *PresignedStake) UnbondingFunding() psbt.Funding {
	return psbt.Funding{Tx: ps.UnbondingTx, Index: 0}
}

// StakeMany makes n stakes at once, as a watcher test or benchmark needs
// them: stake i delegates to one finality provider (round robin over
// opts.FinalityProviders), and each comes with its pre-signed slashing
// transactions of both outputs and its signed unbonding transaction (see
// PresignedStake).
//
// It is built for many stakes: one payment to the staker's wallet (from
// the node's coins, or see ScenarioConfig.RepeatableFunding), a few
// fan-out transactions splitting it into one coin per stake, mined in one
// block; then every staking transaction, signed and pre-signed on all
// cores, is broadcast and mined opts.PerBlock to a block. Every block is
// read back: it must hold exactly the staking transactions sent for it.
// The stakes are returned in order, with Height the block that confirmed
// each.
func (s *Scenario) StakeMany(n int, opts ManyOptions) ([]*PresignedStake, error) {
	if n < 1 || n > MaxStakeMany {
		return nil, fmt.Errorf("%w: %d stakes (want 1..%d)", ErrInvalidArgument, n, MaxStakeMany)
	}
	plans, err := s.planMany(n, opts)
	if err != nil {
		return nil, err
	}
	if opts.PerBlock == 0 {
		opts.PerBlock = DefaultStakesPerBlock
	}
	if opts.PerBlock < 0 {
		return nil, fmt.Errorf("%w: %d stakes per block", ErrInvalidArgument, opts.PerBlock)
	}
	values := make([]int64, n)
	for i, p := range plans {
		values[i] = p.value + stakeFundMargin
	}
	utxos, err := s.fanOutToWallet(values)
	if err != nil {
		return nil, err
	}
	if _, err := s.Node.Mine(1); err != nil {
		return nil, fmt.Errorf("%w: mining the fan-out: %w", ErrScenario, err)
	}
	stakes, err := s.presignMany(plans, utxos)
	if err != nil {
		return nil, err
	}
	for from := 0; from < n; from += opts.PerBlock {
		batch := stakes[from:min(n, from+opts.PerBlock)]
		txs := make([]*wire.MsgTx, len(batch))
		for i, st := range batch {
			txs[i] = st.Tx
		}
		h, _, err := mineBlockOf(s.Node, txs, "staking")
		if err != nil {
			return nil, err
		}
		for _, st := range batch {
			st.Height = h
		}
	}
	return stakes, nil
}

// manyPlan is one stake of StakeMany before it is built.
type manyPlan struct {
	fp     int
	staker *btcec.PrivateKey
	value  int64
}

// planMany checks opts and draws the stakes' staker keys (from the
// scenario's seed, in order, before anything runs concurrently).
func (s *Scenario) planMany(n int, opts ManyOptions) ([]manyPlan, error) {
	if opts.Value == 0 {
		opts.Value = 1_000_000
	}
	if opts.Value < s.Params.MinStakingValue() || opts.Value > s.Params.MaxStakingValue() {
		return nil, fmt.Errorf("%w: stake value %d sat outside %d..%d", ErrInvalidArgument, opts.Value,
			s.Params.MinStakingValue(), s.Params.MaxStakingValue())
	}
	fps := opts.FinalityProviders
	if fps == nil {
		for i := range s.FinalityProviders {
			fps = append(fps, i)
		}
	}
	if len(fps) == 0 {
		return nil, fmt.Errorf("%w: no finality provider to delegate to", ErrInvalidArgument)
	}
	for _, i := range fps {
		if i < 0 || i >= len(s.FinalityProviders) {
			return nil, fmt.Errorf("%w: no finality provider %d", ErrInvalidArgument, i)
		}
	}
	plans := make([]manyPlan, n)
	for i := range plans {
		plans[i] = manyPlan{fp: fps[i%len(fps)], staker: s.Staker, value: opts.Value}
		if opts.DistinctStakers {
			plans[i].staker = s.newKey()
		}
	}
	return plans, nil
}

// fanOutToWallet pays the staker's wallet one coin of each of values:
// one payment of their sum (and the fan-out fees) to the wallet
// (fundStaker), then fan-out transactions of at most maxFanOutOutputs
// outputs each, every one spending the previous one's change, broadcast
// and not mined. Coin i pays values[i] to Scenario.WalletPkScript.
func (s *Scenario) fanOutToWallet(values []int64) ([]psbt.UTXO, error) {
	wallet := s.WalletPkScript()
	var total int64
	for _, v := range values {
		total += v
	}
	chunks := (len(values) + maxFanOutOutputs - 1) / maxFanOutOutputs
	// Each fan-out is at most about 31.1 kvB plus one input: 70 kvB at
	// 2 sat/vB covers it with room to spare.
	feeBudget := int64(chunks) * 70_000
	funds, err := s.fundStaker(total + feeBudget)
	if err != nil {
		return nil, err
	}
	coins := make([]spendable, len(funds))
	for i, u := range funds {
		coins[i] = spendable{op: u.OutPoint, value: u.Value, pkScript: u.PkScript, key: s.Wallet}
	}
	utxos := make([]psbt.UTXO, 0, len(values))
	for from := 0; from < len(values); from += maxFanOutOutputs {
		part := values[from:min(len(values), from+maxFanOutOutputs)]
		outs := make([]*wire.TxOut, len(part))
		for i, v := range part {
			outs[i] = wire.NewTxOut(v, wallet)
		}
		tx, change, err := payFrom(coins, outs, wallet, s.Wallet)
		if err != nil {
			return nil, fmt.Errorf("%w: fan-out to the staker's wallet: %w", ErrScenario, err)
		}
		if _, err := s.Node.Broadcast(tx); err != nil {
			return nil, fmt.Errorf("%w: broadcasting the fan-out: %w", ErrScenario, err)
		}
		txid := tx.TxHash()
		for i, v := range part {
			utxos = append(utxos, psbt.UTXO{OutPoint: wire.OutPoint{Hash: txid, Index: uint32(i)}, Value: v, PkScript: wallet})
		}
		if change == nil {
			if from+len(part) < len(values) {
				return nil, fmt.Errorf("%w: the fan-out left no change for the next one", ErrScenario)
			}
			break
		}
		coins = []spendable{*change}
	}
	return utxos, nil
}

// presignMany builds, signs and pre-signs every stake of plans, funded by
// the coin of the same index, on all cores. Nothing is broadcast.
func (s *Scenario) presignMany(plans []manyPlan, utxos []psbt.UTXO) ([]*PresignedStake, error) {
	out := make([]*PresignedStake, len(plans))
	workers := min(runtime.GOMAXPROCS(0), len(plans))
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var stopOnce sync.Once
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ps, err := s.newPresigner()
			if err != nil {
				errs <- err
				stopOnce.Do(func() { close(stop) })
				return
			}
			defer ps.zero()
			for i := range jobs {
				st, err := ps.stake(plans[i], utxos[i])
				if err != nil {
					errs <- fmt.Errorf("stake %d: %w", i, err)
					stopOnce.Do(func() { close(stop) })
					return
				}
				out[i] = st
			}
		}()
	}
feed:
	for i := range plans {
		select {
		case jobs <- i:
		case <-stop:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return out, nil
}

// presigner signs as every party of the scenario but the finality
// providers: the staking funding (Scenario.Wallet), the staker's leaves,
// and a covenant quorum (one CovenantSigner per member, reused). One per
// goroutine.
type presigner struct {
	wallet   *btcec.PrivateKey
	covenant []*psbt.CovenantSigner
	s        *Scenario
}

func (s *Scenario) newPresigner() (*presigner, error) {
	p := &presigner{wallet: s.Wallet, s: s}
	for _, k := range s.Covenant[:s.Params.CovenantQuorum()] {
		c, err := psbt.NewCovenantSigner(k)
		if err != nil {
			p.zero()
			return nil, fmt.Errorf("%w: %w", ErrScenario, err)
		}
		p.covenant = append(p.covenant, c)
	}
	return p, nil
}

func (p *presigner) zero() {
	for _, c := range p.covenant {
		c.Zero()
	}
}

// stake builds the staking transaction of plan spending coin (paying the
// change back to the wallet), then pre-signs its slashing, unbonding and
// unbonding-slashing transactions.
func (p *presigner) stake(plan manyPlan, coin psbt.UTXO) (*PresignedStake, error) {
	s := p.s
	d := psbt.Delegation{Params: s.Params, Staker: plan.staker.PubKey(), StakingTime: s.StakingTime,
		FinalityProviders: []*btcec.PublicKey{s.FinalityProviders[plan.fp].PubKey()}}
	res, err := psbt.BuildStaking(psbt.StakingRequest{Delegation: d, Value: plan.value, FeeRate: scenarioFeeRate,
		ChangePkScript: s.WalletPkScript(), UTXOs: []psbt.UTXO{coin}})
	if err != nil {
		return nil, fmt.Errorf("%w: building the staking tx: %w", ErrScenario, err)
	}
	tx, idx, err := finishStaking(res.Packet, p.wallet, d)
	if err != nil {
		return nil, err
	}
	st := &PresignedStake{
		Stake: Stake{Delegation: d, Tx: tx, Txid: tx.TxHash(), OutputIndex: idx, Value: plan.value,
			FundingTxid: coin.OutPoint.Hash, Description: res.Description},
		FinalityProvider: plan.fp, StakerKey: plan.staker,
	}
	if st.Slashing, err = p.slashing(d, plan.staker, script.StakingOutputKind, st.Funding()); err != nil {
		return nil, err
	}
	if st.UnbondingTx, err = p.unbonding(d, plan.staker, st.Funding()); err != nil {
		return nil, err
	}
	if st.UnbondingSlashing, err = p.slashing(d, plan.staker, script.UnbondingOutputKind, st.UnbondingFunding()); err != nil {
		return nil, err
	}
	return st, nil
}

// slashing is presignSlashing with the stake's own staker key and the
// presigner's covenant signers.
func (p *presigner) slashing(d psbt.Delegation, staker *btcec.PrivateKey, from script.OutputKind, f psbt.Funding) (*btcpsbt.Packet, error) {
	res, err := psbt.BuildSlashing(d, from, f)
	if err != nil {
		return nil, fmt.Errorf("%w: building the slashing tx: %w", ErrScenario, err)
	}
	if err := psbt.SignTapscript(res.Packet, 0, staker); err != nil {
		return nil, fmt.Errorf("%w: staker signing the slashing tx: %w", ErrScenario, err)
	}
	for _, c := range p.covenant {
		if _, err := c.Sign(res.Packet, 0, d); err != nil {
			return nil, fmt.Errorf("%w: covenant adaptor-signing the slashing tx: %w", ErrScenario, err)
		}
	}
	return res.Packet, nil
}

// unbonding builds the unbonding transaction of the staking output f and
// has the staker and the covenant quorum sign it; it returns the
// finalized transaction.
func (p *presigner) unbonding(d psbt.Delegation, staker *btcec.PrivateKey, f psbt.Funding) (*wire.MsgTx, error) {
	res, err := psbt.BuildUnbonding(d, f)
	if err != nil {
		return nil, fmt.Errorf("%w: building the unbonding tx: %w", ErrScenario, err)
	}
	if err := psbt.SignTapscript(res.Packet, 0, staker); err != nil {
		return nil, fmt.Errorf("%w: staker signing the unbonding tx: %w", ErrScenario, err)
	}
	for _, c := range p.covenant {
		if _, err := c.Sign(res.Packet, 0, d); err != nil {
			return nil, fmt.Errorf("%w: covenant signing the unbonding tx: %w", ErrScenario, err)
		}
	}
	tx, err := psbt.Finalize(res.Packet)
	if err != nil {
		return nil, fmt.Errorf("%w: finalizing the unbonding tx: %w", ErrScenario, err)
	}
	if err := psbt.ValidateUnbondingTx(tx, f.Tx, d); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	return tx, nil
}

// UnbondPresigned broadcasts ps's pre-signed unbonding transaction, mines
// one block and checks it confirmed there. The returned Spend carries
// UnbondingSlashing as its Slashing, so Scenario.Slash(&ps.Stake, sp, key)
// completes the slashing of the unbonding output (and, when ps is
// Scenario.Staker's, Scenario.Withdraw(&ps.Stake, sp) withdraws it).
func (s *Scenario) UnbondPresigned(ps *PresignedStake) (*Spend, error) {
	if ps == nil || ps.UnbondingTx == nil {
		return nil, fmt.Errorf("%w: no pre-signed unbonding tx", ErrInvalidArgument)
	}
	sp := &Spend{Kind: "unbonding", From: script.StakingOutputKind, Funding: ps.Funding(), Tx: ps.UnbondingTx,
		Slashing: ps.UnbondingSlashing}
	var err error
	if sp.Txid, sp.Height, err = s.confirm(ps.UnbondingTx, "unbonding"); err != nil {
		return nil, err
	}
	return sp, nil
}

// checkBlock reads block hash and checks that it holds the coinbase and
// exactly the transactions of want; it returns the block's height.
func checkBlock(n *Node, hash chainhash.Hash, want map[chainhash.Hash]bool, what string) (int32, error) {
	b, err := n.GetBlock(hash)
	if err != nil {
		return 0, fmt.Errorf("%w: reading back the block of the %s txs: %w", ErrScenario, what, err)
	}
	if len(b.Transactions) != len(want)+1 {
		return 0, fmt.Errorf("%w: block %s holds %d transactions besides the coinbase, want the %d %s txs sent",
			ErrScenario, hash, len(b.Transactions)-1, len(want), what)
	}
	for _, tx := range b.Transactions[1:] {
		if !want[tx.TxHash()] {
			return 0, fmt.Errorf("%w: block %s holds %s, not one of the %s txs sent", ErrScenario, hash, tx.TxHash(), what)
		}
	}
	hdr, err := n.Chain().BlockHeader(context.Background(), hash)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrScenario, n.wrap(err))
	}
	return int32(hdr.Height), nil
}

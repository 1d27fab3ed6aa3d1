package regtest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand"

	"github.com/btcstake/btcstake/params"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chainhash/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/eots"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// ErrScenario: a lifecycle step could not be carried out (a builder or
// signer refused, the node refused a transaction the step must get
// accepted, or a check of the step's own result failed). It wraps the
// underlying kind (a psbt, eots or script kind, or a node kind such as
// ErrScriptFailure), so errors.Is sees both.
var ErrScenario = errors.New("lifecycle step failed")

// ScenarioConfig sets up a Scenario. The zero value is a usable default:
// one finality provider, a 2-of-3 covenant committee, staking time 10 and
// unbonding time 5 blocks, slashing rate 0.1.
type ScenarioConfig struct {
	// Seed derives every key of the scenario (staker, wallet, finality
	// providers, covenant committee, slashing key) and the vote contents,
	// so a run can be repeated with the same keys. Tests log it. These are
	// throwaway regtest keys: the derivation (math/rand) is not fit for
	// real funds.
	Seed int64
	// FinalityProviders is the number of finality providers every stake
	// delegates to (default 1).
	FinalityProviders int
	// CovenantMembers and CovenantQuorum size the committee (default 3
	// members, quorum the smallest majority).
	CovenantMembers int
	CovenantQuorum  uint32
	// StakingTime and UnbondingTime are the time locks in blocks (default
	// 10 and 5).
	StakingTime   uint16
	UnbondingTime uint16
	// SlashingRate is the slashed share (default "0.1").
	SlashingRate string
	// ChainID is the EOTS chain id the finality providers derive their
	// randomness for (default "btcstake-regtest").
	ChainID []byte
	// RepeatableFunding makes Stake fund the staker's wallet from
	// coinbases of blocks the harness builds itself (Node.MineCoinbase)
	// instead of a payment from the node's coins, and wait the 100 blocks
	// until they mature. The node's own coinbases carry a random key and
	// (btcd) a random extra nonce, so a payment from them gets a new txid
	// every run, and with it the staking transaction and everything that
	// spends it. The harness's coinbases depend only on the height, the
	// seed's wallet key and the value: run on a fresh node with the same
	// seed and the same steps, every transaction of the scenario repeats
	// its txid (block hashes still differ: block times do).
	RepeatableFunding bool
}

// Scenario is a cast of parties with their keys, the protocol params they
// share and the node they act on: the staking lifecycle as steps (Stake,
// Unbond, Withdraw, DoubleSign, Slash, RecoverKeyFromChain, ScanPhaseOne),
// each of which shows its transactions to the node and returns what the
// node said. The integration tests and `btcstake demo` run the same steps.
//
// A Scenario does not own the node's lifetime (the caller stops it). Steps
// mine blocks, so two scenarios sharing a node must not run concurrently:
// one's mining would move the other's time-lock boundaries. A Scenario is
// not safe for concurrent use.
type Scenario struct {
	Node   *Node
	Params *params.Params
	Seed   int64
	// Staker signs the staking scripts; Wallet is the staker's ordinary
	// wallet key (P2WPKH): it funds stakes, receives their change and
	// every withdrawal.
	Staker *btcec.PrivateKey
	Wallet *btcec.PrivateKey
	// FinalityProviders and Covenant hold the secret keys of every finality
	// provider and covenant member (Params.CovenantKeys are Covenant's
	// public keys, in this order).
	FinalityProviders []*btcec.PrivateKey
	Covenant          []*btcec.PrivateKey
	// SlashingKey owns Params.SlashingPkScript (P2WPKH).
	SlashingKey *btcec.PrivateKey
	StakingTime uint16
	ChainID     []byte

	rng        *rand.Rand
	repeatable bool
}

// NewScenario generates the parties from cfg.Seed and validates the params.
func NewScenario(n *Node, cfg ScenarioConfig) (*Scenario, error) {
	if n == nil {
		return nil, fmt.Errorf("%w: nil node", ErrInvalidArgument)
	}
	if cfg.FinalityProviders == 0 {
		cfg.FinalityProviders = 1
	}
	if cfg.CovenantMembers == 0 {
		cfg.CovenantMembers = 3
	}
	if cfg.CovenantQuorum == 0 {
		cfg.CovenantQuorum = uint32(cfg.CovenantMembers/2 + 1)
	}
	if cfg.StakingTime == 0 {
		cfg.StakingTime = 10
	}
	if cfg.UnbondingTime == 0 {
		cfg.UnbondingTime = 5
	}
	if cfg.SlashingRate == "" {
		cfg.SlashingRate = "0.1"
	}
	if cfg.ChainID == nil {
		cfg.ChainID = []byte("btcstake-regtest")
	}
	if cfg.FinalityProviders < 0 || cfg.CovenantMembers < 0 {
		return nil, fmt.Errorf("%w: negative party count", ErrInvalidArgument)
	}
	rng := rand.New(rand.NewSource(cfg.Seed))
	s := &Scenario{Node: n, Seed: cfg.Seed, StakingTime: cfg.StakingTime, ChainID: cfg.ChainID, rng: rng,
		repeatable: cfg.RepeatableFunding}
	s.Staker = s.newKey()
	s.Wallet = s.newKey()
	s.SlashingKey = s.newKey()
	for range cfg.FinalityProviders {
		s.FinalityProviders = append(s.FinalityProviders, s.newKey())
	}
	covPubs := make([]*btcec.PublicKey, 0, cfg.CovenantMembers)
	for range cfg.CovenantMembers {
		k := s.newKey()
		s.Covenant = append(s.Covenant, k)
		covPubs = append(covPubs, k.PubKey())
	}
	var err error
	s.Params, err = params.New(params.Config{
		CovenantKeys: covPubs, CovenantQuorum: cfg.CovenantQuorum,
		MinStakingValue: 10_000, MaxStakingValue: 10_000_000_000,
		MinStakingTime: 1, MaxStakingTime: 65535,
		UnbondingTime: cfg.UnbondingTime, UnbondingFee: 1_000,
		SlashingPkScript: p2wpkh(s.SlashingKey.PubKey()), SlashingRate: cfg.SlashingRate, MinSlashingFee: 1_000,
		Tag: []byte("bbt4"),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	return s, nil
}

// newKey draws a secret key from the scenario's seeded source.
func (s *Scenario) newKey() *btcec.PrivateKey {
	var b [32]byte
	for {
		s.rng.Read(b[:])
		k, _ := btcec.PrivKeyFromBytes(b[:])
		if !k.Key.IsZero() {
			return k
		}
	}
}

func p2wpkh(pk *btcec.PublicKey) []byte {
	return append([]byte{0x00, 0x14}, address.Hash160(pk.SerializeCompressed())...)
}

// WalletPkScript is the staker's wallet script (P2WPKH): stakes are funded
// from it, and change and withdrawals go to it.
func (s *Scenario) WalletPkScript() []byte { return p2wpkh(s.Wallet.PubKey()) }

// scenarioFeeRate is the fee rate of staking and withdraw transactions:
// 2 sat/vB, twice the node's relay minimum.
const scenarioFeeRate = psbt.FeeRate(2000)

// Attempt is a transaction shown to the node with testmempoolaccept (never
// broadcast) and the node's verdict: nil means it would have accepted it,
// otherwise a *RejectError (errors.Is with ErrSequenceLock,
// ErrScriptFailure, ...).
type Attempt struct {
	What   string
	Tx     *wire.MsgTx
	Height int32 // the tip when the node was asked (the tx would go into Height+1)
	Err    error
}

// StakeOptions describe one stake.
type StakeOptions struct {
	// Value is the staked amount in satoshis (default 1,000,000).
	Value int64
	// FinalityProviders are indices into Scenario.FinalityProviders;
	// nil means all of them.
	FinalityProviders []int
	// PhaseOne adds the phase-1 OP_RETURN (exactly one finality provider).
	PhaseOne bool
	// Early, when set, shows the node a withdraw of the new staking output
	// in the very next block (long before the staking time) and records
	// the verdict in Stake.Early.
	Early bool
}

// Stake is a confirmed staking transaction.
type Stake struct {
	Delegation  psbt.Delegation
	Tx          *wire.MsgTx
	Txid        chainhash.Hash
	OutputIndex uint32 // the staking output
	Value       int64
	Height      int32 // the block that confirmed it
	FundingTxid chainhash.Hash
	Description psbt.Description
	PhaseOne    bool
	// Slashing is the slashing transaction of the staking output as the
	// delegation is accepted with it: signed by the staker and
	// adaptor-signed by a quorum of the covenant (one signature per
	// finality provider, encrypted to that provider's key). Anyone who
	// learns a provider's secret key can complete it (Slash).
	Slashing *btcpsbt.Packet
	// Early is the verdict on a premature withdraw (StakeOptions.Early).
	Early *Attempt
}

// Funding is the staking output as a psbt.Funding.
func (st *Stake) Funding() psbt.Funding { return psbt.Funding{Tx: st.Tx, Index: st.OutputIndex} }

// Spend is a confirmed transaction spending a staking-protocol output:
// an unbonding, slashing or withdraw transaction.
type Spend struct {
	Kind        string            // "unbonding", "slashing" or "withdraw"
	From        script.OutputKind // the kind of output it spends
	Funding     psbt.Funding      // the output it spends
	Tx          *wire.MsgTx
	Txid        chainhash.Hash
	Height      int32 // the block that confirmed it
	Description psbt.Description
	// Premature is, for a withdraw, the node's verdict on the same
	// transaction one block before its time lock matured (nil when the
	// chain was already past that point); Mature the verdict at the lock,
	// just before it was broadcast.
	Premature, Mature *Attempt
	// ShortQuorum is, for an unbonding, the node's verdict on the same
	// transaction with one covenant signature fewer than the quorum
	// (built by hand: Finalize refuses to).
	ShortQuorum *Attempt
	// Slashing is, for an unbonding, the pre-signed slashing transaction of
	// the unbonding output (see Stake.Slashing).
	Slashing *btcpsbt.Packet
}

// next returns the output of sp that the next step of the lifecycle
// spends: the unbonding output of an unbonding, the change output of a
// slashing.
func (s *Scenario) next(st *Stake, sp *Spend) (script.OutputKind, psbt.Funding, error) {
	if sp == nil {
		return script.StakingOutputKind, st.Funding(), nil
	}
	switch sp.Kind {
	case "unbonding":
		return script.UnbondingOutputKind, psbt.Funding{Tx: sp.Tx, Index: 0}, nil
	case "slashing":
		ch, err := st.Delegation.SlashingChangeOutput()
		if err != nil {
			return 0, psbt.Funding{}, err
		}
		for i, o := range sp.Tx.TxOut {
			if bytes.Equal(o.PkScript, ch.PkScript) {
				return script.SlashingChangeOutputKind, psbt.Funding{Tx: sp.Tx, Index: uint32(i)}, nil
			}
		}
		return 0, psbt.Funding{}, fmt.Errorf("%w: slashing tx %s has no change output", ErrScenario, sp.Txid)
	}
	return 0, psbt.Funding{}, fmt.Errorf("%w: a %s output has no time-lock path", ErrInvalidArgument, sp.Kind)
}

// delegation returns the delegation of opts' finality providers.
func (s *Scenario) delegation(fps []int) (psbt.Delegation, error) {
	if fps == nil {
		for i := range s.FinalityProviders {
			fps = append(fps, i)
		}
	}
	d := psbt.Delegation{Params: s.Params, Staker: s.Staker.PubKey(), StakingTime: s.StakingTime}
	for _, i := range fps {
		if i < 0 || i >= len(s.FinalityProviders) {
			return d, fmt.Errorf("%w: no finality provider %d", ErrInvalidArgument, i)
		}
		d.FinalityProviders = append(d.FinalityProviders, s.FinalityProviders[i].PubKey())
	}
	return d, nil
}

// Stake funds the staker's wallet (from the node's coins, or see RepeatableFunding), builds, signs and
// broadcasts the staking transaction and mines it. It then has the staker
// and a quorum of the covenant pre-sign the slashing transaction of the
// staking output (Stake.Slashing), as a delegation is accepted.
func (s *Scenario) Stake(opts StakeOptions) (*Stake, error) {
	if opts.Value == 0 {
		opts.Value = 1_000_000
	}
	d, err := s.delegation(opts.FinalityProviders)
	if err != nil {
		return nil, err
	}
	wallet := s.WalletPkScript()
	fundValue := opts.Value + 20_000
	utxos, err := s.fundStaker(fundValue)
	if err != nil {
		return nil, err
	}
	res, err := psbt.BuildStaking(psbt.StakingRequest{
		Delegation: d, Value: opts.Value, FeeRate: scenarioFeeRate, ChangePkScript: wallet, PhaseOne: opts.PhaseOne,
		UTXOs: utxos,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: building the staking tx: %w", ErrScenario, err)
	}
	tx, idx, err := finishStaking(res.Packet, s.Wallet, d)
	if err != nil {
		return nil, err
	}
	txid, height, err := s.confirm(tx, "staking")
	if err != nil {
		return nil, err
	}
	st := &Stake{Delegation: d, Tx: tx, Txid: txid, OutputIndex: idx, Value: opts.Value, Height: height,
		FundingTxid: utxos[0].OutPoint.Hash, Description: res.Description, PhaseOne: opts.PhaseOne}
	if st.Slashing, err = s.presignSlashing(d, script.StakingOutputKind, st.Funding()); err != nil {
		return nil, err
	}
	if opts.Early {
		w, _, err := s.buildWithdraw(d, script.StakingOutputKind, st.Funding())
		if err != nil {
			return nil, err
		}
		st.Early = s.attempt("withdraw the stake one block after staking", w)
	}
	return st, nil
}

// fundStaker pays value to the staker's wallet and returns the coins:
// one payment from the node's coins, or, with RepeatableFunding, matured
// coinbases of the harness's own blocks (as many as the block reward
// needs).
func (s *Scenario) fundStaker(value int64) ([]psbt.UTXO, error) {
	wallet := s.WalletPkScript()
	if !s.repeatable {
		op, fundTx, err := s.Node.Fund(wallet, value)
		if err != nil {
			return nil, fmt.Errorf("%w: funding the staker: %w", ErrScenario, err)
		}
		return []psbt.UTXO{{OutPoint: op, Value: value, PkScript: wallet, PrevTx: fundTx}}, nil
	}
	var utxos []psbt.UTXO
	for left := value; left > 0; {
		tip, err := s.Node.Height()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrScenario, err)
		}
		v := min(left, s.Node.subsidy(tip+1))
		cb, _, err := s.Node.MineCoinbase(wallet, v, []byte("btcstake repeatable funding"))
		if err != nil {
			return nil, fmt.Errorf("%w: funding the staker: %w", ErrScenario, err)
		}
		utxos = append(utxos, psbt.UTXO{OutPoint: wire.OutPoint{Hash: cb.TxHash()}, Value: v, PkScript: wallet, PrevTx: cb})
		left -= v
	}
	if _, err := s.Node.Mine(int(s.Node.Params().CoinbaseMaturity)); err != nil {
		return nil, fmt.Errorf("%w: maturing the staker's coinbases: %w", ErrScenario, err)
	}
	return utxos, nil
}

// confirm broadcasts tx, mines one block and checks tx is in it.
func (s *Scenario) confirm(tx *wire.MsgTx, what string) (chainhash.Hash, int32, error) {
	txid, err := s.Node.Broadcast(tx)
	if err != nil {
		return txid, 0, fmt.Errorf("%w: broadcasting the %s tx: %w", ErrScenario, what, err)
	}
	if _, err := s.Node.Mine(1); err != nil {
		return txid, 0, fmt.Errorf("%w: mining the %s tx: %w", ErrScenario, what, err)
	}
	confs, err := s.Node.Confirmations(txid)
	if err != nil {
		return txid, 0, fmt.Errorf("%w: the %s tx %s: %w", ErrScenario, what, txid, err)
	}
	if confs != 1 {
		return txid, 0, fmt.Errorf("%w: the %s tx %s has %d confirmations after one block, want 1", ErrScenario, what, txid, confs)
	}
	h, err := s.Node.Height()
	if err != nil {
		return txid, 0, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	return txid, h, nil
}

// attempt asks the node about tx without broadcasting it.
func (s *Scenario) attempt(what string, tx *wire.MsgTx) *Attempt {
	h, err := s.Node.Height()
	if err == nil {
		err = s.Node.TestMempoolAccept(tx)
	}
	return &Attempt{What: what, Tx: tx, Height: h, Err: err}
}

// presignSlashing builds the slashing tx of an output and has the staker
// sign it and the first quorum covenant members adaptor-sign it.
func (s *Scenario) presignSlashing(d psbt.Delegation, from script.OutputKind, f psbt.Funding) (*btcpsbt.Packet, error) {
	res, err := psbt.BuildSlashing(d, from, f)
	if err != nil {
		return nil, fmt.Errorf("%w: building the slashing tx: %w", ErrScenario, err)
	}
	if err := psbt.SignTapscript(res.Packet, 0, s.Staker); err != nil {
		return nil, fmt.Errorf("%w: staker signing the slashing tx: %w", ErrScenario, err)
	}
	// Covenant members sign through psbt.CovenantSigner, which checks the
	// slashing tx against the delegation before it signs anything.
	for _, k := range s.Covenant[:s.Params.CovenantQuorum()] {
		if err := covenantSign(res.Packet, k, d); err != nil {
			return nil, fmt.Errorf("%w: covenant adaptor-signing the slashing tx: %w", ErrScenario, err)
		}
	}
	return res.Packet, nil
}

// Unbond has the staker and the covenant members covenant (indices into
// Scenario.Covenant; nil means the first quorum of them) sign the
// unbonding transaction of st, and broadcasts and mines it. Before that it
// shows the node the same transaction with one covenant signature fewer
// than the quorum (Spend.ShortQuorum). It also pre-signs the slashing
// transaction of the unbonding output (Spend.Slashing).
func (s *Scenario) Unbond(st *Stake, covenant []int) (*Spend, error) {
	if covenant == nil {
		for i := range int(s.Params.CovenantQuorum()) {
			covenant = append(covenant, i)
		}
	}
	res, err := psbt.BuildUnbonding(st.Delegation, st.Funding())
	if err != nil {
		return nil, fmt.Errorf("%w: building the unbonding tx: %w", ErrScenario, err)
	}
	var keys []*btcec.PrivateKey
	for _, i := range covenant {
		if i < 0 || i >= len(s.Covenant) {
			return nil, fmt.Errorf("%w: no covenant member %d", ErrInvalidArgument, i)
		}
		keys = append(keys, s.Covenant[i])
	}
	if err := psbt.SignTapscript(res.Packet, 0, s.Staker); err != nil {
		return nil, fmt.Errorf("%w: staker signing the unbonding tx: %w", ErrScenario, err)
	}
	// Covenant members sign through psbt.CovenantSigner, which checks the
	// unbonding tx against the delegation before it signs.
	for _, k := range keys {
		if err := covenantSign(res.Packet, k, st.Delegation); err != nil {
			return nil, fmt.Errorf("%w: covenant signing the unbonding tx: %w", ErrScenario, err)
		}
	}
	tx, err := psbt.Finalize(res.Packet)
	if err != nil {
		return nil, fmt.Errorf("%w: finalizing the unbonding tx: %w", ErrScenario, err)
	}
	if err := psbt.ValidateUnbondingTx(tx, st.Tx, st.Delegation); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	sp := &Spend{Kind: "unbonding", From: script.StakingOutputKind, Funding: st.Funding(), Tx: tx, Description: res.Description}
	short, err := DropCovenantSignature(tx, 0)
	if err != nil {
		return nil, err
	}
	sp.ShortQuorum = s.attempt(fmt.Sprintf("unbond with %d of %d covenant signatures", s.Params.CovenantQuorum()-1, s.Params.CovenantQuorum()), short)
	if sp.Txid, sp.Height, err = s.confirm(tx, "unbonding"); err != nil {
		return nil, err
	}
	if sp.Slashing, err = s.presignSlashing(st.Delegation, script.UnbondingOutputKind, psbt.Funding{Tx: tx, Index: 0}); err != nil {
		return nil, err
	}
	return sp, nil
}

// DropCovenantSignature returns a copy of tx whose input idx (a finalized
// unbonding or slashing script-path spend) carries one covenant signature
// fewer: the first non-empty covenant slot is emptied. It is how a witness
// short of the quorum is built, since Finalize refuses to.
func DropCovenantSignature(tx *wire.MsgTx, idx int) (*wire.MsgTx, error) {
	if tx == nil || idx < 0 || idx >= len(tx.TxIn) {
		return nil, fmt.Errorf("%w: no input %d", ErrInvalidArgument, idx)
	}
	spend, err := script.ParseWitness(tx.TxIn[idx].Witness)
	if err != nil {
		return nil, fmt.Errorf("%w: input %d: %v", ErrInvalidArgument, idx, err)
	}
	if spend.Leaf.Kind != script.UnbondingPath && spend.Leaf.Kind != script.SlashingPath {
		return nil, fmt.Errorf("%w: input %d does not spend a covenant path", ErrInvalidArgument, idx)
	}
	// The first covenant item of the witness is the largest key's slot
	// (docs/spec.md §5): empty the first filled one in that order.
	for i := len(spend.Covenant) - 1; i >= 0; i-- {
		if spend.Covenant[i].Sig != nil {
			spend.Covenant[i].Sig = nil
			cp := tx.Copy()
			cp.TxIn[idx].Witness = spend.Witness()
			return cp, nil
		}
	}
	return nil, fmt.Errorf("%w: input %d has no covenant signature", ErrInvalidArgument, idx)
}

// buildWithdraw builds and signs the staker's withdraw through the
// timelock path of the output f, paying the wallet.
func (s *Scenario) buildWithdraw(d psbt.Delegation, from script.OutputKind, f psbt.Funding) (*wire.MsgTx, psbt.Description, error) {
	res, err := psbt.BuildWithdraw(psbt.WithdrawRequest{Delegation: d, From: from, Funding: f,
		DestPkScript: s.WalletPkScript(), FeeRate: scenarioFeeRate})
	if err != nil {
		return nil, psbt.Description{}, fmt.Errorf("%w: building the withdraw tx: %w", ErrScenario, err)
	}
	if err := psbt.SignTapscript(res.Packet, 0, s.Staker); err != nil {
		return nil, res.Description, fmt.Errorf("%w: signing the withdraw tx: %w", ErrScenario, err)
	}
	tx, err := psbt.Finalize(res.Packet)
	if err != nil {
		return nil, res.Description, fmt.Errorf("%w: finalizing the withdraw tx: %w", ErrScenario, err)
	}
	return tx, res.Description, nil
}

// Withdraw has the staker take back, through its timelock path, the
// output that prev left (nil: the staking output of st; an unbonding: its
// unbonding output; a slashing: its change output). It mines up to one
// block before the lock matures and records the node's verdict on the
// withdraw there (Spend.Premature; the node should say ErrSequenceLock),
// mines one more block, asks again (Spend.Mature), broadcasts the withdraw
// and mines it: it is confirmed in the first block the lock allows,
// Funding's height plus the lock.
func (s *Scenario) Withdraw(st *Stake, prev *Spend) (*Spend, error) {
	from, f, err := s.next(st, prev)
	if err != nil {
		return nil, err
	}
	tx, desc, err := s.buildWithdraw(st.Delegation, from, f)
	if err != nil {
		return nil, err
	}
	lock := int32(tx.TxIn[0].Sequence)
	fundedAt, err := s.confirmedAt(f.Tx.TxHash())
	if err != nil {
		return nil, err
	}
	// BIP 68: the spend may go into block fundedAt+lock at the earliest;
	// the mempool judges a tx for the block after the tip.
	first := fundedAt + lock
	sp := &Spend{Kind: "withdraw", From: from, Funding: f, Tx: tx, Description: desc}
	if tip, err := s.Node.Height(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	} else if tip <= first-2 {
		if _, err := s.Node.MineTo(first - 2); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrScenario, err)
		}
		sp.Premature = s.attempt(fmt.Sprintf("withdraw in block %d, one before the %d-block lock matures", first-1, lock), tx)
	}
	if _, err := s.Node.MineTo(first - 1); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	sp.Mature = s.attempt(fmt.Sprintf("withdraw in block %d, when the %d-block lock matures", first, lock), tx)
	if sp.Txid, sp.Height, err = s.confirm(tx, "withdraw"); err != nil {
		return nil, err
	}
	return sp, nil
}

// confirmedAt is the height of the block that confirmed txid.
func (s *Scenario) confirmedAt(txid chainhash.Hash) (int32, error) {
	confs, err := s.Node.Confirmations(txid)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	if confs < 1 {
		return 0, fmt.Errorf("%w: %s is not confirmed", ErrScenario, txid)
	}
	tip, err := s.Node.Height()
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	return tip - int32(confs) + 1, nil
}

// Vote is one finality vote: the message and its EOTS signature.
type Vote struct {
	AppHash   [32]byte
	Message   []byte // eots.VoteMessage(height, AppHash)
	Signature eots.Signature
}

// DoubleSign is a finality provider's equivocation and its consequence.
type DoubleSign struct {
	FinalityProvider int // index into Scenario.FinalityProviders
	PublicKey        *btcec.PublicKey
	Height           uint64
	// The provider's randomness commitment: PublicRand of heights
	// CommitStart.. CommitStart+CommitCount-1, their Merkle root, the
	// provider's signature over it, and the inclusion proof of the
	// randomness used at Height.
	CommitStart, CommitCount uint64
	CommitRoot               [eots.HashSize]byte
	CommitSig                [64]byte
	PublicRand               eots.PublicRand
	Proof                    eots.Proof
	// Votes are two conflicting votes at Height, both signed with the
	// committed randomness.
	Votes [2]Vote
	// Extracted is the provider's secret key as anyone computes it from
	// the two votes (eots.Extract); BIP-340-normalised.
	Extracted *btcec.PrivateKey
}

// DoubleSign has finality provider fp commit to its public randomness for
// a range of heights, then sign two conflicting finality votes (two
// different app hashes) at height with the committed randomness. Then it
// plays "anyone": it checks the commitment, the inclusion proof and both
// signatures from public data only and extracts the provider's secret key
// with eots.Extract. It fails with ErrScenario if the extracted key does
// not control the provider's public key.
func (s *Scenario) DoubleSign(fp int, height uint64) (*DoubleSign, error) {
	if fp < 0 || fp >= len(s.FinalityProviders) {
		return nil, fmt.Errorf("%w: no finality provider %d", ErrInvalidArgument, fp)
	}
	sk, err := eots.NewSecretKey(s.FinalityProviders[fp])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	defer sk.Zero()
	pk := s.FinalityProviders[fp].PubKey()
	ds := &DoubleSign{FinalityProvider: fp, PublicKey: pk, Height: height, CommitCount: 16}
	if height >= 8 {
		ds.CommitStart = height - 8
	}
	// The provider commits to its randomness ahead of time.
	rands, err := eots.PublicRandList(sk, s.ChainID, ds.CommitStart, ds.CommitCount, 1)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	root, proofs := eots.CommitProofs(rands)
	ds.CommitRoot = root
	if ds.CommitSig, err = eots.SignCommit(sk, ds.CommitStart, ds.CommitCount, root); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	idx := height - ds.CommitStart
	ds.PublicRand, ds.Proof = rands[idx], proofs[idx]

	// Two conflicting blocks at the same height; the provider votes for
	// both with the randomness it committed for that height.
	k, err := eots.DeriveRand(sk, s.ChainID, height)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	defer k.Zero()
	if k.PublicRand() != ds.PublicRand {
		return nil, fmt.Errorf("%w: derived randomness differs from the committed one", ErrScenario)
	}
	for i := range ds.Votes {
		v := &ds.Votes[i]
		v.AppHash = sha256.Sum256(fmt.Appendf(nil, "seed %d height %d fork %d %d", s.Seed, height, i, s.rng.Int63()))
		v.Message = eots.VoteMessage(height, v.AppHash)
		if v.Signature, err = eots.Sign(sk, k, v.Message); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrScenario, err)
		}
	}

	// Anyone: check the public evidence, then extract.
	if err := eots.VerifyCommit(pk, ds.CommitStart, ds.CommitCount, ds.CommitRoot, ds.CommitSig[:]); err != nil {
		return nil, fmt.Errorf("%w: randomness commitment: %w", ErrScenario, err)
	}
	if err := eots.VerifyInclusion(ds.CommitRoot, ds.CommitCount, idx, ds.PublicRand[:], &ds.Proof); err != nil {
		return nil, fmt.Errorf("%w: randomness inclusion: %w", ErrScenario, err)
	}
	for _, v := range ds.Votes {
		if err := eots.Verify(pk, ds.PublicRand, v.Message, v.Signature); err != nil {
			return nil, fmt.Errorf("%w: vote signature: %w", ErrScenario, err)
		}
	}
	xk, err := eots.Extract(pk, ds.PublicRand, ds.Votes[0].Message, ds.Votes[0].Signature, ds.Votes[1].Message, ds.Votes[1].Signature)
	if err != nil {
		return nil, fmt.Errorf("%w: extracting the key: %w", ErrScenario, err)
	}
	ds.Extracted = xk.PrivKey()
	if !sameXOnly(ds.Extracted.PubKey(), pk) {
		return nil, fmt.Errorf("%w: the extracted key does not control the finality provider's key", ErrScenario)
	}
	return ds, nil
}

func sameXOnly(a, b *btcec.PublicKey) bool {
	return bytes.Equal(schnorr.SerializePubKey(a), schnorr.SerializePubKey(b))
}

// Slash completes the pre-signed slashing transaction of the output prev
// left (nil: st's staking output; an unbonding: its unbonding output) with
// a finality provider's secret key (typically DoubleSign.Extracted):
// psbt.CompleteSlashing decrypts the covenant adaptor signatures and adds
// the provider's signature. It checks the transaction against the params,
// broadcasts and mines it.
func (s *Scenario) Slash(st *Stake, prev *Spend, fpKey *btcec.PrivateKey) (*Spend, error) {
	from, f, pkt := script.StakingOutputKind, st.Funding(), st.Slashing
	if prev != nil {
		if prev.Kind != "unbonding" {
			return nil, fmt.Errorf("%w: a %s output cannot be slashed", ErrInvalidArgument, prev.Kind)
		}
		from, f, pkt = script.UnbondingOutputKind, psbt.Funding{Tx: prev.Tx, Index: 0}, prev.Slashing
	}
	if pkt == nil || fpKey == nil {
		return nil, fmt.Errorf("%w: no pre-signed slashing tx or no key", ErrInvalidArgument)
	}
	tx, err := psbt.CompleteSlashing(pkt, fpKey)
	if err != nil {
		return nil, fmt.Errorf("%w: completing the slashing tx: %w", ErrScenario, err)
	}
	if err := psbt.ValidateSlashingTx(tx, f.Tx, f.Index, from, st.Delegation); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	sp := &Spend{Kind: "slashing", From: from, Funding: f, Tx: tx}
	if sp.Txid, sp.Height, err = s.confirm(tx, "slashing"); err != nil {
		return nil, err
	}
	return sp, nil
}

// Recovery is a finality provider key recovered from a slashing
// transaction on chain.
type Recovery struct {
	FinalityProvider int // index into Scenario.FinalityProviders
	Covenant         int // the covenant member whose signature revealed it
	Key              *btcec.PrivateKey
}

// RecoverKeyFromChain plays a second party who saw the slashing
// transaction txid on chain and holds the covenant's adaptor signatures
// (the pre-signed slashing PSBT, public to the protocol's verifiers): it
// fetches the transaction from the node, finds the finality provider
// whose slot in the witness is signed, and recovers that provider's
// secret key from a covenant member's completed signature with
// psbt.RecoverFinalityProviderKey.
func (s *Scenario) RecoverKeyFromChain(txid chainhash.Hash, presigned *btcpsbt.Packet) (*Recovery, error) {
	tx, err := s.Node.GetRawTransaction(txid)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	if confs, err := s.Node.Confirmations(txid); err != nil || confs < 1 {
		return nil, fmt.Errorf("%w: slashing tx %s not on chain (%d confirmations): %v", ErrScenario, txid, confs, err)
	}
	sigs, err := psbt.AdaptorSigs(presigned, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	spend, err := script.ParseWitness(tx.TxIn[0].Witness)
	if err != nil {
		return nil, fmt.Errorf("%w: slashing tx %s: %w", ErrScenario, txid, err)
	}
	var culprit script.XOnlyKey
	found := false
	for _, sl := range spend.FinalityProviders {
		if sl.Sig != nil {
			culprit, found = sl.Key, true
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: no finality provider signed slashing tx %s", ErrScenario, txid)
	}
	var last error
	for _, a := range sigs {
		if a.FinalityProvider != culprit {
			continue
		}
		k, err := psbt.RecoverFinalityProviderKey(tx, 0, a)
		if err != nil {
			last = err
			continue
		}
		r := &Recovery{Key: k, FinalityProvider: -1, Covenant: -1}
		for i, fp := range s.FinalityProviders {
			if script.XOnly(fp.PubKey()) == culprit {
				r.FinalityProvider = i
			}
		}
		for i, c := range s.Covenant {
			if script.XOnly(c.PubKey()) == a.Covenant {
				r.Covenant = i
			}
		}
		return r, nil
	}
	return nil, fmt.Errorf("%w: no covenant signature on %s reveals the key of %s: %w", ErrScenario, txid, culprit, last)
}

// FoundStake is a phase-1 staking transaction found in a block.
type FoundStake struct {
	Height int32
	Txid   chainhash.Hash
	Parsed *script.ParsedStakingTx
}

// ScanPhaseOne scans the main-chain blocks from..to with the project's
// phase-1 recogniser (script.StakingTxParser for the scenario's tag and
// covenant) and returns every staking transaction it recognises.
func (s *Scenario) ScanPhaseOne(from, to int32) ([]FoundStake, error) {
	p, err := script.NewStakingTxParser(script.ParserConfig{Tag: s.Params.Tag(), Covenant: s.Params.CovenantKeys(),
		CovenantQuorum: s.Params.CovenantQuorum()})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	var out []FoundStake
	err = s.Node.ScanBlocks(from, to, func(h int32, b *wire.MsgBlock) error {
		for _, tx := range b.Transactions {
			if !p.IsPossible(tx) {
				continue
			}
			parsed, err := p.Parse(tx)
			if err != nil {
				continue // has the marker but is no valid staking tx
			}
			out = append(out, FoundStake{Height: h, Txid: tx.TxHash(), Parsed: parsed})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	return out, nil
}

// Steps of RunSlashing, as passed to its progress callback.
const (
	StepStake          = "stake"
	StepDoubleSign     = "double_sign"
	StepSlash          = "slash"
	StepWithdrawChange = "withdraw_change"
	StepRecover        = "recover"
)

// SlashingRun is the slashing scenario end to end.
type SlashingRun struct {
	Stake      *Stake
	DoubleSign *DoubleSign
	Slashing   *Spend
	// Slashed is what the slashing tx pays to Params.SlashingPkScript
	// (output 0); Change what it returns to the staker's slashing change
	// output.
	Slashed, Change int64
	ChangeWithdraw  *Spend
	Recovery        *Recovery
}

// RunSlashing runs the slashing scenario: a stake to every finality
// provider; provider culprit double-signs two finality votes at the
// staking block's height; anyone extracts its key and completes the
// pre-signed slashing tx of the staking output, which is mined; the
// slashing output must pay Params.SlashingPkScript exactly
// Params.SlashingAmount of the stake; the staker withdraws the slashing
// change once the unbonding time has passed (shown to the node one block
// early first); a second party recovers the provider's key from the
// slashing witness on chain, which must be the provider's key.
//
// progress, when not nil, is called after each step with its name (Step*)
// and the run so far. On error the run so far is returned with it.
func (s *Scenario) RunSlashing(culprit int, value int64, progress func(step string, run *SlashingRun)) (*SlashingRun, error) {
	if culprit < 0 || culprit >= len(s.FinalityProviders) {
		return nil, fmt.Errorf("%w: no finality provider %d", ErrInvalidArgument, culprit)
	}
	done := func(step string, run *SlashingRun) {
		if progress != nil {
			progress(step, run)
		}
	}
	run := &SlashingRun{}
	var err error
	if run.Stake, err = s.Stake(StakeOptions{Value: value}); err != nil {
		return run, err
	}
	done(StepStake, run)
	if run.DoubleSign, err = s.DoubleSign(culprit, uint64(run.Stake.Height)); err != nil {
		return run, err
	}
	done(StepDoubleSign, run)
	if run.Slashing, err = s.Slash(run.Stake, nil, run.DoubleSign.Extracted); err != nil {
		return run, err
	}
	out := run.Slashing.Tx.TxOut
	if !bytes.Equal(out[0].PkScript, s.Params.SlashingPkScript()) {
		return run, fmt.Errorf("%w: slashing output pays %x, not the slashing script", ErrScenario, out[0].PkScript)
	}
	run.Slashed, run.Change = out[0].Value, out[1].Value
	if want := s.Params.SlashingAmount(run.Stake.Value); run.Slashed != want {
		return run, fmt.Errorf("%w: slashed %d sat, want %d", ErrScenario, run.Slashed, want)
	}
	done(StepSlash, run)
	if run.ChangeWithdraw, err = s.Withdraw(run.Stake, run.Slashing); err != nil {
		return run, err
	}
	done(StepWithdrawChange, run)
	if run.Recovery, err = s.RecoverKeyFromChain(run.Slashing.Txid, run.Stake.Slashing); err != nil {
		return run, err
	}
	if run.Recovery.FinalityProvider != culprit || !sameXOnly(run.Recovery.Key.PubKey(), s.FinalityProviders[culprit].PubKey()) {
		return run, fmt.Errorf("%w: the key recovered from the chain is not finality provider %d's", ErrScenario, culprit)
	}
	done(StepRecover, run)
	return run, nil
}

// covenantSign has covenant member k sign input 0 of p for delegation d.
func covenantSign(p *btcpsbt.Packet, k *btcec.PrivateKey, d psbt.Delegation) error {
	signer, err := psbt.NewCovenantSigner(k)
	if err != nil {
		return err
	}
	defer signer.Zero()
	_, err = signer.Sign(p, 0, d)
	return err
}

// finishStaking signs every input of the staking psbt pkt with wallet,
// finalizes it, and checks the transaction against d: the staking
// transaction and the index of its staking output.
func finishStaking(pkt *btcpsbt.Packet, wallet *btcec.PrivateKey, d psbt.Delegation) (*wire.MsgTx, uint32, error) {
	if n, err := psbt.SignFundingInputs(pkt, wallet); err != nil || n != len(pkt.Inputs) {
		return nil, 0, fmt.Errorf("%w: signing the staking tx (%d inputs signed): %w", ErrScenario, n, err)
	}
	tx, err := psbt.Finalize(pkt)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: finalizing the staking tx: %w", ErrScenario, err)
	}
	idx, err := psbt.ValidateStakingTx(tx, d)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	return tx, idx, nil
}

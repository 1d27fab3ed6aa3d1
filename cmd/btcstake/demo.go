package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/regtest"
)

func init() { register(newDemoCmd) }

// demoStepHook, when set (by tests), runs after each step of the demo's
// scenario, while the demo's signal handler is installed.
var demoStepHook func(step string, n *regtest.Node)

// The --json output of demo. Field names are stable.
type demoJSON struct {
	Seed              int64              `json:"seed"`
	Node              demoNodeJSON       `json:"node"`
	Params            demoParamsJSON     `json:"params"`
	StakerPK          string             `json:"staker_pk"`
	FinalityProviders []string           `json:"fp_pks"`
	StakingTime       uint16             `json:"staking_time"`
	Culprit           int                `json:"culprit"`
	Staking           demoStakingJSON    `json:"staking"`
	DoubleSign        demoDoubleSignJSON `json:"double_sign"`
	ExtractedKey      demoKeyJSON        `json:"extracted_key"`
	Slashing          demoSlashingJSON   `json:"slashing"`
	ChangeWithdraw    demoWithdrawJSON   `json:"change_withdraw"`
	RecoveredKey      demoRecoveredJSON  `json:"recovered_key"`
	ElapsedMS         int64              `json:"elapsed_ms"`
}

type demoNodeJSON struct {
	Kind    regtest.Kind `json:"kind"`
	Pid     int          `json:"pid"`
	RPCHost string       `json:"rpc_host"`
	DataDir string       `json:"data_dir"`
	Stopped bool         `json:"stopped"`
}

// demoParamsJSON spells the params as the params file does
// (params/regtest-example.json).
type demoParamsJSON struct {
	CovenantPKs        []string `json:"covenant_pks"`
	CovenantQuorum     uint32   `json:"covenant_quorum"`
	UnbondingTimeBlock uint16   `json:"unbonding_time_blocks"`
	UnbondingFeeSat    int64    `json:"unbonding_fee_sat"`
	SlashingRate       string   `json:"slashing_rate"`
	MinSlashingFeeSat  int64    `json:"min_slashing_tx_fee_sat"`
	SlashingPkScript   string   `json:"slashing_pk_script"`
}

type demoStakingJSON struct {
	Txid             string `json:"txid"`
	Vout             uint32 `json:"vout"`
	ValueSat         int64  `json:"value_sat"`
	Height           int32  `json:"height"`
	Address          string `json:"address"`
	PkScript         string `json:"pk_script"`
	FundingTxid      string `json:"funding_txid"`
	FeeSat           int64  `json:"fee_sat"`
	CovenantAdaptors int    `json:"covenant_adaptor_signatures"` // how many
}

type demoVoteJSON struct {
	AppHash   string `json:"app_hash"`
	Message   string `json:"msg"`
	Signature string `json:"signature"`
}

type demoDoubleSignJSON struct {
	FinalityProviderPK string         `json:"fp_pk"`
	Height             uint64         `json:"height"`
	CommitStart        uint64         `json:"commit_start_height"`
	CommitCount        uint64         `json:"commit_count"`
	CommitRoot         string         `json:"commitment"`
	CommitSig          string         `json:"commit_signature"`
	PublicRand         string         `json:"pub_rand"`
	Votes              []demoVoteJSON `json:"votes"`
}

type demoKeyJSON struct {
	SecretKey string `json:"secret_key"`
	PublicKey string `json:"public_key"`
	Matches   bool   `json:"matches_finality_provider"`
}

type demoSlashingJSON struct {
	Txid             string `json:"txid"`
	Height           int32  `json:"height"`
	SlashedSat       int64  `json:"slashing_value_sat"`
	SlashingPkScript string `json:"slashing_pk_script"`
	ChangeSat        int64  `json:"change_value_sat"`
	ChangePkScript   string `json:"change_pk_script"`
	FeeSat           int64  `json:"fee_sat"`
	Confirmations    int64  `json:"confirmations"`
}

type demoRefusalJSON struct {
	Height  int32  `json:"height"` // the tip when the node was asked
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
}

type demoWithdrawJSON struct {
	Txid      string          `json:"txid"`
	Height    int32           `json:"height"`
	ValueSat  int64           `json:"value_sat"`
	FeeSat    int64           `json:"fee_sat"`
	Sequence  uint32          `json:"sequence"`
	Premature demoRefusalJSON `json:"premature"`
}

type demoRecoveredJSON struct {
	SlashingTxid string `json:"slashing_txid"`
	CovenantPK   string `json:"covenant_pk"`
	SecretKey    string `json:"secret_key"`
	Matches      bool   `json:"matches_finality_provider"`
}

func newDemoCmd(a *app) *cobra.Command {
	var (
		seed                   int64
		node                   string
		fps, members, quorum   int
		culprit                int
		value                  int64
		stakingTime, unbonding int
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the slashing scenario end to end on a private regtest node",
		Long: `demo starts its own regtest node (btcd built from the version pinned in go.mod,
cached after the first build; or bitcoind with --node bitcoind) in a temporary
directory and plays the whole slashing story with throwaway keys:

  1. the staker locks coins in a staking output; the staker and a quorum of
     the covenant committee pre-sign the slashing tx (the covenant with adaptor
     signatures encrypted to the finality provider's key);
  2. the finality provider signs two conflicting finality votes at the same
     height with the EOTS randomness it committed to;
  3. anyone extracts its secret key from the two signatures;
  4. with that key anyone decrypts the covenant signatures, completes the
     slashing tx and broadcasts it; it pays the slashing script;
  5. the staker withdraws the slashing change after the unbonding time (the
     node refuses it one block earlier);
  6. a second party recovers the key from the slashing tx on chain.

Every transaction is accepted by the node and mined; the node is stopped and
its directory removed on every exit, Ctrl-C included.

--seed repeats a run: the keys, the votes and every txid (funding, staking,
slashing, withdraw) come out the same for the same seed and flags. For that
the staker is funded from a coinbase of a block the demo builds itself
(whose txid depends only on its height, the staker's wallet key and the
amount), which must then mature for 100 blocks: the node's own coinbases
carry a random extra nonce, so coins paid from them get a new txid every
run. Block hashes, the node's address and directory, and the covenant's
adaptor signatures (fresh randomness, in no txid) still differ.`,
		Example: `  btcstake demo
  btcstake demo --json
  btcstake demo --finality-providers 3 --culprit 2 --covenant-members 5 --covenant-quorum 3 --seed 7`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if err := checkRegtest(a); err != nil {
				return err
			}
			kind := regtest.Kind(node)
			if node != "" && kind != regtest.Btcd && kind != regtest.Bitcoind {
				return usagef("node", "unknown node %q (want btcd or bitcoind)", node)
			}
			switch {
			case fps < 1 || fps > 16:
				return usagef("finality-providers", "must be 1..16, got %d", fps)
			case culprit < 0 || culprit >= fps:
				return usagef("culprit", "must be 0..%d (a finality provider index), got %d", fps-1, culprit)
			case members < 1 || members > 16:
				return usagef("covenant-members", "must be 1..16, got %d", members)
			case quorum < 1 || quorum > members || 2*quorum <= members:
				return usagef("covenant-quorum", "must be a majority of the %d members (%d..%d), got %d", members, members/2+1, members, quorum)
			case value < 100_000 || value > 10_000_000_000:
				return usagef("amount", "must be 100000..10000000000 sat (the node holds 500 BTC of mature coins), got %d", value)
			case stakingTime < 1 || stakingTime > 1000:
				return usagef("staking-time", "must be 1..1000 blocks, got %d", stakingTime)
			case unbonding < 1 || unbonding > 1000:
				return usagef("unbonding-time", "must be 1..1000 blocks, got %d", unbonding)
			}
			if seed == 0 {
				seed = time.Now().UnixNano()
			}
			return runDemo(a, demoConfig{
				kind: kind, culprit: culprit, value: value,
				scenario: regtest.ScenarioConfig{Seed: seed, FinalityProviders: fps, CovenantMembers: members,
					CovenantQuorum: uint32(quorum), StakingTime: uint16(stakingTime), UnbondingTime: uint16(unbonding),
					RepeatableFunding: true},
			})
		},
	}
	f := cmd.Flags()
	f.Int64Var(&seed, "seed", 0, "seed of the run: keys, votes and txids repeat for the same seed (0: random; printed so a run can be repeated)")
	f.StringVar(&node, "node", "", "node implementation: btcd|bitcoind (default $BTCSTAKE_NODE, else btcd)")
	completeValues(cmd, "node", string(regtest.Btcd), string(regtest.Bitcoind))
	f.IntVar(&fps, "finality-providers", 1, "number of finality providers the stake delegates to")
	f.IntVar(&culprit, "culprit", 0, "index of the finality provider that double-signs")
	f.IntVar(&members, "covenant-members", 3, "size of the covenant committee")
	f.IntVar(&quorum, "covenant-quorum", 2, "covenant signatures required")
	f.Int64Var(&value, "amount", 1_000_000, "staked amount in satoshis")
	f.IntVar(&stakingTime, "staking-time", 10, "staking time lock in blocks")
	f.IntVar(&unbonding, "unbonding-time", 5, "unbonding time lock in blocks")
	return cmd
}

type demoConfig struct {
	kind     regtest.Kind
	culprit  int
	value    int64
	scenario regtest.ScenarioConfig
}

func demoXOnlyHex(pk *btcec.PublicKey) string { return hex.EncodeToString(schnorr.SerializePubKey(pk)) }

func runDemo(a *app, cfg demoConfig) (err error) {
	t0 := time.Now()
	human := !a.json
	say := func(format string, args ...any) {
		if human {
			a.printf(format, args...)
		}
	}
	// Ctrl-C (or SIGTERM) cancels ctx: a start in progress kills its
	// half-started node, and a running scenario has its node stopped under
	// it, so the next RPC fails and the demo ends. The deferred Stop covers
	// every other exit.
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	startCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	say("btcstake demo: the slashing scenario on a private regtest node\n")
	n, err := regtest.Start(startCtx, regtest.Options{Kind: cfg.kind,
		Logf: func(format string, args ...any) { fmt.Fprintf(a.stderr, "btcstake: "+format+"\n", args...) }})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted while starting the node: %w", err)
		}
		return err
	}
	out := demoJSON{Seed: cfg.scenario.Seed, Culprit: cfg.culprit,
		Node: demoNodeJSON{Kind: n.Kind(), Pid: n.Pid(), RPCHost: n.RPC().Host, DataDir: n.Dir()}}
	stopped := make(chan struct{})
	defer func() {
		close(stopped)
		if serr := n.Stop(); serr != nil && err == nil {
			err = fmt.Errorf("stopping the node: %w", serr)
		}
		if ctx.Err() != nil && err != nil {
			err = fmt.Errorf("interrupted; the node is stopped and its directory removed (the step under way said: %w)", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = n.Stop()
		case <-stopped:
		}
	}()
	height, err := n.Height()
	if err != nil {
		return err
	}
	say("node: %s on %s (pid %d), height %d, data in %s\n", n.Kind(), n.RPC().Host, n.Pid(), height, n.Dir())

	s, err := regtest.NewScenario(n, cfg.scenario)
	if err != nil {
		return err
	}
	p := s.Params
	out.StakerPK = demoXOnlyHex(s.Staker.PubKey())
	for _, k := range s.FinalityProviders {
		out.FinalityProviders = append(out.FinalityProviders, demoXOnlyHex(k.PubKey()))
	}
	out.StakingTime = s.StakingTime
	out.Params = demoParamsJSON{CovenantQuorum: p.CovenantQuorum(),
		UnbondingTimeBlock: p.UnbondingTime(), UnbondingFeeSat: p.UnbondingFee(), SlashingRate: p.SlashingRate(),
		MinSlashingFeeSat: p.MinSlashingFee(), SlashingPkScript: hex.EncodeToString(p.SlashingPkScript())}
	for _, k := range p.CovenantKeys() {
		out.Params.CovenantPKs = append(out.Params.CovenantPKs, demoXOnlyHex(k))
	}
	say("\nparties (throwaway keys from seed %d; --seed %d repeats the run, txids included):\n", cfg.scenario.Seed, cfg.scenario.Seed)
	say("  staker              %s\n", out.StakerPK)
	for i, k := range out.FinalityProviders {
		note := ""
		if i == cfg.culprit {
			note = "  <- will double-sign"
		}
		say("  finality provider %d %s%s\n", i, k, note)
	}
	say("  covenant, %d of %d   %s\n", p.CovenantQuorum(), len(p.CovenantKeys()), strings.Join(out.Params.CovenantPKs, "\n                      "))
	say("  params: staking time %d blocks, unbonding time %d blocks, slashing rate %s to %s\n",
		s.StakingTime, p.UnbondingTime(), p.SlashingRate(), out.Params.SlashingPkScript)

	narrate := func(step string, run *regtest.SlashingRun) {
		switch step {
		case regtest.StepStake:
			st := run.Stake
			so, _ := st.Delegation.StakingOutput()
			addr, _ := so.Address(n.Params())
			adaptors := 0
			if sigs, err := adaptorCount(st); err == nil {
				adaptors = sigs
			}
			out.Staking = demoStakingJSON{Txid: st.Txid.String(), Vout: st.OutputIndex, ValueSat: st.Value, Height: st.Height,
				Address: addr, PkScript: hex.EncodeToString(so.PkScript), FundingTxid: st.FundingTxid.String(),
				FeeSat: st.Description.Fee, CovenantAdaptors: adaptors}
			say("\n1. stake\n")
			say("   staking tx   %s  (block %d)\n", st.Txid, st.Height)
			say("   %d sat locked in %s (output %d)\n", st.Value, addr, st.OutputIndex)
			say("   slashing tx pre-signed: the staker's signature and %d covenant adaptor signatures,\n", adaptors)
			say("   each encrypted to a finality provider's key (useless until that key leaks)\n")
		case regtest.StepDoubleSign:
			ds := run.DoubleSign
			out.DoubleSign = demoDoubleSignJSON{FinalityProviderPK: demoXOnlyHex(ds.PublicKey), Height: ds.Height,
				CommitStart: ds.CommitStart, CommitCount: ds.CommitCount, CommitRoot: hex.EncodeToString(ds.CommitRoot[:]),
				CommitSig: hex.EncodeToString(ds.CommitSig[:]), PublicRand: ds.PublicRand.String()}
			for _, v := range ds.Votes {
				out.DoubleSign.Votes = append(out.DoubleSign.Votes, demoVoteJSON{AppHash: hex.EncodeToString(v.AppHash[:]),
					Message: hex.EncodeToString(v.Message), Signature: v.Signature.String()})
			}
			xk := ds.Extracted
			out.ExtractedKey = demoKeyJSON{SecretKey: bip340SecretHex(xk), PublicKey: demoXOnlyHex(xk.PubKey()),
				Matches: demoXOnlyHex(xk.PubKey()) == demoXOnlyHex(ds.PublicKey)}
			say("\n2. finality provider %d double-signs at height %d\n", ds.FinalityProvider, ds.Height)
			say("   committed randomness for heights %d..%d, root %x\n", ds.CommitStart, ds.CommitStart+ds.CommitCount-1, ds.CommitRoot)
			say("   public randomness r at height %d: %s\n", ds.Height, ds.PublicRand)
			for i, v := range ds.Votes {
				say("   vote %c  block %x  EOTS signature %s\n", 'A'+i, v.AppHash, v.Signature)
			}
			say("\n3. anyone extracts the key from the two signatures (same r, different messages)\n")
			say("   secret key   %s (BIP-340 form, for the x-only key)\n", out.ExtractedKey.SecretKey)
			say("   its x-only public key %s: %s\n", out.ExtractedKey.PublicKey, matchWord(out.ExtractedKey.Matches))
		case regtest.StepSlash:
			sl := run.Slashing
			change, _ := run.Stake.Delegation.SlashingChangeOutput()
			out.Slashing = demoSlashingJSON{Txid: sl.Txid.String(), Height: sl.Height, SlashedSat: run.Slashed,
				SlashingPkScript: hex.EncodeToString(sl.Tx.TxOut[0].PkScript), ChangeSat: run.Change,
				ChangePkScript: hex.EncodeToString(change.PkScript), FeeSat: run.Stake.Value - run.Slashed - run.Change}
			say("\n4. slashing: the extracted key decrypts the covenant adaptor signatures\n")
			say("   slashing tx  %s  (block %d)\n", sl.Txid, sl.Height)
			say("   %d sat (rate %s) to the slashing script %s\n", run.Slashed, p.SlashingRate(), out.Slashing.SlashingPkScript)
			say("   %d sat to the staker's slashing change output, fee %d sat\n", run.Change, out.Slashing.FeeSat)
		case regtest.StepWithdrawChange:
			w := run.ChangeWithdraw
			out.ChangeWithdraw = demoWithdrawJSON{Txid: w.Txid.String(), Height: w.Height, ValueSat: w.Tx.TxOut[0].Value,
				FeeSat: w.Description.Fee, Sequence: w.Tx.TxIn[0].Sequence}
			say("\n5. the staker withdraws the change after the %d-block unbonding time\n", p.UnbondingTime())
			if pr := w.Premature; pr != nil {
				out.ChangeWithdraw.Premature = refusalJSON(pr)
				say("   in block %d (one early) the node refuses: %s (%q)\n", pr.Height+1,
					out.ChangeWithdraw.Premature.Verdict, out.ChangeWithdraw.Premature.Reason)
			}
			say("   withdraw tx  %s  (block %d): %d sat to the staker's wallet\n", w.Txid, w.Height, out.ChangeWithdraw.ValueSat)
		case regtest.StepRecover:
			r := run.Recovery
			out.RecoveredKey = demoRecoveredJSON{SlashingTxid: run.Slashing.Txid.String(),
				CovenantPK: demoXOnlyHex(s.Covenant[r.Covenant].PubKey()), SecretKey: bip340SecretHex(r.Key),
				Matches: demoXOnlyHex(r.Key.PubKey()) == demoXOnlyHex(s.FinalityProviders[cfg.culprit].PubKey())}
			say("\n6. a second party recovers the key from the slashing tx on chain\n")
			say("   covenant member %s's signature in the witness, minus its adaptor signature:\n", out.RecoveredKey.CovenantPK)
			say("   secret key   %s: %s\n", out.RecoveredKey.SecretKey, matchWord(out.RecoveredKey.Matches && out.RecoveredKey.SecretKey == out.ExtractedKey.SecretKey))
		}
		if demoStepHook != nil {
			demoStepHook(step, n)
		}
	}
	run, err := s.RunSlashing(cfg.culprit, cfg.value, narrate)
	if err != nil {
		return err
	}
	if pr := run.ChangeWithdraw.Premature; pr == nil || !errors.Is(pr.Err, regtest.ErrSequenceLock) {
		return fmt.Errorf("the node did not refuse the premature change withdraw with a sequence lock: %+v", pr)
	}
	if out.Slashing.Confirmations, err = n.Confirmations(run.Slashing.Txid); err != nil {
		return err
	}
	say("\nconfirmations: staking tx %d, slashing tx %d, withdraw tx 1\n",
		confs(n, run.Stake.Txid), out.Slashing.Confirmations)
	if err := n.Stop(); err != nil {
		return fmt.Errorf("stopping the node: %w", err)
	}
	out.Node.Stopped = true
	out.ElapsedMS = time.Since(t0).Milliseconds()
	if a.json {
		return a.printJSON(out)
	}
	say("\ndone in %.1f s; node stopped and its directory removed\n", time.Since(t0).Seconds())
	return nil
}

// adaptorCount counts the covenant adaptor signatures of a stake's
// pre-signed slashing tx.
func adaptorCount(st *regtest.Stake) (int, error) {
	sigs, err := psbt.AdaptorSigs(st.Slashing, 0)
	return len(sigs), err
}

func refusalJSON(a *regtest.Attempt) demoRefusalJSON {
	r := demoRefusalJSON{Height: a.Height, Verdict: "accepted"}
	if a.Err == nil {
		return r
	}
	r.Verdict = a.Err.Error()
	var rej *regtest.RejectError
	if errors.As(a.Err, &rej) {
		r.Verdict, r.Reason = rej.Kind.Error(), rej.Reason
	}
	return r
}

// bip340SecretHex is the hex of k in BIP-340 form: k, or its negation when
// k·G has odd y (the secret of the x-only key a script holds).
func bip340SecretHex(k *btcec.PrivateKey) string {
	if k.PubKey().SerializeCompressed()[0] == 3 {
		var s btcec.ModNScalar
		s.Set(&k.Key)
		s.Negate()
		k = &btcec.PrivateKey{Key: s}
	}
	return hex.EncodeToString(k.Serialize())
}

func matchWord(ok bool) string {
	if ok {
		return "matches the finality provider's key"
	}
	return "DOES NOT match the finality provider's key"
}

func confs(n *regtest.Node, txid chainhash.Hash) int64 {
	c, _ := n.Confirmations(txid)
	return c
}

// Package benchchain is the chain the catch-up benchmarks of issue 14 run
// over, and their baseline. Get starts a regtest node and mines the load
// (regtest.GenerateLoad: by default 300 blocks of 100 ordinary
// transactions, with the staking transactions of 1,000 delegations and
// some of their unbondings and withdrawals) once per process, so that the
// bare fetch-and-decode loop (FetchDecode, BenchmarkFetchDecodeBlocks)
// and the watcher's benchmark run over the very same blocks and their
// ratio means something. A test binary that calls Get stops the node with
// Main:
//
//	func TestMain(m *testing.M) { os.Exit(benchchain.Main(m)) }
//
// The environment shrinks or reseeds the chain: BTCSTAKE_BENCH_BLOCKS,
// BTCSTAKE_BENCH_TXS, BTCSTAKE_BENCH_STAKES (LoadConfig's Blocks,
// TxsPerBlock, Stakes) and BTCSTAKE_BENCH_SEED (the scenario's seed,
// default 14).
package benchchain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/regtest"
)

// Environment variables Get reads.
const (
	EnvBlocks = "BTCSTAKE_BENCH_BLOCKS"
	EnvTxs    = "BTCSTAKE_BENCH_TXS"
	EnvStakes = "BTCSTAKE_BENCH_STAKES"
	EnvSeed   = "BTCSTAKE_BENCH_SEED"
)

// DefaultSeed is the scenario seed when BTCSTAKE_BENCH_SEED is unset.
const DefaultSeed = 14

// ErrConfig: an environment variable of the package does not hold a
// usable number.
var ErrConfig = errors.New("bad benchmark chain configuration")

// Chain is the shared benchmark chain: a running node (without a
// transaction index, as most users run theirs) and the load mined on it.
// Blocks Load.From..Load.To are the benchmark's range; Scenario holds the
// keys of every party (its finality providers, covenant committee and the
// stakes' staker keys in Load.Stakes).
type Chain struct {
	Node     *regtest.Node
	Scenario *regtest.Scenario
	Load     *regtest.Load
	Seed     int64
	// Generated is the wall time of starting the node and mining the load.
	Generated time.Duration
}

var (
	mu      sync.Mutex
	shared  *Chain
	started *regtest.Node
	getErr  error
	done    bool
)

// Get returns the process's benchmark chain, starting the node and
// mining the load on the first call (a minute or so for the default
// size; progress goes to stderr). Later calls return the same chain, or
// the first call's error. After Stop it fails with regtest.ErrStopped.
func Get() (*Chain, error) {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil || getErr != nil {
		return shared, getErr
	}
	if done {
		return nil, regtest.ErrStopped
	}
	shared, getErr = build()
	return shared, getErr
}

// build starts the node and mines the load; the caller holds mu.
func build() (*Chain, error) {
	cfg, seed, err := configFromEnv()
	if err != nil {
		return nil, err
	}
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "benchchain: "+format+"\n", args...) }
	cfg.Logf = logf
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // includes a first btcd build
	defer cancel()
	n, err := regtest.Start(ctx, regtest.Options{NoTxIndex: true, Logf: logf})
	if err != nil {
		return nil, err
	}
	started = n
	s, err := regtest.NewScenario(n, regtest.ScenarioConfig{Seed: seed, FinalityProviders: 3})
	if err != nil {
		return nil, err
	}
	load, err := s.GenerateLoad(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w (node log %s ends: %s)", err, n.LogPath(), n.LogTail(5))
	}
	c := &Chain{Node: n, Scenario: s, Load: load, Seed: seed, Generated: time.Since(start)}
	logf("%d blocks (%d..%d) of %d ordinary txs, %d stakes, %d spends, ready in %s (setup %s, signing %s, mining %s)",
		len(load.Blocks), load.From, load.To, load.Config.TxsPerBlock, len(load.Stakes), len(load.Spends),
		c.Generated.Round(time.Millisecond), load.Setup.Round(time.Millisecond), load.Sign.Round(time.Millisecond), load.Mine.Round(time.Millisecond))
	return c, nil
}

func configFromEnv() (regtest.LoadConfig, int64, error) {
	var cfg regtest.LoadConfig
	seed := int64(DefaultSeed)
	for _, v := range []struct {
		name string
		set  func(int64)
	}{
		{EnvBlocks, func(x int64) { cfg.Blocks = int(x) }},
		{EnvTxs, func(x int64) { cfg.TxsPerBlock = int(x) }},
		{EnvStakes, func(x int64) { cfg.Stakes = int(x) }},
		{EnvSeed, func(x int64) { seed = x }},
	} {
		s := os.Getenv(v.name)
		if s == "" {
			continue
		}
		x, err := strconv.ParseInt(s, 10, 32)
		if err != nil || (v.name != EnvSeed && x <= 0) {
			return cfg, 0, fmt.Errorf("%w: %s=%q is not a positive number", ErrConfig, v.name, s)
		}
		v.set(x)
	}
	return cfg, seed, nil
}

// Stop stops the node Get started (if any) and removes its directory;
// Get fails afterwards. It is idempotent.
func Stop() error {
	mu.Lock()
	defer mu.Unlock()
	done = true
	shared = nil
	if started == nil {
		return nil
	}
	n := started
	started = nil
	return n.Stop()
}

// Main runs the tests and benchmarks of m, then stops the shared node,
// and returns m's exit code (non-zero also when the node did not stop
// cleanly).
func Main(m interface{ Run() int }) int {
	code := m.Run()
	if err := Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "benchchain: stopping the node: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Stats is what one FetchDecode pass read.
type Stats struct {
	Blocks  int
	Txs     int
	Elapsed time.Duration
}

// BlocksPerSecond is Blocks over Elapsed.
func (s Stats) BlocksPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Blocks) / s.Elapsed.Seconds()
}

// FetchDecode is the bare loop the watcher's catch-up is measured
// against, the most any follower can do with the node's RPC: for each
// height from..to in order, getblockhash, then getblock with verbosity 0
// and decode the raw block into a wire.MsgBlock (chain.Client.BlockAt,
// which also checks the block's hash). Nothing else is done with the
// block; it counts blocks and transactions.
func FetchDecode(ctx context.Context, c *chain.Client, from, to int64) (Stats, error) {
	if c == nil || from < 0 || to < from {
		return Stats{}, fmt.Errorf("%w: block range %d..%d", chain.ErrInvalidArgument, from, to)
	}
	start := time.Now()
	var st Stats
	for h := from; h <= to; h++ {
		b, _, err := c.BlockAt(ctx, h)
		if err != nil {
			return st, fmt.Errorf("block %d: %w", h, err)
		}
		st.Blocks++
		st.Txs += len(b.Transactions)
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

// Baseline runs FetchDecode over the chain's load (Load.From..Load.To)
// through the node's client: the denominator of the watcher's catch-up
// ratio, measured in the same process over the same blocks.
func (c *Chain) Baseline(ctx context.Context) (Stats, error) {
	return FetchDecode(ctx, c.Node.Chain(), int64(c.Load.From), int64(c.Load.To))
}

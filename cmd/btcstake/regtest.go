package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/regtest"
)

func init() { register(newRegtestCmd) }

// regtestFlags are shared by the regtest subcommands.
type regtestFlags struct {
	dir string
}

func (f *regtestFlags) statePath() string { return filepath.Join(f.dir, "state.json") }
func (f *regtestFlags) dataDir() string   { return filepath.Join(f.dir, "node") }

// harnessNodeFiles are the names a regtest node of the harness leaves in
// its data directory (--dir/node): btcd's config file, data and logs
// directories; bitcoind's config file and regtest directory; the log.
var harnessNodeFiles = map[string]bool{"btcd.conf": true, "bitcoind.conf": true, "node.log": true, "data": true, "logs": true, "regtest": true}

// checkNodeDir refuses to clear a data directory that holds anything a
// node of the harness did not make (--dir names a directory of the user's
// with a "node" in it): start deletes it to begin afresh, and nothing of
// the user's may go with it.
func checkNodeDir(dir string) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return usagef("dir", "%v", err)
	case !fi.IsDir():
		return usagef("dir", "%s is not a directory a regtest node made; start would delete it: choose another --dir, or move it away", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return usagef("dir", "%v", err)
	}
	for _, e := range entries {
		if !harnessNodeFiles[e.Name()] {
			return usagef("dir", "%s holds %s, which no regtest node made; start would delete it: choose another --dir, or move it away", dir, e.Name())
		}
	}
	return nil
}

// defaultRegtestDir is the per-user state directory of the CLI's node:
// $XDG_STATE_HOME/btcstake/regtest, ~/.local/state/btcstake/regtest on
// Unix, the user config directory elsewhere.
func defaultRegtestDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "btcstake", "regtest")
	}
	if runtime.GOOS != "windows" && runtime.GOOS != "darwin" {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, ".local", "state", "btcstake", "regtest")
		}
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "btcstake", "regtest")
	}
	return filepath.Join(os.TempDir(), "btcstake-regtest")
}

func newRegtestCmd(a *app) *cobra.Command {
	f := &regtestFlags{}
	cmd := &cobra.Command{
		Use:   "regtest",
		Short: "Run a local regtest node to play with: start, status, mine, fund, stop",
		Long: `regtest runs a local Bitcoin regtest node in the background: btcd built from
the version pinned in regtest/btcdnode (cached after the first build), or bitcoind from
PATH with BTCSTAKE_NODE=bitcoind. It listens on 127.0.0.1 only, mines to a key
the harness holds, and can pay any address or script from mature coinbase
coins. The node's state (pid, RPC credentials, data directory, mining key)
lives in --dir, mode 0600.`,
		Example: `  btcstake regtest start
  btcstake regtest fund --address bcrt1p... --amount 100000 --confirm
  btcstake regtest mine 6
  btcstake regtest stop`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().StringVar(&f.dir, "dir", defaultRegtestDir(), "directory for the node's state file and data")
	cmd.AddCommand(newRegtestStartCmd(a, f), newRegtestStatusCmd(a, f), newRegtestStopCmd(a, f),
		newRegtestMineCmd(a, f), newRegtestFundCmd(a, f))
	return cmd
}

// checkRegtest rejects --network values other than regtest. A network set
// once (BTCSTAKE_NETWORK or the config file) is named as the source, with
// the way round it: the user typed no --network.
func checkRegtest(a *app) error {
	if a.network == "regtest" {
		return nil
	}
	if a.networkFrom != "" {
		return usagef("network", "the local node runs regtest only, not %s (from %s); pass --network regtest", a.network, a.networkFrom)
	}
	return usagef("network", "the local node runs regtest only, not %s", a.network)
}

// attachRegtest connects to the node described by the state file.
func attachRegtest(f *regtestFlags) (*regtest.Node, regtest.State, error) {
	if _, err := os.Stat(f.statePath()); errors.Is(err, os.ErrNotExist) {
		return nil, regtest.State{}, fmt.Errorf("no regtest node is running (no state in %s); start one with 'btcstake regtest start'", f.dir)
	}
	st, err := regtest.LoadState(f.statePath())
	if err != nil {
		return nil, st, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := regtest.Attach(ctx, st)
	if err != nil {
		return nil, st, fmt.Errorf("%w (state %s)", err, f.statePath())
	}
	return n, st, nil
}

// lockRegtestDir takes the lock of --dir for a start. While another start
// is under way there it waits for it (until ctx ends): for its node, then
// reported, or for its failure, then the lock is taken. A node holding the
// directory that answers is reported (exit 1, with its pid and RPC
// address); one that is alive but does not answer (it hangs, or the
// state's credentials are stale) is stopped and the lock taken once it
// has let go; a node without a state file is reported with its pid.
func lockRegtestDir(ctx context.Context, f *regtestFlags) (*regtest.DirLock, error) {
	for {
		lock, err := regtest.LockDir(f.dir)
		var inUse *regtest.DirInUseError
		if !errors.As(err, &inUse) {
			return lock, err
		}
		if inUse.Starting {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("%w; gave up waiting for that start: %v", err, context.Cause(ctx))
			case <-time.After(50 * time.Millisecond):
				continue
			}
		}
		st, serr := regtest.LoadState(f.statePath())
		if serr != nil {
			return nil, fmt.Errorf("%w, but no node state is there (%v); stop that process yourself", err, serr)
		}
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, aerr := regtest.Attach(actx, st)
		cancel()
		if aerr == nil {
			n.Close()
			return nil, fmt.Errorf("a regtest node is already running in %s (pid %d, rpc %s); stop it with 'btcstake regtest stop --dir %s'", f.dir, st.Pid, st.RPC.Host, f.dir)
		}
		running, serr := regtest.StopState(st)
		if serr != nil {
			return nil, fmt.Errorf("the node of %s does not answer and could not be stopped: %w", f.statePath(), serr)
		}
		if !running {
			return nil, fmt.Errorf("%w, which is not the node of %s (pid %d, not running); stop that process yourself", err, f.statePath(), st.Pid)
		}
		wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		lock, err = regtest.WaitLockDir(wctx, f.dir)
		cancel()
		return lock, err
	}
}

// regtestStartJSON is what "regtest start" and "regtest status" print: the
// connection fields are spelt as in the node config file (rpc_host is the
// host:port an rpc_url takes), paths end in _dir or _file.
type regtestStartJSON struct {
	Kind          regtest.Kind `json:"kind"`
	Pid           int          `json:"pid"`
	RPCHost       string       `json:"rpc_host"`
	RPCUser       string       `json:"rpc_user"`
	RPCPass       string       `json:"rpc_pass"`
	DataDir       string       `json:"data_dir"`
	LogFile       string       `json:"log_file"`
	ConfFile      string       `json:"conf_file,omitempty"`
	Height        int32        `json:"height"`
	MiningAddress string       `json:"mining_address"`
	StateFile     string       `json:"state_file"`
}

func newRegtestStartJSON(st regtest.State, height int32, stateFile string) regtestStartJSON {
	return regtestStartJSON{Kind: st.Kind, Pid: st.Pid, RPCHost: st.RPC.Host, RPCUser: st.RPC.User, RPCPass: st.RPC.Pass,
		DataDir: st.Dir, LogFile: st.Log, ConfFile: st.Conf, Height: height, MiningAddress: st.MiningAddress, StateFile: stateFile}
}

func newRegtestStartCmd(a *app, f *regtestFlags) *cobra.Command {
	var node string
	var blocks int
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start a regtest node that keeps running in the background",
		Long: `start launches a regtest node on 127.0.0.1 with free ports, mines the initial
blocks (so the harness holds mature coins), saves its state in --dir and
prints the RPC connection details. The node keeps running after the command
exits; stop it with 'btcstake regtest stop'. The first start builds btcd with
the Go toolchain (about 30 s); later starts take about a second.`,
		Example: `  btcstake regtest start
  btcstake regtest start --dir /tmp/mynode --blocks 200 --json
  BTCSTAKE_NODE=bitcoind btcstake regtest start`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if err := checkRegtest(a); err != nil {
				return err
			}
			kind := regtest.Kind(node)
			if node != "" && kind != regtest.Btcd && kind != regtest.Bitcoind {
				return usagef("node", "unknown node %q (want btcd or bitcoind)", node)
			}
			if blocks < 0 || blocks > 10000 {
				return usagef("blocks", "must be 0..10000, got %d", blocks)
			}
			if blocks == 0 {
				blocks = -1 // regtest.Options: negative means none
			}
			// The node runs in its own session, so Ctrl-C during start
			// reaches only this process: cancel the start, which then
			// kills the half-started node instead of orphaning it.
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			defer cancel()
			// One node per directory: the lock is handed to the node and
			// held for as long as it runs (a second start finds it taken).
			lock, err := lockRegtestDir(ctx, f)
			if err != nil {
				return err
			}
			defer lock.Close()
			// Under the lock, a state left here describes no running node
			// of ours (it died, or was started without the lock).
			if st, err := regtest.LoadState(f.statePath()); err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				n, aerr := regtest.Attach(ctx, st)
				cancel()
				if aerr == nil {
					n.Close()
					return fmt.Errorf("a regtest node is already running (pid %d, rpc %s); stop it with 'btcstake regtest stop --dir %s'", st.Pid, st.RPC.Host, f.dir)
				}
				// A stale state: the node died, or it hangs or no longer
				// takes the saved credentials. Stop such a node before its
				// state and data go, or it would run on unreachable.
				if _, err := regtest.StopState(st); err != nil {
					return fmt.Errorf("the node of %s does not answer and could not be stopped: %w", f.statePath(), err)
				}
				_ = os.Remove(f.statePath())
			}
			if err := checkNodeDir(f.dataDir()); err != nil {
				return err
			}
			if err := os.RemoveAll(f.dataDir()); err != nil {
				return fmt.Errorf("clearing %s: %v", f.dataDir(), err)
			}
			n, err := regtest.Start(ctx, regtest.Options{
				Kind: kind, Dir: f.dataDir(), InitialBlocks: blocks, Detached: true, Lock: lock,
				Logf: func(format string, args ...any) { fmt.Fprintf(a.stderr, "btcstake: "+format+"\n", args...) },
			})
			if err != nil {
				return err
			}
			st := n.State()
			if err := regtest.SaveState(f.statePath(), st); err != nil {
				_ = n.Stop()
				return err
			}
			height, err := n.Height()
			if err != nil {
				_ = n.Stop()
				_ = os.Remove(f.statePath())
				return err
			}
			n.Close() // keep it running
			out := newRegtestStartJSON(st, height, f.statePath())
			if a.json {
				return a.printJSON(out)
			}
			a.printf("regtest node started: %s, pid %d, height %d\n", out.Kind, out.Pid, out.Height)
			a.printf("  rpc host:       %s\n", out.RPCHost)
			a.printf("  rpc user:       %s\n", out.RPCUser)
			a.printf("  rpc password:   %s\n", out.RPCPass)
			a.printf("  data dir:       %s\n", out.DataDir)
			a.printf("  log:            %s\n", out.LogFile)
			a.printf("  mining address: %s\n", out.MiningAddress)
			a.printf("  state file:     %s\n", out.StateFile)
			// The credentials come from the node's 0600 config file, not
			// the command line, where every user could read them.
			if out.Kind == regtest.Btcd {
				a.printf("connect: btcctl -C %s --regtest --notls --rpcserver=%s getblockcount\n", out.ConfFile, out.RPCHost)
			} else {
				a.printf("connect: bitcoin-cli -regtest -conf=%s -rpcconnect=%s getblockcount\n", out.ConfFile, out.RPCHost)
			}
			a.printf("stop it with: btcstake regtest stop --dir %s\n", f.dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&node, "node", "", "node implementation: btcd or bitcoind (default $BTCSTAKE_NODE, else btcd)")
	completeValues(cmd, "node", string(regtest.Btcd), string(regtest.Bitcoind))
	cmd.Flags().IntVar(&blocks, "blocks", regtest.DefaultInitialBlocks, "blocks to mine at start (101 or more gives mature coins)")
	return cmd
}

func newRegtestStatusCmd(a *app, f *regtestFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the background regtest node's RPC details, height and balance",
		Example: `  btcstake regtest status
  btcstake regtest status --json`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if err := checkRegtest(a); err != nil {
				return err
			}
			n, st, err := attachRegtest(f)
			if err != nil {
				return err
			}
			defer n.Close()
			height, err := n.Height()
			if err != nil {
				return err
			}
			spendable, immature, err := n.Balance()
			if err != nil {
				return err
			}
			out := struct {
				regtestStartJSON
				Spendable int64 `json:"spendable_sat"`
				Immature  int64 `json:"immature_sat"`
			}{newRegtestStartJSON(st, height, f.statePath()), spendable, immature}
			if a.json {
				return a.printJSON(out)
			}
			a.printf("regtest node running: %s, pid %d, height %d\n", out.Kind, out.Pid, out.Height)
			a.printf("  rpc host:       %s\n", out.RPCHost)
			a.printf("  rpc user:       %s\n", out.RPCUser)
			a.printf("  rpc password:   %s\n", out.RPCPass)
			a.printf("  data dir:       %s\n", out.DataDir)
			a.printf("  log:            %s\n", out.LogFile)
			a.printf("  harness coins:  %d sat spendable, %d sat immature\n", out.Spendable, out.Immature)
			return nil
		},
	}
}

func newRegtestStopCmd(a *app, f *regtestFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the background regtest node and delete its data",
		Example: `  btcstake regtest stop
  btcstake regtest stop --dir /tmp/mynode --json`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if err := checkRegtest(a); err != nil {
				return err
			}
			n, st, err := attachRegtest(f)
			wasRunning := err == nil
			if err != nil {
				if _, serr := os.Stat(f.statePath()); os.IsNotExist(serr) {
					return err
				}
				// The node died on its own, or it hangs or no longer takes
				// the saved credentials: stop its process if it is still
				// there (keeping the state if that fails), then clean up.
				running, serr := regtest.StopState(st)
				if serr != nil {
					return fmt.Errorf("the node does not answer and could not be stopped: %w", serr)
				}
				wasRunning = running
			} else if err := n.Stop(); err != nil {
				return err
			}
			// The node has exited and let go of the directory's lock: take
			// it before removing the state and data, so that a start that
			// got the directory first keeps its own.
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			lock, err := regtest.WaitLockDir(ctx, f.dir)
			cancel()
			if err != nil {
				return fmt.Errorf("the node (pid %d) is stopped, but its state and data stay: %w", st.Pid, err)
			}
			defer lock.Close()
			if now, err := regtest.LoadState(f.statePath()); err == nil && now.Pid == st.Pid {
				if err := os.Remove(f.statePath()); err != nil && !os.IsNotExist(err) {
					return err
				}
				if err := os.RemoveAll(f.dataDir()); err != nil {
					return err
				}
			}
			if a.json {
				return a.printJSON(map[string]any{"stopped": wasRunning, "pid": st.Pid})
			}
			if wasRunning {
				a.printf("regtest node stopped (pid %d); data removed\n", st.Pid)
			} else {
				a.printf("regtest node (pid %d) was not running; state removed\n", st.Pid)
			}
			return nil
		},
	}
}

func newRegtestMineCmd(a *app, f *regtestFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "mine N",
		Short: "Mine N blocks on the background regtest node",
		Example: `  btcstake regtest mine 1
  btcstake regtest mine 144 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := checkRegtest(a); err != nil {
				return err
			}
			count, err := strconv.Atoi(args[0])
			if err != nil || count < 1 || count > 10000 {
				return usageError{fmt.Errorf("N: want a block count 1..10000, got %q", args[0])}
			}
			n, _, err := attachRegtest(f)
			if err != nil {
				return err
			}
			defer n.Close()
			hashes, err := n.Mine(count)
			if err != nil {
				return err
			}
			height, err := n.Height()
			if err != nil {
				return err
			}
			strs := make([]string, len(hashes))
			for i, h := range hashes {
				strs[i] = h.String()
			}
			if a.json {
				return a.printJSON(map[string]any{"height": height, "block_hashes": strs})
			}
			a.printf("mined %d blocks; height %d; tip %s\n", count, height, strs[len(strs)-1])
			return nil
		},
	}
}

type regtestFundJSON struct {
	Txid      string `json:"txid"`
	Vout      uint32 `json:"vout"`
	Outpoint  string `json:"outpoint"`
	Value     int64  `json:"value_sat"`
	PkScript  string `json:"pk_script"`
	Tx        string `json:"tx"`
	Confirmed bool   `json:"confirmed"`
}

func newRegtestFundCmd(a *app, f *regtestFlags) *cobra.Command {
	var addr, pkHex string
	var amount int64
	var confirm bool
	cmd := &cobra.Command{
		Use:   "fund",
		Short: "Pay an address or script from the node's mature coins",
		Long: `fund pays --amount satoshis to --address or to a raw --pkscript from the mature
coinbase coins the harness holds, broadcasts the transaction and prints the
new outpoint (txid:vout). It is unconfirmed unless --confirm mines a block.`,
		Example: `  btcstake regtest fund --address bcrt1p... --amount 100000 --confirm
  btcstake regtest fund --pkscript 5120<32-byte-hex> --amount 50000 --json`,
		Args: cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if err := checkRegtest(a); err != nil {
				return err
			}
			params, _ := a.params()
			var pkScript []byte
			switch {
			case addr != "" && pkHex != "":
				return usagef("address", "give either --address or --pkscript, not both")
			case addr != "":
				ad, err := address.DecodeAddress(addr, params)
				if err != nil || !ad.IsForNet(params) {
					return usagef("address", "not a regtest address: %q", addr)
				}
				if pkScript, err = txscript.PayToAddrScript(ad); err != nil {
					return usagef("address", "cannot pay %q: %v", addr, err)
				}
			case pkHex != "":
				var err error
				if pkScript, err = parseHex("pkscript", pkHex); err != nil {
					return err
				}
				if len(pkScript) > 10000 {
					return usagef("pkscript", "script of %d bytes is too long", len(pkScript))
				}
			default:
				return usagef("address", "give --address or --pkscript")
			}
			if amount <= 0 || amount > 21e14 {
				return usagef("amount", "must be 1..2100000000000000 satoshis, got %d", amount)
			}
			n, _, err := attachRegtest(f)
			if err != nil {
				return err
			}
			defer n.Close()
			op, tx, err := n.Fund(pkScript, amount)
			if err != nil {
				return err
			}
			if confirm {
				if _, err := n.Mine(1); err != nil {
					return err
				}
			}
			out := regtestFundJSON{
				Txid: op.Hash.String(), Vout: op.Index, Outpoint: op.String(), Value: amount,
				PkScript: hex.EncodeToString(pkScript), Tx: txHex(tx), Confirmed: confirm,
			}
			if a.json {
				return a.printJSON(out)
			}
			state := "unconfirmed; mine a block to confirm"
			if confirm {
				state = "confirmed"
			}
			a.printf("%s\n", out.Outpoint)
			a.printf("paid %d sat to %s (%s)\n", amount, out.PkScript, state)
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "address", "", "regtest address to pay")
	cmd.Flags().StringVar(&pkHex, "pkscript", "", "output script to pay (hex)")
	cmd.Flags().Int64Var(&amount, "amount", 0, "satoshis to pay")
	cmd.Flags().BoolVar(&confirm, "confirm", false, "mine one block after paying")
	_ = cmd.MarkFlagRequired("amount")
	return cmd
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/btcstake/btcstake/chain"
)

func init() {
	register(newBroadcastCmd)
	register(newWaitCmd)
}

func newBroadcastCmd(a *app) *cobra.Command {
	var nf nodeFlags
	var txArg string
	cmd := &cobra.Command{
		Use:   "broadcast",
		Short: "Check a transaction with testmempoolaccept, then send it to the node",
		Long: `Sends a signed transaction to your node. It first checks that the node
follows --network, then asks it whether it would accept the transaction
(testmempoolaccept) and, if not, says why in plain words (a time lock not yet
expired, a failed signature check, a fee too low, ...) without sending
anything. Exit code 1 when the node refuses.`,
		Example: `  btcstake broadcast --network regtest --rpc-url 127.0.0.1:18334 --rpc-user u --rpc-pass p --tx 0200000001...
  BTCSTAKE_NETWORK=signet btcstake broadcast --tx "$(cat tx.hex)"   # a local bitcoind, found by its cookie`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tx, err := parseTxHex("tx", txArg)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := nf.connect(ctx, a)
			if err != nil {
				return err
			}
			defer c.Close()
			var rej *chain.RejectError
			if err := c.TestMempoolAccept(ctx, tx); errors.As(err, &rej) {
				return fmt.Errorf("the node would reject %s: %s", tx.TxHash(), rejectionText(rej))
			} else if err != nil {
				return nodeError(c, err)
			}
			txid, err := c.Broadcast(ctx, tx)
			if errors.As(err, &rej) {
				return fmt.Errorf("the node rejected %s: %s", tx.TxHash(), rejectionText(rej))
			} else if err != nil {
				return nodeError(c, err)
			}
			if a.json {
				return a.printJSON(map[string]any{"txid": txid.String(), "accepted": true})
			}
			a.printf("broadcast %s\n", txid)
			return nil
		},
	}
	nf.add(cmd)
	cmd.Flags().StringVar(&txArg, "tx", "", "the signed transaction, hex")
	_ = cmd.MarkFlagRequired("tx")
	return cmd
}

// hasIndex reports whether the node is known to keep a transaction index
// (the answer a wait has already had; a short fresh ask otherwise).
func hasIndex(c *chain.Client) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ix, err := c.TxIndex(ctx)
	return err == nil && ix == chain.TxIndexOn
}

// isTerminal reports whether w is a terminal (for a live progress line;
// /dev/null, a character device too, is not one).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// scanReporter keeps one progress line for a block scan on stderr when
// stderr is a terminal, never under --json (where stderr is for the error
// object alone), and says nothing otherwise. Reports come at most every
// tenth of a second, and always for the last block.
type scanReporter struct {
	a     *app
	what  string
	on    bool
	last  time.Time
	shown bool
}

func (a *app) scanReporter(what string) *scanReporter {
	return &scanReporter{a: a, what: what, on: !a.json && isTerminal(a.stderr)}
}

// report is a chain.TxSearch / SpendSearch progress callback (nil when
// there is nothing to show, so the library skips the calls).
func (r *scanReporter) report() func(chain.ScanProgress) {
	if !r.on {
		return nil
	}
	return func(p chain.ScanProgress) {
		if now := time.Now(); now.Sub(r.last) >= 100*time.Millisecond || p.Read == p.Total {
			r.last, r.shown = now, true
			of := ""
			if p.Total > 0 {
				of = fmt.Sprintf(" of %d", p.Total)
			}
			fmt.Fprintf(r.a.stderr, "\r\033[K%s: block %d (%d%s read)", r.what, p.Height, p.Read, of)
		}
	}
}

// done clears the progress line.
func (r *scanReporter) done() {
	if r.shown {
		fmt.Fprint(r.a.stderr, "\r\033[K")
		r.shown = false
	}
}

func newWaitCmd(a *app) *cobra.Command {
	var nf nodeFlags
	var txidArg string
	var confs, fromHeight, maxScan int64
	var timeout, interval time.Duration
	cmd := &cobra.Command{
		Use:   "wait",
		Short: "Wait until a transaction has N confirmations",
		Long: `Polls your node until the transaction has the requested number of
confirmations. On a terminal it keeps one live progress line; otherwise it
prints a line each time the count changes. Exit code 1 on timeout.

A node without a transaction index (-txindex) finds only mempool
transactions by id, so wait reads the blocks instead: first the past ones
(the last --max-scan-blocks blocks, or from --from-height upwards when you
know a height at or below the confirming block), then every new block as it
comes, following reorganisations. While it reads past blocks on a terminal,
stderr shows how far it has got.`,
		Example: `  btcstake wait --network regtest --txid 3f1c...e2 --confirmations 6 --timeout 2h
  btcstake wait --network signet --txid 3f1c...e2 --from-height 230000   # a node without -txindex`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			txid, err := chainhash.NewHashFromStr(txidArg)
			if err != nil || len(txidArg) != 64 {
				return usagef("txid", "not a 64-character transaction id")
			}
			if confs < 1 {
				return usagef("confirmations", "must be at least 1")
			}
			if interval <= 0 || timeout <= 0 {
				return usagef("timeout", "timeout and interval must be positive")
			}
			if fromHeight < 0 {
				return usagef("from-height", "must not be negative")
			}
			if maxScan < 1 {
				return usagef("max-scan-blocks", "must be at least 1")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			c, err := nf.connect(ctx, a)
			if err != nil {
				return err
			}
			defer c.Close()
			live := isTerminal(a.stdout) && !a.json
			seen := false // the node has shown the transaction
			progress := func(n int64) {
				seen = true
				switch {
				case a.json:
				case live:
					a.printf("\r%s: %d/%d confirmations", txid, n, confs)
				default:
					a.printf("%s: %d/%d confirmations\n", txid, n, confs)
				}
			}
			scan := a.scanReporter("looking for " + txid.String() + " in past blocks")
			got, err := c.WaitConfirmations(ctx, *txid, confs, chain.WaitOptions{Interval: interval,
				Progress: func(n int64) { scan.done(); progress(n) },
				Search:   chain.TxSearch{FromHeight: fromHeight, MaxBlocks: maxScan, Progress: scan.report()}})
			scan.done()
			if live {
				a.printf("\n")
			}
			switch {
			case errors.Is(err, chain.ErrTimeout) && ctx.Err() != nil && !seen && !hasIndex(c):
				return fmt.Errorf("gave up after %s: %v (the node keeps no transaction index: it was searched for in the last %d blocks, or from --from-height, and in every new block; give --from-height at or below its block, or a larger --max-scan-blocks)", timeout, err, maxScan)
			case errors.Is(err, chain.ErrTimeout) && ctx.Err() != nil:
				return fmt.Errorf("gave up after %s: %v", timeout, err)
			case errors.Is(err, chain.ErrNotFound):
				return fmt.Errorf("%v: give --from-height at or below its block, or a larger --max-scan-blocks", err)
			case err != nil:
				return nodeError(c, err) // connection or credentials: retrying will not help
			}
			if a.json {
				return a.printJSON(map[string]any{"txid": txid.String(), "confirmations": got})
			}
			return nil
		},
	}
	nf.add(cmd)
	cmd.Flags().StringVar(&txidArg, "txid", "", "transaction id")
	cmd.Flags().Int64Var(&confs, "confirmations", 1, "confirmations to wait for")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "give up after this long")
	cmd.Flags().DurationVar(&interval, "interval", time.Second, "how often to ask the node")
	cmd.Flags().Int64Var(&fromHeight, "from-height", 0, "without -txindex: read blocks upwards from this height (at or below the confirming block); 0: downwards from the tip")
	cmd.Flags().Int64Var(&maxScan, "max-scan-blocks", chain.DefaultMaxTxScanBlocks, "without -txindex: read at most this many past blocks")
	_ = cmd.MarkFlagRequired("txid")
	return cmd
}

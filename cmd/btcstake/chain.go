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

// isTerminal reports whether w is a terminal (for a live progress line).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func newWaitCmd(a *app) *cobra.Command {
	var nf nodeFlags
	var txidArg string
	var confs int64
	var timeout, interval time.Duration
	cmd := &cobra.Command{
		Use:   "wait",
		Short: "Wait until a transaction has N confirmations",
		Long: `Polls your node until the transaction has the requested number of
confirmations. On a terminal it keeps one live progress line; otherwise it
prints a line each time the count changes. Exit code 1 on timeout.`,
		Example: `  btcstake wait --network regtest --txid 3f1c...e2 --confirmations 6 --timeout 2h`,
		Args:    cobra.NoArgs,
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
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			c, err := nf.connect(ctx, a)
			if err != nil {
				return err
			}
			defer c.Close()
			live := isTerminal(a.stdout) && !a.json
			progress := func(n int64) {
				switch {
				case a.json:
				case live:
					a.printf("\r%s: %d/%d confirmations", txid, n, confs)
				default:
					a.printf("%s: %d/%d confirmations\n", txid, n, confs)
				}
			}
			got, err := c.WaitConfirmations(ctx, *txid, confs, chain.WaitOptions{Interval: interval, Progress: progress})
			if live {
				a.printf("\n")
			}
			switch {
			case errors.Is(err, chain.ErrTimeout) && ctx.Err() != nil:
				return fmt.Errorf("gave up after %s: %v", timeout, err)
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
	_ = cmd.MarkFlagRequired("txid")
	return cmd
}

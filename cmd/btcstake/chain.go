package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/internal/rpc"
)

func init() {
	register(newBroadcastCmd)
	register(newWaitCmd)
}

type mempoolAccept struct {
	Txid         string `json:"txid"`
	Allowed      bool   `json:"allowed"`
	RejectReason string `json:"reject-reason"`
}

func newBroadcastCmd(a *app) *cobra.Command {
	var nf nodeFlags
	var txArg string
	cmd := &cobra.Command{
		Use:   "broadcast",
		Short: "Check a transaction with testmempoolaccept, then send it to the node",
		Long: `Sends a signed transaction to your node. It first asks the node whether it
would accept it (testmempoolaccept) and, if not, says why in plain words (a
time lock not yet expired, a failed signature check, a fee too low, ...)
without sending anything. Exit code 1 when the node refuses.`,
		Example: `  btcstake broadcast --network regtest --rpc-url 127.0.0.1:18334 --rpc-user u --rpc-pass p --tx 0200000001...
  BTCSTAKE_RPC_URL=127.0.0.1:8332 BTCSTAKE_RPC_COOKIE=~/.bitcoin/.cookie btcstake broadcast --network mainnet --tx "$(cat tx.hex)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tx, err := parseTxHex("tx", txArg)
			if err != nil {
				return err
			}
			n, err := nf.connect(a)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			raw := txHex(tx)
			var res []mempoolAccept
			if err := n.callInto(ctx, &res, "testmempoolaccept", []string{raw}, 0.1); err != nil {
				return err
			}
			if len(res) != 1 {
				return fmt.Errorf("node answered testmempoolaccept with %d results", len(res))
			}
			if !res[0].Allowed {
				return fmt.Errorf("the node would reject %s: %s", tx.TxHash(), rejectionText(res[0].RejectReason))
			}
			var txid string
			if err := n.callInto(ctx, &txid, "sendrawtransaction", raw); err != nil {
				if re, ok := err.(*rpc.Error); ok {
					return fmt.Errorf("the node rejected %s: %s", tx.TxHash(), rejectionText(re.Message))
				}
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"txid": txid, "accepted": true})
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

// txInfo is what getrawtransaction (verbose) tells about a transaction.
type txInfo struct {
	Hex           string `json:"hex"`
	Confirmations int64  `json:"confirmations"`
	BlockHash     string `json:"blockhash"`
}

// errTxUnknown: the node does not know the transaction (yet).
var errTxUnknown = errors.New("transaction unknown to the node")

// getTx fetches a transaction, its confirmations and its block height (-1
// when unconfirmed).
func (n *nodeConn) getTx(ctx context.Context, txid chainhash.Hash) (*wire.MsgTx, int64, int64, error) {
	var info txInfo
	if err := n.callInto(ctx, &info, "getrawtransaction", txid.String(), 1); err != nil {
		if _, ok := err.(*rpc.Error); ok {
			return nil, 0, -1, fmt.Errorf("%w: %s (a node needs -txindex to find confirmed transactions)", errTxUnknown, txid)
		}
		return nil, 0, -1, err
	}
	raw, err := hex.DecodeString(info.Hex)
	if err != nil {
		return nil, 0, -1, fmt.Errorf("node returned bad hex for %s", txid)
	}
	tx := wire.NewMsgTx(2)
	if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
		return nil, 0, -1, fmt.Errorf("node returned an undecodable transaction %s", txid)
	}
	height := int64(-1)
	if info.BlockHash != "" && info.Confirmations > 0 {
		var hdr struct {
			Height int64 `json:"height"`
		}
		if err := n.callInto(ctx, &hdr, "getblockheader", info.BlockHash, true); err != nil {
			return nil, 0, -1, err
		}
		height = hdr.Height
	}
	return tx, info.Confirmations, height, nil
}

func (n *nodeConn) tipHeight(ctx context.Context) (int64, error) {
	var h int64
	err := n.callInto(ctx, &h, "getblockcount")
	return h, err
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
			n, err := nf.connect(a)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			live := isTerminal(a.stdout) && !a.json
			last := int64(-1)
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				_, c, _, err := n.getTx(ctx, *txid)
				if err != nil && !errors.Is(err, errTxUnknown) && ctx.Err() == nil {
					if live {
						a.printf("\n")
					}
					return err // connection or credentials: retrying will not help
				}
				if err == nil && c != last {
					last = c
					switch {
					case a.json:
					case live:
						a.printf("\r%s: %d/%d confirmations", txid, c, confs)
					default:
						a.printf("%s: %d/%d confirmations\n", txid, c, confs)
					}
				}
				if err == nil && c >= confs {
					if live {
						a.printf("\n")
					}
					if a.json {
						return a.printJSON(map[string]any{"txid": txid.String(), "confirmations": c})
					}
					return nil
				}
				select {
				case <-ctx.Done():
					if live {
						a.printf("\n")
					}
					if err != nil {
						return fmt.Errorf("gave up after %s: %v", timeout, err)
					}
					return fmt.Errorf("gave up after %s with %d of %d confirmations", timeout, max(last, 0), confs)
				case <-tick.C:
				}
			}
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

package main

import (
	"encoding/hex"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/chain"
)

func init() { register(newNodeCmd) }

func newNodeCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Your Bitcoin node: what it is and what it keeps",
		Long: `node asks the Bitcoin node the chain commands talk to (found as described
in docs/cli.md, "Node connection") about itself.`,
		Example: `  btcstake node info --network signet`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newNodeInfoCmd(a))
	return cmd
}

// nodeInfoJSON is node info --json.
type nodeInfoJSON struct {
	RPCHost          string `json:"rpc_host"`
	Chain            string `json:"chain"`
	Network          string `json:"network"`
	GenesisBlockHash string `json:"genesis_block_hash"`
	Height           int64  `json:"height"`
	Headers          int64  `json:"headers"`
	BestBlockHash    string `json:"best_block_hash"`
	Implementation   string `json:"implementation"`
	Version          string `json:"version"`
	VersionNumber    int64  `json:"version_number"`
	Subversion       string `json:"subversion"`
	TxIndex          string `json:"txindex"`
	Pruned           bool   `json:"pruned"`
	PruneHeight      int64  `json:"prune_height,omitempty"`
	SignetChallenge  string `json:"signet_challenge,omitempty"`
}

func newNodeInfoCmd(a *app) *cobra.Command {
	var nf nodeFlags
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show the node's chain, height, best block, version and whether it keeps a transaction index",
		Long: `Checks that the node follows --network (chain name, genesis block, and for a
signet its challenge), as every command that talks to a node does, then prints
what it says about itself: its chain and genesis block, the height and hash of
its best block, its software (btcd or bitcoind) and version, whether it keeps
a transaction index (-txindex: "on", "off", "syncing" while bitcoind builds
it, "unknown" when it cannot be told), and whether it is pruned.

Without a transaction index, wait and status read blocks instead (bounded by
--max-scan-blocks; --from-height makes it cheaper); a pruned node cannot
serve the blocks it has discarded.`,
		Example: `  btcstake node info --network regtest
  btcstake node info --network signet --json | jq -r .txindex`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := nf.connect(ctx, a)
			if err != nil {
				return err
			}
			defer c.Close()
			info, err := c.Info(ctx)
			if err != nil {
				return nodeError(c, err)
			}
			host := c.URL()
			if u, err := url.Parse(c.URL()); err == nil {
				host = u.Host
			}
			out := nodeInfoJSON{RPCHost: host, Chain: info.Chain, Network: info.Network, GenesisBlockHash: info.Genesis.String(),
				Height: info.Blocks, Headers: info.Headers, BestBlockHash: info.BestBlock.String(), Implementation: info.Implementation,
				Version: info.Version, VersionNumber: info.VersionNumber, Subversion: info.Subversion, TxIndex: info.TxIndex.String(),
				Pruned: info.Pruned, PruneHeight: info.PruneHeight}
			if info.SignetChallenge != nil {
				out.SignetChallenge = hex.EncodeToString(info.SignetChallenge)
			}
			if a.json {
				return a.printJSON(out)
			}
			software := "unknown (the node does not say)"
			if info.Implementation != "" {
				software = info.Implementation + " " + info.Version
				if info.Subversion != "" {
					software += " (" + info.Subversion + ")"
				}
			}
			a.printf("node         %s\n", host)
			a.printf("software     %s\n", software)
			a.printf("chain        %s (genesis %s)\n", info.Chain, info.Genesis)
			if out.SignetChallenge != "" {
				a.printf("signet       challenge %s\n", out.SignetChallenge)
			}
			a.printf("height       %d", info.Blocks)
			if info.Headers > info.Blocks {
				a.printf(" (headers to %d: still syncing)", info.Headers)
			}
			a.printf("\nbest block   %s\n", info.BestBlock)
			a.printf("txindex      %s\n", txIndexText(info.TxIndex))
			pruned := "no"
			if info.Pruned {
				pruned = fmt.Sprintf("yes (keeps blocks from height %d)", info.PruneHeight)
				if info.PruneHeight == 0 {
					pruned = "yes"
				}
			}
			a.printf("pruned       %s\n", pruned)
			return nil
		},
	}
	nf.add(cmd)
	return cmd
}

// txIndexText says what the node's index means for wait and status.
func txIndexText(s chain.TxIndexState) string {
	switch s {
	case chain.TxIndexOn:
		return "on: transactions are found by id"
	case chain.TxIndexOff:
		return "off: wait and status read blocks instead (see --max-scan-blocks, --from-height)"
	case chain.TxIndexSyncing:
		return "syncing: the node is still building it; wait and status read blocks meanwhile"
	}
	return "unknown: the node cannot be asked yet (no block after the genesis block)"
}

package main

// btcstake prove and btcstake undelegate: the Babylon messages that say a
// stake (or its spend) is on Bitcoin (package babylon; docs/spec.md §10).

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/chain"
	"github.com/btcstake/btcstake/internal/strictjson"
	"github.com/btcstake/btcstake/script"
)

func init() {
	register(newProveCmd)
	register(newUndelegateCmd)
}

// proofFlags are how a command finds a confirmed transaction on the node
// and how deep its block must be.
type proofFlags struct {
	nf           nodeFlags
	fromHeight   int64
	maxScan      int64
	depth        uint32
	allowShallow bool
}

func (f *proofFlags) add(cmd *cobra.Command, withDepth bool) {
	f.nf.add(cmd)
	cmd.Flags().Int64Var(&f.fromHeight, "from-height", 0, "without -txindex: read blocks upwards from this height (at or below the confirming block); 0: downwards from the tip")
	cmd.Flags().Int64Var(&f.maxScan, "max-scan-blocks", chain.DefaultMaxTxScanBlocks, "without -txindex: read at most this many past blocks")
	if withDepth {
		cmd.Flags().Uint32Var(&f.depth, "confirmation-depth", babylon.MainnetConfirmationDepth, "blocks the transaction's block must be below the tip: Babylon's btc_confirmation_depth (30 on bbn-1)")
		cmd.Flags().BoolVar(&f.allowShallow, "allow-shallow", false, "build the proof even when the block is less deep than --confirmation-depth (Babylon refuses it until it is deep enough)")
	}
}

func (f *proofFlags) check() error {
	if f.fromHeight < 0 {
		return usagef("from-height", "must not be negative")
	}
	if f.maxScan < 1 {
		return usagef("max-scan-blocks", "must be at least 1")
	}
	return nil
}

func (f *proofFlags) rule() babylon.DepthRule {
	return babylon.DepthRule{ConfirmationDepth: f.depth, AllowShallow: f.allowShallow}
}

// prove finds txid on the node and proves its inclusion under rule.
func (f *proofFlags) prove(cmd *cobra.Command, a *app, txid chainhash.Hash, rule babylon.DepthRule) (*babylon.ProvenTx, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	ctx := cmd.Context()
	c, err := f.nf.connect(ctx, a)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	scan := a.scanReporter("looking for " + txid.String() + " in past blocks")
	p, err := babylon.ProveFromNode(ctx, c, txid, chain.TxSearch{FromHeight: f.fromHeight, MaxBlocks: f.maxScan, Progress: scan.report()}, rule)
	scan.done()
	return p, proveError(c, txid, err)
}

// proveError says why a proof could not be made, in one line.
func proveError(c *chain.Client, txid chainhash.Hash, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, babylon.ErrShallow):
		return fmt.Errorf("%w; wait for more blocks, or give --allow-shallow", err)
	case errors.Is(err, babylon.ErrUnconfirmed), errors.Is(err, babylon.ErrCoinbase), errors.Is(err, babylon.ErrNotInBlock), errors.Is(err, babylon.ErrInvalidProof):
		return opError("txid", err)
	case errors.Is(err, chain.ErrNotFound):
		return opError("txid", fmt.Errorf("%v: give --from-height at or below its block, or a larger --max-scan-blocks (a node without -txindex)", err))
	}
	return nodeError(c, err)
}

// parseTxid reads a --txid flag.
func parseTxid(flag, s string) (chainhash.Hash, error) {
	s = strings.TrimSpace(s)
	h, err := chainhash.NewHashFromStr(s)
	if err != nil || len(s) != 64 {
		return chainhash.Hash{}, usagef(flag, "not a 64-character transaction id")
	}
	return *h, nil
}

// provenJSON is a confirmed transaction with its inclusion proof: what
// prove prints with --json and writes to --out, and what register
// --inclusion-proof reads back.
type provenJSON struct {
	Txid              string          `json:"txid"`
	BlockHash         string          `json:"block_hash"`
	BlockHeight       int64           `json:"block_height"`
	TipHeight         int64           `json:"tip_height"`
	Depth             int64           `json:"depth"`
	ConfirmationDepth uint32          `json:"confirmation_depth"`
	Header            string          `json:"header"` // the 80-byte block header, hex
	Tx                string          `json:"tx"`
	InclusionProof    json.RawMessage `json:"inclusion_proof"` // babylon.InclusionProof's rendering, "encoded" its protobuf hex
	// With --babylon-address: MsgAddBTCDelegationInclusionProof.
	Msg          json.RawMessage `json:"msg,omitempty"`
	MsgHex       string          `json:"msg_hex,omitempty"`
	BabylondArgs []string        `json:"babylond_args,omitempty"`
	OutFile      string          `json:"out_file,omitempty"`
}

func newProvenJSON(p *babylon.ProvenTx, depth uint32) (provenJSON, error) {
	var hdr bytes.Buffer
	if err := p.Header.Serialize(&hdr); err != nil {
		return provenJSON{}, err
	}
	pj, err := json.Marshal(p.Proof)
	if err != nil {
		return provenJSON{}, err
	}
	return provenJSON{Txid: p.Tx.TxHash().String(), BlockHash: p.Header.BlockHash().String(), BlockHeight: p.Height,
		TipHeight: p.TipHeight, Depth: p.Depth(), ConfirmationDepth: depth, Header: hex.EncodeToString(hdr.Bytes()),
		Tx: txHex(p.Tx), InclusionProof: pj}, nil
}

// readProven reads the file prove --out wrote (or prove --json printed):
// the transaction, its block header, heights and the proof. The proof is
// not trusted: register verifies it against the header.
func readProven(flag, v string) (*babylon.ProvenTx, error) {
	data, _, err := readInput(flag, "a file", v, func(string) bool { return false })
	if err != nil {
		return nil, err
	}
	return parseProven(flag, data)
}

// parseProven decodes the JSON of prove: every problem is a usage error
// naming flag.
func parseProven(flag string, data []byte) (*babylon.ProvenTx, error) {
	var j provenJSON
	if err := strictjson.Unmarshal(data, &j); err != nil {
		return nil, usagef(flag, "not the JSON of 'btcstake prove': %v", err)
	}
	var enc struct {
		Encoded string `json:"encoded"`
	}
	if err := json.Unmarshal(j.InclusionProof, &enc); err != nil || enc.Encoded == "" {
		return nil, usagef(flag, "no inclusion_proof.encoded in the file")
	}
	pb, err := hex.DecodeString(enc.Encoded)
	if err != nil {
		return nil, usagef(flag, "inclusion_proof.encoded is not hex")
	}
	proof, err := babylon.UnmarshalInclusionProof(pb)
	if err != nil {
		return nil, usagef(flag, "%v", err)
	}
	hb, err := hex.DecodeString(j.Header)
	if err != nil || len(hb) != 80 {
		return nil, usagef(flag, "header is not an 80-byte block header in hex")
	}
	var hdr wire.BlockHeader
	if err := hdr.Deserialize(bytes.NewReader(hb)); err != nil {
		return nil, usagef(flag, "header: %v", err)
	}
	tx, err := decodeTxHex(j.Tx)
	if err != nil {
		return nil, usagef(flag, "tx: %v", err)
	}
	if j.BlockHeight < 0 || j.TipHeight < 0 {
		return nil, usagef(flag, "negative height")
	}
	return &babylon.ProvenTx{Tx: tx, Proof: proof, Header: hdr, Height: j.BlockHeight, TipHeight: j.TipHeight}, nil
}

// decodeTxHex decodes a transaction in hex with nothing after it.
func decodeTxHex(s string) (*wire.MsgTx, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	tx := wire.NewMsgTx(2)
	r := bytes.NewReader(b)
	if err := tx.Deserialize(r); err != nil {
		return nil, err
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%d bytes left over after the transaction", r.Len())
	}
	return tx, nil
}

// outFlags are --out FILE and --force of the commands that write one
// file (files.go's rules: atomically, an existing file only with --force,
// never an input or a key).
type outFlags struct {
	a    *app
	path string
}

func (o *outFlags) add(a *app, cmd *cobra.Command, what string) {
	o.a = a
	addOutFlag(cmd, &o.path, "out", "write "+what+" to this file (atomically; an existing file only with --force)")
}

// check refuses a bad --out before any work is done.
func (o *outFlags) check() error { return o.a.checkOutput("out", o.path) }

func (o *outFlags) write(data []byte) error {
	if o.path == "" {
		return nil
	}
	return o.a.writeOutput("out", o.path, data)
}

// babylondLine is a babylond command with its arguments, quoted for a
// POSIX shell (all are hex, decimal or empty, so only "" needs quotes).
func babylondLine(sub string, args []string) string {
	q := make([]string, len(args))
	for i, s := range args {
		if s == "" {
			s = `""`
		}
		q[i] = s
	}
	return "babylond tx btcstaking " + sub + " " + strings.Join(q, " ")
}

func newProveCmd(a *app) *cobra.Command {
	var pf proofFlags
	var txidArg, signer string
	var out outFlags
	cmd := &cobra.Command{
		Use:     "prove",
		Aliases: []string{"inclusion-proof"},
		Short:   "Prove to Babylon that a transaction is in a Bitcoin block (inclusion proof)",
		Long: `Reads from your node the block that confirms --txid and builds Babylon's
InclusionProof: the block hash, the transaction's index and its Merkle
siblings, checked against the block header's Merkle root before anything is
printed. The coinbase is refused, and so is a block less than
--confirmation-depth below the tip (Babylon's btc_confirmation_depth, 30 on
bbn-1) unless --allow-shallow.

With --babylon-address (the account that sends it) it also builds
MsgAddBTCDelegationInclusionProof, the message that activates a delegation
registered before its staking transaction was on Bitcoin, and prints the
'babylond tx btcstaking add-btc-inclusion-proof' command. --out writes the
JSON that 'btcstake register --inclusion-proof' reads.`,
		Example: `  btcstake prove --network signet --txid 3f1c...e2
  btcstake prove --network mainnet --txid 3f1c...e2 --babylon-address bbn1... --out proof.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			txid, err := parseTxid("txid", txidArg)
			if err != nil {
				return err
			}
			if signer != "" {
				if signer, err = checkBabylonAddress("babylon-address", signer); err != nil {
					return err
				}
			}
			if err := out.check(); err != nil {
				return err
			}
			p, err := pf.prove(cmd, a, txid, pf.rule())
			if err != nil {
				return err
			}
			j, err := newProvenJSON(p, pf.depth)
			if err != nil {
				return err
			}
			var msg *babylon.MsgAddBTCDelegationInclusionProof
			if signer != "" {
				if msg, err = babylon.NewMsgAddInclusionProof(signer, p); err != nil {
					return err
				}
				if j.Msg, err = json.Marshal(msg); err != nil {
					return err
				}
				j.MsgHex, j.BabylondArgs = hex.EncodeToString(msg.Marshal()), msg.BabylondArgs()
			}
			doc, err := json.MarshalIndent(j, "", "  ")
			if err != nil {
				return err
			}
			if err := out.write(append(doc, '\n')); err != nil {
				return err
			}
			j.OutFile = out.path
			if a.json {
				return a.printJSON(j)
			}
			a.printf("txid             %s\n", j.Txid)
			a.printf("block            %s at height %d, %d below the tip %d\n", j.BlockHash, j.BlockHeight, j.Depth, j.TipHeight)
			a.printf("inclusion proof  %s\n", hex.EncodeToString(p.Proof.Marshal()))
			if msg != nil {
				a.printf("message          %s\n", j.MsgHex)
				a.printf("%s --from %s\n", babylondLine("add-btc-inclusion-proof", j.BabylondArgs), signer)
			}
			if out.path != "" {
				a.printf("wrote %s\n", out.path)
			}
			return nil
		},
	}
	pf.add(cmd, true)
	cmd.Flags().StringVar(&txidArg, "txid", "", "the confirmed transaction's id (a staking transaction, for a delegation)")
	cmd.Flags().StringVar(&signer, "babylon-address", "", "build MsgAddBTCDelegationInclusionProof sent by this Babylon account (bbn1...)")
	out.add(a, cmd, "the proof as JSON (what register --inclusion-proof reads)")
	_ = cmd.MarkFlagRequired("txid")
	return cmd
}

// msgJSON is what register and undelegate print with --json: the message
// (package babylon's rendering, with "encoded"), its hex, and babylond's
// arguments.
type msgJSON struct {
	Msg           json.RawMessage `json:"msg"`
	MsgHex        string          `json:"msg_hex"`
	BabylondArgs  []string        `json:"babylond_args"`
	StakingTxid   string          `json:"staking_txid"`
	ParamsVersion *uint32         `json:"params_version,omitempty"`
	OutFile       string          `json:"out_file,omitempty"`
}

func newUndelegateCmd(a *app) *cobra.Command {
	var df delegationFlags
	var pf proofFlags
	var stakingArg, txidArg, signer string
	var prevArgs []string
	var out outFlags
	var extension bool
	cmd := &cobra.Command{
		Use:     "undelegate",
		Aliases: []string{"undelegate-msg"},
		Short:   "Tell Babylon the stake was spent on Bitcoin (MsgBTCUndelegate)",
		Long: `Builds MsgBTCUndelegate for a confirmed transaction that spends the staking
output (the unbonding transaction from 'btcstake unbond', or any other
spend): the spending transaction --txid read from your node with its
inclusion proof, and the transactions whose outputs it spends (Babylon's
funding_transactions): the staking transaction --staking-tx and one
--prev-tx for every other coin it spends. The staking output is found in
--staking-tx with the delegation flags. Prints the message in hex, with
--json its fields, and the 'babylond tx btcstaking btc-undelegate' command.
Babylon asks for no depth here, only a block its light client knows.

With --extension, --txid is a stake extension ('btcstake extend') of this
delegation and the message activates the new delegation
(babylon.NewMsgActivateExpansion): exactly one --prev-tx, the funding coin's
transaction, and the extension's block must be --confirmation-depth deep
(Babylon takes this proof as the new delegation's inclusion proof).`,
		Example: `  btcstake undelegate --network signet --params bbn-test-6 --btc-height 230000 \
      --staker-pk <hex> --fp-pk <hex> --staking-time 64000 --staking-tx staking.hex \
      --txid <unbonding txid> --babylon-address bbn1...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			signer, err := checkBabylonAddress("babylon-address", signer)
			if err != nil {
				return err
			}
			txid, err := parseTxid("txid", txidArg)
			if err != nil {
				return err
			}
			stakingTx, err := parseTxHex("staking-tx", stakingArg)
			if err != nil {
				return err
			}
			var others []*wire.MsgTx
			for _, v := range prevArgs {
				tx, err := parseTxHex("prev-tx", v)
				if err != nil {
					return err
				}
				others = append(others, tx)
			}
			if err := out.check(); err != nil {
				return err
			}
			d, err := df.delegation(a.netName())
			if err != nil {
				return err
			}
			funding, err := fundingOf(d, script.StakingOutputKind, "staking-tx", stakingTx)
			if err != nil {
				return err
			}
			if extension && len(others) != 1 {
				return usagef("prev-tx", "with --extension give exactly one: the transaction of the extension's funding coin (input 1)")
			}
			if !extension && (cmd.Flags().Changed("confirmation-depth") || cmd.Flags().Changed("allow-shallow")) {
				return usagef("confirmation-depth", "only with --extension (an ordinary undelegation needs no depth)")
			}
			rule := babylon.DepthRule{}
			if extension {
				rule = pf.rule()
			}
			p, err := pf.prove(cmd, a, txid, rule)
			if err != nil {
				return err
			}
			var msg *babylon.MsgBTCUndelegate
			if extension {
				msg, err = babylon.NewMsgActivateExpansion(signer, funding, p, others[0], rule)
			} else {
				msg, err = babylon.NewMsgBTCUndelegate(signer, funding, p, others)
			}
			if err != nil {
				if errors.Is(err, babylon.ErrInvalidExpansion) {
					return opError("txid", err)
				}
				return err
			}
			mj, err := json.Marshal(msg)
			if err != nil {
				return err
			}
			j := msgJSON{Msg: mj, MsgHex: hex.EncodeToString(msg.Marshal()), BabylondArgs: msg.BabylondArgs(),
				StakingTxid: stakingTx.TxHash().String()}
			if err := out.write([]byte(j.MsgHex + "\n")); err != nil {
				return err
			}
			j.OutFile = out.path
			if a.json {
				return a.printJSON(j)
			}
			a.printf("MsgBTCUndelegate for the delegation %s, spent by %s (block height %d)\n", j.StakingTxid, txid, p.Height)
			a.printf("message  %s\n", j.MsgHex)
			a.printf("%s --from %s\n", babylondLine("btc-undelegate", j.BabylondArgs), signer)
			if out.path != "" {
				a.printf("wrote the message (hex) to %s\n", out.path)
			}
			return nil
		},
	}
	df.add(cmd)
	pf.add(cmd, true)
	cmd.Flags().BoolVar(&extension, "extension", false, "--txid is a stake extension of the delegation: activate the new delegation (needs the depth, and the funding coin's transaction as --prev-tx)")
	cmd.Flags().StringVar(&stakingArg, "staking-tx", "", "the staking transaction")
	cmd.Flags().StringVar(&txidArg, "txid", "", "the confirmed transaction spending the staking output (the unbonding transaction)")
	cmd.Flags().StringArrayVar(&prevArgs, "prev-tx", nil, "a transaction whose output the spending transaction spends, besides the staking transaction (repeatable)")
	cmd.Flags().StringVar(&signer, "babylon-address", "", "the Babylon account (bbn1...) that sends the message")
	out.add(a, cmd, "the message (hex)")
	for _, n := range []string{"staking-tx", "txid", "babylon-address"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

package main

// btcstake register: MsgCreateBTCDelegation, the message that registers a
// delegation with Babylon (package babylon, PrepareRegistration; docs/spec.md
// §10).

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/pop"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

func init() { register(newRegisterCmd) }

// The names of the two slashing PSBTs --export-slashing-psbts writes.
const (
	slashingPSBTName          = "slashing.psbt"
	unbondingSlashingPSBTName = "unbonding-slashing.psbt"
)

// exportJSON is what register --export-slashing-psbts prints with --json.
type exportJSON struct {
	StakingTxid               string `json:"staking_txid"`
	SlashingPSBTFile          string `json:"slashing_psbt_file"`
	UnbondingSlashingPSBTFile string `json:"unbonding_slashing_psbt_file"`
	SlashingTxid              string `json:"slashing_txid"`
	UnbondingSlashingTxid     string `json:"unbonding_slashing_txid"`
}

func newRegisterCmd(a *app) *cobra.Command {
	var df delegationFlags
	var prf proofFlags
	var stakingArg, addr, popArg, keyFile, proofFile, exportDir string
	var signedSl, signedUsl string
	var confirmed, tipFromNode bool
	var kf popKindFlags
	var pass passphraseFlags
	var out outFlags
	cmd := &cobra.Command{
		Use:   "register",
		Short: "Build MsgCreateBTCDelegation, which registers a stake with Babylon",
		Long: `Builds the message that registers a delegation with Babylon,
MsgCreateBTCDelegation, from the staking transaction and the delegation
(--params, --staker-pk, --fp-pk: exactly one, --staking-time): the unbonding,
slashing and unbonding-slashing transactions, each checked as Babylon checks
them, with the staker's two slashing signatures.

Two flows (docs/networks.md):
  before staking  --staking-tx is the unsigned (or signed, not yet sent)
                  staking transaction; the params version is the one in
                  force at --btc-height, the Bitcoin tip as Babylon sees it
                  (or --tip-from-node for your node's tip). Send the staking
                  transaction once Babylon's covenant has signed, then
                  'btcstake prove' for MsgAddBTCDelegationInclusionProof.
  after staking   the staking transaction is confirmed: --confirmed reads its
                  inclusion proof from your node, --inclusion-proof FILE
                  takes the file 'btcstake prove --out' wrote; the version is
                  the one in force at its block's height.

The proof of possession is --pop (pop_hex, a file, or -), or is made with
--key (--pop-kind). The staker's slashing signatures come from --key (a
keystore or a plain hex key file), or from an external signer:
--export-slashing-psbts DIR writes the two PSBTs to sign (and nothing else);
--signed-slashing-psbt and --signed-unbonding-slashing-psbt take them back.

Prints the message as protobuf hex, with --json its fields, and the
'babylond tx btcstaking create-btc-delegation' command with its 14
arguments, ready to paste (babylond signs and sends it with --from). --out
writes the hex.`,
		Example: `  # before staking, signing with the staker's key
  btcstake register --network signet --params bbn-test-6 --btc-height 230000 \
      --staker-pk <hex> --fp-pk <hex> --staking-time 64000 --staking-tx staking.hex \
      --babylon-address bbn1... --key staker.key --out register.hex

  # with an external signer: export, sign elsewhere, then complete
  btcstake register ... --pop pop.hex --export-slashing-psbts ./sign
  btcstake register ... --pop pop.hex --signed-slashing-psbt ./sign/slashing.psbt \
      --signed-unbonding-slashing-psbt ./sign/unbonding-slashing.psbt

  # after staking: the confirmed staking transaction with its proof from the node
  btcstake register --network mainnet --params bbn-1 --staker-pk <hex> --fp-pk <hex> \
      --staking-time 64000 --staking-tx staking.hex --confirmed --babylon-address bbn1... --key staker.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// 1. The command line: which flow, which signer.
			addr, err := checkBabylonAddress("babylon-address", addr)
			if err != nil {
				return err
			}
			withPSBTs := signedSl != "" || signedUsl != ""
			modes := 0
			for _, on := range []bool{keyFile != "", withPSBTs, exportDir != ""} {
				if on {
					modes++
				}
			}
			if modes != 1 {
				return usagef("key", "give exactly one source of the staker's slashing signatures: --key FILE, --signed-slashing-psbt with --signed-unbonding-slashing-psbt, or --export-slashing-psbts DIR to write the PSBTs for an external signer")
			}
			if withPSBTs && (signedSl == "" || signedUsl == "") {
				return usagef("signed-slashing-psbt", "--signed-slashing-psbt and --signed-unbonding-slashing-psbt go together")
			}
			if popArg == "" && keyFile == "" {
				return usagef("pop", "required without --key: the proof of possession (btcstake pop create)")
			}
			if popArg != "" && (cmd.Flags().Changed("pop-kind") || cmd.Flags().Changed("bip322-address-type")) {
				return usagef("pop-kind", "only when the proof is made here (with --key, without --pop)")
			}
			if confirmed && proofFile != "" {
				return usagef("inclusion-proof", "give --confirmed or --inclusion-proof, not both")
			}
			postStaking := confirmed || proofFile != ""
			if postStaking && (df.ps.height.set || tipFromNode) {
				return usagef("btc-height", "after staking the params version is the one in force at the staking transaction's block; drop --btc-height and --tip-from-node")
			}
			if !postStaking && !df.ps.height.set && !tipFromNode {
				return usagef("btc-height", "required before staking: the Bitcoin tip as Babylon sees it, which picks the params version (or --tip-from-node); after staking give --confirmed or --inclusion-proof")
			}
			if tipFromNode && df.ps.height.set {
				return usagef("tip-from-node", "give --btc-height or --tip-from-node, not both")
			}
			if err := out.check(); err != nil {
				return err
			}
			if exportDir != "" {
				if err := checkExportDir(a, exportDir); err != nil {
					return err
				}
			}
			stakingTx, err := parseTxHex("staking-tx", stakingArg)
			if err != nil {
				return err
			}
			d, err := df.parties()
			if err != nil {
				return err
			}
			var proof *pop.Proof
			if popArg != "" {
				if proof, err = readPoP("pop", popArg); err != nil {
					return err
				}
			}
			var kind pop.Kind
			var popOpts []pop.Option
			if proof == nil {
				if kind, popOpts, err = kf.options(cmd, "pop-kind", a); err != nil {
					return err
				}
			}
			var slPkt, uslPkt *btcpsbt.Packet
			if withPSBTs {
				if slPkt, err = readPSBT("signed-slashing-psbt", signedSl); err != nil {
					return err
				}
				if uslPkt, err = readPSBT("signed-unbonding-slashing-psbt", signedUsl); err != nil {
					return err
				}
			}
			l, err := df.ps.load(a.netName())
			if err != nil {
				return err
			}
			if err := l.forNetwork(a.netName()); err != nil {
				return err
			}
			net, err := a.params()
			if err != nil {
				return err
			}
			// 2. The key, and the proof of possession.
			var sk *btcec.PrivateKey
			if keyFile != "" {
				if sk, err = signingKeyFlag(a, "key", keyFile, &pass); err != nil {
					return err
				}
				if script.XOnly(sk.PubKey()) != script.XOnly(d.Staker) {
					return opError("key", fmt.Errorf("the key is not --staker-pk's (it is %s)", script.XOnly(sk.PubKey())))
				}
				if proof == nil {
					if proof, err = pop.Create(kind, sk, addr, popOpts...); err != nil {
						return fmt.Errorf("creating the proof of possession: %w", err)
					}
				}
			}
			if err := proof.Verify(d.Staker, addr, net); err != nil {
				return opError("pop", fmt.Errorf("it does not prove possession of --staker-pk by --babylon-address: %w", err))
			}
			// 3. The flow's height: the inclusion height, or the tip.
			req := babylon.RegistrationRequest{StakerAddress: addr, PoP: proof.Marshal(), StakingTx: stakingTx, Versions: l.versions}
			switch {
			case confirmed:
				p, err := prf.prove(cmd, a, stakingTx.TxHash(), prf.rule())
				if err != nil {
					return err
				}
				req.Included = p
			case proofFile != "":
				p, err := readProven("inclusion-proof", proofFile)
				if err != nil {
					return err
				}
				if p.Tx.TxHash() != stakingTx.TxHash() {
					return opError("inclusion-proof", fmt.Errorf("the proof is for transaction %s, --staking-tx is %s", p.Tx.TxHash(), stakingTx.TxHash()))
				}
				if err := prf.rule().Check(p.Height, p.TipHeight); err != nil {
					return opError("inclusion-proof", fmt.Errorf("%w; wait for more blocks, or give --allow-shallow", err))
				}
				req.Included = p
			case tipFromNode:
				tip, err := nodeTip(cmd, a, &prf.nf)
				if err != nil {
					return err
				}
				df.ps.height = heightFlag{v: tip, set: true}
			}
			if req.Included != nil {
				if req.Included.Height < 0 || req.Included.Height > int64(^uint32(0)) {
					return opError("inclusion-proof", fmt.Errorf("block height %d", req.Included.Height))
				}
				df.ps.height = heightFlag{v: uint32(req.Included.Height), set: true}
			} else {
				req.TipHeight = df.ps.height.v
			}
			v, err := df.ps.version(l)
			if err != nil {
				return err
			}
			if d.Params, err = versionParams(l, v); err != nil {
				return err
			}
			if _, err := d.StakingOutput(); err != nil {
				return flagError(err)
			}
			req.Delegation = d
			// 4. Build and check everything; then the signatures.
			draft, err := babylon.PrepareRegistration(req)
			if err != nil {
				return registrationError(err)
			}
			if exportDir != "" {
				return exportSlashing(a, draft, exportDir, stakingTx.TxHash().String())
			}
			var reg *babylon.Registration
			if sk != nil {
				reg, err = draft.Sign(sk)
			} else {
				reg, err = draft.Complete(slPkt, uslPkt)
			}
			if err != nil {
				flag := "signed-slashing-psbt"
				if sk != nil {
					flag = "key"
				}
				return opError(flag, err)
			}
			return emitDelegationMsg(a, reg, reg.Msg(),
				fmt.Sprintf("staking txid   %s (output %d)", reg.StakingTxHash(), reg.StakingOutputIndex()),
				"create-btc-delegation", addr, &out)
		},
	}
	cmd.AddCommand(newRegisterExpandCmd(a))
	df.add(cmd)
	cmd.Flags().StringVar(&stakingArg, "staking-tx", "", "the staking transaction (unsigned before staking)")
	cmd.Flags().StringVar(&addr, "babylon-address", "", "the staker's Babylon account (bbn1...), which sends the message and gets the rewards")
	cmd.Flags().StringVar(&popArg, "pop", "", "the proof of possession: pop_hex, a file holding it (PATH, @PATH) or - for stdin; without it --key makes one")
	cmd.Flags().StringVar(&keyFile, "key", "", "the staker's key (a keystore or a file holding the key in hex): signs both slashing transactions, and the proof of possession without --pop")
	kf.add(cmd, "pop-kind")
	pass.add(cmd)
	cmd.Flags().StringVar(&signedSl, "signed-slashing-psbt", "", "the slashing PSBT (from --export-slashing-psbts) signed by the staker key")
	cmd.Flags().StringVar(&signedUsl, "signed-unbonding-slashing-psbt", "", "the unbonding-slashing PSBT (from --export-slashing-psbts) signed by the staker key")
	cmd.Flags().StringVar(&exportDir, "export-slashing-psbts", "", "write "+slashingPSBTName+" and "+unbondingSlashingPSBTName+" to this directory for an external signer, and stop")
	markOutput(cmd, "export-slashing-psbts")
	cmd.Flags().BoolVar(&confirmed, "confirmed", false, "after staking: read the staking transaction's inclusion proof from your node")
	cmd.Flags().StringVar(&proofFile, "inclusion-proof", "", "after staking: the file 'btcstake prove --out' wrote for the staking transaction")
	cmd.Flags().BoolVar(&tipFromNode, "tip-from-node", false, "before staking: take the Bitcoin tip from your node instead of --btc-height")
	prf.add(cmd, true)
	out.add(a, cmd, "the message (hex)")
	refuseSecretFlag(cmd, "sk", "write the key to a file with mode 0600, or into a keystore (btcstake key import), and pass --key FILE")
	for _, n := range []string{"staking-tx", "babylon-address"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

// nodeTip is the node's tip height.
func nodeTip(cmd *cobra.Command, a *app, nf *nodeFlags) (uint32, error) {
	ctx := cmd.Context()
	c, err := nf.connect(ctx, a)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	tip, err := c.Tip(ctx)
	if err != nil {
		return 0, nodeError(c, err)
	}
	if tip.Height < 0 || tip.Height > int64(^uint32(0)) {
		return 0, fmt.Errorf("the node's tip height %d is out of range", tip.Height)
	}
	return uint32(tip.Height), nil
}

// registrationError names the flag behind a failed check of the
// registration (exit 1).
func registrationError(err error) error {
	switch {
	case errors.Is(err, babylon.ErrInvalidProof):
		return opError("inclusion-proof", err)
	case errors.Is(err, babylon.ErrInvalidRegistration), errors.Is(err, params.ErrNoVersion):
		return fmt.Errorf("registration: %w", err)
	case errors.Is(err, psbt.ErrInvalidTx), errors.Is(err, psbt.ErrInvalidOutput), errors.Is(err, psbt.ErrTxOutputs),
		errors.Is(err, psbt.ErrTxValue), errors.Is(err, psbt.ErrTxInputs), errors.Is(err, params.ErrInvalidStakingValue),
		errors.Is(err, params.ErrInvalidStakingTime), errors.Is(err, params.ErrDustOutput):
		return opError("staking-tx", err)
	}
	return fmt.Errorf("registration: %w", err)
}

// checkExportDir refuses a directory that does not exist, or files in it
// that cannot be written (files.go's rules: existing ones only with
// --force, never an input or a key).
func checkExportDir(a *app, dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usagef("export-slashing-psbts", "%s does not exist; create the directory first", dir)
	case err != nil:
		return usagef("export-slashing-psbts", "%v", err)
	case !fi.IsDir():
		return usagef("export-slashing-psbts", "%s is not a directory", dir)
	}
	for _, n := range []string{slashingPSBTName, unbondingSlashingPSBTName} {
		if err := a.checkOutput("export-slashing-psbts", filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return nil
}

// exportSlashing writes the two slashing PSBTs for an external signer.
func exportSlashing(a *app, draft *babylon.RegistrationDraft, dir, stakingTxid string) error {
	sl, usl, err := draft.SlashingPackets()
	if err != nil {
		return err
	}
	j := exportJSON{StakingTxid: stakingTxid, SlashingPSBTFile: filepath.Join(dir, slashingPSBTName),
		UnbondingSlashingPSBTFile: filepath.Join(dir, unbondingSlashingPSBTName),
		SlashingTxid:              sl.UnsignedTx.TxHash().String(), UnbondingSlashingTxid: usl.UnsignedTx.TxHash().String()}
	var enc [2][]byte
	for i, p := range []*btcpsbt.Packet{sl, usl} {
		s, err := psbt.Encode(p)
		if err != nil {
			return err
		}
		enc[i] = []byte(s + "\n")
	}
	// Both files; when the second cannot be written, the first is removed
	// again if it is new (a file --force replaced stays replaced).
	files := []string{j.SlashingPSBTFile, j.UnbondingSlashingPSBTFile}
	_, statErr := os.Lstat(files[0])
	firstIsNew := errors.Is(statErr, fs.ErrNotExist)
	for i, f := range files {
		if err := a.writeOutput("export-slashing-psbts", f, enc[i]); err != nil {
			if i == 1 && firstIsNew {
				_ = os.Remove(files[0])
			}
			return err
		}
	}
	if a.json {
		return a.printJSON(j)
	}
	a.printf("wrote %s (slashing transaction %s)\n", j.SlashingPSBTFile, j.SlashingTxid)
	a.printf("wrote %s (unbonding slashing transaction %s)\n", j.UnbondingSlashingPSBTFile, j.UnbondingSlashingTxid)
	a.printf("have the staker key sign both (a tap_script_sig on input 0), then give them back with\n")
	a.printf("  --signed-slashing-psbt and --signed-unbonding-slashing-psbt\n")
	return nil
}

// delegationMsg is what register and register expand print: a built
// babylon.Registration or babylon.Expansion.
type delegationMsg interface {
	json.Marshaler
	Marshal() []byte
	BabylondArgs() []string
	StakingTxHash() chainhash.Hash
	StakingOutputIndex() uint32
	ParamsVersion() (uint32, bool)
}

// emitDelegationMsg writes --out and prints the message, its summary
// (summary, labelled txid), and the babylond command (cmdName).
func emitDelegationMsg(a *app, m delegationMsg, summary fmt.Stringer, txidLabel, cmdName, addr string, out *outFlags) error {
	mj, err := json.Marshal(m)
	if err != nil {
		return err
	}
	j := msgJSON{Msg: mj, MsgHex: hex.EncodeToString(m.Marshal()), BabylondArgs: m.BabylondArgs(),
		StakingTxid: m.StakingTxHash().String()}
	if n, ok := m.ParamsVersion(); ok {
		j.ParamsVersion = &n
	}
	if err := out.write([]byte(j.MsgHex + "\n")); err != nil {
		return err
	}
	j.OutFile = out.path
	if a.json {
		return a.printJSON(j)
	}
	a.printf("%s\n", summary)
	a.printf("%s\n", txidLabel)
	a.printf("message        %s\n", j.MsgHex)
	a.printf("%s --from %s\n", babylondLine(cmdName, j.BabylondArgs), addr)
	if out.path != "" {
		a.printf("wrote the message (hex) to %s\n", out.path)
	}
	return nil
}

package main

// btcstake sign | adaptor sign-slashing | adaptor complete-slashing |
// finalize.

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

func init() {
	register(newSignCmd)
	register(newFinalizeCmd)
	// adaptor sign-slashing and adaptor complete-slashing join the adaptor
	// group (adaptor.go); their first spellings stay as hidden aliases.
	register(deprecatedAlias("adaptor-sign-slashing", "adaptor sign-slashing", newAdaptorSignSlashingCmd))
	register(deprecatedAlias("complete-slashing", "adaptor complete-slashing", newCompleteSlashingCmd))
}

// inputLeaf parses the single staking leaf input i spends, if any.
func inputLeaf(p *btcpsbt.Packet, i int) (*script.Leaf, bool) {
	ls := p.Inputs[i].TaprootLeafScript
	if len(ls) != 1 {
		return nil, false
	}
	leaf, err := script.ParseLeafScript(ls[0].Script)
	if err != nil {
		return nil, false
	}
	return leaf, true
}

// inputRange returns the inputs a command works on: all, or --input N.
func inputRange(p *btcpsbt.Packet, input int) ([]int, error) {
	n := len(p.UnsignedTx.TxIn)
	if input >= 0 {
		if input >= n {
			return nil, usagef("input", "the PSBT has %d input(s), there is no input %d", n, input)
		}
		return []int{input}, nil
	}
	if input != -1 {
		return nil, usagef("input", "must be an input index (0 or more)")
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	return all, nil
}

// signPSBT adds key's signatures to the chosen inputs through psbt.Sign,
// which applies the library's signing rules; it maps its refusals to
// hints naming the commands that do sign there.
func signPSBT(p *btcpsbt.Packet, key *btcec.PrivateKey, inputs []int, explicit bool, cov *covenantCheck) ([]signedJSON, error) {
	final := 0
	for _, i := range inputs {
		if pi := &p.Inputs[i]; pi.FinalScriptWitness != nil || pi.FinalScriptSig != nil {
			if explicit {
				return nil, usagef("input", "input %d is already finalised", i)
			}
			final++
		}
	}
	if final == len(inputs) {
		return nil, usagef("psbt", "every input is already finalised: nothing to sign")
	}
	if _, ok := inputLeaf(p, inputs[0]); explicit && !ok && len(p.Inputs[inputs[0]].TaprootLeafScript) > 0 {
		return nil, opError("input", fmt.Errorf("%w: input %d spends no staking leaf this tool knows", psbt.ErrNotSignable, inputs[0]))
	}
	signed, err := psbt.Sign(p, psbt.SignRequest{Key: key, Inputs: inputs, Covenant: cov.delegation, Extension: cov.extension})
	x := script.XOnly(key.PubKey())
	var refusal *psbt.RefusalError
	switch {
	case errors.As(err, &refusal) && refusal.Role == script.CovenantRole:
		return nil, opError("key", fmt.Errorf("%w (covenant members sign slashing transactions with adaptor signatures: btcstake adaptor sign-slashing)", err))
	case errors.Is(err, psbt.ErrSlashingLeafRole):
		return nil, opError("key", fmt.Errorf("%w (a slashing transaction is completed from the provider's extracted key with btcstake adaptor complete-slashing)", err))
	case errors.Is(err, psbt.ErrNotSignable) && explicit:
		return nil, opError("key", fmt.Errorf("%w: key %s has no role in the leaf of input %d (it is not the staker, a finality provider or a covenant member) and owns no funding coin", psbt.ErrNotSignable, x, inputs[0]))
	case errors.Is(err, psbt.ErrNotSignable):
		return nil, opError("key", fmt.Errorf("%w: key %s has no role in the leaf of any input (it is not the staker, a finality provider or a covenant member) and owns no funding coin", psbt.ErrNotSignable, x))
	case err != nil:
		var u usageError
		if errors.As(err, &u) {
			return nil, err
		}
		return nil, opError("psbt", err)
	}
	out := make([]signedJSON, 0, len(signed))
	for _, s := range signed {
		role := s.Role.String()
		if s.Kind == psbt.FundingSig {
			role = "funding coin owner"
		}
		out = append(out, signedJSON{Input: s.Input, Role: role, Key: x.String(), Kind: s.Kind.String()})
	}
	return out, nil
}

func newSignCmd(a *app) *cobra.Command {
	var psbtIn, keyFile, out string
	var input int
	var pf passphraseFlags
	var cov covenantCheck
	cmd := &cobra.Command{
		Use:   "sign",
		Short: "Sign a PSBT with a key file: script-path signatures and funding coins",
		Long: `Adds the signatures --key can make to the PSBT: for every input spending a
staking leaf in which the key has a slot (staker, or covenant member on an
unbonding leaf), a BIP-340 script-path signature (tap_script_sig,
SIGHASH_DEFAULT); for every funding coin of a staking transaction the key
owns (P2WPKH, P2TR key path, P2PKH, P2SH-P2WPKH), the coin's signature.
--input N restricts signing to one input.

Slashing leaves are special: covenant members sign them with adaptor
signatures (btcstake adaptor sign-slashing) and a finality provider's slot is
filled by btcstake adaptor complete-slashing, so sign refuses those roles
there.

A covenant member signs only after checking the transaction against the
delegation: --params, --fp-pk and --staking-time are required with a
covenant key, and sign refuses anything but the exact unbonding transaction
the params allow (see docs/security.md). On input 0 of a stake extension
('btcstake extend') a member of the PREVIOUS committee signs only after
checking both delegations: the new one (--params, --fp-pk, --staking-time)
and the previous one (--prev-params, --prev-btc-height when needed,
--prev-staking-time), through psbt.CovenantSigner.SignExtension.

--key is a passphrase-encrypted keystore (btcstake key keygen|import),
unlocked with --passphrase-file, $BTCSTAKE_PASSPHRASE or a prompt, or a
plain file holding the hex-encoded 32-byte secret key; the format is told by
the content. Either must not be accessible by group or others (chmod 600).
Signers may work in separate invocations, in parallel on copies that
btcstake finalize combines, or in turn, each reading the file the one
before wrote. --out is a new file: it never replaces a file the command
reads (the PSBT, the key, the passphrase file), nor a key, and replaces
another existing file only with --force.`,
		Example: `  # the staker and two covenant members sign, each with their own key file
  # and into their own copy; finalize combines the copies
  btcstake sign --psbt unbond.psbt --key staker.key --out unbond-staker.psbt
  btcstake sign --psbt unbond.psbt --key covenant1.key --out unbond-cov1.psbt \
    --params params/regtest-example.json --fp-pk <hex> --staking-time 144
  btcstake sign --psbt unbond.psbt --key covenant2.key --out unbond-cov2.psbt \
    --params params/regtest-example.json --fp-pk <hex> --staking-time 144
  btcstake finalize --psbt unbond-staker.psbt --psbt unbond-cov1.psbt --psbt unbond-cov2.psbt --json

  # a keystore (btcstake key keygen) is unlocked with a passphrase
  btcstake sign --psbt unbond.psbt --key staker.keystore --passphrase-file pass.txt --out unbond-staker.psbt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cov.network = a.netName()
			p, err := readPSBT("psbt", psbtIn)
			if err != nil {
				return err
			}
			inputs, err := inputRange(p, input)
			if err != nil {
				return err
			}
			if err := a.checkOutput("out", out); err != nil {
				return err
			}
			key, err := signingKeyFlag(a, "key", keyFile, &pf)
			if err != nil {
				return err
			}
			defer key.Zero()
			signed, err := signPSBT(p, key, inputs, input >= 0, &cov)
			if err != nil {
				return err
			}
			return a.emitPSBT(p, nil, signed, out)
		},
	}
	cmd.Flags().StringVar(&psbtIn, "psbt", "", "the PSBT: a file, or base64")
	cmd.Flags().StringVar(&keyFile, "key", "", "keystore or plain hex secret key file (mode 0600)")
	cmd.Flags().IntVar(&input, "input", -1, "sign only this input (-1: every input the key can sign)")
	pf.add(cmd)
	cov.add(cmd)
	cov.addExtension(cmd)
	addOutFlag(cmd, &out, "out", "write the signed PSBT (base64) to this file instead of printing it")
	_ = cmd.MarkFlagRequired("psbt")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func newAdaptorSignSlashingCmd(a *app) *cobra.Command {
	var cov covenantCheck
	var psbtIn, keyFile, out string
	var input int
	var pf passphraseFlags
	cmd := &cobra.Command{
		Use:   "sign-slashing",
		Short: "Covenant member: add adaptor signatures to a slashing PSBT",
		Long: `A covenant member signs the slashing path of a slashing PSBT with one Schnorr
adaptor signature per finality provider of the leaf, each encrypted to that
provider's key, and records them in the PSBT (proprietary input fields, see
docs/spec.md). They become valid signatures only once the provider's secret
key is known, that is after it double-signs. --key is the covenant member's
keystore (unlocked with --passphrase-file, $BTCSTAKE_PASSPHRASE or a prompt)
or plain hex secret key file, mode 0600.`,
		Example: `  btcstake adaptor sign-slashing --psbt slash-staker.psbt --key covenant1.key --out slash-cov1.psbt \
    --params params/regtest-example.json --fp-pk <hex> --staking-time 144
  btcstake adaptor sign-slashing --psbt slash-cov1.psbt --key covenant2.key --out slash-cov2.psbt \
    --params params/regtest-example.json --fp-pk <hex> --staking-time 144`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cov.network = a.netName()
			p, err := readPSBT("psbt", psbtIn)
			if err != nil {
				return err
			}
			inputs, err := inputRange(p, input)
			if err != nil {
				return err
			}
			var slashing []int
			for _, i := range inputs {
				if leaf, ok := inputLeaf(p, i); ok && leaf.Kind == script.SlashingPath {
					slashing = append(slashing, i)
				}
			}
			if len(slashing) == 0 {
				if input >= 0 {
					return usagef("input", "input %d does not spend a slashing path", input)
				}
				return usagef("psbt", "not a slashing PSBT: no input spends a slashing path")
			}
			if err := a.checkOutput("out", out); err != nil {
				return err
			}
			key, err := signingKeyFlag(a, "key", keyFile, &pf)
			if err != nil {
				return err
			}
			defer key.Zero()
			x := script.XOnly(key.PubKey())
			var signed []signedJSON
			for _, i := range slashing {
				leaf, _ := inputLeaf(p, i)
				if role := leaf.Role(x); role != script.CovenantRole {
					what := "has no slot in"
					if role != script.NoRole {
						what = "is the " + role.String() + " of"
					}
					return opError("key", fmt.Errorf("%w: key %s %s the slashing leaf of input %d; only covenant members adaptor-sign", psbt.ErrNotSignable, x, what, i))
				}
				n, err := cov.sign(p, i, leaf, key)
				if err != nil {
					return err
				}
				signed = append(signed, signedJSON{Input: i, Role: script.CovenantRole.String(), Key: x.String(), Kind: "adaptor_sig", Count: n})
			}
			return a.emitPSBT(p, nil, signed, out)
		},
	}
	cmd.Flags().StringVar(&psbtIn, "psbt", "", "the slashing PSBT: a file, or base64")
	cmd.Flags().StringVar(&keyFile, "key", "", "covenant member's keystore or plain hex secret key file (mode 0600)")
	cmd.Flags().IntVar(&input, "input", -1, "sign only this input (-1: every slashing input)")
	pf.add(cmd)
	cov.add(cmd)
	addOutFlag(cmd, &out, "out", "write the PSBT (base64) to this file instead of printing it")
	_ = cmd.MarkFlagRequired("psbt")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

// finalJSON is a complete network transaction.
type finalJSON struct {
	Tx      string `json:"tx"`
	Txid    string `json:"txid"`
	Wtxid   string `json:"wtxid"`
	VSize   int64  `json:"vsize"`
	Fee     int64  `json:"fee_sat"`
	OutFile string `json:"out_file,omitempty"`
}

func (a *app) emitFinal(tx *wire.MsgTx, p *btcpsbt.Packet, out, what string) error {
	j := finalJSON{Tx: txHex(tx), Txid: tx.TxHash().String(), Wtxid: tx.WitnessHash().String(), VSize: psbt.VSize(tx), OutFile: out}
	if fee, err := psbt.Fee(p); err == nil {
		j.Fee = fee
	}
	if out != "" {
		if err := a.writeOutput("out", out, []byte(j.Tx+"\n")); err != nil {
			return err
		}
	}
	if a.json {
		return a.printJSON(j)
	}
	a.printf("%s: every input verified by the script engine\n", what)
	a.printf("txid   %s\n", j.Txid)
	a.printf("vsize  %d vB, fee %d sat\n", j.VSize, j.Fee)
	if out != "" {
		a.printf("wrote the transaction hex to %s\n", out)
	} else {
		a.printf("tx     %s\n", j.Tx)
	}
	return nil
}

func newCompleteSlashingCmd(a *app) *cobra.Command {
	var psbtIn []string
	var fpFile, out string
	var pf passphraseFlags
	cmd := &cobra.Command{
		Use:   "complete-slashing",
		Short: "Complete a pre-signed slashing PSBT with a finality provider's leaked key",
		Long: `Turns a slashing PSBT carrying the staker's signature and a quorum of covenant
adaptor signatures into a broadcastable transaction, given the secret key of
a finality provider (for instance extracted from an EOTS double-sign with
"btcstake eots extract"): it decrypts the covenant adaptor signatures
encrypted to that provider, signs the provider's slot, finalises and runs
the script engine over every input. --psbt may be repeated to combine copies
signed by different parties. --fp-sk-file holds the provider's secret key:
a plain hex key file (the key "btcstake eots extract" prints, saved with
chmod 600) or a keystore
(unlocked with --passphrase-file, $BTCSTAKE_PASSPHRASE or a prompt), mode
0600. Prints the final transaction hex and txid.`,
		Example: `  btcstake adaptor complete-slashing --psbt slash.psbt --fp-sk-file fp.key --json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := readPSBTs("psbt", psbtIn)
			if err != nil {
				return err
			}
			isSlashing := false
			for i := range p.Inputs {
				if leaf, ok := inputLeaf(p, i); ok && leaf.Kind == script.SlashingPath {
					isSlashing = true
				}
			}
			if !isSlashing {
				return usagef("psbt", "not a slashing PSBT: no input spends a slashing path")
			}
			if err := a.checkOutput("out", out); err != nil {
				return err
			}
			key, err := signingKeyFlag(a, "fp-sk-file", fpFile, &pf)
			if err != nil {
				return err
			}
			defer key.Zero()
			tx, err := psbt.CompleteSlashing(p, key)
			if err != nil {
				if errors.Is(err, psbt.ErrNotSignable) {
					return opError("fp-sk-file", err)
				}
				return opError("psbt", err)
			}
			// The library checked every input as consensus would; btcd's
			// script engine checks them too before anything is printed.
			if err := psbt.VerifyTx(tx, p); err != nil {
				return opError("psbt", err)
			}
			return a.emitFinal(tx, p, out, "slashing transaction completed")
		},
	}
	cmd.Flags().StringArrayVar(&psbtIn, "psbt", nil, "the slashing PSBT: a file, or base64 (repeatable: copies are combined)")
	cmd.Flags().StringVar(&fpFile, "fp-sk-file", "", "finality provider's plain hex secret key file or keystore (mode 0600)")
	pf.add(cmd)
	addOutFlag(cmd, &out, "out", "also write the transaction hex to this file")
	_ = cmd.MarkFlagRequired("psbt")
	_ = cmd.MarkFlagRequired("fp-sk-file")
	return cmd
}

func newFinalizeCmd(a *app) *cobra.Command {
	var psbtIn []string
	var out string
	cmd := &cobra.Command{
		Use:   "finalize",
		Short: "Finalise a signed PSBT into a network transaction",
		Long: `Assembles the final witness of every input from the signatures present (for
staking leaves: the staker, exactly the quorum of covenant members and one
finality provider, in the order the script demands), runs btcd's script
engine over every input, and prints the network transaction. --psbt may be
repeated: copies signed separately by different parties are combined first
(BIP-174 combiner); they must be for the same transaction.`,
		Example: `  btcstake finalize --psbt unbond-staker.psbt --psbt unbond-covenant1.psbt \
    --psbt unbond-covenant2.psbt --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := readPSBTs("psbt", psbtIn)
			if err != nil {
				return err
			}
			if err := a.checkOutput("out", out); err != nil {
				return err
			}
			tx, err := psbt.Finalize(p)
			if err != nil {
				return opError("psbt", err)
			}
			// Finalize checked every input as consensus would; btcd's script
			// engine checks them too before anything is printed.
			if err := psbt.VerifyTx(tx, p); err != nil {
				return opError("psbt", err)
			}
			return a.emitFinal(tx, p, out, "finalized")
		},
	}
	cmd.Flags().StringArrayVar(&psbtIn, "psbt", nil, "the signed PSBT: a file, or base64 (repeatable: copies are combined)")
	addOutFlag(cmd, &out, "out", "also write the transaction hex to this file")
	_ = cmd.MarkFlagRequired("psbt")
	return cmd
}

// covenantCheck is the delegation a covenant member checks a PSBT against
// before signing (psbt.CheckCovenantSigning); the staker's key comes from
// the leaf.
type covenantCheck struct {
	network     string // chaincfg's name, set by the command before it signs
	ps          paramsSource
	staker      string
	fps         []string
	stakingTime int64
	// prev is the previous delegation of a stake extension (sign only).
	prev prevParamsFlags
}

// prevParamsFlags name the previous delegation's params and staking time
// for a covenant member signing a stake extension.
type prevParamsFlags struct {
	arg         string
	height      heightFlag
	stakingTime int64
}

// addExtension registers the flags a covenant member signing a stake
// extension gives for the previous delegation.
func (c *covenantCheck) addExtension(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&c.prev.arg, "prev-params", "", "covenant members signing a stake extension: the previous delegation's params (a preset or a file)")
	fl.Var(&c.prev.height, "prev-btc-height", "covenant members signing a stake extension: the height whose version of --prev-params applies")
	fl.Int64Var(&c.prev.stakingTime, "prev-staking-time", 0, "covenant members signing a stake extension: the previous delegation's staking time in blocks")
}

// extension is the new and the previous delegation a covenant member's
// signature on a stake extension's input 0 is checked against
// (psbt.CovenantSigner.SignExtension): the new one from --params,
// --fp-pk and --staking-time, the previous one from --prev-params and
// --prev-staking-time with the same parties.
func (c *covenantCheck) extension(leaf *script.Leaf) (next, prev psbt.Delegation, err error) {
	if c.prev.arg == "" || c.prev.stakingTime == 0 {
		return next, prev, usagef("prev-params", "a covenant member signing a stake extension must check both delegations: give --prev-params and --prev-staking-time of the previous one, and --params, --fp-pk and --staking-time of the new one")
	}
	if next, err = c.delegation(0, leaf); err != nil {
		return next, prev, err
	}
	pf := prevDelegationFlags{arg: c.prev.arg, height: c.prev.height, stakingTime: c.prev.stakingTime}
	prev, err = pf.delegation(c.network, next)
	return next, prev, err
}

func (c *covenantCheck) add(cmd *cobra.Command) {
	c.ps.add(cmd, "covenant members: the staking params to check the transaction against (a preset or a file)")
	cmd.Flags().StringVar(&c.staker, "staker-pk", "", "covenant members: the delegation's staker key (optional: the leaf names it; checked if given)")
	cmd.Flags().StringArrayVar(&c.fps, "fp-pk", nil, "covenant members: the delegation's finality provider key (repeatable)")
	cmd.Flags().Int64Var(&c.stakingTime, "staking-time", 0, "covenant members: the delegation's staking time in blocks")
}

// delegation is the delegation the flags describe for input i (whose
// leaf names the staker): what a covenant member's signature is checked
// against (psbt.CovenantSigner).
func (c *covenantCheck) delegation(i int, leaf *script.Leaf) (psbt.Delegation, error) {
	if c.ps.arg == "" || len(c.fps) == 0 || c.stakingTime == 0 {
		return psbt.Delegation{}, usagef("params", "a covenant member must check what it signs: give --params, --fp-pk and --staking-time of the delegation")
	}
	prm, err := c.ps.stakingParams(c.network)
	if err != nil {
		return psbt.Delegation{}, err
	}
	fps, err := parsePubKeys("fp-pk", c.fps)
	if err != nil {
		return psbt.Delegation{}, err
	}
	st, err := timelockFlag("staking-time", c.stakingTime)
	if err != nil {
		return psbt.Delegation{}, err
	}
	staker, err := leaf.Staker.PubKey()
	if err != nil {
		return psbt.Delegation{}, opError("psbt", err)
	}
	if c.staker != "" {
		given, err := parsePubKey("staker-pk", c.staker)
		if err != nil {
			return psbt.Delegation{}, err
		}
		if script.XOnly(given) != leaf.Staker {
			return psbt.Delegation{}, opError("staker-pk", fmt.Errorf("%w: input %d belongs to staker %s", psbt.ErrWrongInput, i, leaf.Staker))
		}
	}
	return psbt.Delegation{Params: prm, Staker: staker, FinalityProviders: fps, StakingTime: st}, nil
}

// sign has covenant member key sign input i through psbt.CovenantSigner,
// which checks the transaction against the delegation the flags describe
// before it signs. It returns the number of signatures added.
func (c *covenantCheck) sign(p *btcpsbt.Packet, i int, leaf *script.Leaf, key *btcec.PrivateKey) (int, error) {
	d, err := c.delegation(i, leaf)
	if err != nil {
		return 0, err
	}
	signer, err := psbt.NewCovenantSigner(key)
	if err != nil {
		return 0, opError("key", err)
	}
	defer signer.Zero()
	n, err := signer.Sign(p, i, d)
	if err != nil {
		return 0, opError("psbt", err)
	}
	return n, nil
}

package main

// btcstake inspect: explain a PSBT or a transaction of the staking
// lifecycle in words. psbt.Analyze and psbt.AnalyzeTx decide everything;
// this file maps flags to them and the analysis to text or JSON.

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

func init() { register(newInspectCmd) }

// inspectJSON is the explanation of a PSBT or transaction.
type inspectJSON struct {
	Type        string       `json:"type"` // psbt or transaction
	Kind        string       `json:"kind"` // psbt.TxKind: staking, unbonding, slashing, withdraw, extension, unknown
	Summary     string       `json:"summary"`
	Txid        string       `json:"txid"`
	Version     int32        `json:"version"`
	LockTime    uint32       `json:"locktime"`
	InputValue  *int64       `json:"input_value_sat,omitempty"`
	OutputValue int64        `json:"output_value_sat"`
	Fee         *int64       `json:"fee_sat,omitempty"`
	VSize       int64        `json:"vsize,omitempty"`
	VSizeFinal  bool         `json:"vsize_is_final"`
	Inputs      []inInspect  `json:"inputs"`
	Outputs     []outInspect `json:"outputs"`
	Ready       bool         `json:"ready_to_finalize"`
	Complete    bool         `json:"complete"`
	Missing     []string     `json:"missing,omitempty"`
	SigsVerify  *bool        `json:"signatures_verify,omitempty"`
	SigError    string       `json:"signature_error,omitempty"`
	Notes       []string     `json:"notes,omitempty"`
}

type inInspect struct {
	Index          int          `json:"index"`
	Outpoint       string       `json:"outpoint"`
	Sequence       uint32       `json:"sequence"`
	Value          *int64       `json:"value_sat,omitempty"`
	Type           string       `json:"type"` // psbt.InputType: staking-leaf, p2wpkh, p2tr, p2pkh, p2sh-p2wpkh, unknown, unknown-script-path
	SpentOutput    string       `json:"spent_output,omitempty"`
	Path           string       `json:"path,omitempty"`
	Timelock       uint16       `json:"timelock,omitempty"`
	Staker         string       `json:"staker_pk,omitempty"`
	StakerSigned   bool         `json:"staker_signed"`
	Covenant       []keySig     `json:"covenant,omitempty"`
	Quorum         uint32       `json:"covenant_quorum,omitempty"`
	FPs            []keySig     `json:"finality_providers,omitempty"`
	AdaptorSigs    []adaptorSig `json:"adaptor_signatures,omitempty"`
	AdaptorSigners int          `json:"adaptor_signers,omitempty"`
	Signed         bool         `json:"signed"`
	Final          bool         `json:"final"`
	Ready          bool         `json:"ready"`
	Missing        []string     `json:"missing,omitempty"`
	StakingTime    uint16       `json:"staking_time,omitempty"`
	UnbondingTime  uint16       `json:"unbonding_time,omitempty"`
}

type keySig struct {
	Key    string `json:"public_key"` // x-only
	Signed bool   `json:"signed"`
}

type adaptorSig struct {
	Covenant         string `json:"covenant_pk"`
	FinalityProvider string `json:"fp_pk"`
}

type outInspect struct {
	Index    int    `json:"index"`
	Value    int64  `json:"value_sat"`
	Role     string `json:"role"` // psbt.OutputRole
	PkScript string `json:"pk_script"`
	Address  string `json:"address,omitempty"`
	Timelock uint16 `json:"timelock,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// statusJSON is the signing status printed after sign and adaptor sign-slashing.
type statusJSON struct {
	Kind    string   `json:"kind"`
	Ready   bool     `json:"ready_to_finalize"`
	Missing []string `json:"missing,omitempty"`
	Lines   []string `json:"-"`
}

func psbtStatus(an *psbt.Analysis) statusJSON {
	st := statusJSON{Kind: an.Kind.String(), Ready: an.Ready, Missing: missingTexts(an.Missing())}
	switch {
	case an.Ready:
		st.Lines = append(st.Lines, "status: ready to finalize (btcstake finalize)")
	case an.SlashingCompletable:
		st.Lines = append(st.Lines, "status: completable with a finality provider's key (btcstake adaptor complete-slashing)")
	default:
		st.Lines = append(st.Lines, "status: missing "+strings.Join(st.Missing, "; "))
	}
	return st
}

// missingText words what an input lacks, naming the command that supplies
// it where there is one.
func missingText(m psbt.Missing) string {
	switch m.Kind {
	case psbt.MissingCovenantAdaptorSignatures:
		return fmt.Sprintf("input %d: %d more covenant adaptor signature(s) (%d of %d covenant members, quorum %d; btcstake adaptor sign-slashing)",
			m.Input, m.Need-m.Have, m.Have, m.Of, m.Need)
	case psbt.MissingFinalityProviderSignature:
		return fmt.Sprintf("input %d: a finality provider's signature (only if it double-signs: btcstake adaptor complete-slashing decrypts the adaptor signatures with its key)", m.Input)
	}
	return m.String()
}

func missingTexts(ms []psbt.Missing) []string {
	var out []string
	for _, m := range ms {
		out = append(out, missingText(m))
	}
	return out
}

// noteText words a note, naming the flags that settle it.
func noteText(n psbt.Note) string {
	switch n.Kind {
	case psbt.NoteOpReturnNeedsParams:
		return "pass --params to identify the staking output the OP_RETURN describes"
	case psbt.NoteOpReturnMismatch:
		return "the OP_RETURN does not match a staking output under --params: " + n.Err.Error()
	case psbt.NoteNoDelegationOutput:
		return "no output pays an output of the delegation given by --staker-pk/--fp-pk/--staking-time"
	}
	return n.String()
}

// outputDetail words how an output's role was established.
func outputDetail(o *psbt.OutputAnalysis) string {
	switch {
	case o.StakingData != nil:
		d := o.StakingData
		return fmt.Sprintf("phase-1 staking data: tag %x, staker %s, finality provider %s, staking time %d blocks",
			d.Tag, d.Staker, d.FinalityProvider, d.StakingTime)
	case o.Evidence == psbt.EvidenceDelegation:
		return "this delegation's " + outputWords(o.Role) + " output"
	case o.Evidence == psbt.EvidenceParams && o.Role == psbt.RoleSlashing:
		return "pays the params' slashing script"
	case o.Evidence == psbt.EvidencePresumed && o.Role == psbt.RoleUnbonding:
		return "presumably the unbonding output (not checked: the unbonding path does not reveal the finality providers it commits to)"
	case o.Evidence == psbt.EvidencePresumed && o.Role == psbt.RoleSlashing:
		return "presumably the slashing script (pass --params to check)"
	case o.Evidence == psbt.EvidencePresumed && o.Role == psbt.RoleSlashingChange:
		return "presumably the slashing change output (pass --params to check)"
	}
	return ""
}

// outputWords names a protocol output's role in prose.
func outputWords(r psbt.OutputRole) string {
	for _, k := range []script.OutputKind{script.StakingOutputKind, script.UnbondingOutputKind, script.SlashingChangeOutputKind} {
		if psbt.RoleOf(k) == r {
			return psbt.OutputWords(k)
		}
	}
	return r.String()
}

// inspectOf maps an analysis to inspect's JSON.
func inspectOf(an *psbt.Analysis) *inspectJSON {
	j := &inspectJSON{Type: "transaction", Kind: an.Kind.String(), Summary: an.Summary(), Txid: an.Txid.String(), Version: an.Version,
		LockTime: an.LockTime, OutputValue: an.OutputValue, VSize: an.VSize, VSizeFinal: an.VSizeFinal,
		Ready: an.Ready, Complete: an.Complete, Missing: missingTexts(an.Missing())}
	if an.PSBT {
		j.Type = "psbt"
	}
	if an.InputValueKnown {
		in, fee := an.InputValue, an.Fee
		j.InputValue, j.Fee = &in, &fee
	}
	if an.SignaturesChecked > 0 || an.SignatureError != nil {
		ok := an.SignatureError == nil
		j.SigsVerify = &ok
		if !ok {
			j.SigError = an.SignatureError.Error()
		}
	}
	for _, n := range an.Notes {
		j.Notes = append(j.Notes, noteText(n))
	}
	for i := range an.Inputs {
		in := &an.Inputs[i]
		ij := inInspect{Index: in.Index, Outpoint: in.OutPoint.String(), Sequence: in.Sequence, Type: in.Type.String(),
			StakerSigned: in.StakerSigned, AdaptorSigners: in.AdaptorSigners, Signed: in.Signed, Final: in.Final,
			Ready: in.Ready, Missing: missingTexts(in.Missing), StakingTime: in.StakingTime, UnbondingTime: in.UnbondingTime}
		if in.ValueKnown {
			v := in.Value
			ij.Value = &v
		}
		if l := in.Leaf; l != nil {
			ij.SpentOutput = "unknown"
			if in.SpentOutput != 0 {
				ij.SpentOutput = in.SpentOutput.String()
			}
			ij.Path, ij.Timelock, ij.Staker = l.Kind.String(), l.Timelock, l.Staker.String()
			if l.Kind != script.TimelockPath {
				ij.Quorum = l.Quorum
			}
		}
		ij.Covenant, ij.FPs = keySigs(in.Covenant), keySigs(in.FinalityProviders)
		for _, p := range in.AdaptorSigs {
			ij.AdaptorSigs = append(ij.AdaptorSigs, adaptorSig{Covenant: p.Covenant.String(), FinalityProvider: p.FinalityProvider.String()})
		}
		j.Inputs = append(j.Inputs, ij)
	}
	for i := range an.Outputs {
		o := &an.Outputs[i]
		j.Outputs = append(j.Outputs, outInspect{Index: o.Index, Value: o.Value, Role: o.Role.String(), PkScript: hex.EncodeToString(o.PkScript),
			Address: o.Address, Timelock: o.Timelock, Detail: outputDetail(o)})
	}
	return j
}

func keySigs(ks []psbt.KeySignature) []keySig {
	var out []keySig
	for _, k := range ks {
		out = append(out, keySig{Key: k.Key.String(), Signed: k.Signed})
	}
	return out
}

func newInspectCmd(a *app) *cobra.Command {
	var psbtIn, txIn string
	var df delegationFlags
	cmd := &cobra.Command{
		Use:   "inspect",
		Short: "Explain a PSBT or transaction of the staking lifecycle in words",
		Long: `Decodes a PSBT (--psbt, a file or base64) or a network transaction (--tx, hex)
and explains it: which kind of transaction it is (staking, unbonding,
slashing, withdraw), which output and spend path each input spends and the
time locks, every output's role and amount, the fee, which signatures are
present and which are missing (the covenant quorum, the staker, a finality
provider), and the covenant adaptor signatures a slashing PSBT carries.

A raw transaction is recognised from the leaf scripts in its witnesses and
from its outputs; the time locks of the spent output are recovered from the
control block. --params (a preset or a file, with --btc-height when it holds
several versions) lets inspect confirm slashing and staking outputs
against the params (the slashing script, the unbonding time, the covenant
committee of a phase-1 staking transaction). Adding the delegation
(--staker-pk, --fp-pk, --staking-time) marks the outputs paying its staking,
unbonding and slashing change outputs, which also recognises a staking
transaction without phase-1 data and an unbonding transaction's output.`,
		Example: `  btcstake inspect --psbt slash.psbt
  btcstake inspect --tx "$(cat slashing.hex)" --params params/regtest-example.json --json
  btcstake inspect --psbt slash.psbt --params bbn-1 --btc-height 900000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			net, err := a.params()
			if err != nil {
				return err
			}
			if (psbtIn == "") == (txIn == "") {
				return usagef("psbt", "give exactly one of --psbt and --tx")
			}
			opts := psbt.AnalyzeOptions{Net: net, TimelockSearches: psbt.DefaultTimelockSearches}
			if df.ps.arg != "" {
				if opts.Params, err = df.ps.stakingParams(a.netName()); err != nil {
					return err
				}
			} else if df.ps.height.set {
				return usagef("btc-height", "picks the version of --params; give --params too")
			}
			var p *btcpsbt.Packet
			var tx *wire.MsgTx
			if psbtIn != "" {
				if p, err = readPSBT("psbt", psbtIn); err != nil {
					return err
				}
			} else if tx, err = parseTxHex("tx", txIn); err != nil {
				return err
			}
			if df.staker != "" || len(df.fps) > 0 || df.stakingTime != 0 {
				if df.ps.arg == "" || df.staker == "" || len(df.fps) == 0 || df.stakingTime == 0 {
					return usagef("staker-pk", "to match a delegation give --params, --staker-pk, --fp-pk and --staking-time together")
				}
				d, err := df.delegation(a.netName())
				if err != nil {
					return err
				}
				opts.Delegation = &d
			}
			var an *psbt.Analysis
			if p != nil {
				an, err = psbt.Analyze(p, opts)
			} else {
				an, err = psbt.AnalyzeTx(tx, opts)
			}
			if err != nil {
				return err
			}
			j := inspectOf(an)
			if a.json {
				return a.printJSON(j)
			}
			a.printInspect(an)
			return nil
		},
	}
	cmd.Flags().StringVar(&psbtIn, "psbt", "", "the PSBT: a file, or base64")
	cmd.Flags().StringVar(&txIn, "tx", "", "a network transaction, hex")
	df.ps.add(cmd, "staking parameters, a preset or a file (optional: to confirm outputs)")
	cmd.Flags().StringVar(&df.staker, "staker-pk", "", "with --fp-pk, --staking-time and --params: mark the outputs of this delegation")
	cmd.Flags().StringArrayVar(&df.fps, "fp-pk", nil, "finality provider public key of the delegation (repeatable)")
	cmd.Flags().Int64Var(&df.stakingTime, "staking-time", 0, "staking time of the delegation, blocks")
	return cmd
}

func (a *app) printInspect(an *psbt.Analysis) {
	kind := "transaction"
	if an.PSBT {
		kind = "psbt"
	}
	a.printf("%s\n", an.Summary())
	a.printf("%s %s, version %d, locktime %d\n", kind, an.Txid, an.Version, an.LockTime)
	a.printf("inputs (%d):\n", len(an.Inputs))
	for i := range an.Inputs {
		in := &an.Inputs[i]
		val := "value unknown"
		if in.ValueKnown {
			val = fmt.Sprintf("%d sat", in.Value)
		}
		a.printf("  %d  %s  %s  sequence %d\n", in.Index, in.OutPoint, val, in.Sequence)
		if in.Type != psbt.InputStakingLeaf {
			state := "unsigned"
			if in.Final {
				state = "final"
			} else if in.Signed {
				state = "signed"
			}
			a.printf("     funding coin (%s), %s\n", in.Type, state)
			continue
		}
		a.printf("     spends the %s output through the %s path", psbt.OutputWords(in.SpentOutput), in.Leaf.Kind)
		if in.Leaf.Timelock > 0 {
			a.printf(" (time lock %d blocks)", in.Leaf.Timelock)
		}
		a.printf("\n")
		if in.StakingTime > 0 {
			a.printf("     the spent staking output has a staking time of %d blocks\n", in.StakingTime)
		}
		if in.UnbondingTime > 0 && in.SpentOutput != script.StakingOutputKind {
			a.printf("     the spent output's time lock path opens after %d blocks\n", in.UnbondingTime)
		}
		a.printf("     staker %s: %s\n", in.Leaf.Staker, signedWord(in.StakerSigned))
		if len(in.Covenant) > 0 {
			a.printf("     covenant: %d of %d signed, quorum %d\n", in.CovenantSigned(), len(in.Covenant), in.Leaf.Quorum)
			for _, k := range in.Covenant {
				a.printf("       %s: %s\n", k.Key, signedWord(k.Signed))
			}
		}
		if len(in.FinalityProviders) > 0 {
			a.printf("     finality providers: %d of %d signed (the slashing path needs one)\n", in.FinalityProvidersSigned(), len(in.FinalityProviders))
			for _, k := range in.FinalityProviders {
				a.printf("       %s: %s\n", k.Key, signedWord(k.Signed))
			}
		}
		if in.Leaf.Kind == script.SlashingPath && an.PSBT {
			a.printf("     adaptor signatures: %d present, from %d covenant member(s) covering every finality provider (quorum %d)\n",
				len(in.AdaptorSigs), in.AdaptorSigners, in.Leaf.Quorum)
			sigs := slices.Clone(in.AdaptorSigs)
			sort.SliceStable(sigs, func(x, y int) bool { return bytes.Compare(sigs[x].Covenant[:], sigs[y].Covenant[:]) < 0 })
			for _, s := range sigs {
				a.printf("       covenant %s encrypted to finality provider %s\n", s.Covenant, s.FinalityProvider)
			}
		}
		if in.Final {
			a.printf("     final\n")
		}
	}
	a.printf("outputs (%d):\n", len(an.Outputs))
	for i := range an.Outputs {
		o := &an.Outputs[i]
		a.printf("  %d  %d sat  %s", o.Index, o.Value, o.Role)
		if o.Timelock > 0 {
			a.printf(" (time lock %d blocks)", o.Timelock)
		}
		if o.Address != "" {
			a.printf("  %s", o.Address)
		} else {
			a.printf("  %x", o.PkScript)
		}
		a.printf("\n")
		if d := outputDetail(o); d != "" {
			a.printf("     %s\n", d)
		}
	}
	if an.InputValueKnown {
		a.printf("inputs %d sat, outputs %d sat, fee %d sat", an.InputValue, an.OutputValue, an.Fee)
	} else {
		a.printf("outputs %d sat, fee unknown", an.OutputValue)
	}
	if an.VSize > 0 {
		if an.VSizeFinal {
			a.printf(", vsize %d vB", an.VSize)
		} else {
			a.printf(", about %d vB once signed", an.VSize)
		}
		if rate, ok := an.FeeRate(); ok {
			a.printf(" (%.2f sat/vB)", rate)
		}
	}
	a.printf("\n")
	switch {
	case an.SignatureError != nil:
		a.printf("BAD SIGNATURE: %s\n", an.SignatureError)
	case an.SignaturesChecked > 0:
		a.printf("every signature present verifies\n")
	}
	switch {
	case !an.PSBT:
	case an.Complete:
		a.printf("status: every input is final (btcstake finalize prints the transaction)\n")
	case an.Ready:
		a.printf("status: ready to finalize\n")
	case an.SlashingCompletable:
		a.printf("status: completable once a finality provider's secret key is known (btcstake adaptor complete-slashing)\n")
		a.printf("missing: %s\n", strings.Join(missingTexts(an.Missing()), "; "))
	default:
		a.printf("status: not ready; missing:\n")
		for _, m := range an.Missing() {
			a.printf("  - %s\n", missingText(m))
		}
	}
	for _, n := range an.Notes {
		a.printf("note: %s\n", noteText(n))
	}
}

func signedWord(b bool) string {
	if b {
		return "signed"
	}
	return "missing"
}

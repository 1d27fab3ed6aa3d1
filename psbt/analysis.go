package psbt

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// TxKind is what a transaction of the staking lifecycle is.
type TxKind int

const (
	TxUnknown TxKind = iota
	TxStaking
	TxUnbonding
	TxSlashing
	TxWithdraw
	// TxExtension is a stake extension (Babylon's MsgBtcStakeExpand): two
	// inputs, input 0 spending a staking output through its unbonding
	// leaf, input 1 a funding coin, and a new staking output.
	TxExtension
)

var txKindNames = [...]string{"unknown", "staking", "unbonding", "slashing", "withdraw", "extension"}

func (k TxKind) String() string {
	if k < 0 || int(k) >= len(txKindNames) {
		return fmt.Sprintf("TxKind(%d)", int(k))
	}
	return txKindNames[k]
}

// MarshalText spells the kind as String does.
func (k TxKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// OutputRole is what an output of a lifecycle transaction is for. The
// protocol's three outputs are spelled as script.OutputKind spells them.
type OutputRole int

const (
	RoleUnknown OutputRole = iota
	RoleStaking
	RoleUnbonding
	RoleSlashing
	RoleSlashingChange
	RoleWithdraw
	RoleChange
	RoleOpReturn
	RoleOther
)

var roleNames = [...]string{"unknown", script.StakingOutputKind.String(), script.UnbondingOutputKind.String(),
	"slashing", script.SlashingChangeOutputKind.String(), "withdraw", "change", "op_return", "other"}

func (r OutputRole) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return fmt.Sprintf("OutputRole(%d)", int(r))
	}
	return roleNames[r]
}

// MarshalText spells the role as String does.
func (r OutputRole) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// RoleOf is the role of one of the protocol's outputs.
func RoleOf(k script.OutputKind) OutputRole {
	switch k {
	case script.StakingOutputKind:
		return RoleStaking
	case script.UnbondingOutputKind:
		return RoleUnbonding
	case script.SlashingChangeOutputKind:
		return RoleSlashingChange
	}
	return RoleUnknown
}

// Evidence says how an output's role was established.
type Evidence int

const (
	// EvidenceKind: the role follows from the transaction's kind (a
	// withdraw's destination, the other outputs of a staking transaction)
	// or from the output script (an OP_RETURN).
	EvidenceKind Evidence = iota
	// EvidenceTapTree: the PSBT's tap tree for the output, rebuilt into
	// exactly the output's script.
	EvidenceTapTree
	// EvidenceOpReturn: the output the phase-1 OP_RETURN describes, found
	// under the params' covenant committee.
	EvidenceOpReturn
	// EvidenceParams: the params' slashing script.
	EvidenceParams
	// EvidenceRebuilt: the slashing change output rebuilt from the spent
	// leaf's staker and the unbonding time (the params', or the one the
	// spent output reveals).
	EvidenceRebuilt
	// EvidenceDelegation: an output of the delegation given in the options.
	EvidenceDelegation
	// EvidencePresumed: presumed from the transaction's shape, not checked
	// (the unbonding path does not reveal the finality providers the
	// unbonding output commits to; without params a slashing output is
	// told from the change only by its position).
	EvidencePresumed
)

// InputType is how an input spends its coin.
type InputType int

const (
	InputUnknown InputType = iota
	// InputStakingLeaf spends a leaf of one of the protocol's outputs.
	InputStakingLeaf
	// InputUnknownScriptPath spends a taproot script path this package
	// does not know.
	InputUnknownScriptPath
	InputP2WPKH
	InputP2TR
	InputP2PKH
	InputP2SHP2WPKH
)

// String spells the funding types as InputKind does.
func (t InputType) String() string {
	switch t {
	case InputUnknown:
		return "unknown"
	case InputStakingLeaf:
		return "staking-leaf"
	case InputUnknownScriptPath:
		return "unknown-script-path"
	case InputP2WPKH:
		return P2WPKH.String()
	case InputP2TR:
		return P2TRKeyPath.String()
	case InputP2PKH:
		return P2PKH.String()
	case InputP2SHP2WPKH:
		return P2SHP2WPKH.String()
	}
	return fmt.Sprintf("InputType(%d)", int(t))
}

// MarshalText spells the type as String does.
func (t InputType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// fundingType is the input type of a coin paying pkScript.
func fundingType(pkScript []byte) InputType {
	k, err := classify(pkScript)
	if err != nil {
		return InputUnknown
	}
	return map[InputKind]InputType{P2WPKH: InputP2WPKH, P2TRKeyPath: InputP2TR, P2PKH: InputP2PKH, P2SHP2WPKH: InputP2SHP2WPKH}[k]
}

// MissingKind is what an input still lacks.
type MissingKind int

const (
	MissingStakerSignature MissingKind = iota + 1
	// MissingCovenantSignatures: Need - Have more covenant signatures on
	// an unbonding leaf.
	MissingCovenantSignatures
	// MissingCovenantAdaptorSignatures: Need - Have more covenant members'
	// adaptor signatures (one per finality provider) on a slashing leaf.
	MissingCovenantAdaptorSignatures
	// MissingFinalityProviderSignature: a slashing leaf's finality
	// provider signature, which exists only once a provider double-signs
	// and its key is extracted.
	MissingFinalityProviderSignature
	// MissingFundingSignature: a funding coin's signature.
	MissingFundingSignature
	// MissingUnknownScript: the input spends a script this package does
	// not know, so what it lacks is unknown.
	MissingUnknownScript
)

// Missing is one thing an input lacks before it can be finalised.
type Missing struct {
	Input int
	Kind  MissingKind
	// Have, Need and Of count covenant members for the covenant kinds: how
	// many signed, the quorum, the committee size.
	Have, Need, Of int
	// Type is the funding coin's type for MissingFundingSignature.
	Type InputType
}

func (m Missing) String() string {
	switch m.Kind {
	case MissingStakerSignature:
		return fmt.Sprintf("input %d: the staker's signature", m.Input)
	case MissingCovenantSignatures:
		return fmt.Sprintf("input %d: %d more covenant signature(s) (%d of %d, quorum %d)", m.Input, m.Need-m.Have, m.Have, m.Of, m.Need)
	case MissingCovenantAdaptorSignatures:
		return fmt.Sprintf("input %d: %d more covenant adaptor signature(s) (%d of %d covenant members, quorum %d)",
			m.Input, m.Need-m.Have, m.Have, m.Of, m.Need)
	case MissingFinalityProviderSignature:
		return fmt.Sprintf("input %d: a finality provider's signature (only if it double-signs)", m.Input)
	case MissingFundingSignature:
		return fmt.Sprintf("input %d: the funding coin's signature (%s)", m.Input, m.Type)
	case MissingUnknownScript:
		return fmt.Sprintf("input %d: spends a script this tool does not know", m.Input)
	}
	return fmt.Sprintf("input %d: MissingKind(%d)", m.Input, int(m.Kind))
}

// NoteKind is a remark an analysis makes.
type NoteKind int

const (
	// NoteWitnessUTXOMismatch: input Input's witness_utxo claims Claimed
	// sat, its non_witness_utxo (which its txid proves) pays Actual.
	NoteWitnessUTXOMismatch NoteKind = iota + 1
	// NoteFeeUnknown: a network transaction does not carry the values it
	// spends.
	NoteFeeUnknown
	// NoteOpReturnNeedsParams: a phase-1 OP_RETURN, but no params to find
	// the staking output it describes.
	NoteOpReturnNeedsParams
	// NoteOpReturnMismatch: the OP_RETURN describes no staking output
	// under the params (Err says why).
	NoteOpReturnMismatch
	// NoteNoDelegationOutput: no output pays an output of the delegation
	// given in the options.
	NoteNoDelegationOutput
)

// Note is a remark an analysis makes.
type Note struct {
	Kind            NoteKind
	Input           int
	Claimed, Actual int64
	Err             error
}

func (n Note) String() string {
	switch n.Kind {
	case NoteWitnessUTXOMismatch:
		return fmt.Sprintf("input %d: witness_utxo claims %d sat, but the previous transaction pays %d sat: the PSBT is inconsistent and sign refuses it",
			n.Input, n.Claimed, n.Actual)
	case NoteFeeUnknown:
		return "a raw transaction does not carry the values it spends: the fee is unknown"
	case NoteOpReturnNeedsParams:
		return "the params are needed to identify the staking output the OP_RETURN describes"
	case NoteOpReturnMismatch:
		return fmt.Sprintf("the OP_RETURN does not match a staking output under the params: %v", n.Err)
	case NoteNoDelegationOutput:
		return "no output pays an output of the delegation"
	}
	return fmt.Sprintf("NoteKind(%d)", int(n.Kind))
}

// KeySignature says whether one key of a leaf has signed.
type KeySignature struct {
	Key    script.XOnlyKey
	Signed bool
}

// AdaptorPair names one covenant adaptor signature a slashing PSBT
// carries: the covenant member and the finality provider it is encrypted
// to.
type AdaptorPair struct {
	Covenant         script.XOnlyKey
	FinalityProvider script.XOnlyKey
}

// InputAnalysis is the signing status of one input.
type InputAnalysis struct {
	Index    int
	OutPoint wire.OutPoint
	Sequence uint32
	// Value is the value spent, when ValueKnown (a PSBT records it; a
	// network transaction does not).
	Value      int64
	ValueKnown bool
	Type       InputType

	// For an InputStakingLeaf: the leaf, the output it spends (0 when
	// the control block fits none), the time locks the spend reveals, and
	// who signed. Covenant and FinalityProviders follow the leaf's key
	// order (ascending).
	Leaf              *script.Leaf
	SpentOutput       script.OutputKind
	StakingTime       uint16
	UnbondingTime     uint16
	StakerSigned      bool
	Covenant          []KeySignature // unbonding and slashing leaves
	FinalityProviders []KeySignature // slashing leaves
	// AdaptorSigs lists the covenant adaptor signatures of a slashing
	// PSBT input; AdaptorSigners counts the covenant members of the leaf
	// whose adaptor signatures cover every finality provider of the leaf
	// and who have not also signed plainly.
	AdaptorSigs    []AdaptorPair
	AdaptorSigners int
	// QuorumReached: on an unbonding leaf, quorum covenant signatures; on
	// a slashing leaf, quorum covenant signatures and adaptor signers
	// together. Never set for a timelock leaf, which has no covenant.
	QuorumReached bool

	// Signed: the staker's signature on a leaf, any signature on a funding
	// coin. Final: the input has its final witness or scriptSig. Ready:
	// nothing is missing.
	Signed, Final, Ready bool
	Missing              []Missing
}

// CovenantSigned is how many covenant members signed the leaf.
func (in *InputAnalysis) CovenantSigned() int { return countSigned(in.Covenant) }

// FinalityProvidersSigned is how many finality providers signed the leaf.
func (in *InputAnalysis) FinalityProvidersSigned() int { return countSigned(in.FinalityProviders) }

func countSigned(ks []KeySignature) int {
	n := 0
	for _, k := range ks {
		if k.Signed {
			n++
		}
	}
	return n
}

// OutputAnalysis is one output and its role.
type OutputAnalysis struct {
	Index    int
	Value    int64
	PkScript []byte
	// Address is the output's address on the network given in the
	// options, when the script has exactly one.
	Address  string
	Role     OutputRole
	Evidence Evidence
	// Timelock is the time lock of the output's timelock path (staking,
	// unbonding, slashing change), when known.
	Timelock uint16
	// StakingData is the content of a phase-1 OP_RETURN.
	StakingData *script.V0StakingData
}

// Analysis explains a PSBT or a network transaction of the staking
// lifecycle: its kind, what each input spends and who signed it, each
// output's role, the fee and the size.
type Analysis struct {
	// PSBT is set for a PSBT, clear for a network transaction.
	PSBT     bool
	Kind     TxKind
	Txid     chainhash.Hash
	Version  int32
	LockTime uint32
	// TxidFinal: signing will not change Txid (every input spends a
	// segwit output whose signature goes to the witness).
	TxidFinal bool
	Inputs    []InputAnalysis
	Outputs   []OutputAnalysis

	// InputValue and Fee are known (InputValueKnown) for a PSBT that
	// records every spent output; a network transaction carries neither.
	InputValue      int64
	InputValueKnown bool
	OutputValue     int64
	Fee             int64
	// VSize is the virtual size: exact for a network transaction
	// (VSizeFinal), EstimateVSize's for a PSBT, 0 when unknown.
	VSize      int64
	VSizeFinal bool

	// Ready: nothing is missing, Finalize can run. Complete: every input
	// is final. SlashingCompletable: a slashing PSBT whose slashing inputs
	// carry the staker's signature and a quorum of covenant adaptor
	// signers, so a finality provider's key completes it.
	Ready, Complete, SlashingCompletable bool

	// SignaturesChecked is how many tap_script_sig entries verified;
	// SignatureError is the first that did not (or why they could not be
	// checked).
	SignaturesChecked int
	SignatureError    error

	Notes []Note

	leafInput int // index of the first staking-leaf input, -1 if none
}

// Missing lists what every input still lacks, in input order.
func (a *Analysis) Missing() []Missing {
	var out []Missing
	for i := range a.Inputs {
		out = append(out, a.Inputs[i].Missing...)
	}
	return out
}

// FeeRate is the fee in sat/vB over VSize; ok is false when either is
// unknown.
func (a *Analysis) FeeRate() (satPerVB float64, ok bool) {
	if !a.InputValueKnown || a.VSize <= 0 {
		return 0, false
	}
	return float64(a.Fee) / float64(a.VSize), true
}

// SpentOutput is the output the first staking-leaf input spends (0 when
// there is none or it is not recognised).
func (a *Analysis) SpentOutput() script.OutputKind {
	if a.leafInput < 0 {
		return 0
	}
	return a.Inputs[a.leafInput].SpentOutput
}

// OutputWords names an output kind in prose ("slashing change"), "unknown"
// for 0.
func OutputWords(k script.OutputKind) string {
	switch k {
	case script.StakingOutputKind:
		return "staking"
	case script.UnbondingOutputKind:
		return "unbonding"
	case script.SlashingChangeOutputKind:
		return "slashing change"
	}
	return "unknown"
}

// Summary says in one or two sentences what the transaction is.
func (a *Analysis) Summary() string {
	from := OutputWords(a.SpentOutput())
	var what string
	switch a.Kind {
	case TxStaking:
		what = "a staking transaction: it locks coins in a staking output"
	case TxUnbonding:
		what = "an unbonding transaction: it spends the staking output early through the unbonding path (staker + covenant quorum)"
	case TxSlashing:
		what = fmt.Sprintf("a slashing transaction: it spends the %s output through the slashing path (staker + covenant quorum + one finality provider)", from)
	case TxWithdraw:
		what = fmt.Sprintf("a withdraw transaction: it spends the %s output through the timelock path (staker alone)", from)
	case TxExtension:
		what = "a stake extension transaction: input 0 spends the previous staking output through its unbonding path (staker + the previous covenant quorum), input 1 funds a new staking output"
	default:
		what = "a transaction this tool does not recognise as part of the staking lifecycle"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s is %s.", a.Txid, what)
	if a.leafInput >= 0 {
		in := &a.Inputs[a.leafInput]
		if in.Leaf.Kind == script.TimelockPath {
			fmt.Fprintf(&b, " It is valid once the spent output is %d blocks deep (nSequence %d).", in.Leaf.Timelock, in.Sequence)
		}
	}
	return b.String()
}

// DefaultTimelockSearches is how many exhaustive time-lock searches an
// interactive inspection can afford (each tens of milliseconds).
const DefaultTimelockSearches = 8

// AnalyzeOptions are the optional inputs of an analysis.
type AnalyzeOptions struct {
	// Params confirm the slashing script, the slashing change output (by
	// the unbonding time) and the staking output a phase-1 OP_RETURN
	// describes (by the covenant committee). The delegation's params
	// serve when Params is nil.
	Params *params.Params
	// Delegation marks the outputs paying its staking, unbonding and
	// slashing change outputs (which also recognises a staking
	// transaction without phase-1 data).
	Delegation *Delegation
	// Net, when given, adds output addresses.
	Net *chaincfg.Params
	// TimelockSearches bounds the exhaustive time-lock searches (tens of
	// milliseconds each) spent recovering the staking or unbonding time a
	// Merkle path holds only as a hash; later inputs try only the params'
	// unbonding time. Zero allows none; DefaultTimelockSearches suits an
	// interactive tool.
	TimelockSearches int
}

type analyzer struct {
	a       *Analysis
	params  *params.Params
	budget  int
	leaves  []*script.Leaf
	spentOf []script.OutputKind
}

// check refuses params not made by params.New, Parse or Load (a nil or
// zero Params): read as they are, they would be a committee of no keys and
// a slashing rate of 0.
func (o AnalyzeOptions) check() error {
	if o.Params != nil && !o.Params.Valid() {
		return fmt.Errorf("%w: params not made by params.New", params.ErrInvalidParams)
	}
	if o.Delegation != nil && !o.Delegation.Params.Valid() {
		return fmt.Errorf("%w: the delegation has no params, or params not made by params.New", params.ErrInvalidParams)
	}
	return nil
}

func newAnalyzer(a *Analysis, opts AnalyzeOptions) *analyzer {
	an := &analyzer{a: a, params: opts.Params, budget: opts.TimelockSearches}
	if an.params == nil && opts.Delegation != nil {
		an.params = opts.Delegation.Params
	}
	return an
}

// Analyze explains a PSBT: the kind of transaction, per input the output
// and path it spends and who signed, per output its role, the fee, the
// size once signed (EstimateVSize), whether the signatures present verify
// and what is missing. It reads p and never changes it. It fails with
// ErrInvalidPSBT for a packet it cannot read, with params.ErrInvalidParams
// for params (given, or the delegation's) not made by params.New, and with
// the delegation's error when opts.Delegation is invalid.
func Analyze(p *psbt.Packet, opts AnalyzeOptions) (*Analysis, error) {
	if err := checkPacket(p); err != nil {
		return nil, err
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	tx := p.UnsignedTx
	a := &Analysis{PSBT: true, Txid: tx.TxHash(), Version: tx.Version, LockTime: tx.LockTime, leafInput: -1, TxidFinal: true}
	an := newAnalyzer(a, opts)
	known := true
	for i, txin := range tx.TxIn {
		pi := &p.Inputs[i]
		in := InputAnalysis{Index: i, OutPoint: txin.PreviousOutPoint, Sequence: txin.Sequence}
		out := spentOutput(p, i)
		if out != nil {
			in.Value, in.ValueKnown = out.Value, true
			a.InputValue += out.Value
			in.Type = fundingType(out.PkScript)
			switch txscript.GetScriptClass(out.PkScript) {
			case txscript.PubKeyHashTy, txscript.ScriptHashTy, txscript.PubKeyTy, txscript.MultiSigTy, txscript.NonStandardTy:
				a.TxidFinal = false
			}
		} else {
			known, a.TxidFinal = false, false
		}
		if wu := pi.WitnessUtxo; wu != nil && pi.NonWitnessUtxo != nil && out != wu &&
			(out.Value != wu.Value || !bytes.Equal(out.PkScript, wu.PkScript)) {
			a.Notes = append(a.Notes, Note{Kind: NoteWitnessUTXOMismatch, Input: i, Claimed: wu.Value, Actual: out.Value})
		}
		in.Final = pi.FinalScriptWitness != nil || pi.FinalScriptSig != nil
		ls := pi.TaprootLeafScript
		var leaf *script.Leaf
		if len(ls) == 1 {
			leaf, _ = script.ParseLeafScript(ls[0].Script)
		}
		switch {
		case leaf != nil:
			signed := map[script.XOnlyKey]bool{}
			for _, s := range pi.TaprootScriptSpendSig {
				if x, err := script.ParseXOnlyKey(s.XOnlyPubKey); err == nil {
					signed[x] = true
				}
			}
			if leaf.Kind == script.SlashingPath {
				adaptorSigners(p, i, &in, leaf, ls[0].Script, signed)
			}
			cb, _ := script.ParseControlBlock(ls[0].ControlBlock)
			an.leafInput(&in, leaf, cb, func(k script.XOnlyKey) bool { return signed[k] })
		case in.Final:
			// A finalised script-path spend of ours still tells its leaf
			// and who signed, from the final witness.
			if w, err := readWitness(pi.FinalScriptWitness); err == nil {
				if s, err := script.ParseWitness(w); err == nil {
					an.leafInput(&in, s.Leaf, s.ControlBlock, s.Signed)
				}
			}
			in.Signed, in.Ready = true, true
		case len(ls) == 0:
			in.Signed = len(pi.PartialSigs) > 0 || pi.TaprootKeySpendSig != nil
			in.Ready = in.Signed
			if !in.Signed {
				in.Missing = append(in.Missing, Missing{Input: i, Kind: MissingFundingSignature, Type: in.Type})
			}
		default:
			in.Type = InputUnknownScriptPath
			in.Missing = append(in.Missing, Missing{Input: i, Kind: MissingUnknownScript})
		}
		if in.Final {
			in.Ready, in.Missing = true, nil
		}
		a.Inputs = append(a.Inputs, in)
	}
	a.Ready = len(a.Missing()) == 0
	a.Complete = true
	for _, in := range a.Inputs {
		a.Complete = a.Complete && in.Final
	}
	a.InputValueKnown = known
	if !known {
		a.InputValue = 0
	}
	if vs, err := EstimateVSize(p); err == nil {
		a.VSize = vs
	}
	a.SignaturesChecked, a.SignatureError = VerifyTapscriptSigs(p)
	for i, o := range tx.TxOut {
		oa := OutputAnalysis{Index: i, Value: o.Value, PkScript: bytes.Clone(o.PkScript)}
		if tree := p.Outputs[i].TaprootTapTree; len(tree) > 0 {
			treeRole(&oa, tree)
		}
		a.Outputs = append(a.Outputs, oa)
	}
	return a, an.finish(tx, opts)
}

// adaptorSigners lists the adaptor signatures of slashing input i and
// counts the covenant members of leaf that encrypted a signature of this
// leaf to every finality provider and did not also sign plainly.
func adaptorSigners(p *psbt.Packet, i int, in *InputAnalysis, leaf *script.Leaf, leafScript []byte, signed map[script.XOnlyKey]bool) {
	sigs, _ := AdaptorSigs(p, i)
	lh := leafHash(leafScript)
	covers := map[script.XOnlyKey]map[script.XOnlyKey]bool{}
	for _, s := range sigs {
		in.AdaptorSigs = append(in.AdaptorSigs, AdaptorPair{Covenant: s.Covenant, FinalityProvider: s.FinalityProvider})
		if s.LeafHash != lh || !contains(leaf.Covenant, s.Covenant) || !contains(leaf.FinalityProviders, s.FinalityProvider) {
			continue
		}
		if covers[s.Covenant] == nil {
			covers[s.Covenant] = map[script.XOnlyKey]bool{}
		}
		covers[s.Covenant][s.FinalityProvider] = true
	}
	for c, fps := range covers {
		if len(fps) == len(leaf.FinalityProviders) && !signed[c] {
			in.AdaptorSigners++
		}
	}
}

// AnalyzeTx explains a network transaction from its witnesses (each
// script-path spend parsed by script.ParseWitness) and outputs. The values
// it spends are not in it, so the fee is unknown. It fails for a nil
// transaction (ErrInvalidTx), with params.ErrInvalidParams for params not
// made by params.New, and with the delegation's error when
// opts.Delegation is invalid.
func AnalyzeTx(tx *wire.MsgTx, opts AnalyzeOptions) (*Analysis, error) {
	if tx == nil {
		return nil, invalid(ErrTxInputs, "no transaction")
	}
	if err := nilParts("transaction", tx); err != nil {
		return nil, err
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	a := &Analysis{Txid: tx.TxHash(), Version: tx.Version, LockTime: tx.LockTime, VSize: VSize(tx), VSizeFinal: true,
		Complete: true, Ready: true, TxidFinal: true, leafInput: -1}
	an := newAnalyzer(a, opts)
	for i, txin := range tx.TxIn {
		in := InputAnalysis{Index: i, OutPoint: txin.PreviousOutPoint, Sequence: txin.Sequence, Final: true}
		w := txin.Witness
		if s, err := script.ParseWitness(w); err == nil {
			an.leafInput(&in, s.Leaf, s.ControlBlock, s.Signed)
			in.Signed = in.StakerSigned
		} else {
			in.Type = witnessType(txin)
			in.Signed = len(w) > 0 || len(txin.SignatureScript) > 0
		}
		in.Ready = in.Signed
		a.Inputs = append(a.Inputs, in)
	}
	for i, o := range tx.TxOut {
		a.Outputs = append(a.Outputs, OutputAnalysis{Index: i, Value: o.Value, PkScript: bytes.Clone(o.PkScript)})
	}
	a.Notes = append(a.Notes, Note{Kind: NoteFeeUnknown})
	return a, an.finish(tx, opts)
}

// readWitness decodes a serialised witness (PSBT_IN_FINAL_SCRIPTWITNESS):
// an item count, then each item with its length.
func readWitness(b []byte) (wire.TxWitness, error) {
	r := bytes.NewReader(b)
	n, err := wire.ReadVarInt(r, 0)
	if err != nil || n > uint64(len(b)) {
		return nil, fmt.Errorf("%w: malformed final witness", ErrInvalidPSBT)
	}
	w := make(wire.TxWitness, n)
	for i := range w {
		if w[i], err = wire.ReadVarBytes(r, 0, uint32(len(b)), "witness item"); err != nil {
			return nil, fmt.Errorf("%w: malformed final witness", ErrInvalidPSBT)
		}
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%w: trailing bytes after the final witness", ErrInvalidPSBT)
	}
	return w, nil
}

// witnessType tells a funding coin's type from how the input spends it.
func witnessType(in *wire.TxIn) InputType {
	w := in.Witness
	switch {
	case len(w) == 2 && len(w[1]) == 33 && len(in.SignatureScript) == 0:
		return InputP2WPKH
	case len(w) == 2 && len(w[1]) == 33:
		return InputP2SHP2WPKH
	case len(w) == 1 && (len(w[0]) == 64 || len(w[0]) == 65):
		return InputP2TR
	case len(w) == 0 && len(in.SignatureScript) > 0:
		return InputP2PKH
	}
	return InputUnknown
}

// leafInput fills the facts of an input spending leaf with control block
// cb (nil when malformed), given who signed.
func (an *analyzer) leafInput(in *InputAnalysis, leaf *script.Leaf, cb *script.ControlBlock, signed func(script.XOnlyKey) bool) {
	search := script.TimelockSearch{Exhaustive: an.budget > 0}
	if an.params != nil {
		search.Hints = []uint16{an.params.UnbondingTime()}
	}
	rev := script.RevealOutput(leaf, cb, search)
	if rev.Searched {
		an.budget--
	}
	if an.a.leafInput < 0 {
		an.a.leafInput = in.Index
	}
	an.leaves = append(an.leaves, leaf)
	an.spentOf = append(an.spentOf, rev.Kind)
	in.Type = InputStakingLeaf
	in.Leaf = leaf
	in.SpentOutput, in.StakingTime, in.UnbondingTime = rev.Kind, rev.StakingTime, rev.UnbondingTime
	in.StakerSigned = signed(leaf.Staker)
	if leaf.Kind != script.TimelockPath {
		for _, k := range leaf.Covenant {
			in.Covenant = append(in.Covenant, KeySignature{Key: k, Signed: signed(k)})
		}
	}
	for _, k := range leaf.FinalityProviders {
		in.FinalityProviders = append(in.FinalityProviders, KeySignature{Key: k, Signed: signed(k)})
	}
	if !in.StakerSigned {
		in.Missing = append(in.Missing, Missing{Input: in.Index, Kind: MissingStakerSignature})
	}
	cov, q := in.CovenantSigned(), int(leaf.Quorum)
	switch leaf.Kind {
	case script.UnbondingPath:
		in.QuorumReached = cov >= q
		if !in.QuorumReached {
			in.Missing = append(in.Missing, Missing{Input: in.Index, Kind: MissingCovenantSignatures, Have: cov, Need: q, Of: len(leaf.Covenant)})
		}
	case script.SlashingPath:
		// Covenant members sign slashing leaves with adaptor signatures,
		// which become signatures once a finality provider's key is known.
		have := cov + in.AdaptorSigners
		in.QuorumReached = have >= q
		if !in.QuorumReached {
			in.Missing = append(in.Missing, Missing{Input: in.Index, Kind: MissingCovenantAdaptorSignatures, Have: have, Need: q, Of: len(leaf.Covenant)})
		}
		if in.FinalityProvidersSigned() == 0 {
			in.Missing = append(in.Missing, Missing{Input: in.Index, Kind: MissingFinalityProviderSignature})
		}
	}
	in.Ready = in.StakerSigned && len(in.Missing) == 0
	in.Signed = in.StakerSigned
}

// finish classifies the transaction and the outputs not yet recognised,
// then marks the delegation's outputs.
func (an *analyzer) finish(tx *wire.MsgTx, opts AnalyzeOptions) error {
	a := an.a
	for _, o := range a.Outputs {
		a.OutputValue += o.Value
	}
	if a.InputValueKnown {
		a.Fee = a.InputValue - a.OutputValue
	}
	var leaf *script.Leaf
	if len(an.leaves) > 0 {
		leaf = an.leaves[0]
		switch leaf.Kind {
		case script.UnbondingPath:
			a.Kind = TxUnbonding
			if len(tx.TxIn) == 2 && a.leafInput == 0 && len(an.leaves) == 1 {
				a.Kind = TxExtension
			}
		case script.SlashingPath:
			a.Kind = TxSlashing
		case script.TimelockPath:
			a.Kind = TxWithdraw
		}
	}
	for i := range a.Outputs {
		o := &a.Outputs[i]
		if opts.Net != nil {
			if _, addrs, _, err := txscript.ExtractPkScriptAddrs(o.PkScript, opts.Net); err == nil && len(addrs) == 1 {
				o.Address = addrs[0].EncodeAddress()
			}
		}
		if o.Role != RoleUnknown {
			continue
		}
		if d, err := script.ParseV0StakingData(o.PkScript); err == nil {
			o.Role, o.StakingData = RoleOpReturn, d
			an.recogniseStaking(tx, d)
			continue
		}
		if txscript.GetScriptClass(o.PkScript) == txscript.NullDataTy {
			o.Role = RoleOpReturn
			continue
		}
		an.recogniseLeafOutput(o, leaf)
	}
	for _, o := range a.Outputs {
		if o.Role == RoleStaking && a.Kind == TxUnknown {
			a.Kind = TxStaking
		}
	}
	a.SlashingCompletable = a.Kind == TxSlashing && slashingCompletable(a.Inputs)
	if opts.Delegation != nil {
		return an.matchDelegation(*opts.Delegation)
	}
	return nil
}

// slashingCompletable: at least one slashing input, and on each the
// staker signed and a quorum of covenant members adaptor-signed.
func slashingCompletable(ins []InputAnalysis) bool {
	any := false
	for _, in := range ins {
		if in.Leaf != nil && in.Leaf.Kind == script.SlashingPath {
			any = true
			if !in.StakerSigned || in.AdaptorSigners < int(in.Leaf.Quorum) {
				return false
			}
		}
	}
	return any
}

// recogniseLeafOutput names an output of an unbonding, slashing or
// withdraw transaction from the leaf its first leaf input spends.
func (an *analyzer) recogniseLeafOutput(o *OutputAnalysis, leaf *script.Leaf) {
	a := an.a
	if leaf == nil {
		if a.Kind == TxStaking || a.Kind == TxUnknown {
			o.Role = RoleOther
		}
		return
	}
	stakerPK, err := leaf.Staker.PubKey()
	if err != nil {
		return
	}
	var ut uint16
	if an.params != nil {
		ut = an.params.UnbondingTime()
	} else if len(a.Inputs) > 0 {
		ut = a.Inputs[0].UnbondingTime
	}
	switch a.Kind {
	case TxExtension:
		// The new staking output's leaves name finality providers and
		// params the spent leaf does not: the first taproot output is
		// presumed to be it, any other output is not the protocol's.
		for _, other := range a.Outputs {
			if other.Role == RoleStaking {
				o.Role = RoleOther
				return
			}
		}
		if txscript.GetScriptClass(o.PkScript) == txscript.WitnessV1TaprootTy {
			o.Role, o.Evidence = RoleStaking, EvidencePresumed
			return
		}
		o.Role = RoleOther
	case TxUnbonding:
		// The unbonding leaf does not name the finality providers, which
		// the unbonding output's slashing leaf commits to, so the output
		// cannot be rebuilt from the transaction alone (a PSBT carries its
		// tap tree instead).
		o.Role, o.Evidence = RoleUnbonding, EvidencePresumed
	case TxSlashing:
		if an.params != nil && bytes.Equal(o.PkScript, an.params.SlashingPkScript()) {
			o.Role, o.Evidence = RoleSlashing, EvidenceParams
			return
		}
		if ut > 0 {
			if sc, err := script.NewSlashingChangeOutput(stakerPK, ut); err == nil && bytes.Equal(sc.PkScript, o.PkScript) {
				o.Role, o.Timelock, o.Evidence = RoleSlashingChange, ut, EvidenceRebuilt
				return
			}
		}
		if o.Index == 0 {
			o.Role, o.Evidence = RoleSlashing, EvidencePresumed
		} else {
			o.Role, o.Evidence = RoleSlashingChange, EvidencePresumed
		}
	case TxWithdraw:
		o.Role = RoleWithdraw
	}
}

// recogniseStaking finds the staking output a phase-1 OP_RETURN describes,
// given the params' covenant committee.
func (an *analyzer) recogniseStaking(tx *wire.MsgTx, d *script.V0StakingData) {
	a := an.a
	a.Kind = TxStaking
	if an.params == nil {
		a.Notes = append(a.Notes, Note{Kind: NoteOpReturnNeedsParams})
		return
	}
	parser, err := script.NewStakingTxParser(script.ParserConfig{Tag: d.Tag[:], Covenant: an.params.CovenantKeys(), CovenantQuorum: an.params.CovenantQuorum()})
	if err != nil {
		return
	}
	parsed, err := parser.Parse(tx)
	if err != nil {
		a.Notes = append(a.Notes, Note{Kind: NoteOpReturnMismatch, Err: err})
		return
	}
	o := &a.Outputs[parsed.StakingOutputIndex]
	o.Role, o.Timelock, o.Evidence = RoleStaking, d.StakingTime, EvidenceOpReturn
}

// matchDelegation marks the outputs paying d's staking, unbonding and
// slashing change outputs. Only the outputs are needed, so a staking time
// outside the params' range is no reason to refuse.
func (an *analyzer) matchDelegation(d Delegation) error {
	a := an.a
	found := false
	for _, kind := range []script.OutputKind{script.StakingOutputKind, script.UnbondingOutputKind, script.SlashingChangeOutputKind} {
		o, err := d.Output(kind)
		if err != nil {
			return err
		}
		for i := range a.Outputs {
			if out := &a.Outputs[i]; bytes.Equal(out.PkScript, o.PkScript) {
				out.Role, out.Timelock, out.Evidence = RoleOf(kind), o.Timelock, EvidenceDelegation
				found = true
			}
		}
	}
	if found && a.Kind == TxUnknown {
		a.Kind = TxStaking
	}
	if !found {
		a.Notes = append(a.Notes, Note{Kind: NoteNoDelegationOutput})
	}
	return nil
}

// treeRole recognises one of the protocol's outputs from its BIP-371 tap
// tree (each leaf: depth, leaf version, compact-size script): the leaves
// must be staking leaves from which the output rebuilds into exactly its
// script.
func treeRole(o *OutputAnalysis, tree []byte) {
	r := bytes.NewReader(tree)
	var tl, ub, sl *script.Leaf
	n := 0
	for r.Len() > 0 {
		if r.Len() < 2 {
			return
		}
		r.ReadByte() // depth
		r.ReadByte() // leaf version
		size, err := wire.ReadVarInt(r, 0)
		if err != nil || size > uint64(r.Len()) {
			return
		}
		s := make([]byte, size)
		r.Read(s)
		l, err := script.ParseLeafScript(s)
		if err != nil {
			return
		}
		switch l.Kind {
		case script.TimelockPath:
			tl = l
		case script.UnbondingPath:
			ub = l
		case script.SlashingPath:
			sl = l
		}
		n++
	}
	var out *script.Output
	var err error
	switch {
	case n == 3 && tl != nil && ub != nil && sl != nil:
		var p script.Parties
		if p, err = partiesOf(sl); err == nil {
			out, err = script.NewStakingOutput(p, tl.Timelock)
		}
	case n == 2 && tl != nil && sl != nil:
		var p script.Parties
		if p, err = partiesOf(sl); err == nil {
			out, err = script.NewUnbondingOutput(p, tl.Timelock)
		}
	case n == 1 && tl != nil:
		pk, perr := tl.Staker.PubKey()
		if perr != nil {
			return
		}
		out, err = script.NewSlashingChangeOutput(pk, tl.Timelock)
	default:
		return
	}
	if err != nil || !bytes.Equal(out.PkScript, o.PkScript) {
		return
	}
	o.Role, o.Timelock, o.Evidence = RoleOf(out.Kind), tl.Timelock, EvidenceTapTree
}

// partiesOf lifts a slashing leaf's keys to the parties of its delegation.
func partiesOf(l *script.Leaf) (script.Parties, error) {
	lift := func(ks []script.XOnlyKey) ([]*btcec.PublicKey, error) {
		out := make([]*btcec.PublicKey, len(ks))
		for i, k := range ks {
			pk, err := k.PubKey()
			if err != nil {
				return nil, err
			}
			out[i] = pk
		}
		return out, nil
	}
	staker, err := l.Staker.PubKey()
	if err != nil {
		return script.Parties{}, err
	}
	fps, err := lift(l.FinalityProviders)
	if err != nil {
		return script.Parties{}, err
	}
	cov, err := lift(l.Covenant)
	if err != nil {
		return script.Parties{}, err
	}
	return script.Parties{Staker: staker, FinalityProviders: fps, Covenant: cov, CovenantQuorum: l.Quorum}, nil
}

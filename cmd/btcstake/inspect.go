package main

// btcstake inspect: explain a PSBT or a transaction of the staking
// lifecycle in words.

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/btcstake/btcstake/params"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/spf13/cobra"

	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

func init() { register(newInspectCmd) }

// inspectJSON is the explanation of a PSBT or transaction.
type inspectJSON struct {
	Type        string         `json:"type"` // psbt or transaction
	Kind        string         `json:"kind"` // staking, unbonding, slashing, withdraw, unknown
	Summary     string         `json:"summary"`
	Txid        string         `json:"txid"`
	Version     int32          `json:"version"`
	LockTime    uint32         `json:"locktime"`
	InputValue  *int64         `json:"input_value_sat,omitempty"`
	OutputValue int64          `json:"output_value_sat"`
	Fee         *int64         `json:"fee_sat,omitempty"`
	VSize       int64          `json:"vsize,omitempty"`
	VSizeFinal  bool           `json:"vsize_is_final"`
	Inputs      []inInspect    `json:"inputs"`
	Outputs     []outInspect   `json:"outputs"`
	Ready       bool           `json:"ready_to_finalize"`
	Complete    bool           `json:"complete"`
	Missing     []string       `json:"missing,omitempty"`
	SigsVerify  *bool          `json:"signatures_verify,omitempty"`
	SigError    string         `json:"signature_error,omitempty"`
	Notes       []string       `json:"notes,omitempty"`
	params      *params.Params // optional, for recognising outputs
	net         *chaincfg.Params
	leaves      []*script.Leaf
	leafOutputs []script.OutputKind
	leafInputs  []int // index of the input spending each of leaves
}

type inInspect struct {
	Index          int          `json:"index"`
	Outpoint       string       `json:"outpoint"`
	Sequence       uint32       `json:"sequence"`
	Value          *int64       `json:"value_sat,omitempty"`
	Type           string       `json:"type"` // staking-leaf, p2wpkh, p2tr, p2pkh, p2sh-p2wpkh, unknown
	SpentOutput    string       `json:"spent_output,omitempty"`
	Path           string       `json:"path,omitempty"`
	Timelock       uint16       `json:"timelock,omitempty"`
	Staker         string       `json:"staker_pk,omitempty"`
	StakerSigned   bool         `json:"staker_signed"`
	Covenant       []keySig     `json:"covenant,omitempty"`
	Quorum         uint32       `json:"covenant_quorum,omitempty"`
	FPs            []keySig     `json:"finality_providers,omitempty"`
	AdaptorSigs    []adaptorSig `json:"adaptor_sigs,omitempty"`
	AdaptorSigners int          `json:"adaptor_signers,omitempty"`
	Signed         bool         `json:"signed"`
	Final          bool         `json:"final"`
	Ready          bool         `json:"ready"`
	Missing        []string     `json:"missing,omitempty"`
	StakingTime    uint16       `json:"staking_time,omitempty"`
	UnbondingTime  uint16       `json:"unbonding_time,omitempty"`
}

type keySig struct {
	Key    string `json:"key"`
	Signed bool   `json:"signed"`
}

type adaptorSig struct {
	Covenant         string `json:"covenant_pk"`
	FinalityProvider string `json:"fp_pk"`
}

type outInspect struct {
	Index    int    `json:"index"`
	Value    int64  `json:"value_sat"`
	Role     string `json:"role"`
	PkScript string `json:"pk_script"`
	Address  string `json:"address,omitempty"`
	Timelock uint16 `json:"timelock,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// statusJSON is the signing status printed after sign and adaptor-sign.
type statusJSON struct {
	Kind    string   `json:"kind"`
	Ready   bool     `json:"ready_to_finalize"`
	Missing []string `json:"missing,omitempty"`
	Lines   []string `json:"-"`
}

func psbtStatus(p *btcpsbt.Packet) statusJSON {
	j := inspectPSBT(p, nil, nil)
	st := statusJSON{Kind: j.Kind, Ready: j.Ready, Missing: j.Missing}
	if j.Ready {
		st.Lines = append(st.Lines, "status: ready to finalize (btcstake finalize)")
	} else if j.Kind == "slashing" && slashingCompletable(j) {
		st.Lines = append(st.Lines, "status: completable with a finality provider's key (btcstake complete-slashing)")
	} else {
		st.Lines = append(st.Lines, "status: missing "+strings.Join(j.Missing, "; "))
	}
	return st
}

// slashingCompletable: the staker signed and a quorum of covenant members
// adaptor-signed every slashing input.
func slashingCompletable(j *inspectJSON) bool {
	any := false
	for _, in := range j.Inputs {
		if in.Path == script.SlashingPath.String() {
			any = true
			if !in.StakerSigned || in.AdaptorSigners < int(in.Quorum) {
				return false
			}
		}
	}
	return any
}

// tapLeafHash is the BIP-341 leaf hash of a base-version leaf.
func tapLeafHash(s []byte) chainhash.Hash { return txscript.NewBaseTapLeaf(s).TapHash() }

// branchHash is the BIP-341 branch hash of two nodes.
func branchHash(a, b chainhash.Hash) chainhash.Hash {
	return txscript.NewTapBranch(hashNode(a), hashNode(b)).TapHash()
}

// searchBudget is how many exhaustive time-lock searches one inspection
// runs (two per input at most).
const searchBudget = 8

type hashNode chainhash.Hash

func (h hashNode) TapHash() chainhash.Hash { return chainhash.Hash(h) }
func (h hashNode) Left() txscript.TapNode  { return nil }
func (h hashNode) Right() txscript.TapNode { return nil }

// findTimelock searches the lock t with TimelockScript(staker, t) hashing
// (through f) to want; the candidates from params are tried first.
//
// The exhaustive search costs a few tens of milliseconds; budget bounds how
// many an inspection runs, so a PSBT with thousands of inputs stays fast
// (later inputs then only try the hints).
func findTimelock(budget *int, staker script.XOnlyKey, want chainhash.Hash, f func(chainhash.Hash) chainhash.Hash, first ...uint16) (uint16, bool) {
	try := func(t uint16) bool {
		s, err := script.TimelockScript(staker, t)
		return err == nil && f(tapLeafHash(s)) == want
	}
	for _, t := range first {
		if t > 0 && try(t) {
			return t, true
		}
	}
	if *budget <= 0 {
		return 0, false
	}
	*budget--
	for t := 1; t <= script.MaxTimelock; t++ {
		if try(uint16(t)) {
			return uint16(t), true
		}
	}
	return 0, false
}

// spentOutputKind recovers which of the protocol's outputs a leaf spend
// reveals from the control block's Merkle path, and the time locks it
// commits to: the staking output is {{timelock, unbonding}, slashing}, the
// unbonding output {timelock, slashing}, the slashing change output a lone
// timelock leaf.
func spentOutputKind(leaf *script.Leaf, cb []byte, prm *params.Params, budget *int) (kind script.OutputKind, stakingTime, unbondingTime uint16) {
	if len(cb) < 33 || (len(cb)-33)%32 != 0 {
		return 0, 0, 0
	}
	depth := (len(cb) - 33) / 32
	var path []chainhash.Hash
	for i := 0; i < depth; i++ {
		var h chainhash.Hash
		copy(h[:], cb[33+32*i:])
		path = append(path, h)
	}
	var hintUT uint16
	if prm != nil {
		hintUT = prm.UnbondingTime()
	}
	id := func(h chainhash.Hash) chainhash.Hash { return h }
	switch {
	case leaf.Kind == script.TimelockPath && depth == 0:
		return script.SlashingChangeOutputKind, 0, leaf.Timelock
	case leaf.Kind == script.TimelockPath && depth == 1:
		return script.UnbondingOutputKind, 0, leaf.Timelock
	case leaf.Kind == script.TimelockPath && depth == 2:
		return script.StakingOutputKind, leaf.Timelock, 0
	case leaf.Kind == script.UnbondingPath && depth == 2:
		st, _ := findTimelock(budget, leaf.Staker, path[0], id)
		return script.StakingOutputKind, st, 0
	case leaf.Kind == script.SlashingPath && depth == 1:
		if ut, ok := findTimelock(budget, leaf.Staker, path[0], id, hintUT); ok {
			return script.UnbondingOutputKind, 0, ut
		}
		ub, err := script.UnbondingScript(leaf.Staker, leaf.Covenant, leaf.Quorum)
		if err != nil {
			return 0, 0, 0
		}
		ubHash := tapLeafHash(ub)
		st, ok := findTimelock(budget, leaf.Staker, path[0], func(h chainhash.Hash) chainhash.Hash { return branchHash(h, ubHash) })
		if ok {
			return script.StakingOutputKind, st, 0
		}
	}
	return 0, 0, 0
}

// outputKindName is the --from style name of an output kind.
func outputKindName(k script.OutputKind) string {
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

// fundingType names the type of a coin's pkScript.
func fundingType(pk []byte) string {
	switch txscript.GetScriptClass(pk) {
	case txscript.WitnessV0PubKeyHashTy:
		return "p2wpkh"
	case txscript.WitnessV1TaprootTy:
		return "p2tr"
	case txscript.PubKeyHashTy:
		return "p2pkh"
	case txscript.ScriptHashTy:
		return "p2sh-p2wpkh"
	}
	return "unknown"
}

// leafInput fills the leaf facts of an input and who signed, from a set of
// x-only keys that signed.
func leafInput(in *inInspect, leaf *script.Leaf, cb []byte, prm *params.Params, signed map[script.XOnlyKey]bool, budget *int) script.OutputKind {
	kind, st, ut := spentOutputKind(leaf, cb, prm, budget)
	in.Type = "staking-leaf"
	in.SpentOutput = outputKindName(kind)
	in.Path = leaf.Kind.String()
	in.Timelock = leaf.Timelock
	in.StakingTime, in.UnbondingTime = st, ut
	in.Staker = leaf.Staker.String()
	in.StakerSigned = signed[leaf.Staker]
	if leaf.Kind != script.TimelockPath {
		in.Quorum = leaf.Quorum
		for _, k := range leaf.Covenant {
			in.Covenant = append(in.Covenant, keySig{Key: k.String(), Signed: signed[k]})
		}
	}
	for _, k := range leaf.FinalityProviders {
		in.FPs = append(in.FPs, keySig{Key: k.String(), Signed: signed[k]})
	}
	if !in.StakerSigned {
		in.Missing = append(in.Missing, fmt.Sprintf("input %d: the staker's signature", in.Index))
	}
	cov := countSigned(in.Covenant)
	if leaf.Kind == script.UnbondingPath && cov < int(leaf.Quorum) {
		in.Missing = append(in.Missing, fmt.Sprintf("input %d: %d more covenant signature(s) (%d of %d, quorum %d)", in.Index, int(leaf.Quorum)-cov, cov, len(leaf.Covenant), leaf.Quorum))
	}
	if leaf.Kind == script.SlashingPath {
		// Covenant members sign slashing leaves with adaptor signatures,
		// which become signatures once a finality provider's key is known.
		if have := cov + in.AdaptorSigners; have < int(leaf.Quorum) {
			in.Missing = append(in.Missing, fmt.Sprintf("input %d: %d more covenant adaptor signature(s) (%d of %d covenant members, quorum %d; btcstake adaptor-sign-slashing)",
				in.Index, int(leaf.Quorum)-have, have, len(leaf.Covenant), leaf.Quorum))
		}
		if countSigned(in.FPs) == 0 {
			in.Missing = append(in.Missing, fmt.Sprintf("input %d: a finality provider's signature (only if it double-signs: btcstake complete-slashing decrypts the adaptor signatures with its key)", in.Index))
		}
	}
	in.Ready = in.StakerSigned && len(in.Missing) == 0
	in.Signed = in.StakerSigned
	return kind
}

func countSigned(ks []keySig) int {
	n := 0
	for _, k := range ks {
		if k.Signed {
			n++
		}
	}
	return n
}

// inspectPSBT explains a PSBT.
func inspectPSBT(p *btcpsbt.Packet, prm *params.Params, net *chaincfg.Params) *inspectJSON {
	tx := p.UnsignedTx
	j := &inspectJSON{Type: "psbt", Txid: tx.TxHash().String(), Version: tx.Version, LockTime: tx.LockTime, params: prm, net: net}
	var inSum int64
	known := true
	budget := searchBudget
	for i, txin := range tx.TxIn {
		pi := &p.Inputs[i]
		in := inInspect{Index: i, Outpoint: txin.PreviousOutPoint.String(), Sequence: txin.Sequence}
		if out := spentOutput(p, i, txin); out != nil {
			v := out.Value
			in.Value = &v
			inSum += v
			in.Type = fundingType(out.PkScript)
		} else {
			known = false
			in.Type = "unknown"
		}
		if wu, nw := pi.WitnessUtxo, pi.NonWitnessUtxo; wu != nil && nw != nil {
			if full := spentOutput(p, i, txin); full != wu && (full.Value != wu.Value || !bytes.Equal(full.PkScript, wu.PkScript)) {
				j.Notes = append(j.Notes, fmt.Sprintf("input %d: witness_utxo claims %d sat, but the previous transaction pays %d sat: the PSBT is inconsistent and sign refuses it",
					i, wu.Value, full.Value))
			}
		}
		in.Final = pi.FinalScriptWitness != nil || pi.FinalScriptSig != nil
		if leaf, ok := inputLeaf(p, i); ok {
			signed := map[script.XOnlyKey]bool{}
			for _, s := range pi.TaprootScriptSpendSig {
				if x, err := script.ParseXOnlyKey(s.XOnlyPubKey); err == nil {
					signed[x] = true
				}
			}
			if leaf.Kind == script.SlashingPath {
				sigs, _ := psbt.AdaptorSigs(p, i)
				signers := map[script.XOnlyKey]map[script.XOnlyKey]bool{}
				for _, a := range sigs {
					in.AdaptorSigs = append(in.AdaptorSigs, adaptorSig{Covenant: a.Covenant.String(), FinalityProvider: a.FinalityProvider.String()})
					if signers[a.Covenant] == nil {
						signers[a.Covenant] = map[script.XOnlyKey]bool{}
					}
					signers[a.Covenant][a.FinalityProvider] = true
				}
				for c, fps := range signers {
					// A member counts once it covers every provider and has
					// not also signed plainly (counted as a signature).
					if len(fps) >= len(leaf.FinalityProviders) && !signed[c] {
						in.AdaptorSigners++
					}
				}
			}
			kind := leafInput(&in, leaf, pi.TaprootLeafScript[0].ControlBlock, prm, signed, &budget)
			j.leaves = append(j.leaves, leaf)
			j.leafOutputs = append(j.leafOutputs, kind)
			j.leafInputs = append(j.leafInputs, i)
		} else if in.Final {
			in.Signed, in.Ready = true, true
		} else if len(pi.TaprootLeafScript) == 0 {
			in.Signed = len(pi.PartialSigs) > 0 || pi.TaprootKeySpendSig != nil
			in.Ready = in.Signed
			if !in.Signed {
				in.Missing = append(in.Missing, fmt.Sprintf("input %d: the funding coin's signature (%s)", i, in.Type))
			}
		} else {
			in.Type = "unknown-script-path"
			in.Missing = append(in.Missing, fmt.Sprintf("input %d: spends a script this tool does not know", i))
		}
		if in.Final {
			in.Ready, in.Missing = true, nil
		}
		j.Missing = append(j.Missing, in.Missing...)
		j.Inputs = append(j.Inputs, in)
	}
	j.Ready = len(j.Missing) == 0
	j.Complete = true
	for _, in := range j.Inputs {
		j.Complete = j.Complete && in.Final
	}
	if known {
		j.InputValue = &inSum
	}
	if vs, ok := estimateVSize(p); ok {
		j.VSize = vs
	}
	if n, err := psbt.VerifyTapscriptSigs(p); n > 0 || err != nil {
		ok := err == nil
		j.SigsVerify = &ok
		if err != nil {
			j.SigError = err.Error()
		}
	}
	for i, o := range tx.TxOut {
		oi := outInspect{Index: i, Value: o.Value, PkScript: hex.EncodeToString(o.PkScript)}
		if tree := p.Outputs[i].TaprootTapTree; len(tree) > 0 {
			describeTreeOutput(&oi, tree)
		}
		j.Outputs = append(j.Outputs, oi)
	}
	j.finish(tx)
	return j
}

// describeTreeOutput recognises one of our outputs from its PSBT tap tree.
func describeTreeOutput(oi *outInspect, tree []byte) {
	r := bytes.NewReader(tree)
	var leaves []*script.Leaf
	for r.Len() > 0 {
		var hdr [2]byte
		if _, err := r.Read(hdr[:]); err != nil {
			return
		}
		n, err := wire.ReadVarInt(r, 0)
		if err != nil || n > uint64(r.Len()) {
			return
		}
		s := make([]byte, n)
		r.Read(s)
		l, err := script.ParseLeafScript(s)
		if err != nil {
			return
		}
		leaves = append(leaves, l)
	}
	var tl, ub, sl *script.Leaf
	for _, l := range leaves {
		switch l.Kind {
		case script.TimelockPath:
			tl = l
		case script.UnbondingPath:
			ub = l
		case script.SlashingPath:
			sl = l
		}
	}
	switch {
	case len(leaves) == 3 && tl != nil && ub != nil && sl != nil:
		oi.Role, oi.Timelock = "staking", tl.Timelock
	case len(leaves) == 2 && tl != nil && sl != nil:
		oi.Role, oi.Timelock = "unbonding", tl.Timelock
	case len(leaves) == 1 && tl != nil:
		oi.Role, oi.Timelock = "slashing_change", tl.Timelock
	}
}

// finish classifies the transaction and the remaining outputs, and writes
// the summary.
func (j *inspectJSON) finish(tx *wire.MsgTx) {
	for _, o := range j.Outputs {
		j.OutputValue += o.Value
	}
	if j.InputValue != nil {
		fee := *j.InputValue - j.OutputValue
		j.Fee = &fee
	}
	j.Kind = "unknown"
	var leaf *script.Leaf
	var from script.OutputKind
	if len(j.leaves) > 0 {
		leaf, from = j.leaves[0], j.leafOutputs[0]
		switch leaf.Kind {
		case script.UnbondingPath:
			j.Kind = "unbonding"
		case script.SlashingPath:
			j.Kind = "slashing"
		case script.TimelockPath:
			j.Kind = "withdraw"
		}
	}
	for i := range j.Outputs {
		o := &j.Outputs[i]
		if j.net != nil {
			if _, addrs, _, err := txscript.ExtractPkScriptAddrs(tx.TxOut[i].PkScript, j.net); err == nil && len(addrs) == 1 {
				o.Address = addrs[0].EncodeAddress()
			}
		}
		if o.Role != "" {
			continue
		}
		pk := tx.TxOut[i].PkScript
		if d, err := script.ParseV0StakingData(pk); err == nil {
			o.Role = "op_return"
			o.Detail = fmt.Sprintf("phase-1 staking data: tag %x, staker %s, finality provider %s, staking time %d blocks",
				d.Tag, d.Staker, d.FinalityProvider, d.StakingTime)
			j.recogniseStaking(tx, d)
			continue
		}
		if txscript.GetScriptClass(pk) == txscript.NullDataTy {
			o.Role = "op_return"
			continue
		}
		j.recogniseLeafOutput(o, pk, leaf, from)
	}
	for _, o := range j.Outputs {
		if o.Role == "staking" && j.Kind == "unknown" {
			j.Kind = "staking"
		}
	}
	j.Summary = j.summary(tx, leaf, from)
}

// recogniseLeafOutput names an output of an unbonding, slashing or
// withdraw transaction from the leaf its input spends (and --params).
func (j *inspectJSON) recogniseLeafOutput(o *outInspect, pk []byte, leaf *script.Leaf, from script.OutputKind) {
	if leaf == nil {
		if j.Kind == "staking" || j.Kind == "unknown" {
			o.Role = "other"
		}
		return
	}
	stakerPK, err := leaf.Staker.PubKey()
	if err != nil {
		return
	}
	var ut uint16
	if j.params != nil {
		ut = j.params.UnbondingTime()
	} else if len(j.Inputs) > 0 {
		ut = j.Inputs[0].UnbondingTime
	}
	switch j.Kind {
	case "unbonding":
		// The unbonding leaf does not name the finality providers, which
		// the unbonding output's slashing leaf commits to, so the output
		// cannot be rebuilt from the transaction alone (a PSBT carries its
		// tap tree instead).
		o.Role = "unbonding"
		o.Detail = "presumably the unbonding output (not checked: the unbonding path does not reveal the finality providers it commits to)"
	case "slashing":
		if j.params != nil && bytes.Equal(pk, j.params.SlashingPkScript()) {
			o.Role, o.Detail = "slashing", "pays the params' slashing script"
			return
		}
		if ut > 0 {
			if sc, err := script.NewSlashingChangeOutput(stakerPK, ut); err == nil && bytes.Equal(sc.PkScript, pk) {
				o.Role, o.Timelock = "slashing_change", ut
				return
			}
		}
		if o.Index == 0 {
			o.Role, o.Detail = "slashing", "presumably the slashing script (pass --params to check)"
		} else {
			o.Role, o.Detail = "slashing_change", "presumably the slashing change output (pass --params to check)"
		}
	case "withdraw":
		o.Role = "withdraw"
	}
}

// recogniseStaking finds the staking output a phase-1 OP_RETURN describes,
// given --params for the covenant committee.
func (j *inspectJSON) recogniseStaking(tx *wire.MsgTx, d *script.V0StakingData) {
	j.Kind = "staking"
	if j.params == nil {
		j.Notes = append(j.Notes, "pass --params to identify the staking output the OP_RETURN describes")
		return
	}
	parser, err := script.NewStakingTxParser(script.ParserConfig{Tag: d.Tag[:], Covenant: j.params.CovenantKeys(), CovenantQuorum: j.params.CovenantQuorum()})
	if err != nil {
		return
	}
	parsed, err := parser.Parse(tx)
	if err != nil {
		j.Notes = append(j.Notes, "the OP_RETURN does not match a staking output under --params: "+err.Error())
		return
	}
	o := &j.Outputs[parsed.StakingOutputIndex]
	o.Role, o.Timelock = "staking", d.StakingTime
}

func (j *inspectJSON) summary(tx *wire.MsgTx, leaf *script.Leaf, from script.OutputKind) string {
	var b strings.Builder
	what := map[string]string{
		"staking":   "a staking transaction: it locks coins in a staking output",
		"unbonding": "an unbonding transaction: it spends the staking output early through the unbonding path (staker + covenant quorum)",
		"slashing":  fmt.Sprintf("a slashing transaction: it spends the %s output through the slashing path (staker + covenant quorum + one finality provider)", outputKindName(from)),
		"withdraw":  fmt.Sprintf("a withdraw transaction: it spends the %s output through the timelock path (staker alone)", outputKindName(from)),
		"unknown":   "a transaction this tool does not recognise as part of the staking lifecycle",
	}[j.Kind]
	fmt.Fprintf(&b, "%s is %s.", j.Txid, what)
	if leaf != nil && leaf.Kind == script.TimelockPath {
		fmt.Fprintf(&b, " It is valid once the spent output is %d blocks deep (nSequence %d).", leaf.Timelock, tx.TxIn[j.leafInputs[0]].Sequence)
	}
	return b.String()
}

// inspectTx explains a raw transaction from its witnesses and outputs.
func inspectTx(tx *wire.MsgTx, prm *params.Params, net *chaincfg.Params) *inspectJSON {
	j := &inspectJSON{Type: "transaction", Txid: tx.TxHash().String(), Version: tx.Version, LockTime: tx.LockTime,
		params: prm, net: net, VSize: txVSize(tx), VSizeFinal: true, Complete: true, Ready: true}
	budget := searchBudget
	for i, txin := range tx.TxIn {
		in := inInspect{Index: i, Outpoint: txin.PreviousOutPoint.String(), Sequence: txin.Sequence, Final: true}
		w := txin.Witness
		if len(w) >= 2 && len(w[len(w)-1]) > 0 && w[len(w)-1][0] == 0x50 {
			w = w[:len(w)-1] // annex
		}
		var leaf *script.Leaf
		if len(w) >= 3 {
			if l, err := script.ParseLeafScript(w[len(w)-2]); err == nil {
				leaf = l
			}
		}
		switch {
		case leaf != nil:
			signed := map[script.XOnlyKey]bool{}
			items := w[:len(w)-2]
			// Items: covenant slots (descending keys), finality provider
			// slots (descending), then the staker's signature.
			nc, nf := len(leaf.Covenant), len(leaf.FinalityProviders)
			if leaf.Kind == script.TimelockPath {
				nc = 0
			}
			if len(items) == nc+nf+1 {
				for k := 0; k < nc; k++ {
					signed[leaf.Covenant[nc-1-k]] = len(items[k]) > 0
				}
				for k := 0; k < nf; k++ {
					signed[leaf.FinalityProviders[nf-1-k]] = len(items[nc+k]) > 0
				}
				signed[leaf.Staker] = len(items[nc+nf]) > 0
			}
			kind := leafInput(&in, leaf, w[len(w)-1], prm, signed, &budget)
			j.leaves = append(j.leaves, leaf)
			j.leafOutputs = append(j.leafOutputs, kind)
			j.leafInputs = append(j.leafInputs, i)
		case len(txin.Witness) == 2 && len(txin.Witness[1]) == 33 && len(txin.SignatureScript) == 0:
			in.Type, in.Signed = "p2wpkh", true
		case len(txin.Witness) == 2 && len(txin.Witness[1]) == 33:
			in.Type, in.Signed = "p2sh-p2wpkh", true
		case len(txin.Witness) == 1 && (len(txin.Witness[0]) == 64 || len(txin.Witness[0]) == 65):
			in.Type, in.Signed = "p2tr", true
		case len(txin.Witness) == 0 && len(txin.SignatureScript) > 0:
			in.Type, in.Signed = "p2pkh", true
		default:
			in.Type = "unknown"
			in.Signed = len(txin.Witness) > 0 || len(txin.SignatureScript) > 0
		}
		in.Final = true
		in.Ready = in.Signed
		j.Inputs = append(j.Inputs, in)
	}
	for i, o := range tx.TxOut {
		j.Outputs = append(j.Outputs, outInspect{Index: i, Value: o.Value, PkScript: hex.EncodeToString(o.PkScript)})
	}
	j.Missing = nil
	for _, in := range j.Inputs {
		j.Missing = append(j.Missing, in.Missing...)
	}
	j.Notes = append(j.Notes, "a raw transaction does not carry the values it spends: the fee is unknown")
	j.finish(tx)
	return j
}

// matchDelegation marks the outputs paying the delegation's staking,
// unbonding and slashing change outputs.
func (j *inspectJSON) matchDelegation(d psbt.Delegation) error {
	found := false
	for _, kind := range []script.OutputKind{script.StakingOutputKind, script.UnbondingOutputKind, script.SlashingChangeOutputKind} {
		o, err := d.Output(kind)
		if err != nil {
			return err
		}
		pk := hex.EncodeToString(o.PkScript)
		for i := range j.Outputs {
			if j.Outputs[i].PkScript == pk {
				out := &j.Outputs[i]
				out.Role = map[script.OutputKind]string{script.StakingOutputKind: "staking",
					script.UnbondingOutputKind: "unbonding", script.SlashingChangeOutputKind: "slashing_change"}[kind]
				out.Timelock = o.Timelock
				out.Detail = "this delegation's " + outputKindName(kind) + " output"
				found = true
			}
		}
	}
	if found && j.Kind == "unknown" {
		j.Kind = "staking"
		j.Summary = strings.Replace(j.Summary, "a transaction this tool does not recognise as part of the staking lifecycle",
			"a staking transaction: it locks coins in a staking output", 1)
	}
	if !found {
		j.Notes = append(j.Notes, "no output pays an output of the delegation given by --staker-pk/--fp-pk/--staking-time")
	}
	return nil
}

func newInspectCmd(a *app) *cobra.Command {
	var psbtIn, txIn, paramsFile string
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
control block. --params lets inspect confirm slashing and staking outputs
against the params (the slashing script, the unbonding time, the covenant
committee of a phase-1 staking transaction). Adding the delegation
(--staker-pk, --fp-pk, --staking-time) marks the outputs paying its staking,
unbonding and slashing change outputs, which also recognises a staking
transaction without phase-1 data and an unbonding transaction's output.`,
		Example: `  btcstake inspect --psbt slash.psbt
  btcstake inspect --tx "$(cat slashing.hex)" --params params/regtest-example.json --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			net, err := a.params()
			if err != nil {
				return err
			}
			if (psbtIn == "") == (txIn == "") {
				return usagef("psbt", "give exactly one of --psbt and --tx")
			}
			var prm *params.Params
			if paramsFile != "" {
				if prm, err = loadParams(paramsFile); err != nil {
					return err
				}
			}
			var j *inspectJSON
			if psbtIn != "" {
				p, err := readPSBT("psbt", psbtIn)
				if err != nil {
					return err
				}
				j = inspectPSBT(p, prm, net)
			} else {
				tx, err := parseTxHex("tx", txIn)
				if err != nil {
					return err
				}
				j = inspectTx(tx, prm, net)
			}
			if df.staker != "" || len(df.fps) > 0 || df.stakingTime != 0 {
				if paramsFile == "" || df.staker == "" || len(df.fps) == 0 || df.stakingTime == 0 {
					return usagef("staker-pk", "to match a delegation give --params, --staker-pk, --fp-pk and --staking-time together")
				}
				df.params = paramsFile
				d, err := df.delegation()
				if err != nil {
					return err
				}
				if err := j.matchDelegation(d); err != nil {
					return err
				}
			}
			if a.json {
				return a.printJSON(j)
			}
			a.printInspect(j)
			return nil
		},
	}
	cmd.Flags().StringVar(&psbtIn, "psbt", "", "the PSBT: a file, or base64")
	cmd.Flags().StringVar(&txIn, "tx", "", "a network transaction, hex")
	cmd.Flags().StringVar(&paramsFile, "params", "", "staking parameters JSON file (optional: to confirm outputs)")
	cmd.Flags().StringVar(&df.staker, "staker-pk", "", "with --fp-pk, --staking-time and --params: mark the outputs of this delegation")
	cmd.Flags().StringArrayVar(&df.fps, "fp-pk", nil, "finality provider public key of the delegation (repeatable)")
	cmd.Flags().Int64Var(&df.stakingTime, "staking-time", 0, "staking time of the delegation, blocks")
	return cmd
}

func (a *app) printInspect(j *inspectJSON) {
	a.printf("%s\n", j.Summary)
	a.printf("%s %s, version %d, locktime %d\n", j.Type, j.Txid, j.Version, j.LockTime)
	a.printf("inputs (%d):\n", len(j.Inputs))
	for _, in := range j.Inputs {
		val := "value unknown"
		if in.Value != nil {
			val = fmt.Sprintf("%d sat", *in.Value)
		}
		a.printf("  %d  %s  %s  sequence %d\n", in.Index, in.Outpoint, val, in.Sequence)
		if in.Type != "staking-leaf" {
			state := "unsigned"
			if in.Final {
				state = "final"
			} else if in.Signed {
				state = "signed"
			}
			a.printf("     funding coin (%s), %s\n", in.Type, state)
			continue
		}
		a.printf("     spends the %s output through the %s path", in.SpentOutput, in.Path)
		if in.Timelock > 0 {
			a.printf(" (time lock %d blocks)", in.Timelock)
		}
		a.printf("\n")
		if in.StakingTime > 0 {
			a.printf("     the spent staking output has a staking time of %d blocks\n", in.StakingTime)
		}
		if in.UnbondingTime > 0 && in.SpentOutput != "staking" {
			a.printf("     the spent output's time lock path opens after %d blocks\n", in.UnbondingTime)
		}
		a.printf("     staker %s: %s\n", in.Staker, signedWord(in.StakerSigned))
		if len(in.Covenant) > 0 {
			a.printf("     covenant: %d of %d signed, quorum %d\n", countSigned(in.Covenant), len(in.Covenant), in.Quorum)
			for _, k := range in.Covenant {
				a.printf("       %s: %s\n", k.Key, signedWord(k.Signed))
			}
		}
		if len(in.FPs) > 0 {
			a.printf("     finality providers: %d of %d signed (the slashing path needs one)\n", countSigned(in.FPs), len(in.FPs))
			for _, k := range in.FPs {
				a.printf("       %s: %s\n", k.Key, signedWord(k.Signed))
			}
		}
		if in.Path == script.SlashingPath.String() && j.Type == "psbt" {
			a.printf("     adaptor signatures: %d present, from %d covenant member(s) covering every finality provider (quorum %d)\n",
				len(in.AdaptorSigs), in.AdaptorSigners, in.Quorum)
			sort.Slice(in.AdaptorSigs, func(x, y int) bool { return in.AdaptorSigs[x].Covenant < in.AdaptorSigs[y].Covenant })
			for _, s := range in.AdaptorSigs {
				a.printf("       covenant %s encrypted to finality provider %s\n", s.Covenant, s.FinalityProvider)
			}
		}
		if in.Final {
			a.printf("     final\n")
		}
	}
	a.printf("outputs (%d):\n", len(j.Outputs))
	for _, o := range j.Outputs {
		a.printf("  %d  %d sat  %s", o.Index, o.Value, o.Role)
		if o.Timelock > 0 {
			a.printf(" (time lock %d blocks)", o.Timelock)
		}
		if o.Address != "" {
			a.printf("  %s", o.Address)
		} else {
			a.printf("  %s", o.PkScript)
		}
		a.printf("\n")
		if o.Detail != "" {
			a.printf("     %s\n", o.Detail)
		}
	}
	if j.InputValue != nil {
		a.printf("inputs %d sat, outputs %d sat, fee %d sat", *j.InputValue, j.OutputValue, *j.Fee)
	} else {
		a.printf("outputs %d sat, fee unknown", j.OutputValue)
	}
	if j.VSize > 0 {
		if j.VSizeFinal {
			a.printf(", vsize %d vB", j.VSize)
		} else {
			a.printf(", about %d vB once signed", j.VSize)
		}
		if j.Fee != nil {
			a.printf(" (%.2f sat/vB)", float64(*j.Fee)/float64(j.VSize))
		}
	}
	a.printf("\n")
	if j.SigsVerify != nil {
		if *j.SigsVerify {
			a.printf("every signature present verifies\n")
		} else {
			a.printf("BAD SIGNATURE: %s\n", j.SigError)
		}
	}
	switch {
	case j.Type == "transaction":
	case j.Complete:
		a.printf("status: every input is final (btcstake finalize prints the transaction)\n")
	case j.Ready:
		a.printf("status: ready to finalize\n")
	case j.Kind == "slashing" && slashingCompletable(j):
		a.printf("status: completable once a finality provider's secret key is known (btcstake complete-slashing)\n")
		a.printf("missing: %s\n", strings.Join(j.Missing, "; "))
	default:
		a.printf("status: not ready; missing:\n")
		for _, m := range j.Missing {
			a.printf("  - %s\n", m)
		}
	}
	for _, n := range j.Notes {
		a.printf("note: %s\n", n)
	}
}

func signedWord(b bool) string {
	if b {
		return "signed"
	}
	return "missing"
}

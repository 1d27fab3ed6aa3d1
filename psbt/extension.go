package psbt

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/internal/policy"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// The stake extension transaction (Babylon v4 MsgBtcStakeExpand,
// docs/spec.md §11): one transaction that spends an active delegation's
// staking output through its unbonding leaf, adds a funding coin, and
// locks at least the old value in a new staking output under the current
// params.

// Extension error kinds. Every refusal of an extension rule wraps
// ErrInvalidExtension and the kind of the rule (a rule on the transaction's
// shape wraps ErrInvalidTx and ErrTxInputs, ErrTxOutputs or ErrTxFee
// instead of a kind below).
var (
	// ErrInvalidExtension: an extension Babylon would refuse.
	ErrInvalidExtension = errors.New("invalid stake extension")
	// ErrExtensionValue: the new staking output is worth less than the old.
	ErrExtensionValue = errors.New("extension lowers the staked value")
	// ErrExtensionParties: the new delegation has another staker, or drops
	// a finality provider of the previous one.
	ErrExtensionParties = errors.New("extension changes the staker or drops a finality provider")
	// ErrExtensionFunding: the funding coin is worthless or is a staking
	// output of the delegation.
	ErrExtensionFunding = errors.New("extension funding coin is not a plain coin")
	// ErrExtensionCovenant: fewer than the previous quorum of previous
	// covenant keys are in the current committee.
	ErrExtensionCovenant = errors.New("covenant committees overlap by less than the previous quorum")
)

func extInvalid(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrInvalidExtension, kind, fmt.Sprintf(format, args...))
}

// extShape wraps a transaction-shape rule (ErrInvalidTx and its kind) in
// ErrInvalidExtension as well.
func extShape(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %w", ErrInvalidExtension, invalid(kind, format, args...))
}

// ExtensionRequest is everything an extension transaction is built from.
type ExtensionRequest struct {
	// Previous is the active delegation, under the params it was made
	// with; PreviousFunding names its staking transaction and output.
	Previous        Delegation
	PreviousFunding Funding
	// New is the extended delegation under the current params: the same
	// staker, every finality provider of Previous (Babylon lets the list
	// grow), and a staking time of the current params.
	New Delegation
	// AddedValue is added to the stake: the new output is worth the old
	// value plus AddedValue (0 keeps the value).
	AddedValue int64
	// Funding is the coin that pays the fee and the added value.
	Funding        UTXO
	FeeRate        FeeRate
	ChangePkScript []byte
	// StakerOrigin, when given, adds the staker's BIP-32 derivation to
	// input 0 and the new staking output.
	StakerOrigin *KeyOrigin
}

// checkExtensionParties applies Babylon's rules between the previous and
// the new delegation:
//
//  1. both are valid under their own params;
//  2. the staker is the same key;
//  3. every finality provider of prev is one of next's;
//  4. at least prev's quorum of prev's covenant keys are in next's
//     committee (so the covenant members who sign the old output's
//     unbonding leaf are still trusted by the current params).
func checkExtensionParties(prev, next *Delegation) error {
	// Step 1.
	if err := prev.validate(); err != nil {
		return fmt.Errorf("previous delegation: %w", err)
	}
	if err := next.validate(); err != nil {
		return fmt.Errorf("new delegation: %w", err)
	}
	if prev.Staker == nil || next.Staker == nil {
		return extInvalid(ErrExtensionParties, "no staker key")
	}
	// Step 2.
	if script.XOnly(prev.Staker) != script.XOnly(next.Staker) {
		return extInvalid(ErrExtensionParties, "new staker %s is not the previous staker %s",
			script.XOnly(next.Staker), script.XOnly(prev.Staker))
	}
	// Step 3.
	var fps []script.XOnlyKey
	for _, k := range next.FinalityProviders {
		if k != nil {
			fps = append(fps, script.XOnly(k))
		}
	}
	for _, k := range prev.FinalityProviders {
		if k == nil || !slices.Contains(fps, script.XOnly(k)) {
			return extInvalid(ErrExtensionParties, "the new delegation drops a finality provider of the previous one")
		}
	}
	// Step 4.
	var cur []script.XOnlyKey
	for _, k := range next.Params.CovenantKeys() {
		cur = append(cur, script.XOnly(k))
	}
	var kept uint32
	for _, k := range prev.Params.CovenantKeys() {
		if slices.Contains(cur, script.XOnly(k)) {
			kept++
		}
	}
	if q := prev.Params.CovenantQuorum(); kept < q {
		return extInvalid(ErrExtensionCovenant, "%d previous covenant keys are in the current committee, the previous quorum is %d", kept, q)
	}
	return nil
}

// checkExtension applies Babylon's rules to an extension transaction, given
// the previous staking outpoint and value and the output input 1 spends:
//
//  1. a sane transaction with exactly two inputs: input 0 spends the
//     previous staking output, input 1 the funding output;
//  2. the funding output is worth more than 0 and pays neither delegation's
//     staking script;
//  3. it is a valid staking transaction of next (ValidateStakingTx: exactly
//     one output paying next's staking script, value within the params);
//  4. that output is worth at least the previous value;
//  5. the fee (previous value + funding value - outputs) is above 0.
//
// It returns the index of the new staking output.
func checkExtension(tx *wire.MsgTx, prevOp wire.OutPoint, prevValue int64, funding *wire.TxOut, prev, next *Delegation) (uint32, error) {
	// Step 1.
	if tx == nil {
		return 0, extShape(ErrTxInputs, "no extension tx")
	}
	if err := nilParts("extension tx", tx); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidExtension, err)
	}
	if err := checkSanity("extension tx", tx); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidExtension, err)
	}
	if len(tx.TxIn) != 2 {
		return 0, extShape(ErrTxInputs, "an extension tx has exactly 2 inputs, not %d", len(tx.TxIn))
	}
	if tx.TxIn[0].PreviousOutPoint != prevOp {
		return 0, extShape(ErrTxInputs, "input 0 spends %v, not the previous staking output %v", tx.TxIn[0].PreviousOutPoint, prevOp)
	}
	// Step 2.
	if funding == nil || funding.Value <= 0 {
		return 0, extInvalid(ErrExtensionFunding, "the funding output is worth nothing")
	}
	pst, err := prev.StakingOutput()
	if err != nil {
		return 0, err
	}
	nst, err := next.StakingOutput()
	if err != nil {
		return 0, err
	}
	if bytes.Equal(funding.PkScript, pst.PkScript) || bytes.Equal(funding.PkScript, nst.PkScript) {
		return 0, extInvalid(ErrExtensionFunding, "input 1 spends a staking output of the delegation")
	}
	// Step 3.
	idx, err := ValidateStakingTx(tx, *next)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidExtension, err)
	}
	// Step 4.
	if v := tx.TxOut[idx].Value; v < prevValue {
		return 0, extInvalid(ErrExtensionValue, "new staking output %d sat is below the previous %d sat", v, prevValue)
	}
	// Step 5.
	fee := prevValue + funding.Value
	for _, o := range tx.TxOut {
		fee -= o.Value
	}
	if fee <= 0 {
		return 0, extShape(ErrTxFee, "fee %d sat, an extension tx must pay more than 0", fee)
	}
	return idx, nil
}

// ValidateExtensionTx checks an extension transaction as Babylon does
// (docs/spec.md §11.2): the delegations obey checkExtensionParties, the
// previous staking transaction passes ValidateStakingTx for prev, input 1
// spends an output of fundingTx, and the transaction obeys checkExtension.
// It returns the index of the new staking output.
func ValidateExtensionTx(tx *wire.MsgTx, prev Delegation, prevStakingTx *wire.MsgTx, next Delegation, fundingTx *wire.MsgTx) (uint32, error) {
	if err := checkExtensionParties(&prev, &next); err != nil {
		return 0, err
	}
	pIdx, err := ValidateStakingTx(prevStakingTx, prev)
	if err != nil {
		return 0, fmt.Errorf("previous staking tx: %w", err)
	}
	prevOp := wire.OutPoint{Hash: prevStakingTx.TxHash(), Index: pIdx}
	if tx == nil || len(tx.TxIn) != 2 || tx.TxIn[1] == nil {
		n := 0
		if tx != nil {
			n = len(tx.TxIn)
		}
		return 0, extShape(ErrTxInputs, "an extension tx has exactly 2 inputs, not %d", n)
	}
	if fundingTx == nil {
		return 0, extInvalid(ErrExtensionFunding, "no funding transaction")
	}
	if err := nilParts("funding tx", fundingTx); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidExtension, err)
	}
	fop := tx.TxIn[1].PreviousOutPoint
	if fop.Hash != fundingTx.TxHash() || int(fop.Index) >= len(fundingTx.TxOut) {
		return 0, extShape(ErrTxInputs, "input 1 spends %v, not an output of the funding tx %s", fop, fundingTx.TxHash())
	}
	return checkExtension(tx, prevOp, prevStakingTx.TxOut[pIdx].Value, fundingTx.TxOut[fop.Index], &prev, &next)
}

// BuildExtension builds the extension transaction as a PSBT:
//
//	version 2, locktime 0
//	input 0: the previous staking output, spent through its unbonding leaf
//	         <StakerPk> OP_CHECKSIGVERIFY <CovPk1> OP_CHECKSIG ... <quorum> OP_NUMEQUAL
//	         (the PREVIOUS params' committee and quorum); PSBT fields:
//	         witness_utxo, tap_leaf_script (leaf + control block),
//	         tap_internal_key (NUMS), tap_merkle_root
//	input 1: the funding coin (witness_utxo and/or non_witness_utxo,
//	         redeem_script for P2SH-P2WPKH), as BuildStaking records coins
//	output 0: the new staking output, worth the previous value + AddedValue
//	output 1: change, unless it would be dust (then it goes to the fee)
//
// Both inputs have nSequence fffffffd. The fee is exactly FeeRate for the
// signed transaction's virtual size, input 0 counted with the witness
// Finalize assembles:
//
//	<CovSig_N or empty> ... <CovSig_1 or empty> <StakerSig> <leaf> <control block>
//
// with exactly the previous quorum of covenant signatures. No sighash type
// is written: for taproot inputs its absence is SIGHASH_DEFAULT (BIP-371),
// the type every signer of this package uses (btcd's PSBT encoder cannot
// write a type of 0).
//
// It refuses what Babylon refuses (ErrInvalidExtension with the rule's
// kind), params rules for the new value (params kinds), a funding coin of
// an unsupported kind, and ErrInsufficientFunds when the coin cannot pay
// the added value and the fee.
func BuildExtension(req ExtensionRequest) (*Result, error) {
	prev, next := &req.Previous, &req.New
	if err := checkExtensionParties(prev, next); err != nil {
		return nil, err
	}
	if err := checkFeeRate(req.FeeRate); err != nil {
		return nil, err
	}
	pst, err := prev.StakingOutput()
	if err != nil {
		return nil, err
	}
	nst, err := next.StakingOutput()
	if err != nil {
		return nil, err
	}
	in0, prevOp, err := req.PreviousFunding.check(pst)
	if err != nil {
		return nil, err
	}
	if req.AddedValue < 0 || req.AddedValue > params.MaxMoney {
		return nil, extInvalid(ErrExtensionValue, "added value %d sat is negative or too large", req.AddedValue)
	}
	value := in0.Value + req.AddedValue
	p := next.Params
	if value < p.MinStakingValue() || value > p.MaxStakingValue() {
		return nil, fmt.Errorf("%w: %d sat outside %d..%d", params.ErrInvalidStakingValue, value, p.MinStakingValue(), p.MaxStakingValue())
	}
	if err := p.CheckSlashable(value); err != nil {
		return nil, err
	}

	// The funding coin.
	u := req.Funding
	if u.Value <= 0 || u.Value > params.MaxMoney {
		return nil, extInvalid(ErrExtensionFunding, "funding coin worth %d sat, outside 1..%d", u.Value, int64(params.MaxMoney))
	}
	if u.OutPoint == prevOp || bytes.Equal(u.PkScript, pst.PkScript) || bytes.Equal(u.PkScript, nst.PkScript) {
		return nil, extInvalid(ErrExtensionFunding, "the funding coin %v is a staking output of the delegation", u.OutPoint)
	}
	kind, err := classify(u.PkScript)
	if err != nil {
		return nil, fmt.Errorf("funding coin: %w", err)
	}
	if u.PrevTx != nil {
		if u.PrevTx.TxHash() != u.OutPoint.Hash || int(u.OutPoint.Index) >= len(u.PrevTx.TxOut) ||
			u.PrevTx.TxOut[u.OutPoint.Index].Value != u.Value ||
			!bytes.Equal(u.PrevTx.TxOut[u.OutPoint.Index].PkScript, u.PkScript) {
			return nil, fmt.Errorf("%w: funding coin: previous transaction does not create %v with that value and script", ErrWrongInput, u.OutPoint)
		}
	} else if kind == P2PKH {
		return nil, fmt.Errorf("%w: the funding coin is p2pkh, which needs its previous transaction", ErrMissingPrevTx)
	}
	if k := txscript.GetScriptClass(req.ChangePkScript); k == txscript.NonStandardTy || k == txscript.NullDataTy {
		return nil, fmt.Errorf("%w: change script %x is not a standard payment script", ErrInvalidOutput, req.ChangePkScript)
	}

	// The fee: input 0 with the previous unbonding-leaf witness, input 1
	// with this package's signature for its kind.
	path, err := pst.Path(script.UnbondingPath)
	if err != nil {
		return nil, err
	}
	outs := []*wire.TxOut{nst.TxOut(value)}
	roles := []OutputRole{RoleStaking}
	var w txWeight
	w.addInput(4*(36+4+1), witnessWeight(pst, path))
	nw, wit := inputWeight(kind)
	w.addInput(nw, wit)
	nonWitnessIns := 0
	if wit == 0 {
		nonWitnessIns = 1
	}
	w.addOutput(outs[0].PkScript)
	noChange := vsize(w.total(nonWitnessIns))
	total := in0.Value + u.Value
	if total < value+req.FeeRate.Fee(noChange) {
		return nil, fmt.Errorf("%w: the funding coin's %d sat cannot pay %d sat added plus a fee of %d sat",
			ErrInsufficientFunds, u.Value, req.AddedValue, req.FeeRate.Fee(noChange))
	}
	wc := w
	wc.addOutput(req.ChangePkScript)
	withChange := vsize(wc.total(nonWitnessIns))
	vs, fee := noChange, total-value
	change := total - value - req.FeeRate.Fee(withChange)
	if change > 0 && !policy.IsDust(change, req.ChangePkScript) {
		vs, fee = withChange, req.FeeRate.Fee(withChange)
		outs = append(outs, wire.NewTxOut(change, bytes.Clone(req.ChangePkScript)))
		roles = append(roles, RoleChange)
	} else {
		change = 0
	}

	// The packet.
	op0, op1 := prevOp, u.OutPoint
	pkt, err := psbt.New([]*wire.OutPoint{&op0, &op1}, outs, 2, 0, []uint32{inputSequence, inputSequence})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPSBT, err)
	}
	tapInput(&pkt.Inputs[0], pst, path, in0.Value, req.StakerOrigin)
	pi := &pkt.Inputs[1]
	if kind != P2PKH {
		pi.WitnessUtxo = wire.NewTxOut(u.Value, bytes.Clone(u.PkScript))
	}
	if u.PrevTx != nil {
		pi.NonWitnessUtxo = u.PrevTx.Copy()
	}
	if kind == P2SHP2WPKH && u.RedeemScript != nil {
		pi.RedeemScript = bytes.Clone(u.RedeemScript)
	}
	describeOutputFields(&pkt.Outputs[0], nst, req.StakerOrigin)

	// Self-check: the result obeys every rule Babylon applies.
	if _, err := checkExtension(pkt.UnsignedTx, prevOp, in0.Value, wire.NewTxOut(u.Value, u.PkScript), prev, next); err != nil {
		return nil, err
	}

	desc := Description{
		Kind: TxExtension.String(), Path: "staking output, unbonding path (previous delegation)",
		Txid: pkt.UnsignedTx.TxHash().String(), InputValue: total, OutputValue: total - fee, Fee: fee,
		VSize: vs, FeeRate: float64(fee) / float64(vs), Timelock: next.StakingTime, Sequence: inputSequence, Version: 2,
	}
	for i, o := range outs {
		desc.Outputs = append(desc.Outputs, OutputDesc{Index: i, Role: roles[i].String(), Value: o.Value, PkScript: hex.EncodeToString(o.PkScript)})
	}
	if change == 0 && fee > req.FeeRate.Fee(vs) {
		desc.Notes = append(desc.Notes, fmt.Sprintf("no change output: the %d sat left over would be dust, so it goes to the fee", fee-req.FeeRate.Fee(vs)))
	}
	desc.Notes = append(desc.Notes,
		fmt.Sprintf("input 0 needs the staker and %d of the previous %d covenant members (CovenantSigner.SignExtension)",
			prev.Params.CovenantQuorum(), len(prev.Params.CovenantKeys())),
		fmt.Sprintf("fee assumes %d-byte ECDSA signatures (low-R) and %d-byte Schnorr signatures", ecdsaSigLen, schnorrSigLen))
	return &Result{Packet: pkt, Description: desc}, nil
}

// CheckExtensionSigning is what a covenant member of the previous
// committee must run before signing input 0 of an extension PSBT:
//
//  1. prev and next obey checkExtensionParties (staker, finality
//     providers, covenant overlap);
//  2. input 0 spends an output paying prev's staking script, with a value
//     prev's params allow, and reveals exactly that output's unbonding
//     leaf and control block;
//  3. the spent outputs of both inputs are recorded (the BIP-341 sighash
//     commits to both, so a signature is void if either is misstated);
//  4. the transaction obeys checkExtension: two inputs, one new staking
//     output of next worth at least the old value, a fee above 0.
//
// Without it a staker could collect signatures on the old output's
// unbonding leaf for a transaction that pays the stake anywhere.
func CheckExtensionSigning(p *psbt.Packet, next, prev Delegation) error {
	// Step 1.
	if err := checkExtensionParties(&prev, &next); err != nil {
		return err
	}
	// Step 2.
	ls, leaf, err := tapLeaf(p, 0)
	if err != nil {
		return err
	}
	pst, err := prev.StakingOutput()
	if err != nil {
		return err
	}
	in0 := p.Inputs[0].WitnessUtxo
	if in0 == nil || !bytes.Equal(in0.PkScript, pst.PkScript) {
		return fmt.Errorf("%w: input 0 does not spend the previous delegation's staking output", ErrWrongInput)
	}
	if in0.Value < prev.Params.MinStakingValue() || in0.Value > prev.Params.MaxStakingValue() {
		return fmt.Errorf("%w: %w: staked %d sat outside %d..%d", ErrInvalidTx, params.ErrInvalidStakingValue,
			in0.Value, prev.Params.MinStakingValue(), prev.Params.MaxStakingValue())
	}
	path, _ := pst.Path(script.UnbondingPath)
	if leaf.Kind != script.UnbondingPath || !bytes.Equal(path.Script, ls.Script) || !bytes.Equal(path.ControlBlock, ls.ControlBlock) {
		return fmt.Errorf("%w: input 0 reveals a leaf that is not the previous staking output's unbonding leaf", ErrWrongInput)
	}
	// Step 3.
	fetch, err := prevOuts(p)
	if err != nil {
		return err
	}
	tx := p.UnsignedTx
	if len(tx.TxIn) != 2 {
		return extShape(ErrTxInputs, "an extension tx has exactly 2 inputs, not %d", len(tx.TxIn))
	}
	funding := fetch.FetchPrevOutput(tx.TxIn[1].PreviousOutPoint)
	// Step 4.
	_, err = checkExtension(tx, tx.TxIn[0].PreviousOutPoint, in0.Value, funding, &prev, &next)
	return err
}

// SignExtension signs input 0 of an extension PSBT as a covenant member of
// the previous delegation's committee: one BIP-340 signature on the
// previous staking output's unbonding leaf, SIGHASH_DEFAULT, whose BIP-341
// sighash commits to both spent outputs. Before it signs, the packet must
// pass CheckExtensionSigning(p, next, prev) and the key must be one of
// the leaf's covenant keys (ErrNotSignable). It returns the number of
// signatures added (1). The packet is changed only on success.
//
// Sign refuses an extension transaction (it is not the unbonding
// transaction the params allow): a covenant member signs one only here,
// naming both delegations.
func (c *CovenantSigner) SignExtension(p *psbt.Packet, next, prev Delegation) (int, error) {
	if c == nil || c.key == nil {
		return 0, fmt.Errorf("%w: no covenant key (signer zeroed)", ErrNotSignable)
	}
	if err := CheckExtensionSigning(p, next, prev); err != nil {
		return 0, fmt.Errorf("refusing to sign the extension as a covenant member: %w", err)
	}
	_, leaf, err := tapLeaf(p, 0)
	if err != nil {
		return 0, err
	}
	if leaf.Role(c.pub) != script.CovenantRole {
		return 0, fmt.Errorf("%w: %s is not a covenant key of the previous staking output's unbonding leaf", ErrNotSignable, c.pub)
	}
	cp, err := clonePacket(p)
	if err != nil {
		return 0, err
	}
	if err := signTapscript(cp, 0, c.key); err != nil {
		return 0, err
	}
	*p = *cp
	return 1, nil
}

package psbt

import (
	"bytes"
	"encoding/hex"
	"fmt"

	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/script"
)

// Funding names the output a transaction spends: a transaction and the
// index of the output.
type Funding struct {
	Tx    *wire.MsgTx
	Index uint32
}

// check returns the funding output, verifying it pays o.
func (f Funding) check(o *script.Output) (*wire.TxOut, wire.OutPoint, error) {
	if f.Tx == nil || int(f.Index) >= len(f.Tx.TxOut) {
		return nil, wire.OutPoint{}, fmt.Errorf("%w: funding transaction has no output %d", ErrWrongInput, f.Index)
	}
	if err := nilParts("funding tx", f.Tx); err != nil {
		return nil, wire.OutPoint{}, fmt.Errorf("%w: %v", ErrWrongInput, err)
	}
	out := f.Tx.TxOut[f.Index]
	if !bytes.Equal(out.PkScript, o.PkScript) {
		return nil, wire.OutPoint{}, fmt.Errorf("%w: output %d of %s does not pay the %s output of this delegation",
			ErrWrongInput, f.Index, f.Tx.TxHash(), o.Kind)
	}
	return out, wire.OutPoint{Hash: f.Tx.TxHash(), Index: f.Index}, nil
}

// BuildUnbonding builds the unbonding transaction (docs/spec.md §4):
// version 2, the staking output as its only input (nSequence ffffffff), the
// unbonding output worth stakingValue - UnbondingFee as its only output,
// locktime 0. The staker and quorum covenant members sign it through the
// unbonding path of the staking output, whose leaf and witness are
//
//	<StakerPk> OP_CHECKSIGVERIFY
//	<CovPk1> OP_CHECKSIG <CovPk2> OP_CHECKSIGADD ... <CovPkN> OP_CHECKSIGADD <quorum> OP_NUMEQUAL
//
//	witness: <CovSig_N or empty> ... <CovSig_1 or empty> <StakerSig> <leaf> <control block (97 bytes)>
//
// with CovPk1..CovPkN ascending (one key: "<CovPk> OP_CHECKSIG") and
// exactly quorum covenant items non-empty; Finalize assembles it.
func BuildUnbonding(d Delegation, staking Funding) (*Result, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	st, err := d.StakingOutput()
	if err != nil {
		return nil, err
	}
	ub, err := d.UnbondingOutput()
	if err != nil {
		return nil, err
	}
	in, op, err := staking.check(st)
	if err != nil {
		return nil, err
	}
	if err := d.Params.checkSlashable(in.Value); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDustOutput, err)
	}
	value := in.Value - d.Params.UnbondingFee
	outs := []*wire.TxOut{ub.TxOut(value)}
	path, _ := st.Path(script.UnbondingPath)
	r, err := spendOne(spendSpec{
		kind: TxUnbonding, path: path, from: st, value: in.Value, op: op, version: 2,
		sequence: wire.MaxTxInSequenceNum, outs: outs, roles: []OutputRole{RoleUnbonding}, origin: d.StakerOrigin,
	})
	if err != nil {
		return nil, err
	}
	describeOutputFields(&r.Packet.Outputs[0], ub, d.StakerOrigin)
	return r, nil
}

// BuildSlashing builds the slashing transaction spending the staking output
// (from = script.StakingOutputKind) or the unbonding output (from =
// script.UnbondingOutputKind) through its slashing path: version 1 as in
// Babylon's Go reference, nSequence ffffffff, locktime 0, outputs
//
//  1. Params.SlashingPkScript with round(value * SlashingRate)
//  2. the slashing change output with value - slashed - MinSlashingFee.
//
// It spends the slashing path, whose leaf and witness are
//
//	<StakerPk> OP_CHECKSIGVERIFY
//	<FpPk1> OP_CHECKSIG ... <FpPkK> OP_CHECKSIGADD 1 OP_NUMEQUALVERIFY
//	<CovPk1> OP_CHECKSIG <CovPk2> OP_CHECKSIGADD ... <CovPkN> OP_CHECKSIGADD <quorum> OP_NUMEQUAL
//
//	witness: <CovSig_N or empty> ... <CovSig_1 or empty> <FpSig_K or empty> ... <FpSig_1 or empty>
//	         <StakerSig> <leaf> <control block (65 bytes, from either output)>
//
// with each key list ascending (one FP: "<FpPk> OP_CHECKSIGVERIFY"; one
// covenant key: "<CovPk> OP_CHECKSIG"), exactly quorum covenant items and
// one FP item non-empty. The staker pre-signs, covenant members add
// adaptor signatures (AdaptorSignSlashing), and CompleteSlashing fills the
// rest from a finality provider's leaked key.
func BuildSlashing(d Delegation, from script.OutputKind, funding Funding) (*Result, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	if from != script.StakingOutputKind && from != script.UnbondingOutputKind {
		return nil, fmt.Errorf("%w: slashing spends the staking or the unbonding output, not %v", ErrInvalidOutput, from)
	}
	src, err := d.Output(from)
	if err != nil {
		return nil, err
	}
	change, err := d.SlashingChangeOutput()
	if err != nil {
		return nil, err
	}
	in, op, err := funding.check(src)
	if err != nil {
		return nil, err
	}
	p := d.Params
	slashed := p.SlashingAmount(in.Value)
	rest := in.Value - slashed - p.MinSlashingFee
	if isDust(slashed, p.SlashingPkScript) || rest <= 0 || isDust(rest, change.PkScript) {
		return nil, fmt.Errorf("%w: slashing %d sat leaves outputs of %d and %d sat", ErrDustOutput, in.Value, slashed, rest)
	}
	outs := []*wire.TxOut{
		wire.NewTxOut(slashed, append([]byte(nil), p.SlashingPkScript...)),
		change.TxOut(rest),
	}
	path, _ := src.Path(script.SlashingPath)
	r, err := spendOne(spendSpec{
		kind: TxSlashing, path: path, from: src, value: in.Value, op: op, version: 1,
		sequence: wire.MaxTxInSequenceNum, outs: outs, roles: []OutputRole{RoleSlashing, RoleSlashingChange}, origin: d.StakerOrigin,
	})
	if err != nil {
		return nil, err
	}
	describeOutputFields(&r.Packet.Outputs[1], change, d.StakerOrigin)
	r.Description.Notes = append(r.Description.Notes, fmt.Sprintf(
		"slashes %s of %d sat = %d sat (rounded as Babylon does); fee is the minimum slashing fee %d sat", p.SlashingRate, in.Value, slashed, p.MinSlashingFee))
	return r, nil
}

// WithdrawRequest spends a timelock path to a destination script.
type WithdrawRequest struct {
	Delegation
	From         script.OutputKind // staking, unbonding or slashing change output
	Funding      Funding
	DestPkScript []byte
	FeeRate      FeeRate
}

// BuildWithdraw builds the withdraw transaction through the timelock path
// of the staking output, the unbonding output or a slashing change output:
// version 2, nSequence = the path's lock, one output to the destination
// paying the funding value less the fee for the exact signed size. The
// destination must be a standard payment script (ErrInvalidOutput for an
// OP_RETURN or a non-standard script). The leaf and witness are
//
//	<StakerPk> OP_CHECKSIGVERIFY <lock> OP_CHECKSEQUENCEVERIFY
//
//	witness: <StakerSig> <leaf> <control block>
//
// with lock the staking time (staking output, 97-byte control block) or
// the unbonding time (unbonding output, 65 bytes; slashing change output,
// 33 bytes).
func BuildWithdraw(req WithdrawRequest) (*Result, error) {
	d := &req.Delegation
	if err := d.validate(); err != nil {
		return nil, err
	}
	src, err := d.Output(req.From)
	if err != nil {
		return nil, err
	}
	in, op, err := req.Funding.check(src)
	if err != nil {
		return nil, err
	}
	if err := checkFeeRate(req.FeeRate); err != nil {
		return nil, err
	}
	if len(req.DestPkScript) == 0 {
		return nil, fmt.Errorf("%w: no destination", ErrInvalidOutput)
	}
	// The whole stake goes to the destination: an OP_RETURN would burn it,
	// a non-standard script would never relay.
	if k := txscript.GetScriptClass(req.DestPkScript); k == txscript.NonStandardTy || k == txscript.NullDataTy {
		return nil, fmt.Errorf("%w: destination script %x is not a standard payment script", ErrInvalidOutput, req.DestPkScript)
	}
	path, _ := src.Path(script.TimelockPath)
	vs := spendVSize(src, path, []*wire.TxOut{wire.NewTxOut(0, req.DestPkScript)})
	fee := req.FeeRate.Fee(vs)
	value := in.Value - fee
	if value <= 0 || isDust(value, req.DestPkScript) {
		return nil, fmt.Errorf("%w: withdrawing %d sat at %v sat/vB leaves %d sat", ErrDustOutput, in.Value, req.FeeRate.SatPerVB(), value)
	}
	return spendOne(spendSpec{
		kind: TxWithdraw, path: path, from: src, value: in.Value, op: op, version: 2,
		sequence: uint32(path.Timelock), outs: []*wire.TxOut{wire.NewTxOut(value, append([]byte(nil), req.DestPkScript...))},
		roles: []OutputRole{RoleWithdraw}, origin: d.StakerOrigin,
	})
}

// witnessWeight is the witness size of the signed script-path spend of
// path on o (see leafWitnessWeight).
func witnessWeight(o *script.Output, path *script.SpendPath) int64 {
	return leafWitnessWeight(path.Kind, len(o.CovenantKeys()), int(o.CovenantQuorum()), len(o.FinalityProviderKeys()),
		len(path.Script), len(path.ControlBlock))
}

// spendVSize is the signed virtual size of a one-input spend of path.
func spendVSize(o *script.Output, path *script.SpendPath, outs []*wire.TxOut) int64 {
	var w txWeight
	w.addInput(4*(36+4+1), witnessWeight(o, path))
	for _, out := range outs {
		w.addOutput(out.PkScript)
	}
	return vsize(w.total(0))
}

type spendSpec struct {
	kind     TxKind
	path     *script.SpendPath
	from     *script.Output
	value    int64
	op       wire.OutPoint
	version  int32
	sequence uint32
	outs     []*wire.TxOut
	roles    []OutputRole
	origin   *KeyOrigin
}

// spendOne builds a one-input PSBT spending spec.from through spec.path.
func spendOne(s spendSpec) (*Result, error) {
	op := s.op
	pkt, err := psbt.New([]*wire.OutPoint{&op}, s.outs, s.version, 0, []uint32{s.sequence})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPSBT, err)
	}
	tapInput(&pkt.Inputs[0], s.from, s.path, s.value, s.origin)
	var outSum int64
	for _, o := range s.outs {
		outSum += o.Value
	}
	vs := spendVSize(s.from, s.path, s.outs)
	desc := Description{
		Kind: s.kind.String(), Path: s.from.Kind.String() + " output, " + s.path.Kind.String() + " path",
		Txid: pkt.UnsignedTx.TxHash().String(), InputValue: s.value, OutputValue: outSum, Fee: s.value - outSum,
		VSize: vs, FeeRate: float64(s.value-outSum) / float64(vs),
		Timelock: s.path.Timelock, Sequence: s.sequence, Version: s.version,
	}
	for i, o := range s.outs {
		desc.Outputs = append(desc.Outputs, OutputDesc{Index: i, Role: s.roles[i].String(), Value: o.Value, PkScript: hex.EncodeToString(o.PkScript)})
	}
	if s.path.Timelock > 0 {
		desc.Notes = append(desc.Notes, fmt.Sprintf("valid once the spent output is %d blocks deep", s.path.Timelock))
	}
	return &Result{Packet: pkt, Description: desc}, nil
}

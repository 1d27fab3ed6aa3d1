package psbt

import (
	"bytes"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/script"
)

// The unbonding transaction: built by the staker, signed by the staker and
// a covenant quorum, validated as Babylon validates it.

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
	if err := d.Params.CheckSlashable(in.Value); err != nil {
		return nil, err
	}
	value := in.Value - d.Params.UnbondingFee()
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

// ValidateUnbondingTx checks an unbonding transaction against its staking
// transaction (docs/spec.md §4.3), as Babylon does: the staking tx passes
// ValidateStakingTx; the unbonding tx is a sane transaction of version 2;
// exactly one input, the staking output, with nSequence ffffffff and an
// empty scriptSig; exactly one output, the unbonding output, worth the
// staking value less exactly the unbonding fee; locktime 0; weight at most
// 400,000.
func ValidateUnbondingTx(unbonding, staking *wire.MsgTx, d Delegation) error {
	stIdx, err := ValidateStakingTx(staking, d)
	if err != nil {
		return err
	}
	ub, err := d.UnbondingOutput()
	if err != nil {
		return err
	}
	want := wire.OutPoint{Hash: staking.TxHash(), Index: stIdx}
	return checkUnbonding(unbonding, want, staking.TxOut[stIdx].Value, ub, d)
}

// checkUnbonding applies the unbonding-tx rules given the staking outpoint
// and value: Babylon's pre-signed rules (validate.go), then the input,
// output and fee.
func checkUnbonding(tx *wire.MsgTx, want wire.OutPoint, stValue int64, ub *script.Output, d Delegation) error {
	if err := unbondingShape.check(tx); err != nil {
		return err
	}
	if tx.TxIn[0].PreviousOutPoint != want {
		return invalid(ErrTxInputs, "unbonding tx spends %v, not the staking output %v", tx.TxIn[0].PreviousOutPoint, want)
	}
	if !bytes.Equal(tx.TxOut[0].PkScript, ub.PkScript) {
		return invalid(ErrTxOutputs, "unbonding tx output does not pay the unbonding script")
	}
	if fee := stValue - tx.TxOut[0].Value; fee != d.Params.UnbondingFee() {
		return invalid(ErrTxFee, "fee %d sat, the params require exactly %d", fee, d.Params.UnbondingFee())
	}
	return nil
}

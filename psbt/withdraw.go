package psbt

import (
	"fmt"

	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/internal/policy"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// The withdraw transaction: the staker spends a timelock path once it
// has matured.

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
	if value <= 0 || policy.IsDust(value, req.DestPkScript) {
		return nil, fmt.Errorf("%w: withdrawing %d sat at %v sat/vB leaves %d sat", params.ErrDustOutput, in.Value, req.FeeRate.SatPerVB(), value)
	}
	return spendOne(spendSpec{
		kind: TxWithdraw, path: path, from: src, value: in.Value, op: op, version: 2,
		sequence: uint32(path.Timelock), outs: []*wire.TxOut{wire.NewTxOut(value, append([]byte(nil), req.DestPkScript...))},
		roles: []OutputRole{RoleWithdraw}, origin: d.StakerOrigin,
	})
}

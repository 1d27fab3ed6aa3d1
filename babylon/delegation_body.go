package babylon

import (
	"bytes"
	"encoding/hex"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// delegationBody is what MsgCreateBTCDelegation and MsgBtcStakeExpand
// share, as pointers into either message: fields 1 to 7 (staker address to
// staking tx) with the same numbers in both, then the seven fields from
// slashing_tx to delegator_unbonding_slashing_sig, which start at field 9
// in MsgCreateBTCDelegation (after its inclusion proof) and at field 8 in
// MsgBtcStakeExpand (which has none). One codec serves both messages.
type delegationBody struct {
	stakerAddr                          *string
	pop, btcPk                          *[]byte
	fps                                 *[][]byte
	stakingTime                         *uint32
	stakingValue                        *int64
	stakingTx                           *[]byte
	slashingTx, slashingSig             *[]byte
	unbondingTime                       *uint32
	unbondingTx                         *[]byte
	unbondingValue                      *int64
	unbondingSlashingTx, unbondSlashSig *[]byte
	// tail is the number of slashing_tx, the first of the seven.
	tail protowire.Number
}

// The numbers of the seven fields from slashing_tx, as offsets from tail.
const (
	offSlashingTx = iota
	offSlashingSig
	offUnbondingTime
	offUnbondingTx
	offUnbondingValue
	offUnbondingSlashingTx
	offUnbondingSlashSig
)

// appendHead encodes fields 1 to 7.
func (d delegationBody) appendHead(out []byte) []byte {
	out = appendBytes(out, fCreateStakerAddr, []byte(*d.stakerAddr))
	out = appendBytes(out, fCreatePop, *d.pop)
	out = appendBytes(out, fCreateBtcPk, *d.btcPk)
	out = appendRepeatedBytes(out, fCreateFpBtcPkList, *d.fps)
	out = appendVarint(out, fCreateStakingTime, uint64(*d.stakingTime))
	out = appendVarint(out, fCreateStakingValue, uint64(*d.stakingValue))
	return appendBytes(out, fCreateStakingTx, *d.stakingTx)
}

// appendTail encodes the seven fields from slashing_tx.
func (d delegationBody) appendTail(out []byte) []byte {
	out = appendBytes(out, d.tail+offSlashingTx, *d.slashingTx)
	out = appendBytes(out, d.tail+offSlashingSig, *d.slashingSig)
	out = appendVarint(out, d.tail+offUnbondingTime, uint64(*d.unbondingTime))
	out = appendBytes(out, d.tail+offUnbondingTx, *d.unbondingTx)
	out = appendVarint(out, d.tail+offUnbondingValue, uint64(*d.unbondingValue))
	out = appendBytes(out, d.tail+offUnbondingSlashingTx, *d.unbondingSlashingTx)
	return appendBytes(out, d.tail+offUnbondingSlashSig, *d.unbondSlashSig)
}

// specs adds the wire types of the fourteen shared fields to s.
func (d delegationBody) specs(s map[protowire.Number]fieldSpec) map[protowire.Number]fieldSpec {
	bt, vt := protowire.BytesType, protowire.VarintType
	s[fCreateStakerAddr], s[fCreatePop], s[fCreateBtcPk] = fieldSpec{typ: bt}, fieldSpec{typ: bt}, fieldSpec{typ: bt}
	s[fCreateFpBtcPkList] = fieldSpec{typ: bt, repeated: true}
	s[fCreateStakingTime], s[fCreateStakingValue], s[fCreateStakingTx] = fieldSpec{typ: vt}, fieldSpec{typ: vt}, fieldSpec{typ: bt}
	for off, typ := range []protowire.Type{bt, bt, vt, bt, vt, bt, bt} {
		s[d.tail+protowire.Number(off)] = fieldSpec{typ: typ}
	}
	return s
}

// decode stores field f if it is one of the fourteen shared fields,
// checking sizes as Babylon's types require; ok says whether it was.
func (d delegationBody) decode(what string, f pbField) (ok bool, err error) {
	switch f.num {
	case fCreateStakerAddr:
		*d.stakerAddr = string(f.b)
	case fCreatePop:
		if err := checkPoP(f.b); err != nil {
			return true, err
		}
		*d.pop = bytes.Clone(f.b)
	case fCreateBtcPk:
		*d.btcPk, err = sizedField(what, f, XOnlyKeySize)
	case fCreateFpBtcPkList:
		var k []byte
		k, err = sizedField(what, f, XOnlyKeySize)
		*d.fps = append(*d.fps, k)
	case fCreateStakingTime:
		*d.stakingTime, err = uint32Field(what, f)
	case fCreateStakingValue:
		*d.stakingValue = int64(f.v)
	case fCreateStakingTx:
		*d.stakingTx = bytes.Clone(f.b)
	case d.tail + offSlashingTx:
		*d.slashingTx = bytes.Clone(f.b)
	case d.tail + offSlashingSig:
		*d.slashingSig, err = sizedField(what, f, SchnorrSigSize)
	case d.tail + offUnbondingTime:
		*d.unbondingTime, err = uint32Field(what, f)
	case d.tail + offUnbondingTx:
		*d.unbondingTx = bytes.Clone(f.b)
	case d.tail + offUnbondingValue:
		*d.unbondingValue = int64(f.v)
	case d.tail + offUnbondingSlashingTx:
		*d.unbondingSlashingTx = bytes.Clone(f.b)
	case d.tail + offUnbondingSlashSig:
		*d.unbondSlashSig, err = sizedField(what, f, SchnorrSigSize)
	default:
		return false, nil
	}
	return true, err
}

// babylondArgs returns the 14 positional arguments create-btc-delegation
// and btc-stake-expand share (babylon x/btcstaking/client/cli/tx.go,
// parseArgsIntoMsgCreateBTCDelegation), with proof as the fourth.
func (d delegationBody) babylondArgs(proof string) []string {
	return []string{
		hex.EncodeToString(*d.btcPk),
		hex.EncodeToString(*d.pop),
		hex.EncodeToString(*d.stakingTx),
		proof,
		hexList(*d.fps),
		strconv.FormatUint(uint64(*d.stakingTime), 10),
		strconv.FormatInt(*d.stakingValue, 10),
		hex.EncodeToString(*d.slashingTx),
		hex.EncodeToString(*d.slashingSig),
		hex.EncodeToString(*d.unbondingTx),
		hex.EncodeToString(*d.unbondingSlashingTx),
		strconv.FormatUint(uint64(*d.unbondingTime), 10),
		strconv.FormatInt(*d.unbondingValue, 10),
		hex.EncodeToString(*d.unbondSlashSig),
	}
}

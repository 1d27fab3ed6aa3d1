package babylon

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// TestDelegationBodyNumbering: the shared codec's offsets from slashing_tx
// give exactly the field numbers tx.proto assigns in both messages (the
// tables in proto.go).
func TestDelegationBodyNumbering(t *testing.T) {
	for _, c := range []struct {
		name string
		tail protowire.Number
		want []protowire.Number
	}{
		{"MsgCreateBTCDelegation", fCreateSlashingTx, []protowire.Number{fCreateSlashingTx, fCreateSlashingSig, fCreateUnbondingTime,
			fCreateUnbondingTx, fCreateUnbondingValue, fCreateUnbondingSlashingTx, fCreateUnbondingSlashSig}},
		{"MsgBtcStakeExpand", fExpSlashingTx, []protowire.Number{fExpSlashingTx, fExpSlashingSig, fExpUnbondingTime,
			fExpUnbondingTx, fExpUnbondingValue, fExpUnbondingSlashingTx, fExpUnbondingSlashSig}},
	} {
		offs := []protowire.Number{offSlashingTx, offSlashingSig, offUnbondingTime, offUnbondingTx, offUnbondingValue,
			offUnbondingSlashingTx, offUnbondingSlashSig}
		for i, off := range offs {
			if c.tail+off != c.want[i] {
				t.Errorf("%s: offset %d gives field %d, the proto says %d", c.name, off, c.tail+off, c.want[i])
			}
		}
	}
	head := []protowire.Number{fExpStakerAddr, fExpPop, fExpBtcPk, fExpFpBtcPkList, fExpStakingTime, fExpStakingValue, fExpStakingTx}
	for i, n := range []protowire.Number{fCreateStakerAddr, fCreatePop, fCreateBtcPk, fCreateFpBtcPkList, fCreateStakingTime,
		fCreateStakingValue, fCreateStakingTx} {
		if head[i] != n {
			t.Errorf("shared field %d: %d in MsgBtcStakeExpand, %d in MsgCreateBTCDelegation", i+1, head[i], n)
		}
	}
}

package psbt_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
)

// Babylon's btcstaking/testvectors/vectors.json, kept once in the script
// package (see script/testdata/babylon/README.md for repository, path and
// commit).
const babylonVectorsPath = "../script/testdata/babylon/vectors.json"

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustPub(t *testing.T, s string) *btcec.PublicKey {
	t.Helper()
	pk, err := btcec.ParsePubKey(mustHex(t, s))
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

// TestBabylonUnbondingTxVectors builds the unbonding transaction of every
// upstream vector with BuildUnbonding and compares it byte for byte with
// upstream's unbonding_transaction_hex. Upstream spends the outpoint
// staking_tx_hash:staking_output_index (all zeros, index 0) without a real
// staking transaction; BuildUnbonding needs the staking transaction itself,
// so the comparison substitutes our funding outpoint into upstream's bytes
// (and checks upstream's outpoint is the stated one): every other byte
// (version, nSequence, empty sigScript, the unbonding output's value and
// pkScript, locktime) is compared as is.
func TestBabylonUnbondingTxVectors(t *testing.T) {
	raw, err := os.ReadFile(babylonVectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []struct {
			Name   string `json:"name"`
			Params struct {
				CovenantKeys   []string `json:"covenant_public_keys"`
				CovenantQuorum uint32   `json:"covenant_quorum"`
				FPKeys         []string `json:"finality_provider_public_keys"`
				StakerKey      string   `json:"staker_public_key"`
				StakingTime    uint16   `json:"staking_time"`
				StakingValue   int64    `json:"staking_value"`
				StakingTxHash  string   `json:"staking_tx_hash"`
				StakingOutIdx  uint32   `json:"staking_output_index"`
				UnbondingTxVer int32    `json:"unbonding_tx_version"`
				UnbondingTime  uint16   `json:"unbonding_time"`
				UnbondingFee   int64    `json:"unbonding_fee"`
			} `json:"parameters"`
			Expected struct {
				StakingPkScript string `json:"staking_output_pkscript_hex"`
				UnbondingTx     string `json:"unbonding_transaction_hex"`
			} `json:"expected"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) != 5 {
		t.Fatalf("want the 5 upstream vectors, got %d", len(f.Vectors))
	}
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			p := v.Params
			covs := make([]string, len(p.CovenantKeys))
			for i, k := range p.CovenantKeys {
				covs[i] = fmt.Sprintf("%q", k[2:]) // x-only, as params files carry them
			}
			// Only the unbonding time and fee matter here; the slashing
			// fields are placeholders that satisfy validation.
			js := fmt.Sprintf(`{
  "covenant_pks": [%s],
  "covenant_quorum": %d,
  "min_staking_value_sat": %d,
  "max_staking_value_sat": %d,
  "min_staking_time_blocks": %d,
  "max_staking_time_blocks": %d,
  "unbonding_time_blocks": %d,
  "unbonding_fee_sat": %d,
  "slashing_pk_script": "00149865c77a1a2ef756be8bcf9e8615f1b400d1ea82",
  "slashing_rate": "0.1",
  "min_slashing_tx_fee_sat": 1000
}`, joinComma(covs), p.CovenantQuorum, p.StakingValue, p.StakingValue, p.StakingTime, p.StakingTime, p.UnbondingTime, p.UnbondingFee)
			prm, err := params.Parse([]byte(js))
			if err != nil {
				t.Fatal(err)
			}
			fps := make([]*btcec.PublicKey, len(p.FPKeys))
			for i, k := range p.FPKeys {
				fps[i] = mustPub(t, k)
			}
			d := psbt.Delegation{Params: prm, Staker: mustPub(t, p.StakerKey), FinalityProviders: fps, StakingTime: p.StakingTime}

			stakingTx := wire.NewMsgTx(2)
			stakingTx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: 7}, nil, nil))
			stakingTx.AddTxOut(wire.NewTxOut(p.StakingValue, mustHex(t, v.Expected.StakingPkScript)))
			res, err := psbt.BuildUnbonding(d, psbt.Funding{Tx: stakingTx, Index: p.StakingOutIdx})
			if err != nil {
				t.Fatal(err)
			}

			var want wire.MsgTx
			if err := want.Deserialize(bytes.NewReader(mustHex(t, v.Expected.UnbondingTx))); err != nil {
				t.Fatal(err)
			}
			if len(want.TxIn) != 1 || want.TxIn[0].PreviousOutPoint.Hash.String() != p.StakingTxHash ||
				want.TxIn[0].PreviousOutPoint.Index != p.StakingOutIdx || want.Version != p.UnbondingTxVer {
				t.Fatalf("upstream unbonding tx does not spend %s:%d", p.StakingTxHash, p.StakingOutIdx)
			}
			want.TxIn[0].PreviousOutPoint = wire.OutPoint{Hash: stakingTx.TxHash(), Index: p.StakingOutIdx}
			var wb, gb bytes.Buffer
			if err := want.Serialize(&wb); err != nil {
				t.Fatal(err)
			}
			if err := res.Packet.UnsignedTx.Serialize(&gb); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gb.Bytes(), wb.Bytes()) {
				t.Errorf("unbonding tx\n got  %x\n want %x", gb.Bytes(), wb.Bytes())
			}
		})
	}
}

func joinComma(ss []string) string {
	var b bytes.Buffer
	for i, s := range ss {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s)
	}
	return b.String()
}

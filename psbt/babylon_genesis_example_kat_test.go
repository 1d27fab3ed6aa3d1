package psbt_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/btcstake/btcstake/params"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/adaptor"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// TestBabylonGenesisExampleDelegation runs the delegation of the babylond
// gen-helpers example (testdata/babylon_genesis_example_kat.json), which
// Babylon's Go code built: BuildUnbonding and BuildSlashing reproduce its
// unbonding tx and both version-1 slashing txs byte for byte, and its
// staker, covenant and legacy adaptor signatures verify over our sighashes.
func TestBabylonGenesisExampleDelegation(t *testing.T) {
	raw, err := os.ReadFile("testdata/babylon_genesis_example_kat.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Source       struct{ Repo, Path, Commit string } `json:"source"`
		Params       json.RawMessage                     `json:"params"`
		StakerPK     string                              `json:"staker_pk"`
		FPPK         string                              `json:"finality_provider_pk"`
		StakingTime  uint16                              `json:"staking_time"`
		Value        int64                               `json:"staking_value"`
		StakingIdx   uint32                              `json:"staking_output_index"`
		StakingTx    string                              `json:"staking_tx"`
		SlashingTx   string                              `json:"slashing_tx"`
		StakerSlSig  string                              `json:"staker_slashing_sig"`
		CovSlAdaptor string                              `json:"covenant_slashing_adaptor_sig"`
		UnbondingTx  string                              `json:"unbonding_tx"`
		CovUbSig     string                              `json:"covenant_unbonding_sig"`
		UbSlashingTx string                              `json:"unbonding_slashing_tx"`
		StakerUbSl   string                              `json:"staker_unbonding_slashing_sig"`
		CovUbSlAdapt string                              `json:"covenant_unbonding_slashing_adaptor_sig"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if v.Source.Repo == "" || v.Source.Path == "" || v.Source.Commit == "" {
		t.Fatal("vector without source")
	}
	prm, err := params.Parse(v.Params)
	if err != nil {
		t.Fatal(err)
	}
	xonly := func(t *testing.T, s string) *btcec.PublicKey {
		t.Helper()
		pk, err := schnorr.ParsePubKey(mustHex(t, s))
		if err != nil {
			t.Fatal(err)
		}
		return pk
	}
	d := psbt.Delegation{Params: prm, Staker: xonly(t, v.StakerPK), FinalityProviders: []*btcec.PublicKey{xonly(t, v.FPPK)}, StakingTime: v.StakingTime}
	covPK := prm.CovenantKeys()[0]
	ek, err := adaptor.ParseEncryptionKey(mustHex(t, v.FPPK))
	if err != nil {
		t.Fatal(err)
	}
	stakingTx := mustTx(t, v.StakingTx)
	unbondingTx := mustTx(t, v.UnbondingTx)
	verify := func(t *testing.T, what string, h []byte, pk *btcec.PublicKey, sigHex string) {
		t.Helper()
		sig, err := schnorr.ParseSignature(mustHex(t, sigHex))
		if err != nil {
			t.Fatal(err)
		}
		if !sig.Verify(h, pk) {
			t.Errorf("%s does not verify over our sighash", what)
		}
	}

	t.Run("staking_output", func(t *testing.T) {
		st, err := d.StakingOutput()
		if err != nil {
			t.Fatal(err)
		}
		if got := stakingTx.TxOut[v.StakingIdx]; !bytes.Equal(got.PkScript, st.PkScript) || got.Value != v.Value {
			t.Fatalf("staking output %x, upstream tx pays %d to %x", st.PkScript, got.Value, got.PkScript)
		}
	})
	t.Run("unbonding", func(t *testing.T) {
		res, err := psbt.BuildUnbonding(d, psbt.Funding{Tx: stakingTx, Index: v.StakingIdx})
		if err != nil {
			t.Fatal(err)
		}
		if got := txBytes(t, res.Packet.UnsignedTx); !bytes.Equal(got, mustHex(t, v.UnbondingTx)) {
			t.Fatalf("unbonding tx\n got  %x\n want %s", got, v.UnbondingTx)
		}
		h, err := psbt.TapscriptSigHash(res.Packet, 0)
		if err != nil {
			t.Fatal(err)
		}
		verify(t, "covenant unbonding signature", h, covPK, v.CovUbSig)
	})
	for _, c := range []struct {
		name      string
		from      script.OutputKind
		funding   *wire.MsgTx
		want      string
		stakerSig string
		adaptor   string
	}{
		{"slashing", script.StakingOutputKind, stakingTx, v.SlashingTx, v.StakerSlSig, v.CovSlAdaptor},
		{"unbonding_slashing", script.UnbondingOutputKind, unbondingTx, v.UbSlashingTx, v.StakerUbSl, v.CovUbSlAdapt},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := psbt.BuildSlashing(d, c.from, psbt.Funding{Tx: c.funding, Index: 0})
			if err != nil {
				t.Fatal(err)
			}
			if got := txBytes(t, res.Packet.UnsignedTx); !bytes.Equal(got, mustHex(t, c.want)) {
				t.Fatalf("slashing tx\n got  %x\n want %s", got, c.want)
			}
			h, err := psbt.TapscriptSigHash(res.Packet, 0)
			if err != nil {
				t.Fatal(err)
			}
			verify(t, "staker slashing signature", h, d.Staker, c.stakerSig)
			as, err := adaptor.Parse(mustHex(t, c.adaptor))
			if err != nil {
				t.Fatal(err)
			}
			if err := adaptor.EncVerify(covPK, ek, h, as); err != nil {
				t.Fatalf("covenant adaptor signature: %v", err)
			}
		})
	}
}

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

// TestBabylonTestnetDelegation runs the Babylon testnet delegation of
// Babylon's TestOldFormatCompat (testdata/babylon_testnet_delegation_kat.json):
// the covenant adaptor signatures on both slashing transactions, in the
// legacy 66-byte encoding, verify under the finality provider's key over our
// tapscript sighash; the unbonding tx is reproduced byte for byte and the
// covenants' unbonding signatures and the staker's slashing signatures
// verify over our sighashes; the slashing txs (round(v*0.05), fee 6000)
// equal ours but for the version (2 there, 1 in Babylon's Go builder).
func TestBabylonTestnetDelegation(t *testing.T) {
	raw, err := os.ReadFile("testdata/babylon_testnet_delegation_kat.json")
	if err != nil {
		t.Fatal(err)
	}
	type adaptorSig struct {
		CovPK string `json:"cov_pk"`
		Sig   string `json:"adaptor_sig"`
	}
	var v struct {
		Source      struct{ Repo, Path, Commit string } `json:"source"`
		Params      json.RawMessage                     `json:"params"`
		StakerPK    string                              `json:"staker_pk"`
		FPPK        string                              `json:"finality_provider_pk"`
		StakingTime uint16                              `json:"staking_time"`
		Value       int64                               `json:"staking_value"`
		StakingIdx  uint32                              `json:"staking_output_index"`
		StakingTx   string                              `json:"staking_tx"`
		SlashingTx  string                              `json:"slashing_tx"`
		StakerSlSig string                              `json:"staker_slashing_sig"`
		CovSlSigs   []adaptorSig                        `json:"covenant_slashing_adaptor_sigs"`
		UnbondingTx string                              `json:"unbonding_tx"`
		CovUbSigs   []struct {
			CovPK string `json:"cov_pk"`
			Sig   string `json:"sig"`
		} `json:"covenant_unbonding_sigs"`
		UbSlashingTx string       `json:"unbonding_slashing_tx"`
		StakerUbSl   string       `json:"staker_unbonding_slashing_sig"`
		CovUbSlSigs  []adaptorSig `json:"covenant_unbonding_slashing_adaptor_sigs"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if v.Source.Repo == "" || v.Source.Path == "" || v.Source.Commit == "" {
		t.Fatal("vector without source")
	}
	prm, err := params.Parse(v.Params)
	if err != nil {
		t.Fatalf("upstream testnet params rejected: %v", err)
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
	ek, err := adaptor.ParseEncryptionKey(mustHex(t, v.FPPK))
	if err != nil {
		t.Fatal(err)
	}
	stakingTx := mustTx(t, v.StakingTx)
	unbondingTx := mustTx(t, v.UnbondingTx)

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
		if len(v.CovUbSigs) < int(prm.CovenantQuorum()) {
			t.Fatalf("%d covenant signatures", len(v.CovUbSigs))
		}
		for _, c := range v.CovUbSigs {
			sig, err := schnorr.ParseSignature(mustHex(t, c.Sig))
			if err != nil {
				t.Fatal(err)
			}
			if !sig.Verify(h, xonly(t, c.CovPK)) {
				t.Errorf("covenant %s: unbonding signature does not verify over our sighash", c.CovPK[:8])
			}
		}
	})

	for _, c := range []struct {
		name      string
		from      script.OutputKind
		funding   *wire.MsgTx
		want      string
		stakerSig string
		covSigs   []adaptorSig
	}{
		{"slashing", script.StakingOutputKind, stakingTx, v.SlashingTx, v.StakerSlSig, v.CovSlSigs},
		{"unbonding_slashing", script.UnbondingOutputKind, unbondingTx, v.UbSlashingTx, v.StakerUbSl, v.CovUbSlSigs},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := psbt.BuildSlashing(d, c.from, psbt.Funding{Tx: c.funding, Index: 0})
			if err != nil {
				t.Fatal(err)
			}
			if res.Packet.UnsignedTx.Version != 1 {
				t.Fatalf("our slashing tx version %d", res.Packet.UnsignedTx.Version)
			}
			res.Packet.UnsignedTx.Version = 2 // as upstream's
			if got := txBytes(t, res.Packet.UnsignedTx); !bytes.Equal(got, mustHex(t, c.want)) {
				t.Fatalf("slashing tx (version 2)\n got  %x\n want %s", got, c.want)
			}
			if err := psbt.ValidateSlashingTx(mustTx(t, c.want), c.funding, 0, c.from, d); err != nil {
				t.Fatalf("ValidateSlashingTx: %v", err)
			}
			h, err := psbt.TapscriptSigHash(res.Packet, 0)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := schnorr.ParseSignature(mustHex(t, c.stakerSig))
			if err != nil {
				t.Fatal(err)
			}
			if !sig.Verify(h, d.Staker) {
				t.Error("staker's slashing signature does not verify over our sighash")
			}
			if len(c.covSigs) < int(prm.CovenantQuorum()) {
				t.Fatalf("%d adaptor signatures", len(c.covSigs))
			}
			for _, a := range c.covSigs {
				t.Run("covenant_"+a.CovPK[:8], func(t *testing.T) {
					b := mustHex(t, a.Sig)
					if len(b) != adaptor.LegacySize {
						t.Fatalf("%d-byte adaptor signature", len(b))
					}
					as, err := adaptor.Parse(b)
					if err != nil {
						t.Fatal(err)
					}
					if err := adaptor.EncVerify(xonly(t, a.CovPK), ek, h, as); err != nil {
						t.Fatalf("legacy adaptor signature: %v", err)
					}
					// The same signature in the 65-byte encoding.
					enc := as.Bytes()
					as2, err := adaptor.Parse(enc[:])
					if err != nil {
						t.Fatal(err)
					}
					if err := adaptor.EncVerify(xonly(t, a.CovPK), ek, h, as2); err != nil {
						t.Fatalf("re-encoded adaptor signature: %v", err)
					}
				})
			}
		})
	}
}

package psbt_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	gopsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

type tsDelegation struct {
	Name          string `json:"name"`
	StakerPK      string `json:"staker_pk"`
	StakingTx     string `json:"staking_tx"`
	UnbondingTx   string `json:"unbonding_tx"`
	SlashingTx    string `json:"slashing_tx"`
	UbSlashingTx  string `json:"unbonding_slashing_tx"`
	SlashingPsbt  string `json:"slashing_psbt"`
	UbSlashPsbt   string `json:"unbonding_slashing_psbt"`
	StakerSlashSg string `json:"staker_slashing_sig"`
	StakerUbSlSg  string `json:"staker_unbonding_slashing_sig"`
}

type tsRegistrationKAT struct {
	Source       struct{ Repo, Path, Commit string } `json:"source"`
	Params       json.RawMessage                     `json:"params"`
	FPPK         string                              `json:"finality_provider_pk"`
	StakingTime  uint16                              `json:"staking_time"`
	Value        int64                               `json:"staking_value"`
	UnbondingVal int64                               `json:"unbonding_value"`
	Delegations  []tsDelegation                      `json:"delegations"`
}

func mustTx(t *testing.T, s string) *wire.MsgTx {
	t.Helper()
	var tx wire.MsgTx
	if err := tx.Deserialize(bytes.NewReader(mustHex(t, s))); err != nil {
		t.Fatal(err)
	}
	return &tx
}

func txBytes(t *testing.T, tx *wire.MsgTx) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := tx.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBtcStakingTSRegistration runs the delegations of btc-staking-ts's
// registration mocks under Babylon's mainnet parameters (see the JSON's
// source) through this package: the staking output, the unbonding
// transaction, both slashing transactions (amounts round(value * 0.001), fee
// 100000, OP_RETURN slashing script) and the tapscript sighashes the stakers
// signed.
func TestBtcStakingTSRegistration(t *testing.T) {
	raw, err := os.ReadFile("testdata/btc_staking_ts_registration_kat.json")
	if err != nil {
		t.Fatal(err)
	}
	var v tsRegistrationKAT
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if v.Source.Repo == "" || v.Source.Path == "" || v.Source.Commit == "" || len(v.Delegations) == 0 {
		t.Fatal("missing source or vectors")
	}
	prm, err := params.Parse(v.Params)
	if err != nil {
		t.Fatalf("upstream mainnet params rejected: %v", err)
	}
	fp, err := schnorr.ParsePubKey(mustHex(t, v.FPPK))
	if err != nil {
		t.Fatal(err)
	}
	for _, dv := range v.Delegations {
		t.Run(dv.Name, func(t *testing.T) {
			staker, err := schnorr.ParsePubKey(mustHex(t, dv.StakerPK))
			if err != nil {
				t.Fatal(err)
			}
			d := psbt.Delegation{Params: prm, Staker: staker, FinalityProviders: []*btcec.PublicKey{fp}, StakingTime: v.StakingTime}
			checkTSDelegation(t, &v, &dv, d)
		})
	}
}

func checkTSDelegation(t *testing.T, v *tsRegistrationKAT, dv *tsDelegation, d psbt.Delegation) {
	stakingTx := mustTx(t, dv.StakingTx)
	tsUnbonding := mustTx(t, dv.UnbondingTx)

	t.Run("staking_output", func(t *testing.T) {
		out, err := d.StakingOutput()
		if err != nil {
			t.Fatal(err)
		}
		got := stakingTx.TxOut[0]
		if !bytes.Equal(out.PkScript, got.PkScript) || got.Value != v.Value {
			t.Fatalf("staking output %x, upstream tx pays %d to %x", out.PkScript, got.Value, got.PkScript)
		}
		if _, err := psbt.ValidateStakingTx(stakingTx, d); err != nil {
			t.Fatalf("ValidateStakingTx: %v", err)
		}
	})

	t.Run("unbonding_tx", func(t *testing.T) {
		res, err := psbt.BuildUnbonding(d, psbt.Funding{Tx: stakingTx, Index: 0})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := txBytes(t, res.Packet.UnsignedTx), mustHex(t, dv.UnbondingTx); !bytes.Equal(got, want) {
			t.Fatalf("unbonding tx\n got  %x\n want %x", got, want)
		}
		if tsUnbonding.TxOut[0].Value != v.UnbondingVal {
			t.Fatalf("upstream unbonding value %d", tsUnbonding.TxOut[0].Value)
		}
		if err := psbt.ValidateUnbondingTx(tsUnbonding, stakingTx, d); err != nil {
			t.Fatalf("ValidateUnbondingTx: %v", err)
		}
	})

	for _, c := range []struct {
		name    string
		from    script.OutputKind
		funding *wire.MsgTx
		want    string
		psbtHex string
		sig     string
	}{
		{"slashing_tx", script.StakingOutputKind, stakingTx, dv.SlashingTx, dv.SlashingPsbt, dv.StakerSlashSg},
		{"unbonding_slashing_tx", script.UnbondingOutputKind, tsUnbonding, dv.UbSlashingTx, dv.UbSlashPsbt, dv.StakerUbSlSg},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := mustTx(t, c.want)
			res, err := psbt.BuildSlashing(d, c.from, psbt.Funding{Tx: c.funding, Index: 0})
			if err != nil {
				t.Fatal(err)
			}
			got := res.Packet.UnsignedTx.Copy()
			// Babylon's Go reference builds slashing txs as version 1,
			// btc-staking-ts as version 2 (docs/spec.md §4); every
			// other byte must match.
			if got.Version != 1 || want.Version != 2 {
				t.Fatalf("versions: ours %d, btc-staking-ts %d", got.Version, want.Version)
			}
			got.Version = 2
			if g, w := txBytes(t, got), mustHex(t, c.want); !bytes.Equal(g, w) {
				t.Fatalf("slashing tx (version aside)\n got  %x\n want %x", g, w)
			}
			if err := psbt.ValidateSlashingTx(want, c.funding, 0, c.from, d); err != nil {
				t.Fatalf("ValidateSlashingTx rejects btc-staking-ts's tx: %v", err)
			}

			// The staker signed btc-staking-ts's PSBT; our sighash of that
			// PSBT, and of ours made version 2, must be what it covers.
			p, err := psbt.Decode(mustHex(t, c.psbtHex))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(txBytes(t, p.UnsignedTx), mustHex(t, c.want)) {
				t.Fatal("PSBT and transaction vectors disagree")
			}
			sig, err := schnorr.ParseSignature(mustHex(t, c.sig))
			if err != nil {
				t.Fatal(err)
			}
			h, err := psbt.TapscriptSigHash(p, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !sig.Verify(h, d.Staker) {
				t.Fatal("staker's signature does not verify over our tapscript sighash of upstream's PSBT")
			}
			res.Packet.UnsignedTx.Version = 2
			if h, err = psbt.TapscriptSigHash(res.Packet, 0); err != nil {
				t.Fatal(err)
			}
			if !sig.Verify(h, d.Staker) {
				t.Fatal("staker's signature does not verify over the sighash of our PSBT (version 2)")
			}
			// The leaf and control block upstream put in the PSBT are our
			// slashing path's.
			from, err := d.Output(c.from)
			if err != nil {
				t.Fatal(err)
			}
			path, err := from.Path(script.SlashingPath)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(p.Inputs[0].TaprootLeafScript); n != 1 {
				t.Fatalf("%d leaf scripts in upstream PSBT", n)
			}
			ls := p.Inputs[0].TaprootLeafScript[0]
			if !bytes.Equal(ls.Script, path.Script) || !bytes.Equal(ls.ControlBlock, path.ControlBlock) {
				t.Fatalf("upstream leaf %x / control block %x differ from ours %x / %x", ls.Script, ls.ControlBlock, path.Script, path.ControlBlock)
			}
		})
	}
}

// TestBtcStakingTSUnbonding runs the signet delegation of btc-staking-ts's
// unbonding mock (testdata/btc_staking_ts_unbonding_kat.json): BuildUnbonding
// reproduces the unsigned unbonding tx of upstream's PSBT byte for byte, the
// PSBT's leaf and control block are our unbonding path's, and the covenant
// members' signatures on that tx verify over our tapscript sighash.
func TestBtcStakingTSUnbonding(t *testing.T) {
	raw, err := os.ReadFile("testdata/btc_staking_ts_unbonding_kat.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Source      struct{ Repo, Path, Commit string } `json:"source"`
		Params      json.RawMessage                     `json:"params"`
		StakerPK    string                              `json:"staker_pk"`
		FPPK        string                              `json:"finality_provider_pk"`
		StakingTime uint16                              `json:"staking_time"`
		Value       int64                               `json:"staking_value"`
		StakingTx   string                              `json:"staking_tx"`
		StakingIdx  uint32                              `json:"staking_output_index"`
		Psbt        string                              `json:"unbonding_psbt"`
		UnbondingTx string                              `json:"unbonding_tx"`
		CovSigs     []struct{ PK, Sig string }          `json:"covenant_unbonding_sigs"`
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
	staker, err := schnorr.ParsePubKey(mustHex(t, v.StakerPK))
	if err != nil {
		t.Fatal(err)
	}
	fp, err := schnorr.ParsePubKey(mustHex(t, v.FPPK))
	if err != nil {
		t.Fatal(err)
	}
	d := psbt.Delegation{Params: prm, Staker: staker, FinalityProviders: []*btcec.PublicKey{fp}, StakingTime: v.StakingTime}
	stakingTx := mustTx(t, v.StakingTx)
	st, err := d.StakingOutput()
	if err != nil {
		t.Fatal(err)
	}
	if got := stakingTx.TxOut[v.StakingIdx]; !bytes.Equal(got.PkScript, st.PkScript) || got.Value != v.Value {
		t.Fatalf("staking output %x, upstream tx pays %d to %x", st.PkScript, got.Value, got.PkScript)
	}
	res, err := psbt.BuildUnbonding(d, psbt.Funding{Tx: stakingTx, Index: v.StakingIdx})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := txBytes(t, res.Packet.UnsignedTx), mustHex(t, v.UnbondingTx); !bytes.Equal(got, want) {
		t.Fatalf("unbonding tx\n got  %x\n want %x", got, want)
	}
	up, err := psbt.Decode(mustHex(t, v.Psbt))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(txBytes(t, up.UnsignedTx), mustHex(t, v.UnbondingTx)) {
		t.Fatal("PSBT and transaction vectors disagree")
	}
	path, err := st.Path(script.UnbondingPath)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(up.Inputs[0].TaprootLeafScript); n != 1 {
		t.Fatalf("%d leaf scripts in upstream PSBT", n)
	}
	ls := up.Inputs[0].TaprootLeafScript[0]
	if !bytes.Equal(ls.Script, path.Script) || !bytes.Equal(ls.ControlBlock, path.ControlBlock) {
		t.Fatalf("upstream leaf %x / control block %x differ from ours %x / %x", ls.Script, ls.ControlBlock, path.Script, path.ControlBlock)
	}
	for _, h := range []struct {
		name string
		p    *gopsbt.Packet
	}{{"our_psbt", res.Packet}, {"upstream_psbt", up}} {
		hash, err := psbt.TapscriptSigHash(h.p, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range v.CovSigs {
			t.Run(h.name+"/covenant_"+c.PK[:8], func(t *testing.T) {
				pk, err := schnorr.ParsePubKey(mustHex(t, c.PK))
				if err != nil {
					t.Fatal(err)
				}
				sig, err := schnorr.ParseSignature(mustHex(t, c.Sig))
				if err != nil {
					t.Fatal(err)
				}
				if !sig.Verify(hash, pk) {
					t.Fatal("covenant signature does not verify over our tapscript sighash")
				}
			})
		}
	}
}

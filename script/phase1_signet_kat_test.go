package script_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/btcstake/btcstake/script"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/wire/v2"
)

type katSource struct {
	Repo   string `json:"repo"`
	Path   string `json:"path"`
	Commit string `json:"commit"`
	Note   string `json:"note"`
}

// TestPhase1SignetTransactions parses phase-1 staking transactions that
// Babylon published for its bbn-test-4 signet testnet (see the comment and
// the per-vector source in testdata/phase1_signet_kat.json): each must be
// recognised as a staking transaction for the published parameters, with
// the staking output, OP_RETURN, value, keys and staking time upstream
// states.
func TestPhase1SignetTransactions(t *testing.T) {
	runPhase1File(t, "testdata/phase1_signet_kat.json")
}

// TestPhase1MainnetTransactions does the same for two Bitcoin mainnet
// phase-1 staking transactions under Babylon's official bbn-1 phase-1
// parameters (testdata/phase1_mainnet_kat.json).
func TestPhase1MainnetTransactions(t *testing.T) {
	runPhase1File(t, "testdata/phase1_mainnet_kat.json")
}

func runPhase1File(t *testing.T, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Params struct {
			CovenantPks    []string `json:"covenant_pks"`
			CovenantQuorum uint32   `json:"covenant_quorum"`
			Tag            string   `json:"tag"`
		} `json:"params"`
		Vectors []struct {
			Name          string    `json:"name"`
			Source        katSource `json:"source"`
			TxHex         string    `json:"tx_hex"`
			NoInputs      bool      `json:"no_inputs"`
			TxHash        string    `json:"tx_hash"`
			StakingIndex  int       `json:"staking_output_index"`
			OpReturnIndex int       `json:"op_return_index"`
			StakingValue  int64     `json:"staking_value"`
			Staker        string    `json:"staker"`
			FP            string    `json:"finality_provider"`
			StakingTime   uint16    `json:"staking_time"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	covenant := make([]*btcec.PublicKey, len(f.Params.CovenantPks))
	for i, s := range f.Params.CovenantPks {
		b := katHex(t, s)
		var pk *btcec.PublicKey
		if len(b) == 32 {
			pk, err = schnorr.ParsePubKey(b)
		} else {
			pk, err = btcec.ParsePubKey(b)
		}
		if err != nil {
			t.Fatal(err)
		}
		covenant[i] = pk
	}
	tag := katHex(t, f.Params.Tag)
	parser, err := script.NewStakingTxParser(script.ParserConfig{
		Tag: tag, Covenant: covenant, CovenantQuorum: f.Params.CovenantQuorum,
	})
	if err != nil {
		t.Fatal(err)
	}
	var tagArr [script.TagLen]byte
	copy(tagArr[:], tag)
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			if v.Source.Repo == "" || v.Source.Path == "" || v.Source.Commit == "" {
				t.Fatal("vector without source")
			}
			var tx wire.MsgTx
			r := bytes.NewReader(katHex(t, v.TxHex))
			if v.NoInputs {
				err = tx.DeserializeNoWitness(r)
			} else {
				err = tx.Deserialize(r)
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.TxHash != "" {
				if got := tx.TxHash().String(); got != v.TxHash {
					t.Fatalf("tx hash %s, upstream %s (transcription error?)", got, v.TxHash)
				}
			}
			if !parser.IsPossible(&tx) || !script.IsPossibleV0StakingTx(&tx, tagArr) {
				t.Fatal("prefilter rejects an upstream staking tx")
			}
			got, err := parser.Parse(&tx)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got.StakingOutputIndex != v.StakingIndex || got.OpReturnIndex != v.OpReturnIndex {
				t.Errorf("indices %d/%d, want %d/%d", got.StakingOutputIndex, got.OpReturnIndex, v.StakingIndex, v.OpReturnIndex)
			}
			if got.Value != v.StakingValue || got.Data.StakingTime != v.StakingTime || got.Data.Tag != tagArr {
				t.Errorf("parsed %+v", got.Data)
			}
			if hex.EncodeToString(got.Data.Staker[:]) != v.Staker {
				t.Errorf("staker %s, want %s", got.Data.Staker, v.Staker)
			}
			if hex.EncodeToString(got.Data.FinalityProvider[:]) != v.FP {
				t.Errorf("fp %s, want %s", got.Data.FinalityProvider, v.FP)
			}
			if !bytes.Equal(got.Output.PkScript, tx.TxOut[v.StakingIndex].PkScript) {
				t.Errorf("rebuilt staking pkScript %x, on-chain %x", got.Output.PkScript, tx.TxOut[v.StakingIndex].PkScript)
			}
		})
	}
}

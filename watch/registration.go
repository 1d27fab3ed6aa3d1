package watch

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/babylon"
	"github.com/btcstake/btcstake/internal/strictjson"
	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// FromRegistration makes the entry of a delegation registered with
// Babylon by msg (babylon.MsgCreateBTCDelegation): its staking
// transaction, staker and finality provider keys, staking time and
// unbonding transaction, and its two slashing transactions as PSBTs
// carrying the staker's slashing signatures from the message
// (delegator_slashing_sig, delegator_unbonding_slashing_sig), each
// checked against its transaction. A registration carries no covenant
// adaptor signatures (Babylon's covenant adds them after), so the entry
// cannot complete a slashing until they are combined in.
//
// The message does not say its params version: FromRegistration takes
// the newest version under which it holds together (the rule in
// ingest.go), and which also has the message's unbonding time; the
// message's staking and unbonding values must be its transactions'.
// ParseRegistration uses the version number a `btcstake register --json`
// file records.
func FromRegistration(msg *babylon.MsgCreateBTCDelegation, versions *params.Versions) (*Entry, error) {
	return fromRegistration(msg, versions, versionChoice{})
}

func fromRegistration(msg *babylon.MsgCreateBTCDelegation, versions *params.Versions, choice versionChoice) (*Entry, error) {
	if msg == nil {
		return nil, fmt.Errorf("%w: no registration message", ErrInvalidEntry)
	}
	bad := func(field string, err error) error {
		return fmt.Errorf("%w: registration %s: %v", ErrInvalidEntry, field, err)
	}
	c := EntryConfig{Source: SourceRegistration}
	var err error
	txs := make([]*wire.MsgTx, 4)
	for i, f := range []struct {
		name string
		b    []byte
	}{{"staking_tx", msg.StakingTx}, {"unbonding_tx", msg.UnbondingTx}, {"slashing_tx", msg.SlashingTx}, {"unbonding_slashing_tx", msg.UnbondingSlashingTx}} {
		if len(f.b) == 0 {
			return nil, bad(f.name, fmt.Errorf("missing"))
		}
		if txs[i], err = parseTxBytes(f.b); err != nil {
			return nil, bad(f.name, err)
		}
	}
	c.StakingTx, c.UnbondingTx = txs[0], txs[1]
	slashingTx, unbondingSlashingTx := txs[2], txs[3]
	if c.Staker, err = xonlyKey(msg.BtcPk); err != nil {
		return nil, bad("btc_pk", err)
	}
	if len(msg.FpBtcPkList) == 0 {
		return nil, bad("fp_btc_pk_list", fmt.Errorf("empty"))
	}
	for i, b := range msg.FpBtcPkList {
		k, err := xonlyKey(b)
		if err != nil {
			return nil, bad(fmt.Sprintf("fp_btc_pk_list[%d]", i), err)
		}
		c.FPs = append(c.FPs, k)
	}
	if c.StakingTime, err = script.CheckTimelock("staking_time", int64(msg.StakingTime)); err != nil {
		return nil, bad("staking_time", err)
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{"delegator_slashing_sig", msg.DelegatorSlashingSig}, {"delegator_unbonding_slashing_sig", msg.DelegatorUnbondingSlashingSig}} {
		if len(f.b) != 64 {
			return nil, bad(f.name, fmt.Errorf("%d bytes, a BIP-340 signature has 64", len(f.b)))
		}
	}
	// Under a candidate version: the unbonding transaction first (the
	// slashing of its output is built on it), then each slashing
	// transaction as a PSBT with the staker's signature.
	finish := func(c *EntryConfig) error {
		d := psbt.Delegation{Params: c.Params, Staker: c.Staker, FinalityProviders: c.FPs, StakingTime: c.StakingTime}
		if uint32(c.Params.UnbondingTime()) != msg.UnbondingTime {
			return fmt.Errorf("%w: registration unbonding_time %d, the params' is %d", ErrInvalidEntry, msg.UnbondingTime, c.Params.UnbondingTime())
		}
		idx, err := psbt.ValidateStakingTx(c.StakingTx, d)
		if err != nil {
			return fmt.Errorf("%w: staking_tx: %w", ErrInvalidEntry, err)
		}
		if err := psbt.ValidateUnbondingTx(c.UnbondingTx, c.StakingTx, d); err != nil {
			return fmt.Errorf("%w: unbonding_tx: %w", ErrInvalidEntry, err)
		}
		if c.Slashing, err = presignedPacket(d, script.StakingOutputKind, psbt.Funding{Tx: c.StakingTx, Index: idx}, slashingTx, msg.DelegatorSlashingSig); err != nil {
			return fmt.Errorf("%w: slashing_tx: %w", ErrInvalidEntry, err)
		}
		if c.UnbondingSlashing, err = presignedPacket(d, script.UnbondingOutputKind, psbt.Funding{Tx: c.UnbondingTx, Index: 0}, unbondingSlashingTx, msg.DelegatorUnbondingSlashingSig); err != nil {
			return fmt.Errorf("%w: unbonding_slashing_tx: %w", ErrInvalidEntry, err)
		}
		return nil
	}
	check := func(e *Entry) error {
		if e.Value() != msg.StakingValue {
			return fmt.Errorf("%w: registration staking_value %d, the staking output holds %d", ErrInvalidEntry, msg.StakingValue, e.Value())
		}
		if v := e.unbondingTx.TxOut[0].Value; v != msg.UnbondingValue {
			return fmt.Errorf("%w: registration unbonding_value %d, the unbonding output holds %d", ErrInvalidEntry, msg.UnbondingValue, v)
		}
		return nil
	}
	return buildUnder(versions, choice, c, finish, check)
}

func xonlyKey(b []byte) (*btcec.PublicKey, error) {
	x, err := script.ParseXOnlyKey(b)
	if err != nil {
		return nil, err
	}
	return x.PubKey()
}

// presignedPacket turns a slashing transaction and the staker's signature
// of it (as a registration carries them) into the slashing PSBT an entry
// keeps:
//
//  1. tx must be a valid slashing transaction of the output (the
//     staking output, or the unbonding transaction's; ValidateSlashingTx);
//  2. the PSBT is psbt.BuildSlashing's for that output (witness_utxo, the
//     slashing leaf and control block, the change output's fields) with
//     tx as its unsigned transaction (tx may differ from what the builder
//     makes in its version or output split, within the rules), without
//     scriptSigs or witnesses;
//  3. the signature is added as the staker's tap_script_sig after it is
//     checked against the PSBT's sighash (psbt.AddTapscriptSig).
func presignedPacket(d psbt.Delegation, from script.OutputKind, f psbt.Funding, tx *wire.MsgTx, stakerSig []byte) (*btcpsbt.Packet, error) {
	if err := psbt.ValidateSlashingTx(tx, f.Tx, f.Index, from, d); err != nil {
		return nil, err
	}
	res, err := psbt.BuildSlashing(d, from, f)
	if err != nil {
		return nil, err
	}
	p := res.Packet
	if len(p.Outputs) != len(tx.TxOut) || len(p.Inputs) != len(tx.TxIn) {
		return nil, fmt.Errorf("%w: the slashing transaction has %d inputs and %d outputs", psbt.ErrInvalidTx, len(tx.TxIn), len(tx.TxOut))
	}
	u := tx.Copy()
	for _, in := range u.TxIn {
		in.SignatureScript, in.Witness = nil, nil
	}
	p.UnsignedTx = u
	if err := psbt.AddTapscriptSig(p, 0, script.XOnly(d.Staker), stakerSig); err != nil {
		return nil, fmt.Errorf("the staker's signature: %w", err)
	}
	return p, nil
}

// registerOutputJSON is what `btcstake register --json` prints.
type registerOutputJSON struct {
	Msg           json.RawMessage `json:"msg"`
	MsgHex        string          `json:"msg_hex"`
	BabylondArgs  []string        `json:"babylond_args"`
	StakingTxid   string          `json:"staking_txid"`
	ParamsVersion *uint32         `json:"params_version"`
	OutFile       string          `json:"out_file"`
}

// ParseRegistration reads a registration in any form `btcstake register`
// writes or prints, and makes its entry (FromRegistration):
//
//   - the JSON `btcstake register --json` prints (msg_hex, the message;
//     params_version, when present, picks the version; staking_txid, when
//     present, must be the message's);
//   - the message's own JSON (MsgCreateBTCDelegation.MarshalJSON: its
//     "encoded" field is decoded, and must agree with the others);
//   - the protobuf encoding in hex (the --out file), in base64, or raw.
//
// Unknown keys, keys given twice and data after the JSON are refused
// (ErrInvalidFile), as is anything that is none of these forms.
func ParseRegistration(b []byte, versions *params.Versions) (*Entry, error) {
	return parseRegistration(b, versions, versionChoice{})
}

// LoadRegistration reads the registration file at path (a regular file
// of at most MaxInputFileSize bytes) as ParseRegistration does.
func LoadRegistration(path string, versions *params.Versions) (*Entry, error) {
	return loadRegistration(path, versions, versionChoice{})
}

func loadRegistration(path string, versions *params.Versions, choice versionChoice) (*Entry, error) {
	b, err := readFileBounded(path, MaxInputFileSize, true)
	if err != nil {
		return nil, err
	}
	e, err := parseRegistration(b, versions, choice)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}

func parseRegistration(b []byte, versions *params.Versions, choice versionChoice) (*Entry, error) {
	if len(b) > MaxInputFileSize {
		return nil, fmt.Errorf("%w: registration of %d bytes, at most %d", ErrInvalidFile, len(b), MaxInputFileSize)
	}
	raw, stated, txid, err := decodeRegistration(b)
	if err != nil {
		return nil, err
	}
	msg, err := babylon.UnmarshalMsgCreateBTCDelegation(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidFile, err)
	}
	if stated != nil {
		if choice.number != nil && *choice.number != *stated {
			return nil, fmt.Errorf("%w: the registration says params version %d, the watch list %d", ErrInvalidWatchList, *stated, *choice.number)
		}
		if choice.height == nil {
			choice.number = stated
		}
	}
	e, err := fromRegistration(msg, versions, choice)
	if err != nil {
		return nil, err
	}
	if txid != "" && txid != e.StakingOutPoint().Hash.String() {
		return nil, fmt.Errorf("%w: staking_txid %s is not the message's staking transaction %s", ErrInvalidFile, txid, e.StakingOutPoint().Hash)
	}
	return e, nil
}

// decodeRegistration finds the protobuf message in b, and the params
// version and staking txid the JSON states.
func decodeRegistration(b []byte) (raw []byte, version *uint32, txid string, err error) {
	text := bytes.TrimSpace(b)
	if bytes.HasPrefix(text, []byte("{")) {
		if err := strictjson.Check(text); err != nil {
			return nil, nil, "", fmt.Errorf("%w: registration JSON: %v", ErrInvalidFile, err)
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(text, &keys); err != nil {
			return nil, nil, "", fmt.Errorf("%w: registration JSON: %v", ErrInvalidFile, err)
		}
		strict := func(v any) error {
			dec := json.NewDecoder(bytes.NewReader(text))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				return fmt.Errorf("%w: registration JSON: %v", ErrInvalidFile, err)
			}
			return nil
		}
		if _, ok := keys["msg_hex"]; ok {
			var j registerOutputJSON
			if err := strict(&j); err != nil {
				return nil, nil, "", err
			}
			if raw, err = hex.DecodeString(j.MsgHex); err != nil {
				return nil, nil, "", fmt.Errorf("%w: msg_hex: not hex", ErrInvalidFile)
			}
			if len(j.Msg) > 0 && !bytes.Equal(j.Msg, []byte("null")) {
				inner, _, _, err := decodeRegistration(j.Msg)
				if err != nil {
					return nil, nil, "", fmt.Errorf("msg: %w", err)
				}
				if !bytes.Equal(inner, raw) {
					return nil, nil, "", fmt.Errorf("%w: msg and msg_hex are different messages", ErrInvalidFile)
				}
			}
			return raw, j.ParamsVersion, j.StakingTxid, nil
		}
		if _, ok := keys["encoded"]; !ok {
			return nil, nil, "", fmt.Errorf("%w: registration JSON with neither msg_hex nor encoded", ErrInvalidFile)
		}
		// The message's own JSON: babylon decodes "encoded" and checks that
		// the other fields are its rendering.
		m, err := babylon.UnmarshalMsgCreateBTCDelegationJSON(text)
		if err != nil {
			return nil, nil, "", fmt.Errorf("%w: registration JSON: %w", ErrInvalidFile, err)
		}
		return m.Marshal(), nil, "", nil
	}
	s := string(text)
	if isHex(s) {
		raw, _ = hex.DecodeString(s)
		return raw, nil, "", nil
	}
	if dec, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), "")); err == nil && len(s) > 0 {
		return dec, nil, "", nil
	}
	if len(b) > 0 && b[0] == 0x0a { // field 1 (staker_addr), a length-delimited string: a raw protobuf
		return b, nil, "", nil
	}
	return nil, nil, "", fmt.Errorf("%w: not a registration (JSON, hex, base64 or protobuf)", ErrInvalidFile)
}

func isHex(s string) bool {
	if len(s) == 0 || len(s)%2 != 0 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

package babylon

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/btcstake/btcstake/internal/strictjson"
)

// Sizes Babylon's custom types require.
const (
	// XOnlyKeySize is a BIP-340 public key (BIP340PubKey).
	XOnlyKeySize = 32
	// SchnorrSigSize is a BIP-340 signature (BIP340Signature).
	SchnorrSigSize = 64
)

// MsgCreateBTCDelegation is babylon.btcstaking.v1.MsgCreateBTCDelegation
// (tx.proto, fields 1 to 15). Transactions are in Bitcoin's serialization;
// keys are 32-byte x-only keys and signatures 64-byte BIP-340 signatures.
// The builder (PrepareRegistration) makes one that Babylon accepts; this
// type is the plain wire value, for decoding and inspection.
type MsgCreateBTCDelegation struct {
	StakerAddr                    string          // 1, string (bech32 bbn1...)
	Pop                           []byte          // 2, ProofOfPossessionBTC, as encoded
	BtcPk                         []byte          // 3, bytes (32)
	FpBtcPkList                   [][]byte        // 4, repeated bytes (32 each)
	StakingTime                   uint32          // 5, uint32
	StakingValue                  int64           // 6, int64
	StakingTx                     []byte          // 7, bytes
	StakingTxInclusionProof       *InclusionProof // 8, InclusionProof; nil before staking
	SlashingTx                    []byte          // 9, bytes
	DelegatorSlashingSig          []byte          // 10, bytes (64)
	UnbondingTime                 uint32          // 11, uint32
	UnbondingTx                   []byte          // 12, bytes
	UnbondingValue                int64           // 13, int64
	UnbondingSlashingTx           []byte          // 14, bytes
	DelegatorUnbondingSlashingSig []byte          // 15, bytes (64)
}

// body is the part MsgCreateBTCDelegation shares with MsgBtcStakeExpand.
func (m *MsgCreateBTCDelegation) body() delegationBody {
	return delegationBody{&m.StakerAddr, &m.Pop, &m.BtcPk, &m.FpBtcPkList, &m.StakingTime, &m.StakingValue,
		&m.StakingTx, &m.SlashingTx, &m.DelegatorSlashingSig, &m.UnbondingTime, &m.UnbondingTx, &m.UnbondingValue,
		&m.UnbondingSlashingTx, &m.DelegatorUnbondingSlashingSig, fCreateSlashingTx}
}

// Marshal returns the protobuf encoding of the message.
func (m *MsgCreateBTCDelegation) Marshal() []byte {
	out := m.body().appendHead(nil)
	if m.StakingTxInclusionProof != nil {
		out = protowire.AppendTag(out, fCreateInclusionProof, protowire.BytesType)
		out = protowire.AppendBytes(out, m.StakingTxInclusionProof.Marshal())
	}
	return m.body().appendTail(out)
}

// UnmarshalMsgCreateBTCDelegation decodes a MsgCreateBTCDelegation. It
// checks the encoding and the sizes of keys, signatures and proofs, not
// the transactions (PrepareRegistration's checks are Babylon's).
func UnmarshalMsgCreateBTCDelegation(b []byte) (*MsgCreateBTCDelegation, error) {
	const what = "MsgCreateBTCDelegation"
	m := &MsgCreateBTCDelegation{}
	body := m.body()
	fs, err := parseFields(what, b, body.specs(map[protowire.Number]fieldSpec{
		fCreateInclusionProof: {typ: protowire.BytesType},
	}))
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		ok, err := body.decode(what, f)
		if !ok && f.num == fCreateInclusionProof {
			m.StakingTxInclusionProof, err = UnmarshalInclusionProof(f.b)
		}
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

// hexList joins hex encodings with commas, as babylond's list arguments.
func hexList(list [][]byte) string {
	s := make([]string, len(list))
	for i, b := range list {
		s[i] = hex.EncodeToString(b)
	}
	return strings.Join(s, ",")
}

// BabylondArgs returns the 14 positional arguments of
//
//	babylond tx btcstaking create-btc-delegation [btc_pk] [pop_hex] [staking_tx]
//	  [inclusion_proof] [fp_pk] [staking_time] [staking_value] [slashing_tx]
//	  [delegator_slashing_sig] [unbonding_tx] [unbonding_slashing_tx]
//	  [unbonding_time] [unbonding_value] [delegator_unbonding_slashing_sig]
//
// in that order (babylon x/btcstaking/client/cli/tx.go,
// NewCreateBTCDelegationCmd and parseArgsIntoMsgCreateBTCDelegation): keys,
// the proof of possession, transactions, the inclusion proof and signatures
// in hex; the inclusion proof "" when there is none (pre-staking); the
// finality provider keys comma-separated; the two times and two values in
// decimal, which is how babylond parses them (sdkmath.NewIntFromString in
// cli/utils.go). babylond takes the staker address from --from, not from
// an argument.
func (m *MsgCreateBTCDelegation) BabylondArgs() []string {
	proof := ""
	if m.StakingTxInclusionProof != nil {
		proof = hex.EncodeToString(m.StakingTxInclusionProof.Marshal())
	}
	return m.body().babylondArgs(proof)
}

// proofJSON is an inclusion proof in JSON: the key's block hash both as
// encoded (internal byte order) and as nodes show it.
type proofJSON struct {
	Index     uint32 `json:"index"`
	Hash      string `json:"hash"`
	BlockHash string `json:"block_hash"`
	Proof     string `json:"proof"`
	Encoded   string `json:"encoded"`
}

func (p *InclusionProof) toJSON() *proofJSON {
	if p == nil {
		return nil
	}
	return &proofJSON{Index: p.Key.Index, Hash: hex.EncodeToString(p.Key.Block[:]), BlockHash: p.Key.Block.String(),
		Proof: hex.EncodeToString(p.Proof), Encoded: hex.EncodeToString(p.Marshal())}
}

// MarshalJSON renders the proof: {"index", "hash" (hex of the encoded
// bytes, internal order), "block_hash" (as nodes show it), "proof" (hex),
// "encoded" (hex of Marshal)}.
func (p *InclusionProof) MarshalJSON() ([]byte, error) { return json.Marshal(p.toJSON()) }

// msgCreateJSON is MarshalJSON's rendering of MsgCreateBTCDelegation.
type msgCreateJSON struct {
	StakerAddr                    string     `json:"staker_addr"`
	Pop                           string     `json:"pop"`
	BtcPk                         string     `json:"btc_pk"`
	FpBtcPkList                   []string   `json:"fp_btc_pk_list"`
	StakingTime                   uint32     `json:"staking_time"`
	StakingValue                  int64      `json:"staking_value"`
	StakingTx                     string     `json:"staking_tx"`
	StakingTxInclusionProof       *proofJSON `json:"staking_tx_inclusion_proof"`
	SlashingTx                    string     `json:"slashing_tx"`
	DelegatorSlashingSig          string     `json:"delegator_slashing_sig"`
	UnbondingTime                 uint32     `json:"unbonding_time"`
	UnbondingTx                   string     `json:"unbonding_tx"`
	UnbondingValue                int64      `json:"unbonding_value"`
	UnbondingSlashingTx           string     `json:"unbonding_slashing_tx"`
	DelegatorUnbondingSlashingSig string     `json:"delegator_unbonding_slashing_sig"`
	Encoded                       string     `json:"encoded"`
}

func (m *MsgCreateBTCDelegation) toJSON() *msgCreateJSON {
	fps := make([]string, len(m.FpBtcPkList))
	for i, k := range m.FpBtcPkList {
		fps[i] = hex.EncodeToString(k)
	}
	return &msgCreateJSON{m.StakerAddr, hex.EncodeToString(m.Pop), hex.EncodeToString(m.BtcPk), fps, m.StakingTime, m.StakingValue,
		hex.EncodeToString(m.StakingTx), m.StakingTxInclusionProof.toJSON(), hex.EncodeToString(m.SlashingTx),
		hex.EncodeToString(m.DelegatorSlashingSig), m.UnbondingTime, hex.EncodeToString(m.UnbondingTx), m.UnbondingValue,
		hex.EncodeToString(m.UnbondingSlashingTx), hex.EncodeToString(m.DelegatorUnbondingSlashingSig),
		hex.EncodeToString(m.Marshal())}
}

// MarshalJSON renders the message with the proto pbField names, bytes in
// hex, and "encoded": the hex of Marshal.
func (m *MsgCreateBTCDelegation) MarshalJSON() ([]byte, error) { return json.Marshal(m.toJSON()) }

// UnmarshalMsgCreateBTCDelegationJSON reads the message back from its
// MarshalJSON rendering:
//
//  1. b must be one JSON object with no key given twice, no key
//     MarshalJSON does not write, and nothing after it (strictjson).
//  2. "encoded" must be present and hex; its bytes are decoded with
//     UnmarshalMsgCreateBTCDelegation.
//  3. Every other field must be that message's own rendering (the same
//     JSON once both are rendered compactly), so a reader of the fields
//     and a reader of "encoded" see the same message.
//
// Errors wrap ErrInvalidMessage.
func UnmarshalMsgCreateBTCDelegationJSON(b []byte) (*MsgCreateBTCDelegation, error) {
	var got msgCreateJSON
	if err := strictjson.Decode(b, &got); err != nil {
		return nil, fmt.Errorf("%w: MsgCreateBTCDelegation JSON: %w", ErrInvalidMessage, err)
	}
	if got.Encoded == "" {
		return nil, fmt.Errorf("%w: MsgCreateBTCDelegation JSON without encoded", ErrInvalidMessage)
	}
	raw, err := hex.DecodeString(got.Encoded)
	if err != nil {
		return nil, fmt.Errorf("%w: encoded: not hex", ErrInvalidMessage)
	}
	m, err := UnmarshalMsgCreateBTCDelegation(raw)
	if err != nil {
		return nil, fmt.Errorf("encoded: %w", err)
	}
	want, errW := json.Marshal(m.toJSON())
	have, errH := json.Marshal(&got)
	if errW != nil || errH != nil || !bytes.Equal(want, have) {
		return nil, fmt.Errorf("%w: the message's fields do not agree with its encoded form", ErrInvalidMessage)
	}
	return m, nil
}

// MsgAddBTCDelegationInclusionProof is
// babylon.btcstaking.v1.MsgAddBTCDelegationInclusionProof (tx.proto):
// the inclusion proof of a staking transaction registered before it was
// on Bitcoin.
type MsgAddBTCDelegationInclusionProof struct {
	Signer                  string          // 1, string (bech32)
	StakingTxHash           string          // 2, string: the txid in hex as nodes show it
	StakingTxInclusionProof *InclusionProof // 3, InclusionProof
}

// Marshal returns the protobuf encoding of the message.
func (m *MsgAddBTCDelegationInclusionProof) Marshal() []byte {
	var out []byte
	out = appendBytes(out, fAddProofSigner, []byte(m.Signer))
	out = appendBytes(out, fAddProofStakingTxHash, []byte(m.StakingTxHash))
	if m.StakingTxInclusionProof != nil {
		out = protowire.AppendTag(out, fAddProofProof, protowire.BytesType)
		out = protowire.AppendBytes(out, m.StakingTxInclusionProof.Marshal())
	}
	return out
}

// UnmarshalMsgAddBTCDelegationInclusionProof decodes the message.
func UnmarshalMsgAddBTCDelegationInclusionProof(b []byte) (*MsgAddBTCDelegationInclusionProof, error) {
	const what = "MsgAddBTCDelegationInclusionProof"
	bt := protowire.BytesType
	fs, err := parseFields(what, b, map[protowire.Number]fieldSpec{
		fAddProofSigner: {typ: bt}, fAddProofStakingTxHash: {typ: bt}, fAddProofProof: {typ: bt},
	})
	if err != nil {
		return nil, err
	}
	m := &MsgAddBTCDelegationInclusionProof{}
	for _, f := range fs {
		switch f.num {
		case fAddProofSigner:
			m.Signer = string(f.b)
		case fAddProofStakingTxHash:
			m.StakingTxHash = string(f.b)
		case fAddProofProof:
			if m.StakingTxInclusionProof, err = UnmarshalInclusionProof(f.b); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// BabylondArgs returns the 2 positional arguments of `babylond tx
// btcstaking add-btc-inclusion-proof [staking_tx_hash] [inclusion_proof]`
// (NewAddBTCDelegationInclusionProofCmd): the txid as nodes show it and
// the proof's encoding in hex.
func (m *MsgAddBTCDelegationInclusionProof) BabylondArgs() []string {
	proof := ""
	if m.StakingTxInclusionProof != nil {
		proof = hex.EncodeToString(m.StakingTxInclusionProof.Marshal())
	}
	return []string{m.StakingTxHash, proof}
}

// MarshalJSON renders the message with the proto pbField names and
// "encoded": the hex of Marshal.
func (m *MsgAddBTCDelegationInclusionProof) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Signer        string     `json:"signer"`
		StakingTxHash string     `json:"staking_tx_hash"`
		Proof         *proofJSON `json:"staking_tx_inclusion_proof"`
		Encoded       string     `json:"encoded"`
	}{m.Signer, m.StakingTxHash, m.StakingTxInclusionProof.toJSON(), hex.EncodeToString(m.Marshal())})
}

// MsgBTCUndelegate is babylon.btcstaking.v1.MsgBTCUndelegate (tx.proto):
// a confirmed transaction spending the staking output, with its inclusion
// proof and every transaction whose outputs it spends.
type MsgBTCUndelegate struct {
	Signer                        string          // 1, string (bech32)
	StakingTxHash                 string          // 2, string: txid hex as nodes show it
	StakeSpendingTx               []byte          // 3, bytes
	StakeSpendingTxInclusionProof *InclusionProof // 4, InclusionProof
	FundingTransactions           [][]byte        // 5, repeated bytes
}

// Marshal returns the protobuf encoding of the message.
func (m *MsgBTCUndelegate) Marshal() []byte {
	var out []byte
	out = appendBytes(out, fUndelSigner, []byte(m.Signer))
	out = appendBytes(out, fUndelStakingTxHash, []byte(m.StakingTxHash))
	out = appendBytes(out, fUndelSpendingTx, m.StakeSpendingTx)
	if m.StakeSpendingTxInclusionProof != nil {
		out = protowire.AppendTag(out, fUndelSpendingProof, protowire.BytesType)
		out = protowire.AppendBytes(out, m.StakeSpendingTxInclusionProof.Marshal())
	}
	return appendRepeatedBytes(out, fUndelFundingTxs, m.FundingTransactions)
}

// UnmarshalMsgBTCUndelegate decodes the message.
func UnmarshalMsgBTCUndelegate(b []byte) (*MsgBTCUndelegate, error) {
	const what = "MsgBTCUndelegate"
	bt := protowire.BytesType
	fs, err := parseFields(what, b, map[protowire.Number]fieldSpec{
		fUndelSigner: {typ: bt}, fUndelStakingTxHash: {typ: bt}, fUndelSpendingTx: {typ: bt},
		fUndelSpendingProof: {typ: bt}, fUndelFundingTxs: {typ: bt, repeated: true},
	})
	if err != nil {
		return nil, err
	}
	m := &MsgBTCUndelegate{}
	for _, f := range fs {
		switch f.num {
		case fUndelSigner:
			m.Signer = string(f.b)
		case fUndelStakingTxHash:
			m.StakingTxHash = string(f.b)
		case fUndelSpendingTx:
			m.StakeSpendingTx = bytes.Clone(f.b)
		case fUndelSpendingProof:
			if m.StakeSpendingTxInclusionProof, err = UnmarshalInclusionProof(f.b); err != nil {
				return nil, err
			}
		case fUndelFundingTxs:
			m.FundingTransactions = append(m.FundingTransactions, bytes.Clone(f.b))
		}
	}
	return m, nil
}

// BabylondArgs returns the 4 positional arguments of `babylond tx
// btcstaking btc-undelegate [staking_tx_hash] [spend_stake_tx]
// [spend_stake_tx_inclusion_proof] [funding_tx1],[funding_tx2],...`
// (NewBTCUndelegateCmd): the txid, the transaction and proof in hex, the
// funding transactions in hex, comma-separated.
func (m *MsgBTCUndelegate) BabylondArgs() []string {
	proof := ""
	if m.StakeSpendingTxInclusionProof != nil {
		proof = hex.EncodeToString(m.StakeSpendingTxInclusionProof.Marshal())
	}
	return []string{m.StakingTxHash, hex.EncodeToString(m.StakeSpendingTx), proof, hexList(m.FundingTransactions)}
}

// MarshalJSON renders the message with the proto pbField names, bytes in
// hex, and "encoded": the hex of Marshal.
func (m *MsgBTCUndelegate) MarshalJSON() ([]byte, error) {
	funding := make([]string, len(m.FundingTransactions))
	for i, t := range m.FundingTransactions {
		funding[i] = hex.EncodeToString(t)
	}
	return json.Marshal(struct {
		Signer        string     `json:"signer"`
		StakingTxHash string     `json:"staking_tx_hash"`
		SpendingTx    string     `json:"stake_spending_tx"`
		Proof         *proofJSON `json:"stake_spending_tx_inclusion_proof"`
		Funding       []string   `json:"funding_transactions"`
		Encoded       string     `json:"encoded"`
	}{m.Signer, m.StakingTxHash, hex.EncodeToString(m.StakeSpendingTx), m.StakeSpendingTxInclusionProof.toJSON(),
		funding, hex.EncodeToString(m.Marshal())})
}

// String is the message's one-line summary, without its bytes.
func (m *MsgCreateBTCDelegation) String() string {
	return fmt.Sprintf("MsgCreateBTCDelegation{staker %s, %d sat for %d blocks, %d finality provider(s), inclusion proof %t}",
		m.StakerAddr, m.StakingValue, m.StakingTime, len(m.FpBtcPkList), m.StakingTxInclusionProof != nil)
}

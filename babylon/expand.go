package babylon

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
)

// MsgBtcStakeExpand is babylon.btcstaking.v1.MsgBtcStakeExpand (tx.proto,
// fields 1 to 16): the registration of a stake extension (docs/spec.md
// §10.6). Its fields 1 to 7 are MsgCreateBTCDelegation's; it has no
// inclusion proof, so MsgCreateBTCDelegation's fields 9 to 15 are its 8 to
// 14; then the previous delegation's staking txid and the funding
// transaction. StakingTx is the extension transaction: input 0 spends the
// previous staking output, input 1 an output of FundingTx.
type MsgBtcStakeExpand struct {
	StakerAddr                    string   // 1, string (bech32 bbn1...)
	Pop                           []byte   // 2, ProofOfPossessionBTC, as encoded
	BtcPk                         []byte   // 3, bytes (32)
	FpBtcPkList                   [][]byte // 4, repeated bytes (32 each)
	StakingTime                   uint32   // 5, uint32
	StakingValue                  int64    // 6, int64
	StakingTx                     []byte   // 7, bytes: the extension transaction
	SlashingTx                    []byte   // 8, bytes
	DelegatorSlashingSig          []byte   // 9, bytes (64)
	UnbondingTime                 uint32   // 10, uint32
	UnbondingTx                   []byte   // 11, bytes
	UnbondingValue                int64    // 12, int64
	UnbondingSlashingTx           []byte   // 13, bytes
	DelegatorUnbondingSlashingSig []byte   // 14, bytes (64)
	PreviousStakingTxHash         string   // 15, string: the previous staking txid as nodes show it
	FundingTx                     []byte   // 16, bytes
}

// body is the part MsgBtcStakeExpand shares with MsgCreateBTCDelegation.
func (m *MsgBtcStakeExpand) body() delegationBody {
	return delegationBody{&m.StakerAddr, &m.Pop, &m.BtcPk, &m.FpBtcPkList, &m.StakingTime, &m.StakingValue,
		&m.StakingTx, &m.SlashingTx, &m.DelegatorSlashingSig, &m.UnbondingTime, &m.UnbondingTx, &m.UnbondingValue,
		&m.UnbondingSlashingTx, &m.DelegatorUnbondingSlashingSig, fExpSlashingTx}
}

// Marshal returns the protobuf encoding of the message.
func (m *MsgBtcStakeExpand) Marshal() []byte {
	out := m.body().appendTail(m.body().appendHead(nil))
	out = appendBytes(out, fExpPrevStakingTxHash, []byte(m.PreviousStakingTxHash))
	return appendBytes(out, fExpFundingTx, m.FundingTx)
}

// UnmarshalMsgBtcStakeExpand decodes a MsgBtcStakeExpand, as strictly as
// UnmarshalMsgCreateBTCDelegation: the encoding and the sizes of keys and
// signatures, not the transactions.
func UnmarshalMsgBtcStakeExpand(b []byte) (*MsgBtcStakeExpand, error) {
	const what = "MsgBtcStakeExpand"
	m := &MsgBtcStakeExpand{}
	body := m.body()
	fs, err := parseFields(what, b, body.specs(map[protowire.Number]fieldSpec{
		fExpPrevStakingTxHash: {typ: protowire.BytesType}, fExpFundingTx: {typ: protowire.BytesType},
	}))
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		ok, err := body.decode(what, f)
		switch {
		case ok:
		case f.num == fExpPrevStakingTxHash:
			m.PreviousStakingTxHash = string(f.b)
		case f.num == fExpFundingTx:
			m.FundingTx = bytes.Clone(f.b)
		}
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

// BabylondArgs returns the 16 positional arguments of
//
//	babylond tx btcstaking btc-stake-expand [btc_pk] [pop_hex] [staking_tx]
//	  [inclusion_proof] [fp_pk1],[fp_pk2],... [staking_time] [staking_value]
//	  [slashing_tx] [delegator_slashing_sig] [unbonding_tx]
//	  [unbonding_slashing_tx] [unbonding_time] [unbonding_value]
//	  [delegator_unbonding_slashing_sig] [previous_staking_tx_hash] [funding_tx]
//
// in that order (babylon x/btcstaking/client/cli/tx.go,
// NewBTCStakeExpandCmd): the first 14 are create-btc-delegation's, parsed
// by the same parseArgsIntoMsgCreateBTCDelegation, with the extension
// transaction as staking_tx and the empty string as inclusion_proof (the
// message has no proof field; babylond parses a non-empty one and drops
// it); then the previous staking txid as nodes show it, and the funding
// transaction in hex. Times and values are decimal; the staker address is
// the --from account.
func (m *MsgBtcStakeExpand) BabylondArgs() []string {
	return append(m.body().babylondArgs(""), m.PreviousStakingTxHash, hex.EncodeToString(m.FundingTx))
}

// MarshalJSON renders the message with the proto field names, bytes in
// hex, and "encoded": the hex of Marshal.
func (m *MsgBtcStakeExpand) MarshalJSON() ([]byte, error) {
	fps := make([]string, len(m.FpBtcPkList))
	for i, k := range m.FpBtcPkList {
		fps[i] = hex.EncodeToString(k)
	}
	return json.Marshal(struct {
		StakerAddr                    string   `json:"staker_addr"`
		Pop                           string   `json:"pop"`
		BtcPk                         string   `json:"btc_pk"`
		FpBtcPkList                   []string `json:"fp_btc_pk_list"`
		StakingTime                   uint32   `json:"staking_time"`
		StakingValue                  int64    `json:"staking_value"`
		StakingTx                     string   `json:"staking_tx"`
		SlashingTx                    string   `json:"slashing_tx"`
		DelegatorSlashingSig          string   `json:"delegator_slashing_sig"`
		UnbondingTime                 uint32   `json:"unbonding_time"`
		UnbondingTx                   string   `json:"unbonding_tx"`
		UnbondingValue                int64    `json:"unbonding_value"`
		UnbondingSlashingTx           string   `json:"unbonding_slashing_tx"`
		DelegatorUnbondingSlashingSig string   `json:"delegator_unbonding_slashing_sig"`
		PreviousStakingTxHash         string   `json:"previous_staking_tx_hash"`
		FundingTx                     string   `json:"funding_tx"`
		Encoded                       string   `json:"encoded"`
	}{m.StakerAddr, hex.EncodeToString(m.Pop), hex.EncodeToString(m.BtcPk), fps, m.StakingTime, m.StakingValue,
		hex.EncodeToString(m.StakingTx), hex.EncodeToString(m.SlashingTx), hex.EncodeToString(m.DelegatorSlashingSig),
		m.UnbondingTime, hex.EncodeToString(m.UnbondingTx), m.UnbondingValue, hex.EncodeToString(m.UnbondingSlashingTx),
		hex.EncodeToString(m.DelegatorUnbondingSlashingSig), m.PreviousStakingTxHash, hex.EncodeToString(m.FundingTx),
		hex.EncodeToString(m.Marshal())})
}

// String is the message's one-line summary, without its bytes.
func (m *MsgBtcStakeExpand) String() string {
	return fmt.Sprintf("MsgBtcStakeExpand{staker %s, %d sat for %d blocks, %d finality provider(s), extends %s}",
		m.StakerAddr, m.StakingValue, m.StakingTime, len(m.FpBtcPkList), m.PreviousStakingTxHash)
}

func (m *MsgBtcStakeExpand) clone() *MsgBtcStakeExpand {
	c := *m
	c.Pop, c.BtcPk, c.StakingTx = bytes.Clone(m.Pop), bytes.Clone(m.BtcPk), bytes.Clone(m.StakingTx)
	c.FpBtcPkList = cloneList(m.FpBtcPkList)
	c.SlashingTx, c.DelegatorSlashingSig = bytes.Clone(m.SlashingTx), bytes.Clone(m.DelegatorSlashingSig)
	c.UnbondingTx, c.UnbondingSlashingTx = bytes.Clone(m.UnbondingTx), bytes.Clone(m.UnbondingSlashingTx)
	c.DelegatorUnbondingSlashingSig = bytes.Clone(m.DelegatorUnbondingSlashingSig)
	c.FundingTx = bytes.Clone(m.FundingTx)
	return &c
}

// ExpansionRequest is what a stake extension's registration is built from.
type ExpansionRequest struct {
	// StakerAddress is the staker's Babylon account (bbn1...); Babylon
	// requires the previous delegation's.
	StakerAddress string
	// PoP is the encoded ProofOfPossessionBTC of the staker key by
	// StakerAddress; it is checked for shape only.
	PoP []byte
	// Delegation is the new delegation: the previous one's staker and
	// finality provider, a staking time, and the params of the version in
	// force at TipHeight (Babylon builds an extension under the params at
	// its Bitcoin tip).
	Delegation psbt.Delegation
	// ExtensionTx is the extension transaction, unsigned (its witnesses are
	// ignored and do not change its txid): exactly two inputs, input 0
	// spending the previous staking output and input 1 an output of
	// FundingTx; one output pays the new staking output.
	ExtensionTx *wire.MsgTx
	// PreviousStakingTxHash is the txid of the previous delegation's
	// staking transaction, which names that delegation on Babylon.
	PreviousStakingTxHash chainhash.Hash
	// FundingTx is the transaction whose output input 1 spends.
	FundingTx *wire.MsgTx
	// Versions are Babylon's params versions; the one in force at
	// TipHeight must be the delegation's params.
	Versions *params.Versions
	// TipHeight is the Bitcoin tip as Babylon sees it.
	TipHeight uint32
}

// ExpansionDraft is a stake extension whose transactions are built and
// checked, waiting for the staker's two slashing signatures (Sign with the
// key, or Complete with PSBTs an external signer signed), exactly as a
// RegistrationDraft.
type ExpansionDraft struct {
	reg      *RegistrationDraft
	previous chainhash.Hash
	funding  []byte
}

// PrepareExpansion builds and checks the Bitcoin transactions of a
// MsgBtcStakeExpand (docs/spec.md §10.6):
//
//  1. to 3. As PrepareRegistration: the address and PoP, exactly one
//     finality provider, not the staker; the delegation's params are the
//     version in force at TipHeight.
//  4. The extension transaction has exactly 2 inputs; input 0 spends an
//     output of PreviousStakingTxHash; input 1 spends an output of
//     FundingTx that exists and holds more than 0 sat; the two are not the
//     same transaction (ErrInvalidExpansion). These are Babylon's
//     MsgBtcStakeExpand.GetStakeExpansion checks.
//  5. to 7. As PrepareRegistration, with the extension transaction as the
//     staking transaction: exactly one output pays the new staking script
//     (found by script, at any index), its value within the params; the
//     unbonding transaction and the two slashing transactions of the new
//     delegation are built from it and checked.
//
// Babylon's checks against the previous delegation (the same staker,
// finality provider and staker address; input 0 spending the previous
// staking output's index; the new value at least the old; a positive fee;
// the covenant overlap) need that delegation and are not made here.
func PrepareExpansion(req ExpansionRequest) (*ExpansionDraft, error) {
	d := req.Delegation
	// Steps 1 to 3.
	sel, err := checkDelegation(req.StakerAddress, req.PoP, d, req.Versions, req.TipHeight)
	if err != nil {
		return nil, err
	}
	// Step 4.
	if req.ExtensionTx == nil {
		return nil, fmt.Errorf("%w: no extension transaction", ErrInvalidExpansion)
	}
	if req.FundingTx == nil {
		return nil, fmt.Errorf("%w: no funding transaction", ErrInvalidExpansion)
	}
	ext, funding := req.ExtensionTx.Copy(), req.FundingTx.Copy()
	if len(ext.TxIn) != 2 {
		return nil, fmt.Errorf("%w: the extension transaction has %d inputs, Babylon requires exactly 2 (the previous staking output, then the funding output)",
			ErrInvalidExpansion, len(ext.TxIn))
	}
	for i, in := range ext.TxIn {
		if in == nil {
			return nil, fmt.Errorf("%w: input %d of the extension transaction is nil", ErrInvalidExpansion, i)
		}
	}
	if got := ext.TxIn[0].PreviousOutPoint.Hash; got != req.PreviousStakingTxHash {
		return nil, fmt.Errorf("%w: input 0 spends %s, not the previous staking transaction %s", ErrInvalidExpansion, got, req.PreviousStakingTxHash)
	}
	fundingHash := funding.TxHash()
	if fundingHash == req.PreviousStakingTxHash {
		return nil, fmt.Errorf("%w: the funding transaction is the previous staking transaction", ErrInvalidExpansion)
	}
	in1 := ext.TxIn[1].PreviousOutPoint
	if in1.Hash != fundingHash {
		return nil, fmt.Errorf("%w: input 1 spends %s, not the funding transaction %s", ErrInvalidExpansion, in1.Hash, fundingHash)
	}
	if int(in1.Index) >= len(funding.TxOut) || funding.TxOut[in1.Index] == nil {
		return nil, fmt.Errorf("%w: input 1 spends output %d of the funding transaction, which has %d", ErrInvalidExpansion, in1.Index, len(funding.TxOut))
	}
	if v := funding.TxOut[in1.Index].Value; v <= 0 {
		return nil, fmt.Errorf("%w: the funding output holds %d sat; Babylon requires more than 0", ErrInvalidExpansion, v)
	}
	// Steps 5 to 7.
	reg, err := buildDraft(req.StakerAddress, req.PoP, d, sel, ext)
	if err != nil {
		return nil, err
	}
	return &ExpansionDraft{reg: reg, previous: req.PreviousStakingTxHash, funding: serializeTx(funding)}, nil
}

// SlashingPackets returns copies of the two PSBTs the staker signs, as
// RegistrationDraft.SlashingPackets: the new delegation's slashing
// transactions from its staking output (in the extension transaction) and
// from its unbonding output.
func (e *ExpansionDraft) SlashingPackets() (staking, unbonding *btcpsbt.Packet, err error) {
	return e.reg.SlashingPackets()
}

// Sign signs both slashing transactions with the staker's key, as
// RegistrationDraft.Sign, and returns the extension's message.
func (e *ExpansionDraft) Sign(key *btcec.PrivateKey) (*Expansion, error) {
	r, err := e.reg.Sign(key)
	if err != nil {
		return nil, err
	}
	return e.finish(r), nil
}

// Complete takes the staker's signatures from the two slashing PSBTs an
// external signer returned, checked as RegistrationDraft.Complete checks
// them.
func (e *ExpansionDraft) Complete(staking, unbonding *btcpsbt.Packet) (*Expansion, error) {
	r, err := e.reg.Complete(staking, unbonding)
	if err != nil {
		return nil, err
	}
	return e.finish(r), nil
}

func (e *ExpansionDraft) finish(r *Registration) *Expansion {
	c := &r.msg
	return &Expansion{msg: MsgBtcStakeExpand{
		StakerAddr: c.StakerAddr, Pop: c.Pop, BtcPk: c.BtcPk, FpBtcPkList: c.FpBtcPkList,
		StakingTime: c.StakingTime, StakingValue: c.StakingValue, StakingTx: c.StakingTx,
		SlashingTx: c.SlashingTx, DelegatorSlashingSig: c.DelegatorSlashingSig,
		UnbondingTime: c.UnbondingTime, UnbondingTx: c.UnbondingTx, UnbondingValue: c.UnbondingValue,
		UnbondingSlashingTx: c.UnbondingSlashingTx, DelegatorUnbondingSlashingSig: c.DelegatorUnbondingSlashingSig,
		PreviousStakingTxHash: e.previous.String(), FundingTx: bytes.Clone(e.funding),
	}, version: r.version, versionKnown: r.versionKnown, stakingTxHash: r.stakingTxHash, stakingOutIndex: r.stakingOutIndex}
}

// Expansion is a complete, checked MsgBtcStakeExpand. It is immutable: Msg
// returns a copy.
type Expansion struct {
	msg             MsgBtcStakeExpand
	version         uint32
	versionKnown    bool
	stakingTxHash   chainhash.Hash
	stakingOutIndex uint32
}

// Msg returns (a copy of) the message.
func (e *Expansion) Msg() *MsgBtcStakeExpand { return e.msg.clone() }

// Marshal is the message's protobuf encoding.
func (e *Expansion) Marshal() []byte { return e.msg.Marshal() }

// BabylondArgs are the 16 arguments of babylond's btc-stake-expand
// (MsgBtcStakeExpand.BabylondArgs).
func (e *Expansion) BabylondArgs() []string { return e.msg.BabylondArgs() }

// MarshalJSON renders the message (MsgBtcStakeExpand.MarshalJSON).
func (e *Expansion) MarshalJSON() ([]byte, error) { return e.msg.MarshalJSON() }

// StakingTxHash is the extension transaction's id, which names the new
// delegation on Babylon.
func (e *Expansion) StakingTxHash() chainhash.Hash { return e.stakingTxHash }

// StakingOutputIndex is the index of the new staking output in the
// extension transaction.
func (e *Expansion) StakingOutputIndex() uint32 { return e.stakingOutIndex }

// ParamsVersion is the number of the params version the extension was
// built under, and whether the source stated it.
func (e *Expansion) ParamsVersion() (uint32, bool) { return e.version, e.versionKnown }

// NewMsgActivateExpansion makes the MsgBTCUndelegate that activates a stake
// extension once its transaction is on Bitcoin: it reports the previous
// delegation as spent by the extension transaction, and Babylon takes the
// proof as the new delegation's inclusion proof (the message server's
// BTCUndelegate; MsgAddBTCDelegationInclusionProof is refused for an
// extension).
//
//  1. The extension transaction has exactly 2 inputs: input 0 spends the
//     previous staking output (previous: its transaction and index), input
//     1 an output of funding (ErrInvalidExpansion).
//  2. rule applies to the proof's block and tip (ErrShallow): Babylon
//     checks this proof as an inclusion proof, k deep, unlike the proof of
//     an ordinary unbonding.
//  3. NewMsgBTCUndelegate(signer, previous, extension, [funding]): the
//     signer's address, the proof, input 0's script-path witness, and
//     funding_transactions = [previous staking tx, funding tx] in input
//     order.
func NewMsgActivateExpansion(signer string, previous psbt.Funding, extension *ProvenTx, funding *wire.MsgTx, rule DepthRule) (*MsgBTCUndelegate, error) {
	// Step 1.
	if extension == nil || extension.Tx == nil {
		return nil, fmt.Errorf("%w: no extension transaction", ErrInvalidExpansion)
	}
	if previous.Tx == nil || funding == nil {
		return nil, fmt.Errorf("%w: no previous staking transaction or no funding transaction", ErrInvalidExpansion)
	}
	ext := extension.Tx
	if len(ext.TxIn) != 2 || ext.TxIn[0] == nil || ext.TxIn[1] == nil {
		return nil, fmt.Errorf("%w: the extension transaction has %d inputs, want 2", ErrInvalidExpansion, len(ext.TxIn))
	}
	want := wire.OutPoint{Hash: previous.Tx.TxHash(), Index: previous.Index}
	if got := ext.TxIn[0].PreviousOutPoint; got != want {
		return nil, fmt.Errorf("%w: input 0 spends %v, not the previous staking output %v", ErrInvalidExpansion, got, want)
	}
	if got, fh := ext.TxIn[1].PreviousOutPoint.Hash, funding.TxHash(); got != fh {
		return nil, fmt.Errorf("%w: input 1 spends %s, not the funding transaction %s", ErrInvalidExpansion, got, fh)
	}
	// Step 2.
	if err := rule.Check(extension.Height, extension.TipHeight); err != nil {
		return nil, err
	}
	// Step 3.
	return NewMsgBTCUndelegate(signer, previous, extension, []*wire.MsgTx{funding})
}

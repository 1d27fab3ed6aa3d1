package babylon

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/btcsuite/btcd/address/v2/bech32"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	btcpsbt "github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/psbt"
	"github.com/btcstake/btcstake/script"
)

// AddressPrefix is the bech32 prefix of Babylon account addresses, on
// every Babylon network.
const AddressPrefix = "bbn"

// CheckAddress checks a Babylon account address as Babylon's
// sdk.AccAddressFromBech32 would for an account: bech32 (not bech32m), the
// prefix "bbn", a payload of 20 bytes (a key's account) or 32 (a module or
// contract account).
func CheckAddress(addr string) error {
	hrp, data, ver, err := bech32.DecodeGeneric(addr)
	if err != nil {
		return fmt.Errorf("%w: %.100q: %v", ErrInvalidAddress, addr, err)
	}
	if ver != bech32.Version0 {
		return fmt.Errorf("%w: %.100q is bech32m, Babylon addresses are bech32", ErrInvalidAddress, addr)
	}
	if hrp != AddressPrefix {
		return fmt.Errorf("%w: %.100q has prefix %q, want %q", ErrInvalidAddress, addr, hrp, AddressPrefix)
	}
	raw, err := bech32.ConvertBits(data, 5, 8, false)
	if err != nil {
		return fmt.Errorf("%w: %.100q: %v", ErrInvalidAddress, addr, err)
	}
	if len(raw) != 20 && len(raw) != 32 {
		return fmt.Errorf("%w: %.100q holds %d bytes, want 20 or 32", ErrInvalidAddress, addr, len(raw))
	}
	return nil
}

func serializeTx(tx *wire.MsgTx) []byte {
	var buf bytes.Buffer
	_ = tx.Serialize(&buf) // writes to a bytes.Buffer do not fail
	return buf.Bytes()
}

func clonePacket(p *btcpsbt.Packet) (*btcpsbt.Packet, error) {
	var buf bytes.Buffer
	if err := p.Serialize(&buf); err != nil {
		return nil, fmt.Errorf("%w: %v", psbt.ErrInvalidPSBT, err)
	}
	q, err := btcpsbt.NewFromRawBytes(&buf, false)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", psbt.ErrInvalidPSBT, err)
	}
	return q, nil
}

// RegistrationRequest is what a delegation's registration is built from.
type RegistrationRequest struct {
	// StakerAddress is the staker's Babylon account (bbn1...), which
	// receives the rewards and signs the Cosmos transaction.
	StakerAddress string
	// PoP is the encoded ProofOfPossessionBTC of the staker key by
	// StakerAddress (package pop makes it); it is checked for shape only.
	PoP []byte
	// Delegation is the staker, the one finality provider, the staking
	// time and the params; its Params must be the version Versions
	// selects for the flow (docs/spec.md §8.4).
	Delegation psbt.Delegation
	// StakingTx pays the delegation's staking output; it may be unsigned
	// (registration before staking).
	StakingTx *wire.MsgTx
	// Included is the staking transaction's inclusion proof when it is
	// already on Bitcoin (ProveFromNode); nil to register before staking.
	Included *ProvenTx
	// Versions are Babylon's params versions; the one in force at
	// Included.Height, or at TipHeight before staking, must be the
	// delegation's params.
	Versions *params.Versions
	// TipHeight is the Bitcoin tip as Babylon sees it, for registration
	// before staking; it is not used when Included is set.
	TipHeight uint32
}

// RegistrationDraft is a registration whose transactions are built and
// checked, waiting for the staker's two slashing signatures (Sign with
// the key, or Complete with PSBTs an external signer signed).
type RegistrationDraft struct {
	msg             MsgCreateBTCDelegation
	slashing        *btcpsbt.Packet
	unbondSlashing  *btcpsbt.Packet
	staker          script.XOnlyKey
	version         uint32
	versionKnown    bool
	stakingTxHash   chainhash.Hash
	stakingOutIndex uint32
}

// PrepareRegistration builds and checks, as Babylon does, every Bitcoin
// transaction of a MsgCreateBTCDelegation:
//
//  1. The staker address is a Babylon address (ErrInvalidAddress); the PoP
//     has the shape of a ProofOfPossessionBTC (ErrInvalidMessage).
//  2. Exactly one finality provider (ErrInvalidRegistration), as Babylon's
//     create-delegation parser requires on every params version
//     (ErrTooManyFpKeys), its key not the staker's (docs/spec.md §1).
//  3. The version in force at the inclusion height (Included) or at
//     TipHeight (before staking) must have the delegation's params
//     (ErrInvalidRegistration otherwise).
//  4. With Included: the proof verifies for StakingTx against the header
//     (ErrInvalidProof), and the stake has more than the unbonding time
//     left at the tip: tip + unbonding time < height + staking time, as
//     Babylon's VerifyInclusionProofAndGetHeight requires
//     (ErrInvalidRegistration).
//  5. psbt.ValidateStakingTx: the staking output, its value and time.
//  6. psbt.BuildUnbonding and ValidateUnbondingTx: one input, the
//     staking output; one output, the unbonding output, worth the
//     staking value less exactly the unbonding fee. Babylon requires the
//     unbonding time to be the params' (unbonding_time).
//  7. psbt.BuildSlashing from the staking output and from the unbonding
//     output, each checked with ValidateSlashingTx.
//
// Failures of 5 to 7 wrap the kinds of psbt and params.
func PrepareRegistration(req RegistrationRequest) (*RegistrationDraft, error) {
	d := req.Delegation
	// Step 3's height: the inclusion height with a proof, else the tip.
	height := req.TipHeight
	if req.Included != nil {
		if req.Included.Height < 0 || req.Included.Height > int64(^uint32(0)) {
			return nil, fmt.Errorf("%w: inclusion height %d", ErrInvalidRegistration, req.Included.Height)
		}
		height = uint32(req.Included.Height)
	}
	// Steps 1 to 3.
	sel, err := checkDelegation(req.StakerAddress, req.PoP, d, req.Versions, height)
	if err != nil {
		return nil, err
	}
	if req.StakingTx == nil {
		return nil, fmt.Errorf("%w: no staking transaction", psbt.ErrInvalidTx)
	}
	stakingTx := req.StakingTx.Copy()
	// Step 4.
	if in := req.Included; in != nil {
		if in.Tx == nil || in.Tx.TxHash() != stakingTx.TxHash() {
			return nil, fmt.Errorf("%w: the inclusion proof is for another transaction", ErrInvalidProof)
		}
		if err := in.check(); err != nil {
			return nil, err
		}
		end := in.Height + int64(d.StakingTime)
		if in.TipHeight+int64(sel.params.UnbondingTime()) >= end {
			return nil, fmt.Errorf("%w: the stake ends at height %d, no more than the unbonding time (%d) after the tip %d",
				ErrInvalidRegistration, end, sel.params.UnbondingTime(), in.TipHeight)
		}
	}
	// Steps 5 to 7.
	draft, err := buildDraft(req.StakerAddress, req.PoP, d, sel, stakingTx)
	if err != nil {
		return nil, err
	}
	if req.Included != nil {
		p := *req.Included.Proof
		p.Proof = bytes.Clone(p.Proof)
		draft.msg.StakingTxInclusionProof = &p
	}
	return draft, nil
}

// selected is the params version a flow's height selects.
type selected struct {
	params       *params.Params
	version      uint32
	versionKnown bool
	staker, fp   script.XOnlyKey
}

// checkDelegation is steps 1 to 3 of PrepareRegistration: the address and
// PoP, exactly one finality provider other than the staker, and the
// delegation's params being those of the version in force at height.
func checkDelegation(addr string, pop []byte, d psbt.Delegation, versions *params.Versions, height uint32) (selected, error) {
	// Step 1.
	if err := CheckAddress(addr); err != nil {
		return selected{}, err
	}
	if err := checkPoP(pop); err != nil {
		return selected{}, fmt.Errorf("proof of possession: %w", err)
	}
	// Step 2.
	if d.Staker == nil {
		return selected{}, fmt.Errorf("%w: no staker key", ErrInvalidRegistration)
	}
	if len(d.FinalityProviders) != 1 || d.FinalityProviders[0] == nil {
		return selected{}, fmt.Errorf("%w: %d finality providers; Babylon takes exactly one", ErrInvalidRegistration, len(d.FinalityProviders))
	}
	staker, fp := script.XOnly(d.Staker), script.XOnly(d.FinalityProviders[0])
	if staker == fp {
		return selected{}, fmt.Errorf("%w: the staker key is the finality provider's key", ErrInvalidRegistration)
	}
	if !d.Params.Valid() {
		return selected{}, fmt.Errorf("%w: the delegation has no params", params.ErrInvalidParams)
	}
	// Step 3.
	if versions == nil {
		return selected{}, fmt.Errorf("%w: no params versions to select the flow's version from", ErrInvalidRegistration)
	}
	v, err := versions.At(height)
	if err != nil {
		return selected{}, err
	}
	vp, err := v.StakingParams()
	if err != nil {
		return selected{}, err
	}
	if !sameParams(vp, d.Params) {
		return selected{}, fmt.Errorf("%w: the delegation's params are not those of version %d, in force at Bitcoin height %d", ErrInvalidRegistration, v.Number(), height)
	}
	return selected{params: vp, version: v.Number(), versionKnown: v.NumberKnown(), staker: staker, fp: fp}, nil
}

// buildDraft is steps 5 to 7 of PrepareRegistration for stakingTx (the
// caller's copy): the staking output, the unbonding transaction and the two
// slashing transactions, built and checked; the draft has no inclusion
// proof.
func buildDraft(addr string, pop []byte, d psbt.Delegation, sel selected, stakingTx *wire.MsgTx) (*RegistrationDraft, error) {
	// Step 5.
	idx, err := psbt.ValidateStakingTx(stakingTx, d)
	if err != nil {
		return nil, err
	}
	stFunding := psbt.Funding{Tx: stakingTx, Index: idx}
	// Step 6.
	ub, err := psbt.BuildUnbonding(d, stFunding)
	if err != nil {
		return nil, err
	}
	ubTx := ub.Packet.UnsignedTx
	if err := psbt.ValidateUnbondingTx(ubTx, stakingTx, d); err != nil {
		return nil, err
	}
	// Step 7.
	sl, err := psbt.BuildSlashing(d, script.StakingOutputKind, stFunding)
	if err != nil {
		return nil, err
	}
	if err := psbt.ValidateSlashingTx(sl.Packet.UnsignedTx, stakingTx, idx, script.StakingOutputKind, d); err != nil {
		return nil, err
	}
	usl, err := psbt.BuildSlashing(d, script.UnbondingOutputKind, psbt.Funding{Tx: ubTx, Index: 0})
	if err != nil {
		return nil, err
	}
	if err := psbt.ValidateSlashingTx(usl.Packet.UnsignedTx, ubTx, 0, script.UnbondingOutputKind, d); err != nil {
		return nil, err
	}
	return &RegistrationDraft{
		msg: MsgCreateBTCDelegation{
			StakerAddr:          addr,
			Pop:                 bytes.Clone(pop),
			BtcPk:               sel.staker.Bytes(),
			FpBtcPkList:         [][]byte{sel.fp.Bytes()},
			StakingTime:         uint32(d.StakingTime),
			StakingValue:        stakingTx.TxOut[idx].Value,
			StakingTx:           serializeTx(stakingTx),
			SlashingTx:          serializeTx(sl.Packet.UnsignedTx),
			UnbondingTime:       uint32(sel.params.UnbondingTime()),
			UnbondingTx:         serializeTx(ubTx),
			UnbondingValue:      ubTx.TxOut[0].Value,
			UnbondingSlashingTx: serializeTx(usl.Packet.UnsignedTx),
		},
		slashing: sl.Packet, unbondSlashing: usl.Packet, staker: sel.staker,
		version: sel.version, versionKnown: sel.versionKnown,
		stakingTxHash: stakingTx.TxHash(), stakingOutIndex: idx,
	}, nil
}

// sameParams compares two validated params by their canonical JSON.
func sameParams(a, b *params.Params) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// SlashingPackets returns copies of the two PSBTs the staker signs: the
// slashing transaction spending the staking output and the one spending
// the unbonding output, each with its slashing leaf (tap_leaf_script) and
// spent output (witness_utxo), for an external signer.
func (r *RegistrationDraft) SlashingPackets() (staking, unbonding *btcpsbt.Packet, err error) {
	if staking, err = clonePacket(r.slashing); err != nil {
		return nil, nil, err
	}
	if unbonding, err = clonePacket(r.unbondSlashing); err != nil {
		return nil, nil, err
	}
	return staking, unbonding, nil
}

// Sign signs both slashing transactions with the staker's key
// (psbt.SignTapscript on input 0, the slashing leaf, SIGHASH_DEFAULT) and
// returns the registration. A key that is not the delegation's staker is
// ErrInvalidRegistration.
func (r *RegistrationDraft) Sign(key *btcec.PrivateKey) (*Registration, error) {
	if key == nil || script.XOnly(key.PubKey()) != r.staker {
		return nil, fmt.Errorf("%w: the key given is not the delegation's staker key %s", ErrInvalidRegistration, r.staker)
	}
	var sigs [2][]byte
	for i, p := range []*btcpsbt.Packet{r.slashing, r.unbondSlashing} {
		q, err := clonePacket(p)
		if err != nil {
			return nil, err
		}
		if err := psbt.SignTapscript(q, 0, key); err != nil {
			return nil, err
		}
		if sigs[i], err = stakerSig(q, r.staker); err != nil {
			return nil, err
		}
	}
	return r.finish(sigs[0], sigs[1]), nil
}

// Complete takes the staker's signatures from the two slashing PSBTs an
// external signer returned (SlashingPackets, signed): each must be the
// same unsigned transaction, and carry exactly one tap_script_sig by the
// staker key, 64 bytes (SIGHASH_DEFAULT); each signature is checked
// against the sighash computed from this draft's own packet
// (psbt.AddTapscriptSig), so nothing else in the returned PSBTs matters.
func (r *RegistrationDraft) Complete(staking, unbonding *btcpsbt.Packet) (*Registration, error) {
	var sigs [2][]byte
	names := [2]string{"staking slashing", "unbonding slashing"}
	for i, pair := range [][2]*btcpsbt.Packet{{r.slashing, staking}, {r.unbondSlashing, unbonding}} {
		ours, theirs := pair[0], pair[1]
		if theirs == nil || theirs.UnsignedTx == nil || len(theirs.Inputs) != len(theirs.UnsignedTx.TxIn) {
			return nil, fmt.Errorf("%w: %s: no packet, or a malformed one", psbt.ErrInvalidPSBT, names[i])
		}
		if !bytes.Equal(serializeTx(theirs.UnsignedTx), serializeTx(ours.UnsignedTx)) {
			return nil, fmt.Errorf("%w: %s: the signed PSBT is another transaction (%s, want %s)", ErrInvalidRegistration,
				names[i], theirs.UnsignedTx.TxHash(), ours.UnsignedTx.TxHash())
		}
		sig, err := stakerSig(theirs, r.staker)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", names[i], err)
		}
		q, err := clonePacket(ours)
		if err != nil {
			return nil, err
		}
		if err := psbt.AddTapscriptSig(q, 0, r.staker, sig); err != nil {
			return nil, fmt.Errorf("%s: %w", names[i], err)
		}
		sigs[i] = sig
	}
	return r.finish(sigs[0], sigs[1]), nil
}

// stakerSig returns the staker's one tap_script_sig on input 0.
func stakerSig(p *btcpsbt.Packet, staker script.XOnlyKey) ([]byte, error) {
	if len(p.Inputs) != 1 {
		return nil, fmt.Errorf("%w: %d inputs, a slashing transaction has one", psbt.ErrInvalidPSBT, len(p.Inputs))
	}
	var found []byte
	n := 0
	for _, s := range p.Inputs[0].TaprootScriptSpendSig {
		if s != nil && bytes.Equal(s.XOnlyPubKey, staker[:]) {
			n++
			found = s.Signature
			if s.SigHash != txscript.SigHashDefault || len(s.Signature) != SchnorrSigSize {
				return nil, fmt.Errorf("%w: the staker signature is not a 64-byte SIGHASH_DEFAULT signature, which Babylon requires", ErrInvalidRegistration)
			}
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("%w: %d staker signatures (tap_script_sig for %s) on the slashing input, want 1", ErrInvalidRegistration, n, staker)
	}
	return bytes.Clone(found), nil
}

func (r *RegistrationDraft) finish(slashingSig, unbondingSlashingSig []byte) *Registration {
	m := r.msg.clone()
	m.DelegatorSlashingSig = slashingSig
	m.DelegatorUnbondingSlashingSig = unbondingSlashingSig
	return &Registration{msg: *m, version: r.version, versionKnown: r.versionKnown,
		stakingTxHash: r.stakingTxHash, stakingOutIndex: r.stakingOutIndex}
}

func cloneList(l [][]byte) [][]byte {
	if l == nil {
		return nil
	}
	out := make([][]byte, len(l))
	for i, b := range l {
		out[i] = bytes.Clone(b)
	}
	return out
}

func (p *InclusionProof) clone() *InclusionProof {
	if p == nil {
		return nil
	}
	return &InclusionProof{Key: p.Key, Proof: bytes.Clone(p.Proof)}
}

func (m *MsgCreateBTCDelegation) clone() *MsgCreateBTCDelegation {
	c := *m
	c.Pop, c.BtcPk, c.StakingTx = bytes.Clone(m.Pop), bytes.Clone(m.BtcPk), bytes.Clone(m.StakingTx)
	c.FpBtcPkList = cloneList(m.FpBtcPkList)
	c.StakingTxInclusionProof = m.StakingTxInclusionProof.clone()
	c.SlashingTx, c.DelegatorSlashingSig = bytes.Clone(m.SlashingTx), bytes.Clone(m.DelegatorSlashingSig)
	c.UnbondingTx, c.UnbondingSlashingTx = bytes.Clone(m.UnbondingTx), bytes.Clone(m.UnbondingSlashingTx)
	c.DelegatorUnbondingSlashingSig = bytes.Clone(m.DelegatorUnbondingSlashingSig)
	return &c
}

// Registration is a complete, checked MsgCreateBTCDelegation. It is
// immutable: Msg returns a copy.
type Registration struct {
	msg             MsgCreateBTCDelegation
	version         uint32
	versionKnown    bool
	stakingTxHash   chainhash.Hash
	stakingOutIndex uint32
}

// Msg returns (a copy of) the message.
func (r *Registration) Msg() *MsgCreateBTCDelegation { return r.msg.clone() }

// Marshal is the message's protobuf encoding.
func (r *Registration) Marshal() []byte { return r.msg.Marshal() }

// BabylondArgs are the 14 arguments of babylond's create-btc-delegation
// (MsgCreateBTCDelegation.BabylondArgs).
func (r *Registration) BabylondArgs() []string { return r.msg.BabylondArgs() }

// MarshalJSON renders the message (MsgCreateBTCDelegation.MarshalJSON).
func (r *Registration) MarshalJSON() ([]byte, error) { return r.msg.MarshalJSON() }

// StakingTxHash is the staking transaction's id, which names the
// delegation on Babylon.
func (r *Registration) StakingTxHash() chainhash.Hash { return r.stakingTxHash }

// StakingOutputIndex is the index of the staking output.
func (r *Registration) StakingOutputIndex() uint32 { return r.stakingOutIndex }

// ParamsVersion is the number of the params version the registration was
// built under, and whether the source stated it.
func (r *Registration) ParamsVersion() (uint32, bool) { return r.version, r.versionKnown }

// NewMsgAddInclusionProof makes the MsgAddBTCDelegationInclusionProof
// of a staking transaction registered before it was on Bitcoin: signer
// is the Babylon address that sends it (ErrInvalidAddress), staked the
// staking transaction with its proof, which must verify (ErrInvalidProof).
// The proof's depth is checked when it is made (ProveFromNode's rule).
func NewMsgAddInclusionProof(signer string, staked *ProvenTx) (*MsgAddBTCDelegationInclusionProof, error) {
	if err := CheckAddress(signer); err != nil {
		return nil, err
	}
	if err := staked.check(); err != nil {
		return nil, err
	}
	return &MsgAddBTCDelegationInclusionProof{Signer: signer, StakingTxHash: staked.Tx.TxHash().String(),
		StakingTxInclusionProof: staked.Proof.clone()}, nil
}

// NewMsgBTCUndelegate makes the MsgBTCUndelegate of a confirmed
// transaction spending the staking output (the unbonding transaction, or
// any other spend):
//
//  1. signer is a Babylon address (ErrInvalidAddress).
//  2. The spending transaction's proof verifies (ErrInvalidProof); Babylon
//     does not ask for depth here, only a header it knows.
//  3. An input of the spending transaction spends staking (the staking
//     transaction and the staking output's index), and that input carries
//     a witness of at least 3 items (signature(s), leaf, control block):
//     Babylon checks the staker's signature in it (ErrInvalidRegistration).
//  4. The funding transactions are the staking transaction and every
//     transaction in others that an input spends, in the order of the
//     inputs, each once. An input whose transaction is missing, or a
//     transaction in others that no input spends, is ErrInvalidRegistration.
func NewMsgBTCUndelegate(signer string, staking psbt.Funding, spending *ProvenTx, others []*wire.MsgTx) (*MsgBTCUndelegate, error) {
	// Step 1.
	if err := CheckAddress(signer); err != nil {
		return nil, err
	}
	// Step 2.
	if err := spending.check(); err != nil {
		return nil, err
	}
	// Step 3.
	if staking.Tx == nil || int(staking.Index) >= len(staking.Tx.TxOut) {
		return nil, fmt.Errorf("%w: no staking transaction, or no output %d in it", ErrInvalidRegistration, staking.Index)
	}
	stakingHash := staking.Tx.TxHash()
	want := wire.OutPoint{Hash: stakingHash, Index: staking.Index}
	tx := spending.Tx
	found := false
	for i, in := range tx.TxIn {
		if in.PreviousOutPoint == want {
			if len(in.Witness) < 3 {
				return nil, fmt.Errorf("%w: input %d spends the staking output without a script-path witness (%d items)", ErrInvalidRegistration, i, len(in.Witness))
			}
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: transaction %s does not spend the staking output %v", ErrInvalidRegistration, tx.TxHash(), want)
	}
	// Step 4.
	byHash := map[chainhash.Hash]*wire.MsgTx{stakingHash: staking.Tx}
	for i, o := range others {
		if o == nil {
			return nil, fmt.Errorf("%w: funding transaction %d is nil", ErrInvalidRegistration, i)
		}
		byHash[o.TxHash()] = o
	}
	used := map[chainhash.Hash]bool{}
	var funding [][]byte
	for i, in := range tx.TxIn {
		h := in.PreviousOutPoint.Hash
		f, ok := byHash[h]
		if !ok {
			return nil, fmt.Errorf("%w: input %d spends transaction %s, which is not among the funding transactions", ErrInvalidRegistration, i, h)
		}
		if int(in.PreviousOutPoint.Index) >= len(f.TxOut) {
			return nil, fmt.Errorf("%w: input %d spends output %d of %s, which has %d", ErrInvalidRegistration, i, in.PreviousOutPoint.Index, h, len(f.TxOut))
		}
		if !used[h] {
			used[h] = true
			funding = append(funding, serializeTx(f))
		}
	}
	for _, o := range others {
		if h := o.TxHash(); !used[h] {
			return nil, fmt.Errorf("%w: transaction %s is given as funding but no input spends it", ErrInvalidRegistration, h)
		}
	}
	return &MsgBTCUndelegate{Signer: signer, StakingTxHash: stakingHash.String(), StakeSpendingTx: serializeTx(tx),
		StakeSpendingTxInclusionProof: spending.Proof.clone(), FundingTransactions: funding}, nil
}

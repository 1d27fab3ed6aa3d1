package psbt

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// KeyOrigin is a BIP-32 key origin: the master key fingerprint and the
// derivation path. Given for the staker key, the builders add
// tap_bip32_derivation fields so hardware signers recognise their key.
type KeyOrigin struct {
	Fingerprint uint32
	Path        []uint32
}

// Delegation identifies a stake: the parties and staking time under params.
type Delegation struct {
	Params            *params.Params
	Staker            *btcec.PublicKey
	FinalityProviders []*btcec.PublicKey
	StakingTime       uint16
	StakerOrigin      *KeyOrigin // optional
}

func (d *Delegation) parties() script.Parties {
	return script.Parties{Staker: d.Staker, FinalityProviders: d.FinalityProviders,
		Covenant: d.Params.CovenantKeys(), CovenantQuorum: d.Params.CovenantQuorum()}
}

// validate checks that the delegation has params (made by params.New,
// Parse or Load, so already valid and immutable) and that the staking time
// is within them.
func (d *Delegation) validate() error {
	if !d.Params.Valid() {
		return fmt.Errorf("%w: no params, or params not made by params.New", params.ErrInvalidParams)
	}
	if d.StakingTime < d.Params.MinStakingTime() || d.StakingTime > d.Params.MaxStakingTime() {
		return fmt.Errorf("%w: %d blocks outside %d..%d", params.ErrInvalidStakingTime, d.StakingTime,
			d.Params.MinStakingTime(), d.Params.MaxStakingTime())
	}
	return nil
}

// StakingOutput is the delegation's staking output.
func (d *Delegation) StakingOutput() (*script.Output, error) {
	return script.NewStakingOutput(d.parties(), d.StakingTime)
}

// UnbondingOutput is the output its unbonding transaction creates.
func (d *Delegation) UnbondingOutput() (*script.Output, error) {
	return script.NewUnbondingOutput(d.parties(), d.Params.UnbondingTime())
}

// SlashingChangeOutput is the output returning the unslashed part.
func (d *Delegation) SlashingChangeOutput() (*script.Output, error) {
	return script.NewSlashingChangeOutput(d.Staker, d.Params.UnbondingTime())
}

// Output returns the delegation's output of the given kind.
func (d *Delegation) Output(kind script.OutputKind) (*script.Output, error) {
	switch kind {
	case script.StakingOutputKind:
		return d.StakingOutput()
	case script.UnbondingOutputKind:
		return d.UnbondingOutput()
	case script.SlashingChangeOutputKind:
		return d.SlashingChangeOutput()
	}
	return nil, fmt.Errorf("%w: unknown output kind %v", ErrInvalidOutput, kind)
}

// FundingFrom finds the delegation's output of the given kind in tx and
// names it as the output a transaction will spend. A transaction with no
// such output, or with two, is ErrWrongInput.
func (d *Delegation) FundingFrom(tx *wire.MsgTx, kind script.OutputKind) (Funding, error) {
	if tx == nil {
		return Funding{}, fmt.Errorf("%w: no transaction", ErrWrongInput)
	}
	o, err := d.Output(kind)
	if err != nil {
		return Funding{}, err
	}
	idx := -1
	for i, out := range tx.TxOut {
		if out != nil && bytes.Equal(out.PkScript, o.PkScript) {
			if idx >= 0 {
				return Funding{}, fmt.Errorf("%w: transaction %s pays the %s output twice (outputs %d and %d)", ErrWrongInput, tx.TxHash(), o.Kind, idx, i)
			}
			idx = i
		}
	}
	if idx < 0 {
		return Funding{}, fmt.Errorf("%w: transaction %s has no %s output of this delegation (check the keys, the staking time and the params)", ErrWrongInput, tx.TxHash(), o.Kind)
	}
	return Funding{Tx: tx, Index: uint32(idx)}, nil
}

// tapTree encodes the output's tree as BIP-371 PSBT_OUT_TAP_TREE: each leaf
// in depth-first order as depth, leaf version, compact-size script.
func tapTree(o *script.Output) []byte {
	depths := map[int][]byte{1: {0}, 2: {1, 1}, 3: {2, 2, 1}}[len(o.Paths)]
	var b []byte
	for i, p := range o.Paths {
		b = append(b, depths[i], script.BaseLeafVersion)
		var n bytes.Buffer
		_ = wire.WriteVarInt(&n, 0, uint64(len(p.Script)))
		b = append(b, n.Bytes()...)
		b = append(b, p.Script...)
	}
	return b
}

// describeOutputFields fills a PSBT output's taproot fields for one of our
// outputs: internal key, tree, and the staker's derivation if known.
func describeOutputFields(po *psbt.POutput, o *script.Output, origin *KeyOrigin) {
	po.TaprootInternalKey = o.Taproot.InternalKey.Bytes()
	po.TaprootTapTree = tapTree(o)
	if origin != nil {
		po.TaprootBip32Derivation = []*psbt.TaprootBip32Derivation{stakerDerivation(o, origin)}
	}
}

func stakerDerivation(o *script.Output, origin *KeyOrigin) *psbt.TaprootBip32Derivation {
	d := &psbt.TaprootBip32Derivation{
		XOnlyPubKey:          o.StakerKey().Bytes(),
		MasterKeyFingerprint: origin.Fingerprint,
		Bip32Path:            append([]uint32(nil), origin.Path...),
	}
	for _, p := range o.Paths {
		d.LeafHashes = append(d.LeafHashes, append([]byte(nil), p.LeafHash[:]...))
	}
	return d
}

// tapInput fills a PSBT input spending o through path: witness_utxo,
// tap_internal_key, tap_merkle_root, the leaf script with its control block,
// and the staker's derivation if known. SIGHASH_DEFAULT is implied (the
// field is left unset).
func tapInput(pi *psbt.PInput, o *script.Output, path *script.SpendPath, value int64, origin *KeyOrigin) {
	pi.WitnessUtxo = wire.NewTxOut(value, append([]byte(nil), o.PkScript...))
	pi.TaprootInternalKey = o.Taproot.InternalKey.Bytes()
	root := o.Taproot.Tree.RootHash()
	pi.TaprootMerkleRoot = root[:]
	pi.TaprootLeafScript = []*psbt.TaprootTapLeafScript{{
		ControlBlock: append([]byte(nil), path.ControlBlock...),
		Script:       append([]byte(nil), path.Script...),
		LeafVersion:  txscript.BaseLeafVersion,
	}}
	if origin != nil {
		d := stakerDerivation(o, origin)
		d.LeafHashes = [][]byte{append([]byte(nil), path.LeafHash[:]...)}
		pi.TaprootBip32Derivation = []*psbt.TaprootBip32Derivation{d}
	}
}

// Description says in plain terms what a built transaction does.
type Description struct {
	Kind        string       `json:"kind"`
	Path        string       `json:"path,omitempty"`
	Txid        string       `json:"txid"`
	InputValue  int64        `json:"input_value_sat"`
	OutputValue int64        `json:"output_value_sat"`
	Fee         int64        `json:"fee_sat"`
	VSize       int64        `json:"vsize"`
	FeeRate     float64      `json:"fee_rate_sat_per_vb"`
	Timelock    uint16       `json:"timelock,omitempty"`
	Sequence    uint32       `json:"sequence"`
	Version     int32        `json:"version"`
	Outputs     []OutputDesc `json:"outputs"`
	Notes       []string     `json:"notes,omitempty"`
}

// OutputDesc is one output of a built transaction.
type OutputDesc struct {
	Index    int    `json:"index"`
	Role     string `json:"role"`
	Value    int64  `json:"value_sat"`
	PkScript string `json:"pk_script"`
}

// Result is a built transaction: its PSBT and its description.
type Result struct {
	Packet      *psbt.Packet
	Description Description
}

package psbt

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/psbt/v2"

	"github.com/btcstake/btcstake/params"
	"github.com/btcstake/btcstake/script"
)

// CheckCovenantSigning is what a covenant member must run before signing
// input idx of p (a plain signature on an unbonding leaf, or adaptor
// signatures on a slashing leaf). The input must spend an output of the
// delegation d (its staking output, or for slashing also its unbonding
// output) through that output's own leaf, with a staked value the params
// allow, and the whole transaction must be exactly the unbonding or
// slashing transaction the params permit (ValidateUnbondingTx and
// ValidateSlashingTx rules).
//
// Without this check a staker could collect covenant signatures for a
// transaction that skips the unbonding time lock and the slashing path, or
// for a "slashing" transaction paying the stake back to the staker, which
// would let it pre-empt the real slashing once its finality provider's key
// leaks. Babylon's covenant emulator performs the same checks.
func CheckCovenantSigning(p *psbt.Packet, idx int, d Delegation) error {
	if err := d.validate(); err != nil {
		return err
	}
	ls, leaf, err := tapLeaf(p, idx)
	if err != nil {
		return err
	}
	prev := p.Inputs[idx].WitnessUtxo
	if prev == nil {
		return fmt.Errorf("%w: input %d has no witness_utxo", ErrInvalidPSBT, idx)
	}
	op := p.UnsignedTx.TxIn[idx].PreviousOutPoint
	st, err := d.StakingOutput()
	if err != nil {
		return err
	}
	ub, err := d.UnbondingOutput()
	if err != nil {
		return err
	}
	// Step 1: the spent output and the revealed leaf belong to d.
	var src *script.Output
	switch {
	case bytes.Equal(prev.PkScript, st.PkScript):
		src = st
		if prev.Value < d.Params.MinStakingValue() || prev.Value > d.Params.MaxStakingValue() {
			return fmt.Errorf("%w: %w: staked %d sat outside %d..%d", ErrInvalidTx, params.ErrInvalidStakingValue,
				prev.Value, d.Params.MinStakingValue(), d.Params.MaxStakingValue())
		}
	case bytes.Equal(prev.PkScript, ub.PkScript) && leaf.Kind == script.SlashingPath:
		src = ub
	default:
		return fmt.Errorf("%w: input %d does not spend this delegation's staking output", ErrWrongInput, idx)
	}
	path, err := src.Path(leaf.Kind)
	if err != nil || !bytes.Equal(path.Script, ls.Script) || !bytes.Equal(path.ControlBlock, ls.ControlBlock) {
		return fmt.Errorf("%w: input %d reveals a leaf that is not the %s output's %s leaf", ErrWrongInput, idx, src.Kind, leaf.Kind)
	}
	// Step 2: the transaction is exactly what the params allow.
	switch leaf.Kind {
	case script.UnbondingPath:
		if len(p.UnsignedTx.TxIn) != 1 {
			return invalid(ErrTxInputs, "an unbonding tx has exactly one input (a stake extension is signed with SignExtension)")
		}
		return checkUnbonding(p.UnsignedTx, op, prev.Value, ub, d)
	case script.SlashingPath:
		return checkSlashing(p.UnsignedTx, prev, op, d)
	}
	return fmt.Errorf("%w: covenant members sign only unbonding and slashing leaves, not %s", ErrNotSignable, leaf.Kind)
}

// CovenantSigner is a covenant committee member's signer: the one way this
// package lets a covenant key sign. Every Sign first runs
// CheckCovenantSigning against the delegation the caller names, so a
// wallet or service embedding the package gets the same protection as the
// CLI: no signature for an unbonding transaction that skips the unbonding
// lock, and no adaptor signature for a "slashing" transaction that pays the
// stake anywhere but where the params say.
type CovenantSigner struct {
	key *btcec.PrivateKey
	pub script.XOnlyKey
}

// NewCovenantSigner returns a signer for a covenant member's key. The
// signer keeps its own copy of the key; Zero erases it.
func NewCovenantSigner(key *btcec.PrivateKey) (*CovenantSigner, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: no covenant key", ErrNotSignable)
	}
	b := key.Key.Bytes()
	own, _ := btcec.PrivKeyFromBytes(b[:])
	clear(b[:])
	return &CovenantSigner{key: own, pub: script.XOnly(own.PubKey())}, nil
}

// PublicKey is the member's x-only key.
func (c *CovenantSigner) PublicKey() script.XOnlyKey { return c.pub }

// Zero erases the signer's copy of the key; it signs nothing afterwards.
func (c *CovenantSigner) Zero() {
	if c.key != nil {
		c.key.Zero()
		c.key = nil
	}
}

// Sign signs input idx of p as a covenant member of delegation d and
// returns the number of signatures added:
//
//   - on an unbonding leaf, one BIP-340 signature (tap_script_sig);
//   - on a slashing leaf, one adaptor signature per finality provider,
//     each encrypted to that provider's key (docs/spec.md §6).
//
// Before it signs, the input and the whole transaction must pass
// CheckCovenantSigning(p, idx, d), and the key must be one of the
// delegation's covenant keys (ErrNotSignable). Signing again replaces the
// member's earlier signatures. The packet is changed only on success.
func (c *CovenantSigner) Sign(p *psbt.Packet, idx int, d Delegation) (int, error) {
	if c == nil || c.key == nil {
		return 0, fmt.Errorf("%w: no covenant key (signer zeroed)", ErrNotSignable)
	}
	if err := CheckCovenantSigning(p, idx, d); err != nil {
		return 0, fmt.Errorf("refusing to sign input %d as a covenant member: %w", idx, err)
	}
	_, leaf, err := tapLeaf(p, idx)
	if err != nil {
		return 0, err
	}
	if leaf.Role(c.pub) != script.CovenantRole {
		return 0, fmt.Errorf("%w: %s is not a covenant key of input %d's %s leaf", ErrNotSignable, c.pub, idx, leaf.Kind)
	}
	switch leaf.Kind {
	case script.UnbondingPath:
		cp, err := clonePacket(p)
		if err != nil {
			return 0, err
		}
		if err := signTapscript(cp, idx, c.key); err != nil {
			return 0, err
		}
		*p = *cp
		return 1, nil
	case script.SlashingPath:
		return adaptorSignSlashing(p, idx, c.key)
	}
	return 0, fmt.Errorf("%w: covenant members sign only unbonding and slashing leaves, not %s", ErrNotSignable, leaf.Kind)
}

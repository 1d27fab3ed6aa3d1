package psbt

import (
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/psbt/v2"

	"github.com/btcstake/btcstake/script"
)

// SignRequest says what Sign signs with which key.
type SignRequest struct {
	// Key signs. Required.
	Key *btcec.PrivateKey
	// Inputs are the inputs to sign; nil means every input.
	Inputs []int
	// Covenant returns the delegation a covenant member's signature on
	// input i is checked against (CovenantSigner). It is asked only when
	// Key is a covenant member of an input's unbonding leaf; without it
	// such an input is refused (ErrUncheckedCovenant).
	Covenant func(i int, leaf *script.Leaf) (Delegation, error)
	// Extension returns the new and the previous delegation a covenant
	// member's signature on input 0 of a stake extension is checked
	// against (CovenantSigner.SignExtension). An extension is a
	// transaction of two inputs whose input 0 spends an unbonding leaf
	// (an unbonding transaction has one input). Without it such an input
	// is refused (ErrUncheckedCovenant).
	Extension func(leaf *script.Leaf) (next, prev Delegation, err error)
}

// SigKind is the kind of signature Sign added.
type SigKind int

const (
	// TapScriptSig is a BIP-340 signature on a staking leaf.
	TapScriptSig SigKind = iota + 1
	// FundingSig is a signature of a funding coin (ECDSA or key path).
	FundingSig
)

// String gives the kind's one spelling in text and JSON.
func (k SigKind) String() string {
	switch k {
	case TapScriptSig:
		return "tap_script_sig"
	case FundingSig:
		return "funding"
	}
	return "unknown"
}

// Signed is one signature Sign added.
type Signed struct {
	Input int
	// Role is the key's slot in the input's leaf, or script.NoRole for a
	// funding coin the key owns.
	Role script.Role
	Kind SigKind
}

// RefusalError is Sign's refusal of an input: the input, the key's role
// in its leaf and the leaf's kind, wrapping the rule's error kind
// (ErrSlashingLeafRole).
type RefusalError struct {
	Input int
	Role  script.Role
	Leaf  script.PathKind
	Err   error
}

func (e *RefusalError) Error() string { return e.Err.Error() }
func (e *RefusalError) Unwrap() error { return e.Err }

// Sign adds Key's signatures to the chosen inputs of p wherever the
// protocol lets that key sign, with every rule of this package:
//
//   - a staking leaf in which Key is the staker: SignTapscript;
//   - an unbonding leaf in which Key is a covenant member: CovenantSigner,
//     checked against the delegation Covenant returns; for input 0 of a
//     two-input transaction (a stake extension)
//     CovenantSigner.SignExtension, checked against the delegations
//     Extension returns;
//   - a slashing leaf in which Key is a covenant member or a finality
//     provider: refused (ErrSlashingLeafRole), never signed;
//   - a funding coin Key owns: SignFundingInput (an earlier signature by
//     the key is replaced).
//
// Finalised inputs and inputs where Key has no slot are skipped. When it
// signs nothing, Sign returns the first refusal, or ErrNotSignable. It is
// all or nothing: on any error p is unchanged.
func Sign(p *psbt.Packet, req SignRequest) ([]Signed, error) {
	if req.Key == nil {
		return nil, fmt.Errorf("%w: no key", ErrNotSignable)
	}
	if err := checkPacket(p); err != nil {
		return nil, err
	}
	inputs := req.Inputs
	if inputs == nil {
		for i := range p.Inputs {
			inputs = append(inputs, i)
		}
	}
	cp, err := clonePacket(p)
	if err != nil {
		return nil, err
	}
	x := script.XOnly(req.Key.PubKey())
	var signed []Signed
	var refusal error
	for _, i := range inputs {
		if i < 0 || i >= len(cp.Inputs) {
			return nil, fmt.Errorf("%w: no input %d", ErrWrongInput, i)
		}
		pi := &cp.Inputs[i]
		if pi.FinalScriptWitness != nil || pi.FinalScriptSig != nil {
			continue
		}
		if len(pi.TaprootLeafScript) == 0 {
			ok, err := SignFundingInput(cp, i, req.Key)
			if err != nil {
				return nil, err
			}
			if ok {
				signed = append(signed, Signed{Input: i, Role: script.NoRole, Kind: FundingSig})
			}
			continue
		}
		_, leaf, err := tapLeaf(cp, i)
		if err != nil {
			if refusal == nil {
				refusal = err
			}
			continue
		}
		role := leaf.Role(x)
		switch {
		case role == script.NoRole:
			continue
		case role == script.CovenantRole && leaf.Kind == script.UnbondingPath && i == 0 && len(cp.UnsignedTx.TxIn) == 2:
			if req.Extension == nil {
				return nil, fmt.Errorf("%w: key %s is a covenant member of input 0's unbonding leaf of a stake extension and no delegations were given to check it against", ErrUncheckedCovenant, x)
			}
			next, prev, err := req.Extension(leaf)
			if err != nil {
				return nil, err
			}
			signer, err := NewCovenantSigner(req.Key)
			if err != nil {
				return nil, err
			}
			_, err = signer.SignExtension(cp, next, prev)
			signer.Zero()
			if err != nil {
				return nil, err
			}
		case role == script.CovenantRole && leaf.Kind != script.SlashingPath:
			if req.Covenant == nil {
				return nil, fmt.Errorf("%w: key %s is a covenant member of input %d's %s leaf and no delegation was given to check the transaction against", ErrUncheckedCovenant, x, i, leaf.Kind)
			}
			d, err := req.Covenant(i, leaf)
			if err != nil {
				return nil, err
			}
			signer, err := NewCovenantSigner(req.Key)
			if err != nil {
				return nil, err
			}
			_, err = signer.Sign(cp, i, d)
			signer.Zero()
			if err != nil {
				return nil, err
			}
		default:
			err := SignTapscript(cp, i, req.Key)
			if errors.Is(err, ErrSlashingLeafRole) {
				if refusal == nil {
					refusal = &RefusalError{Input: i, Role: role, Leaf: leaf.Kind, Err: err}
				}
				continue
			}
			if err != nil {
				return nil, err
			}
		}
		signed = append(signed, Signed{Input: i, Role: role, Kind: TapScriptSig})
	}
	if len(signed) == 0 {
		if refusal != nil {
			return nil, refusal
		}
		return nil, fmt.Errorf("%w: key %s is not the staker, a finality provider or a covenant member of any chosen input's leaf, and owns no funding coin among them", ErrNotSignable, x)
	}
	*p = *cp
	return signed, nil
}

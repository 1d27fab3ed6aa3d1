package script

import (
	"fmt"

	"github.com/btcsuite/btcd/wire/v2"
)

// Signatures are the signatures offered for one spend of an output: the
// staker's, and those of finality providers and covenant members keyed by
// their x-only key. Every signature is a 64-byte BIP-340 signature with
// SIGHASH_DEFAULT, committing to the leaf being spent.
type Signatures struct {
	Staker            []byte
	FinalityProviders map[XOnlyKey][]byte
	Covenant          map[XOnlyKey][]byte
}

// Witness assembles the witness spending the output through path kind
// (docs/spec.md §5): the signature items, then the leaf script, then
// its control block.
//
//	timelock:  <StakerSig> <script> <control block>
//	unbonding: <Cov_n> ... <Cov_1> <StakerSig> <script> <control block>
//	slashing:  <Cov_n> ... <Cov_1> <Fp_k> ... <Fp_1> <StakerSig> <script> <control block>
//
// where Cov_1..Cov_n are the covenant keys ascending (so the items run
// descending by key, the largest key at the bottom of the stack) and a key
// that did not sign gets an empty item; likewise Fp_1..Fp_k. It refuses
// anything the script would reject: a missing or malformed staker signature,
// a signature from a key not in the leaf, a covenant count other than the
// quorum, a finality-provider count other than one.
//
// The result shares no memory with sigs. It does not check that the
// signatures verify; finalisers run the script engine for that.
func (o *Output) Witness(kind PathKind, sigs Signatures) (wire.TxWitness, error) {
	path, err := o.Path(kind)
	if err != nil {
		return nil, err
	}
	l := &Leaf{Kind: kind, Staker: o.s, Timelock: path.Timelock}
	if o.p != nil {
		l.FinalityProviders, l.Covenant, l.Quorum = o.p.fps, o.p.cov, o.p.quorum
	}
	return leafWitness(l, path.Script, path.ControlBlock, sigs)
}

func leafWitness(l *Leaf, leafScript, controlBlock []byte, sigs Signatures) (wire.TxWitness, error) {
	if err := checkSig("staker", sigs.Staker); err != nil {
		return nil, err
	}
	var items [][]byte
	switch l.Kind {
	case TimelockPath:
		if len(sigs.FinalityProviders) != 0 || len(sigs.Covenant) != 0 {
			return nil, fmt.Errorf("%w: the timelock path takes only the staker's signature", ErrUnknownSigner)
		}
	case UnbondingPath:
		if len(sigs.FinalityProviders) != 0 {
			return nil, fmt.Errorf("%w: the unbonding path takes no finality provider signature", ErrUnknownSigner)
		}
		cov, err := slots("covenant", l.Covenant, sigs.Covenant, int(l.Quorum))
		if err != nil {
			return nil, err
		}
		items = cov
	case SlashingPath:
		cov, err := slots("covenant", l.Covenant, sigs.Covenant, int(l.Quorum))
		if err != nil {
			return nil, err
		}
		fps, err := slots("finality provider", l.FinalityProviders, sigs.FinalityProviders, 1)
		if err != nil {
			return nil, err
		}
		items = append(cov, fps...)
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnknownPath, l.Kind)
	}
	w := make(wire.TxWitness, 0, len(items)+3)
	w = append(w, items...)
	w = append(w, clone(sigs.Staker), clone(leafScript), clone(controlBlock))
	return w, nil
}

// slots returns one witness item per key in descending key order: a copy of
// the key's signature, or an empty item. keys must be ascending. Exactly
// want signatures must be present, all from keys in the list.
func slots(role string, keys []XOnlyKey, sigs map[XOnlyKey][]byte, want int) ([][]byte, error) {
	found := 0
	for k, s := range sigs {
		if !containsKey(keys, k) {
			return nil, fmt.Errorf("%w: %s signature for %s", ErrUnknownSigner, role, k)
		}
		if err := checkSig(role+" "+k.String(), s); err != nil {
			return nil, err
		}
		found++
	}
	if found != want {
		return nil, fmt.Errorf("%w: %d %s signatures, the script needs exactly %d", ErrSignatureCount, found, role, want)
	}
	out := make([][]byte, len(keys))
	for i := range keys {
		k := keys[len(keys)-1-i]
		if s, ok := sigs[k]; ok {
			out[i] = clone(s)
		} else {
			out[i] = []byte{}
		}
	}
	return out, nil
}

func containsKey(keys []XOnlyKey, k XOnlyKey) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

func checkSig(who string, s []byte) error {
	if s == nil {
		return fmt.Errorf("%w: %s signature missing", ErrSignatureCount, who)
	}
	if len(s) != 64 {
		return fmt.Errorf("%w: %s signature is %d bytes, want 64 (SIGHASH_DEFAULT)", ErrInvalidSignature, who, len(s))
	}
	return nil
}

func clone(b []byte) []byte { return append([]byte{}, b...) }

package script

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/txscript/v2"
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

// SignatureSlot is one key's slot in a witness: the key and its signature,
// nil when the slot is empty.
type SignatureSlot struct {
	Key XOnlyKey
	Sig []byte
}

// LeafSpend is a script-path witness spending a staking leaf, as
// ParseWitness recovers it: the leaf, its control block, and the signature
// of every slot. Slot lists follow the leaf's key lists (ascending), not
// the witness order.
type LeafSpend struct {
	Leaf         *Leaf
	Script       []byte // the leaf script, as in the witness
	ControlBlock *ControlBlock
	// Annex is the BIP-341 annex (first byte 0x50) when the witness has
	// one; nil otherwise. This package never writes one.
	Annex []byte
	// Staker is the staker's signature, nil when its item is empty.
	Staker []byte
	// FinalityProviders has one slot per finality provider of a slashing
	// leaf; nil for the other leaves.
	FinalityProviders []SignatureSlot
	// Covenant has one slot per covenant key of an unbonding or slashing
	// leaf; nil for a timelock leaf.
	Covenant []SignatureSlot
}

// ParseWitness is the inverse of witness assembly (Output.Witness,
// Leaf.Witness): it reads a script-path witness spending a staking leaf,
//
//	timelock:  <StakerSig> <script> <control block> [annex]
//	unbonding: <Cov_n> ... <Cov_1> <StakerSig> <script> <control block> [annex]
//	slashing:  <Cov_n> ... <Cov_1> <Fp_k> ... <Fp_1> <StakerSig> <script> <control block> [annex]
//
// (Cov_1..Cov_n and Fp_1..Fp_k the keys ascending, so the items run
// descending by key), and returns the leaf, the control block and the
// signature in every slot. It checks the layout, not the signatures, and
// takes any number of filled slots, so an incomplete or over-full spend
// still parses (Output.Witness is the one that insists on the quorum).
//
// It fails with ErrUnknownLeaf when the script is not a staking leaf,
// ErrInvalidControlBlock when the control block is malformed or not for a
// tapscript leaf, ErrMalformedWitness when the number of signature items is
// not the leaf's number of slots, and ErrInvalidSignature when an item is
// neither empty nor a BIP-340 signature (64 bytes, or 65 with a valid
// non-default sighash type). The result shares no memory with w.
func ParseWitness(w wire.TxWitness) (*LeafSpend, error) {
	s := &LeafSpend{}
	// Step 1: the annex, if any (BIP-341: at least two items, the last
	// starting with 0x50).
	if n := len(w); n >= 2 && len(w[n-1]) > 0 && w[n-1][0] == 0x50 {
		s.Annex = clone(w[n-1])
		w = w[:n-1]
	}
	n := len(w)
	if n < 3 {
		return nil, fmt.Errorf("%w: %d items, a staking leaf spend has at least 3 (signature, script, control block)", ErrMalformedWitness, n)
	}
	// Step 2: the leaf script and its control block.
	leaf, err := ParseLeafScript(w[n-2])
	if err != nil {
		return nil, fmt.Errorf("witness script: %w", err)
	}
	cb, err := ParseControlBlock(w[n-1])
	if err != nil {
		return nil, err
	}
	if cb.LeafVersion != BaseLeafVersion {
		return nil, fmt.Errorf("%w: leaf version %#x, want tapscript's %#x", ErrInvalidControlBlock, cb.LeafVersion, BaseLeafVersion)
	}
	s.Leaf, s.Script, s.ControlBlock = leaf, clone(w[n-2]), cb
	// Step 3: one item per slot, covenant slots first, then finality
	// providers, then the staker, each group descending by key.
	items := w[:n-2]
	nc, nf := len(leaf.Covenant), len(leaf.FinalityProviders)
	if leaf.Kind == TimelockPath {
		nc, nf = 0, 0
	}
	if len(items) != nc+nf+1 {
		return nil, fmt.Errorf("%w: %d signature items, the %s leaf has %d slots", ErrMalformedWitness, len(items), leaf.Kind, nc+nf+1)
	}
	for i, it := range items {
		if err := checkSlotItem(it); err != nil {
			return nil, fmt.Errorf("witness item %d: %w", i, err)
		}
	}
	if nc > 0 {
		s.Covenant = make([]SignatureSlot, nc)
		for i, k := range leaf.Covenant {
			s.Covenant[i] = SignatureSlot{Key: k, Sig: slotSig(items[nc-1-i])}
		}
	}
	if nf > 0 {
		s.FinalityProviders = make([]SignatureSlot, nf)
		for i, k := range leaf.FinalityProviders {
			s.FinalityProviders[i] = SignatureSlot{Key: k, Sig: slotSig(items[nc+nf-1-i])}
		}
	}
	s.Staker = slotSig(items[nc+nf])
	return s, nil
}

// ParseWitness parses w (see the package function ParseWitness) and checks
// that it spends this output: the leaf is one of the output's paths and the
// control block is that path's (ErrWrongOutput otherwise).
func (o *Output) ParseWitness(w wire.TxWitness) (*LeafSpend, error) {
	s, err := ParseWitness(w)
	if err != nil {
		return nil, err
	}
	for _, p := range o.Paths {
		if p.Kind == s.Leaf.Kind && bytes.Equal(p.Script, s.Script) {
			if !bytes.Equal(p.ControlBlock, s.ControlBlock.Bytes()) {
				return nil, fmt.Errorf("%w: the control block is not the one of the %s output's %s path", ErrWrongOutput, o.Kind, p.Kind)
			}
			return s, nil
		}
	}
	return nil, fmt.Errorf("%w: the %s leaf is not a leaf of this %s output", ErrWrongOutput, s.Leaf.Kind, o.Kind)
}

// checkSlotItem accepts an empty item or a BIP-341 signature: 64 bytes
// (SIGHASH_DEFAULT), or 65 whose last byte is a defined sighash type other
// than default.
func checkSlotItem(it []byte) error {
	switch len(it) {
	case 0, 64:
		return nil
	case 65:
		switch txscript.SigHashType(it[64]) {
		case txscript.SigHashAll, txscript.SigHashNone, txscript.SigHashSingle,
			txscript.SigHashAll | txscript.SigHashAnyOneCanPay, txscript.SigHashNone | txscript.SigHashAnyOneCanPay,
			txscript.SigHashSingle | txscript.SigHashAnyOneCanPay:
			return nil
		}
		return fmt.Errorf("%w: 65-byte signature with sighash type %#x", ErrInvalidSignature, it[64])
	}
	return fmt.Errorf("%w: %d bytes, want 0, 64 or 65", ErrInvalidSignature, len(it))
}

func slotSig(it []byte) []byte {
	if len(it) == 0 {
		return nil
	}
	return clone(it)
}

// Witness rebuilds the witness s was parsed from: the inverse of
// ParseWitness, so a slot can be filled or emptied and the witness written
// back. Empty slots become empty items.
func (s *LeafSpend) Witness() wire.TxWitness {
	w := make(wire.TxWitness, 0, len(s.Covenant)+len(s.FinalityProviders)+4)
	for i := len(s.Covenant) - 1; i >= 0; i-- {
		w = append(w, clone(s.Covenant[i].Sig))
	}
	for i := len(s.FinalityProviders) - 1; i >= 0; i-- {
		w = append(w, clone(s.FinalityProviders[i].Sig))
	}
	w = append(w, clone(s.Staker), clone(s.Script), s.ControlBlock.Bytes())
	if s.Annex != nil {
		w = append(w, clone(s.Annex))
	}
	return w
}

// Signatures returns the filled slots in the form Output.Witness takes
// (maps nil when no slot of the role is filled).
func (s *LeafSpend) Signatures() Signatures {
	sigs := Signatures{Staker: slotSig(s.Staker)}
	sigs.FinalityProviders = filled(s.FinalityProviders)
	sigs.Covenant = filled(s.Covenant)
	return sigs
}

func filled(slots []SignatureSlot) map[XOnlyKey][]byte {
	var m map[XOnlyKey][]byte
	for _, sl := range slots {
		if sl.Sig != nil {
			if m == nil {
				m = map[XOnlyKey][]byte{}
			}
			m[sl.Key] = clone(sl.Sig)
		}
	}
	return m
}

// Signed reports whether key k's slot holds a signature.
func (s *LeafSpend) Signed(k XOnlyKey) bool {
	if s.Leaf.Staker == k {
		return s.Staker != nil
	}
	for _, sl := range s.Covenant {
		if sl.Key == k {
			return sl.Sig != nil
		}
	}
	for _, sl := range s.FinalityProviders {
		if sl.Key == k {
			return sl.Sig != nil
		}
	}
	return false
}

// CountSigned is the number of filled slots among slots.
func CountSigned(slots []SignatureSlot) int {
	n := 0
	for _, sl := range slots {
		if sl.Sig != nil {
			n++
		}
	}
	return n
}

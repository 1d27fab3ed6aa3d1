package psbt

import (
	"bytes"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/psbt/v2"

	"github.com/btcstake/btcstake/adaptor"
	"github.com/btcstake/btcstake/script"
)

// Covenant adaptor signatures travel inside the slashing PSBT as BIP-174
// proprietary input fields:
//
//	key   = 0xfc || 0x08 "btcstake" || 0x01 || covenant x-only key (32)
//	        || finality provider x-only key (32) || leaf hash (32)
//	value = the 65-byte adaptor signature (R0 compressed || s0)
//
// One field per (covenant member, finality provider) pair: each covenant
// member encrypts its signature of the slashing leaf to every finality
// provider's key, so whichever provider double-signs can be slashed.
const (
	proprietaryType    = 0xfc
	proprietaryID      = "btcstake"
	subtypeAdaptorSig  = 0x01
	adaptorKeyDataSize = 1 + len(proprietaryID) + 1 + 32 + 32 + 32
)

// AdaptorSig is a covenant member's adaptor signature on a slashing input,
// encrypted to one finality provider's key.
type AdaptorSig struct {
	Covenant         script.XOnlyKey
	FinalityProvider script.XOnlyKey
	LeafHash         chainhash.Hash
	Sig              *adaptor.Signature
}

func (a *AdaptorSig) unknown() *psbt.Unknown {
	k := make([]byte, 0, 1+adaptorKeyDataSize)
	k = append(k, proprietaryType, byte(len(proprietaryID)))
	k = append(k, proprietaryID...)
	k = append(k, subtypeAdaptorSig)
	k = append(k, a.Covenant[:]...)
	k = append(k, a.FinalityProvider[:]...)
	k = append(k, a.LeafHash[:]...)
	v := a.Sig.Bytes()
	return &psbt.Unknown{Key: k, Value: v[:]}
}

// parseAdaptorUnknown decodes one of our proprietary fields; ok is false for
// any other unknown field.
func parseAdaptorUnknown(u *psbt.Unknown) (a *AdaptorSig, ok bool, err error) {
	prefix := append([]byte{proprietaryType, byte(len(proprietaryID))}, proprietaryID...)
	prefix = append(prefix, subtypeAdaptorSig)
	if !bytes.HasPrefix(u.Key, prefix) {
		return nil, false, nil
	}
	rest := u.Key[len(prefix):]
	if len(rest) != 96 {
		return nil, true, fmt.Errorf("%w: adaptor signature field key has %d bytes of key data, want 96", ErrInvalidPSBT, len(rest))
	}
	s, err := adaptor.Parse(u.Value)
	if err != nil {
		return nil, true, fmt.Errorf("%w: adaptor signature field: %v", ErrInvalidPSBT, err)
	}
	a = &AdaptorSig{Sig: s}
	copy(a.Covenant[:], rest[0:32])
	copy(a.FinalityProvider[:], rest[32:64])
	copy(a.LeafHash[:], rest[64:96])
	return a, true, nil
}

// AdaptorSigs lists the covenant adaptor signatures carried by input idx.
func AdaptorSigs(p *psbt.Packet, idx int) ([]AdaptorSig, error) {
	if err := checkPacket(p); err != nil {
		return nil, err
	}
	if idx < 0 || idx >= len(p.Inputs) {
		return nil, fmt.Errorf("%w: no input %d", ErrWrongInput, idx)
	}
	var out []AdaptorSig
	for _, u := range p.Inputs[idx].Unknowns {
		a, ok, err := parseAdaptorUnknown(u)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, *a)
		}
	}
	return out, nil
}

// slashingLeaf returns input idx's leaf, which must be a slashing leaf.
func slashingLeaf(p *psbt.Packet, idx int) (*psbt.TaprootTapLeafScript, *script.Leaf, chainhash.Hash, error) {
	ls, leaf, err := tapLeaf(p, idx)
	if err != nil {
		return nil, nil, chainhash.Hash{}, err
	}
	if leaf.Kind != script.SlashingPath {
		return nil, nil, chainhash.Hash{}, fmt.Errorf("%w: input %d spends a %s leaf, not a slashing leaf", ErrNotSignable, idx, leaf.Kind)
	}
	return ls, leaf, leafHash(ls.Script), nil
}

// AddAdaptorSig records an adaptor signature on input idx after checking it
// (EncVerify against the covenant key, the finality provider's encryption
// key and the input's slashing sighash). A signature for the same
// (covenant, finality provider, leaf) replaces the earlier one.
func AddAdaptorSig(p *psbt.Packet, idx int, a AdaptorSig) error {
	if err := verifyAdaptorSig(p, idx, a); err != nil {
		return err
	}
	in := &p.Inputs[idx]
	u := a.unknown()
	for i, x := range in.Unknowns {
		if bytes.Equal(x.Key, u.Key) {
			in.Unknowns[i] = u
			return nil
		}
	}
	in.Unknowns = append(in.Unknowns, u)
	return nil
}

// verifyAdaptorSig checks an adaptor signature against input idx's
// slashing leaf and sighash, as AddAdaptorSig does before it records one.
func verifyAdaptorSig(p *psbt.Packet, idx int, a AdaptorSig) error {
	_, leaf, lh, err := slashingLeaf(p, idx)
	if err != nil {
		return err
	}
	if a.LeafHash != lh {
		return fmt.Errorf("%w: adaptor signature is for another leaf", ErrBadSignature)
	}
	if !contains(leaf.Covenant, a.Covenant) {
		return fmt.Errorf("%w: %s is not a covenant key of the leaf", ErrBadSignature, a.Covenant)
	}
	if !contains(leaf.FinalityProviders, a.FinalityProvider) {
		return fmt.Errorf("%w: %s is not a finality provider of the leaf", ErrBadSignature, a.FinalityProvider)
	}
	h, err := TapscriptSigHash(p, idx)
	if err != nil {
		return err
	}
	covPK, _ := a.Covenant.PubKey()
	fpPK, _ := a.FinalityProvider.PubKey()
	ek, err := adaptor.NewEncryptionKey(fpPK)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	if err := adaptor.EncVerify(covPK, ek, h, a.Sig); err != nil {
		return fmt.Errorf("%w: adaptor signature of %s to %s: %v", ErrBadSignature, a.Covenant, a.FinalityProvider, err)
	}
	return nil
}

// adaptorFieldValid reports whether u is one of our adaptor-signature
// fields and verifies for input i of p.
func adaptorFieldValid(p *psbt.Packet, i int, u *psbt.Unknown) bool {
	a, ok, err := parseAdaptorUnknown(u)
	return ok && err == nil && verifyAdaptorSig(p, i, *a) == nil
}

func contains(keys []script.XOnlyKey, k script.XOnlyKey) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// adaptorSignSlashing has a covenant member sign input idx of a slashing
// PSBT with one adaptor signature per finality provider of the leaf, each
// encrypted to that provider's key, and records them. It returns how many
// it added. The packet is changed only on success. It checks nothing about
// the transaction: CovenantSigner.Sign is the way in, after its checks.
func adaptorSignSlashing(p *psbt.Packet, idx int, covKey *btcec.PrivateKey) (int, error) {
	_, leaf, lh, err := slashingLeaf(p, idx)
	if err != nil {
		return 0, err
	}
	if covKey == nil {
		return 0, fmt.Errorf("%w: no covenant key", ErrNotSignable)
	}
	cov := script.XOnly(covKey.PubKey())
	if !contains(leaf.Covenant, cov) {
		return 0, fmt.Errorf("%w: %s is not a covenant key of input %d's slashing leaf", ErrNotSignable, cov, idx)
	}
	h, err := TapscriptSigHash(p, idx)
	if err != nil {
		return 0, err
	}
	sigs := make([]AdaptorSig, 0, len(leaf.FinalityProviders))
	for _, fp := range leaf.FinalityProviders {
		fpPK, _ := fp.PubKey()
		ek, err := adaptor.NewEncryptionKey(fpPK)
		if err != nil {
			return 0, fmt.Errorf("%w: %w", ErrNotSignable, err)
		}
		s, err := adaptor.EncSign(covKey, ek, h)
		if err != nil {
			return 0, fmt.Errorf("%w: %v", ErrNotSignable, err)
		}
		sigs = append(sigs, AdaptorSig{Covenant: cov, FinalityProvider: fp, LeafHash: lh, Sig: s})
	}
	cp, err := clonePacket(p)
	if err != nil {
		return 0, err
	}
	for _, a := range sigs {
		if err := AddAdaptorSig(cp, idx, a); err != nil {
			return 0, err
		}
	}
	*p = *cp
	return len(sigs), nil
}

package script

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// XOnlyKey is a 32-byte BIP-340 x-only public key: the x coordinate of a
// point whose y is taken to be even. It is what every script leaf contains.
type XOnlyKey [32]byte

// XOnly reduces a public key to its x-only form. A key with odd y maps to
// the same XOnlyKey as its negation; consensus treats it as the even-y lift.
func XOnly(pk *btcec.PublicKey) XOnlyKey {
	var k XOnlyKey
	var j secp256k1.JacobianPoint
	pk.AsJacobian(&j) // affine already (Z = 1): no big.Int, no allocation
	j.X.PutBytesUnchecked(k[:])
	return k
}

// ParsePublicKey is the project's one public-key parser: a 32-byte x-only
// key (lifted to the point with even y, as BIP-340 does) or a 33-byte
// compressed key (02 or 03, parity kept). Anything else, or bytes that
// name no curve point, is ErrInvalidKey.
func ParsePublicKey(b []byte) (*btcec.PublicKey, error) {
	switch len(b) {
	case 32:
		pk, err := schnorr.ParsePubKey(b)
		if err != nil {
			return nil, fmt.Errorf("%w: no curve point has the x coordinate %x", ErrInvalidKey, b)
		}
		return pk, nil
	case 33:
		if b[0] != 0x02 && b[0] != 0x03 {
			return nil, fmt.Errorf("%w: a compressed key starts with 02 or 03, not %02x", ErrInvalidKey, b[0])
		}
		pk, err := btcec.ParsePubKey(b)
		if err != nil {
			return nil, fmt.Errorf("%w: no curve point has the compressed encoding %x", ErrInvalidKey, b)
		}
		return pk, nil
	}
	return nil, fmt.Errorf("%w: want 32 bytes (x-only) or 33 (compressed), got %d bytes", ErrInvalidKey, len(b))
}

// ParseXOnlyKey parses a key as ParsePublicKey does and returns its x-only
// form.
func ParseXOnlyKey(b []byte) (XOnlyKey, error) {
	pk, err := ParsePublicKey(b)
	if err != nil {
		return XOnlyKey{}, err
	}
	return XOnly(pk), nil
}

// PubKey lifts the x-only key to the curve point with even y.
func (k XOnlyKey) PubKey() (*btcec.PublicKey, error) {
	pk, err := schnorr.ParsePubKey(k[:])
	if err != nil {
		return nil, fmt.Errorf("%w: %x", ErrInvalidKey, k[:])
	}
	return pk, nil
}

// String returns the key as 64 hex characters.
func (k XOnlyKey) String() string { return hex.EncodeToString(k[:]) }

// compareKeys orders x-only keys by their bytes, as the scripts do.
func compareKeys(a, b XOnlyKey) int { return bytes.Compare(a[:], b[:]) }

// xonlyAll converts keys to x-only form, rejecting nil keys. role names the
// keys in errors ("covenant", "finality provider").
func xonlyAll(role string, keys []*btcec.PublicKey) ([]XOnlyKey, error) {
	out := make([]XOnlyKey, len(keys))
	for i, pk := range keys {
		if pk == nil {
			return nil, fmt.Errorf("%w: %s key %d is nil", ErrInvalidKey, role, i)
		}
		out[i] = XOnly(pk)
	}
	return out, nil
}

// sortedUnique returns a sorted copy of keys, failing with ErrDuplicateKey if
// two are equal. The caller's slice is not modified.
func sortedUnique(role string, keys []XOnlyKey) ([]XOnlyKey, error) {
	s := slices.Clone(keys)
	slices.SortFunc(s, compareKeys)
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return nil, fmt.Errorf("%w: %s key %s appears twice", ErrDuplicateKey, role, s[i])
		}
	}
	return s, nil
}

// Bytes returns a copy of the key's 32 bytes.
func (k XOnlyKey) Bytes() []byte { return append([]byte(nil), k[:]...) }

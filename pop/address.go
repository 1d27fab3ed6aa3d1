package pop

import (
	"fmt"

	"github.com/btcsuite/btcd/address/v2/bech32"
)

// BabylonPrefix is the bech32 prefix of Babylon account addresses on every
// Babylon network (bbn-1, bbn-test-6, local chains).
const BabylonPrefix = "bbn"

// BabylonAddress is a decoded, validated Babylon account address.
type BabylonAddress struct {
	text string
	raw  []byte
}

// ParseBabylonAddress decodes a bech32 Babylon account address.
//
//  1. bech32-decode s (BIP-173, at most 90 characters, bech32 checksum, not
//     bech32m);
//  2. require the prefix "bbn";
//  3. convert the 5-bit data to bytes, requiring 20 bytes (a key account)
//     or 32 bytes (a module or contract account);
//  4. require s to be the canonical lower-case form, since that exact text
//     is what the BIP-322 and ECDSA kinds sign.
func ParseBabylonAddress(s string) (BabylonAddress, error) {
	hrp, data, version, err := bech32.DecodeGeneric(s)
	if err != nil {
		return BabylonAddress{}, fmt.Errorf("%w: Babylon address %q: %v", ErrInvalidAddress, s, err)
	}
	if version != bech32.Version0 {
		return BabylonAddress{}, fmt.Errorf("%w: Babylon address %q has a bech32m checksum; Babylon uses bech32", ErrInvalidAddress, s)
	}
	if hrp != BabylonPrefix {
		return BabylonAddress{}, fmt.Errorf("%w: Babylon address %q has prefix %q, want %q", ErrInvalidAddress, s, hrp, BabylonPrefix)
	}
	raw, err := bech32.ConvertBits(data, 5, 8, false)
	if err != nil {
		return BabylonAddress{}, fmt.Errorf("%w: Babylon address %q: %v", ErrInvalidAddress, s, err)
	}
	if len(raw) != 20 && len(raw) != 32 {
		return BabylonAddress{}, fmt.Errorf("%w: Babylon address %q holds %d bytes, want 20 (or 32 for a module account)", ErrInvalidAddress, s, len(raw))
	}
	canon, err := bech32.EncodeFromBase256(BabylonPrefix, raw)
	if err != nil || canon != s {
		return BabylonAddress{}, fmt.Errorf("%w: Babylon address %q is not in canonical lower-case form", ErrInvalidAddress, s)
	}
	return BabylonAddress{text: s, raw: raw}, nil
}

// String returns the bech32 text, the message the BIP-322 and ECDSA kinds sign.
func (a BabylonAddress) String() string { return a.text }

// Bytes returns a copy of the raw account bytes, hashed by the BIP-340 kind.
func (a BabylonAddress) Bytes() []byte { return append([]byte(nil), a.raw...) }

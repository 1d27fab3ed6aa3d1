package pop

import "errors"

// Error kinds. Every error this package returns wraps exactly one of them,
// so callers can tell the cases apart with errors.Is.
var (
	// ErrInvalidAddress: a Babylon address that is not bech32 with the
	// prefix "bbn" and a valid checksum, or a Bitcoin address in a BIP-322
	// signature that does not decode for the network given.
	ErrInvalidAddress = errors.New("invalid address")
	// ErrUnsupportedAddress: a BIP-322 signature for a Bitcoin address
	// other than P2WPKH or P2TR.
	ErrUnsupportedAddress = errors.New("unsupported address kind")
	// ErrAddressNotStakerKey: the Bitcoin address (or the key in the
	// P2WPKH witness) is not the staker key's.
	ErrAddressNotStakerKey = errors.New("address is not the staker key's")
	// ErrBadSignature: a well-formed signature that does not verify over
	// the message for the key.
	ErrBadSignature = errors.New("signature does not verify")
	// ErrHighS: an ECDSA signature whose s is above half the group order.
	ErrHighS = errors.New("ECDSA signature has a high s")
	// ErrUncompressedKey: a 65-byte public key where Babylon takes only a
	// 33-byte compressed one.
	ErrUncompressedKey = errors.New("uncompressed public key")
	// ErrLegacyMessage: the signature verifies, but over the late-2024
	// message form (SHA256 of the address for BIP-322, the hex of the
	// address for ECDSA), which Babylon no longer accepts.
	ErrLegacyMessage = errors.New("signed over the late-2024 message form, which Babylon no longer accepts")
	// ErrMalformed: bytes that do not parse as a proof of possession, a
	// BIP-322 signature, a witness or a signature of the right length.
	ErrMalformed = errors.New("malformed proof of possession")
	// ErrOption: a missing option, or an option that does not fit the kind.
	ErrOption = errors.New("invalid option")
)

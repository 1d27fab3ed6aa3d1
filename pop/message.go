package pop

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/btcstake/btcstake/internal/secp"
)

// signedMessagePrefix is the text the Bitcoin signed-message format puts
// before every message.
const signedMessagePrefix = "Bitcoin Signed Message:\n"

// bip322Tag is the BIP-340 tag of the BIP-322 message hash.
const bip322Tag = "BIP0322-signed-message"

// bip340Message is what the BIP-340 kind signs: SHA256 of the raw bytes of
// the Babylon address.
func bip340Message(addr BabylonAddress) [32]byte {
	return sha256.Sum256(addr.raw)
}

// bip322Message is what the BIP-322 kind signs today: the ASCII bech32 text
// of the Babylon address.
func bip322Message(addr BabylonAddress) []byte { return []byte(addr.text) }

// bip322LegacyMessage is what the BIP-322 kind signed in late 2024 (babylon
// v0.x): the 32 raw bytes of SHA256 of the raw address bytes.
func bip322LegacyMessage(addr BabylonAddress) []byte {
	h := sha256.Sum256(addr.raw)
	return h[:]
}

// ecdsaLegacyMessage is what the ECDSA kind signed in late 2024 (babylon
// v0.x): the lower-case hex of the raw address bytes.
func ecdsaLegacyMessage(addr BabylonAddress) string { return hex.EncodeToString(addr.raw) }

// signedMessageHash is the Bitcoin signed-message digest of msg:
//
//  1. b = CompactSize(24) || "Bitcoin Signed Message:\n" || CompactSize(len(msg)) || msg;
//  2. return SHA256(SHA256(b)).
func signedMessageHash(msg string) [32]byte {
	var buf bytes.Buffer
	// Writing to a bytes.Buffer does not fail.
	_ = wire.WriteVarString(&buf, 0, signedMessagePrefix)
	_ = wire.WriteVarString(&buf, 0, msg)
	return chainhash.DoubleHashH(buf.Bytes())
}

// bip322MessageHash is BIP-322's message_hash: the BIP-340 tagged hash
// with tag "BIP0322-signed-message" of msg.
func bip322MessageHash(msg []byte) [32]byte {
	return secp.TaggedHash(bip322Tag, msg)
}

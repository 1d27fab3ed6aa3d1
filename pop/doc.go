// Package pop makes and checks the staker's proof of possession (PoP):
// Babylon's ProofOfPossessionBTC, a signature by the Bitcoin staker key
// over the staker's Babylon account address, in one of the three kinds
// Babylon (v4) accepts: BIP-340, BIP-322 simple (P2TR key path or P2WPKH)
// and ECDSA signed message. See docs/spec.md §9.
//
// Create signs, Marshal/Hex give the protobuf bytes babylond takes as
// pop_hex, Parse/ParseHex read them back and Verify checks a proof the way
// Babylon does, naming the late-2024 message forms (ErrLegacyMessage).
package pop

// Package eots implements extractable one-time signatures (EOTS) as used by
// Babylon finality providers, byte-compatible with Babylon's crypto/eots
// (docs/spec.md §7):
//
//   - a signature is the scalar s of a BIP-340 signature made with a nonce
//     (the private randomness k) committed to in advance; r = x(k·G) is the
//     public randomness, and r || s is a valid BIP-340 signature over
//     sha256(msg);
//   - two signatures with the same randomness over different messages reveal
//     the secret key (Extract);
//   - the randomness for each block height is derived deterministically from
//     the secret key and chain ID (DeriveRand), committed to by an RFC-6962
//     Merkle root (CommitProofs) signed with BIP-340 (SignCommit).
//
// No function in this package modifies its arguments. Secret values
// (SecretKey, PrivateRand) offer Zero, and intermediate secret scalars are
// zeroed before returning. The elliptic-curve arithmetic is the variable-time
// ("NonConst") arithmetic of github.com/decred/dcrd/dcrec/secp256k1/v4, the
// same that btcec's BIP-340 signer uses; modular inversion in Extract is
// variable time too (it handles only public data there).
package eots

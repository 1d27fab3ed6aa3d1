//go:build libsecp256k1 && cgo

package eots

import (
	"fmt"

	"github.com/btcstake/btcstake/internal/secp"
)

// signHashBackend computes the signature with libsecp256k1: BIP-340
// signing through secp256k1_schnorrsig_sign_custom with a nonce function
// that returns k, the committed randomness (internal/secp.SignLibsecp).
// The library negates d and k as BIP-340 requires, exactly as signHashGo
// does, so the signature is byte for byte the pure-Go one (the tagged
// tests check it). Its signing is constant time in d and k. The copies of
// d and k handed to it are cleared here; the library wipes its own.
func signHashBackend(sk *SecretKey, k *PrivateRand, m []byte) (PublicRand, Signature, error) {
	if secp.Backend() != "libsecp256k1" {
		r, s := signHashGo(sk, k, m)
		return r, s, nil
	}
	d := sk.d.Bytes()
	kb := k.k.Bytes()
	var sig [64]byte
	ok := secp.SignLibsecp(&sig, m, &d, &sk.pub, &kb)
	clear(d[:])
	clear(kb[:])
	if !ok {
		return PublicRand{}, Signature{}, fmt.Errorf("%w: libsecp256k1 refused to sign", ErrSigningFault)
	}
	var r PublicRand
	var s Signature
	copy(r[:], sig[:32])
	copy(s[:], sig[32:])
	return r, s, nil
}

//go:build !libsecp256k1

package eots

// signHashBackend computes the signature in pure Go (the default build;
// with -tags libsecp256k1 the library signs instead).
func signHashBackend(sk *SecretKey, k *PrivateRand, m []byte) (PublicRand, Signature, error) {
	r, s := signHashGo(sk, k, m)
	return r, s, nil
}

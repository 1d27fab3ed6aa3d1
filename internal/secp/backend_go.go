//go:build !libsecp256k1

package secp

// verifyBIP340Backend is the verification backend of the default build:
// the pure-Go joint multiplication. A file built with the libsecp256k1 tag
// provides this function instead (the single entry point a C backend
// replaces); it must return the same Result for every input, which the
// differential tests check.
func verifyBIP340Backend(pk *PubKey, r, s *[32]byte, m []byte) Result {
	return verifyBIP340Go(pk, r, s, m)
}

// verifyBatchBackend lets a C backend take a batch; the pure-Go build
// leaves every batch to VerifyBatch's multi-scalar multiplication.
func verifyBatchBackend([]BatchItem) ([]Failure, bool) { return nil, false }

// Backend names the implementation VerifyBIP340 (and EOTS signing) use:
// "go" in the default build, "libsecp256k1" with that build tag.
func Backend() string { return "go" }

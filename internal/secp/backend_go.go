//go:build !libsecp256k1

package secp

// The verification backend of the default build: pure Go. These two
// functions are the entry points a C backend replaces: a file built with
// the libsecp256k1 tag provides them instead (and this file drops out).
// Such a backend must return the same Result for every input (it may
// verify with the C library and, when that fails, call verifyBIP340Go for
// the reason), and the same failures from a batch (the C library has no
// batch verification: a loop of its single verifications, or it declines
// and VerifyBatch's pure-Go batch runs); the differential tests of this package run against
// whichever backend is built.

// verifyBIP340Backend verifies one BIP-340 signature.
func verifyBIP340Backend(pk *PubKey, r, s *[32]byte, m []byte) Result {
	return verifyBIP340Go(pk, r, s, m)
}

// verifyBatchBackend lets a C backend take a batch; the pure-Go build
// leaves every batch to VerifyBatch's multi-scalar multiplication.
func verifyBatchBackend([]BatchItem) ([]Failure, bool) { return nil, false }

// Backend names the implementation VerifyBIP340 (and EOTS signing) use:
// "go" in the default build, "libsecp256k1" with that build tag.
func Backend() string { return "go" }

//go:build libsecp256k1 && cgo

package secp

// The libsecp256k1 backend: built with -tags libsecp256k1 (and cgo), it
// links the system's libsecp256k1 (Debian: libsecp256k1-dev, 0.2.0 or
// later, with the extrakeys and schnorrsig modules) and routes BIP-340
// verification, and EOTS signing with a given nonce, through it.
//
// One context serves the whole process: created and randomized (blinding
// of its base-point multiplication, from crypto/rand) once in init, then
// only passed as const to the library, which may use it from many threads
// at once. Each operation is one cgo call to a small C function below that
// takes pointers to Go arrays (no C allocation, no copy: the pointers do not
// escape, see the noescape directives, so the arrays stay on the Go stack).
//
// Illegal-argument reports of the library (its default handler aborts the
// process) go to a handler that only sets a thread-local flag; every
// wrapper clears it first and treats it as a failure. The wrappers never
// pass an argument the library calls illegal, so it is a second guard.

/*
#cgo LDFLAGS: -lsecp256k1
#cgo noescape btcstake_verify
#cgo nocallback btcstake_verify
#cgo noescape btcstake_sign
#cgo nocallback btcstake_sign
#cgo noescape btcstake_bench_verify
#cgo nocallback btcstake_bench_verify
#cgo noescape btcstake_bench_verify_parsed
#cgo nocallback btcstake_bench_verify_parsed
#cgo noescape btcstake_bench_sign
#cgo nocallback btcstake_bench_sign

#include <stddef.h>
#include <string.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

static secp256k1_context *btcstake_ctx;
static _Thread_local int btcstake_illegal;
// 1 when a keypair can be assembled from a secret key and a parsed public
// key (checked in btcstake_init against secp256k1_keypair_create).
static int btcstake_keypair_fast;

static void btcstake_on_illegal(const char *msg, void *data) {
	(void)msg;
	(void)data;
	btcstake_illegal = 1;
}

// btcstake_wipe zeroes n bytes through a volatile pointer, which the
// compiler may not remove as a dead store.
static void btcstake_wipe(void *p, size_t n) {
	volatile unsigned char *v = (volatile unsigned char *)p;
	while (n--) {
		*v++ = 0;
	}
}

// btcstake_keypair fills kp for secret key sk32 whose public key is pub65
// (0x04 || x || y). A keypair is the secret key followed by the library's
// internal form of the public key, the form secp256k1_ec_pubkey_parse
// gives; when init confirmed that layout, this costs a parse instead of
// keypair_create's base-point multiplication.
static int btcstake_keypair(secp256k1_keypair *kp, const unsigned char *sk32, const unsigned char *pub65) {
	secp256k1_pubkey pk;
	if (!btcstake_keypair_fast) {
		return secp256k1_keypair_create(btcstake_ctx, kp, sk32);
	}
	if (!secp256k1_ec_pubkey_parse(btcstake_ctx, &pk, pub65, 65)) {
		return 0;
	}
	memcpy(kp->data, sk32, 32);
	memcpy(kp->data + 32, pk.data, 64);
	return 1;
}

// btcstake_layout_check reports whether btcstake_keypair's assembled
// keypair equals keypair_create's for sk32.
static int btcstake_layout_check(const unsigned char *sk32) {
	secp256k1_keypair want, got;
	secp256k1_pubkey pk;
	unsigned char pub65[65];
	size_t len = sizeof pub65;
	int ok = secp256k1_keypair_create(btcstake_ctx, &want, sk32) &&
		secp256k1_ec_pubkey_create(btcstake_ctx, &pk, sk32) &&
		secp256k1_ec_pubkey_serialize(btcstake_ctx, pub65, &len, &pk, SECP256K1_EC_UNCOMPRESSED) &&
		len == 65;
	if (ok) {
		btcstake_keypair_fast = 1;
		ok = btcstake_keypair(&got, sk32, pub65) && memcmp(&want, &got, sizeof want) == 0;
		btcstake_keypair_fast = 0;
	}
	return ok;
}

// btcstake_init creates and randomizes the context; 0 if that failed.
static int btcstake_init(const unsigned char *seed32) {
	// 1 (even y of 1·G) and n - 1 (odd y): both parities.
	static const unsigned char one[32] = {[31] = 1};
	static const unsigned char nm1[32] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
		0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x40};
	secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (ctx == NULL) {
		return 0;
	}
	secp256k1_context_set_illegal_callback(ctx, btcstake_on_illegal, NULL);
	btcstake_illegal = 0;
	if (!secp256k1_context_randomize(ctx, seed32) || btcstake_illegal) {
		secp256k1_context_destroy(ctx);
		return 0;
	}
	btcstake_ctx = ctx;
	btcstake_keypair_fast = btcstake_layout_check(one) && btcstake_layout_check(nm1) && !btcstake_illegal;
	return 1;
}

// btcstake_verify: BIP-340 verification of r || s over msg under the
// even-y key pub65 (0x04 || x || y). 1 valid, 0 invalid, -1 the key was
// refused or an argument was illegal.
static int btcstake_verify(const unsigned char *pub65, const unsigned char *r32, const unsigned char *s32,
		const unsigned char *msg, size_t msglen) {
	secp256k1_pubkey pk;
	secp256k1_xonly_pubkey xpk;
	unsigned char sig[64];
	int ok;
	btcstake_illegal = 0;
	if (!secp256k1_ec_pubkey_parse(btcstake_ctx, &pk, pub65, 65) ||
		!secp256k1_xonly_pubkey_from_pubkey(btcstake_ctx, &xpk, NULL, &pk)) {
		return -1;
	}
	memcpy(sig, r32, 32);
	memcpy(sig + 32, s32, 32);
	ok = secp256k1_schnorrsig_verify(btcstake_ctx, sig, msg, msglen, &xpk);
	if (btcstake_illegal) {
		return -1;
	}
	return ok;
}

// btcstake_nonce is the nonce function of EOTS signing: the nonce is the
// committed secret randomness k, passed through ndata; the library negates
// it itself when k·G has odd y (BIP-340 signing).
static int btcstake_nonce(unsigned char *nonce32, const unsigned char *msg, size_t msglen,
		const unsigned char *key32, const unsigned char *xonly_pk32, const unsigned char *algo,
		size_t algolen, void *data) {
	(void)msg;
	(void)msglen;
	(void)key32;
	(void)xonly_pk32;
	(void)algo;
	(void)algolen;
	if (data == NULL) {
		return 0;
	}
	memcpy(nonce32, data, 32);
	return 1;
}

// btcstake_sign: BIP-340 signature r || s of msg with secret key sk32
// (public key pub65) and nonce k32, through sign_custom. 1 on success.
// The keypair (it holds the secret key) is wiped before returning.
static int btcstake_sign(unsigned char *sig64, const unsigned char *msg, size_t msglen,
		const unsigned char *sk32, const unsigned char *pub65, const unsigned char *k32) {
	secp256k1_keypair kp;
	secp256k1_schnorrsig_extraparams ep = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
	int ok;
	btcstake_illegal = 0;
	ok = btcstake_keypair(&kp, sk32, pub65);
	if (ok) {
		ep.noncefp = btcstake_nonce;
		ep.ndata = (void *)k32;
		ok = secp256k1_schnorrsig_sign_custom(btcstake_ctx, sig64, msg, msglen, &kp, &ep);
	}
	btcstake_wipe(&kp, sizeof kp);
	if (btcstake_illegal) {
		ok = 0;
	}
	if (!ok) {
		btcstake_wipe(sig64, 64);
	}
	return ok;
}

// The benchmark baselines: the bodies of libsecp256k1's own benchmark
// loops (src/modules/schnorrsig/bench_impl.h), run n times in C. They
// return the number of iterations that succeeded.

// btcstake_bench_verify: parse the x-only key, verify (bench_schnorrsig_verify).
static int btcstake_bench_verify(const unsigned char *xpk32, const unsigned char *sig64,
		const unsigned char *msg32, int n) {
	int i, good = 0;
	for (i = 0; i < n; i++) {
		secp256k1_xonly_pubkey pk;
		if (secp256k1_xonly_pubkey_parse(btcstake_ctx, &pk, xpk32) &&
			secp256k1_schnorrsig_verify(btcstake_ctx, sig64, msg32, 32, &pk)) {
			good++;
		}
	}
	return good;
}

// btcstake_bench_verify_parsed: verify alone, the key parsed once.
static int btcstake_bench_verify_parsed(const unsigned char *xpk32, const unsigned char *sig64,
		const unsigned char *msg32, int n) {
	int i, good = 0;
	secp256k1_xonly_pubkey pk;
	if (!secp256k1_xonly_pubkey_parse(btcstake_ctx, &pk, xpk32)) {
		return 0;
	}
	for (i = 0; i < n; i++) {
		good += secp256k1_schnorrsig_verify(btcstake_ctx, sig64, msg32, 32, &pk);
	}
	return good;
}

// btcstake_bench_sign: sign_custom with the library's own BIP-340 nonce
// function and a keypair made beforehand (bench_schnorrsig_sign).
static int btcstake_bench_sign(const unsigned char *kp96, unsigned char *msg32, int n) {
	int i, good = 0;
	unsigned char sig[64];
	for (i = 0; i < n; i++) {
		msg32[0] = (unsigned char)i;
		msg32[1] = (unsigned char)(i >> 8);
		good += secp256k1_schnorrsig_sign_custom(btcstake_ctx, sig, msg32, 32,
			(const secp256k1_keypair *)kp96, NULL);
	}
	return good;
}

static int btcstake_get_keypair_fast(void) { return btcstake_keypair_fast; }
static void btcstake_set_keypair_fast(int on) { btcstake_keypair_fast = on; }

// btcstake_bench_keypair makes the keypair of sk32 for btcstake_bench_sign.
static int btcstake_bench_keypair(unsigned char *kp96, const unsigned char *sk32) {
	return secp256k1_keypair_create(btcstake_ctx, (secp256k1_keypair *)kp96, sk32);
}
*/
import "C"

import (
	"crypto/rand"
	"unsafe"

	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// libsecpReady is true once init has created and randomized the context
// (it is never false afterwards, and nothing writes it after init).
var libsecpReady bool

func init() {
	var seed [32]byte
	rand.Read(seed[:]) // never fails (Go 1.24+)
	libsecpReady = C.btcstake_init((*C.uchar)(unsafe.Pointer(&seed[0]))) == 1
	clear(seed[:])
}

// Backend names the implementation VerifyBIP340 and EOTS signing use:
// "libsecp256k1" here (or "go" should the library's context not have been
// made, when everything falls back to pure Go).
func Backend() string {
	if libsecpReady {
		return "libsecp256k1"
	}
	return "go"
}

// LibsecpKeypairFast reports whether signing assembles the library's
// keypair from the cached public key (the layout check in init held)
// rather than recomputing it with secp256k1_keypair_create.
func LibsecpKeypairFast() bool { return C.btcstake_get_keypair_fast() == 1 }

// uchar is the C pointer to the first byte of a Go array.
func uchar(p *byte) *C.uchar { return (*C.uchar)(unsafe.Pointer(p)) }

// msgPtr is the C pointer and length of m (nil for an empty message, which
// the library accepts with length 0).
func msgPtr(m []byte) (*C.uchar, C.size_t) {
	if len(m) == 0 {
		return nil, 0
	}
	return uchar(&m[0]), C.size_t(len(m))
}

// pub65 writes 0x04 || x || y of an affine point.
func pub65(out *[65]byte, x *[32]byte, y *secp256k1.FieldVal) {
	out[0] = 4
	copy(out[1:33], x[:])
	yn := *y
	yn.Normalize()
	yn.PutBytesUnchecked(out[33:])
}

// verifyLibsecp is secp256k1_schnorrsig_verify: 1 valid, 0 invalid, -1
// the library refused the key or an argument (never for a PubKey made by
// NewPubKey or ParsePubKey).
func verifyLibsecp(pk *PubKey, r, s *[32]byte, m []byte) int {
	var pub [65]byte
	pub65(&pub, &pk.px, &pk.p.y)
	mp, ml := msgPtr(m)
	return int(C.btcstake_verify(uchar(&pub[0]), uchar(&r[0]), uchar(&s[0]), mp, ml))
}

// verifyBIP340Backend verifies with libsecp256k1. A valid signature costs
// only the library's verification. An invalid one is verified again in
// pure Go, which names the failing step (the library says only valid or
// not), so that the Result is the default build's; should the two
// disagree (a bug in one of them: the differential tests look for it) the
// signature is refused.
func verifyBIP340Backend(pk *PubKey, r, s *[32]byte, m []byte) Result {
	if !libsecpReady {
		return verifyBIP340Go(pk, r, s, m)
	}
	switch verifyLibsecp(pk, r, s, m) {
	case 1:
		return Valid
	case -1:
		return verifyBIP340Go(pk, r, s, m)
	}
	if res := verifyBIP340Go(pk, r, s, m); res != Valid {
		return res
	}
	return RMismatch
}

// libsecpBatchMax is the largest batch VerifyBatch verifies one by one
// with the library; larger ones go to the pure-Go batch verification
// (libsecp256k1 0.2.0 has no batch verification). Measured on the 2-core
// machine: the pure-Go batch costs 2.2x the library's loop at 3
// signatures, 1.7x at 32, 1.1x at 160, about 1.0x at 320, 0.93x at 480
// and 0.83x at 1,000. A variable so that the tests can send small batches
// to the pure-Go path.
var libsecpBatchMax = 320

// verifyBatchBackend verifies a batch of at most libsecpBatchMax items
// one by one with the library (the same Failures as VerifyBatch's: each
// item's own Result, NoKey for an item without a key, in index order).
func verifyBatchBackend(items []BatchItem) ([]Failure, bool) {
	if !libsecpReady || len(items) > libsecpBatchMax {
		return nil, false
	}
	var fails []Failure
	for i := range items {
		it := &items[i]
		if it.Key == nil {
			fails = append(fails, Failure{i, NoKey})
			continue
		}
		if res := verifyBIP340Backend(it.Key, &it.R, &it.S, it.Msg); res != Valid {
			fails = append(fails, Failure{i, res})
		}
	}
	return fails, true
}

// SignLibsecp writes the BIP-340 signature r || s of m with secret key d
// and nonce k, through secp256k1_schnorrsig_sign_custom with a nonce
// function that returns k. d and k are used as given, and the library
// applies BIP-340's negations itself (d when pub has odd y, k when k·G
// has odd y), so the signature is the one eots signs in pure Go for the
// same d, k and m. pub must be d·G. It returns false (and a zeroed sig)
// if the backend is not ready, d or k is zero or not below n (the library
// would reduce such a k silently), or the library refused. The library's
// copies of d and k are wiped by it and by the wrapper; d and k
// themselves are the caller's to clear.
//
// The library's signing is constant time in d and k.
func SignLibsecp(sig *[64]byte, m []byte, d *[32]byte, pub *secp256k1.PublicKey, k *[32]byte) bool {
	clear(sig[:])
	if !libsecpReady || !validScalar(d) || !validScalar(k) {
		return false
	}
	var P secp256k1.JacobianPoint
	pub.AsJacobian(&P)
	var x [32]byte
	P.X.PutBytesUnchecked(x[:])
	var pb [65]byte
	pub65(&pb, &x, &P.Y)
	mp, ml := msgPtr(m)
	return C.btcstake_sign(uchar(&sig[0]), mp, ml, uchar(&d[0]), uchar(&pb[0]), uchar(&k[0])) == 1
}

// validScalar reports whether b is in [1, n-1] (constant time in b's
// value; the result is the only branch).
func validScalar(b *[32]byte) bool {
	var v secp256k1.ModNScalar
	overflow := v.SetBytes(b)
	ok := overflow == 0 && !v.IsZero()
	v.Zero()
	return ok
}

// setKeypairFast switches the keypair assembly (tests of the fallback to
// secp256k1_keypair_create only; not safe while signing runs).
func setKeypairFast(on bool) {
	v := C.int(0)
	if on {
		v = 1
	}
	C.btcstake_set_keypair_fast(v)
}

// CBenchVerify runs n iterations of libsecp256k1's own verification
// benchmark body (parse the x-only key, verify) in C, for the benchmarks
// that compare the backend with the library; it returns how many
// verified.
func CBenchVerify(xpk *[32]byte, sig *[64]byte, msg *[32]byte, n int) int {
	return int(C.btcstake_bench_verify(uchar(&xpk[0]), uchar(&sig[0]), uchar(&msg[0]), C.int(n)))
}

// CBenchVerifyParsed is CBenchVerify with the key parsed once: the
// verification alone.
func CBenchVerifyParsed(xpk *[32]byte, sig *[64]byte, msg *[32]byte, n int) int {
	return int(C.btcstake_bench_verify_parsed(uchar(&xpk[0]), uchar(&sig[0]), uchar(&msg[0]), C.int(n)))
}

// CBenchKeypair is a keypair for CBenchSign (benchmarks only: it holds a
// secret key and is not wiped).
type CBenchKeypair struct{ kp [96]byte }

// NewCBenchKeypair makes the keypair of sk with secp256k1_keypair_create.
func NewCBenchKeypair(sk *[32]byte) (*CBenchKeypair, bool) {
	kp := new(CBenchKeypair)
	ok := C.btcstake_bench_keypair(uchar(&kp.kp[0]), uchar(&sk[0])) == 1
	return kp, ok
}

// CBenchSign runs n iterations of libsecp256k1's own signing benchmark
// body (sign_custom with its BIP-340 nonce function, over msg with its
// first two bytes set to the iteration) in C; it returns how many signed.
func CBenchSign(kp *CBenchKeypair, msg *[32]byte, n int) int {
	return int(C.btcstake_bench_sign(uchar(&kp.kp[0]), uchar(&msg[0]), C.int(n)))
}

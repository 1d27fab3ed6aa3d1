//go:build libsecp256k1 && cgo

package secp

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"os"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	secp256k1 "github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// TestBackendIsLibsecp: a build with the tag really verifies with the
// library (so that CI's second test run is not the pure-Go one again).
func TestBackendIsLibsecp(t *testing.T) {
	if got := Backend(); got != "libsecp256k1" {
		t.Fatalf("Backend() = %q with -tags libsecp256k1", got)
	}
	t.Logf("keypair assembled from the cached public key: %v", LibsecpKeypairFast())
}

// TestLibsecpDifferential: the library and the pure-Go verifier (and the
// reference verifier) agree on validity for random signatures, valid and
// broken in every way BIP-340 verification distinguishes, keys of both
// parities, messages of several lengths; and VerifyBIP340 through the
// backend gives the pure-Go Result.
func TestLibsecpDifferential(t *testing.T) {
	r := newRand(t)
	n := 3000
	if testing.Short() {
		n = 600
	}
	var valid, invalid int
	for i := 0; i < n; i++ {
		c := randSigCase(r)
		pk := NewPubKey(c.key.PubKey())
		lib := verifyLibsecp(&pk, &c.r, &c.s, c.msg)
		gores := verifyBIP340Go(&pk, &c.r, &c.s, c.msg)
		ref := VerifyBIP340Reference(&pk, &c.r, &c.s, c.msg)
		if lib == -1 {
			t.Fatalf("case %d: the library refused a valid key", i)
		}
		if (lib == 1) != (gores == Valid) || gores != ref {
			t.Fatalf("case %d (msg %d bytes): library %d, Go %v, reference %v", i, len(c.msg), lib, gores, ref)
		}
		if got := VerifyBIP340(&pk, &c.r, &c.s, c.msg); got != gores {
			t.Fatalf("case %d: backend %v, Go %v", i, got, gores)
		}
		if lib == 1 {
			valid++
		} else {
			invalid++
		}
	}
	if valid == 0 || invalid == 0 {
		t.Fatalf("valid %d, invalid %d: the cases do not cover both", valid, invalid)
	}
}

// TestLibsecpVectors: every BIP-340 verification vector through the
// library directly; and every signing vector reproduced by SignLibsecp
// with the nonce BIP-340's default nonce function gives (computed here
// from the spec, so the vector's signature is an independent oracle).
func TestLibsecpVectors(t *testing.T) {
	for _, v := range loadBIP340(t) {
		pk, ok := ParsePubKey((*[32]byte)(v.pk))
		if !ok {
			continue
		}
		lib := verifyLibsecp(&pk, (*[32]byte)(v.sig[:32]), (*[32]byte)(v.sig[32:]), v.msg)
		if (lib == 1) != v.valid {
			t.Fatalf("vector %s (%s): library %d, want valid=%v", v.index, v.comment, lib, v.valid)
		}
	}
	signed := 0
	for _, row := range readCSV(t, "testdata/bip340-test-vectors.csv")[1:] {
		if row[1] == "" {
			continue // a verification-only vector
		}
		dec := func(s string) []byte {
			b, err := hex.DecodeString(s)
			if err != nil {
				t.Fatalf("vector %s: %v", row[0], err)
			}
			return b
		}
		skb, aux, msg, want := dec(row[1]), dec(row[3]), dec(row[4]), dec(row[5])
		priv, pub := btcec.PrivKeyFromBytes(skb)
		d := priv.Key.Bytes()
		k := bip340Nonce(t, priv, aux, msg)
		var sig [64]byte
		if !SignLibsecp(&sig, msg, &d, pub, &k) {
			t.Fatalf("vector %s: SignLibsecp refused", row[0])
		}
		if !bytes.Equal(sig[:], want) {
			t.Fatalf("vector %s: signed %x, want %x", row[0], sig, want)
		}
		signed++
	}
	if signed < 4 {
		t.Fatalf("only %d signing vectors", signed)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(io.LimitReader(f, 1<<20)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// bip340Nonce is BIP-340's default nonce: d' = d or n - d (even y),
// t = d' XOR hash_aux(a), k' = int(hash_nonce(t || x(P) || m)) mod n.
func bip340Nonce(t *testing.T, priv *btcec.PrivateKey, aux, m []byte) [32]byte {
	d := priv.Key
	pub := NewPubKey(priv.PubKey())
	if priv.PubKey().SerializeCompressed()[0] == 3 {
		d.Negate()
	}
	db := d.Bytes()
	mask := TaggedHash("BIP0340/aux", aux)
	for i := range db {
		db[i] ^= mask[i]
	}
	h := TaggedHash("BIP0340/nonce", db[:], pub.px[:], m)
	var k secp256k1.ModNScalar
	k.SetBytes(&h)
	if k.IsZero() {
		t.Fatal("zero nonce")
	}
	return k.Bytes()
}

// TestSignLibsecpRefuses: zero or out-of-range secrets and nonces are
// refused with a zeroed signature, never signed with a reduced value.
func TestSignLibsecpRefuses(t *testing.T) {
	priv, pub := btcec.PrivKeyFromBytes([]byte{7})
	d := priv.Key.Bytes()
	k := [32]byte{31: 9}
	n := curveN.Bytes()
	var big [32]byte
	copy(big[:], n)
	m := sha256.Sum256([]byte("m"))
	for name, c := range map[string]struct{ d, k [32]byte }{
		"d = 0": {[32]byte{}, k}, "k = 0": {d, [32]byte{}},
		"d = n": {big, k}, "k = n": {d, big},
	} {
		sig := [64]byte{1, 2, 3}
		if SignLibsecp(&sig, m[:], &c.d, pub, &c.k) {
			t.Fatalf("%s: signed", name)
		}
		if sig != [64]byte{} {
			t.Fatalf("%s: signature not zeroed", name)
		}
	}
	var sig [64]byte
	if !SignLibsecp(&sig, m[:], &d, pub, &k) {
		t.Fatal("a valid key and nonce refused")
	}
}

// TestSignLibsecpKeypairFallback: with the keypair made by
// secp256k1_keypair_create (the fallback when the layout check fails) the
// signatures are the same as with the assembled keypair.
func TestSignLibsecpKeypairFallback(t *testing.T) {
	if !LibsecpKeypairFast() {
		t.Log("the layout check failed: signing already uses keypair_create")
	}
	r := newRand(t)
	defer setKeypairFast(LibsecpKeypairFast())
	for i := 0; i < 50; i++ {
		var kb, nb [32]byte
		r.Read(kb[:])
		r.Read(nb[:])
		priv, pub := btcec.PrivKeyFromBytes(kb[:])
		d := priv.Key.Bytes()
		var k secp256k1.ModNScalar
		k.SetBytes(&nb)
		kk := k.Bytes()
		m := make([]byte, r.Intn(70))
		r.Read(m)
		var a, b [64]byte
		setKeypairFast(true)
		okA := SignLibsecp(&a, m, &d, pub, &kk)
		setKeypairFast(false)
		okB := SignLibsecp(&b, m, &d, pub, &kk)
		if !okA || !okB || a != b {
			t.Fatalf("case %d: assembled %v %x, created %v %x", i, okA, a, okB, b)
		}
		pk := NewPubKey(pub)
		if VerifyBIP340Reference(&pk, (*[32]byte)(a[:32]), (*[32]byte)(a[32:]), m) != Valid {
			t.Fatalf("case %d: signature does not verify", i)
		}
	}
}

// TestLibsecpConcurrent: the shared context under concurrent verification
// and signing (run with -race in CI's tagged pass).
func TestLibsecpConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(g)))
			for i := 0; i < 40; i++ {
				c := randSigCase(r)
				pk := NewPubKey(c.key.PubKey())
				if got, want := VerifyBIP340(&pk, &c.r, &c.s, c.msg), verifyBIP340Go(&pk, &c.r, &c.s, c.msg); got != want {
					errs <- "verify differs"
					return
				}
				d := c.key.Key.Bytes()
				k := [32]byte{0: byte(g), 31: byte(i + 1)}
				var sig [64]byte
				if !SignLibsecp(&sig, c.msg, &d, c.key.PubKey(), &k) ||
					verifyBIP340Go(&pk, (*[32]byte)(sig[:32]), (*[32]byte)(sig[32:]), c.msg) != Valid {
					errs <- "sign failed"
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// TestVerifyBatchPaths: with the library, small batches are verified one
// by one and large ones by the pure-Go batch equation; both give the
// one-by-one failures. The pure-Go path is also run on small batches
// (the threshold lowered), as the default build runs it.
func TestVerifyBatchPaths(t *testing.T) {
	r := newRand(t)
	large := batchCase(r, libsecpBatchMax+40, map[int]bool{3: true, 200: true, libsecpBatchMax + 1: true})
	if _, done := verifyBatchBackend(large); done {
		t.Fatal("a large batch went to the one-by-one loop")
	}
	if got := checkBatch(t, large, "large"); len(got) != 3 {
		t.Fatalf("large batch: %v", got)
	}
	small := batchCase(r, 9, map[int]bool{0: true, 8: true})
	if _, done := verifyBatchBackend(small); !done {
		t.Fatal("a small batch did not go to the library")
	}
	if got := checkBatch(t, small, "small"); len(got) != 2 {
		t.Fatalf("small batch: %v", got)
	}
	small[4].Key = nil
	if got := VerifyBatch(small); len(got) != 3 || got[0].Index != 0 || got[1] != (Failure{4, NoKey}) || got[2].Index != 8 {
		t.Fatalf("small batch with a nil key: %v", got)
	}
	small[4] = small[5]
	defer func(v int) { libsecpBatchMax = v }(libsecpBatchMax)
	libsecpBatchMax = 0
	if _, done := verifyBatchBackend(small); done {
		t.Fatal("threshold 0: the library took the batch")
	}
	for _, n := range []int{2, 3, 8, 30, 64} {
		bad := map[int]bool{r.Intn(n): true}
		checkBatch(t, batchCase(r, n, bad), fmt.Sprintf("pure-Go n=%d", n))
		checkBatch(t, batchCase(r, n, nil), fmt.Sprintf("pure-Go valid n=%d", n))
	}
}

package eots

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
)

func leaf(b []byte) [32]byte { return sha256.Sum256(append([]byte{0}, b...)) }

func inner(l, r [32]byte) [32]byte {
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

// TestMerkleHandComputed spells out the RFC-6962 trees for 1, 2, 3, 5 and 8
// leaves: split at the largest power of two below n.
func TestMerkleHandComputed(t *testing.T) {
	rng := newRand(t)
	var rs [8]PublicRand
	var L [8][32]byte
	for i := range rs {
		rng.Read(rs[i][:])
		L[i] = leaf(rs[i][:])
	}
	cases := []struct {
		n    int
		want [32]byte
	}{
		{1, L[0]},
		{2, inner(L[0], L[1])},
		{3, inner(inner(L[0], L[1]), L[2])},
		{5, inner(inner(inner(L[0], L[1]), inner(L[2], L[3])), L[4])},
		{8, inner(inner(inner(L[0], L[1]), inner(L[2], L[3])), inner(inner(L[4], L[5]), inner(L[6], L[7])))},
	}
	for _, c := range cases {
		t.Run(string(rune('0'+c.n))+"_leaves", func(t *testing.T) {
			if got := CommitRoot(rs[:c.n]); got != c.want {
				t.Fatalf("CommitRoot %x, want %x", got, c.want)
			}
			items := make([][]byte, c.n)
			for i := range items {
				items[i] = rs[i][:]
			}
			if got := MerkleRoot(items); got != c.want {
				t.Fatalf("MerkleRoot %x, want %x", got, c.want)
			}
			root, proofs := CommitProofs(rs[:c.n])
			if root != c.want {
				t.Fatalf("CommitProofs root %x, want %x", root, c.want)
			}
			for i := range proofs {
				if err := proofs[i].Verify(root, rs[i][:]); err != nil {
					t.Fatalf("proof %d: %v", i, err)
				}
			}
		})
	}
	if got := CommitRoot(nil); got != sha256.Sum256(nil) {
		t.Fatal("empty root")
	}
}

// TestMerkleCometBFTVectors pins the roots published in CometBFT's
// crypto/merkle/tree_test.go (TestHashFromByteSlices).
func TestMerkleCometBFTVectors(t *testing.T) {
	cases := []struct {
		name  string
		items [][]byte
		want  string
	}{
		{"empty", nil, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"single", [][]byte{{1, 2, 3}}, "054edec1d0211f624fed0cbca9d4f9400b0e491c43742af2c5b0abebf0c990d8"},
		{"single_blank", [][]byte{{}}, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"},
		{"two", [][]byte{{1, 2, 3}, {4, 5, 6}}, "82e6cfce00453804379b53962939eaa7906b39904be0813fcadd31b100773c4b"},
		{"many", [][]byte{{1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}}, "f326493eceab4f2d9ffbc78c59432a0a005d6ea98392045c74df5d14a113be18"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := MerkleRoot(c.items)
			if hex.EncodeToString(got[:]) != c.want {
				t.Fatalf("%x, want %s", got, c.want)
			}
		})
	}
}

func TestMerkleProofs100(t *testing.T) {
	rng := newRand(t)
	rs := make([]PublicRand, 100)
	for i := range rs {
		rng.Read(rs[i][:])
	}
	root, proofs := CommitProofs(rs)
	if root != CommitRoot(rs) {
		t.Fatal("roots differ")
	}
	for i := range proofs {
		p := proofs[i]
		if err := VerifyInclusion(root, 100, uint64(i), rs[i][:], &p); err != nil {
			t.Fatalf("proof %d: %v", i, err)
		}
		// Round trip through the binary encoding.
		enc, _ := p.MarshalBinary()
		q, err := ParseProof(enc)
		if err != nil {
			t.Fatalf("proof %d: %v", i, err)
		}
		if err := q.Verify(root, rs[i][:]); err != nil {
			t.Fatalf("parsed proof %d: %v", i, err)
		}
		// Tampering: another item, the root, an index, the total, each aunt
		// bit, a missing or extra aunt.
		other := rs[(i+1)%len(rs)]
		if err := p.Verify(root, other[:]); !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("proof %d accepts another item", i)
		}
		badRoot := root
		badRoot[rng.Uint64()%32] ^= 1 << (rng.Uint64() % 8)
		if err := p.Verify(badRoot, rs[i][:]); !errors.Is(err, ErrInvalidProof) {
			t.Fatalf("proof %d accepts another root", i)
		}
		for _, mut := range []func(*Proof){
			func(q *Proof) { q.Index = (q.Index + 1) % q.Total },
			func(q *Proof) { q.Index = q.Total },
			func(q *Proof) { q.Total++ },
			func(q *Proof) { q.Total = 0 },
			func(q *Proof) { q.Aunts = q.Aunts[:len(q.Aunts)-1] },
			func(q *Proof) { q.Aunts = append(q.Aunts, root) },
			func(q *Proof) { q.LeafHash[0] ^= 1 },
		} {
			q := p
			q.Aunts = append([][32]byte(nil), p.Aunts...)
			mut(&q)
			if err := VerifyInclusion(root, 100, uint64(i), rs[i][:], &q); !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("proof %d: tampered proof accepted", i)
			}
		}
		for j := range p.Aunts {
			q := p
			q.Aunts = append([][32]byte(nil), p.Aunts...)
			q.Aunts[j][rng.Uint64()%32] ^= 1 << (rng.Uint64() % 8)
			if err := q.Verify(root, rs[i][:]); !errors.Is(err, ErrInvalidProof) {
				t.Fatalf("proof %d: flipped aunt %d accepted", i, j)
			}
		}
	}
}

func TestCommitSignature(t *testing.T) {
	rng := newRand(t)
	sk := mustKey(t, rng)
	list, _ := PublicRandList(sk, []byte("chain"), 10, 16, 1)
	root := CommitRoot(list)
	sig, err := SignCommit(sk, 10, 16, root)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyCommit(sk.PubKey(), 10, 16, root, sig[:]); err != nil {
		t.Fatal(err)
	}
	if err := VerifyCommit(mustXOnly(t, sk), 10, 16, root, sig[:]); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ start, count uint64 }{{11, 16}, {10, 15}} {
		if err := VerifyCommit(sk.PubKey(), c.start, c.count, root, sig[:]); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("%+v accepted", c)
		}
	}
	if err := VerifyCommit(sk.PubKey(), 10, 16, root, sig[:63]); !errors.Is(err, ErrInvalidSignature) {
		t.Fatal("short signature accepted")
	}
	// The hash is sha256(BE64(start) || BE64(count) || root).
	want := sha256.Sum256(append([]byte{0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 16}, root[:]...))
	if CommitHash(10, 16, root) != want {
		t.Fatal("commit hash layout")
	}
	vm := VoteMessage(0x0102, [32]byte{0xaa})
	if hex.EncodeToString(vm[:9]) != "0000000000000102aa" || len(vm) != 40 {
		t.Fatalf("vote message %x", vm)
	}
}

// TestSigningContext: Babylon v3's context-prefixed forms, and that an empty
// context gives docs/spec.md's unprefixed bytes.
func TestSigningContext(t *testing.T) {
	ctx := SigningContext(ContextFinalityVote, "bbn-1", "bbn1addr")
	want := sha256.Sum256([]byte("btcstaking/0/fp_fin_vote/bbn-1/bbn1addr"))
	if ctx != hex.EncodeToString(want[:]) || len(ctx) != 64 {
		t.Fatalf("context %q", ctx)
	}
	root := [32]byte{7}
	if CommitHashWithContext("", 5, 6, root) != CommitHash(5, 6, root) {
		t.Fatal("empty context differs from CommitHash")
	}
	withCtx := CommitHashWithContext(ctx, 5, 6, root)
	plain := append([]byte(ctx), []byte{0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 6}...)
	if withCtx != sha256.Sum256(append(plain, root[:]...)) {
		t.Fatal("commit hash with context layout")
	}
	vm := VoteMessageWithContext(ctx, 9, [32]byte{1})
	if string(vm[:64]) != ctx || len(vm) != 64+8+32 || vm[64+7] != 9 || vm[72] != 1 {
		t.Fatalf("vote message %x", vm)
	}
	if string(VoteMessageWithContext("", 9, [32]byte{1})) != string(VoteMessage(9, [32]byte{1})) {
		t.Fatal("empty context differs from VoteMessage")
	}
	rng := newRand(t)
	sk := mustKey(t, rng)
	rctx := SigningContext(ContextRandCommit, "bbn-1", "bbn1addr")
	sig, err := SignCommitWithContext(sk, rctx, 5, 6, root)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyCommitWithContext(sk.PubKey(), rctx, 5, 6, root, sig[:]); err != nil {
		t.Fatal(err)
	}
	if err := VerifyCommit(sk.PubKey(), 5, 6, root, sig[:]); !errors.Is(err, ErrInvalidSignature) {
		t.Fatal("context ignored by verification")
	}
}

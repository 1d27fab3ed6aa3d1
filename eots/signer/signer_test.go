package signer

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/btcstake/btcstake/eots"
)

func isDoubleSign(err error) bool { return errors.Is(err, ErrDoubleSign) }

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "records.db")
	st, err := OpenStore(path, StoreOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestSignRecordsAndRepeats(t *testing.T) {
	rng := newRand(t)
	sk := newKey(t, rng)
	st, path := openTemp(t)
	s, err := New(st, sk)
	if err != nil {
		t.Fatal(err)
	}
	chain := []byte("bbn-test-5")
	list, _ := eots.PublicRandList(sk, chain, 100, 5, 1)
	for i := uint64(0); i < 5; i++ {
		msg := eots.VoteMessage(100+i, [32]byte{byte(i)})
		res, err := s.Sign(chain, 100+i, msg)
		if err != nil || res.Existing {
			t.Fatalf("height %d: %v %+v", 100+i, err, res)
		}
		// Verifies with eots.Verify and uses the committed randomness.
		if res.PubRand != list[i] {
			t.Fatalf("height %d: randomness differs from PublicRandList", 100+i)
		}
		if err := eots.Verify(sk.PubKey(), res.PubRand, msg, res.Sig); err != nil {
			t.Fatal(err)
		}
		// The same message again: the identical, stored signature.
		again, err := s.Sign(chain, 100+i, msg)
		if err != nil || !again.Existing || again.Sig != res.Sig || again.PubRand != res.PubRand {
			t.Fatalf("repeat: %v %+v", err, again)
		}
		// A different message: refused, and the file is untouched.
		before := fileHash(t, path)
		_, err = s.Sign(chain, 100+i, append(msg, 0))
		if !errors.Is(err, ErrDoubleSign) {
			t.Fatalf("double sign: %v", err)
		}
		if fileHash(t, path) != before {
			t.Fatal("refused request changed the store file")
		}
	}
	recs, err := s.Records(chain)
	if err != nil || len(recs) != 5 {
		t.Fatalf("records: %v %d", err, len(recs))
	}
	for i, r := range recs {
		if r.Height != 100+uint64(i) || r.ChainID != string(chain) || r.PublicKey != sk.XOnly() || r.Time.IsZero() {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
	// Another chain is independent.
	if _, err := s.Sign([]byte("other-chain"), 100, []byte("x")); err != nil {
		t.Fatal(err)
	}
	// A reopened store remembers.
	st.Close()
	st2, err := OpenStore(path, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	s2, _ := New(st2, sk)
	if _, err := s2.Sign(chain, 100, []byte("something else")); !errors.Is(err, ErrDoubleSign) {
		t.Fatalf("after reopen: %v", err)
	}
	if _, err := s.Sign(nil, 1, []byte("x")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal("empty chain ID accepted")
	}
	if _, err := s.Sign(chain, 1, make([]byte, MaxMessageSize+1)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal("oversized message accepted")
	}
}

// TestConcurrentSameHeight: 64 goroutines race to sign different messages
// at one height; exactly one wins.
func TestConcurrentSameHeight(t *testing.T) {
	rng := newRand(t)
	sk := newKey(t, rng)
	st, _ := openTemp(t)
	s, _ := New(st, sk)
	chain := []byte("race")
	const n = 64
	var wg sync.WaitGroup
	results := make([]Result, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			results[i], errs[i] = s.Sign(chain, 7, []byte(fmt.Sprintf("message %d", i)))
		}(i)
	}
	close(start)
	wg.Wait()
	winner := -1
	for i := 0; i < n; i++ {
		switch {
		case errs[i] == nil:
			if winner >= 0 {
				t.Fatalf("two signatures: goroutines %d and %d", winner, i)
			}
			winner = i
		case !errors.Is(errs[i], ErrDoubleSign):
			t.Fatalf("goroutine %d: %v", i, errs[i])
		}
	}
	if winner < 0 {
		t.Fatal("no signature at all")
	}
	again, err := s.Sign(chain, 7, []byte(fmt.Sprintf("message %d", winner)))
	if err != nil || again.Sig != results[winner].Sig || !again.Existing {
		t.Fatalf("repeat of the winner: %v", err)
	}
	if err := eots.Verify(sk.PubKey(), again.PubRand, []byte(fmt.Sprintf("message %d", winner)), again.Sig); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentManyHeights: goroutines sign overlapping heights with their
// own messages; every height ends with exactly one message.
func TestConcurrentManyHeights(t *testing.T) {
	rng := newRand(t)
	sk := newKey(t, rng)
	st, _ := openTemp(t)
	s, _ := New(st, sk)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := map[uint64][]string{}
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for h := uint64(0); h < 20; h++ {
				msg := fmt.Sprintf("g%d h%d", g, h)
				if _, err := s.Sign([]byte("c"), h, []byte(msg)); err == nil {
					mu.Lock()
					won[h] = append(won[h], msg)
					mu.Unlock()
				} else if !errors.Is(err, ErrDoubleSign) {
					t.Error(err)
				}
			}
		}(g)
	}
	wg.Wait()
	for h := uint64(0); h < 20; h++ {
		if len(won[h]) != 1 {
			t.Fatalf("height %d: %d winners", h, len(won[h]))
		}
	}
}

func TestSignBatch(t *testing.T) {
	rng := newRand(t)
	sk := newKey(t, rng)
	st, path := openTemp(t)
	s, _ := New(st, sk)
	chain := []byte("batch")
	var reqs []Request
	for h := uint64(1); h <= 10; h++ {
		reqs = append(reqs, Request{Height: h, Msg: []byte(fmt.Sprintf("a%d", h))})
	}
	res, err := s.SignBatch(chain, reqs)
	if err != nil || len(res) != 10 {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.Existing || eots.Verify(sk.PubKey(), r.PubRand, reqs[i].Msg, r.Sig) != nil {
			t.Fatalf("item %d: %+v", i, r)
		}
	}
	// Mixed batch: a repeat, two conflicts (one against the store, one inside
	// the batch), and new heights.
	mixed := []Request{
		{Height: 3, Msg: []byte("a3")},
		{Height: 4, Msg: []byte("b4")},
		{Height: 11, Msg: []byte("a11")},
		{Height: 12, Msg: []byte("a12")},
		{Height: 12, Msg: []byte("b12")},
	}
	res, err = s.SignBatch(chain, mixed)
	if !errors.Is(err, ErrDoubleSign) || len(res) != 5 {
		t.Fatalf("mixed batch: %v", err)
	}
	if !res[0].Existing || res[0].Err != nil {
		t.Fatal("repeat not returned")
	}
	if !errors.Is(res[1].Err, ErrDoubleSign) || !errors.Is(res[4].Err, ErrDoubleSign) {
		t.Fatal("conflicts not reported")
	}
	if res[2].Err != nil || res[3].Err != nil || res[2].Existing {
		t.Fatal("new heights not signed")
	}
	recs, _ := s.Records(chain)
	if len(recs) != 12 || string(recs[11].Msg) != "a12" || string(recs[3].Msg) != "a4" {
		t.Fatalf("records after mixed batch: %d", len(recs))
	}
	// A batch of only refusals and repeats writes nothing.
	before := fileHash(t, path)
	if _, err := s.SignBatch(chain, []Request{{Height: 1, Msg: []byte("a1")}, {Height: 2, Msg: []byte("zz")}}); !errors.Is(err, ErrDoubleSign) {
		t.Fatal(err)
	}
	if fileHash(t, path) != before {
		t.Fatal("store changed")
	}
}

func TestRollbackAndBackup(t *testing.T) {
	rng := newRand(t)
	sk := newKey(t, rng)
	st, _ := openTemp(t)
	s, _ := New(st, sk)
	chain := []byte("rb")
	for h := uint64(1); h <= 10; h++ {
		if _, err := s.Sign(chain, h, []byte{byte(h)}); err != nil {
			t.Fatal(err)
		}
	}
	pk := s.PublicKey()
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := st.Backup(backup); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(backup); fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode %v", fi.Mode())
	}
	if err := st.Backup(backup); !errors.Is(err, ErrExists) {
		t.Fatal("backup overwrote a file")
	}
	if _, err := st.Rollback(chain, &pk, 5, false); !errors.Is(err, ErrNotConfirmed) {
		t.Fatal("unconfirmed rollback ran")
	}
	if recs, _ := s.Records(chain); len(recs) != 10 {
		t.Fatal("unconfirmed rollback deleted records")
	}
	n, err := st.Rollback(chain, &pk, 5, true)
	if err != nil || n != 5 {
		t.Fatalf("rollback: %d %v", n, err)
	}
	recs, _ := s.Records(chain)
	if len(recs) != 5 || recs[4].Height != 5 {
		t.Fatal("wrong records left")
	}
	if _, err := s.Sign(chain, 7, []byte("new")); err != nil {
		t.Fatalf("after rollback: %v", err)
	}
	if _, err := s.Sign(chain, 5, []byte("new")); !errors.Is(err, ErrDoubleSign) {
		t.Fatal("rollback went too far")
	}
	// The backup has all ten original records.
	bst, err := OpenStore(backup, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer bst.Close()
	brecs, err := bst.Records(chain, &pk)
	if err != nil || len(brecs) != 10 || !bytes.Equal(brecs[6].Msg, []byte{7}) {
		t.Fatalf("backup records: %v %d", err, len(brecs))
	}
}

func TestStoreArgumentChecks(t *testing.T) {
	st, _ := openTemp(t)
	if _, err := st.Records([]byte("c"), nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if _, err := st.Rollback([]byte("c"), nil, 1, true); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if _, err := New(nil, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	// A closed signer refuses without marking the store failed.
	rng := newRand(t)
	s, _ := New(st, newKey(t, rng))
	s.Close()
	if _, err := s.Sign([]byte("c"), 1, []byte("m")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	s2, _ := New(st, newKey(t, rng))
	if _, err := s2.Sign([]byte("c"), 1, []byte("m")); err != nil {
		t.Fatalf("store unusable after a closed signer's call: %v", err)
	}
}

// TestSignerNoMutation: requests, messages and the caller's key are left as
// they were.
func TestSignerNoMutation(t *testing.T) {
	rng := newRand(t)
	sk := newKey(t, rng)
	skB := sk.Bytes()
	st, _ := openTemp(t)
	s, _ := New(st, sk)
	chain := []byte("chain")
	reqs := []Request{{Height: 1, Msg: []byte("one")}, {Height: 2, Msg: []byte("two")}, {Height: 1, Msg: []byte("uno")}}
	clone := func(rs []Request) []Request {
		out := make([]Request, len(rs))
		for i, r := range rs {
			out[i] = Request{Height: r.Height, Msg: bytes.Clone(r.Msg)}
		}
		return out
	}
	before, chainB := clone(reqs), bytes.Clone(chain)
	if _, err := s.SignBatch(chain, reqs); !errors.Is(err, ErrDoubleSign) {
		t.Fatal(err)
	}
	s.Close() // zeroes the signer's own copy only
	for i := range reqs {
		if reqs[i].Height != before[i].Height || !bytes.Equal(reqs[i].Msg, before[i].Msg) {
			t.Fatalf("request %d mutated", i)
		}
	}
	if !bytes.Equal(chain, chainB) || sk.Bytes() != skB {
		t.Fatal("chain ID or caller's key mutated")
	}
}

// TestSigningFaultWithheld: when eots withholds a signature that failed its
// own verification (ErrSigningFault, simulated here through the signer's
// internal sign hook), the whole batch is rolled back, nothing is recorded
// or returned, and the store stays usable: it is not a store failure.
func TestSigningFaultWithheld(t *testing.T) {
	rng := newRand(t)
	sk := newKey(t, rng)
	st, path := openTemp(t)
	s, err := New(st, sk)
	if err != nil {
		t.Fatal(err)
	}
	chain := []byte("bbn-test-5")
	if _, err := s.Sign(chain, 99, []byte("before")); err != nil {
		t.Fatal(err)
	}
	before := fileHash(t, path)
	calls := 0
	s.sign = func(sk *eots.SecretKey, k *eots.PrivateRand, msg []byte) (eots.PublicRand, eots.Signature, error) {
		calls++
		if calls == 2 { // the second request of the batch faults
			return eots.PublicRand{}, eots.Signature{}, fmt.Errorf("%w: injected", eots.ErrSigningFault)
		}
		return eots.SignWithPublicRand(sk, k, msg)
	}
	res, err := s.SignBatch(chain, []Request{{Height: 100, Msg: []byte("a")}, {Height: 101, Msg: []byte("b")}})
	if !errors.Is(err, ErrSigningFault) || errors.Is(err, ErrStoreFailed) || errors.Is(err, ErrStoreCorrupt) || res != nil {
		t.Fatalf("got %v %v", res, err)
	}
	if fileHash(t, path) != before {
		t.Fatal("a faulted batch changed the store")
	}
	if recs, err := s.Records(chain); err != nil || len(recs) != 1 {
		t.Fatalf("records after the fault: %d %v", len(recs), err)
	}
	// The store was not marked failed: with a sound signer both heights sign.
	s.sign = eots.SignWithPublicRand
	res, err = s.SignBatch(chain, []Request{{Height: 100, Msg: []byte("a")}, {Height: 101, Msg: []byte("b")}})
	if err != nil || len(res) != 2 || res[0].Existing || res[1].Existing {
		t.Fatalf("after the fault: %v %+v", err, res)
	}
	for _, r := range res {
		if err := eots.Verify(sk.PubKey(), r.PubRand, []byte{"ab"[r.Height-100]}, r.Sig); err != nil {
			t.Fatal(err)
		}
	}
}

package signer

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// readAll returns the store file and its two mark files ("" if absent),
// comparable with ==.
func readAll(t *testing.T, path string) [3]string {
	t.Helper()
	var out [3]string
	for i, p := range []string{path, markFiles(path)[0], markFiles(path)[1]} {
		if b, err := os.ReadFile(p); err == nil {
			out[i] = string(b)
		}
	}
	return out
}

// signedStore signs heights 1..n on chain "c" into a new store, closes it
// and returns its path and the key.
func signedStore(t *testing.T, n uint64) (string, *Signer) {
	t.Helper()
	rng := newRand(t)
	st, path := openTemp(t)
	s, _ := New(st, newKey(t, rng))
	for h := uint64(1); h <= n; h++ {
		if _, err := s.Sign([]byte("c"), h, []byte{byte(h)}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	return path, s
}

func reopen(t *testing.T, path string, s *Signer) (*Store, *Signer) {
	t.Helper()
	st, err := OpenStore(path, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s2, _ := New(st, s.sk)
	return st, s2
}

// TestMarkFiles: a new store gets its mark at once, mode 0600; every
// signing transaction advances it by two (pending, then committed); a
// repeated or refused request writes nothing.
func TestMarkFiles(t *testing.T) {
	rng := newRand(t)
	st, path := openTemp(t)
	for _, name := range []string{markFiles(path)[1]} { // sequence number 1
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("new store without its mark: %v", err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s has mode %v", name, fi.Mode())
		}
	}
	if st.marks.seq != 1 || len(st.marks.entries) != 0 {
		t.Fatalf("first mark: %+v", st.marks)
	}
	s, _ := New(st, newKey(t, rng))
	if _, err := s.Sign([]byte("c"), 5, []byte("m")); err != nil {
		t.Fatal(err)
	}
	if st.marks.seq != 3 {
		t.Fatalf("sequence %d after one transaction, want 3", st.marks.seq)
	}
	for _, name := range markFiles(path) {
		if fi, _ := os.Stat(name); fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s has mode %v", name, fi.Mode())
		}
	}
	before := readAll(t, path)
	if _, err := s.Sign([]byte("c"), 5, []byte("m")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign([]byte("c"), 5, []byte("other")); !errors.Is(err, ErrDoubleSign) {
		t.Fatal(err)
	}
	if after := readAll(t, path); after != before {
		t.Fatal("a repeat or a refusal changed the store or its mark")
	}
	// The mark agrees with the store, read back from disk.
	m, state, err := readMarks(path)
	if err != nil || state != marksValid {
		t.Fatal(state, err)
	}
	pk := s.PublicKey()
	e := m.entries[string(prefixKey([]byte("c"), &pk))]
	if e.count != 1 || e.max != 5 || m.pending != nil {
		t.Fatalf("mark entry %+v", e)
	}
}

// TestMarkLostRecordRefused: a store that lost its last record (the state
// before the last transaction put back, as a lost meta-page write leaves
// it) is refused, and so is a store that lost a record in the middle of
// its history, signed out of order. Nothing is written.
func TestMarkLostRecordRefused(t *testing.T) {
	rng := newRand(t)
	st, path := openTemp(t)
	s, _ := New(st, newKey(t, rng))
	for _, h := range []uint64{10, 20, 30} {
		if _, err := s.Sign([]byte("c"), h, []byte{1}); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := os.ReadFile(path)
	if _, err := s.Sign([]byte("c"), 40, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign([]byte("c"), 15, []byte{1}); err != nil { // out of order
		t.Fatal(err)
	}
	st.Close()
	// The store as it was before heights 40 and 15 were signed.
	if err := os.WriteFile(path, before, 0o600); err != nil {
		t.Fatal(err)
	}
	files := readAll(t, path)
	_, err := OpenStore(path, StoreOptions{})
	if !errors.Is(err, ErrStoreRolledBack) {
		t.Fatalf("got %v, want ErrStoreRolledBack", err)
	}
	for _, want := range []string{`chain "c"`, "3 record(s) up to height 30", "5 record(s) up to height 40", "docs/signer.md"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if readAll(t, path) != files {
		t.Fatal("refused store or mark modified")
	}
	// Read-only, the store opens and says what is wrong.
	ro, err := OpenStore(path, StoreOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	status := ro.Status()
	if !errors.Is(status.Err, ErrStoreRolledBack) || status.Marks != "ok" || len(status.Pairs) != 1 {
		t.Fatalf("status %+v", status)
	}
	p := status.Pairs[0]
	if p.Match || p.StoreRecords != 3 || p.StoreMaxHeight != 30 || p.MarkRecords != 5 || p.MarkMaxHeight != 40 {
		t.Fatalf("pair status %+v", p)
	}
	s2, _ := New(ro, s.sk)
	if _, err := s2.Sign([]byte("c"), 40, []byte{2}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("read-only store signed: %v", err)
	}
	if err := ro.Backup(filepath.Join(t.TempDir(), "b.db")); !errors.Is(err, ErrStoreRolledBack) {
		t.Fatalf("backup of a rolled-back store: %v", err)
	}
	if readAll(t, path) != files {
		t.Fatal("read-only open modified the store or its mark")
	}
}

// TestMarkLostRecordAtRuntime: the record at the pair's highest height
// vanishing while the store is open (behind the signer's back here) is
// caught before the next signature.
func TestMarkLostRecordAtRuntime(t *testing.T) {
	rng := newRand(t)
	st, _ := openTemp(t)
	s, _ := New(st, newKey(t, rng))
	for h := uint64(1); h <= 3; h++ {
		if _, err := s.Sign([]byte("c"), h, []byte{1}); err != nil {
			t.Fatal(err)
		}
	}
	pk := s.PublicKey()
	if err := st.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRecords).Delete(recordKey([]byte("c"), &pk, 3))
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign([]byte("c"), 3, []byte{2}); !errors.Is(err, ErrStoreRolledBack) {
		t.Fatalf("got %v, want ErrStoreRolledBack", err)
	}
	if _, err := s.Sign([]byte("c"), 4, []byte{2}); !errors.Is(err, ErrStoreFailed) {
		t.Fatalf("signer went on after the loss: %v", err)
	}
}

// TestMarkCrashWindows: a stop after the pending mark was written but
// before bbolt committed, and one after the commit but before the mark was
// committed, both reopen cleanly (no false alarm) to the right state.
func TestMarkCrashWindows(t *testing.T) {
	for _, stage := range []string{"pending", "committed"} {
		t.Run(stage, func(t *testing.T) {
			rng := newRand(t)
			st, path := openTemp(t)
			s, _ := New(st, newKey(t, rng))
			if _, err := s.Sign([]byte("c"), 1, []byte{1}); err != nil {
				t.Fatal(err)
			}
			stop := errors.New("stopped")
			st.hook = func(at string) error {
				if at == stage {
					return stop
				}
				return nil
			}
			if res, err := s.Sign([]byte("c"), 2, []byte{2}); !errors.Is(err, ErrStoreFailed) || !strings.Contains(err.Error(), "stopped") || res.Sig != [32]byte{} {
				t.Fatalf("stopped transaction: %v %+v", err, res)
			}
			m, _, _ := readMarks(path)
			if m.pending == nil {
				t.Fatal("no pending entry in the mark")
			}
			st.Close()
			st2, s2 := reopen(t, path, s)
			recs, _ := s2.Records([]byte("c"))
			want := 1
			if stage == "committed" {
				want = 2 // bbolt committed: the record is there, the mark takes it in
			}
			if len(recs) != want {
				t.Fatalf("%d records after the stop, want %d", len(recs), want)
			}
			if st2.marks.pending != nil {
				t.Fatal("pending entry not settled")
			}
			if m2, _, _ := readMarks(path); m2.pending != nil || m2.seq <= m.seq {
				t.Fatal("settled mark not written")
			}
			if _, err := s2.Sign([]byte("c"), 3, []byte{3}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestMarkFilesLost: without its mark files a store with records is
// refused; with one file damaged the other is used; with both damaged it
// is refused.
func TestMarkFilesLost(t *testing.T) {
	path, s := signedStore(t, 3)
	good := readAll(t, path)
	restore := func() {
		for i, p := range []string{path, markFiles(path)[0], markFiles(path)[1]} {
			os.WriteFile(p, []byte(good[i]), 0o600)
		}
	}
	for _, name := range markFiles(path) {
		os.Remove(name)
	}
	if _, err := OpenStore(path, StoreOptions{}); !errors.Is(err, ErrMarkMissing) || !strings.Contains(err.Error(), "3 record(s)") {
		t.Fatalf("no mark files: %v", err)
	}
	if _, err := os.Stat(markFiles(path)[0]); err == nil {
		t.Fatal("refused open wrote a mark")
	}
	for slot := 0; slot < 2; slot++ {
		restore()
		b := []byte(good[1+slot])
		b[len(b)/2] ^= 1
		os.WriteFile(markFiles(path)[slot], b, 0o600)
		st, err := OpenStore(path, StoreOptions{})
		if err != nil {
			t.Fatalf("mark file %d damaged, the other intact: %v", slot, err)
		}
		st.Close()
	}
	restore()
	for _, name := range markFiles(path) {
		os.WriteFile(name, []byte("garbage"), 0o600)
	}
	if _, err := OpenStore(path, StoreOptions{}); !errors.Is(err, ErrMarkMissing) {
		t.Fatalf("both mark files damaged: %v", err)
	}
	// One file copied over the other is not a newer mark.
	restore()
	m, _, _ := readMarks(path)
	os.WriteFile(markFiles(path)[1-m.seq%2], []byte(good[1+m.seq%2]), 0o600)
	if m2, state, _ := readMarks(path); state != marksValid || m2.seq != m.seq {
		t.Fatal("a copied mark file was taken for another")
	}
	restore()
	st, s2 := reopen(t, path, s)
	_ = st
	if _, err := s2.Sign([]byte("c"), 2, []byte{9}); !errors.Is(err, ErrDoubleSign) {
		t.Fatal(err)
	}
}

// TestMarkRestoredBackup: an old backup put in place of the store is
// refused; the backup with its own mark opens on its own.
func TestMarkRestoredBackup(t *testing.T) {
	rng := newRand(t)
	st, path := openTemp(t)
	s, _ := New(st, newKey(t, rng))
	if _, err := s.Sign([]byte("c"), 1, []byte{1}); err != nil {
		t.Fatal(err)
	}
	bk := filepath.Join(t.TempDir(), "backup.db")
	if err := st.Backup(bk); err != nil {
		t.Fatal(err)
	}
	if err := st.Backup(bk + "x"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(markFiles(bk)[1]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup mark: %v", err)
	}
	// A backup refuses to overwrite a mark file too.
	os.Remove(bk + "x")
	if err := st.Backup(bk + "x"); !errors.Is(err, ErrExists) {
		t.Fatalf("backup over a mark file: %v", err)
	}
	if _, err := s.Sign([]byte("c"), 2, []byte{2}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	b, _ := os.ReadFile(bk)
	os.WriteFile(path, b, 0o600)
	if _, err := OpenStore(path, StoreOptions{}); !errors.Is(err, ErrStoreRolledBack) {
		t.Fatalf("old backup in place of the store: %v", err)
	}
	bst, err := OpenStore(bk, StoreOptions{})
	if err != nil {
		t.Fatalf("backup with its mark: %v", err)
	}
	bst.Close()
}

// TestMarkLegacyStore: a store made before the high-water mark (no flag,
// no mark files) gets a mark from what it holds at its first open; a
// flagged store without records and without mark files is a new store
// whose first mark was not written, and opens.
func TestMarkLegacyStore(t *testing.T) {
	path, s := signedStore(t, 4)
	// Make it a legacy store: no flag, no mark files.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyMarked) })
	db.Close()
	for _, name := range markFiles(path) {
		os.Remove(name)
	}
	ro, err := OpenStore(path, StoreOptions{ReadOnly: true})
	if err != nil || ro.Status().Marks != "none" || ro.Status().Err != nil {
		t.Fatalf("legacy store read-only: %v %+v", err, ro.Status())
	}
	ro.Close()
	st, s2 := reopen(t, path, s)
	if st.marks == nil || st.marks.seq != 1 || len(st.marks.entries) != 1 {
		t.Fatalf("legacy store's mark: %+v", st.marks)
	}
	if _, err := s2.Sign([]byte("c"), 4, []byte{7}); !errors.Is(err, ErrDoubleSign) {
		t.Fatal(err)
	}
	st.Close()
	// Flagged now: losing the mark files is refused.
	for _, name := range markFiles(path) {
		os.Remove(name)
	}
	if _, err := OpenStore(path, StoreOptions{}); !errors.Is(err, ErrMarkMissing) {
		t.Fatalf("migrated store without its mark: %v", err)
	}

	st3, p3 := openTemp(t)
	st3.Close()
	for _, name := range markFiles(p3) {
		os.Remove(name)
	}
	st4, err := OpenStore(p3, StoreOptions{})
	if err != nil {
		t.Fatalf("new store whose first mark was lost: %v", err)
	}
	st4.Close()
}

// TestRepair: after a refusal the operator repairs the pair with the
// highest height signed; the floor then refuses the lost heights (and
// unsigned ones below it) and signing goes on above it.
func TestRepair(t *testing.T) {
	rng := newRand(t)
	st, path := openTemp(t)
	sk := newKey(t, rng)
	s, _ := New(st, sk)
	chain := []byte("c")
	for _, h := range []uint64{10, 11, 12} {
		if _, err := s.Sign(chain, h, []byte{1}); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := os.ReadFile(path)
	if _, err := s.Sign(chain, 13, []byte{1}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	os.WriteFile(path, before, 0o600) // height 13 lost
	files := readAll(t, path)
	pk := sk.XOnly()
	req := RepairRequest{ChainID: chain, PublicKey: pk, HighestSigned: 13}
	if _, err := Repair(path, req); !errors.Is(err, ErrNotConfirmed) {
		t.Fatalf("unconfirmed repair: %v", err)
	}
	req.Confirmed = true
	req.HighestSigned = 12
	if _, err := Repair(path, req); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "13") {
		t.Fatalf("repair below the mark: %v", err)
	}
	if readAll(t, path) != files {
		t.Fatal("refused repair changed a file")
	}
	req.HighestSigned = 15 // the operator knows of votes up to 15 (say, from another machine)
	status, err := Repair(path, req)
	if err != nil || status.Err != nil || len(status.Pairs) != 1 || !status.Pairs[0].Match || status.Pairs[0].Floor != 15 || !status.Pairs[0].HasFloor {
		t.Fatalf("repair: %v %+v", err, status)
	}
	st2, s2 := reopen(t, path, s)
	for _, h := range []uint64{13, 14, 15, 9} {
		if _, err := s2.Sign(chain, h, []byte{2}); !errors.Is(err, ErrBelowFloor) {
			t.Fatalf("height %d below the floor: %v", h, err)
		}
	}
	if res, err := s2.Sign(chain, 12, []byte{1}); err != nil || !res.Existing {
		t.Fatalf("recorded height below the floor: %v", err)
	}
	if _, err := s2.Sign(chain, 12, []byte{2}); !errors.Is(err, ErrDoubleSign) {
		t.Fatal(err)
	}
	res, err := s2.SignBatch(chain, []Request{{Height: 14, Msg: []byte{1}}, {Height: 12, Msg: []byte{9}}, {Height: 16, Msg: []byte{1}}})
	if !errors.Is(err, ErrBelowFloor) || !errors.Is(err, ErrDoubleSign) || res[2].Err != nil {
		t.Fatalf("mixed batch: %v", err)
	}
	// A backup carries the floor.
	bk := filepath.Join(t.TempDir(), "b.db")
	if err := st2.Backup(bk); err != nil {
		t.Fatal(err)
	}
	// Rollback lowers the floor with the records.
	if _, err := st2.Rollback(chain, &pk, 13, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Sign(chain, 14, []byte{1}); err != nil {
		t.Fatalf("after a rollback to 13: %v", err)
	}
	if _, err := s2.Sign(chain, 13, []byte{1}); !errors.Is(err, ErrBelowFloor) {
		t.Fatal(err)
	}
	st2.Close()
	if _, err := OpenStore(path, StoreOptions{}); err != nil {
		t.Fatalf("reopen after rollback: %v", err)
	}
	bst, bs := reopen(t, bk, s)
	_ = bst
	if _, err := bs.Sign(chain, 15, []byte{1}); !errors.Is(err, ErrBelowFloor) {
		t.Fatalf("backup lost the floor: %v", err)
	}

	// With no mark files at all, repair rebuilds them.
	p2, s3 := signedStore(t, 2)
	for _, name := range markFiles(p2) {
		os.Remove(name)
	}
	pk3 := s3.PublicKey()
	if _, err := Repair(p2, RepairRequest{ChainID: chain, PublicKey: pk3, HighestSigned: 1, Confirmed: true}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("repair below the store's own records: %v", err)
	}
	if _, err := Repair(p2, RepairRequest{ChainID: chain, PublicKey: pk3, HighestSigned: 2, Confirmed: true}); err != nil {
		t.Fatal(err)
	}
	st5, err := OpenStore(p2, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st5.Close()
}

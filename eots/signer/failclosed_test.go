package signer

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"github.com/btcstake/btcstake/eots"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/btcstake/btcstake/internal/boltfile"
)

// populated returns the bytes of a store with a few hundred records.
func populated(t *testing.T) []byte {
	data, _, _ := populatedStore(t)
	return data
}

// populatedStore signs 300 heights (40-byte messages) on chain "c" into a
// new store and returns its closed file's bytes, its path and the key.
func populatedStore(t *testing.T) ([]byte, string, *eots.SecretKey) {
	t.Helper()
	rng := newRand(t)
	sk := newKey(t, rng)
	st, path := openTemp(t)
	s, _ := New(st, sk)
	var reqs []Request
	for h := uint64(0); h < 300; h++ {
		reqs = append(reqs, Request{Height: h, Msg: bytes.Repeat([]byte{byte(h)}, 40)})
	}
	if _, err := s.SignBatch([]byte("c"), reqs); err != nil {
		t.Fatal(err)
	}
	st.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b, path, sk
}

// newestMeta returns the meta page with the higher transaction id.
func newestMeta(b []byte, ps int) boltMeta {
	m0, _ := boltfile.ParseMeta(b)
	m1, _ := boltfile.ParseMeta(b[ps:])
	if m1.TxID > m0.TxID {
		return m1
	}
	return m0
}

// assertUnchanged fails if the store file at path no longer holds data.
func assertUnchanged(t *testing.T, path string, data []byte) {
	t.Helper()
	if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
		t.Fatal("refused store was modified")
	}
}

// lastPageCut returns a length that cuts off the last page the store uses
// (bbolt files may be longer than their high-water mark).
func lastPageCut(t *testing.T, b []byte) int {
	t.Helper()
	m0, ok0 := boltfile.ParseMeta(b)
	m1, ok1 := boltfile.ParseMeta(b[m0.PageSize:])
	if !ok0 || !ok1 {
		t.Fatal("populated store has bad meta pages")
	}
	m := m0
	if m1.TxID > m0.TxID {
		m = m1
	}
	return int((m.PGID - 1) * uint64(m.PageSize))
}

// TestFailClosedDamagedStore: truncated, empty, garbage or foreign files are
// refused with ErrStoreCorrupt, and left byte-for-byte as they were.
func TestFailClosedDamagedStore(t *testing.T) {
	good := populated(t)
	rng := newRand(t)
	garbage := make([]byte, 64<<10)
	rng.Read(garbage)
	foreign := func() []byte {
		p := filepath.Join(t.TempDir(), "other.db")
		db, err := bolt.Open(p, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err })
		db.Close()
		b, _ := os.ReadFile(p)
		return b
	}()
	cases := map[string][]byte{
		"empty":           {},
		"tiny":            good[:100],
		"meta pages only": good[:8192],
		"half":            good[:len(good)/2],
		"last page cut":   good[:lastPageCut(t, good)],
		"garbage":         garbage,
		"zeros":           make([]byte, len(good)),
		"foreign bbolt":   foreign,
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "records.db")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			st, err := OpenStore(path, StoreOptions{Create: true})
			if err == nil {
				st.Close()
				t.Fatal("damaged store opened")
			}
			if !errors.Is(err, ErrStoreCorrupt) {
				t.Fatalf("wrong kind: %v", err)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(after, data) {
				t.Fatal("damaged store was modified")
			}
		})
	}
}

// TestFailClosedMetaProbe: with meta page 0 damaged, bbolt takes its page
// size from the first valid meta page it finds at 1 KiB, 2 KiB, 4 KiB, ...
// A valid-looking meta at 1 KiB (inside page 0 of a 4 KiB store) with a wild
// root made bbolt fault (SIGSEGV, which no recover catches) because the
// preflight looked for meta page 1 at the OS page size only. The preflight
// must find the same meta bbolt uses and refuse the file.
func TestFailClosedMetaProbe(t *testing.T) {
	data := populated(t)
	le := binary.LittleEndian
	ps := int(le.Uint32(data[boltPageHeader+8:]))
	if ps <= 1024 {
		t.Fatalf("fixture: page size %d; the test needs a store with pages larger than 1024 bytes", ps)
	}
	// Page 1 of a 1 KiB-page store: a copy of meta page 1 claiming 1 KiB
	// pages, no freelist (bbolt then walks the tree) and a root far outside
	// the file, with the highest transaction id and a valid checksum.
	m := bytes.Clone(data[ps : ps+boltPageHeader+boltMetaSize])
	le.PutUint64(m[0:], 1)
	meta := m[boltPageHeader:]
	le.PutUint32(meta[8:], 1024)
	le.PutUint64(meta[16:], 1_000_000)
	le.PutUint64(meta[32:], boltNoFreelist)
	le.PutUint64(meta[48:], 1<<40)
	h := fnv.New64a()
	h.Write(meta[:boltMetaChecksum])
	le.PutUint64(meta[boltMetaChecksum:], h.Sum64())
	copy(data[1024:], m)
	data[boltPageHeader+boltMetaChecksum] ^= 0xff // meta page 0 fails its checksum
	path := filepath.Join(t.TempDir(), "records.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := preflight(path); !errors.Is(err, ErrStoreCorrupt) {
		t.Fatalf("preflight = %v, want ErrStoreCorrupt (bbolt would fault on this file)", err)
	}
	if _, err := OpenStore(path, StoreOptions{}); !errors.Is(err, ErrStoreCorrupt) {
		t.Fatalf("OpenStore = %v, want ErrStoreCorrupt", err)
	}
	assertUnchanged(t, path, data)
}

// TestFailClosedNoFreelist: a meta page without a synced freelist makes
// bbolt rebuild the freelist while opening, running its tree checker, which
// panics in a goroutine of its own on a key out of order (a crash no
// recover catches), and otherwise writes a freelist into the file. This
// signer always syncs its freelist, so such a file is refused untouched.
func TestFailClosedNoFreelist(t *testing.T) {
	rng := newRand(t)
	st, path := openTemp(t)
	s, _ := New(st, newKey(t, rng))
	var reqs []Request
	for h := uint64(0); h < 300; h++ {
		reqs = append(reqs, Request{Height: h, Msg: []byte{byte(h)}})
	}
	if _, err := s.SignBatch([]byte("c"), reqs); err != nil {
		t.Fatal(err)
	}
	pk := s.PublicKey()
	st.Close()
	data, _ := os.ReadFile(path)
	// Height 5's key becomes height 255: out of order in its leaf.
	k := recordKey([]byte("c"), &pk, 5)
	i := bytes.Index(data, k)
	if i < 0 {
		t.Fatal("record key not found")
	}
	data[i+len(k)-1] = 0xff
	le := binary.LittleEndian
	ps := int(le.Uint32(data[boltPageHeader+8:]))
	for _, off := range []int{0, ps} {
		meta := data[off+boltPageHeader : off+boltPageHeader+boltMetaSize]
		le.PutUint64(meta[32:], boltNoFreelist)
		h := fnv.New64a()
		h.Write(meta[:boltMetaChecksum])
		le.PutUint64(meta[boltMetaChecksum:], h.Sum64())
	}
	p := filepath.Join(t.TempDir(), "records.db")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := preflight(p); !errors.Is(err, ErrStoreCorrupt) {
		t.Fatalf("preflight = %v, want ErrStoreCorrupt (bbolt would panic in a goroutine on this file)", err)
	}
	if _, err := OpenStore(p, StoreOptions{}); !errors.Is(err, ErrStoreCorrupt) {
		t.Fatalf("OpenStore = %v, want ErrStoreCorrupt", err)
	}
	assertUnchanged(t, p, data)
}

// TestFailClosedPageShapes: pages bbolt never writes, whose first element
// its cursor reads without a bounds check, are refused by the preflight: an
// inline bucket whose page is a branch (Cursor.First reads a child id from
// whatever follows the inline page; an id of 0 resolves to the inline page
// itself, again and again, until the process runs out of memory: found by
// FuzzPreflightAndOpen), and a branch page without elements.
func TestFailClosedPageShapes(t *testing.T) {
	le := binary.LittleEndian
	// rootLeaf returns the offset of the root bucket's page (a leaf holding
	// the buckets "meta" and "records") and a function giving the offset of
	// a bucket's value in the file.
	rootLeaf := func(b []byte) (int, func(string) int) {
		ps := int(le.Uint32(b[boltPageHeader+8:]))
		m := newestMeta(b, ps)
		rootOff := int(m.Root) * ps
		return ps, func(name string) int {
			root := b[rootOff:]
			for i := 0; i < int(le.Uint16(root[10:])); i++ {
				off := boltPageHeader + i*boltElemSize
				pos, ksize := int(le.Uint32(root[off+4:])), int(le.Uint32(root[off+8:]))
				if string(root[off+pos:off+pos+ksize]) == name {
					return rootOff + off + pos + ksize
				}
			}
			t.Fatalf("no bucket %q in the root page", name)
			return 0
		}
	}
	empty := func() []byte {
		st, path := openTemp(t)
		st.Close()
		b, _ := os.ReadFile(path)
		return b
	}()
	cases := map[string]struct {
		store  []byte
		damage func([]byte)
	}{
		"inline bucket page is a branch": {empty, func(b []byte) {
			_, value := rootLeaf(b)
			v := value("records")
			if le.Uint64(b[v:]) != 0 {
				t.Fatal("records bucket of an empty store is not inline")
			}
			le.PutUint16(b[v+boltBucketHdrSize+8:], boltBranchPage)
		}},
		"branch page without elements": {populated(t), func(b []byte) {
			ps, value := rootLeaf(b)
			pg := b[int(le.Uint64(b[value("records"):]))*ps:]
			if le.Uint16(pg[8:]) != boltBranchPage {
				t.Fatal("fixture: the records root is not a branch page; grow populated() so it is")
			}
			le.PutUint16(pg[10:], 0)
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			data := bytes.Clone(c.store)
			c.damage(data)
			path := filepath.Join(t.TempDir(), "records.db")
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := preflight(path); !errors.Is(err, ErrStoreCorrupt) {
				t.Fatalf("preflight = %v, want ErrStoreCorrupt", err)
			}
			if _, err := OpenStore(path, StoreOptions{}); !errors.Is(err, ErrStoreCorrupt) {
				t.Fatalf("OpenStore = %v, want ErrStoreCorrupt", err)
			}
			assertUnchanged(t, path, data)
		})
	}
}

// TestFailClosedFreelistNamesLivePage: a freelist entry naming a page the
// tree still uses (one damaged 8-byte id) let bbolt hand that page out for
// the next write, overwriting live records: the signer then no longer saw
// the record at a signed height and signed a different message there,
// leaking the key. The preflight must refuse such a freelist.
func TestFailClosedFreelistNamesLivePage(t *testing.T) {
	data, _, sk := populatedStore(t)
	le := binary.LittleEndian
	ps := int(le.Uint32(data[boltPageHeader+8:]))
	m := newestMeta(data, ps)
	// Add the leaf holding height 5's record to the freelist.
	pk := sk.XOnly()
	off := bytes.Index(data, recordKey([]byte("c"), &pk, 5))
	if off < 0 {
		t.Fatal("record not found")
	}
	fl := data[int(m.Freelist)*ps:]
	n := int(le.Uint16(fl[10:]))
	if n >= 0xFFFF || boltPageHeader+8*(n+1) > ps {
		t.Fatal("fixture: the freelist page has no room for one more entry")
	}
	le.PutUint64(fl[boltPageHeader+8*n:], uint64(off/ps))
	le.PutUint16(fl[10:], uint16(n+1))
	p := filepath.Join(t.TempDir(), "records.db")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	st2, err := OpenStore(p, StoreOptions{})
	if err == nil {
		// Show what accepting it costs: new heights reuse the live page.
		s2, _ := New(st2, sk)
		for h := uint64(1000); h < 1100; h++ {
			s2.Sign([]byte("c"), h, []byte{1})
		}
		_, serr := s2.Sign([]byte("c"), 5, []byte("another message"))
		st2.Close()
		t.Fatalf("OpenStore accepted a freelist naming live page %d; signing another message at height 5 then gave %v", off/ps, serr)
	}
	if !errors.Is(err, ErrStoreCorrupt) {
		t.Fatalf("OpenStore = %v, want ErrStoreCorrupt", err)
	}
	assertUnchanged(t, p, data)
}

// TestFailClosedFreelistCount: a freelist whose 64-bit count overflows the
// bound check (count·8 wraps around) made the preflight read past the page
// and panic out of OpenStore.
func TestFailClosedFreelistCount(t *testing.T) {
	rng := newRand(t)
	st, path := openTemp(t)
	s, _ := New(st, newKey(t, rng))
	// Enough pages that one freelist page can list distinct ids in use.
	var reqs []Request
	for h := uint64(0); h < 8000; h++ {
		reqs = append(reqs, Request{Height: h, Msg: bytes.Repeat([]byte{byte(h)}, 200)})
	}
	if _, err := s.SignBatch([]byte("c"), reqs); err != nil {
		t.Fatal(err)
	}
	st.Close()
	data, _ := os.ReadFile(path)
	le := binary.LittleEndian
	ps := int(le.Uint32(data[boltPageHeader+8:]))
	m := newestMeta(data, ps)
	slots := (ps - boltPageHeader - 8) / 8
	if m.PGID < uint64(slots)+3 {
		t.Fatalf("store too small: %d pages", m.PGID)
	}
	fl := data[int(m.Freelist)*ps:]
	le.PutUint32(fl[12:], 0) // no overflow pages
	le.PutUint16(fl[10:], 0xFFFF)
	le.PutUint64(fl[boltPageHeader:], 1<<61+1) // ·8 wraps to 8
	for i := 0; i < slots; i++ {
		le.PutUint64(fl[boltPageHeader+8+8*i:], uint64(2+i))
	}
	p := filepath.Join(t.TempDir(), "records.db")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("OpenStore panicked: %v", r)
			}
		}()
		_, err = OpenStore(p, StoreOptions{})
	}()
	if !errors.Is(err, ErrStoreCorrupt) {
		t.Fatalf("OpenStore = %v, want ErrStoreCorrupt", err)
	}
}

// TestFailClosedBranchKeyOrder: bbolt has no page checksums, and a branch
// page's separator keys are covered by no record checksum. One damaged
// separator (height 11 read as 31) sent lookups for heights 11..30 to the
// wrong leaf: the signer no longer saw those records and signed a second
// message at a signed height, leaking the key. The preflight must check key
// order the way bbolt's own checker does.
func TestFailClosedBranchKeyOrder(t *testing.T) {
	data, _, sk := populatedStore(t)
	le := binary.LittleEndian
	ps := int(le.Uint32(data[boltPageHeader+8:]))
	pk := sk.XOnly()
	prefix := prefixKey([]byte("c"), &pk)
	var height uint64
	for id := 2; ; id++ {
		if (id+1)*ps > len(data) {
			t.Fatal("no branch page of records")
		}
		pg := data[id*ps : (id+1)*ps]
		if le.Uint64(pg) != uint64(id) || le.Uint16(pg[8:]) != boltBranchPage || le.Uint16(pg[10:]) < 3 {
			continue
		}
		e := pg[boltPageHeader+boltElemSize:] // element 1
		pos, ksize := int(le.Uint32(e[0:])), int(le.Uint32(e[4:]))
		key := e[pos : pos+ksize]
		if !bytes.HasPrefix(key, prefix) {
			continue
		}
		height = binary.BigEndian.Uint64(key[len(key)-8:])
		binary.BigEndian.PutUint64(key[len(key)-8:], height+20)
		break
	}
	p := filepath.Join(t.TempDir(), "records.db")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	st2, err := OpenStore(p, StoreOptions{})
	if err == nil {
		s2, _ := New(st2, sk)
		_, serr := s2.Sign([]byte("c"), height+5, []byte("another message"))
		st2.Close()
		t.Fatalf("OpenStore accepted a branch key out of order; signing another message at recorded height %d then gave %v", height+5, serr)
	}
	if !errors.Is(err, ErrStoreCorrupt) {
		t.Fatalf("OpenStore = %v, want ErrStoreCorrupt", err)
	}
	assertUnchanged(t, p, data)
}

// TestFailClosedLeafCount: one flipped bit in a leaf page's element count
// (11 -> 9) dropped two records without disturbing anything the preflight
// or the record checksums looked at; the signer then signed a second
// message at a dropped height, leaking the key. bbolt writes element data
// contiguously right after the element headers, so a count that does not
// match the data is detectable; so is a page neither reachable nor free.
func TestFailClosedLeafCount(t *testing.T) {
	good, _, sk := populatedStore(t)
	le := binary.LittleEndian
	ps := int(le.Uint32(good[boltPageHeader+8:]))
	pk := sk.XOnly()
	leaf := bytes.Index(good, recordKey([]byte("c"), &pk, 5)) / ps
	m := newestMeta(good, ps)
	cases := map[string]func([]byte){
		"leaf count less one": func(b []byte) {
			pg := b[leaf*ps:]
			le.PutUint16(pg[10:], le.Uint16(pg[10:])-1)
		},
		"leaf count plus one": func(b []byte) {
			pg := b[leaf*ps:]
			le.PutUint16(pg[10:], le.Uint16(pg[10:])+1)
		},
		"page neither reachable nor free": func(b []byte) {
			fl := b[int(m.Freelist)*ps:]
			n := le.Uint16(fl[10:])
			if n == 0 || n == 0xFFFF {
				t.Fatalf("fixture: freelist count %d; the test needs a non-empty freelist", n)
			}
			le.PutUint16(fl[10:], n-1)
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			data := bytes.Clone(good)
			damage(data)
			p := filepath.Join(t.TempDir(), "records.db")
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			st2, err := OpenStore(p, StoreOptions{})
			if err == nil {
				s2, _ := New(st2, sk)
				var twice []uint64
				for h := uint64(0); h < 300; h++ {
					if res, err := s2.Sign([]byte("c"), h, []byte("another message")); err == nil && !res.Existing {
						twice = append(twice, h)
					}
				}
				st2.Close()
				t.Fatalf("OpenStore accepted the damaged store; another message was then signed at recorded heights %v", twice)
			}
			if !errors.Is(err, ErrStoreCorrupt) {
				t.Fatalf("OpenStore = %v, want ErrStoreCorrupt", err)
			}
			assertUnchanged(t, p, data)
		})
	}
}

// TestFailClosedOneMetaDamaged: bbolt keeps two meta pages and falls back
// to the older one when the newer fails its checksum, silently undoing the
// last transaction. A healthy store always has both valid; with the newer
// one damaged (bit rot after the commit), the last signed height's record
// vanished and the signer signed a second message there, leaking the key.
// A store with a damaged meta page is refused.
func TestFailClosedOneMetaDamaged(t *testing.T) {
	rng := newRand(t)
	sk := newKey(t, rng)
	st, path := openTemp(t)
	s, _ := New(st, sk)
	for h := uint64(0); h < 10; h++ {
		if _, err := s.Sign([]byte("c"), h, []byte{byte(h)}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	data, _ := os.ReadFile(path)
	le := binary.LittleEndian
	ps := int(le.Uint32(data[boltPageHeader+8:]))
	m0, _ := boltfile.ParseMeta(data)
	m1, _ := boltfile.ParseMeta(data[ps:])
	newest := 0
	if m1.TxID > m0.TxID {
		newest = ps
	}
	data[newest+boltPageHeader+boltMetaChecksum] ^= 0x01
	p := filepath.Join(t.TempDir(), "records.db")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	st2, err := OpenStore(p, StoreOptions{})
	if err == nil {
		s2, _ := New(st2, sk)
		res, serr := s2.Sign([]byte("c"), 9, []byte("another message"))
		st2.Close()
		t.Fatalf("OpenStore accepted a damaged meta page; signing another message at recorded height 9 then gave %v (existing %v)", serr, res.Existing)
	}
	if !errors.Is(err, ErrStoreCorrupt) {
		t.Fatalf("OpenStore = %v, want ErrStoreCorrupt", err)
	}
	assertUnchanged(t, p, data)
}

// TestFailClosedBadRecord: a record failing its checksum makes opening fail,
// and a signer that meets one mid-flight refuses everything afterwards.
func TestFailClosedBadRecord(t *testing.T) {
	rng := newRand(t)
	st, path := openTemp(t)
	s, _ := New(st, newKey(t, rng))
	chain := []byte("c")
	if _, err := s.Sign(chain, 1, []byte("one")); err != nil {
		t.Fatal(err)
	}
	// Damage the stored value of height 1 behind the signer's back.
	pk := s.PublicKey()
	key := recordKey(chain, &pk, 1)
	if err := st.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		v := bytes.Clone(b.Get(key))
		v[20] ^= 1
		return b.Put(key, v)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(chain, 1, []byte("one")); !errors.Is(err, ErrStoreCorrupt) {
		t.Fatalf("damaged record: %v", err)
	}
	if _, err := s.Sign(chain, 2, []byte("two")); !errors.Is(err, ErrStoreFailed) {
		t.Fatalf("signer kept signing after corruption: %v", err)
	}
	st.Close()
	before, _ := os.ReadFile(path)
	if _, err := OpenStore(path, StoreOptions{}); !errors.Is(err, ErrStoreCorrupt) {
		t.Fatalf("reopen: %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("store modified")
	}
}

// TestFailClosedInUse: a store held by another process is refused with
// ErrStoreInUse promptly, and nothing is written.
func TestFailClosedInUse(t *testing.T) {
	_, path, _ := populatedStore(t) // closed, with its high-water mark
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "BTCSTAKE_SIGNER_CHILD=hold", "BTCSTAKE_SIGNER_STORE="+path)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "holding" {
		t.Fatalf("child: %q", line)
	}
	before, _ := os.ReadFile(path)
	t0 := time.Now()
	_, err := OpenStore(path, StoreOptions{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrStoreInUse) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Fatalf("waited %v", d)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("store modified")
	}
	if !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("unclear message: %v", err)
	}
}

// TestInUseWhileSigning: a store that another process is writing to is
// reported in use, never corrupt. The preflight used to read the file
// without the lock, so it could see a commit half done and call a healthy
// store corrupt, an alarm that invites an operator to restore a backup
// (which loses records: a double-sign).
func TestInUseWhileSigning(t *testing.T) {
	rng := newRand(t)
	sk := newKey(t, rng)
	skb := sk.Bytes()
	path := filepath.Join(t.TempDir(), "records.db")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "BTCSTAKE_SIGNER_CHILD=sign", "BTCSTAKE_SIGNER_STORE="+path,
		"BTCSTAKE_SIGNER_KEY="+hex.EncodeToString(skb[:]), "BTCSTAKE_SIGNER_START=1", "BTCSTAKE_SIGNER_RUN=1")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "ready" {
		t.Fatalf("child: %q", sc.Text())
	}
	go func() {
		for sc.Scan() { // the child signs on while we try to open
		}
	}()
	for i, end := 0, time.Now().Add(1500*time.Millisecond); time.Now().Before(end); i++ {
		st, err := OpenStore(path, StoreOptions{LockTimeout: 5 * time.Millisecond})
		if err == nil {
			st.Close()
			t.Fatal("opened a store another process holds")
		}
		if !errors.Is(err, ErrStoreInUse) {
			t.Fatalf("attempt %d: %v, want ErrStoreInUse", i, err)
		}
	}
}

func TestStoreNotFound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.db")
	if _, err := OpenStore(path, StoreOptions{}); !errors.Is(err, ErrStoreNotFound) {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("file created")
	}
}

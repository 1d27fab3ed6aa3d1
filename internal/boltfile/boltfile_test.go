package boltfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// boltImage is a file bbolt itself wrote with pages of ps bytes (the
// oracle: whatever ParseMeta reads must be what bbolt wrote).
func boltImage(tb testing.TB, ps int) []byte {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "b.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{PageSize: ps})
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < 3; i++ { // a few transactions: meta page 1 gets the newest
		if err := db.Update(func(tx *bolt.Tx) error {
			_, err := tx.CreateBucketIfNotExists([]byte{byte('a' + i)})
			return err
		}); err != nil {
			tb.Fatal(err)
		}
	}
	var txid int
	if err := db.View(func(tx *bolt.Tx) error { txid = tx.ID(); return nil }); err != nil {
		tb.Fatal(err)
	}
	if txid < 3 {
		tb.Fatalf("bbolt tx id %d", txid)
	}
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseMetaReadsWhatBboltWrote(t *testing.T) {
	for _, ps := range []int{1024, 4096, 16384} {
		b := boltImage(t, ps)
		m0, ok0 := ParseMeta(b)
		m1, ok1 := ParseMeta(b[ps:])
		if !ok0 || !ok1 {
			t.Fatalf("ps %d: meta pages valid = %v, %v", ps, ok0, ok1)
		}
		if m0.PageSize != uint32(ps) || m1.PageSize != uint32(ps) {
			t.Fatalf("ps %d: page sizes %d, %d", ps, m0.PageSize, m1.PageSize)
		}
		// bbolt alternates the meta page by transaction id parity.
		if m0.TxID%2 != 0 || m1.TxID%2 != 1 || m0.TxID == m1.TxID {
			t.Fatalf("ps %d: tx ids %d, %d", ps, m0.TxID, m1.TxID)
		}
		newest := m0
		if m1.TxID > m0.TxID {
			newest = m1
		}
		if int64(newest.PGID)*int64(ps) > int64(len(b)) || newest.PGID < 4 {
			t.Fatalf("ps %d: high-water mark %d pages, file %d bytes", ps, newest.PGID, len(b))
		}
		if newest.Root < 2 || newest.Root >= newest.PGID || newest.Freelist < 2 || newest.Freelist >= newest.PGID {
			t.Fatalf("ps %d: root %d freelist %d outside %d pages", ps, newest.Root, newest.Freelist, newest.PGID)
		}
		if !newest.Fits(int64(len(b))) {
			t.Fatalf("ps %d: bbolt's own file does not fit", ps)
		}
		if newest.Fits(int64(newest.PGID)*int64(ps) - 1) {
			t.Fatalf("ps %d: a file one byte short fits", ps)
		}
		if !HasMagic(b) {
			t.Fatalf("ps %d: no magic", ps)
		}
	}
}

func TestParseMetaRefusesDamage(t *testing.T) {
	good := boltImage(t, 4096)
	cases := map[string]func(b []byte) []byte{
		"short":          func(b []byte) []byte { return b[:PageHeaderSize+MetaSize-1] },
		"checksum":       func(b []byte) []byte { b[PageHeaderSize+MetaChecksumOffset] ^= 1; return b },
		"a field":        func(b []byte) []byte { b[PageHeaderSize+40] ^= 1; return b },
		"version":        func(b []byte) []byte { b[PageHeaderSize+4] = 1; return b },
		"magic":          func(b []byte) []byte { b[PageHeaderSize] ^= 0xff; return b },
		"foreign":        func(b []byte) []byte { return bytes.Repeat([]byte("not a bbolt file "), 10) },
		"all zero bytes": func(b []byte) []byte { return make([]byte, 4096) },
	}
	for name, damage := range cases {
		if _, ok := ParseMeta(damage(bytes.Clone(good))); ok {
			t.Errorf("%s: accepted", name)
		}
	}
	if HasMagic(cases["magic"](bytes.Clone(good))) || HasMagic(cases["foreign"](nil)) || HasMagic(good[:PageHeaderSize+3]) {
		t.Error("magic found where there is none")
	}
	// The magic alone says bbolt; a damaged checksum does not change that.
	if !HasMagic(cases["checksum"](bytes.Clone(good))) {
		t.Error("magic not found in a damaged bbolt file")
	}
}

func TestPlausiblePageSize(t *testing.T) {
	for ps, want := range map[int64]bool{
		0: false, 256: false, 511: false, 512: true, 1000: false, 1024: true, 4096: true,
		12288: false, 1 << 16: true, 1<<16 + 1: false, 1 << 17: false, -4096: false,
	} {
		if got := PlausiblePageSize(ps); got != want {
			t.Errorf("PlausiblePageSize(%d) = %v", ps, got)
		}
	}
}

func TestFitsDoesNotWrap(t *testing.T) {
	// 2^52 pages of 4 KiB is 2^64 bytes: a product that wraps to 0.
	m := Meta{PageSize: 4096, PGID: 1 << 52}
	if m.Fits(1 << 20) {
		t.Fatal("a forged page count fits a 1 MiB file")
	}
	if (Meta{PGID: 4}).Fits(1 << 20) {
		t.Fatal("a page size of 0 fits")
	}
	if !(Meta{PageSize: 4096, PGID: 4}).Fits(4 * 4096) {
		t.Fatal("an exact fit does not fit")
	}
}

func TestProbePageSize(t *testing.T) {
	b := boltImage(t, 2048)
	b[PageHeaderSize+MetaChecksumOffset] ^= 1 // meta page 0 damaged: bbolt probes for meta page 1
	ps, ok := ProbePageSize(bytes.NewReader(b), int64(len(b)))
	if !ok || ps != 2048 {
		t.Fatalf("ProbePageSize = %d, %v, want 2048", ps, ok)
	}
	if _, ok := ProbePageSize(bytes.NewReader(make([]byte, 1<<16)), 1<<16); ok {
		t.Fatal("a page size found in zeros")
	}
}

// FuzzParseMeta: the meta parser reads untrusted files; a meta it accepts
// must carry the magic, and must parse the same again.
func FuzzParseMeta(f *testing.F) {
	b := boltImage(f, 4096)
	f.Add(b[:4096])
	f.Add(b[4096:8192])
	f.Add(make([]byte, 80))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := ParseMeta(b)
		if !ok {
			return
		}
		if !HasMagic(b) {
			t.Fatal("accepted a meta without the magic")
		}
		if m2, _ := ParseMeta(bytes.Clone(b)); m2 != m {
			t.Fatal("not deterministic")
		}
	})
}

func BenchmarkParseMeta(b *testing.B) {
	img := boltImage(b, 4096)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, ok := ParseMeta(img); !ok {
			b.Fatal("refused")
		}
	}
}

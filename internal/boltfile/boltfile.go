// Package boltfile reads a bbolt file's meta pages without bbolt, so that a
// caller can refuse a foreign, truncated or damaged file before bbolt maps
// it: bbolt trusts its meta page and faults (an unrecoverable SIGSEGV or
// SIGBUS, not a panic) on a file shorter than the meta page says.
//
// What a caller does with a refused file (its error kind, its message, how
// strict it is beyond these checks) stays with the caller.
package boltfile

import (
	"encoding/binary"
	"hash/fnv"
	"io"
)

// bbolt's meta page (go.etcd.io/bbolt internal/common/meta.go), in the
// machine's byte order (little endian on every platform this runs on):
// a 16-byte page header, then magic u32, version u32, pageSize u32,
// flags u32, root {pgid u64, sequence u64}, freelist u64, pgid u64,
// txid u64, checksum u64 (FNV-64a of the preceding 56 bytes).
const (
	Magic = 0xED0CDAED
	// Version is the only meta version bbolt writes.
	Version = 2
	// PageHeaderSize is the size of every page's header: id u64, flags
	// u16, count u16, overflow u32.
	PageHeaderSize = 16
	// MetaSize is the size of the meta that follows meta page's header.
	MetaSize = 64
	// MetaChecksumOffset is where, inside the meta, its checksum stands;
	// the checksum covers the bytes before it.
	MetaChecksumOffset = 56
	// NoFreelist is the freelist page id of a file whose freelist bbolt
	// does not sync.
	NoFreelist = ^uint64(0)
	// MinPageSize and MaxPageSize bound a page size bbolt could have
	// written; a page size is also a power of two.
	MinPageSize = 512
	MaxPageSize = 1 << 16
	// ProbeSize is how much bbolt reads where it looks for a meta page.
	ProbeSize = 0x1000
)

// Meta is a checked meta page: the fields a preflight needs.
type Meta struct {
	PageSize, Flags uint32
	// Root is the root bucket's page, Freelist the freelist's page
	// (NoFreelist: none), PGID the high-water mark (pages in use, meta
	// pages included), TxID the transaction that wrote this meta.
	Root, Freelist, PGID, TxID uint64
}

// HasMagic reports whether b, the first bytes of a file, carries bbolt's
// magic where meta page 0 keeps it: false for a foreign file (or one too
// short to tell), whatever the rest of the meta says.
func HasMagic(b []byte) bool {
	return len(b) >= PageHeaderSize+4 && binary.LittleEndian.Uint32(b[PageHeaderSize:]) == Magic
}

// ParseMeta reads the meta page that starts b (header included). It
// reports false unless b is long enough and the meta has bbolt's magic,
// version 2 and a matching checksum.
//
//  1. Take the MetaSize bytes after the page header.
//  2. Check magic and version.
//  3. Check that FNV-64a of the first 56 bytes equals the checksum.
//  4. Read the fields.
func ParseMeta(b []byte) (Meta, bool) {
	if len(b) < PageHeaderSize+MetaSize {
		return Meta{}, false
	}
	m := b[PageHeaderSize : PageHeaderSize+MetaSize]
	le := binary.LittleEndian
	if le.Uint32(m[0:]) != Magic || le.Uint32(m[4:]) != Version {
		return Meta{}, false
	}
	h := fnv.New64a()
	h.Write(m[:MetaChecksumOffset])
	if h.Sum64() != le.Uint64(m[MetaChecksumOffset:]) {
		return Meta{}, false
	}
	return Meta{
		PageSize: le.Uint32(m[8:]), Flags: le.Uint32(m[12:]),
		Root: le.Uint64(m[16:]), Freelist: le.Uint64(m[32:]), PGID: le.Uint64(m[40:]), TxID: le.Uint64(m[48:]),
	}, true
}

// PlausiblePageSize reports whether bbolt could have written pages of ps
// bytes: a power of two from MinPageSize to MaxPageSize.
func PlausiblePageSize(ps int64) bool {
	return ps >= MinPageSize && ps <= MaxPageSize && ps&(ps-1) == 0
}

// Fits reports whether a file of size bytes holds the m.PGID pages m says
// the file has (false for a page size of 0). It divides rather than
// multiplies, so a forged PGID cannot wrap around.
func (m Meta) Fits(size int64) bool {
	return m.PageSize != 0 && size >= 0 && m.PGID <= uint64(size)/uint64(m.PageSize)
}

// ProbePageSize mirrors bbolt's getPageSizeFromSecondMeta: the page size
// recorded in the first valid meta page at offsets 1 KiB << i, i = 0..14,
// below the last KiB of a file of size bytes read through r.
func ProbePageSize(r io.ReaderAt, size int64) (int64, bool) {
	buf := make([]byte, ProbeSize)
	for i := 0; i <= 14; i++ {
		pos := int64(1024) << i
		if pos >= size-1024 {
			break
		}
		clear(buf)
		n, err := r.ReadAt(buf, pos)
		if (err == nil && n == len(buf)) || (err == io.EOF && int64(n) == size-pos) {
			if m, ok := ParseMeta(buf); ok {
				return int64(m.PageSize), true
			}
		}
	}
	return 0, false
}

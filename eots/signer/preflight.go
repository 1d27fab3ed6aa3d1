package signer

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's meta page (go.etcd.io/bbolt internal/common/meta.go), in the
// machine's byte order (little endian on every platform this runs on):
// a 16-byte page header, then magic u32, version u32, pageSize u32,
// flags u32, root {pgid u64, sequence u64}, freelist u64, pgid u64,
// txid u64, checksum u64 (FNV-64a of the preceding 56 bytes).
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	boltPageHeader   = 16
	boltMetaSize     = 64
	boltNoFreelist   = ^uint64(0)
	minBoltPageSize  = 512
	maxBoltPageSize  = 1 << 16
	boltMetaChecksum = 56
)

type boltMeta struct {
	pageSize, flags          uint32
	root, freelist, pgid, tx uint64
}

func parseBoltMeta(b []byte) (boltMeta, bool) {
	if len(b) < boltPageHeader+boltMetaSize {
		return boltMeta{}, false
	}
	m := b[boltPageHeader : boltPageHeader+boltMetaSize]
	le := binary.LittleEndian
	if le.Uint32(m[0:]) != boltMagic || le.Uint32(m[4:]) != boltVersion {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	h.Write(m[:boltMetaChecksum])
	if h.Sum64() != le.Uint64(m[boltMetaChecksum:]) {
		return boltMeta{}, false
	}
	return boltMeta{
		pageSize: le.Uint32(m[8:]), flags: le.Uint32(m[12:]),
		root: le.Uint64(m[16:]), freelist: le.Uint64(m[32:]), pgid: le.Uint64(m[40:]), tx: le.Uint64(m[48:]),
	}, true
}

// preflight validates a bbolt file before bbolt maps it: bbolt trusts its
// meta page and faults (an unrecoverable SIGSEGV/SIGBUS, not a panic) on a
// file truncated below its high-water mark. This reads both meta pages,
// picks the valid one with the higher transaction id, as bbolt does, and
// checks that every page it references lies inside the file.
func preflight(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStoreCorrupt, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrStoreCorrupt, err)
	}
	size := st.Size()
	head := make([]byte, boltPageHeader+boltMetaSize)
	if _, err := io.ReadFull(f, head); err != nil {
		return fmt.Errorf("%w: file too short for a store (%d bytes)", ErrStoreCorrupt, size)
	}
	m0, ok0 := parseBoltMeta(head)
	pageSize := int64(os.Getpagesize())
	if ok0 {
		pageSize = int64(m0.pageSize)
	}
	if pageSize < minBoltPageSize || pageSize > maxBoltPageSize || pageSize&(pageSize-1) != 0 {
		return fmt.Errorf("%w: implausible page size %d", ErrStoreCorrupt, pageSize)
	}
	second := make([]byte, boltPageHeader+boltMetaSize)
	_, err = f.ReadAt(second, pageSize)
	m1, ok1 := parseBoltMeta(second)
	if err != nil {
		ok1 = false
	}
	var m boltMeta
	switch {
	case ok0 && ok1:
		m = m0
		if m1.tx > m0.tx {
			m = m1
		}
	case ok0:
		m = m0
	case ok1:
		m = m1
	default:
		return fmt.Errorf("%w: no valid meta page (not a store, or damaged)", ErrStoreCorrupt)
	}
	if int64(m.pageSize) != pageSize {
		return fmt.Errorf("%w: meta pages disagree on the page size", ErrStoreCorrupt)
	}
	if m.pgid < 2 || m.pgid > uint64(size)/uint64(pageSize) {
		return fmt.Errorf("%w: file is truncated (%d bytes, store needs %d pages of %d)", ErrStoreCorrupt, size, m.pgid, pageSize)
	}
	if m.root >= m.pgid || (m.freelist >= m.pgid && m.freelist != boltNoFreelist) {
		return fmt.Errorf("%w: meta page points past the end of the store", ErrStoreCorrupt)
	}
	return nil
}

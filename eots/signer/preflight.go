package signer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/btcstake/btcstake/internal/boltfile"
)

// The bbolt file layout this preflight reads, named for the page walk
// below (internal/boltfile describes the meta page).
const (
	boltPageHeader   = boltfile.PageHeaderSize
	boltMetaSize     = boltfile.MetaSize
	boltMetaChecksum = boltfile.MetaChecksumOffset
	boltNoFreelist   = boltfile.NoFreelist
)

type boltMeta = boltfile.Meta

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
	m0, ok0 := boltfile.ParseMeta(head)
	// The page size, found the way bbolt's getPageSize finds it: from meta
	// page 0 when a full 4 KiB can be read there, else from the first valid
	// meta page at 1 KiB, 2 KiB, 4 KiB, ... (else the OS page size). Taking
	// meta page 1 from the OS page size alone let a valid-looking meta at
	// 1 KiB go unchecked while bbolt used it.
	pageSize := int64(os.Getpagesize())
	if ok0 && size >= boltfile.ProbeSize {
		pageSize = int64(m0.PageSize)
	} else if ps, ok := boltfile.ProbePageSize(f, size); ok {
		pageSize = ps
	}
	if !boltfile.PlausiblePageSize(pageSize) {
		return fmt.Errorf("%w: implausible page size %d", ErrStoreCorrupt, pageSize)
	}
	second := make([]byte, boltPageHeader+boltMetaSize)
	_, err = f.ReadAt(second, pageSize)
	m1, ok1 := boltfile.ParseMeta(second)
	if err != nil {
		ok1 = false
	}
	var m boltMeta
	switch {
	case ok0 && ok1:
		m = m0
		if m1.TxID > m0.TxID {
			m = m1
		}
	case ok0 || ok1:
		// bbolt would fall back to the other meta page, silently undoing
		// the last transaction, and with it the last signing records. Both
		// pages are valid in every store bbolt wrote (it writes both when
		// creating the file), so one damaged page is damage.
		return fmt.Errorf("%w: a meta page is damaged (the store would lose its last transaction)", ErrStoreCorrupt)
	default:
		return fmt.Errorf("%w: no valid meta page (not a store, or damaged)", ErrStoreCorrupt)
	}
	if int64(m.PageSize) != pageSize {
		return fmt.Errorf("%w: meta pages disagree on the page size", ErrStoreCorrupt)
	}
	if m.PGID < 2 || !m.Fits(size) {
		return fmt.Errorf("%w: file is truncated (%d bytes, store needs %d pages of %d)", ErrStoreCorrupt, size, m.PGID, pageSize)
	}
	// Without a synced freelist bbolt rebuilds it while opening, running its
	// tree checker (key order included), which panics in a goroutine of its
	// own on a damaged tree, and writes a freelist into the file. This
	// signer never turns freelist syncing off, so such a file is not its.
	if m.Freelist == boltNoFreelist {
		return fmt.Errorf("%w: store has no synced freelist (not written by this signer)", ErrStoreCorrupt)
	}
	if m.Root >= m.PGID || m.Freelist >= m.PGID {
		return fmt.Errorf("%w: meta page points past the end of the store", ErrStoreCorrupt)
	}
	// bbolt reads the freelist and the root bucket's page while opening;
	// check their headers (id u64, flags u16, count u16, overflow u32).
	if m.Freelist != boltNoFreelist {
		if err := checkPage(f, m, m.Freelist, boltFreelistPage); err != nil {
			return err
		}
	}
	if err := checkPage(f, m, m.Root, boltBranchPage|boltLeafPage); err != nil {
		return err
	}
	w := &treeWalker{f: f, m: m, seen: map[uint64]bool{}}
	if m.Freelist != boltNoFreelist {
		if err := w.freelist(); err != nil {
			return err
		}
	}
	if err := w.page(m.Root, 0, nil, nil); err != nil {
		return err
	}
	return w.liveFree()
}

// treeWalker checks every page reachable from the root bucket before bbolt
// touches them: ids inside the file, headers that match, element offsets
// inside their page, no page reached twice, bounded depth. bbolt would
// dereference a wild page id as a pointer into its memory map.
type treeWalker struct {
	f     *os.File
	m     boltMeta
	seen  map[uint64]bool
	free  map[uint64]bool // the freelist's page ids
	pages int
}

const (
	boltElemSize      = 16 // branch {pos u32, ksize u32, pgid u64}; leaf {flags, pos, ksize, vsize u32}
	boltBucketLeaf    = 0x01
	boltBucketHdrSize = 16 // {root pgid u64, sequence u64}
	maxTreeDepth      = 64
)

func (w *treeWalker) corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrStoreCorrupt, fmt.Sprintf(format, args...))
}

// read returns page id with its overflow pages.
func (w *treeWalker) read(id uint64) ([]byte, error) {
	if id < 2 || id >= w.m.PGID {
		return nil, w.corrupt("page id %d outside the store", id)
	}
	if w.seen[id] {
		return nil, w.corrupt("page %d reached twice", id)
	}
	w.seen[id] = true
	ps := int64(w.m.PageSize)
	var hdr [boltPageHeader]byte
	if _, err := w.f.ReadAt(hdr[:], int64(id)*ps); err != nil {
		return nil, w.corrupt("page %d unreadable", id)
	}
	overflow := uint64(binary.LittleEndian.Uint32(hdr[12:]))
	if binary.LittleEndian.Uint64(hdr[:]) != id || id+overflow >= w.m.PGID {
		return nil, w.corrupt("page %d has a bad header", id)
	}
	buf := make([]byte, int64(overflow+1)*ps)
	if _, err := w.f.ReadAt(buf, int64(id)*ps); err != nil {
		return nil, w.corrupt("page %d unreadable", id)
	}
	for o := uint64(1); o <= overflow; o++ {
		w.seen[id+o] = true
	}
	return buf, nil
}

func (w *treeWalker) freelist() error {
	buf, err := w.read(w.m.Freelist)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	count, start := uint64(le.Uint16(buf[10:])), uint64(boltPageHeader)
	if count == 0xFFFF {
		count, start = le.Uint64(buf[boltPageHeader:]), boltPageHeader+8
	}
	if count > (uint64(len(buf))-start)/8 { // count·8 could wrap around
		return w.corrupt("freelist larger than its pages")
	}
	w.free = map[uint64]bool{}
	for i := uint64(0); i < count; i++ {
		id := le.Uint64(buf[start+i*8:])
		if id < 2 || id >= w.m.PGID {
			return w.corrupt("freelist names page %d outside the store", id)
		}
		if w.free[id] {
			return w.corrupt("freelist names page %d twice", id)
		}
		w.free[id] = true
	}
	return nil
}

// liveFree checks, after the walk, that no page the tree uses is on the
// freelist: bbolt would hand it out for the next write and overwrite live
// records, and a lost record lets the signer sign a second message at its
// height. It also checks that every page below the high-water mark is
// either reachable or free (bbolt's own "unreachable unfreed" check): a
// page that is neither was cut off the tree, with the records on it.
func (w *treeWalker) liveFree() error {
	for id := range w.free {
		if w.seen[id] {
			return w.corrupt("freelist names page %d, which is in use", id)
		}
	}
	for id := uint64(2); id < w.m.PGID; id++ {
		if !w.seen[id] && !w.free[id] {
			return w.corrupt("page %d is neither reachable nor free", id)
		}
	}
	return nil
}

// page checks page id and the subtree below it; every key in it must lie
// in [lo, hi) (nil: unbounded).
func (w *treeWalker) page(id uint64, depth int, lo, hi []byte) error {
	if depth > maxTreeDepth {
		return w.corrupt("tree deeper than %d", maxTreeDepth)
	}
	buf, err := w.read(id)
	if err != nil {
		return err
	}
	return w.node(buf, id, depth, false, lo, hi)
}

// node checks one page image (from the file, or inline in a bucket value)
// and the subtrees below it. Keys must be strictly ascending within the
// page and lie in [lo, hi), and the subtree of a branch element with key
// K(i) must lie in [K(i), K(i+1)): bbolt's own key-order check. bbolt pages
// carry no checksum and a record's checksum does not cover the branch
// keys above it; with a separator out of order a lookup descends into the
// wrong leaf and misses a record, and the signer would sign a second
// message at that height.
func (w *treeWalker) node(buf []byte, id uint64, depth int, inline bool, lo, hi []byte) error {
	le := binary.LittleEndian
	if len(buf) < boltPageHeader {
		return w.corrupt("page %d too short", id)
	}
	flags := le.Uint16(buf[8:])
	count := int(le.Uint16(buf[10:]))
	if boltPageHeader+count*boltElemSize > len(buf) {
		return w.corrupt("page %d: %d elements do not fit", id, count)
	}
	// bbolt's cursor reads a branch page's first element without checking
	// the count, so a branch must have one; and bbolt only writes leaf pages
	// inline (where any child id resolves to the inline page itself).
	switch {
	case flags != boltBranchPage && flags != boltLeafPage:
		return w.corrupt("page %d: neither branch nor leaf", id)
	case flags == boltBranchPage && count == 0:
		return w.corrupt("page %d: branch page without elements", id)
	case inline && flags != boltLeafPage:
		return w.corrupt("page %d: inline bucket page is not a leaf", id)
	}
	// Pass 1: element bounds, data layout and key order. bbolt writes the
	// keys and values right after the element headers, back to back in
	// element order; a count or position that disagrees with that layout
	// (a count one less hides the last record) is damage.
	keys := make([][]byte, count)
	data := boltPageHeader + count*boltElemSize
	for i := 0; i < count; i++ {
		off := boltPageHeader + i*boltElemSize
		e := buf[off : off+boltElemSize]
		var pos, ksize, vsize int
		if flags == boltBranchPage {
			pos, ksize = int(le.Uint32(e[0:])), int(le.Uint32(e[4:]))
		} else {
			pos, ksize, vsize = int(le.Uint32(e[4:])), int(le.Uint32(e[8:])), int(le.Uint32(e[12:]))
		}
		end := off + pos + ksize + vsize
		if end > len(buf) || end < off {
			return w.corrupt("page %d: element %d outside the page", id, i)
		}
		if off+pos != data || ksize == 0 {
			return w.corrupt("page %d: element %d is not where bbolt writes it", id, i)
		}
		data = end
		keys[i] = buf[off+pos : off+pos+ksize]
		switch {
		case i > 0 && bytes.Compare(keys[i-1], keys[i]) >= 0:
			return w.corrupt("page %d: keys out of order at element %d", id, i)
		case i == 0 && lo != nil && bytes.Compare(keys[0], lo) < 0:
			return w.corrupt("page %d: first key below its parent's", id)
		case hi != nil && bytes.Compare(keys[i], hi) >= 0:
			return w.corrupt("page %d: key %d not below its parent's next key", id, i)
		}
	}
	// Pass 2: subtrees.
	for i := 0; i < count; i++ {
		off := boltPageHeader + i*boltElemSize
		e := buf[off : off+boltElemSize]
		if flags == boltBranchPage {
			next := hi
			if i+1 < count {
				next = keys[i+1]
			}
			if err := w.page(le.Uint64(e[8:]), depth+1, keys[i], next); err != nil {
				return err
			}
			continue
		}
		if le.Uint32(e[0:])&boltBucketLeaf == 0 {
			continue
		}
		pos, ksize, vsize := int(le.Uint32(e[4:])), int(le.Uint32(e[8:])), int(le.Uint32(e[12:]))
		v := buf[off+pos+ksize : off+pos+ksize+vsize]
		if len(v) < boltBucketHdrSize {
			return w.corrupt("page %d: short bucket header", id)
		}
		// A bucket is a key space of its own: no bounds.
		if root := le.Uint64(v); root != 0 {
			if err := w.page(root, depth+1, nil, nil); err != nil {
				return err
			}
		} else if err := w.node(v[boltBucketHdrSize:], id, depth+1, true, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

const (
	boltBranchPage   = 0x01
	boltLeafPage     = 0x02
	boltFreelistPage = 0x10
)

func checkPage(f *os.File, m boltMeta, id uint64, flags uint16) error {
	var hdr [boltPageHeader]byte
	if _, err := f.ReadAt(hdr[:], int64(id)*int64(m.PageSize)); err != nil {
		return fmt.Errorf("%w: page %d unreadable", ErrStoreCorrupt, id)
	}
	le := binary.LittleEndian
	pflags := le.Uint16(hdr[8:])
	overflow := uint64(le.Uint32(hdr[12:]))
	if le.Uint64(hdr[0:]) != id || pflags&flags == 0 || pflags&^flags != 0 {
		return fmt.Errorf("%w: page %d has the wrong header", ErrStoreCorrupt, id)
	}
	if id+overflow >= m.PGID {
		return fmt.Errorf("%w: page %d overflows past the end of the store", ErrStoreCorrupt, id)
	}
	if flags == boltFreelistPage {
		// count 0xFFFF means the real count is the first element.
		count := uint64(le.Uint16(hdr[10:]))
		extra := uint64(0)
		if count == 0xFFFF {
			var c [8]byte
			if _, err := f.ReadAt(c[:], int64(id)*int64(m.PageSize)+boltPageHeader); err != nil {
				return fmt.Errorf("%w: freelist unreadable", ErrStoreCorrupt)
			}
			count, extra = le.Uint64(c[:]), 1
		}
		if count > ((overflow+1)*uint64(m.PageSize)-boltPageHeader)/8-extra { // no wrap-around
			return fmt.Errorf("%w: freelist larger than its pages", ErrStoreCorrupt)
		}
	}
	return nil
}

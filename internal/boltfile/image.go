package boltfile

import (
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/btcstake/btcstake/internal/inputfile"
)

// MaxNewImage bounds the image NewImage returns: a new store is a few
// pages.
const MaxNewImage = 1 << 20

// NewImage returns the bytes of a new bbolt file: open (the caller's way
// of opening bbolt, with its options and panic handling) makes it in a
// temporary directory of its own, init writes its first transaction, and
// the closed file is read back (at most MaxNewImage bytes). A caller then
// links the image into place atomically, so that a crash or a full disk
// never leaves a half-made store where the store belongs.
func NewImage(open func(path string) (*bolt.DB, error), init func(*bolt.DB) error) (data []byte, err error) {
	dir, err := os.MkdirTemp("", "btcstake-new-store-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "new.db")
	db, err := open(p)
	if err != nil {
		return nil, err
	}
	err = init(db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return inputfile.Read(p, inputfile.Options{Max: MaxNewImage})
}

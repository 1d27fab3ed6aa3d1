package boltfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestNewImage: the image holds what init wrote (bbolt reads it back from
// a copy) and leaves no temporary directory behind; an init error is
// returned as it is.
func TestNewImage(t *testing.T) {
	open := func(p string) (*bolt.DB, error) { return bolt.Open(p, 0o600, nil) }
	img, err := NewImage(open, func(db *bolt.DB) error {
		return db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket([]byte("meta"))
			if err != nil {
				return err
			}
			return b.Put([]byte("k"), []byte("v"))
		})
	})
	if err != nil || !HasMagic(img) || len(img) > MaxNewImage {
		t.Fatalf("image of %d bytes, %v", len(img), err)
	}
	p := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(p, img, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(p, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte("meta")); b == nil || string(b.Get([]byte("k"))) != "v" {
			return errors.New("the record init wrote is missing")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if img, err := NewImage(open, func(*bolt.DB) error { return boom }); !errors.Is(err, boom) || img != nil {
		t.Fatalf("init error: %d bytes, %v", len(img), err)
	}
}

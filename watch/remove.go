package watch

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// sideFiles are the suffixes of the files the watcher keeps beside its
// store (path + suffix): the delivered marker (store.go).
var sideFiles = []string{markerSuffix}

// Remove deletes the watcher store at path and the files the watcher
// keeps beside it (path + "-delivered"). It refuses, and changes
// nothing, when:
//
//   - path does not exist (an error wrapping fs.ErrNotExist);
//   - path is not a regular file, is not a bbolt file (its magic), is
//     damaged, or is a bbolt file without the watcher's format marker
//     (ErrStore): a file Remove cannot tell is a watcher store;
//   - another process, or an open Watcher of this one, holds the store
//     (ErrStoreInUse, after a quarter of a second).
//
// The files are deleted while Remove holds the store's lock, the
// delivered marker first: a failure midway never leaves a store beside a
// marker that is not its own.
func Remove(path string) (err error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("removing watch store: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrStore, path)
	}
	if fi.Size() == 0 {
		return fmt.Errorf("%w: %s is empty (not a watcher store)", ErrStore, path)
	}
	if err := preflight(path); err != nil {
		return err
	}
	db, err := openBolt(path)
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return fmt.Errorf("%w: %s is locked by another process", ErrStoreInUse, path)
		}
		return fmt.Errorf("%w: %s: %v", ErrStore, path, err)
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("%w: %s: %v", ErrStore, path, cerr)
		}
	}()
	if err := isWatcherStore(db); err != nil {
		return fmt.Errorf("%w (%s)", err, path)
	}
	for _, suffix := range sideFiles {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: removing %s%s: %v", ErrStore, path, suffix, err)
		}
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("%w: removing %s: %v", ErrStore, path, err)
	}
	return nil
}

// isWatcherStore: the bbolt file carries the watcher's format marker.
func isWatcherStore(db *bolt.DB) (err error) {
	defer recoverStore(&err)
	return db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil || !bytes.Equal(m.Get(keyFormat), formatV1) {
			return fmt.Errorf("%w: not a btcstake watcher store (no %q format marker)", ErrStore, formatV1)
		}
		return nil
	})
}

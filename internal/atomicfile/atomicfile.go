// Package atomicfile writes files so that a crash leaves either the old file
// or the new one, never a torn one: the data goes to a temporary file in the
// same directory, which is chmod-ed, synced and renamed (or linked) into
// place, and then the directory is synced. Keystores, the EOTS signer's
// backups, the regtest state file and the CLI's --out files share it.
//
// WriteFile is the writer for outputs a user names (every command's --out,
// the keystores key keygen and key import create): on top of atomicity it
// never destroys anything. An existing file is replaced only when asked,
// never when it is one of the inputs or holds a key, and never through a
// symbolic link; see Options and the rules above ErrExists. Write is the
// bare atomic write underneath, for files a package manages itself.
package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Write writes data to path with mode. With noClobber it refuses to replace
// an existing file, with an error wrapping fs.ErrExist (also when the file
// appears while writing: the final step is a hard link, which fails on an
// existing name, where a rename would replace it). On any error no
// temporary file is left behind and path is unchanged.
func Write(path string, data []byte, mode fs.FileMode, noClobber bool) (err error) {
	dir := filepath.Dir(path)
	if noClobber {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%w: %s", fs.ErrExist, path)
		}
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if noClobber {
		if err = os.Link(tmp, path); err != nil {
			if os.IsExist(err) {
				err = fmt.Errorf("%w: %s", fs.ErrExist, path)
			}
			return err
		}
		os.Remove(tmp)
	} else if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory, making renames and creations in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

package signer

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/btcstake/btcstake/internal/atomicfile"
)

// writeFileAtomic writes data to path with mode 0600 through
// internal/atomicfile (temporary file, fsync, rename or link, fsync of the
// directory). With noClobber it refuses to replace an existing file
// (ErrExists). A crash leaves either the old file or the new one.
func writeFileAtomic(path string, data []byte, noClobber bool) error {
	err := atomicfile.Write(path, data, 0o600, noClobber)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", ErrExists, path)
	}
	return err
}

func syncDir(dir string) error { return atomicfile.SyncDir(dir) }

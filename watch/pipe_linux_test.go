package watch_test

import (
	"os"

	"golang.org/x/sys/unix"
)

// shrinkPipe makes the pipe behind f hold one page, so that a writer
// blocks as soon as its reader stops reading (a slow consumer).
func shrinkPipe(f *os.File) error {
	_, err := unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, os.Getpagesize())
	return err
}

//go:build unix

package inputfile

import (
	"os"
	"syscall"
)

// openFlags open without blocking: a named pipe that replaced the file
// after it was checked opens at once (and is then refused) instead of
// waiting for a writer; O_NOCTTY keeps a terminal from becoming the
// process's controlling terminal. On a regular file neither flag changes
// anything.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOCTTY

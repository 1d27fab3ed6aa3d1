//go:build !unix

package inputfile

import "os"

// openFlags: without O_NONBLOCK the check before opening is what keeps a
// named pipe from being opened.
const openFlags = os.O_RDONLY

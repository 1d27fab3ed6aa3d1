// Package inputfile is the one way the project reads a file or a stream it
// was handed: params, keys and keystores, passphrase and password files,
// cookies, config and state files, transactions and PSBTs. Every read is
// bounded by a limit suited to what the file holds, a file must be a
// regular file (a named pipe, a device, a socket or a directory is refused
// before anything is read, so /dev/zero cannot exhaust memory and a FIFO
// cannot hang the program), a secret's file may be required to be private
// to its owner, and a stream (standard input) is read with a deadline.
//
// Errors wrap ErrNotRegular, ErrTooLarge, ErrNotPrivate or ErrTimeout, or
// the *fs.PathError of the failed system call (so errors.Is(err,
// fs.ErrNotExist) works), and name the path; none holds any of the file's
// content.
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"time"
)

var (
	// ErrNotRegular: the path names a directory, a named pipe, a device,
	// a socket or another file that is not a regular file.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge: the file or stream holds more than the limit.
	ErrTooLarge = errors.New("larger than the limit")
	// ErrNotPrivate: a secret's file has permission bits for users other
	// than its owner that Options.Forbid names.
	ErrNotPrivate = errors.New("not private to its owner")
	// ErrTimeout: a stream did not end within the deadline.
	ErrTimeout = errors.New("input did not end in time")
)

// Owner-only and group-shared permission masks for Options.Forbid.
const (
	// Private refuses any permission for the group or others (a secret:
	// chmod 600).
	Private fs.FileMode = 0o077
	// NotOthers refuses any permission for others, allowing the group (a
	// file a group is meant to share, such as bitcoind's cookie written
	// with -rpccookieperms=group).
	NotOthers fs.FileMode = 0o007
)

// Options bound a read.
type Options struct {
	// Max is the most bytes the file may hold; a larger file is refused
	// with ErrTooLarge after reading Max+1 bytes at most. Required.
	Max int64
	// Forbid lists permission bits that must be clear (Private,
	// NotOthers); 0 checks nothing. Not checked on Windows, whose file
	// modes do not say who may read a file (access is in its ACL).
	Forbid fs.FileMode
	// NoFollow refuses a symbolic link at path like any other file that
	// is not regular (a directory scan reads only what it finds there).
	NoFollow bool
}

// Read reads the regular file at path (symbolic links followed unless
// o.NoFollow) under the bounds of o.
//
//  1. Stat the path: it must be a regular file (ErrNotRegular otherwise),
//     checked before opening, since opening a named pipe waits for a
//     writer.
//  2. Open it without blocking (on Unix) and stat the open file: it must
//     be the file checked in step 1 and still regular.
//  3. Check the permissions against o.Forbid (ErrNotPrivate).
//  4. Read at most o.Max+1 bytes; more than o.Max is ErrTooLarge.
func Read(path string, o Options) ([]byte, error) {
	if o.Max <= 0 {
		return nil, fmt.Errorf("inputfile: no size limit given for %s", path)
	}
	stat := os.Stat
	if o.NoFollow {
		stat = os.Lstat
	}
	before, err := stat(path)
	if err != nil {
		return nil, err
	}
	if err := regular(path, before); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := regular(path, fi); err != nil {
		return nil, err
	}
	if !os.SameFile(before, fi) {
		return nil, fmt.Errorf("%w: %s was replaced while it was being opened", ErrNotRegular, path)
	}
	if perm := fi.Mode().Perm(); perm&o.Forbid != 0 && runtime.GOOS != "windows" {
		who, fix := "group or others", "chmod 600"
		if o.Forbid&0o070 == 0 {
			who, fix = "others", "chmod o-rwx"
		}
		return nil, fmt.Errorf("%w: %s has mode %04o: %s can access it; run %s %s", ErrNotPrivate, path, perm, who, fix, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, o.Max+1))
	if err != nil {
		clear(b)
		return nil, err
	}
	if int64(len(b)) > o.Max {
		clear(b)
		return nil, fmt.Errorf("%w: %s is larger than %s", ErrTooLarge, path, Size(o.Max))
	}
	return b, nil
}

// regular refuses anything but a regular file, naming what it is.
func regular(path string, fi fs.FileInfo) error {
	m := fi.Mode()
	if m.IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch {
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a device"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeSymlink != 0:
		what = "a symbolic link"
	}
	return fmt.Errorf("%w: %s is %s, not a regular file", ErrNotRegular, path, what)
}

// ReadStream reads r (standard input, a pipe) to its end under two bounds:
// at most max bytes (ErrTooLarge) and within timeout (ErrTimeout). After a
// timeout the read goes on in the background until r returns (a blocked
// read cannot be interrupted): callers give up on r, as the CLI does by
// exiting.
func ReadStream(r io.Reader, max int64, timeout time.Duration) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(r, max+1))
		done <- result{b, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case res := <-done:
		if res.err != nil {
			clear(res.b)
			return nil, res.err
		}
		if int64(len(res.b)) > max {
			clear(res.b)
			return nil, fmt.Errorf("%w: more than %s", ErrTooLarge, Size(max))
		}
		return res.b, nil
	case <-t.C:
		return nil, fmt.Errorf("%w: nothing ended the input within %v", ErrTimeout, timeout)
	}
}

// Size spells a limit for people: 4096 bytes, 64 KiB, 8 MiB.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

package atomicfile

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// The rules an output file is written under (WriteFile, Check), so that
// writing an output never destroys anything:
//
//   - the directory must exist (ErrNoDir);
//   - a path that exists must be a regular file: a directory, a symbolic
//     link (even one to a regular file: the link is not written through,
//     and a rename would replace the link, not its target), a named pipe
//     or a device is refused (ErrNotRegular);
//   - a path naming one of the files the output was made from is refused,
//     whatever else is allowed (ErrIsInput; compared with os.SameFile
//     after following links, so another spelling or a hard link of an
//     input is caught too);
//   - a path whose file holds a key (a keystore, an age-encrypted file, a
//     plain hex secret key, a PEM private key, a bbolt database such as
//     the EOTS signer's record store) is refused, whatever else is allowed
//     (ErrHoldsKey), unless Options.ReplaceKeys;
//   - any other existing file is replaced only with Options.Replace
//     (ErrExists, which also matches fs.ErrExist);
//   - the write is atomic: a temporary file in the same directory,
//     written, fsynced and then linked (new files: an existing name is
//     never replaced, even one that appears meanwhile) or renamed (with
//     Replace) into place, and the directory fsynced;
//   - a file with Options.Private is created with mode 0600 whatever the
//     umask; any other file with Options.Perm less the umask, as the
//     shell's ">" would create it.
var (
	// ErrExists: the output exists and replacing it was not asked for.
	ErrExists = errors.New("the output file exists")
	// ErrIsInput: the output is a file the command reads.
	ErrIsInput = errors.New("the output file is one of the inputs")
	// ErrHoldsKey: the output exists and holds a key.
	ErrHoldsKey = errors.New("the output file holds a key")
	// ErrNotRegular: the output is a directory, a symbolic link, a pipe
	// or a device.
	ErrNotRegular = errors.New("the output is not a regular file")
	// ErrNoDir: the output's directory does not exist.
	ErrNoDir = errors.New("the output's directory does not exist")
)

// Options say how WriteFile may treat what is already at the path.
type Options struct {
	// Perm is the mode of a file that holds no secret, before the umask
	// (0o666 makes the usual 0644); 0 means 0600. Ignored with Private.
	Perm fs.FileMode
	// Private marks a file holding a secret: mode 0600 exactly.
	Private bool
	// Replace allows replacing an existing regular file that is neither
	// an input nor a key (a command's --force).
	Replace bool
	// ReplaceKeys allows replacing a file that holds a key: for a caller
	// that checked itself that the key may go (keystore.Write replacing
	// a keystore of the same key). Needs Replace.
	ReplaceKeys bool
	// Inputs are the files the output is made from; the output must be
	// none of them. Paths that do not exist are ignored.
	Inputs []string
}

// maxSniff bounds how much of an existing file is read to tell whether it
// holds a key.
const maxSniff = 64 << 10

// Check applies the rules above to path without writing anything: a
// command calls it before its work, so a bad output path fails first.
func Check(path string, o Options) error {
	_, err := check(path, o)
	return err
}

// check applies the rules and returns what Lstat found at path (nil when
// nothing is there).
func check(path string, o Options) (fs.FileInfo, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: no output path given", ErrNotRegular)
	}
	dir := filepath.Dir(path)
	di, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, kindError{ErrNoDir, fs.ErrNotExist, dir + " does not exist (create it first)"}
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrNoDir, err)
	case !di.IsDir():
		return nil, fmt.Errorf("%w: %s is not a directory", ErrNoDir, dir)
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m := fi.Mode()
	switch {
	case m&fs.ModeSymlink != 0:
		return fi, fmt.Errorf("%w: %s is a symbolic link; name the file itself (outputs are never written through a link)", ErrNotRegular, path)
	case m.IsDir():
		return fi, fmt.Errorf("%w: %s is a directory; name a file", ErrNotRegular, path)
	case !m.IsRegular():
		return fi, fmt.Errorf("%w: %s is not a regular file (a pipe, a device or a socket)", ErrNotRegular, path)
	}
	for _, in := range o.Inputs {
		if in == "" {
			continue
		}
		ii, err := os.Stat(in)
		if err == nil && os.SameFile(fi, ii) {
			if in == path {
				return fi, fmt.Errorf("%w: %s is read by this command; write to another file", ErrIsInput, path)
			}
			return fi, fmt.Errorf("%w: %s is the same file as the input %s; write to another file", ErrIsInput, path, in)
		}
	}
	if !(o.Replace && o.ReplaceKeys) {
		what, err := HoldsKey(path)
		if err != nil {
			return fi, fmt.Errorf("%w: %s exists and cannot be read to tell whether it holds a key: %v", ErrHoldsKey, path, err)
		}
		if what != "" {
			return fi, fmt.Errorf("%w: %s holds %s; it is never replaced (move it away yourself if you mean to)", ErrHoldsKey, path, what)
		}
	}
	if !o.Replace {
		return fi, kindError{ErrExists, fs.ErrExist, path + " exists"}
	}
	return fi, nil
}

// kindError is an error of one kind that also matches the io/fs error
// of the same meaning (ErrExists is fs.ErrExist, as Write's noClobber
// error is; a missing directory is fs.ErrNotExist).
type kindError struct {
	kind, fsKind error
	what         string
}

func (e kindError) Error() string { return e.kind.Error() + ": " + e.what }
func (e kindError) Is(target error) bool {
	return target == e.kind || target == e.fsKind
}

// HoldsKey tells whether the regular file at path holds key material, by
// its first 64 KiB, and names what it found ("" for nothing): a keystore
// (this project's JSON envelope), an age-encrypted file, a PEM private
// key, a bbolt database (the EOTS signer's record store), or a plain hex
// secret key (64 hex digits, an optional 0x, white space around: a txid
// saved to a file looks the same and is kept too).
func HoldsKey(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		// (Opening a named pipe would wait for a writer.)
		return "", fmt.Errorf("%w: %s", ErrNotRegular, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSniff))
	defer clear(b)
	if err != nil {
		return "", err
	}
	return sniffKey(b), nil
}

// sniffKey recognises key material by content.
func sniffKey(b []byte) string {
	t := bytes.TrimSpace(b)
	switch {
	case bytes.HasPrefix(t, []byte("{")) && bytes.Contains(t, []byte(`"age_scrypt"`)):
		return "a keystore"
	case bytes.HasPrefix(t, []byte("age-encryption.org/")) || bytes.HasPrefix(t, []byte("-----BEGIN AGE ENCRYPTED FILE-----")):
		return "an age-encrypted file"
	case bytes.Contains(t, []byte("-----BEGIN")) && bytes.Contains(t, []byte("PRIVATE KEY-----")):
		return "a PEM private key"
	case len(b) >= 20 && bytes.Equal(b[16:20], []byte{0xed, 0xda, 0x0c, 0xed}):
		// bbolt: a 16-byte page header, then the meta page's magic
		// 0xED0CDAED, little-endian.
		return "a bbolt database (such as the EOTS signer's record store)"
	}
	h := bytes.TrimPrefix(t, []byte("0x"))
	if len(h) == 64 {
		if _, err := hex.DecodeString(string(h)); err == nil {
			return "what looks like a hex secret key"
		}
	}
	return ""
}

// WriteFile writes data to path under the rules above. On any error path
// is unchanged and no temporary file is left.
func WriteFile(path string, data []byte, o Options) (err error) {
	if _, err := check(path, o); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, tmp, err := createTemp(dir, filepath.Base(path), o)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if o.Private {
		// The umask may have narrowed it already; never widen past 0600.
		if err = f.Chmod(0o600); err != nil {
			return err
		}
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
	// What is at path now (not what was there when the caller began) is
	// what the commit replaces: check again.
	fi, err := check(path, o)
	if err != nil {
		return err
	}
	if fi == nil || !o.Replace {
		// A link never replaces: a file that appeared since is kept.
		if err = os.Link(tmp, path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				err = kindError{ErrExists, fs.ErrExist, path + " appeared while the output was being written"}
			}
			return err
		}
		os.Remove(tmp)
	} else if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// createTemp creates a new file for the output in dir: mode 0600 for a
// secret, o.Perm through the umask otherwise.
func createTemp(dir, base string, o Options) (*os.File, string, error) {
	perm := o.Perm
	if o.Private || perm == 0 {
		perm = 0o600
	}
	for i := 0; ; i++ {
		var r [8]byte
		_, _ = rand.Read(r[:])
		name := filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(r[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if err == nil {
			return f, name, nil
		}
		if !errors.Is(err, fs.ErrExist) || i == 100 {
			return nil, "", err
		}
	}
}

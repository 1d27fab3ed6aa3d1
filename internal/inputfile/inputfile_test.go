//go:build unix

package inputfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func write(t *testing.T, dir, name, content string, mode fs.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return p
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	exact := write(t, dir, "exact", strings.Repeat("x", 100), 0o644)
	over := write(t, dir, "over", strings.Repeat("x", 101), 0o644)
	secret := write(t, dir, "secret", "s3cret", 0o600)
	groupRead := write(t, dir, "group", "s3cret", 0o640)
	worldRead := write(t, dir, "world", "s3cret", 0o604)
	groupWrite := write(t, dir, "gw", "s3cret", 0o620)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	linkToFile := filepath.Join(dir, "link")
	linkToFifo := filepath.Join(dir, "link-fifo")
	for target, link := range map[string]string{exact: linkToFile, fifo: linkToFifo} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	cases := []struct {
		path   string
		o      Options
		kind   error  // nil: read
		want   string // in the error
		expect string // content when read
	}{
		{exact, Options{Max: 100}, nil, "", strings.Repeat("x", 100)},
		{over, Options{Max: 100}, ErrTooLarge, "larger than 100 bytes", ""},
		{linkToFile, Options{Max: 100}, nil, "", strings.Repeat("x", 100)},
		{"/dev/zero", Options{Max: 1 << 20}, ErrNotRegular, "a character device", ""},
		{"/dev/null", Options{Max: 1 << 20}, ErrNotRegular, "a character device", ""},
		{fifo, Options{Max: 100}, ErrNotRegular, "a named pipe (FIFO)", ""},
		{linkToFifo, Options{Max: 100}, ErrNotRegular, "a named pipe (FIFO)", ""},
		{dir, Options{Max: 100}, ErrNotRegular, "a directory", ""},
		{sock, Options{Max: 100}, ErrNotRegular, "a socket", ""},
		{secret, Options{Max: 100, Forbid: Private}, nil, "", "s3cret"},
		{groupRead, Options{Max: 100, Forbid: Private}, ErrNotPrivate, "mode 0640: group or others can access it; run chmod 600", ""},
		{groupWrite, Options{Max: 100, Forbid: Private}, ErrNotPrivate, "0620", ""},
		{worldRead, Options{Max: 100, Forbid: Private}, ErrNotPrivate, "0604", ""},
		{groupRead, Options{Max: 100, Forbid: NotOthers}, nil, "", "s3cret"},
		{worldRead, Options{Max: 100, Forbid: NotOthers}, ErrNotPrivate, "others can access it; run chmod o-rwx", ""},
		{exact, Options{Max: 100}, nil, "", strings.Repeat("x", 100)},
	}
	for _, c := range cases {
		start := time.Now()
		b, err := Read(c.path, c.o)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v", c.path, d)
		}
		if c.kind == nil {
			if err != nil || string(b) != c.expect {
				t.Errorf("%s: %q, %v", c.path, b, err)
			}
			continue
		}
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s: got %v, want %v with %q and the path", c.path, err, c.kind, c.want)
		}
		if b != nil {
			t.Errorf("%s: returned %d bytes with the error", c.path, len(b))
		}
		if strings.Contains(fmt.Sprint(err), "s3cret") {
			t.Errorf("%s: the content in the error", c.path)
		}
	}
	if _, err := Read(filepath.Join(dir, "absent"), Options{Max: 1}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("absent: %v", err)
	}
	if _, err := Read(exact, Options{}); err == nil {
		t.Error("read without a limit")
	}
}

// TestReadFifoWithWriter: even a FIFO with a writer ready (which would
// not block the open) is refused, not read.
func TestReadFifoWithWriter(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	go w.Write([]byte("data"))
	if _, err := Read(fifo, Options{Max: 100}); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("%v", err)
	}
}

func TestReadStream(t *testing.T) {
	b, err := ReadStream(strings.NewReader("hello"), 5, time.Second)
	if err != nil || string(b) != "hello" {
		t.Fatalf("%q %v", b, err)
	}
	if _, err := ReadStream(strings.NewReader("hello!"), 5, time.Second); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "5 bytes") {
		t.Fatalf("too large: %v", err)
	}
	zero, err := os.Open("/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer zero.Close()
	if _, err := ReadStream(zero, 1<<20, 10*time.Second); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("/dev/zero: %v", err)
	}
	pr, pw := io.Pipe() // a writer that never closes
	defer pw.Close()
	start := time.Now()
	if _, err := ReadStream(pr, 100, 100*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("silent stream: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	if _, err := ReadStream(iotestErr{}, 100, time.Second); err == nil || errors.Is(err, ErrTimeout) {
		t.Fatalf("failing reader: %v", err)
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errors.New("broken") }

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{4096: "4 KiB", 8 << 20: "8 MiB", 100: "100 bytes", 1500: "1500 bytes", 1 << 10: "1 KiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

func ExampleRead() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	pass := filepath.Join(dir, "pass.txt")
	_ = os.WriteFile(pass, []byte("correct horse\n"), 0o600)
	b, err := Read(pass, Options{Max: 4096, Forbid: Private})
	fmt.Printf("%q %v\n", bytes.TrimSpace(b), err)
	_, err = Read("/dev/zero", Options{Max: 4096})
	fmt.Println(err)
	// Output:
	// "correct horse" <nil>
	// not a regular file: /dev/zero is a character device, not a regular file
}

// TestReadNoFollow: a symbolic link to a regular file is read by default
// and refused, as not regular, with NoFollow.
func TestReadNoFollow(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if b, err := Read(link, Options{Max: 16}); err != nil || string(b) != "data" {
		t.Fatalf("followed: %q, %v", b, err)
	}
	if b, err := Read(link, Options{Max: 16, NoFollow: true}); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "a symbolic link") || b != nil {
		t.Fatalf("NoFollow: %q, %v", b, err)
	}
	if b, err := Read(target, Options{Max: 16, NoFollow: true}); err != nil || string(b) != "data" {
		t.Fatalf("NoFollow on a regular file: %q, %v", b, err)
	}
}

//go:build unix

package keystore

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLoadKeyFileRefusesFIFO: a named pipe is not a key file. It is
// refused with ErrUnsafeFile at once; opening it first would block until
// some process wrote to it.
func TestLoadKeyFileRefusesFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key.pipe")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := LoadKeyFile(path, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrUnsafeFile) {
			t.Fatalf("got %v, want ErrUnsafeFile", err)
		}
	case <-time.After(5 * time.Second):
		// Release the blocked open so the test binary can exit.
		if w, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatal("LoadKeyFile blocked opening a named pipe")
	}
}

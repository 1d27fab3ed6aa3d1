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

// TestLoadRefusesFIFO: Load and PublicKey refuse a named pipe at once too
// (they used to open it and wait for a writer).
func TestLoadRefusesFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keystore.pipe")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan [2]error, 1)
	go func() {
		_, e1 := Load(path, []byte("pw"))
		_, e2 := PublicKey(path)
		done <- [2]error{e1, e2}
	}()
	select {
	case errs := <-done:
		for _, err := range errs {
			if !errors.Is(err, ErrUnsafeFile) {
				t.Fatalf("got %v, want ErrUnsafeFile", err)
			}
		}
	case <-time.After(5 * time.Second):
		for i := 0; i < 2; i++ {
			if w, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
				w.Close()
			}
		}
		t.Fatal("Load or PublicKey blocked opening a named pipe")
	}
}

//go:build linux

package benchchain

import (
	"errors"
	"os"
	"testing"
)

// TestRSS: the peak RSS read from /proc covers 64 MiB the test touches
// (Linux only: PeakRSS reads /proc/self/status).
func TestRSS(t *testing.T) {
	peak, err := PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	// Hold 64 MiB, touched, and the peak must cover it.
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	after, err := PeakRSS()
	if err != nil {
		t.Fatal(err)
	}
	if after < peak || after < 64<<20 {
		t.Fatalf("peak %d before, %d after touching 64 MiB", peak, after)
	}
	if buf[len(buf)-1] != byte(len(buf)-1) {
		t.Fatal("buffer changed")
	}
	cur, p, err := ProcessRSS(os.Getpid())
	if err != nil || cur <= 0 || p < cur {
		t.Fatalf("own RSS %d, peak %d, %v", cur, p, err)
	}
	if _, _, err := ProcessRSS(-1); !errors.Is(err, ErrRSS) {
		t.Fatalf("RSS of no process: %v", err)
	}
}

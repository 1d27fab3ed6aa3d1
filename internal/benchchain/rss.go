package benchchain

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// ErrRSS: the resident set size could not be read (not Linux, or the
// process is gone).
var ErrRSS = errors.New("cannot read resident set size")

// maxStatusBytes bounds the read of /proc/<pid>/status (a few kB).
const maxStatusBytes = 64 << 10

// PeakRSS is this process's peak resident set size in bytes (VmHWM of
// /proc/self/status): the most memory it held at once since it started
// or since ResetPeakRSS.
func PeakRSS() (int64, error) { return statusField("self", "VmHWM") }

// ProcessRSS is the current and the peak resident set size in bytes of
// process pid (VmRSS and VmHWM), for the node's own memory.
func ProcessRSS(pid int) (current, peak int64, err error) {
	p := strconv.Itoa(pid)
	if current, err = statusField(p, "VmRSS"); err != nil {
		return 0, 0, err
	}
	peak, err = statusField(p, "VmHWM")
	return current, peak, err
}

// ResetPeakRSS returns the memory the Go runtime holds but does not use
// to the system (debug.FreeOSMemory), then starts this process's peak
// resident set size afresh from its current size (writing 5 to
// /proc/self/clear_refs, Linux 4.0 and later), so that PeakRSS then
// measures a benchmark's run, not the chain generation before it.
func ResetPeakRSS() error {
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("%w: resetting the peak: %v", ErrRSS, err)
	}
	return nil
}

func statusField(pid, field string) (int64, error) {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrRSS, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxStatusBytes))
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrRSS, err)
	}
	v, err := ParseStatusKB(data, field)
	if err != nil {
		return 0, err
	}
	return v * 1024, nil
}

// ParseStatusKB returns the value of field in the text of a
// /proc/<pid>/status file, a line "Field:<spaces>N kB", in kB. A missing
// field, a value that is not a non-negative number or a unit other than
// kB is ErrRSS.
func ParseStatusKB(status []byte, field string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	prefix := field + ":"
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		parts := strings.Fields(line[len(prefix):])
		if len(parts) != 2 || parts[1] != "kB" {
			return 0, fmt.Errorf("%w: %s line %q is not \"N kB\"", ErrRSS, field, line)
		}
		v, err := strconv.ParseInt(parts[0], 10, 64)
		if err != nil || v < 0 || v > 1<<50 {
			return 0, fmt.Errorf("%w: %s value %q", ErrRSS, field, parts[0])
		}
		return v, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("%w: %v", ErrRSS, err)
	}
	return 0, fmt.Errorf("%w: no %s line", ErrRSS, field)
}

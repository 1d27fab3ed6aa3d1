//go:build !linux

package benchpair

import "time"

var start = time.Now()

// now is the monotonic wall time in nanoseconds (no per-thread CPU clock
// here).
func now() int64 { return int64(time.Since(start)) }

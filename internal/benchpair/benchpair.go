// Package benchpair runs an operation beside a baseline in one benchmark,
// interleaved call by call, and reports both times and their ratio.
//
// The machine the project is measured on is shared: other processes take
// the CPU away at random. Two separate benchmarks then drift apart, and
// even one interleaved benchmark sees waiting time in its wall clock. So
// the times reported here are the CPU time of the benchmark's own thread
// (CLOCK_THREAD_CPUTIME_ID, where the platform has it; wall time
// elsewhere), taken around each call with the goroutine locked to its
// thread: time spent descheduled does not count, and the ratio stays
// stable under load.
package benchpair

import (
	"runtime"
	"testing"
)

// Run calls base and ours alternately b.N times each and reports
// "<baseName>-ns/op" and "btcstake-ns/op" (thread CPU time per call) and
// "ratio" (ours / base). The framework's own ns/op is the wall time of
// both calls together. Call b.ReportAllocs before Run to get allocations
// (of both calls together).
func Run(b *testing.B, baseName string, base, ours func()) {
	b.Helper()
	RunWithSetup(b, baseName, base, nil, ours)
}

// RunWithSetup is Run with a setup call before each call of ours (when
// setup is not nil), outside the measured time: for operations that
// consume their input.
func RunWithSetup(b *testing.B, baseName string, base, setup, ours func()) {
	b.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// Warm both (lazily built tables, caches) outside the measurement.
	base()
	if setup != nil {
		setup()
	}
	ours()
	var tb, to int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := now()
		base()
		t1 := now()
		if setup != nil {
			setup()
		}
		t2 := now()
		ours()
		t3 := now()
		tb += t1 - t0
		to += t3 - t2
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(tb)/n, baseName+"-ns/op")
	b.ReportMetric(float64(to)/n, "btcstake-ns/op")
	if tb > 0 {
		b.ReportMetric(float64(to)/float64(tb), "ratio")
	}
}

// Measure reports the thread CPU time of one call of f, in nanoseconds,
// for benchmarks that pair operations in their own way.
func Measure(f func()) int64 {
	t0 := now()
	f()
	return now() - t0
}

//go:build !unix

package signer

import "time"

// lockForPreflight is a no-op where flock is not available; bbolt's own
// lock still guards the store once it is opened.
func lockForPreflight(string, time.Duration) (func(), error) { return func() {}, nil }

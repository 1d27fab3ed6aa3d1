//go:build !libsecp256k1

package secp

import "testing"

// TestBackendIsGo: the default build verifies in pure Go (its tagged
// counterpart checks that -tags libsecp256k1 uses the library).
func TestBackendIsGo(t *testing.T) {
	if got := Backend(); got != "go" {
		t.Fatalf("Backend() = %q in the default build", got)
	}
}

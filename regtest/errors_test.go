package regtest

import (
	"errors"
	"testing"

	"github.com/btcstake/btcstake/chain"
)

// TestKindsAreChainKinds: a rejection classified by package chain matches
// regtest's kinds, so code written against either package keeps working.
func TestKindsAreChainKinds(t *testing.T) {
	err := error(&chain.RejectError{Kind: chain.ClassifyReject("non-BIP68-final"), Reason: "non-BIP68-final"})
	if !errors.Is(err, ErrSequenceLock) || !errors.Is(err, ErrRejected) || errors.Is(err, ErrScriptFailure) {
		t.Fatalf("%v does not match regtest's kinds", err)
	}
	if ClassifyReject("txn-mempool-conflict") != ErrDoubleSpend {
		t.Fatal("ClassifyReject does not use chain's classifier")
	}
	// regtest's own kinds are not chain's.
	for _, k := range []error{ErrBuild, ErrStart, ErrStopped, ErrRPC, ErrInsufficientFunds, ErrState} {
		for _, ck := range []error{chain.ErrUnreachable, chain.ErrAuth, chain.ErrRPC, chain.ErrBadReply, chain.ErrNotFound} {
			if errors.Is(k, ck) {
				t.Errorf("%v matches %v", k, ck)
			}
		}
	}
}

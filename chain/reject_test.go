package chain

import (
	"errors"
	"strings"
	"testing"
)

// TestClassifyReject checks the classifier against reject texts of btcd
// v0.26 (as seen in regtest's TestRejections) and of Bitcoin Core.
func TestClassifyReject(t *testing.T) {
	cases := []struct {
		text string
		want error
	}{
		// btcd
		{"TX rejected: transaction's sequence locks on inputs not met", ErrSequenceLock},
		{"TX rejected: transaction 5af5 is not standard: transaction is not finalized", ErrNonFinal},
		{"TX rejected: tried to spend coinbase transaction output 9145:0 from height 111 at height 112 before required maturity of 100 blocks", ErrImmatureCoinbase},
		{"TX rejected: orphan transaction f27c references outputs of unknown or fully-spent transaction 0007", ErrMissingInputs},
		{"missing-inputs", ErrMissingInputs},
		{"output 72a1:0 referenced from transaction 8a46:0 either does not exist or has already been spent", ErrMissingInputs},
		{"TX rejected: output already spent in mempool: output=72a1:2, tx=bc23", ErrDoubleSpend},
		{"TX rejected: bc23: replacement transaction has an insufficient fee rate: needs more than 2, has 1", ErrDoubleSpend},
		{"TX rejected: already have transaction in mempool bc23", ErrAlreadyKnown},
		{"TX rejected: transaction already exists in blockchain", ErrAlreadyKnown},
		{"TX rejected: failed to validate input 8a46:0 which references output 72a1:0 - signature not empty on failed checksig (input witness [d2cf], input script bytes , prev output script bytes 5120a1)", ErrScriptFailure},
		{"TX rejected: failed to validate input 4d89:0 which references output 72a1:1 - locktime requirement not satisfied -- locktime is greater than the transaction locktime: 5 > 4", ErrScriptFailure},
		{"TX rejected: failed to parse input 4d89:0 which references output 72a1:1 - malformed", ErrScriptFailure},
		{"TX rejected: transaction 5af5 has insufficient priority (826.44 <= 5.76e+07)", ErrFeeTooLow},
		{"TX rejected: transaction 5af5 has been rejected by the rate limiter due to low fees", ErrFeeTooLow},
		{"TX rejected: transaction 5af5 has 10 fees which is under the required amount of 1100", ErrFeeTooLow},
		{"max-fee-exceeded", ErrFeeTooHigh},
		{"TX rejected: transaction 33b1 is not standard: transaction output 1: payment is dust: 1", ErrNonStandard},
		{"TX rejected: transaction 33b1 has a non-standard input: transaction input #0 has a non-standard script form", ErrNonStandard},
		{"TX rejected: transaction 33b1 is not standard: transaction version 4 is not in the valid range of 1-3", ErrNonStandard},
		{"TX rejected: tx 33b1 is too small", ErrNonStandard},
		// Bitcoin Core
		{"non-BIP68-final", ErrSequenceLock},
		{"non-final", ErrNonFinal},
		{"bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth 5", ErrImmatureCoinbase},
		{"bad-txns-inputs-missingorspent", ErrMissingInputs},
		{"txn-mempool-conflict", ErrDoubleSpend},
		{"insufficient fee, rejecting replacement 1a2b; new feerate 0.00001 <= old feerate 0.00002", ErrDoubleSpend},
		{"bad-txns-spends-conflicting-tx, 1a2b spends conflicting transaction 3c4d", ErrDoubleSpend},
		{"txn-already-in-mempool", ErrAlreadyKnown},
		{"txn-already-known", ErrAlreadyKnown},
		{"Transaction outputs already in utxo set", ErrAlreadyKnown},
		{"Transaction already in block chain", ErrAlreadyKnown},
		{"mandatory-script-verify-flag-failed (Invalid Schnorr signature)", ErrScriptFailure},
		{"non-mandatory-script-verify-flag (Witness program hash mismatch)", ErrScriptFailure},
		{"mempool-script-verify-flag-failed (Locktime requirement not satisfied)", ErrScriptFailure},
		{"min relay fee not met, 0 < 110", ErrFeeTooLow},
		{"mempool min fee not met, 100 < 200", ErrFeeTooLow},
		{"Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)", ErrFeeTooHigh},
		{"dust", ErrNonStandard},
		{"scriptpubkey", ErrNonStandard},
		{"tx-size-small", ErrNonStandard},
		{"bad-txns-nonstandard-inputs", ErrNonStandard},
		{"bad-witness-nonstandard", ErrNonStandard},
		{"multi-op-return", ErrNonStandard},
		{"version", ErrNonStandard},
		// Unrecognised texts are plain rejections.
		{"bad-txns-in-belowout, value in (0.001) < value out (0.002)", ErrRejected},
		{"TX decode failed", ErrRejected},
		{"Missing inputs", ErrMissingInputs},
		{"", ErrRejected},
	}
	kinds := []error{ErrSequenceLock, ErrNonFinal, ErrImmatureCoinbase, ErrDoubleSpend, ErrMissingInputs,
		ErrAlreadyKnown, ErrScriptFailure, ErrFeeTooLow, ErrFeeTooHigh, ErrNonStandard}
	for _, c := range cases {
		if got := ClassifyReject(c.text); got != c.want {
			t.Errorf("ClassifyReject(%q) = %v, want %v", c.text, got, c.want)
		}
		err := error(&RejectError{Kind: ClassifyReject(c.text), Reason: c.text})
		if !errors.Is(err, ErrRejected) || !errors.Is(err, c.want) {
			t.Errorf("%q: error %v does not match ErrRejected and %v", c.text, err, c.want)
		}
		for _, k := range kinds {
			also := c.want == ErrDoubleSpend && k == ErrMissingInputs
			if k != c.want && !also && errors.Is(err, k) {
				t.Errorf("%q: error also matches %v", c.text, k)
			}
		}
		if !strings.Contains(err.Error(), c.text) {
			t.Errorf("%q: error text %q lost the node's reason", c.text, err)
		}
		var re *RejectError
		if !errors.As(err, &re) || re.Reason != c.text {
			t.Errorf("%q: errors.As did not yield the reason", c.text)
		}
		// ErrFee is the umbrella of the two fee kinds, and only of them.
		isFee := c.want == ErrFeeTooLow || c.want == ErrFeeTooHigh
		if errors.Is(err, ErrFee) != isFee {
			t.Errorf("%q: errors.Is(ErrFee) = %v, want %v", c.text, !isFee, isFee)
		}
	}
}

// TestClassifyRejectCase: node texts are matched case-insensitively.
func TestClassifyRejectCase(t *testing.T) {
	if got := ClassifyReject("NON-BIP68-FINAL"); got != ErrSequenceLock {
		t.Fatalf("got %v", got)
	}
}

// TestClassifyRejectCode: code -27 (already in the chain) classifies a
// text the patterns do not know; a known text wins over the code.
func TestClassifyRejectCode(t *testing.T) {
	for _, c := range []struct {
		code int
		text string
		want error
	}{
		{codeAlreadyInChain, "some future wording", ErrAlreadyKnown},
		{codeVerifyRejected, "some future wording", ErrRejected},
		{codeAlreadyInChain, "bad-txns-inputs-missingorspent", ErrMissingInputs},
		{codeVerify, "non-BIP68-final", ErrSequenceLock},
	} {
		if got := classifyRejectCode(c.code, c.text); got != c.want {
			t.Errorf("classifyRejectCode(%d, %q) = %v, want %v", c.code, c.text, got, c.want)
		}
	}
	for code, want := range map[int]bool{-22: true, -25: true, -26: true, -27: true, -5: false, -1: false, -32601: false, 0: false} {
		if isTxRejectCode(code) != want {
			t.Errorf("isTxRejectCode(%d) = %v", code, !want)
		}
	}
}

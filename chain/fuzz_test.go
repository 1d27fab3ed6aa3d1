package chain

import (
	"errors"
	"strings"
	"testing"
)

// FuzzClassifyReject: any text classifies to exactly one known kind
// without panicking, and case never matters.
func FuzzClassifyReject(f *testing.F) {
	for _, s := range []string{"non-BIP68-final", "TX rejected: transaction's sequence locks on inputs not met", "dust", "", "max-fee-exceeded"} {
		f.Add(s)
	}
	kinds := []error{ErrSequenceLock, ErrNonFinal, ErrImmatureCoinbase, ErrDoubleSpend, ErrMissingInputs,
		ErrAlreadyKnown, ErrScriptFailure, ErrFeeTooLow, ErrFeeTooHigh, ErrNonStandard, ErrRejected}
	f.Fuzz(func(t *testing.T, s string) {
		k := ClassifyReject(s)
		known := false
		for _, want := range kinds {
			known = known || k == want
		}
		if !known {
			t.Fatalf("%q classified as %v", s, k)
		}
		if k2 := ClassifyReject(strings.ToUpper(s)); strings.ToLower(strings.ToUpper(s)) == strings.ToLower(s) && k2 != k {
			t.Fatalf("%q: upper case gives %v, lower %v", s, k2, k)
		}
	})
}

// FuzzParseCookie: a parsed cookie gives back its input's user:password,
// and nothing that is not one parses.
func FuzzParseCookie(f *testing.F) {
	for _, s := range []string{"__cookie__:abc\n", "u:p", ":", "nocolon", "a:b:c"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		u, p, err := ParseCookie("cookie", b)
		if err != nil {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("error kind: %v", err)
			}
			return
		}
		if u == "" || strings.Contains(u, ":") || u+":"+p != strings.TrimSpace(string(b)) {
			t.Fatalf("%q parsed as %q, %q", b, u, p)
		}
	})
}

// FuzzNormalizeURL: an accepted URL normalises to http://host:port/ and
// normalising it again changes nothing.
func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{"127.0.0.1:8332", "http://[::1]:18443/x", "https://a:1", "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := NormalizeURL(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("error kind: %v", err)
			}
			return
		}
		if !strings.HasPrefix(u, "http://") || !strings.HasSuffix(u, "/") {
			t.Fatalf("%q normalised to %q", s, u)
		}
		if again, err := NormalizeURL(u); err != nil || again != u {
			t.Fatalf("%q: %q normalises again to %q, %v", s, u, again, err)
		}
	})
}

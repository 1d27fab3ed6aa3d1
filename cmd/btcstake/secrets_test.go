package main

import (
	"strings"
	"testing"
)

// TestSecretsNeverOnTheCommandLine: every flag that once took a secret as
// its value (a key, an RPC password) is refused with a usage error naming
// the flag and the way to give it instead, and the value never appears in
// the output; nothing else runs (no node is asked).
func TestSecretsNeverOnTheCommandLine(t *testing.T) {
	const secret = "b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef"
	for _, c := range []struct {
		args []string
		flag string
		hint string
	}{
		{[]string{"eots", "pubrand", "--sk", secret, "--chain-id", "c", "--start-height", "1", "--count", "1"}, "--sk", "--key FILE"},
		{[]string{"adaptor", "sign", "--sk", secret, "--enc-key", exEotsPK, "--msg-hash", exSighash}, "--sk", "--key FILE"},
		{[]string{"adaptor", "decrypt", "--sig", exAdSig, "--dec-key", secret}, "--dec-key", "--key FILE"},
		{[]string{"broadcast", "--tx", "00", "--rpc-url", "127.0.0.1:1", "--rpc-pass", secret}, "--rpc-pass", "--rpc-pass-file"},
		{[]string{"wait", "--txid", strings.Repeat("ab", 32), "--rpc-pass", secret}, "--rpc-pass", "BTCSTAKE_RPC_PASS"},
		{[]string{"status", "--params", regtestParams, "--txid", strings.Repeat("ab", 32), "--rpc-pass", secret}, "--rpc-pass", "cookie"},
	} {
		t.Run(strings.Join(c.args[:2], " ")+" "+c.flag, func(t *testing.T) {
			for _, json := range []bool{false, true} {
				args := c.args
				if json {
					args = append(append([]string(nil), args...), "--json")
				}
				code, out, errOut := runCLI(t, args...)
				if code != exitUsage || out != "" {
					t.Fatalf("exit %d, stdout %q", code, out)
				}
				if !strings.Contains(errOut, c.flag) || !strings.Contains(errOut, c.hint) || !strings.Contains(errOut, "never taken on the command line") {
					t.Fatalf("stderr %q does not name %s and %q", errOut, c.flag, c.hint)
				}
				if strings.Contains(errOut, secret) || strings.Contains(errOut, secret[:16]) {
					t.Fatalf("the secret was echoed: %q", errOut)
				}
			}
		})
	}
}

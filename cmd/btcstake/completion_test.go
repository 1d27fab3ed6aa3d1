package main

import (
	"strings"
	"testing"
)

// TestShellCompletion: the completion scripts are generated for each shell,
// and the completion engine offers subcommands and --network values.
func TestShellCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		code, out, errOut := runCLI(t, "completion", sh)
		if code != 0 || !strings.Contains(out, "btcstake") || len(out) < 500 {
			t.Errorf("%s: exit %d, %d bytes, %q", sh, code, len(out), errOut)
		}
	}
	code, out, _ := runCLI(t, "__complete", "scr")
	if code != 0 || !strings.Contains(out, "script") {
		t.Errorf("subcommand completion: %q", out)
	}
	code, out, _ = runCLI(t, "__complete", "script", "--network", "")
	for _, n := range []string{"regtest", "signet", "testnet", "mainnet"} {
		if code != 0 || !strings.Contains(out, n) {
			t.Errorf("--network completion lacks %s: %q", n, out)
		}
	}
}

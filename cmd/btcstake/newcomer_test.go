package main

// What a newcomer trips over first: a mistyped subcommand that looks like
// success, and hints that name a command by a spelling help no longer
// shows.

import (
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestUnknownSubcommandIsUsage: in every command group (adaptor, eots, key,
// regtest, stake, completion, ...) a mistyped subcommand is a bad command
// line, exit 2 naming it, never the group's help with exit 0, which a
// script would take for success ("btcstake eots verfy" must not pass for a
// valid signature). The groups are read from the command tree, so a group
// added later is covered too.
func TestUnknownSubcommandIsUsage(t *testing.T) {
	root := newRootCmd(&app{})
	root.InitDefaultCompletionCmd()
	var groups [][]string
	onlyGroup := map[string]bool{} // groups that are nothing but a group: no flags of their own
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" {
				continue
			}
			p := append(append([]string(nil), path...), sub.Name())
			if sub.HasSubCommands() {
				groups = append(groups, p)
				onlyGroup[strings.Join(p, " ")] = !sub.LocalNonPersistentFlags().HasFlags()
			}
			walk(sub, p)
		}
	}
	walk(root, nil)
	for _, want := range []string{"adaptor", "eots", "key", "regtest", "stake", "completion"} {
		found := false
		for _, g := range groups {
			found = found || strings.Join(g, " ") == want
		}
		if !found {
			t.Errorf("group %q not found in the command tree (found %v)", want, groups)
		}
	}
	for _, g := range groups {
		for _, asJSON := range []bool{false, true} {
			args := append(append([]string(nil), g...), "no-such-verb")
			if asJSON {
				args = append(args, "--json")
			}
			code, out, errOut := runCLI(t, args...)
			if code != exitUsage || out != "" || !strings.Contains(errOut, "unknown command") || !strings.Contains(errOut, "no-such-verb") {
				t.Errorf("btcstake %s: exit %d, stdout %d bytes, stderr %q; want exit 2 naming the unknown command",
					strings.Join(args, " "), code, len(out), errOut)
			}
		}
		// A group that is only a group still shows its help when run alone.
		if !onlyGroup[strings.Join(g, " ")] {
			continue
		}
		if code, out, errOut := runCLI(t, g...); code != exitOK || !strings.Contains(out, "Available Commands") {
			t.Errorf("btcstake %s: exit %d %q, want its help", strings.Join(g, " "), code, errOut)
		}
	}
}

// commandMention is "btcstake" followed by words: a command the text
// tells the user to run.
var commandMention = regexp.MustCompile(`btcstake((?: [a-z][a-z0-9-]*)+)`)

// checkMentions fails for every command text names that help does not
// show: a hidden (deprecated) spelling, or no command at all.
func checkMentions(t *testing.T, where, text string) int {
	t.Helper()
	root := newRootCmd(&app{})
	n := 0
	for _, m := range commandMention.FindAllStringSubmatch(text, -1) {
		c, _, err := root.Find(strings.Fields(m[1]))
		if err != nil || c == root {
			t.Errorf("%s names %q, which is no command", where, m[0])
			continue
		}
		for p := c; p != nil; p = p.Parent() {
			if p.Hidden {
				t.Errorf("%s names %q: %q is a hidden, deprecated spelling", where, m[0], p.CommandPath())
				break
			}
		}
		n++
	}
	return n
}

// TestHintsNameCurrentCommands: the status lines sign and adaptor
// sign-slashing print, and inspect's explanation of a slashing PSBT, send
// the user to commands by the names help shows (adaptor sign-slashing,
// adaptor complete-slashing), not by the hidden spellings of the first
// releases.
func TestHintsNameCurrentCommands(t *testing.T) {
	w := newTxWorld(t)
	stHex := txHex(w.stake(t))
	sl := mustJSON[psbtJSON](t, mustRun(t, append([]string{"slash", "--json", "--from", "staking", "--funding-tx", stHex}, w.delegationArgs()...)...)).PSBT
	slFile := writeFile(t, w.dir, "slash.psbt", []byte(sl))
	var texts []string
	run := func(args ...string) {
		t.Helper()
		out := mustRunInPlace(t, args...)
		texts = append(texts, out)
		code, jsonOut, _ := runCLI(t, append(args[:len(args):len(args)], "--json", "--out", slFile+".json", "--force")...)
		if code != exitOK {
			t.Fatalf("%v --json: exit %d", args, code)
		}
		texts = append(texts, jsonOut)
	}
	// The staker's signature: the status names the covenant's next step.
	run("sign", "--psbt", slFile, "--key", w.stakerFile, "--out", slFile)
	run(w.asCovenant("adaptor", "sign-slashing", "--psbt", slFile, "--key", w.covFiles[0], "--out", slFile)...)
	// A quorum of adaptor signatures: completable with the provider's key.
	run(w.asCovenant("adaptor", "sign-slashing", "--psbt", slFile, "--key", w.covFiles[1], "--out", slFile)...)
	texts = append(texts, mustRun(t, "inspect", "--psbt", slFile), mustRun(t, "inspect", "--json", "--psbt", slFile))
	all := strings.Join(texts, "\n")
	for _, want := range []string{"adaptor sign-slashing", "adaptor complete-slashing"} {
		if !strings.Contains(all, "btcstake "+want) {
			t.Errorf("no hint names 'btcstake %s':\n%s", want, all)
		}
	}
	if n := checkMentions(t, "sign/adaptor sign-slashing/inspect output", all); n < 4 {
		t.Errorf("only %d command hints found", n)
	}
}

// TestFromErrorQuotesWhatWasTyped: --from accepts "slashing" for the
// slashing change output (withdraw), but where that output is not allowed
// (slash) the error quotes what the user typed, not the name it was read
// as.
func TestFromErrorQuotesWhatWasTyped(t *testing.T) {
	for _, c := range []struct{ from, want string }{
		{"slashing", `unknown output "slashing" (want staking or unbonding)`},
		{"slashing_change", `unknown output "slashing_change" (want staking or unbonding)`},
		{"bogus", `unknown output "bogus" (want staking or unbonding)`},
	} {
		code, _, errOut := runCLI(t, "slash", "--params", regtestParams, "--staker-pk", exStaker, "--fp-pk", exFP,
			"--staking-time", "144", "--funding-tx", "00", "--from", c.from)
		if code != exitUsage || !strings.Contains(errOut, "--from: "+c.want) {
			t.Errorf("--from %s: exit %d %q, want exit 2 with %q", c.from, code, errOut, c.want)
		}
	}
}

// TestRegtestOnlyNamesWhereTheNetworkCameFrom: docs/cli.md suggests
// "export BTCSTAKE_NETWORK=signet"; the regtest-only commands (regtest,
// demo) then refuse, and must say that the network came from the
// environment or the config file (no --network was typed) and how to run
// them anyway.
func TestRegtestOnlyNamesWhereTheNetworkCameFrom(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "config.json", []byte(`{"network": "signet"}`))
	for _, c := range []struct {
		env, config, want string
	}{
		{"signet", "", "from BTCSTAKE_NETWORK"},
		{"", cfg, "from " + cfg},
	} {
		t.Setenv("BTCSTAKE_NETWORK", c.env)
		t.Setenv("BTCSTAKE_CONFIG", c.config)
		for _, args := range [][]string{{"regtest", "status", "--dir", dir}, {"demo"}} {
			code, out, errOut := runCLI(t, args...)
			if code != exitUsage || out != "" || !strings.Contains(errOut, "not signet") ||
				!strings.Contains(errOut, c.want) || !strings.Contains(errOut, "--network regtest") {
				t.Errorf("%v (env %q, config %q): exit %d %q; want exit 2 naming %q and --network regtest", args, c.env, c.config, code, errOut, c.want)
			}
		}
	}
	// Typed on the command line, the flag needs no explanation.
	t.Setenv("BTCSTAKE_NETWORK", "")
	t.Setenv("BTCSTAKE_CONFIG", "")
	if code, _, errOut := runCLI(t, "demo", "--network", "signet"); code != exitUsage || strings.Contains(errOut, " from ") {
		t.Errorf("demo --network signet: exit %d %q", code, errOut)
	}
}

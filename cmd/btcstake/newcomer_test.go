package main

// What a newcomer trips over first.

import (
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

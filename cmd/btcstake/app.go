package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// Exit codes of the command line contract (docs/cli.md).
const (
	exitOK    = 0
	exitError = 1 // the input was well formed but the operation failed
	exitUsage = 2 // the command line itself was wrong: flag, value, argument
)

// usageError marks an error in the command line: an unknown or missing flag,
// or a flag value that cannot be parsed. It maps to exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// usagef returns a usage error naming the offending flag.
func usagef(flag, format string, args ...any) error {
	return usageError{fmt.Errorf("--%s: %s", flag, fmt.Sprintf(format, args...))}
}

// app carries what every command shares: the output streams and the global
// flags.
type app struct {
	stdout, stderr io.Writer
	network        string
	networkFrom    string // where network came from when not --network: BTCSTAKE_NETWORK or a config file
	json           bool
	// stdin answers a confirmation prompt when stdinIsTerminal says it is
	// a terminal (os.Stdin; tests put their own).
	stdin           io.Reader
	stdinIsTerminal func() bool
	// cmd is the command running (set before its RunE): its flags name
	// the inputs an output must not replace, and --force.
	cmd *cobra.Command
}

// newApp is the app of a command line run from a shell: prompts read
// os.Stdin when it is a terminal.
func newApp(stdout, stderr io.Writer) *app {
	return &app{stdout: stdout, stderr: stderr, stdin: os.Stdin,
		stdinIsTerminal: func() bool { return term.IsTerminal(int(os.Stdin.Fd())) }}
}

// commandCtors lists the constructors of the top-level commands. Each command
// file registers its own from init, so adding a command touches one file.
var commandCtors []func(*app) *cobra.Command

func register(ctor func(*app) *cobra.Command) { commandCtors = append(commandCtors, ctor) }

func newRootCmd(a *app) *cobra.Command {
	var showVersion bool
	root := &cobra.Command{
		Use:   "btcstake",
		Short: "Babylon-style Bitcoin staking: scripts, EOTS, PSBTs and a regtest harness",
		Long: `btcstake builds the taproot outputs of Babylon-style Bitcoin staking, explains
their spend paths, and (in its other commands) signs, inspects and broadcasts
every transaction of the staking lifecycle.

Commands are one word for a step of the lifecycle (stake, unbond, slash,
withdraw, sign, finalize, inspect, broadcast, wait, status), or a noun then a
verb for a family of operations (key keygen, eots sign, adaptor sign-slashing,
regtest start, stake parse). A flag taking a transaction or a PSBT also takes
a file, @FILE, or - for standard input. With --json, results and errors are
JSON (errors as one object on stderr); exit code 2 means a bad command line,
1 a failed operation (docs/cli.md).`,
		Example: `  btcstake script --staker-pk <hex> --fp-pk <hex> --covenant-pk <hex> \
      --covenant-quorum 1 --staking-time 144 --unbonding-time 101`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Without a command: the version with --version, else the help.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if showVersion {
				return a.printVersion()
			}
			return cmd.Help()
		},
	}
	root.Flags().BoolVar(&showVersion, "version", false, "print the version and commit of this build (as the version command)")
	root.PersistentFlags().StringVar(&a.network, "network", "regtest", "bitcoin network: regtest|signet|testnet|testnet4|mainnet (env BTCSTAKE_NETWORK, or \"network\" in the config file)")
	root.PersistentFlags().BoolVar(&a.json, "json", false, "print machine-readable JSON (errors too, as a JSON object on stderr)")
	completeValues(root, "network", "regtest", "signet", "testnet", "testnet4", "mainnet")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	// Every command resolves and validates the network, whether or not it
	// uses it, so a typo never passes silently.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		a.cmd = cmd
		if err := checkSecretFlags(cmd); err != nil {
			return err
		}
		if err := a.resolveNetwork(cmd); err != nil {
			return err
		}
		_, err := a.params()
		return err
	}
	for _, ctor := range commandCtors {
		root.AddCommand(ctor(a))
	}
	strictGroups(root)
	describeInputFlags(root)
	return root
}

// strictGroups makes every command group below c that runs nothing itself
// (adaptor, eots, completion, ...) show its help when run alone and refuse
// anything else: cobra's default for such a group prints the help and
// exits 0 on a mistyped subcommand ("btcstake eots verfy ..."), which a
// script would take for success. A group given words it does not know is
// a bad command line, exit 2, as key and regtest already were.
func strictGroups(c *cobra.Command) {
	for _, sub := range c.Commands() {
		if sub.HasSubCommands() && !sub.Runnable() {
			sub.Args = cobra.NoArgs
			sub.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		}
		strictGroups(sub)
	}
}

// run executes the command line and returns the process exit code. Errors
// are printed as one line on stderr (a JSON object with --json); nothing
// panics out of here.
func run(args []string, stdout, stderr io.Writer) int {
	return runApp(newApp(stdout, stderr), args)
}

// runApp is run with the app given (its streams and terminal check).
func runApp(a *app, args []string) (code int) {
	stdinUsedBy, filesRead = "", nil
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	// cobra adds its completion group inside Execute; added here (once the
	// output is set, which it captures), strictGroups covers it too.
	root.InitDefaultCompletionCmd(args...)
	strictGroups(root)
	defer func() {
		if r := recover(); r != nil {
			code = a.reportError(args, fmt.Sprintf("internal error: %v", r), exitError)
		}
	}()
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	// One line, always: usage errors point at --help on the same line.
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	var u usageError
	if errors.As(err, &u) || isCobraUsage(err) {
		if cmd != nil {
			msg += fmt.Sprintf(" (see '%s --help')", cmd.CommandPath())
		}
		return a.reportError(args, msg, exitUsage)
	}
	return a.reportError(args, msg, exitError)
}

// errorJSON is an error under --json: one object on one line on stderr.
type errorJSON struct {
	Error    string `json:"error"`
	Kind     string `json:"kind"` // "usage" (exit code 2) or "failure" (exit code 1)
	ExitCode int    `json:"exit_code"`
}

// reportError prints msg on stderr, as JSON when the command line asked for
// JSON (even if the error came before --json was parsed), and returns code.
func (a *app) reportError(args []string, msg string, code int) int {
	if a.json || jsonRequested(args) {
		kind := "failure"
		if code == exitUsage {
			kind = "usage"
		}
		b, _ := json.Marshal(errorJSON{Error: msg, Kind: kind, ExitCode: code})
		fmt.Fprintf(a.stderr, "%s\n", b)
		return code
	}
	fmt.Fprintf(a.stderr, "btcstake: error: %s\n", msg)
	return code
}

// jsonRequested reports whether args hold --json (or --json=true) before a
// "--" terminator: an error in parsing an earlier flag leaves a.json unset.
func jsonRequested(args []string) bool {
	on := false
	for _, s := range args {
		switch {
		case s == "--":
			return on
		case s == "--json":
			on = true
		case strings.HasPrefix(s, "--json="):
			on, _ = strconv.ParseBool(strings.TrimPrefix(s, "--json="))
		}
	}
	return on
}

// isCobraUsage recognises the errors cobra itself raises for a bad command
// line (unknown command, missing required flag, wrong argument count).
func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "required flag", "accepts ", "requires at least", "unknown flag", "unknown shorthand"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// deprecatedAlias returns the constructor of a hidden top-level command
// named old that does what ctor's command does under its current name now
// (for example "adaptor sign-slashing"): scripts written for an earlier
// spelling keep working, with a note on stderr (none under --json, whose
// stderr is for a JSON error only).
func deprecatedAlias(old, now string, ctor func(*app) *cobra.Command) func(*app) *cobra.Command {
	return func(a *app) *cobra.Command {
		c := ctor(a)
		c.Use = old + strings.TrimPrefix(c.Use, c.Name())
		c.Hidden = true
		c.Short = fmt.Sprintf("Deprecated spelling of 'btcstake %s'", now)
		c.Long = fmt.Sprintf("Deprecated: use 'btcstake %s', which takes the same flags.\n\n%s", now, c.Long)
		run := c.RunE
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if !a.json {
				fmt.Fprintf(a.stderr, "btcstake: note: '%s' is deprecated; use 'btcstake %s'\n", old, now)
			}
			return run(cmd, args)
		}
		return c
	}
}

// secretFlagAnnotation marks the hidden flags that exist only to refuse a
// secret given on the command line.
const secretFlagAnnotation = "btcstake-refuse-secret"

// refuseSecretFlag adds a hidden flag name that is refused whenever it is
// given: a secret on the command line can be read by every user of the
// machine (ps, /proc) and stays in shell history. instead says what to do.
func refuseSecretFlag(cmd *cobra.Command, name, instead string) {
	cmd.Flags().String(name, "", "refused: "+instead)
	_ = cmd.Flags().MarkHidden(name)
	_ = cmd.Flags().SetAnnotation(name, secretFlagAnnotation, []string{instead})
}

// checkSecretFlags refuses any flag refuseSecretFlag made, naming the
// flag, never its value.
func checkSecretFlags(cmd *cobra.Command) error {
	var err error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if ann, ok := f.Annotations[secretFlagAnnotation]; ok && err == nil {
			err = usagef(f.Name, "secrets are never taken on the command line, where other users of this machine can read them (ps, shell history): %s", ann[0])
		}
	})
	return err
}

// resolveNetwork sets the network once for every command: --network when
// given, else $BTCSTAKE_NETWORK, else the config file's "network" (the
// file node commands read: --config, $BTCSTAKE_CONFIG or the default),
// else regtest.
func (a *app) resolveNetwork(cmd *cobra.Command) error {
	if cmd.Flags().Changed("network") {
		return nil
	}
	if v := os.Getenv("BTCSTAKE_NETWORK"); v != "" {
		a.network, a.networkFrom = v, "BTCSTAKE_NETWORK"
		return nil
	}
	flag := ""
	if f := cmd.Flags().Lookup("config"); f != nil {
		flag = f.Value.String()
	}
	path, explicit := configPath(flag)
	if path == "" {
		return nil
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil // a node command says so when it needs the file
	}
	c, _, err := readConfigFile(path, explicit)
	if err != nil {
		return err
	}
	if c.Network != "" {
		a.network, a.networkFrom = c.Network, path
	}
	return nil
}

// params returns the chain parameters of the network.
func (a *app) params() (*chaincfg.Params, error) {
	switch a.network {
	case "regtest":
		return &chaincfg.RegressionNetParams, nil
	case "signet":
		return &chaincfg.SigNetParams, nil
	case "testnet", "testnet3":
		return &chaincfg.TestNet3Params, nil
	case "testnet4":
		return &chaincfg.TestNet4Params, nil
	case "mainnet", "main", "bitcoin":
		return &chaincfg.MainNetParams, nil
	}
	from := ""
	if a.networkFrom != "" {
		from = " from " + a.networkFrom
	}
	return nil, usagef("network", "unknown network %q%s (want regtest, signet, testnet, testnet4 or mainnet)", a.network, from)
}

// netName is chaincfg's name of the network ("mainnet", "testnet3",
// "testnet4", "signet", "regtest"), or the value as given when it is not
// one (which PersistentPreRunE has refused already).
func (a *app) netName() string {
	if p, err := a.params(); err == nil {
		return p.Name
	}
	return a.network
}

// printJSON writes v as indented JSON to stdout.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printf writes human-readable output to stdout.
func (a *app) printf(format string, args ...any) {
	fmt.Fprintf(a.stdout, format, args...)
}

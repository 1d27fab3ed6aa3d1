package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/btcstake/btcstake/watch"
)

// Exec defaults and limits.
const (
	// DefaultExecTimeout bounds one run of the command.
	DefaultExecTimeout = 30 * time.Second
	// execOutputLimit is how much of the command's output (stdout and
	// stderr together) is kept for the error of a failed run.
	execOutputLimit = 512
	// execWaitDelay is how long a killed command's pipes may stay open
	// before they are closed.
	execWaitDelay = 2 * time.Second
)

// envPrefix starts every variable the command gets about the event, and
// every inherited variable that is withheld from it.
const envPrefix = "BTCSTAKE_"

// ExecConfig configures an Exec sink.
type ExecConfig struct {
	// Argv is the program and its arguments, run without a shell
	// (ShellArgv makes one that runs a --exec string through /bin/sh).
	Argv []string
	// Dir is the working directory (empty: the watcher's).
	Dir string
	// Timeout bounds one run (0: DefaultExecTimeout).
	Timeout time.Duration
	// Name is the sink's name (empty: "exec").
	Name string
}

// Exec runs a command once per event, with the event in its environment
// and on its standard input (see the package documentation).
type Exec struct {
	argv    []string
	dir     string
	timeout time.Duration
	name    string
}

// ShellArgv is the argv that runs cmd, a --exec string, through
// /bin/sh -c. The event never becomes part of cmd.
func ShellArgv(cmd string) ([]string, error) {
	if strings.TrimSpace(cmd) == "" {
		return nil, fmt.Errorf("%w: empty --exec command", ErrInvalidConfig)
	}
	if strings.IndexByte(cmd, 0) >= 0 {
		return nil, fmt.Errorf("%w: --exec command contains a NUL byte", ErrInvalidConfig)
	}
	return []string{"/bin/sh", "-c", cmd}, nil
}

// NewExec checks cfg and returns the sink.
func NewExec(cfg ExecConfig) (*Exec, error) {
	if len(cfg.Argv) == 0 || cfg.Argv[0] == "" {
		return nil, fmt.Errorf("%w: exec: no program", ErrInvalidConfig)
	}
	for _, a := range cfg.Argv {
		if strings.IndexByte(a, 0) >= 0 {
			return nil, fmt.Errorf("%w: exec: argument contains a NUL byte", ErrInvalidConfig)
		}
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("%w: exec: negative timeout %v", ErrInvalidConfig, cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultExecTimeout
	}
	if cfg.Name == "" {
		cfg.Name = "exec"
	}
	if err := checkName(cfg.Name); err != nil {
		return nil, err
	}
	return &Exec{argv: append([]string(nil), cfg.Argv...), dir: cfg.Dir, timeout: cfg.Timeout, name: cfg.Name}, nil
}

// Name is the sink's name.
func (x *Exec) Name() string { return x.name }

// Deliver runs the command once for e and waits for it, at most the
// timeout. A non-zero exit or the timeout wraps ErrDeliveryFailed; a
// command that cannot be started (no such file, not executable) wraps
// ErrPermanent.
func (x *Exec) Deliver(ctx context.Context, e watch.Event) error {
	line, err := Line(e)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	ctx, cancel := context.WithTimeout(ctx, x.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, x.argv[0], x.argv[1:]...)
	cmd.Dir = x.dir
	cmd.Env = append(inheritedEnv(os.Environ()), EventEnv(e, line[:len(line)-1])...)
	cmd.Stdin = bytes.NewReader(line)
	out := &headBuffer{limit: execOutputLimit}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = execWaitDelay
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%w: exec %s: %w", ErrPermanent, x.argv[0], err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w: exec %s: killed at its deadline (timeout %v): %w", ErrDeliveryFailed, x.argv[0], x.timeout, ctx.Err())
	case ctx.Err() != nil:
		return fmt.Errorf("%w: exec %s: killed: %w", ErrDeliveryFailed, x.argv[0], ctx.Err())
	case errors.As(err, &ee):
		return fmt.Errorf("%w: exec %s: %v%s", ErrDeliveryFailed, x.argv[0], ee, out.summary())
	default:
		return fmt.Errorf("%w: exec %s: %w", ErrDeliveryFailed, x.argv[0], err)
	}
}

// inheritedEnv is env without the variables named BTCSTAKE_*.
func inheritedEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, envPrefix) {
			out = append(out, kv)
		}
	}
	return out
}

// EventEnv is the environment, "NAME=value" entries, that describes e
// to a command; eventJSON is e's JSON. A NUL byte in a field (which no
// environment can carry) is dropped.
func EventEnv(e watch.Event, eventJSON []byte) []string {
	vars := []struct{ name, value string }{
		{"ID", e.ID},
		{"KIND", string(e.Kind)},
		{"SEQ", strconv.FormatUint(e.Seq, 10)},
		{"DELEGATION", e.Delegation},
		{"FINALITY_PROVIDER", e.FinalityProvider},
		{"OUTPUT", e.Output},
		{"TXID", e.Txid},
		{"HEIGHT", optInt(e.Height)},
		{"BLOCK_HASH", e.BlockHash},
		{"DEPTH", optInt(e.Depth)},
		{"CANCELS", e.Cancels},
		{"REASON", e.Reason},
		{"MISSING", strings.Join(e.Missing, ",")},
		{"JSON", string(eventJSON)},
	}
	env := make([]string, len(vars))
	for i, v := range vars {
		env[i] = envPrefix + "EVENT_" + v.name + "=" + strings.ReplaceAll(v.value, "\x00", "")
	}
	return env
}

// optInt is n in decimal, or "" for 0 (a field the event leaves empty).
func optInt(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// headBuffer keeps the first limit bytes written to it and counts the
// rest.
type headBuffer struct {
	limit   int
	buf     []byte
	dropped int64
}

func (h *headBuffer) Write(p []byte) (int, error) {
	keep := min(len(p), h.limit-len(h.buf))
	h.buf = append(h.buf, p[:keep]...)
	h.dropped += int64(len(p) - keep)
	return len(p), nil
}

// summary is the kept output for an error message, quoted.
func (h *headBuffer) summary() string {
	if len(h.buf) == 0 {
		return ""
	}
	s := fmt.Sprintf(" (output %q", bytes.TrimSpace(h.buf))
	if h.dropped > 0 {
		s += fmt.Sprintf(" and %d more bytes", h.dropped)
	}
	return s + ")"
}

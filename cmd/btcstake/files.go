package main

// Every file the CLI reads or writes goes through this file.
//
// Reading (internal/inputfile): a flag naming a file must name a regular
// file (a named pipe, a device or a directory is refused at once, naming
// the flag), of at most the flag's limit; a file holding a secret must be
// private to its owner (chmod 600). Standard input ("-") is a stream: read
// to its end within stdinTimeout and the same limit. Every file read is
// remembered as an input of the command.
//
// Writing (internal/atomicfile.WriteFile): an output path that exists is
// refused unless --force; an output that is one of the command's inputs
// (any file a flag of the command names, or any file it read), or that
// holds a key, is refused even with --force; outputs are never written
// through a symbolic link; the write is atomic; files that hold no secret
// get mode 0666 less the umask, secrets 0600.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/btcstake/btcstake/internal/atomicfile"
	"github.com/btcstake/btcstake/internal/inputfile"
)

// Limits of what the CLI reads (transactions and PSBTs: maxInputSize in
// input.go; params files: params.MaxFileSize; key files:
// keystore.MaxKeyFileSize; cookies: 4 KiB in package chain).
const (
	// maxSecretFileSize bounds a passphrase file, an --rpc-pass-file and
	// a --sk-file: a line of text.
	maxSecretFileSize = 4 << 10
	// maxConfigSize bounds a config file.
	maxConfigSize = 1 << 20
	// maxBatchSize bounds eots sign-batch's --input (lines of a height
	// and a hex message of at most 64 KiB).
	maxBatchSize = 64 << 20
)

// stdinTimeout is how long a flag given "-" waits for standard input to
// end (tests shorten it).
var stdinTimeout = 5 * time.Minute

// filesRead lists the files the current command line read through
// readFileFlag (run clears it): inputs an output may not replace.
var filesRead []string

// fileErr maps an inputfile error to a usage error naming flag.
func fileErr(flag, path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usagef(flag, "%s does not exist", path)
	case errors.Is(err, fs.ErrPermission):
		return usagef(flag, "%s cannot be read (permission denied)", path)
	}
	return usagef(flag, "%v", err)
}

// readFileFlag reads the file path a flag names, at most max bytes, with
// the permission bits forbid clear (inputfile.Private for a secret).
func readFileFlag(flag, path string, max int64, forbid fs.FileMode) ([]byte, error) {
	b, err := inputfile.Read(path, inputfile.Options{Max: max, Forbid: forbid})
	if err != nil {
		return nil, fileErr(flag, path, err)
	}
	filesRead = append(filesRead, path)
	return b, nil
}

// readStdinFlag reads standard input for a flag given "-": once per
// command line, at most max bytes, within stdinTimeout.
func readStdinFlag(flag string, max int64) ([]byte, error) {
	if stdinUsedBy != "" {
		return nil, usagef(flag, "standard input was already read by --%s; give one of them as a file", stdinUsedBy)
	}
	stdinUsedBy = flag
	b, err := inputfile.ReadStream(stdinSource, max, stdinTimeout)
	if err != nil {
		return nil, usagef(flag, "reading standard input: %v", err)
	}
	return b, nil
}

// outputAnnotation marks the flags that name a file the command writes,
// which are not inputs.
const outputAnnotation = "btcstake-output"

// addOutFlag adds a flag naming an output file and, once per command,
// --force.
func addOutFlag(cmd *cobra.Command, p *string, name, usage string) {
	cmd.Flags().StringVar(p, name, "", usage)
	markOutput(cmd, name)
	if cmd.Flags().Lookup("force") == nil {
		cmd.Flags().Bool("force", false, "replace an existing output file (never one the command reads, nor a key)")
	}
}

// markOutput marks flag name of cmd as naming an output.
func markOutput(cmd *cobra.Command, name string) {
	_ = cmd.Flags().SetAnnotation(name, outputAnnotation, []string{"true"})
}

// forced reports whether the running command was given --force.
func (a *app) forced() bool {
	if a.cmd == nil {
		return false
	}
	f, err := a.cmd.Flags().GetBool("force")
	return err == nil && f
}

// inputs lists every file the running command reads: the value of every
// flag given that names an existing file (outputs excepted; "@" dropped),
// the files read so far, and the config and cookie files the environment
// names.
func (a *app) inputs() []string {
	in := append([]string(nil), filesRead...)
	for _, env := range []string{"BTCSTAKE_CONFIG", "BTCSTAKE_RPC_COOKIE"} {
		if v := os.Getenv(env); v != "" {
			in = append(in, v)
		}
	}
	if p, _ := configPath(""); p != "" {
		in = append(in, p)
	}
	if a.cmd == nil {
		return in
	}
	a.cmd.Flags().Visit(func(f *pflag.Flag) {
		if _, out := f.Annotations[outputAnnotation]; out {
			return
		}
		var vals []string
		if s, ok := f.Value.(pflag.SliceValue); ok {
			vals = s.GetSlice()
		} else if f.Value.Type() == "string" {
			vals = []string{f.Value.String()}
		}
		for _, v := range vals {
			v = strings.TrimPrefix(strings.TrimSpace(v), "@")
			if v == "" || v == "-" {
				continue
			}
			if _, err := os.Stat(v); err == nil {
				in = append(in, v)
			}
		}
	})
	return in
}

// outputOptions are the atomicfile options of an output of the running
// command.
func (a *app) outputOptions(private bool) atomicfile.Options {
	return atomicfile.Options{Perm: 0o666, Private: private, Replace: a.forced(), Inputs: a.inputs()}
}

// outErr maps an atomicfile error about flag's output to a usage error
// (the command line named a path that cannot be written) or a failed
// operation (the write itself failed).
func outErr(flag string, err error) error {
	switch {
	case errors.Is(err, atomicfile.ErrExists):
		return usagef(flag, "%s; give --force to replace it", strings.TrimPrefix(err.Error(), atomicfile.ErrExists.Error()+": "))
	case errors.Is(err, atomicfile.ErrIsInput), errors.Is(err, atomicfile.ErrHoldsKey),
		errors.Is(err, atomicfile.ErrNotRegular), errors.Is(err, atomicfile.ErrNoDir):
		return usagef(flag, "%v", err)
	}
	return opError(flag, fmt.Errorf("writing %v", err))
}

// checkOutput refuses an output path before any work is done: the rules
// above, as the write will apply them.
func (a *app) checkOutput(flag, path string) error {
	if path == "" {
		return nil
	}
	if err := atomicfile.Check(path, a.outputOptions(false)); err != nil {
		return outErr(flag, err)
	}
	return nil
}

// writeOutput writes data to the output path flag names (a file holding
// no secret: mode 0666 less the umask).
func (a *app) writeOutput(flag, path string, data []byte) error {
	if err := atomicfile.WriteFile(path, data, a.outputOptions(false)); err != nil {
		return outErr(flag, err)
	}
	return nil
}

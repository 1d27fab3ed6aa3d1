package atomicfile_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/btcstake/btcstake/internal/atomicfile"
)

// ExampleWriteFile: the output of a signing step may replace an earlier
// output with Replace (a command's --force), but never the PSBT it was
// made from, nor a keystore.
func ExampleWriteFile() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "unbond.psbt")
	ks := filepath.Join(dir, "staker.keystore")
	_ = os.WriteFile(in, []byte("cHNidP8B...\n"), 0o644)
	_ = os.WriteFile(ks, []byte(`{"version": 1, "age_scrypt": "..."}`), 0o600)
	opts := atomicfile.Options{Perm: 0o666, Replace: true, Inputs: []string{in, ks}}

	out := filepath.Join(dir, "unbond-signed.psbt")
	fmt.Println(atomicfile.WriteFile(out, []byte("signed\n"), opts))
	fmt.Println(atomicfile.WriteFile(out, []byte("signed again\n"), opts))
	err := atomicfile.WriteFile(in, []byte("signed\n"), opts)
	fmt.Println(errors.Is(err, atomicfile.ErrIsInput))
	opts.Inputs = []string{in}
	err = atomicfile.WriteFile(ks, []byte("signed\n"), opts)
	fmt.Println(errors.Is(err, atomicfile.ErrHoldsKey))
	b, _ := os.ReadFile(ks)
	fmt.Println(string(b))
	// Output:
	// <nil>
	// <nil>
	// true
	// true
	// {"version": 1, "age_scrypt": "..."}
}

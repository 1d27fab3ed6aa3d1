// Command btcstake builds, signs, inspects and broadcasts Babylon-style
// Bitcoin staking transactions. Run "btcstake --help" for the command list.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

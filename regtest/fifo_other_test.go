//go:build !unix

package regtest

import "errors"

func mkfifo(string) error { return errors.New("no FIFOs here") }

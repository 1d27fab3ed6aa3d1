//go:build !unix

package notify

import "os/exec"

// ownProcessGroup leaves cmd as it is: without Unix process groups a
// cancelled cmd kills only the command itself.
func ownProcessGroup(*exec.Cmd) {}

//go:build !windows

package up

import (
	"os/exec"
	"syscall"
)

// detachAttrs puts the child in its own session so the terminal's signals do not reach it.
func detachAttrs(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }

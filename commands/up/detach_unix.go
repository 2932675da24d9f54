//go:build !windows

package up

import (
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// redirectStdio points stdout and stderr at f: after a log rotation, panics and the output of
// providers started from now on go to the new file.
func redirectStdio(f *os.File) {
	_ = unix.Dup2(int(f.Fd()), 1)
	_ = unix.Dup2(int(f.Fd()), 2)
}

// detachAttrs puts the child in its own session so the terminal's signals do not reach it.
func detachAttrs(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }

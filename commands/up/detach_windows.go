//go:build windows

package up

import (
	"os"
	"os/exec"
	"syscall"
)

const createNewProcessGroup = 0x00000200

// detachAttrs starts the child in a new process group so Ctrl+C in this console does not stop it.
func detachAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: createNewProcessGroup}
}

// redirectStdio cannot repoint the standard handles of a running Windows process here: after a
// log rotation, panics and providers' output keep going to the rotated file.
func redirectStdio(*os.File) {}

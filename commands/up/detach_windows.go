//go:build windows

package up

import (
	"os/exec"
	"syscall"
)

const createNewProcessGroup = 0x00000200

// detachAttrs starts the child in a new process group so Ctrl+C in this console does not stop it.
func detachAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: createNewProcessGroup}
}

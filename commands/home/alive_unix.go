//go:build !windows

package home

import (
	"os"
	"syscall"
)

// processAlive probes with signal 0.
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

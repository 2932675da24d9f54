package home

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// processStart is the process's start time from sysctl kern.proc.pid, in microseconds.
func processStart(pid int) string {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || kp.Proc.P_pid != int32(pid) {
		return ""
	}
	tv := kp.Proc.P_starttime
	return strconv.FormatInt(int64(tv.Sec)*1e6+int64(tv.Usec), 10)
}

// processExe is not read on macOS (proc_pidpath needs cgo); the start time suffices.
func processExe(int) string { return "" }

package home

import (
	"os"
	"path/filepath"
	"strings"
)

// Process identifies a process beyond its pid, which the system hands out again once the
// process is gone: its start stamp and executable, as far as the platform tells them (Linux:
// /proc; macOS: the start time from sysctl; elsewhere the pid alone). Records keep it so that
// `wash down` never signals a stranger that inherited a dead host's pid.
type Process struct {
	PID int `json:"pid"`
	// Start is an opaque, platform-specific start stamp (Linux: clock ticks after boot).
	Start string `json:"proc_start,omitempty"`
	// Exe is the executable's path when the platform tells it.
	Exe string `json:"exe,omitempty"`
}

// Self identifies the calling process.
func Self() Process { return Identify(os.Getpid()) }

// Identify reads what the platform tells of a live process.
func Identify(pid int) Process {
	p := Process{PID: pid}
	p.Start, p.Exe = processStart(pid), processExe(pid)
	return p
}

// Running reports whether the recorded process still runs: the pid is alive (not a zombie)
// and, where the record has them, the start stamp and executable are the same. A pid that was
// reused, or a process we may not inspect, does not count.
func (p Process) Running() bool {
	if !Alive(p.PID) {
		return false
	}
	if p.Start == "" && p.Exe == "" {
		return true // an older record, or a platform that tells nothing more
	}
	now := Identify(p.PID)
	if p.Start != "" && now.Start != p.Start {
		return false
	}
	return p.Exe == "" || sameExe(p.Exe, now.Exe)
}

// sameExe compares executable paths; Linux marks a replaced binary "(deleted)" (a rebuilt
// wash), which is still the same process.
func sameExe(recorded, now string) bool {
	now = strings.TrimSuffix(now, " (deleted)")
	return now != "" && filepath.Clean(recorded) == filepath.Clean(now)
}

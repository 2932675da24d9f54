package runtime

import (
	"syscall"
	"testing"
	"time"
)

// cpuPerOp reports the process's CPU time (user + system, all threads: the garbage collector
// and the kernel's share included) per benchmark iteration as "cpu-ns/op". On a shared,
// loaded machine wall time per op mostly measures the wait for a CPU; CPU time per op does
// not. Call it right before the timed loop; the returned function ends the measurement.
func cpuPerOp(b *testing.B) (stop func()) {
	start := cpuNow()
	return func() {
		b.ReportMetric(float64((cpuNow()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

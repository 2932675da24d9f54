// Package benchcpu reports the CPU time a benchmark's process spent per operation. On a
// shared machine wall-clock rates follow the load other programs put on the cores; CPU time
// per operation (every goroutine of the process: clients, servers, the embedded NATS server)
// follows the work the code does, so it is the figure to compare across runs.
package benchcpu

import (
	"testing"
	"time"
)

// Meter is the process CPU time at a start point.
type Meter struct{ start time.Duration }

// Start reads the process CPU time now (call it right after b.ResetTimer).
func Start() Meter { return Meter{start: processCPU()} }

// Report adds "cpu-µs/op": the process CPU time since m, divided by b.N.
func (m Meter) Report(b *testing.B) {
	if b.N == 0 {
		return
	}
	used := processCPU() - m.start
	b.ReportMetric(float64(used.Microseconds())/float64(b.N), "cpu-µs/op")
}

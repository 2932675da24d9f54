package dashboard_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/testtool"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/runtime"
)

// cpuTicks returns utime+stime of a process in clock ticks (USER_HZ, 100 on Linux).
func cpuTicks(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	s := string(raw)
	// Fields after the command name, which is in parentheses and may contain spaces.
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ut + st
}

// BenchmarkIdleCPU runs the dashboard in a 120x40 tmux pane for 20 s while 20 hosts heartbeat
// every 1-2 s and reports its CPU use in percent of one core, per view.
// Run: go test ./commands/dashboard -run '^$' -bench IdleCPU -benchtime 1x
func BenchmarkIdleCPU(b *testing.B) {
	testtool.Path(b, "tmux", "tmux")
	e := startLattice(b)
	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", e.port))
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	ctx := context.Background()
	eng, err := runtime.NewEngine(ctx, runtime.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close(ctx)
	for i := range 20 {
		h, err := host.New(ctx, nc, host.Config{Lattice: "default", Engine: eng,
			Labels:            map[string]string{"bench": strconv.Itoa(i)},
			HeartbeatInterval: time.Second + time.Duration(i)*50*time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		if err := h.Start(ctx); err != nil {
			b.Fatal(err)
		}
		defer h.Stop(ctx, time.Second)
	}
	measure := 20 * time.Second
	if s := os.Getenv("WASH_BENCH_SECONDS"); s != "" {
		n, _ := strconv.Atoi(s)
		measure = time.Duration(n) * time.Second
	}
	ready := map[string]string{"overview": "21", "hosts": "bench=19", "events": "host_heartbeat"}
	for _, view := range []string{"overview", "hosts", "events"} {
		b.Run(view, func(b *testing.B) {
			x := newTmux(b, e.environ(), 120, 40, fmt.Sprintf("%s dashboard -p %d --view %s", e.bin, e.port, view))
			x.waitFor(10*time.Second, "● connected", ready[view])
			pid, err := strconv.Atoi(strings.TrimSpace(x.run("display-message", "-p", "-t", "dash", "#{pane_pid}")))
			if err != nil {
				b.Fatal(err)
			}
			time.Sleep(2 * time.Second)
			b.ResetTimer()
			for range b.N {
				t0, w0 := cpuTicks(b, pid), time.Now()
				time.Sleep(measure)
				t1, w1 := cpuTicks(b, pid), time.Now()
				pct := float64(t1-t0) / 100 / w1.Sub(w0).Seconds() * 100
				b.ReportMetric(pct, "%cpu")
			}
			b.StopTimer()
			x.keys("q")
		})
	}
}

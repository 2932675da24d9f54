package tui

import (
	"bytes"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/testnats"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/natsd"
)

// startNATS starts an embedded NATS server and connects to it, both closed when the test or
// benchmark ends. No host runs: what a test needs of the lattice it hands to Update.
func startNATS(tb testing.TB) (*natsd.Server, *nats.Conn) {
	tb.Helper()
	s, nc := testnats.Connected(tb)
	return s.Embedded, nc
}

// BenchmarkHeartbeatUpdate is the cost of one heartbeat for the UI: Update plus View, with 20
// hosts known. Run: go test ./tui -run '^$' -bench HeartbeatUpdate
func BenchmarkHeartbeatUpdate(b *testing.B) {
	_, nc := startNATS(b)
	for _, v := range []View{ViewOverview, ViewHosts, ViewEvents} {
		b.Run(v.String(), func(b *testing.B) {
			m, err := New(Options{Conn: nc, Lattice: "default", View: v, Color: true})
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
			var evs []events.Event
			for i := range 20 {
				inv := ctl.HostInventory{HostID: fmt.Sprintf("N%055d", i), FriendlyName: fmt.Sprintf("host-%02d", i),
					Labels: map[string]string{"hostcore.os": "linux", "bench": fmt.Sprint(i)}, Version: "1.9.2", UptimeSeconds: 100}
				ev, _ := events.New(events.HostHeartbeat, inv.HostID, inv)
				evs = append(evs, ev)
			}
			for _, ev := range evs {
				m.Update(eventMsg{ev: ev, at: time.Now()})
			}
			b.ResetTimer()
			for i := range b.N {
				m.update(eventMsg{ev: evs[i%20], at: time.Now()})
				m.rebuild()
				_ = m.View()
			}
		})
	}
}

// screenWatcher is the program's output; it signals when a wanted string has been written.
type screenWatcher struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want []byte
	hit  chan struct{}
}

func (s *screenWatcher) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	if s.want != nil && bytes.Contains(s.buf.Bytes(), s.want) {
		s.want = nil
		s.hit <- struct{}{}
	}
	if s.buf.Len() > 1<<20 {
		s.buf.Reset()
	}
	return len(p), nil
}

func (s *screenWatcher) expect(w string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Reset()
	s.want = []byte(w)
}

// BenchmarkEventToScreen measures how long a lattice event takes to reach the terminal: a
// config_set event is published on NATS and the clock stops when the program writes its line in
// the event log. Run: go test ./tui -run '^$' -bench EventToScreen -benchtime 200x
func BenchmarkEventToScreen(b *testing.B) {
	srv, nc := startNATS(b)
	m, err := New(Options{Conn: nc, Lattice: "default", View: ViewEvents})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	out := &screenWatcher{hit: make(chan struct{}, 1)}
	p := tea.NewProgram(m, append(ProgramOptions(), tea.WithInput(nil), tea.WithOutput(out), tea.WithoutSignals())...)
	done := make(chan struct{})
	go func() { _, _ = p.Run(); close(done) }()
	p.Send(tea.WindowSizeMsg{Width: 120, Height: 40})
	time.Sleep(300 * time.Millisecond)
	pub, err := nats.Connect(srv.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		name := fmt.Sprintf("bench-config-%07d", i)
		out.expect(name)
		start := time.Now()
		if err := events.Publish(pub, "default", "NBENCH", events.ConfigSet, events.ConfigData{ConfigName: name}); err != nil {
			b.Fatal(err)
		}
		select {
		case <-out.hit:
			lat = append(lat, time.Since(start))
		case <-time.After(2 * time.Second):
			out.mu.Lock()
			b.Fatalf("host %s not on screen after 2s; output: %q", name, out.buf.String())
		}
	}
	b.StopTimer()
	p.Quit()
	<-done
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}

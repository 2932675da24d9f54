package tui

import (
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/natsd"
)

// BenchmarkHeartbeatUpdate is the cost of one heartbeat for the UI: Update plus View, with 20
// hosts known. Run: go test ./tui -run '^$' -bench HeartbeatUpdate
func BenchmarkHeartbeatUpdate(b *testing.B) {
	srv, err := natsd.Start(natsd.Options{Port: 0, StoreDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
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

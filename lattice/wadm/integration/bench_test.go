package integration_test

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/wadm"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// waitDeployedSub waits for a Deployed status through the status subject.
func waitDeployedSub(b *testing.B, c *wadmclient.Client, app string, put func()) {
	done := make(chan struct{}, 1)
	stop, err := c.WatchStatus(app, func(s model.Status) {
		if s.Info.Type == model.StatusDeployed {
			select {
			case done <- struct{}{}:
			default:
			}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	put()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		b.Fatalf("%s not deployed", app)
	}
}

// BenchmarkDeployOneComponent: deploy → Deployed for one component on one host.
func BenchmarkDeployOneComponent(b *testing.B) {
	wasm := testComponent(b)
	_, nc := startNATS(b, "")
	startWadm(b, nc, "default")
	startHost(b, nc, "default", nil)
	c := wadmclient.New(nc, wadmclient.Options{Lattice: "default"})
	// Warm the host's compile cache so the figure is wadm's, not the compiler's.
	waitDeployedSub(b, c, "warm", func() { deploy(b, c, simpleManifest("warm", wasm, 1)) })
	b.ResetTimer()
	for i := range b.N {
		app := fmt.Sprintf("one%d", i)
		waitDeployedSub(b, c, app, func() { deploy(b, c, simpleManifest(app, wasm, 1)) })
	}
}

// BenchmarkHundredApps: 100 apps with 10-instance spreads over 20 hosts → all Deployed.
func BenchmarkHundredApps(b *testing.B) {
	wasm := testComponent(b)
	for n := range b.N {
		srv, nc := startNATS(b, "")
		// Hosts heartbeat every 2 s: an expiry below that (startWadm's 1.2 s) would take them for
		// gone between heartbeats.
		w, err := wadm.Run(context.Background(), nc, wadm.Config{Lattices: []string{"default"}, HostExpiry: 10 * time.Second, Logger: testLogger()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(w.Stop)
		for i := range 20 {
			startHostHB(b, connect(b, srv), map[string]string{"zone": fmt.Sprintf("z%d", i%4)}, 2*time.Second)
		}
		c := wadmclient.New(nc, wadmclient.Options{Lattice: "default"})
		waitDeployedSub(b, c, "warm", func() { deploy(b, c, simpleManifest("warm", wasm, 1)) })
		pending := make(chan string, 200)
		var stops []func()
		for i := range 100 {
			app := fmt.Sprintf("b%d-%03d", n, i)
			s, _ := c.WatchStatus(app, func(s model.Status) {
				if s.Info.Type == model.StatusDeployed {
					select {
					case pending <- app:
					default:
					}
				}
			})
			stops = append(stops, s)
		}
		start := time.Now()
		b.StartTimer()
		for i := range 100 {
			man := spreadManifest(fmt.Sprintf("b%d-%03d", n, i), wasm, 10)
			man = replaceZones(man)
			deploy(b, c, man)
		}
		seen := map[string]bool{}
		deadline := time.After(60 * time.Second)
		for len(seen) < 100 {
			select {
			case a := <-pending:
				seen[a] = true
			case <-deadline:
				b.Fatalf("only %d/100 apps deployed", len(seen))
			}
		}
		b.StopTimer()
		b.ReportMetric(time.Since(start).Seconds(), "s/100apps")
		for _, s := range stops {
			s()
		}
	}
}

// replaceZones points the seed manifest's spreads at the benchmark's zones.
func replaceZones(m string) string {
	return strings.NewReplacer("us-east-1", "z0", "us-west-1", "z1").Replace(m)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIdleReconciler measures process CPU (NATS, wadm, one host with
// the default 30 s heartbeat and a deployed app) over a 2 s idle window
// between heartbeats.
func BenchmarkIdleReconciler(b *testing.B) {
	wasm := testComponent(b)
	_, nc := startNATS(b, "")
	w, err := wadm.Run(context.Background(), nc, wadm.Config{Lattices: []string{"default"}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Stop)
	h, err := host.New(context.Background(), nc, host.Config{Lattice: "default", HeartbeatInterval: 30 * time.Second, AllowFileLoad: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Stop(context.Background(), time.Second) })
	c := wadmclient.New(nc, wadmclient.Options{Lattice: "default"})
	waitDeployedSub(b, c, "idle", func() { deploy(b, c, simpleManifest("idle", wasm, 1)) })
	b.ResetTimer()
	for range b.N {
		before := cpuTime()
		time.Sleep(2 * time.Second)
		b.ReportMetric(float64((cpuTime()-before).Microseconds())/2000, "cpu-ms/s")
	}
}

func startHostHB(b *testing.B, nc *nats.Conn, labels map[string]string, hb time.Duration) {
	h, err := host.New(context.Background(), nc, host.Config{Lattice: "default", Labels: labels, HeartbeatInterval: hb, AllowFileLoad: true})
	if err != nil {
		b.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Stop(context.Background(), time.Second) })
}

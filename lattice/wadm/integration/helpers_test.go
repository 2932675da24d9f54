// Package integration_test runs wadm against real parts: an embedded NATS
// with JetStream, built-in hosts and a wasm module built in the test.
package integration_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/testmanifest"
	"github.com/wasmlattice/wash/internal/testnats"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/natsd"
	"github.com/wasmlattice/wash/lattice/wadm"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

const (
	heartbeat = 200 * time.Millisecond
	expiry    = 1200 * time.Millisecond
)

func startNATS(t testing.TB, store string) (*natsd.Server, *nats.Conn) {
	t.Helper()
	s := testnats.StartWith(t, natsd.Options{StoreDir: store})
	return s.Embedded, connect(t, s.Embedded)
}

func connect(t testing.TB, srv *natsd.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func startWadm(t testing.TB, nc *nats.Conn, lattices ...string) *wadm.Wadm {
	t.Helper()
	w, err := wadm.Run(context.Background(), nc, wadm.Config{Lattices: lattices, HostExpiry: expiry, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return w
}

func testLogger() *slog.Logger {
	if os.Getenv("WADM_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func startHost(t testing.TB, nc *nats.Conn, lattice string, labels map[string]string) *host.Host {
	t.Helper()
	return startHostEvery(t, nc, lattice, labels, heartbeat)
}

// startHostEvery starts a host with its own heartbeat interval.
func startHostEvery(t testing.TB, nc *nats.Conn, lattice string, labels map[string]string, every time.Duration) *host.Host {
	t.Helper()
	h, err := host.New(context.Background(), nc, host.Config{Lattice: lattice, Labels: labels, HeartbeatInterval: every, AllowFileLoad: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop(context.Background(), time.Second) })
	return h
}

// testComponent is a small checked-in WAT component (examples/hello-http): what it does does
// not matter to wadm, and a host compiles it in milliseconds where the Go wasip1 module took
// seconds on a loaded machine.
func testComponent(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs("../../../examples/hello-http/hello.component.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// spreadManifest is the seed scenario's app: 100 instances, 80 % on
// zone=us-east-1, 20 % on zone=us-west-1.
func spreadManifest(name, image string, instances int) string {
	return testmanifest.App{Name: name, Description: "seed scenario", Components: []testmanifest.Component{
		testmanifest.Wasm("hello", image, instances).Spread(
			testmanifest.Spread{Name: "east", Weight: 80, Requirements: map[string]string{"zone": "us-east-1"}},
			testmanifest.Spread{Name: "west", Weight: 20, Requirements: map[string]string{"zone": "us-west-1"}}),
	}}.YAML()
}

// simpleApp is one component "hello" of image on instances, anywhere.
func simpleApp(name, image string, instances int) testmanifest.App {
	return testmanifest.App{Name: name, Components: []testmanifest.Component{testmanifest.Wasm("hello", image, instances)}}
}

func simpleManifest(name, image string, instances int) string {
	return simpleApp(name, image, instances).YAML()
}

// waitStatus polls the app status until ok accepts it.
func waitStatus(t testing.TB, c *wadmclient.Client, app string, within time.Duration, ok func(*model.Status) bool) *model.Status {
	t.Helper()
	return waitStatusOr(t, c, app, within, ok, func() string { return "" })
}

// waitStatusOr is waitStatus with extra context (more) on failure.
func waitStatusOr(t testing.TB, c *wadmclient.Client, app string, within time.Duration, ok func(*model.Status) bool, more func() string) *model.Status {
	t.Helper()
	deadline := time.Now().Add(within)
	var last *model.Status
	for time.Now().Before(deadline) {
		st, err := c.Status(context.Background(), app)
		if err == nil {
			last = st
			if ok(st) {
				return st
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := json.Marshal(last)
	t.Fatalf("status of %s never matched within %s; last: %s\n%s", app, within, b, more())
	return nil
}

func isType(tp model.StatusType) func(*model.Status) bool {
	return func(s *model.Status) bool { return s.Info.Type == tp }
}

func deploy(t testing.TB, c *wadmclient.Client, manifest string) string {
	t.Helper()
	ctx := context.Background()
	put, err := c.Put(ctx, []byte(manifest), "")
	if err != nil {
		t.Fatalf("put: %v", err)
	}
	if _, err := c.Deploy(ctx, put.Name, put.CurrentVersion); err != nil {
		t.Fatalf("deploy: %v", err)
	}
	return put.Name
}

// instances returns max instances of a component id on a host.
func instances(t testing.TB, cc *ctl.Client, hostID, component string) int {
	t.Helper()
	inv, err := cc.GetHostInventory(context.Background(), hostID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range inv.Components {
		if c.ID == component {
			return int(c.MaxInstances)
		}
	}
	return 0
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

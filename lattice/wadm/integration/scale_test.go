package integration_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/ctl"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// TestThreeWadmsNoDoubleScheduling runs three wadm processes on one lattice
// and checks every control command is sent exactly once.
func TestThreeWadmsNoDoubleScheduling(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	wasm := testComponent(t)
	srv, nc := startNATS(t, "")
	var mu sync.Mutex
	counts := map[string]int{}
	sub, err := nc.Subscribe("wasmbus.ctl.v1.default.>", func(m *nats.Msg) {
		var body struct {
			ComponentID string `json:"component_id"`
			HostID      string `json:"host_id"`
			SourceID    string `json:"source_id"`
		}
		_ = json.Unmarshal(m.Data, &body)
		op := strings.Join(strings.Split(m.Subject, ".")[4:6], ".")
		switch op {
		case "component.scale", "provider.start", "link.put":
			mu.Lock()
			counts[fmt.Sprintf("%s %s@%s%s", op, body.ComponentID, body.HostID, body.SourceID)]++
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	for range 3 {
		startWadm(t, connect(t, srv), "default")
	}
	for i := range 4 {
		startHost(t, connect(t, srv), "default", map[string]string{"zone": fmt.Sprintf("z%d", i%2)})
	}
	c := wadmclient.New(nc, wadmclient.Options{Lattice: "default"})
	var apps []string
	for i := range 20 {
		apps = append(apps, deploy(t, c, simpleManifest(fmt.Sprintf("app%02d", i), wasm, 3+i%4)))
	}
	for _, a := range apps {
		waitStatus(t, c, a, 20*time.Second, isType(model.StatusDeployed))
	}
	// Let a few heartbeats pass: a healthy lattice needs no more commands.
	time.Sleep(5 * heartbeat)
	mu.Lock()
	defer mu.Unlock()
	if len(counts) != 20 {
		t.Errorf("%d distinct scale requests, want 20: %v", len(counts), counts)
	}
	for k, n := range counts {
		if n != 1 {
			t.Errorf("%s sent %d times", k, n)
		}
	}
}

// TestRestartKeepsApps stops everything without purging and starts again on
// the same store: the apps come back Deployed.
func TestRestartKeepsApps(t *testing.T) {
	wasm := testComponent(t)
	store := t.TempDir()
	srv, nc := startNATS(t, store)
	w := startWadm(t, nc, "default")
	hnc := connect(t, srv)
	h := startHost(t, hnc, "default", nil)
	c := wadmclient.New(nc, wadmclient.Options{Lattice: "default"})
	for i := range 3 {
		waitStatus(t, c, deploy(t, c, simpleManifest(fmt.Sprintf("keep%d", i), wasm, 2)), 30*time.Second, isType(model.StatusDeployed))
	}
	w.Stop()
	h.Stop(t.Context(), time.Second)
	nc.Close()
	hnc.Close()
	srv.Shutdown()

	srv2, nc2 := startNATS(t, store)
	startWadm(t, nc2, "default")
	h2 := startHost(t, connect(t, srv2), "default", nil)
	c2 := wadmclient.New(nc2, wadmclient.Options{Lattice: "default"})
	cc := ctl.NewClient(nc2, ctl.ClientOptions{Lattice: "default"})
	for i := range 3 {
		// The last status from before the restart says Deployed; wait for the
		// new host to really run the app.
		deadline := time.Now().Add(30 * time.Second)
		for instances(t, cc, h2.ID(), fmt.Sprintf("keep%d-hello", i)) != 2 {
			if time.Now().After(deadline) {
				t.Fatalf("keep%d does not run on the new host", i)
			}
			time.Sleep(50 * time.Millisecond)
		}
		waitStatus(t, c2, fmt.Sprintf("keep%d", i), 30*time.Second, isType(model.StatusDeployed))
	}
}

package integration_test

import (
	"testing"
	"time"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/wadm"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// TestSeedScenario: 100 instances spread 80/20 over two zones; no labelled
// host ⇒ failed with the reason; labelled hosts ⇒ deployed with 80/20; the
// west host dies ⇒ not deployed once it expires; a new west host ⇒ deployed.
func TestSeedScenario(t *testing.T) {
	wasm := testComponent(t)
	srv, nc := startNATS(t, "")
	startWadm(t, nc, "default")
	startHost(t, nc, "default", nil)
	c := wadmclient.New(nc, wadmclient.Options{Lattice: "default", Timeout: 5 * time.Second})
	cc := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})

	app := deploy(t, c, spreadManifest("seed", wasm, 100))
	st := waitStatus(t, c, app, 5*time.Second, isType(model.StatusFailed))
	if !contains(st.Info.Message, "Could not satisfy spread east") || !contains(st.Info.Message, "Could not satisfy spread west") {
		t.Fatalf("failed status does not say why: %q", st.Info.Message)
	}

	east := startHost(t, nc, "default", map[string]string{"zone": "us-east-1"})
	westConn := connect(t, srv)
	west := startHost(t, westConn, "default", map[string]string{"zone": "us-west-1"})
	waitStatus(t, c, app, 30*time.Second, isType(model.StatusDeployed))
	if n := instances(t, cc, east.ID(), "seed-hello"); n != 80 {
		t.Errorf("east host runs %d instances, want 80", n)
	}
	if n := instances(t, cc, west.ID(), "seed-hello"); n != 20 {
		t.Errorf("west host runs %d instances, want 20", n)
	}

	// Kill the west host: its connection goes away without host_stopped.
	westConn.Close()
	st = waitStatus(t, c, app, 30*time.Second, func(s *model.Status) bool { return s.Info.Type != model.StatusDeployed })
	if !contains(st.Info.Message, "west") {
		t.Errorf("status after losing the west host does not name the west spread: %q", st.Info.Message)
	}
	west2 := startHost(t, nc, "default", map[string]string{"zone": "us-west-1"})
	waitStatus(t, c, app, 30*time.Second, isType(model.StatusDeployed))
	if n := instances(t, cc, west2.ID(), "seed-hello"); n != 20 {
		t.Errorf("new west host runs %d instances, want 20", n)
	}
}

// TestHostsJoiningWhileWaiting: hosts that appear while a scaler waits for its expected events
// are used as soon as the wait ends, not at the next heartbeat (upstream's 30 s here).
func TestHostsJoiningWhileWaiting(t *testing.T) {
	wasm := testComponent(t)
	_, nc := startNATS(t, "")
	w, err := wadm.Run(t.Context(), nc, wadm.Config{Lattices: []string{"default"}, HostExpiry: time.Minute, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	c := wadmclient.New(nc, wadmclient.Options{Lattice: "default", Timeout: 5 * time.Second})
	cc := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
	east := startHostEvery(t, nc, "default", map[string]string{"zone": "us-east-1"}, 30*time.Second)
	app := deploy(t, c, spreadManifest("late", wasm, 100))
	west := startHostEvery(t, nc, "default", map[string]string{"zone": "us-west-1"}, 30*time.Second)
	// Well under the 30 s heartbeat that used to be needed, with room for a loaded machine.
	waitStatus(t, c, app, 25*time.Second, isType(model.StatusDeployed))
	if e, w := instances(t, cc, east.ID(), "late-hello"), instances(t, cc, west.ID(), "late-hello"); e != 80 || w != 20 {
		t.Fatalf("east %d / west %d, want 80 / 20", e, w)
	}
}

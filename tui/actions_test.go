package tui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/natsd"
	"github.com/wasmlattice/wash/lattice/wadm/model"
	"github.com/wasmlattice/wash/tui"
)

func send(tm interface{ Send(tea.Msg) }, keys ...string) {
	for _, k := range keys {
		tm.Send(key(k))
	}
}

func TestScaleComponentAction(t *testing.T) {
	l := startLattice(t)
	tm := newDashboard(t, l, tui.ViewComponents, 100, 30)
	send(tm, "s")
	waitFor(t, tm, "Scale hello to how many instances")
	tm.Send(tea.KeyMsg{Type: tea.KeyBackspace})
	send(tm, "1", "enter")
	waitFor(t, tm, "Scale hello on test-host-0001 to 1? (managed by app demo-app")
	send(tm, "y")
	waitFor(t, tm, "scale of hello to 1 requested")
	deadline := time.Now().Add(30 * time.Second)
	for {
		inv, err := l.ctl.GetHostInventory(context.Background(), l.host.ID())
		if err == nil && len(inv.Components) == 1 && inv.Components[0].MaxInstances == 1 {
			if inv.Components[0].Annotations[tui.AppSpecAnnotation] != "demo-app" {
				t.Errorf("scale dropped the annotations: %v", inv.Components[0].Annotations)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("component not scaled to 1: %+v %v", inv, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	v := string(finalView(t, tm))
	if !strings.Contains(v, "test-host-0001 1   demo-app") {
		t.Errorf("screen does not show the new count:\n%s", v)
	}
}

func TestScaleRejectsBadCount(t *testing.T) {
	l := startLattice(t)
	tm := newDashboard(t, l, tui.ViewComponents, 100, 30)
	send(tm, "s")
	waitFor(t, tm, "how many instances")
	send(tm, "x", "enter")
	waitFor(t, tm, "invalid count")
	_ = finalView(t, tm)
}

func TestDeleteLinkAction(t *testing.T) {
	l := startLattice(t)
	tm := newDashboard(t, l, tui.ViewLinks, 100, 30)
	send(tm, "x")
	waitFor(t, tm, "Delete link hello → kvstore (wasi:keyvalue, default)?")
	send(tm, "n")
	waitFor(t, tm, "cancelled")
	send(tm, "x")
	send(tm, "y")
	waitFor(t, tm, "link deleted")
	links, err := l.ctl.GetLinks(context.Background())
	if err != nil || len(links) != 0 {
		t.Fatalf("links after delete = %v, %v", links, err)
	}
	_ = finalView(t, tm)
}

func TestAppActions(t *testing.T) {
	l := startAppLattice(t)
	tm := newDashboard(t, l, tui.ViewApps, 100, 30)
	// wadm lists apps by name: broken-app, then demo-app (the first snapshot, awaited with
	// "synced", holds the list).
	send(tm, "down", "u")
	waitFor(t, tm, "Undeploy app demo-app? [y/N]")
	send(tm, "y")
	waitFor(t, tm, "Successfully undeployed application demo-app")
	waitStatus(t, l.wadm, "demo-app", model.StatusUndeployed)
	waitComponents(t, l, 0)
	// wadm publishes the new status; the row changes colour and text without a refresh.
	waitFor(t, tm, "Manifest has been undeployed")
	send(tm, "d")
	waitFor(t, tm, "Deploy which version of demo-app?")
	send(tm, "enter")
	waitFor(t, tm, "Deploy demo-app version v0.2.0?")
	send(tm, "y")
	waitFor(t, tm, "Successfully deployed application demo-app v0.2.0")
	waitStatus(t, l.wadm, "demo-app", model.StatusDeployed)
	apps, err := l.wadm.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		if a.Name == "demo-app" && (a.DeployedVersion == nil || *a.DeployedVersion != "v0.2.0") {
			t.Errorf("wadm deployed %v, want v0.2.0", a.DeployedVersion)
		}
	}
	waitComponents(t, l, 1)
	waitFor(t, tm, "v0.2.0   deployed")
	_ = finalView(t, tm)
}

// waitComponents waits until the host runs n components.
func waitComponents(t *testing.T, l *lattice, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		inv, err := l.ctl.GetHostInventory(context.Background(), l.host.ID())
		if err == nil && len(inv.Components) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("host does not run %d components: %+v %v", n, inv, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReconnect stops NATS under the dashboard and starts it again on the same port: a banner
// shows while it is gone and the view recovers by itself.
func TestReconnect(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a lattice")
	}
	t.Parallel()
	store := t.TempDir()
	srv, err := natsd.Start(natsd.Options{Port: 0, StoreDir: store})
	if err != nil {
		t.Fatal(err)
	}
	port := srv.Addr().Port
	nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	m, err := tui.New(tui.Options{Conn: nc, Lattice: "default", ServerURL: "nats://test", View: tui.ViewHosts, Stable: true, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tm := newTestModel(t, m)
	waitFor(t, tm, "synced")
	srv.Shutdown()
	waitFor(t, tm, "NATS connection lost")
	srv2, err := natsd.Start(natsd.Options{Port: port, StoreDir: store})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Shutdown()
	waitFor(t, tm, "reconnected to")
	v := string(finalView(t, tm))
	if strings.Contains(v, "connection lost") || !strings.Contains(v, "● connected") {
		t.Errorf("banner still shown after reconnect:\n%s", v)
	}
}

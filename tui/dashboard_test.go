package tui_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/internal/testmanifest"
	"github.com/wasmlattice/wash/internal/testnats"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/natsd"
	"github.com/wasmlattice/wash/lattice/wadm"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/model"
	"github.com/wasmlattice/wash/runtime"
	"github.com/wasmlattice/wash/tui"
)

// buildWasip1 returns the shared wasip1 test module and fills a compilation cache next to it
// once per test binary, so parallel tests do not all compile at once.
func buildWasip1(t testing.TB) string {
	t.Helper()
	wasm := testlattice.Wasip1(t)
	warmOnce.Do(func() { warmErr = warmCache(wasm) })
	if warmErr != nil {
		t.Fatalf("compiling the wasip1 module: %v", warmErr)
	}
	return wasm
}

var (
	warmOnce sync.Once
	warmErr  error
)

func cacheDir(wasm string) string { return filepath.Join(filepath.Dir(wasm), "tui-cache") }

func warmCache(wasm string) error {
	ctx := context.Background()
	eng, err := runtime.NewEngine(ctx, runtime.Options{CompilationCacheDir: cacheDir(wasm)})
	if err != nil {
		return err
	}
	defer eng.Close(ctx)
	b, err := os.ReadFile(wasm)
	if err != nil {
		return err
	}
	_, err = eng.Compile(ctx, b)
	return err
}

// lattice is a real one-host lattice: embedded NATS, the built-in host with a label, a component
// from a wasip1 module, a link and named config; with wadm, the component belongs to a deployed app.
type lattice struct {
	srv  *natsd.Server
	nc   *nats.Conn
	host *host.Host
	ctl  *ctl.Client
	wadm *wadmclient.Client
	wasm string
	// comp is the id of the component the link starts at.
	comp string
	mask func(string) string
}

// startLattice and startAppLattice skip in short mode and run the test in parallel.
//
// startLattice starts a lattice without wadm: component "hello" is scaled by hand to 3 instances
// and carries the app annotation wadm would leave, as after wadm has gone away.
func startLattice(t *testing.T) *lattice { return startLatticeWith(t, false) }

// startAppLattice starts a lattice with the real wadm serving its API: app demo-app (version
// v0.1.0 deployed, v0.2.0 put but not deployed) runs component demo_app-hello with 1 instance,
// and broken-app has failed because no host matches its spread.
func startAppLattice(t *testing.T) *lattice { return startLatticeWith(t, true) }

func startLatticeWith(t *testing.T, withWadm bool) *lattice {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a lattice")
	}
	t.Parallel()
	srv := testnats.Start(t)
	connect := func() *nats.Conn {
		return srv.Connect(t, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	}
	nc := connect()
	wasm := buildWasip1(t)
	ctx := context.Background()
	l := &lattice{srv: srv.Embedded, nc: nc, wasm: wasm, comp: "hello"}
	if withWadm {
		// wadm starts before the host so its event stream holds host_started: the host
		// heartbeats only hourly (so nothing moves under the goldens), and an expiry longer
		// than that keeps wadm from dropping it.
		w, err := wadm.Run(ctx, connect(), wadm.Config{Lattices: []string{"default"}, HostExpiry: 2 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
		l.wadm = wadmclient.New(nc, wadmclient.Options{Lattice: "default"})
		l.comp = "demo_app-hello"
	}
	// A compilation cache shared by the tests' engines: compiling the Go module is the slow part.
	eng, err := runtime.NewEngine(ctx, runtime.Options{CompilationCacheDir: cacheDir(wasm)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close(context.Background()) })
	h, err := host.New(ctx, nc, host.Config{Lattice: "default", Labels: map[string]string{"zone": "test"},
		HeartbeatInterval: time.Hour, AllowFileLoad: true, Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	l.host = h
	scaled := make(chan struct{}, 1)
	sub, err := events.Subscribe(nc, "default", func(events.Event) {
		select {
		case scaled <- struct{}{}:
		default:
		}
	}, events.ComponentScaled)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop(context.Background(), time.Second) })
	l.ctl = ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
	if withWadm {
		deployApps(t, l)
	} else if _, err := l.ctl.ScaleComponent(ctx, ctl.ScaleComponentCommand{ComponentRef: "file://" + wasm, ComponentID: "hello", Count: 3,
		HostID: h.ID(), Annotations: map[string]string{tui.AppSpecAnnotation: "demo-app"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-scaled:
	case <-time.After(60 * time.Second): // compiling under -race on a busy machine is slow
		t.Fatal("component was not scaled within 60s")
	}
	if _, err := l.ctl.PutConfig(ctx, "greeting", map[string]string{"lang": "en", "text": "hello"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ctl.PutLink(ctx, ctl.Link{SourceID: l.comp, Target: "kvstore", WitNamespace: "wasi", WitPackage: "keyvalue",
		Interfaces: []string{"store", "atomics"}, TargetConfig: []string{"greeting"}}); err != nil {
		t.Fatal(err)
	}
	// Random values become fixed placeholders before layout, so goldens are stable.
	pairs := []string{h.ID(), "NHOSTIDXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
		h.FriendlyName(), "test-host-0001", filepath.Dir(wasm), "/tmp/wasm", srv.URL, "nats://127.0.0.1:4222"}
	inv, err := l.ctl.GetHostInventory(ctx, h.ID())
	if err != nil {
		t.Fatal(err)
	}
	// wadm's scaler ids hash the image reference, which holds the temp path.
	for _, c := range inv.Components {
		if id := c.Annotations[model.ScalerAnnotation]; id != "" {
			pairs = append(pairs, id, "SCALERID")
		}
	}
	r := strings.NewReplacer(pairs...)
	// The hostcore labels name the machine the tests run on; only whole values are replaced,
	// since short ones such as "arm" occur inside other words.
	machine := map[string]string{inv.Labels["hostcore.arch"]: "ARCH", inv.Labels["hostcore.os"]: "OS",
		inv.Labels["hostcore.osfamily"]: "OSFAMILY"}
	l.mask = func(s string) string {
		if v, ok := machine[s]; ok {
			return v
		}
		return r.Replace(s)
	}
	return l
}

// appManifest is demo-app at a version: one component from the wasip1 module on one instance.
func appManifest(version, wasm string) string {
	return testmanifest.App{Name: "demo-app", Version: version, Description: "A demo",
		Components: []testmanifest.Component{testmanifest.Wasm("hello", wasm, 1)}}.YAML()
}

// brokenManifest asks for a zone no host is in, so wadm reports it failed.
func brokenManifest(wasm string) string {
	return testmanifest.App{Name: "broken-app", Version: "v1", Components: []testmanifest.Component{
		testmanifest.Wasm("hello", wasm, 1).Spread(testmanifest.Spread{Name: "nowhere", Requirements: map[string]string{"zone": "nowhere"}}),
	}}.YAML()
}

// deployApps puts and deploys demo-app v0.1.0 and broken-app, waits for wadm to report them
// deployed and failed, then puts demo-app v0.2.0 without deploying it.
func deployApps(t *testing.T, l *lattice) {
	t.Helper()
	ctx := context.Background()
	for _, m := range []string{appManifest("v0.1.0", l.wasm), brokenManifest(l.wasm)} {
		put, err := l.wadm.Put(ctx, []byte(m), "")
		if err != nil {
			t.Fatalf("put: %v", err)
		}
		if _, err := l.wadm.Deploy(ctx, put.Name, put.CurrentVersion); err != nil {
			t.Fatalf("deploy: %v", err)
		}
	}
	waitStatus(t, l.wadm, "demo-app", model.StatusDeployed)
	waitStatus(t, l.wadm, "broken-app", model.StatusFailed)
	if _, err := l.wadm.Put(ctx, []byte(appManifest("v0.2.0", l.wasm)), ""); err != nil {
		t.Fatalf("put: %v", err)
	}
}

// waitStatus polls wadm until the app has the status type.
func waitStatus(t *testing.T, c *wadmclient.Client, app string, want model.StatusType) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := c.Status(context.Background(), app)
		if err == nil && st.Info.Type == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never became %s: %+v %v", app, want, st, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newDashboard(t *testing.T, l *lattice, view tui.View, w, h int) *teatest.TestModel {
	t.Helper()
	m, err := tui.New(tui.Options{Conn: l.nc, Lattice: "default", ServerURL: l.srv.ClientURL(), View: view,
		Stable: true, Mask: l.mask, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(w, h))
	waitFor(t, tm, "synced")
	return tm
}

func newTestModel(t *testing.T, m tea.Model) *teatest.TestModel {
	return teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))
}

// waitFor waits until the program has written s.
func waitFor(t *testing.T, tm *teatest.TestModel, s string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s)) },
		teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func key(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// finalView quits and returns the last frame the model renders.
func finalView(t *testing.T, tm *teatest.TestModel) []byte {
	t.Helper()
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second))
	return []byte(fm.View())
}

func TestViews(t *testing.T) {
	l := startAppLattice(t)
	cases := []struct {
		name  string
		view  tui.View
		w, h  int
		keys  []string
		until string
	}{
		{name: "overview", view: tui.ViewOverview, w: 100, h: 30},
		{name: "overview_80x24", view: tui.ViewOverview, w: 80, h: 24},
		{name: "hosts", view: tui.ViewHosts, w: 100, h: 30},
		{name: "hosts_80x24", view: tui.ViewHosts, w: 80, h: 24},
		{name: "components", view: tui.ViewComponents, w: 100, h: 30},
		{name: "providers", view: tui.ViewProviders, w: 100, h: 30},
		{name: "apps", view: tui.ViewApps, w: 100, h: 30},
		{name: "links", view: tui.ViewLinks, w: 100, h: 30},
		{name: "links_80x24", view: tui.ViewLinks, w: 80, h: 24},
		{name: "config", view: tui.ViewConfig, w: 100, h: 30},
		{name: "host_detail", view: tui.ViewHosts, w: 100, h: 30, keys: []string{"enter"}, until: "Components (1)"},
		{name: "component_detail", view: tui.ViewComponents, w: 100, h: 30, keys: []string{"enter"}, until: "Annotations:"},
		{name: "config_detail", view: tui.ViewConfig, w: 100, h: 30, keys: []string{"enter"}, until: "Used by links:"},
		{name: "app_detail", view: tui.ViewApps, w: 100, h: 30, keys: []string{"down", "enter"}, until: "version: v0.2.0"},
		{name: "app_detail_failed", view: tui.ViewApps, w: 100, h: 30, keys: []string{"enter"}, until: "name: broken-app"},
		{name: "help", view: tui.ViewHosts, w: 80, h: 24, keys: []string{"?"}, until: "close help"},
		{name: "filter", view: tui.ViewApps, w: 100, h: 30, keys: []string{"/", "b", "r", "o", "enter"}, until: "/bro"},
		{name: "tab_switch", view: tui.ViewOverview, w: 100, h: 30, keys: []string{"tab", "tab", "3"}, until: "[3:Components]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tm := newDashboard(t, l, tc.view, tc.w, tc.h)
			for _, k := range tc.keys {
				tm.Send(key(k))
			}
			if tc.until != "" {
				waitFor(t, tm, tc.until)
			}
			golden.RequireEqual(t, finalView(t, tm))
		})
	}
}

func TestAppsWithoutWadm(t *testing.T) {
	l := startLattice(t)
	tm := newDashboard(t, l, tui.ViewApps, 100, 30)
	golden.RequireEqual(t, finalView(t, tm))
}

func TestEventLog(t *testing.T) {
	l := startLattice(t)
	tm := newDashboard(t, l, tui.ViewEvents, 100, 30)
	if _, err := l.ctl.PutConfig(context.Background(), "later", map[string]string{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ctl.PutLabel(context.Background(), l.host.ID(), "tier", "gold"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tm, "labels_changed")
	golden.RequireEqual(t, finalView(t, tm))
}

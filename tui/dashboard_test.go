package tui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/natsd"
	"github.com/wasmlattice/wash/runtime"
	"github.com/wasmlattice/wash/tui"
)

var (
	buildOnce sync.Once
	wasmPath  string
	buildErr  error
)

// buildWasip1 compiles testdata/hello-wasip1 with GOOS=wasip1 once per test binary.
func buildWasip1(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wash-tui-wasip1-")
		if err != nil {
			buildErr = err
			return
		}
		wasmPath = filepath.Join(dir, "hello.wasm")
		cmd := exec.Command("go", "build", "-o", wasmPath, "./testdata/hello-wasip1")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = err
			wasmPath = string(out)
			return
		}
		// Fill the shared compilation cache once, so parallel tests do not all compile at once.
		buildErr = warmCache(wasmPath)
	})
	if buildErr != nil {
		t.Fatalf("building wasip1 module: %v\n%s", buildErr, wasmPath)
	}
	return wasmPath
}

func cacheDir(wasm string) string { return filepath.Join(filepath.Dir(wasm), "cache") }

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
// scaled from a wasip1 module, a link and named config.
type lattice struct {
	srv  *natsd.Server
	nc   *nats.Conn
	host *host.Host
	ctl  *ctl.Client
	wasm string
	mask func(string) string
}

func startLattice(t *testing.T) *lattice {
	t.Helper()
	srv, err := natsd.Start(natsd.Options{Port: 0, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	wasm := buildWasip1(t)
	ctx := context.Background()
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
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
	ref := "file://" + wasm
	if _, err := c.ScaleComponent(ctx, ctl.ScaleComponentCommand{ComponentRef: ref, ComponentID: "hello", Count: 3, HostID: h.ID(),
		Annotations: map[string]string{tui.AppSpecAnnotation: "demo-app"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-scaled:
	case <-time.After(60 * time.Second): // compiling under -race on a busy machine is slow
		t.Fatal("component was not scaled within 60s")
	}
	if _, err := c.PutConfig(ctx, "greeting", map[string]string{"lang": "en", "text": "hello"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutLink(ctx, ctl.Link{SourceID: "hello", Target: "kvstore", WitNamespace: "wasi", WitPackage: "keyvalue",
		Interfaces: []string{"store", "atomics"}, TargetConfig: []string{"greeting"}}); err != nil {
		t.Fatal(err)
	}
	// Random values become fixed placeholders before layout, so goldens are stable.
	r := strings.NewReplacer(h.ID(), "NHOSTIDXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
		h.FriendlyName(), "test-host-0001", filepath.Dir(wasm), "/tmp/wasm", srv.ClientURL(), "nats://127.0.0.1:4222")
	return &lattice{srv: srv, nc: nc, host: h, ctl: c, wasm: wasm, mask: r.Replace}
}

// fakeWadm answers wadm's API over the real NATS server with fixed data, standing in for the
// wadm server until it lands; it records deploy and undeploy requests.
type fakeWadm struct {
	mu       sync.Mutex
	requests []string
}

func startFakeWadm(t *testing.T, nc *nats.Conn) *fakeWadm {
	t.Helper()
	f := &fakeWadm{}
	deployed := "v0.1.0"
	apps := []map[string]any{
		{"name": "demo-app", "version": "v0.2.0", "description": "A demo", "deployed_version": &deployed,
			"detailed_status": map[string]any{"status": map[string]any{"type": "deployed"}, "version": "", "components": []any{}},
			"status":          "deployed", "status_message": "", "unknown_future_field": 1},
		{"name": "broken-app", "version": "v1", "description": nil, "deployed_version": &deployed,
			"detailed_status": map[string]any{"status": map[string]any{"type": "failed", "message": "Could not satisfy spread default for file:///x.wasm, 0/1 eligible hosts found."}},
			"status":          "failed"},
	}
	status := map[string]any{"status": map[string]any{"type": "deployed"}, "scalers": []map[string]any{
		{"id": "a1", "kind": "SpreadScaler", "name": "hello", "status": map[string]any{"type": "deployed"}},
		{"id": "a2", "kind": "LinkScaler", "name": "hello -(wasi:keyvalue)-> kvstore", "status": map[string]any{"type": "reconciling", "message": "Putting link definition"}},
	}, "version": "", "components": []any{}}
	manifest := map[string]any{"apiVersion": "core.oam.dev/v1beta1", "kind": "Application",
		"metadata": map[string]any{"name": "demo-app", "annotations": map[string]any{"version": "v0.2.0"}},
		"spec": map[string]any{"components": []any{map[string]any{"name": "hello", "type": "component",
			"properties": map[string]any{"image": "file:///tmp/wasm/hello.wasm"}}}}}
	sub, err := nc.Subscribe("wadm.api.default.model.>", func(m *nats.Msg) {
		op := strings.TrimPrefix(m.Subject, "wadm.api.default.model.")
		f.mu.Lock()
		f.requests = append(f.requests, op+" "+string(m.Data))
		f.mu.Unlock()
		var reply any
		switch {
		case op == "list":
			reply = apps
		case strings.HasPrefix(op, "status."):
			reply = map[string]any{"result": "ok", "message": "", "status": status}
		case strings.HasPrefix(op, "get."):
			reply = map[string]any{"result": "success", "message": "", "manifest": manifest}
		case strings.HasPrefix(op, "undeploy."), strings.HasPrefix(op, "deploy."):
			name := op[strings.IndexByte(op, '.')+1:]
			reply = map[string]any{"result": "acknowledged", "message": "Successfully " + strings.Split(op, ".")[0] + "ed application " + name, "name": name}
		default:
			reply = map[string]any{"result": "error", "message": "Unsupported subject"}
		}
		b, _ := json.Marshal(reply)
		_ = m.Respond(b)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	_ = nc.Flush()
	return f
}

func (f *fakeWadm) saw(prefix string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.requests {
		if strings.HasPrefix(r, prefix) {
			return true
		}
	}
	return false
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
	if testing.Short() {
		t.Skip("starts a lattice")
	}
	t.Parallel()
	l := startLattice(t)
	startFakeWadm(t, l.nc)
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
		{name: "app_detail", view: tui.ViewApps, w: 100, h: 30, keys: []string{"enter"}, until: "Manifest"},
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
	if testing.Short() {
		t.Skip("starts a lattice")
	}
	t.Parallel()
	l := startLattice(t)
	tm := newDashboard(t, l, tui.ViewApps, 100, 30)
	golden.RequireEqual(t, finalView(t, tm))
}

func TestEventLog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a lattice")
	}
	t.Parallel()
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

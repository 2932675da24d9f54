package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/internal/testmanifest"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/wadm"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/model"
	"github.com/wasmlattice/wash/ui"
)

// artifactDir is where screenshots go: $WASH_TEST_ARTIFACTS, else artifacts/ui at the
// repository root (ignored by git).
func artifactDir(t *testing.T) string {
	dir := os.Getenv("WASH_TEST_ARTIFACTS")
	if dir == "" {
		_, self, _, _ := goruntime.Caller(0)
		dir = filepath.Join(filepath.Dir(self), "..", "artifacts")
	}
	dir = filepath.Join(dir, "ui")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser starts headless Chromium (Debian's package; .ci/run installs it) with the flags this
// machine needs: no sandbox as root, and no background networking, which a closed network
// refuses.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("headless Chromium is needed (apt-get install chromium; .ci/run does it): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

type fixture struct {
	nc    *nats.Conn
	host  *host.Host
	wadm  *wadmclient.Client
	url   string
	wasm  string
	srv   *ui.Server
	links []ctl.Link
}

func startFixture(t *testing.T) *fixture {
	t.Helper()
	n := testlattice.StartNATS(t)
	nc := n.Connect(t)
	ctx := context.Background()
	w, err := wadm.Run(ctx, n.Connect(t), wadm.Config{Lattices: []string{"default"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	h := testlattice.StartHostOn(t, n.Connect(t), host.Config{Lattice: "default", Labels: map[string]string{"zone": "ui-test"}, AllowFileLoad: true})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
	if _, err := c.PutConfig(ctx, "greeting", map[string]string{"text": "hi"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutLink(ctx, ctl.Link{SourceID: "httplog", Target: "kv", WitNamespace: "wasi", WitPackage: "keyvalue",
		Interfaces: []string{"store"}, TargetConfig: []string{"greeting"}}); err != nil {
		t.Fatal(err)
	}
	srv, err := ui.New(ctx, ui.Options{Conn: nc, Lattice: "default", Refresh: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	t.Cleanup(srv.Close) // before hs.Close: ends the open streams
	return &fixture{nc: nc, host: h, wadm: wadmclient.New(nc, wadmclient.Options{Lattice: "default"}), url: hs.URL, wasm: testlattice.HTTPLog(t), srv: srv}
}

func manifest(name, wasm string) string {
	return testmanifest.App{Name: name, Version: "v1", Description: "deployed by the ui test",
		Components: []testmanifest.Component{testmanifest.Wasm("httplog", wasm, 1)}}.YAML()
}

// TestDashboardInBrowser is the acceptance check of wash ui: in headless Chromium the page lists
// the lattice's host and apps; deploying an app shows it Deployed without a reload within a
// second of wadm saying so; screenshots at 1280×800 and 390×844 are saved.
func TestDashboardInBrowser(t *testing.T) {
	f := startFixture(t)
	ctx := context.Background()
	// one app put but not deployed, so the table has something before the deploy
	if _, err := f.wadm.Put(ctx, []byte(manifest("parked-app", f.wasm)), ""); err != nil {
		t.Fatal(err)
	}
	bctx := browser(t)
	dir := artifactDir(t)
	tctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	hostSel := fmt.Sprintf(`[data-host-id=%q]`, f.host.ID())
	if err := chromedp.Do(tctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatal("viewport", err)
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(f.url)); err != nil {
		t.Fatal("navigate", err)
	}
	if err := chromedp.Do(tctx,
		chromedp.WaitVisible(chromedp.CSS(hostSel)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-app="parked-app"]`)),
	); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[int](`window.__noReload = 42`)); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{f.host.FriendlyName(), "zone=ui-test", "parked-app", "greeting", "wasi:keyvalue/store"} {
		if !strings.Contains(text, want) {
			t.Errorf("page does not show %q:\n%s", want, text)
		}
	}

	// Deploy; watch wadm's status so the wait is measured from when wadm reports Deployed.
	deployedAt := make(chan time.Time, 1)
	sub, err := f.nc.Subscribe(model.StatusSubject("default", "live-app"), func(m *nats.Msg) {
		var st model.Status
		if json.Unmarshal(m.Data, &st) == nil && st.Info.Type == model.StatusDeployed {
			select {
			case deployedAt <- time.Now():
			default:
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	put, err := f.wadm.Put(ctx, []byte(manifest("live-app", f.wasm)), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.wadm.Deploy(ctx, put.Name, ""); err != nil {
		t.Fatal(err)
	}
	var wadmTime time.Time
	select {
	case wadmTime = <-deployedAt:
	case <-time.After(30 * time.Second):
		t.Fatal("wadm never reported live-app deployed")
	}
	var shown time.Time
	for {
		status, err := chromedp.Run(tctx, chromedp.Evaluate[string](`(document.querySelector('tr[data-app="live-app"]')||{dataset:{}}).dataset.status||""`))
		if err != nil {
			t.Fatal(err)
		}
		if status == "deployed" {
			shown = time.Now()
			break
		}
		if time.Since(wadmTime) > 5*time.Second {
			t.Fatalf("page still shows live-app as %q 5s after wadm reported it deployed", status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	lag := shown.Sub(wadmTime)
	t.Logf("Deployed shown %s after wadm published it", lag)
	if lag > time.Second {
		t.Errorf("Deployed shown %s after wadm published it, want within 1s", lag)
	}
	if marker, err := chromedp.Run(tctx, chromedp.Evaluate[int](`window.__noReload || 0`)); err != nil || marker != 42 {
		t.Fatalf("the page reloaded (marker %d, %v)", marker, err)
	}
	// the scaler detail opens on a click
	// clicked from inside the page: a snapshot may re-render the table between a CDP node
	// lookup and its click
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`(() => { document.querySelector('tr[data-app="live-app"]').click(); return true })()`)); err != nil {
		t.Fatalf("clicking the app row: %v", err)
	}
	if err := chromedp.Do(tctx, chromedp.WaitVisible(chromedp.CSS(`tr.scalers [data-scaler]`))); err != nil {
		t.Fatalf("scaler detail: %v", err)
	}
	// the component now shows under its host
	if err := chromedp.Do(tctx, chromedp.WaitVisible(chromedp.CSS(hostSel+` [data-component="live_app-httplog"]`))); err != nil {
		t.Fatalf("component not shown on its host: %v", err)
	}

	for _, vp := range []struct{ w, h int64 }{{1280, 800}, {390, 844}} {
		if err := chromedp.Do(tctx, chromedp.EmulateViewport(vp.w, vp.h), chromedp.Sleep(200*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		// nothing may push the page wider than the screen (tables scroll in their own box)
		overflow, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
		if err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(tctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if overflow {
			t.Errorf("at %dx%d the page is wider than the viewport", vp.w, vp.h)
		}
		path := filepath.Join(dir, fmt.Sprintf("dashboard-%dx%d.png", vp.w, vp.h))
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", path)
	}
}

// The server answers only Host names that mean this machine (DNS rebinding), sends a strict
// content policy, and its snapshot is JSON.
func TestServerGuards(t *testing.T) {
	f := startFixture(t)
	req, _ := http.NewRequest("GET", f.url+"/api/snapshot", nil)
	req.Host = "attacker.example"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign Host got %d", res.StatusCode)
	}
	res, err = http.Get(f.url + "/api/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var sn ui.Snapshot
	if err := json.NewDecoder(res.Body).Decode(&sn); err != nil {
		t.Fatal(err)
	}
	if len(sn.Hosts) != 1 || sn.Hosts[0].ID != f.host.ID() || sn.Lattice != "default" {
		t.Fatalf("snapshot = %+v", sn)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("CSP = %q", csp)
	}
}

package host_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/corpus"
	"github.com/wasmlattice/wash/internal/testtool"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host"
)

// Fixtures: the limits guest is checked in under testdata; wat-hello and go-hello come from the
// repository's corpus (internal/corpus).
const (
	watHelloBody = "hello from a WAT component, path="
	goHelloBody  = "hello from Go (wasip1 + reactor adapter), path="
)

func fixtureRef(t testing.TB, rel string) string {
	t.Helper()
	p, err := filepath.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture %s: %v", rel, err)
	}
	return "file://" + p
}

func watHelloRef(t testing.TB) string {
	return "file://" + corpus.Path(t, corpus.WatHello)
}

func goHelloRef(t testing.TB) string {
	return "file://" + corpus.Path(t, corpus.GoHello)
}

// freeAddrs returns n distinct free addresses: all are held until the last is picked (two
// freeAddr calls in a row may return the same port, which the first has not bound yet).
func freeAddrs(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		out = append(out, ln.Addr().String())
	}
	return out
}

func pair(s []string) (string, string) { return s[0], s[1] }

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type lattice struct {
	t   testing.TB
	nc  *nats.Conn
	h   *host.Host
	c   *ctl.Client
	evs *eventLog
}

func newLattice(t testing.TB, cfg host.Config) *lattice {
	nc := startNATS(t)
	evs := watchEvents(t, nc, "default")
	cfg.Lattice = "default"
	h := startHost(t, nc, cfg)
	return &lattice{t: t, nc: nc, h: h, c: ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"}), evs: evs}
}

// newLoggedLattice is newLattice with the host's log kept as text, for tests that check what
// the host logs.
func newLoggedLattice(t testing.TB, cfg host.Config) (*lattice, *testtool.LogBuffer) {
	log := &testtool.LogBuffer{}
	cfg.Logger = newTextLogger(log)
	return newLattice(t, cfg), log
}

func (l *lattice) ok(r ctl.Response, err error) {
	l.t.Helper()
	mustSucceed(l.t, r, err)
}

// mustSucceed fails the test unless a control request was sent and answered with success.
func mustSucceed(t testing.TB, r ctl.Response, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if !r.Success {
		t.Fatalf("control request failed: %s", r.Message)
	}
}

func (l *lattice) scale(id, ref string, count uint32, limits map[string]string, config ...string) {
	l.t.Helper()
	l.ok(l.c.ScaleComponent(context.Background(), ctl.ScaleComponentCommand{
		HostID: l.h.ID(), ComponentID: id, ComponentRef: ref, Count: count, ComponentLimits: limits, Config: config,
	}))
	data := l.evs.waitFor(l.t, events.ComponentScaled, func(m map[string]any) bool { return m["component_id"] == id })
	if data["max_instances"] != float64(count) {
		l.t.Fatalf("scaled %s to %v", id, data["max_instances"])
	}
}

func (l *lattice) startBuiltin(id, name string, config ...string) {
	l.t.Helper()
	l.ok(l.c.StartProvider(context.Background(), ctl.StartProviderCommand{
		HostID: l.h.ID(), ProviderID: id, ProviderRef: "wasmcloud+builtin://" + name, Config: config,
	}))
	l.evs.waitFor(l.t, events.ProviderStarted, func(m map[string]any) bool { return m["provider_id"] == id })
}

// linkBuiltin starts the builtin provider name as id, puts the named config the link refers
// to and then the link.
func (l *lattice) linkBuiltin(id, name string, link ctl.Link, config string, values map[string]string) {
	l.t.Helper()
	l.startBuiltin(id, name)
	l.ok(l.c.PutConfig(context.Background(), config, values))
	l.ok(l.c.PutLink(context.Background(), link))
}

// serveHTTP starts the builtin http-server as "http" and links it to component on a free
// address; it returns the component's base URL.
func (l *lattice) serveHTTP(component string) string {
	l.t.Helper()
	l.startBuiltin("http", "http-server")
	addr := freeAddr(l.t)
	l.serve("http", component, "default", addr)
	return "http://" + addr
}

// serve links provider -> component on wasi:http/incoming-handler with its own address config.
func (l *lattice) serve(provider, component, linkName, addr string) {
	l.t.Helper()
	cfg := "addr-" + linkName
	l.ok(l.c.PutConfig(context.Background(), cfg, map[string]string{"address": addr}))
	l.ok(l.c.PutLink(context.Background(), ctl.Link{
		SourceID: provider, Target: component, Name: linkName, WitNamespace: "wasi", WitPackage: "http",
		Interfaces: []string{"incoming-handler"}, SourceConfig: []string{cfg},
	}))
}

var client = &http.Client{Timeout: 30 * time.Second}

func get(url string) (int, string, error) {
	res, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// waitServed polls until the address answers (links reach the provider asynchronously).
func waitServed(t testing.TB, url string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body, err := get(url)
		if err == nil {
			return code, body
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitClosed(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("%s still accepts connections", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serveHellos runs the WAT and the Go hello components with instances each behind one
// http-server, each on its own address: a1 serves the WAT one, a2 the Go one.
func serveHellos(t testing.TB, instances uint32) (l *lattice, a1, a2 string) {
	t.Helper()
	l = newLattice(t, host.Config{})
	l.scale("hello", watHelloRef(t), instances, nil)
	l.scale("gohello", goHelloRef(t), instances, nil)
	l.startBuiltin("http", "http-server")
	a1, a2 = pair(freeAddrs(t, 2))
	l.serve("http", "hello", "hello", a1)
	l.serve("http", "gohello", "gohello", a2)
	return l, a1, a2
}

func TestBuiltinHTTPServerServesComponents(t *testing.T) {
	l, a1, a2 := serveHellos(t, 10)

	for _, tc := range []struct{ addr, want string }{{a1, watHelloBody}, {a2, goHelloBody}} {
		code, body := waitServed(t, "http://"+tc.addr+"/x?y=1")
		if code != 200 || body != tc.want+"/x?y=1\n" {
			t.Fatalf("GET %s: %d %q", tc.addr, code, body)
		}
		for i := 0; i < 5; i++ { // pooled instances serve again
			if code, body, err := get("http://" + tc.addr + "/again"); err != nil || code != 200 || !strings.HasSuffix(body, "path=/again\n") {
				t.Fatalf("repeat %d: %d %q %v", i, code, body, err)
			}
		}
	}
	inv, err := l.c.GetHostInventory(context.Background(), l.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Providers) != 1 || inv.Providers[0].ID != "http" || inv.Providers[0].ImageRef != "http-server" {
		t.Fatalf("inventory providers: %+v", inv.Providers)
	}

	// deleting a link closes its listener only
	l.ok(l.c.DeleteLink(context.Background(), ctl.DeleteLinkRequest{SourceID: "http", WitNamespace: "wasi", WitPackage: "http", Name: "hello"}))
	waitClosed(t, a1)
	if code, _, err := get("http://" + a2 + "/"); err != nil || code != 200 {
		t.Fatalf("other listener after link delete: %d %v", code, err)
	}
	// a component scaled to zero answers 503 while its link stays
	l.scale("gohello", goHelloRef(t), 0, nil)
	if code, _, err := get("http://" + a2 + "/"); err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("after scale to 0: %d %v", code, err)
	}
	// stopping the provider closes the rest and emits provider_stopped
	l.ok(l.c.StopProvider(context.Background(), ctl.StopProviderCommand{HostID: l.h.ID(), ProviderID: "http"}))
	l.evs.waitFor(t, events.ProviderStopped, func(m map[string]any) bool { return m["provider_id"] == "http" })
	waitClosed(t, a2)
}

// Links put before the provider starts are served once it starts; a changed address moves
// the listener.
func TestBuiltinHTTPServerLinksBeforeStart(t *testing.T) {
	l := newLattice(t, host.Config{})
	l.scale("hello", watHelloRef(t), 4, nil)
	a1 := freeAddr(t)
	l.serve("http", "hello", "default", a1)
	l.startBuiltin("http", "http-server")
	if code, body := waitServed(t, "http://"+a1+"/early"); code != 200 || body != watHelloBody+"/early\n" {
		t.Fatalf("%d %q", code, body)
	}
	a2 := freeAddr(t)
	l.ok(l.c.PutConfig(context.Background(), "moved", map[string]string{"address": a2}))
	l.ok(l.c.PutLink(context.Background(), ctl.Link{
		SourceID: "http", Target: "hello", WitNamespace: "wasi", WitPackage: "http",
		Interfaces: []string{"incoming-handler"}, SourceConfig: []string{"moved"},
	}))
	if code, _ := waitServed(t, "http://"+a2+"/moved"); code != 200 {
		t.Fatalf("moved: %d", code)
	}
	waitClosed(t, a1)
}

func TestBuiltinHTTPServerFailures(t *testing.T) {
	l := newLattice(t, host.Config{})
	ref := fixtureRef(t, "testdata/httplimits/httplimits.component.wasm")
	l.scale("limits", ref, 4, map[string]string{"max_execution_time": "0.5", "max_memory_limit": strconv.Itoa(8 << 20)})
	l.startBuiltin("http", "http-server")
	a := freeAddr(t)
	l.serve("http", "limits", "default", a)
	base := "http://" + a
	if code, body := waitServed(t, base+"/ok"); code != 200 || body != "limits guest, path=/ok\n" {
		t.Fatalf("ok: %d %q", code, body)
	}
	for _, path := range []string{"/trap", "/spin", "/alloc"} {
		start := time.Now()
		code, _, err := get(base + path)
		if err != nil || code != http.StatusInternalServerError {
			t.Fatalf("%s: %d %v", path, code, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%s took %v", path, d)
		}
		if code, body, err := get(base + "/next"); err != nil || code != 200 || body != "limits guest, path=/next\n" {
			t.Fatalf("after %s: %d %q %v", path, code, body, err)
		}
	}
}

// TestBuiltinHTTPServerLoad runs 20 concurrent clients against wat-hello and go-hello for 2 s
// each (WASH_HTTP_LOAD_SECONDS overrides, e.g. 10 for the full run); every request must
// succeed.
func TestBuiltinHTTPServerLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped with -short")
	}
	secs := 2
	if v, err := strconv.Atoi(os.Getenv("WASH_HTTP_LOAD_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	_, a1, a2 := serveHellos(t, 100)
	for _, tc := range []struct{ name, addr, want string }{{"wat-hello", a1, watHelloBody}, {"go-hello", a2, goHelloBody}} {
		waitServed(t, "http://"+tc.addr+"/")
		tr := &http.Transport{MaxIdleConnsPerHost: 20}
		cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		var n, failed atomic.Int64
		var firstErr atomic.Value
		stop := time.Now().Add(time.Duration(secs) * time.Second)
		var wg sync.WaitGroup
		for w := 0; w < 20; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; time.Now().Before(stop); i++ {
					path := fmt.Sprintf("/c%d/%d", w, i)
					err := func() error {
						res, err := cl.Get("http://" + tc.addr + path)
						if err != nil {
							return err
						}
						defer res.Body.Close()
						b, err := io.ReadAll(res.Body)
						if err != nil {
							return err
						}
						if res.StatusCode != 200 || string(b) != tc.want+path+"\n" {
							return fmt.Errorf("%s: %d %q", path, res.StatusCode, b)
						}
						return nil
					}()
					n.Add(1)
					if err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err)
					}
				}
			}()
		}
		wg.Wait()
		tr.CloseIdleConnections()
		t.Logf("%s: %d requests in %ds (%.0f req/s), %d failed", tc.name, n.Load(), secs, float64(n.Load())/float64(secs), failed.Load())
		if failed.Load() > 0 {
			t.Fatalf("%s: %d of %d requests failed, first: %v", tc.name, failed.Load(), n.Load(), firstErr.Load())
		}
	}
}

var _ = errors.New

// A change of the http-server's own config (default_address, routing_mode) restarts it with
// the new values and its links; a config it cannot use makes it report itself unhealthy.
func TestBuiltinOwnConfigChange(t *testing.T) {
	l := newLattice(t, host.Config{})
	a, b := pair(freeAddrs(t, 2))
	ctx := context.Background()
	l.ok(l.c.PutConfig(ctx, "hs", map[string]string{"default_address": a}))
	l.startBuiltin("http", "http-server", "hs")
	l.ok(l.c.PutLink(ctx, ctl.Link{SourceID: "http", Target: "nobody", WitNamespace: "wasi", WitPackage: "http", Interfaces: []string{"incoming-handler"}}))
	waitListening := func(addr string, want bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
			}
			if (err == nil) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s listening = %v, want %v", addr, err == nil, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitListening(a, true)
	l.ok(l.c.PutConfig(ctx, "hs", map[string]string{"default_address": b}))
	waitListening(b, true)
	waitListening(a, false)
	l.ok(l.c.PutConfig(ctx, "hs", map[string]string{"routing_mode": "bogus"}))
	d := l.evs.waitFor(t, events.HealthCheckFailed, func(m map[string]any) bool { return m["provider_id"] == "http" })
	if msg, _ := d["message"].(string); !strings.Contains(msg, "invalid routing_mode") {
		t.Fatalf("health_check_failed message = %q", msg)
	}
	l.ok(l.c.PutConfig(ctx, "hs", map[string]string{"default_address": a}))
	l.evs.waitFor(t, events.HealthCheckPassed, func(m map[string]any) bool { return m["provider_id"] == "http" })
	waitListening(a, true)
}

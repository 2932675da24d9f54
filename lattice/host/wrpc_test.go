package host_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/host/providers/providertest"
	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
	"github.com/wasmlattice/wash/lattice/wrpc/wrpchttp"
)

func edgeCoreRef(t testing.TB, name string) string {
	return fixtureRef(t, "../../examples/edge-core/"+name+".component.wasm")
}

// multiHost is one lattice with several hosts, each on its own NATS connection as separate
// processes would be.
type multiHost struct {
	t     testing.TB
	url   string
	hosts []*host.Host
	nc    *nats.Conn
	c     *ctl.Client
	evs   *eventLog
}

func newMultiHost(t testing.TB, n int, cfg host.Config) *multiHost {
	t.Helper()
	ns := testlattice.StartNATS(t)
	nc := ns.Connect(t)
	m := &multiHost{t: t, nc: nc, c: ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"}), evs: watchEvents(t, nc, "default")}
	cfg.Lattice = "default"
	for i := 0; i < n; i++ {
		m.hosts = append(m.hosts, startHost(t, ns.Connect(t), cfg))
	}
	return m
}

func (m *multiHost) ok(r ctl.Response, err error) {
	m.t.Helper()
	mustSucceed(m.t, r, err)
}

func (m *multiHost) scale(h int, id, ref string, count uint32) {
	m.t.Helper()
	m.ok(m.c.ScaleComponent(context.Background(), ctl.ScaleComponentCommand{
		HostID: m.hosts[h].ID(), ComponentID: id, ComponentRef: ref, Count: count,
	}))
	hostID := m.hosts[h].ID()
	m.evs.waitFor(m.t, events.ComponentScaled, func(d map[string]any) bool {
		return d["component_id"] == id && d["host_id"] == hostID && d["max_instances"] == float64(count)
	})
}

func (m *multiHost) startBuiltin(h int, id, name string) {
	m.t.Helper()
	m.ok(m.c.StartProvider(context.Background(), ctl.StartProviderCommand{
		HostID: m.hosts[h].ID(), ProviderID: id, ProviderRef: "wasmcloud+builtin://" + name,
	}))
	m.evs.waitFor(m.t, events.ProviderStarted, func(d map[string]any) bool { return d["provider_id"] == id })
}

func (m *multiHost) link(l ctl.Link) {
	m.t.Helper()
	m.ok(m.c.PutLink(context.Background(), l))
}

// serveHTTP links the http-server provider to a component on its own address.
func (m *multiHost) serveHTTP(provider, component, addr string) {
	m.t.Helper()
	cfg := "addr-" + component
	m.ok(m.c.PutConfig(context.Background(), cfg, map[string]string{"address": addr}))
	m.link(ctl.Link{SourceID: provider, Target: component, Name: component, WitNamespace: "wasi", WitPackage: "http",
		Interfaces: []string{"incoming-handler"}, SourceConfig: []string{cfg}})
}

var backendLink = func(front, back string) ctl.Link {
	return ctl.Link{SourceID: front, Target: back, WitNamespace: "wash", WitPackage: "edgecore", Interfaces: []string{"backend"}}
}

// edge-core across hosts: the http-server and front on host 0, back on host 1; front's import
// of wash:edgecore/backend goes to back over wRPC, typed by front's WIT.
func TestEdgeCoreAcrossHosts(t *testing.T) {
	m := newMultiHost(t, 2, host.Config{CallTimeout: 3 * time.Second})
	m.scale(1, "back", edgeCoreRef(t, "back"), 5)
	m.scale(0, "front", edgeCoreRef(t, "front"), 5)
	m.startBuiltin(0, "http", "http-server")
	addr := freeAddr(t)
	m.link(backendLink("front", "back"))
	m.serveHTTP("http", "front", addr)
	code, body := waitServed(t, "http://"+addr+"/edge-and-core-tiers?x=1")
	if want := "greeting: hello, edge-and-core-tiers\nlength: 19\nwords: edge, and, core\n"; code != 200 || body != want {
		t.Fatalf("GET: %d %q", code, body)
	}
	// the backend's error value reaches the front as a result, not a failure
	if code, body, err := get("http://" + addr + "/"); err != nil || code != 400 || !strings.HasPrefix(body, "error: text is empty") {
		t.Fatalf("GET /: %d %q %v", code, body, err)
	}
	// back gone from the lattice: the front's call finds no responder and traps at once
	m.scale(1, "back", edgeCoreRef(t, "back"), 0)
	start := time.Now()
	if code, _, err := get("http://" + addr + "/x"); err != nil || code != http.StatusInternalServerError {
		t.Fatalf("without back: %d %v", code, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("without back the answer took %s", d)
	}
	// back again, on the other host: served without touching the front
	m.scale(0, "back", edgeCoreRef(t, "back"), 5)
	if code, body, err := get("http://" + addr + "/a-b"); err != nil || code != 200 || !strings.Contains(body, "words: a, b") {
		t.Fatalf("back on host 0: %d %q %v", code, body, err)
	}
	// no link for the import: the call fails with upstream's message
	m.ok(m.c.DeleteLink(context.Background(), ctl.DeleteLinkRequest{SourceID: "front", WitNamespace: "wash", WitPackage: "edgecore", Name: "default"}))
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _, err := get("http://" + addr + "/a")
		if err == nil && code == 500 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after link delete: %d %v", code, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The http-server on host 0 reaches a component that runs only on host 1.
func TestHTTPServerReachesRemoteComponent(t *testing.T) {
	m := newMultiHost(t, 2, host.Config{})
	m.startBuiltin(0, "http", "http-server")
	m.scale(1, "back", edgeCoreRef(t, "back"), 5)
	m.scale(1, "front", edgeCoreRef(t, "front"), 5)
	m.link(backendLink("front", "back"))
	addr := freeAddr(t)
	m.serveHTTP("http", "front", addr)
	code, body := waitServed(t, "http://"+addr+"/remote-front")
	if code != 200 || !strings.Contains(body, "words: remote, front") {
		t.Fatalf("GET: %d %q", code, body)
	}
	m.scale(1, "front", edgeCoreRef(t, "front"), 0)
	if code, body, err := get("http://" + addr + "/x"); err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, "not running") {
		t.Fatalf("front gone: %d %q %v", code, body, err)
	}
}

// Any exported function is served over wRPC on upstream's subjects, and instances on several
// hosts share the calls.
func TestComponentExportsServedOverWRPC(t *testing.T) {
	m := newMultiHost(t, 2, host.Config{})
	m.scale(0, "back", edgeCoreRef(t, "back"), 5)
	m.scale(1, "back", edgeCoreRef(t, "back"), 5)
	cli, err := wrpc.NewConn(m.nc, wrpc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	summary := wrpc.Record(wrpc.Field{Name: "greeting", Type: wrpc.String}, wrpc.Field{Name: "length", Type: wrpc.U32},
		wrpc.Field{Name: "words", Type: wrpc.List(wrpc.String)})
	ft := wrpc.NewFunc([]wrpc.Param{{Name: "text", Type: wrpc.String}, {Name: "max-words", Type: wrpc.U32}}, wrpc.Result(summary, wrpc.String))
	inv := wrpc.Invocation{Prefix: "default.back", Instance: "wash:edgecore/backend@0.1.0", Func: "summarize", Timeout: 5 * time.Second,
		Header: nats.Header{"source-id": {"test"}}}
	for i := 0; i < 10; i++ {
		res, err := cli.Invoke(context.Background(), inv, ft, []wrpc.Value{"a-b-c", uint32(2)})
		if err != nil {
			t.Fatal(err)
		}
		want := []wrpc.Value{wrpc.Ok([]wrpc.Value{"hello, a-b-c", uint32(5), []wrpc.Value{"a", "b"}})}
		if !reflect.DeepEqual(res, want) {
			t.Fatalf("got %#v", res)
		}
	}
	// wrong argument types on the wire: the server ends the call without results, and serves on
	bad := wrpc.NewFunc([]wrpc.Param{{Name: "text", Type: wrpc.U64}}, wrpc.Result(summary, wrpc.String))
	if _, err := cli.Invoke(context.Background(), inv, bad, []wrpc.Value{uint64(1 << 40)}); !errors.Is(err, wrpc.ErrRemoteFailed) {
		t.Fatalf("bad params: %v", err)
	}
	if _, err := cli.Invoke(context.Background(), inv, ft, []wrpc.Value{"x", uint32(1)}); err != nil {
		t.Fatalf("after a bad call: %v", err)
	}
	// a function the component does not export: nobody subscribes
	inv.Func = "missing"
	if _, err := cli.Invoke(context.Background(), inv, ft, []wrpc.Value{"x", uint32(1)}); !errors.Is(err, wrpc.ErrNoResponders) {
		t.Fatalf("missing function: %v", err)
	}
}

// Builtin providers serve their interfaces over wRPC: key-value, blobstore and messaging on
// host 0 serve components that run only on host 1 (the http-server on host 0 reaches them too).
func TestBuiltinProvidersAcrossHosts(t *testing.T) {
	m := newMultiHost(t, 2, host.Config{})
	ctx := context.Background()
	m.startBuiltin(0, "http", "http-server")

	// key-value: the counter increments through keyvalue-inmemory on the other host
	m.startBuiltin(0, "kv", "keyvalue-inmemory")
	m.scale(1, "counter", fixtureRef(t, "providers/testdata/counter/counter.component.wasm"), 4)
	m.link(ctl.Link{SourceID: "counter", Target: "kv", WitNamespace: "wasi", WitPackage: "keyvalue", Interfaces: []string{"store", "atomics"}})
	kvAddr := freeAddr(t)
	m.serveHTTP("http", "counter", kvAddr)
	visits := "http://" + kvAddr + "/visits"
	// host 1 learns the counter's link to kv from the lattice's link store, possibly after the
	// http-server already forwards requests: until then the counter fails without counting
	if code, body := waitServed(t, visits); code != 200 || strings.TrimSpace(body) != "1" {
		waitBody(t, visits, 200, "1")
	}
	for i := 2; i <= 3; i++ {
		code, body := waitServed(t, visits)
		if code != 200 || strings.TrimSpace(body) != strconv.Itoa(i) {
			t.Fatalf("counter %d: %d %q", i, code, body)
		}
	}

	// blobstore: blobhttp stores files through blobstore-fs on the other host
	root := filepath.Join(t.TempDir(), "blobs")
	m.startBuiltin(0, "files", "blobstore-fs")
	m.ok(m.c.PutConfig(ctx, "blob-root", map[string]string{"root": root}))
	m.scale(1, "blobs", fixtureRef(t, "providers/testdata/blobhttp/blobhttp.component.wasm"), 4)
	m.link(blobstoreLink("blobs", "files", "blob-root"))
	blobAddr := freeAddr(t)
	m.serveHTTP("http", "blobs", blobAddr)
	base := "http://" + blobAddr
	if code, body := waitServed(t, base+"/"); code != 200 || body != "" {
		t.Fatalf("empty list: %d %q", code, body)
	}
	big := strings.Repeat("0123456789", 20000)
	if code, body := do(t, http.MethodPut, base+"/dir/big", big); code != 200 {
		t.Fatalf("PUT big: %d %q", code, body)
	}
	if code, body := do(t, http.MethodGet, base+"/dir/big", ""); code != 200 || body != big {
		t.Fatalf("GET big: %d, %d bytes", code, len(body))
	}
	if code, body := do(t, http.MethodGet, base+"/", ""); code != 200 || body != "dir/big\n" {
		t.Fatalf("list: %d %q", code, body)
	}
	if b, err := os.ReadFile(filepath.Join(root, "data", "dir", "big")); err != nil || string(b) != big {
		t.Fatalf("file under the root: %d bytes, %v", len(b), err)
	}
	if code, body := do(t, http.MethodGet, base+"/missing", ""); code != 500 || !strings.Contains(body, `does not exist`) {
		t.Fatalf("GET /missing: %d %q", code, body)
	}

	// messaging: the provider on host 0 delivers to the handler on host 1, whose reply goes
	// back through the provider's consumer interface over wRPC
	m.startBuiltin(0, "msg", "messaging-nats")
	m.scale(1, "echo", fixtureRef(t, "providers/testdata/msgecho/msgecho.component.wasm"), 4)
	m.ok(m.c.PutConfig(ctx, "echo-subs", map[string]string{"subscriptions": "demo.>"}))
	m.link(ctl.Link{SourceID: "msg", Target: "echo", WitNamespace: "wasmcloud", WitPackage: "messaging",
		Interfaces: []string{"handler"}, SourceConfig: []string{"echo-subs"}})
	m.link(ctl.Link{SourceID: "echo", Target: "msg", WitNamespace: "wasmcloud", WitPackage: "messaging", Interfaces: []string{"consumer"}})
	if got := waitRequest(t, m.nc, "demo.hello", "across hosts"); got != "echo: across hosts" {
		t.Fatalf("reply %q", got)
	}
}

// A builtin's wRPC exports apply the caller's link: without one the provider answers with an
// error value naming it.
func TestBuiltinExportNeedsCallerLink(t *testing.T) {
	m := newMultiHost(t, 1, host.Config{})
	m.startBuiltin(0, "kv", "keyvalue-inmemory")
	cli, err := wrpc.NewConn(m.nc, wrpc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	get := interfaces.KVGet
	inv := wrpc.Invocation{Prefix: "default.kv", Instance: get.Instance, Func: get.Name, Timeout: 5 * time.Second,
		Header: nats.Header{"source-id": {"stranger"}, "link-name": {"default"}}}
	res, err := cli.Invoke(context.Background(), inv, get.Type, []wrpc.Value{"b", "k"})
	if err != nil {
		t.Fatal(err)
	}
	rv := res[0].(wrpc.ResultValue)
	if !rv.IsErr || !strings.Contains(rv.Value.(wrpc.VariantValue).Value.(string), `no link named "default" from stranger to kv`) {
		t.Fatalf("without a link: %#v", res)
	}
	m.link(ctl.Link{SourceID: "stranger", Target: "kv", WitNamespace: "wasi", WitPackage: "keyvalue", Interfaces: []string{"store"}})
	set := interfaces.KVSet
	inv.Func = set.Name
	deadline := time.Now().Add(5 * time.Second)
	for {
		res, err = cli.Invoke(context.Background(), inv, set.Type, []wrpc.Value{"b", "k", []byte("v")})
		if err == nil && !res[0].(wrpc.ResultValue).IsErr {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("set with a link: %v %#v", err, res)
		}
		time.Sleep(20 * time.Millisecond)
	}
	inv.Func = get.Name
	res, err = cli.Invoke(context.Background(), inv, get.Type, []wrpc.Value{"b", "k"})
	if err != nil || !reflect.DeepEqual(res, []wrpc.Value{wrpc.Ok(wrpc.Some([]byte("v")))}) {
		t.Fatalf("get: %#v %v", res, err)
	}
}

// The counter counts through a native key-value provider (built with the SDK, started from a
// provider archive) that runs on another host than the component.
func TestCounterThroughNativeProviderOnAnotherHost(t *testing.T) {
	m := newMultiHost(t, 2, host.Config{ProviderHealthDelay: 200 * time.Millisecond})
	ctx := context.Background()
	par := providertest.TestProviderPAR(t, t.TempDir(), true)
	m.ok(m.c.StartProvider(ctx, ctl.StartProviderCommand{HostID: m.hosts[0].ID(), ProviderID: "nativekv", ProviderRef: "file://" + par}))
	m.evs.waitFor(t, events.ProviderStarted, func(d map[string]any) bool { return d["provider_id"] == "nativekv" })
	m.scale(1, "counter", fixtureRef(t, "providers/testdata/counter/counter.component.wasm"), 4)
	m.link(ctl.Link{SourceID: "counter", Target: "nativekv", WitNamespace: "wasi", WitPackage: "keyvalue", Interfaces: []string{"store", "atomics"}})
	m.startBuiltin(1, "http", "http-server")
	addr := freeAddr(t)
	m.serveHTTP("http", "counter", addr)
	deadline := time.Now().Add(15 * time.Second)
	for { // the provider process starts and gets its link asynchronously
		code, body, err := get("http://" + addr + "/native")
		if err == nil && code == 200 && strings.TrimSpace(body) == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("first count: %d %q %v", code, body, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i := 2; i <= 4; i++ {
		if code, body, err := get("http://" + addr + "/native"); err != nil || code != 200 || strings.TrimSpace(body) != strconv.Itoa(i) {
			t.Fatalf("count %d: %d %q %v", i, code, body, err)
		}
	}
}

// An HTTP request's traceparent travels on to the calls the component makes (upstream's
// invocation headers: source-id, link-name, traceparent, tracestate).
func TestTraceContextCarriedAcrossHosts(t *testing.T) {
	m := newMultiHost(t, 2, host.Config{})
	m.scale(1, "back", edgeCoreRef(t, "back"), 5)
	m.scale(0, "front", edgeCoreRef(t, "front"), 5)
	m.startBuiltin(0, "http", "http-server")
	m.link(backendLink("front", "back"))
	addr := freeAddr(t)
	m.serveHTTP("http", "front", addr)
	waitServed(t, "http://"+addr+"/warm")
	spy, err := m.nc.SubscribeSync("default.back.wrpc.0.0.1.>")
	if err != nil {
		t.Fatal(err)
	}
	_ = m.nc.Flush()
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req, _ := http.NewRequest("GET", "http://"+addr+"/traced", nil)
	req.Header.Set("traceparent", tp)
	if res, err := client.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET: %v %v", res, err)
	}
	msg, err := spy.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	if h.Get("traceparent") != tp || h.Values("tracestate") == nil || h.Get("source-id") != "front" || h.Get("link-name") != "default" {
		t.Fatalf("invocation headers %v", h)
	}
	if msg.Subject != "default.back.wrpc.0.0.1.wash:edgecore/backend@0.1.0.summarize" {
		t.Fatalf("subject %s", msg.Subject)
	}
}

// The builtin http-client serves wrpc:http/outgoing-handler to the lattice.
func TestHTTPClientServedOverWRPC(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "fetched "+r.URL.Path)
	}))
	defer backend.Close()
	m := newMultiHost(t, 1, host.Config{})
	m.startBuiltin(0, "httpc", "http-client")
	cli, err := wrpc.NewConn(m.nc, wrpc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &wrpchttp.Transport{Conn: cli, Outgoing: true, Target: func(*http.Request) wrpc.Invocation {
		return wrpc.Invocation{Prefix: "default.httpc", Timeout: 5 * time.Second, Header: nats.Header{"source-id": {"comp"}}}
	}}}
	res, err := c.Get(backend.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(b) != "fetched /x" {
		t.Fatalf("%d %q", res.StatusCode, b)
	}
}

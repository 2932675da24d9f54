package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/testmanifest"
)

// inventory maps "component or provider id" to the ids of the hosts running it.
func (e *env) placement(t *testing.T) map[string][]string {
	t.Helper()
	out := e.must("get", "inventory", "-o", "json", "-p", e.portArg())
	var res struct {
		Inventories []struct {
			HostID     string `json:"host_id"`
			Components []struct {
				ID string `json:"id"`
			} `json:"components"`
			Providers []struct {
				ID string `json:"id"`
			} `json:"providers"`
		} `json:"inventories"`
	}
	decodeJSON(t, out.stdout, &res)
	m := map[string][]string{}
	for _, inv := range res.Inventories {
		for _, c := range inv.Components {
			m[c.ID] = append(m[c.ID], inv.HostID)
		}
		for _, p := range inv.Providers {
			m[p.ID] = append(m[p.ID], inv.HostID)
		}
	}
	return m
}

// hostIDs maps a label value ("tier=core") to the ids of the hosts started with it.
func (e *env) hostsLabelled(t *testing.T, label string) []string {
	t.Helper()
	k, v, _ := strings.Cut(label, "=")
	out := e.must("get", "hosts", "-o", "json", "-p", e.portArg())
	var res struct {
		Hosts []struct {
			ID     string            `json:"id"`
			Labels map[string]string `json:"labels"`
		} `json:"hosts"`
	}
	decodeJSON(t, out.stdout, &res)
	var ids []string
	for _, h := range res.Hosts {
		if h.Labels[k] == v {
			ids = append(ids, h.ID)
		}
	}
	return ids
}

// hostPID is the process of a host that wash up started.
func (e *env) hostPID(t *testing.T, id string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.home, "hosts", id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		PID int `json:"pid"`
	}
	decodeJSON(t, string(b), &rec)
	return rec.PID
}

// One lattice of three hosts, as a user would run it: the http-server on host A reaches a
// component placed only on host C; the counter counts through a native key-value provider
// (built with the SDK, started from a provider archive) on another host than the component;
// edge-core answers across tiers, answers a clear 5xx at once when its core host is killed,
// and recovers without touching the edge once wadm places back again.
func TestLatticeAcrossHosts(t *testing.T) {
	e := newEnv(t)
	fast := []string{"WASH_WADM_HOST_EXPIRY=3s"}
	e.mustWith(fast, "up", "-d", "--nats-port", e.portArg(), "--heartbeat-interval", "1s", "--label", "role=a", "--label", "tier=edge")
	defer e.run("down", "--all", "-p", e.portArg())
	e.must("up", "-d", "--multi-local", "--nats-port", e.portArg(), "--heartbeat-interval", "1s", "--label", "role=b", "--label", "tier=core")
	e.must("up", "-d", "--multi-local", "--nats-port", e.portArg(), "--heartbeat-interval", "1s", "--label", "role=c", "--label", "tier=core")
	hostA, hostC := e.hostsLabelled(t, "role=a"), e.hostsLabelled(t, "role=c")
	if len(hostA) != 1 || len(hostC) != 1 {
		t.Fatalf("hosts a=%v c=%v", hostA, hostC)
	}

	// 1. http-server on A, the component only on C
	hello, _ := filepath.Abs("../examples/hello-http/hello.component.wasm")
	helloAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	e.must("app", "deploy", writeManifest(t, spreadApp("hello-remote", hello, helloAddr, map[string]string{"role": "c"}, map[string]string{"role": "a"})), "-p", e.portArg())
	waitHTTP(t, "http://"+helloAddr+"/remote", 20*time.Second, func(code int, body string) bool {
		return code == 200 && body == "hello from a WAT component, path=/remote\n"
	})
	pl := e.placement(t)
	if h := pl["hello_remote-hello"]; len(h) != 1 || h[0] != hostC[0] {
		t.Fatalf("hello placed on %v, want only %s", h, hostC[0])
	}
	if h := pl["hello_remote-httpserver"]; len(h) != 1 || h[0] != hostA[0] {
		t.Fatalf("http-server placed on %v, want only %s", h, hostA[0])
	}

	// 2. the counter on C, a native key-value provider (built with the SDK) on B
	par := buildKeyValueProvider(t, e)
	counterAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	e.must("app", "deploy", writeManifest(t, nativeCounterApp(counterWasm(t), par, counterAddr)), "-p", e.portArg())
	first := 0
	waitHTTP(t, "http://"+counterAddr+"/seed", 45*time.Second, func(code int, body string) bool {
		n, err := strconv.Atoi(strings.TrimSpace(body))
		first = n
		return code == 200 && err == nil
	})
	for i := 1; i <= 3; i++ {
		if code, body, err := httpGet("http://" + counterAddr + "/seed"); err != nil || code != 200 || strings.TrimSpace(body) != strconv.Itoa(first+i) {
			t.Fatalf("count %d: %d %q %v", first+i, code, body, err)
		}
	}
	pl = e.placement(t)
	if c, k := pl["native_counter-counter"], pl["native_counter-kv"]; len(c) != 1 || len(k) != 1 || c[0] == k[0] {
		t.Fatalf("counter on %v and the native provider on %v: want two different hosts", c, k)
	}

	// 3. edge-core: front and the http-server on the edge (A), back on one core host
	src, err := os.ReadFile("../examples/edge-core/wadm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := filepath.Abs("../examples/edge-core")
	edgeAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	manifest := strings.ReplaceAll(string(src), "127.0.0.1:8080", edgeAddr)
	manifest = strings.ReplaceAll(manifest, "file://./", "file://"+dir+"/")
	e.must("app", "deploy", writeManifest(t, manifest), "-p", e.portArg())
	url := "http://" + edgeAddr + "/edge-and-core-tiers"
	want := "greeting: hello, edge-and-core-tiers\nlength: 19\nwords: edge, and, core\n"
	waitHTTP(t, url, 20*time.Second, func(code int, body string) bool { return code == 200 && body == want })
	backHosts := e.placement(t)["edge_core-back"]
	if len(backHosts) != 1 {
		t.Fatalf("back runs on %v, want one core host", backHosts)
	}
	if err := syscall.Kill(e.hostPID(t, backHosts[0]), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, body, err := httpGet(url)
	if err != nil || code < 500 || !strings.Contains(body, "edge_core-back") {
		t.Fatalf("with the core host killed: %d %q %v", code, body, err)
	}
	// at once when nothing serves back any more; within the handshake timeout (3 s) when the
	// call raced the host's death and was lost with it
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the 5xx took %s", d)
	}
	waitHTTP(t, url, 30*time.Second, func(code int, body string) bool { return code == 200 && body == want })
	if h := e.placement(t)["edge_core-back"]; len(h) != 1 || h[0] == backHosts[0] {
		t.Fatalf("back now on %v", h)
	}
}

// spreadApp is a component and the http-server, each placed by a spread requirement.
func spreadApp(name, wasm, addr string, componentReq, serverReq map[string]string) string {
	return testmanifest.App{Name: name, Description: "a component and the http-server, each placed by a spread requirement",
		Components: []testmanifest.Component{
			testmanifest.Wasm("hello", wasm, 5).Spread(testmanifest.Spread{Name: "only", Requirements: componentReq}),
			testmanifest.HTTPServer("hello", "hello-remote-http", addr).Spread(testmanifest.Spread{Name: "only", Requirements: serverReq}),
		}}.YAML()
}

// nativeCounterApp: the counter on role=c, the native key-value provider on role=b, the
// http-server on role=a.
func nativeCounterApp(wasm, par, addr string) string {
	on := func(role string) testmanifest.Spread {
		return testmanifest.Spread{Name: role, Requirements: map[string]string{"role": role}}
	}
	return testmanifest.App{Name: "native-counter", Description: "the counter through a native key-value provider on another host",
		Components: []testmanifest.Component{
			testmanifest.Wasm("counter", wasm, 5).Spread(on("c")).Link(testmanifest.Link{Target: "kv",
				Namespace: "wasi", Package: "keyvalue", Interfaces: []string{"store", "atomics"}}),
			testmanifest.Component{Name: "kv", Image: "file://" + par, Provider: true}.Spread(on("b")),
			testmanifest.HTTPServer("counter", "native-counter-http", addr).Spread(on("a")),
		}}.YAML()
}

// buildKeyValueProvider builds examples/keyvalue-provider and packs it with wash par create,
// as its README shows.
func buildKeyValueProvider(t *testing.T, e *env) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "keyvalue-provider")
	cmd := exec.Command("go", "build", "-o", bin, "../examples/keyvalue-provider")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	par := filepath.Join(dir, "keyvalue-provider.par.gz")
	e.must("par", "create", "--binary", bin, "--name", "keyvalue-provider", "--vendor", "wash-e2e", "--version", "0.1.0",
		"--compress", "--destination", par, "--directory", filepath.Join(dir, "keys"))
	return par
}

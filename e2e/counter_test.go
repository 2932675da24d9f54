package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/wasmlattice/wash/internal/testmanifest"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host/providers/providertest"
)

// counterWasm is the WAT counter component (wasi:keyvalue store+atomics, wasi:http handler).
func counterWasm(t *testing.T) string {
	t.Helper()
	wasm, err := filepath.Abs("../lattice/host/providers/testdata/counter/counter.component.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(wasm); err != nil {
		t.Fatalf("counter component missing (rebuild with lattice/host/providers/testdata/counter/build.sh): %v", err)
	}
	return wasm
}

// counterManifest is the tutorial's shape, app name with annotation version: the counter, the
// builtin http-server linked to it, and a key-value provider kvName (image kvImage) the counter
// links to on wasi:keyvalue store+atomics, with kvConfig as the link's target config redis-url
// (none when nil).
func counterManifest(name, version, wasm, httpAddr, kvName, kvImage string, kvConfig map[string]string) string {
	kv := testmanifest.Link{Target: kvName, Namespace: "wasi", Package: "keyvalue", Interfaces: []string{"store", "atomics"}}
	if kvConfig != nil {
		kv.TargetConfig = []testmanifest.Config{{Name: "redis-url", Properties: kvConfig}}
	}
	return testmanifest.App{Name: name, Version: version, Components: []testmanifest.Component{
		testmanifest.Wasm("counter", wasm, 20).Link(kv),
		testmanifest.HTTPServer("counter", "counter-http", httpAddr),
		{Name: kvName, Image: kvImage, Provider: true},
	}}.YAML()
}

func writeManifest(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wadm.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// httpGet returns status and body, or an error when nothing answers.
func httpGet(url string) (int, string, error) {
	res, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// waitCount polls url until the counter answers 200, returning the first value it counted.
// Requests that fail before the app is ready do not count (they answer an error, not a value).
func waitCount(t *testing.T, e *env, url string) int {
	t.Helper()
	var code int
	var body string
	var err error
	if !poll(45*time.Second, 100*time.Millisecond, func() bool {
		code, body, err = httpGet(url)
		return err == nil && code == 200
	}) {
		t.Fatalf("GET %s: %d %q %v\nstatus:\n%s", url, code, body, err, e.run("app", "status", "counter", "--ctl-port", e.portArg()))
	}
	n, err := strconv.Atoi(strings.TrimSpace(body))
	if err != nil {
		t.Fatalf("GET %s: body %q is not a number", url, body)
	}
	return n
}

func mustCount(t *testing.T, url string, want int) {
	t.Helper()
	code, body, err := httpGet(url)
	if err != nil || code != 200 || strings.TrimSpace(body) != strconv.Itoa(want) {
		t.Fatalf("GET %s = %d %q %v, want %d", url, code, body, err, want)
	}
}

// concurrentIncrements sends total requests from clients goroutines to one key and checks
// that the answers are exactly 1..total: no increment was lost or doubled.
func concurrentIncrements(t *testing.T, url string, clients, total int) {
	t.Helper()
	var mu sync.Mutex
	var got []int
	var firstErr error
	var wg sync.WaitGroup
	per := total / clients
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	for range clients {
		wg.Go(func() {
			for range per {
				res, err := client.Get(url)
				var n int
				if err == nil {
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						err = fmt.Errorf("%d %q", res.StatusCode, b)
					} else {
						n, err = strconv.Atoi(strings.TrimSpace(string(b)))
					}
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				got = append(got, n)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("concurrent GET %s: %v", url, firstErr)
	}
	slices.Sort(got)
	for i, n := range got {
		if n != i+1 {
			t.Fatalf("concurrent increments: answer %d is %d (want 1..%d without gaps)", i, n, total)
		}
	}
}

// waitLink waits until the counter's only key-value link goes to target.
func waitLink(t *testing.T, e *env, source, target string) {
	t.Helper()
	var targets []string
	if !poll(45*time.Second, 100*time.Millisecond, func() bool {
		var out struct {
			Links []ctl.Link `json:"links"`
		}
		decodeJSON(t, e.must("get", "links", "--ctl-port", e.portArg(), "-o", "json").stdout, &out)
		targets = nil
		for _, l := range out.Links {
			if l.SourceID == source && l.WitPackage == "keyvalue" {
				targets = append(targets, l.Target)
			}
		}
		return slices.Equal(targets, []string{target})
	}) {
		t.Fatalf("key-value links of %s: %v, want only %s", source, targets, target)
	}
}

// The counter end to end: wash up, a real redis-server, wash app deploy of the tutorial
// manifest; then the same component (same wasm) redeployed with keyvalue-nats and with
// keyvalue-inmemory counts the same way.
func TestCounterAppAcrossKeyValueBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("starts wash up, redis-server and three deployments")
	}
	wasm := counterWasm(t)
	rds := providertest.StartRedis(t)
	e := upLattice(t)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	base := "http://" + addr

	backends := []struct {
		name, builtin string
		config        map[string]string
		check         func(t *testing.T)
	}{
		{"kvredis", "keyvalue-redis", map[string]string{"url": rds.URL}, func(t *testing.T) {
			rc := redis.NewClient(&redis.Options{Addr: rds.Addr})
			defer rc.Close()
			for key, want := range map[string]string{"hello": "2", "world": "1", "conc": "1000"} {
				if v, err := rc.Get(context.Background(), key).Result(); err != nil || v != want {
					t.Errorf("redis GET %s = %q %v, want %s", key, v, err, want)
				}
			}
		}},
		{"kvnats", "keyvalue-nats", nil, func(t *testing.T) {
			nc := e.natsConn(t)
			js, _ := jetstream.New(nc)
			kv, err := js.KeyValue(context.Background(), "default")
			if err != nil {
				t.Fatalf("NATS KV bucket default (the counter's store.open identifier): %v", err)
			}
			for key, want := range map[string]string{"hello": "2", "world": "1", "conc": "1000"} {
				if en, err := kv.Get(context.Background(), key); err != nil || string(en.Value()) != want {
					t.Errorf("NATS KV default.%s = %v, want %s", key, err, want)
				}
			}
		}},
		{"kvmem", "keyvalue-inmemory", nil, func(*testing.T) {}},
	}
	for i, b := range backends {
		ok := t.Run(b.builtin, func(t *testing.T) {
			path := writeManifest(t, counterManifest("counter", fmt.Sprintf("v0.0.%d", i+1), wasm, addr, b.name, "wasmcloud+builtin://"+b.builtin, b.config))
			// An upgrade puts the new link before wadm deletes the old one (as upstream wadm
			// does), so the first put is refused ("link already exists with different target")
			// and the app reports failed until the old link is gone and the put is retried;
			// deploy --no-wait and watch the links instead of failing on that transient state.
			e.must("app", "deploy", path, "--no-wait", "--ctl-port", e.portArg())
			waitLink(t, e, "counter-counter", "counter-"+b.name)
			if n := waitCount(t, e, base+"/hello"); n != 1 {
				t.Fatalf("first GET /hello = %d, want 1", n)
			}
			mustCount(t, base+"/hello", 2)
			mustCount(t, base+"/world", 1)
			concurrentIncrements(t, base+"/conc", 20, 1000)
			b.check(t)
		})
		if !ok {
			break
		}
	}
}

// waitStatus polls `wash app status` until its output contains every want.
func waitStatus(t *testing.T, e *env, app string, want ...string) string {
	t.Helper()
	var out string
	var missing []string
	if !poll(45*time.Second, 200*time.Millisecond, func() bool {
		r := e.run("app", "status", app, "--ctl-port", e.portArg())
		out = r.stdout + r.stderr
		missing = slices.DeleteFunc(slices.Clone(want), func(w string) bool { return strings.Contains(out, w) })
		return len(missing) == 0
	}) {
		t.Fatalf("wash app status %s lacks %q:\n%s", app, missing, out)
	}
	return out
}

// Bad input through the whole stack: a provider archive without a binary for this platform, a
// Redis that refuses connections and a link to a provider that never started each show up as
// a clear status, event or 500, while the host keeps serving a healthy app.
func TestBadProvidersThroughWadm(t *testing.T) {
	if testing.Short() {
		t.Skip("starts wash up and four deployments")
	}
	wasm := counterWasm(t)
	e := upLattice(t)
	nc := e.natsConn(t)
	failed := make(chan *nats.Msg, 16)
	if _, err := nc.ChanSubscribe("wasmbus.evt.default.provider_start_failed", failed); err != nil {
		t.Fatal(err)
	}

	good := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	e.must("app", "deploy", writeManifest(t, counterManifest("good", "v1", wasm, good, "kv", "wasmcloud+builtin://keyvalue-inmemory", nil)), "--ctl-port", e.portArg())
	if n := waitCount(t, e, "http://"+good+"/x"); n != 1 {
		t.Fatalf("good app: first count %d", n)
	}

	// 1. an archive with only a binary for another platform
	foreign := providertest.TestProviderPAR(t, t.TempDir(), false)
	e.must("app", "deploy", writeManifest(t, counterManifest("foreign", "v1", wasm, fmt.Sprintf("127.0.0.1:%d", freePort(t)), "kv", "file://"+foreign, nil)), "--no-wait", "--ctl-port", e.portArg())
	t.Log(waitStatus(t, e, "foreign", "failed", "provider archive has no binary for this target", "wash par insert --arch"))
	select {
	case m := <-failed:
		if !strings.Contains(string(m.Data), "no binary for this target") {
			t.Errorf("provider_start_failed event: %s", m.Data)
		}
	case <-time.After(10 * time.Second):
		t.Error("no provider_start_failed event")
	}

	// 2. a link to a provider that never started: its registry refuses connections; the
	// counter's requests fail with 500 and the host log says why
	missingAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	ref := fmt.Sprintf("127.0.0.1:%d/kv:0.1.0", freePort(t))
	e.must("app", "deploy", writeManifest(t, counterManifest("missing", "v1", wasm, missingAddr, "kv", ref, nil)), "--no-wait", "--ctl-port", e.portArg())
	t.Log(waitStatus(t, e, "missing", "failed", ref))
	waitHTTP(t, "http://"+missingAddr+"/x", 30*time.Second, func(code int, _ string) bool { return code == 500 })
	hostLog := func() string {
		files, _ := filepath.Glob(filepath.Join(e.home, "hosts", "*.json"))
		var all strings.Builder
		for _, f := range files {
			var rec struct {
				LogPath string `json:"log_path"`
			}
			b, _ := os.ReadFile(f)
			decodeJSON(t, string(b), &rec)
			l, _ := os.ReadFile(rec.LogPath)
			all.Write(l)
		}
		return all.String()
	}
	if l := hostLog(); !strings.Contains(l, "missing-kv is not running anywhere in lattice") {
		t.Errorf("host log does not say the linked provider is missing:\n%s", l)
	}

	// 3. a Redis that refuses connections: the provider starts, each call answers 500 with the
	// reason
	refused := fmt.Sprintf("redis://127.0.0.1:%d", freePort(t))
	redisAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	e.must("app", "deploy", writeManifest(t, counterManifest("refused", "v1", wasm, redisAddr, "kv", "wasmcloud+builtin://keyvalue-redis", map[string]string{"url": refused})), "--ctl-port", e.portArg())
	waitHTTP(t, "http://"+redisAddr+"/x", 30*time.Second, func(code int, body string) bool {
		return code == 500 && strings.Contains(body, "cannot reach Redis at 127.0.0.1")
	})

	// the healthy app kept serving throughout
	mustCount(t, "http://"+good+"/x", 2)
}

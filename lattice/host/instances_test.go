package host_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/corpus"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/runtime"
)

func (l *lattice) scaleAnnotated(id, ref string, count uint32, ann map[string]string) {
	l.t.Helper()
	l.ok(l.c.ScaleComponent(context.Background(), ctl.ScaleComponentCommand{
		HostID: l.h.ID(), ComponentID: id, ComponentRef: ref, Count: count, Annotations: ann,
	}))
	l.evs.waitFor(l.t, events.ComponentScaled, func(m map[string]any) bool { return m["component_id"] == id })
}

// A componentize-js guest keeps per-request state in its module: it needs a fresh instance per
// request, which is the default. The reuse annotation opts out, with the documented risk.
func TestFreshInstancesByDefault(t *testing.T) {
	js := "file://" + corpus.JSHello(t)
	eng, err := runtime.NewEngine(context.Background(), runtime.Options{CompilationCacheDir: corpus.CompilationCache()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close(context.Background()) })
	l := newLattice(t, host.Config{Engine: eng})
	l.scale("js", js, 4, nil)
	l.scaleAnnotated("jsreuse", js, 4, map[string]string{host.AnnotationReuseInstances: "true"})
	l.startBuiltin("http", "http-server")
	fresh, reused := pair(freeAddrs(t, 2))
	l.serve("http", "js", "fresh", fresh)
	l.serve("http", "jsreuse", "reused", reused)
	waitServed(t, "http://"+fresh+"/warm")
	for _, path := range []string{"/a", "/b", "/c"} {
		if code, body, err := get("http://" + fresh + path); err != nil || code != 200 || body != corpus.JSHelloBody(path) {
			t.Fatalf("fresh %s: %d %q %v", path, code, body, err)
		}
	}
	if code, body := waitServed(t, "http://"+reused+"/1"); code != 200 || body != corpus.JSHelloBody("/1") {
		t.Fatalf("reused, first request: %d %q", code, body)
	}
	if code, _, _ := get("http://" + reused + "/2"); code != http.StatusInternalServerError {
		t.Fatalf("reused, second request: %d; a reused componentize-js instance should fail", code)
	}
}

func TestInvalidInstanceAnnotation(t *testing.T) {
	l := newLattice(t, host.Config{})
	l.ok(l.c.ScaleComponent(context.Background(), ctl.ScaleComponentCommand{
		HostID: l.h.ID(), ComponentID: "bad", ComponentRef: watHelloRef(t), Count: 1,
		Annotations: map[string]string{host.AnnotationInitSnapshot: "sometimes"},
	}))
	data := l.evs.waitFor(t, events.ComponentScaleFailed, func(m map[string]any) bool { return m["component_id"] == "bad" })
	if msg, _ := data["error"].(string); !strings.Contains(msg, `invalid annotation wash.dev/init-snapshot="sometimes": use true or false`) {
		t.Fatalf("error %q", msg)
	}
}

// Memory bounds under load: with a per-instance cap and max_instances concurrent requests that
// each fill their memory to the cap, the host's resident memory stays within
// max_instances × cap plus an overhead, and comes back down right after.
func TestMemoryBoundsUnderLoad(t *testing.T) {
	const (
		instances = 4
		capBytes  = 16 << 20
		overhead  = 64 << 20 // Go heap, engine, NATS, HTTP clients of this test process
	)
	l, eng := memoryLattice(t, 0)
	l.scale("fill", fixtureRef(t, "testdata/httplimits/httplimits.component.wasm"), instances,
		map[string]string{"max_memory_limit": strconv.Itoa(capBytes)})
	a := freeAddr(t)
	l.serve("http", "fill", "fill", a)
	waitServed(t, "http://"+a+"/ok")
	base := rss(t)

	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				if r := rss(t); r > peak.Load() {
					peak.Store(r)
				}
			}
		}
	}()
	codes := load(t, "http://"+a+"/fill", 4*instances, 2*time.Second)
	close(stop)
	<-sampled
	_, enginePeak := eng.MemoryInUse()
	t.Logf("resident: base %d MiB, peak %d MiB; linear memory peak %d MiB; responses %v",
		base>>20, peak.Load()>>20, enginePeak>>20, codes)
	if len(codes) != 1 || codes[200] == 0 {
		t.Fatalf("want only 200s: %v", codes)
	}
	if enginePeak > instances*capBytes {
		t.Fatalf("linear memory peaked at %d MiB, over %d instances × %d MiB", enginePeak>>20, instances, capBytes>>20)
	}
	if p := peak.Load(); p > base+instances*capBytes+overhead {
		t.Fatalf("resident memory peaked at %d MiB: over %d instances × %d MiB + %d MiB above the %d MiB base",
			p>>20, instances, capBytes>>20, overhead>>20, base>>20)
	}
	// given back promptly: the filled instances grew, so none is kept for reuse
	var after uint64
	for i := 0; i < 100; i++ {
		if after = rss(t); after < base+overhead/2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if now, _ := eng.MemoryInUse(); after >= base+overhead/2 || now != 0 {
		t.Fatalf("after the load: resident %d MiB (base %d), linear memory in use %d", after>>20, base>>20, now)
	}
}

// The host-wide limit: requests beyond what it admits get 503 with Retry-After while the
// admitted ones run, and the host serves normally afterwards.
func TestHostMemoryLimitRefusesRequests(t *testing.T) {
	// httplimits starts with one 64 KiB page: the limit admits two instances at a time
	l, eng := memoryLattice(t, 2*64<<10+32<<10)
	l.scale("slow", fixtureRef(t, "testdata/httplimits/httplimits.component.wasm"), 8,
		map[string]string{"max_execution_time": "0.3"})
	a := freeAddr(t)
	l.serve("http", "slow", "slow", a)
	waitServed(t, "http://"+a+"/ok")
	codes := load(t, "http://"+a+"/spin", 6, 900*time.Millisecond)
	t.Logf("responses %v", codes)
	if codes[http.StatusServiceUnavailable] == 0 || codes[http.StatusInternalServerError] == 0 || len(codes) != 2 {
		t.Fatalf("want 500s (time limit) for admitted requests and 503s for refused ones: %v", codes)
	}
	if _, peak := eng.MemoryInUse(); peak > eng.Options().MaxTotalMemoryBytes {
		t.Fatalf("peak %d over the limit", peak)
	}
	if code, body, err := get("http://" + a + "/next"); err != nil || code != 200 || body != "limits guest, path=/next\n" {
		t.Fatalf("after: %d %q %v", code, body, err)
	}
}

// memoryLattice starts a lattice whose host engine has the given host-wide limit (0: none)
// and a running http-server provider "http".
func memoryLattice(t *testing.T, limit uint64) (*lattice, *runtime.Engine) {
	if _, err := os.Stat("/proc/self/statm"); err != nil {
		t.Skip("needs /proc to read resident memory")
	}
	eng, err := runtime.NewEngine(context.Background(), runtime.Options{
		CompilationCacheDir: corpus.CompilationCache(), MaxTotalMemoryBytes: limit,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close(context.Background()) })
	l := newLattice(t, host.Config{Engine: eng})
	l.startBuiltin("http", "http-server")
	return l, eng
}

// load GETs url from n clients until d has passed and counts the status codes (0: errors).
func load(t *testing.T, url string, n int, d time.Duration) map[int]int {
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				code, _, err := get(url)
				if err != nil {
					code = 0
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return codes
}

// rss is this process's resident memory in bytes.
func rss(t testing.TB) uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatal(err)
	}
	var size, res uint64
	if _, err := fmt.Sscan(string(b), &size, &res); err != nil {
		t.Fatal(err)
	}
	return res * uint64(os.Getpagesize())
}

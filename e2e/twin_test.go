package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wasmlattice/wash/lattice/host/providers/providertest"
)

// The seed's counter manifest, written for wasmCloud with upstream provider images, deploys
// unchanged on a machine that cannot reach ghcr.io: wash up runs the built-in twins of
// http-server and keyvalue-redis, wadm reports the app Deployed, and the counter counts in a
// real redis-server. The proxy setting makes every registry request fail at once, so the test
// behaves the same with or without a network.
func TestSeedCounterManifestOffline(t *testing.T) {
	if testing.Short() {
		t.Skip("starts wash up and redis-server")
	}
	t.Setenv("HTTPS_PROXY", fmt.Sprintf("http://127.0.0.1:%d", freePort(t)))
	t.Setenv("HTTP_PROXY", os.Getenv("HTTPS_PROXY"))
	rds := providertest.StartRedis(t)
	wasm := counterWasm(t)
	e := upLattice(t)

	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	text, err := os.ReadFile("testdata/seed-counter.wadm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := strings.NewReplacer("COUNTER_WASM", wasm, "REDIS_URL", rds.URL, "HTTP_ADDRESS", addr).Replace(string(text))
	path := filepath.Join(t.TempDir(), "wadm.yaml")
	if err := os.WriteFile(path, []byte(m), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.must("app", "deploy", path, "--ctl-port", e.portArg())
	if !strings.Contains(r.stdout, "Deployed") {
		t.Fatalf("app deploy:\n%s", r)
	}
	if n := waitCount(t, e, "http://"+addr+"/hello"); n != 1 {
		t.Fatalf("first GET /hello = %d", n)
	}
	mustCount(t, "http://"+addr+"/hello", 2)
	rc := redis.NewClient(&redis.Options{Addr: rds.Addr})
	defer rc.Close()
	if v, err := rc.Get(context.Background(), "hello").Result(); err != nil || v != "2" {
		t.Fatalf("redis GET hello = %q %v", v, err)
	}
	// the inventory shows the images the manifest asked for; the host log says what runs
	inv := e.must("get", "inventory", "--ctl-port", e.portArg(), "-o", "json").stdout
	for _, ref := range []string{"ghcr.io/wasmcloud/http-server:0.23.0", "ghcr.io/wasmcloud/keyvalue-redis:0.28.0"} {
		if !strings.Contains(inv, ref) {
			t.Errorf("inventory lacks %s:\n%s", ref, inv)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		logs, _ := filepath.Glob(filepath.Join(e.home, "logs", "*.log"))
		var all strings.Builder
		for _, f := range logs {
			b, _ := os.ReadFile(f)
			all.Write(b)
		}
		if strings.Contains(all.String(), "running its built-in twin instead") && strings.Contains(all.String(), "wasmcloud+builtin://keyvalue-redis") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("host log does not mention the built-in twins:\n%s", all.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

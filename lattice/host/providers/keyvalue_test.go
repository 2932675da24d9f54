package providers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/wasmlattice/wash/internal/testnats"
	"github.com/wasmlattice/wash/internal/testtool"
	"github.com/wasmlattice/wash/lattice/host/providers/providertest"
	"github.com/wasmlattice/wash/runtime"
)

func loadCounter(t testing.TB) *runtime.Program {
	t.Helper()
	wasm, err := os.ReadFile("testdata/counter/counter.component.wasm")
	if err != nil {
		t.Fatal(err)
	}
	eng, err := runtime.NewEngine(context.Background(), runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close(context.Background()) })
	prog, err := eng.Compile(context.Background(), wasm)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// hit serves one request through prog with the keyvalue interfaces over store.
func hit(t testing.TB, prog *runtime.Program, ifaces []*runtime.HostInterface, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	err := prog.HandleHTTP(context.Background(), rec, req, runtime.InstanceConfig{HostInterfaces: ifaces})
	if err != nil {
		return 0, err.Error()
	}
	return rec.Code, strings.TrimSpace(rec.Body.String())
}

func storeIfaces(s KVStore) []*runtime.HostInterface {
	return KeyValueInterfaces(func(_ context.Context, id string) (KVStore, string, error) { return s, id, nil })
}

func TestCounterInMemory(t *testing.T) {
	prog := loadCounter(t)
	ifaces := storeIfaces(NewMemoryKV())
	for _, c := range []struct{ path, want string }{{"/hello", "1"}, {"/hello", "2"}, {"/world?x=1", "1"}, {"/", "1"}, {"/hello", "3"}} {
		code, body := hit(t, prog, ifaces, c.path)
		if code != 200 || body != c.want {
			t.Fatalf("GET %s = %d %q, want 200 %q", c.path, code, body, c.want)
		}
	}
}

func TestCounterStoreErrorIs500(t *testing.T) {
	prog := loadCounter(t)
	ifaces := KeyValueInterfaces(func(context.Context, string) (KVStore, string, error) {
		return nil, "", &KVError{Case: 2, Msg: "backend down"}
	})
	code, body := hit(t, prog, ifaces, "/x")
	if code != 500 || body != "keyvalue open failed: backend down" {
		t.Fatalf("got %d %q", code, body)
	}
}

func TestCounterUnlinkedFailsCall(t *testing.T) {
	prog := loadCounter(t)
	ifaces := UnlinkedInterfaces("component c1 has no link for wasi:keyvalue", KeyValueFuncs)
	code, msg := hit(t, prog, ifaces, "/x")
	if code != 0 || !strings.Contains(msg, "component c1 has no link for wasi:keyvalue") {
		t.Fatalf("got %d %q", code, msg)
	}
	// The program stays usable.
	if code, body := hit(t, prog, storeIfaces(NewMemoryKV()), "/x"); code != 200 || body != "1" {
		t.Fatalf("after failure: %d %q", code, body)
	}
}

func TestMemoryKVConcurrentIncrements(t *testing.T) {
	prog := loadCounter(t)
	ifaces := storeIfaces(NewMemoryKV())
	concurrentCount(t, prog, ifaces, 20, 1000)
}

// concurrentCount runs total increments of one key from clients goroutines and checks the
// final value.
func concurrentCount(t *testing.T, prog *runtime.Program, ifaces []*runtime.HostInterface, clients, total int) {
	t.Helper()
	var wg sync.WaitGroup
	work := make(chan struct{}, total)
	for range total {
		work <- struct{}{}
	}
	close(work)
	errs := make(chan string, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				if code, body := hit(t, prog, ifaces, "/shared"); code != 200 {
					errs <- body
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	if code, body := hit(t, prog, ifaces, "/shared"); code != 200 || body != "1001" {
		t.Fatalf("after %d increments: %d %q, want 1001", total, code, body)
	}
}

func TestCounterRedis(t *testing.T) {
	r := providertest.StartRedis(t)
	kv, err := NewRedisKV(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	prog := loadCounter(t)
	ifaces := storeIfaces(kv)
	for _, c := range []struct{ path, want string }{{"/hello", "1"}, {"/hello", "2"}, {"/world", "1"}} {
		if code, body := hit(t, prog, ifaces, c.path); code != 200 || body != c.want {
			t.Fatalf("GET %s = %d %q, want 200 %q", c.path, code, body, c.want)
		}
	}
	// Visible to any Redis client under the plain key.
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer c.Close()
	if v, err := c.Get(context.Background(), "hello").Result(); err != nil || v != "2" {
		t.Fatalf("redis GET hello = %q, %v", v, err)
	}
	concurrentCount(t, prog, ifaces, 20, 1000)
}

func TestRedisRefused(t *testing.T) {
	port := testtool.FreePort(t)
	kv, err := NewRedisKV(fmt.Sprintf("redis://127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	code, body := hit(t, loadCounter(t), storeIfaces(kv), "/x")
	if code != 500 || !strings.Contains(body, "cannot reach Redis at 127.0.0.1:") || !strings.Contains(body, "refused") {
		t.Fatalf("got %d %q", code, body)
	}
	if _, err := NewRedisKV("http://nope"); err == nil || !strings.Contains(err.Error(), "invalid Redis URL") {
		t.Fatalf("bad URL: %v", err)
	}
}

func TestCounterNATS(t *testing.T) {
	kv, err := DialNATSKV(testnats.Start(t).URL, "")
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	prog := loadCounter(t)
	ifaces := KeyValueInterfaces(func(_ context.Context, _ string) (KVStore, string, error) { return kv, "counter", nil })
	for _, c := range []struct{ path, want string }{{"/hello", "1"}, {"/hello", "2"}, {"/world", "1"}} {
		if code, body := hit(t, prog, ifaces, c.path); code != 200 || body != c.want {
			t.Fatalf("GET %s = %d %q, want 200 %q", c.path, code, body, c.want)
		}
	}
	v, ok, err := kv.Get(context.Background(), "counter", "hello")
	if err != nil || !ok || string(v) != "2" {
		t.Fatalf("bucket counter key hello = %q %v %v", v, ok, err)
	}
	concurrentCount(t, prog, ifaces, 20, 1000)
}

// TestKVStoreContract runs the same operations against every backend.
func TestKVStoreContract(t *testing.T) {
	backends := map[string]func(t *testing.T) KVStore{
		"memory": func(*testing.T) KVStore { return NewMemoryKV() },
		"redis": func(t *testing.T) KVStore {
			kv, err := NewRedisKV(providertest.StartRedis(t).URL)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { kv.Close() })
			return kv
		},
		"nats": func(t *testing.T) KVStore {
			kv, err := DialNATSKV(testnats.Start(t).URL, "")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { kv.Close() })
			return kv
		},
	}
	backends["vault"] = func(t *testing.T) KVStore { return vaultStore(t, providertest.StartVault(t)) }
	for name, mk := range backends {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			ctx := context.Background()
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(s.Set(ctx, "b1", "a", []byte("x")))
			must(s.Set(ctx, "b1", "b", []byte{}))
			if v, ok, err := s.Get(ctx, "b1", "a"); err != nil || !ok || string(v) != "x" {
				t.Fatalf("get a = %q %v %v", v, ok, err)
			}
			if _, ok, err := s.Get(ctx, "b1", "missing"); err != nil || ok {
				t.Fatalf("get missing = %v %v", ok, err)
			}
			if ok, err := s.Exists(ctx, "b1", "b"); err != nil || !ok {
				t.Fatalf("exists b = %v %v", ok, err)
			}
			keys, _, err := s.ListKeys(ctx, "b1", 0)
			must(err)
			if !slices.Contains(keys, "a") || !slices.Contains(keys, "b") {
				t.Fatalf("keys = %v", keys)
			}
			must(s.Delete(ctx, "b1", "a"))
			must(s.Delete(ctx, "b1", "a"))
			if ok, err := s.Exists(ctx, "b1", "a"); err != nil || ok {
				t.Fatalf("exists after delete = %v %v", ok, err)
			}
			if n, err := s.Increment(ctx, "b1", "n", 5); err != nil || n != 5 {
				t.Fatalf("increment = %d %v", n, err)
			}
			if n, err := s.Increment(ctx, "b1", "n", 2); err != nil || n != 7 {
				t.Fatalf("increment = %d %v", n, err)
			}
			must(s.Set(ctx, "b1", "text", []byte("abc")))
			if _, err := s.Increment(ctx, "b1", "text", 1); err == nil {
				t.Fatal("increment of text succeeded")
			}
		})
	}
}

package providers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

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

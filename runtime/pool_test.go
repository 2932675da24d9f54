package runtime

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func poolServe(t testing.TB, pl *Pool, target string, cfg InstanceConfig) (*httptest.ResponseRecorder, error) {
	rec := httptest.NewRecorder()
	err := pl.HandleHTTP(context.Background(), rec, httptest.NewRequest(http.MethodGet, target, nil), cfg)
	return rec, err
}

func TestPoolReusesInstances(t *testing.T) {
	for _, name := range []string{"wat-hello.component.wasm", "gohello.component.wasm"} {
		t.Run(name, func(t *testing.T) {
			e := newEngine(t, Options{MaxExecutionTime: 10 * time.Second})
			p := compileFile(t, e, name)
			pl := p.NewPool(2, 0)
			defer pl.Close()
			for i := 0; i < 50; i++ {
				rec, err := poolServe(t, pl, "/p?i=1", InstanceConfig{})
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				body, _ := io.ReadAll(rec.Result().Body)
				if rec.Code != 200 || !strings.Contains(string(body), "path=/p?i=1") {
					t.Fatalf("request %d: %d %q", i, rec.Code, body)
				}
				if pl.Idle() != 1 {
					t.Fatalf("request %d: %d idle instances, want 1 (reused)", i, pl.Idle())
				}
			}
		})
	}
}

func TestPoolDropsFailedInstances(t *testing.T) {
	e := newEngine(t, Options{MaxExecutionTime: 10 * time.Second})
	p := compileFile(t, e, "guests/limits.wasm")
	pl := p.NewPool(2, 0)
	defer pl.Close()
	start := time.Now()
	_, err := poolServe(t, pl, "/", InstanceConfig{MaxExecutionTime: 100 * time.Millisecond})
	// under the engine's 10 s: the instance's 100 ms limit applied
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 8*time.Second {
		t.Fatalf("looping handler: %v after %v", err, time.Since(start))
	}
	if pl.Idle() != 0 {
		t.Fatal("an interrupted instance went back to the pool")
	}
}

func TestPerInstanceLimits(t *testing.T) {
	e := newEngine(t, Options{MaxExecutionTime: time.Minute})
	p := compileFile(t, e, "guests/limits.wasm")
	ctx := context.Background()
	start := time.Now()
	_, err := p.Invoke(ctx, InstanceConfig{MaxExecutionTime: 100 * time.Millisecond}, "", "spin")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "100ms") || time.Since(start) > 30*time.Second {
		t.Fatalf("spin: %v", err)
	}
	r, err := p.Invoke(ctx, InstanceConfig{MaxMemoryBytes: 2 << 20}, "", "grow")
	if err != nil || r[0] != uint32(32) {
		t.Fatalf("grow under a 2 MiB instance cap stopped at %v pages (%v), want 32", r, err)
	}
	if _, err := p.Invoke(ctx, InstanceConfig{MaxMemoryBytes: 2 << 20}, "", "alloc"); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("alloc: %v", err)
	}
	// a cap below the declared initial memory fails instantiation cleanly
	if _, err := p.Invoke(ctx, InstanceConfig{MaxMemoryBytes: 1024}, "", "answer"); err == nil || !strings.Contains(err.Error(), "memory limit") {
		t.Fatalf("tiny cap: %v", err)
	}
	if r, err := p.Invoke(ctx, InstanceConfig{}, "", "answer"); err != nil || r[0] != uint32(42) {
		t.Fatalf("after limits: %v %v", r, err)
	}
}

func BenchmarkPoolGoHello(b *testing.B) {
	e := newEngine(b, Options{})
	p := compileFile(b, e, "gohello.component.wasm")
	pl := p.NewPool(1, 0)
	defer pl.Close()
	benchHandleHTTP(b, pl, "/b", InstanceConfig{})
}

func BenchmarkFreshGoHello(b *testing.B) {
	e := newEngine(b, Options{})
	p := compileFile(b, e, "gohello.component.wasm")
	benchHandleHTTP(b, p, "/b", InstanceConfig{})
}

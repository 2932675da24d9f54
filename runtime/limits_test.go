package runtime

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestTrapThenNextCallWorks(t *testing.T) {
	e := newEngine(t, Options{MaxExecutionTime: 5 * time.Second})
	p := compileFile(t, e, "guests/limits.wasm")
	ctx := context.Background()
	_, err := p.Invoke(ctx, InstanceConfig{}, "", "trap")
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("trap: %v", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("trap error is not one line: %q", err)
	}
	r, err := p.Invoke(ctx, InstanceConfig{}, "", "answer")
	if err != nil || r[0] != uint32(42) {
		t.Fatalf("after trap: %v %v", r, err)
	}
}

func TestExecutionTimeLimit(t *testing.T) {
	e := newEngine(t, Options{MaxExecutionTime: 200 * time.Millisecond})
	p := compileFile(t, e, "guests/limits.wasm")
	start := time.Now()
	_, err := p.Invoke(context.Background(), InstanceConfig{}, "", "spin")
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "execution time limit") {
		t.Fatalf("spin: %v", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("spin stopped only after %v", d)
	}
	// the same limit through HandleHTTP: the handler never returns
	rec := httptest.NewRecorder()
	err = p.HandleHTTP(context.Background(), rec, httptest.NewRequest(http.MethodGet, "/", nil), InstanceConfig{})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrResponseStarted) {
		t.Fatalf("looping handler: %v", err)
	}
	if r, err := p.Invoke(context.Background(), InstanceConfig{}, "", "answer"); err != nil || r[0] != uint32(42) {
		t.Fatalf("after timeout: %v %v", r, err)
	}
}

func TestMemoryCap(t *testing.T) {
	e := newEngine(t, Options{MaxMemoryBytes: 4 << 20, MaxExecutionTime: 10 * time.Second})
	p := compileFile(t, e, "guests/limits.wasm")
	ctx := context.Background()
	r, err := p.Invoke(ctx, InstanceConfig{}, "", "grow")
	if err != nil || r[0] != uint32(64) {
		t.Fatalf("grow stopped at %v pages (%v), want 64", r, err)
	}
	if _, err := p.Invoke(ctx, InstanceConfig{}, "", "alloc"); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("alloc: %v", err)
	}
}

// A per-instance host interface overrides the engine's: here a broken wasi:http/types makes
// wat-hello trap; the next request with the default interfaces is served normally.
func TestHTTPTrapAndPerInstanceInterfaces(t *testing.T) {
	e := newEngine(t, Options{MaxExecutionTime: 5 * time.Second})
	p := compileFile(t, e, "wat-hello.component.wasm")
	broken := &HostInterface{Name: "wasi:http/types@0.2.0", Funcs: map[string]HostFunc{
		"[method]incoming-request.path-with-query": func(context.Context, []Value) (Value, error) {
			return nil, errors.New("injected host failure")
		},
	}}
	_, err := serve(t, p, "/x", InstanceConfig{HostInterfaces: []*HostInterface{broken}})
	if err == nil || !strings.Contains(err.Error(), "injected host failure") {
		t.Fatalf("broken host: %v", err)
	}
	// overrides are per function: the rest of wasi:http/types still comes from the engine
	rec, err := serve(t, p, "/ok", InstanceConfig{})
	if err != nil || rec.Code != 200 {
		t.Fatalf("after trap: %v %d", err, rec.Code)
	}
	// a host function returning a value of the wrong type traps cleanly too
	wrong := &HostInterface{Name: "wasi:http/types@0.2.0", Funcs: map[string]HostFunc{
		"[method]incoming-request.path-with-query": func(context.Context, []Value) (Value, error) {
			return 12, nil
		},
	}}
	if _, err := serve(t, p, "/x", InstanceConfig{HostInterfaces: []*HostInterface{wrong}}); err == nil {
		t.Fatal("wrong host value accepted")
	}
	// a host function that panics (a provider bug) fails the call, not the process
	panicky := &HostInterface{Name: "wasi:http/types@0.2.0", Funcs: map[string]HostFunc{
		"[method]incoming-request.path-with-query": func(context.Context, []Value) (Value, error) {
			var m map[string]int
			m["boom"]++
			return nil, nil
		},
	}}
	if _, err := serve(t, p, "/x", InstanceConfig{HostInterfaces: []*HostInterface{panicky}}); err == nil {
		t.Fatal("panicking host function did not fail the call")
	}
	if rec, err := serve(t, p, "/ok", InstanceConfig{}); err != nil || rec.Code != 200 {
		t.Fatalf("after host panic: %v", err)
	}
}

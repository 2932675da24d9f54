package host_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host"
)

func startNATS(t testing.TB) *nats.Conn {
	t.Helper()
	return testlattice.StartNATS(t).Connect(t)
}

func startHost(t testing.TB, nc *nats.Conn, cfg host.Config) *host.Host {
	t.Helper()
	return testlattice.StartHostOn(t, nc, cfg)
}

func buildWasip1(t testing.TB) string { return testlattice.Wasip1(t) }

type eventLog struct {
	mu  sync.Mutex
	evs []events.Event
	ch  chan events.Event
}

func watchEvents(t testing.TB, nc *nats.Conn, lattice string) *eventLog {
	l := &eventLog{ch: make(chan events.Event, 1024)}
	sub, err := events.Subscribe(nc, lattice, func(e events.Event) {
		l.mu.Lock()
		l.evs = append(l.evs, e)
		l.mu.Unlock()
		l.ch <- e
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	_ = nc.Flush()
	return l
}

func (l *eventLog) waitFor(t testing.TB, name string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	var data map[string]any
	_ = json.Unmarshal(l.next(t, name, match).Data, &data)
	return data
}

// next waits for the next event called name whose data matches. The bound is generous: a
// loaded machine may take many seconds to compile a module the first time.
func (l *eventLog) next(t testing.TB, name string, match func(map[string]any) bool) events.Event {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case e := <-l.ch:
			if e.Name() != name {
				continue
			}
			var data map[string]any
			_ = json.Unmarshal(e.Data, &data)
			if match == nil || match(data) {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s event within 60s", name)
		}
	}
}

func TestScaleWasip1Module(t *testing.T) {
	nc := startNATS(t)
	wasm := buildWasip1(t)
	evs := watchEvents(t, nc, "default")
	h := startHost(t, nc, host.Config{Lattice: "default"})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
	ctx := context.Background()

	ref := "file://" + wasm
	if _, err := c.ScaleComponent(ctx, ctl.ScaleComponentCommand{ComponentRef: ref, ComponentID: "hello", Count: 5, HostID: h.ID()}); err != nil {
		t.Fatal(err)
	}
	data := evs.waitFor(t, events.ComponentScaled, nil)
	want := map[string]any{"annotations": map[string]any{}, "component_id": "hello", "host_id": h.ID(), "image_ref": ref, "max_instances": float64(5)}
	if b1, b2 := mustJSON(data), mustJSON(want); b1 != b2 {
		t.Fatalf("component_scaled data = %s, want %s", b1, b2)
	}
	inv, err := c.GetHostInventory(ctx, h.ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Components) != 1 || inv.Components[0].ID != "hello" || inv.Components[0].MaxInstances != 5 {
		t.Fatalf("inventory components = %+v", inv.Components)
	}

	if _, err := c.ScaleComponent(ctx, ctl.ScaleComponentCommand{ComponentRef: ref, ComponentID: "hello", Count: 0, HostID: h.ID()}); err != nil {
		t.Fatal(err)
	}
	evs.waitFor(t, events.ComponentScaled, func(d map[string]any) bool { return d["max_instances"] == float64(0) })
	inv, err = c.GetHostInventory(ctx, h.ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Components) != 0 {
		t.Fatalf("component still in inventory after scale to 0: %+v", inv.Components)
	}
}

func TestScaleFailures(t *testing.T) {
	l := newLattice(t, host.Config{})
	evs, h, c := l.evs, l.h, l.c
	ctx := context.Background()
	dir := t.TempDir()
	component := filepath.Join(dir, "c.wasm")
	// A pre-standard (0x0c) component binary: recognised and refused with a clear reason.
	if err := os.WriteFile(component, []byte("\x00asm\x0c\x00\x01\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ ref, wantSubstr string }{
		{"127.0.0.1:1/acme/hello:0.1.0", "registry unreachable"},
		{"file://" + filepath.Join(dir, "missing.wasm"), "no such file"},
		{"file://" + component, "unsupported component binary version"},
	}
	for _, tc := range cases {
		start := time.Now()
		if _, err := c.ScaleComponent(ctx, ctl.ScaleComponentCommand{ComponentRef: tc.ref, ComponentID: "x", Count: 1, HostID: h.ID()}); err != nil {
			t.Fatal(err)
		}
		d := evs.waitFor(t, events.ComponentScaleFailed, func(d map[string]any) bool { return d["image_ref"] == tc.ref })
		if msg, _ := d["error"].(string); !strings.Contains(msg, tc.wantSubstr) {
			t.Errorf("%s: error %q does not mention %q", tc.ref, msg, tc.wantSubstr)
		}
		if time.Since(start) > 20*time.Second { // no retry loop: far below any backoff schedule
			t.Errorf("%s: failure took %s, want fast", tc.ref, time.Since(start))
		}
	}
	inv, _ := c.GetHostInventory(ctx, h.ID())
	if len(inv.Components) != 0 {
		t.Fatalf("failed components listed: %+v", inv.Components)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func jsKV(t testing.TB, nc *nats.Conn, bucket, key string) (string, error) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		return "", err
	}
	kv, err := js.KeyValue(context.Background(), bucket)
	if err != nil {
		return "", err
	}
	e, err := kv.Get(context.Background(), key)
	if err != nil {
		return "", err
	}
	return string(e.Value()), nil
}

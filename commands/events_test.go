package commands_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmlattice/wash/commands/cli"
	evcmd "github.com/wasmlattice/wash/commands/events"
	"github.com/wasmlattice/wash/commands/output"
	lev "github.com/wasmlattice/wash/lattice/events"
)

// follow starts `wash events` through its Run function, writing into a pipe. It returns the
// lines as they arrive (with their arrival time) and a stop function.
func follow(t *testing.T, l *lattice, lattice string, format output.Format, args ...string) (<-chan arrival, func() error) {
	t.Helper()
	o := &evcmd.Options{}
	l.parseFlags(t, o.AddFlags, lattice, args...)
	return stream(t, "wash events", format, &o.OnReady, func(ctx context.Context, env *cli.Env) error { return evcmd.Run(ctx, env, o) })
}

// next returns the first line accepted by match within the timeout.
func next(t *testing.T, lines <-chan arrival, timeout time.Duration, match func(string) bool) arrival {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case a, ok := <-lines:
			if !ok {
				t.Fatal("event stream closed")
			}
			if match(a.line) {
				return a
			}
		case <-deadline:
			t.Fatalf("no matching line within %s", timeout)
		}
	}
}

func TestEventsNDJSONIsPromptAndValid(t *testing.T) {
	wasm := wasmModule(t)
	l := newLattice(t)
	h := l.host(t, "default", nil)
	l.host(t, "other", nil)
	// compile before measuring; a loaded machine (the suite on 2 cores) once took more than the
	// default 10 s to compile and confirm this start
	ok(t, l.args("default", "start", "component", wasm, "hello", "--wait-timeout-ms", "60000")...)

	lines, stop := follow(t, l, "default", output.JSON)
	ok(t, l.args("default", "scale", "component", wasm, "hello", "--max-instances", "7")...)
	ok(t, l.args("other", "config", "put", "elsewhere", "a=b")...)
	ok(t, l.args("default", "config", "put", "here", "a=b")...)

	// Generous waits: the scale compiles nothing (the start above did), but a loaded machine
	// (the whole suite on 2 cores) once took more than 5 s to get the events through.
	a := next(t, lines, 30*time.Second, func(s string) bool { return strings.Contains(s, "component_scaled") })
	var e lev.Event
	if err := json.Unmarshal([]byte(a.line), &e); err != nil {
		t.Fatalf("line is not one JSON object: %v\n%s", err, a.line)
	}
	if e.Name() != lev.ComponentScaled || e.Source != h.ID() {
		t.Fatalf("event = %+v", e)
	}
	// Streamed, not batched or polled: a generous bound, so a loaded machine does not flake it.
	if lag := a.at.Sub(e.ParsedTime()); lag > 5*time.Second || lag < -time.Second {
		t.Fatalf("component_scaled printed %s after the host published it, want it streamed", lag)
	}
	t.Logf("component_scaled printed %s after publication", a.at.Sub(e.ParsedTime()))
	// The config_set of the other lattice never shows; ours does.
	b := next(t, lines, 30*time.Second, func(s string) bool { return strings.Contains(s, "config_set") })
	var cfg map[string]any
	if err := json.Unmarshal([]byte(b.line), &cfg); err != nil {
		t.Fatal(err)
	}
	if d := cfg["data"].(map[string]any); d["config_name"] != "here" {
		t.Fatalf("saw config_set of another lattice: %s", b.line)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for a := range lines {
		if !json.Valid([]byte(a.line)) {
			t.Fatalf("invalid NDJSON line %q", a.line)
		}
	}
}

func TestEventsTextFilters(t *testing.T) {
	wasm := wasmModule(t)
	l := newLattice(t)
	ha := l.host(t, "default", map[string]string{"zone": "a"})
	hb := l.host(t, "default", map[string]string{"zone": "b"})

	lines, _ := follow(t, l, "default", output.Text, "--type", "component_scaled", "--host", hb.FriendlyName())
	ok(t, l.args("default", "start", "component", wasm, "on-a", "--host-id", ha.ID())...)
	ok(t, l.args("default", "start", "component", wasm, "on-b", "--host-id", hb.ID())...)
	ok(t, l.args("default", "label", hb.ID(), "x=y")...)
	a := next(t, lines, 5*time.Second, func(string) bool { return true })
	if !strings.Contains(a.line, "component_scaled") || !strings.Contains(a.line, hb.FriendlyName()) || !strings.Contains(a.line, "on-b max_instances=1 ref=file://") {
		t.Fatalf("first line = %q", a.line)
	}
	select {
	case a := <-lines:
		if !strings.Contains(a.line, "on-b") { // the host emits component_scaled once or twice
			t.Fatalf("filtered event leaked: %q", a.line)
		}
	case <-time.After(200 * time.Millisecond):
	}
}

func TestEventsSince(t *testing.T) {
	l := newLattice(t)
	l.host(t, "default", nil)
	l.host(t, "other", nil)

	fails(t, 1, "cannot replay --since 1m0s: no JetStream stream", l.args("default", "events", "--since", "1m")...)
	fails(t, 2, `unknown event type "component_scaledd"`, l.args("default", "events", "--type", "component_scaledd")...)

	// A stream like wadm's wasmbus_events makes history available.
	nc := l.nats.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// A work queue (older wash's wadm_event_consumer) cannot be replayed without consuming it.
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "old_wadm_event_consumer", Subjects: []string{"wasmbus.evt.*.>"}, Retention: jetstream.WorkQueuePolicy}); err != nil {
		t.Fatal(err)
	}
	fails(t, 1, "cannot replay --since 1m0s: no JetStream stream", l.args("default", "events", "--since", "1m")...)
	if err := js.DeleteStream(context.Background(), "old_wadm_event_consumer"); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "wasmbus_events", Subjects: []string{"wasmbus.evt.*.>"}, MaxAge: 70 * time.Second}); err != nil {
		t.Fatal(err)
	}
	ok(t, l.args("default", "config", "put", "before", "a=b")...)
	ok(t, l.args("other", "config", "put", "elsewhere", "a=b")...)
	time.Sleep(50 * time.Millisecond)
	lines, _ := follow(t, l, "default", output.JSON, "--since", "1m", "--type", "config_set")
	a := next(t, lines, 5*time.Second, func(string) bool { return true })
	if !strings.Contains(a.line, `"config_name":"before"`) {
		t.Fatalf("replayed %q, want config_set of before", a.line)
	}
	// Live events continue on the same consumer.
	ok(t, l.args("default", "config", "put", "after", "a=b")...)
	a = next(t, lines, 5*time.Second, func(string) bool { return true })
	if !strings.Contains(a.line, `"config_name":"after"`) {
		t.Fatalf("live line %q, want config_set of after", a.line)
	}
}

func TestSubjectCovers(t *testing.T) {
	cases := []struct {
		pattern, filter string
		want            bool
	}{
		{"wasmbus.evt.*.>", "wasmbus.evt.default.>", true},
		{"wasmbus.evt.>", "wasmbus.evt.default.>", true},
		{">", "wasmbus.evt.default.>", true},
		{"wasmbus.evt.default.>", "wasmbus.evt.default.>", true},
		{"wasmbus.evt.other.>", "wasmbus.evt.default.>", false},
		{"wasmbus.evt.*.*", "wasmbus.evt.default.>", false},
		{"wasmbus.evt.*", "wasmbus.evt.default.>", false},
		{"*.wasmbus.evt.*.>", "wasmbus.evt.default.>", false},
		{"wadm.evt.*.>", "wadm.evt.default.>", true},
		{"wasmbus.evt.default.component_scaled", "wasmbus.evt.default.>", false},
	}
	for _, c := range cases {
		if got := evcmd.SubjectCovers(c.pattern, c.filter); got != c.want {
			t.Errorf("SubjectCovers(%q, %q) = %v, want %v", c.pattern, c.filter, got, c.want)
		}
	}
}

package commands_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmlattice/wash/commands/placement"
	"github.com/wasmlattice/wash/internal/testlattice"
)

func TestWorkloadLifecycle(t *testing.T) {
	wasm := testlattice.Wasip1(t)
	l := newLattice(t)
	ha := l.host(t, "default", map[string]string{"zone": "a"})
	hb := l.host(t, "default", map[string]string{"zone": "b"})
	hx := l.host(t, "other", map[string]string{"zone": "b"})
	other := l.record(t, "other")
	ref := "file://" + wasm

	// Auction with a constraint lands on the only matching host; JSON has upstream's keys.
	r := ok(t, l.args("default", "start", "component", wasm, "hello", "--constraint", "zone=b", "-o", "json")...)
	j := decodeJSON(t, r.out)
	if j["host_id"] != hb.ID() || j["component_id"] != "hello" || j["component_ref"] != ref || j["success"] != true {
		t.Fatalf("start JSON = %v", j)
	}
	if !strings.Contains(j["result"].(string), "Component [hello] (ref: ["+ref+"]) started on host ["+hb.ID()+"]") {
		t.Fatalf("result text = %q", j["result"])
	}
	if inv := hb.Inventory(); len(inv.Components) != 1 || inv.Components[0].MaxInstances != 1 {
		t.Fatalf("host b inventory = %+v", inv.Components)
	}

	// --host-id by friendly name, with annotations; text output.
	r = ok(t, l.args("default", "start", "component", wasm, "second", "--host-id", ha.FriendlyName(), "-a", "team=x", "--max", "4")...)
	if want := "Component [second] (ref: [" + ref + "]) started on host [" + ha.ID() + "]\n"; r.out != want {
		t.Fatalf("start text = %q, want %q", r.out, want)
	}
	if inv := ha.Inventory(); len(inv.Components) != 1 || inv.Components[0].Annotations["team"] != "x" || inv.Components[0].MaxInstances != 4 {
		t.Fatalf("host a inventory = %+v", inv.Components)
	}

	// Scale finds the host that runs the component.
	r = ok(t, l.args("default", "scale", "component", wasm, "hello", "--max-instances", "3")...)
	if want := "Component [hello] (ref: [" + ref + "]) scaled on host [" + hb.ID() + "] to 3 max concurrent instances\n"; r.out != want {
		t.Fatalf("scale text = %q, want %q", r.out, want)
	}
	r = ok(t, l.args("default", "scale", "component", wasm, "hello")...)
	if !strings.Contains(r.out, "to unbounded concurrency") {
		t.Fatalf("scale default = %q", r.out)
	}

	// Update to another file.
	copyPath := filepath.Join(t.TempDir(), "hello-v2.wasm")
	b, _ := os.ReadFile(wasm)
	if err := os.WriteFile(copyPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r = ok(t, l.args("default", "update", "component", "hello", copyPath)...)
	if !strings.Contains(r.out, "Component [hello] updated to [file://"+copyPath+"]") {
		t.Fatalf("update text = %q", r.out)
	}
	if inv := hb.Inventory(); inv.Components[0].ImageRef != "file://"+copyPath {
		t.Fatalf("ref after update = %q", inv.Components[0].ImageRef)
	}
	r = ok(t, l.args("default", "update", "component", "hello", copyPath)...)
	if !strings.Contains(r.out, "nothing to update") {
		t.Fatalf("second update = %q", r.out)
	}

	// Stop the component everywhere.
	r = ok(t, l.args("default", "stop", "component", "hello")...)
	if r.out != "Component [hello] stopped\n" {
		t.Fatalf("stop text = %q", r.out)
	}
	if inv := hb.Inventory(); len(inv.Components) != 0 {
		t.Fatalf("still running: %+v", inv.Components)
	}

	// Providers: the built-in host refuses unknown builtins; the failure event is reported.
	fails(t, 1, "failed to start", l.args("default", "start", "provider", "wasmcloud+builtin://nope", "prov", "--host-id", hb.ID()[:10])...)
	fails(t, 1, "provider prov is not running", l.args("default", "stop", "provider", "prov")...)

	// Nothing leaked into the other lattice; its host is untouched.
	if n := other.names(); len(n) != 0 {
		t.Fatalf("events in lattice other: %v", n)
	}
	if inv := hx.Inventory(); len(inv.Components) != 0 {
		t.Fatalf("other lattice host runs %+v", inv.Components)
	}

	// Stop a host by id prefix; it reports host_stopped.
	r = ok(t, l.args("default", "stop", "host", ha.ID()[:8])...)
	if !strings.Contains(r.out, "Host "+ha.FriendlyName()+" ("+ha.ID()+") stopped") {
		t.Fatalf("stop host text = %q", r.out)
	}
	select {
	case <-ha.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("host a still running")
	}
}

func TestWorkloadErrors(t *testing.T) {
	wasm := testlattice.Wasip1(t)
	l := newLattice(t)
	l.host(t, "default", map[string]string{"zone": "a"})
	l.host(t, "default", map[string]string{"zone": "a"})
	l.host(t, "other", map[string]string{"zone": "z"})

	// A constraint no host of this lattice satisfies (a host in "other" does; it must not bid).
	fails(t, 1, `no host in lattice "default" matches the constraints zone=z`, l.args("default", "start", "component", wasm, "c1", "-c", "zone=z")...)
	// Unknown and ambiguous --host-id.
	fails(t, 1, `no host matching "NOPE"`, l.args("default", "start", "component", wasm, "c1", "--host-id", "NOPE")...)
	fails(t, 1, "is ambiguous", l.args("default", "start", "component", wasm, "c1", "--host-id", "N")...)
	fails(t, 1, `no host matching "NBADBADBAD"`, l.args("default", "stop", "host", "NBADBADBAD")...)
	// k=v without '=' is a usage error.
	fails(t, 2, `invalid --constraint "zone"`, l.args("default", "start", "component", wasm, "c1", "-c", "zone")...)
	fails(t, 2, `invalid --annotations "x"`, l.args("default", "scale", "component", wasm, "c1", "-a", "x")...)
	// Bad ids, missing files, zero instances.
	fails(t, 2, `invalid component id "a.b"`, l.args("default", "start", "component", wasm, "a.b")...)
	fails(t, 1, "local file ./missing.wasm", l.args("default", "start", "component", "./missing.wasm", "c1")...)
	fails(t, 2, "--max-instances must be at least 1", l.args("default", "start", "component", wasm, "c1", "--max-instances", "0")...)
	fails(t, 2, "accepts 2 arg(s)", l.args("default", "start", "component", wasm)...)
	fails(t, 1, "component ghost is not running", l.args("default", "stop", "component", "ghost")...)
	fails(t, 1, "component ghost is not running", l.args("default", "update", "component", "ghost", wasm)...)
	// A lattice with no hosts says so.
	fails(t, 1, `lattice "empty" has no hosts`, l.args("empty", "start", "component", wasm, "c1", "--host-id", "x")...)
	fails(t, 1, `no hosts in lattice "empty"`, l.args("empty", "start", "component", wasm, "c1")...)
	// Running on two hosts: scale needs --host-id.
	ok(t, l.args("default", "start", "component", wasm, "twice")...)
	ok(t, l.args("default", "start", "component", wasm, "twice")...)
	fails(t, 1, "no host in lattice \"default\" bid for component twice: it already runs on all 2 hosts", l.args("default", "start", "component", wasm, "twice", "--auction-timeout-ms", "300")...)
	fails(t, 1, "runs on 2 hosts", l.args("default", "scale", "component", wasm, "twice", "--max-instances", "2")...)
	r := ok(t, l.args("default", "stop", "component", "twice")...)
	if !strings.Contains(r.out, "stopped on 2 hosts") {
		t.Fatalf("stop on two hosts = %q", r.out)
	}
	// Nothing listens on this port.
	fails(t, 1, "nothing is listening there", "get", "hosts", "-p", "1")
}

func TestSkipWaitReturnsBeforeTheEvent(t *testing.T) {
	wasm := testlattice.Wasip1(t)
	l := newLattice(t)
	h := l.host(t, "default", nil)
	r := ok(t, l.args("default", "start", "component", wasm, "fast", "--skip-wait", "-o", "json")...)
	j := decodeJSON(t, r.out)
	if j["waited"] != false || j["host_id"] != h.ID() {
		t.Fatalf("skip-wait JSON = %v", j)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(h.Inventory().Components) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if len(h.Inventory().Components) != 1 {
		t.Fatal("component never started")
	}
}

func TestResolveRef(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.wasm")
	if err := os.WriteFile(p, []byte("\x00asm"), 0o644); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{p, rel} {
		got, err := placement.ResolveRef(in)
		if err != nil || got != "file://"+p {
			t.Errorf("ResolveRef(%q) = %q, %v; want file://%s", in, got, err, p)
		}
	}
	for _, in := range []string{"ghcr.io/acme/hello:0.1.0", "file:///abs/x.wasm", "wasmcloud+builtin://http-server", "localhost:5000/x:1", "ghcr.io/acme/app.wasm:1"} {
		if got, err := placement.ResolveRef(in); err != nil || got != in {
			t.Errorf("ResolveRef(%q) = %q, %v; want unchanged", in, got, err)
		}
	}
	if _, err := placement.ResolveRef(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	// A bare missing file name is a file, not an OCI reference on Docker Hub.
	if _, err := placement.ResolveRef("missing.wasm"); err == nil || !strings.Contains(err.Error(), "local file missing.wasm") {
		t.Errorf("missing.wasm: %v", err)
	}
}

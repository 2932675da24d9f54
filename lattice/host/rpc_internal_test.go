package host

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/testnats"
	"github.com/wasmlattice/wash/lattice/host/providers"
	"github.com/wasmlattice/wash/runtime/cabi"
)

// Target resolution for routed imports, as upstream's handler does it: the link name chosen
// for the interface with wasmcloud:bus/lattice (else "default"), a link with that name that
// lists the interface; 2.0.x refuses a link name no link has; "default" removes the override.
func TestImportTargetAndLinkNames(t *testing.T) {
	_, nc := testnats.Connected(t)
	ctx := context.Background()
	h, err := New(ctx, nc, Config{Lattice: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop(ctx, time.Second) })

	const iface = "wash:edgecore/backend@0.1.0"
	var le *providers.LinkError
	if _, _, err := h.importTarget("app", iface, "summarize"); !errors.As(err, &le) || !strings.Contains(err.Error(), "link `default` not found for instance `wash:edgecore/backend`") {
		t.Fatalf("no link: %v", err)
	}
	for _, l := range []string{
		`{"source_id":"app","target":"back-a","wit_namespace":"wash","wit_package":"edgecore","interfaces":["backend"]}`,
		`{"source_id":"app","target":"back-b","name":"secret","wit_namespace":"wash","wit_package":"edgecore","interfaces":["backend"]}`,
		`{"source_id":"app","target":"other","name":"elsewhere","wit_namespace":"wash","wit_package":"edgecore","interfaces":["reports"]}`,
	} {
		if r := h.handlePutLink(ctx, []byte(l)); !r.Success {
			t.Fatal(r.Message)
		}
	}
	check := func(wantTarget, wantName string) {
		t.Helper()
		target, name, err := h.importTarget("app", iface, "summarize")
		if err != nil || target != wantTarget || name != wantName {
			t.Fatalf("target %q name %q err %v; want %q %q", target, name, err, wantTarget, wantName)
		}
	}
	check("back-a", "default")

	bus := map[string]map[string]func(context.Context, []cabi.Value) (cabi.Value, error){}
	for _, hi := range h.busInterfaces("app") {
		bus[hi.Name] = map[string]func(context.Context, []cabi.Value) (cabi.Value, error){}
		for n, f := range hi.Funcs {
			bus[hi.Name][n] = f
		}
	}
	v2 := bus["wasmcloud:bus/lattice@2.0.0"]
	ct, _ := v2["[constructor]call-target-interface"](ctx, []cabi.Value{"wash", "edgecore", "backend"})
	setName := func(name string) cabi.Value {
		t.Helper()
		r, err := v2["set-link-name"](ctx, []cabi.Value{name, []cabi.Value{ct}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := setName("secret"); r.(cabi.ResultValue).IsErr {
		t.Fatalf("set secret: %v", r)
	}
	check("back-b", "secret")
	// no link named "elsewhere" lists wash:edgecore/backend: refused, the override stays
	if r := setName("elsewhere").(cabi.ResultValue); !r.IsErr || !strings.Contains(r.Value.(string), "does not have an existing link with name `elsewhere`") {
		t.Fatalf("set elsewhere: %v", r)
	}
	check("back-b", "secret")
	setName("default")
	check("back-a", "default")
	// 1.0.0 sets without checking; the call then finds no such link
	v1 := bus["wasmcloud:bus/lattice@1.0.0"]
	if _, err := v1["set-link-name"](ctx, []cabi.Value{"elsewhere", []cabi.Value{ct}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.importTarget("app", iface, "summarize"); err == nil || !strings.Contains(err.Error(), "failed to find a configured link with name `elsewhere`") {
		t.Fatalf("after 1.0.0 set: %v", err)
	}
	// the imports this host implements itself are never routed
	for _, i := range []string{"wasi:keyvalue/store@0.2.0-draft", "wasmcloud:secrets/store@0.1.0-draft", ""} {
		if f := h.importResolver("app")(i, "get", cabi.NewFuncType(nil, nil)); f != nil {
			t.Errorf("%q would be routed over wRPC", i)
		}
	}
}

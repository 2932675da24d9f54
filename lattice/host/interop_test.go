package host_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/host/providers/providertest"
	"github.com/wasmlattice/wash/wascap"
)

// waitRaw waits for an event and returns its data exactly as published.
func (l *eventLog) waitRaw(t testing.TB, name string, match func(map[string]any) bool) string {
	t.Helper()
	return string(l.next(t, name, match).Data)
}

// signedWasip1 signs the wasip1 test module as `wash claims sign` would.
func signedWasip1(t testing.TB, o wascap.SignOptions) (path string, tok *wascap.Token[wascap.Component]) {
	t.Helper()
	wasm, err := os.ReadFile(buildWasip1(t))
	if err != nil {
		t.Fatal(err)
	}
	return testlattice.SignComponent(t, wasm, o)
}

// TestComponentClaimsOnTheWire pins what a signed component adds to the lattice: CLAIMS_<sub>
// in LATTICEDATA (upstream host/src/wasmbus/claims.rs:18-31,259-287), the claims.get entry
// (claims.rs:161-176), public_key and claims in component_scaled (event.rs:13-70), name and
// revision in the inventory, and public_key in component_scale_failed (event.rs:72-101).
func TestComponentClaimsOnTheWire(t *testing.T) {
	l := newLattice(t, host.Config{})
	nc, evs, h, c := l.nc, l.evs, l.h, l.c
	ctx := context.Background()
	rev := int32(7)
	nbf := time.Unix(1700000000, 0)
	path, tok := signedWasip1(t, wascap.SignOptions{Name: "Hello", Tags: []string{"a", "b"}, Rev: &rev, Ver: "0.2.0", CallAlias: "hi", NotBefore: nbf})
	sub, iss := tok.Claims.Subject, tok.Claims.Issuer
	ref := "file://" + path

	if _, err := c.ScaleComponent(ctx, ctl.ScaleComponentCommand{ComponentRef: ref, ComponentID: "hello", Count: 1, HostID: h.ID()}); err != nil {
		t.Fatal(err)
	}
	got := evs.waitRaw(t, events.ComponentScaled, nil)
	want := `{"annotations":{},"claims":{"call_alias":"hi","expires_human":"never","issuer":"` + iss + `","name":"Hello","not_before_human":"1700000000","revision":7,"tags":["a","b"],"version":"0.2.0"},"component_id":"hello","host_id":"` + h.ID() + `","image_ref":"` + ref + `","max_instances":1,"public_key":"` + sub + `"}`
	if got != want {
		t.Fatalf("component_scaled:\n got %s\nwant %s", got, want)
	}

	stored, err := jsKV(t, nc, "LATTICEDATA_default", "CLAIMS_"+sub)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"call_alias":"hi","issuer":"` + iss + `","name":"Hello","revision":"7","subject":"` + sub + `","tags":["a","b"],"version":"0.2.0"}`; stored != want {
		t.Fatalf("CLAIMS_%s:\n got %s\nwant %s", sub, stored, want)
	}

	wantEntry := `{"call_alias":"hi","iss":"` + iss + `","issuer":"` + iss + `","name":"Hello","rev":"7","revision":"7","sub":"` + sub + `","subject":"` + sub + `","tags":"a,b","version":"0.2.0"}`
	checkClaims := func(who string) {
		t.Helper()
		msg, err := nc.Request("wasmbus.ctl.v1.default.claims.get", nil, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"success":true,"message":"","response":[` + wantEntry + `]}`; string(msg.Data) != want {
			t.Fatalf("claims.get from %s:\n got %s\nwant %s", who, msg.Data, want)
		}
	}
	checkClaims("the host that ran it")

	inv, err := c.GetHostInventory(ctx, h.ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Components) != 1 || inv.Components[0].Name != "Hello" || inv.Components[0].Revision != 7 {
		t.Fatalf("inventory: %+v", inv.Components)
	}

	// A host started later replays CLAIMS_ and answers claims.get alone.
	h.Stop(ctx, time.Second)
	startHost(t, nc, host.Config{Lattice: "default"})
	checkClaims("a later host")
}

// TestSignedComponentScaleFailedNamesKey: component_scale_failed carries public_key, not claims,
// once the component's claims are known (upstream event.rs:72-101).
func TestSignedComponentScaleFailedNamesKey(t *testing.T) {
	l := newLattice(t, host.Config{})
	evs, h, c := l.evs, l.h, l.c
	path, tok := signedWasip1(t, wascap.SignOptions{Name: "x"})
	// The module imports nothing the host lacks, so make instantiation fail with a limit the
	// module cannot meet: a 1-byte memory cap.
	ref := "file://" + path
	if _, err := c.ScaleComponent(context.Background(), ctl.ScaleComponentCommand{ComponentRef: ref, ComponentID: "x", Count: 1, HostID: h.ID(),
		ComponentLimits: map[string]string{"max_memory_limit": "oops"}}); err != nil {
		t.Fatal(err)
	}
	d := evs.waitFor(t, events.ComponentScaleFailed, nil)
	if d["public_key"] != tok.Claims.Subject || d["claims"] != nil {
		t.Fatalf("component_scale_failed = %v, want public_key %s and no claims", d, tok.Claims.Subject)
	}
}

// TestRescaleReplacesAnnotationsAndRef: a rescale that changes the count records the request's
// annotations and reference (upstream host/src/wasmbus/mod.rs:1760-1803) while the event names
// what ran before; a rescale that changes nothing keeps them.
func TestRescaleReplacesAnnotationsAndRef(t *testing.T) {
	l := newLattice(t, host.Config{})
	evs, h, c := l.evs, l.h, l.c
	ctx := context.Background()
	wasm := buildWasip1(t)
	ref := "file://" + wasm
	copyRef := "file://" + filepath.Join(t.TempDir(), "copy.wasm")
	b, _ := os.ReadFile(wasm)
	if err := os.WriteFile(strings.TrimPrefix(copyRef, "file://"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	scale := func(ref string, count uint32, ann map[string]string) map[string]any {
		t.Helper()
		if r, err := c.ScaleComponent(ctx, ctl.ScaleComponentCommand{ComponentRef: ref, ComponentID: "c", Count: count, HostID: h.ID(), Annotations: ann}); err != nil || !r.Success {
			t.Fatalf("scale: %+v %v", r, err)
		}
		return evs.waitFor(t, events.ComponentScaled, nil)
	}
	inventory := func() ctl.ComponentDescription {
		t.Helper()
		inv, err := c.GetHostInventory(ctx, h.ID())
		if err != nil || len(inv.Components) != 1 {
			t.Fatalf("inventory: %+v %v", inv, err)
		}
		return inv.Components[0]
	}
	scale(ref, 1, map[string]string{"wasmcloud.dev/scaler": "old"})
	ev := scale(copyRef, 2, map[string]string{"wasmcloud.dev/scaler": "new"})
	if ev["image_ref"] != ref || ev["annotations"].(map[string]any)["wasmcloud.dev/scaler"] != "old" {
		t.Fatalf("rescale event names %v %v, want what ran before", ev["image_ref"], ev["annotations"])
	}
	if got := inventory(); got.ImageRef != copyRef || got.Annotations["wasmcloud.dev/scaler"] != "new" || got.MaxInstances != 2 {
		t.Fatalf("after rescale: %+v", got)
	}
	scale(ref, 2, map[string]string{"wasmcloud.dev/scaler": "third"})
	if got := inventory(); got.ImageRef != copyRef || got.Annotations["wasmcloud.dev/scaler"] != "new" {
		t.Fatalf("a rescale that changes nothing changed the component: %+v", got)
	}
}

// TestLinkDeleteReachesProvidersEverywhere: the host serving link.del publishes the link to
// both ends' linkdefs.del subjects (upstream host/src/wasmbus/mod.rs:2482-2522), so providers on
// hosts that never see the KV delete (upstream's watch only pushes new links) learn of it.
func TestLinkDeleteReachesProvidersEverywhere(t *testing.T) {
	nc := startNATS(t)
	startHost(t, nc, host.Config{Lattice: "default"})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
	ctx := context.Background()
	dels := make(chan *nats.Msg, 8)
	if _, err := nc.ChanSubscribe("wasmbus.rpc.default.*.linkdefs.del", dels); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutConfig(ctx, "cfg", map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if r, err := c.PutLink(ctx, ctl.Link{SourceID: "comp", Target: "prov", WitNamespace: "wasi", WitPackage: "keyvalue", Interfaces: []string{"store", "atomics"}, TargetConfig: []string{"cfg"}}); err != nil || !r.Success {
		t.Fatalf("link put: %+v %v", r, err)
	}
	if r, err := c.DeleteLink(ctx, ctl.DeleteLinkRequest{SourceID: "comp", WitNamespace: "wasi", WitPackage: "keyvalue"}); err != nil || !r.Success {
		t.Fatalf("link del: %+v %v", r, err)
	}
	want := `{"source_id":"comp","target":"prov","name":"default","wit_namespace":"wasi","wit_package":"keyvalue","interfaces":["store","atomics"],"source_config":{},"target_config":{},"source_secrets":null,"target_secrets":null}`
	var subjects []string
	for range 2 {
		select {
		case m := <-dels:
			subjects = append(subjects, m.Subject)
			if string(m.Data) != want {
				t.Fatalf("%s:\n got %s\nwant %s", m.Subject, m.Data, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("link delete published on %v only", subjects)
		}
	}
	sort.Strings(subjects)
	if strings.Join(subjects, " ") != "wasmbus.rpc.default.comp.linkdefs.del wasmbus.rpc.default.prov.linkdefs.del" {
		t.Fatalf("subjects %v", subjects)
	}
	select {
	case m := <-dels:
		t.Fatalf("extra delete on %s", m.Subject)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestBuiltinProviderStartedImageRef: provider_started names a builtin by its bare name, as the
// inventory does (upstream host/src/wasmbus/mod.rs:2040-2070).
func TestBuiltinProviderStartedImageRef(t *testing.T) {
	l := newLattice(t, host.Config{})
	evs, h, c := l.evs, l.h, l.c
	if _, err := c.StartProvider(context.Background(), ctl.StartProviderCommand{ProviderID: "kv", ProviderRef: "wasmcloud+builtin://keyvalue-inmemory", HostID: h.ID()}); err != nil {
		t.Fatal(err)
	}
	got := evs.waitRaw(t, events.ProviderStarted, nil)
	if want := `{"annotations":{},"host_id":"` + h.ID() + `","image_ref":"keyvalue-inmemory","provider_id":"kv","reports_health":true}`; got != want {
		t.Fatalf("provider_started:\n got %s\nwant %s", got, want)
	}
	// reports_health (wash only) promises this report once the start links were handed over
	evs.waitRaw(t, events.HealthCheckPassed, nil)
}

// TestNativeProviderHostDataAndClaims: a native provider gets the rpc user JWT and seed and the
// log level in HostData (upstream host/src/wasmbus/providers/mod.rs:137-200), and its archive's
// claims reach CLAIMS_<sub>, claims.get and provider_started with epoch dates (event.rs:159-195).
func TestNativeProviderHostDataAndClaims(t *testing.T) {
	nc := startNATS(t)
	evs := watchEvents(t, nc, "default")
	// this server needs no credentials, so the JWT is only carried; the seed must be real
	// because the provider signs the server's nonce with it
	ukp, _ := nkeys.CreateUser()
	seed, _ := ukp.Seed()
	h := startHost(t, nc, host.Config{Lattice: "default", RPCUserJWT: "eyJ0eXAiOi.example.jwt", RPCUserSeed: string(seed), LogLevel: "debug"})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default", Timeout: 5 * time.Second})
	reports := providertest.Reports(t, nc, "p")
	parPath := providertest.TestProviderPAR(t, t.TempDir(), true)
	if r, err := c.StartProvider(context.Background(), ctl.StartProviderCommand{ProviderID: "p", ProviderRef: "file://" + parPath, HostID: h.ID()}); err != nil || !r.Success {
		t.Fatalf("start: %+v %v", r, err)
	}
	started := evs.waitFor(t, events.ProviderStarted, nil)
	claims, _ := started["claims"].(map[string]any)
	if claims["not_before_human"] != "never" && !isDigits(claims["not_before_human"]) || claims["expires_human"] != "never" || claims["name"] != "testprovider" || claims["version"] != "0.1.0" {
		t.Fatalf("provider_started claims = %v", claims)
	}
	var hd map[string]any
	if err := json.Unmarshal(providertest.NextReport(t, reports, "started").HostData, &hd); err != nil {
		t.Fatal(err)
	}
	if hd["lattice_rpc_user_jwt"] != "eyJ0eXAiOi.example.jwt" || hd["lattice_rpc_user_seed"] != string(seed) || hd["log_level"] != "debug" {
		t.Fatalf("host data jwt/seed/log_level = %v %v %v", hd["lattice_rpc_user_jwt"], hd["lattice_rpc_user_seed"], hd["log_level"])
	}
	msg, err := nc.Request("wasmbus.ctl.v1.default.claims.get", nil, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var resp struct {
		Response []map[string]string `json:"response"`
	}
	_ = json.Unmarshal(msg.Data, &resp)
	if len(resp.Response) != 1 || resp.Response[0]["name"] != "testprovider" || resp.Response[0]["config_schema"] != "" ||
		!strings.HasPrefix(resp.Response[0]["sub"], "V") || len(resp.Response[0]) != 9 {
		t.Fatalf("claims.get = %v", resp.Response)
	}
}

func isDigits(v any) bool {
	s, ok := v.(string)
	if !ok || s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

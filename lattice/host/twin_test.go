package host_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host"
)

// An upstream provider image that cannot be fetched (this machine has no route to ghcr.io,
// or the tag does not exist) runs as its built-in twin when the host allows it: the event
// and the log say so and the inventory keeps the requested image, so wadm sees its provider.
// Without permission, or without a twin, the start fails as before.
func TestBuiltinTwinForUpstreamImage(t *testing.T) {
	const ref = "ghcr.io/wasmcloud/keyvalue-redis:0.0.0-wash-test-missing"
	l, log := newLoggedLattice(t, host.Config{BuiltinTwins: true})
	ctx := context.Background()
	l.ok(l.c.StartProvider(ctx, ctl.StartProviderCommand{HostID: l.h.ID(), ProviderID: "kv", ProviderRef: ref}))
	data := l.evs.waitFor(t, events.ProviderStarted, func(m map[string]any) bool { return m["provider_id"] == "kv" })
	if data["image_ref"] != ref || data["builtin_twin"] != "wasmcloud+builtin://keyvalue-redis" {
		t.Fatalf("provider_started: %v", data)
	}
	waitLog(t, log, "running its built-in twin instead", "provider_id=kv", "builtin=wasmcloud+builtin://keyvalue-redis")
	inv, err := l.c.GetHostInventory(ctx, l.h.ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Providers) != 1 || inv.Providers[0].ImageRef != ref {
		t.Fatalf("inventory providers: %+v", inv.Providers)
	}

	// no twin for this name
	l.ok(l.c.StartProvider(ctx, ctl.StartProviderCommand{HostID: l.h.ID(), ProviderID: "odd", ProviderRef: "ghcr.io/wasmcloud/no-such-provider:0.1.0"}))
	l.evs.waitFor(t, events.ProviderStartFailed, func(m map[string]any) bool { return m["provider_id"] == "odd" })

	// twins not allowed
	off := newLattice(t, host.Config{})
	off.ok(off.c.StartProvider(ctx, ctl.StartProviderCommand{HostID: off.h.ID(), ProviderID: "kv", ProviderRef: ref}))
	failed := off.evs.waitFor(t, events.ProviderStartFailed, func(m map[string]any) bool { return m["provider_id"] == "kv" })
	if e, _ := failed["error"].(string); !strings.Contains(e, "keyvalue-redis") {
		t.Fatalf("provider_start_failed: %v", failed)
	}
}

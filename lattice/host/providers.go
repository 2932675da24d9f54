package host

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"sync"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host/providers"
	"github.com/wasmlattice/wash/oci"
)

// provider is a running capability provider.
type provider struct {
	id          string
	ref         string // normalised as the inventory reports it
	name        string
	revision    int32 // claims rev (native providers)
	annotations map[string]string
	// Exactly one of builtin (in process, wasmcloud+builtin://) and native (a provider
	// archive's binary) is set.
	builtin           providers.Builtin
	native            *providers.Native
	stop              func(context.Context)
	providerLinkState          // links sent to a native provider
	configNames       []string // the provider's own config (start request), merged in order

	healthMu sync.Mutex
	linkErrs map[string]string // link key -> why the builtin could not apply it

	identity providerIdentity // native providers: how their secrets are fetched and sealed
}

func (p *provider) describe() ctl.ProviderDescription {
	return ctl.ProviderDescription{ID: p.id, ImageRef: p.ref, Name: p.name, Revision: p.revision, Annotations: maps.Clone(p.annotations)}
}

// normalizeProviderRef strips oci:// and http(s):// prefixes, turns file:// URLs into paths and
// builtins into their bare name, as the inventory of a 1.9.2 host shows them.
func normalizeProviderRef(ref string) string {
	rr, err := oci.ParseResourceRef(ref)
	switch {
	case err != nil:
	case rr.Kind == oci.RefBuiltin:
		return rr.Builtin
	case rr.Kind == oci.RefFile:
		return filepath.Clean(rr.Path)
	}
	for _, p := range []string{"oci://", "https://", "http://"} {
		ref = strings.TrimPrefix(ref, p)
	}
	return ref
}

func (h *Host) handleStartProvider(data []byte) (ctl.Response, bool) {
	var cmd ctl.StartProviderCommand
	if err := decode(data, &cmd); err != nil || trimmed(cmd.ProviderID) == "" {
		return ctl.Fail("failed to deserialize provider start command"), true
	}
	h.mu.RLock()
	_, running := h.providers[cmd.ProviderID]
	h.mu.RUnlock()
	if running {
		return ctl.Fail("provider with that ID is already running"), true
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.startProvider(context.Background(), cmd)
	}()
	return ctl.Success("successfully started provider"), true
}

func (h *Host) providerStartFailed(cmd ctl.StartProviderCommand, err error) {
	h.log.Warn("provider start failed", "provider_id", cmd.ProviderID, "ref", cmd.ProviderRef, "err", err)
	h.publish(events.ProviderStartFailed, events.ProviderStartFailedData{
		ProviderRef: cmd.ProviderRef, ProviderID: cmd.ProviderID, HostID: h.id, Error: err.Error(), LinkName: "default",
	})
}

// startProvider starts a built-in provider in-process, or fetches a provider archive (file or
// OCI) and runs its native binary for this platform.
func (h *Host) startProvider(ctx context.Context, cmd ctl.StartProviderCommand) {
	unlock := h.idLocks.lock("provider:" + cmd.ProviderID)
	defer unlock()
	rr, err := oci.ParseResourceRef(cmd.ProviderRef)
	if err != nil {
		h.providerStartFailed(cmd, fmt.Errorf("failed to fetch provider %s: %w", cmd.ProviderRef, err))
		return
	}
	switch rr.Kind {
	case oci.RefBuiltin:
		h.startBuiltin(ctx, cmd, rr.Builtin)
	default:
		err := h.startNativeProvider(ctx, cmd)
		var fe *fetchError
		if errors.As(err, &fe) && h.cfg.BuiltinTwins {
			if twin, ok := providers.BuiltinTwin(cmd.ProviderRef); ok {
				h.log.Warn("provider image cannot be fetched; running its built-in twin instead (wash up --builtin-twins=false turns this off)",
					"provider_id", cmd.ProviderID, "ref", cmd.ProviderRef, "builtin", "wasmcloud+builtin://"+twin, "err", fe.err)
				h.startBuiltin(ctx, cmd, twin)
				return
			}
		}
		if err != nil {
			h.providerStartFailed(cmd, err)
		}
	}
}

// fetchError marks a provider archive that could not be fetched (as opposed to one that was
// fetched and is unusable): only then may a built-in twin stand in.
type fetchError struct{ err error }

func (e *fetchError) Error() string { return e.err.Error() }
func (e *fetchError) Unwrap() error { return e.err }

func (h *Host) handleStopProvider(ctx context.Context, data []byte) ctl.Response {
	var cmd ctl.StopProviderCommand
	if err := decode(data, &cmd); err != nil {
		return ctl.Fail("failed to deserialize provider stop command")
	}
	unlock := h.idLocks.lock("provider:" + cmd.ProviderID)
	defer unlock()
	h.mu.Lock()
	p, ok := h.providers[cmd.ProviderID]
	delete(h.providers, cmd.ProviderID)
	h.mu.Unlock()
	if !ok {
		return ctl.Fail("provider with that ID is not running")
	}
	h.unserve(cmd.ProviderID)
	if p.stop != nil {
		p.stop(ctx)
	}
	h.publish(events.ProviderStopped, events.ProviderStoppedData{
		HostID: h.id, ProviderID: p.id, Annotations: nonNil(maps.Clone(p.annotations)), Reason: "stop",
		InstanceID: p.id, PublicKey: p.id, LinkName: "default",
	})
	return ctl.Success("successfully stopped provider")
}

func (h *Host) stopAllProviders(ctx context.Context) {
	h.mu.Lock()
	provs := h.providers
	h.providers = map[string]*provider{}
	h.mu.Unlock()
	for _, p := range provs {
		if p.stop != nil {
			p.stop(ctx)
		}
	}
}

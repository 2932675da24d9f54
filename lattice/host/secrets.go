package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host/providers"
	"github.com/wasmlattice/wash/lattice/secrets"
	"github.com/wasmlattice/wash/runtime"
	"github.com/wasmlattice/wash/runtime/cabi"
	"github.com/wasmlattice/wash/wascap"
)

// appSpecAnnotation names the application a workload belongs to; it goes to secrets backends.
const appSpecAnnotation = "wasmcloud.dev/appspec"

// Interface names of wasmcloud:secrets as components import them (upstream
// crates/secrets-types/wit/secrets.wit, package wasmcloud:secrets@0.1.0-draft).
const (
	SecretsStore  = "wasmcloud:secrets/store@0.1.0-draft"
	SecretsReveal = "wasmcloud:secrets/reveal@0.1.0-draft"
)

// splitSecretNames separates secret references (SECRET_…) from plain config names.
func splitSecretNames(names []string) (config, refs []string) {
	for _, n := range names {
		if secrets.IsReference(n) {
			refs = append(refs, n)
		} else {
			config = append(config, n)
		}
	}
	return config, refs
}

// hostToken is the host's self-issued JWT, sent with every secret request.
func (h *Host) hostToken() (string, error) {
	h.secretsOnce.Do(func() {
		tok, err := wascap.SelfSignedHostToken(h.id, h.name)
		if err != nil {
			h.hostJWTErr = err
			return
		}
		h.hostJWT = tok.JWT
		h.secretsClient = secrets.NewClient(h.nc, h.cfg.SecretsTopic)
	})
	return h.hostJWT, h.hostJWTErr
}

// fetchSecrets resolves the secret references among names for an entity (its signed JWT) of an
// application (the wasmcloud.dev/appspec annotation), by the secret names components and
// providers look them up with (upstream crates/host/src/secrets.rs:91-186). Any failure fails
// the whole start: a missing secret is a critical error.
func (h *Host) fetchSecrets(ctx context.Context, names []string, entityJWT string, annotations map[string]string) (map[string]secrets.Value, error) {
	_, refs := splitSecretNames(names)
	if len(refs) == 0 {
		return nil, nil
	}
	fail := func(err error) (map[string]secrets.Value, error) {
		return nil, fmt.Errorf("Unable to fetch requested secrets: %w", err)
	}
	if h.cfg.SecretsTopic == "" {
		return fail(errors.New("secret store not configured, could not fetch secrets (start the host with --secrets-topic, e.g. wash up --secrets-nats-kv)"))
	}
	if entityJWT == "" {
		return fail(errors.New("entity did not have an embedded JWT, required to fetch secrets (was this entity signed during build?)"))
	}
	hostJWT, err := h.hostToken()
	if err != nil {
		return fail(err)
	}
	var app *string
	if a, ok := annotations[appSpecAnnotation]; ok {
		app = &a
	}
	out := map[string]secrets.Value{}
	for _, name := range refs {
		e, err := h.configData.Get(ctx, name)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return fail(fmt.Errorf("Secret config %s not found in config store, could not create secret request", name))
		}
		if err != nil {
			return fail(err)
		}
		var m map[string]string
		if json.Unmarshal(e.Value(), &m) != nil {
			return fail(fmt.Errorf("failed to deserialize secret reference from config store, ensure %s is a secret reference and not configuration", name))
		}
		ref, err := secrets.ParseReference(m)
		if err != nil {
			return fail(fmt.Errorf("failed to deserialize secret reference from config store, ensure %s is a secret reference and not configuration: %w", name, err))
		}
		req, err := ref.RequestFor(entityJWT, hostJWT, app)
		if err != nil {
			return fail(err)
		}
		sec, err := h.secretsClient.Get(ctx, ref.Backend, req)
		if err != nil {
			return fail(fmt.Errorf("secret %s (%s from backend %s): %w", ref.Name, ref.Key, ref.Backend, err))
		}
		v, err := sec.Value()
		if err != nil {
			return fail(fmt.Errorf("secret %s did not contain a value", ref.Name))
		}
		out[ref.Name] = v
	}
	return out, nil
}

// providerSecretValues is the HostData form of secrets: {"kind":"String"|"Bytes","value":…}.
func providerSecretValues(in map[string]secrets.Value) map[string]providers.SecretValue {
	out := make(map[string]providers.SecretValue, len(in))
	for k, v := range in {
		if v.String != nil {
			out[k] = providers.SecretValue{Kind: "String", Value: *v.String}
		} else {
			out[k] = providers.SecretValue{Kind: "Bytes", Value: providers.ByteArray(v.Bytes)}
		}
	}
	return out
}

// providerIdentity is what secrets for a native provider are fetched and sealed with.
type providerIdentity struct {
	xkeyPublic  string // the provider's xkey: link secrets are sealed to it
	jwt         string // the provider archive's claims
	annotations map[string]string
}

// sealLinkSecrets fetches a link's source and target secrets for a provider and seals each map
// with the host's xkey to the provider's (upstream host/src/wasmbus/mod.rs:2593-2676). An empty
// side stays null, so a provider can tell "none" from an encrypted empty map.
func (h *Host) sealLinkSecrets(ctx context.Context, l ctl.Link, p providerIdentity) (src, tgt providers.ByteArray, err error) {
	seal := func(names []string) (providers.ByteArray, error) {
		vals, err := h.fetchSecrets(ctx, names, p.jwt, p.annotations)
		if err != nil || len(vals) == 0 {
			return nil, err
		}
		b, err := json.Marshal(providerSecretValues(vals))
		if err != nil {
			return nil, err
		}
		if _, err := h.hostXKey(); err != nil {
			return nil, err
		}
		sealed, err := h.xkey.Seal(b, p.xkeyPublic)
		if err != nil {
			return nil, fmt.Errorf("failed to serialize and encrypt secrets: %w", err)
		}
		return sealed, nil
	}
	if src, err = seal(l.SourceConfig); err != nil {
		return nil, nil, err
	}
	if tgt, err = seal(l.TargetConfig); err != nil {
		return nil, nil, err
	}
	return src, tgt, nil
}

// componentSecrets fetches a component's secrets with its embedded claims.
func (h *Host) componentSecrets(ctx context.Context, c *component, config []string, annotations map[string]string) (map[string]secrets.Value, error) {
	jwt := ""
	if c.claims != nil {
		jwt = c.claims.JWT
	}
	return h.fetchSecrets(ctx, config, jwt, annotations)
}

// The wasmcloud:secrets types the host functions are declared with (checked at link). The
// case WIT writes %string is named string in the component.
var (
	secretsTypes = cabi.MustScope(nil, SecretsStore, `
		variant secrets-error { upstream(string), io(string), not-found }
		variant secret-value { string(string), bytes(list<u8>) }
		resource secret
	`)
	secretsStoreSigs = cabi.Signatures(secretsTypes, map[string]string{
		"get": "func(key: string) -> result<secret, secrets-error>",
	})
	secretsRevealSigs = cabi.Signatures(secretsTypes, map[string]string{
		"reveal": "func(s: borrow<secret>) -> secret-value",
	})
	secretsNotFound   = secretsTypes.Case("secrets-error", "not-found")
	secretValueString = secretsTypes.Case("secret-value", "string")
	secretValueBytes  = secretsTypes.Case("secret-value", "bytes")
)

// secretHandle is a component's wasmcloud:secrets/store.secret resource: a name, revealed from
// the component's secrets at reveal time.
type secretHandle struct{ name string }

// secretsInterfaces serve wasmcloud:secrets to a component: store.get hands out a handle for a
// secret the component was started with (its SECRET_ config), reveal.reveal its value
// (upstream host/src/wasmbus/handler.rs:360-390).
func (h *Host) secretsInterfaces(componentID string) []*runtime.HostInterface {
	lookup := func(name string) (secrets.Value, bool) {
		h.mu.RLock()
		defer h.mu.RUnlock()
		c := h.components[componentID]
		if c == nil {
			return secrets.Value{}, false
		}
		v, ok := c.secrets[name]
		return v, ok
	}
	store := cabi.Typed(SecretsStore, secretsStoreSigs, map[string]runtime.HostFunc{
		"get": cabi.Fn1(func(_ context.Context, name string) (cabi.Value, error) {
			if _, ok := lookup(name); !ok {
				return cabi.Err(cabi.VariantValue{Case: secretsNotFound}), nil
			}
			return cabi.Ok(&secretHandle{name: name}), nil
		}),
	})
	reveal := cabi.Typed(SecretsReveal, secretsRevealSigs, map[string]runtime.HostFunc{
		"reveal": cabi.Fn1(func(_ context.Context, hd *secretHandle) (cabi.Value, error) {
			v, ok := lookup(hd.name)
			if !ok {
				// the secret went away with a rescale to other config
				return nil, fmt.Errorf("%s#reveal: secret %q is no longer available to component %s", SecretsReveal, hd.name, componentID)
			}
			if v.String != nil {
				return cabi.VariantValue{Case: secretValueString, Value: *v.String}, nil
			}
			return cabi.VariantValue{Case: secretValueBytes, Value: v.Bytes}, nil
		}),
	})
	return []*runtime.HostInterface{store, reveal}
}

// withoutSecrets returns names minus secret references, for config merges.
func withoutSecrets(names []string) []string {
	config, _ := splitSecretNames(names)
	return config
}

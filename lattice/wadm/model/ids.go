package model

import "strings"

// Annotation keys wadm puts on what it starts (reference §4.6).
const (
	ManagedByAnnotation  = "wasmcloud.dev/managed-by"
	ManagedByWadm        = "wadm"
	AppSpecAnnotation    = "wasmcloud.dev/appspec"
	ScalerAnnotation     = "wasmcloud.dev/scaler"
	SpreadNameAnnotation = "wasmcloud.dev/spread_name"
	DefaultSpreadName    = "default"
	SecretConfigPrefix   = "SECRET_"
	SecretConfigType     = "secret.wasmcloud.dev/v1alpha1"
	SecretPolicyPropType = "properties.secret.wasmcloud.dev/v1alpha1"
)

// Sanitize lowercases s and replaces every character outside [a-z0-9] by _.
func Sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// ComponentID computes a component or provider id: the explicit id, else
// Sanitize(app)-Sanitize(name).
func ComponentID(app string, explicitID *string, name string) string {
	if explicitID != nil {
		return *explicitID
	}
	return Sanitize(app) + "-" + Sanitize(name)
}

// ResolvedComponentID is ComponentID for a manifest component, following a
// shared reference to the shared application's component.
func ResolvedComponentID(app string, c *Component) string {
	if c.Properties.ID == nil && c.Properties.Image == nil && c.Properties.Application != nil {
		return ComponentID(c.Properties.Application.Name, nil, c.Properties.Application.Component)
	}
	return ComponentID(app, c.Properties.ID, c.Name)
}

// ConfigName returns the name a config gets: generated when wadm owns it
// (it has properties), else verbatim.
func ConfigName(app string, c *ConfigProperty) string {
	if c.HasProperties() {
		return Sanitize(app) + "-" + Sanitize(c.Name)
	}
	return c.Name
}

// SecretConfigName returns SECRET_<Sanitize(app)>-<Sanitize(secret)>.
func SecretConfigName(app, secret string) string {
	return SecretConfigPrefix + Sanitize(app) + "-" + Sanitize(secret)
}

// ConfigNames lists config names for configs then secrets, as handed to a
// component, provider or link end.
func ConfigNames(app string, configs []ConfigProperty, secrets []SecretProperty) []string {
	out := make([]string, 0, len(configs)+len(secrets))
	for i := range configs {
		out = append(out, ConfigName(app, &configs[i]))
	}
	for _, s := range secrets {
		out = append(out, SecretConfigName(app, s.Name))
	}
	return out
}

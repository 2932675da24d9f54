package providers

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
)

// HostData is what a native provider reads from stdin at start (reference §6.4), with the keys
// in the order the Rust host serialises them.
type HostData struct {
	HostID                 string                    `json:"host_id"`
	LatticeRPCPrefix       string                    `json:"lattice_rpc_prefix"`
	LinkName               string                    `json:"link_name"`
	LatticeRPCUserJWT      string                    `json:"lattice_rpc_user_jwt"`
	LatticeRPCUserSeed     string                    `json:"lattice_rpc_user_seed"`
	LatticeRPCURL          string                    `json:"lattice_rpc_url"`
	ProviderKey            string                    `json:"provider_key"`
	EnvValues              map[string]string         `json:"env_values"`
	InstanceID             string                    `json:"instance_id"`
	LinkDefinitions        []InterfaceLinkDefinition `json:"link_definitions"`
	ClusterIssuers         []string                  `json:"cluster_issuers"`
	Config                 map[string]string         `json:"config"`
	Secrets                map[string]SecretValue    `json:"secrets"`
	HostXKeyPublicKey      string                    `json:"host_xkey_public_key"`
	ProviderXKeyPrivateKey string                    `json:"provider_xkey_private_key"`
	DefaultRPCTimeoutMS    *uint64                   `json:"default_rpc_timeout_ms,omitempty"`
	StructuredLogging      bool                      `json:"structured_logging"`
	LogLevel               *string                   `json:"log_level,omitempty"`
	OtelConfig             OtelConfig                `json:"otel_config"`
}

// SecretValue is a plaintext secret in HostData.
type SecretValue struct {
	Kind  string `json:"kind"` // "String" or "Bytes"
	Value any    `json:"value"`
}

// OtelConfig is HostData's otel_config: the host's own OpenTelemetry settings, so a native
// provider exports to the same place. Optional keys are left out when unset, as upstream does.
type OtelConfig struct {
	EnableObservability bool     `json:"enable_observability"`
	EnableTraces        *bool    `json:"enable_traces,omitempty"`
	EnableMetrics       *bool    `json:"enable_metrics,omitempty"`
	EnableLogs          *bool    `json:"enable_logs,omitempty"`
	ObservabilityURL    string   `json:"observability_endpoint,omitempty"`
	TracesURL           string   `json:"traces_endpoint,omitempty"`
	MetricsURL          string   `json:"metrics_endpoint,omitempty"`
	LogsURL             string   `json:"logs_endpoint,omitempty"`
	Protocol            string   `json:"protocol"`
	AdditionalCAPaths   []string `json:"additional_ca_paths"`
	TraceLevel          string   `json:"trace_level"`
}

// normalized fills the required-but-empty fields so the SDK's decoder accepts the value.
func (d HostData) normalized() HostData {
	d.LinkName = cmp.Or(d.LinkName, "default")
	d.EnvValues = nonNilMap(d.EnvValues)
	d.LinkDefinitions = nonNilSlice(d.LinkDefinitions)
	for i, l := range d.LinkDefinitions {
		d.LinkDefinitions[i] = l.Normalized()
	}
	d.ClusterIssuers = nonNilSlice(d.ClusterIssuers)
	d.Config = nonNilMap(d.Config)
	d.Secrets = nonNilMap(d.Secrets)
	d.OtelConfig.Protocol = cmp.Or(d.OtelConfig.Protocol, "Http")
	d.OtelConfig.AdditionalCAPaths = nonNilSlice(d.OtelConfig.AdditionalCAPaths)
	d.OtelConfig.TraceLevel = cmp.Or(d.OtelConfig.TraceLevel, "info")
	return d
}

// StdinLine is the exact bytes written to a provider's stdin: base64 (standard alphabet) of
// the JSON, then "\r\n".
func (d HostData) StdinLine() ([]byte, error) {
	b, err := json.Marshal(d.normalized())
	if err != nil {
		return nil, err
	}
	out := make([]byte, base64.StdEncoding.EncodedLen(len(b)), base64.StdEncoding.EncodedLen(len(b))+2)
	base64.StdEncoding.Encode(out, b)
	return append(out, '\r', '\n'), nil
}

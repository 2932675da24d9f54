package wadm

import (
	"github.com/wasmlattice/wash/lattice/wadm/model"

	"encoding/json"
	"fmt"
)

// Command is a desired change the reconciler turns into a control-interface
// request. On wadm.cmd.<lattice> commands are JSON externally tagged by
// variant name (see MarshalCommand).
type Command interface {
	// CommandName is the variant name used as the JSON tag.
	CommandName() string
}

// ScaleComponent sets the max instances of a component on a host (count 0
// stops it). Annotations exclude the managed ones; see WithManagedAnnotations.
type ScaleComponent struct {
	ComponentID string            `json:"component_id"`
	HostID      string            `json:"host_id"`
	Count       int               `json:"count"`
	Reference   string            `json:"reference"`
	ModelName   string            `json:"model_name"`
	Annotations map[string]string `json:"annotations"`
	Config      []string          `json:"config,omitempty"`
}

// StartProvider starts a provider on a host.
type StartProvider struct {
	Reference   string            `json:"reference"`
	ProviderID  string            `json:"provider_id"`
	HostID      string            `json:"host_id"`
	ModelName   string            `json:"model_name"`
	Config      []string          `json:"config"`
	Annotations map[string]string `json:"annotations"`
}

// StopProvider stops a provider on a host.
type StopProvider struct {
	ProviderID  string            `json:"provider_id"`
	HostID      string            `json:"host_id"`
	ModelName   string            `json:"model_name"`
	Annotations map[string]string `json:"annotations"`
}

// PutLink creates or replaces a link.
type PutLink struct {
	SourceID     string   `json:"source_id"`
	Target       string   `json:"target"`
	Name         string   `json:"name"`
	WitNamespace string   `json:"wit_namespace"`
	WitPackage   string   `json:"wit_package"`
	Interfaces   []string `json:"interfaces"`
	SourceConfig []string `json:"source_config"`
	TargetConfig []string `json:"target_config"`
	ModelName    string   `json:"model_name"`
}

// DeleteLink removes a link.
type DeleteLink struct {
	SourceID     string `json:"source_id"`
	WitNamespace string `json:"wit_namespace"`
	WitPackage   string `json:"wit_package"`
	LinkName     string `json:"link_name"`
	ModelName    string `json:"model_name"`
}

// PutConfig writes a named config.
type PutConfig struct {
	ConfigName string            `json:"config_name"`
	Config     map[string]string `json:"config"`
}

// DeleteConfig deletes a named config.
type DeleteConfig struct {
	ConfigName string `json:"config_name"`
}

func (ScaleComponent) CommandName() string { return "ScaleComponent" }
func (StartProvider) CommandName() string  { return "StartProvider" }
func (StopProvider) CommandName() string   { return "StopProvider" }
func (PutLink) CommandName() string        { return "PutLink" }
func (DeleteLink) CommandName() string     { return "DeleteLink" }
func (PutConfig) CommandName() string      { return "PutConfig" }
func (DeleteConfig) CommandName() string   { return "DeleteConfig" }

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// MarshalCommand encodes {"<Variant>":{…}}.
func MarshalCommand(c Command) ([]byte, error) {
	var body any
	switch v := c.(type) {
	case ScaleComponent:
		v.Annotations = nonNilMap(v.Annotations)
		body = v
	case StartProvider:
		v.Annotations, v.Config = nonNilMap(v.Annotations), nonNilSlice(v.Config)
		body = v
	case StopProvider:
		v.Annotations = nonNilMap(v.Annotations)
		body = v
	case PutLink:
		v.Interfaces, v.SourceConfig, v.TargetConfig = nonNilSlice(v.Interfaces), nonNilSlice(v.SourceConfig), nonNilSlice(v.TargetConfig)
		body = v
	case PutConfig:
		v.Config = nonNilMap(v.Config)
		body = v
	case DeleteLink, DeleteConfig:
		body = v
	default:
		return nil, fmt.Errorf("unknown command type %T", c)
	}
	return model.Marshal(map[string]any{c.CommandName(): body})
}

// commandDecoders maps each variant name of the wire form to its decoder.
var commandDecoders = map[string]func([]byte) (Command, error){
	"ScaleComponent": decodeCommand[ScaleComponent],
	"StartProvider":  decodeCommand[StartProvider],
	"StopProvider":   decodeCommand[StopProvider],
	"PutLink":        decodeCommand[PutLink],
	"DeleteLink":     decodeCommand[DeleteLink],
	"PutConfig":      decodeCommand[PutConfig],
	"DeleteConfig":   decodeCommand[DeleteConfig],
}

func decodeCommand[T Command](body []byte) (Command, error) {
	var v T
	err := json.Unmarshal(body, &v)
	return v, err
}

// UnmarshalCommand decodes an externally tagged command.
func UnmarshalCommand(data []byte) (Command, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("decode command: %w", err)
	}
	if len(raw) != 1 {
		return nil, fmt.Errorf("decode command: want exactly one variant key, got %d", len(raw))
	}
	for name, body := range raw {
		decode, ok := commandDecoders[name]
		if !ok {
			return nil, fmt.Errorf("decode command: unknown variant %q", name)
		}
		c, err := decode(body)
		if err != nil {
			return nil, fmt.Errorf("decode %s command: %w", name, err)
		}
		return c, nil
	}
	return nil, fmt.Errorf("decode command: empty object")
}

func deref(c Command) Command {
	switch v := c.(type) {
	case *ScaleComponent:
		return *v
	case *StartProvider:
		return *v
	case *StopProvider:
		return *v
	case *PutLink:
		return *v
	case *DeleteLink:
		return *v
	case *PutConfig:
		return *v
	case *DeleteConfig:
		return *v
	}
	return c
}

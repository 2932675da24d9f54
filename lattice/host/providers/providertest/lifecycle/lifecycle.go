// Package lifecycle is the report the test provider (testdata/testprovider) publishes on
// testprovider.<provider key> at each step of its life, shared by the provider that writes it
// and the tests that read it.
package lifecycle

import "encoding/json"

// Report is one step: started, link_put, link_del, config_update or shutdown.
type Report struct {
	Event      string            `json:"event"`
	InstanceID string            `json:"instance_id"`
	PID        int               `json:"pid"`
	Env        []string          `json:"env,omitempty"`
	Links      int               `json:"links,omitempty"`
	Config     map[string]string `json:"config,omitempty"`
	Link       json.RawMessage   `json:"link,omitempty"`
	HostData   json.RawMessage   `json:"host_data,omitempty"`
}

package events

import (
	"encoding/json"
	"testing"
)

// FuzzParse feeds bytes from the network to the CloudEvent decoder and to the event data
// types wadm and the CLI decode.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"specversion":"1.0","id":"x","source":"N","type":"com.wasmcloud.lattice.host_heartbeat","time":"2024-01-01T00:00:00Z","datacontenttype":"application/json","data":{"components":[],"providers":[]}}`))
	f.Add([]byte(`{"type":"com.wasmcloud.lattice.health_check_failed","data":{"host_id":"N","provider_id":"p"}}`))
	f.Add([]byte(`{"type":"x","time":"not a time"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := Parse(b)
		if err != nil {
			return
		}
		_ = ev.Name()
		_ = ev.ParsedTime()
		for _, v := range []any{&HostStartedData{}, &ComponentScaledData{}, &ProviderStartedData{},
			&ProviderStoppedData{}, &ProviderStartFailedData{}, &HealthCheckData{}, &LinkdefDeletedData{},
			&ConfigData{}, &LabelsChangedData{}, &HostStoppedData{}} {
			_ = json.Unmarshal(ev.Data, v)
		}
	})
}

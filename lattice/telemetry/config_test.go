package telemetry_test

import (
	"testing"

	"github.com/wasmlattice/wash/lattice/telemetry"
)

func TestConfigEndpointsAndSwitches(t *testing.T) {
	off, on := false, true
	c := telemetry.Config{EnableObservability: true, EnableLogs: &off}
	if !c.TracesEnabled() || !c.MetricsEnabled() || c.LogsEnabled() {
		t.Fatalf("switches: %v %v %v", c.TracesEnabled(), c.MetricsEnabled(), c.LogsEnabled())
	}
	if c.TracesURL() != "http://127.0.0.1:4318/v1/traces" || c.LogsURL() != "http://127.0.0.1:4318/v1/logs" {
		t.Fatalf("default URLs %s %s", c.TracesURL(), c.LogsURL())
	}
	c = telemetry.Config{EnableMetrics: &on, Endpoint: "http://collector:4318/", MetricsEndpoint: "http://m:9/x"}
	if c.TracesEnabled() || !c.MetricsEnabled() || c.TracesURL() != "http://collector:4318/v1/traces" || c.MetricsURL() != "http://m:9/x" {
		t.Fatalf("overrides: %+v %s %s", c, c.TracesURL(), c.MetricsURL())
	}
	c = telemetry.Config{Protocol: "grpc"}
	if c.TracesURL() != "http://127.0.0.1:4317" {
		t.Fatalf("grpc URL %s", c.TracesURL())
	}
	for _, bad := range []telemetry.Config{{Protocol: "udp"}, {Endpoint: "collector:4318"}} {
		if bad.Validate() == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	if tel, err := telemetry.Setup(t.Context(), telemetry.Config{}, "x", "y"); err != nil || tel.Tracing() || tel.Metering() || tel.LogHandler() != nil {
		t.Fatalf("disabled setup: %v", err)
	}
}

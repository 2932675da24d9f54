package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/internal/testmanifest"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/oci"
	"github.com/wasmlattice/wash/oci/ocitest"
)

// TestUpScaleFromRegistry: `wash up -d` with --allowed-insecure and start-up registry
// credentials places a component scaled by its registry reference; the pull lands in
// $WASH_HOME/oci-cache.
func TestUpScaleFromRegistry(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{Username: "wash", Password: "s3cret"})
	data, err := os.ReadFile(testlattice.Wasip1(t))
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.Host + "/hello:0.1.0"
	pc, _ := oci.New(oci.Options{Insecure: true, DisableEnv: true, DisableDockerConfig: true,
		Credentials: map[string]oci.Credential{"*": {Username: "wash", Password: "s3cret"}}})
	// wash push refuses core modules (upstream rule); push the module under the component
	// layout, as other tools do.
	if _, err := pc.Push(context.Background(), ref, oci.PushRequest{Data: data, Kind: oci.KindComponent}); err != nil {
		t.Fatal(err)
	}

	e := newEnv(t)
	bad := e.run("up", "-d", "--nats-port", e.portArg(), "--oci-registry", reg.Host)
	if bad.code == 0 || !strings.Contains(bad.stderr, "set all three or none") {
		t.Fatalf("--oci-registry alone should be refused:\n%s", bad)
	}
	e.must("up", "-d", "--nats-port", e.portArg(), "--allowed-insecure", reg.Host,
		"--oci-registry", reg.Host, "--oci-user", "wash", "--oci-password", "s3cret")
	defer e.run("down", "--all")

	nc := e.natsConn(t)
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default", Timeout: 5 * time.Second})
	hosts, err := c.PingHosts(context.Background(), ctl.GatherOptions{})
	if err != nil || len(hosts) != 1 {
		t.Fatalf("hosts: %v %v", hosts, err)
	}
	if _, err := c.ScaleComponent(context.Background(), ctl.ScaleComponentCommand{ComponentRef: ref, ComponentID: "hello", Count: 2, HostID: hosts[0].ID}); err != nil {
		t.Fatal(err)
	}
	inv := e.waitOneComponent(t, func() string {
		logs, _ := filepath.Glob(filepath.Join(e.home, "logs", "*"))
		var text string
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			text += string(b)
		}
		return "\nlogs:\n" + text
	})
	if got := inv[0].Components[0]; got.ImageRef != ref || got.MaxInstances != 2 {
		t.Errorf("component = %+v", got)
	}
	blobs, _ := filepath.Glob(filepath.Join(e.home, "oci-cache", "blobs", "sha256", "*"))
	if len(blobs) != 2 {
		t.Errorf("oci-cache holds %v, want the manifest and the layer", blobs)
	}
	e.must("down", "--all")
}

// TestAppDeployFromRegistry: `wash app deploy` of a manifest whose image is
// 127.0.0.1:PORT/hello:0.1.0 places the component (wadm in `wash up`, host pulls it).
func TestAppDeployFromRegistry(t *testing.T) {
	data, err := os.ReadFile("../examples/hello-http/hello.component.wasm")
	if err != nil {
		t.Skipf("component fixture missing: %v", err)
	}
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	ref := reg.Host + "/hello:0.1.0"
	pc, _ := oci.New(oci.Options{Insecure: true, DisableEnv: true, DisableDockerConfig: true})
	if _, err := pc.Push(context.Background(), ref, oci.PushRequest{Data: data}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.must("up", "-d", "--nats-port", e.portArg(), "--allowed-insecure", reg.Host, "--heartbeat-interval", "250ms")
	defer e.run("down", "--all")
	mpath := writeManifest(t, testmanifest.App{Name: "hello-oci", Description: "component from a loopback registry",
		Components: []testmanifest.Component{{Name: "hello", Image: ref, Scaler: &testmanifest.Scaler{Instances: 3}}},
	}.YAML())
	e.must("app", "deploy", mpath, "-p", e.portArg(), "--timeout", "20s")
	inv := e.waitOneComponent(t, func() string { return "" })
	if got := inv[0].Components[0]; got.ImageRef != ref || got.MaxInstances != 3 {
		t.Errorf("component = %+v", got)
	}
}

// waitOneComponent polls `wash get inventory` until one host runs one component and returns the
// inventories; failing, it shows the last one and what more adds.
func (e *env) waitOneComponent(t *testing.T, more func() string) []ctl.HostInventory {
	t.Helper()
	var inv struct {
		Inventories []ctl.HostInventory `json:"inventories"`
	}
	if !poll(20*time.Second, 100*time.Millisecond, func() bool {
		decodeJSON(t, e.must("get", "inventory", "-p", e.portArg(), "-o", "json").stdout, &inv)
		return len(inv.Inventories) == 1 && len(inv.Inventories[0].Components) == 1
	}) {
		t.Fatalf("component not placed: %+v%s", inv, more())
	}
	return inv.Inventories
}

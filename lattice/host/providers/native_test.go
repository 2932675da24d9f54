package providers

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nkeys"

	"github.com/wasmlattice/wash/internal/testnats"
	"github.com/wasmlattice/wash/lattice/host/providers/providertest"
	"github.com/wasmlattice/wash/oci/par"
)

func TestNativeProviderLifecycle(t *testing.T) {
	srv, nc := testnats.Connected(t)

	dir := t.TempDir()
	data, err := os.ReadFile(providertest.TestProviderPAR(t, dir, true))
	if err != nil {
		t.Fatal(err)
	}
	bin, _, err := par.ExtractNative(data, filepath.Join(dir, "bin", "testprovider"))
	if err != nil {
		t.Fatal(err)
	}

	const pid = "testprov"
	reports := providertest.Reports(t, nc, pid)
	health := make(chan string, 16)
	xk, _ := nkeys.CreateCurveKeys()
	xpub, _ := xk.PublicKey()
	xseed, _ := xk.Seed()
	hostKey, _ := nkeys.CreateServer()
	hostID, _ := hostKey.PublicKey()
	link := InterfaceLinkDefinition{SourceID: "comp1", Target: pid, Name: "default", WitNamespace: "wasmcloud", WitPackage: "example", Interfaces: []string{"x"}}
	t.Setenv("RUST_LOG", "debug")
	t.Setenv("SECRET_THING", "must-not-leak")
	n, err := StartNative(NativeConfig{
		Binary: bin, NC: nc, Lattice: "default", HostID: hostID, ProviderID: pid, XKeyPublic: xpub,
		HostData: func() (HostData, error) {
			return HostData{
				HostID: hostID, LatticeRPCPrefix: "default", LatticeRPCURL: srv.URL, ProviderKey: pid,
				InstanceID: uuid.NewString(), ProviderXKeyPrivateKey: string(xseed),
				Config: map[string]string{"k": "v"}, LinkDefinitions: []InterfaceLinkDefinition{link},
			}, nil
		},
		HealthDelay: 50 * time.Millisecond, HealthInterval: 100 * time.Millisecond,
		RestartDelay: 50 * time.Millisecond,
		OnHealth:     func(e string) { health <- e },
	})
	if err != nil {
		t.Fatal(err)
	}
	first := providertest.NextReport(t, reports, "started")
	if first.Links != 1 || first.Config["k"] != "v" {
		t.Fatalf("host data not received: %+v", first)
	}
	if strings.Join(first.Env, " ") != "RUST_LOG=debug" {
		t.Fatalf("provider environment = %q, want only RUST_LOG", first.Env)
	}
	select {
	case e := <-health:
		if e != HealthCheckPassed {
			t.Fatalf("first health event %s", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no health event")
	}
	if e := <-health; e != HealthCheckStatus {
		t.Fatalf("second health event %s, want %s", e, HealthCheckStatus)
	}

	link2 := link
	link2.SourceID = "comp2"
	if err := n.PutLink(link2); err != nil {
		t.Fatal(err)
	}
	r := providertest.NextReport(t, reports, "link_put")
	if !strings.Contains(string(r.Link), `"source_id":"comp2"`) {
		t.Fatalf("link put = %s", r.Link)
	}
	if err := n.DeleteLink(link2); err != nil {
		t.Fatal(err)
	}
	r = providertest.NextReport(t, reports, "link_del")
	if !strings.Contains(string(r.Link), `"source_id":"comp2"`) {
		t.Fatalf("link del = %s", r.Link)
	}

	// kill -9: the supervisor starts a new process with new host data.
	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	second := providertest.NextReport(t, reports, "started")
	if second.PID == first.PID || second.InstanceID == first.InstanceID {
		t.Fatalf("restart reused pid/instance: %+v vs %+v", second, first)
	}
	if n.Restarts() != 1 {
		t.Fatalf("restarts = %d", n.Restarts())
	}

	start := time.Now()
	n.Stop(context.Background())
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("stop took %s", d)
	}
	providertest.NextReport(t, reports, "shutdown")
	if err := syscall.Kill(second.PID, 0); err == nil {
		t.Fatalf("provider process %d still exists after Stop", second.PID)
	}
}

func TestHostDataStdinLine(t *testing.T) {
	line, err := HostData{HostID: "N1", ProviderKey: "p"}.StdinLine()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(line), "\r\n") {
		t.Fatalf("line does not end in CRLF: %q", line)
	}
	for _, key := range []string{`"env_values":{}`, `"link_definitions":[]`, `"link_name":"default"`, `"otel_config":{"enable_observability":false,"protocol":"Http"`} {
		if !strings.Contains(decodeLine(t, line), key) {
			t.Errorf("host data lacks %s: %s", key, decodeLine(t, line))
		}
	}
	if strings.Contains(decodeLine(t, line), "default_rpc_timeout_ms") {
		t.Error("unset default_rpc_timeout_ms must be left out")
	}
}

func decodeLine(t *testing.T, line []byte) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(line)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHostDataGolden pins the whole HostData a provider reads, key order as upstream's serde
// writes it (crates/core/src/host.rs; upstream host/src/wasmbus/providers/mod.rs:164-186 fills
// it): rpc credentials, plaintext secrets as {"kind","value"} (crates/core/src/secrets.rs:5-12,
// bytes as a number array), sealed link secrets as number arrays, log level.
func TestHostDataGolden(t *testing.T) {
	timeout, level := uint64(2000), "debug"
	hd := HostData{
		HostID: "NHOST", LatticeRPCPrefix: "default", LatticeRPCUserJWT: "eyJ.jwt", LatticeRPCUserSeed: "SUSEED",
		LatticeRPCURL: "nats://u:p@127.0.0.1:4222", ProviderKey: "p", InstanceID: "i",
		LinkDefinitions: []InterfaceLinkDefinition{{SourceID: "c", Target: "p", WitNamespace: "wasi", WitPackage: "keyvalue",
			Interfaces: []string{"store"}, TargetSecrets: ByteArray{1, 2}}},
		Config:            map[string]string{"k": "v"},
		Secrets:           map[string]SecretValue{"db": {Kind: "String", Value: "pw"}, "key": {Kind: "Bytes", Value: ByteArray{0, 255}}},
		HostXKeyPublicKey: "XHOST", ProviderXKeyPrivateKey: "SXPROV", DefaultRPCTimeoutMS: &timeout, LogLevel: &level,
	}
	line, err := hd.StdinLine()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"host_id":"NHOST","lattice_rpc_prefix":"default","link_name":"default","lattice_rpc_user_jwt":"eyJ.jwt","lattice_rpc_user_seed":"SUSEED","lattice_rpc_url":"nats://u:p@127.0.0.1:4222","provider_key":"p","env_values":{},"instance_id":"i",` +
		`"link_definitions":[{"source_id":"c","target":"p","name":"default","wit_namespace":"wasi","wit_package":"keyvalue","interfaces":["store"],"source_config":{},"target_config":{},"source_secrets":null,"target_secrets":[1,2]}],` +
		`"cluster_issuers":[],"config":{"k":"v"},"secrets":{"db":{"kind":"String","value":"pw"},"key":{"kind":"Bytes","value":[0,255]}},"host_xkey_public_key":"XHOST","provider_xkey_private_key":"SXPROV","default_rpc_timeout_ms":2000,"structured_logging":false,"log_level":"debug",` +
		`"otel_config":{"enable_observability":false,"protocol":"Http","additional_ca_paths":[],"trace_level":"info"}}`
	if got := decodeLine(t, line); got != want {
		t.Fatalf("host data:\n got %s\nwant %s", got, want)
	}
}

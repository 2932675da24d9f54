package wadm

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/output"
	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/internal/testtool"
)

// parse runs `wash wadm args…` through cobra with the given environment and returns the
// options the command would run with.
func parse(t *testing.T, env map[string]string, args ...string) (*Options, error) {
	t.Helper()
	for k := range EnvBindings {
		t.Setenv(EnvBindings[k], "")
		_ = os.Unsetenv(EnvBindings[k])
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var got *Options
	e := &cli.Env{IO: output.Buffered(&bytes.Buffer{}, &bytes.Buffer{})}
	cmd := newCmd(e, func(_ context.Context, o *Options) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	return got, err
}

func TestDefaults(t *testing.T) {
	o, err := parse(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := o.Settings()
	if err != nil {
		t.Fatal(err)
	}
	c := s.Config
	if s.Servers[0] != "nats://127.0.0.1:4222" || c.APIPrefix != "wadm.api" || c.StateBucket != "wadm_state" ||
		c.ManifestBucket != "wadm_manifests" || c.HostExpiry != 70*time.Second || c.MemoryStorage ||
		c.MaxJobs != 0 || c.StreamReplicas != 0 || c.JSDomain != "" || s.TracingEndpoint != "" || o.StructuredLogging {
		t.Fatalf("defaults differ from upstream's: %+v servers %v", c, s.Servers)
	}
	if len(c.HostID) != 36 {
		t.Fatalf("default host id %q is not a UUID", c.HostID)
	}
}

// TestEveryOptionFromFlagAndEnv reads each option once from its flag and once from its
// environment variable.
func TestEveryOptionFromFlagAndEnv(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "wadm.creds")
	ca := filepath.Join(dir, "ca.pem")
	must(t, os.WriteFile(creds, []byte("creds"), 0o600))
	must(t, os.WriteFile(ca, []byte("pem"), 0o600))
	kp, _ := nkeys.CreateUser()
	seed, _ := kp.Seed()

	cases := []struct {
		flag, short, value string
		check              func(o *Options) bool
	}{
		{"host-id", "i", "wadm-a", func(o *Options) bool { return o.HostID == "wadm-a" }},
		{"structured-logging", "l", "true", func(o *Options) bool { return o.StructuredLogging }},
		{"tracing", "t", "true", func(o *Options) bool { return o.Tracing }},
		{"tracing-endpoint", "e", "http://127.0.0.1:9/v1/traces", func(o *Options) bool { return o.TracingEndpoint == "http://127.0.0.1:9/v1/traces" }},
		{"jetstream-domain", "d", "hub", func(o *Options) bool { return o.JSDomain == "hub" }},
		{"max-jobs", "j", "7", func(o *Options) bool { return o.MaxJobs == 7 }},
		{"nats-server", "s", "10.0.0.1:4333", func(o *Options) bool { return o.NATSServer == "10.0.0.1:4333" }},
		{"nats-seed", "", string(seed), func(o *Options) bool { return o.NATSSeed == string(seed) }},
		{"nats-jwt", "", "a.b.c", func(o *Options) bool { return o.NATSJWT == "a.b.c" }},
		{"nats-creds-file", "", creds, func(o *Options) bool { return o.NATSCredsFile == creds }},
		{"nats-tls-ca-file", "", ca, func(o *Options) bool { return o.NATSTLSCAFile == ca }},
		{"state-bucket-name", "", "st8", func(o *Options) bool { return o.StateBucket == "st8" }},
		{"manifest-bucket-name", "", "mf", func(o *Options) bool { return o.ManifestBucket == "mf" }},
		{"cleanup-interval", "", "120", func(o *Options) bool { return o.CleanupInterval == 120 }},
		{"api-prefix", "", "acme.wadm", func(o *Options) bool { return o.APIPrefix == "acme.wadm" }},
		{"stream-persistence", "", "memory", func(o *Options) bool { return o.StreamPersistence == "memory" }},
		{"stream-replicas", "", "3", func(o *Options) bool { return o.StreamReplicas == 3 }},
	}
	if len(cases) != len(EnvBindings) {
		t.Fatalf("%d cases for %d options", len(cases), len(EnvBindings))
	}
	for _, c := range cases {
		t.Run(c.flag, func(t *testing.T) {
			args := [][]string{{"--" + c.flag + "=" + c.value}}
			if c.short != "" {
				args = append(args, []string{"-" + c.short + "=" + c.value})
			}
			for _, a := range args {
				o, err := parse(t, nil, a...)
				if err != nil || !c.check(o) {
					t.Fatalf("%v: err=%v options=%+v", a, err, o)
				}
			}
			env := EnvBindings[c.flag]
			o, err := parse(t, map[string]string{env: c.value})
			if err != nil || !c.check(o) {
				t.Fatalf("%s=%s: err=%v options=%+v", env, c.value, err, o)
			}
			// The flag wins over the environment.
			if c.flag == "host-id" {
				o, _ := parse(t, map[string]string{env: "from-env"}, "--host-id", "from-flag")
				if o.HostID != "from-flag" {
					t.Fatalf("flag did not win over %s: %q", env, o.HostID)
				}
			}
		})
	}
	// Options that become settings: check the conversion too.
	o, err := parse(t, map[string]string{"WADM_CLEANUP_INTERVAL": "9", "WADM_STREAM_PERSISTENCE": "memory", "WADM_MAX_JOBS": "4",
		"WADM_STREAM_REPLICAS": "3", "WADM_API_PREFIX": ".acme.wadm.", "WADM_JETSTREAM_DOMAIN": "hub", "WADM_HOST_ID": "w1",
		"WADM_TRACING_ENABLED": "true", "WADM_NATS_SERVER": "nats://a:1, b:2"})
	must(t, err)
	s, err := o.Settings()
	must(t, err)
	c := s.Config
	if c.HostExpiry != 9*time.Second || !c.MemoryStorage || c.MaxJobs != 4 || c.StreamReplicas != 3 || c.APIPrefix != "acme.wadm" ||
		c.JSDomain != "hub" || c.HostID != "w1" || s.TracingEndpoint != DefaultTracingEndpoint ||
		strings.Join(s.Servers, " ") != "nats://a:1 nats://b:2" {
		t.Fatalf("settings: %+v servers %v endpoint %q", c, s.Servers, s.TracingEndpoint)
	}
}

// TestBadValues: each bad value is a one-line error naming the option.
func TestBadValues(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "creds")
	must(t, os.WriteFile(creds, []byte("x"), 0o600))
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--cleanup-interval", "-5"}, "--cleanup-interval"},
		{map[string]string{"WADM_CLEANUP_INTERVAL": "-1"}, nil, "WADM_CLEANUP_INTERVAL"},
		{map[string]string{"WADM_CLEANUP_INTERVAL": "soon"}, nil, "WADM_CLEANUP_INTERVAL"},
		{nil, []string{"-j", "-2"}, "--max-jobs"},
		{nil, []string{"--stream-persistence", "tape"}, "--stream-persistence"},
		{nil, []string{"--stream-replicas", "9"}, "--stream-replicas"},
		{nil, []string{"--nats-creds-file", filepath.Join(dir, "missing.creds")}, "--nats-creds-file"},
		{nil, []string{"--nats-creds-file", dir}, "--nats-creds-file"},
		{nil, []string{"--nats-creds-file", creds, "--nats-seed", "SU", "--nats-jwt", "a.b.c"}, "cannot be combined"},
		{nil, []string{"--nats-seed", "SUAAA"}, "--nats-jwt"},
		{nil, []string{"--nats-jwt", "a.b.c"}, "--nats-seed"},
		{nil, []string{"--nats-seed", filepath.Join(dir, "nope"), "--nats-jwt", "a.b.c"}, "--nats-seed"},
		{nil, []string{"--nats-tls-ca-file", creds}, "--nats-tls-ca-file"},
		{nil, []string{"--api-prefix", "..."}, "--api-prefix"},
		{nil, []string{"--state-bucket-name", "a.b"}, "--state-bucket-name"},
		{nil, []string{"-d", "a.b"}, "--jetstream-domain"},
		{nil, []string{"-e", "localhost:4318"}, "--tracing-endpoint"},
		{nil, []string{"-s", ","}, "--nats-server"},
		{map[string]string{"WADM_STRUCTURED_LOGGING": "maybe"}, nil, "WADM_STRUCTURED_LOGGING"},
	}
	for _, c := range cases {
		o, err := parse(t, c.env, c.args...)
		if err == nil {
			_, err = o.Settings()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v %v: got %v, want a one-line error naming %s", c.env, c.args, err, c.want)
		}
	}
}

// TestUnknownDomain: a JetStream domain nobody serves is reported against -d.
func TestUnknownDomain(t *testing.T) {
	n := testlattice.StartNATS(t)
	o, err := parse(t, nil, "-s", n.URL, "-d", "nowhere")
	must(t, err)
	var errOut bytes.Buffer
	e := &cli.Env{IO: output.Buffered(&bytes.Buffer{}, &errOut)}
	err = Run(context.Background(), e, o)
	if err == nil || !strings.Contains(err.Error(), "--jetstream-domain") || !strings.Contains(err.Error(), "nowhere") || !cli.IsUsage(err) {
		t.Fatalf("got %v", err)
	}
}

// TestRunStopsOnCancel: wadm starts on a real NATS, answers the API and stops when its
// context ends.
func TestRunStopsOnCancel(t *testing.T) {
	n := testlattice.StartNATS(t)
	o, err := parse(t, nil, "-s", n.URL, "-l", "--stream-persistence", "memory")
	must(t, err)
	var errOut testtool.LogBuffer
	e := &cli.Env{IO: output.Buffered(&bytes.Buffer{}, &errOut)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, e, o) }()
	nc := n.Connect(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := nc.Request("wadm.api.default.model.list", nil, time.Second); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("wadm did not answer; log:\n%s", errOut.String())
		}
	}
	cancel()
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("wadm did not stop")
	}
	if !strings.Contains(errOut.String(), `"msg":"wadm stopped"`) {
		t.Fatalf("no structured stop line in:\n%s", errOut.String())
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

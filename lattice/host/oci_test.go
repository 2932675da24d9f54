package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/oci"
	"github.com/wasmlattice/wash/oci/ocitest"
	"github.com/wasmlattice/wash/oci/par"
)

// pushModule pushes the wasip1 test module to ref with the manifest wash writes for a component
// (wasm config blob, one application/wasm layer). `wash push` itself refuses core modules (it
// only pushes what decodes as a component, the upstream rule), so the kind is stated here
// instead of detected: other tools push core modules this way, and wasmCloud 1.x hosts pull and
// run them, as does ours.
func pushModule(t testing.TB, ref string, wasm []byte, cred *oci.Credential) *oci.PushResult {
	t.Helper()
	o := oci.Options{Insecure: true, DisableEnv: true, DisableDockerConfig: true}
	if cred != nil {
		o.Credentials = map[string]oci.Credential{"*": *cred}
	}
	c, err := oci.New(o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Push(context.Background(), ref, oci.PushRequest{Data: wasm, Kind: oci.KindComponent})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// wasip1Module is the wasip1 test module's binary.
func wasip1Module(t testing.TB) []byte {
	t.Helper()
	wasm, err := os.ReadFile(buildWasip1(t))
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

// pushHello pushes the wasip1 test module as <registry>/hello:0.1.0; it returns the reference
// and what was pushed.
func pushHello(t testing.TB, registry string, cred *oci.Credential) (string, *oci.PushResult) {
	t.Helper()
	ref := registry + "/hello:0.1.0"
	return ref, pushModule(t, ref, wasip1Module(t), cred)
}

// pushRaw pushes one layer of any media type under tag, for manifests wash would never write.
func pushRaw(t testing.TB, regHost, repo, tag, layerType string, layer []byte) {
	t.Helper()
	ctx := context.Background()
	r, err := remote.NewRepository(regHost + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	cfg := []byte("{}")
	ld := ocispec.Descriptor{MediaType: layerType, Digest: digest.FromBytes(layer), Size: int64(len(layer))}
	cd := ocispec.Descriptor{MediaType: oci.MediaTypeWasmConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))}
	for _, b := range []struct {
		d    ocispec.Descriptor
		data []byte
	}{{ld, layer}, {cd, cfg}} {
		if err := r.Blobs().Push(ctx, b.d, bytes.NewReader(b.data)); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cd, Layers: []ocispec.Descriptor{ld},
	})
	md := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(m), Size: int64(len(m))}
	if err := r.PushReference(ctx, md, bytes.NewReader(m), tag); err != nil {
		t.Fatal(err)
	}
}

// putRegistries sends registry.put as a request and waits for the host's reply, so a scale
// sent afterwards sees the credentials (the ctl client publishes it fire-and-forget).
func putRegistries(t testing.TB, nc *nats.Conn, lattice string, creds map[string]ctl.RegistryCredential) {
	t.Helper()
	b, _ := json.Marshal(creds)
	subj := ctl.Subjects{Prefix: ctl.DefaultTopicPrefix, Lattice: lattice}.Of("registry", "put")
	msg, err := nc.Request(subj, b, 5*time.Second)
	if err != nil {
		t.Fatalf("registry.put: %v", err)
	}
	if !strings.Contains(string(msg.Data), `"success":true`) {
		t.Fatalf("registry.put reply: %s", msg.Data)
	}
}

func strp(s string) *string { return &s }

// scaleResult waits for component_scaled or component_scale_failed of one component id.
func scaleResult(t testing.TB, evs *eventLog, id string) (name string, data map[string]any) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e := <-evs.ch:
			if e.Name() != events.ComponentScaled && e.Name() != events.ComponentScaleFailed {
				continue
			}
			var d map[string]any
			_ = json.Unmarshal(e.Data, &d)
			if d["component_id"] == id {
				return e.Name(), d
			}
		case <-deadline:
			t.Fatalf("no scale event for %s within 20s", id)
		}
	}
}

func scale(t testing.TB, c *ctl.Client, hostID, id, ref string, count uint32) {
	t.Helper()
	resp, err := c.ScaleComponent(context.Background(), ctl.ScaleComponentCommand{ComponentRef: ref, ComponentID: id, Count: count, HostID: hostID})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Success {
		t.Fatalf("scale %s: %s", id, resp.Message)
	}
}

// cacheFiles lists the regular files under the host's OCI cache.
func cacheFiles(dir string) []string {
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	return files
}

func TestScaleFromRegistry(t *testing.T) {
	nc := startNATS(t)
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	ref, pushed := pushHello(t, reg.Host, nil)

	evs := watchEvents(t, nc, "default")
	cache := t.TempDir()
	h := startHost(t, nc, host.Config{Lattice: "default", OCICacheDir: cache, AllowedInsecure: []string{reg.Host}})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})

	scale(t, c, h.ID(), "hello", ref, 3)
	if name, d := scaleResult(t, evs, "hello"); name != events.ComponentScaled {
		t.Fatalf("got %s: %v", name, d["error"])
	} else if d["image_ref"] != ref || d["max_instances"] != float64(3) {
		t.Fatalf("component_scaled data = %v", d)
	}
	inv, err := c.GetHostInventory(context.Background(), h.ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Components) != 1 || inv.Components[0].ImageRef != ref || inv.Components[0].MaxInstances != 3 {
		t.Fatalf("inventory components = %+v", inv.Components)
	}
	// The layer and manifest are in the host's content-addressed cache.
	for _, d := range []digest.Digest{pushed.Digest, pushed.Layer.Digest} {
		if _, err := os.Stat(filepath.Join(cache, "blobs", "sha256", d.Encoded())); err != nil {
			t.Errorf("cache lacks %s: %v", d, err)
		}
	}
}

// TestScaleSharesPulls starts 10 components with the same reference at once: the layer is
// downloaded once.
func TestScaleSharesPulls(t *testing.T) {
	nc := startNATS(t)
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	ref, _ := pushHello(t, reg.Host, nil)
	reg.BlobGets.Store(0)

	evs := watchEvents(t, nc, "default")
	h := startHost(t, nc, host.Config{Lattice: "default", OCICacheDir: t.TempDir(), AllowedInsecure: []string{reg.Host}})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
	const n = 10
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scale(t, c, h.ID(), fmt.Sprintf("hello-%d", i), ref, 1)
		}()
	}
	wg.Wait()
	placed := map[string]bool{}
	deadline := time.After(30 * time.Second)
	for len(placed) < n {
		select {
		case e := <-evs.ch:
			var d map[string]any
			_ = json.Unmarshal(e.Data, &d)
			switch e.Name() {
			case events.ComponentScaleFailed:
				t.Fatalf("scale failed: %v", d["error"])
			case events.ComponentScaled:
				placed[d["component_id"].(string)] = true
			}
		case <-deadline:
			t.Fatalf("only %d of %d components placed", len(placed), n)
		}
	}
	if got := reg.BlobGets.Load(); got != 1 {
		t.Errorf("registry served %d blob GETs for %d concurrent starts of one reference, want 1", got, n)
	}
	inv, _ := c.GetHostInventory(context.Background(), h.ID())
	if len(inv.Components) != n {
		t.Errorf("inventory lists %d components, want %d", len(inv.Components), n)
	}
}

// TestScaleFromDistribution runs against Debian's docker-registry with htpasswd auth; the host
// gets its credentials through registry.put.
func TestScaleFromDistribution(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry process")
	}
	addr := ocitest.StartDistribution(t, "wash", "pa55word")
	ref := addr + "/wasmcloud/hello:0.1.0"
	pushModule(t, ref, wasip1Module(t), &oci.Credential{Username: "wash", Password: "pa55word"})

	nc := startNATS(t)
	evs := watchEvents(t, nc, "default")
	cache := t.TempDir()
	h := startHost(t, nc, host.Config{Lattice: "default", OCICacheDir: cache, AllowedInsecure: []string{addr}})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})

	// Without credentials the registry refuses, and the event says so.
	scale(t, c, h.ID(), "anon", ref, 1)
	name, d := scaleResult(t, evs, "anon")
	if msg, _ := d["error"].(string); name != events.ComponentScaleFailed || !strings.Contains(msg, ref) || !strings.Contains(msg, "authentication failed") {
		t.Fatalf("anonymous pull: %s %q", name, d["error"])
	}

	putRegistries(t, nc, "default", map[string]ctl.RegistryCredential{
		addr: {Username: strp("wash"), Password: strp("pa55word"), RegistryType: "oci"},
	})
	scale(t, c, h.ID(), "hello", ref, 2)
	if name, d := scaleResult(t, evs, "hello"); name != events.ComponentScaled {
		t.Fatalf("got %s: %v", name, d["error"])
	}
	inv, _ := c.GetHostInventory(context.Background(), h.ID())
	if len(inv.Components) != 1 || inv.Components[0].ID != "hello" {
		t.Fatalf("inventory components = %+v", inv.Components)
	}
}

// TestScaleWithStartupCredentials covers WASMCLOUD_OCI_REGISTRY/_USER/_PASSWORD (host.Config
// OCICredentials) and registry.put replacing them.
func TestScaleWithStartupCredentials(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{Username: "u", Password: "right"})
	ref, _ := pushHello(t, reg.Host, &oci.Credential{Username: "u", Password: "right"})

	nc := startNATS(t)
	evs := watchEvents(t, nc, "default")
	h := startHost(t, nc, host.Config{
		Lattice: "default", AllowedInsecure: []string{reg.Host},
		OCICredentials: map[string]oci.Credential{"http://" + reg.Host: {Username: "u", Password: "right"}},
	})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
	scale(t, c, h.ID(), "a", ref, 1)
	if name, d := scaleResult(t, evs, "a"); name != events.ComponentScaled {
		t.Fatalf("start-up credentials: %s %v", name, d["error"])
	}
	// registry.put wins over the start-up entry at once (the cached Basic header is dropped);
	// a token-only entry is anonymous, as upstream.
	putRegistries(t, nc, "default", map[string]ctl.RegistryCredential{reg.Host: {Token: strp("t0k3n"), RegistryType: "oci"}})
	scale(t, c, h.ID(), "c", ref, 1)
	name, d := scaleResult(t, evs, "c")
	if msg, _ := d["error"].(string); name != events.ComponentScaleFailed || !strings.Contains(msg, "authentication failed") {
		t.Fatalf("token-only credentials should be anonymous: %s %q", name, d["error"])
	}
}

// TestScaleBadOCIInput: every bad reference or registry answer is one component_scale_failed
// event naming the reference and the cause, fast, and leaves nothing in the cache.
func TestScaleBadOCIInput(t *testing.T) {
	wasm := wasip1Module(t)
	reg := ocitest.NewRegistry(t, ocitest.Options{Wrap: ocitest.CorruptBlobs("/corrupt/")})
	pushModule(t, reg.Host+"/hello:0.1.0", wasm, nil)
	pushModule(t, reg.Host+"/corrupt:0.1.0", wasm, nil)
	pushRaw(t, reg.Host, "gzipped", "0.1.0", "application/vnd.oci.image.layer.v1.tar+gzip", wasm)
	pushRaw(t, reg.Host, "jsonlayer", "0.1.0", "application/json", []byte(`{}`))
	authReg := ocitest.NewRegistry(t, ocitest.Options{Username: "wash", Password: "right"})
	pushModule(t, authReg.Host+"/hello:0.1.0", wasm, &oci.Credential{Username: "wash", Password: "right"})
	plainReg := ocitest.NewRegistry(t, ocitest.Options{})
	pushModule(t, plainReg.Host+"/hello:0.1.0", wasm, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	nc := startNATS(t)
	evs := watchEvents(t, nc, "default")
	cache := t.TempDir()
	h := startHost(t, nc, host.Config{Lattice: "default", OCICacheDir: cache, AllowedInsecure: []string{reg.Host, authReg.Host, closed}})
	putRegistries(t, nc, "default", map[string]ctl.RegistryCredential{
		authReg.Host: {Username: strp("wash"), Password: strp("wrong"), RegistryType: "oci"},
	})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})

	cases := []struct {
		name, ref string
		causes    []string
	}{
		{"digest mismatch", reg.Host + "/corrupt:0.1.0", []string{"digest mismatch"}},
		{"wrong media type", reg.Host + "/gzipped:0.1.0", []string{"incompatible media type", "application/vnd.oci.image.layer.v1.tar+gzip"}},
		{"json layer", reg.Host + "/jsonlayer:0.1.0", []string{"incompatible media type", "application/json"}},
		{"missing tag", reg.Host + "/hello:9.9.9", []string{"not found"}},
		{"missing repository", reg.Host + "/nothing:0.1.0", []string{"not found"}},
		{"latest", reg.Host + "/hello:latest", []string{"fetching images tagged 'latest' is currently prohibited in this host", "WASMCLOUD_OCI_ALLOW_LATEST"}},
		{"implied latest", reg.Host + "/hello", []string{"fetching images tagged 'latest' is currently prohibited"}},
		{"wrong credentials", authReg.Host + "/hello:0.1.0", []string{"authentication failed", "401"}},
		{"unreachable", closed + "/hello:0.1.0", []string{"registry unreachable", "connection refused"}},
		{"plain HTTP not allowed", plainReg.Host + "/hello:0.1.0", []string{"speaks plain HTTP", "--allowed-insecure"}},
		{"bad reference", "127.0.0.1:5000/UPPER//x:0.1.0", []string{"invalid reference"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("bad-%d", i)
			start := time.Now()
			scale(t, c, h.ID(), id, tc.ref, 1)
			name, d := scaleResult(t, evs, id)
			msg, _ := d["error"].(string)
			if name != events.ComponentScaleFailed {
				t.Fatalf("got %s, want %s", name, events.ComponentScaleFailed)
			}
			if d["image_ref"] != tc.ref {
				t.Errorf("image_ref = %v", d["image_ref"])
			}
			if !strings.Contains(msg, tc.ref) {
				t.Errorf("error %q does not name the reference", msg)
			}
			for _, want := range tc.causes {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("multi-line error %q", msg)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("failure took %s", el)
			}
			t.Logf("%s", msg)
		})
	}
	if files := cacheFiles(cache); len(files) > 0 {
		t.Errorf("cache not empty after failures: %v", files)
	}
	inv, _ := c.GetHostInventory(context.Background(), h.ID())
	if len(inv.Components) != 0 {
		t.Errorf("failed components listed: %+v", inv.Components)
	}
}

// TestProviderFetch: provider.start pulls and unpacks the archive and runs its binary; a failed
// fetch names the reference and the cause.
func TestProviderFetch(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	a := par.New("Sample Provider", "wash-tests")
	bin := []byte("#!/bin/sh\necho provider\n")
	if err := a.AddBinary(par.NativeTarget(), bin); err != nil {
		t.Fatal(err)
	}
	archive, err := par.Create(a, par.Keys{}, true)
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.Host + "/providers/sample:0.1.0"
	pc, _ := oci.New(oci.Options{Insecure: true, DisableEnv: true, DisableDockerConfig: true})
	if _, err := pc.Push(context.Background(), ref, oci.PushRequest{Data: archive.Bytes}); err != nil {
		t.Fatal(err)
	}

	nc := startNATS(t)
	cache := t.TempDir()
	h := startHost(t, nc, host.Config{Lattice: "default", OCICacheDir: cache, AllowedInsecure: []string{reg.Host}})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
	evs := watchEvents(t, nc, "default")

	if _, err := c.StartProvider(context.Background(), ctl.StartProviderCommand{ProviderID: "sample", ProviderRef: ref, HostID: h.ID()}); err != nil {
		t.Fatal(err)
	}
	evs.waitFor(t, events.ProviderStarted, func(d map[string]any) bool { return d["provider_id"] == "sample" })
	for _, tc := range []struct{ id, ref, want string }{
		{"missing", reg.Host + "/providers/sample:9.9.9", "not found"},
		{"missing-repo", reg.Host + "/nothing:0.1.0", "not found"},
	} {
		if _, err := c.StartProvider(context.Background(), ctl.StartProviderCommand{ProviderID: tc.id, ProviderRef: tc.ref, HostID: h.ID()}); err != nil {
			t.Fatal(err)
		}
		d := evs.waitFor(t, events.ProviderStartFailed, func(d map[string]any) bool { return d["provider_id"] == tc.id })
		msg, _ := d["error"].(string)
		if !strings.Contains(msg, tc.ref) || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: error %q, want the reference and %q", tc.id, msg, tc.want)
		}
		t.Logf("%s: %s", tc.id, msg)
	}
	// The native binary was unpacked into the cache.
	var extracted string
	for _, f := range cacheFiles(filepath.Join(cache, "providers")) {
		if b, _ := os.ReadFile(f); bytes.Equal(b, bin) && strings.HasSuffix(f, par.NativeTarget()) {
			extracted = f
		}
	}
	if extracted == "" {
		t.Fatalf("no extracted %s binary under %s", par.NativeTarget(), cache)
	}
	if st, _ := os.Stat(extracted); st.Mode().Perm()&0o111 == 0 {
		t.Errorf("extracted binary is not executable: %v", st.Mode())
	}
	before, _ := os.Stat(extracted)

	// The same archive from a file: same content, so the extracted binary is reused as is.
	file := filepath.Join(t.TempDir(), "sample.par.gz")
	if err := os.WriteFile(file, archive.Bytes, 0o644); err != nil {
		t.Fatal(err)
	}
	fileRef := "file://" + file
	if _, err := c.StartProvider(context.Background(), ctl.StartProviderCommand{ProviderID: "from-file", ProviderRef: fileRef, HostID: h.ID()}); err != nil {
		t.Fatal(err)
	}
	evs.waitFor(t, events.ProviderStarted, func(d map[string]any) bool { return d["provider_id"] == "from-file" })
	if after, _ := os.Stat(extracted); !os.SameFile(before, after) {
		t.Error("extracted binary was rewritten instead of reused")
	}

	// A damaged archive is refused with the cause.
	broken := append([]byte(nil), archive.Bytes...)
	broken = broken[:len(broken)/2]
	if err := os.WriteFile(file, broken, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartProvider(context.Background(), ctl.StartProviderCommand{ProviderID: "broken", ProviderRef: fileRef, HostID: h.ID()}); err != nil {
		t.Fatal(err)
	}
	d := evs.waitFor(t, events.ProviderStartFailed, func(d map[string]any) bool { return d["provider_id"] == "broken" })
	if msg, _ := d["error"].(string); !strings.Contains(msg, "invalid provider archive") || !strings.Contains(msg, fileRef) {
		t.Errorf("broken archive: %q", msg)
	}
	t.Log(d["error"])
}

// TestProviderWrongMediaType: a component reference given to provider.start is refused by layer
// media type.
func TestProviderWrongMediaType(t *testing.T) {
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	ref, _ := pushHello(t, reg.Host, nil)
	nc := startNATS(t)
	h := startHost(t, nc, host.Config{Lattice: "default", AllowedInsecure: []string{reg.Host}})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
	evs := watchEvents(t, nc, "default")
	if _, err := c.StartProvider(context.Background(), ctl.StartProviderCommand{ProviderID: "p", ProviderRef: ref, HostID: h.ID()}); err != nil {
		t.Fatal(err)
	}
	d := evs.waitFor(t, events.ProviderStartFailed, func(d map[string]any) bool { return d["provider_id"] == "p" })
	if msg, _ := d["error"].(string); !strings.Contains(msg, ref) || !strings.Contains(msg, "application/wasm") {
		t.Errorf("error %q", msg)
	}
}

// TestFileLoadDisabled: without allow-file-load a file:// reference fails with upstream's
// reason, for components and providers.
func TestFileLoadDisabled(t *testing.T) {
	nc := startNATS(t)
	h, err := host.New(context.Background(), nc, host.Config{Lattice: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Stop(context.Background(), time.Second) })
	evs := watchEvents(t, nc, "default")
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
	ref := "file://" + buildWasip1(t)
	scale(t, c, h.ID(), "f", ref, 1)
	name, d := scaleResult(t, evs, "f")
	if msg, _ := d["error"].(string); name != events.ComponentScaleFailed || !strings.Contains(msg, "file loading is disabled") || !strings.Contains(msg, ref) {
		t.Errorf("component: %s %q", name, d["error"])
	}
	if _, err := c.StartProvider(context.Background(), ctl.StartProviderCommand{ProviderID: "p", ProviderRef: ref, HostID: h.ID()}); err != nil {
		t.Fatal(err)
	}
	pd := evs.waitFor(t, events.ProviderStartFailed, nil)
	if msg, _ := pd["error"].(string); !strings.Contains(msg, "file loading is disabled") {
		t.Errorf("provider: %q", msg)
	}
}

// TestScaleComponentFromRegistry is the `wash push` path proper: a WASI 0.2 component pushed
// with the kind detected (as `wash push` does) is pulled and placed by its reference.
func TestScaleComponentFromRegistry(t *testing.T) {
	data, err := os.ReadFile("../../examples/hello-http/hello.component.wasm")
	if err != nil {
		t.Skipf("component fixture missing: %v", err)
	}
	reg := ocitest.NewRegistry(t, ocitest.Options{})
	ref := reg.Host + "/hello:0.1.0"
	pc, _ := oci.New(oci.Options{Insecure: true, DisableEnv: true, DisableDockerConfig: true})
	if _, err := pc.Push(context.Background(), ref, oci.PushRequest{Data: data}); err != nil {
		t.Fatal(err)
	}
	nc := startNATS(t)
	evs := watchEvents(t, nc, "default")
	h := startHost(t, nc, host.Config{Lattice: "default", AllowedInsecure: []string{reg.Host}})
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default"})
	scale(t, c, h.ID(), "http-hello", ref, 1)
	if name, d := scaleResult(t, evs, "http-hello"); name != events.ComponentScaled {
		t.Fatalf("got %s: %v", name, d["error"])
	}
	inv, _ := c.GetHostInventory(context.Background(), h.ID())
	if len(inv.Components) != 1 || inv.Components[0].ImageRef != ref {
		t.Fatalf("inventory components = %+v", inv.Components)
	}
}

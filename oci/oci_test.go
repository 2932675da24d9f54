package oci

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/wasmlattice/wash/oci/ocitest"
	"oras.land/oras-go/v2/registry/remote"
)

var goldenCreated = time.Date(2025, 3, 5, 19, 33, 31, 123456789, time.UTC)

func goldenRequest(t testing.TB) PushRequest {
	return PushRequest{
		Data:    tinyComponent(t),
		Created: goldenCreated,
		Component: ComponentInfo{
			Exports: []string{"wasi:http/incoming-handler@0.2.0"},
			Imports: []string{"wasi:io/error@0.2.0", "wasi:io/streams@0.2.0"},
		},
		Annotations: map[string]string{
			"org.opencontainers.image.version": "0.1.0",
			"org.opencontainers.image.source":  "https://example.test/tiny",
		},
	}
}

func TestGoldenComponentManifest(t *testing.T) {
	mb, cb, _, err := BuildManifest(goldenRequest(t))
	if err != nil {
		t.Fatal(err)
	}
	wantM, _ := os.ReadFile("testdata/tiny.manifest.golden.json")
	wantC, _ := os.ReadFile("testdata/tiny.config.golden.json")
	if !bytes.Equal(cb, wantC) {
		t.Errorf("config:\n got %s\nwant %s", cb, wantC)
	}
	if !bytes.Equal(mb, wantM) {
		t.Errorf("manifest:\n got %s\nwant %s", mb, wantM)
	}

	// The registry stores exactly these bytes, and the digest wash prints is theirs.
	reg := newRegistry(t, nil)
	c := newClient(t, testOptions(t))
	res := push(t, c, reg.Host+"/golden/tiny:0.1.0", goldenRequest(t))
	if res.Digest != digest.FromBytes(wantM) {
		t.Errorf("digest %s, want %s", res.Digest, digest.FromBytes(wantM))
	}
	repo, _ := remote.NewRepository(reg.Host + "/golden/tiny")
	repo.PlainHTTP = true
	desc, rc, err := repo.FetchReference(context.Background(), "0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	if !bytes.Equal(got, wantM) || desc.Digest != res.Digest {
		t.Errorf("registry holds %s (%s)", got, desc.Digest)
	}
}

func TestGoldenPARManifest(t *testing.T) {
	data, _ := os.ReadFile("testdata/fake.par")
	mb, cb, _, err := BuildManifest(PushRequest{Data: data, Kind: KindProvider})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("testdata/par.manifest.golden.json")
	if !bytes.Equal(mb, want) || string(cb) != "{}" {
		t.Errorf("manifest:\n got %s\nwant %s", mb, want)
	}
}

func TestChronoTime(t *testing.T) {
	for ns, want := range map[int]string{
		0: `"2025-03-05T19:33:31Z"`, 120_000_000: `"2025-03-05T19:33:31.120Z"`,
		123_400_000: `"2025-03-05T19:33:31.123400Z"`, 5: `"2025-03-05T19:33:31.000000005Z"`,
	} {
		b, _ := chronoTime(time.Date(2025, 3, 5, 19, 33, 31, ns, time.UTC)).MarshalJSON()
		if string(b) != want {
			t.Errorf("%d: %s want %s", ns, b, want)
		}
	}
}

func TestPushPullRoundTrip(t *testing.T) {
	reg := newRegistry(t, nil)
	pusher := newClient(t, testOptions(t))
	for name, req := range map[string]PushRequest{
		"component": {Data: tinyComponent(t)},
		"provider":  {Data: samplePAR(t)},
	} {
		t.Run(name, func(t *testing.T) {
			ref := reg.Host + "/wasmcloud/" + name + ":0.1.0"
			res := push(t, pusher, ref, req)
			puller := newClient(t, testOptions(t)) // fresh cache: a real network pull
			a, err := puller.Pull(context.Background(), ref, PullOptions{Digest: strings.TrimPrefix(res.Digest.String(), "sha256:")})
			if err != nil {
				t.Fatal(err)
			}
			if a.Digest != res.Digest || !bytes.Equal(a.ManifestBytes, res.Manifest) {
				t.Errorf("digest %s, pushed %s", a.Digest, res.Digest)
			}
			if !bytes.Equal(a.Bytes(), req.Data) {
				t.Error("layer bytes differ")
			}
			want := map[string]Kind{"component": KindComponent, "provider": KindProvider}[name]
			if a.Kind != want {
				t.Errorf("kind %v, want %v", a.Kind, want)
			}
			if a.Layers[0].Path == "" {
				t.Error("no cache path")
			}
			if a.FromCache {
				t.Error("first pull claims to be from cache")
			}
		})
	}
}

func TestPushRejectsCoreModuleAndJunk(t *testing.T) {
	reg := newRegistry(t, nil)
	c := newClient(t, testOptions(t))
	ref := reg.Host + "/x/y:1.0.0"
	core := []byte("\x00asm\x01\x00\x00\x00")
	_, err := c.Push(context.Background(), ref, PushRequest{Data: core})
	assertFailure(t, err, ErrUnsupported, ref, "")
	_, err = c.Push(context.Background(), ref, PushRequest{Data: []byte("hello")})
	assertFailure(t, err, ErrUnsupported, ref, "")
	// A gzip stream that is not a valid PAR.
	_, err = c.Push(context.Background(), ref, PushRequest{Data: []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}})
	assertFailure(t, err, ErrUnsupported, ref, "")
	if reg.Requests.Load() != 0 {
		t.Errorf("%d requests for rejected pushes", reg.Requests.Load())
	}
}

func TestCachedPulls(t *testing.T) {
	reg := newRegistry(t, nil)
	ref := reg.Host + "/cache/comp:1.0.0"
	res := push(t, newClient(t, testOptions(t)), ref, PushRequest{Data: tinyComponent(t)})

	o := testOptions(t)
	c := newClient(t, o)
	ctx := context.Background()
	if _, err := c.Pull(ctx, ref, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	// By digest: no request at all.
	before := reg.Requests.Load()
	a, err := c.Pull(ctx, reg.Host+"/cache/comp@"+res.Digest.String(), PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := reg.Requests.Load() - before; n != 0 || !a.FromCache {
		t.Errorf("digest pull made %d requests (FromCache=%v)", n, a.FromCache)
	}
	// By tag with TagResolve: one manifest request, no blob download.
	before, blobs := reg.Requests.Load(), reg.BlobGets.Load()
	a, err = c.Pull(ctx, ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := reg.Requests.Load() - before; n != 1 || reg.BlobGets.Load() != blobs || !a.ManifestCached {
		t.Errorf("tag pull made %d requests, %d blob GETs", n, reg.BlobGets.Load()-blobs)
	}
	// TagCacheFirst: no request.
	o.TagPolicy = TagCacheFirst
	c2 := newClient(t, o) // same cache directory
	before = reg.Requests.Load()
	if _, err := c2.Pull(ctx, ref, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := reg.Requests.Load() - before; n != 0 {
		t.Errorf("cache-first tag pull made %d requests", n)
	}
	// A corrupted cache blob is detected and re-fetched.
	blob := c.Cache().BlobPath(res.Layer.Digest)
	if err := os.WriteFile(blob, []byte("corrupt"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err = c.Pull(ctx, ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), tinyComponent(t)) {
		t.Error("corrupt cache served")
	}
}

func TestPullByDigestWithoutCacheNeedsNoLatest(t *testing.T) {
	reg := newRegistry(t, nil)
	res := push(t, newClient(t, testOptions(t)), reg.Host+"/d/comp:1.0.0", PushRequest{Data: tinyComponent(t)})
	o := testOptions(t)
	o.CacheDir = ""
	a, err := newClient(t, o).Pull(context.Background(), reg.Host+"/d/comp@"+res.Digest.String(), PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Layers[0].Path != "" || !bytes.Equal(a.Bytes(), tinyComponent(t)) {
		t.Error("uncached pull wrong")
	}
}

// tamper rewrites blob responses so their content no longer matches the digest.
func tamper(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.Contains(r.URL.Path, "/blobs/") {
			next.ServeHTTP(w, r)
			return
		}
		rec := &captureWriter{header: http.Header{}}
		next.ServeHTTP(rec, r)
		body := rec.buf.Bytes()
		if len(body) > 0 {
			body[len(body)-1] ^= 0xff
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.code)
		_, _ = w.Write(body)
	})
}

type captureWriter struct {
	header http.Header
	buf    bytes.Buffer
	code   int
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.code == 0 {
		c.code = 200
	}
	return c.buf.Write(b)
}
func (c *captureWriter) WriteHeader(code int) { c.code = code }

func TestTamperedBlob(t *testing.T) {
	var bad atomic.Bool
	reg := newRegistry(t, func(h http.Handler) http.Handler {
		th := tamper(h)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if bad.Load() {
				th.ServeHTTP(w, r)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	ref := reg.Host + "/t/comp:1.0.0"
	push(t, newClient(t, testOptions(t)), ref, PushRequest{Data: tinyComponent(t)})
	bad.Store(true)
	o := testOptions(t)
	_, err := newClient(t, o).Pull(context.Background(), ref, PullOptions{})
	assertFailure(t, err, ErrDigestMismatch, ref, o.CacheDir)
	// Without a cache the bytes are still verified.
	o.CacheDir = ""
	_, err = newClient(t, o).Pull(context.Background(), ref, PullOptions{})
	assertFailure(t, err, ErrDigestMismatch, ref, "")
}

func TestTamperedManifestByDigest(t *testing.T) {
	reg := newRegistry(t, nil)
	res := push(t, newClient(t, testOptions(t)), reg.Host+"/m/comp:1.0.0", PushRequest{Data: tinyComponent(t)})
	// Serve another manifest under the first one's digest.
	other := push(t, newClient(t, testOptions(t)), reg.Host+"/m/comp:2.0.0", PushRequest{Data: tinyComponent(t), Annotations: map[string]string{"a": "b"}})
	swap := newRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/manifests/"+res.Digest.String()) {
				w.Header().Set("Content-Type", MediaTypeManifest)
				_, _ = w.Write(other.Manifest)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	ref := swap.Host + "/m/comp@" + res.Digest.String()
	o := testOptions(t)
	_, err := newClient(t, o).Pull(context.Background(), ref, PullOptions{})
	assertFailure(t, err, ErrDigestMismatch, ref, o.CacheDir)
}

func TestWrongMediaType(t *testing.T) {
	reg := newRegistry(t, nil)
	ctx := context.Background()
	repo, _ := remote.NewRepository(reg.Host + "/mt/image")
	repo.PlainHTTP = true
	layer := []byte("gzip-ish")
	ld := ocispec.Descriptor{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Digest: digest.FromBytes(layer), Size: int64(len(layer))}
	cfg := []byte("{}")
	cd := ocispec.Descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Digest: digest.FromBytes(cfg), Size: 2}
	for _, b := range []struct {
		d ocispec.Descriptor
		b []byte
	}{{ld, layer}, {cd, cfg}} {
		if err := repo.Push(ctx, b.d, bytes.NewReader(b.b)); err != nil {
			t.Fatal(err)
		}
	}
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"%s","size":2},"layers":[{"mediaType":"%s","digest":"%s","size":%d}]}`,
		MediaTypeManifest, cd.MediaType, cd.Digest, ld.MediaType, ld.Digest, len(layer))
	md := ocispec.Descriptor{MediaType: MediaTypeManifest, Digest: digest.FromString(m), Size: int64(len(m))}
	if err := repo.PushReference(ctx, md, strings.NewReader(m), "1.0.0"); err != nil {
		t.Fatal(err)
	}
	ref := reg.Host + "/mt/image:1.0.0"
	o := testOptions(t)
	_, err := newClient(t, o).Pull(ctx, ref, PullOptions{})
	assertFailure(t, err, ErrMediaType, ref, o.CacheDir)

	// A provider pull refuses a component layer.
	cref := reg.Host + "/mt/comp:1.0.0"
	push(t, newClient(t, testOptions(t)), cref, PushRequest{Data: tinyComponent(t)})
	_, err = newClient(t, o).Pull(ctx, cref, PullOptions{Accept: AcceptProvider})
	assertFailure(t, err, ErrMediaType, cref, o.CacheDir)
}

func TestMissingTagAndRepo(t *testing.T) {
	reg := newRegistry(t, nil)
	push(t, newClient(t, testOptions(t)), reg.Host+"/here/comp:1.0.0", PushRequest{Data: tinyComponent(t)})
	o := testOptions(t)
	c := newClient(t, o)
	for _, ref := range []string{reg.Host + "/here/comp:9.9.9", reg.Host + "/nowhere/comp:1.0.0"} {
		_, err := c.Pull(context.Background(), ref, PullOptions{})
		assertFailure(t, err, ErrNotFound, ref, o.CacheDir)
	}
}

func TestLatestRule(t *testing.T) {
	reg := newRegistry(t, nil)
	o := testOptions(t)
	c := newClient(t, o)
	ctx := context.Background()
	for _, ref := range []string{reg.Host + "/l/comp:latest", reg.Host + "/l/comp"} {
		_, err := c.Pull(ctx, ref, PullOptions{})
		assertFailure(t, err, ErrLatestProhibited, reg.Host+"/l/comp:latest", o.CacheDir)
		if !strings.Contains(err.Error(), "--allow-latest") {
			t.Errorf("no hint: %v", err)
		}
		_, err = c.Push(ctx, ref, PushRequest{Data: tinyComponent(t)})
		assertFailure(t, err, ErrLatestProhibited, reg.Host+"/l/comp:latest", "")
	}
	if reg.Requests.Load() != 0 {
		t.Error("latest refusal made requests")
	}
	o.AllowLatest = true
	c = newClient(t, o)
	push(t, c, reg.Host+"/l/comp", PushRequest{Data: tinyComponent(t)})
	if _, err := c.Pull(ctx, reg.Host+"/l/comp:latest", PullOptions{}); err != nil {
		t.Fatal(err)
	}
	o.AllowLatest, o.LatestHint = false, "WASMCLOUD_OCI_ALLOW_LATEST"
	_, err := newClient(t, o).Pull(ctx, reg.Host+"/l/comp:latest", PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "WASMCLOUD_OCI_ALLOW_LATEST") {
		t.Errorf("host hint missing: %v", err)
	}
}

// basicAuth answers 401 until the Authorization header carries user:pass.
func basicAuth(user, pass string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, p, ok := r.BasicAuth()
			if !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// pushWithCredentials starts a registry that wants alice's basic auth and pushes a component to
// it with her credentials given explicitly: the registry, the reference and those options.
func pushWithCredentials(t *testing.T) (*ocitest.Registry, string, Options) {
	reg := newRegistry(t, basicAuth("alice", "s3cret"))
	ref := reg.Host + "/auth/comp:1.0.0"
	o := testOptions(t)
	o.Credentials = map[string]Credential{reg.Host: {Username: "alice", Password: "s3cret"}}
	push(t, newClient(t, o), ref, PushRequest{Data: tinyComponent(t)})
	return reg, ref, o
}

func TestCredentials(t *testing.T) {
	ctx := context.Background()
	// Explicit wins over environment and docker config.
	reg, ref, o := pushWithCredentials(t)

	// Wrong explicit credentials.
	o = testOptions(t)
	o.Credentials = map[string]Credential{"*": {Username: "alice", Password: "wrong"}}
	_, err := newClient(t, o).Pull(ctx, ref, PullOptions{})
	assertFailure(t, err, ErrUnauthorized, ref, o.CacheDir)

	// Anonymous.
	o = testOptions(t)
	_, err = newClient(t, o).Pull(ctx, ref, PullOptions{})
	assertFailure(t, err, ErrUnauthorized, ref, o.CacheDir)

	// Environment: host variables for this registry.
	env := map[string]string{
		"WASMCLOUD_OCI_REGISTRY":          "http://" + reg.Host,
		"WASMCLOUD_OCI_REGISTRY_USER":     "alice",
		"WASMCLOUD_OCI_REGISTRY_PASSWORD": "s3cret",
	}
	o = testOptions(t)
	o.DisableEnv = false
	o.Getenv = func(k string) string { return env[k] }
	if _, err := newClient(t, o).Pull(ctx, ref, PullOptions{}); err != nil {
		t.Fatalf("env credentials: %v", err)
	}
	// Host variables for another registry do not leak; WASH_REG_* apply to any registry.
	env = map[string]string{"WASMCLOUD_OCI_REGISTRY": "other.example", "WASMCLOUD_OCI_REGISTRY_USER": "alice", "WASMCLOUD_OCI_REGISTRY_PASSWORD": "s3cret"}
	o.CacheDir = t.TempDir()
	_, err = newClient(t, o).Pull(ctx, ref, PullOptions{})
	assertFailure(t, err, ErrUnauthorized, ref, o.CacheDir)
	env = map[string]string{"WASH_REG_USER": "alice", "WASH_REG_PASSWORD": "s3cret"}
	if _, err := newClient(t, o).Pull(ctx, ref, PullOptions{}); err != nil {
		t.Fatalf("WASH_REG credentials: %v", err)
	}

	// Docker config.
	dir := t.TempDir()
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Host, base64.StdEncoding.EncodeToString([]byte("alice:s3cret")))
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	o = testOptions(t)
	o.DisableDockerConfig = false
	if _, err := newClient(t, o).Pull(ctx, ref, PullOptions{}); err != nil {
		t.Fatalf("docker config credentials: %v", err)
	}
	// Explicit (wrong) beats the docker config.
	o.Credentials = map[string]Credential{reg.Host: {Username: "bob", Password: "x"}}
	o.CacheDir = t.TempDir()
	_, err = newClient(t, o).Pull(ctx, ref, PullOptions{})
	assertFailure(t, err, ErrUnauthorized, ref, o.CacheDir)
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ref := addr + "/gone/comp:1.0.0"
	o := testOptions(t)
	start := time.Now()
	_, err = newClient(t, o).Pull(context.Background(), ref, PullOptions{})
	assertFailure(t, err, ErrUnreachable, ref, o.CacheDir)
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	_, err = newClient(t, o).Push(context.Background(), ref, PushRequest{Data: tinyComponent(t)})
	assertFailure(t, err, ErrUnreachable, ref, "")
}

func TestPlainHTTPNeedsInsecure(t *testing.T) {
	reg := newRegistry(t, nil)
	o := testOptions(t)
	o.Insecure = false
	ref := reg.Host + "/s/comp:1.0.0"
	_, err := newClient(t, o).Pull(context.Background(), ref, PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "insecure") {
		t.Fatalf("got %v", err)
	}
	// Per-registry list.
	o.InsecureRegistries = []string{reg.Host}
	push(t, newClient(t, o), ref, PushRequest{Data: tinyComponent(t)})
}

func TestSingleflight(t *testing.T) {
	release := make(chan struct{})
	var gate atomic.Bool
	reg := newRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if gate.Load() && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
				<-release
			}
			h.ServeHTTP(w, r)
		})
	})
	ref := reg.Host + "/sf/comp:1.0.0"
	res := push(t, newClient(t, testOptions(t)), ref, PushRequest{Data: tinyComponent(t)})
	gate.Store(true)
	c := newClient(t, testOptions(t))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := ref
			if i%2 == 1 { // a different reference to the same blob shares the download too
				r = reg.Host + "/sf/comp@" + res.Digest.String()
			}
			a, err := c.Pull(context.Background(), r, PullOptions{})
			if err == nil && a.Digest != res.Digest {
				err = errors.New("wrong digest")
			}
			errs <- err
		}(i)
	}
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := reg.BlobGets.Load(); n != 1 {
		t.Errorf("%d blob downloads for 16 concurrent pulls", n)
	}
}

func TestRetries(t *testing.T) {
	var fails atomic.Int64
	fails.Store(2)
	var cut atomic.Int64
	reg := newRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
				if fails.Add(-1) >= 0 {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				if cut.Add(-1) >= 0 {
					// Promise more than we send, then drop the connection mid-body.
					w.Header().Set("Content-Length", "1000")
					w.WriteHeader(http.StatusOK)
					_, _ = w.Write([]byte("partial"))
					panic(http.ErrAbortHandler)
				}
			}
			h.ServeHTTP(w, r)
		})
	})
	ref := reg.Host + "/r/comp:1.0.0"
	fails.Store(0)
	push(t, newClient(t, testOptions(t)), ref, PushRequest{Data: tinyComponent(t)})
	fails.Store(2)
	cut.Store(1)
	a, err := newClient(t, testOptions(t)).Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), tinyComponent(t)) {
		t.Error("wrong bytes after retries")
	}
	if fails.Load() >= 0 || cut.Load() >= 0 {
		t.Errorf("faults not all exercised: %d %d", fails.Load(), cut.Load())
	}
}

// TestCredentialFuncAndResetAuth: the dynamic credential source is asked first, and after
// ResetAuth a changed answer takes effect at once (no cached Basic header is reused).
func TestCredentialFuncAndResetAuth(t *testing.T) {
	ctx := context.Background()
	reg, ref, o := pushWithCredentials(t)

	var mu sync.Mutex
	current := Credential{Username: "alice", Password: "s3cret"}
	var asked []string
	o = testOptions(t)
	o.CacheDir = ""
	o.Credentials = map[string]Credential{"*": {Username: "alice", Password: "wrong"}} // must lose
	o.CredentialHint = "use registry.put"
	o.CredentialFunc = func(_ context.Context, registry string) (Credential, bool) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, registry)
		return current, SameRegistry(registry, "http://"+reg.Host+"/")
	}
	c := newClient(t, o)
	if _, err := c.Pull(ctx, ref, PullOptions{}); err != nil {
		t.Fatalf("CredentialFunc credentials: %v", err)
	}
	if len(asked) == 0 || asked[0] != reg.Host {
		t.Errorf("CredentialFunc asked for %v, want %s", asked, reg.Host)
	}
	mu.Lock()
	current = Credential{Username: "alice", Password: "revoked"}
	mu.Unlock()
	if _, err := c.Pull(ctx, ref, PullOptions{}); err != nil {
		t.Fatalf("cached header should still be used before ResetAuth: %v", err)
	}
	c.ResetAuth()
	_, err := c.Pull(ctx, ref, PullOptions{})
	assertFailure(t, err, ErrUnauthorized, ref, "")
	if !strings.Contains(err.Error(), "use registry.put") {
		t.Errorf("error %q lacks the credential hint", err)
	}
}

func TestMaxSize(t *testing.T) {
	reg := newRegistry(t, nil)
	ref := reg.Host + "/big/comp:1.0.0"
	data := bigComponent(64 << 10)
	push(t, newClient(t, testOptions(t)), ref, PushRequest{Data: data})
	reg.BlobGets.Store(0)
	o := testOptions(t)
	_, err := newClient(t, o).Pull(context.Background(), ref, PullOptions{MaxSize: 1000})
	assertFailure(t, err, ErrTooLarge, ref, o.CacheDir)
	if n := reg.BlobGets.Load(); n != 0 {
		t.Errorf("%d blob downloads for an artifact over the limit", n)
	}
	if _, err := newClient(t, o).Pull(context.Background(), ref, PullOptions{MaxSize: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
}

func TestRegistryAuthority(t *testing.T) {
	for in, want := range map[string]string{
		"https://GHCR.io/": "ghcr.io", "oci://127.0.0.1:5000/x/y": "127.0.0.1:5000", "localhost:5000": "localhost:5000",
	} {
		if got := RegistryAuthority(in); got != want {
			t.Errorf("RegistryAuthority(%q) = %q, want %q", in, got, want)
		}
	}
	if !SameRegistry("docker.io", "https://registry-1.docker.io") || SameRegistry("ghcr.io", "docker.io") {
		t.Error("SameRegistry")
	}
}

// TestCacheRehashesChangedFiles: the hash is skipped only for the very file that verified;
// a file changed in place (new mtime) or read by a fresh process is hashed again.
func TestCacheRehashesChangedFiles(t *testing.T) {
	dir := t.TempDir()
	c, err := OpenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	good := []byte("hello, cache")
	d := digest.FromBytes(good)
	if err := c.Put(d, good); err != nil {
		t.Fatal(err)
	}
	if b, ok, err := c.Read(d); err != nil || !ok || !bytes.Equal(b, good) {
		t.Fatalf("read: %q %v %v", b, ok, err)
	}
	bad := []byte("jello, cache")
	st, _ := os.Stat(c.BlobPath(d))
	if err := os.WriteFile(c.BlobPath(d), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	// Another process's view: a fresh Cache, the old mtime put back.
	_ = os.Chtimes(c.BlobPath(d), st.ModTime(), st.ModTime())
	fresh, _ := OpenCache(dir)
	if _, ok, _ := fresh.Read(d); ok {
		t.Fatal("fresh cache served a corrupted blob")
	}
	if err := c.Put(d, good); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.Read(d); !ok {
		t.Fatal("re-put blob not served")
	}
	if err := os.WriteFile(c.BlobPath(d), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Chtimes(c.BlobPath(d), st.ModTime().Add(time.Second), st.ModTime().Add(time.Second))
	if _, ok, _ := c.Read(d); ok {
		t.Fatal("blob changed in place was served without re-hashing")
	}
}

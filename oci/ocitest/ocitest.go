// Package ocitest runs real OCI registries on 127.0.0.1 for tests: the in-process
// go-containerregistry registry (with request counters, optional Basic auth and fault
// injection) and Debian's docker-registry (the CNCF distribution reference implementation) as a
// separate process with htpasswd auth.
package ocitest

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmlattice/wash/internal/testtool"

	"github.com/google/go-containerregistry/pkg/registry"
	"golang.org/x/crypto/bcrypt"
)

// Registry is an in-process registry with request counters.
type Registry struct {
	// Host is the registry authority, 127.0.0.1:PORT.
	Host string
	// URL is http://Host.
	URL string

	Requests  atomic.Int64 // every request
	BlobGets  atomic.Int64 // GET …/blobs/sha256:…
	Manifests atomic.Int64 // any request on …/manifests/…
	srv       *httptest.Server
}

// Options configure NewRegistry.
type Options struct {
	// Username and Password, when set, require HTTP Basic auth on every request.
	Username, Password string
	// Wrap, when set, wraps the registry handler (inside auth and counting), e.g. to corrupt
	// responses.
	Wrap func(http.Handler) http.Handler
}

// NewRegistry serves an in-memory registry on 127.0.0.1 until the test ends.
func NewRegistry(t testing.TB, o Options) *Registry {
	t.Helper()
	r := &Registry{}
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if o.Wrap != nil {
		h = o.Wrap(h)
	}
	if o.Username != "" {
		inner := h
		h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if u, p, ok := req.BasicAuth(); !ok || u != o.Username || p != o.Password {
				w.Header().Set("WWW-Authenticate", `Basic realm="ocitest"`)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
				return
			}
			inner.ServeHTTP(w, req)
		})
	}
	counted := h
	h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.Requests.Add(1)
		if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/sha256:") {
			r.BlobGets.Add(1)
		}
		if strings.Contains(req.URL.Path, "/manifests/") {
			r.Manifests.Add(1)
		}
		counted.ServeHTTP(w, req)
	})
	r.srv = httptest.NewServer(h) // httptest listens on 127.0.0.1
	t.Cleanup(r.srv.Close)
	r.URL = r.srv.URL
	r.Host = strings.TrimPrefix(r.srv.URL, "http://")
	return r
}

// CorruptBlobs returns a Wrap that flips the last byte of every blob served from repositories
// whose path contains repoPart, so digest checks must catch it.
func CorruptBlobs(repoPart string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.Method != http.MethodGet || !strings.Contains(req.URL.Path, repoPart) || !strings.Contains(req.URL.Path, "/blobs/") {
				next.ServeHTTP(w, req)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, req)
			body := rec.Body.Bytes()
			if rec.Code == http.StatusOK && len(body) > 0 {
				body[len(body)-1] ^= 0xff
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body)
		})
	}
}

// DistributionBinary is where Debian's docker-registry package installs the registry.
const DistributionBinary = "/usr/bin/docker-registry"

// StartDistribution runs docker-registry on a free loopback port with filesystem storage in a
// temp dir and, when user is not empty, htpasswd Basic auth. It returns the authority
// (127.0.0.1:PORT). The test fails when the binary is missing (.ci/run installs it).
func StartDistribution(t testing.TB, user, pass string) string {
	t.Helper()
	bin := testtool.Path(t, "docker-registry", "docker-registry", DistributionBinary)
	dir := t.TempDir()
	authCfg := ""
	if user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		authCfg = fmt.Sprintf("auth:\n  htpasswd:\n    realm: wash-test\n    path: %s\n", htpasswd)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n%s",
		filepath.Join(dir, "data"), addr, authCfg)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("docker-registry output:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not come up on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

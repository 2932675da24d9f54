package providers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/wasmlattice/wash/internal/testtool"
)

// echoInvoker answers with the component id, so routing is visible.
type echoInvoker struct{}

func (echoInvoker) ServeComponentHTTP(_ context.Context, id string, w http.ResponseWriter, _ *http.Request) error {
	if id == "gone" {
		return fmt.Errorf("%s: %w", id, ErrComponentNotFound)
	}
	fmt.Fprint(w, id)
	return nil
}

func freeAddr(t *testing.T) string { return fmt.Sprintf("127.0.0.1:%d", testtool.FreePort(t)) }

func link(target, key, value string) Link {
	return Link{SourceID: "http", Target: target, Name: target, WitNamespace: "wasi", WitPackage: "http",
		Interfaces: []string{"incoming-handler"}, SourceConfig: map[string]string{key: value}}
}

func fetch(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestPathAndHostRouting(t *testing.T) {
	ctx := context.Background()
	addr := freeAddr(t)
	s, err := Start(HTTPServerName, "http", map[string]string{"routing_mode": "path", "default_address": addr}, Deps{HTTP: echoInvoker{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(ctx)
	for _, l := range []Link{link("api", "path", "/api"), link("root", "path", "/"), link("gone", "path", "/gone")} {
		if err := s.PutLink(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutLink(ctx, link("other", "path", "/api")); err == nil {
		t.Fatal("two components on one path accepted")
	}
	for path, want := range map[string]string{"/api": "api", "/api/x": "api", "/apix": "root", "/": "root"} {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		if code, body := fetch(t, req); code != 200 || body != want {
			t.Errorf("%s: %d %q, want %q", path, code, body, want)
		}
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/gone", nil)
	if code, _ := fetch(t, req); code != http.StatusServiceUnavailable {
		t.Errorf("missing component: %d", code)
	}

	haddr := freeAddr(t)
	h, err := Start(HTTPServerName, "http", map[string]string{"routing_mode": "host", "default_address": haddr}, Deps{HTTP: echoInvoker{}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop(ctx)
	if err := h.PutLink(ctx, link("a", "host", "a.example")); err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("GET", "http://"+haddr+"/", nil)
	req.Host = "A.example:8000"
	if code, body := fetch(t, req); code != 200 || body != "a" {
		t.Errorf("host route: %d %q", code, body)
	}
	req, _ = http.NewRequest("GET", "http://"+haddr+"/", nil)
	req.Host = "b.example"
	if code, _ := fetch(t, req); code != http.StatusNotFound {
		t.Errorf("unknown host: %d", code)
	}
	if _, err := Start(HTTPServerName, "x", map[string]string{"routing_mode": "weird"}, Deps{}); err == nil {
		t.Fatal("bad routing_mode accepted")
	}
	if _, err := Start("nope", "x", nil, Deps{}); err == nil {
		t.Fatal("unknown builtin accepted")
	}
}

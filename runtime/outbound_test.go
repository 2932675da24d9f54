package runtime

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// The upstream plugin fetches a dog picture over wasi:http/outgoing-handler. A transport
// that sends every request to a local server lets the test see the request and answer it.
func TestOutboundHTTPAllowList(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.Host+r.URL.RequestURI())
		mu.Unlock()
		w.Header().Set("content-type", "application/json")
		fmt.Fprint(w, `{"message":"https://images.dog.ceo/breeds/hound/1.jpg","status":"success"}`)
	}))
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	client := &http.Client{Transport: &http.Transport{
		// the test server's certificate is not for dog.ceo
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // test only
		DialContext: func(ctx context.Context, network, _ string) (netConn, error) {
			return (&netDialer{}).DialContext(ctx, network, target.Host)
		},
	}}
	e := newEngine(t, Options{MaxExecutionTime: 30 * time.Second})
	p := compileFile(t, e, "hello_plugin_s.wasm")
	var out, errOut strings.Builder
	_, err := p.RunCommand(context.Background(), InstanceConfig{
		Args: []string{"--foo", "bar", "somepath"}, Stdout: &out, Stderr: &errOut,
		AllowedHosts: []string{"dog.ceo", "*.dog.ceo"}, HTTPClient: client,
	})
	if err != nil {
		t.Fatalf("%v\nstdout %q\nstderr %q", err, out.String(), errOut.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || !strings.Contains(seen[0], "dog.ceo") {
		t.Fatalf("requests seen by the server: %q (stdout %q, stderr %q)", seen, out.String(), errOut.String())
	}
	if strings.Contains(errOut.String(), "HttpRequestDenied") {
		t.Fatalf("allowed host denied: %q", errOut.String())
	}
	if !strings.Contains(out.String(), "success! Here have a dog picture: https://images.dog.ceo/breeds/hound/1.jpg") {
		t.Fatalf("guest did not read the response: %q", out.String())
	}
}

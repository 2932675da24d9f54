package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/testmanifest"
)

// testdataWasm is a checked-in WAT component under lattice/host/providers/testdata.
func testdataWasm(t *testing.T, name string) string {
	t.Helper()
	wasm, err := filepath.Abs(fmt.Sprintf("../lattice/host/providers/testdata/%s/%s.component.wasm", name, name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(wasm); err != nil {
		t.Fatalf("%s component missing (rebuild with lattice/host/providers/testdata/%s/build.sh): %v", name, name, err)
	}
	return wasm
}

// messagingManifest is the shape of upstream's messaging examples: the component links to the
// provider on [consumer], the provider links to the component on [handler] with the
// subscriptions in its source config.
func messagingManifest(wasm, subscriptions string) string {
	messaging := func(target, iface string) testmanifest.Link {
		return testmanifest.Link{Target: target, Namespace: "wasmcloud", Package: "messaging", Interfaces: []string{iface}}
	}
	handler := messaging("echo", "handler")
	handler.SourceConfig = []testmanifest.Config{{Name: "echo-subscriptions", Properties: map[string]string{"subscriptions": subscriptions}}}
	return testmanifest.App{Name: "echo", Version: "v0.0.1", Components: []testmanifest.Component{
		testmanifest.Wasm("echo", wasm, 4).Link(messaging("nats", "consumer")),
		testmanifest.Builtin("nats", "messaging-nats").Link(handler),
	}}.YAML()
}

// blobManifest serves the blobhttp component on httpAddr, storing objects under root.
func blobManifest(wasm, httpAddr, root string) string {
	return testmanifest.App{Name: "blobs", Version: "v0.0.1", Components: []testmanifest.Component{
		testmanifest.Wasm("blobhttp", wasm, 4).Link(testmanifest.Link{Target: "files",
			TargetConfig: []testmanifest.Config{{Name: "blob-root", Properties: map[string]string{"root": root}}},
			Namespace:    "wasi", Package: "blobstore", Interfaces: []string{"blobstore", "container", "types"}}),
		testmanifest.Builtin("files", "blobstore-fs"),
		testmanifest.HTTPServer("blobhttp", "blobs-http", httpAddr),
	}}.YAML()
}

// The messaging echo and the blobstore apps through wash up and wash app deploy.
func TestMessagingAndBlobstoreApps(t *testing.T) {
	if testing.Short() {
		t.Skip("starts wash up and two deployments")
	}
	e := upLattice(t)
	nc := e.natsConn(t)

	t.Run("messaging", func(t *testing.T) {
		e.must("app", "deploy", writeManifest(t, messagingManifest(testdataWasm(t, "msgecho"), "demo.>")), "--ctl-port", e.portArg())
		var reply *nats.Msg
		var err error
		if !poll(45*time.Second, 0, func() bool {
			reply, err = nc.Request("demo.hello", []byte("from wadm"), 500*time.Millisecond)
			return err == nil
		}) {
			t.Fatalf("demo.hello: %v\nstatus:\n%s", err, e.run("app", "status", "echo", "--ctl-port", e.portArg()))
		}
		if string(reply.Data) != "echo: from wadm" {
			t.Fatalf("reply %q", reply.Data)
		}
		e.must("app", "undeploy", "echo", "--ctl-port", e.portArg())
		if !poll(45*time.Second, 0, func() bool {
			_, err := nc.Request("demo.hello", []byte("x"), 300*time.Millisecond)
			return err != nil
		}) {
			t.Fatal("still answered after undeploy")
		}
	})

	t.Run("blobstore", func(t *testing.T) {
		root := filepath.Join(t.TempDir(), "blobs")
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		e.must("app", "deploy", writeManifest(t, blobManifest(testdataWasm(t, "blobhttp"), addr, root)), "--ctl-port", e.portArg())
		base := "http://" + addr
		var code int
		var body string
		var err error
		if !poll(45*time.Second, 100*time.Millisecond, func() bool {
			code, body, err = put(base+"/notes/a.txt", "stored through wadm")
			return err == nil && code == 200
		}) {
			t.Fatalf("PUT: %d %q %v\nstatus:\n%s", code, body, err, e.run("app", "status", "blobs", "--ctl-port", e.portArg()))
		}
		if code, body, err := httpGet(base + "/notes/a.txt"); err != nil || code != 200 || body != "stored through wadm" {
			t.Fatalf("GET: %d %q %v", code, body, err)
		}
		if code, body, err := httpGet(base + "/"); err != nil || code != 200 || body != "notes/a.txt\n" {
			t.Fatalf("list: %d %q %v", code, body, err)
		}
		if b, err := os.ReadFile(filepath.Join(root, "data", "notes", "a.txt")); err != nil || string(b) != "stored through wadm" {
			t.Fatalf("file: %q %v", b, err)
		}
		if code, body, err := put(base+"/../outside", "x"); err != nil || code != 500 || !strings.Contains(body, "invalid object name") {
			t.Fatalf("PUT /../outside: %d %q %v", code, body, err)
		}
		if _, err := os.Stat(filepath.Join(root, "outside")); err == nil {
			t.Fatal("an object escaped its container")
		}
	})
}

func put(url, body string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

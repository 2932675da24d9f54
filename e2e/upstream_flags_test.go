package e2e

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/wasmlattice/wash/internal/testmanifest"
)

const guestWasm = "../lattice/host/testdata/secrets/secrets.component.wasm"

// TestUpstreamArtifactFlags: -V, completions -d, par create -v VENDOR, push --monolithic-push,
// WASH_PROXY_USERNAME/PASSWORD, app validate --check-image-refs and drain, each as a script
// written for upstream wash calls them.
func TestUpstreamArtifactFlags(t *testing.T) {
	e := newEnv(t)
	if r := e.must("-V"); !strings.HasPrefix(r.stdout, "wash ") || !strings.Contains(r.stdout, "├ nats-server") {
		t.Fatalf("wash -V:\n%s", r.stdout)
	}
	var v map[string]string
	decodeJSON(t, e.must("-V", "-o", "json").stdout, &v)
	if v["wash"] == "" || v["wasmcloud"] == "" {
		t.Fatalf("wash -V -o json: %v", v)
	}

	dir := t.TempDir()
	for sh, file := range map[string]string{"zsh": "_wash", "bash": "wash.bash", "fish": "wash.fish", "power-shell": "_wash.ps1"} {
		r := e.must("completions", "-d", dir, sh)
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil || len(b) < 100 || !strings.Contains(r.stdout, filepath.Join(dir, file)) {
			t.Fatalf("completions %s: %v (%d bytes)\n%s", sh, err, len(b), r)
		}
	}

	// par create: -v is the vendor (upstream), not the version.
	bin := filepath.Join(t.TempDir(), "prov")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	parFile := filepath.Join(t.TempDir(), "prov.par.gz")
	e.must("par", "create", "-b", bin, "-n", "Prov", "-v", "acme", "--version", "1.2.3", "-r", "4", "--destination", parFile, "--compress")
	if r := e.must("inspect", parFile, "-o", "json"); !strings.Contains(r.stdout, `"vendor": "acme"`) || !strings.Contains(r.stdout, "1.2.3") {
		t.Fatalf("par create -v acme:\n%s", r.stdout)
	}

	// A registry, and a proxy in front of it that wants credentials.
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	regHost := strings.TrimPrefix(reg.URL, "http://")
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("proxyuser:proxypw"))
	proxied := 0
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Proxy-Authorization") != want {
			w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
			http.Error(w, "proxy credentials required", http.StatusProxyAuthRequired)
			return
		}
		proxied++
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.URL.Host = regHost // registry.test:5000 lives here
		out.Header.Del("Proxy-Authorization")
		res, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		for k, vs := range res.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	}))
	defer proxy.Close()

	ref := regHost + "/acme/guest:0.1.0"
	if r := e.must("push", ref, guestWasm, "--insecure", "--monolithic-push"); !strings.Contains(r.stdout, "digest") {
		t.Fatalf("push --monolithic-push:\n%s", r)
	}
	if r := e.runIn("", []string{"WASH_MONOLITHIC_PUSH=true"}, "push", regHost+"/acme/guest:0.1.1", guestWasm, "--insecure"); r.code != 0 {
		t.Fatalf("push with WASH_MONOLITHIC_PUSH:\n%s", r)
	}
	viaProxy := "registry.test:5000/acme/guest:0.1.0"
	proxyEnv := []string{"HTTP_PROXY=" + proxy.URL, "http_proxy=" + proxy.URL, "NO_PROXY=", "no_proxy="}
	dest := filepath.Join(t.TempDir(), "pulled.wasm")
	if r := e.runIn("", proxyEnv, "pull", viaProxy, "--insecure", "--destination", dest); r.code == 0 || !strings.Contains(r.stderr, "407") {
		t.Fatalf("pull through the proxy without credentials:\n%s", r)
	}
	withCreds := append(proxyEnv, "WASH_PROXY_USERNAME=proxyuser", "WASH_PROXY_PASSWORD=proxypw")
	if r := e.runIn("", withCreds, "pull", viaProxy, "--insecure", "--destination", dest); r.code != 0 || proxied == 0 {
		t.Fatalf("pull through the proxy with WASH_PROXY_USERNAME/PASSWORD:\n%s", r)
	}

	// app validate --check-image-refs asks the registry for each image.
	manifest := func(image string) string {
		return writeManifest(t, testmanifest.App{Name: "refs", Version: "v1",
			Components: []testmanifest.Component{{Name: "c", Image: image, Scaler: &testmanifest.Scaler{Instances: 1}}}}.YAML())
	}
	e.must("app", "validate", manifest(ref), "--check-image-refs", "--insecure")
	missing := manifest(regHost + "/acme/nope:9.9.9")
	e.must("app", "validate", missing) // without the flag the registry is not asked
	if r := e.run("app", "validate", missing, "--check-image-refs", "--insecure"); r.code != 1 || !strings.Contains(r.stdout+r.stderr, "cannot be fetched") {
		t.Fatalf("validate --check-image-refs of a missing image:\n%s", r)
	}

	// drain oci empties the artifact cache the pushes and the pull filled.
	blobs, _ := filepath.Glob(filepath.Join(e.home, "oci-cache", "blobs", "sha256", "*"))
	if len(blobs) == 0 {
		t.Fatal("nothing cached to drain")
	}
	if r := e.must("drain", "oci"); !strings.Contains(r.stdout, filepath.Join(e.home, "oci-cache")) {
		t.Fatalf("drain oci:\n%s", r)
	}
	if left, _ := filepath.Glob(filepath.Join(e.home, "oci-cache", "blobs", "sha256", "*")); len(left) != 0 {
		t.Fatalf("drain oci left %v", left)
	}
}

// TestUpstreamLatticeFlags: scale in upstream's argument order, app deploy --replace, app list
// --watch, app delete --all-undeployed, and drain refused while hosts run.
func TestUpstreamLatticeFlags(t *testing.T) {
	e := newEnv(t)
	p := e.portArg()
	up := e.must("up", "-d", "--nats-port", p, "-o", "json")
	var info struct {
		HostID string `json:"host_id"`
	}
	decodeJSON(t, up.stdout, &info)
	defer e.run("down", "--all")
	wasm, _ := filepath.Abs(guestWasm)

	e.must("scale", "component", info.HostID, "file://"+wasm, "guest", "-c", "3", "-p", p)
	e.must("scale", "component", "file://"+wasm, "guest", "--max", "5", "-p", p)
	var inv struct {
		Inventories []struct {
			Components []struct {
				ID  string `json:"id"`
				Max uint32 `json:"max_instances"`
			} `json:"components"`
		} `json:"inventories"`
	}
	decodeJSON(t, e.must("get", "inventory", "-p", p, "-o", "json").stdout, &inv)
	if len(inv.Inventories) != 1 || len(inv.Inventories[0].Components) != 1 || inv.Inventories[0].Components[0].Max != 5 {
		t.Fatalf("after scale HOST REF ID -c 3 then scale REF ID --max 5: %+v", inv)
	}
	if r := e.run("scale", "component", "NOTTHISHOST", "file://"+wasm, "guest", "--host-id", info.HostID, "-p", p); r.code != 2 {
		t.Fatalf("host given twice:\n%s", r)
	}
	e.must("stop", "component", "guest", "-p", p)

	m := writeManifest(t, testmanifest.App{Name: "upstream-app", Version: "v1",
		Components: []testmanifest.Component{testmanifest.Wasm("g", wasm, 1)}}.YAML())
	e.must("app", "deploy", m, "-p", p)
	// The same name and version again fails without --replace and works with it.
	if r := e.run("app", "deploy", m, "-p", p); r.code == 0 {
		t.Fatalf("deploying the same version twice should fail:\n%s", r)
	}
	e.must("app", "deploy", m, "--replace", "-p", p)

	// app list --watch (and app get --watch, which upstream makes the same) redraw until
	// interrupted.
	for _, args := range [][]string{{"app", "list", "-w", "200"}, {"app", "get", "upstream-app", "--watch=200ms"}} {
		cmd := exec.Command(washBin, append(args, "-p", p)...)
		cmd.Env = e.washEnv()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		tables := 0
		deadline := time.Now().Add(20 * time.Second)
		for tables < 2 && sc.Scan() {
			if strings.Contains(sc.Text(), "upstream-app") {
				tables++
			}
			if time.Now().After(deadline) {
				break
			}
		}
		_ = cmd.Process.Signal(syscall.SIGINT)
		if err := cmd.Wait(); err != nil || tables < 2 {
			t.Fatalf("%v: %d tables, exit %v", args, tables, err)
		}
	}

	e.must("app", "undeploy", "upstream-app", "-p", p)
	// undeploy returns once wadm has accepted it; --all-undeployed picks apps by their status
	// (as upstream wash does), which wadm sets when it has acted on the undeploy
	waitStatus(t, e, "upstream-app", "undeployed")
	r := e.must("app", "delete", "--all-undeployed", "-p", p, "-o", "json")
	var del struct {
		Deleted []struct {
			Name string `json:"model_name"`
		} `json:"deleted_applications"`
	}
	decodeJSON(t, r.stdout, &del)
	if len(del.Deleted) != 1 || del.Deleted[0].Name != "upstream-app" {
		t.Fatalf("delete --all-undeployed: %s", r.stdout)
	}
	var list struct {
		Applications []json.RawMessage `json:"applications"`
	}
	decodeJSON(t, e.must("app", "list", "-p", p, "-o", "json").stdout, &list)
	if len(list.Applications) != 0 {
		t.Fatalf("applications left: %d", len(list.Applications))
	}

	if r := e.run("drain", "all"); r.code != 1 || !strings.Contains(r.stderr, "still run") {
		t.Fatalf("drain all while a host runs:\n%s", r)
	}
}

// TestUpstreamXDGDirectories: without WASH_HOME, contexts and keys that upstream wash 0.43 keeps
// in its XDG directories are used when wash has none of its own.
func TestUpstreamXDGDirectories(t *testing.T) {
	fake := t.TempDir()
	ctxDir := filepath.Join(fake, ".config", "wash", "contexts")
	keysDir := filepath.Join(fake, ".local", "share", "wash", "keys")
	for _, d := range []string{ctxDir, keysDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "prod.json"), []byte(`{"name":"prod","ctl_host":"nats.prod.example","ctl_port":4333,"lattice":"prod"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "default"), []byte("prod"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) result {
		var env []string
		for _, kv := range os.Environ() {
			k, _, _ := strings.Cut(kv, "=")
			switch k {
			case "WASH_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "WASH_KEYS", "WASH_CONTEXT_DIR", "HOME":
				continue
			}
			env = append(env, kv)
		}
		return runWash(t, "", append(env, "HOME="+fake, "NO_COLOR=1"), args...)
	}
	if r := run("ctx", "list"); r.code != 0 || !strings.Contains(r.stdout, "prod") || !strings.Contains(r.stdout, ctxDir) {
		t.Fatalf("ctx list with upstream's contexts:\n%s", r)
	}
	bin := filepath.Join(t.TempDir(), "prov")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := run("par", "create", "-b", bin, "-n", "P", "-v", "acme", "--destination", filepath.Join(t.TempDir(), "p.par")); r.code != 0 {
		t.Fatalf("par create:\n%s", r)
	}
	if nks, _ := filepath.Glob(filepath.Join(keysDir, "*.nk")); len(nks) != 2 {
		t.Fatalf("keys should be made in upstream's keys directory %s, found %v", keysDir, nks)
	}
	if _, err := os.Stat(filepath.Join(fake, ".wash", "keys")); err == nil {
		t.Fatal("keys also went to ~/.wash/keys")
	}
}

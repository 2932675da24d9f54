package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// servedLattice is a one-host lattice serving examples/hello-http on a free address: the "other
// app" that hostile or mistaken input must never take down.
type servedLattice struct {
	*env
	addr string // where hello-http answers
	dir  string // the manifest's directory
}

func startServedLattice(t *testing.T, upArgs ...string) *servedLattice {
	t.Helper()
	return startServedLatticeIn(t, newEnv(t), upArgs...)
}

// startServedLatticeIn is startServedLattice in a given environment (its port may be a NATS
// server the test runs).
func startServedLatticeIn(t *testing.T, e *env, upArgs ...string) *servedLattice {
	t.Helper()
	l := &servedLattice{env: e, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), dir: t.TempDir()}
	manifest := exampleHelloHTTP(t, l.dir, l.addr)
	l.must(append([]string{"up", "-d", "--nats-port", l.portArg()}, upArgs...)...)
	t.Cleanup(func() { l.run("down", "--all", "-p", l.portArg()) })
	l.must("app", "deploy", manifest, "-p", l.portArg())
	l.serving(t)
	return l
}

// serving checks that hello-http still answers.
func (l *servedLattice) serving(t *testing.T) {
	t.Helper()
	res, err := http.Get("http://" + l.addr + "/still")
	if err != nil {
		t.Fatalf("hello-http stopped serving: %v\ninventory:\n%s", err, l.run("get", "inventory", "-p", l.portArg()))
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "hello from a WAT component, path=/still\n" {
		t.Fatalf("hello-http answers %d %q", res.StatusCode, body)
	}
}

// fails runs wash, wants a non-zero exit with a one-line error that says every want.
func (l *servedLattice) fails(t *testing.T, want []string, args ...string) result {
	t.Helper()
	r := l.run(args...)
	cmd := strings.Join(args, " ")
	if len(cmd) > 120 {
		cmd = cmd[:120] + "…"
	}
	if r.code == 0 {
		t.Fatalf("wash %s succeeded; want an error:\n%s", cmd, r)
	}
	// One error line (usage errors add the usual pointer to --help).
	msg := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(r.stderr), "Run 'wash --help' for usage."))
	if strings.Count(msg, "\n") > 0 || !strings.HasPrefix(msg, "error: ") {
		t.Fatalf("wash %s: want one error line, got:\n%s", cmd, r)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Fatalf("wash %s: error does not say %q:\n%s", cmd, w, r)
		}
	}
	return r
}

// TestHostileInput feeds one lattice the inputs of issue #13 and checks each is refused with a
// one-line error while the deployed app keeps serving.
func TestHostileInput(t *testing.T) {
	l := startServedLattice(t, "--max-provider-size-bytes", "67108864")
	p := l.portArg()

	t.Run("unbounded artifacts", func(t *testing.T) {
		for _, dev := range []string{"/dev/zero", "/dev/urandom"} {
			l.fails(t, []string{dev, "larger than the 50 MiB limit", "--max-component-size-bytes"},
				"start", "component", "file://"+dev, "z", "-p", p)
			l.fails(t, []string{dev, "larger than the 64 MiB limit", "--max-provider-size-bytes"},
				"start", "provider", "file://"+dev, "zp", "-p", p)
			l.fails(t, []string{dev, "larger than the 16 MiB limit"}, "app", "deploy", dev, "-p", p)
			l.serving(t)
		}
	})

	t.Run("address in use", func(t *testing.T) {
		// A second app on the address hello-http serves: its http-server cannot listen, wadm
		// reports the app failed and `app deploy` exits non-zero.
		clash := l.manifest(t, "hello-clash", l.addr)
		r := l.fails(t, []string{"hello-clash", "Unhealthy provider", "cannot listen on " + l.addr, "address already in use"}, "app", "deploy", clash, "-p", p, "--timeout", "60s")
		if strings.Contains(r.stdout, "Deployed") {
			t.Fatalf("deploy printed success:\n%s", r)
		}
		if st := l.run("app", "status", "hello-clash", "-p", p); !strings.Contains(st.stdout, "Failed") {
			t.Fatalf("status of the clashing app:\n%s", st)
		}
		ev := l.must("get", "inventory", "-p", p, "-o", "json").stdout
		if !strings.Contains(ev, "hello_clash-httpserver") {
			t.Fatalf("the clashing provider is not running:\n%s", ev)
		}
		l.serving(t)
		l.must("app", "delete", "hello-clash", "-p", p)
		l.serving(t)
	})

	t.Run("upgrade moves the listener", func(t *testing.T) {
		// A new version with another address: the config changes under the same name, and
		// the running http-server moves its listener.
		moved := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		l.must("app", "deploy", l.manifest(t, "hello-http", moved), "-p", p)
		old := l.addr
		l.addr = moved
		deadline := time.Now().Add(30 * time.Second)
		for {
			res, err := http.Get("http://" + moved + "/still")
			if err == nil {
				res.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("nothing listens on the new address %s: %v", moved, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		l.serving(t)
		for time.Now().Before(deadline) && listeningOn(old) {
			time.Sleep(100 * time.Millisecond)
		}
		if listeningOn(old) {
			t.Fatalf("the old address %s still serves after the upgrade", old)
		}
	})
}

func listeningOn(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// manifest writes a copy of hello-http named app, listening on addr, and returns its path.
func (l *servedLattice) manifest(t *testing.T, app, addr string) string {
	t.Helper()
	path := filepath.Join(l.dir, fmt.Sprintf("%s-%d.yaml", app, time.Now().UnixNano()))
	helloHTTPManifest(t, path, app, addr)
	return path
}

// TestDownChecksProcessIdentity: records whose pid now belongs to another process (the host
// died, the pid was reused) are pruned, and that process is never signalled.
func TestDownChecksProcessIdentity(t *testing.T) {
	e := newEnv(t)
	stranger := exec.Command("sleep", "300")
	if err := stranger.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stranger.Process.Kill(); _ = stranger.Wait() }()
	pid := stranger.Process.Pid
	url := "nats://127.0.0.1:" + e.portArg()
	// What a wash process wrote before it died, its pid now taken by `sleep`.
	writeRecord(t, filepath.Join(e.home, "hosts", "NDEAD.json"), map[string]any{
		"host_id": "NDEAD", "friendly_name": "dead-host", "lattice": "default", "pid": pid,
		"proc_start": "1", "exe": "/opt/wash", "nats_url": url, "owns_nats": true})
	writeRecord(t, filepath.Join(e.home, "nats-"+e.portArg()+".json"), map[string]any{
		"pid": pid, "proc_start": "1", "exe": "/opt/wash", "url": url, "host": "127.0.0.1", "port": e.port})

	r := e.run("down", "--all", "-p", e.portArg())
	if r.code != 0 {
		t.Fatalf("down: %s", r)
	}
	time.Sleep(200 * time.Millisecond)
	if stranger.ProcessState != nil || !alive(pid) {
		t.Fatalf("wash down signalled pid %d, which belongs to another process now:\n%s", pid, r)
	}
	if left, _ := filepath.Glob(filepath.Join(e.home, "hosts", "*.json")); len(left) != 0 {
		t.Fatalf("stale host records kept: %v", left)
	}
	if _, err := os.Stat(filepath.Join(e.home, "nats-"+e.portArg()+".json")); err == nil {
		t.Fatal("stale NATS record kept")
	}
}

func writeRecord(t *testing.T, path string, v map[string]any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDetachedSecretsNotInArgv: the detached host gets --oci-password and its seed without
// either showing in /proc/<pid>/cmdline or /proc/<pid>/environ.
func TestDetachedSecretsNotInArgv(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("needs /proc") // Linux only: other systems show argv through ps
	}
	kp, err := nkeys.CreateServer()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	id, _ := kp.PublicKey()
	const password = "s3cret-pw-e2e"
	e := newEnv(t)
	e.must("up", "-d", "--nats-port", e.portArg(), "--host-seed", string(seed),
		"--oci-registry", "127.0.0.1:5999", "--oci-user", "me", "--oci-password", password)
	defer e.run("down", "--all", "-p", e.portArg())
	// The host got its seed: it has the id the seed makes.
	if out := e.must("get", "hosts", "-p", e.portArg()).stdout; !strings.Contains(out, id) {
		t.Fatalf("host id %s not running:\n%s", id, out)
	}
	pids := e.pids()
	if len(pids) == 0 {
		t.Fatal("no recorded process")
	}
	for _, pid := range pids {
		for _, f := range []string{"cmdline", "environ"} {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f))
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{password, string(seed)} {
				if strings.Contains(string(b), secret) {
					t.Errorf("/proc/%d/%s contains a secret: %q", pid, f, strings.ReplaceAll(string(b), "\x00", " "))
				}
			}
		}
	}
}

// TestHostLogBounded: a trap flood costs the host log a few lines and a count, and the log
// rotates by size keeping --host-log-keep files.
func TestHostLogBounded(t *testing.T) {
	t.Setenv("WASH_LOG_REPEAT_WINDOW", "2s")
	wasm, err := filepath.Abs("../lattice/host/testdata/httplimits/httplimits.component.wasm")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	p := e.portArg()
	up := e.must("up", "-d", "--nats-port", p, "--host-log-max-bytes", "512", "--host-log-keep", "2", "-o", "json")
	defer e.run("down", "--all", "-p", p)
	var info struct {
		Log string `json:"host_log"`
	}
	decodeJSON(t, up.stdout, &info)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	e.must("start", "component", "file://"+wasm, "limits", "-p", p)
	e.must("start", "provider", "wasmcloud+builtin://http-server", "flood-http", "-p", p)
	e.must("config", "put", "flood-addr", "address="+addr, "-p", p)
	e.must("link", "put", "flood-http", "limits", "wasi", "http", "--interface", "incoming-handler", "--source-config", "flood-addr", "-p", p)
	const requests = 300
	for i := 0; i < requests; i++ {
		res, err := http.Get("http://" + addr + "/trap")
		if err != nil {
			if i == 0 { // the listener may take a moment after the link
				time.Sleep(200 * time.Millisecond)
				i--
				continue
			}
			t.Fatal(err)
		}
		res.Body.Close()
	}
	logs := func() string {
		var all strings.Builder
		for _, f := range []string{info.Log + ".2", info.Log + ".1", info.Log} {
			b, _ := os.ReadFile(f)
			all.Write(b)
		}
		return all.String()
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs(), "repeated log line suppressed") {
		if time.Now().After(deadline) {
			t.Fatalf("no summary of suppressed lines in the log:\n%s", logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := strings.Count(logs(), `msg="component failed to handle a request"`); n >= requests/2 {
		t.Fatalf("%d of %d trap lines written: not rate-limited", n, requests)
	}
	for _, f := range []string{info.Log, info.Log + ".1", info.Log + ".2"} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatalf("log file %s: %v", f, err)
		}
		if st.Size() > 512+1024 { // the limit plus at most one long line
			t.Errorf("%s is %d bytes, over the 512-byte rotation size", f, st.Size())
		}
	}
	if _, err := os.Stat(info.Log + ".3"); err == nil {
		t.Error("more rotated files than --host-log-keep 2")
	}
}

// TestLongNamesAndLostConnections: names longer than NATS subjects allow are refused with one
// line at the CLI and with an error reply at the host's and wadm's APIs; and when the server
// drops the host's and wadm's connection (a kick, or an error after which the client gives the
// connection up for good), both come back and the app serves again.
func TestLongNamesAndLostConnections(t *testing.T) {
	e := newEnv(t)
	opts := &server.Options{Host: "127.0.0.1", Port: e.port, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true}
	ns := startReloadableNATS(t, opts)
	l := startServedLatticeIn(t, e, "--nats-connect-only", "--heartbeat-interval", "1s")
	p := l.portArg()
	long := strings.Repeat("n", 4000)

	// The CLI refuses before publishing anything.
	l.fails(t, []string{"component id is 4000 bytes long", "at most 255"}, "start", "component", "file://"+filepath.Join(l.dir, "hello.component.wasm"), long, "-p", p)
	l.fails(t, []string{"config name is 4000 bytes long"}, "config", "put", long, "a=b", "-p", p)
	l.fails(t, []string{"--link-name is 4000 bytes long"}, "link", "put", "a", "b", "wasi", "http", "--interface", "incoming-handler", "--link-name", long, "-p", p)
	l.fails(t, []string{"app name is 4000 bytes long"}, "app", "status", long, "-p", p)
	manifest := filepath.Join(l.dir, "long.yaml")
	src, _ := os.ReadFile(filepath.Join(l.dir, "wadm.yaml"))
	if err := os.WriteFile(manifest, []byte(strings.Replace(string(src), "name: hello-http", "name: "+long, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	l.fails(t, []string{"app name is 4000 bytes long"}, "app", "deploy", manifest, "-p", p)

	// The APIs answer with an error, whoever asks.
	nc := e.natsConn(t)
	var hostID string
	{
		var hosts struct {
			Hosts []struct {
				ID string `json:"id"`
			} `json:"hosts"`
		}
		decodeJSON(t, l.must("get", "hosts", "-p", p, "-o", "json").stdout, &hosts)
		hostID = hosts.Hosts[0].ID
	}
	reply := func(subject string, body string) string {
		t.Helper()
		m, err := nc.Request(subject, []byte(body), 10*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", subject, err)
		}
		return string(m.Data)
	}
	if r := reply("wasmbus.ctl.v1.default.component.scale."+hostID, `{"component_ref":"file:///x.wasm","component_id":"`+long+`","max_instances":1}`); !strings.Contains(r, `"success":false`) || !strings.Contains(r, "at most 255") {
		t.Fatalf("host answered a 4000-byte component id with %s", r)
	}
	if r := reply("wasmbus.ctl.v1.default.link.put", `{"source_id":"a","target":"b","name":"`+long+`","wit_namespace":"wasi","wit_package":"http","interfaces":["x"]}`); !strings.Contains(r, "link name is 4000 bytes long") {
		t.Fatalf("host answered a 4000-byte link name with %s", r)
	}
	longManifest, _ := os.ReadFile(manifest)
	if r := reply("wadm.api.default.model.put", string(longManifest)); !strings.Contains(r, "app name is 4000 bytes long") {
		t.Fatalf("wadm answered a 4000-byte app name with %s", r)
	}
	// Still there: the host answers, wadm answers, the app serves.
	back := func(what string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			hosts := l.run("get", "hosts", "-p", p)
			apps := l.run("app", "list", "-p", p)
			res, err := http.Get("http://" + l.addr + "/still")
			if err == nil {
				res.Body.Close()
			}
			if hosts.code == 0 && strings.Contains(hosts.stdout, hostID) && apps.code == 0 && strings.Contains(apps.stdout, "hello-http") && err == nil && res.StatusCode == 200 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the lattice did not come back:\nhosts: %s\napps: %s\nhttp: %v", what, hosts, apps, err)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	back("after long names")

	// The server kicks the host's and wadm's connection: nats.go reconnects and resubscribes.
	conns := func() []*server.ConnInfo {
		cz, err := ns.Connz(&server.ConnzOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out []*server.ConnInfo
		for _, c := range cz.Conns {
			if c.Name == "wasmbus" {
				out = append(out, c)
			}
		}
		return out
	}
	kicked := conns()
	if len(kicked) == 0 {
		t.Fatal("no wasmbus connection on the server")
	}
	for _, c := range kicked {
		if err := ns.DisconnectClientByID(c.Cid); err != nil {
			t.Fatal(err)
		}
	}
	back("after a kick")

	// The server drops the connection after a protocol error (a control line over its
	// max_control_line): nats.go gives such a connection up for good, wash up starts again.
	closeForGood(t, ns, opts, func() bool { return len(conns()) > 0 })
	back("after the server closed the connection")
}

// startReloadableNATS runs a nats-server with opts (a fixed port, so options can be reloaded)
// until the test ends.
func startReloadableNATS(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("test NATS server not ready")
	}
	return ns
}

// closeForGood lowers the server's max_control_line to 16 until connected reports false: the
// next heartbeat is over the limit, the server closes the host's connection after that protocol
// error and nats.go gives it up for good. Then opts apply again.
func closeForGood(t *testing.T, ns *server.Server, opts *server.Options, connected func() bool) {
	t.Helper()
	low := opts.Clone()
	low.MaxControlLine = 16
	if err := ns.ReloadOptions(low); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for connected() {
		if time.Now().After(deadline) {
			t.Fatal("the host's connection survived a control line over the limit")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := ns.ReloadOptions(opts.Clone()); err != nil {
		t.Fatal(err)
	}
}

// TestStandaloneWadmComesBack: `wash wadm` whose connection the server closes after a
// protocol error (the client gives such a connection up for good) connects and runs again.
func TestStandaloneWadmComesBack(t *testing.T) {
	e := newEnv(t)
	opts := &server.Options{Host: "127.0.0.1", Port: e.port, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true}
	ns := startReloadableNATS(t, opts)
	w := exec.Command(washBin, "wadm", "-s", fmt.Sprintf("127.0.0.1:%d", e.port))
	w.Env = append(os.Environ(), "WASH_HOME="+e.home)
	var logs strings.Builder
	w.Stdout, w.Stderr = &logs, &logs
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Process.Kill(); _ = w.Wait() }()
	answers := func(what string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for e.run("app", "list", "-p", e.portArg()).code != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: wadm does not answer; its log:\n%s", what, logs.String())
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	answers("at start")
	nc := e.natsConn(t)
	// With max_control_line 32 this short request passes, and what wadm then sends for the
	// new lattice "d" (JetStream API requests with long subjects) makes the server close it.
	low := opts.Clone()
	low.MaxControlLine = 32
	if err := ns.ReloadOptions(low); err != nil {
		t.Fatal(err)
	}
	if err := nc.PublishRequest("wadm.api.d.model.list", "R", nil); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	deadline := time.Now().Add(30 * time.Second)
	for {
		cz, _ := ns.Connz(&server.ConnzOptions{})
		gone := true
		for _, c := range cz.Conns {
			if strings.HasPrefix(c.Name, "wadm-") {
				gone = false
			}
		}
		if gone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("wadm's connection survived a control line over the limit")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := ns.ReloadOptions(opts.Clone()); err != nil {
		t.Fatal(err)
	}
	answers("after the server closed its connection")
	if !strings.Contains(logs.String(), "lost the NATS connection for good") {
		t.Fatalf("wadm's log does not say what happened:\n%s", logs.String())
	}
}

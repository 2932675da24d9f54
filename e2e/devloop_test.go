package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/wasmlattice/wash/internal/testtool"
)

// needTool fails (never skips) when a tool the test needs is missing: .ci/run installs it.
func needTool(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (.ci/run installs it): %v", tool, err)
		}
	}
}

// tsProject is one TypeScript hello project built once per test run: its npm install and
// componentize-js build are the slow part, so the tests share it.
var (
	tsOnce    sync.Once
	tsDir     string
	tsBuildMs time.Duration
	tsErr     string
)

// tsBase is the temporary directory the shared project lives in; TestMain removes it.
var tsBase string

func removeTypeScriptProject() {
	if tsBase != "" {
		_ = os.RemoveAll(tsBase)
	}
}

func builtTypeScriptProject(t *testing.T, e *env) string {
	t.Helper()
	needTool(t, "node", "npm")
	tsOnce.Do(func() {
		base, err := os.MkdirTemp("", "wash-ts-")
		if err != nil {
			tsErr = err.Error()
			return
		}
		tsBase = base
		r := e.runIn(base, nil, "new", "component", "hello", "--template-name", "hello-world-typescript", "--silent")
		if r.code != 0 {
			tsErr = "wash new: " + r.String()
			return
		}
		dir := filepath.Join(base, "hello")
		r = e.runIn(dir, nil, "build")
		if r.code != 0 {
			tsErr = "wash build: " + r.String()
			return
		}
		tsDir, tsBuildMs = dir, r.took
	})
	if tsErr != "" {
		t.Fatal(tsErr)
	}
	return tsDir
}

func TestTypeScriptTemplateBuildInspectDeploy(t *testing.T) {
	e := newEnv(t)
	dir := builtTypeScriptProject(t, e)
	t.Logf("npm install + tsc + componentize-js + sign: %s", tsBuildMs)
	signed := filepath.Join(dir, "build", "hello_s.wasm")
	if _, err := os.Stat(signed); err != nil {
		t.Fatalf("no signed component: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		t.Errorf("wash new did not git init: %v", err)
	}
	ins := e.must("inspect", signed)
	for _, want := range []string{"hello - Component", "Account", "Version\t0.1.0 (0)"} {
		if !strings.Contains(ins.stdout, want) {
			t.Errorf("inspect lacks %q:\n%s", want, ins.stdout)
		}
	}
	w := e.must("inspect", "--wit", signed)
	if !strings.Contains(w.stdout, "export wasi:http/incoming-handler@0.2.10;") || !strings.Contains(w.stdout, "interface incoming-handler {") {
		t.Errorf("inspect --wit:\n%s", w.stdout)
	}
	// a second build reuses node_modules (no npm install) and replaces the artifact atomically
	again := e.runIn(dir, nil, "build", "-o", "json")
	if again.code != 0 || strings.Contains(again.stderr, "npm install") {
		t.Fatalf("rebuild:\n%s", again)
	}
	var res struct {
		Path   string `json:"component_path"`
		Signed bool   `json:"signed"`
	}
	decodeJSON(t, again.stdout, &res)
	if res.Path != signed || !res.Signed {
		t.Errorf("build -o json: %+v", res)
	}

	// the template's wadm.yaml deploys the signed build
	e.must("up", "-d", "--nats-port", e.portArg())
	defer e.run("down", "--all", "-p", e.portArg())
	httpPort := freePort(t)
	manifest, _ := os.ReadFile(filepath.Join(dir, "wadm.yaml"))
	mf := filepath.Join(dir, "wadm-test.yaml")
	if err := os.WriteFile(mf, bytes.ReplaceAll(manifest, []byte("127.0.0.1:8000"), []byte("127.0.0.1:"+strconv.Itoa(httpPort))), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(mf)
	// a 14 MB componentize-js guest: compiling it took over the default 60 s while the whole
	// suite ran on 2 cores at load 40
	e.must("app", "deploy", mf, "-p", e.portArg(), "--timeout", "5m")
	code, body, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/greet", httpPort))
	if err != nil || code != 200 || !strings.Contains(body, "Hello from TypeScript! You asked for /greet") {
		t.Fatalf("GET: %d %q %v", code, body, err)
	}
	e.must("app", "delete", "hello", "-p", e.portArg())
}

// devProcess is a running `wash dev`.
type devProcess struct {
	cmd  *exec.Cmd
	out  testtool.LogBuffer
	done chan error
}

func (d *devProcess) output() string { return d.out.String() }

// waitFor waits until the output matches re (after index from) and returns the match end.
func (d *devProcess) waitFor(t testing.TB, re *regexp.Regexp, from int, limit time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		out := d.output()
		if from <= len(out) {
			if loc := re.FindStringIndex(out[from:]); loc != nil {
				return from + loc[1]
			}
		}
		select {
		case err := <-d.done:
			t.Fatalf("wash dev exited (%v) before %s:\n%s", err, re, out)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("no %s within %s:\n%s", re, limit, d.output())
	return 0
}

func startDev(t testing.TB, e *env, dir string, args ...string) *devProcess {
	t.Helper()
	d := &devProcess{done: make(chan error, 1)}
	d.cmd = exec.Command(washBin, append([]string{"dev", "--nats-port", e.portArg()}, args...)...)
	d.cmd.Dir = dir
	d.cmd.Env = e.washEnv()
	d.cmd.Stdout, d.cmd.Stderr = &d.out, &d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			_ = d.cmd.Process.Kill()
		}
	})
	return d
}

// stop sends Ctrl+C and waits for wash dev to clean up and exit.
func (d *devProcess) stop(t *testing.T) {
	t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("wash dev exited with %v:\n%s", err, d.output())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("wash dev did not exit after Ctrl+C:\n%s", d.output())
	}
}

// setHTTPAddress makes wash dev's HTTP server listen on port (a free one) through the upstream
// [dev.overrides] mechanism.
func setOverrides(t *testing.T, dir, extra string) {
	t.Helper()
	f := filepath.Join(dir, "wasmcloud.toml")
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	base, _, _ := strings.Cut(string(b), "\n# --- test overrides ---\n")
	if err := os.WriteFile(f, []byte(base+"\n# --- test overrides ---\n"+extra), 0o644); err != nil {
		t.Fatal(err)
	}
}

func httpOverride(port int) string {
	return fmt.Sprintf("[[dev.overrides.exports]]\ninterface_spec = \"wasi:http/incoming-handler\"\nlink_config = { values = { address = \"127.0.0.1:%d\" } }\n", port)
}

var builtRE = regexp.MustCompile(`Built \S+ in (\S+)`)

func parseBuilt(t *testing.T, s string) time.Duration {
	m := builtRE.FindAllStringSubmatch(s, -1)
	if len(m) == 0 {
		t.Fatalf("no build time in:\n%s", s)
	}
	d, err := time.ParseDuration(m[len(m)-1][1])
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func waitBody(t testing.TB, url, want string, limit time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		if code, body, err := httpGet(url); err == nil && code == 200 && strings.Contains(body, want) {
			return time.Now()
		} else {
			last = fmt.Sprintf("%d %q %v", code, body, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("GET %s never answered %q within %s (last: %s)", url, want, limit, last)
	return time.Time{}
}

func TestDevHotReloadTypeScript(t *testing.T) {
	e := newEnv(t)
	dir := builtTypeScriptProject(t, e)
	httpPort := freePort(t)
	setOverrides(t, dir, httpOverride(httpPort))
	url := fmt.Sprintf("http://127.0.0.1:%d/dev", httpPort)

	d := startDev(t, e, dir)
	at := d.waitFor(t, regexp.MustCompile(`Watching .* for changes`), 0, 5*time.Minute)
	if !strings.Contains(d.output(), fmt.Sprintf("access your application at http://127.0.0.1:%d", httpPort)) {
		t.Errorf("no URL printed:\n%s", d.output())
	}
	waitBody(t, url, "Hello from TypeScript!", time.Minute)

	src := filepath.Join(dir, "src", "component.ts")
	code, _ := os.ReadFile(src)
	edited := bytes.Replace(code, []byte("Hello from TypeScript!"), []byte("Edited while wash dev ran!"), 1)
	start := time.Now()
	if err := os.WriteFile(src, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	served := waitBody(t, url, "Edited while wash dev ran!", 5*time.Minute)
	d.waitFor(t, regexp.MustCompile(`Reloaded component`), at, time.Minute)
	build := parseBuilt(t, d.output()[at:])
	t.Logf("edit → new text served in %s (toolchain build and signing %s; the rest is the host loading the new build and the swap)", served.Sub(start).Round(time.Millisecond), build)
	defer os.WriteFile(src, code, 0o644)

	d.stop(t)
	out := d.output()
	for _, want := range []string{"Deleted application dev-hello", "stopped NATS"} {
		if !strings.Contains(out, want) {
			t.Errorf("Ctrl+C output lacks %q:\n%s", want, out)
		}
	}
	if listening(e.port) || listening(httpPort) {
		t.Errorf("the lattice (NATS %v) or its HTTP server (%v) still runs after Ctrl+C", listening(e.port), listening(httpPort))
	}
	if pids := e.pids(); len(pids) != 0 {
		for _, p := range pids {
			if alive(p) {
				t.Errorf("process %d still runs after Ctrl+C", p)
			}
		}
	}
}

// The counter template through wash dev: in memory, then (after wasmcloud.toml changes) in a
// real Redis; the lattice is left running with --leave-host-running, the app is not.
func TestDevCounterInMemoryThenRedis(t *testing.T) {
	needTool(t, "node", "npm", "redis-server")
	e := newEnv(t)
	dir := filepath.Join(t.TempDir(), "counter")
	if r := e.runIn(filepath.Dir(dir), nil, "new", "component", "counter", "--template-name", "keyvalue-counter-typescript", "--silent", "--no-git-init"); r.code != 0 {
		t.Fatal(r)
	}
	httpPort := freePort(t)
	setOverrides(t, dir, httpOverride(httpPort)+"[[dev.overrides.imports]]\ninterface_spec = \"wasi:keyvalue\"\nimage_ref = \"wasmcloud+builtin://keyvalue-inmemory\"\n")
	url := fmt.Sprintf("http://127.0.0.1:%d/visits", httpPort)

	d := startDev(t, e, dir, "--leave-host-running")
	at := d.waitFor(t, regexp.MustCompile(`Watching .* for changes`), 0, 8*time.Minute)
	if !strings.Contains(d.output(), "keyvalue-inmemory") {
		t.Errorf("dependencies:\n%s", d.output())
	}
	mustCount(t, url, 1)
	mustCount(t, url, 2)

	redisPort := freePort(t)
	rs := exec.Command("redis-server", "--port", strconv.Itoa(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := rs.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rs.Process.Kill(); _ = rs.Wait() }()
	setOverrides(t, dir, httpOverride(httpPort)+fmt.Sprintf("[[dev.overrides.imports]]\ninterface_spec = \"wasi:keyvalue\"\nimage_ref = \"wasmcloud+builtin://keyvalue-redis\"\nlink_config = { values = { url = \"redis://127.0.0.1:%d\" } }\n", redisPort))
	d.waitFor(t, regexp.MustCompile(`Deployed application dev-counter`), at, 8*time.Minute)
	waitCountReset(t, url, 2*time.Minute) // a fresh store counts from 1
	mustCount(t, url, 2)
	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(redisPort)})
	defer rc.Close()
	if v, err := rc.Get(context.Background(), "visits").Result(); err != nil || v != "2" {
		t.Errorf("redis GET visits = %q, %v", v, err)
	}

	d.stop(t)
	if !listening(e.port) {
		t.Fatal("--leave-host-running: the lattice stopped")
	}
	list := e.must("app", "list", "-p", e.portArg(), "-o", "json")
	if strings.Contains(list.stdout, "dev-counter") {
		t.Errorf("the app survived Ctrl+C:\n%s", list.stdout)
	}
	if code, _, _ := httpGet(url); code == 200 {
		t.Error("the counter still answers after Ctrl+C")
	}
	e.must("down", "--all", "-p", e.portArg())
}

// waitCountReset polls until the counter answers exactly 1 (the new store's first count).
func waitCountReset(t *testing.T, url string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if code, body, err := httpGet(url); err == nil && code == 200 && strings.TrimSpace(body) == "1" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("GET %s never restarted counting at 1", url)
}

func TestTemplatesWithoutToolchain(t *testing.T) {
	e := newEnv(t)
	emptyPath := "PATH=" + t.TempDir()
	for _, c := range []struct{ template, tool, hint string }{
		{"hello-world-rust", "cargo", "rustup target add wasm32-wasip2"},
		{"hello-world-tinygo", "tinygo", "install TinyGo"},
	} {
		base := t.TempDir()
		e.runIn(base, nil, "new", "component", "app", "--template-name", c.template, "--silent", "--no-git-init")
		r := e.runIn(filepath.Join(base, "app"), []string{emptyPath}, "build")
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 1 || len(lines) != 1 || !strings.Contains(lines[0], c.tool+" not found on PATH") || !strings.Contains(lines[0], c.hint) {
			t.Errorf("%s without %s: want exit 1 and a one-line hint, got %s", c.template, c.tool, r)
		}
		if _, err := os.Stat(filepath.Join(base, "app", "build")); err == nil {
			t.Errorf("%s: a failed build created build/", c.template)
		}
	}
}

func TestDevLoopBadInput(t *testing.T) {
	e := newEnv(t)
	base := t.TempDir()
	r := e.runIn(base, nil, "new", "component", "x1", "--template-name", "no-such-template")
	if r.code == 0 || !strings.Contains(r.stderr, `unknown component template "no-such-template"`) || !strings.Contains(r.stderr, "hello-world-typescript") {
		t.Errorf("unknown template: %s", r)
	}
	e.runIn(base, nil, "new", "component", "twice", "--template-name", "hello-world-rust", "--silent", "--no-git-init")
	r = e.runIn(base, nil, "new", "component", "twice", "--template-name", "hello-world-rust", "--silent", "--no-git-init")
	if r.code != 1 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("existing directory: %s", r)
	}

	proj := filepath.Join(base, "broken")
	if err := os.MkdirAll(proj, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(proj, "wasmcloud.toml"), []byte("name = \"broken\"\nlanguage = \"rust\ntype = \"component\"\n"), 0o644)
	r = e.runIn(proj, nil, "build")
	if r.code != 1 || !strings.Contains(r.stderr, "wasmcloud.toml: line 2") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("malformed wasmcloud.toml: %s", r)
	}

	// a failing build shows the tool's own error, exits 1 and leaves build/ as it was
	os.WriteFile(filepath.Join(proj, "wasmcloud.toml"), []byte(`name = "broken"
language = "other"
type = "component"
version = "0.1.0"

[component]
build_command = "sh -c 'echo compile error: missing semicolon >&2; exit 3'"
build_artifact = "out/broken.wasm"
destination = "build/broken_s.wasm"
`), 0o644)
	os.MkdirAll(filepath.Join(proj, "build"), 0o755)
	old := []byte("previous good build")
	os.WriteFile(filepath.Join(proj, "build", "broken_s.wasm"), old, 0o644)
	r = e.runIn(proj, nil, "build")
	if r.code != 1 || !strings.Contains(r.stderr, "compile error: missing semicolon") || !strings.Contains(r.stderr, "build failed") {
		t.Errorf("failed build: %s", r)
	}
	entries, _ := os.ReadDir(filepath.Join(proj, "build"))
	if b, _ := os.ReadFile(filepath.Join(proj, "build", "broken_s.wasm")); len(entries) != 1 || !bytes.Equal(b, old) {
		t.Errorf("a failed build touched build/: %v", entries)
	}
	// an artifact that is not wasm is refused before signing
	os.WriteFile(filepath.Join(proj, "wasmcloud.toml"), []byte("name = \"broken\"\nlanguage = \"other\"\ntype = \"component\"\nversion = \"0.1.0\"\n[component]\nbuild_command = \"sh -c 'mkdir -p out && echo text > out/broken.wasm'\"\nbuild_artifact = \"out/broken.wasm\"\ndestination = \"build/broken_s.wasm\"\n"), 0o644)
	r = e.runIn(proj, nil, "build")
	if r.code != 1 || !strings.Contains(r.stderr, "not a wasm binary") {
		t.Errorf("non-wasm artifact: %s", r)
	}
	if b, _ := os.ReadFile(filepath.Join(proj, "build", "broken_s.wasm")); !bytes.Equal(b, old) {
		t.Error("a refused artifact replaced the signed build")
	}
}

func TestKeysClaimsAndGetClaims(t *testing.T) {
	e := newEnv(t)
	var k struct {
		Public string `json:"public_key"`
		Seed   string `json:"seed"`
	}
	decodeJSON(t, e.must("keys", "gen", "curve", "-o", "json").stdout, &k)
	if !strings.HasPrefix(k.Public, "X") || !strings.HasPrefix(k.Seed, "SX") {
		t.Errorf("curve key: %+v", k)
	}
	if r := e.run("keys", "gen", "nonsense"); r.code != 2 {
		t.Errorf("bad key type: %s", r)
	}
	dir := t.TempDir()
	src, _ := os.ReadFile("../examples/hello-http/hello.component.wasm")
	os.WriteFile(filepath.Join(dir, "hello.wasm"), src, 0o644)
	e.must("claims", "sign", filepath.Join(dir, "hello.wasm"), "--name", "hello", "--ver", "1.0.0", "--rev", "4", "--tag", "demo")
	ins := e.must("claims", "inspect", filepath.Join(dir, "hello_s.wasm"), "-o", "json")
	var c struct {
		Name, Account, Component, Version string
		Revision                          int
		Tags                              []string
	}
	decodeJSON(t, ins.stdout, &c)
	if c.Name != "hello" || c.Version != "1.0.0" || c.Revision != 4 || !strings.HasPrefix(c.Component, "M") || len(c.Tags) != 1 {
		t.Errorf("claims: %+v", c)
	}
	list := e.must("keys", "list")
	for _, want := range []string{"hello_module", "_account"} {
		if !strings.Contains(list.stdout, want) {
			t.Errorf("keys list lacks %s:\n%s", want, list.stdout)
		}
	}
	seed := strings.TrimSpace(e.must("keys", "get", "hello_module").stdout)
	if !strings.HasPrefix(seed, "SM") {
		t.Errorf("keys get: %q", seed)
	}
	tok := strings.TrimSpace(e.must("claims", "token", "operator", "--name", "ops").stdout)
	if strings.Count(tok, ".") != 2 {
		t.Errorf("operator token %q", tok)
	}

	// wash get claims reads what the hosts know through claims.get
	e.must("up", "-d", "--nats-port", e.portArg())
	defer e.run("down", "--all", "-p", e.portArg())
	nc := e.natsConn(t)
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, "LATTICEDATA_default")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"name": "hello", "issuer": c.Account, "subject": c.Component, "version": "1.0.0", "revision": "4"})
	if _, err := kv.Put(ctx, "CLAIMS_"+c.Component, b); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := e.must("get", "claims", "-p", e.portArg(), "-o", "json")
		if strings.Contains(r.stdout, c.Component) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("get claims never listed %s:\n%s", c.Component, r.stdout)
		}
		time.Sleep(200 * time.Millisecond)
	}
	table := e.must("get", "claims", "-p", e.portArg())
	if !strings.Contains(table.stdout, "hello\t"+c.Component) {
		t.Errorf("get claims table:\n%s", table.stdout)
	}
}

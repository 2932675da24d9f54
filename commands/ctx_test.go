package commands_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/wasmlattice/wash/commands"
	"github.com/wasmlattice/wash/commands/cli"
	"github.com/wasmlattice/wash/commands/conn"
	"github.com/wasmlattice/wash/commands/home"
	"github.com/wasmlattice/wash/commands/output"
)

func TestCtxCommands(t *testing.T) {
	dir := t.TempDir()
	d := []string{"--directory", dir}
	r := ok(t, append([]string{"ctx", "list"}, d...)...)
	if r.out != "== Contexts found in "+dir+" ==\nhost_config (default)\n" {
		t.Fatalf("list = %q", r.out)
	}
	// The files have upstream's layout: default names the default context; host_config.json exists.
	if b, _ := os.ReadFile(filepath.Join(dir, "default")); string(b) != "host_config" {
		t.Fatalf("default file = %q", b)
	}
	hc := decodeJSON(t, mustRead(t, filepath.Join(dir, "host_config.json")))
	for _, k := range []string{"name", "cluster_seed", "ctl_host", "ctl_port", "ctl_jwt", "ctl_seed", "ctl_credsfile", "ctl_timeout", "ctl_tls_ca_file", "ctl_tls_first", "lattice", "js_domain", "rpc_host", "rpc_port", "rpc_jwt", "rpc_seed", "rpc_credsfile", "rpc_timeout", "rpc_tls_ca_file", "rpc_tls_first"} {
		if _, ok := hc[k]; !ok {
			t.Errorf("host_config.json lacks %s", k)
		}
	}

	ok(t, append([]string{"ctx", "new", "prod", "-x", "prodlat", "-p", "4333", "--timeout-ms", "4500", "--js-domain", "hub"}, d...)...)
	fails(t, 1, `context "prod" already exists`, append([]string{"ctx", "new", "prod"}, d...)...)
	fails(t, 2, `invalid context name "../x"`, append([]string{"ctx", "new", "../x"}, d...)...)
	prod := decodeJSON(t, mustRead(t, filepath.Join(dir, "prod.json")))
	if prod["lattice"] != "prodlat" || prod["ctl_port"] != float64(4333) || prod["ctl_timeout"] != float64(4500) || prod["js_domain"] != "hub" {
		t.Fatalf("prod.json = %v", prod)
	}
	r = ok(t, append([]string{"ctx", "default", "prod"}, d...)...)
	if r.out != "Default context is now prod\n" {
		t.Fatalf("default = %q", r.out)
	}
	r = ok(t, append([]string{"ctx", "list", "-o", "json"}, d...)...)
	j := decodeJSON(t, r.out)
	if j["default"] != "prod" || len(j["contexts"].([]any)) != 2 {
		t.Fatalf("list JSON = %v", j)
	}
	fails(t, 1, `context "nope" not found`, append([]string{"ctx", "default", "nope"}, d...)...)

	// edit: a valid edit is kept; an invalid one is rolled back.
	script := filepath.Join(t.TempDir(), "ed.sh")
	writeScript := func(body string) {
		if err := os.WriteFile(script, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeScript(`sed -i 's/"prodlat"/"edited"/' "$1"`)
	t.Setenv("EDITOR", script)
	r = ok(t, append([]string{"ctx", "edit", "prod"}, d...)...)
	if r.out != "Context prod saved.\n" || !strings.Contains(mustRead(t, filepath.Join(dir, "prod.json")), `"edited"`) {
		t.Fatalf("edit = %q", r.out)
	}
	before := mustRead(t, filepath.Join(dir, "prod.json"))
	writeScript(`echo '{"lattice": ' > "$1"`)
	fails(t, 1, "context prod is invalid after editing", append([]string{"ctx", "edit"}, d...)...)
	if after := mustRead(t, filepath.Join(dir, "prod.json")); after != before {
		t.Fatalf("file not restored:\n%s", after)
	}
	writeScript(`sed -i 's/"edited"/"bad.lattice"/' "$1"`)
	fails(t, 1, `invalid lattice "bad.lattice"`, append([]string{"ctx", "edit", "prod", "-e", script}, d...)...)
	if after := mustRead(t, filepath.Join(dir, "prod.json")); after != before {
		t.Fatalf("file not restored:\n%s", after)
	}

	r = ok(t, append([]string{"ctx", "del", "prod"}, d...)...)
	if r.out != "Deleted context prod (default is host_config)\n" {
		t.Fatalf("del = %q", r.out)
	}
	fails(t, 1, `context "prod" not found`, append([]string{"ctx", "del", "prod"}, d...)...)
}

func mustRead(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// connCommands returns the path of every command that takes the connection flags.
func connCommands(t *testing.T) []string {
	var out []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("ctl-port") != nil && c.Flags().Lookup("context") != nil && c.Runnable() {
			out = append(out, strings.TrimPrefix(c.CommandPath(), "wash "))
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot())
	sort.Strings(out)
	return out
}

func newRoot() *cobra.Command {
	return commands.NewRoot(&cli.Env{IO: output.Buffered(&strings.Builder{}, &strings.Builder{})})
}

// TestConnectionPrecedence drives every lattice command's real flag set through
// conn.Options.Resolve: flag > environment > context > default, for the lattice, the ctl host
// and port, the timeout and the JetStream domain.
func TestConnectionPrecedence(t *testing.T) {
	cmds := connCommands(t)
	want := []string{"config del", "config get", "config put", "down", "events", "get hosts", "get inventory", "get links", "label", "link del", "link put", "link query", "scale component", "start component", "start provider", "stop component", "stop host", "stop provider", "update component"}
	for _, w := range want {
		if !contains(cmds, w) {
			t.Errorf("%q does not take the connection flags (have %v)", w, cmds)
		}
	}
	root := t.TempDir()
	ctxDir := filepath.Join(root, "contexts")
	t.Setenv("WASH_CONTEXT_DIR", ctxDir)
	store := conn.Store{Dir: ctxDir}
	if err := store.Ensure(); err != nil {
		t.Fatal(err)
	}
	dom := "ctxdomain"
	c := conn.DefaultContext("team")
	c.Lattice, c.CtlHost, c.CtlPort, c.CtlTimeout, c.JSDomain = "ctxlattice", "ctx.example", 5001, 3001, &dom
	if err := store.Save(c); err != nil {
		t.Fatal(err)
	}
	type expect struct {
		lattice, host string
		port          int
		timeout       time.Duration
		domain        string
	}
	def := expect{"default", "127.0.0.1", 4222, 2 * time.Second, ""}
	fromCtx := expect{"ctxlattice", "ctx.example", 5001, 3001 * time.Millisecond, "ctxdomain"}
	fromEnv := expect{"envlattice", "env.example", 5002, 3002 * time.Millisecond, "envdomain"}
	fromFlag := expect{"flaglattice", "flag.example", 5003, 3003 * time.Millisecond, "flagdomain"}
	env := map[string]string{"WASMCLOUD_LATTICE": "envlattice", "WASMCLOUD_CTL_HOST": "env.example", "WASMCLOUD_CTL_PORT": "5002", "WASMCLOUD_CTL_TIMEOUT_MS": "3002", "WASMCLOUD_JS_DOMAIN": "envdomain"}
	flags := []string{"-x", "flaglattice", "--ctl-host", "flag.example", "-p", "5003", "-t", "3003", "--js-domain", "flagdomain"}
	cases := []struct {
		name       string
		defaultCtx string
		args       []string
		env        bool
		want       expect
	}{
		{"built-in default", "host_config", nil, false, def},
		{"--context", "host_config", []string{"--context", "team"}, false, fromCtx},
		{"default context", "team", nil, false, fromCtx},
		{"env over context", "team", nil, true, fromEnv},
		{"env over default", "host_config", nil, true, fromEnv},
		{"flag over env and context", "team", append([]string{"--context", "team"}, flags...), true, fromFlag},
		{"flag over default", "host_config", flags, false, fromFlag},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := store.SetDefault(tc.defaultCtx); err != nil {
				t.Fatal(err)
			}
			for k, v := range env {
				if tc.env {
					t.Setenv(k, v)
				} else {
					t.Setenv(k, "")
					os.Unsetenv(k)
				}
			}
			for _, path := range cmds {
				root := newRoot()
				cmd, rest, err := root.Find(strings.Fields(path))
				if err != nil || len(rest) != 0 {
					t.Fatalf("find %s: %v %v", path, err, rest)
				}
				if err := cmd.ParseFlags(tc.args); err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				r, err := conn.FromFlagSet(cmd.Flags()).Resolve(home.Dir{Path: t.TempDir()})
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				got := expect{r.Lattice, r.Host, r.Port, r.Timeout, r.JSDomain}
				if got != tc.want {
					t.Errorf("%s: got %+v, want %+v", path, got, tc.want)
				}
			}
		})
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// TestContextReachesTheLattice uses a context end to end: port and lattice come from it.
func TestContextReachesTheLattice(t *testing.T) {
	l := newLattice(t)
	l.host(t, "teamlat", nil)
	dir := t.TempDir()
	t.Setenv("WASH_CONTEXT_DIR", dir)
	ok(t, "ctx", "new", "team", "-p", l.port, "-x", "teamlat")
	r := ok(t, "config", "put", "viactx", "a=b", "--context", "team")
	if !strings.Contains(r.out, "put successfully") {
		t.Fatalf("put = %q", r.out)
	}
	ok(t, "ctx", "default", "team")
	r = ok(t, "config", "get", "viactx", "-o", "json")
	if decodeJSON(t, r.out)["a"] != "b" {
		t.Fatalf("get via default context = %q", r.out)
	}
	fails(t, 1, `context "ghost" not found`, "get", "hosts", "--context", "ghost")
}

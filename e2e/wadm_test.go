package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/testmanifest"
	"github.com/wasmlattice/wash/lattice/ctl"
)

// helloWasm is the checked-in WAT component of examples/hello-http.
func helloWasm(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../examples/hello-http/hello.component.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// seedManifest is the seed's "Scale and Distribute" app: v0.0.3 runs 100 instances anywhere
// (upstream's deprecated `replicas` key), v0.0.4 spreads them 80/20 over zones.
func seedManifest(version, wasm, httpAddr string, spread bool) string {
	c := testmanifest.Wasm("http-component", wasm, 100)
	if spread {
		c = c.Spread(
			testmanifest.Spread{Name: "east", Weight: 80, Requirements: map[string]string{"zone": "us-east-1"}},
			testmanifest.Spread{Name: "west", Weight: 20, Requirements: map[string]string{"zone": "us-west-1"}})
	} else {
		c.Scaler.Replicas = true
	}
	return testmanifest.App{Name: "hello-world", Version: version, Components: []testmanifest.Component{
		c, testmanifest.HTTPServer("http-component", "default-http", httpAddr),
	}}.YAML()
}

// ctlCommands counts the control commands that change a lattice (scale, provider start/stop,
// link and config writes) sent to the lattice's hosts.
type ctlCommands struct{ n atomic.Int64 }

func countCommands(t *testing.T, e *env, lattice string) *ctlCommands {
	t.Helper()
	nc := e.natsConn(t)
	c := &ctlCommands{}
	kinds := []string{".component.scale.", ".provider.start.", ".provider.stop.", ".link.put", ".link.del", ".config.put.", ".config.del."}
	if _, err := nc.Subscribe("wasmbus.ctl.v1."+lattice+".>", func(m *nats.Msg) {
		for _, k := range kinds {
			if strings.Contains(m.Subject+".", k) {
				c.n.Add(1)
				return
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return c
}

// componentCounts maps host label zone (or "none") to the max instances of a component there
// (of every component when componentID is empty).
func componentCounts(t *testing.T, e *env, componentID string) map[string]int {
	t.Helper()
	nc, err := nats.Connect(fmt.Sprintf("nats://127.0.0.1:%d", e.port))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close() // called in polling loops: one connection per call
	cc := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default", Timeout: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hosts, err := cc.PingHosts(ctx, ctl.GatherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, h := range hosts {
		inv, err := cc.GetHostInventory(ctx, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		zone := inv.Labels["zone"]
		if zone == "" {
			zone = "none"
		}
		for _, c := range inv.Components {
			if c.ID == componentID || componentID == "" {
				out[zone] += int(c.MaxInstances)
			}
		}
	}
	return out
}

// TestSeedUpgrade is the seed's upgrade from 100 instances anywhere (v0.0.3) to an 80/20 spread
// over zones (v0.0.4), with v0.0.3 first placed on an unlabelled host and then on the labelled
// hosts. Each order must end Deployed 80/20 within 5 s of the deploy, with few control commands
// (the hot loop sent ~1,000 per second), and app delete must leave nothing running.
func TestSeedUpgrade(t *testing.T) {
	for _, order := range []string{"v3 on unlabelled host", "v3 on labelled hosts"} {
		t.Run(order, func(t *testing.T) {
			wasm := helloWasm(t)
			e := newEnv(t)
			addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			v3 := writeManifest(t, seedManifest("v0.0.3", wasm, addr, false))
			v4 := writeManifest(t, seedManifest("v0.0.4", wasm, addr, true))
			p := e.portArg()
			if order == "v3 on unlabelled host" {
				e.must("up", "-d", "--nats-port", p)
			} else {
				e.must("up", "-d", "--nats-port", p, "--label", "zone=us-west-1")
				e.must("up", "-d", "--nats-port", p, "--multi-local", "--label", "zone=us-east-1")
			}
			defer e.run("down", "--all")
			cmds := countCommands(t, e, "default")
			e.must("app", "deploy", v3, "--ctl-port", p)
			if got := componentCounts(t, e, "hello_world-http_component"); sum(got) != 100 {
				t.Fatalf("v0.0.3 runs %v, want 100 instances", got)
			}
			if order == "v3 on unlabelled host" {
				e.must("up", "-d", "--nats-port", p, "--multi-local", "--label", "zone=us-west-1")
				e.must("up", "-d", "--nats-port", p, "--multi-local", "--label", "zone=us-east-1")
			}
			r := e.run("app", "deploy", v4, "--ctl-port", p, "--timeout", "20s")
			if r.code != 0 || r.took > 5*time.Second {
				t.Fatalf("v0.0.4 deploy took %s (limit 5 s), after %d control commands:\n%s", r.took.Round(time.Millisecond), cmds.n.Load(), r)
			}
			if got := componentCounts(t, e, "hello_world-http_component"); got["us-east-1"] != 80 || got["us-west-1"] != 20 || got["none"] != 0 {
				t.Fatalf("v0.0.4 runs %v, want us-east-1 80, us-west-1 20", got)
			}
			// Settled: no command flow keeps going once Deployed.
			settled := cmds.n.Load()
			time.Sleep(2 * time.Second)
			if n := cmds.n.Load(); n != settled || n >= 300 {
				t.Fatalf("%d control commands (%d after Deployed); want < 300 and none after", n, n-settled)
			}
			t.Logf("%s: v0.0.4 Deployed in %s, %d control commands in total", order, r.took.Round(time.Millisecond), settled)
			e.must("app", "delete", "hello-world", "--ctl-port", p)
			deadline := time.Now().Add(15 * time.Second)
			for got := componentCounts(t, e, "hello_world-http_component"); sum(got) != 0; got = componentCounts(t, e, "hello_world-http_component") {
				if time.Now().After(deadline) {
					t.Fatalf("after app delete still running: %v", got)
				}
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// crashApp is a small app with a component, a provider and a link, so a deploy takes several
// commands and events.
func crashApp(name, wasm string) string {
	kv := testmanifest.Builtin("kv", "keyvalue-inmemory").Link(testmanifest.Link{Target: "hello",
		Namespace: "wasi", Package: "keyvalue", Interfaces: []string{"store"},
		SourceConfig: []testmanifest.Config{{Name: "kv", Properties: map[string]string{"bucket": name}}}})
	kv.ID = "kv-" + name
	return testmanifest.App{Name: name, Components: []testmanifest.Component{testmanifest.Wasm("hello", wasm, 5), kv}}.YAML()
}

// TestCrashMidDeploy (#12.4): `wash up` is killed with -9 while ten deploys are under way; after
// `wash up -d` again every app converges (Deployed, its instances running on the new host)
// within 10 s, none needing a redeploy.
func TestCrashMidDeploy(t *testing.T) {
	wasm := helloWasm(t)
	e := newEnv(t)
	p := e.portArg()
	e.must("up", "-d", "--nats-port", p)
	defer e.run("down", "--all")
	var paths []string
	for i := range 10 {
		paths = append(paths, writeManifest(t, crashApp(fmt.Sprintf("crash%d", i), wasm)))
	}
	done := make(chan result, len(paths))
	for _, path := range paths {
		go func() { done <- e.run("app", "deploy", path, "--ctl-port", p, "--timeout", "10s") }()
	}
	// Kill as soon as the first deploy is through: the others are in flight.
	<-done
	for _, pid := range e.pids() {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	// The other deploys fail, or succeed through NATS reconnecting to the restarted server.
	defer func() {
		for range len(paths) - 1 {
			<-done
		}
	}()
	e.must("up", "-d", "--nats-port", p)
	start := time.Now()
	for {
		// Apps whose deploy reached wadm before the kill must run; the others were never
		// deployed (their `wash app deploy` failed) and stay so.
		var list struct {
			Apps []struct {
				Name     string  `json:"name"`
				Deployed *string `json:"deployed_version"`
				Status   string  `json:"status"`
			} `json:"applications"`
		}
		decodeJSON(t, e.must("app", "list", "--ctl-port", p, "-o", "json").stdout, &list)
		apps := list.Apps
		deployed, ok := 0, true
		for _, a := range apps {
			if a.Deployed != nil {
				deployed++
				ok = ok && a.Status == "deployed"
			}
		}
		counts := componentCounts(t, e, "")
		if ok && deployed > 0 && counts["none"] == 5*deployed {
			t.Logf("%d deployed apps converged %s after the restart", deployed, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("10 s after the restart: apps %+v, running %v", apps, counts)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestPurgeOnlyNamedLattice (#12.5): `wash down --purge-jetstream wadm` (upstream's spelling,
// value as the next word) purges the named lattice's apps only; another lattice on the same
// NATS keeps its apps, its config and its running app.
func TestPurgeOnlyNamedLattice(t *testing.T) {
	wasm := helloWasm(t)
	e := newEnv(t)
	p := e.portArg()
	e.must("up", "-d", "--nats-port", p)
	e.must("up", "-d", "--nats-port", p, "-x", "production")
	defer e.run("down", "--all", "--ctl-port", p, "-x", "production")
	e.must("app", "deploy", writeManifest(t, crashApp("dev-app", wasm)), "--ctl-port", p)
	e.must("app", "deploy", writeManifest(t, crashApp("prod-app", wasm)), "--ctl-port", p, "-x", "production")
	e.must("config", "put", "prod-config", "k=v", "--ctl-port", p, "-x", "production")

	r := e.must("down", "--all", "--ctl-port", p, "--purge-jetstream", "wadm")
	if !strings.Contains(r.stdout, `purged JetStream state (wadm) of lattice "default"`) {
		t.Fatalf("down output:\n%s", r)
	}
	if out := e.must("app", "list", "--ctl-port", p).stdout; strings.Contains(out, "dev-app") {
		t.Fatalf("lattice default still lists its app after the purge:\n%s", out)
	}
	if out := e.must("app", "list", "--ctl-port", p, "-x", "production").stdout; !strings.Contains(out, "prod-app") || !strings.Contains(out, "Deployed") {
		t.Fatalf("lattice production lost its app:\n%s", out)
	}
	if r := e.run("config", "get", "prod-config", "--ctl-port", p, "-x", "production"); r.code != 0 {
		t.Fatalf("lattice production lost its config:\n%s", r)
	}
	if r := e.run("down", "--purge-jetstream", "sideways", "--ctl-port", p); r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
		t.Fatalf("bad purge value:\n%s", r)
	}
}

// TestEventsSinceReplays (#12.6): `wash events --since 30m` on a `wash up` lattice replays what
// wadm's wasmbus_events stream holds (saying how far back it reaches) and goes on live.
func TestEventsSinceReplays(t *testing.T) {
	e := newEnv(t)
	p := e.portArg()
	e.must("up", "-d", "--nats-port", p)
	defer e.run("down", "--all", "--ctl-port", p)
	e.must("config", "put", "replay-me", "k=v", "--ctl-port", p)
	cmd := exec.Command(washBin, "events", "--since", "30m", "-o", "json", "--ctl-port", p)
	cmd.Env = e.washEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), `"config_name":"replay-me"`) && time.Now().Before(deadline) && cmd.ProcessState == nil {
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if !strings.Contains(out.String(), `"config_name":"replay-me"`) || !strings.Contains(out.String(), "host_started") {
		t.Fatalf("no replay:\nstdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "keeps only 1m10s of history") {
		t.Errorf("no note on how far back the replay reaches:\n%s", errb.String())
	}
}

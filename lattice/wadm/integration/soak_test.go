package integration_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/wadm"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// soakApp is what the soak test last asked of an app.
type soakApp struct {
	name      string
	deployed  bool
	instances int
}

// TestSoak (#12): 20 apps, then 60 s of random upgrades (new instance counts), undeploys and
// redeploys, with a host killed (its connection closed, no host_stopped) and replaced every
// 10 s. Afterwards every app is in its declared state: deployed ones Deployed with exactly their
// instances running on live hosts, undeployed ones with nothing running. The scale commands sent
// stay within 2× the minimum the operations need: one per deploy, upgrade and undeploy, and one
// per deployed app running on a host when it was killed. WADM_SOAK_SECONDS and WADM_SOAK_SEED
// change the length and the random sequence.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	length := 60 * time.Second
	if s, err := strconv.Atoi(os.Getenv("WADM_SOAK_SECONDS")); err == nil && s > 0 {
		length = time.Duration(s) * time.Second
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("WADM_SOAK_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (WADM_SOAK_SEED=%d reruns this sequence), %s", seed, seed, length)
	rng := rand.New(rand.NewPCG(seed, 0))

	wasm := testComponent(t)
	srv, nc := startNATS(t, "")
	// Commands are counted as wadm publishes them for its command workers: a subscriber on the
	// hosts' control subjects would turn a request to a dead host from "no responders" into a
	// timeout.
	var scales atomic.Int64
	if _, err := nc.Subscribe("wadm.cmd.default", func(m *nats.Msg) {
		if bytes.HasPrefix(m.Data, []byte(`{"ScaleComponent"`)) {
			scales.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	// Heartbeats every 2 s, expiry after 10 s: the ratio of upstream's 30 s and 70 s defaults.
	w, err := wadm.Run(context.Background(), nc, wadm.Config{Lattices: []string{"default"}, HostExpiry: 10 * time.Second, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	c := wadmclient.New(nc, wadmclient.Options{Lattice: "default", Timeout: 10 * time.Second})
	cc := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default", Timeout: 5 * time.Second})

	type liveHost struct {
		h  *host.Host
		nc *nats.Conn
	}
	var hosts []liveHost
	addHost := func() {
		hc, err := nats.Connect(srv.ClientURL(), nats.Name("wasmbus"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(hc.Close)
		hosts = append(hosts, liveHost{h: startHostEvery(t, hc, "default", nil, 2*time.Second), nc: hc})
	}
	for range 3 {
		addHost()
	}

	ctx := context.Background()
	apps := make([]*soakApp, 20)
	minimum := 0
	version := 0
	deployApp := func(a *soakApp, instances int) {
		version++
		app := simpleApp(a.name, wasm, instances)
		app.Version = fmt.Sprintf("v%d", version)
		put, err := c.Put(ctx, []byte(app.YAML()), "")
		if err != nil {
			t.Fatalf("put %s: %v", a.name, err)
		}
		if _, err := c.Deploy(ctx, a.name, put.CurrentVersion); err != nil {
			t.Fatalf("deploy %s: %v", a.name, err)
		}
		a.deployed, a.instances = true, instances
		minimum++
	}
	for i := range apps {
		apps[i] = &soakApp{name: fmt.Sprintf("soak%02d", i)}
		deployApp(apps[i], 1+rng.IntN(8))
	}

	// runningOn maps each component id to its max instances on one host.
	runningOn := func(hostID string) map[string]int {
		out := map[string]int{}
		if inv, err := cc.GetHostInventory(ctx, hostID); err == nil {
			for _, comp := range inv.Components {
				out[comp.ID] = int(comp.MaxInstances)
			}
		}
		return out
	}
	var ops struct {
		sync.Mutex
		upgrades, undeploys, redeploys, kills int
	}
	start := time.Now()
	nextKill := start.Add(10 * time.Second)
	for time.Since(start) < length {
		if time.Now().After(nextKill) {
			nextKill = nextKill.Add(10 * time.Second)
			victim := rng.IntN(len(hosts))
			running := runningOn(hosts[victim].h.ID())
			for _, a := range apps {
				if a.deployed && running[a.name+"-hello"] > 0 {
					minimum++ // its instances have to be placed again
				}
			}
			hosts[victim].nc.Close() // kill -9: no host_stopped
			hosts = append(hosts[:victim], hosts[victim+1:]...)
			addHost()
			ops.kills++
		}
		a := apps[rng.IntN(len(apps))]
		switch {
		case !a.deployed:
			deployApp(a, 1+rng.IntN(8))
			ops.redeploys++
		case rng.IntN(10) < 7:
			n := 1 + rng.IntN(8)
			if n == a.instances {
				n = n%8 + 1
			}
			deployApp(a, n)
			ops.upgrades++
		default:
			if _, err := c.Undeploy(ctx, a.name); err != nil {
				t.Fatalf("undeploy %s: %v", a.name, err)
			}
			a.deployed = false
			minimum++
			ops.undeploys++
		}
		time.Sleep(time.Duration(150+rng.IntN(300)) * time.Millisecond)
	}

	// Settle: every app in its declared state.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var wrong []string
		total := map[string]int{}
		live, _ := cc.PingHosts(ctx, ctl.GatherOptions{Expect: len(hosts)})
		for _, h := range live {
			for id, n := range runningOn(h.ID) {
				total[id] += n
			}
		}
		for _, a := range apps {
			want := 0
			if a.deployed {
				want = a.instances
			}
			st, err := c.Status(ctx, a.name)
			wantStatus := model.StatusUndeployed
			if a.deployed {
				wantStatus = model.StatusDeployed
			}
			if got := total[a.name+"-hello"]; got != want || err != nil || st.Info.Type != wantStatus {
				status := "?"
				if st != nil {
					status = string(st.Info.Type)
				}
				wrong = append(wrong, fmt.Sprintf("%s: %d running (want %d), %s (want %s)", a.name, got, want, status, wantStatus))
			}
		}
		if len(wrong) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("apps not in their declared state 60 s after the soak (seed %d):\n%v", seed, wrong)
		}
		time.Sleep(250 * time.Millisecond)
	}
	sent := int(scales.Load())
	t.Logf("%d deploys, %d upgrades, %d undeploys, %d redeploys, %d host kills: %d scale commands sent, minimum %d (%.2f×)",
		len(apps), ops.upgrades, ops.undeploys, ops.redeploys, ops.kills, sent, minimum, float64(sent)/float64(minimum))
	if sent > 2*minimum {
		t.Fatalf("%d scale commands for a minimum of %d: more than 2× (seed %d)", sent, minimum, seed)
	}
}

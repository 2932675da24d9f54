package integration_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/lattice/buckets"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// TestMultiLatticeStandalone: one `wash wadm` manages the lattices dev and prod on one NATS.
// Same-named apps keep apart, and an app deployed in dev never places anything in prod.
func TestMultiLatticeStandalone(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the wash binary")
	}
	bin := buildWash(t)
	wasm := testComponent(t)
	n := testlattice.StartNATS(t)
	nc := n.Connect(t)
	hosts := map[string]*host.Host{}
	for _, l := range []string{"dev", "prod"} {
		hosts[l] = testlattice.StartHostOn(t, n.Connect(t), host.Config{Lattice: l, HeartbeatInterval: 500 * time.Millisecond})
	}
	// Every control request wadm sends, per lattice.
	var mu sync.Mutex
	sent := map[string][]string{}
	if _, err := nc.Subscribe(ctl.DefaultTopicPrefix+".v1.*.>", func(m *nats.Msg) {
		l := strings.Split(m.Subject, ".")[3]
		mu.Lock()
		sent[l] = append(sent[l], m.Subject+" "+string(m.Data))
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	must(t, nc.Flush())

	w := startProc(t, filepath.Join(t.TempDir(), "wadm.log"), []string{"WADM_NATS_SERVER=" + n.URL}, bin, "wadm", "--stream-persistence", "memory")
	dev := wadmclient.New(nc, wadmclient.Options{Lattice: "dev", Timeout: 5 * time.Second})
	prod := wadmclient.New(nc, wadmclient.Options{Lattice: "prod", Timeout: 5 * time.Second})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := dev.List(context.Background()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("wadm does not answer:\n%s", w.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}

	deploy(t, dev, simpleManifest("shop", wasm, 3))
	deploy(t, dev, simpleManifest("dev-only", wasm, 2))
	waitStatusOr(t, dev, "shop", 20*time.Second, isType(model.StatusDeployed), w.tail)
	waitStatusOr(t, dev, "dev-only", 20*time.Second, isType(model.StatusDeployed), w.tail)
	// prod has no app yet, and its host runs nothing.
	if list, err := prod.List(context.Background()); err != nil || len(list) != 0 {
		t.Fatalf("prod lists %v (err %v) before anything was deployed there", list, err)
	}
	deploy(t, prod, simpleManifest("shop", wasm, 1))
	waitStatusOr(t, prod, "shop", 20*time.Second, isType(model.StatusDeployed), w.tail)

	devCtl := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "dev", Timeout: 3 * time.Second})
	prodCtl := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "prod", Timeout: 3 * time.Second})
	shop, devOnly := model.ComponentID("shop", nil, "hello"), model.ComponentID("dev-only", nil, "hello")
	if got := instances(t, devCtl, hosts["dev"].ID(), shop); got != 3 {
		t.Errorf("dev shop: %d instances, want 3", got)
	}
	if got := instances(t, devCtl, hosts["dev"].ID(), devOnly); got != 2 {
		t.Errorf("dev dev-only: %d instances, want 2", got)
	}
	inv, err := prodCtl.GetHostInventory(context.Background(), hosts["prod"].ID())
	must(t, err)
	if len(inv.Components) != 1 || inv.Components[0].ID != shop || inv.Components[0].MaxInstances != 1 {
		t.Errorf("prod host runs %+v, want only shop with 1 instance", inv.Components)
	}

	// Undeploying in dev leaves prod's same-named app alone.
	if _, err := dev.Undeploy(context.Background(), "shop"); err != nil {
		t.Fatal(err)
	}
	waitStatusOr(t, dev, "shop", 30*time.Second, isType(model.StatusUndeployed), w.tail)
	deadline = time.Now().Add(30 * time.Second)
	for instances(t, devCtl, hosts["dev"].ID(), shop) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("dev shop not scaled down")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // a couple of heartbeats: prod must stay as it is
	if got := instances(t, prodCtl, hosts["prod"].ID(), shop); got != 1 {
		t.Errorf("prod shop: %d instances after dev's undeploy, want 1", got)
	}
	if st, err := prod.Status(context.Background(), "shop"); err != nil || st.Info.Type != model.StatusDeployed {
		t.Errorf("prod shop status after dev's undeploy: %+v %v", st, err)
	}

	// No request for dev's apps ever went to prod, and prod's only scale was its own.
	mu.Lock()
	defer mu.Unlock()
	for _, s := range sent["prod"] {
		if strings.Contains(s, devOnly) || strings.Contains(s, `"max_instances":3`) || strings.Contains(s, `"count":3`) {
			t.Errorf("a dev request reached prod: %s", s)
		}
	}
	var prodScales []string
	for _, s := range sent["prod"] {
		if strings.Contains(s, ".component.scale.") {
			prodScales = append(prodScales, s)
		}
	}
	if len(prodScales) != 1 {
		t.Errorf("prod got %d scale requests, want 1: %v", len(prodScales), prodScales)
	}

	// Per-lattice state stays apart in wadm_state.
	js, err := jetstream.New(nc)
	must(t, err)
	kv, err := js.KeyValue(context.Background(), buckets.WadmState)
	must(t, err)
	for l, want := range map[string][]string{"dev": {"dev-only"}, "prod": {"shop"}} {
		e, err := kv.Get(context.Background(), "apps_"+l)
		must(t, err)
		var apps map[string]json.RawMessage
		must(t, json.Unmarshal(e.Value(), &apps))
		var got []string
		for a := range apps {
			got = append(got, a)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("apps_%s = %v, want %v", l, got, want)
		}
	}
}

// TestLatticesDoNotShareKeys (#12.5): upstream keys manifests <lattice>-<app>, so lattice "x" app
// "y-z" and lattice "x-y" app "z" share a key, and lattice "x" app "y" shares one with lattice
// "x-y"'s app list. Whichever comes second is refused with one line; neither reads, overwrites
// nor deletes the other's app.
func TestLatticesDoNotShareKeys(t *testing.T) {
	_, nc := startNATS(t, "")
	startWadm(t, nc)
	client := func(l string) *wadmclient.Client {
		return wadmclient.New(nc, wadmclient.Options{Lattice: l, Timeout: 5 * time.Second})
	}
	x, xy := client("x"), client("x-y")
	ctx := context.Background()
	wasm := testComponent(t)
	if _, err := x.Put(ctx, []byte(simpleManifest("y-z", wasm, 1)), ""); err != nil {
		t.Fatal(err)
	}
	_, err := xy.Put(ctx, []byte(simpleManifest("z", wasm, 2)), "")
	if err == nil || !strings.Contains(err.Error(), `share the wadm_manifests key "x-y-z"`) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("put across lattices: %v", err)
	}
	for _, op := range []func() error{
		func() error { _, err := xy.Get(ctx, "z", ""); return err },
		func() error { _, err := xy.Versions(ctx, "z"); return err },
		func() error { _, err := xy.Delete(ctx, "z", ""); return err },
		func() error { _, err := xy.Deploy(ctx, "z", ""); return err },
	} {
		if err := op(); err == nil || !strings.Contains(err.Error(), "refusing to cross lattices") {
			t.Errorf("operation of lattice x-y on x's app: %v", err)
		}
	}
	m, err := x.Get(ctx, "y-z", "")
	if err != nil || m.Spec.Components[0].Traits[0].Properties.Scaler.Instances != 1 {
		t.Fatalf("lattice x's app after the refused put: %v %+v", err, m)
	}
	// Lattice x-y's app list key "x-y" is lattice x's app "y".
	if _, err := xy.Put(ctx, []byte(simpleManifest("q", wasm, 1)), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Put(ctx, []byte(simpleManifest("y", wasm, 1)), ""); err == nil || !strings.Contains(err.Error(), `lattice "x-y"'s app list`) {
		t.Fatalf("put onto another lattice's app list: %v", err)
	}
	if apps, err := xy.List(ctx); err != nil || len(apps) != 1 || apps[0].Name != "q" {
		t.Fatalf("lattice x-y lists %+v, %v", apps, err)
	}
	if apps, err := x.List(ctx); err != nil || len(apps) != 1 || apps[0].Name != "y-z" {
		t.Fatalf("lattice x lists %+v, %v", apps, err)
	}
}

package provider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/wasmlattice/wash/internal/testnats"
	"github.com/wasmlattice/wash/lattice/host/providers"
	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
	"github.com/wasmlattice/wash/provider"
	"github.com/wasmlattice/wash/provider/keyvalue"
)

func startNATS(t *testing.T) string {
	return testnats.Run(t, &server.Options{}).URL
}

// The host's HostData line (as our host writes it) is what the SDK reads.
func TestHostDataFromHost(t *testing.T) {
	timeout := uint64(1500)
	level := "debug"
	hd := providers.HostData{
		HostID: "NHOST", LatticeRPCPrefix: "default", LatticeRPCURL: "nats://127.0.0.1:4222", ProviderKey: "VPROV",
		InstanceID: "i-1", Config: map[string]string{"k": "v"}, DefaultRPCTimeoutMS: &timeout, LogLevel: &level,
		LinkDefinitions: []providers.InterfaceLinkDefinition{{SourceID: "c", Target: "VPROV", WitNamespace: "wasi", WitPackage: "keyvalue", Interfaces: []string{"store"}}},
	}
	line, err := hd.StdinLine()
	if err != nil {
		t.Fatal(err)
	}
	got, err := provider.ReadHostData(bytes.NewReader(line))
	if err != nil {
		t.Fatal(err)
	}
	if got.HostID != "NHOST" || got.ProviderKey != "VPROV" || got.Config["k"] != "v" || *got.DefaultRPCTimeoutMS != 1500 ||
		len(got.LinkDefinitions) != 1 || got.LinkDefinitions[0].Name != "default" || got.EnvValues == nil {
		t.Fatalf("parsed %+v", got)
	}
	for _, bad := range []string{"", "not base64!\n", "e30=\n"} {
		if _, err := provider.ReadHostData(strings.NewReader(bad)); err == nil {
			t.Errorf("host data %q accepted", bad)
		}
	}
}

// A provider built with the SDK: health, link put (on the xkey subject) and delete, config
// update, serving wrpc:keyvalue with the caller's link, calling a component, shutdown.
func TestProviderLifecycle(t *testing.T) {
	url := startNATS(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	xk, _ := nkeys.CreateCurveKeys()
	xpub, _ := xk.PublicKey()
	xseed, _ := xk.Seed()
	hd := providers.HostData{HostID: "NHOST", LatticeRPCPrefix: "default", LatticeRPCURL: url, ProviderKey: "kvprov",
		InstanceID: "i-1", ProviderXKeyPrivateKey: string(xseed), Config: map[string]string{"Mode": "a"}}
	line, _ := hd.StdinLine()

	links := make(chan string, 8)
	configs := make(chan map[string]string, 2)
	shut := make(chan struct{}, 1)
	store := keyvalue.NewMemory()
	var p *provider.Provider
	p, err = provider.Start(context.Background(), provider.Options{
		Stdin: bytes.NewReader(line),
		Exports: keyvalue.Exports(func(ctx context.Context, bucket string) (keyvalue.Store, string, error) {
			if _, err := p.LinkFor(ctx, "wasi", "keyvalue"); err != nil {
				return nil, "", err
			}
			return store, bucket, nil
		}),
		PutLink:      func(_ context.Context, l provider.Link) error { links <- "put " + l.SourceID; return nil },
		DeleteLink:   func(_ context.Context, l provider.Link) error { links <- "del " + l.SourceID; return nil },
		UpdateConfig: func(_ context.Context, c map[string]string) error { configs <- c; return nil },
		Health:       func(context.Context) (bool, string) { return true, "fine" },
		Shutdown:     func(context.Context) error { shut <- struct{}{}; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Config("mode") != "a" {
		t.Errorf("config lookup %q", p.Config("mode"))
	}
	m, err := nc.Request("wasmbus.rpc.default.kvprov.health", nil, 5*time.Second)
	if err != nil || string(m.Data) != `{"healthy":true,"message":"fine"}` {
		t.Fatalf("health: %v %s", err, m.Data)
	}
	link := provider.Link{SourceID: "comp", Target: "kvprov", Name: "default", WitNamespace: "wasi", WitPackage: "keyvalue", Interfaces: []string{"store"}}
	b, _ := json.Marshal(link)
	_ = nc.Publish("wasmbus.rpc.default."+xpub+".linkdefs.put", b)
	if got := <-links; got != "put comp" {
		t.Fatalf("link: %s", got)
	}

	// served over wRPC, with the caller's link applied
	cli, _ := wrpc.NewConn(nc, wrpc.Options{})
	inv := wrpc.Invocation{Prefix: "default.kvprov", Instance: interfaces.KVSet.Instance, Func: "set", Timeout: 5 * time.Second,
		Header: nats.Header{"source-id": {"comp"}, "link-name": {"default"}}}
	res, err := cli.Invoke(context.Background(), inv, interfaces.KVSet.Type, []wrpc.Value{"b", "k", []byte("v")})
	if err != nil || !reflect.DeepEqual(res, []wrpc.Value{wrpc.Ok(nil)}) {
		t.Fatalf("set: %v %#v", err, res)
	}
	kv := &keyvalue.Client{Conn: cli, Invocation: inv}
	if v, ok, err := kv.Get(context.Background(), "b", "k"); err != nil || !ok || string(v) != "v" {
		t.Fatalf("get: %q %v %v", v, ok, err)
	}
	if n, err := kv.Increment(context.Background(), "b", "n", 5); err != nil || n != 5 {
		t.Fatalf("increment: %d %v", n, err)
	}
	stranger := &keyvalue.Client{Conn: cli, Invocation: wrpc.Invocation{Prefix: "default.kvprov", Timeout: 5 * time.Second,
		Header: nats.Header{"source-id": {"stranger"}}}}
	if _, _, err := stranger.Get(context.Background(), "b", "k"); err == nil || !strings.Contains(err.Error(), `no link named "default" from stranger`) {
		t.Fatalf("without a link: %v", err)
	}

	// calling a component: the invocation carries source-id and target-id
	got := make(chan nats.Header, 1)
	served, err := cli.Serve(wrpc.ServeOptions{Prefix: "default.comp"}, wrpc.Export{Instance: "x:y/z@0.1.0", Func: "ping",
		Type: wrpc.NewFunc(nil, wrpc.String), Handler: func(ctx context.Context, _ []wrpc.Value) ([]wrpc.Value, error) {
			got <- wrpc.InvocationHeader(ctx)
			return []wrpc.Value{"pong"}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer served.Stop()
	out, err := p.Call(context.Background(), "comp", "x:y/z@0.1.0", "ping", wrpc.NewFunc(nil, wrpc.String))
	if err != nil || out[0] != "pong" {
		t.Fatalf("call: %v %v", out, err)
	}
	if h := <-got; h.Get("source-id") != "kvprov" || h.Get("target-id") != "comp" {
		t.Fatalf("call headers %v", h)
	}

	_ = nc.Publish("wasmbus.rpc.default.kvprov.config.update", []byte(`{"mode":"b"}`))
	if c := <-configs; c["mode"] != "b" {
		t.Fatalf("config %v", c)
	}
	_ = nc.Publish("wasmbus.rpc.default.kvprov.linkdefs.del", b)
	if got := <-links; got != "del comp" {
		t.Fatalf("link del: %s", got)
	}
	// another host's shutdown is ignored; ours is acknowledged
	if _, err := nc.Request("wasmbus.rpc.default.kvprov.default.shutdown", []byte(`{"host_id":"OTHER"}`), 300*time.Millisecond); err == nil {
		t.Fatal("answered another host's shutdown")
	}
	m, err = nc.Request("wasmbus.rpc.default.kvprov.default.shutdown", []byte(`{"host_id":"NHOST"}`), 5*time.Second)
	if err != nil || string(m.Data) != "shutting down" {
		t.Fatalf("shutdown: %v %v", m, err)
	}
	<-shut
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("provider did not finish")
	}
}

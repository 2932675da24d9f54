// testprovider is a native capability provider for the host's tests, built with the in-repo
// SDK (package provider): it takes HostData, answers health and shutdown, takes link puts and
// deletes, and serves wrpc:keyvalue from memory, so a component on any host can count through
// it. Each thing it sees is reported on testprovider.<provider_key> so tests can follow it.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/wasmlattice/wash/lattice/host/providers/providertest/lifecycle"
	"github.com/wasmlattice/wash/provider"
	"github.com/wasmlattice/wash/provider/keyvalue"
)

func main() {
	var mu sync.Mutex
	var p *provider.Provider
	say := func(r lifecycle.Report) {
		mu.Lock()
		defer mu.Unlock()
		if p == nil {
			return
		}
		r.InstanceID, r.PID = p.HostData.InstanceID, os.Getpid()
		b, _ := json.Marshal(r)
		_ = p.NC.Publish("testprovider."+p.HostData.ProviderKey, b)
		_ = p.NC.Flush()
	}
	linkJSON := func(l provider.Link) json.RawMessage { b, _ := json.Marshal(l); return b }
	var pending []provider.Link // initial links arrive before the provider is returned
	store := keyvalue.NewMemory()
	ctx := context.Background()
	started, err := provider.Start(ctx, provider.Options{
		Exports: keyvalue.Exports(func(ctx context.Context, bucket string) (keyvalue.Store, string, error) {
			mu.Lock()
			cur := p
			mu.Unlock()
			if cur == nil {
				return nil, "", &keyvalue.Error{Case: 2, Msg: "starting"}
			}
			if _, lerr := cur.LinkFor(ctx, "wasi", "keyvalue"); lerr != nil {
				return nil, "", &keyvalue.Error{Case: 2, Msg: lerr.Error()}
			}
			return store, bucket, nil
		}),
		PutLink: func(_ context.Context, l provider.Link) error {
			mu.Lock()
			started := p != nil
			if !started {
				pending = append(pending, l)
			}
			mu.Unlock()
			if started {
				say(lifecycle.Report{Event: "link_put", Link: linkJSON(l)})
			}
			return nil
		},
		DeleteLink: func(_ context.Context, l provider.Link) error {
			say(lifecycle.Report{Event: "link_del", Link: linkJSON(l)})
			return nil
		},
		Shutdown: func(context.Context) error {
			say(lifecycle.Report{Event: "shutdown"})
			return nil
		},
		// what the provider SDKs deliver from wasmbus.rpc.<lattice>.<key>.config.update
		UpdateConfig: func(_ context.Context, cfg map[string]string) error {
			say(lifecycle.Report{Event: "config_update", Config: cfg})
			return nil
		},
	})
	if err != nil {
		fail("%v", err)
	}
	mu.Lock()
	p = started
	early := pending[min(len(pending), len(started.HostData.LinkDefinitions)):]
	mu.Unlock()
	hd := p.HostData
	if hd.EnvValues == nil || hd.LinkDefinitions == nil {
		fail("host data lacks the required env_values or link_definitions")
	}
	say(lifecycle.Report{Event: "started", Env: os.Environ(), Links: len(hd.LinkDefinitions), Config: hd.Config, HostData: hd.Raw})
	for _, l := range early {
		say(lifecycle.Report{Event: "link_put", Link: linkJSON(l)})
	}
	<-p.Done()
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "testprovider: "+format+"\n", args...)
	os.Exit(1)
}

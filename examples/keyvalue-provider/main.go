// keyvalue-provider is a native wasmCloud capability provider written with the Go provider
// SDK (package provider): it serves wrpc:keyvalue@0.2.0-draft (store, atomics, batch) from
// memory, so components linked to it on wasi:keyvalue can count, cache and list keys from any
// host of the lattice. See README.md for packing it into a provider archive and running it.
package main

import (
	"context"
	"log"
	"strings"

	"github.com/wasmlattice/wash/provider"
	"github.com/wasmlattice/wash/provider/keyvalue"
)

func main() {
	var p *provider.Provider
	store := keyvalue.NewMemory()
	err := provider.Run(provider.Options{
		Init: func(_ context.Context, started *provider.Provider) error {
			p = started
			return nil
		},
		// Every call comes through a link from a component to this provider; the link's
		// target config may name a "prefix" that keeps its buckets apart from other links'.
		Exports: keyvalue.Exports(func(ctx context.Context, bucket string) (keyvalue.Store, string, error) {
			link, err := p.LinkFor(ctx, "wasi", "keyvalue")
			if err != nil {
				return nil, "", &keyvalue.Error{Case: 2, Msg: err.Error()}
			}
			if prefix := provider.ConfigValue(link.TargetConfig, "prefix"); prefix != "" {
				bucket = strings.TrimSuffix(prefix, "/") + "/" + bucket
			}
			return store, bucket, nil
		}),
		PutLink: func(_ context.Context, l provider.Link) error {
			p.Log.Info("link put", "source_id", l.SourceID, "name", l.Name, "interfaces", strings.Join(l.Interfaces, ","))
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
}

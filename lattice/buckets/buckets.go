// Package buckets names the lattice's JetStream KV buckets (as wasmCloud 1.x hosts and wadm
// name them), creates them and streams with a replica count the NATS system can place, and uses
// existing ones as an operator configured them.
package buckets

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket names. A host keeps links, component specs and stored claims in LATTICEDATA_<lattice>
// and named configuration in CONFIGDATA_<lattice>; wadm keeps manifests and lattice state in two
// buckets all lattices share (their keys carry the lattice).
const (
	LatticeDataPrefix = "LATTICEDATA_"
	ConfigDataPrefix  = "CONFIGDATA_"
	WadmManifests     = "wadm_manifests"
	WadmState         = "wadm_state"
	// StreamPrefix starts the name of the stream behind a KV bucket: KV_<bucket>.
	StreamPrefix = "KV_"
)

// LatticeData is the LATTICEDATA bucket of a lattice.
func LatticeData(lattice string) string { return LatticeDataPrefix + lattice }

// ConfigData is the CONFIGDATA bucket of a lattice.
func ConfigData(lattice string) string { return ConfigDataPrefix + lattice }

// Stream is the name of the stream that holds a KV bucket.
func Stream(bucket string) string { return StreamPrefix + bucket }

// JetStream is the JetStream API of nc in domain ("" for the account's own).
func JetStream(nc *nats.Conn, domain string) (jetstream.JetStream, error) {
	if domain != "" {
		return jetstream.NewWithDomain(nc, domain)
	}
	return jetstream.New(nc)
}

// WithReplicas runs create with the given replica count, or, when replicas is 0, with 3, 2 and
// then 1 until the server accepts it: a single server refuses replicas > 1 and a cluster of n
// nodes cannot place more than n, so this yields min(3, cluster size).
func WithReplicas(replicas int, create func(int) error) error {
	if replicas > 0 {
		return create(replicas)
	}
	var err error
	for r := 3; r >= 1; r-- {
		err = create(r)
		var apiErr *jetstream.APIError
		if err == nil || !errors.As(err, &apiErr) || !placementError(apiErr) {
			return err
		}
	}
	return err
}

// placementError reports the errors a server gives for a replica count it cannot place.
func placementError(e *jetstream.APIError) bool {
	switch e.ErrorCode {
	case 10074, // replicas > 1 not supported in non-clustered mode
		10023, // insufficient resources
		10005: // no suitable peers for placement
		return true
	}
	return e.Code == 500 && strings.Contains(strings.ToLower(e.Description), "peers")
}

// OpenOrCreateKV uses an existing bucket as it is (never recreated or downgraded) and creates a
// missing one with history 1, file storage and min(3, cluster size) replicas.
func OpenOrCreateKV(ctx context.Context, js jetstream.JetStream, bucket string) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, err
	}
	err = WithReplicas(0, func(r int) error {
		var cerr error
		kv, cerr = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, History: 1, Storage: jetstream.FileStorage, Replicas: r})
		return cerr
	})
	if errors.Is(err, jetstream.ErrBucketExists) {
		return js.KeyValue(ctx, bucket)
	}
	return kv, err
}

// ConfigNames lists the keys of a lattice's CONFIGDATA bucket, sorted: every named config,
// including config no link uses yet. Best effort for viewers: without JetStream access, or
// before any config exists, it is empty.
func ConfigNames(ctx context.Context, nc *nats.Conn, jsDomain, lattice string) []string {
	js, err := JetStream(nc, jsDomain)
	names := []string{}
	if err != nil {
		return names
	}
	kv, err := js.KeyValue(ctx, ConfigData(lattice))
	if err != nil {
		return names
	}
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return names
	}
	defer lister.Stop()
	for k := range lister.Keys() {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

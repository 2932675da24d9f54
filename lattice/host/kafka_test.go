package host_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host"
)

// The msgecho component on messaging-kafka, linked as upstream's Kafka manifests link it
// (component -> provider with hosts and topic): a record on "orders" runs its handler, whose
// publish to the reply-to topic "orders.reply" goes back through the provider to Kafka.
func TestKafkaEchoThroughHost(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders", "orders.reply"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	hosts := cluster.ListenAddrs()
	log := &syncBuffer{}
	l := newLattice(t, host.Config{Logger: newTextLogger(log)})
	ctx := context.Background()
	l.scale("echo", fixtureRef(t, "providers/testdata/msgecho/msgecho.component.wasm"), 2, nil)
	l.startBuiltin("kafka", "messaging-kafka")
	l.ok(l.c.PutConfig(ctx, "kafka-orders", map[string]string{"hosts": hosts[0], "topic": "orders"}))
	l.ok(l.c.PutLink(ctx, ctl.Link{SourceID: "echo", Target: "kafka", WitNamespace: "wasmcloud", WitPackage: "messaging",
		Interfaces: []string{"consumer", "handler"}, TargetConfig: []string{"kafka-orders"}}))

	cl, err := kgo.NewClient(kgo.SeedBrokers(hosts...), kgo.ConsumeTopics("orders.reply"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// the provider consumes from the end of the topic: send until an echo comes back
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		body := fmt.Sprintf("hi %d", i)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte(body)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		pctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		fetches := cl.PollFetches(pctx)
		cancel()
		var got []string
		fetches.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
		for _, g := range got {
			if len(g) > 6 && g[:6] == "echo: " {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no echo on orders.reply within 30s; host log:\n%s", log.String())
		}
	}
}

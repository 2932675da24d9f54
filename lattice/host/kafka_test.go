package host_test

import (
	"context"
	"fmt"
	"strings"
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
	brokers := startKafka(t)
	l, log := newLoggedLattice(t, host.Config{})
	l.scale("echo", fixtureRef(t, "providers/testdata/msgecho/msgecho.component.wasm"), 2, nil)
	l.linkBuiltin("kafka", "messaging-kafka", kafkaEchoLink, "kafka-orders", kafkaOrders(brokers))
	if !kafkaEchoes(t, brokers, "hi ", "echo: ") {
		t.Fatalf("no echo on orders.reply within 30s; host log:\n%s", log.String())
	}
}

// kafkaEchoLink links msgecho to the messaging-kafka provider "kafka" with kafkaOrders as config.
var kafkaEchoLink = ctl.Link{SourceID: "echo", Target: "kafka", WitNamespace: "wasmcloud", WitPackage: "messaging",
	Interfaces: []string{"consumer", "handler"}, TargetConfig: []string{"kafka-orders"}}

// kafkaOrders is the link config that has the provider consume "orders" from brokers.
func kafkaOrders(brokers []string) map[string]string {
	return map[string]string{"hosts": brokers[0], "topic": "orders"}
}

// startKafka starts kfake, a Kafka-protocol broker, with msgecho's topics; it returns the
// brokers' addresses.
func startKafka(t *testing.T) []string {
	t.Helper()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders", "orders.reply"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	return cluster.ListenAddrs()
}

// kafkaEchoes produces numbered records (stem + n) to "orders" until a record beginning with
// want and longer than it comes back on "orders.reply": the provider consumes from the end of
// the topic, so the first records may pass unseen. It reports false after 30s.
func kafkaEchoes(t *testing.T, brokers []string, stem, want string) bool {
	t.Helper()
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics("orders.reply"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		body := fmt.Sprintf("%s%d", stem, i)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders", Value: []byte(body)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		pctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		fetches := cl.PollFetches(pctx)
		cancel()
		echoed := false
		fetches.EachRecord(func(r *kgo.Record) {
			echoed = echoed || (len(r.Value) > len(want) && strings.HasPrefix(string(r.Value), want))
		})
		if echoed {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

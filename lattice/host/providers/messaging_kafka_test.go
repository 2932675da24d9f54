package providers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// startKafka runs kfake, franz-go's in-process Kafka-protocol broker (consumer groups,
// rebalances and offsets as a real cluster does them), on a loopback port.
func startKafka(t *testing.T, partitions int32, topics ...string) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return strings.Join(c.ListenAddrs(), ",")
}

// deliveries records what a provider hands to components.
type deliveries struct {
	mu  sync.Mutex
	got map[string][]BrokerMessage // by component
}

func (d *deliveries) deliver(_, component string, m BrokerMessage) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.got == nil {
		d.got = map[string][]BrokerMessage{}
	}
	d.got[component] = append(d.got[component], m)
}

func (d *deliveries) bodies(component string) map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]int{}
	for _, m := range d.got[component] {
		out[string(m.Body)]++
	}
	return out
}

func kafkaLink(component, hosts string, cfg map[string]string) Link {
	tc := map[string]string{"hosts": hosts}
	for k, v := range cfg {
		tc[k] = v
	}
	return Link{SourceID: component, Target: "kafka", Name: "default", WitNamespace: "wasmcloud", WitPackage: "messaging",
		Interfaces: []string{"consumer", "handler"}, TargetConfig: tc}
}

func publishKafka(t *testing.T, p *KafkaProvider, l Link, topic, body string) {
	t.Helper()
	b, err := p.OpenMessaging(context.Background(), InterfaceLinkDefinition{SourceID: l.SourceID, Target: l.Target, TargetConfig: l.TargetConfig})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Publish(ctx, BrokerMessage{Subject: topic, Body: []byte(body)}); err != nil {
		t.Fatal(err)
	}
}

// produceRoundRobin produces bodies from outside the provider, spread over all partitions.
func produceRoundRobin(t *testing.T, hosts, topic string, bodies ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(hosts, ",")...), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for _, b := range bodies {
		recs = append(recs, &kgo.Record{Topic: topic, Value: []byte(b)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// waitUntil polls cond for up to 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Publish and subscribe through a Kafka-protocol broker: a record on the link's topic reaches
// the component with reply-to "<topic>.reply"; request is refused with the reason.
func TestKafkaRoundTrip(t *testing.T) {
	hosts := startKafka(t, 2, "orders", "orders.reply")
	d := &deliveries{}
	p := newKafkaProvider("kafka", Deps{Deliver: d.deliver})
	defer p.Stop(context.Background())
	l := kafkaLink("echo", hosts, map[string]string{"topic": "orders"})
	if err := p.PutLink(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	// the consumer starts at the end of the topic: publish until it is assigned and sees one
	waitUntil(t, "the first delivery", func() bool {
		publishKafka(t, p, l, "orders", "probe")
		time.Sleep(50 * time.Millisecond)
		return d.bodies("echo")["probe"] > 0
	})
	publishKafka(t, p, l, "orders", "hello kafka")
	waitUntil(t, "hello kafka", func() bool { return d.bodies("echo")["hello kafka"] == 1 })
	d.mu.Lock()
	m := d.got["echo"][len(d.got["echo"])-1]
	d.mu.Unlock()
	if m.Subject != "orders" || m.ReplyTo != "orders.reply" {
		t.Fatalf("delivered %+v", m)
	}
	b, _ := p.OpenMessaging(context.Background(), InterfaceLinkDefinition{TargetConfig: l.TargetConfig})
	if _, err := b.Request(context.Background(), "orders", nil, time.Second); err == nil || !strings.Contains(err.Error(), "Kafka has no request-reply") {
		t.Fatalf("request: %v", err)
	}
	// deleting the link stops deliveries
	_ = p.DeleteLink(context.Background(), l)
	before := len(d.bodies("echo"))
	publishKafka(t, p, l, "orders", "after delete")
	time.Sleep(300 * time.Millisecond)
	if d.bodies("echo")["after delete"] != 0 || len(d.bodies("echo")) != before {
		t.Fatal("delivered after the link was deleted")
	}
}

// Two components in one consumer group split a topic's partitions; when one leaves, the
// group rebalances and the other receives everything published after.
func TestKafkaConsumerGroupRebalance(t *testing.T) {
	hosts := startKafka(t, 4, "jobs")
	d := &deliveries{}
	p := newKafkaProvider("kafka", Deps{Deliver: d.deliver})
	defer p.Stop(context.Background())
	cfg := map[string]string{"topic": "jobs", "consumer_group": "workers"}
	a, b := kafkaLink("worker-a", hosts, cfg), kafkaLink("worker-b", hosts, cfg)
	for _, l := range []Link{a, b} {
		if err := p.PutLink(context.Background(), l); err != nil {
			t.Fatal(err)
		}
	}
	// wait until both members are consuming (each got a probe)
	n := 0
	waitUntil(t, "both group members to receive", func() bool {
		var probes []string
		for range 8 {
			probes = append(probes, fmt.Sprintf("probe-%d", n))
			n++
		}
		produceRoundRobin(t, hosts, "jobs", probes...)
		time.Sleep(100 * time.Millisecond)
		return len(d.bodies("worker-a")) > 0 && len(d.bodies("worker-b")) > 0
	})

	const batch = 200
	var jobs []string
	for i := range batch {
		jobs = append(jobs, fmt.Sprintf("job-%d", i))
	}
	produceRoundRobin(t, hosts, "jobs", jobs...)
	count := func(prefix string) (ga, gb int) {
		for body := range d.bodies("worker-a") {
			if strings.HasPrefix(body, prefix) {
				ga++
			}
		}
		for body := range d.bodies("worker-b") {
			if strings.HasPrefix(body, prefix) {
				gb++
			}
		}
		return
	}
	waitUntil(t, "the first batch", func() bool {
		seen := map[string]bool{}
		for _, w := range []string{"worker-a", "worker-b"} {
			for body := range d.bodies(w) {
				seen[body] = true
			}
		}
		for i := range batch {
			if !seen[fmt.Sprintf("job-%d", i)] {
				return false
			}
		}
		return true
	})
	ga, gb := count("job-")
	if ga == 0 || gb == 0 || ga+gb != batch {
		t.Fatalf("first batch split %d/%d, want both > 0 and %d in all (each record once)", ga, gb, batch)
	}

	// worker-a leaves the group: worker-b takes over all partitions
	if err := p.DeleteLink(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	var late []string
	for i := range batch {
		late = append(late, fmt.Sprintf("late-%d", i))
	}
	produceRoundRobin(t, hosts, "jobs", late...)
	waitUntil(t, "worker-b to receive the whole second batch", func() bool {
		_, lb := count("late-")
		return lb == batch
	})
	if la, _ := count("late-"); la != 0 {
		t.Fatalf("worker-a received %d records after leaving", la)
	}
}

func TestKafkaConfig(t *testing.T) {
	c, err := kafkaConfig(map[string]string{"HOSTS": " a:1, b:2 ", "consumer_partitions": "0,1,1", "producer_partitions": ""})
	if err != nil || strings.Join(c.hosts, " ") != "a:1 b:2" || c.topic != DefaultKafkaTopic || len(c.consumerPartitions) != 2 {
		t.Fatalf("config: %+v %v", c, err)
	}
	if _, err := kafkaConfig(map[string]string{"producer_partitions": "x"}); err == nil || !strings.Contains(err.Error(), `producer_partitions: "x" is not a partition number`) {
		t.Fatalf("bad partition: %v", err)
	}
}

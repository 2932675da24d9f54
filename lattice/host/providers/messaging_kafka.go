package providers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// MessagingKafka is the builtin name (wasmcloud+builtin://messaging-kafka).
const MessagingKafka = "messaging-kafka"

// DefaultKafkaHosts and DefaultKafkaTopic are upstream's defaults for a link without them.
const (
	DefaultKafkaHosts = "127.0.0.1:9092"
	DefaultKafkaTopic = "my-topic"
)

// kafkaDeliveryConcurrency bounds the handler invocations one link runs at a time.
const kafkaDeliveryConcurrency = 16

// KafkaProvider is the built-in messaging-kafka provider, with upstream's link shape: a
// component links to it on wasmcloud:messaging ([consumer], and the provider delivers to the
// component's [handler]) with target config hosts (comma-separated bootstrap servers),
// topic, consumer_group, consumer_partitions and producer_partitions. Each such link
// consumes the topic (as a member of consumer_group when set, so components sharing a group
// split the partitions and take over each other's on rebalance) and runs the component's
// handle-message for each record with subject = topic and reply-to = "<topic>.reply".
// publish produces to the topic named by the message's subject.
type KafkaProvider struct {
	id      string
	deliver func(providerID, componentID string, msg BrokerMessage)
	log     *slog.Logger

	mu        sync.Mutex
	consumers map[string]*kafkaConsumer // by link key
	producers map[string]*kgo.Client    // by hosts + producer partitions
}

type kafkaConsumer struct {
	client *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}
}

func newKafkaProvider(id string, deps Deps) *KafkaProvider {
	deliver := deps.Deliver
	if deliver == nil {
		deliver = func(string, string, BrokerMessage) {}
	}
	return &KafkaProvider{id: id, deliver: deliver, log: deps.Log, consumers: map[string]*kafkaConsumer{}, producers: map[string]*kgo.Client{}}
}

// kafkaLinkConfig is a link's target config.
type kafkaLinkConfig struct {
	hosts              []string
	topic              string
	group              string
	consumerPartitions []int32
	producerPartitions []int32
}

func kafkaConfig(cfg map[string]string) (kafkaLinkConfig, error) {
	k := kafkaLinkConfig{topic: strings.TrimSpace(configValue(cfg, "topic")), group: strings.TrimSpace(configValue(cfg, "consumer_group"))}
	if k.topic == "" {
		k.topic = DefaultKafkaTopic
	}
	hosts := configValue(cfg, "hosts")
	if strings.TrimSpace(hosts) == "" {
		hosts = DefaultKafkaHosts
	}
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			k.hosts = append(k.hosts, h)
		}
	}
	var err error
	if k.consumerPartitions, err = partitions(configValue(cfg, "consumer_partitions"), "consumer_partitions"); err != nil {
		return k, err
	}
	if k.producerPartitions, err = partitions(configValue(cfg, "producer_partitions"), "producer_partitions"); err != nil {
		return k, err
	}
	return k, nil
}

func partitions(s, key string) ([]int32, error) {
	var out []int32
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("messaging-kafka: %s: %q is not a partition number", key, p)
		}
		if !slices.Contains(out, int32(n)) {
			out = append(out, int32(n))
		}
	}
	return out, nil
}

func (p *KafkaProvider) ours(l Link) bool {
	return l.Target == p.id && l.WitNamespace == "wasmcloud" && l.WitPackage == "messaging"
}

// PutLink starts consuming the link's topic for the linking component.
func (p *KafkaProvider) PutLink(_ context.Context, l Link) error {
	if !p.ours(l) {
		return nil
	}
	cfg, err := kafkaConfig(l.TargetConfig)
	if err != nil {
		return err
	}
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.hosts...), kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()),
		kgo.ClientID("wash-" + p.id)}
	switch {
	case cfg.group != "":
		opts = append(opts, kgo.ConsumerGroup(cfg.group), kgo.ConsumeTopics(cfg.topic),
			// offsets of delivered records are committed before partitions move to another member
			kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, _ map[string][]int32) {
				_ = cl.CommitUncommittedOffsets(ctx)
			}))
	case len(cfg.consumerPartitions) > 0:
		parts := map[int32]kgo.Offset{}
		for _, n := range cfg.consumerPartitions {
			parts[n] = kgo.NewOffset().AtEnd()
		}
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{cfg.topic: parts}))
	default:
		opts = append(opts, kgo.ConsumeTopics(cfg.topic))
	}
	client, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("messaging-kafka: consumer for %s on %s: %v", l.SourceID, strings.Join(cfg.hosts, ","), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &kafkaConsumer{client: client, cancel: cancel, done: make(chan struct{})}
	p.mu.Lock()
	old := p.consumers[l.Key()]
	p.consumers[l.Key()] = c
	p.mu.Unlock()
	if old != nil {
		old.stop()
	}
	go p.consume(ctx, c, l.SourceID, cfg.topic)
	return nil
}

// consume polls until ctx ends, running the component's handler for every record (up to
// kafkaDeliveryConcurrency at once) and finishing a batch before polling the next, so offsets
// committed for a poll are records already delivered.
func (p *KafkaProvider) consume(ctx context.Context, c *kafkaConsumer, component, topic string) {
	defer close(c.done)
	sem := make(chan struct{}, kafkaDeliveryConcurrency)
	var lastErr string
	for {
		fetches := c.client.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fetches.EachError(func(t string, part int32, err error) {
			if msg := err.Error(); msg != lastErr && !errors.Is(err, context.Canceled) {
				lastErr = msg
				if p.log != nil {
					p.log.Warn("messaging-kafka: fetch failed", "provider_id", p.id, "component_id", component, "topic", t, "partition", part, "err", err)
				}
			}
		})
		var wg sync.WaitGroup
		fetches.EachRecord(func(r *kgo.Record) {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				p.deliver(p.id, component, BrokerMessage{Subject: r.Topic, Body: r.Value, ReplyTo: topic + ".reply"})
			})
		})
		wg.Wait()
	}
}

func (c *kafkaConsumer) stop() {
	c.cancel()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
	}
	// leaving the group hands the partitions to the other members at once
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.client.CommitUncommittedOffsets(ctx)
	c.client.CloseAllowingRebalance()
}

// DeleteLink stops the link's consumer (it leaves its consumer group).
func (p *KafkaProvider) DeleteLink(_ context.Context, l Link) error {
	if !p.ours(l) {
		return nil
	}
	p.mu.Lock()
	c := p.consumers[l.Key()]
	delete(p.consumers, l.Key())
	p.mu.Unlock()
	if c != nil {
		c.stop()
	}
	return nil
}

// Stop ends every consumer and producer.
func (p *KafkaProvider) Stop(context.Context) error {
	p.mu.Lock()
	consumers, producers := p.consumers, p.producers
	p.consumers, p.producers = map[string]*kafkaConsumer{}, map[string]*kgo.Client{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range consumers {
		wg.Go(c.stop)
	}
	wg.Wait()
	for _, pr := range producers {
		pr.Close()
	}
	return nil
}

// OpenMessaging returns the producer for a component's link (MessagingOpener).
func (p *KafkaProvider) OpenMessaging(_ context.Context, link InterfaceLinkDefinition) (MessageBroker, error) {
	cfg, err := kafkaConfig(link.TargetConfig)
	if err != nil {
		return nil, err
	}
	key := strings.Join(cfg.hosts, ",") + "|" + fmt.Sprint(cfg.producerPartitions)
	p.mu.Lock()
	defer p.mu.Unlock()
	cl := p.producers[key]
	if cl == nil {
		opts := []kgo.Opt{kgo.SeedBrokers(cfg.hosts...), kgo.ClientID("wash-" + p.id), kgo.AllowAutoTopicCreation(),
			kgo.ProduceRequestTimeout(10 * time.Second), kgo.RecordDeliveryTimeout(15 * time.Second)}
		if len(cfg.producerPartitions) > 0 {
			opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
		}
		if cl, err = kgo.NewClient(opts...); err != nil {
			return nil, fmt.Errorf("messaging-kafka: producer for %s: %v", strings.Join(cfg.hosts, ","), err)
		}
		p.producers[key] = cl
	}
	return kafkaBroker{cl: cl, partitions: cfg.producerPartitions, hosts: cfg.hosts}, nil
}

type kafkaBroker struct {
	cl         *kgo.Client
	partitions []int32
	hosts      []string
}

// Publish produces the body to the topic named by the subject: to each producer partition
// when the link names some, else to the partition the default partitioner picks.
func (b kafkaBroker) Publish(ctx context.Context, m BrokerMessage) error {
	var recs []*kgo.Record
	if len(b.partitions) == 0 {
		recs = append(recs, &kgo.Record{Topic: m.Subject, Value: m.Body})
	}
	for _, part := range b.partitions {
		recs = append(recs, &kgo.Record{Topic: m.Subject, Value: m.Body, Partition: part})
	}
	if err := b.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("messaging-kafka: publish to topic %s on %s: %v", m.Subject, strings.Join(b.hosts, ","), err)
	}
	return nil
}

// Request is not part of Kafka's model.
func (b kafkaBroker) Request(_ context.Context, subject string, _ []byte, _ time.Duration) (BrokerMessage, error) {
	return BrokerMessage{}, fmt.Errorf("messaging-kafka: request to %s is not supported: Kafka has no request-reply; publish, and consume the reply topic (%s.reply) instead", subject, subject)
}

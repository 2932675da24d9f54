package providers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/runtime"
	"github.com/wasmlattice/wash/runtime/cabi"
)

// Interface names of wasmcloud:messaging 0.2.0.
const (
	MessagingConsumer = "wasmcloud:messaging/consumer@0.2.0"
	MessagingHandler  = "wasmcloud:messaging/handler@0.2.0"
	// MessagingNATS is the builtin name (wasmcloud+builtin://messaging-nats).
	MessagingNATS = "messaging-nats"
)

// BrokerMessage is wasmcloud:messaging/types.broker-message.
type BrokerMessage struct {
	Subject string
	Body    []byte
	ReplyTo string // "" for none
}

// Value is the component representation (record subject, body, reply-to).
func (m BrokerMessage) Value() cabi.Value {
	if m.ReplyTo == "" {
		return m.record(cabi.None())
	}
	return m.record(cabi.Some(m.ReplyTo))
}

// record is the broker-message record with reply, the reply-to option as the component or
// the wire represents it; a message without a body has an empty one.
func (m BrokerMessage) record(reply any) []any {
	body := m.Body
	if body == nil {
		body = []byte{}
	}
	return []any{m.Subject, body, reply}
}

func brokerMessageFrom(v cabi.Value) (BrokerMessage, error) {
	rec, ok := v.([]cabi.Value)
	if !ok || len(rec) != 3 {
		return BrokerMessage{}, fmt.Errorf("broker-message: expected a record of 3 fields, got %T", v)
	}
	m := BrokerMessage{}
	m.Subject, _ = rec[0].(string)
	m.Body, _ = rec[1].([]byte)
	if o, ok := rec[2].(cabi.OptionValue); ok && o.IsSome {
		m.ReplyTo, _ = o.Value.(string)
	}
	return m, nil
}

// The wasmcloud:messaging types the consumer functions are declared with (checked at link).
var (
	msgTypes        = cabi.MustScope(nil, "wasmcloud:messaging/types@0.2.0", `record broker-message { subject: string, body: list<u8>, reply-to: option<string> }`)
	msgConsumerSigs = cabi.Signatures(msgTypes, map[string]string{
		"request": "func(subject: string, body: list<u8>, timeout-ms: u32) -> result<broker-message, string>",
		"publish": "func(msg: broker-message) -> result<_, string>",
	})
)

// MessageBroker is what wasmcloud:messaging/consumer calls reach: the lattice's NATS for
// messaging-nats, a Kafka cluster for messaging-kafka.
type MessageBroker interface {
	Publish(ctx context.Context, m BrokerMessage) error
	Request(ctx context.Context, subject string, body []byte, timeout time.Duration) (BrokerMessage, error)
}

// MessagingOpener is a provider serving wasmcloud:messaging/consumer: it returns the broker
// for a call through link (from the calling component).
type MessagingOpener interface {
	OpenMessaging(ctx context.Context, link InterfaceLinkDefinition) (MessageBroker, error)
}

// natsBroker publishes and requests on one NATS connection.
type natsBroker struct{ nc *nats.Conn }

// NATSBroker serves consumer calls on nc.
func NATSBroker(nc *nats.Conn) MessageBroker { return natsBroker{nc} }

func (b natsBroker) Publish(_ context.Context, m BrokerMessage) error {
	if err := b.nc.PublishMsg(&nats.Msg{Subject: m.Subject, Reply: m.ReplyTo, Data: m.Body}); err != nil {
		return fmt.Errorf("messaging-nats: publish to %s: %v", m.Subject, err)
	}
	return nil
}

func (b natsBroker) Request(ctx context.Context, subject string, body []byte, timeout time.Duration) (BrokerMessage, error) {
	msg, err := b.nc.Request(subject, body, timeout)
	if err != nil {
		return BrokerMessage{}, fmt.Errorf("messaging-nats: request to %s: %v", subject, err)
	}
	return BrokerMessage{Subject: msg.Subject, Body: msg.Data, ReplyTo: msg.Reply}, nil
}

// MessagingInterfaces builds wasmcloud:messaging/consumer over broker, which resolves the
// broker for the calling component's link on each call (a LinkError fails the call).
func MessagingInterfaces(broker func(ctx context.Context) (MessageBroker, error)) []*runtime.HostInterface {
	fail := func(err error) (cabi.Value, error) {
		var le *LinkError
		if errors.As(err, &le) {
			return nil, fmt.Errorf("%s: %w", MessagingConsumer, err)
		}
		return cabi.Err(err.Error()), nil
	}
	return []*runtime.HostInterface{cabi.Typed(MessagingConsumer, msgConsumerSigs, map[string]runtime.HostFunc{
		"request": cabi.Fn3(func(ctx context.Context, subject string, body []byte, timeoutMS uint32) (cabi.Value, error) {
			b, err := broker(ctx)
			if err != nil {
				return fail(err)
			}
			timeout := time.Second
			if timeoutMS > 0 {
				timeout = time.Duration(timeoutMS) * time.Millisecond
			}
			msg, err := b.Request(ctx, subject, body, timeout)
			if err != nil {
				return cabi.Err(err.Error()), nil
			}
			return cabi.Ok(msg.Value()), nil
		}),
		"publish": cabi.Fn1(func(ctx context.Context, rec []cabi.Value) (cabi.Value, error) {
			b, err := broker(ctx)
			if err != nil {
				return fail(err)
			}
			m, err := brokerMessageFrom(rec)
			if err != nil {
				return nil, err
			}
			if m.Subject == "" {
				return cabi.Err("publish needs a subject"), nil
			}
			if err := b.Publish(ctx, m); err != nil {
				return cabi.Err(err.Error()), nil
			}
			return cabi.Ok(nil), nil
		}),
	})}
}

// MessagingProvider is the built-in messaging-nats provider. Components linked to it (as
// source) publish and request through its connection; links from it to a component subscribe
// to the comma-separated "subscriptions" of the link's source config (optional "queue_group"
// too) and deliver each message to the component's handler.
type MessagingProvider struct {
	id      string
	nc      *nats.Conn
	deliver func(providerID, componentID string, msg BrokerMessage)

	mu   sync.Mutex
	subs map[string][]*nats.Subscription // by link key
}

// newMessagingProvider serves messaging for provider id on nc (this host uses its own
// connection for every link) and hands received messages to deliver.
func newMessagingProvider(id string, nc *nats.Conn, deliver func(string, string, BrokerMessage)) *MessagingProvider {
	if deliver == nil {
		deliver = func(string, string, BrokerMessage) {}
	}
	return &MessagingProvider{id: id, nc: nc, deliver: deliver, subs: map[string][]*nats.Subscription{}}
}

// PutLink subscribes a link from this provider to a component on wasmcloud:messaging to the
// link's source config "subscriptions" (comma-separated, optional "queue_group"). A changed
// link arrives as DeleteLink then PutLink, which re-subscribes.
func (p *MessagingProvider) PutLink(_ context.Context, l Link) error {
	if l.SourceID != p.id || l.WitNamespace != "wasmcloud" || l.WitPackage != "messaging" {
		return nil // links from components to this provider need no setup
	}
	target := l.Target
	return p.Subscribe(l.Key(), l.SourceConfig, func(m BrokerMessage) { p.deliver(p.id, target, m) })
}

// DeleteLink ends the link's subscriptions.
func (p *MessagingProvider) DeleteLink(_ context.Context, l Link) error {
	p.Unsubscribe(l.Key())
	return nil
}

// Conn is the connection consumer calls use.
func (p *MessagingProvider) Conn() *nats.Conn { return p.nc }

// OpenMessaging serves consumer calls on the host's connection (MessagingOpener).
func (p *MessagingProvider) OpenMessaging(context.Context, InterfaceLinkDefinition) (MessageBroker, error) {
	return natsBroker{p.nc}, nil
}

// Subscribe starts delivering the subjects named in a link's source config to deliver, under
// key. Re-subscribing a key replaces its subscriptions.
func (p *MessagingProvider) Subscribe(key string, sourceConfig map[string]string, deliver func(BrokerMessage)) error {
	p.Unsubscribe(key)
	subjects := configValue(sourceConfig, "subscriptions")
	queue := configValue(sourceConfig, "queue_group")
	var subs []*nats.Subscription
	for _, s := range strings.Split(subjects, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		h := func(m *nats.Msg) { deliver(BrokerMessage{Subject: m.Subject, Body: m.Data, ReplyTo: m.Reply}) }
		var sub *nats.Subscription
		var err error
		if queue != "" {
			sub, err = p.nc.QueueSubscribe(s, queue, h)
		} else {
			sub, err = p.nc.Subscribe(s, h)
		}
		if err != nil {
			for _, x := range subs {
				_ = x.Unsubscribe()
			}
			return fmt.Errorf("messaging-nats: subscribing to %q: %w", s, err)
		}
		subs = append(subs, sub)
	}
	p.mu.Lock()
	p.subs[key] = subs
	p.mu.Unlock()
	return p.nc.Flush()
}

// Unsubscribe ends a link's subscriptions.
func (p *MessagingProvider) Unsubscribe(key string) {
	p.mu.Lock()
	subs := p.subs[key]
	delete(p.subs, key)
	p.mu.Unlock()
	for _, s := range subs {
		_ = s.Unsubscribe()
	}
}

// Links are the link keys with live subscriptions.
func (p *MessagingProvider) Links() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.subs))
	for k := range p.subs {
		out = append(out, k)
	}
	return out
}

// Stop ends every subscription.
func (p *MessagingProvider) Stop(context.Context) error {
	for _, k := range p.Links() {
		p.Unsubscribe(k)
	}
	return nil
}

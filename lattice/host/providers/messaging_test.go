package providers

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/testnats"
	"github.com/wasmlattice/wash/runtime/cabi"
)

func TestMessagingConsumerAndSubscriptions(t *testing.T) {
	_, nc := testnats.Connected(t)
	p := newMessagingProvider("msg", nc, nil)
	defer p.Stop(context.Background())
	got := make(chan BrokerMessage, 4)
	if err := p.Subscribe("k", map[string]string{"subscriptions": "a.b, c.>"}, func(m BrokerMessage) { got <- m }); err != nil {
		t.Fatal(err)
	}
	consumer := MessagingInterfaces(func(context.Context) (MessageBroker, error) { return NATSBroker(nc), nil })[0].Funcs
	ctx := context.Background()
	r, err := consumer["publish"](ctx, []cabi.Value{BrokerMessage{Subject: "c.d", Body: []byte("hi")}.Value()})
	if err != nil || r.(cabi.ResultValue).IsErr {
		t.Fatalf("publish: %v %v", r, err)
	}
	select {
	case m := <-got:
		if m.Subject != "c.d" || string(m.Body) != "hi" {
			t.Fatalf("delivered %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("subscription got nothing")
	}
	_, _ = nc.Subscribe("echo", func(m *nats.Msg) { _ = m.Respond(append([]byte("re:"), m.Data...)) })
	r, err = consumer["request"](ctx, []cabi.Value{"echo", []byte("x"), uint32(1000)})
	if err != nil || r.(cabi.ResultValue).IsErr {
		t.Fatalf("request: %v %v", r, err)
	}
	if body := r.(cabi.ResultValue).Value.([]cabi.Value)[1].([]byte); string(body) != "re:x" {
		t.Fatalf("reply %q", body)
	}
	r, _ = consumer["request"](ctx, []cabi.Value{"nobody", []byte("x"), uint32(200)})
	if !r.(cabi.ResultValue).IsErr {
		t.Fatal("request without responders succeeded")
	}
	p.Unsubscribe("k")
	if len(p.Links()) != 0 {
		t.Fatal("still subscribed")
	}
	unlinked := MessagingInterfaces(func(context.Context) (MessageBroker, error) { return nil, &LinkError{Msg: "no link"} })[0].Funcs
	if _, err := unlinked["publish"](ctx, []cabi.Value{BrokerMessage{Subject: "x"}.Value()}); err == nil {
		t.Fatal("unlinked publish must fail the call")
	}
}

// Links from the provider to a component subscribe through PutLink and deliver to the link's
// target; DeleteLink unsubscribes; links from components need nothing.
func TestMessagingLinksSubscribe(t *testing.T) {
	_, nc := testnats.Connected(t)
	type delivery struct {
		target string
		msg    BrokerMessage
	}
	got := make(chan delivery, 4)
	b, err := Start(MessagingNATS, "msg", nil, Deps{NC: nc, Deliver: func(_, id string, m BrokerMessage) { got <- delivery{id, m} }})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop(context.Background())
	ctx := context.Background()
	in := Link{SourceID: "app", Target: "msg", Name: "default", WitNamespace: "wasmcloud", WitPackage: "messaging", Interfaces: []string{"consumer"}}
	out := Link{SourceID: "msg", Target: "app", Name: "default", WitNamespace: "wasmcloud", WitPackage: "messaging", Interfaces: []string{"handler"},
		SourceConfig: map[string]string{"subscriptions": "orders.*"}}
	for _, l := range []Link{in, out} {
		if err := b.PutLink(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(b.(*MessagingProvider).Links()); n != 1 {
		t.Fatalf("%d subscribed links, want 1", n)
	}
	_ = nc.Publish("orders.1", []byte("x"))
	select {
	case d := <-got:
		if d.target != "app" || d.msg.Subject != "orders.1" {
			t.Fatalf("delivered %+v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing delivered")
	}
	if err := b.DeleteLink(ctx, out); err != nil {
		t.Fatal(err)
	}
	if n := len(b.(*MessagingProvider).Links()); n != 0 {
		t.Fatalf("%d subscribed links after delete", n)
	}
}

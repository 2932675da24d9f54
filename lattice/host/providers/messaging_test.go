package providers

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/natsd"
	"github.com/wasmlattice/wash/runtime/cabi"
)

func TestMessagingConsumerAndSubscriptions(t *testing.T) {
	srv, err := natsd.Start(natsd.Options{Port: 0, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	p := newMessagingProvider("msg", nc, nil)
	defer p.Stop(context.Background())
	got := make(chan BrokerMessage, 4)
	if err := p.Subscribe("k", map[string]string{"subscriptions": "a.b, c.>"}, func(m BrokerMessage) { got <- m }); err != nil {
		t.Fatal(err)
	}
	consumer := MessagingInterfaces(func(context.Context) (*nats.Conn, error) { return nc, nil })[0].Funcs
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
	unlinked := MessagingInterfaces(func(context.Context) (*nats.Conn, error) { return nil, &LinkError{Msg: "no link"} })[0].Funcs
	if _, err := unlinked["publish"](ctx, []cabi.Value{BrokerMessage{Subject: "x"}.Value()}); err == nil {
		t.Fatal("unlinked publish must fail the call")
	}
}

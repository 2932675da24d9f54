package host_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/testtool"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host"
)

func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// waitLog waits until the host log contains every want.
func waitLog(t *testing.T, log *testtool.LogBuffer, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := log.String()
		missing := ""
		for _, w := range want {
			if !strings.Contains(s, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("host log lacks %q:\n%s", missing, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitRequest sends NATS requests until one is answered (links reach the provider
// asynchronously).
func waitRequest(t *testing.T, nc *nats.Conn, subject, body string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := nc.Request(subject, []byte(body), 500*time.Millisecond)
		if err == nil {
			return string(m.Data)
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s: %v", subject, err)
		}
	}
}

// The msgecho component behind the builtin messaging-nats provider: the provider subscribes
// to the link's source config and runs the component's handler, the component publishes its
// answer through its own link to the provider.
func TestMessagingEchoThroughHost(t *testing.T) {
	l, log := newLoggedLattice(t, host.Config{})
	ctx := context.Background()
	l.scale("echo", fixtureRef(t, "providers/testdata/msgecho/msgecho.component.wasm"), 4, nil)
	l.linkBuiltin("msg", "messaging-nats", ctl.Link{SourceID: "msg", Target: "echo", WitNamespace: "wasmcloud", WitPackage: "messaging",
		Interfaces: []string{"handler"}, SourceConfig: []string{"echo-subs"}}, "echo-subs", map[string]string{"subscriptions": "demo.>"})
	consumer := ctl.Link{SourceID: "echo", Target: "msg", WitNamespace: "wasmcloud", WitPackage: "messaging",
		Interfaces: []string{"consumer"}}
	l.ok(l.c.PutLink(ctx, consumer))

	if got := waitRequest(t, l.nc, "demo.hello", "hi there"); got != "echo: hi there" {
		t.Fatalf("reply %q", got)
	}
	for i := range 20 { // pooled or fresh instances answer every time
		if m, err := l.nc.Request("demo.x.y", []byte{byte('a' + i)}, 5*time.Second); err != nil || string(m.Data) != "echo: "+string(rune('a'+i)) {
			t.Fatalf("request %d: %v %v", i, m, err)
		}
	}
	// a message without reply-to goes to echo.replies
	replies, err := l.nc.SubscribeSync("echo.replies")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.nc.Publish("demo.fire", []byte("and forget")); err != nil {
		t.Fatal(err)
	}
	if m, err := replies.NextMsg(5 * time.Second); err != nil || string(m.Data) != "echo: and forget" {
		t.Fatalf("echo.replies: %v %v", m, err)
	}
	// subjects outside the subscription are not delivered
	if _, err := l.nc.Request("other.hello", []byte("x"), 300*time.Millisecond); err == nil {
		t.Fatal("a subject outside subscriptions was answered")
	}

	// without its consumer link the component cannot publish: the request goes unanswered and
	// the host log says which link is missing
	l.ok(l.c.DeleteLink(ctx, ctl.DeleteLinkRequest{SourceID: "echo", WitNamespace: "wasmcloud", WitPackage: "messaging"}))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := l.nc.Request("demo.hello", []byte("x"), 300*time.Millisecond); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still answered without the consumer link")
		}
	}
	waitLog(t, log, "messaging handler failed", "component_id=echo provider_id=msg", `component echo has no link named \"default\" for wasmcloud:messaging`)

	// deleting the provider's link unsubscribes
	l.ok(l.c.PutLink(ctx, consumer))
	if got := waitRequest(t, l.nc, "demo.back", "again"); got != "echo: again" {
		t.Fatalf("reply %q", got)
	}
	l.ok(l.c.DeleteLink(ctx, ctl.DeleteLinkRequest{SourceID: "msg", WitNamespace: "wasmcloud", WitPackage: "messaging"}))
	deadline = time.Now().Add(10 * time.Second)
	for {
		_, err := l.nc.Request("demo.hello", []byte("x"), 300*time.Millisecond)
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still answered after the handler link was deleted")
		}
	}
}

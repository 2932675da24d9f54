package wrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestFastReplyMark(t *testing.T) {
	tok := fastToken("AbC123", 3*time.Second)
	if tok != "AbC123-wash1-1500" {
		t.Fatalf("fastToken = %q", tok)
	}
	for reply, want := range map[string]time.Duration{
		"_INBOX.x.y." + tok:             1500 * time.Millisecond,
		"_INBOX.x.y.a-wash1-1":          time.Millisecond,
		"_INBOX.x.y.a":                  0,
		"_INBOX.x.y.a-wash1-":           0,
		"_INBOX.x.y.a-wash1-0":          0,
		"_INBOX.x.y.a-wash1-12x":        0,
		"_INBOX.x.y.a-wash1-1234567890": 0, // too long to be a wait
		"_INBOX.x.a-wash1-5.y":          0, // the mark is on the last token only
		"-wash1-5":                      0,
		"":                              0,
	} {
		got, ok := fastReply(reply)
		if got != want || ok != (want > 0) {
			t.Errorf("fastReply(%q) = %s %v, want %s", reply, got, ok, want)
		}
	}
}

// Between two wash peers a call whose params are complete in the invocation (here an empty
// stream<u8>, as an HTTP GET's body) is two messages: the invocation, with the standard
// payload and a marked reply inbox, and one short reply with the complete results.
func TestShortReplyWireTrace(t *testing.T) {
	url := startNATS(t, 0)
	srv, cli := connect(t, url), connect(t, url)
	served, err := srv.Serve(ServeOptions{Prefix: "p", Queue: "p"}, emptyEcho(),
		Export{Instance: "wrpc:keyvalue/store@0.2.0-draft", Func: "get", Type: kvGet, Handler: func(ctx context.Context, a []Value) ([]Value, error) {
			if InvocationHeader(ctx).Get("source-id") != "comp" {
				return nil, errors.New("no source-id")
			}
			return []Value{Ok(Some([]byte("bar")))}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer served.Stop()
	s := newSpy(t, url)
	callEmptyEcho(t, cli)
	res, err := cli.Invoke(context.Background(), Invocation{Prefix: "p", Instance: "wrpc:keyvalue/store@0.2.0-draft", Func: "get",
		Header: nats.Header{"source-id": {"comp"}}, Timeout: 5 * time.Second}, kvGet, []Value{"default", "foo"})
	if err != nil || !reflect.DeepEqual(res, []Value{Ok(Some([]byte("bar")))}) {
		t.Fatalf("get: %#v %v", res, err)
	}
	msgs := s.waitFor(t, 4)
	time.Sleep(100 * time.Millisecond)
	if n := len(s.waitFor(t, 4)); n != 4 {
		t.Fatalf("%d messages for two calls, want 4", n)
	}
	for i, want := range []struct{ subject, data, reply string }{
		{"p.wrpc.0.0.1.echo", "00", ""}, {"", "02 00", ""},
		{"p.wrpc.0.0.1.wrpc:keyvalue/store@0.2.0-draft.get", "07 64656661756c74 03 666f6f", ""}, {"", "02 00 01 03 626172", ""},
	} {
		m := msgs[i]
		if i%2 == 0 {
			if m.Subject != want.subject || !strings.Contains(m.Reply, fastMark) {
				t.Errorf("invocation %d: %s reply %s", i, m.Subject, m.Reply)
			}
		} else if m.Subject != msgs[i-1].Reply || m.Reply != "" || len(m.Header) != 0 {
			t.Errorf("short reply %d: %s reply %q header %v", i, m.Subject, m.Reply, m.Header)
		}
		if !bytes.Equal(m.Data, hx(t, want.data)) {
			t.Errorf("message %d on %s: %x, want %s", i, m.Subject, m.Data, want.data)
		}
	}
}

// What a short reply cannot carry goes the standard way on "<inbox>.results" after the
// acceptance: streamed and large results; a failure is the results' early end; a call that
// runs longer than the caller's handshake wait is accepted in time.
func TestShortReplyStandardResults(t *testing.T) {
	const maxPayload = 4096
	url := startNATS(t, maxPayload)
	srv, cli := connect(t, url), connect(t, url)
	f := NewFunc([]Param{{"what", String}}, List(U8))
	streamed := NewFunc([]Param{{"n", U32}}, Stream(U8))
	big := bytes.Repeat([]byte("0123456789abcdef"), 1000)
	served, err := srv.Serve(ServeOptions{Prefix: "p"},
		Export{Func: "f", Type: f, Handler: func(ctx context.Context, a []Value) ([]Value, error) {
			switch a[0] {
			case "big":
				return []Value{big}, nil
			case "fail":
				return nil, errors.New("failed")
			case "slow":
				time.Sleep(400 * time.Millisecond)
			}
			return []Value{[]byte("ok")}, nil
		}},
		Export{Func: "streamed", Type: streamed, Handler: func(ctx context.Context, a []Value) ([]Value, error) {
			return []Value{io.MultiReader(bytes.NewReader(big), strings.NewReader("end"))}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer served.Stop()
	s := newSpy(t, url)
	call := func(fn string, ft *FuncType, arg Value, hs time.Duration) ([]Value, error) {
		return cli.Invoke(context.Background(), Invocation{Prefix: "p", Func: fn, Timeout: 5 * time.Second, HandshakeTimeout: hs}, ft, []Value{arg})
	}
	// more than max_payload: accepted, then the results in several messages
	res, err := call("f", f, "big", 0)
	if err != nil || !bytes.Equal(res[0].([]byte), big) {
		t.Fatalf("big: %v", err)
	}
	msgs := s.waitFor(t, 4)
	if inv, acc := msgs[0], msgs[1]; acc.Subject != inv.Reply || !bytes.Equal(acc.Data, []byte{fastAccepted}) {
		t.Fatalf("big: %s %x after the invocation, want the acceptance", acc.Subject, acc.Data)
	}
	for _, m := range msgs[2:] {
		if m.Subject != msgs[0].Reply+".results" || len(m.Data) > maxPayload {
			t.Errorf("big: %s with %d bytes", m.Subject, len(m.Data))
		}
	}
	// a streamed result: accepted, the result with the stream pending, the stream's chunks
	res, err = call("streamed", streamed, uint32(1), 0)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(res[0].(io.Reader)); err != nil || !bytes.Equal(b, append(append([]byte(nil), big...), "end"...)) {
		t.Fatalf("streamed: %d bytes, %v", len(b), err)
	}
	// a failure: the early end of the results, as from a standard server
	if _, err := call("f", f, "fail", 0); !errors.Is(err, ErrRemoteFailed) {
		t.Fatalf("fail: %v, want ErrRemoteFailed", err)
	}
	// longer than the caller's handshake wait (200 ms): accepted after 100 ms, answered later
	start := time.Now()
	res, err = call("f", f, "slow", 200*time.Millisecond)
	if err != nil || string(res[0].([]byte)) != "ok" || time.Since(start) < 400*time.Millisecond {
		t.Fatalf("slow: %v %v after %s", res, err, time.Since(start))
	}
	// and the call timeout still ends a call that is accepted but not answered
	_, err = cli.Invoke(context.Background(), Invocation{Prefix: "p", Func: "f", Timeout: 250 * time.Millisecond}, f, []Value{"slow"})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("slow with a 250 ms timeout: %v, want ErrTimeout", err)
	}
}

// One component served by a wash host and by a standard one (an upstream host) in one queue
// group: calls from either kind of caller are shared between both and all succeed; a wash
// caller gets the short reply from the wash member and the standard exchange from the other.
func TestMixedQueueGroup(t *testing.T) {
	url := startNATS(t, 0)
	f := NewFunc([]Param{{"body", Stream(U8)}}, String)
	var mu sync.Mutex
	seen := map[string]int{}
	for name, opts := range map[string]Options{"wash": {}, "standard": {StandardOnly: true}} {
		c := connectWith(t, url, opts)
		s, err := c.Serve(ServeOptions{Prefix: "L.comp", Queue: "L.comp"}, Export{Func: "who", Type: f,
			Handler: func(_ context.Context, a []Value) ([]Value, error) {
				if b, err := io.ReadAll(a[0].(io.Reader)); err != nil || len(b) != 0 {
					return nil, fmt.Errorf("body %q %v", b, err)
				}
				mu.Lock()
				seen[name]++
				mu.Unlock()
				return []Value{name}, nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Stop()
	}
	for _, cliOpts := range []Options{{}, {StandardOnly: true}} {
		cli := connectWith(t, url, cliOpts)
		clear(seen)
		for i := 0; i < 60; i++ {
			res, err := cli.Invoke(context.Background(), Invocation{Prefix: "L.comp", Func: "who", Timeout: 5 * time.Second}, f, []Value{[]byte{}})
			if err != nil {
				t.Fatal(err)
			}
			if res[0] != "wash" && res[0] != "standard" {
				t.Fatalf("result %v", res[0])
			}
		}
		mu.Lock()
		if seen["wash"]+seen["standard"] != 60 || seen["wash"] == 0 || seen["standard"] == 0 {
			t.Errorf("caller %+v: calls per member %v", cliOpts, seen)
		}
		mu.Unlock()
	}
}

// A marked invocation with malformed params gets the early end of the results, no handshake;
// a short reply of an unknown kind fails the call.
func TestShortReplyMalformed(t *testing.T) {
	url := startNATS(t, 0)
	srv, cli := connect(t, url), connect(t, url)
	served, err := srv.Serve(ServeOptions{Prefix: "p"}, Export{Func: "get", Type: kvGet,
		Handler: func(context.Context, []Value) ([]Value, error) { return []Value{Ok(None())}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer served.Stop()
	raw := cli.NATS()
	inbox := nats.NewInbox() + ".x" + fastMark + "1000"
	sub, _ := raw.SubscribeSync(inbox + ".>")
	hs, _ := raw.SubscribeSync(inbox)
	if err := raw.PublishMsg(&nats.Msg{Subject: "p.wrpc.0.0.1.get", Reply: inbox, Data: []byte{0x05, 'a'}}); err != nil {
		t.Fatal(err)
	}
	r, err := sub.NextMsg(5 * time.Second)
	if err != nil || r.Subject != inbox+".results" || len(r.Data) != 0 {
		t.Fatalf("want an empty results message, got %v %v", r, err)
	}
	if m, err := hs.NextMsg(100 * time.Millisecond); err == nil {
		t.Fatalf("a marked call got %s %x on its inbox", m.Reply, m.Data)
	}

	// a server that answers a marked call with a kind this client does not know
	odd, _ := srv.NATS().Subscribe("p.wrpc.0.0.1.odd", func(m *nats.Msg) { _ = m.Respond([]byte{9}) })
	defer odd.Unsubscribe()
	_ = srv.NATS().Flush()
	_, err = cli.Invoke(context.Background(), Invocation{Prefix: "p", Func: "odd", Timeout: 2 * time.Second}, kvGet, []Value{"a", "b"})
	if err == nil || !strings.Contains(err.Error(), "unknown short reply kind 9") {
		t.Fatalf("odd reply: %v", err)
	}
}

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

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/testnats"
)

// startNATS runs an in-process nats-server on a random loopback port.
func startNATS(t testing.TB, maxPayload int32) string {
	t.Helper()
	return testnats.Run(t, &server.Options{MaxPayload: maxPayload}).URL
}

func connect(t testing.TB, url string) *Conn { return connectWith(t, url, Options{}) }

// standardPeers are the two ways a wash peer meets a standard one: a wash client calling a
// standard server (an upstream host or provider), a standard client calling a wash server.
// Either way the wire carries exactly the standard protocol.
var standardPeers = []struct {
	name     string
	srv, cli Options
}{
	{"wash client, standard server", Options{StandardOnly: true}, Options{}},
	{"standard client, wash server", Options{}, Options{StandardOnly: true}},
}

func connectWith(t testing.TB, url string, opts Options) *Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	c, err := NewConn(nc, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// spy records every message on the server, in order.
type spy struct {
	mu   sync.Mutex
	msgs []*nats.Msg
}

func newSpy(t testing.TB, url string) *spy {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	s := &spy{}
	if _, err := nc.Subscribe(">", func(m *nats.Msg) {
		s.mu.Lock()
		s.msgs = append(s.msgs, m)
		s.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *spy) waitFor(t testing.TB, n int) []*nats.Msg {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		if len(s.msgs) >= n {
			out := append([]*nats.Msg(nil), s.msgs...)
			s.mu.Unlock()
			return out
		}
		s.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Fatalf("spy saw %d messages, want %d", len(s.msgs), n)
	return nil
}

var kvError = Variant(Case{"no-such-store", nil}, Case{"access-denied", nil}, Case{"other", String})

var kvGet = NewFunc([]Param{{"bucket", String}, {"key", String}}, Result(Option(List(U8)), kvError))

func TestSubjects(t *testing.T) {
	for _, c := range []struct{ prefix, instance, fn, want string }{
		{"", "", "f", "wrpc.0.0.1.f"},
		{"p", "i", "f", "p.wrpc.0.0.1.i.f"},
		{"default.kvredis", "wrpc:keyvalue/store@0.2.0-draft", "get", "default.kvredis.wrpc.0.0.1.wrpc:keyvalue/store@0.2.0-draft.get"},
		{"default.my_comp", "", "run", "default.my_comp.wrpc.0.0.1.run"},
		{"default.my_comp", "my:pkg/iface@0.1.0", "counter.get-count", "default.my_comp.wrpc.0.0.1.my:pkg/iface@0.1.0.counter.get-count"},
	} {
		if got := InvocationSubject(c.prefix, c.instance, c.fn); got != c.want {
			t.Errorf("InvocationSubject(%q, %q, %q) = %q, want %q", c.prefix, c.instance, c.fn, got, c.want)
		}
	}
	if got := IndexSubject("R.params", []int{0, Wildcard, 2}); got != "R.params.0.*.2" {
		t.Errorf("IndexSubject = %q", got)
	}
}

// One keyvalue get, checked message by message with a spy: invocation (reply R_c, headers),
// handshake (to R_c, reply R_s, empty), end of root params on R_s.params, results on
// R_c.results, then the results' end; whichever side is the standard peer.
func TestInvocationWireTrace(t *testing.T) {
	for _, peers := range standardPeers {
		t.Run(peers.name, func(t *testing.T) { testInvocationWireTrace(t, peers.srv, peers.cli) })
	}
}

func testInvocationWireTrace(t *testing.T, srvOpts, cliOpts Options) {
	url := startNATS(t, 0)
	srv, cli := connectWith(t, url, srvOpts), connectWith(t, url, cliOpts)
	var gotHeader nats.Header
	served, err := srv.Serve(ServeOptions{Prefix: "default.kv", Queue: "default.kv"}, Export{
		Instance: "wrpc:keyvalue/store@0.2.0-draft", Func: "get", Type: kvGet,
		Handler: func(ctx context.Context, args []Value) ([]Value, error) {
			gotHeader = InvocationHeader(ctx)
			if args[0] != "default" || args[1] != "foo" {
				return nil, fmt.Errorf("args %v", args)
			}
			return []Value{Ok(Some([]byte("bar")))}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer served.Stop()
	s := newSpy(t, url)
	ctx := WithTraceContext(context.Background(), TraceContext{Traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
	res, err := cli.Invoke(ctx, Invocation{Prefix: "default.kv", Instance: "wrpc:keyvalue/store@0.2.0-draft", Func: "get",
		Header: nats.Header{"source-id": {"comp"}, "link-name": {"default"}}, Timeout: 5 * time.Second}, kvGet, []Value{"default", "foo"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res, []Value{Ok(Some([]byte("bar")))}) {
		t.Fatalf("results %#v", res)
	}
	if gotHeader.Get("source-id") != "comp" || gotHeader.Get("link-name") != "default" ||
		gotHeader.Get("traceparent") == "" || gotHeader.Values("tracestate") == nil {
		t.Fatalf("server saw header %v", gotHeader)
	}
	msgs := s.waitFor(t, 5)
	inv, hs, pend, res0, rend := msgs[0], msgs[1], msgs[2], msgs[3], msgs[4]
	if msgs[2].Subject != hs.Reply+".params" { // the params end and the results may interleave
		pend, res0, rend = msgs[3], msgs[2], msgs[4]
		if msgs[4].Subject == hs.Reply+".params" {
			res0, rend, pend = msgs[2], msgs[3], msgs[4]
		}
	}
	if inv.Subject != "default.kv.wrpc.0.0.1.wrpc:keyvalue/store@0.2.0-draft.get" || !strings.HasPrefix(inv.Reply, "_INBOX.") {
		t.Errorf("invocation %s reply %s", inv.Subject, inv.Reply)
	}
	if !bytes.Equal(inv.Data, hx(t, "07 64656661756c74 03 666f6f")) {
		t.Errorf("invocation payload %x", inv.Data)
	}
	if hs.Subject != inv.Reply || hs.Reply == "" || len(hs.Data) != 0 || len(hs.Header) != 0 {
		t.Errorf("handshake %s reply %s data %x header %v", hs.Subject, hs.Reply, hs.Data, hs.Header)
	}
	if pend.Subject != hs.Reply+".params" || len(pend.Data) != 0 {
		t.Errorf("params end: %s %x", pend.Subject, pend.Data)
	}
	if res0.Subject != inv.Reply+".results" || !bytes.Equal(res0.Data, hx(t, "00 01 03 626172")) {
		t.Errorf("results: %s %x", res0.Subject, res0.Data)
	}
	if rend.Subject != inv.Reply+".results" || len(rend.Data) != 0 || len(rend.Header) != 0 {
		t.Errorf("results end: %s %x", rend.Subject, rend.Data)
	}
}

// Params larger than max_payload: the invocation carries what fits after the reply subject and
// the header block, the rest follows on R_s.params, then the end.
func TestLargeParams(t *testing.T) {
	const maxPayload = 4096
	url := startNATS(t, maxPayload)
	srv, cli := connect(t, url), connect(t, url)
	echo := NewFunc([]Param{{"s", String}}, String)
	served, err := srv.Serve(ServeOptions{Prefix: "p"}, Export{Instance: "t:t/t", Func: "echo", Type: echo,
		Handler: func(_ context.Context, a []Value) ([]Value, error) { return []Value{a[0]}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer served.Stop()
	s := newSpy(t, url)
	big := strings.Repeat("0123456789abcdef", 1000) // 16000 bytes
	hdr := nats.Header{"source-id": {"x"}}
	res, err := cli.Invoke(context.Background(), Invocation{Prefix: "p", Instance: "t:t/t", Func: "echo", Header: hdr, Timeout: 5 * time.Second},
		echo, []Value{big})
	if err != nil {
		t.Fatal(err)
	}
	if res[0] != big {
		t.Fatal("echo differs")
	}
	msgs := s.waitFor(t, 10)
	inv := msgs[0]
	hdrLen := len("NATS/1.0\r\n") + len("\r\n") + len("source-id") + 2 + 1 + 2
	if want := maxPayload - len(inv.Reply) - hdrLen; len(inv.Data) != want {
		t.Errorf("invocation carries %d bytes, want %d", len(inv.Data), want)
	}
	var params [][]byte
	var hsReply string
	for _, m := range msgs {
		if m.Subject == inv.Reply && m.Reply != "" {
			hsReply = m.Reply
		}
		if hsReply != "" && m.Subject == hsReply+".params" {
			params = append(params, m.Data)
		}
		if len(m.Data) > maxPayload {
			t.Errorf("message on %s has %d bytes", m.Subject, len(m.Data))
		}
	}
	if len(params) < 2 || len(params[len(params)-1]) != 0 {
		t.Fatalf("params continuation %d messages", len(params))
	}
	total := len(inv.Data)
	for _, p := range params {
		total += len(p)
	}
	if total != len(big)+2 { // uleb32(16000) is 2 bytes
		t.Errorf("params total %d", total)
	}
}

func TestErrors(t *testing.T) {
	url := startNATS(t, 0)
	srv, cli := connect(t, url), connect(t, url)
	f := NewFunc([]Param{{"n", U32}}, U32)
	calls := 0
	served, err := srv.Serve(ServeOptions{Prefix: "p", Queue: "p"}, Export{Instance: "t:t/t", Func: "f", Type: f,
		Handler: func(_ context.Context, a []Value) ([]Value, error) {
			calls++
			if a[0].(uint32) == 0 {
				return nil, errors.New("zero")
			}
			if a[0].(uint32) == 1 {
				panic("one")
			}
			if a[0].(uint32) == 2 {
				return []Value{"not a u32"}, nil
			}
			return []Value{a[0].(uint32) * 2}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer served.Stop()
	inv := Invocation{Prefix: "p", Instance: "t:t/t", Func: "f", Timeout: 5 * time.Second}
	// the server fails, panics or returns garbage: the client sees the early end, three times
	// over, and the server keeps serving (upstream test.reset)
	for i := 0; i < 3; i++ {
		for n := uint32(0); n < 3; n++ {
			_, err := cli.Invoke(context.Background(), inv, f, []Value{n})
			if !errors.Is(err, ErrRemoteFailed) {
				t.Fatalf("n=%d: %v, want ErrRemoteFailed", n, err)
			}
		}
	}
	res, err := cli.Invoke(context.Background(), inv, f, []Value{uint32(21)})
	if err != nil || res[0] != uint32(42) {
		t.Fatalf("after failures: %v %v", res, err)
	}
	// nothing serves the subject: NATS 503 no responders
	start := time.Now()
	_, err = cli.Invoke(context.Background(), Invocation{Prefix: "p", Instance: "t:t/t", Func: "missing", Timeout: 5 * time.Second}, f, []Value{uint32(1)})
	var ce *CallError
	if !errors.Is(err, ErrNoResponders) || !errors.As(err, &ce) || !strings.Contains(err.Error(), "p.wrpc.0.0.1.t:t/t.missing") {
		t.Fatalf("missing: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("no responders took %s", time.Since(start))
	}
	// a subscriber that never answers the handshake: the call timeout ends it
	nc := srv.NATS()
	sub, _ := nc.Subscribe("p.wrpc.0.0.1.t:t/t.silent", func(*nats.Msg) {})
	defer sub.Unsubscribe()
	_ = nc.Flush()
	_, err = cli.Invoke(context.Background(), Invocation{Prefix: "p", Instance: "t:t/t", Func: "silent", Timeout: 200 * time.Millisecond}, f, []Value{uint32(1)})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("silent: %v", err)
	}
	// wrong argument types never leave the client
	_, err = cli.Invoke(context.Background(), inv, f, []Value{"x"})
	var te *TypeError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "param 0: expected u32, got string") {
		t.Fatalf("type error: %v", err)
	}
}

// Malformed frames on a served subject get the early end of results, and serving goes on.
func TestMalformedInvocation(t *testing.T) {
	url := startNATS(t, 0)
	srv, cli := connect(t, url), connect(t, url)
	served, err := srv.Serve(ServeOptions{Prefix: "p"}, Export{Instance: "t:t/t", Func: "get", Type: kvGet,
		Handler: func(context.Context, []Value) ([]Value, error) { return []Value{Ok(None())}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer served.Stop()
	raw := cli.NATS()
	for _, payload := range [][]byte{{0xff, 0xff, 0xff, 0xff, 0x0f}, {0x05, 'a'}, {0x01, 0xc3, 0x28, 0x00}} {
		inbox := nats.NewInbox()
		sub, _ := raw.SubscribeSync(inbox + ".>")
		hs, _ := raw.SubscribeSync(inbox)
		if err := raw.PublishMsg(&nats.Msg{Subject: "p.wrpc.0.0.1.t:t/t.get", Reply: inbox, Data: payload}); err != nil {
			t.Fatal(err)
		}
		m, err := hs.NextMsg(5 * time.Second)
		if err != nil || m.Reply == "" {
			t.Fatalf("no handshake: %v", err)
		}
		// end the params, so a decoder waiting for more bytes sees the end
		_ = raw.Publish(m.Reply+".params", nil)
		r, err := sub.NextMsg(5 * time.Second)
		if err != nil || r.Subject != inbox+".results" || len(r.Data) != 0 {
			t.Fatalf("payload %x: want an empty results message, got %v %v", payload, r, err)
		}
		sub.Unsubscribe()
		hs.Unsubscribe()
	}
	res, err := cli.Invoke(context.Background(), Invocation{Prefix: "p", Instance: "t:t/t", Func: "get", Timeout: 5 * time.Second}, kvGet, []Value{"a", "b"})
	if err != nil || !reflect.DeepEqual(res, []Value{Ok(None())}) {
		t.Fatalf("after malformed frames: %v %v", res, err)
	}
}

// Async values both ways (upstream test.async): streams of u32 in two chunks, of strings, a
// byte stream, a future<list<u64>>, and a stream<u8> of 8 x 32 KiB through a 4 KiB max_payload.
func TestAsync(t *testing.T) {
	url := startNATS(t, 4096)
	srv, cli := connect(t, url), connect(t, url)
	types := []*Type{Stream(U32), Stream(String), Stream(U8), Future(List(U64)), Stream(U8)}
	f := NewFunc([]Param{{"a", types[0]}, {"b", types[1]}, {"c", types[2]}, {"d", types[3]}, {"e", types[4]}}, types...)
	// the server reads every param to its end and sends equivalent values back
	served, err := srv.Serve(ServeOptions{Prefix: "p"}, Export{Instance: "wrpc-test:integration/async", Func: "with-streams", Type: f,
		Handler: func(ctx context.Context, a []Value) ([]Value, error) {
			var u32s, strs []Value
			for _, x := range []struct {
				s   StreamValue
				dst *[]Value
			}{{a[0].(StreamValue), &u32s}, {a[1].(StreamValue), &strs}} {
				for {
					chunk, err := x.s.Next(ctx)
					if err == io.EOF {
						break
					}
					if err != nil {
						return nil, err
					}
					*x.dst = append(*x.dst, chunk...)
				}
			}
			c, err := io.ReadAll(a[2].(io.Reader))
			if err != nil {
				return nil, err
			}
			d, err := a[3].(FutureValue).Await(ctx)
			if err != nil {
				return nil, err
			}
			e, err := io.ReadAll(a[4].(io.Reader))
			if err != nil {
				return nil, err
			}
			return []Value{StreamOf(u32s...), StreamOf(strs...), bytes.NewReader(c), Ready(d), e}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer served.Stop()
	chunks := make(chan []Value, 2)
	chunks <- []Value{uint32(0xc0), uint32(0xff)}
	chunks <- []Value{uint32(0xee)}
	close(chunks)
	big := bytes.Repeat([]byte("abcdefgh"), 8*32<<10/8)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := cli.Invoke(ctx, Invocation{Prefix: "p", Instance: "wrpc-test:integration/async", Func: "with-streams", Timeout: 10 * time.Second}, f,
		[]Value{StreamChan(chunks), StreamOf("foo", "bar"), strings.NewReader("foobar"), Ready([]Value{uint64(42), uint64(0xf00)}), big})
	if err != nil {
		t.Fatal(err)
	}
	var u32s []Value
	for {
		c, err := res[0].(StreamValue).Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		u32s = append(u32s, c...)
	}
	if !reflect.DeepEqual(u32s, []Value{uint32(0xc0), uint32(0xff), uint32(0xee)}) {
		t.Errorf("u32s %v", u32s)
	}
	strs, err := res[1].(StreamValue).Next(ctx)
	if err != nil || !reflect.DeepEqual(strs, []Value{"foo", "bar"}) {
		t.Errorf("strings %v %v", strs, err)
	}
	if c, err := io.ReadAll(res[2].(io.Reader)); err != nil || string(c) != "foobar" {
		t.Errorf("bytes %q %v", c, err)
	}
	if d, err := res[3].(FutureValue).Await(ctx); err != nil || !reflect.DeepEqual(d, []Value{uint64(42), uint64(0xf00)}) {
		t.Errorf("future %v %v", d, err)
	}
	if e, err := io.ReadAll(res[4].(io.Reader)); err != nil || !bytes.Equal(e, big) {
		t.Errorf("big stream: %d bytes, %v", len(e), err)
	}
}

// A stream<u8> whose sender goes away before the closing chunk reads as an unexpected EOF.
func TestTruncatedByteStream(t *testing.T) {
	url := startNATS(t, 0)
	srv, cli := connect(t, url), connect(t, url)
	f := NewFunc(nil, Stream(U8))
	served, err := srv.Serve(ServeOptions{Prefix: "p"}, Export{Instance: "t:t/t", Func: "f", Type: f,
		Handler: func(context.Context, []Value) ([]Value, error) {
			return []Value{io.MultiReader(strings.NewReader("part"), errReader{})}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer served.Stop()
	res, err := cli.Invoke(context.Background(), Invocation{Prefix: "p", Instance: "t:t/t", Func: "f", Timeout: 5 * time.Second}, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res[0].(io.Reader))
	if string(b) != "part" || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("read %q, %v", b, err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("source broke") }

// Calls to one queue group are shared between its members. Here one is a wash server and one
// a standard one (as a wasmCloud host next to a wash host): calls from either kind of caller go
// to both and all succeed; a wash caller gets the short reply from the wash member and the
// standard exchange from the other.
func TestQueueGroupSharesCalls(t *testing.T) {
	url := startNATS(t, 0)
	f := NewFunc(nil, String)
	seen := map[string]int{}
	var mu sync.Mutex
	for name, opts := range map[string]Options{"wash": {}, "standard": {StandardOnly: true}} {
		c := connectWith(t, url, opts)
		s, err := c.Serve(ServeOptions{Prefix: "L.comp", Queue: "L.comp"}, Export{Instance: "t:t/t", Func: "who", Type: f,
			Handler: func(context.Context, []Value) ([]Value, error) {
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
		mu.Lock()
		clear(seen)
		mu.Unlock()
		for i := 0; i < 60; i++ {
			res, err := cli.Invoke(context.Background(), Invocation{Prefix: "L.comp", Instance: "t:t/t", Func: "who", Timeout: 5 * time.Second}, f, nil)
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

// An empty stream<u8> (an HTTP GET's body) is pending inline, and its channel carries only the
// closing chunk 00 and the channel's end, in both directions: the caller sends them when the
// handshake arrives, with the end of the params; the server after the results. (Between two
// wash peers the short reply replaces all this: TestShortReplyWireTrace.)
func TestEmptyByteStreamWireTrace(t *testing.T) {
	for _, peers := range standardPeers {
		t.Run(peers.name, func(t *testing.T) { testEmptyByteStreamWireTrace(t, peers.srv, peers.cli) })
	}
}

func testEmptyByteStreamWireTrace(t *testing.T, srvOpts, cliOpts Options) {
	url := startNATS(t, 0)
	srv, cli := connectWith(t, url, srvOpts), connectWith(t, url, cliOpts)
	served, err := srv.Serve(ServeOptions{Prefix: "p"}, emptyEcho())
	if err != nil {
		t.Fatal(err)
	}
	defer served.Stop()
	s := newSpy(t, url)
	callEmptyEcho(t, cli)
	msgs := s.waitFor(t, 9)
	inv, hs := msgs[0], msgs[1]
	if !bytes.Equal(inv.Data, []byte{0}) || hs.Subject != inv.Reply {
		t.Fatalf("invocation %x, handshake on %s", inv.Data, hs.Subject)
	}
	bySubject := map[string][]string{}
	for _, m := range msgs[2:] {
		bySubject[m.Subject] = append(bySubject[m.Subject], fmt.Sprintf("%x", m.Data))
	}
	want := map[string][]string{
		hs.Reply + ".params":     {""},
		hs.Reply + ".params.0":   {"00", ""},
		inv.Reply + ".results":   {"00", ""},
		inv.Reply + ".results.0": {"00", ""},
	}
	if !reflect.DeepEqual(bySubject, want) {
		t.Fatalf("messages after the handshake %v, want %v", bySubject, want)
	}
}

// emptyEcho takes and returns an empty stream<u8>, as an HTTP GET's body and an empty answer.
func emptyEcho() Export {
	return Export{Func: "echo", Type: emptyEchoType, Handler: func(ctx context.Context, a []Value) ([]Value, error) {
		b, err := io.ReadAll(a[0].(io.Reader))
		if err != nil || len(b) != 0 {
			return nil, fmt.Errorf("body %q: %v", b, err)
		}
		return []Value{[]byte{}}, nil
	}}
}

var emptyEchoType = NewFunc([]Param{{"body", Stream(U8)}}, Stream(U8))

func callEmptyEcho(t *testing.T, cli *Conn) {
	t.Helper()
	res, err := cli.Invoke(context.Background(), Invocation{Prefix: "p", Func: "echo", Timeout: 5 * time.Second}, emptyEchoType, []Value{[]byte{}})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(res[0].(io.Reader)); err != nil || len(b) != 0 {
		t.Fatalf("result body %q: %v", b, err)
	}
}

// The wash short reply (fast.go).

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
		}},
		Export{Func: "nothing", Type: NewFunc(nil), Handler: func(context.Context, []Value) ([]Value, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer served.Stop()
	s := newSpy(t, url)
	callEmptyEcho(t, cli)
	if _, err := cli.Invoke(context.Background(), Invocation{Prefix: "p", Func: "nothing", Timeout: 5 * time.Second}, NewFunc(nil), nil); err != nil {
		t.Fatal(err)
	}
	res, err := cli.Invoke(context.Background(), Invocation{Prefix: "p", Instance: "wrpc:keyvalue/store@0.2.0-draft", Func: "get",
		Header: nats.Header{"source-id": {"comp"}}, Timeout: 5 * time.Second}, kvGet, []Value{"default", "foo"})
	if err != nil || !reflect.DeepEqual(res, []Value{Ok(Some([]byte("bar")))}) {
		t.Fatalf("get: %#v %v", res, err)
	}
	msgs := s.waitFor(t, 6)
	time.Sleep(100 * time.Millisecond)
	if n := len(s.waitFor(t, 6)); n != 6 {
		t.Fatalf("%d messages for three calls, want 6", n)
	}
	for i, want := range []struct{ subject, data, reply string }{
		{"p.wrpc.0.0.1.echo", "00", ""}, {"", "02 00", ""},
		{"p.wrpc.0.0.1.nothing", "", ""}, {"", "02", ""},
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

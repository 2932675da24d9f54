package wrpchttp

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/testnats"
	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
)

func hx(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

func startNATS(t testing.TB) string {
	t.Helper()
	return testnats.Run(t, &server.Options{}).URL
}

func connect(t testing.TB, url string) *wrpc.Conn { return connectWith(t, url, wrpc.Options{}) }

func connectWith(t testing.TB, url string, opts wrpc.Options) *wrpc.Conn {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	c, err := wrpc.NewConn(nc, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The upstream trace (wrpc/http tests/rust.rs, reference §7.5): the root bytes of the request
// POST https://example.com/test?foo=bar with user-agent wrpc/0.2.0, and of the echo response.
// handleOver calls wrpc:http/incoming-handler.handle with req on the component served under
// prefix and returns its response.
func handleOver(t *testing.T, cli *wrpc.Conn, prefix string, req wrpc.Value) *http.Response {
	t.Helper()
	res, err := cli.Invoke(context.Background(), wrpc.Invocation{Prefix: prefix, Instance: interfaces.HTTPIncomingHandler, Func: "handle", Timeout: 5 * time.Second},
		interfaces.HTTPHandle.Type, []wrpc.Value{req})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ToResponse(context.Background(), res[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestRequestResponseGoldens(t *testing.T) {
	headers := FieldsValue(http.Header{"User-Agent": {"wrpc/0.2.0"}})
	// a streamed body and trailers not yet known, as the Rust client sends them: both pending
	req := NewRequestValue("POST", "https", "example.com", "/test?foo=bar", headers, strings.NewReader("foobar"),
		wrpc.FutureFunc(func(context.Context) (wrpc.Value, error) { return wrpc.None(), nil }))
	if _, err := wrpc.AppendValue(nil, interfaces.Request, req); err == nil {
		t.Fatal("a request with a body stream must not encode outside an invocation")
	}
	// the inline part, with the body and trailers pending
	want := hx(`00 00 02 01 0d 2f 74 65 73 74 3f 66 6f 6f 3d 62 61 72 01 01 01 0b 65 78 61 6d 70 6c 65 2e 63 6f 6d
		01 0a 75 73 65 72 2d 61 67 65 6e 74 01 0a 77 72 70 63 2f 30 2e 32 2e 30`)
	if len(want) != 57 {
		t.Fatalf("vector has %d bytes", len(want))
	}
	url := startNATS(t)
	srv, cli := connect(t, url), connect(t, url)
	var mu sync.Mutex
	var msgs []*nats.Msg
	spy, _ := nats.Connect(url)
	defer spy.Close()
	spy.Subscribe(">", func(m *nats.Msg) { mu.Lock(); msgs = append(msgs, m); mu.Unlock() })
	spy.Flush()
	served, err := srv.Serve(wrpc.ServeOptions{Prefix: "default.http_hello", Queue: "default.http_hello"}, wrpc.Export{
		Instance: interfaces.HTTPHandle.Instance, Func: "handle", Type: interfaces.HTTPHandle.Type,
		Handler: IncomingHandler(func(w http.ResponseWriter, r *http.Request) error {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return err
			}
			if r.Method != "POST" || r.URL.String() != "https://example.com/test?foo=bar" || r.Header.Get("User-Agent") != "wrpc/0.2.0" {
				t.Errorf("request %s %s %v", r.Method, r.URL, r.Header)
			}
			w.Header().Set("foo", "bar")
			w.WriteHeader(200)
			if r.Header.Get("X-Inline") == "" {
				w.(http.Flusher).Flush() // stream the body, as the upstream trace does
			}
			_, err = w.Write(b)
			return err
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer served.Stop()
	resp := handleOver(t, cli, "default.http_hello", req)
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != "foobar" || resp.StatusCode != 200 || resp.Header.Get("Foo") != "bar" {
		t.Fatalf("response %d %v %q %v", resp.StatusCode, resp.Header, body, err)
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	inv := msgs[0]
	if inv.Subject != "default.http_hello.wrpc.0.0.1.wrpc:http/incoming-handler@0.1.0.handle" || !bytes.Equal(inv.Data, want) {
		t.Fatalf("invocation %s\n%x\nwant\n%x", inv.Subject, inv.Data, want)
	}
	var rs string
	stream := map[string][]byte{}
	ends := map[string]int{}
	for _, m := range msgs[1:] {
		if m.Subject == inv.Reply {
			rs = m.Reply
			continue
		}
		stream[m.Subject] = append(stream[m.Subject], m.Data...)
		if len(m.Data) == 0 {
			ends[m.Subject]++
		}
	}
	for subj, want := range map[string][]byte{
		rs + ".params.0.0":         hx("06 66 6f 6f 62 61 72 00"),
		rs + ".params.0.1":         hx("00"),
		inv.Reply + ".results":     hx("00 00 00 c8 01 01 03 66 6f 6f 01 03 62 61 72"),
		inv.Reply + ".results.0.0": hx("06 66 6f 6f 62 61 72 00"),
		inv.Reply + ".results.0.1": hx("00"),
	} {
		if !bytes.Equal(stream[subj], want) || ends[subj] != 1 {
			for _, m := range msgs {
				t.Logf("%s %x", m.Subject, m.Data)
			}
			t.Errorf("%s carried %x (%d ends), want %x and one end", subj, stream[subj], ends[subj], want)
		}
	}
}

// serveIncoming serves handler as wrpc:http/incoming-handler under prefix "L.c" on a new NATS
// server; it returns the server's URL and a connection to call it through.
func serveIncoming(t *testing.T, handler ServeFunc) (string, *wrpc.Conn) {
	t.Helper()
	url := startNATS(t)
	srv, cli := connect(t, url), connect(t, url)
	serveHandle(t, srv, handler)
	return url, cli
}

// An HTTP request through the Transport to a served http.Handler and back: repeated headers
// grouped, a large streamed body, trailers, and an error before the response.
func TestTransportRoundTrip(t *testing.T) {
	_, cli := serveIncoming(t, func(w http.ResponseWriter, r *http.Request) error {
		if r.URL.Path == "/fail" {
			return io.ErrClosedPipe
		}
		b, _ := io.ReadAll(r.Body)
		w.Header()["X-Multi"] = r.Header.Values("X-Multi")
		w.Header().Set("Trailer", "X-Sum")
		w.Header().Set("X-Host", r.Host)
		w.WriteHeader(201)
		w.Write(b)
		w.Header().Set("X-Sum", "done")
		return nil
	})
	client := &http.Client{Transport: &Transport{Conn: cli, Target: func(*http.Request) wrpc.Invocation {
		return wrpc.Invocation{Prefix: "L.c", Timeout: 5 * time.Second}
	}}}
	big := bytes.Repeat([]byte("0123456789"), 300_000)
	req, _ := http.NewRequest("PUT", "http://localhost:8000/x?y=1", bytes.NewReader(big))
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", "b")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(body, big) || resp.StatusCode != 201 {
		t.Fatalf("status %d, %d bytes, %v", resp.StatusCode, len(body), err)
	}
	if got := resp.Header.Values("X-Multi"); strings.Join(got, ",") != "a,b" || resp.Header.Get("X-Host") != "localhost:8000" {
		t.Errorf("headers %v", resp.Header)
	}
	if resp.Trailer.Get("X-Sum") != "done" {
		t.Errorf("trailers %v", resp.Trailer)
	}
	_, err = client.Get("http://localhost/fail")
	if err == nil || !strings.Contains(err.Error(), "ended the call without results") {
		t.Fatalf("failing handler: %v", err)
	}
	// the served handler writes through WriteResponse into a real ResponseWriter
	rec := httptest.NewRecorder()
	req, _ = http.NewRequest("POST", "http://h/", strings.NewReader("hi"))
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteResponse(rec, resp); err != nil || rec.Code != 201 || rec.Body.String() != "hi" {
		t.Fatalf("WriteResponse: %v %d %q", err, rec.Code, rec.Body.String())
	}
}

// A GET between two wash peers is two NATS messages (the wash short reply); with a standard
// peer on either side it is the standard seven. The answer is the same.
func TestGETMessages(t *testing.T) {
	for _, c := range []struct {
		name     string
		srv, cli wrpc.Options
		messages int
	}{
		{"wash to wash", wrpc.Options{}, wrpc.Options{}, 2},
		{"wash to standard", wrpc.Options{StandardOnly: true}, wrpc.Options{}, 7},
		{"standard to wash", wrpc.Options{}, wrpc.Options{StandardOnly: true}, 7},
	} {
		t.Run(c.name, func(t *testing.T) {
			url := startNATS(t)
			srv, cli := connectWith(t, url, c.srv), connectWith(t, url, c.cli)
			serveHandle(t, srv, func(w http.ResponseWriter, r *http.Request) error {
				w.Header().Set("Content-Type", "text/plain")
				_, err := io.WriteString(w, "hello "+r.URL.Path)
				return err
			})
			spy, _ := nats.Connect(url)
			defer spy.Close()
			sub, _ := spy.SubscribeSync(">")
			spy.Flush()
			client := &http.Client{Transport: &Transport{Conn: cli, Target: func(*http.Request) wrpc.Invocation {
				return wrpc.Invocation{Prefix: "L.c", Timeout: 5 * time.Second}
			}}}
			resp, err := client.Get("http://localhost/x")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(body) != "hello /x" || resp.Header.Get("Content-Type") != "text/plain" {
				t.Fatalf("%d %v %q", resp.StatusCode, resp.Header, body)
			}
			n := 0
			for {
				if _, err := sub.NextMsg(200 * time.Millisecond); err != nil {
					break
				}
				n++
			}
			if n != c.messages {
				t.Errorf("%d messages, want %d", n, c.messages)
			}
		})
	}
}

func TestOutgoingHandler(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Path", r.URL.Path)
		io.WriteString(w, "from backend")
	}))
	defer backend.Close()
	url := startNATS(t)
	srv, cli := connect(t, url), connect(t, url)
	served, err := srv.Serve(wrpc.ServeOptions{Prefix: "L.httpclient"}, wrpc.Export{
		Instance: interfaces.HTTPOutgoingHandler, Func: "handle", Type: interfaces.HTTPOutgoing.Type,
		Handler: OutgoingHandler(http.DefaultTransport),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer served.Stop()
	client := &http.Client{Transport: &Transport{Conn: cli, Outgoing: true, Target: func(*http.Request) wrpc.Invocation {
		return wrpc.Invocation{Prefix: "L.httpclient", Timeout: 5 * time.Second}
	}}}
	resp, err := client.Get(backend.URL + "/p")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "from backend" || resp.Header.Get("X-Path") != "/p" {
		t.Fatalf("got %q %v", b, resp.Header)
	}
	_, err = client.Get("http://127.0.0.1:1/")
	var code *ErrorCode
	if err == nil || !strings.Contains(err.Error(), "HTTP error-code") {
		t.Fatalf("unreachable backend: %v %v", err, code)
	}
}

// A small answer that is complete when the result goes out travels inline: the body as a ready
// stream, the trailers as a ready future, nothing on the async channels.
func TestSmallResponseInline(t *testing.T) {
	url, cli := serveIncoming(t, func(w http.ResponseWriter, r *http.Request) error {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("foo", "bar")
		_, err := w.Write(b)
		return err
	})
	spy, _ := nats.Connect(url)
	defer spy.Close()
	sub, _ := spy.SubscribeSync("_INBOX.>")
	spy.Flush()
	small := NewRequestValue("POST", "https", "example.com", "/", nil, []byte("foobar"), wrpc.Ready(wrpc.None()))
	resp := handleOver(t, cli, "L.c", small)
	if b, _ := io.ReadAll(resp.Body); string(b) != "foobar" || resp.Header.Get("Foo") != "bar" {
		t.Fatalf("inline body %q %v", b, resp.Header)
	}
	for {
		m, err := sub.NextMsg(300 * time.Millisecond)
		if err != nil {
			break
		}
		if strings.Contains(m.Subject, ".results.") || strings.Contains(m.Subject, ".params.") {
			t.Errorf("an inline exchange used %s (%x)", m.Subject, m.Data)
		}
		if strings.HasSuffix(m.Subject, ".results") && len(m.Data) > 0 && !bytes.HasPrefix(m.Data, hx("00 06 666f6f626172 01 00 c8 01")) {
			t.Errorf("results %x", m.Data)
		}
	}
}

// Fields made from an http.Header (values as []string, no copy) encode to the same bytes as
// fields of []byte values, and both decode back to the header; a name twice is refused.
func TestFieldsFromHeader(t *testing.T) {
	h := http.Header{"User-Agent": {"wrpc/0.2.0"}, "X-Multi": {"a", "b"}}
	fields := FieldsValue(h)
	fromHeader, err := wrpc.AppendValue(nil, interfaces.Fields, fields)
	if err != nil {
		t.Fatal(err)
	}
	var asBytes []wrpc.Value
	for _, e := range fields {
		kv := e.([]wrpc.Value)
		var vals []wrpc.Value
		for _, v := range kv[1].([]string) {
			vals = append(vals, []byte(v))
		}
		asBytes = append(asBytes, []wrpc.Value{kv[0], vals})
	}
	want, err := wrpc.AppendValue(nil, interfaces.Fields, asBytes)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromHeader, want) {
		t.Fatalf("fields from a header %x, from bytes %x", fromHeader, want)
	}
	decoded, err := wrpc.DecodeValue(fromHeader, interfaces.Fields)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []wrpc.Value{decoded, FieldsValue(h)} {
		got, err := HeaderFromFields(v)
		if err != nil || !reflect.DeepEqual(got, h) {
			t.Fatalf("header %v (%v), want %v", got, err, h)
		}
	}
	for _, dup := range [][]wrpc.Value{
		{[]wrpc.Value{"x-a", []string{"1"}}, []wrpc.Value{"X-A", []string{"2"}}},
		{[]wrpc.Value{"x-a", []wrpc.Value{}}, []wrpc.Value{"x-a", []wrpc.Value{[]byte("2")}}},
	} {
		if _, err := HeaderFromFields(dup); err == nil || !strings.Contains(err.Error(), "duplicate header entry") {
			t.Errorf("%v: %v", dup, err)
		}
	}
}

// serveHandle serves incoming-handler.handle on "L.c" with serve until the test ends.
func serveHandle(t *testing.T, srv *wrpc.Conn, serve ServeFunc) {
	t.Helper()
	served, err := srv.Serve(wrpc.ServeOptions{Prefix: "L.c", Queue: "L.c"}, wrpc.Export{
		Instance: interfaces.HTTPIncomingHandler, Func: "handle", Type: interfaces.HTTPHandle.Type, Handler: IncomingHandler(serve),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(served.Stop)
}

package telemetry_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/telemetry"
	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
)

// spanAttr is a string attribute of a span.
func spanAttr(s *tracepb.Span, key string) string {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value.GetStringValue()
		}
	}
	return ""
}

// traceSpans are the spans of one trace received so far.
func (r *receiver) traceSpans(traceID []byte) []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*tracepb.Span
	for _, s := range r.spans {
		if bytes.Equal(s.TraceId, traceID) {
			out = append(out, s)
		}
	}
	return out
}

// chain checks that a trace holds, in order, a span per step, each the child of the one
// before (the first the child of parent), on the given host and of the given kind.
type step struct {
	name string
	kind tracepb.Span_SpanKind
	host string
}

func checkChain(t *testing.T, rcv *receiver, traceID, parent []byte, steps []step) {
	t.Helper()
	var spans []*tracepb.Span
	find := func() string {
		spans = rcv.traceSpans(traceID)
		p := parent
		for i, st := range steps {
			var next *tracepb.Span
			for _, s := range spans {
				if s.Name == st.name && bytes.Equal(s.ParentSpanId, p) {
					next = s
				}
			}
			if next == nil {
				return fmt.Sprintf("step %d: no span %q with parent %x", i, st.name, p)
			}
			if next.Kind != st.kind || spanAttr(next, "host.id") != st.host {
				return fmt.Sprintf("step %d: span %q is %v on host %q, want %v on %q", i, st.name, next.Kind, spanAttr(next, "host.id"), st.kind, st.host)
			}
			p = next.SpanId
		}
		return ""
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		msg := find()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			var have []string
			for _, s := range spans {
				have = append(have, fmt.Sprintf("%s(%x<-%x host=%s)", s.Name, s.SpanId, s.ParentSpanId, spanAttr(s, "host.id")))
			}
			t.Fatalf("trace %x: %s; spans: %s", traceID, msg, strings.Join(have, ", "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// One HTTP request through the http-server and component A on host 1 to component B on host 2
// is one trace, its spans in parent/child order across the hosts (each host exporting its own
// spans to a real OTLP/HTTP receiver): the HTTP invocation, A's client span for the call, B's
// component_invocation on host 2 (trace context in the invocation's NATS headers). The same
// holds when the http-server forwards the request to a component on another host, and for a
// builtin provider serving a call over wRPC; served invocations are counted under upstream's
// operation "<instance>/<func>".
func TestTraceAcrossHosts(t *testing.T) {
	rcv := &receiver{metrics: map[string]bool{}, ops: map[string]bool{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	ctx := context.Background()
	n := testlattice.StartNATS(t)
	nc := n.Connect(t)
	var hosts []*host.Host
	for i := range 2 {
		tel, err := telemetry.Setup(ctx, telemetry.Config{EnableObservability: true, Endpoint: srv.URL, MetricInterval: 200 * time.Millisecond},
			"wasmcloud-host", "test")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tel.Shutdown(context.Background()) }()
		hosts = append(hosts, testlattice.StartHostOn(t, n.Connect(t), host.Config{Lattice: "default", AllowFileLoad: true, Telemetry: tel,
			Labels: map[string]string{"n": fmt.Sprint(i)}}))
	}
	h1, h2 := hosts[0].ID(), hosts[1].ID()
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default", Timeout: 10 * time.Second})
	ref := func(name string) string {
		p, err := filepath.Abs("../../examples/edge-core/" + name + ".component.wasm")
		if err != nil {
			t.Fatal(err)
		}
		return "file://" + p
	}
	scale := func(hostID, id, name string) {
		mustOK(t)(c.ScaleComponent(ctx, ctl.ScaleComponentCommand{HostID: hostID, ComponentID: id, ComponentRef: ref(name), Count: 2}))
	}
	// front -> back: front on host 1, back on host 2; front2 -> back1: front2 on host 2, back1 on host 1
	scale(h1, "front", "front")
	scale(h2, "back", "back")
	scale(h2, "front2", "front")
	scale(h1, "back1", "back")
	mustOK(t)(c.StartProvider(ctx, ctl.StartProviderCommand{HostID: h1, ProviderID: "http", ProviderRef: "wasmcloud+builtin://http-server"}))
	mustOK(t)(c.StartProvider(ctx, ctl.StartProviderCommand{HostID: h1, ProviderID: "kv", ProviderRef: "wasmcloud+builtin://keyvalue-inmemory"}))
	addr1, addr2 := freeAddrPair(t)
	for _, l := range []struct{ front, back, addr string }{{"front", "back", addr1}, {"front2", "back1", addr2}} {
		mustOK(t)(c.PutLink(ctx, ctl.Link{SourceID: l.front, Target: l.back, WitNamespace: "wash", WitPackage: "edgecore", Interfaces: []string{"backend"}}))
		mustOK(t)(c.PutConfig(ctx, "addr-"+l.front, map[string]string{"address": l.addr}))
		mustOK(t)(c.PutLink(ctx, ctl.Link{SourceID: "http", Target: l.front, Name: l.front, WitNamespace: "wasi", WitPackage: "http",
			Interfaces: []string{"incoming-handler"}, SourceConfig: []string{"addr-" + l.front}}))
	}

	// the test's own tracer: a client span around each request, its context in traceparent
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(srv.URL+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(ctx)
	request := func(url string) (traceID, rootID []byte) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			rctx, root := tp.Tracer("test").Start(ctx, "GET")
			req, _ := http.NewRequestWithContext(rctx, "GET", url, nil)
			propagation.TraceContext{}.Inject(rctx, propagation.HeaderCarrier(req.Header))
			res, err := http.DefaultClient.Do(req)
			root.End()
			if err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					sc := root.SpanContext()
					tid, sid := sc.TraceID(), sc.SpanID()
					return tid[:], sid[:]
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %v %v", url, res, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// the invocations of back as they travel on NATS (a plain subscriber gets a copy of each)
	wire, err := nc.SubscribeSync("default.back.wrpc.0.0.1.wash:edgecore/backend@0.1.0.summarize")
	if err == nil {
		err = nc.Flush() // the server has the subscription before the request
	}
	if err != nil {
		t.Fatal(err)
	}
	const summarize = "wash:edgecore/backend@0.1.0.summarize"
	traceID, root := request("http://" + addr1 + "/one-trace")
	checkChain(t, rcv, traceID, root, []step{
		{"wasi:http/incoming-handler.handle", tracepb.Span_SPAN_KIND_SERVER, h1},
		{summarize, tracepb.Span_SPAN_KIND_CLIENT, h1},
		{"component_invocation", tracepb.Span_SPAN_KIND_SERVER, h2},
	})
	// on the wire: W3C traceparent under its lowercase name in the invocation's first message,
	// naming the client span as parent, as a wasmCloud host sends and reads it
	var client []byte
	for _, s := range rcv.traceSpans(traceID) {
		if s.Name == summarize {
			client = s.SpanId
		}
	}
	want := "00-" + hex.EncodeToString(traceID) + "-" + hex.EncodeToString(client) + "-01"
	for {
		m, err := wire.NextMsg(5 * time.Second)
		if err != nil {
			t.Fatalf("no invocation of back with traceparent %s on the wire: %v", want, err)
		}
		if vs := m.Header["traceparent"]; len(vs) == 1 && vs[0] == want {
			break
		}
	}
	_ = wire.Unsubscribe()
	for _, s := range rcv.traceSpans(traceID) {
		if s.Name == "component_invocation" {
			if spanAttr(s, "id") != "back" || spanAttr(s, "instance") != "wash:edgecore/backend@0.1.0" || spanAttr(s, "func") != "summarize" {
				t.Errorf("component_invocation attributes: %v", s.Attributes)
			}
		}
	}

	// the http-server on host 1 forwards to front2 on host 2, which calls back1 on host 1
	traceID, root = request("http://" + addr2 + "/forwarded")
	checkChain(t, rcv, traceID, root, []step{
		{interfaces.HTTPIncomingHandler + ".handle", tracepb.Span_SPAN_KIND_CLIENT, h1},
		{"wasi:http/incoming-handler.handle", tracepb.Span_SPAN_KIND_SERVER, h2},
		{summarize, tracepb.Span_SPAN_KIND_CLIENT, h2},
		{"component_invocation", tracepb.Span_SPAN_KIND_SERVER, h1},
	})

	// a builtin provider serving over wRPC continues the caller's trace
	mustOK(t)(c.PutLink(ctx, ctl.Link{SourceID: "caller", Target: "kv", WitNamespace: "wasi", WitPackage: "keyvalue", Interfaces: []string{"store"}}))
	cli, err := wrpc.NewConn(nc, wrpc.Options{Propagator: otelProp{}})
	if err != nil {
		t.Fatal(err)
	}
	cctx, call := tp.Tracer("test").Start(ctx, "kv call")
	get := interfaces.KVGet
	if _, err := cli.Invoke(cctx, wrpc.Invocation{Prefix: "default.kv", Instance: get.Instance, Func: get.Name, Timeout: 5 * time.Second,
		Header: nats.Header{"source-id": {"caller"}}}, get.Type, []wrpc.Value{"b", "k"}); err != nil {
		t.Fatal(err)
	}
	call.End()
	sc := call.SpanContext()
	tid, sid := sc.TraceID(), sc.SpanID()
	checkChain(t, rcv, tid[:], sid[:], []step{{get.Instance + "." + get.Name, tracepb.Span_SPAN_KIND_SERVER, h1}})

	// served invocations are measured under upstream's operation name
	waitUntil(t, "the served invocation's metric", func() bool {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		return rcv.ops[h2+"/wash:edgecore/backend@0.1.0/summarize"]
	})
}

// otelProp is the test client's propagator: OpenTelemetry's W3C trace context.
type otelProp struct{}

func (otelProp) Inject(ctx context.Context, c wrpc.Carrier) {
	propagation.TraceContext{}.Inject(ctx, c)
}
func (otelProp) Extract(ctx context.Context, c wrpc.Carrier) context.Context {
	return propagation.TraceContext{}.Extract(ctx, c)
}

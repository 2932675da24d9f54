package telemetry_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host"
	"github.com/wasmlattice/wash/lattice/telemetry"
)

// receiver is an OTLP/HTTP endpoint that decodes what exporters send with the official
// protobuf definitions.
type receiver struct {
	mu      sync.Mutex
	spans   []*tracepb.Span
	metrics map[string]bool
	ops     map[string]bool // "host/operation" of every invocation counted
	logs    []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(io.LimitReader(body, 32<<20))
	if err != nil || req.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want protobuf", http.StatusUnsupportedMediaType)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch req.URL.Path {
	case "/v1/traces":
		export(w, b, &coltrace.ExportTraceServiceRequest{}, &coltrace.ExportTraceServiceResponse{}, func(m *coltrace.ExportTraceServiceRequest) {
			for _, rs := range m.ResourceSpans {
				for _, ss := range rs.ScopeSpans {
					r.spans = append(r.spans, ss.Spans...)
				}
			}
		})
	case "/v1/metrics":
		export(w, b, &colmetrics.ExportMetricsServiceRequest{}, &colmetrics.ExportMetricsServiceResponse{}, func(m *colmetrics.ExportMetricsServiceRequest) {
			for _, rm := range m.ResourceMetrics {
				for _, sm := range rm.ScopeMetrics {
					for _, x := range sm.Metrics {
						r.metrics[x.Name] = true
						if x.Name != telemetry.MetricInvocations || r.ops == nil {
							continue
						}
						for _, dp := range x.GetSum().GetDataPoints() {
							a := map[string]string{}
							for _, kv := range dp.Attributes {
								a[kv.Key] = kv.Value.GetStringValue()
							}
							r.ops[a["host"]+"/"+a["operation"]] = true
						}
					}
				}
			}
		})
	case "/v1/logs":
		export(w, b, &collogs.ExportLogsServiceRequest{}, &collogs.ExportLogsServiceResponse{}, func(m *collogs.ExportLogsServiceRequest) {
			for _, rl := range m.ResourceLogs {
				for _, sl := range rl.ScopeLogs {
					for _, l := range sl.LogRecords {
						r.logs = append(r.logs, l.Body.GetStringValue())
					}
				}
			}
		})
	default:
		http.NotFound(w, req)
	}
}

// export answers one OTLP/HTTP export: req decoded from b and handed to record, then the
// empty success response resp; a request that does not decode gets 400.
func export[Req proto.Message](w http.ResponseWriter, b []byte, req Req, resp proto.Message, record func(Req)) {
	if err := proto.Unmarshal(b, req); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	record(req)
	out, _ := proto.Marshal(resp)
	_, _ = w.Write(out)
}

func (r *receiver) find(name string) []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*tracepb.Span
	for _, s := range r.spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func waitUntil(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestHostExportsOverOTLP runs a host with OpenTelemetry on against a real OTLP/HTTP receiver:
// a control request made inside a client's span becomes a child span on the host (trace
// context in NATS headers), an HTTP request carrying a traceparent becomes the parent of the
// component invocation's span, metrics arrive under upstream's names and logs are exported.
func TestHostExportsOverOTLP(t *testing.T) {
	rcv := &receiver{metrics: map[string]bool{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	ctx := context.Background()
	tel, err := telemetry.Setup(ctx, telemetry.Config{EnableObservability: true, Endpoint: srv.URL, MetricInterval: 200 * time.Millisecond},
		"wasmcloud-host", "test")
	if err != nil {
		t.Fatal(err)
	}
	n := testlattice.StartNATS(t)
	nc := n.Connect(t)
	h := testlattice.StartHostOn(t, n.Connect(t), host.Config{Lattice: "default", AllowFileLoad: true, Telemetry: tel,
		Logger: newLogger(tel)})
	defer func() { _ = tel.Shutdown(context.Background()) }()

	// the "client": its own SDK exporting to the same receiver
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(srv.URL+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(ctx)
	cctx, root := tp.Tracer("test").Start(ctx, "wash start component")
	c := ctl.NewClient(nc, ctl.ClientOptions{Lattice: "default", Timeout: 5 * time.Second})
	if _, err := c.ScaleComponent(cctx, ctl.ScaleComponentCommand{HostID: h.ID(), ComponentID: "httplog",
		ComponentRef: "file://" + testlattice.HTTPLog(t), Count: 5}); err != nil {
		t.Fatal(err)
	}
	root.End()
	addr := freeAddr(t)
	mustOK(t)(c.StartProvider(ctx, ctl.StartProviderCommand{HostID: h.ID(), ProviderID: "http", ProviderRef: "wasmcloud+builtin://http-server"}))
	mustOK(t)(c.PutConfig(ctx, "addr", map[string]string{"address": addr}))
	mustOK(t)(c.PutLink(ctx, ctl.Link{SourceID: "http", Target: "httplog", WitNamespace: "wasi", WitPackage: "http",
		Interfaces: []string{"incoming-handler"}, SourceConfig: []string{"addr"}}))

	// an HTTP request that arrives inside someone's trace
	traceID := "4bf92f3577b34da6a3ce929d0e0e4736"
	parentID := "00f067aa0ba902b7"
	waitUntil(t, "the component to answer HTTP", func() bool {
		req, _ := http.NewRequest("GET", "http://"+addr+"/traced", nil)
		req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})

	waitUntil(t, "the control request's span", func() bool {
		return len(rcv.find("ctl component.scale")) > 0 && len(rcv.find("wash start component")) > 0
	})
	hostSpan, clientSpan := rcv.find("ctl component.scale")[0], rcv.find("wash start component")[0]
	if !bytes.Equal(hostSpan.TraceId, clientSpan.TraceId) || !bytes.Equal(hostSpan.ParentSpanId, clientSpan.SpanId) {
		t.Errorf("host span %x/%x is not a child of the client span %x/%x", hostSpan.TraceId, hostSpan.ParentSpanId, clientSpan.TraceId, clientSpan.SpanId)
	}
	if hostSpan.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("ctl span kind %v", hostSpan.Kind)
	}
	waitUntil(t, "the invocation span", func() bool { return len(rcv.find("wasi:http/incoming-handler.handle")) > 0 })
	var inv *tracepb.Span
	for _, s := range rcv.find("wasi:http/incoming-handler.handle") {
		if hex.EncodeToString(s.TraceId) == traceID {
			inv = s
		}
	}
	if inv == nil || hex.EncodeToString(inv.ParentSpanId) != parentID {
		t.Fatalf("no invocation span in trace %s with parent %s: %+v", traceID, parentID, inv)
	}
	attrs := map[string]string{}
	for _, a := range inv.Attributes {
		attrs[a.Key] = a.Value.GetStringValue()
	}
	if attrs["component.id"] != "httplog" || attrs["url.path"] != "/traced" || attrs["host.id"] != h.ID() {
		t.Errorf("invocation span attributes = %v", attrs)
	}
	for _, name := range []string{telemetry.MetricInvocations, telemetry.MetricRPCDuration, telemetry.MetricActiveInstances,
		telemetry.MetricMaxInstances, telemetry.MetricMemoryUsed, telemetry.MetricMemoryTotal} {
		waitUntil(t, "metric "+name, func() bool { rcv.mu.Lock(); defer rcv.mu.Unlock(); return rcv.metrics[name] })
	}
	waitUntil(t, "the component's stderr line as an OTLP log", func() bool {
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		for _, l := range rcv.logs {
			if strings.Contains(l, "httplog path=/traced") {
				return true
			}
		}
		return false
	})
}

func mustOK(t *testing.T) func(ctl.Response, error) {
	return func(r ctl.Response, err error) {
		t.Helper()
		if err != nil || !r.Success {
			t.Fatalf("control request: %v %s", err, r.Message)
		}
	}
}

// freeAddrPair returns two distinct free addresses (both held until both are picked).
func freeAddrPair(t *testing.T) (string, string) {
	var out []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		out = append(out, ln.Addr().String())
	}
	return out[0], out[1]
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newLogger(tel *telemetry.Telemetry) *slog.Logger {
	return slog.New(telemetry.TeeHandler(slog.NewTextHandler(io.Discard, nil), tel.LogHandler()))
}

package host

import (
	"context"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host/providers"
	"github.com/wasmlattice/wash/lattice/telemetry"
	"github.com/wasmlattice/wash/lattice/wrpc"
	"github.com/wasmlattice/wash/lattice/wrpc/interfaces"
)

// Spans and metrics of the host. Each helper returns at once, allocating nothing, when its
// signal is off: telemetry disabled costs a bool check per invocation.

var noEnd = func(error) {}

// setupTelemetry builds the host's instruments once its id is known.
func (h *Host) setupTelemetry() error {
	if h.cfg.Telemetry == nil {
		h.cfg.Telemetry = telemetry.Disabled()
	}
	h.tel = h.cfg.Telemetry
	m, err := telemetry.NewHostMetrics(h.tel, h.cfg.Lattice, h.id)
	if err != nil {
		return err
	}
	h.metrics = m
	return nil
}

// ctlSpan is the server span of one control request, child of the caller's trace context.
func (h *Host) ctlSpan(m *nats.Msg) (context.Context, func(ctl.Response)) {
	ctx := context.Background()
	if !h.tel.Tracing() {
		return ctx, func(ctl.Response) {}
	}
	ctx = telemetry.Extract(ctx, m.Header)
	op := m.Subject
	if rest, ok := cutPrefix(m.Subject, h.subjects.Base()+"."); ok {
		op = rest
		if len(h.id) > 0 && len(op) > len(h.id) && op[len(op)-len(h.id):] == h.id {
			op = op[:len(op)-len(h.id)-1]
		}
	}
	ctx, span := h.tel.Tracer().Start(ctx, "ctl "+op, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("messaging.system", "nats"), attribute.String("messaging.destination.name", m.Subject),
			attribute.String("lattice", h.cfg.Lattice), attribute.String("host.id", h.id)))
	return ctx, func(r ctl.Response) {
		span.SetAttributes(attribute.Bool("ctl.success", r.Success))
		if !r.Success {
			span.SetStatus(codes.Error, r.Message)
		}
		span.End()
	}
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

// invocation starts the span and measurements of one component invocation; end records the
// outcome.
func (h *Host) invocation(ctx context.Context, c *component, operation string, attrs ...attribute.KeyValue) (context.Context, func(error)) {
	return h.namedInvocation(ctx, c, operation, operation, attrs...)
}

// namedInvocation is invocation with a span name other than the operation (the metrics'
// attribute).
func (h *Host) namedInvocation(ctx context.Context, c *component, spanName, operation string, attrs ...attribute.KeyValue) (context.Context, func(error)) {
	tracing, metering := h.tel.Tracing(), h.metrics != nil && h.tel.Metering()
	if !tracing && !metering {
		return ctx, noEnd
	}
	start := time.Now()
	var span trace.Span
	if tracing {
		ctx, span = h.tel.Tracer().Start(ctx, spanName, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(append(attrs, attribute.String("component.id", c.id), attribute.String("component.ref", c.ref),
				attribute.String("lattice", h.cfg.Lattice), attribute.String("host.id", h.id))...))
	}
	var mattrs = h.metrics.ComponentAttrs(c.id, c.ref)
	h.metrics.Active(ctx, 1, mattrs)
	return ctx, func(err error) {
		h.metrics.Active(ctx, -1, mattrs)
		h.metrics.Invocation(ctx, time.Since(start), err != nil, mattrs, operation)
		if span != nil {
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			}
			span.End()
		}
	}
}

// httpInvocation is invocation for an HTTP request: the request's own traceparent, if any,
// is the parent, and the response status lands on the span.
func (h *Host) httpInvocation(ctx context.Context, c *component, w http.ResponseWriter, r *http.Request) (context.Context, http.ResponseWriter, func(error)) {
	if !h.tel.Tracing() {
		ctx, end := h.invocation(ctx, c, httpOperation)
		return ctx, w, end
	}
	if !trace.SpanContextFromContext(ctx).IsValid() {
		// a request that came over wRPC already has its parent: the forwarding host's span
		ctx = telemetry.Propagator().Extract(ctx, propagation.HeaderCarrier(r.Header))
	}
	ctx, end := h.invocation(ctx, c, httpOperation,
		attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path))
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	span := trace.SpanFromContext(ctx)
	return ctx, sw, func(err error) {
		span.SetAttributes(attribute.Int("http.response.status_code", sw.status))
		if err == nil && sw.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.status))
		}
		end(err)
	}
}

const httpOperation = "wasi:http/incoming-handler.handle"

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Spans of wRPC invocations. A served component function gets upstream's server span,
// "component_invocation" with its attributes func, id and instance (wasi:http keeps its HTTP
// span); an outgoing invocation gets a client span named by the interface and function it
// calls, like the capability calls; a builtin provider serving a call over wRPC gets a server
// span of the same name. The Conn's propagator carries the current span to the other side
// in the invocation's headers.
const componentInvocationSpan = "component_invocation"

// servedInvocation is invocation for a component function served over wRPC.
func (h *Host) servedInvocation(ctx context.Context, c *component, instance, fn string) (context.Context, func(error)) {
	if !h.tel.Tracing() && (h.metrics == nil || !h.tel.Metering()) {
		return ctx, noEnd
	}
	return h.namedInvocation(ctx, c, componentInvocationSpan, instance+"/"+fn,
		attribute.String("func", fn), attribute.String("id", c.id), attribute.String("instance", instance))
}

// rpcClientSpan is the client span of one invocation this host sends over wRPC for source
// (a component, or the http-server forwarding a request) to target.
func (h *Host) rpcClientSpan(ctx context.Context, source, target, instance, fn string) (context.Context, func(error)) {
	if !h.tel.Tracing() {
		return ctx, noEnd
	}
	ctx, span := h.tel.Tracer().Start(ctx, instance+"."+fn, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("rpc.system", "wrpc"), attribute.String("rpc.service", instance),
			attribute.String("rpc.method", fn), attribute.String("source.id", source), attribute.String("target.id", target),
			attribute.String("lattice", h.cfg.Lattice), attribute.String("host.id", h.id)))
	return ctx, endSpan(span)
}

// forwardSpan is the client span of an HTTP request the http-server sends to a component on
// another host; without a span of its own the request's traceparent is its parent.
func (h *Host) forwardSpan(ctx context.Context, source, target string, r *http.Request) (context.Context, func(error)) {
	if !h.tel.Tracing() {
		return ctx, noEnd
	}
	if !trace.SpanContextFromContext(ctx).IsValid() {
		ctx = telemetry.Propagator().Extract(ctx, propagation.HeaderCarrier(r.Header))
	}
	return h.rpcClientSpan(ctx, source, target, interfaces.HTTPIncomingHandler, "handle")
}

// tracedExports gives each export of a builtin provider a server span per served call.
func (h *Host) tracedExports(providerID string, exports []wrpc.Export) []wrpc.Export {
	if !h.tel.Tracing() {
		return exports
	}
	out := make([]wrpc.Export, len(exports))
	for i, e := range exports {
		name, handler := e.Instance+"."+e.Func, e.Handler
		e.Handler = func(ctx context.Context, args []wrpc.Value) ([]wrpc.Value, error) {
			ctx, span := h.tel.Tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("provider.id", providerID), attribute.String("source.id", wrpc.InvocationHeader(ctx).Get("source-id")),
					attribute.String("lattice", h.cfg.Lattice), attribute.String("host.id", h.id)))
			res, err := handler(ctx, args)
			endSpan(span)(err)
			return res, err
		}
		out[i] = e
	}
	return out
}

func endSpan(span trace.Span) func(error) {
	return func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}

// capabilitySpan is the client span of a component's call into a capability provider.
func (h *Host) capabilitySpan(ctx context.Context, componentID, function string) (context.Context, func(error)) {
	if !h.tel.Tracing() {
		return ctx, noEnd
	}
	ctx, span := h.tel.Tracer().Start(ctx, function, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("component.id", componentID), attribute.String("host.id", h.id)))
	return ctx, endSpan(span)
}

// recordMaxInstances keeps the max_instances gauge in step with scaling.
func (h *Host) recordMaxInstances(c *component, n uint32) {
	if h.metrics != nil && h.tel.Metering() {
		h.metrics.MaxInstances(context.Background(), n, h.metrics.ComponentAttrs(c.id, c.ref))
	}
}

// providerOtelConfig passes the host's OpenTelemetry settings to native providers (HostData).
func (h *Host) providerOtelConfig() providers.OtelConfig {
	c := h.tel.Settings()
	proto := "Http"
	if c.Protocol == telemetry.ProtocolGRPC {
		proto = "Grpc"
	}
	return providers.OtelConfig{EnableObservability: c.EnableObservability, EnableTraces: c.EnableTraces,
		EnableMetrics: c.EnableMetrics, EnableLogs: c.EnableLogs, ObservabilityURL: c.Endpoint,
		TracesURL: c.TracesEndpoint, MetricsURL: c.MetricsEndpoint, LogsURL: c.LogsEndpoint,
		Protocol: proto, AdditionalCAPaths: c.CAPaths}
}

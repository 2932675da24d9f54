package wrpc

import (
	"context"

	"github.com/nats-io/nats.go"
)

// Carrier is a set of text headers; its method set is OpenTelemetry's TextMapCarrier, so an
// OpenTelemetry propagator adapts to Propagator in a few lines.
type Carrier interface {
	Get(key string) string
	Set(key, value string)
	Keys() []string
}

// Propagator moves trace context between a context and invocation headers: Inject on every
// outgoing invocation, Extract on every served one (the handler's context). Its methods match
// OpenTelemetry's propagation.TextMapPropagator.
type Propagator interface {
	Inject(ctx context.Context, carrier Carrier)
	Extract(ctx context.Context, carrier Carrier) context.Context
}

// HeaderCarrier adapts a NATS header to Carrier, with exact (lowercase) keys as upstream
// sends them.
type HeaderCarrier nats.Header

// Get returns the first value of key.
func (h HeaderCarrier) Get(key string) string {
	if vs := h[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// Set replaces key.
func (h HeaderCarrier) Set(key, value string) { h[key] = []string{value} }

// Keys lists the keys.
func (h HeaderCarrier) Keys() []string {
	out := make([]string, 0, len(h))
	for k := range h {
		out = append(out, k)
	}
	return out
}

// W3C trace-context header names, as wasmCloud sends them.
const (
	TraceparentHeader = "traceparent"
	TracestateHeader  = "tracestate"
)

// TraceContext is a W3C trace context carried through a host without a tracer: what a served
// invocation received, handed on to the calls it makes.
type TraceContext struct {
	Traceparent string
	Tracestate  string
}

type traceKey struct{}

// WithTraceContext stores tc in ctx for W3CPassthrough.
func WithTraceContext(ctx context.Context, tc TraceContext) context.Context {
	return context.WithValue(ctx, traceKey{}, tc)
}

// TraceContextFrom returns the trace context W3CPassthrough stored.
func TraceContextFrom(ctx context.Context) (TraceContext, bool) {
	tc, ok := ctx.Value(traceKey{}).(TraceContext)
	return tc, ok
}

// W3CPassthrough is the default Propagator: it carries traceparent/tracestate from a served
// invocation (or an HTTP request, via WithTraceContext) to the invocations made while serving
// it, unchanged. Like upstream's TraceContextPropagator (opentelemetry_sdk 0.31, which sets
// tracestate whenever the span is valid), tracestate goes with every traceparent, empty when
// there is no state; with no trace context nothing is sent (a wasmCloud host with OTEL off).
type W3CPassthrough struct{}

// Inject writes the stored trace context.
func (W3CPassthrough) Inject(ctx context.Context, c Carrier) {
	tc, ok := TraceContextFrom(ctx)
	if !ok || tc.Traceparent == "" {
		return
	}
	c.Set(TraceparentHeader, tc.Traceparent)
	c.Set(TracestateHeader, tc.Tracestate)
}

// Extract stores the received trace context.
func (W3CPassthrough) Extract(ctx context.Context, c Carrier) context.Context {
	tp := c.Get(TraceparentHeader)
	if tp == "" {
		return ctx
	}
	return WithTraceContext(ctx, TraceContext{Traceparent: tp, Tracestate: c.Get(TracestateHeader)})
}

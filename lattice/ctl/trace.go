package ctl

import (
	"context"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// TraceHeader carries the span of ctx to the host as W3C trace context headers (traceparent,
// tracestate, lower case as upstream writes them), as upstream's control-interface client
// does. Without a span it is nil, so a request without tracing goes out exactly as before.
func TraceHeader(ctx context.Context) nats.Header {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return nil
	}
	h := nats.Header{}
	propagation.TraceContext{}.Inject(ctx, natsCarrier(h))
	return h
}

// natsCarrier writes header names as given (NATS headers are case-sensitive).
type natsCarrier nats.Header

func (c natsCarrier) Get(k string) string { return nats.Header(c).Get(k) }
func (c natsCarrier) Set(k, v string)     { c[k] = []string{v} }
func (c natsCarrier) Keys() []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	return out
}

package ctl

import (
	"context"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/wasmlattice/wash/lattice/wrpc"
)

// TraceHeader carries the span of ctx to the host as W3C trace context headers (traceparent,
// tracestate, lower case as upstream writes them), as upstream's control-interface client
// does. Without a span it is nil, so a request without tracing goes out exactly as before.
func TraceHeader(ctx context.Context) nats.Header {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return nil
	}
	h := nats.Header{}
	// wRPC's carrier keeps header names as given (NATS headers are case-sensitive)
	propagation.TraceContext{}.Inject(ctx, wrpc.HeaderCarrier(h))
	return h
}

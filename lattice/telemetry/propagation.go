package telemetry

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"

	"github.com/wasmlattice/wash/lattice/wrpc"
)

// propagator writes and reads W3C trace context (traceparent, tracestate), the
// headers upstream hosts put on control and wRPC messages (crates/opentelemetry-nats).
var propagator propagation.TextMapPropagator = propagation.TraceContext{}

// HeaderCarrier adapts NATS headers to the OpenTelemetry carrier interface, keeping the
// case of keys (NATS headers are case-sensitive and upstream writes traceparent in lower
// case): the one wRPC invocations use.
type HeaderCarrier = wrpc.HeaderCarrier

// Inject adds the trace context of ctx to h (a nil h is allocated when there is a span to
// carry). It returns the headers to send.
func Inject(ctx context.Context, h nats.Header) nats.Header {
	if h == nil {
		h = nats.Header{}
	}
	propagator.Inject(ctx, HeaderCarrier(h))
	return h
}

// Extract returns ctx with the remote span context carried in h, if any.
func Extract(ctx context.Context, h nats.Header) context.Context {
	if len(h) == 0 {
		return ctx
	}
	return propagator.Extract(ctx, HeaderCarrier(h))
}

// Propagator is the text-map propagator for other carriers (HTTP headers).
func Propagator() propagation.TextMapPropagator { return propagator }

// TeeHandler sends each record to both handlers: the host's log, and OTLP when logs are
// exported.
func TeeHandler(a, b slog.Handler) slog.Handler {
	if b == nil {
		return a
	}
	return tee{a, b}
}

type tee struct{ a, b slog.Handler }

func (t tee) Enabled(ctx context.Context, l slog.Level) bool {
	return t.a.Enabled(ctx, l) || t.b.Enabled(ctx, l)
}

func (t tee) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if t.a.Enabled(ctx, r.Level) {
		err = t.a.Handle(ctx, r.Clone())
	}
	if t.b.Enabled(ctx, r.Level) {
		_ = t.b.Handle(ctx, r)
	}
	return err
}

func (t tee) WithAttrs(as []slog.Attr) slog.Handler { return tee{t.a.WithAttrs(as), t.b.WithAttrs(as)} }
func (t tee) WithGroup(n string) slog.Handler       { return tee{t.a.WithGroup(n), t.b.WithGroup(n)} }

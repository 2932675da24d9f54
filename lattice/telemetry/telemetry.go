// Package telemetry is OpenTelemetry for the host and wadm: traces, metrics and logs exported
// over OTLP (HTTP or gRPC) when enabled with upstream wasmCloud's settings, W3C trace context
// carried in NATS headers as upstream hosts carry it, and the host's metric instruments under
// upstream's names. Nothing is exported, and spans cost nothing, unless a signal is enabled.
package telemetry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc/credentials"
)

// Protocols of the OTLP exporters.
const (
	ProtocolHTTP = "http"
	ProtocolGRPC = "grpc"
)

// Default OTLP endpoints, as upstream's.
const (
	DefaultHTTPEndpoint = "http://127.0.0.1:4318"
	DefaultGRPCEndpoint = "http://127.0.0.1:4317"
)

// Config is upstream's OtelConfig: one switch for everything, per-signal overrides, endpoints
// (a base endpoint gets /v1/<signal> appended for HTTP; a per-signal endpoint is used as given),
// the protocol and extra CA certificates.
type Config struct {
	EnableObservability bool
	EnableTraces        *bool
	EnableMetrics       *bool
	EnableLogs          *bool
	Endpoint            string
	TracesEndpoint      string
	MetricsEndpoint     string
	LogsEndpoint        string
	Protocol            string // http (default) or grpc
	CAPaths             []string
	// MetricInterval is the metric export period (default 60 s, or OTEL_METRIC_EXPORT_INTERVAL).
	MetricInterval time.Duration
}

func enabled(p *bool, all bool) bool {
	if p != nil {
		return *p
	}
	return all
}

// TracesEnabled, MetricsEnabled and LogsEnabled follow upstream: a per-signal switch wins over
// the global one.
func (c Config) TracesEnabled() bool  { return enabled(c.EnableTraces, c.EnableObservability) }
func (c Config) MetricsEnabled() bool { return enabled(c.EnableMetrics, c.EnableObservability) }
func (c Config) LogsEnabled() bool    { return enabled(c.EnableLogs, c.EnableObservability) }

// Any reports whether some signal is on.
func (c Config) Any() bool { return c.TracesEnabled() || c.MetricsEnabled() || c.LogsEnabled() }

// Validate checks the protocol and the endpoints.
func (c Config) Validate() error {
	switch strings.ToLower(c.Protocol) {
	case "", ProtocolHTTP, ProtocolGRPC:
	default:
		return fmt.Errorf("invalid observability protocol %q: use http or grpc", c.Protocol)
	}
	for name, ep := range map[string]string{"observability": c.Endpoint, "traces": c.TracesEndpoint, "metrics": c.MetricsEndpoint, "logs": c.LogsEndpoint} {
		if ep != "" && !strings.HasPrefix(ep, "http://") && !strings.HasPrefix(ep, "https://") {
			return fmt.Errorf("invalid %s endpoint %q: give a URL such as %s", name, ep, DefaultHTTPEndpoint)
		}
	}
	return nil
}

func (c Config) protocol() string {
	if strings.EqualFold(c.Protocol, ProtocolGRPC) {
		return ProtocolGRPC
	}
	return ProtocolHTTP
}

// endpoint is the URL one signal is exported to.
func (c Config) endpoint(signal, override string) string {
	if override != "" {
		return override
	}
	base := c.Endpoint
	if c.protocol() == ProtocolGRPC {
		if base == "" {
			base = DefaultGRPCEndpoint
		}
		return base
	}
	if base == "" {
		base = DefaultHTTPEndpoint
	}
	return strings.TrimRight(base, "/") + "/v1/" + signal
}

// TracesURL, MetricsURL and LogsURL are where each signal goes.
func (c Config) TracesURL() string  { return c.endpoint("traces", c.TracesEndpoint) }
func (c Config) MetricsURL() string { return c.endpoint("metrics", c.MetricsEndpoint) }
func (c Config) LogsURL() string    { return c.endpoint("logs", c.LogsEndpoint) }

// Telemetry holds the providers of one process part (a host, wadm). The zero value and Disabled
// export nothing.
type Telemetry struct {
	cfg      Config
	tp       trace.TracerProvider
	tracer   trace.Tracer
	meter    metric.Meter
	tracing  bool
	metrics  bool
	logs     slog.Handler
	shutdown []func(context.Context) error
}

// Disabled is telemetry that exports nothing.
func Disabled() *Telemetry {
	return &Telemetry{tracer: tracenoop.NewTracerProvider().Tracer(""), meter: metricnoop.NewMeterProvider().Meter("")}
}

// Settings is the configuration the telemetry was set up with.
func (t *Telemetry) Settings() Config {
	if t == nil {
		return Config{}
	}
	return t.cfg
}

// Tracing reports whether spans are recorded; callers skip span work when it is false.
func (t *Telemetry) Tracing() bool { return t != nil && t.tracing }

// Metering reports whether metrics are exported.
func (t *Telemetry) Metering() bool { return t != nil && t.metrics }

// TracerProvider is the provider behind Tracer (a no-op one when tracing is off), for parts
// that make their own tracers (the in-process wadm).
func (t *Telemetry) TracerProvider() trace.TracerProvider {
	if t == nil || t.tp == nil {
		return tracenoop.NewTracerProvider()
	}
	return t.tp
}

// Tracer is the tracer (a no-op one when tracing is off).
func (t *Telemetry) Tracer() trace.Tracer {
	if t == nil || t.tracer == nil {
		return tracenoop.NewTracerProvider().Tracer("")
	}
	return t.tracer
}

// Meter is the meter (a no-op one when metrics are off).
func (t *Telemetry) Meter() metric.Meter {
	if t == nil || t.meter == nil {
		return metricnoop.NewMeterProvider().Meter("")
	}
	return t.meter
}

// LogHandler is a slog handler that exports records over OTLP, nil when logs are off.
func (t *Telemetry) LogHandler() slog.Handler {
	if t == nil {
		return nil
	}
	return t.logs
}

// Shutdown flushes and stops the exporters.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	var errs []error
	for _, f := range t.shutdown {
		errs = append(errs, f(ctx))
	}
	t.shutdown = nil
	return errors.Join(errs...)
}

// Setup starts the exporters of the enabled signals. service is the service.name resource
// attribute (wasmcloud-host, wadm); attrs describe the process (host id, lattice, …). The
// standard OTEL_* variables the SDK reads (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME,
// OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_HEADERS, …) apply as usual.
func Setup(ctx context.Context, cfg Config, service, scope string, attrs ...attribute.KeyValue) (*Telemetry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := Disabled()
	t.cfg = cfg
	if !cfg.Any() {
		return t, nil
	}
	res, err := resource.New(ctx, resource.WithFromEnv(), resource.WithTelemetrySDK(),
		resource.WithAttributes(append([]attribute.KeyValue{semconv.ServiceName(service)}, attrs...)...))
	if err != nil && res == nil {
		return nil, fmt.Errorf("OpenTelemetry resource: %w", err)
	}
	tlsCfg, err := caConfig(cfg.CAPaths)
	if err != nil {
		return nil, err
	}
	grpc := cfg.protocol() == ProtocolGRPC
	fail := func(err error) (*Telemetry, error) {
		_ = t.Shutdown(ctx)
		return nil, err
	}
	if cfg.TracesEnabled() {
		var exp sdktrace.SpanExporter
		if grpc {
			opts := []otlptracegrpc.Option{otlptracegrpc.WithEndpointURL(cfg.TracesURL())}
			if tlsCfg != nil {
				opts = append(opts, otlptracegrpc.WithTLSCredentials(credentials.NewTLS(tlsCfg)))
			}
			exp, err = otlptracegrpc.New(ctx, opts...)
		} else {
			opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(cfg.TracesURL())}
			if tlsCfg != nil {
				opts = append(opts, otlptracehttp.WithTLSClientConfig(tlsCfg))
			}
			exp, err = otlptracehttp.New(ctx, opts...)
		}
		if err != nil {
			return fail(fmt.Errorf("OTLP trace exporter for %s: %w", cfg.TracesURL(), err))
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(time.Second)), sdktrace.WithResource(res))
		t.tp, t.tracer, t.tracing = tp, tp.Tracer(scope), true
		t.shutdown = append(t.shutdown, tp.Shutdown)
	}
	if cfg.MetricsEnabled() {
		var exp sdkmetric.Exporter
		if grpc {
			opts := []otlpmetricgrpc.Option{otlpmetricgrpc.WithEndpointURL(cfg.MetricsURL())}
			if tlsCfg != nil {
				opts = append(opts, otlpmetricgrpc.WithTLSCredentials(credentials.NewTLS(tlsCfg)))
			}
			exp, err = otlpmetricgrpc.New(ctx, opts...)
		} else {
			opts := []otlpmetrichttp.Option{otlpmetrichttp.WithEndpointURL(cfg.MetricsURL())}
			if tlsCfg != nil {
				opts = append(opts, otlpmetrichttp.WithTLSClientConfig(tlsCfg))
			}
			exp, err = otlpmetrichttp.New(ctx, opts...)
		}
		if err != nil {
			return fail(fmt.Errorf("OTLP metric exporter for %s: %w", cfg.MetricsURL(), err))
		}
		var ropts []sdkmetric.PeriodicReaderOption
		if cfg.MetricInterval > 0 {
			ropts = append(ropts, sdkmetric.WithInterval(cfg.MetricInterval))
		}
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, ropts...)), sdkmetric.WithResource(res))
		t.meter, t.metrics = mp.Meter(scope), true
		t.shutdown = append(t.shutdown, mp.Shutdown)
	}
	if cfg.LogsEnabled() {
		var exp sdklog.Exporter
		if grpc {
			opts := []otlploggrpc.Option{otlploggrpc.WithEndpointURL(cfg.LogsURL())}
			if tlsCfg != nil {
				opts = append(opts, otlploggrpc.WithTLSCredentials(credentials.NewTLS(tlsCfg)))
			}
			exp, err = otlploggrpc.New(ctx, opts...)
		} else {
			opts := []otlploghttp.Option{otlploghttp.WithEndpointURL(cfg.LogsURL())}
			if tlsCfg != nil {
				opts = append(opts, otlploghttp.WithTLSClientConfig(tlsCfg))
			}
			exp, err = otlploghttp.New(ctx, opts...)
		}
		if err != nil {
			return fail(fmt.Errorf("OTLP log exporter for %s: %w", cfg.LogsURL(), err))
		}
		lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)), sdklog.WithResource(res))
		t.logs = otelslog.NewHandler(scope, otelslog.WithLoggerProvider(lp))
		t.shutdown = append(t.shutdown, lp.Shutdown)
	}
	return t, nil
}

func caConfig(paths []string) (*tls.Config, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading CA certificate %s: %w", p, err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("CA certificate %s holds no PEM certificate", p)
		}
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

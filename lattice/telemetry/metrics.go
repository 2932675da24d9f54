package telemetry

import (
	"context"
	"runtime"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metric names, as the upstream host (crates/host/src/metrics.rs) names them.
const (
	MetricRPCDuration     = "wasmcloud_host.handle_rpc_message.duration"
	MetricInvocations     = "wasmcloud_host.component.invocations"
	MetricInvocationErrs  = "wasmcloud_host.component.invocation.errors"
	MetricActiveInstances = "wasmcloud_host.component.active_instances"
	MetricMaxInstances    = "wasmcloud_host.component.max_instances"
	MetricMemoryTotal     = "wasmcloud_host.process.memory.total.bytes"
	MetricMemoryUsed      = "wasmcloud_host.process.memory.used.bytes"
	MetricCPUUsage        = "wasmcloud_host.process.cpu.usage"
)

// HostMetrics are the host's instruments. With metrics off every method returns at once.
type HostMetrics struct {
	on        bool
	duration  metric.Int64Histogram
	invokes   metric.Int64Counter
	errors    metric.Int64Counter
	active    metric.Int64UpDownCounter
	maxInst   metric.Int64Gauge
	base      []attribute.KeyValue
	observers metric.Registration
}

// NewHostMetrics creates the instruments on t's meter; base attributes (lattice, host) go on
// every measurement.
func NewHostMetrics(t *Telemetry, lattice, hostID string) (*HostMetrics, error) {
	m := &HostMetrics{on: t.Metering(), base: []attribute.KeyValue{attribute.String("lattice", lattice), attribute.String("host", hostID)}}
	if !m.on {
		return m, nil
	}
	mt := t.Meter()
	var err error
	if m.duration, err = mt.Int64Histogram(MetricRPCDuration, metric.WithDescription("Duration in nanoseconds each handle_rpc_message operation took"), metric.WithUnit("ns")); err != nil {
		return nil, err
	}
	if m.invokes, err = mt.Int64Counter(MetricInvocations, metric.WithDescription("Number of component invocations")); err != nil {
		return nil, err
	}
	if m.errors, err = mt.Int64Counter(MetricInvocationErrs, metric.WithDescription("Number of component errors")); err != nil {
		return nil, err
	}
	if m.active, err = mt.Int64UpDownCounter(MetricActiveInstances, metric.WithDescription("Number of active component instances")); err != nil {
		return nil, err
	}
	if m.maxInst, err = mt.Int64Gauge(MetricMaxInstances, metric.WithDescription("Maximum number of component instances")); err != nil {
		return nil, err
	}
	total, err := mt.Int64ObservableGauge(MetricMemoryTotal, metric.WithDescription("The total amount of memory in bytes"), metric.WithUnit("By"))
	if err != nil {
		return nil, err
	}
	used, err := mt.Int64ObservableGauge(MetricMemoryUsed, metric.WithDescription("The used amount of memory in bytes"), metric.WithUnit("By"))
	if err != nil {
		return nil, err
	}
	cpu, err := mt.Float64ObservableGauge(MetricCPUUsage, metric.WithDescription("The CPU usage of the process"))
	if err != nil {
		return nil, err
	}
	var lastCPU time.Duration
	lastAt := time.Now()
	m.observers, err = mt.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		o.ObserveInt64(total, int64(ms.Sys))
		o.ObserveInt64(used, int64(ms.HeapInuse+ms.StackInuse))
		if c, ok := processCPU(); ok {
			now := time.Now()
			if el := now.Sub(lastAt); el > 0 && lastCPU > 0 {
				o.ObserveFloat64(cpu, 100*float64(c-lastCPU)/float64(el))
			}
			lastCPU, lastAt = c, now
		}
		return nil
	}, total, used, cpu)
	return m, err
}

// Close stops the observable callbacks.
func (m *HostMetrics) Close() {
	if m != nil && m.observers != nil {
		_ = m.observers.Unregister()
	}
}

// ComponentAttrs are the attributes of one component's measurements, as upstream's.
func (m *HostMetrics) ComponentAttrs(id, ref string) metric.MeasurementOption {
	return metric.WithAttributes(append([]attribute.KeyValue{attribute.String("component.id", id), attribute.String("component.ref", ref)}, m.base...)...)
}

// Invocation records one finished invocation.
func (m *HostMetrics) Invocation(ctx context.Context, elapsed time.Duration, failed bool, attrs metric.MeasurementOption, operation string) {
	if m == nil || !m.on {
		return
	}
	op := metric.WithAttributes(attribute.String("operation", operation))
	m.duration.Record(ctx, elapsed.Nanoseconds(), attrs, op)
	m.invokes.Add(ctx, 1, attrs, op)
	if failed {
		m.errors.Add(ctx, 1, attrs, op)
	}
}

// Active moves the active instance count by delta.
func (m *HostMetrics) Active(ctx context.Context, delta int64, attrs metric.MeasurementOption) {
	if m == nil || !m.on {
		return
	}
	m.active.Add(ctx, delta, attrs)
}

// MaxInstances records a component's max_instances.
func (m *HostMetrics) MaxInstances(ctx context.Context, n uint32, attrs metric.MeasurementOption) {
	if m == nil || !m.on {
		return
	}
	m.maxInst.Record(ctx, int64(n), attrs)
}

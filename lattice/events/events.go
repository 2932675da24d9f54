// Package events holds the CloudEvents envelope wasmCloud hosts publish on
// wasmbus.evt.<lattice>.<name>, the data of every event type, and publish/subscribe helpers.
package events

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/ctl"
)

// TypePrefix prefixes every event type: com.wasmcloud.lattice.<name>.
const TypePrefix = "com.wasmcloud.lattice."

// Event names the 1.9.2 host emits.
const (
	HostStarted          = "host_started"
	HostStopped          = "host_stopped"
	HostHeartbeat        = "host_heartbeat"
	ComponentScaled      = "component_scaled"
	ComponentScaleFailed = "component_scale_failed"
	ProviderStarted      = "provider_started"
	ProviderStartFailed  = "provider_start_failed"
	ProviderStopped      = "provider_stopped"
	HealthCheckPassed    = "health_check_passed"
	HealthCheckFailed    = "health_check_failed"
	HealthCheckStatus    = "health_check_status"
	LinkdefSet           = "linkdef_set"
	LinkdefSetFailed     = "linkdef_set_failed"
	LinkdefDeleted       = "linkdef_deleted"
	ConfigSet            = "config_set"
	ConfigDeleted        = "config_deleted"
	LabelsChanged        = "labels_changed"
)

// Event is a CloudEvents 1.0 JSON envelope.
type Event struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Source          string          `json:"source"`
	DataContentType string          `json:"datacontenttype"`
	Time            string          `json:"time"`
	Data            json.RawMessage `json:"data"`
}

// Name is the short event name (component_scaled) from the type.
func (e Event) Name() string { return strings.TrimPrefix(e.Type, TypePrefix) }

// ParsedTime returns the event time (zero when unparsable).
func (e Event) ParsedTime() time.Time {
	t, _ := time.Parse(time.RFC3339Nano, e.Time)
	return t
}

// timeLayout writes RFC 3339 UTC with microseconds, as the Rust host's chrono output does.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// New builds an event from a short name, the emitting host id and its data.
func New(name, source string, data any) (Event, error) {
	b, err := sortedJSON(data)
	if err != nil {
		return Event{}, fmt.Errorf("encoding %s event: %w", name, err)
	}
	id, err := uuid.NewV7() // time-ordered, like the host's ULID-derived ids
	if err != nil {
		id = uuid.New()
	}
	return Event{
		SpecVersion:     "1.0",
		ID:              id.String(),
		Type:            TypePrefix + name,
		Source:          source,
		DataContentType: "application/json",
		Time:            time.Now().UTC().Format(timeLayout),
		Data:            b,
	}, nil
}

// Subject is wasmbus.evt.<lattice>.<name>.
func Subject(lattice, name string) string { return "wasmbus.evt." + lattice + "." + name }

// AllSubject matches every event of a lattice.
func AllSubject(lattice string) string { return "wasmbus.evt." + lattice + ".>" }

// Publish sends an event with a plain publish (no headers, no reply-to).
func Publish(nc *nats.Conn, lattice, source, name string, data any) error {
	ev, err := New(name, source, data)
	if err != nil {
		return err
	}
	b, err := ctl.Marshal(ev)
	if err != nil {
		return err
	}
	return nc.Publish(Subject(lattice, name), b)
}

// Parse decodes an envelope.
func Parse(b []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(b, &ev); err != nil {
		return ev, fmt.Errorf("malformed CloudEvent: %w", err)
	}
	if ev.Type == "" {
		return ev, fmt.Errorf("malformed CloudEvent: no type")
	}
	return ev, nil
}

// Subscribe delivers every parsed event of a lattice (or only the named ones) to fn, in order.
func Subscribe(nc *nats.Conn, lattice string, fn func(Event), names ...string) (*nats.Subscription, error) {
	subject := AllSubject(lattice)
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	if len(names) == 1 {
		subject = Subject(lattice, names[0])
	}
	return nc.Subscribe(subject, func(m *nats.Msg) {
		ev, err := Parse(m.Data)
		if err != nil {
			return
		}
		if len(want) > 0 && !want[ev.Name()] {
			return
		}
		fn(ev)
	})
}

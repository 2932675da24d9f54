package wadm

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// ---- expected events (reference §4.12) --------------------------------------

// expectedEvent is an event a command should cause: OK on success, Fail on
// failure, Key identifying the object (e.g. component id @ host).
type expectedEvent struct {
	OK   string `json:"ok"`
	Fail string `json:"fail,omitempty"`
	Key  string `json:"key"`
}

// expectation is a scaler's pending state, kept in wadm_state so every wadm
// process sharing the lattice honours it.
type expectation struct {
	App         string          `json:"app"`
	Events      []expectedEvent `json:"events,omitempty"`
	Deadline    time.Time       `json:"deadline"`
	FailedUntil time.Time       `json:"failed_until,omitzero"`
	FailMsg     string          `json:"fail_msg,omitempty"`
}

// Expected-event timeouts and the failure backoff (reference §4.12).
const (
	componentExpectTimeout = 5 * time.Second
	// scaleExpectTimeout is longer than upstream's 5 s: a host that accepted a scale may need
	// seconds to fetch and compile a large component on a busy machine, and resending the
	// command then would scale it twice.
	scaleExpectTimeout    = 20 * time.Second
	providerExpectTimeout = 60 * time.Second
	failureBackoff        = 5 * time.Second
)

// newExpectation is what a scaler waits for after sending cmds.
func newExpectation(app string, cmds []Command, now time.Time) *expectation {
	e := &expectation{App: app}
	var wait time.Duration
	for _, cmd := range cmds {
		if x, d, ok := expectFor(cmd); ok {
			e.Events = append(e.Events, x)
			wait = max(wait, d)
		}
	}
	e.Deadline = now.Add(wait)
	return e
}

// expectFor derives what a command should cause and how long to wait.
func expectFor(c Command) (expectedEvent, time.Duration, bool) {
	switch c := deref(c).(type) {
	case ScaleComponent:
		return expectedEvent{events.ComponentScaled, events.ComponentScaleFailed, c.ComponentID + "@" + c.HostID}, scaleExpectTimeout, true
	case StartProvider:
		return expectedEvent{events.ProviderStarted, events.ProviderStartFailed, c.ProviderID + "@" + c.HostID}, providerExpectTimeout, true
	case StopProvider:
		return expectedEvent{events.ProviderStopped, "", c.ProviderID + "@" + c.HostID}, providerExpectTimeout, true
	case PutLink:
		return expectedEvent{events.LinkdefSet, events.LinkdefSetFailed, c.SourceID + "|" + c.Target + "|" + c.Name}, componentExpectTimeout, true
	case DeleteLink:
		return expectedEvent{events.LinkdefDeleted, "", c.SourceID + "|" + c.WitNamespace + ":" + c.WitPackage + "|" + c.LinkName}, componentExpectTimeout, true
	case PutConfig:
		return expectedEvent{events.ConfigSet, "", c.ConfigName}, componentExpectTimeout, true
	case DeleteConfig:
		return expectedEvent{events.ConfigDeleted, "", c.ConfigName}, componentExpectTimeout, true
	}
	return expectedEvent{}, 0, false
}

// eventKey is the key an incoming event is matched with, and its error text.
func eventKey(ev events.Event) (key, errText string) {
	var d map[string]any
	_ = json.Unmarshal(ev.Data, &d)
	str := func(k string) string { s, _ := d[k].(string); return s }
	host := ev.Source
	switch ev.Name() {
	case events.ComponentScaled, events.ComponentScaleFailed:
		return str("component_id") + "@" + host, str("error")
	case events.ProviderStarted, events.ProviderStartFailed, events.ProviderStopped:
		return str("provider_id") + "@" + host, str("error")
	case events.LinkdefSet, events.LinkdefSetFailed:
		name := str("name")
		if name == "" {
			name = model.DefaultLinkName
		}
		return str("source_id") + "|" + str("target") + "|" + name, str("error")
	case events.LinkdefDeleted:
		name := str("name")
		if name == "" {
			name = model.DefaultLinkName
		}
		return str("source_id") + "|" + str("wit_namespace") + ":" + str("wit_package") + "|" + name, ""
	case events.ConfigSet, events.ConfigDeleted:
		return str("config_name"), ""
	}
	return "", ""
}

// consume removes the expectation ev satisfies; it reports whether one
// matched and, for a failure event, enters the failure backoff.
func (e *expectation) consume(ev events.Event, now time.Time) bool {
	key, errText := eventKey(ev)
	if key == "" {
		return false
	}
	name := ev.Name()
	for i, x := range e.Events {
		if x.Key != key || (x.OK != name && x.Fail != name) {
			continue
		}
		e.Events = append(e.Events[:i], e.Events[i+1:]...)
		if name == x.Fail {
			if errText == "" {
				errText = "Received a failed event of type '" + ev.Type + "'"
			}
			e.FailedUntil = now.Add(failureBackoff)
			e.FailMsg = strings.TrimSpace(errText)
		}
		return true
	}
	return false
}

// forgetHost drops the events expected from a host (keys id@host).
func (e *expectation) forgetHost(host string) {
	e.Events = slices.DeleteFunc(e.Events, func(x expectedEvent) bool { return strings.HasSuffix(x.Key, "@"+host) })
}

// idle reports whether the expectation no longer holds the scaler back.
func (e *expectation) idle(now time.Time) bool {
	if now.Before(e.FailedUntil) {
		return false
	}
	return len(e.Events) == 0 || !now.Before(e.Deadline)
}

// Package logs carries host log lines over the lattice: the record format, the subjects, the
// host side (a slog.Handler that also serves the lines on request) and the client `wash logs`
// uses. Hosts publish nothing until a client asks: a watch request opens a lease that the client
// renews; when the last lease lapses the host goes quiet again.
//
// Subjects (the lattice name is one token):
//
//	wasmbus.logs.<lattice>.watch             client → every host, reply-to an inbox: WatchRequest,
//	                                          each host answers with a WatchReply
//	wasmbus.logs.<lattice>.lines.<host_id>   host → clients: one Record per message (JSON)
//	wasmbus.logs.<lattice>.history.<host_id> request: HistoryRequest; the host streams
//	                                          HistoryChunk messages to the reply inbox
//
// These are a wash extension: upstream wasmCloud hosts do not answer them.
package logs

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// SubjectPrefix starts every log subject.
const SubjectPrefix = "wasmbus.logs"

// WatchSubject is where clients ask hosts to publish their lines.
func WatchSubject(lattice string) string { return SubjectPrefix + "." + lattice + ".watch" }

// LinesSubject is where a host publishes its lines while someone watches.
func LinesSubject(lattice, hostID string) string {
	return SubjectPrefix + "." + lattice + ".lines." + hostID
}

// AllLinesSubject matches the lines of every host of a lattice.
func AllLinesSubject(lattice string) string { return SubjectPrefix + "." + lattice + ".lines.*" }

// HistorySubject is where a host answers requests for its recent lines.
func HistorySubject(lattice, hostID string) string {
	return SubjectPrefix + "." + lattice + ".history." + hostID
}

// Levels, as slog names them.
const (
	LevelDebug = "DEBUG"
	LevelInfo  = "INFO"
	LevelWarn  = "WARN"
	LevelError = "ERROR"
)

// Record is one log line of a host. Component and provider output carries their id; Stream is
// stdout or stderr for guest and provider process output, "logging" for wasi:logging calls.
type Record struct {
	Time        time.Time         `json:"time"`
	Level       string            `json:"level"`
	HostID      string            `json:"host_id"`
	Seq         uint64            `json:"seq,omitempty"`
	Message     string            `json:"msg"`
	ComponentID string            `json:"component_id,omitempty"`
	ProviderID  string            `json:"provider_id,omitempty"`
	Stream      string            `json:"stream,omitempty"`
	Attrs       map[string]string `json:"attrs,omitempty"`
}

// Attribute keys that become Record fields instead of Attrs.
const (
	KeyComponentID = "component_id"
	KeyProviderID  = "provider_id"
	KeyStream      = "stream"
)

// setAttr places one key/value in the record.
func (r *Record) setAttr(k, v string) {
	switch k {
	case KeyComponentID:
		r.ComponentID = v
	case KeyProviderID:
		r.ProviderID = v
	case KeyStream:
		r.Stream = v
	default:
		if r.Attrs == nil {
			r.Attrs = map[string]string{}
		}
		r.Attrs[k] = v
	}
}

// SortedAttrs returns the attributes as k=v strings in key order.
func (r Record) SortedAttrs() []string {
	keys := make([]string, 0, len(r.Attrs))
	for k := range r.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		v := r.Attrs[k]
		if v == "" || strings.ContainsAny(v, " \t\"=") {
			v = fmt.Sprintf("%q", v)
		}
		out[i] = k + "=" + v
	}
	return out
}

// LevelRank orders level names (unknown names rank as INFO).
func LevelRank(level string) int {
	switch strings.ToUpper(level) {
	case LevelDebug, "TRACE":
		return 0
	case LevelWarn, "WARNING":
		return 2
	case LevelError, "CRITICAL":
		return 3
	}
	return 1
}

// ParseLevel accepts error, warn, info, debug (and trace) in any case.
func ParseLevel(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "debug", "trace":
		return LevelDebug, nil
	case "info":
		return LevelInfo, nil
	case "warn", "warning":
		return LevelWarn, nil
	case "error":
		return LevelError, nil
	}
	return "", fmt.Errorf("unknown log level %q: use error, warn, info or debug", s)
}

// Filter selects records. Empty lists match everything.
type Filter struct {
	Components []string  `json:"components,omitempty"`
	Providers  []string  `json:"providers,omitempty"`
	MinLevel   string    `json:"min_level,omitempty"`
	Since      time.Time `json:"since,omitzero"`
}

// Match reports whether a record passes the filter. Naming components or providers keeps only
// their lines (a record matches when it belongs to any of them).
func (f Filter) Match(r Record) bool {
	if !f.Since.IsZero() && r.Time.Before(f.Since) {
		return false
	}
	if f.MinLevel != "" && LevelRank(r.Level) < LevelRank(f.MinLevel) {
		return false
	}
	if len(f.Components) == 0 && len(f.Providers) == 0 {
		return true
	}
	return (r.ComponentID != "" && slices.Contains(f.Components, r.ComponentID)) ||
		(r.ProviderID != "" && slices.Contains(f.Providers, r.ProviderID))
}

// WatchRequest asks hosts to publish matching lines for Lease. Hosts lists the host ids that
// should answer (empty: all). A client renews the lease well before it ends; the same ID renews
// instead of adding a watcher.
type WatchRequest struct {
	ID      string   `json:"id"`
	Hosts   []string `json:"hosts,omitempty"`
	Filter  Filter   `json:"filter"`
	LeaseMS int64    `json:"lease_ms"`
	// Stop ends the watch at once (a client that quits says so).
	Stop bool `json:"stop,omitempty"`
}

// WatchReply is one host's answer to a watch request.
type WatchReply struct {
	HostID       string `json:"host_id"`
	FriendlyName string `json:"friendly_name"`
	LeaseMS      int64  `json:"lease_ms"`
}

// HistoryRequest asks a host for its recent lines (at most Limit, newest kept; 0: all it has).
type HistoryRequest struct {
	Filter Filter `json:"filter"`
	Limit  int    `json:"limit,omitempty"`
}

// HistoryChunk is one reply message of a history request; the last one has Done set.
type HistoryChunk struct {
	HostID       string   `json:"host_id"`
	FriendlyName string   `json:"friendly_name,omitempty"`
	Records      []Record `json:"records"`
	Done         bool     `json:"done"`
	// Truncated is set on the last chunk when older lines had already left the host's buffer.
	Truncated bool `json:"truncated,omitempty"`
}

// Lease bounds: a watch lasts at least MinLease and at most MaxLease between renewals.
const (
	MinLease     = time.Second
	MaxLease     = time.Minute
	DefaultLease = 10 * time.Second
)

func clampLease(ms int64) time.Duration {
	d := time.Duration(ms) * time.Millisecond
	switch {
	case d <= 0:
		return DefaultLease
	case d < MinLease:
		return MinLease
	case d > MaxLease:
		return MaxLease
	}
	return d
}

// maxRequest bounds what a host decodes from a request.
const maxRequest = 64 << 10

func decodeRequest(b []byte, v any) error {
	if len(b) > maxRequest {
		return fmt.Errorf("request of %d bytes is larger than %d", len(b), maxRequest)
	}
	return json.Unmarshal(b, v)
}

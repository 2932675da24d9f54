package events

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/wasmlattice/wash/lattice/ctl"
)

// WadmTypePrefix prefixes wadm's own events (manifest_published, manifest_unpublished).
const WadmTypePrefix = "com.wadm."

// wadm's event names.
const (
	ManifestPublished   = "manifest_published"
	ManifestUnpublished = "manifest_unpublished"
)

// ShortName is an event's type without its vendor prefix (wasmCloud's or wadm's).
func (e Event) ShortName() string {
	return strings.TrimPrefix(strings.TrimPrefix(e.Type, TypePrefix), WadmTypePrefix)
}

// Summary describes an event in one short line for people: the event log of `wash events`,
// the dashboard and the browser UI. Data that does not decode falls back to (the start of) the
// raw JSON.
func Summary(e Event) string {
	name := e.ShortName()
	if s, ok := summary(name, e.Data); ok {
		return s
	}
	return rawSummary(e.Data)
}

func summary(name string, raw json.RawMessage) (string, bool) {
	switch name {
	case HostStarted:
		return decoded(raw, func(d HostStartedData) string {
			return fmt.Sprintf("%s version %s labels [%s]", d.FriendlyName, d.Version, LabelString(d.Labels))
		})
	case HostStopped:
		return "host stopped", true
	case HostHeartbeat:
		return decoded(raw, HeartbeatSummary)
	case ComponentScaled:
		return decoded(raw, func(d ComponentScaledData) string {
			return fmt.Sprintf("%s max_instances=%s ref=%s", d.ComponentID, maxInstances(d.MaxInstances), d.ImageRef)
		})
	case ComponentScaleFailed:
		return decoded(raw, func(d ComponentScaleFailedData) string {
			return fmt.Sprintf("%s ref=%s error: %s", d.ComponentID, d.ImageRef, oneLine(d.Error))
		})
	case ProviderStarted:
		return decoded(raw, func(d ProviderStartedData) string {
			return fmt.Sprintf("%s ref=%s", d.ProviderID, d.ImageRef)
		})
	case ProviderStartFailed:
		return decoded(raw, func(d ProviderStartFailedData) string {
			return fmt.Sprintf("%s ref=%s error: %s", d.ProviderID, d.ProviderRef, oneLine(d.Error))
		})
	case ProviderStopped:
		return decoded(raw, func(d ProviderStoppedData) string {
			return fmt.Sprintf("%s reason=%s", d.ProviderID, d.Reason)
		})
	case HealthCheckPassed, HealthCheckFailed, HealthCheckStatus:
		return decoded(raw, func(d HealthCheckData) string { return d.ProviderID })
	case LinkdefSet, LinkdefSetFailed:
		return decoded(raw, func(d struct {
			ctl.Link
			Error string `json:"error"`
		}) string {
			s := fmt.Sprintf("%s -> %s %s:%s/%s (%s)", d.SourceID, d.Target, d.WitNamespace, d.WitPackage, strings.Join(d.Interfaces, ","), d.Name)
			if name == LinkdefSetFailed {
				s += " error: " + oneLine(d.Error)
			}
			return s
		})
	case LinkdefDeleted:
		return decoded(raw, func(d LinkdefDeletedData) string {
			return fmt.Sprintf("%s %s:%s (%s)", d.SourceID, d.WitNamespace, d.WitPackage, d.Name)
		})
	case ConfigSet, ConfigDeleted:
		return decoded(raw, func(d ConfigData) string { return d.ConfigName })
	case LabelsChanged:
		return decoded(raw, func(d LabelsChangedData) string { return LabelString(d.Labels) })
	case ManifestPublished:
		return decoded(raw, func(d struct {
			Metadata struct {
				Name        string            `json:"name"`
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}) string {
			return fmt.Sprintf("%s version %s", d.Metadata.Name, d.Metadata.Annotations["version"])
		})
	case ManifestUnpublished:
		return decoded(raw, func(d struct {
			Name string `json:"name"`
		}) string {
			return d.Name
		})
	}
	return "", false
}

// decoded summarizes raw as event data of type T; ok is false when it does not decode.
func decoded[T any](raw json.RawMessage, summarize func(T) string) (s string, ok bool) {
	var d T
	if json.Unmarshal(raw, &d) != nil {
		return "", false
	}
	return summarize(d), true
}

// HeartbeatSummary is the summary of a host_heartbeat whose inventory is already decoded.
func HeartbeatSummary(inv ctl.HostInventory) string {
	return fmt.Sprintf("%s: %d component(s), %d provider(s), up %s", inv.FriendlyName, len(inv.Components), len(inv.Providers), inv.UptimeHuman)
}

// LabelString shows user labels (hostcore.* are the same everywhere) as k=v,k=v in key order.
func LabelString(labels map[string]string) string {
	return strings.Join(ctl.Pairs(labels, isHostcore), ",")
}

func isHostcore(key string) bool {
	return strings.HasPrefix(key, "hostcore.")
}

func maxInstances(n uint32) string {
	if n == ctl.Unbounded {
		return "unbounded"
	}
	return strconv.FormatUint(uint64(n), 10)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func rawSummary(raw json.RawMessage) string {
	var v any
	b := []byte(raw)
	if json.Unmarshal(raw, &v) == nil {
		b, _ = json.Marshal(v)
	}
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

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
	dec := func(v any) bool { return json.Unmarshal(raw, v) == nil }
	switch name {
	case HostStarted:
		var d HostStartedData
		if dec(&d) {
			return fmt.Sprintf("%s version %s labels [%s]", d.FriendlyName, d.Version, LabelString(d.Labels)), true
		}
	case HostStopped:
		return "host stopped", true
	case HostHeartbeat:
		var inv ctl.HostInventory
		if dec(&inv) {
			return HeartbeatSummary(inv), true
		}
	case ComponentScaled:
		var d ComponentScaledData
		if dec(&d) {
			return fmt.Sprintf("%s max_instances=%s ref=%s", d.ComponentID, maxInstances(d.MaxInstances), d.ImageRef), true
		}
	case ComponentScaleFailed:
		var d ComponentScaleFailedData
		if dec(&d) {
			return fmt.Sprintf("%s ref=%s error: %s", d.ComponentID, d.ImageRef, oneLine(d.Error)), true
		}
	case ProviderStarted:
		var d ProviderStartedData
		if dec(&d) {
			return fmt.Sprintf("%s ref=%s", d.ProviderID, d.ImageRef), true
		}
	case ProviderStartFailed:
		var d ProviderStartFailedData
		if dec(&d) {
			return fmt.Sprintf("%s ref=%s error: %s", d.ProviderID, d.ProviderRef, oneLine(d.Error)), true
		}
	case ProviderStopped:
		var d ProviderStoppedData
		if dec(&d) {
			return fmt.Sprintf("%s reason=%s", d.ProviderID, d.Reason), true
		}
	case HealthCheckPassed, HealthCheckFailed, HealthCheckStatus:
		var d HealthCheckData
		if dec(&d) {
			return d.ProviderID, true
		}
	case LinkdefSet, LinkdefSetFailed:
		var d struct {
			ctl.Link
			Error string `json:"error"`
		}
		if dec(&d) {
			s := fmt.Sprintf("%s -> %s %s:%s/%s (%s)", d.SourceID, d.Target, d.WitNamespace, d.WitPackage, strings.Join(d.Interfaces, ","), d.Name)
			if name == LinkdefSetFailed {
				s += " error: " + oneLine(d.Error)
			}
			return s, true
		}
	case LinkdefDeleted:
		var d LinkdefDeletedData
		if dec(&d) {
			return fmt.Sprintf("%s %s:%s (%s)", d.SourceID, d.WitNamespace, d.WitPackage, d.Name), true
		}
	case ConfigSet, ConfigDeleted:
		var d ConfigData
		if dec(&d) {
			return d.ConfigName, true
		}
	case LabelsChanged:
		var d LabelsChangedData
		if dec(&d) {
			return LabelString(d.Labels), true
		}
	case ManifestPublished:
		var d struct {
			Metadata struct {
				Name        string            `json:"name"`
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		if dec(&d) {
			return fmt.Sprintf("%s version %s", d.Metadata.Name, d.Metadata.Annotations["version"]), true
		}
	case ManifestUnpublished:
		var d struct {
			Name string `json:"name"`
		}
		if dec(&d) {
			return d.Name, true
		}
	}
	return "", false
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

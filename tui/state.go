package tui

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// AppSpecAnnotation names the app that owns a component or provider (set by wadm).
const AppSpecAnnotation = "wasmcloud.dev/appspec"

// hostState is what the dashboard knows about one host, merged from ping, inventory and events.
type hostState struct {
	ID, Name, Version string
	Labels            map[string]string
	Uptime            uint64    // seconds, as last reported
	UptimeAt          time.Time // when Uptime was reported
	Components        []ctl.ComponentDescription
	Providers         []ctl.ProviderDescription
	SeenAt            time.Time // last event or reply from this host
	InvAt             time.Time // when Components and Providers were last reported whole
}

type providerKey struct{ host, id string }

type eventEntry struct {
	Seq     int
	Raw     json.RawMessage
	At      time.Time
	Name    string
	Source  string
	Summary string
}

// latticeState is the whole picture the views render. It is only touched from Update.
type latticeState struct {
	hosts   map[string]*hostState
	stopped map[string]time.Time // tombstones: host_stopped seen at
	links   []ctl.Link
	health  map[providerKey]string

	configNames  map[string]bool
	configValues map[string]map[string]string
	configErr    map[string]string
	configDirty  map[string]bool // changed since their values were last read

	apps    []model.ModelSummary
	appsErr error

	synced bool // a refresh has completed: the picture is whole, not just what events told

	events   []eventEntry // ring, newest last
	eventSeq int
	rate     [10]int // events per second bucket, index = unix second % 10
	rateSecs [10]int64
}

const maxEvents = 1000

func newLatticeState() *latticeState {
	return &latticeState{
		hosts: map[string]*hostState{}, stopped: map[string]time.Time{}, health: map[providerKey]string{},
		configNames: map[string]bool{}, configValues: map[string]map[string]string{}, configErr: map[string]string{},
		configDirty: map[string]bool{},
	}
}

// snapshot is the result of one inventory refresh.
type snapshot struct {
	Started      time.Time
	Hosts        []ctl.Host
	HostsErr     error
	Inventories  map[string]*ctl.HostInventory
	Links        []ctl.Link
	LinksErr     error
	ConfigNames  []string // from the CONFIGDATA bucket, when listed
	ConfigValues map[string]map[string]string
	ConfigErr    map[string]string
	Apps         []model.ModelSummary
	AppsErr      error
}

// applySnapshot merges a refresh. Hosts seen by events after the refresh started are kept even if
// the refresh missed them, and hosts stopped since then are not brought back.
func (s *latticeState) applySnapshot(sn snapshot, now time.Time) {
	if sn.HostsErr == nil {
		seen := map[string]bool{}
		for _, h := range sn.Hosts {
			if t, ok := s.stopped[h.ID]; ok && t.After(sn.Started) {
				continue
			}
			seen[h.ID] = true
			hs := s.hosts[h.ID]
			if hs == nil {
				hs = &hostState{ID: h.ID}
				s.hosts[h.ID] = hs
			}
			hs.Name, hs.Version, hs.Labels = h.FriendlyName, h.Version, h.Labels
			hs.Uptime, hs.UptimeAt = h.UptimeSeconds, now
			if inv := sn.Inventories[h.ID]; inv != nil {
				hs.Components, hs.Providers, hs.InvAt = inv.Components, inv.Providers, now
			}
			hs.SeenAt = now
		}
		for id, hs := range s.hosts {
			if !seen[id] && hs.SeenAt.Before(sn.Started) {
				delete(s.hosts, id)
			}
		}
		for id, t := range s.stopped {
			if now.Sub(t) > time.Minute {
				delete(s.stopped, id)
			}
		}
	}
	switch {
	case sn.LinksErr == nil:
		s.links = sn.Links
	case errors.Is(sn.LinksErr, ctl.ErrNoResponders):
		s.links = nil // no host left to ask
	}
	for _, n := range sn.ConfigNames {
		s.configNames[n] = true
	}
	for n, v := range sn.ConfigValues {
		s.configValues[n] = v
		delete(s.configErr, n)
		delete(s.configDirty, n)
	}
	for n, e := range sn.ConfigErr {
		s.configErr[n] = e
		delete(s.configDirty, n)
	}
	s.synced = true
	s.apps, s.appsErr = sn.Apps, sn.AppsErr
}

// setAppStatus applies a status wadm published for an app; false when the list lacks the app.
func (s *latticeState) setAppStatus(app string, st model.Status) bool {
	found := false
	for i := range s.apps {
		if s.apps[i].Name == app {
			s.apps[i].DetailedStatus = st
			found = true
		}
	}
	return found
}

// configNamesAll lists config names seen anywhere: events, the KV bucket and links.
func (s *latticeState) configNamesAll() []string {
	set := maps.Clone(s.configNames)
	for _, l := range s.links {
		for _, n := range l.SourceConfig {
			set[n] = true
		}
		for _, n := range l.TargetConfig {
			set[n] = true
		}
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// relevant reports whether an event should trigger an inventory refresh (heartbeats carry the
// whole inventory already).
func relevant(name string) bool {
	switch name {
	case events.HostHeartbeat, events.HealthCheckPassed, events.HealthCheckFailed, events.HealthCheckStatus:
		return false
	}
	return true
}

// applyEvent updates the state from one lattice event at once, so the screen changes before the
// follow-up refresh returns.
func (s *latticeState) applyEvent(ev events.Event, now time.Time) {
	name := ev.Name()
	// Record after applying, so the log can name a host that this very event introduced.
	summary := ""
	defer func() {
		raw := ev.Data
		if len(raw) > 64<<10 {
			raw = nil // keep the log small; the summary still shows
		}
		if summary == "" {
			summary = events.Summary(ev)
		}
		s.recordEvent(eventEntry{At: evTime(ev, now), Name: name, Source: ev.Source, Summary: summary, Raw: raw}, now)
	}()
	// Events name their host in the data; older hosts leave it to the source.
	hostOf := func(id string) string {
		if id == "" {
			return ev.Source
		}
		return id
	}
	host := func(id string) *hostState {
		if id == "" {
			return nil
		}
		if t, ok := s.stopped[id]; ok && now.Sub(t) < 5*time.Second {
			return nil
		}
		hs := s.hosts[id]
		if hs == nil {
			hs = &hostState{ID: id, UptimeAt: now}
			s.hosts[id] = hs
		}
		hs.SeenAt = now
		return hs
	}
	switch name {
	case events.HostStarted:
		var d events.HostStartedData
		if json.Unmarshal(ev.Data, &d) == nil {
			delete(s.stopped, ev.Source)
			if hs := host(ev.Source); hs != nil {
				hs.Name, hs.Labels, hs.Version, hs.Uptime, hs.UptimeAt = d.FriendlyName, d.Labels, d.Version, d.UptimeSeconds, now
			}
		}
	case events.HostStopped:
		delete(s.hosts, ev.Source)
		s.stopped[ev.Source] = now
		for k := range s.health {
			if k.host == ev.Source {
				delete(s.health, k)
			}
		}
	case events.HostHeartbeat:
		var inv ctl.HostInventory
		if json.Unmarshal(ev.Data, &inv) == nil {
			// Heartbeats are most of the traffic: summarise from the decoded inventory.
			summary = events.HeartbeatSummary(inv)
			id := hostOf(inv.HostID)
			if hs := host(id); hs != nil {
				hs.Name, hs.Labels, hs.Version = inv.FriendlyName, inv.Labels, inv.Version
				hs.Uptime, hs.UptimeAt = inv.UptimeSeconds, now
				hs.Components, hs.Providers, hs.InvAt = inv.Components, inv.Providers, now
			}
		}
	case events.ComponentScaled:
		var d events.ComponentScaledData
		if json.Unmarshal(ev.Data, &d) == nil {
			id := hostOf(d.HostID)
			if hs := host(id); hs != nil {
				hs.Components = upsertComponent(hs.Components, d)
			}
		}
	case events.ProviderStarted:
		var d events.ProviderStartedData
		if json.Unmarshal(ev.Data, &d) == nil {
			id := hostOf(d.HostID)
			if hs := host(id); hs != nil {
				p := ctl.ProviderDescription{ID: d.ProviderID, ImageRef: d.ImageRef, Annotations: d.Annotations}
				if d.Claims != nil {
					p.Name = d.Claims.Name
				}
				hs.Providers = upsertProvider(hs.Providers, p)
			}
		}
	case events.ProviderStopped:
		var d events.ProviderStoppedData
		if json.Unmarshal(ev.Data, &d) == nil {
			id := hostOf(d.HostID)
			if hs := s.hosts[id]; hs != nil {
				hs.Providers = removeProvider(hs.Providers, d.ProviderID)
			}
			delete(s.health, providerKey{id, d.ProviderID})
		}
	case events.HealthCheckPassed, events.HealthCheckFailed:
		var d events.HealthCheckData
		if json.Unmarshal(ev.Data, &d) == nil {
			st := "healthy"
			if name == events.HealthCheckFailed {
				st = "unhealthy"
			}
			s.health[providerKey{hostOf(d.HostID), d.ProviderID}] = st
		}
	case events.LinkdefSet:
		var l ctl.Link
		if json.Unmarshal(ev.Data, &l) == nil {
			s.links = upsertLink(s.links, l.Normalized())
		}
	case events.LinkdefDeleted:
		var d events.LinkdefDeletedData
		if json.Unmarshal(ev.Data, &d) == nil {
			s.links = removeLink(s.links, ctl.DeleteLinkRequest{SourceID: d.SourceID, Name: d.Name, WitNamespace: d.WitNamespace, WitPackage: d.WitPackage})
		}
	case events.ConfigSet:
		var d events.ConfigData
		if json.Unmarshal(ev.Data, &d) == nil && d.ConfigName != "" {
			s.configNames[d.ConfigName] = true
			s.configDirty[d.ConfigName] = true
		}
	case events.ConfigDeleted:
		var d events.ConfigData
		if json.Unmarshal(ev.Data, &d) == nil {
			delete(s.configNames, d.ConfigName)
			delete(s.configValues, d.ConfigName)
			delete(s.configDirty, d.ConfigName)
		}
	case events.LabelsChanged:
		var d events.LabelsChangedData
		if json.Unmarshal(ev.Data, &d) == nil {
			id := hostOf(d.HostID)
			if hs := host(id); hs != nil {
				hs.Labels = d.Labels
			}
		}
	}
}

// recordEvent appends to the log and counts the event in its second.
func (s *latticeState) recordEvent(e eventEntry, now time.Time) {
	if len(s.events) >= maxEvents {
		copy(s.events, s.events[len(s.events)-maxEvents+1:])
		s.events = s.events[:maxEvents-1]
	}
	s.eventSeq++
	e.Seq = s.eventSeq
	s.events = append(s.events, e)
	sec := now.Unix()
	i := int(sec % int64(len(s.rate)))
	if s.rateSecs[i] != sec {
		s.rateSecs[i], s.rate[i] = sec, 0
	}
	s.rate[i]++
}

// eventRate is events per second over the last 5 full seconds.
func (s *latticeState) eventRate(now time.Time) float64 {
	sec := now.Unix()
	n := 0
	for i := range s.rate {
		if d := sec - s.rateSecs[i]; d >= 1 && d <= 5 {
			n += s.rate[i]
		}
	}
	return float64(n) / 5
}

func evTime(ev events.Event, now time.Time) time.Time {
	if t := ev.ParsedTime(); !t.IsZero() {
		return t
	}
	return now
}

func upsertComponent(list []ctl.ComponentDescription, d events.ComponentScaledData) []ctl.ComponentDescription {
	out := make([]ctl.ComponentDescription, 0, len(list)+1)
	found := false
	for _, c := range list {
		if c.ID == d.ComponentID {
			found = true
			if d.MaxInstances == 0 {
				continue
			}
			c.ImageRef, c.MaxInstances, c.Annotations = d.ImageRef, d.MaxInstances, d.Annotations
		}
		out = append(out, c)
	}
	if !found && d.MaxInstances > 0 {
		c := ctl.ComponentDescription{ID: d.ComponentID, ImageRef: d.ImageRef, MaxInstances: d.MaxInstances, Annotations: d.Annotations}
		if d.Claims != nil && d.Claims.Name != nil {
			c.Name = *d.Claims.Name
		}
		out = append(out, c)
		sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	}
	return out
}

func upsertProvider(list []ctl.ProviderDescription, p ctl.ProviderDescription) []ctl.ProviderDescription {
	out := removeProvider(list, p.ID)
	out = append(out, p)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func removeProvider(list []ctl.ProviderDescription, id string) []ctl.ProviderDescription {
	out := make([]ctl.ProviderDescription, 0, len(list))
	for _, p := range list {
		if p.ID != id {
			out = append(out, p)
		}
	}
	return out
}

func sameLink(l ctl.Link, r ctl.DeleteLinkRequest) bool {
	name := r.Name
	if name == "" {
		name = "default"
	}
	ln := l.Name
	if ln == "" {
		ln = "default"
	}
	return l.SourceID == r.SourceID && ln == name && l.WitNamespace == r.WitNamespace && l.WitPackage == r.WitPackage
}

func upsertLink(list []ctl.Link, l ctl.Link) []ctl.Link {
	out := removeLink(list, ctl.DeleteLinkRequest{SourceID: l.SourceID, Name: l.Name, WitNamespace: l.WitNamespace, WitPackage: l.WitPackage})
	return append(out, l)
}

func removeLink(list []ctl.Link, r ctl.DeleteLinkRequest) []ctl.Link {
	out := make([]ctl.Link, 0, len(list))
	for _, l := range list {
		if !sameLink(l, r) {
			out = append(out, l)
		}
	}
	return out
}

// sortedHosts orders hosts by friendly name, then id, so rows do not jump around.
func (s *latticeState) sortedHosts() []*hostState {
	hs := make([]*hostState, 0, len(s.hosts))
	for _, h := range s.hosts {
		hs = append(hs, h)
	}
	sort.Slice(hs, func(i, j int) bool {
		if hs[i].Name != hs[j].Name {
			return hs[i].Name < hs[j].Name
		}
		return hs[i].ID < hs[j].ID
	})
	return hs
}

// placementKey names a component or provider on one host: "<host id>/<id>".
func placementKey(hostID, id string) string { return hostID + "/" + id }

// component finds a component by its placement key.
func (s *latticeState) component(key string) (ctl.ComponentDescription, string, bool) {
	h, id := s.placement(key)
	if i := slices.IndexFunc(h.Components, func(c ctl.ComponentDescription) bool { return c.ID == id }); i >= 0 {
		return h.Components[i], h.ID, true
	}
	return ctl.ComponentDescription{}, "", false
}

// provider finds a provider by its placement key.
func (s *latticeState) provider(key string) (ctl.ProviderDescription, string, bool) {
	h, id := s.placement(key)
	if i := slices.IndexFunc(h.Providers, func(p ctl.ProviderDescription) bool { return p.ID == id }); i >= 0 {
		return h.Providers[i], h.ID, true
	}
	return ctl.ProviderDescription{}, "", false
}

// placement splits a placement key into its host (empty when unknown) and the id on it.
func (s *latticeState) placement(key string) (*hostState, string) {
	hostID, id, _ := strings.Cut(key, "/")
	if h := s.hosts[hostID]; h != nil {
		return h, id
	}
	return &hostState{}, id
}

// linkKey identifies a link: its source and its name within the interface package.
func linkKey(l ctl.Link) string {
	return l.SourceID + "\x00" + l.WitNamespace + "\x00" + l.WitPackage + "\x00" + l.Name
}

// link finds a link by its key.
func (s *latticeState) link(key string) (ctl.Link, bool) {
	for _, l := range s.links {
		if linkKey(l) == key {
			return l, true
		}
	}
	return ctl.Link{}, false
}

// sortedLinks orders the links by key.
func (s *latticeState) sortedLinks() []ctl.Link {
	out := append([]ctl.Link(nil), s.links...)
	sort.Slice(out, func(i, j int) bool { return linkKey(out[i]) < linkKey(out[j]) })
	return out
}

// app finds an app's summary by name.
func (s *latticeState) app(name string) (model.ModelSummary, bool) {
	for _, a := range s.apps {
		if a.Name == name {
			return a, true
		}
	}
	return model.ModelSummary{}, false
}

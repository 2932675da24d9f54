package wadm

import (
	"github.com/wasmlattice/wash/lattice/wadm/model"

	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
)

// Events this wadm publishes on wadm.evt.<lattice>.<key> for its own event
// worker (extensions; a real wadm skips unknown event types):
//   - host_expired when a host stopped heartbeating or is known to be gone;
//   - host_inventory with a host's inventory, asked when a worker starts, so
//     a wadm started after its hosts knows them before their next heartbeat.
const (
	EventHostExpired       = "host_expired"
	EventTypeHostExpired   = "com.wadm.host_expired"
	EventHostInventory     = "host_inventory"
	EventTypeHostInventory = "com.wadm.host_inventory"
)

// HostExpired is the data of com.wadm.host_expired. Gone means the host is
// known to be absent (no responders), so it is removed whatever last_seen says.
type HostExpired struct {
	HostID string `json:"host_id"`
	Gone   bool   `json:"gone,omitempty"`
}

// observed is the wadm_state view of one lattice (reference §5.2).
type observed struct {
	hosts      map[string]HostRecord
	components map[string]ComponentRecord
	providers  map[string]ProviderRecord
}

func newObserved() *observed {
	return &observed{hosts: map[string]HostRecord{}, components: map[string]ComponentRecord{}, providers: map[string]ProviderRecord{}}
}

// snapshot turns the records into the scalers' lattice view.
func (o *observed) snapshot(links []Link, configs map[string]map[string]string) *LatticeState {
	return StateFromRecords(o.hosts, o.components, o.providers, links, configs)
}

// removeHost drops a host and everything it ran.
func (o *observed) removeHost(id string) bool {
	_, had := o.hosts[id]
	delete(o.hosts, id)
	ranComponents := dropHostFrom(o.components, id, func(c ComponentRecord) map[string][]InstanceInfo { return c.Instances })
	ranProviders := dropHostFrom(o.providers, id, func(p ProviderRecord) map[string]ProviderStatus { return p.Hosts })
	return had || ranComponents || ranProviders
}

// dropHostFrom removes a host from each record's per-host map (perHost) and drops the
// records it leaves on no host; it reports whether any record was on the host.
func dropHostFrom[R, V any](records map[string]R, host string, perHost func(R) map[string]V) bool {
	had := false
	for id, r := range records {
		on := perHost(r)
		if _, ok := on[host]; ok {
			delete(on, host)
			had = true
			if len(on) == 0 {
				delete(records, id)
			}
		}
	}
	return had
}

// apply updates the records from a host event (reference §4.3). It reports
// whether anything changed. now stamps last_seen.
func (o *observed) apply(ev events.Event, now time.Time, expiry time.Duration) bool {
	host := ev.Source
	switch ev.Name() {
	case events.HostStarted:
		var d events.HostStartedData
		if json.Unmarshal(ev.Data, &d) != nil {
			return false
		}
		h := o.hosts[host]
		h.ID, h.FriendlyName, h.Labels, h.LastSeen = host, d.FriendlyName, d.Labels, now
		if d.Version != "" {
			v := d.Version
			h.Version = &v
		}
		o.hosts[host] = h
		return true
	case events.HostHeartbeat:
		var d ctl.HostInventory
		if json.Unmarshal(ev.Data, &d) != nil {
			return false
		}
		o.applyHeartbeat(host, d, now)
		return true
	case events.HostStopped:
		return o.removeHost(host)
	case events.ComponentScaled:
		var d events.ComponentScaledData
		if json.Unmarshal(ev.Data, &d) != nil {
			return false
		}
		o.setComponent(host, d.ComponentID, d.ImageRef, d.Annotations, int(d.MaxInstances))
		return true
	case events.ProviderStarted:
		var d events.ProviderStartedData
		if json.Unmarshal(ev.Data, &d) != nil {
			return false
		}
		o.addProvider(host, d.ProviderID, d.ImageRef, d.Annotations, ProviderPending)
		if d.ReportsHealth {
			p := o.providers[d.ProviderID]
			if p.AwaitingHealth == nil {
				p.AwaitingHealth = map[string]bool{}
			}
			p.AwaitingHealth[host] = true
			o.providers[d.ProviderID] = p
		}
		return true
	case events.ProviderStopped:
		var d events.ProviderStoppedData
		if json.Unmarshal(ev.Data, &d) != nil {
			return false
		}
		o.removeProvider(host, d.ProviderID)
		return true
	case events.HealthCheckPassed, events.HealthCheckFailed, events.HealthCheckStatus:
		var d events.HealthCheckData
		if json.Unmarshal(ev.Data, &d) != nil {
			return false
		}
		p := o.providers[d.ProviderID]
		if p.Hosts == nil {
			p.Hosts = map[string]ProviderStatus{}
		}
		p.ID = d.ProviderID
		delete(p.AwaitingHealth, d.HostID)
		switch ev.Name() {
		case events.HealthCheckPassed:
			p.Hosts[d.HostID] = ProviderRunning
			delete(p.Unhealthy, d.HostID)
		case events.HealthCheckFailed:
			p.Hosts[d.HostID] = ProviderFailed
			if p.Unhealthy == nil {
				p.Unhealthy = map[string]string{}
			}
			p.Unhealthy[d.HostID] = strings.Join(strings.Fields(d.Message), " ") // one line
		default:
			if st, ok := p.Hosts[d.HostID]; !ok || st == ProviderPending {
				p.Hosts[d.HostID] = ProviderRunning
			}
		}
		o.providers[d.ProviderID] = p
		return true
	}
	return false
}

// expire removes a host whose last heartbeat is older than expiry (or that
// is known to be gone).
func (o *observed) expire(d HostExpired, now time.Time, expiry time.Duration) bool {
	h, ok := o.hosts[d.HostID]
	if !ok {
		return false
	}
	if !d.Gone && now.Sub(h.LastSeen) < expiry {
		return false
	}
	return o.removeHost(d.HostID)
}

// mergeInventory applies an inventory a wadm process asked a host for (its
// data is a heartbeat's). It reaches the event worker through another stream
// than the host's own events, so it may be older than events already folded
// in, or newer than events still on their way: it adds the components and
// providers the state does not list on the host and keeps what the host's
// events reported. (Trusting the inventory made wadm forget a component
// started after it was taken, and start it again.) Heartbeats, which keep
// their order with the host's events, correct anything else.
func (o *observed) mergeInventory(ev events.Event, now time.Time) {
	var d ctl.HostInventory
	if json.Unmarshal(ev.Data, &d) != nil {
		return
	}
	host := ev.Source
	seen := map[string]bool{}
	comps := d.Components[:0]
	for _, c := range d.Components {
		if seen[c.ID] {
			continue
		}
		seen[c.ID] = true
		if known, ok := o.components[c.ID]; ok && len(known.Instances[host]) > 0 {
			c = described(c.ID, known, host)
		}
		comps = append(comps, c)
	}
	for _, id := range slices.Sorted(maps.Keys(o.components)) {
		if c := o.components[id]; !seen[id] && len(c.Instances[host]) > 0 {
			comps = append(comps, described(id, c, host))
		}
	}
	d.Components = comps
	listed := map[string]bool{}
	for _, p := range d.Providers {
		listed[p.ID] = true
	}
	var ann map[string]map[string]string
	if h, ok := o.hosts[host]; ok {
		ann = map[string]map[string]string{}
		for _, p := range h.Providers {
			ann[p.ProviderID] = p.Annotations
		}
	}
	for _, id := range slices.Sorted(maps.Keys(o.providers)) {
		if p := o.providers[id]; !listed[id] {
			if _, ok := p.Hosts[host]; ok {
				d.Providers = append(d.Providers, ctl.ProviderDescription{ID: id, Name: p.Name, ImageRef: p.Reference, Annotations: ann[id]})
			}
		}
	}
	o.applyHeartbeat(host, d, now)
}

// described is the inventory entry of what the records say a host runs.
func described(id string, c ComponentRecord, host string) ctl.ComponentDescription {
	in := c.Instances[host][0]
	return ctl.ComponentDescription{ID: id, Name: c.Name, ImageRef: c.Reference, Annotations: in.Annotations, MaxInstances: uint32(max(0, in.Count))}
}

// applyHeartbeat makes the host's records match its inventory: a heartbeat
// lists everything the host runs, so components and providers it no longer
// lists are dropped for that host right away.
func (o *observed) applyHeartbeat(host string, d ctl.HostInventory, now time.Time) {
	h := o.hosts[host]
	h.ID, h.FriendlyName, h.Labels, h.LastSeen, h.UptimeSeconds = host, d.FriendlyName, d.Labels, now, d.UptimeSeconds
	if d.Version != "" {
		v := d.Version
		h.Version = &v
	}
	h.Components = map[string]int{}
	listed := map[string]bool{}
	for _, c := range d.Components {
		h.Components[c.ID] = int(c.MaxInstances)
		listed[c.ID] = true
		cr := o.components[c.ID]
		cr.ID = c.ID
		if cr.Name == "" {
			cr.Name = c.Name
		}
		cr.Reference = c.ImageRef
		if cr.Instances == nil {
			cr.Instances = map[string][]InstanceInfo{}
		}
		ann := c.Annotations
		if ann == nil {
			ann = map[string]string{}
		}
		cr.Instances[host] = []InstanceInfo{{Annotations: ann, Count: int(c.MaxInstances)}}
		o.components[c.ID] = cr
	}
	for cid, cr := range o.components {
		if listed[cid] {
			continue
		}
		if _, ok := cr.Instances[host]; ok {
			delete(cr.Instances, host)
			if len(cr.Instances) == 0 {
				delete(o.components, cid)
			}
		}
	}
	provs := make([]ProviderInfo, 0, len(d.Providers))
	plisted := map[string]bool{}
	for _, p := range d.Providers {
		plisted[p.ID] = true
		ann := p.Annotations
		if ann == nil {
			ann = map[string]string{}
		}
		provs = append(provs, ProviderInfo{ProviderID: p.ID, ProviderRef: p.ImageRef, Annotations: ann})
		pr := o.providers[p.ID]
		pr.ID = p.ID
		if pr.Name == "" {
			pr.Name = p.Name
		}
		if pr.Reference == "" {
			pr.Reference = p.ImageRef
		}
		if pr.Hosts == nil {
			pr.Hosts = map[string]ProviderStatus{}
		}
		if _, ok := pr.Hosts[host]; !ok {
			pr.Hosts[host] = ProviderPending
		}
		o.providers[p.ID] = pr
	}
	for pid, pr := range o.providers {
		if _, ok := pr.Hosts[host]; ok && !plisted[pid] {
			delete(pr.Hosts, host)
			if len(pr.Hosts) == 0 {
				delete(o.providers, pid)
			}
		}
	}
	h.Providers = provs
	o.hosts[host] = h
}

// setComponent applies component_scaled. Upstream keys a host's instance
// entries by annotation set; a wasmCloud 1.x host (and ours) runs one
// instance set per component id, so the event replaces the host's entry:
// keeping the other entries counted instances twice after a rescale that
// changed the annotations. Count 0 removes the component from the host.
func (o *observed) setComponent(host, id, ref string, ann map[string]string, count int) {
	if ann == nil {
		ann = map[string]string{}
	}
	cr := o.components[id]
	cr.ID = id
	if ref != "" {
		cr.Reference = ref
	}
	if cr.Instances == nil {
		cr.Instances = map[string][]InstanceInfo{}
	}
	var insts []InstanceInfo
	if count > 0 {
		insts = []InstanceInfo{{Annotations: copyMap(ann), Count: count}}
	}
	if len(insts) == 0 {
		delete(cr.Instances, host)
	} else {
		cr.Instances[host] = insts
	}
	if len(cr.Instances) == 0 {
		delete(o.components, id)
	} else {
		o.components[id] = cr
	}
	if h, ok := o.hosts[host]; ok {
		if h.Components == nil {
			h.Components = map[string]int{}
		}
		total := 0
		for _, in := range insts {
			total += in.Count
		}
		if total == 0 {
			delete(h.Components, id)
		} else {
			h.Components[id] = total
		}
		o.hosts[host] = h
	}
}

func (o *observed) addProvider(host, id, ref string, ann map[string]string, st ProviderStatus) {
	p := o.providers[id]
	p.ID = id
	if p.Reference == "" {
		p.Reference = ref
	}
	if p.Hosts == nil {
		p.Hosts = map[string]ProviderStatus{}
	}
	_, had := p.Hosts[host]
	if !had {
		p.Hosts[host] = st
	}
	o.providers[id] = p
	if h, ok := o.hosts[host]; ok && !had {
		if ann == nil {
			ann = map[string]string{}
		}
		h.Providers = append(h.Providers, ProviderInfo{ProviderID: id, ProviderRef: ref, Annotations: ann})
		o.hosts[host] = h
	}
}

func (o *observed) removeProvider(host, id string) {
	if p, ok := o.providers[id]; ok {
		delete(p.Hosts, host)
		delete(p.AwaitingHealth, host)
		if len(p.Hosts) == 0 {
			delete(o.providers, id)
		}
	}
	if h, ok := o.hosts[host]; ok {
		out := h.Providers[:0]
		for _, p := range h.Providers {
			if p.ProviderID != id {
				out = append(out, p)
			}
		}
		h.Providers = out
		o.hosts[host] = h
	}
}

// eventApp returns the app a component_scaled/provider_started event is
// annotated with ("" for every other event: they concern every app).
func eventApp(ev events.Event) string {
	switch ev.Name() {
	case events.ComponentScaled, events.ProviderStarted:
		var d struct {
			Annotations map[string]string `json:"annotations"`
		}
		if json.Unmarshal(ev.Data, &d) == nil {
			return d.Annotations[model.AppSpecAnnotation]
		}
	}
	return ""
}

// fingerprint summarises what a heartbeat can change besides last_seen and
// uptime: the host's labels and inventory and the instance records.
func (o *observed) fingerprint(host string) string {
	h := o.hosts[host]
	h.LastSeen, h.UptimeSeconds = time.Time{}, 0
	b, _ := json.Marshal([]any{h, o.components, o.providers})
	return string(b)
}

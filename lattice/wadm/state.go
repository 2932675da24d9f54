package wadm

import (
	"maps"
	"slices"
	"time"

	"github.com/wasmlattice/wash/lattice/ctl"
)

// LatticeState is the observed state the scalers read: a snapshot a
// reconciler builds from heartbeats and events (or the wadm_state records,
// see StateFromRecords) plus the current links and configs.
type LatticeState struct {
	// Hosts is keyed by host id.
	Hosts map[string]*HostState
	// Links are the current links (control interface link.get).
	Links []Link
	// Configs maps config name to its data; absent names do not exist.
	Configs map[string]map[string]string
}

// HostState is one host.
type HostState struct {
	ID           string
	FriendlyName string
	Labels       map[string]string
	LastSeen     time.Time
	// Components is keyed by component id.
	Components map[string]*ComponentState
	// Providers is keyed by provider id (a host runs a provider id at most once).
	Providers map[string]*ProviderState
}

// ComponentState is a component id on one host.
type ComponentState struct {
	Ref string
	// Instances are counts per annotation set.
	Instances []InstanceInfo
}

// Count is the total max instances on the host.
func (c *ComponentState) Count() int {
	n := 0
	for _, i := range c.Instances {
		n += i.Count
	}
	return n
}

// ProviderState is a provider id on one host.
type ProviderState struct {
	Ref         string
	Annotations map[string]string
	Health      ProviderStatus
	// Reason is what the host said with its last health_check_failed ("" if nothing).
	Reason string
	// AwaitingHealth: the host promised a first health report that has not come yet.
	AwaitingHealth bool
}

// Link is a link as the control interface reports it.
type Link = ctl.Link

// NewLatticeState returns an empty snapshot.
func NewLatticeState() *LatticeState {
	return &LatticeState{Hosts: map[string]*HostState{}, Configs: map[string]map[string]string{}}
}

// AddHost adds (or replaces) a host with labels and returns it.
func (s *LatticeState) AddHost(id string, labels map[string]string) *HostState {
	if s.Hosts == nil {
		s.Hosts = map[string]*HostState{}
	}
	if labels == nil {
		labels = map[string]string{}
	}
	h := &HostState{ID: id, Labels: labels, Components: map[string]*ComponentState{}, Providers: map[string]*ProviderState{}}
	s.Hosts[id] = h
	return h
}

// SetComponent records count instances of a component with the given
// annotations on the host (count 0 removes that annotation set).
func (h *HostState) SetComponent(id, ref string, annotations map[string]string, count int) {
	if h.Components == nil {
		h.Components = map[string]*ComponentState{}
	}
	c := h.Components[id]
	if c == nil {
		c = &ComponentState{Ref: ref}
		h.Components[id] = c
	}
	if ref != "" {
		c.Ref = ref
	}
	for i := range c.Instances {
		if sameMap(c.Instances[i].Annotations, annotations) {
			if count == 0 {
				c.Instances = append(c.Instances[:i], c.Instances[i+1:]...)
			} else {
				c.Instances[i].Count = count
			}
			if len(c.Instances) == 0 {
				delete(h.Components, id)
			}
			return
		}
	}
	if count == 0 {
		if len(c.Instances) == 0 {
			delete(h.Components, id)
		}
		return
	}
	c.Instances = append(c.Instances, InstanceInfo{Annotations: copyMap(annotations), Count: count})
}

// SetProvider records a running provider on the host.
func (h *HostState) SetProvider(id, ref string, annotations map[string]string, health ProviderStatus) {
	if h.Providers == nil {
		h.Providers = map[string]*ProviderState{}
	}
	h.Providers[id] = &ProviderState{Ref: ref, Annotations: copyMap(annotations), Health: health}
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// sortedHostIDs returns host ids in ascending order (deterministic choice).
func (s *LatticeState) sortedHostIDs() []string {
	return slices.Sorted(maps.Keys(s.Hosts))
}

// StateFromRecords builds a snapshot from the wadm_state records (keyed by
// id), links and configs. Component instances come from the component
// records; a host's Components map also lists ids only its record names.
func StateFromRecords(hosts map[string]HostRecord, components map[string]ComponentRecord, providers map[string]ProviderRecord, links []Link, configs map[string]map[string]string) *LatticeState {
	s := NewLatticeState()
	for id, hr := range hosts {
		if hr.ID != "" {
			id = hr.ID
		}
		h := s.AddHost(id, copyMap(hr.Labels))
		h.FriendlyName, h.LastSeen = hr.FriendlyName, hr.LastSeen
		for _, p := range hr.Providers {
			health, reason := ProviderPending, ""
			if pr, ok := providers[p.ProviderID]; ok {
				if st, ok := pr.Hosts[id]; ok {
					health = st
				}
				if health == ProviderFailed {
					reason = pr.Unhealthy[id]
				}
			}
			h.SetProvider(p.ProviderID, p.ProviderRef, p.Annotations, health)
			h.Providers[p.ProviderID].Reason = reason
			h.Providers[p.ProviderID].AwaitingHealth = providers[p.ProviderID].AwaitingHealth[id]
		}
	}
	for cid, cr := range components {
		if cr.ID != "" {
			cid = cr.ID
		}
		for hostID, insts := range cr.Instances {
			h := s.Hosts[hostID]
			if h == nil {
				continue
			}
			for _, in := range insts {
				h.SetComponent(cid, cr.Reference, in.Annotations, in.Count)
			}
		}
	}
	// Host records can name components the component records lack (e.g.
	// before the reaper ran); keep them with unknown annotations.
	for id, hr := range hosts {
		if hr.ID != "" {
			id = hr.ID
		}
		h := s.Hosts[id]
		for cid, n := range hr.Components {
			if _, ok := h.Components[cid]; !ok && n > 0 {
				h.SetComponent(cid, "", map[string]string{}, n)
			}
		}
	}
	s.Links = links
	if configs != nil {
		s.Configs = configs
	}
	return s
}

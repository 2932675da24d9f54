package wadm

import (
	"fmt"

	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// ---- provider spread scaler --------------------------------------------------

// ProviderSpreadScaler is a spreadscaler on a capability (or the implicit
// one-instance scaler of a capability without scaler traits).
type ProviderSpreadScaler struct {
	id            string
	ModelName     string
	ComponentName string
	ProviderID    string
	Reference     string
	ConfigNames   []string
	Property      model.SpreadScalerProperty
	configs       []ownedConfig
}

func (p *ProviderSpreadScaler) ID() string   { return p.id }
func (p *ProviderSpreadScaler) Kind() string { return model.KindSpreadScaler }
func (p *ProviderSpreadScaler) Name() string { return p.ProviderID }

func (p *ProviderSpreadScaler) placement() placement {
	return placement{noun: "provider", configs: p.configs, removeIneligible: p.removeIneligible}
}

// Reconcile implements reference §4.8 with hosts taken in id order.
func (p *ProviderSpreadScaler) Reconcile(s *LatticeState) ([]Command, model.StatusInfo) {
	return p.placement().reconcile(s, ComputeSpread(p.Property), p.spreadRule)
}

// Cleanup stops the provider where this scaler's spreads started it.
func (p *ProviderSpreadScaler) Cleanup(s *LatticeState) []Command {
	return p.placement().cleanup(s, ComputeSpread(p.Property), p.spreadRule)
}

// removeIneligible stops the provider this scaler started on hosts that match no spread.
func (p *ProviderSpreadScaler) removeIneligible(s *LatticeState, targets []SpreadTarget) []Command {
	var out []Command
	for _, id := range ineligibleHosts(s, targets) {
		if ps := s.Hosts[id].Providers[p.ProviderID]; ps != nil && ps.Annotations[model.ScalerAnnotation] == p.id {
			out = append(out, p.stop(id, map[string]string{}))
		}
	}
	return out
}

func (p *ProviderSpreadScaler) start(host string, ann map[string]string) StartProvider {
	return StartProvider{Reference: p.Reference, ProviderID: p.ProviderID, HostID: host, ModelName: p.ModelName,
		Config: append([]string{}, p.ConfigNames...), Annotations: ann}
}

func (p *ProviderSpreadScaler) stop(host string, ann map[string]string) StopProvider {
	return StopProvider{ProviderID: p.ProviderID, HostID: host, ModelName: p.ModelName, Annotations: ann}
}

// spreadRule runs the provider on as many eligible hosts per spread as it asks for.
func (p *ProviderSpreadScaler) spreadRule(s *LatticeState, targets []SpreadTarget) ([]Command, model.StatusInfo) {
	var failures []string
	var cmds []Command
	for _, t := range targets {
		want := SpreadAnnotations(t.Spread.Name, p.id)
		var running, forSpread, notRunning []string
		otherCount := 0
		for _, id := range eligibleHosts(s, &t.Spread) {
			ps := s.Hosts[id].Providers[p.ProviderID]
			switch {
			case ps == nil:
				notRunning = append(notRunning, id)
			case hasAll(ps.Annotations, want):
				running = append(running, id)
				forSpread = append(forSpread, id)
			default:
				running = append(running, id)
				otherCount++
			}
		}
		switch {
		case len(running) > t.Count && len(forSpread) > 0:
			n := min(len(running)-t.Count, len(forSpread))
			for _, id := range forSpread[:n] {
				cmds = append(cmds, p.stop(id, SpreadAnnotations(t.Spread.Name, p.id)))
			}
		case len(running) < t.Count:
			// Upstream subtracts providers run by others twice (saturating).
			toStart := max(0, t.Count-len(running)-otherCount)
			n := min(toStart, len(notRunning))
			for _, id := range notRunning[:n] {
				cmds = append(cmds, p.start(id, SpreadAnnotations(t.Spread.Name, p.id)))
			}
			if n < toStart {
				failures = append(failures, fmt.Sprintf("Could not satisfy spread %s for %s, %d/%d eligible hosts found.", t.Spread.Name, p.Reference, len(forSpread), t.Count))
			}
		}
	}
	return cmds, providerStatus(s, p.ProviderID, failures, cmds)
}

// providerStatus is failuresStatus, then upstream's health rule: a provider that reported
// health_check_failed on some host (a built-in one that could not apply a link: an address in
// use) makes the scaler Failed "Unhealthy provider on N host(s)" until it passes again. A
// provider whose wash host promised a first health report (reports_health) and has not sent
// it yet keeps the scaler Reconciling, so Deployed is never shown before a failed bind.
func providerStatus(s *LatticeState, providerID string, failures []string, cmds []Command) model.StatusInfo {
	st := failuresStatus(failures, len(cmds), "provider")
	if st.Type != model.StatusDeployed {
		return st
	}
	unhealthy, awaiting, reason := 0, 0, ""
	for _, id := range s.sortedHostIDs() {
		ps := s.Hosts[id].Providers[providerID]
		switch {
		case ps == nil:
		case ps.Health == ProviderFailed:
			unhealthy++
			if reason == "" {
				reason = ps.Reason
			}
		case ps.AwaitingHealth:
			awaiting++
		}
	}
	if unhealthy > 0 {
		msg := fmt.Sprintf("Unhealthy provider on %d host(s)", unhealthy)
		if reason != "" {
			// the first host's reason (wash hosts send one): `wash app status` shows why
			msg += ": " + reason
		}
		return model.Failed(msg)
	}
	if awaiting > 0 {
		// a wash host reports whether the provider's links applied right after starting it
		return model.Reconciling(fmt.Sprintf("Waiting for the provider's first health report on %d host(s)", awaiting))
	}
	return st
}

// ---- provider daemon scaler --------------------------------------------------

// ProviderDaemonScaler is a daemonscaler on a capability: the provider on
// every eligible host (Instances > 0) or on none.
type ProviderDaemonScaler struct {
	ProviderSpreadScaler
}

func (p *ProviderDaemonScaler) Kind() string { return model.KindDaemonScaler }

// Reconcile implements reference §4.9 for providers.
func (p *ProviderDaemonScaler) Reconcile(s *LatticeState) ([]Command, model.StatusInfo) {
	return p.placement().reconcile(s, daemonSpreads(p.Property), p.daemonRule)
}

// Cleanup stops the provider id on every eligible host (regardless of who
// started it, like upstream).
func (p *ProviderDaemonScaler) Cleanup(s *LatticeState) []Command {
	return p.placement().cleanup(s, daemonSpreads(p.Property), p.daemonRule)
}

func (p *ProviderDaemonScaler) daemonRule(s *LatticeState, targets []SpreadTarget) ([]Command, model.StatusInfo) {
	var cmds []Command
	failures := daemonHosts(s, targets, p.Reference, func(id string, t SpreadTarget) {
		running := s.Hosts[id].Providers[p.ProviderID] != nil
		switch {
		case !running && t.Count > 0:
			cmds = append(cmds, p.start(id, SpreadAnnotations(t.Spread.Name, p.id)))
		case running && t.Count == 0:
			cmds = append(cmds, p.stop(id, SpreadAnnotations(t.Spread.Name, p.id)))
		}
	})
	return cmds, providerStatus(s, p.ProviderID, failures, cmds)
}

package wadm

import (
	"fmt"
	"sort"
	"strings"

	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// ---- component spread scaler -------------------------------------------------

// ComponentSpreadScaler is a spreadscaler trait on a wasm component.
type ComponentSpreadScaler struct {
	id            string
	ModelName     string
	ComponentName string
	ComponentID   string
	Reference     string
	ConfigNames   []string
	Property      model.SpreadScalerProperty
	configs       []ownedConfig
	// siblings are the ids of the other scalers of this app for the same
	// component id (a component with several scaler traits); their
	// instances are not outdated.
	siblings map[string]bool
}

func (c *ComponentSpreadScaler) ID() string   { return c.id }
func (c *ComponentSpreadScaler) Kind() string { return model.KindSpreadScaler }
func (c *ComponentSpreadScaler) Name() string { return c.ComponentID }

func (c *ComponentSpreadScaler) placement() placement {
	return placement{noun: "component", configs: c.configs, removeIneligible: c.removeIneligible}
}

// Reconcile implements reference §4.7.3 with a deterministic host choice.
func (c *ComponentSpreadScaler) Reconcile(s *LatticeState) ([]Command, model.StatusInfo) {
	return c.placement().reconcile(s, ComputeSpread(c.Property), c.spreadRule)
}

// Cleanup scales every host running instances this scaler started to 0,
// whatever spread they were started for (the daemon scaler's too).
func (c *ComponentSpreadScaler) Cleanup(s *LatticeState) []Command {
	return append(c.cleanupInstances(s), cleanupConfigs(c.configs)...)
}

func (c *ComponentSpreadScaler) cleanupInstances(s *LatticeState) []Command {
	var cmds []Command
	for _, id := range s.sortedHostIDs() {
		cs := s.Hosts[id].Components[c.ComponentID]
		if cs == nil {
			continue
		}
		for _, in := range cs.Instances {
			if in.Annotations[model.ScalerAnnotation] == c.id {
				cmds = append(cmds, c.scale(id, 0, SpreadAnnotations(in.Annotations[model.SpreadNameAnnotation], c.id)))
				break
			}
		}
	}
	return cmds
}

func (c *ComponentSpreadScaler) scale(host string, count int, ann map[string]string) ScaleComponent {
	return ScaleComponent{ComponentID: c.ComponentID, HostID: host, Count: count, Reference: c.Reference,
		ModelName: c.ModelName, Annotations: ann, Config: append([]string(nil), c.ConfigNames...)}
}

// removeIneligible scales the component to 0 on hosts that match no spread
// (reference §4.7.3 step 1: any annotations).
func (c *ComponentSpreadScaler) removeIneligible(s *LatticeState, targets []SpreadTarget) []Command {
	var remove []Command
	for _, id := range ineligibleHosts(s, targets) {
		if _, ok := s.Hosts[id].Components[c.ComponentID]; ok {
			remove = append(remove, c.scale(id, 0, map[string]string{}))
		}
	}
	return remove
}

// tally sorts what each host runs of the component. A wasmCloud 1.x host
// runs one instance set per component id, and a scale command sets that
// whole set (count and, on a rescale, the annotations), so:
//   - a set this scaler started counts for the spread its annotation names
//     when the host is eligible for it; otherwise (the spreads changed in an
//     upgrade, or the host's labels did) for the first spread in targets'
//     order the host is eligible for. The set is then rescaled in place. Not
//     adopting it made the new spread ask the host for its share again and
//     again while the host kept reporting the old annotation: the v0.0.3 →
//     v0.0.4 hot loop.
//   - a set of a previous scaler of the same app for this component id
//     (the image or config names changed) is outdated: it is scaled to 0
//     before the host is used, instead of the old scaler's cleanup removing
//     whatever the new scaler placed on that host.
//   - anything else (another app, started by hand) is left alone, as
//     upstream does.
func (c *ComponentSpreadScaler) tally(s *LatticeState, targets []SpreadTarget) (mine []map[string]int, outdated []Command) {
	mine = make([]map[string]int, len(targets))
	for i := range mine {
		mine[i] = map[string]int{}
	}
	for _, id := range s.sortedHostIDs() {
		h := s.Hosts[id]
		cs := h.Components[c.ComponentID]
		if cs == nil {
			continue
		}
		for _, in := range cs.Instances {
			owner := in.Annotations[model.ScalerAnnotation]
			switch {
			case owner == c.id:
				at := -1
				for i := range targets {
					if matches(h, targets[i].Spread.Requirements) {
						if targets[i].Spread.Name == in.Annotations[model.SpreadNameAnnotation] {
							at = i
							break
						}
						if at < 0 {
							at = i
						}
					}
				}
				if at >= 0 {
					mine[at][id] += in.Count
				}
			case owner != "" && !c.siblings[owner] && in.Annotations[model.AppSpecAnnotation] == c.ModelName:
				outdated = append(outdated, c.scale(id, 0, copyMap(in.Annotations)))
			}
		}
	}
	return mine, outdated
}

// spreadRule spreads the instances by weight (reference §4.7.3 steps 2 and 3).
func (c *ComponentSpreadScaler) spreadRule(s *LatticeState, targets []SpreadTarget) ([]Command, model.StatusInfo) {
	mine, cmds := c.tally(s, targets)
	var failures []string
	perHostAll := map[string]int{} // this scaler's instances per host, all spreads
	for i := range mine {
		for id, n := range mine[i] {
			perHostAll[id] += n
		}
	}
	for i, t := range targets {
		eligible := eligibleHosts(s, &t.Spread)
		if len(eligible) == 0 {
			failures = append(failures, fmt.Sprintf("Could not satisfy spread %s for %s, 0/1 eligible hosts found.", t.Spread.Name, c.Reference))
			continue
		}
		want := SpreadAnnotations(t.Spread.Name, c.id)
		perHost := mine[i]
		current := 0
		for _, n := range perHost {
			current += n
		}
		switch {
		case current < t.Count:
			// Deterministic choice: the eligible host already holding the most
			// instances of this spread, else the lowest id. It is raised by the
			// missing amount, which equals upstream's "count = target" whenever
			// that host holds all current instances, and avoids the
			// spread-conflict wedge otherwise.
			best := eligible[0]
			for _, id := range eligible {
				if perHost[id] > perHost[best] {
					best = id
				}
			}
			cmds = append(cmds, c.scale(best, t.Count-(current-perHost[best]), want))
		case current > t.Count:
			hosts := make([]string, 0, len(perHost))
			for id := range perHost {
				hosts = append(hosts, id)
			}
			// Drain the smallest hosts first, keeping instances together.
			sort.Slice(hosts, func(i, j int) bool {
				if perHost[hosts[i]] != perHost[hosts[j]] {
					return perHost[hosts[i]] < perHost[hosts[j]]
				}
				return hosts[i] < hosts[j]
			})
			remaining := current - t.Count
			for _, id := range hosts {
				n := perHost[id]
				stop := min(n, remaining)
				remaining -= stop
				// Like upstream, hosts past the point where enough were stopped
				// still get a (no-op) command with their current count.
				cmds = append(cmds, c.scale(id, n-stop, SpreadAnnotations(t.Spread.Name, c.id)))
			}
		}
	}
	if msg := spreadConflicts(s, targets, perHostAll, cmds); msg != "" {
		return nil, model.Failed(msg)
	}
	return cmds, failuresStatus(failures, len(cmds), "component")
}

// spreadConflicts projects the per-host counts after cmds over the union of
// eligible hosts and compares each spread's projected total with its target
// (reference §4.7.3 step 3).
func spreadConflicts(s *LatticeState, targets []SpreadTarget, perHost map[string]int, cmds []Command) string {
	projected := map[string]int{}
	for i := range targets {
		for _, id := range eligibleHosts(s, &targets[i].Spread) {
			projected[id] = perHost[id]
		}
	}
	largest := map[string]int{}
	for _, cmd := range cmds {
		if sc, ok := cmd.(ScaleComponent); ok {
			if cur, seen := largest[sc.HostID]; !seen || sc.Count > cur {
				largest[sc.HostID] = sc.Count
			}
		}
	}
	for id, n := range largest {
		if _, ok := projected[id]; ok {
			projected[id] = n
		}
	}
	var conflicts []string
	for _, t := range targets {
		// A spread without eligible hosts is already reported as unsatisfiable.
		if len(eligibleHosts(s, &t.Spread)) == 0 {
			continue
		}
		total := 0
		for id, n := range projected {
			if matches(s.Hosts[id], t.Spread.Requirements) {
				total += n
			}
		}
		if total != t.Count {
			conflicts = append(conflicts, fmt.Sprintf("Spread requirement conflict: %s spread requires %d instances vs %d computed from reconciliation commands", t.Spread.Name, t.Count, total))
		}
	}
	return strings.Join(conflicts, ", ")
}

// ---- component daemon scaler -------------------------------------------------

// ComponentDaemonScaler is a daemonscaler trait on a wasm component:
// Instances per eligible host.
type ComponentDaemonScaler struct {
	ComponentSpreadScaler
}

func (c *ComponentDaemonScaler) Kind() string { return model.KindDaemonScaler }

// Reconcile implements reference §4.9 for components.
func (c *ComponentDaemonScaler) Reconcile(s *LatticeState) ([]Command, model.StatusInfo) {
	return c.placement().reconcile(s, daemonSpreads(c.Property), c.daemonRule)
}

// daemonRule wants Instances on every host eligible for some spread. A
// host eligible for several spreads gets one command, annotated with the
// first of them in manifest order: it can hold one instance set, and
// upstream's command per spread made the spreads overwrite each other's
// annotation on every pass.
func (c *ComponentDaemonScaler) daemonRule(s *LatticeState, targets []SpreadTarget) ([]Command, model.StatusInfo) {
	mine, cmds := c.tally(s, targets)
	done := map[string]bool{}
	failures := daemonHosts(s, targets, c.Reference, func(id string, t SpreadTarget) {
		if done[id] {
			return
		}
		done[id] = true
		n := 0
		for i := range mine {
			n += mine[i][id]
		}
		if n != t.Count {
			cmds = append(cmds, c.scale(id, t.Count, SpreadAnnotations(t.Spread.Name, c.id)))
		}
	})
	return cmds, failuresStatus(failures, len(cmds), "component")
}

package wadm

import (
	"github.com/wasmlattice/wash/lattice/wadm/model"

	"fmt"
	"math/bits"
	"sort"
	"strings"
)

// Scaler turns a part of a deployed manifest plus the lattice snapshot into
// commands and a status. Implementations are pure: they keep no state
// between calls (expected-event backoff belongs to the reconciler).
type Scaler interface {
	// ID is the stable scaler id (reference §4.5).
	ID() string
	// Kind is SpreadScaler, DaemonScaler or LinkScaler.
	Kind() string
	// Name is the status name (component id, provider id or link text).
	Name() string
	// Reconcile returns the commands that move the lattice toward the desired
	// state and the scaler status that goes with them.
	Reconcile(s *LatticeState) ([]Command, model.StatusInfo)
	// Cleanup returns the commands that remove what the scaler manages.
	Cleanup(s *LatticeState) []Command
}

// ScalerStatusOf runs Reconcile and wraps the status for Status.Scalers.
func ScalerStatusOf(sc Scaler, s *LatticeState) model.ScalerStatus {
	_, st := sc.Reconcile(s)
	return model.ScalerStatus{ID: sc.ID(), Kind: sc.Kind(), Name: sc.Name(), Status: st}
}

// ReconcileAll reconciles every scaler in order and returns all commands and
// the aggregated application status.
func ReconcileAll(scalers []Scaler, s *LatticeState) ([]Command, model.Status) {
	var cmds []Command
	statuses := make([]model.ScalerStatus, 0, len(scalers))
	for _, sc := range scalers {
		c, st := sc.Reconcile(s)
		cmds = append(cmds, c...)
		statuses = append(statuses, model.ScalerStatus{ID: sc.ID(), Kind: sc.Kind(), Name: sc.Name(), Status: st})
	}
	return cmds, model.NewStatus(statuses)
}

// CleanupAll collects every scaler's cleanup commands (undeploy/delete).
func CleanupAll(scalers []Scaler, s *LatticeState) []Command {
	var cmds []Command
	for _, sc := range scalers {
		cmds = append(cmds, sc.Cleanup(s)...)
	}
	return cmds
}

// OutdatedScalers returns the old scalers whose id is not among the new ones;
// their cleanup runs after a version upgrade (reference §4.15). Scalers with
// the same id are adopted by the new version.
func OutdatedScalers(old, new []Scaler) []Scaler {
	keep := map[string]bool{}
	for _, sc := range new {
		keep[sc.ID()] = true
	}
	var out []Scaler
	for _, sc := range old {
		if !keep[sc.ID()] {
			out = append(out, sc)
		}
	}
	return out
}

// UpgradeCleanup returns the cleanup commands of the outdated old scalers
// (reference §4.15) except those aimed at what a new scaler manages: the new
// component scaler replaces the old instance sets of its component id
// itself (see tally), and a config a new scaler owns is rewritten rather
// than deleted. Running both made the old cleanup undo the new scaler's
// work on every host they shared. Old links are deleted as upstream does:
// a host refuses a link to another target while the old one exists, and the
// deletion is what lets the new link scaler put its link (with its configs).
func UpgradeCleanup(old, new []Scaler, s *LatticeState) []Command {
	components, configs := map[string]bool{}, map[string]bool{}
	for _, sc := range new {
		switch n := sc.(type) {
		case *ComponentSpreadScaler:
			components[n.ComponentID] = true
		case *ComponentDaemonScaler:
			components[n.ComponentID] = true
		}
		for _, c := range ownedConfigs(sc) {
			if c.data != nil {
				configs[c.name] = true
			}
		}
	}
	var out []Command
	for _, c := range CleanupAll(OutdatedScalers(old, new), s) {
		switch v := c.(type) {
		case ScaleComponent:
			if components[v.ComponentID] {
				continue
			}
		case DeleteConfig:
			if configs[v.ConfigName] {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// SpreadTarget is a spread with its computed instance count.
type SpreadTarget struct {
	Spread model.Spread
	Count  int
}

// ComputeSpread splits instances over spreads (reference §4.7.1): sort by
// weight descending (stable), floor(instances*w/Σw), then one extra to the
// first spreads until the total matches. No spreads ⇒ one "default" spread.
// A total weight of 0 (upstream divides by zero) is treated as equal weights.
func ComputeSpread(p model.SpreadScalerProperty) []SpreadTarget {
	if len(p.Spread) == 0 {
		return []SpreadTarget{{Spread: model.Spread{Name: model.DefaultSpreadName, Requirements: map[string]string{}}, Count: p.Instances}}
	}
	spreads := append([]model.Spread(nil), p.Spread...)
	sort.SliceStable(spreads, func(i, j int) bool { return spreads[i].EffectiveWeight() > spreads[j].EffectiveWeight() })
	weight := func(s *model.Spread) uint64 { return uint64(s.EffectiveWeight()) }
	var total uint64
	for i := range spreads {
		total += weight(&spreads[i])
	}
	if total == 0 {
		weight = func(*model.Spread) uint64 { return 1 }
		total = uint64(len(spreads))
	}
	out := make([]SpreadTarget, len(spreads))
	sum := 0
	for i := range spreads {
		hi, lo := bits.Mul64(uint64(p.Instances), weight(&spreads[i]))
		q, _ := bits.Div64(hi, lo, total)
		out[i] = SpreadTarget{Spread: spreads[i], Count: int(q)}
		sum += int(q)
	}
	for i := range out {
		if sum >= p.Instances {
			break
		}
		out[i].Count++
		sum++
	}
	return out
}

// matches reports whether a host satisfies every requirement.
func matches(h *HostState, req map[string]string) bool {
	for k, v := range req {
		if hv, ok := h.Labels[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// eligibleHosts returns the sorted ids of hosts matching the spread.
func eligibleHosts(s *LatticeState, sp *model.Spread) []string {
	var out []string
	for _, id := range s.sortedHostIDs() {
		if matches(s.Hosts[id], sp.Requirements) {
			out = append(out, id)
		}
	}
	return out
}

// ineligibleHosts returns the sorted ids of hosts matching no spread.
func ineligibleHosts(s *LatticeState, targets []SpreadTarget) []string {
	var out []string
	for _, id := range s.sortedHostIDs() {
		ok := false
		for i := range targets {
			if matches(s.Hosts[id], targets[i].Spread.Requirements) {
				ok = true
				break
			}
		}
		if !ok {
			out = append(out, id)
		}
	}
	return out
}

func failuresStatus(failures []string, n int, what string) model.StatusInfo {
	switch {
	case len(failures) > 0:
		return model.Failed(strings.Join(failures, " "))
	case n == 0:
		return model.Deployed("")
	default:
		return model.Reconciling(fmt.Sprintf("Scaling %s on %d host(s)", what, n))
	}
}

// ---- nested config and secret handling --------------------------------------

// ownedConfig is a config or secret a scaler needs (reference §4.11).
type ownedConfig struct {
	name string
	// data is nil for externally managed configs (never written or deleted).
	data map[string]string
}

func configsFor(app string, m *model.Manifest, configs []model.ConfigProperty, secrets []model.SecretProperty) []ownedConfig {
	var out []ownedConfig
	for i := range configs {
		c := &configs[i]
		oc := ownedConfig{name: model.ConfigName(app, c)}
		if c.HasProperties() {
			oc.data = copyMap(c.Properties)
		}
		out = append(out, oc)
	}
	for _, s := range secrets {
		out = append(out, ownedConfig{name: model.SecretConfigName(app, s.Name), data: SecretConfigData(m, s)})
	}
	return out
}

// SecretConfigData is the config map wadm stores for a secret reference.
func SecretConfigData(m *model.Manifest, s model.SecretProperty) map[string]string {
	out := map[string]string{
		"type": model.SecretConfigType,
		"name": s.Name,
		"key":  s.Properties.Key,
	}
	props := map[string]string{}
	if p := m.PolicyByName(s.Properties.Policy); p != nil {
		out["backend"] = p.Properties["backend"]
		for k, v := range p.Properties {
			if k != "backend" {
				props[k] = v
			}
		}
	}
	if s.Properties.Field != nil {
		out["field"] = *s.Properties.Field
	}
	if s.Properties.Version != nil {
		out["version"] = *s.Properties.Version
	}
	pol, _ := model.Marshal(map[string]any{"type": model.SecretPolicyPropType, "properties": props})
	out["policy"] = string(pol)
	return out
}

func reconcileConfigs(s *LatticeState, cfgs []ownedConfig) []Command {
	var out []Command
	for _, c := range cfgs {
		if c.data == nil {
			continue
		}
		cur, ok := s.Configs[c.name]
		if !ok || !sameMap(cur, c.data) {
			out = append(out, PutConfig{ConfigName: c.name, Config: copyMap(c.data)})
		}
	}
	return out
}

func cleanupConfigs(cfgs []ownedConfig) []Command {
	var out []Command
	for _, c := range cfgs {
		if c.data != nil {
			out = append(out, DeleteConfig{ConfigName: c.name})
		}
	}
	return out
}

// withConfigs applies the ordering rule: while any owned config needs
// writing, only the config commands are returned this round.
func withConfigs(s *LatticeState, cfgs []ownedConfig, cmds []Command, st model.StatusInfo) ([]Command, model.StatusInfo) {
	if cc := reconcileConfigs(s, cfgs); len(cc) > 0 {
		if st.Type == model.StatusDeployed {
			st = model.Reconciling("")
		}
		return cc, st
	}
	return cmds, st
}

// ---- what component and provider scalers share --------------------------------

// placement is what a component or provider scaler hands the pass they share: what it places
// (for status messages), the configs it owns, and how it clears hosts that match no spread.
// The placement rule itself (spread or daemon, component or provider) stays with the scaler.
type placement struct {
	noun             string // "component" or "provider"
	configs          []ownedConfig
	removeIneligible func(*LatticeState, []SpreadTarget) []Command
}

// rule computes the commands and status of one pass for the given targets.
type rule func(*LatticeState, []SpreadTarget) ([]Command, model.StatusInfo)

// reconcile is a whole pass: the placement, then the ordering rule of owned configs.
func (p placement) reconcile(s *LatticeState, targets []SpreadTarget, r rule) ([]Command, model.StatusInfo) {
	cmds, st := p.pass(s, targets, r)
	return withConfigs(s, p.configs, cmds, st)
}

// pass clears hosts that match no spread first (reference §4.7.3 step 1, §4.8) and does nothing
// else that round; otherwise the rule decides.
func (p placement) pass(s *LatticeState, targets []SpreadTarget, r rule) ([]Command, model.StatusInfo) {
	if rm := p.removeIneligible(s, targets); len(rm) > 0 {
		return rm, model.Reconciling("Found " + p.noun + "s running on ineligible hosts, removing them.")
	}
	return r(s, targets)
}

// cleanup runs the rule with every target at 0 instances, then deletes the owned configs.
func (p placement) cleanup(s *LatticeState, targets []SpreadTarget, r rule) []Command {
	for i := range targets {
		targets[i].Count = 0
	}
	cmds, _ := p.pass(s, targets, r)
	return append(cmds, cleanupConfigs(p.configs)...)
}

// daemonHosts calls place for each host eligible for each target, in target order, and
// returns the failure of every target no host is eligible for (reference §4.9).
func daemonHosts(s *LatticeState, targets []SpreadTarget, ref string, place func(host string, t SpreadTarget)) (failures []string) {
	for _, t := range targets {
		eligible := eligibleHosts(s, &t.Spread)
		if len(eligible) == 0 {
			failures = append(failures, fmt.Sprintf("Could not satisfy daemonscaler %s for %s, 0 eligible hosts found.", t.Spread.Name, ref))
			continue
		}
		for _, id := range eligible {
			place(id, t)
		}
	}
	return failures
}

// daemonSpreads lists spreads in manifest order (weights ignored).
func daemonSpreads(p model.SpreadScalerProperty) []SpreadTarget {
	if len(p.Spread) == 0 {
		return []SpreadTarget{{Spread: model.Spread{Name: model.DefaultSpreadName, Requirements: map[string]string{}}, Count: p.Instances}}
	}
	out := make([]SpreadTarget, len(p.Spread))
	for i, sp := range p.Spread {
		out[i] = SpreadTarget{Spread: sp, Count: p.Instances}
	}
	return out
}

// ---- link scaler -------------------------------------------------------------

// LinkScaler keeps one link in place.
type LinkScaler struct {
	id        string
	ModelName string
	Link      PutLink
	name      string
	configs   []ownedConfig
}

func (l *LinkScaler) ID() string   { return l.id }
func (l *LinkScaler) Kind() string { return model.KindLinkScaler }
func (l *LinkScaler) Name() string { return l.name }

// Reconcile puts the link unless one with the same source, target and name
// exists (namespace, package and config are not compared, like upstream).
func (l *LinkScaler) Reconcile(s *LatticeState) ([]Command, model.StatusInfo) {
	for _, have := range s.Links {
		if have.SourceID == l.Link.SourceID && have.Target == l.Link.Target && have.Name == l.Link.Name {
			return withConfigs(s, l.configs, nil, model.Deployed(""))
		}
	}
	put := l.Link
	put.Interfaces = append([]string{}, l.Link.Interfaces...)
	put.SourceConfig = append([]string{}, l.Link.SourceConfig...)
	put.TargetConfig = append([]string{}, l.Link.TargetConfig...)
	return withConfigs(s, l.configs, []Command{put},
		model.Reconciling(fmt.Sprintf("Putting link definition between %s and %s", l.Link.SourceID, l.Link.Target)))
}

// Cleanup deletes the link and the configs the link owns.
func (l *LinkScaler) Cleanup(*LatticeState) []Command {
	cmds := []Command{DeleteLink{SourceID: l.Link.SourceID, WitNamespace: l.Link.WitNamespace, WitPackage: l.Link.WitPackage,
		LinkName: l.Link.Name, ModelName: l.ModelName}}
	return append(cmds, cleanupConfigs(l.configs)...)
}

// ---- placeholder for invalid shared references -------------------------------

// StatusScaler reports a fixed failure (a component with neither or both of
// image and application) and never issues commands.
type StatusScaler struct {
	id, kind, name string
	status         model.StatusInfo
}

func (p *StatusScaler) ID() string                                            { return p.id }
func (p *StatusScaler) Kind() string                                          { return p.kind }
func (p *StatusScaler) Name() string                                          { return p.name }
func (p *StatusScaler) Reconcile(*LatticeState) ([]Command, model.StatusInfo) { return nil, p.status }
func (p *StatusScaler) Cleanup(*LatticeState) []Command                       { return nil }

// ---- building scalers from a manifest ----------------------------------------

// BuildScalers returns the scalers of a deployed manifest in manifest order:
// per component its scaler traits (or the implicit provider scaler), then its
// link traits. Trait types other than spreadscaler, daemonscaler and link, and
// mismatched shapes, are ignored.
func BuildScalers(m *model.Manifest) []Scaler {
	app := m.Metadata.Name
	var out []Scaler
	for i := range m.Spec.Components {
		c := &m.Spec.Components[i]
		p := &c.Properties
		if (p.Image == nil) == (p.Application == nil) {
			msg := "Application did not specify an image or shared application reference"
			if p.Image != nil {
				msg = "Application specified both an image and a shared application reference"
			}
			// Upstream uses a random UUID; a hash keeps ids stable.
			out = append(out, &StatusScaler{id: hashID("StatusScaler", app, c.Name), kind: model.KindSpreadScaler, name: c.Name, status: model.Failed(msg)})
			continue
		}
		modelName := app
		if p.Image == nil {
			modelName = p.Application.Name
		}
		id := model.ResolvedComponentID(app, c)
		ref := p.ImageRef()
		cfgNames := model.ConfigNames(app, p.Config, p.Secrets)
		owned := configsFor(app, m, p.Config, p.Secrets)
		hasScaler := false
		if p.Image != nil {
			for j := range c.Traits {
				t := &c.Traits[j]
				if !t.IsScaler() || t.Properties.Scaler == nil {
					continue
				}
				hasScaler = true
				out = append(out, newScaler(t.Type, c, modelName, id, ref, cfgNames, owned, *t.Properties.Scaler))
			}
			if !hasScaler && c.IsCapability() {
				out = append(out, newScaler(model.SpreadScalerTrait, c, modelName, id, ref, cfgNames, owned, model.SpreadScalerProperty{Instances: 1}))
			}
		}
		for j := range c.Traits {
			t := &c.Traits[j]
			if !t.IsLink() || t.Properties.Link == nil {
				continue
			}
			if ls := newLinkScaler(m, c, modelName, id, t.Properties.Link); ls != nil {
				out = append(out, ls)
			}
		}
	}
	linkSiblings(out)
	return out
}

// linkSiblings tells each component scaler of an app which other scalers
// manage the same component id.
func linkSiblings(scalers []Scaler) {
	byID := map[string][]*ComponentSpreadScaler{}
	for _, sc := range scalers {
		switch c := sc.(type) {
		case *ComponentSpreadScaler:
			byID[c.ComponentID] = append(byID[c.ComponentID], c)
		case *ComponentDaemonScaler:
			byID[c.ComponentID] = append(byID[c.ComponentID], &c.ComponentSpreadScaler)
		}
	}
	for _, group := range byID {
		for _, c := range group {
			c.siblings = map[string]bool{}
			for _, o := range group {
				if o != c {
					c.siblings[o.id] = true
				}
			}
		}
	}
}

func newScaler(traitType string, c *model.Component, modelName, id, ref string, cfgNames []string, owned []ownedConfig, prop model.SpreadScalerProperty) Scaler {
	kind := model.KindSpreadScaler
	if traitType == model.DaemonScalerTrait {
		kind = model.KindDaemonScaler
	}
	sid := ScalerIDForComponent(kind, modelName, c.Name, id, ref, cfgNames)
	if c.IsCapability() {
		ps := ProviderSpreadScaler{id: sid, ModelName: modelName, ComponentName: c.Name, ProviderID: id, Reference: ref,
			ConfigNames: cfgNames, Property: prop, configs: owned}
		if kind == model.KindDaemonScaler {
			return &ProviderDaemonScaler{ps}
		}
		return &ps
	}
	cs := ComponentSpreadScaler{id: sid, ModelName: modelName, ComponentName: c.Name, ComponentID: id, Reference: ref,
		ConfigNames: cfgNames, Property: prop, configs: owned}
	if kind == model.KindDaemonScaler {
		return &ComponentDaemonScaler{cs}
	}
	return &cs
}

func newLinkScaler(m *model.Manifest, src *model.Component, modelName, srcID string, l *model.LinkProperty) *LinkScaler {
	app := m.Metadata.Name
	target := m.ComponentByName(l.Target.Name)
	if target == nil || (src.IsCapability() && target.IsCapability()) {
		return nil
	}
	tgtID := model.ResolvedComponentID(app, target)
	var srcCfg, srcSec = []model.ConfigProperty(nil), []model.SecretProperty(nil)
	if l.Source != nil {
		srcCfg, srcSec = l.Source.Config, l.Source.Secrets
	}
	sourceNames := model.ConfigNames(app, srcCfg, srcSec)
	targetNames := model.ConfigNames(app, l.Target.Config, l.Target.Secrets)
	put := PutLink{SourceID: srcID, Target: tgtID, Name: l.LinkName(), WitNamespace: l.Namespace, WitPackage: l.Package,
		Interfaces: append([]string{}, l.Interfaces...), SourceConfig: sourceNames, TargetConfig: targetNames, ModelName: modelName}
	owned := append(configsFor(app, m, srcCfg, srcSec), configsFor(app, m, l.Target.Config, l.Target.Secrets)...)
	return &LinkScaler{
		id:        ScalerIDForLink(modelName, l.LinkName(), srcID, tgtID, l.Namespace, l.Package, l.Interfaces, sourceNames, targetNames),
		ModelName: modelName,
		Link:      put,
		name:      fmt.Sprintf("%s -(%s:%s)-> %s", srcID, l.Namespace, l.Package, tgtID),
		configs:   owned,
	}
}

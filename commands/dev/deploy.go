package dev

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wasmlattice/wash/commands/build"
	"github.com/wasmlattice/wash/internal/bounded"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/wadm/deploy"
	"github.com/wasmlattice/wash/lattice/wadm/model"
	"github.com/wasmlattice/wash/oci"
	"github.com/wasmlattice/wash/project"
	"github.com/wasmlattice/wash/runtime/wit"
)

// One round of the loop: build the project, then deploy or reload what it built (a
// component through its dev manifests, a provider from its archive).

func (s *session) buildAndDeploy(ctx context.Context, changedAt time.Time, ev *Event) error {
	s.env.IO.Progress("Building project...")
	// wasmcloud.toml may have changed too
	if cfg, err := project.Load(s.cfg.File); err == nil {
		s.cfg = cfg
	} else {
		return err
	}
	start := time.Now()
	res, err := build.Project(ctx, s.env, s.cfg, &build.Options{Signing: s.o.Signing})
	ev.BuildDur = time.Since(start)
	if err != nil {
		return fmt.Errorf("failed to build project: %w", err)
	}
	s.env.IO.Progress("%s Built %s in %s", s.env.IO.OK("✓"), res.Path, ev.BuildDur.Round(time.Millisecond))
	if s.isProvider() {
		return s.deployProvider(ctx, res.Path)
	}
	data, err := bounded.ReadFile(res.Path, project.MaxComponentSize)
	if err != nil {
		return err
	}
	world, err := wit.Decode(data)
	if err != nil {
		return fmt.Errorf("reading the WIT of %s: %w", res.Path, err)
	}
	imps, exps := world.InterfaceNames()
	deps, err := project.Dependencies(imps, exps, s.cfg.Dev)
	if err != nil {
		return fmt.Errorf("%s: %w", s.cfg.File, err)
	}
	ref, dc, apps, err := s.devBuild(res.Path)
	if err != nil {
		return err
	}
	if apps == nil {
		names := make([]string, 0, len(deps))
		for _, d := range deps {
			names = append(names, d.Name())
		}
		m := project.DevManifest(dc, deps)
		y, err := m.YAML()
		if err != nil {
			return err
		}
		apps = append(apps, devApp{name: m.Metadata.Name, yaml: y, addr: m.HTTPAddress(), deps: names})
	}
	if len(s.deployed) > 0 && sameApps(apps, s.deployed) {
		return s.reload(ctx, ref)
	}
	for _, a := range apps {
		if len(a.deps) > 0 {
			s.env.IO.Progress("Detected component dependencies: %s", strings.Join(a.deps, ", "))
		}
		if err := s.deploy(ctx, a); err != nil {
			return err
		}
		if a.addr != "" {
			s.env.IO.Progress("%s", s.env.IO.Bold("HTTP server: access your application at http://"+a.addr))
		}
	}
	s.deployed = apps
	return nil
}

// devBuild is the development build at path as the dev manifests see it: its file reference,
// the component (or provider) it stands for, and the [[dev.manifests]] rewritten to run it (nil
// when the project names none).
func (s *session) devBuild(path string) (string, project.DevComponent, []devApp, error) {
	ref, err := oci.FileRef(path)
	if err != nil {
		return "", project.DevComponent{}, nil, err
	}
	dc := project.DevComponent{Name: s.cfg.Name, ID: s.componentID, Image: ref, Session: s.id}
	apps, err := s.devManifests(dc)
	return ref, dc, apps, err
}

// devManifests are the [[dev.manifests]] of the project with the development build in place
// of their matching component or provider; nil when the project names none.
func (s *session) devManifests(dc project.DevComponent) ([]devApp, error) {
	var apps []devApp
	for _, target := range s.cfg.Dev.Manifests {
		p := target.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(s.cfg.ProjectDir, p)
		}
		data, err := bounded.ReadFile(p, deploy.MaxManifestSize)
		if err != nil {
			return nil, fmt.Errorf("dev.manifests: %w", err)
		}
		y, name, err := project.AugmentManifest(data, filepath.Dir(p), target, dc)
		if err != nil {
			return nil, fmt.Errorf("dev.manifests %s: %w", p, err)
		}
		apps = append(apps, devApp{name: name, yaml: y})
	}
	return apps, nil
}

// deployProvider deploys the provider archive the first time (or when the manifests
// changed), else restarts the running provider so that it runs the new build.
func (s *session) deployProvider(ctx context.Context, archive string) error {
	_, dc, apps, err := s.devBuild(archive)
	if err != nil {
		return err
	}
	if apps == nil {
		m := project.DevProviderManifest(dc)
		y, err := m.YAML()
		if err != nil {
			return err
		}
		apps = []devApp{{name: m.Metadata.Name, yaml: y}}
	}
	if len(s.deployed) > 0 && sameApps(apps, s.deployed) {
		return s.restartProvider(ctx)
	}
	for _, a := range apps {
		if err := s.deploy(ctx, a); err != nil {
			return err
		}
	}
	if len(s.deployed) == 0 && len(s.cfg.Dev.Manifests) == 0 { // a manifest brings its own links
		s.env.IO.Progress("Link components to provider %s with: wash link put COMPONENT_ID %s NAMESPACE PACKAGE --interface NAME", s.componentID, s.componentID)
	}
	s.deployed = apps
	return nil
}

// restartProvider stops the provider wherever it runs; wadm starts it again from the same
// file, which now holds the new build. It returns once a host reports the new start.
func (s *session) restartProvider(ctx context.Context) error {
	for len(s.providerWaiter) > 0 {
		<-s.providerWaiter
	}
	hosts, _ := s.ctl.PingHosts(ctx, ctl.GatherOptions{Timeout: time.Second})
	stopped := 0
	for _, h := range hosts {
		inv, err := s.ctl.GetHostInventory(ctx, h.ID)
		if err != nil || !runs(inv, s.componentID) {
			continue
		}
		resp, err := s.ctl.StopProvider(ctx, ctl.StopProviderCommand{HostID: h.ID, ProviderID: s.componentID})
		if err != nil {
			return fmt.Errorf("stopping provider %s on host %s: %w", s.componentID, h.ID, err)
		}
		if !resp.Success {
			return fmt.Errorf("stopping provider %s on host %s: %s", s.componentID, h.ID, resp.Message)
		}
		stopped++
	}
	if stopped == 0 {
		s.env.IO.Progress("Provider %s is not running anywhere; waiting for wadm to start the new build", s.componentID)
	}
	timeout := time.NewTimer(2 * time.Minute)
	defer timeout.Stop()
	select {
	case ev := <-s.providerWaiter:
		if ev.Err != "" {
			return fmt.Errorf("the host could not start the new build of provider %s: %s", s.componentID, ev.Err)
		}
		s.env.IO.Progress("%s Restarted provider %s with the new build", s.env.IO.OK("✓"), s.componentID)
		return nil
	case <-timeout.C:
		return fmt.Errorf("no host reported provider %s started again within 2 minutes (wash app status %s)", s.componentID, s.deployed[0].name)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// devApp is one application wash dev deployed.
type devApp struct {
	name string
	yaml []byte
	addr string
	deps []string
}

func sameApps(a, b []devApp) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].name != b[i].name || !bytes.Equal(a[i].yaml, b[i].yaml) {
			return false
		}
	}
	return true
}

func (s *session) deploy(ctx context.Context, a devApp) error {
	name, y := a.name, a.yaml
	if s.o.ManifestOutputDir != "" {
		p := filepath.Join(s.o.ManifestOutputDir, name+".yaml")
		if err := project.WriteAtomic(p, y); err != nil {
			return fmt.Errorf("writing the manifest: %w", err)
		}
		s.env.IO.Progress("Wrote the manifest to %s", p)
	}
	put, err := s.wadm.Put(ctx, y, "application/yaml")
	if err != nil {
		return fmt.Errorf("storing application %s: %w", name, err)
	}
	updates := make(chan model.Status, 64)
	stopWatch, err := s.wadm.WatchStatus(name, func(st model.Status) {
		select {
		case updates <- st:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer stopWatch()
	if _, err := s.wadm.Deploy(ctx, name, put.CurrentVersion); err != nil {
		return fmt.Errorf("deploying application %s: %w", name, err)
	}
	if !slices.Contains(s.appNames, name) {
		s.appNames = append(s.appNames, name)
	}
	if _, err := deploy.WaitDeployed(ctx, s.wadm, name, put.CurrentVersion, updates, 2*time.Minute); err != nil {
		return fmt.Errorf("application %s: %w", name, err)
	}
	s.env.IO.Progress("%s Deployed application %s (%s %s)", s.env.IO.OK("✓"), name, s.cfg.Type, s.componentID)
	return nil
}

// reload swaps the running component to the new build in place: the host loads the file again
// under a new reference (the build number is a query the host ignores), so requests keep being
// served by the old code until the new code is ready.
func (s *session) reload(ctx context.Context, ref string) error {
	newRef := ref + "?build=" + strconv.Itoa(s.builds)
	for len(s.reloadWaiter) > 0 {
		<-s.reloadWaiter
	}
	hostID := s.hostID
	if inv, err := s.ctl.GetHostInventory(ctx, hostID); err != nil || !hasComponent(inv, s.componentID) {
		// the component may have moved (another host) or not be running: ask every host
		hosts, _ := s.ctl.PingHosts(ctx, ctl.GatherOptions{Timeout: time.Second})
		for _, h := range hosts {
			if inv, err := s.ctl.GetHostInventory(ctx, h.ID); err == nil && hasComponent(inv, s.componentID) {
				hostID = h.ID
				break
			}
		}
	}
	resp, err := s.ctl.UpdateComponent(ctx, ctl.UpdateComponentCommand{ComponentID: s.componentID, HostID: hostID, NewComponentRef: newRef})
	if err != nil {
		return fmt.Errorf("reloading component %s: %w", s.componentID, err)
	}
	if !resp.Success {
		return fmt.Errorf("reloading component %s: %s", s.componentID, resp.Message)
	}
	timeout := time.NewTimer(2 * time.Minute)
	defer timeout.Stop()
	for {
		select {
		case d := <-s.reloadWaiter:
			if msg := d.Annotations["error"]; msg != "" && d.ImageRef == newRef {
				return fmt.Errorf("the host could not load the new build: %s", msg)
			}
			if d.ImageRef == newRef {
				s.env.IO.Progress("%s Reloaded component %s", s.env.IO.OK("✓"), s.componentID)
				return nil
			}
		case <-timeout.C:
			return fmt.Errorf("the host did not report the reloaded component %s within 2 minutes", s.componentID)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func hasComponent(inv *ctl.HostInventory, id string) bool {
	return inv != nil && slices.ContainsFunc(inv.Components, func(c ctl.ComponentDescription) bool { return c.ID == id })
}

// runs says whether the host runs the component or provider id.
func runs(inv *ctl.HostInventory, id string) bool {
	return hasComponent(inv, id) || inv != nil && slices.ContainsFunc(inv.Providers, func(p ctl.ProviderDescription) bool { return p.ID == id })
}

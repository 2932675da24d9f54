package ui

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/buckets"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// AppSpecAnnotation names the app that owns a component or provider (set by wadm).
const AppSpecAnnotation = "wasmcloud.dev/appspec"

// Snapshot is what the page renders: the whole lattice as the server last saw it.
type Snapshot struct {
	Lattice   string    `json:"lattice"`
	ServerURL string    `json:"server_url"`
	Connected bool      `json:"connected"`
	Updated   time.Time `json:"updated"`
	Hosts     []Host    `json:"hosts"`
	HostsErr  string    `json:"hosts_error,omitempty"`
	Apps      []App     `json:"apps"`
	AppsErr   string    `json:"apps_error,omitempty"`
	Links     []Link    `json:"links"`
	LinksErr  string    `json:"links_error,omitempty"`
	Config    []string  `json:"config"`
}

// Host is one host with what runs on it.
type Host struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Version       string            `json:"version"`
	UptimeSeconds uint64            `json:"uptime_seconds"`
	Labels        map[string]string `json:"labels"`
	Components    []Workload        `json:"components"`
	Providers     []Workload        `json:"providers"`
}

// Workload is a component or provider on a host.
type Workload struct {
	ID           string `json:"id"`
	Name         string `json:"name,omitempty"`
	ImageRef     string `json:"image_ref"`
	MaxInstances uint32 `json:"max_instances,omitempty"`
	App          string `json:"app,omitempty"`
}

// App is one wadm application with its per-scaler status.
type App struct {
	Name            string   `json:"name"`
	Version         string   `json:"version"`
	DeployedVersion string   `json:"deployed_version,omitempty"`
	Description     string   `json:"description,omitempty"`
	Status          string   `json:"status"`
	Message         string   `json:"message,omitempty"`
	Scalers         []Scaler `json:"scalers"`
}

// Scaler is one scaler of an app's status.
type Scaler struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
}

// Link is a link as the control interface reports it.
type Link struct {
	Source       string   `json:"source"`
	Target       string   `json:"target"`
	Name         string   `json:"name"`
	WIT          string   `json:"wit"`
	Interfaces   []string `json:"interfaces"`
	SourceConfig []string `json:"source_config"`
	TargetConfig []string `json:"target_config"`
}

// FeedItem is one entry of the live event feed.
type FeedItem struct {
	Seq     int       `json:"seq"`
	Time    time.Time `json:"time"`
	Name    string    `json:"name"`
	Source  string    `json:"source"`
	Summary string    `json:"summary"`
}

// fetcher reads the lattice's state through the control interface, the CONFIGDATA bucket and
// the wadm API.
type fetcher struct {
	nc       *nats.Conn
	ctl      *ctl.Client
	wadm     *wadmclient.Client
	lattice  string
	jsDomain string
	timeout  time.Duration
}

// fetch builds a snapshot, asking hosts, links, config and wadm in parallel.
func (f *fetcher) fetch(ctx context.Context) Snapshot {
	ctx, cancel := context.WithTimeout(ctx, f.timeout+time.Second)
	defer cancel()
	sn := Snapshot{Lattice: f.lattice, Connected: f.nc.IsConnected(), Updated: time.Now(),
		Hosts: []Host{}, Apps: []App{}, Links: []Link{}, Config: []string{}}
	var wg sync.WaitGroup
	wg.Add(4)
	go func() {
		defer wg.Done()
		hosts, err := f.ctl.PingHosts(ctx, ctl.GatherOptions{})
		if err != nil && len(hosts) == 0 {
			if err != ctl.ErrNoResponders {
				sn.HostsErr = err.Error()
			}
			return
		}
		out := make([]Host, len(hosts))
		var iwg sync.WaitGroup
		for i, h := range hosts {
			out[i] = Host{ID: h.ID, Name: h.FriendlyName, Version: h.Version, UptimeSeconds: h.UptimeSeconds,
				Labels: h.Labels, Components: []Workload{}, Providers: []Workload{}}
			iwg.Add(1)
			go func(i int) {
				defer iwg.Done()
				inv, err := f.ctl.GetHostInventory(ctx, out[i].ID)
				if err != nil {
					return
				}
				for _, c := range inv.Components {
					out[i].Components = append(out[i].Components, Workload{ID: c.ID, Name: c.Name, ImageRef: c.ImageRef,
						MaxInstances: c.MaxInstances, App: c.Annotations[AppSpecAnnotation]})
				}
				for _, p := range inv.Providers {
					out[i].Providers = append(out[i].Providers, Workload{ID: p.ID, Name: p.Name, ImageRef: p.ImageRef,
						App: p.Annotations[AppSpecAnnotation]})
				}
			}(i)
		}
		iwg.Wait()
		sort.Slice(out, func(i, j int) bool {
			if out[i].Name != out[j].Name {
				return out[i].Name < out[j].Name
			}
			return out[i].ID < out[j].ID
		})
		sn.Hosts = out
	}()
	go func() {
		defer wg.Done()
		links, err := f.ctl.GetLinks(ctx)
		if err != nil {
			if err != ctl.ErrNoResponders {
				sn.LinksErr = err.Error()
			}
			return
		}
		for _, l := range links {
			l = l.Normalized()
			sn.Links = append(sn.Links, Link{Source: l.SourceID, Target: l.Target, Name: l.Name,
				WIT: l.WitNamespace + ":" + l.WitPackage, Interfaces: l.Interfaces,
				SourceConfig: nonNil(l.SourceConfig), TargetConfig: nonNil(l.TargetConfig)})
		}
		sort.Slice(sn.Links, func(i, j int) bool {
			a, b := sn.Links[i], sn.Links[j]
			return a.Source+"\x00"+a.WIT+"\x00"+a.Name < b.Source+"\x00"+b.WIT+"\x00"+b.Name
		})
	}()
	go func() {
		defer wg.Done()
		apps, err := f.wadm.List(ctx)
		if err != nil {
			sn.AppsErr = oneLine(err.Error())
			return
		}
		for _, a := range apps {
			sn.Apps = append(sn.Apps, appOf(a))
		}
		sort.Slice(sn.Apps, func(i, j int) bool { return sn.Apps[i].Name < sn.Apps[j].Name })
	}()
	go func() {
		defer wg.Done()
		sn.Config = buckets.ConfigNames(ctx, f.nc, f.jsDomain, f.lattice)
	}()
	wg.Wait()
	return sn
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func appOf(a model.ModelSummary) App {
	out := App{Name: a.Name, Version: a.Version, Scalers: []Scaler{}}
	if a.DeployedVersion != nil {
		out.DeployedVersion = *a.DeployedVersion
	}
	if a.Description != nil {
		out.Description = *a.Description
	}
	out.setStatus(a.DetailedStatus)
	return out
}

func (a *App) setStatus(st model.Status) {
	a.Status, a.Message = string(st.Info.Type), st.Info.Message
	if a.Status == "" {
		a.Status = string(model.StatusUndeployed)
	}
	a.Scalers = []Scaler{}
	for _, s := range st.Scalers {
		a.Scalers = append(a.Scalers, Scaler{ID: s.ID, Kind: s.Kind, Name: s.Name, Status: string(s.Status.Type), Message: s.Status.Message})
	}
}

// feedItem turns a lattice or wadm event into a feed entry.
func feedItem(e events.Event, seq int) FeedItem {
	t := e.ParsedTime()
	if t.IsZero() {
		t = time.Now()
	}
	return FeedItem{Seq: seq, Time: t, Name: e.ShortName(), Source: e.Source, Summary: events.Summary(e)}
}

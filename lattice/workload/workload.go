// Package workload places, starts, scales, updates and stops workloads (components and
// providers) on the hosts of a lattice: it chooses a host (by id or by auction), finds where an
// id runs (the inventory fan-out), sends the control command and waits for the lattice event
// that ends the operation (component_scaled, provider_started, host_stopped …).
//
// It is what `wash start|stop|scale|update` and `wash call` do, without flags or printing: the
// commands turn flags into these requests and print what comes back.
package workload

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/ctl"
)

// Session is a control-interface client with the connection its events arrive on.
type Session struct {
	Client *ctl.Client
	NC     *nats.Conn
	// Progress, when set, receives what a host says in its reply to a request (for example
	// that the component already runs).
	Progress func(format string, args ...any)
}

// Lattice is the lattice name.
func (s *Session) Lattice() string { return s.Client.Lattice() }

func (s *Session) progress(format string, args ...any) {
	if s.Progress != nil {
		s.Progress(format, args...)
	}
}

// FindHost resolves a host id, unique id prefix or friendly name through host.ping.
func (s *Session) FindHost(ctx context.Context, query string) (ctl.Host, error) {
	hosts, err := s.Client.PingHosts(ctx, ctl.GatherOptions{})
	if err != nil {
		return ctl.Host{}, err
	}
	return ctl.ResolveHost(hosts, query, s.Lattice())
}

// Auction says where a new component or provider may go.
type Auction struct {
	// HostID picks the host (id, prefix or friendly name); empty holds an auction.
	HostID string
	// Constraints are labels the host must carry.
	Constraints map[string]string
	// Timeout bounds the collection of bids.
	Timeout time.Duration
}

// ChooseHost returns the host for a new component or provider (kind "component" or
// "provider"): a.HostID when given (its labels must satisfy the constraints), otherwise the
// first bidder of an auction.
func (s *Session) ChooseHost(ctx context.Context, a Auction, kind, ref, id string) (ctl.Host, error) {
	if a.HostID != "" {
		h, err := s.FindHost(ctx, a.HostID)
		if err != nil {
			return h, err
		}
		for k, v := range a.Constraints {
			if h.Labels[k] != v {
				return h, fmt.Errorf("host %s (%s) does not satisfy --constraint %s=%s (its value is %q)", h.FriendlyName, h.ID, k, v, h.Labels[k])
			}
		}
		return h, nil
	}
	// Ping first (it returns as soon as the hosts have answered): with no host whose labels
	// satisfy the constraints there is no point waiting out an auction nobody will bid in, and
	// with some, the auction can end once each of them bid.
	hosts, err := s.Client.PingHosts(ctx, ctl.GatherOptions{})
	if err != nil {
		return ctl.Host{}, err
	}
	candidates := matching(hosts, a.Constraints)
	if len(candidates) == 0 {
		return ctl.Host{}, s.noBidderError(hosts, kind, id, a.Constraints)
	}
	opts := ctl.GatherOptions{Timeout: a.Timeout, Expect: len(candidates)}
	var bidders []string
	if kind == "provider" {
		acks, err := s.Client.AuctionProvider(ctx, ctl.ProviderAuctionRequest{ProviderRef: ref, ProviderID: id, Constraints: a.Constraints}, opts)
		if err != nil {
			return ctl.Host{}, err
		}
		for _, a := range acks {
			bidders = append(bidders, a.HostID)
		}
	} else {
		acks, err := s.Client.AuctionComponent(ctx, ctl.ComponentAuctionRequest{ComponentRef: ref, ComponentID: id, Constraints: a.Constraints}, opts)
		if err != nil {
			return ctl.Host{}, err
		}
		for _, a := range acks {
			bidders = append(bidders, a.HostID)
		}
	}
	if len(bidders) == 0 {
		return ctl.Host{}, s.noBidderError(hosts, kind, id, a.Constraints)
	}
	h := ctl.Host{ID: bidders[0]}
	for _, x := range hosts {
		if x.ID == h.ID {
			h = x
		}
	}
	return h, nil
}

// matching returns the hosts whose labels satisfy every constraint.
func matching(hosts []ctl.Host, constraints map[string]string) []ctl.Host {
	var out []ctl.Host
	for _, h := range hosts {
		ok := true
		for k, v := range constraints {
			if got, has := h.Labels[k]; !has || got != v {
				ok = false
			}
		}
		if ok {
			out = append(out, h)
		}
	}
	return out
}

// noBidderError explains an empty auction: no hosts at all, no host with the labels, or the id
// already runs on every matching host.
func (s *Session) noBidderError(hosts []ctl.Host, kind, id string, constraints map[string]string) error {
	if len(hosts) == 0 {
		return fmt.Errorf("no hosts in lattice %q: start one with `wash up`", s.Lattice())
	}
	n := len(matching(hosts, constraints))
	if n == 0 {
		return fmt.Errorf("no host in lattice %q matches the constraints %s (%d host(s) checked; see their labels with `wash get hosts`)", s.Lattice(), kvString(constraints), len(hosts))
	}
	if len(constraints) == 0 {
		where := fmt.Sprintf("all %d hosts", len(hosts))
		if len(hosts) == 1 {
			where = "the only host"
		}
		return fmt.Errorf("no host in lattice %q bid for %s %s: it already runs on %s; use `wash scale` to change it", s.Lattice(), kind, id, where)
	}
	return fmt.Errorf("no host in lattice %q bid for %s %s: it already runs on every host matching %s", s.Lattice(), kind, id, kvString(constraints))
}

func kvString(m map[string]string) string { return strings.Join(ctl.Pairs(m, nil), ",") }

// Running describes one host on which a component or provider runs.
type Running struct {
	HostID       string
	FriendlyName string
	ImageRef     string
	MaxInstances uint32
	Annotations  map[string]string
}

// FindRunning lists the hosts where a component (or provider) id runs, limited to the host
// hostQuery names when it is not empty.
func (s *Session) FindRunning(ctx context.Context, kind, id, hostQuery string) ([]Running, error) {
	hostID := ""
	if hostQuery != "" {
		h, err := s.FindHost(ctx, hostQuery)
		if err != nil {
			return nil, err
		}
		hostID = h.ID
	}
	invs, err := s.Client.Inventories(ctx, hostID)
	if err != nil {
		return nil, err
	}
	var out []Running
	for _, inv := range invs {
		if kind == "provider" {
			for _, p := range inv.Providers {
				if p.ID == id {
					out = append(out, Running{HostID: inv.HostID, FriendlyName: inv.FriendlyName, ImageRef: p.ImageRef, Annotations: p.Annotations})
				}
			}
			continue
		}
		for _, c := range inv.Components {
			if c.ID == id {
				out = append(out, Running{HostID: inv.HostID, FriendlyName: inv.FriendlyName, ImageRef: c.ImageRef, MaxInstances: c.MaxInstances, Annotations: c.Annotations})
			}
		}
	}
	return out, nil
}

// NotRunningError says where the id was looked for.
func (s *Session) NotRunningError(kind, id, hostQuery string) error {
	if hostQuery != "" {
		return fmt.Errorf("%s %s is not running on host %s in lattice %q (see `wash get inventory`)", kind, id, hostQuery, s.Lattice())
	}
	return fmt.Errorf("%s %s is not running in lattice %q (see `wash get inventory`)", kind, id, s.Lattice())
}

// HostLabel is "friendly-name (NABC…)" or the bare id.
func HostLabel(h ctl.Host) string {
	if h.FriendlyName == "" {
		return h.ID
	}
	return h.FriendlyName + " (" + h.ID + ")"
}

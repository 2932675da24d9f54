package host

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
)

// subscribe wires the control subjects with upstream's delivery modes: per-host subjects end in
// this host's id, ping/auctions/registry go to every host, and link/claims/config are queue
// groups so exactly one host in the lattice answers.
func (h *Host) subscribe() error {
	base := h.subjects.Base()
	plain := []string{
		base + ".host.ping",
		base + ".*.*." + h.id,
		base + ".component.auction",
		base + ".provider.auction",
		base + ".registry.put",
	}
	for _, s := range plain {
		sub, err := h.nc.Subscribe(s, h.onMessage)
		if err != nil {
			return fmt.Errorf("subscribing to %s: %w", s, err)
		}
		h.subs = append(h.subs, sub)
	}
	queues := map[string]string{
		base + ".link.*":     base + ".link",
		base + ".claims.get": base + ".claims",
		base + ".config.*.*": base + ".config",
	}
	for s, q := range queues {
		sub, err := h.nc.QueueSubscribe(s, q, h.onMessage)
		if err != nil {
			return fmt.Errorf("subscribing to %s: %w", s, err)
		}
		h.subs = append(h.subs, sub)
	}
	return nil
}

// onMessage handles each control message on its own goroutine, as the upstream host does.
func (h *Host) onMessage(m *nats.Msg) {
	select {
	case <-h.stopping:
		return
	default:
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		ctx, end := h.ctlSpan(m)
		resp, reply := h.dispatch(ctx, m)
		end(resp)
		if !reply || m.Reply == "" {
			return
		}
		b, err := ctl.Marshal(resp)
		if err != nil {
			b = []byte(`{"success":false,"message":"failed to serialize response"}`)
		}
		_ = h.nc.Publish(m.Reply, b)
	}()
}

// dispatch routes a control subject. The second result is false when upstream sends no reply
// (an auction this host does not bid on).
func (h *Host) dispatch(ctx context.Context, m *nats.Msg) (ctl.Response, bool) {
	rest := strings.TrimPrefix(m.Subject, h.subjects.Base()+".")
	tokens := strings.Split(rest, ".")
	if len(tokens) < 2 || len(tokens) > 3 {
		return ctl.Fail("unsupported subject"), true
	}
	op := tokens[0] + "." + tokens[1]
	arg := ""
	if len(tokens) == 3 {
		arg = tokens[2]
	}
	if err := checkRequestNames(op, arg, m.Data); err != nil {
		return ctl.Fail(err.Error()), true
	}
	switch {
	case op == "host.ping" && arg == "":
		return ctl.OK(h.Describe()), true
	case op == "host.get" && arg == h.id:
		return ctl.OK(h.Inventory()), true
	case op == "host.stop" && arg == h.id:
		return h.handleStopHost(m.Data), true
	case op == "component.auction" && arg == "":
		return h.handleComponentAuction(m.Data)
	case op == "provider.auction" && arg == "":
		return h.handleProviderAuction(m.Data)
	case op == "component.scale" && arg == h.id:
		return h.handleScaleComponent(m.Data), true
	case op == "component.update" && arg == h.id:
		return h.handleUpdateComponent(m.Data), true
	case op == "provider.start" && arg == h.id:
		return h.handleStartProvider(m.Data)
	case op == "provider.stop" && arg == h.id:
		return h.handleStopProvider(ctx, m.Data), true
	case op == "label.put" && arg == h.id:
		return h.handlePutLabel(m.Data), true
	case op == "label.del" && arg == h.id:
		return h.handleDeleteLabel(m.Data), true
	case op == "link.put" && arg == "":
		return h.handlePutLink(ctx, m.Data), true
	case op == "link.del" && arg == "":
		return h.handleDeleteLink(ctx, m.Data), true
	case op == "link.get" && arg == "":
		return ctl.OK(h.allLinks()), true
	case op == "claims.get" && arg == "":
		return ctl.OK(h.allClaims()), true
	case op == "config.put" && arg != "":
		return h.handlePutConfig(ctx, arg, m.Data), true
	case op == "config.get" && arg != "":
		return h.handleGetConfig(ctx, arg), true
	case op == "config.del" && arg != "":
		return h.handleDeleteConfig(ctx, arg), true
	case op == "registry.put" && arg == "":
		return h.handlePutRegistries(m.Data), true
	}
	return ctl.Fail("unsupported subject"), true
}

// nameFields are the request fields whose values end up in subjects and KV keys, with the
// word an error uses for each.
var nameFields = map[string]string{
	"component_id": "component id", "provider_id": "provider id", "source_id": "link source id",
	"target": "link target", "name": "link name", "link_name": "link name", "host_id": "host id",
	"source_config": "config name", "target_config": "config name", "config": "config name",
}

// checkRequestNames refuses a request naming something longer than ctl.MaxNameLength before
// any handler uses the name: the host would otherwise publish a subject past the server's
// max_control_line, and the server closes the connection of whoever does that.
func checkRequestNames(op, arg string, data []byte) error {
	if arg != "" && strings.HasPrefix(op, "config.") {
		if err := ctl.CheckName("config name", arg); err != nil {
			return err
		}
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(data, &fields) != nil {
		return nil // not an object: the handler reports its own decoding error
	}
	for key, kind := range nameFields {
		raw, ok := fields[key]
		if !ok {
			continue
		}
		var one string
		var many []string
		switch {
		case json.Unmarshal(raw, &one) == nil:
			many = []string{one}
		case json.Unmarshal(raw, &many) == nil:
		}
		for _, v := range many {
			if v == "" {
				continue // required fields are the handlers' business
			}
			if err := ctl.CheckName(kind, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// decode parses a body; an empty body decodes as {} so defaulted requests work.
func decode(data []byte, v any) error {
	if len(strings.TrimSpace(string(data))) == 0 {
		data = []byte("{}")
	}
	return json.Unmarshal(data, v)
}

func (h *Host) handleStopHost(data []byte) ctl.Response {
	var cmd ctl.StopHostCommand
	if len(data) > 0 {
		if err := decode(data, &cmd); err != nil {
			return ctl.Fail("failed to deserialize stop command")
		}
	}
	if cmd.HostID != "" && cmd.HostID != h.id {
		return ctl.Fail(fmt.Sprintf("invalid host_id [%s]", cmd.HostID))
	}
	timeout := h.cfg.DefaultStopTimeout
	if cmd.Timeout != nil {
		timeout = msDuration(*cmd.Timeout)
	}
	// Stop after the reply is on its way.
	go h.Stop(context.Background(), timeout)
	return ctl.Success("successfully handled stop host")
}

// matchesConstraints reports whether every constraint equals a label of this host.
func (h *Host) matchesConstraints(constraints map[string]string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for k, v := range constraints {
		if h.labels[k] != v {
			return false
		}
	}
	return true
}

// auctionBid decides whether this host bids in an auction: it does not run the id yet and its
// labels meet the constraints. The ack echoes the constraints, as {} rather than null.
func (h *Host) auctionBid(running bool, constraints map[string]string) (map[string]string, bool) {
	if running || !h.matchesConstraints(constraints) {
		return nil, false
	}
	if constraints == nil {
		constraints = map[string]string{}
	}
	return constraints, true
}

func (h *Host) handleComponentAuction(data []byte) (ctl.Response, bool) {
	var req ctl.ComponentAuctionRequest
	if err := decode(data, &req); err != nil || req.ComponentID == "" {
		return ctl.Fail("failed to deserialize component auction command"), true
	}
	h.mu.RLock()
	_, running := h.components[req.ComponentID]
	h.mu.RUnlock()
	constraints, bid := h.auctionBid(running, req.Constraints)
	if !bid {
		return ctl.Response{}, false
	}
	return ctl.OK(ctl.ComponentAuctionAck{ComponentRef: req.ComponentRef, ComponentID: req.ComponentID, HostID: h.id, Constraints: constraints}), true
}

func (h *Host) handleProviderAuction(data []byte) (ctl.Response, bool) {
	var req ctl.ProviderAuctionRequest
	if err := decode(data, &req); err != nil || req.ProviderID == "" {
		return ctl.Fail("failed to deserialize provider auction command"), true
	}
	h.mu.RLock()
	_, running := h.providers[req.ProviderID]
	h.mu.RUnlock()
	constraints, bid := h.auctionBid(running, req.Constraints)
	if !bid {
		return ctl.Response{}, false
	}
	return ctl.OK(ctl.ProviderAuctionAck{HostID: h.id, ProviderRef: req.ProviderRef, ProviderID: req.ProviderID, Constraints: constraints}), true
}

func (h *Host) handlePutLabel(data []byte) ctl.Response {
	var l ctl.HostLabel
	if err := decode(data, &l); err != nil {
		return ctl.Fail("failed to deserialize put label request")
	}
	if strings.HasPrefix(strings.ToLower(l.Key), "hostcore.") {
		return ctl.Fail("hostcore.* labels cannot be set dynamically")
	}
	if strings.TrimSpace(l.Key) == "" {
		return ctl.Fail("label key must not be empty")
	}
	h.mu.Lock()
	h.labels[l.Key] = l.Value
	h.mu.Unlock()
	h.publish(events.LabelsChanged, events.LabelsChangedData{HostID: h.id, Labels: h.labelsCopy()})
	return ctl.Success("successfully put label")
}

func (h *Host) handleDeleteLabel(data []byte) ctl.Response {
	var l ctl.HostLabelIdentifier
	if err := decode(data, &l); err != nil {
		return ctl.Fail("failed to deserialize delete label request")
	}
	h.mu.Lock()
	_, ok := h.labels[l.Key]
	delete(h.labels, l.Key)
	h.mu.Unlock()
	if !ok {
		return ctl.Success("successfully deleted label (no such label)")
	}
	h.publish(events.LabelsChanged, events.LabelsChangedData{HostID: h.id, Labels: h.labelsCopy()})
	return ctl.Success("successfully deleted label")
}

func (h *Host) handlePutRegistries(data []byte) ctl.Response {
	var creds map[string]ctl.RegistryCredential
	if err := decode(data, &creds); err != nil {
		return ctl.Fail("failed to deserialize registry put request")
	}
	h.mu.Lock()
	for reg, c := range creds {
		h.registries[reg] = c
	}
	h.mu.Unlock()
	// Pulls must use the new credentials, not a Basic header or token cached from the old ones.
	h.ociClient.ResetAuth()
	return ctl.Success("successfully put registries")
}

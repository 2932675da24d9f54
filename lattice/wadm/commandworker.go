package wadm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/wasmlattice/wash/lattice/ctl"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// The command worker: wadm's planned commands leave through the command stream and are
// carried out here, each checked against the host it names before it is sent.

// recheckHeader marks a command its scaler re-planned (StepResult.Recheck).
const recheckHeader = "Wash-Wadm-Recheck"

// publishCommand publishes a command, retrying while the command stream
// does not answer (its leader moved). The state that expects the command's
// effect is saved already: handling the event again would not plan it a
// second time, so giving up early would lose it until its expectation timed
// out. The message id (the event's id and the command's place) lets the
// stream drop a copy whose first publication landed but was not answered.
func (lw *latticeWorker) publishCommand(ctx context.Context, msg *nats.Msg, id string) error {
	delay := 100 * time.Millisecond
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := lw.w.js.PublishMsg(ctx, msg, jetstream.WithMsgID(id))
		if err == nil || isBenign(err) || time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("publishing command: %w", err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// confirmOrphans keeps the orphan cleanups whose app wadm_manifests says is
// not deployed: the active manifests in wadm_state may lag behind (a wadm
// starting on a fresh state bucket, a deploy a real wadm made).
func (lw *latticeWorker) confirmOrphans(ctx context.Context, cmds []Command) []Command {
	var out []Command
	store := manifestStore{lw.w.objs.manifests}
	for _, c := range cmds {
		app := ""
		switch c := c.(type) {
		case ScaleComponent:
			app = c.ModelName
		case StopProvider:
			app = c.ModelName
		}
		if sm, _, err := store.get(ctx, lw.lattice, app); err == nil && (sm == nil || sm.Deployed == nil) {
			lw.log.Debug("wadm: removing what an undeployed app left on a returning host", "lattice", lw.lattice, "app", app, "command", c.CommandName())
			out = append(out, c)
		}
	}
	return out
}

func (lw *latticeWorker) handleCommand(ctx context.Context, m jetstream.Msg) {
	cmd, err := UnmarshalCommand(m.Data())
	if err != nil {
		_ = m.Term()
		return
	}
	defer keepAlive(m)()
	if !lw.w.acquire(ctx) {
		return
	}
	defer lw.w.release()
	ctx, span := lw.w.tracer.Start(ctx, "wadm.command", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("wadm.lattice", lw.lattice), attribute.String("wadm.command", cmd.CommandName())))
	defer span.End()
	// A redelivered command may have been carried out by a process that
	// died before acking it, and a command that waited long may have been
	// overtaken by a newer one: skip it when the host already shows its
	// effect.
	// So is a command re-planned after its expected events did not come in time: they may
	// only be late.
	recheck := m.Headers().Get(recheckHeader) != ""
	if md, merr := m.Metadata(); merr == nil && (recheck || md.NumDelivered > 1 || time.Since(md.Timestamp) > staleCommand) {
		if done, inv := lw.alreadyDone(ctx, cmd); done {
			span.SetAttributes(attribute.Bool("wadm.already_done", true))
			if recheck {
				// The events that tell the state are late; the inventory tells it now.
				lw.publishWadmEvent(ctx, EventHostInventory, EventTypeHostInventory, inv)
			}
			_ = m.Ack()
			return
		}
	}
	if err := lw.execute(ctx, cmd); err != nil {
		span.SetStatus(codes.Error, err.Error())
		if hostID := commandHost(cmd); hostID != "" && (errors.Is(err, ctl.ErrNoResponders) || !lw.hostKnown(ctx, hostID)) {
			// The host is gone (or died while answering, and wadm already
			// removed it): retrying cannot help and holds up the commands
			// behind this one; its scalers re-plan once it is reported gone.
			lw.log.Debug("wadm: command for a vanished host dropped", "lattice", lw.lattice, "command", cmd.CommandName(), "host", hostID)
			_ = m.Term()
			lw.hostsMayBeGone()
			return
		}
		if !isBenign(err) {
			lw.log.Warn("wadm: command failed", "lattice", lw.lattice, "command", cmd.CommandName(), "err", err)
		}
		_ = m.NakWithDelay(retryDelay(m, 500*time.Millisecond))
		return
	}
	_ = m.Ack()
}

// commandsQueued reports whether commands of the lattice wait in the
// command stream or are being carried out.
func (lw *latticeWorker) commandsQueued(ctx context.Context) bool {
	if lw.cmdCons == nil {
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ci, err := lw.cmdCons.Info(cctx)
	if err != nil {
		return true // unknown: keep waiting, the next tick asks again
	}
	return ci.NumPending > 0 || ci.NumAckPending > 0
}

// hostKnown reports whether the lattice state still lists a host (true when
// the state cannot be read).
func (lw *latticeWorker) hostKnown(ctx context.Context, hostID string) bool {
	hosts := map[string]HostRecord{}
	if _, err := lw.load(ctx, HostStateKey(lw.lattice), &hosts); err != nil {
		return true
	}
	_, ok := hosts[hostID]
	return ok
}

// commandHost is the host a command is addressed to ("" for lattice-wide
// ones such as links and config).
func commandHost(c Command) string {
	switch c := deref(c).(type) {
	case ScaleComponent:
		return c.HostID
	case StartProvider:
		return c.HostID
	case StopProvider:
		return c.HostID
	}
	return ""
}

// alreadyDone reports whether the host already runs what a scale or
// provider command asks for, and the inventory that says so.
func (lw *latticeWorker) alreadyDone(ctx context.Context, c Command) (bool, *ctl.HostInventory) {
	hostID := commandHost(c)
	if hostID == "" {
		return false, nil
	}
	inv, err := lw.ctl.GetHostInventory(ctx, hostID)
	if err != nil || inv == nil {
		return false, nil
	}
	if inv.HostID == "" {
		inv.HostID = hostID
	}
	return inventoryShows(inv, c), inv
}

func inventoryShows(inv *ctl.HostInventory, c Command) bool {
	switch c := deref(c).(type) {
	case ScaleComponent:
		for _, cd := range inv.Components {
			if cd.ID == c.ComponentID {
				return cd.ImageRef == c.Reference && int(cd.MaxInstances) == c.Count
			}
		}
		return c.Count == 0
	case StartProvider:
		for _, p := range inv.Providers {
			if p.ID == c.ProviderID {
				return true
			}
		}
	case StopProvider:
		for _, p := range inv.Providers {
			if p.ID == c.ProviderID {
				return false
			}
		}
		return true
	}
	return false
}

// execute turns a command into its control-interface request.
func (lw *latticeWorker) execute(ctx context.Context, c Command) error {
	var err error
	switch c := deref(c).(type) {
	case ScaleComponent:
		_, err = lw.ctl.ScaleComponent(ctx, ctl.ScaleComponentCommand{
			ComponentRef: c.Reference, ComponentID: c.ComponentID, HostID: c.HostID, Count: uint32(max(0, c.Count)),
			Annotations: WithManagedAnnotations(c.Annotations, c.ModelName), Config: c.Config, AllowUpdate: true,
		})
	case StartProvider:
		_, err = lw.ctl.StartProvider(ctx, ctl.StartProviderCommand{
			ProviderID: c.ProviderID, ProviderRef: c.Reference, HostID: c.HostID, Config: c.Config,
			Annotations: WithManagedAnnotations(c.Annotations, c.ModelName),
		})
	case StopProvider:
		_, err = lw.ctl.StopProvider(ctx, ctl.StopProviderCommand{HostID: c.HostID, ProviderID: c.ProviderID})
	case PutLink:
		_, err = lw.ctl.PutLink(ctx, ctl.Link{SourceID: c.SourceID, Target: c.Target, Name: c.Name, WitNamespace: c.WitNamespace,
			WitPackage: c.WitPackage, Interfaces: c.Interfaces, SourceConfig: c.SourceConfig, TargetConfig: c.TargetConfig})
	case DeleteLink:
		_, err = lw.ctl.DeleteLink(ctx, ctl.DeleteLinkRequest{SourceID: c.SourceID, Name: c.LinkName, WitNamespace: c.WitNamespace, WitPackage: c.WitPackage})
	case PutConfig:
		_, err = lw.ctl.PutConfig(ctx, c.ConfigName, c.Config)
	case DeleteConfig:
		_, err = lw.ctl.DeleteConfig(ctx, c.ConfigName)
	default:
		return fmt.Errorf("unknown command %T", c)
	}
	return err
}

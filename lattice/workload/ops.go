package workload

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
)

// Each operation sends its control command and, when asked to wait, watches from before the
// request for the event that confirms it (or reports its failure) from the host that got it. A
// wait that runs out returns an error errors.Is finds ErrWaitTimeout in.

// ScaleRequest is one component.scale whose outcome the caller may wait for.
type ScaleRequest struct {
	Host ctl.Host
	Cmd  ctl.ScaleComponentCommand
	// Wait for component_scaled (or component_scale_failed) from that host, up to Timeout.
	Wait    bool
	Timeout time.Duration
	// Verb names the operation in errors: "start", "scale".
	Verb string
}

// ScaleComponent sends the request, passes the host's reply message to Progress, and waits for
// the event that confirms the new count or reports the failure.
func (s *Session) ScaleComponent(ctx context.Context, r ScaleRequest) error {
	w, err := s.watchIf(r.Wait, events.ComponentScaled, events.ComponentScaleFailed)
	if err != nil {
		return err
	}
	defer w.Close()
	r.Cmd.HostID = r.Host.ID
	resp, err := s.Client.ScaleComponent(ctx, r.Cmd)
	if err != nil {
		return fmt.Errorf("%s of component %s on host %s: %w", r.Verb, r.Cmd.ComponentID, HostLabel(r.Host), err)
	}
	if resp.Message != "" {
		s.progress("host %s: %s", r.Host.ID, resp.Message)
	}
	if w == nil {
		return nil
	}
	id := r.Cmd.ComponentID
	err = awaitComponentScaled(ctx, w, r.Timeout, id, map[string]bool{r.Host.ID: true},
		func(d events.ComponentScaledData) bool { return d.MaxInstances == r.Cmd.Count },
		func(_, reason string) error {
			return fmt.Errorf("component %s failed to %s on host %s: %s", id, r.Verb, HostLabel(r.Host), oneLine(reason))
		})
	if err == ErrWaitTimeout {
		return &waitTimeout{fmt.Sprintf("host %s accepted the %s request for component %s but did not confirm it within %s", HostLabel(r.Host), r.Verb, id, r.Timeout)}
	}
	return err
}

// awaitComponentScaled waits until each pending host has published a component_scaled for
// component id that done accepts (removing it from pending), or one of them published a
// component_scale_failed for id: failed turns that host's reason into the error.
func awaitComponentScaled(ctx context.Context, w *Waiter, timeout time.Duration, id string, pending map[string]bool,
	done func(events.ComponentScaledData) bool, failed func(host, reason string) error) error {
	return w.Wait(ctx, timeout, func(e events.Event) (bool, error) {
		if !pending[e.Source] {
			return false, nil
		}
		switch e.Name() {
		case events.ComponentScaled:
			var d events.ComponentScaledData
			if Data(e, &d) && d.ComponentID == id && done(d) {
				delete(pending, e.Source)
			}
		case events.ComponentScaleFailed:
			var d events.ComponentScaleFailedData
			if Data(e, &d) && d.ComponentID == id {
				return true, failed(e.Source, d.Error)
			}
		}
		return len(pending) == 0, nil
	})
}

// StartProviderRequest is one provider.start whose outcome the caller may wait for.
type StartProviderRequest struct {
	Host ctl.Host
	Cmd  ctl.StartProviderCommand
	// Wait for provider_started (or provider_start_failed) from that host, up to Timeout.
	Wait    bool
	Timeout time.Duration
}

// StartProvider sends provider.start to r.Host and waits for the event that says the provider
// runs or failed to start.
func (s *Session) StartProvider(ctx context.Context, r StartProviderRequest) error {
	w, err := s.watchIf(r.Wait, events.ProviderStarted, events.ProviderStartFailed)
	if err != nil {
		return err
	}
	defer w.Close()
	h, id := r.Host, r.Cmd.ProviderID
	r.Cmd.HostID = h.ID
	if _, err := s.Client.StartProvider(ctx, r.Cmd); err != nil {
		return fmt.Errorf("starting provider %s on host %s: %w", id, HostLabel(h), err)
	}
	if w == nil {
		return nil
	}
	err = w.Wait(ctx, r.Timeout, func(e events.Event) (bool, error) {
		if e.Source != h.ID {
			return false, nil
		}
		switch e.Name() {
		case events.ProviderStarted:
			var d events.ProviderStartedData
			return Data(e, &d) && d.ProviderID == id, nil
		case events.ProviderStartFailed:
			var d events.ProviderStartFailedData
			if Data(e, &d) && d.ProviderID == id {
				return true, fmt.Errorf("provider %s failed to start on host %s: %s", id, HostLabel(h), strings.Join(strings.Fields(d.Error), " "))
			}
		}
		return false, nil
	})
	if err == ErrWaitTimeout {
		return &waitTimeout{fmt.Sprintf("host %s accepted provider %s but did not report it started within %s", HostLabel(h), id, r.Timeout)}
	}
	return err
}

// StopComponent scales component id to zero on every host in running (the only way to stop
// one) and, with wait, waits until each confirmed it. It returns the hosts asked.
func (s *Session) StopComponent(ctx context.Context, id string, running []Running, wait bool, timeout time.Duration) ([]string, error) {
	w, err := s.watchIf(wait, events.ComponentScaled, events.ComponentScaleFailed)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	pending := map[string]bool{}
	var hosts []string
	for _, r := range running {
		if _, err := s.Client.ScaleComponent(ctx, ctl.ScaleComponentCommand{
			ComponentRef: r.ImageRef, ComponentID: id, Annotations: r.Annotations, Count: 0, HostID: r.HostID,
		}); err != nil {
			return hosts, fmt.Errorf("stopping component %s on host %s: %w", id, r.HostID, err)
		}
		pending[r.HostID] = true
		hosts = append(hosts, r.HostID)
	}
	if w == nil {
		return hosts, nil
	}
	err = awaitComponentScaled(ctx, w, timeout, id, pending,
		func(d events.ComponentScaledData) bool { return d.MaxInstances == 0 },
		func(host, reason string) error {
			return fmt.Errorf("component %s failed to stop on host %s: %s", id, host, reason)
		})
	if err == ErrWaitTimeout {
		return hosts, &waitTimeout{fmt.Sprintf("component %s: no stop confirmation from %d host(s) within %s", id, len(pending), timeout)}
	}
	return hosts, err
}

// StopProvider stops provider id on every host in running. A host answers provider.stop only
// after the provider is down (and after publishing provider_stopped), so the reply itself is
// the confirmation. It returns the hosts asked.
func (s *Session) StopProvider(ctx context.Context, id string, running []Running) ([]string, error) {
	var hosts []string
	for _, r := range running {
		if _, err := s.Client.StopProvider(ctx, ctl.StopProviderCommand{HostID: r.HostID, ProviderID: id}); err != nil {
			return hosts, fmt.Errorf("stopping provider %s on host %s: %w", id, r.HostID, err)
		}
		hosts = append(hosts, r.HostID)
	}
	return hosts, nil
}

// UpdateRequest moves a running component to a new reference on the hosts that run it.
type UpdateRequest struct {
	ComponentID string
	Ref         string
	Annotations map[string]string
	Running     []Running
	// Wait for component_scaled with the new reference from each host that changes, up to
	// Timeout.
	Wait    bool
	Timeout time.Duration
}

// UpdateComponent sends component.update to each host that runs the component and waits for
// those that change to confirm. It returns the hosts asked and the replies of hosts that
// already ran r.Ref (nothing follows those).
func (s *Session) UpdateComponent(ctx context.Context, r UpdateRequest) (hosts, unchanged []string, err error) {
	w, err := s.watchIf(r.Wait, events.ComponentScaled, events.ComponentScaleFailed)
	if err != nil {
		return nil, nil, err
	}
	defer w.Close()
	id, ref := r.ComponentID, r.Ref
	pending := map[string]bool{}
	for _, run := range r.Running {
		resp, err := s.Client.UpdateComponent(ctx, ctl.UpdateComponentCommand{ComponentID: id, HostID: run.HostID, NewComponentRef: ref, Annotations: r.Annotations})
		if err != nil {
			return hosts, unchanged, fmt.Errorf("updating component %s on host %s: %w", id, run.HostID, err)
		}
		hosts = append(hosts, run.HostID)
		if run.ImageRef == ref || strings.Contains(resp.Message, "already updated") {
			unchanged = append(unchanged, resp.Message)
			continue // nothing happens, so no event follows
		}
		pending[run.HostID] = true
	}
	if w == nil || len(pending) == 0 {
		return hosts, unchanged, nil
	}
	err = awaitComponentScaled(ctx, w, r.Timeout, id, pending,
		func(d events.ComponentScaledData) bool { return d.ImageRef == ref && d.MaxInstances > 0 },
		func(host, reason string) error {
			return fmt.Errorf("updating component %s on host %s failed: %s", id, host, reason)
		})
	if err == ErrWaitTimeout {
		return hosts, unchanged, &waitTimeout{fmt.Sprintf("component %s: %d host(s) did not confirm the update within %s", id, len(pending), r.Timeout)}
	}
	return hosts, unchanged, err
}

// StopHost asks host h to stop within grace and, with wait, waits up to timeout for its
// host_stopped.
func (s *Session) StopHost(ctx context.Context, h ctl.Host, grace time.Duration, wait bool, timeout time.Duration) error {
	w, err := s.watchIf(wait, events.HostStopped)
	if err != nil {
		return err
	}
	defer w.Close()
	if _, err := s.Client.StopHost(ctx, h.ID, grace); err != nil {
		return fmt.Errorf("stopping host %s: %w", HostLabel(h), err)
	}
	if w == nil {
		return nil
	}
	err = w.Wait(ctx, timeout, func(e events.Event) (bool, error) { return e.Source == h.ID, nil })
	if err == ErrWaitTimeout {
		return &waitTimeout{fmt.Sprintf("host %s acknowledged the stop request but did not report host_stopped within %s", HostLabel(h), timeout)}
	}
	return err
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

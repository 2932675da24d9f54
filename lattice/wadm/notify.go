package wadm

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// Notification is a message wadm processes send each other on
// wadm.notify.<lattice> (upstream crates/wadm/src/scaler/manager.rs:38-59),
// JSON externally tagged by variant like serde writes it; exactly one field
// is set:
//
//	{"CreateScalers": <manifest>}
//	{"DeleteScalers": "<app>"}
//	{"RegisterExpectedEvents": {"name": "<app>", "scaler_id": "<id>", "triggering_event": <CloudEvent>|null}}
//	{"RemoveExpectedEvent": {"name": "<app>", "scaler_id": "<id>", "event": <CloudEvent>}}
//
// Processes of this wadm keep their scalers' state in wadm_state and need
// none of it from each other; they publish notifications so a real wadm on
// the same lattice builds the scalers of our deploys and expects what our
// commands cause, and they apply a real wadm's notifications to wadm_state.
type Notification struct {
	CreateScalers          *model.Manifest
	DeleteScalers          *string
	RegisterExpectedEvents *RegisterExpectedEvents
	RemoveExpectedEvent    *RemoveExpectedEvent
}

// RegisterExpectedEvents asks peers to compute what a scaler's commands
// should cause: by handling the triggering event, or by a reconcile when it
// is null.
type RegisterExpectedEvents struct {
	Name            string          `json:"name"`
	ScalerID        string          `json:"scaler_id"`
	TriggeringEvent json.RawMessage `json:"triggering_event"`
}

// RemoveExpectedEvent tells peers a scaler received an event it expected.
type RemoveExpectedEvent struct {
	Name     string          `json:"name"`
	ScalerID string          `json:"scaler_id"`
	Event    json.RawMessage `json:"event"`
}

// notifySenderHeader marks notifications this wadm published (upstream sends
// no headers): our processes skip each other's.
const notifySenderHeader = "Wash-Wadm-Host-Id"

// MarshalJSON writes the one set variant.
func (n Notification) MarshalJSON() ([]byte, error) {
	var tag string
	var body any
	set := 0
	if n.CreateScalers != nil {
		tag, body, set = "CreateScalers", n.CreateScalers, set+1
	}
	if n.DeleteScalers != nil {
		tag, body, set = "DeleteScalers", *n.DeleteScalers, set+1
	}
	if n.RegisterExpectedEvents != nil {
		r := *n.RegisterExpectedEvents
		if len(r.TriggeringEvent) == 0 {
			r.TriggeringEvent = json.RawMessage("null")
		}
		tag, body, set = "RegisterExpectedEvents", r, set+1
	}
	if n.RemoveExpectedEvent != nil {
		tag, body, set = "RemoveExpectedEvent", n.RemoveExpectedEvent, set+1
	}
	if set != 1 {
		return nil, fmt.Errorf("notification: %d variants set, want 1", set)
	}
	return model.Marshal(map[string]any{tag: body})
}

// UnmarshalJSON reads one externally tagged variant.
func (n *Notification) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("decode notification: %w", err)
	}
	if len(raw) != 1 {
		return fmt.Errorf("decode notification: want one variant, got %d", len(raw))
	}
	*n = Notification{}
	for tag, body := range raw {
		var err error
		switch tag {
		case "CreateScalers":
			n.CreateScalers, err = model.ParseStoredManifestJSON(body)
		case "DeleteScalers":
			var name string
			err = json.Unmarshal(body, &name)
			n.DeleteScalers = &name
		case "RegisterExpectedEvents":
			n.RegisterExpectedEvents = &RegisterExpectedEvents{}
			err = json.Unmarshal(body, n.RegisterExpectedEvents)
		case "RemoveExpectedEvent":
			n.RemoveExpectedEvent = &RemoveExpectedEvent{}
			err = json.Unmarshal(body, n.RemoveExpectedEvent)
		default:
			return fmt.Errorf("decode notification: unknown variant %q", tag)
		}
		if err != nil {
			return fmt.Errorf("decode %s notification: %w", tag, err)
		}
	}
	return nil
}

// App is the app a notification is about.
func (n Notification) App() string {
	switch {
	case n.CreateScalers != nil:
		return n.CreateScalers.Metadata.Name
	case n.DeleteScalers != nil:
		return *n.DeleteScalers
	case n.RegisterExpectedEvents != nil:
		return n.RegisterExpectedEvents.Name
	case n.RemoveExpectedEvent != nil:
		return n.RemoveExpectedEvent.Name
	}
	return ""
}

// notifiableEvent returns the event as peers can parse it: upstream's
// Event::try_from knows wasmCloud's and its own event types, not the
// extensions of this wadm (host_expired, host_inventory), for which peers
// are asked to reconcile instead.
func notifiableEvent(ev events.Event) json.RawMessage {
	if ev.Type == EventTypeHostExpired || ev.Type == EventTypeHostInventory {
		return nil
	}
	b, err := model.Marshal(ev)
	if err != nil {
		return nil
	}
	return b
}

// errIgnored marks a notification that changes nothing here.
var errIgnored = errors.New("notification ignored")

// ApplyNotification folds a real wadm's notification into the worker state:
//   - CreateScalers makes the manifest active, like a manifest_published
//     handled elsewhere (the sender reconciles and cleans up);
//   - DeleteScalers makes the app inactive and reports it undeployed (the
//     sender cleans up);
//   - RegisterExpectedEvents makes the scaler expect what its commands would
//     cause now, so this process does not send them again;
//   - RemoveExpectedEvent lets the scaler consume the event.
//
// It returns the statuses to publish, or errIgnored when nothing changed.
// deployedVersion is the app's deployed version in wadm_manifests ("" when
// not deployed): a CreateScalers of another version is stale and ignored.
func (r *reconciler) ApplyNotification(st *WorkerState, n Notification, deployedVersion string, now time.Time, reads LatticeReads) (map[string]model.Status, error) {
	st.fill()
	app := n.App()
	switch {
	case n.CreateScalers != nil:
		m := n.CreateScalers
		if m.Version() == "" || m.Version() != deployedVersion {
			return nil, errIgnored
		}
		raw, err := m.MarshalCanonical()
		if err != nil || string(raw) == string(st.Apps[app]) {
			return nil, errIgnored
		}
		st.Apps[app] = raw
		return nil, nil
	case n.DeleteScalers != nil:
		if _, ok := st.Apps[app]; !ok || deployedVersion != "" {
			return nil, errIgnored
		}
		delete(st.Apps, app)
		delete(r.cache, app)
		for id, e := range st.Expected {
			if e.App == app {
				delete(st.Expected, id)
			}
		}
		return map[string]model.Status{app: model.UndeployedStatus}, nil
	case n.RegisterExpectedEvents != nil:
		sc := r.scaler(st, app, n.RegisterExpectedEvents.ScalerID)
		if sc == nil {
			return nil, errIgnored
		}
		snap := st.observed().snapshot(reads.Links(), reads.Configs(ownedConfigNames([]Scaler{sc})))
		cmds, _ := sc.Reconcile(snap)
		e := newExpectation(app, cmds, now)
		if len(e.Events) == 0 {
			return nil, errIgnored
		}
		st.Expected[sc.ID()] = e
		return nil, nil
	case n.RemoveExpectedEvent != nil:
		e := st.Expected[n.RemoveExpectedEvent.ScalerID]
		ev, err := events.Parse(n.RemoveExpectedEvent.Event)
		if e == nil || err != nil || !e.consume(ev, now) {
			return nil, errIgnored
		}
		return nil, nil
	}
	return nil, errIgnored
}

// scaler finds an active app's scaler by id.
func (r *reconciler) scaler(st *WorkerState, app, id string) Scaler {
	for _, sc := range r.scalersFor(app, st.Apps[app]) {
		if sc.ID() == id {
			return sc
		}
	}
	return nil
}

package app

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/events"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
)

// healthReasons remembers why providers said they were unhealthy while a deploy ran (the host
// puts the reason in health_check_failed's message: "http-server cannot listen on …: address
// already in use"), so a failed deploy can say why, not only "Unhealthy provider".
type healthReasons struct {
	mu   sync.Mutex
	why  map[string]string // provider id -> message
	stop func()
}

func watchHealth(nc *nats.Conn, lattice string) *healthReasons {
	r := &healthReasons{why: map[string]string{}, stop: func() {}}
	sub, err := events.Subscribe(nc, lattice, func(e events.Event) {
		var d events.HealthCheckData
		if json.Unmarshal(e.Data, &d) != nil || d.Message == "" {
			return
		}
		r.mu.Lock()
		r.why[d.ProviderID] = d.Message
		r.mu.Unlock()
	}, events.HealthCheckFailed)
	if err == nil {
		r.stop = func() { _ = sub.Unsubscribe() }
	}
	return r
}

// explain returns the reasons of the app's unhealthy providers ("" when none is known).
func (r *healthReasons) explain(ctx context.Context, c *wadmclient.Client, app string) string {
	st, err := c.Status(ctx, app)
	if err != nil {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, sc := range st.Scalers {
		// wash's wadm puts the reason in the status already; a real wadm does not
		if msg := r.why[sc.Name]; msg != "" && strings.HasPrefix(sc.Status.Message, "Unhealthy provider") &&
			!strings.Contains(sc.Status.Message, strings.Join(strings.Fields(msg), " ")) {
			out = append(out, sc.Name+": "+msg)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

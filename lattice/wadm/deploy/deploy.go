package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/events"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// Request is one deployment.
type Request struct {
	// Name is the application (the manifest's name when Manifest is set).
	Name string
	// Version to deploy; "" deploys the version just stored, or the latest.
	Version string
	// Manifest, when set, is stored first (as Prepare returns it).
	Manifest []byte
	// Replace deletes Name (and the manifest's version, when it names one) before storing, as
	// upstream's --replace; a failed delete goes to ReplaceFailed and the deploy goes on.
	Replace       bool
	ReplaceFailed func(error)
	// Wait is how long to wait for wadm to report the application deployed; 0 returns once
	// wadm accepted the deployment.
	Wait time.Duration
}

// Result is what a deployment came to.
type Result struct {
	// Version is the version wadm deployed.
	Version string
	// Status is the deployed status (nil when Wait was 0).
	Status *model.Status
}

// Deploy stores (when given a manifest) and deploys an application, then waits for the outcome.
func Deploy(ctx context.Context, c *wadmclient.Client, nc *nats.Conn, r Request) (Result, error) {
	name, version, data := r.Name, r.Version, r.Manifest
	if data != nil && r.Replace {
		// As upstream: delete the name (and the manifest's version, if it names one), and
		// only warn when that fails.
		var ver string
		if m, err := model.ParseManifest(data); err == nil {
			ver = m.Version()
		}
		if _, err := c.Delete(ctx, name, ver); err != nil && r.ReplaceFailed != nil {
			r.ReplaceFailed(err)
		}
	}
	if data != nil {
		put, err := c.Put(ctx, data, "application/json")
		if err != nil {
			return Result{}, fmt.Errorf("storing %s: %w", name, err)
		}
		version = put.CurrentVersion
	}
	// Watch before deploying so no status is missed.
	updates := make(chan model.Status, 64)
	stopWatch, err := c.WatchStatus(name, func(s model.Status) {
		select {
		case updates <- s:
		default:
		}
	})
	if err != nil {
		return Result{}, err
	}
	defer stopWatch()
	health := watchHealth(nc, c.Lattice())
	defer health.stop()
	dep, err := c.Deploy(ctx, name, version)
	if err != nil {
		return Result{}, fmt.Errorf("deploying %s: %w", name, err)
	}
	if dep.Version != nil {
		version = *dep.Version
	}
	var final *model.Status
	if r.Wait > 0 {
		final, err = WaitDeployed(ctx, c, name, version, updates, r.Wait)
		if err != nil {
			if why := health.explain(ctx, c, name); why != "" {
				err = fmt.Errorf("%w; %s", err, why)
			}
			return Result{}, fmt.Errorf("application %q version %q: %w", name, version, err)
		}
	}
	return Result{Version: version, Status: final}, nil
}

// failGrace is how long a failed status must persist before a deploy is reported failed. wadm
// reports a scaler failed for its 5 s backoff and then retries, and an upgrade passes through
// a failed state on its own (the new link is refused until the old one is deleted).
const failGrace = 6 * time.Second

// WaitDeployed waits for version of app to report Deployed after a deploy (updates come from
// Client.WatchStatus started before the deploy): a status published after the deploy that says
// deployed succeeds, a failed status that persists for failGrace fails. If nothing new arrives
// (a re-deploy of what already runs), the current status is polled.
//
// A status naming another version (wash's wadm names the version a status
// is about; upstream's leaves it "") is about what ran before the deploy
// and does not count.
func WaitDeployed(ctx context.Context, c *wadmclient.Client, app, version string, updates <-chan model.Status, wait time.Duration) (*model.Status, error) {
	ours := func(st *model.Status) bool { return st.Version == "" || st.Version == version }
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	var last *model.Status
	seen := false
	var failed <-chan time.Time
	for {
		select {
		case st := <-updates:
			if !ours(&st) {
				continue
			}
			seen = true
			last = &st
			switch st.Info.Type {
			case model.StatusDeployed:
				return &st, nil
			case model.StatusFailed:
				if failed == nil {
					failed = time.After(failGrace)
				}
			default:
				failed = nil
			}
		case <-failed:
			return nil, fmt.Errorf("deployment failed: %s (wadm keeps trying; see `wash app status %s`)", describe(*last), app)
		case <-poll.C:
			if seen {
				continue
			}
			if st, err := c.Status(ctx, app); err == nil && st.Info.Type == model.StatusDeployed && ours(st) {
				return st, nil
			}
		case <-deadline.C:
			if last == nil {
				if st, err := c.Status(ctx, app); err == nil {
					last = st
				}
			}
			msg := "no status yet"
			if last != nil {
				msg = describe(*last)
			}
			return nil, fmt.Errorf("not deployed within %s: %s (wadm keeps trying; see `wash app status %s`)", wait, msg, app)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func describe(st model.Status) string {
	s := string(st.Info.Type)
	if st.Info.Message != "" {
		s += ": " + st.Info.Message
	}
	return s
}

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

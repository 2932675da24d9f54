package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/buckets"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/events"
	wadmclient "github.com/wasmlattice/wash/lattice/wadm/client"
	"github.com/wasmlattice/wash/lattice/wadm/model"
)

// wadmTimeout bounds one wadm request: the dashboard's timeout, 2 s by default.
func wadmTimeout(d time.Duration) time.Duration {
	if d <= 0 {
		return 2 * time.Second
	}
	return d
}

// manifestMap is the manifest as generic JSON, shown as YAML with sorted keys.
func manifestMap(m *model.Manifest) map[string]any {
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	var out map[string]any
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return out
}

// errNoWadm is what the apps view says when no wadm answers (no responders or a timeout).
var errNoWadm = errors.New("no wadm is answering on this lattice")

func wadmErr(err error) error {
	if errors.Is(err, wadmclient.ErrNoWadm) || err != nil && strings.HasPrefix(err.Error(), "wadm did not answer") {
		return errNoWadm
	}
	return err
}

// appState is an app's status type and message: the detailed status, or the deprecated flat
// fields an older wadm sends instead.
func appState(a model.ModelSummary) model.StatusInfo {
	if a.DetailedStatus.Info.Type != "" {
		return a.DetailedStatus.Info
	}
	return model.StatusInfo{Type: a.Status, Message: a.StatusMessage}
}

// source owns the NATS side: subscriptions and connection handlers push messages into a channel
// the model drains through a tea.Cmd; every request runs inside a tea.Cmd.
type source struct {
	nc       *nats.Conn
	ctl      *ctl.Client
	wadm     *wadmclient.Client
	lattice  string
	jsDomain string
	ch       chan tea.Msg
	subs     []*nats.Subscription
	dropped  int64
	mu       sync.Mutex
}

// Messages from the source.
type (
	eventMsg struct {
		ev events.Event
		at time.Time
	}
	appStatusMsg struct {
		app    string
		status model.Status
	}
	wadmEventMsg struct{ name string }
	connMsg      struct {
		up  bool
		err error
		url string
	}
	// batchMsg carries several channel messages drained at once, so a burst costs one render.
	batchMsg []tea.Msg
)

func newSource(o Options) *source {
	return &source{
		nc:       o.Conn,
		ctl:      ctl.NewClient(o.Conn, ctl.ClientOptions{Lattice: o.Lattice, TopicPrefix: o.TopicPrefix, Timeout: o.Timeout}),
		wadm:     wadmclient.New(o.Conn, wadmclient.Options{Lattice: o.Lattice, Prefix: o.WadmPrefix, Timeout: wadmTimeout(o.Timeout)}),
		lattice:  o.Lattice,
		jsDomain: o.JSDomain,
		ch:       make(chan tea.Msg, 4096),
	}
}

func (s *source) push(m tea.Msg) {
	select {
	case s.ch <- m:
	default:
		// The UI is behind by thousands of messages; dropping an event is better than stalling
		// the NATS client. The next refresh restores the inventory.
		s.mu.Lock()
		s.dropped++
		s.mu.Unlock()
	}
}

// start subscribes to lattice events, wadm status and wadm events and hooks the connection
// handlers. nats.go re-subscribes by itself after a reconnect.
func (s *source) start() error {
	sub, err := events.Subscribe(s.nc, s.lattice, func(ev events.Event) {
		s.push(eventMsg{ev: ev, at: time.Now()})
	})
	if err != nil {
		return err
	}
	s.subs = append(s.subs, sub)
	sub, err = s.nc.Subscribe(model.StatusSubjectPrefix+"."+s.lattice+".*", func(m *nats.Msg) {
		var st model.Status
		if json.Unmarshal(m.Data, &st) != nil {
			return
		}
		app := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
		s.push(appStatusMsg{app: app, status: st})
	})
	if err != nil {
		s.stop()
		return err
	}
	s.subs = append(s.subs, sub)
	sub, err = s.nc.Subscribe(model.EventSubjectPrefix+"."+s.lattice+".>", func(m *nats.Msg) {
		s.push(wadmEventMsg{name: m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]})
	})
	if err != nil {
		s.stop()
		return err
	}
	s.subs = append(s.subs, sub)
	s.nc.SetDisconnectErrHandler(func(nc *nats.Conn, err error) {
		s.push(connMsg{up: false, err: err, url: nc.ConnectedUrlRedacted()})
	})
	s.nc.SetReconnectHandler(func(nc *nats.Conn) {
		s.push(connMsg{up: true, url: nc.ConnectedUrlRedacted()})
	})
	s.nc.SetClosedHandler(func(nc *nats.Conn) {
		s.push(connMsg{up: false, err: nats.ErrConnectionClosed})
	})
	return s.nc.Flush()
}

func (s *source) stop() {
	for _, sub := range s.subs {
		_ = sub.Unsubscribe()
	}
	s.subs = nil
}

// listen waits for the next channel message and drains whatever else is already queued.
func (s *source) listen() tea.Cmd {
	return func() tea.Msg {
		first := <-s.ch
		var batch batchMsg
		for {
			select {
			case m := <-s.ch:
				if batch == nil {
					batch = batchMsg{first}
				}
				batch = append(batch, m)
				if len(batch) >= 256 {
					return batch
				}
			default:
				if batch == nil {
					return first
				}
				return batch
			}
		}
	}
}

// fetchSnapshot pings the hosts, asks each for its inventory and fetches links, config values and
// the app list, in parallel.
func (s *source) fetchSnapshot(configNames []string, listKV bool, skipInventory map[string]bool, timeout time.Duration) tea.Cmd {
	return func() tea.Msg {
		sn := snapshot{Started: time.Now(), Inventories: map[string]*ctl.HostInventory{},
			ConfigValues: map[string]map[string]string{}, ConfigErr: map[string]string{}}
		ctx, cancel := context.WithTimeout(context.Background(), timeout+time.Second)
		defer cancel()
		var wg sync.WaitGroup
		var mu sync.Mutex
		wg.Add(4)
		go func() {
			defer wg.Done()
			sn.Hosts, sn.HostsErr = s.ctl.PingHosts(ctx, ctl.GatherOptions{})
			var iwg sync.WaitGroup
			for _, h := range sn.Hosts {
				if skipInventory[h.ID] {
					continue
				}
				iwg.Add(1)
				go func(id string) {
					defer iwg.Done()
					inv, err := s.ctl.GetHostInventory(ctx, id)
					if err == nil {
						mu.Lock()
						sn.Inventories[id] = inv
						mu.Unlock()
					}
				}(h.ID)
			}
			iwg.Wait()
		}()
		go func() {
			defer wg.Done()
			sn.Links, sn.LinksErr = s.ctl.GetLinks(ctx)
		}()
		go func() {
			defer wg.Done()
			sn.Apps, sn.AppsErr = s.wadm.List(ctx)
			sn.AppsErr = wadmErr(sn.AppsErr)
		}()
		go func() {
			defer wg.Done()
			names := configNames
			if listKV {
				sn.ConfigNames = buckets.ConfigNames(ctx, s.nc, s.jsDomain, s.lattice)
				names = append(append([]string(nil), names...), sn.ConfigNames...)
			}
			var cwg sync.WaitGroup
			for _, n := range uniq(names) {
				cwg.Add(1)
				go func(n string) {
					defer cwg.Done()
					vals, found, err := s.ctl.GetConfig(ctx, n)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err != nil:
						sn.ConfigErr[n] = err.Error()
					case !found:
						sn.ConfigValues[n] = nil
					default:
						sn.ConfigValues[n] = vals
					}
				}(n)
			}
			cwg.Wait()
		}()
		wg.Wait()
		return sn
	}
}

func uniq(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (s *source) fetchAppDetail(name string) tea.Cmd {
	return func() tea.Msg {
		ctx := context.Background()
		st, err := s.wadm.Status(ctx, name)
		if err != nil {
			return appDetailMsg{name: name, err: err}
		}
		man, err := s.wadm.Get(ctx, name, "")
		if err != nil {
			return appDetailMsg{name: name, status: *st, err: err}
		}
		return appDetailMsg{name: name, status: *st, manifest: manifestMap(man)}
	}
}

// request runs one control or wadm request in a tea.Cmd and reports it as an actionMsg: the
// server's message when it sent one, otherwise what.
func request(what string, fn func(ctx context.Context) (string, error)) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		text, err := fn(ctx)
		if err != nil {
			return actionMsg{err: err}
		}
		if text == "" {
			text = what
		}
		return actionMsg{text: text}
	}
}

// feed is the dashboard's dataSource: the state it folds from NATS and requests over NATS.
type feed struct {
	src *source
	st  *latticeState
}

func (f feed) lattice() *latticeState { return f.st }

func (f feed) appDetail(name string) tea.Cmd { return f.src.fetchAppDetail(name) }

func (f feed) scaleComponent(cmd ctl.ScaleComponentCommand) tea.Cmd {
	return request(fmt.Sprintf("scale of %s to %d requested", cmd.ComponentID, cmd.Count), func(ctx context.Context) (string, error) {
		_, err := f.src.ctl.ScaleComponent(ctx, cmd)
		return "", err
	})
}

func (f feed) stopProvider(hostID, providerID string) tea.Cmd {
	return request("stop of "+providerID+" requested", func(ctx context.Context) (string, error) {
		_, err := f.src.ctl.StopProvider(ctx, ctl.StopProviderCommand{HostID: hostID, ProviderID: providerID})
		return "", err
	})
}

func (f feed) deleteLink(l ctl.Link) tea.Cmd {
	return request("link deleted", func(ctx context.Context) (string, error) {
		_, err := f.src.ctl.DeleteLink(ctx, ctl.DeleteLinkRequest{SourceID: l.SourceID, Name: l.Name, WitNamespace: l.WitNamespace, WitPackage: l.WitPackage})
		return "", err
	})
}

func (f feed) deployApp(name, version string) tea.Cmd {
	return request("deploy of "+name+" requested", func(ctx context.Context) (string, error) {
		r, err := f.src.wadm.Deploy(ctx, name, version)
		return r.Message, err
	})
}

func (f feed) undeployApp(name string) tea.Cmd {
	return request("undeploy of "+name+" requested", func(ctx context.Context) (string, error) {
		r, err := f.src.wadm.Undeploy(ctx, name)
		return r.Message, err
	})
}

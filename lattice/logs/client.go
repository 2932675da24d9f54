package logs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/wasmlattice/wash/internal/periodic"
)

// Client reads host logs over the lattice.
type Client struct {
	nc      *nats.Conn
	lattice string
	timeout time.Duration
}

// NewClient builds a client; timeout bounds each request (default 2 s).
func NewClient(nc *nats.Conn, lattice string, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	return &Client{nc: nc, lattice: lattice, timeout: timeout}
}

// Lattice is the lattice the client reads.
func (c *Client) Lattice() string { return c.lattice }

// ErrNotServed means the host does not answer log requests (an upstream wasmCloud host, or
// one that is gone).
var ErrNotServed = errors.New("the host does not serve its logs over the lattice (it is not a wash host, or it is gone)")

// maxHistoryBytes bounds what one history request reads.
const maxHistoryBytes = 64 << 20

// History fetches a host's recent records, oldest first.
func (c *Client) History(ctx context.Context, hostID string, req HistoryRequest) (HistoryChunk, error) {
	subject := HistorySubject(c.lattice, hostID)
	inbox := c.nc.NewRespInbox()
	ch := make(chan *nats.Msg, 64)
	sub, err := c.nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return HistoryChunk{}, err
	}
	defer sub.Unsubscribe()
	body, _ := json.Marshal(req)
	if err := c.nc.PublishRequest(subject, inbox, body); err != nil {
		return HistoryChunk{}, fmt.Errorf("asking %s for logs: %w", subject, err)
	}
	out := HistoryChunk{HostID: hostID}
	total := 0
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	got := false
	for {
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-timer.C:
			if !got {
				return out, fmt.Errorf("%w: nothing answered %s within %s", ErrNotServed, subject, c.timeout)
			}
			return out, fmt.Errorf("the history reply on %s stopped before its end", subject)
		case m := <-ch:
			if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
				return out, fmt.Errorf("%w: no responders on %s", ErrNotServed, subject)
			}
			total += len(m.Data)
			if total > maxHistoryBytes {
				return out, fmt.Errorf("the history reply on %s is larger than %d bytes", subject, maxHistoryBytes)
			}
			var chunk HistoryChunk
			if err := json.Unmarshal(m.Data, &chunk); err != nil {
				return out, fmt.Errorf("malformed history reply on %s: %w", subject, err)
			}
			got = true
			out.FriendlyName = chunk.FriendlyName
			out.Records = append(out.Records, chunk.Records...)
			if chunk.Done {
				out.Done, out.Truncated = true, chunk.Truncated
				return out, nil
			}
			// more chunks follow; each one restarts the wait
			timer.Reset(c.timeout)
		}
	}
}

// Watch is an open watch: lines arrive until Stop.
type Watch struct {
	c       *Client
	req     WatchRequest
	sub     *nats.Subscription
	stop    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup

	mu      sync.Mutex
	answers map[string]WatchReply
}

// WatchOptions configure a watch.
type WatchOptions struct {
	// Hosts limits the watch to these host ids (empty: every host).
	Hosts  []string
	Filter Filter
	// Lease is how long hosts keep publishing without a renewal (default 10 s); the watch
	// renews every third of it.
	Lease time.Duration
	// Settle is how long to collect host answers after the first one when Hosts is empty
	// (default 150 ms); with Hosts named, Watch returns once each answered or at the timeout.
	Settle time.Duration
	// OnHost is called when a host answers a watch request for the first time (hosts that start
	// later are picked up at the next renewal).
	OnHost func(WatchReply)
}

// Watch subscribes to the hosts' lines, asks them to publish and keeps the lease renewed. fn
// runs on the subscription's goroutine, in arrival order. It returns the hosts that answered the
// first request.
func (c *Client) Watch(ctx context.Context, o WatchOptions, fn func(Record)) (*Watch, []WatchReply, error) {
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Settle <= 0 {
		o.Settle = 150 * time.Millisecond
	}
	subject := AllLinesSubject(c.lattice)
	if len(o.Hosts) == 1 {
		subject = LinesSubject(c.lattice, o.Hosts[0])
	}
	hosts := map[string]bool{}
	for _, h := range o.Hosts {
		hosts[h] = true
	}
	sub, err := c.nc.Subscribe(subject, func(m *nats.Msg) {
		var r Record
		if len(m.Data) > 4*maxWireMessage || json.Unmarshal(m.Data, &r) != nil {
			return
		}
		if len(hosts) > 0 && !hosts[r.HostID] {
			return
		}
		if !o.Filter.Match(r) {
			return
		}
		fn(r)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("subscribing to %s: %w", subject, err)
	}
	w := &Watch{c: c, sub: sub, stop: make(chan struct{}), answers: map[string]WatchReply{},
		req: WatchRequest{ID: nuid.Next(), Hosts: o.Hosts, Filter: o.Filter, LeaseMS: o.Lease.Milliseconds()}}
	first, err := w.ask(ctx, o)
	if err != nil {
		_ = sub.Unsubscribe()
		return nil, nil, err
	}
	w.wg.Add(1)
	go w.renew(o)
	return w, first, nil
}

// ask sends one watch request and collects the answers.
func (w *Watch) ask(ctx context.Context, o WatchOptions) ([]WatchReply, error) {
	nc := w.c.nc
	inbox := nc.NewRespInbox()
	ch := make(chan *nats.Msg, 256)
	s, err := nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return nil, err
	}
	defer s.Unsubscribe()
	body, _ := json.Marshal(w.req)
	if err := nc.PublishRequest(WatchSubject(w.c.lattice), inbox, body); err != nil {
		return nil, fmt.Errorf("asking hosts on %s for logs: %w", WatchSubject(w.c.lattice), err)
	}
	if err := nc.Flush(); err != nil {
		return nil, err
	}
	deadline := time.NewTimer(w.c.timeout)
	defer deadline.Stop()
	var settle <-chan time.Time
	var got []WatchReply
	want := len(o.Hosts)
	for {
		select {
		case <-ctx.Done():
			return got, ctx.Err()
		case <-deadline.C:
			return got, nil
		case <-settle:
			return got, nil
		case m := <-ch:
			var r WatchReply
			if json.Unmarshal(m.Data, &r) != nil || r.HostID == "" {
				continue
			}
			got = append(got, r)
			w.mu.Lock()
			_, seen := w.answers[r.HostID]
			w.answers[r.HostID] = r
			w.mu.Unlock()
			if !seen && o.OnHost != nil {
				o.OnHost(r)
			}
			if want > 0 && len(got) >= want {
				return got, nil
			}
			if want == 0 && settle == nil {
				settle = time.After(o.Settle)
			}
		}
	}
}

func (w *Watch) renew(o WatchOptions) {
	defer w.wg.Done()
	periodic.Every(w.stop, o.Lease/3, o.Lease/3, func() {
		ctx, cancel := context.WithTimeout(context.Background(), w.c.timeout)
		_, _ = w.ask(ctx, o)
		cancel()
	})
}

// Stop ends the watch: hosts are told to stop publishing at once.
func (w *Watch) Stop() {
	w.stopped.Do(func() {
		close(w.stop)
		w.wg.Wait()
		req := w.req
		req.Stop = true
		b, _ := json.Marshal(req)
		_ = w.c.nc.Publish(WatchSubject(w.c.lattice), b)
		_ = w.c.nc.Flush()
		_ = w.sub.Unsubscribe()
	})
}

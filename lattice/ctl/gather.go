package ctl

import (
	"context"
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go"
)

// Scatter-gather: publish once, collect every reply until the timeout. Upstream always waits the
// full timeout (2 s), even on a one-host laptop. We stop early in two cases:
//   - nobody is subscribed: the server answers the inbox with a 503 no-responders status at once;
//   - replies have stopped: after the first reply we wait a quiet window that adapts to how long
//     the first reply took (hosts answer in parallel, so their replies arrive close together).
// The full timeout remains the upper bound.

const (
	minQuiet = 25 * time.Millisecond
	maxQuiet = 500 * time.Millisecond
)

// quietWindow is how long to wait for another reply after the latest one.
func quietWindow(firstReply time.Duration) time.Duration {
	q := 4*firstReply + 10*time.Millisecond
	if q < minQuiet {
		q = minQuiet
	}
	if q > maxQuiet {
		q = maxQuiet
	}
	return q
}

// GatherOptions tunes one scatter-gather.
type GatherOptions struct {
	// Timeout is the upper bound (default: the client timeout).
	Timeout time.Duration
	// Expect, when > 0, returns as soon as this many replies arrived (e.g. the number of hosts a
	// recent ping or heartbeat showed).
	Expect int
	// FullWait disables the quiet-window early return (upstream behaviour).
	FullWait bool
}

// gather publishes body on subject and returns every reply payload.
func (c *Client) gather(ctx context.Context, subject string, body []byte, opts GatherOptions) ([][]byte, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = c.timeout
	}
	inbox := c.nc.NewRespInbox()
	ch := make(chan *nats.Msg, 256)
	sub, err := c.nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return nil, &RequestError{Subject: subject, Server: c.nc.ConnectedUrlRedacted(), Err: err}
	}
	defer sub.Unsubscribe()
	start := time.Now()
	if err := c.nc.PublishMsg(&nats.Msg{Subject: subject, Reply: inbox, Data: body, Header: TraceHeader(ctx)}); err != nil {
		return nil, &RequestError{Subject: subject, Server: c.nc.ConnectedUrlRedacted(), Err: err}
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var quiet *time.Timer
	var quietC <-chan time.Time
	var window time.Duration
	var out [][]byte
	for {
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-deadline.C:
			return out, nil
		case <-quietC:
			// When this process was descheduled, the timer and replies can be ready together and
			// select picks at random: replies already delivered win over the quiet window.
			if len(ch) > 0 {
				quiet.Reset(window)
				continue
			}
			return out, nil
		case m := <-ch:
			if len(m.Data) == 0 {
				// A status message (503: no host subscribed) or an empty payload ends the gather.
				return out, nil
			}
			out = append(out, m.Data)
			if opts.Expect > 0 && len(out) >= opts.Expect {
				return out, nil
			}
			if opts.FullWait {
				continue
			}
			if quiet == nil {
				window = quietWindow(time.Since(start))
				quiet = time.NewTimer(window)
				defer quiet.Stop()
				quietC = quiet.C
			} else {
				quiet.Reset(window) // Go 1.23+ timers: Reset drains a fired, unread timer
			}
		}
	}
}

// PingHosts returns every host of the lattice (host.ping).
func (c *Client) PingHosts(ctx context.Context, opts GatherOptions) ([]Host, error) {
	raw, err := c.gather(ctx, c.subjects.Of("host", "ping"), nil, opts)
	hosts := make([]Host, 0, len(raw))
	for _, b := range raw {
		var resp Response
		if json.Unmarshal(b, &resp) != nil || !resp.Success {
			continue
		}
		var h Host
		if json.Unmarshal(resp.Response, &h) == nil && h.ID != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts, err
}

// AuctionComponent asks which hosts can run a component under the given constraints.
func (c *Client) AuctionComponent(ctx context.Context, req ComponentAuctionRequest, opts GatherOptions) ([]ComponentAuctionAck, error) {
	return auction(ctx, c, "component", &req, &req.Constraints, opts, func(a ComponentAuctionAck) string { return a.HostID })
}

// AuctionProvider asks which hosts can run a provider under the given constraints.
func (c *Client) AuctionProvider(ctx context.Context, req ProviderAuctionRequest, opts GatherOptions) ([]ProviderAuctionAck, error) {
	return auction(ctx, c, "provider", &req, &req.Constraints, opts, func(a ProviderAuctionAck) string { return a.HostID })
}

// auction sends req (whose constraints go out as {} when unset, as upstream's serde does) to
// <kind>.auction and decodes the hosts' bids, skipping any answer that failed, does not parse
// or names no host.
func auction[Ack any](ctx context.Context, c *Client, kind string, req any, constraints *map[string]string, opts GatherOptions, hostID func(Ack) string) ([]Ack, error) {
	if *constraints == nil {
		*constraints = map[string]string{}
	}
	body, _ := json.Marshal(req)
	raw, err := c.gather(ctx, c.subjects.Of(kind, "auction"), body, opts)
	var acks []Ack
	for _, b := range raw {
		var resp Response
		if json.Unmarshal(b, &resp) != nil || !resp.Success {
			continue
		}
		var ack Ack
		if json.Unmarshal(resp.Response, &ack) == nil && IsHostID(hostID(ack)) {
			acks = append(acks, ack)
		}
	}
	return acks, err
}

// IsHostID reports whether s looks like a host id: an nkey server public key, 56 chars, 'N…'.
func IsHostID(s string) bool {
	if len(s) != 56 || s[0] != 'N' {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '2' && r <= '7') {
			return false
		}
	}
	return true
}

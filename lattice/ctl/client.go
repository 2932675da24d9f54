package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// DefaultTimeout is wash's request timeout (--timeout-ms 2000).
const DefaultTimeout = 2 * time.Second

// Client talks the control interface of one lattice over a NATS connection.
type Client struct {
	nc       *nats.Conn
	subjects Subjects
	timeout  time.Duration
}

// ClientOptions configures a Client.
type ClientOptions struct {
	Lattice     string
	TopicPrefix string // default wasmbus.ctl
	// Timeout bounds requests and scatter-gather collection.
	Timeout time.Duration
}

// NewClient builds a client over an existing connection.
func NewClient(nc *nats.Conn, opts ClientOptions) *Client {
	if opts.Lattice == "" {
		opts.Lattice = DefaultLattice
	}
	if opts.TopicPrefix == "" {
		opts.TopicPrefix = DefaultTopicPrefix
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Client{nc: nc, subjects: Subjects{Prefix: opts.TopicPrefix, Lattice: opts.Lattice}, timeout: opts.Timeout}
}

// Lattice returns the lattice this client addresses.
func (c *Client) Lattice() string { return c.subjects.Lattice }

// Conn returns the underlying NATS connection.
func (c *Client) Conn() *nats.Conn { return c.nc }

// Timeout returns the request timeout.
func (c *Client) Timeout() time.Duration { return c.timeout }

// ErrNoResponders means nothing in the lattice listens on the subject (no host is running there).
var ErrNoResponders = errors.New("no responders")

// RequestError names the subject and server a request failed against.
type RequestError struct {
	Subject string
	Server  string
	Err     error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("request on %s to %s: %v", e.Subject, e.Server, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// HostError is a control reply with success=false.
type HostError struct {
	Subject string
	Message string
}

func (e *HostError) Error() string { return e.Message }

func (c *Client) request(ctx context.Context, subject string, body any) (Response, error) {
	var data []byte
	if body != nil {
		b, err := Marshal(body)
		if err != nil {
			return Response{}, err
		}
		data = b
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	msg, err := c.nc.RequestMsgWithContext(ctx, &nats.Msg{Subject: subject, Data: data, Header: TraceHeader(ctx)})
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			err = ErrNoResponders
		} else if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %s", c.timeout)
		}
		return Response{}, &RequestError{Subject: subject, Server: c.nc.ConnectedUrlRedacted(), Err: err}
	}
	var resp Response
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return Response{}, &RequestError{Subject: subject, Server: c.nc.ConnectedUrlRedacted(), Err: fmt.Errorf("malformed reply: %w", err)}
	}
	return resp, nil
}

// call sends a request and turns success=false into a *HostError; out (if non-nil) receives the
// response payload.
func (c *Client) call(ctx context.Context, subject string, body any, out any) (Response, error) {
	resp, err := c.request(ctx, subject, body)
	if err != nil {
		return resp, err
	}
	if !resp.Success {
		return resp, &HostError{Subject: subject, Message: resp.Message}
	}
	if out != nil && len(resp.Response) > 0 && string(resp.Response) != "null" {
		if err := json.Unmarshal(resp.Response, out); err != nil {
			return resp, &RequestError{Subject: subject, Server: c.nc.ConnectedUrlRedacted(), Err: fmt.Errorf("malformed response payload: %w", err)}
		}
	}
	return resp, nil
}

// GetHostInventory asks one host for its inventory.
func (c *Client) GetHostInventory(ctx context.Context, hostID string) (*HostInventory, error) {
	var inv HostInventory
	if _, err := c.call(ctx, c.subjects.Of("host", "get", hostID), nil, &inv); err != nil {
		return nil, err
	}
	return &inv, nil
}

// StopHost asks a host to shut down; timeout (if > 0) is its graceful deadline.
func (c *Client) StopHost(ctx context.Context, hostID string, timeout time.Duration) (Response, error) {
	cmd := StopHostCommand{HostID: hostID}
	if timeout > 0 {
		ms := uint64(timeout / time.Millisecond)
		cmd.Timeout = &ms
	}
	return c.call(ctx, c.subjects.Of("host", "stop", hostID), cmd, nil)
}

// ScaleComponent sends component.scale to cmd.HostID. The reply only acknowledges; watch for
// component_scaled / component_scale_failed.
func (c *Client) ScaleComponent(ctx context.Context, cmd ScaleComponentCommand) (Response, error) {
	return c.call(ctx, c.subjects.Of("component", "scale", cmd.HostID), cmd, nil)
}

// UpdateComponent sends component.update.
func (c *Client) UpdateComponent(ctx context.Context, cmd UpdateComponentCommand) (Response, error) {
	return c.call(ctx, c.subjects.Of("component", "update", cmd.HostID), cmd, nil)
}

// StartProvider sends provider.start.
func (c *Client) StartProvider(ctx context.Context, cmd StartProviderCommand) (Response, error) {
	return c.call(ctx, c.subjects.Of("provider", "start", cmd.HostID), cmd, nil)
}

// StopProvider sends provider.stop.
func (c *Client) StopProvider(ctx context.Context, cmd StopProviderCommand) (Response, error) {
	return c.call(ctx, c.subjects.Of("provider", "stop", cmd.HostID), cmd, nil)
}

// PutLabel sets a label on a host.
func (c *Client) PutLabel(ctx context.Context, hostID, key, value string) (Response, error) {
	return c.call(ctx, c.subjects.Of("label", "put", hostID), HostLabel{Key: key, Value: value}, nil)
}

// DeleteLabel removes a label from a host.
func (c *Client) DeleteLabel(ctx context.Context, hostID, key string) (Response, error) {
	return c.call(ctx, c.subjects.Of("label", "del", hostID), HostLabelIdentifier{Key: key}, nil)
}

// PutLink stores a link (one host of the lattice answers).
func (c *Client) PutLink(ctx context.Context, l Link) (Response, error) {
	return c.call(ctx, c.subjects.Of("link", "put"), l.Normalized(), nil)
}

// DeleteLink removes a link.
func (c *Client) DeleteLink(ctx context.Context, req DeleteLinkRequest) (Response, error) {
	if req.Name == "" {
		req.Name = "default"
	}
	return c.call(ctx, c.subjects.Of("link", "del"), req, nil)
}

// GetLinks lists every link in the lattice.
func (c *Client) GetLinks(ctx context.Context) ([]Link, error) {
	var links []Link
	if _, err := c.call(ctx, c.subjects.Of("link", "get"), nil, &links); err != nil {
		return nil, err
	}
	return links, nil
}

// GetClaims lists the claims the lattice knows.
func (c *Client) GetClaims(ctx context.Context) ([]map[string]string, error) {
	var claims []map[string]string
	if _, err := c.call(ctx, c.subjects.Of("claims", "get"), nil, &claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// PutConfig stores named config.
func (c *Client) PutConfig(ctx context.Context, name string, values map[string]string) (Response, error) {
	if values == nil {
		values = map[string]string{}
	}
	return c.call(ctx, c.subjects.Of("config", "put", name), values, nil)
}

// GetConfig fetches named config; found is false when the lattice has none under that name.
func (c *Client) GetConfig(ctx context.Context, name string) (values map[string]string, found bool, err error) {
	resp, err := c.call(ctx, c.subjects.Of("config", "get", name), nil, &values)
	if err != nil {
		return nil, false, err
	}
	if len(resp.Response) == 0 || string(resp.Response) == "null" {
		return nil, false, nil
	}
	return values, true, nil
}

// DeleteConfig removes named config.
func (c *Client) DeleteConfig(ctx context.Context, name string) (Response, error) {
	return c.call(ctx, c.subjects.Of("config", "del", name), nil, nil)
}

// PutRegistries publishes registry credentials to every host (fire and forget, as upstream).
func (c *Client) PutRegistries(creds map[string]RegistryCredential) error {
	b, err := json.Marshal(creds)
	if err != nil {
		return err
	}
	return c.nc.Publish(c.subjects.Of("registry", "put"), b)
}

// Package client talks to a wadm (ours or upstream 0.2x) over its NATS API:
// put, deploy, undeploy, delete and list manifests, read and watch statuses.
// It imports only the wire model, never the server.
package client

import (
	"github.com/wasmlattice/wash/lattice/wadm/model"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/wasmlattice/wash/lattice/ctl"
)

// Client talks to a wadm (this one or upstream 0.21) over its NATS API.
type Client struct {
	nc      *nats.Conn
	prefix  string
	lattice string
	timeout time.Duration
}

// Options configures a Client.
type Options struct {
	Lattice string
	Prefix  string        // default wadm.api
	Timeout time.Duration // per request, default 10 s
}

// New builds a client over an existing connection.
func New(nc *nats.Conn, o Options) *Client {
	if o.Lattice == "" {
		o.Lattice = "default"
	}
	if o.Prefix == "" {
		o.Prefix = model.DefaultAPIPrefix
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	return &Client{nc: nc, prefix: o.Prefix, lattice: o.Lattice, timeout: o.Timeout}
}

// Lattice is the lattice the client addresses.
func (c *Client) Lattice() string { return c.lattice }

// ErrNoWadm means nothing answers the wadm API of the lattice.
var ErrNoWadm = errors.New("no wadm is running for this lattice")

// NotFoundError is an app or version wadm does not know.
type NotFoundError struct{ Message string }

func (e *NotFoundError) Error() string { return e.Message }

// APIError is a request wadm refused.
type APIError struct{ Message string }

func (e *APIError) Error() string { return e.Message }

func (c *Client) request(ctx context.Context, op, app string, body []byte, hdr nats.Header, out any) error {
	if app != "" {
		if err := ctl.CheckName("app name", app); err != nil {
			return err // a longer subject would make the server close this connection
		}
	}
	subj := model.APISubject(c.prefix, c.lattice, op, app)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	msg := &nats.Msg{Subject: subj, Data: body, Header: hdr}
	resp, err := c.nc.RequestMsgWithContext(ctx, msg)
	if err != nil {
		switch {
		case errors.Is(err, nats.ErrNoResponders):
			return fmt.Errorf("%w: nothing answers %s on %s; start a lattice with `wash up` (it runs wadm) or run wadm against this NATS", ErrNoWadm, subj, c.nc.ConnectedUrlRedacted())
		case errors.Is(err, context.DeadlineExceeded):
			return fmt.Errorf("wadm did not answer %s within %s", subj, c.timeout)
		}
		return fmt.Errorf("wadm request %s: %w", subj, err)
	}
	var env struct {
		Result  string `json:"result"`
		Message string `json:"message"`
	}
	if len(resp.Data) > 0 && resp.Data[0] == '{' {
		if err := json.Unmarshal(resp.Data, &env); err == nil && env.Result == "error" {
			return &APIError{Message: env.Message}
		}
	}
	if err := json.Unmarshal(resp.Data, out); err != nil {
		return fmt.Errorf("malformed wadm reply on %s: %w", subj, err)
	}
	return nil
}

// Put stores a manifest (YAML or JSON bytes; contentType may be empty).
func (c *Client) Put(ctx context.Context, manifest []byte, contentType string) (model.PutModelResponse, error) {
	var hdr nats.Header
	if contentType != "" {
		hdr = nats.Header{"Content-Type": []string{contentType}}
	}
	var r model.PutModelResponse
	err := c.request(ctx, model.OpPut, "", manifest, hdr, &r)
	return r, err
}

// List returns every app of the lattice.
func (c *Client) List(ctx context.Context) ([]model.ModelSummary, error) {
	var r model.ListModelsResponse
	if err := c.request(ctx, model.OpGet, "", nil, nil, &r); err != nil {
		return nil, err
	}
	return r.Models, nil
}

func versionBody(version string) []byte {
	if version == "" {
		return nil
	}
	b, _ := json.Marshal(map[string]string{"version": version})
	return b
}

// Get fetches a manifest (the current version when version is empty).
func (c *Client) Get(ctx context.Context, app, version string) (*model.Manifest, error) {
	var r model.GetModelResponse
	if err := c.request(ctx, model.OpGet, app, versionBody(version), nil, &r); err != nil {
		return nil, err
	}
	if r.Result == model.GetNotFound || r.Manifest == nil {
		return nil, &NotFoundError{Message: r.Message}
	}
	return r.Manifest, nil
}

// Versions lists the stored versions of an app.
func (c *Client) Versions(ctx context.Context, app string) ([]model.VersionInfo, error) {
	var r model.VersionResponse
	if err := c.request(ctx, model.OpVersions, app, nil, nil, &r); err != nil {
		return nil, err
	}
	if r.Result == model.GetNotFound {
		return nil, &NotFoundError{Message: r.Message}
	}
	return r.Versions, nil
}

// Delete removes one version, or every version when version is empty.
func (c *Client) Delete(ctx context.Context, app, version string) (model.DeleteModelResponse, error) {
	var r model.DeleteModelResponse
	err := c.request(ctx, model.OpDelete, app, versionBody(version), nil, &r)
	if err == nil && r.Result == model.DeleteError {
		err = &APIError{Message: r.Message}
	}
	return r, err
}

// Deploy deploys a version (the current one when version is empty).
func (c *Client) Deploy(ctx context.Context, app, version string) (model.DeployModelResponse, error) {
	var r model.DeployModelResponse
	err := c.request(ctx, model.OpDeploy, app, versionBody(version), nil, &r)
	return r, deployOutcome(r, err)
}

// Undeploy stops an app (its versions stay stored).
func (c *Client) Undeploy(ctx context.Context, app string) (model.DeployModelResponse, error) {
	var r model.DeployModelResponse
	err := c.request(ctx, model.OpUndeploy, app, nil, nil, &r)
	return r, deployOutcome(r, err)
}

// deployOutcome is the error a deploy or undeploy answer stands for: the request's own, or
// the result wadm reported.
func deployOutcome(r model.DeployModelResponse, err error) error {
	if err != nil {
		return err
	}
	switch r.Result {
	case model.DeployNotFound:
		return &NotFoundError{Message: r.Message}
	case model.DeployError:
		return &APIError{Message: r.Message}
	}
	return nil
}

// Status returns the current status of an app.
func (c *Client) Status(ctx context.Context, app string) (*model.Status, error) {
	var r model.StatusResponse
	if err := c.request(ctx, model.OpStatus, app, nil, nil, &r); err != nil {
		return nil, err
	}
	if r.Result == model.StatusResultNotFound || r.Status == nil {
		return nil, &NotFoundError{Message: r.Message}
	}
	return r.Status, nil
}

// WatchStatus delivers every status wadm publishes for the app until the
// returned function is called.
func (c *Client) WatchStatus(app string, fn func(model.Status)) (func(), error) {
	sub, err := c.nc.Subscribe(model.StatusSubject(c.lattice, app), func(m *nats.Msg) {
		var st model.Status
		if json.Unmarshal(m.Data, &st) == nil {
			fn(st)
		}
	})
	if err != nil {
		return nil, err
	}
	if err := c.nc.Flush(); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	return func() { _ = sub.Unsubscribe() }, nil
}

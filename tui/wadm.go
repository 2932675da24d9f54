package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// A deliberately small wadm client: only what the apps view needs, with wire types that ignore
// unknown fields and tolerate missing ones, so it works against any wadm 0.1x-0.2x server.

// ErrNoWadm means no wadm answered the request (no responders, or the request timed out).
var ErrNoWadm = errors.New("no wadm is answering on this lattice")

// AppStatusInfo is wadm's StatusInfo: {type, message?}.
type AppStatusInfo struct {
	Type    string `json:"type"`
	Message string `json:"message,omitempty"`
}

// ScalerStatus is one scaler of an app's status.
type ScalerStatus struct {
	ID     string        `json:"id"`
	Kind   string        `json:"kind"`
	Name   string        `json:"name"`
	Status AppStatusInfo `json:"status"`
}

// AppStatus is wadm's Status: the app-level status plus per-scaler statuses.
type AppStatus struct {
	Status  AppStatusInfo  `json:"status"`
	Scalers []ScalerStatus `json:"scalers,omitempty"`
}

// AppSummary is wadm's ModelSummary.
type AppSummary struct {
	Name            string     `json:"name"`
	Version         string     `json:"version"`
	Description     *string    `json:"description"`
	DeployedVersion *string    `json:"deployed_version"`
	DetailedStatus  *AppStatus `json:"detailed_status"`
	// Deprecated flat fields, used when detailed_status is absent (older wadm).
	StatusFlat    string `json:"status"`
	StatusMessage string `json:"status_message"`
}

// State returns the app-level status type and message, whichever fields the server sent.
func (a AppSummary) State() AppStatusInfo {
	if a.DetailedStatus != nil && a.DetailedStatus.Status.Type != "" {
		return a.DetailedStatus.Status
	}
	return AppStatusInfo{Type: a.StatusFlat, Message: a.StatusMessage}
}

// WadmClient talks to wadm's NATS API for one lattice.
type WadmClient struct {
	nc      *nats.Conn
	prefix  string
	lattice string
	timeout time.Duration
}

// NewWadmClient builds a client; prefix defaults to wadm.api.
func NewWadmClient(nc *nats.Conn, lattice, prefix string, timeout time.Duration) *WadmClient {
	if prefix == "" {
		prefix = "wadm.api"
	}
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	return &WadmClient{nc: nc, prefix: strings.Trim(prefix, "."), lattice: lattice, timeout: timeout}
}

func (c *WadmClient) subject(op, name string) string {
	s := c.prefix + "." + c.lattice + ".model." + op
	if name != "" {
		s += "." + name
	}
	return s
}

func (c *WadmClient) request(ctx context.Context, subject string, body any) ([]byte, error) {
	var data []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		data = b
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	msg, err := c.nc.RequestWithContext(ctx, subject, data)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) {
			return nil, ErrNoWadm
		}
		return nil, fmt.Errorf("wadm request %s: %w", subject, err)
	}
	return msg.Data, nil
}

// envelope is the part every wadm reply shares.
type envelope struct {
	Result  string `json:"result"`
	Message string `json:"message"`
}

func (e envelope) err(what string) error {
	if e.Result == "error" || e.Result == "notfound" {
		msg := e.Message
		if msg == "" {
			msg = e.Result
		}
		return fmt.Errorf("%s: %s", what, msg)
	}
	return nil
}

// List returns every app. It asks model.list (answered by every wadm version) and accepts both the
// bare-array reply and the {"models": [...]} envelope.
func (c *WadmClient) List(ctx context.Context) ([]AppSummary, error) {
	b, err := c.request(ctx, c.subject("list", ""), nil)
	if err != nil {
		return nil, err
	}
	return decodeAppList(b)
}

func decodeAppList(b []byte) ([]AppSummary, error) {
	trimmed := strings.TrimSpace(string(b))
	if strings.HasPrefix(trimmed, "[") {
		var apps []AppSummary
		if err := json.Unmarshal(b, &apps); err != nil {
			return nil, fmt.Errorf("malformed wadm app list: %w", err)
		}
		return apps, nil
	}
	var env struct {
		envelope
		Models []AppSummary `json:"models"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("malformed wadm app list: %w", err)
	}
	if err := env.err("listing apps"); err != nil {
		return nil, err
	}
	return env.Models, nil
}

// Status returns an app's current status.
func (c *WadmClient) Status(ctx context.Context, name string) (AppStatus, error) {
	b, err := c.request(ctx, c.subject("status", name), nil)
	if err != nil {
		return AppStatus{}, err
	}
	var env struct {
		envelope
		Status *AppStatus `json:"status"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return AppStatus{}, fmt.Errorf("malformed wadm status reply: %w", err)
	}
	if err := env.err("status of " + name); err != nil {
		return AppStatus{}, err
	}
	if env.Status == nil {
		return AppStatus{Status: AppStatusInfo{Type: "undeployed"}}, nil
	}
	return *env.Status, nil
}

// Manifest returns the current manifest of an app as generic JSON.
func (c *WadmClient) Manifest(ctx context.Context, name string) (map[string]any, error) {
	b, err := c.request(ctx, c.subject("get", name), nil)
	if err != nil {
		return nil, err
	}
	var env struct {
		envelope
		Manifest map[string]any `json:"manifest"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("malformed wadm get reply: %w", err)
	}
	if err := env.err("manifest of " + name); err != nil {
		return nil, err
	}
	return env.Manifest, nil
}

// Deploy deploys one version of an app (empty: the latest put version).
func (c *WadmClient) Deploy(ctx context.Context, name, version string) (string, error) {
	var body any
	if version != "" {
		body = map[string]string{"version": version}
	}
	return c.ack(ctx, c.subject("deploy", name), body, "deploying "+name)
}

// Undeploy stops an app (its versions stay stored).
func (c *WadmClient) Undeploy(ctx context.Context, name string) (string, error) {
	return c.ack(ctx, c.subject("undeploy", name), map[string]any{}, "undeploying "+name)
}

func (c *WadmClient) ack(ctx context.Context, subject string, body any, what string) (string, error) {
	b, err := c.request(ctx, subject, body)
	if err != nil {
		return "", err
	}
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return "", fmt.Errorf("%s: malformed wadm reply: %w", what, err)
	}
	if err := env.err(what); err != nil {
		return "", err
	}
	if env.Result != "acknowledged" {
		return "", fmt.Errorf("%s: wadm answered %q: %s", what, env.Result, env.Message)
	}
	return env.Message, nil
}

// StatusSubjectAll matches every app status of a lattice.
func StatusSubjectAll(lattice string) string { return "wadm.status." + lattice + ".*" }

// EventSubjectAll matches wadm's own events (manifest_published/unpublished).
func EventSubjectAll(lattice string) string { return "wadm.evt." + lattice + ".>" }

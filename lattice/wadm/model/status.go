package model

import (
	"encoding/json"
	"fmt"
	"strings"
)

// StatusType is the state of an application or scaler.
type StatusType string

// Status types (lowercase on the wire).
const (
	StatusWaiting     StatusType = "waiting"
	StatusUndeployed  StatusType = "undeployed"
	StatusReconciling StatusType = "reconciling"
	StatusDeployed    StatusType = "deployed"
	StatusFailed      StatusType = "failed"
	StatusUnhealthy   StatusType = "unhealthy"
)

// UnmarshalJSON accepts the lowercase names plus the aliases compensating
// (reconciling) and ready (deployed).
func (s *StatusType) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("status type: %w", err)
	}
	switch v {
	case "waiting", "undeployed", "reconciling", "deployed", "failed", "unhealthy":
		*s = StatusType(v)
	case "compensating":
		*s = StatusReconciling
	case "ready":
		*s = StatusDeployed
	default:
		return fmt.Errorf("unknown status type %q", v)
	}
	return nil
}

// MarshalJSON writes the type, defaulting an empty value to undeployed.
func (s StatusType) MarshalJSON() ([]byte, error) {
	if s == "" {
		s = StatusUndeployed
	}
	return json.Marshal(string(s))
}

// statusPrecedence: the first of a differing pair found here wins.
var statusPrecedence = []StatusType{StatusFailed, StatusUndeployed, StatusWaiting, StatusReconciling, StatusUnhealthy, StatusDeployed}

// Add combines two statuses like upstream's `+`.
func (s StatusType) Add(o StatusType) StatusType {
	if s == "" {
		s = StatusUndeployed
	}
	if o == "" {
		o = StatusUndeployed
	}
	if s == o {
		return s
	}
	for _, p := range statusPrecedence {
		if s == p || o == p {
			return p
		}
	}
	return s
}

// AggregateStatus sums statuses; the empty list is undeployed.
func AggregateStatus(types ...StatusType) StatusType {
	if len(types) == 0 {
		return StatusUndeployed
	}
	acc := types[0]
	for _, t := range types[1:] {
		acc = acc.Add(t)
	}
	if acc == "" {
		acc = StatusUndeployed
	}
	return acc
}

// StatusInfo is {type, message}; message is omitted when empty.
type StatusInfo struct {
	Type    StatusType `json:"type"`
	Message string     `json:"message,omitempty"`
}

// Status constructors.
func Deployed(msg string) StatusInfo    { return StatusInfo{StatusDeployed, msg} }
func Reconciling(msg string) StatusInfo { return StatusInfo{StatusReconciling, msg} }
func Failed(msg string) StatusInfo      { return StatusInfo{StatusFailed, msg} }
func Undeployed(msg string) StatusInfo  { return StatusInfo{StatusUndeployed, msg} }
func Waiting(msg string) StatusInfo     { return StatusInfo{StatusWaiting, msg} }

// Scaler kinds as they appear in ScalerStatus.Kind.
const (
	KindSpreadScaler = "SpreadScaler"
	KindDaemonScaler = "DaemonScaler"
	KindLinkScaler   = "LinkScaler"
	KindConfigScaler = "ConfigScaler"
	KindSecretScaler = "SecretScaler"
)

// ScalerStatus is one entry of Status.Scalers.
type ScalerStatus struct {
	ID     string     `json:"id"`
	Kind   string     `json:"kind"`
	Name   string     `json:"name"`
	Status StatusInfo `json:"status"`
}

// ComponentStatus is deprecated and never filled; kept for decoding.
type ComponentStatus struct {
	Name   string        `json:"name"`
	Type   string        `json:"type"`
	Status StatusInfo    `json:"status"`
	Traits []TraitStatus `json:"traits,omitempty"`
}

// TraitStatus is deprecated (see ComponentStatus).
type TraitStatus struct {
	Type   string     `json:"type"`
	Status StatusInfo `json:"status"`
}

// Status is what wadm publishes on wadm.status.<lattice>.<app>.
type Status struct {
	Info    StatusInfo     `json:"status"`
	Scalers []ScalerStatus `json:"scalers,omitempty"`
	// Version and Components are deprecated but always emitted; upstream
	// sends "" and [], this wadm sends in Version the deployed version the
	// status is about ("" for undeployed apps).
	Version    string            `json:"version"`
	Components []ComponentStatus `json:"components"`
}

// MarshalJSON always writes components as [].
func (s Status) MarshalJSON() ([]byte, error) {
	type plain Status
	p := plain(s)
	if p.Components == nil {
		p.Components = []ComponentStatus{}
	}
	if p.Info.Type == "" {
		p.Info.Type = StatusUndeployed
	}
	return Marshal(p)
}

// NewStatus aggregates scaler statuses into an application status: the types
// are summed and the non-empty trimmed messages joined with ", ".
func NewStatus(scalers []ScalerStatus) Status {
	types := make([]StatusType, 0, len(scalers))
	var msgs []string
	for _, s := range scalers {
		types = append(types, s.Status.Type)
		if m := strings.TrimSpace(s.Status.Message); m != "" {
			msgs = append(msgs, m)
		}
	}
	return Status{
		Info:    StatusInfo{Type: AggregateStatus(types...), Message: strings.Join(msgs, ", ")},
		Scalers: scalers,
	}
}

// Well-known statuses.
var (
	// DefaultStatus is model.status's answer when nothing was published.
	DefaultStatus = Status{Info: StatusInfo{Type: StatusUndeployed}}
	// ListPlaceholderStatus is ModelSummary.detailed_status when nothing was
	// published.
	ListPlaceholderStatus = Status{Info: Waiting("Waiting for status: Lattice contains no hosts, deployment not started.")}
	// UndeployedStatus is published when an app's scalers are removed.
	UndeployedStatus = Status{Info: Undeployed("Manifest has been undeployed")}
)

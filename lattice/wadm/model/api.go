package model

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Subject prefixes clients use (reference §1, §2.3, §2.5): the API, the
// app statuses and wadm's own CloudEvents (manifest_published/unpublished).
const (
	DefaultAPIPrefix    = "wadm.api"
	StatusSubjectPrefix = "wadm.status"
	EventSubjectPrefix  = "wadm.evt"
)

// StatusSubject returns wadm.status.<lattice>.<app>.
func StatusSubject(lattice, app string) string {
	return StatusSubjectPrefix + "." + lattice + "." + app
}

// APISubject returns <prefix>.<lattice>.model.<op>[.<app>].
func APISubject(prefix, lattice, op, app string) string {
	s := prefix + "." + lattice + ".model." + op
	if app != "" {
		s += "." + app
	}
	return s
}

// Result enums (lowercase on the wire).
type (
	GetResult    string
	PutResult    string
	DeleteResult string
	DeployResult string
	StatusResult string
)

// Result values.
const (
	GetError    GetResult = "error"
	GetSuccess  GetResult = "success"
	GetNotFound GetResult = "notfound"

	PutError      PutResult = "error"
	PutCreated    PutResult = "created"
	PutNewVersion PutResult = "newversion"

	DeleteDeleted DeleteResult = "deleted"
	DeleteError   DeleteResult = "error"
	DeleteNoop    DeleteResult = "noop"

	DeployError        DeployResult = "error"
	DeployAcknowledged DeployResult = "acknowledged"
	DeployNotFound     DeployResult = "notfound"

	StatusResultError    StatusResult = "error"
	StatusResultOK       StatusResult = "ok"
	StatusResultNotFound StatusResult = "notfound"
)

// ErrorResponse is the generic two-field error envelope every handler may
// answer with; every response type decodes it.
type ErrorResponse struct {
	Result  string `json:"result"`
	Message string `json:"message"`
}

// NewErrorResponse builds {"result":"error","message":msg}.
func NewErrorResponse(msg string) ErrorResponse { return ErrorResponse{Result: "error", Message: msg} }

// GetModelRequest is the optional body of model.get.<app>.
type GetModelRequest struct {
	Version *string `json:"version,omitempty"`
}

// GetModelResponse answers model.get.<app>.
type GetModelResponse struct {
	Result   GetResult `json:"result"`
	Message  string    `json:"message"`
	Manifest *Manifest `json:"manifest,omitempty"`
}

// UnmarshalJSON decodes the manifest leniently (JSON form).
func (r *GetModelResponse) UnmarshalJSON(b []byte) error {
	var raw struct {
		Result   GetResult       `json:"result"`
		Message  string          `json:"message"`
		Manifest json.RawMessage `json:"manifest"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	r.Result, r.Message, r.Manifest = raw.Result, raw.Message, nil
	if len(raw.Manifest) > 0 && string(raw.Manifest) != "null" {
		m, err := ParseStoredManifestJSON(raw.Manifest)
		if err != nil {
			return fmt.Errorf("decode manifest in get response: %w", err)
		}
		r.Manifest = m
	}
	return nil
}

// ListModelsResponse answers model.get (no app).
type ListModelsResponse struct {
	Result  GetResult      `json:"result"`
	Message string         `json:"message"`
	Models  []ModelSummary `json:"models"`
}

// MarshalJSON writes models as [] when empty.
func (r ListModelsResponse) MarshalJSON() ([]byte, error) {
	type plain ListModelsResponse
	p := plain(r)
	if p.Models == nil {
		p.Models = []ModelSummary{}
	}
	return Marshal(p)
}

// ModelSummary is one application in a listing. All keys are always present.
type ModelSummary struct {
	Name            string  `json:"name"`
	Version         string  `json:"version"`
	Description     *string `json:"description"`
	DeployedVersion *string `json:"deployed_version"`
	DetailedStatus  Status  `json:"detailed_status"`
	// Status is deprecated: the detailed type with waiting mapped to undeployed.
	Status StatusType `json:"status"`
	// StatusMessage is deprecated: detailed_status.status.message.
	StatusMessage string `json:"status_message"`
}

// NewModelSummary fills the deprecated fields from the detailed status.
func NewModelSummary(name, version string, description, deployed *string, detailed Status) ModelSummary {
	st := detailed.Info.Type
	if st == StatusWaiting {
		st = StatusUndeployed
	}
	return ModelSummary{
		Name: name, Version: version, Description: description, DeployedVersion: deployed,
		DetailedStatus: detailed, Status: st, StatusMessage: detailed.Info.Message,
	}
}

// PutModelResponse answers model.put.
type PutModelResponse struct {
	Result         PutResult `json:"result"`
	TotalVersions  int       `json:"total_versions"`
	CurrentVersion string    `json:"current_version"`
	Message        string    `json:"message"`
	Name           string    `json:"name"`
}

// VersionInfo is one stored version.
type VersionInfo struct {
	Version  string `json:"version"`
	Deployed bool   `json:"deployed"`
}

// VersionResponse answers model.versions.<app>.
type VersionResponse struct {
	Result   GetResult     `json:"result"`
	Message  string        `json:"message"`
	Versions []VersionInfo `json:"versions"`
}

// MarshalJSON writes versions as [] when empty.
func (r VersionResponse) MarshalJSON() ([]byte, error) {
	type plain VersionResponse
	p := plain(r)
	if p.Versions == nil {
		p.Versions = []VersionInfo{}
	}
	return Marshal(p)
}

// DeleteModelRequest is the optional body of model.del.<app>; a nil Version
// deletes every version.
type DeleteModelRequest struct {
	Version *string `json:"version"`
}

// DeleteModelResponse answers model.del.<app>.
type DeleteModelResponse struct {
	Result   DeleteResult `json:"result"`
	Message  string       `json:"message"`
	Undeploy bool         `json:"undeploy"`
}

// DeployModelRequest is the optional body of model.deploy.<app>; nil or
// "latest" means the current version.
type DeployModelRequest struct {
	Version *string `json:"version"`
}

// DeployModelResponse answers model.deploy and model.undeploy.
type DeployModelResponse struct {
	Result  DeployResult `json:"result"`
	Message string       `json:"message"`
	Name    string       `json:"name"`
	Version *string      `json:"version"`
}

// UndeployModelRequest is the (reserved, empty) body of model.undeploy.
type UndeployModelRequest struct{}

// StatusResponse answers model.status.<app>.
type StatusResponse struct {
	Result  StatusResult `json:"result"`
	Message string       `json:"message"`
	Status  *Status      `json:"status,omitempty"`
}

// APIRequest is a parsed API subject.
type APIRequest struct {
	Account   string // multitenant only
	Lattice   string
	Operation string
	App       string
}

// Operations.
const (
	OpPut      = "put"
	OpGet      = "get"
	OpList     = "list"
	OpVersions = "versions"
	OpDelete   = "del"
	OpDeploy   = "deploy"
	OpUndeploy = "undeploy"
	OpStatus   = "status"
	OpHistory  = "history"
)

// HistoryUnsupported is the answer to model.history.
const HistoryUnsupported = "Model deployment history is not currently supported. It may be added in a future version"

// ParseAPISubject splits an API subject (prefix already known) and applies
// upstream's routing table. The returned error text is what the server
// replies with in the generic envelope.
func ParseAPISubject(prefix, subject string) (APIRequest, error) {
	var req APIRequest
	rest, ok := strings.CutPrefix(subject, prefix+".")
	if !ok {
		return req, fmt.Errorf("Invalid subject: subject %s does not start with prefix %s", subject, prefix)
	}
	parts := strings.Split(rest, ".")
	if len(parts) < 3 {
		return req, fmt.Errorf("Invalid subject: missing lattice id, category or operation in %s", subject)
	}
	if len(parts) > 4 {
		return req, fmt.Errorf("Invalid subject: Found extra components of subject, ensure your manifest name consists of only alphanumeric characters, dashes, and underscores.")
	}
	req.Lattice = parts[0]
	req.Operation = parts[2]
	if len(parts) == 4 {
		req.App = parts[3]
	}
	unsupported := fmt.Errorf("Unsupported subject: %s", subject)
	if parts[1] != "model" {
		return req, unsupported
	}
	switch req.Operation {
	case OpPut, OpList:
		if req.App != "" {
			return req, unsupported
		}
	case OpGet:
	case OpVersions, OpDelete, OpDeploy, OpUndeploy, OpStatus, OpHistory:
		if req.App == "" {
			return req, unsupported
		}
	default:
		return req, unsupported
	}
	return req, nil
}

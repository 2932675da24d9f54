package wadm

import (
	"github.com/wasmlattice/wash/lattice/wadm/model"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"
	"github.com/wasmlattice/wash/lattice/ctl"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

const internalStorageError = "Internal storage error"

// storageError is the API message for a storage failure: a key that would
// cross lattices says so, anything else is upstream's generic text.
func storageError(err error) string {
	var kc *KeyConflictError
	if errors.As(err, &kc) {
		return kc.Error()
	}
	return internalStorageError
}

// apiServer answers wadm.api.<lattice>.model.* (reference §1). It is
// stateless: everything lives in wadm_manifests and the wadm_status stream.
type apiServer struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	store   manifestStore
	status  jetstream.Stream
	prefix  string
	log     *slog.Logger
	timeout time.Duration
	// touched is called with the lattice of every request, so the process
	// can start that lattice's workers.
	touched func(lattice string)
	tracer  trace.Tracer
}

func (s *apiServer) subscribe() (*nats.Subscription, error) {
	return s.nc.QueueSubscribe(s.prefix+".>", ServerQueueGroup, s.handle)
}

func (s *apiServer) handle(m *nats.Msg) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	ctx, span := s.tracer.Start(ctx, "wadm.api", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("messaging.destination.name", m.Subject)))
	defer span.End()
	resp := s.dispatch(ctx, m)
	if e, ok := resp.(model.ErrorResponse); ok {
		span.SetStatus(codes.Error, e.Message)
	}
	if m.Reply == "" {
		return
	}
	b, err := model.Marshal(resp)
	if err != nil {
		b, _ = model.Marshal(model.NewErrorResponse("failed to encode response: " + err.Error()))
	}
	if err := m.Respond(b); err != nil {
		s.log.Warn("wadm: replying to API request failed", "subject", m.Subject, "err", err)
	}
}

func (s *apiServer) dispatch(ctx context.Context, m *nats.Msg) any {
	req, err := model.ParseAPISubject(s.prefix, m.Subject)
	if err != nil {
		return model.NewErrorResponse(err.Error())
	}
	if req.App != "" {
		if err := ctl.CheckName("app name", req.App); err != nil {
			return model.NewErrorResponse(err.Error()) // before the name reaches a KV key
		}
	}
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("wadm.lattice", req.Lattice),
		attribute.String("wadm.operation", req.Operation), attribute.String("wadm.app", req.App))
	if s.touched != nil {
		s.touched(req.Lattice)
	}
	switch req.Operation {
	case model.OpPut:
		ct := ""
		if m.Header != nil {
			if v, ok := m.Header["Content-Type"]; ok && len(v) > 0 {
				ct = v[0]
				if ct == "" {
					ct = " " // present but empty: not a supported type
				}
			}
		}
		return s.put(ctx, req.Lattice, m.Data, ct)
	case model.OpGet:
		if req.App == "" {
			return s.listResponse(ctx, req.Lattice)
		}
		return s.get(ctx, req.Lattice, req.App, m.Data)
	case model.OpList:
		models, err := s.summaries(ctx, req.Lattice)
		if err != nil {
			return model.NewErrorResponse(storageError(err))
		}
		return models
	case model.OpVersions:
		return s.versions(ctx, req.Lattice, req.App)
	case model.OpDelete:
		return s.del(ctx, req.Lattice, req.App, m.Data)
	case model.OpDeploy:
		return s.deploy(ctx, req.Lattice, req.App, m.Data)
	case model.OpUndeploy:
		return s.undeploy(ctx, req.Lattice, req.App, m.Data)
	case model.OpStatus:
		st, err := s.lastStatus(ctx, req.Lattice, req.App)
		if err != nil {
			return model.NewErrorResponse("Internal error when fetching status")
		}
		if st == nil {
			d := model.DefaultStatus
			st = &d
		}
		return model.StatusResponse{Result: model.StatusResultOK, Message: "Successfully fetched status for application " + req.App, Status: st}
	case model.OpHistory:
		return model.NewErrorResponse(model.HistoryUnsupported)
	}
	return model.NewErrorResponse("Unsupported subject: " + m.Subject)
}

// NewVersionID returns a fresh ULID, the version wadm gives a manifest
// without a version annotation.
func NewVersionID() string { return ulid.Make().String() }

func (s *apiServer) put(ctx context.Context, lattice string, data []byte, contentType string) any {
	if contentType == " " {
		return model.NewErrorResponse((&model.UnsupportedContentTypeError{ContentType: ""}).Error())
	}
	m, err := model.ParseManifestContentType(data, contentType)
	if err != nil {
		return model.NewErrorResponse(err.Error())
	}
	m.Metadata.Name = strings.TrimSpace(m.Metadata.Name)
	if msg := model.CheckPut(m); msg != "" {
		return model.NewErrorResponse(msg)
	}
	name := m.Metadata.Name
	sm, rev, err := s.store.get(ctx, lattice, name)
	if err == nil {
		// The lattice's app list must be writable too before the record is.
		_, _, err = s.store.names(ctx, lattice)
	}
	if err != nil {
		s.log.Warn("wadm: put", "app", name, "err", err)
		return model.NewErrorResponse(storageError(err))
	}
	if sm == nil {
		sm = &StoredManifest{}
	}
	prev := ""
	if c := sm.Current(); c != nil {
		prev = c.Version
	}
	if m.Version() == "" {
		if m.Metadata.Annotations == nil {
			m.Metadata.Annotations = map[string]string{}
		}
		m.Metadata.Annotations[model.VersionAnnotationKey] = NewVersionID()
	}
	if err := sm.AddVersion(m); err != nil {
		return model.NewErrorResponse(fmt.Sprintf("Manifest version %s already exists", m.Version()))
	}
	if err := s.store.put(ctx, lattice, name, sm, rev); err != nil {
		s.log.Warn("wadm: put", "app", name, "err", err)
		return model.NewErrorResponse(storageError(err))
	}
	if err := s.store.addName(ctx, lattice, name); err != nil {
		s.log.Warn("wadm: put", "app", name, "err", err)
		return model.NewErrorResponse(storageError(err))
	}
	msg := fmt.Sprintf("Successfully put manifest %s %s", name, prev)
	if missing := s.missingShared(ctx, lattice, name, m); len(missing) > 0 {
		msg += fmt.Sprintf(", but some shared components are not deployed: %s", model.DebugList(missing))
	}
	res := model.PutNewVersion
	if len(sm.Versions) == 1 {
		res = model.PutCreated
	}
	return model.PutModelResponse{Result: res, TotalVersions: len(sm.Versions), CurrentVersion: m.Version(), Message: msg, Name: name}
}

// missingShared lists the components of m that reference a shared app
// component not deployed elsewhere (current version annotated shared, some
// version deployed).
func (s *apiServer) missingShared(ctx context.Context, lattice, self string, m *model.Manifest) []string {
	hasRef := false
	for i := range m.Spec.Components {
		if m.Spec.Components[i].Properties.Application != nil && m.Spec.Components[i].Properties.Image == nil {
			hasRef = true
		}
	}
	if !hasRef {
		return nil
	}
	apps, err := s.store.list(ctx, lattice)
	if err != nil {
		return m.MissingSharedComponents(nil)
	}
	return m.MissingSharedComponents(sharedCandidates(apps, self))
}

// sharedCandidates are the current manifests of the deployed apps other than self: where the
// shared components an app references must come from.
func sharedCandidates(apps []storedApp, self string) []*model.Manifest {
	var out []*model.Manifest
	for _, a := range apps {
		if a.name == self || a.record.Deployed == nil {
			continue
		}
		if c := a.record.Current(); c != nil {
			out = append(out, c.Manifest)
		}
	}
	return out
}

// parseOptionalBody decodes the optional JSON body of an operation on one application into
// req; when it does not parse, msg is upstream's error message for it.
func parseOptionalBody(body []byte, req any, op string) (msg string, ok bool) {
	if len(body) == 0 {
		return "", true
	}
	if err := json.Unmarshal(body, req); err != nil {
		return "Unable to parse " + op + " application request: " + err.Error(), false
	}
	return "", true
}

func (s *apiServer) get(ctx context.Context, lattice, app string, body []byte) any {
	var req model.GetModelRequest
	if msg, ok := parseOptionalBody(body, &req, "get"); !ok {
		return model.NewErrorResponse(msg)
	}
	sm, _, err := s.store.get(ctx, lattice, app)
	if err != nil {
		return model.NewErrorResponse(storageError(err))
	}
	if sm == nil || len(sm.Versions) == 0 {
		return model.GetModelResponse{Result: model.GetNotFound, Message: "Application with the name " + app + " not found"}
	}
	v := sm.Current()
	msg := "Successfully fetched application " + app
	if req.Version != nil {
		v = sm.Get(*req.Version)
		if v == nil {
			return model.GetModelResponse{Result: model.GetNotFound, Message: fmt.Sprintf("Application %s with version %s doesn't exist", app, *req.Version)}
		}
		msg += " " + *req.Version
	}
	return model.GetModelResponse{Result: model.GetSuccess, Message: msg, Manifest: v.Manifest}
}

func (s *apiServer) summaries(ctx context.Context, lattice string) ([]model.ModelSummary, error) {
	apps, err := s.store.list(ctx, lattice)
	if err != nil {
		s.log.Warn("wadm: list", "lattice", lattice, "err", err)
		return nil, err
	}
	out := make([]model.ModelSummary, 0, len(apps))
	for _, a := range apps {
		cur := a.record.Current()
		if cur == nil {
			continue
		}
		var desc *string
		if d, ok := cur.Manifest.Description(); ok {
			desc = &d
		}
		st, err := s.lastStatus(ctx, lattice, a.name)
		if err != nil || st == nil {
			p := model.ListPlaceholderStatus
			st = &p
		}
		out = append(out, model.NewModelSummary(a.name, cur.Version, desc, a.record.Deployed, *st))
	}
	return out, nil
}

func (s *apiServer) listResponse(ctx context.Context, lattice string) any {
	models, err := s.summaries(ctx, lattice)
	if err != nil {
		return model.NewErrorResponse(storageError(err))
	}
	return model.ListModelsResponse{Result: model.GetSuccess, Message: "Successfully fetched list of applications", Models: models}
}

func (s *apiServer) versions(ctx context.Context, lattice, app string) any {
	sm, _, err := s.store.get(ctx, lattice, app)
	if err != nil {
		return model.NewErrorResponse(storageError(err))
	}
	if sm == nil {
		return model.VersionResponse{Result: model.GetNotFound, Message: "Application with the name " + app + " not found"}
	}
	return model.VersionResponse{Result: model.GetSuccess, Message: "Successfully fetched versions for application " + app, Versions: sm.VersionInfos()}
}

func (s *apiServer) del(ctx context.Context, lattice, app string, body []byte) any {
	var req model.DeleteModelRequest
	if msg, ok := parseOptionalBody(body, &req, "delete"); !ok {
		return model.NewErrorResponse(msg)
	}
	sm, rev, err := s.store.get(ctx, lattice, app)
	if err != nil {
		msg := storageError(err)
		if msg == internalStorageError {
			msg += " when deleting " + app
		}
		return model.DeleteModelResponse{Result: model.DeleteError, Message: msg}
	}
	var resp model.DeleteModelResponse
	switch {
	case sm == nil:
		resp = model.DeleteModelResponse{Result: model.DeleteNoop, Message: fmt.Sprintf("Application %s doesn't exist or was already deleted", app)}
	case req.Version == nil:
		if err := s.purgeApp(ctx, lattice, app); err != nil {
			return model.DeleteModelResponse{Result: model.DeleteError, Message: "Internal storage error when deleting " + app}
		}
		resp = model.DeleteModelResponse{Result: model.DeleteDeleted, Message: "Successfully deleted application " + app, Undeploy: true}
	default:
		v := *req.Version
		found, wasDeployed := sm.DeleteVersion(v)
		switch {
		case !found:
			resp = model.DeleteModelResponse{Result: model.DeleteNoop, Message: fmt.Sprintf("Application version %s doesn't exist", v)}
		case len(sm.Versions) == 0:
			if err := s.purgeApp(ctx, lattice, app); err != nil {
				return model.DeleteModelResponse{Result: model.DeleteError, Message: "Internal storage error when deleting " + app}
			}
			resp = model.DeleteModelResponse{Result: model.DeleteDeleted, Message: "Successfully deleted last version of application " + app, Undeploy: true}
		default:
			if err := s.store.put(ctx, lattice, app, sm, rev); err != nil {
				return model.DeleteModelResponse{Result: model.DeleteError, Message: "Internal storage error when deleting " + app}
			}
			resp = model.DeleteModelResponse{Result: model.DeleteDeleted, Message: fmt.Sprintf("Successfully deleted version %s of application %s", v, app), Undeploy: wasDeployed}
		}
	}
	if resp.Undeploy || resp.Result == model.DeleteNoop {
		if err := s.publishUnpublished(ctx, lattice, app); err != nil {
			return model.DeleteModelResponse{Result: model.DeleteError, Message: "Error notifying processors of newly undeployed manifest on delete. This is likely a transient error, so please retry the request: " + err.Error()}
		}
	}
	return resp
}

func (s *apiServer) purgeApp(ctx context.Context, lattice, app string) error {
	if err := s.store.removeName(ctx, lattice, app); err != nil {
		return err
	}
	return s.store.purge(ctx, lattice, app)
}

func (s *apiServer) deploy(ctx context.Context, lattice, app string, body []byte) any {
	var req model.DeployModelRequest
	if msg, ok := parseOptionalBody(body, &req, "deploy"); !ok {
		return model.NewErrorResponse(msg)
	}
	sm, rev, err := s.store.get(ctx, lattice, app)
	if err != nil {
		return model.DeployModelResponse{Result: model.DeployError, Message: storageError(err), Name: app, Version: req.Version}
	}
	if sm == nil || len(sm.Versions) == 0 {
		return model.DeployModelResponse{Result: model.DeployNotFound, Message: "Application with the name " + app + " not found", Name: app, Version: req.Version}
	}
	staged := sm.Current()
	if req.Version != nil && *req.Version != model.LatestVersion {
		staged = sm.Get(*req.Version)
		if staged == nil {
			return model.DeployModelResponse{Result: model.DeployError, Message: fmt.Sprintf("Application with the name '%s' does not have a version '%s' to deploy", app, *req.Version), Name: app, Version: req.Version}
		}
	}
	others, err := s.store.list(ctx, lattice)
	if err != nil {
		return model.DeployModelResponse{Result: model.DeployError, Message: storageError(err), Name: app, Version: req.Version}
	}
	for _, o := range others {
		if o.name == app {
			continue
		}
		dm := o.record.DeployedManifest()
		if dm == nil {
			continue
		}
		ids := map[string]bool{}
		for i := range dm.Spec.Components {
			if id := dm.Spec.Components[i].Properties.ID; id != nil {
				ids[*id] = true
			}
		}
		for i := range staged.Manifest.Spec.Components {
			if id := staged.Manifest.Spec.Components[i].Properties.ID; id != nil && ids[*id] {
				return model.NewErrorResponse(fmt.Sprintf("Component identifier '%s' is already deployed in a different application '%s'.", *id, o.name))
			}
		}
	}
	if missing := staged.Manifest.MissingSharedComponents(sharedCandidates(others, app)); len(missing) > 0 {
		return model.NewErrorResponse("Application contains shared components that are not deployed in other applications: " + model.DebugList(missing))
	}
	v := staged.Version
	sm.Deployed = &v
	if err := s.store.put(ctx, lattice, app, sm, rev); err != nil {
		return model.DeployModelResponse{Result: model.DeployError, Message: storageError(err), Name: app, Version: &v}
	}
	ev, err := NewManifestPublishedEvent(uuid.NewString(), time.Now(), staged.Manifest)
	if err == nil {
		err = s.publishEvent(ctx, lattice, EventManifestPublished, ev)
	}
	if err != nil {
		return model.DeployModelResponse{Result: model.DeployError, Message: "Error notifying processors of newly deployed manifest. This is likely a transient error, so please retry the request", Name: app, Version: &v}
	}
	return model.DeployModelResponse{Result: model.DeployAcknowledged, Message: fmt.Sprintf("Successfully deployed application %s %s", app, v), Name: app, Version: &v}
}

func (s *apiServer) undeploy(ctx context.Context, lattice, app string, body []byte) any {
	var req map[string]any
	if msg, ok := parseOptionalBody(body, &req, "undeploy"); !ok {
		return model.NewErrorResponse(msg)
	}
	sm, rev, err := s.store.get(ctx, lattice, app)
	if err != nil {
		return model.DeployModelResponse{Result: model.DeployError, Message: storageError(err), Name: app}
	}
	if sm == nil {
		return model.DeployModelResponse{Result: model.DeployNotFound, Message: "Application with the name " + app + " not found", Name: app}
	}
	msg := "Successfully undeployed application " + app
	if sm.Deployed == nil {
		msg = fmt.Sprintf("Application %s was already undeployed", app)
	} else {
		sm.Deployed = nil
		if err := s.store.put(ctx, lattice, app, sm, rev); err != nil {
			return model.DeployModelResponse{Result: model.DeployError, Message: storageError(err), Name: app}
		}
	}
	if err := s.publishUnpublished(ctx, lattice, app); err != nil {
		return model.DeployModelResponse{Result: model.DeployError, Message: "Error notifying processors of undeployed manifest. This is likely a transient error, so please retry the request", Name: app}
	}
	return model.DeployModelResponse{Result: model.DeployAcknowledged, Message: msg, Name: app}
}

func (s *apiServer) publishUnpublished(ctx context.Context, lattice, app string) error {
	ev, err := NewManifestUnpublishedEvent(uuid.NewString(), time.Now(), app)
	if err != nil {
		return err
	}
	return s.publishEvent(ctx, lattice, EventManifestUnpublished, ev)
}

// publishEvent sends a wadm.evt CloudEvent with an acknowledged JetStream
// publish, so the event is in wadm_events before the API answers.
func (s *apiServer) publishEvent(ctx context.Context, lattice, key string, ev CloudEvent) error {
	b, err := model.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = s.js.Publish(ctx, EventSubject(lattice, key), b)
	return err
}

// lastStatus reads the newest status of an app from wadm_status (nil when
// none was published).
func (s *apiServer) lastStatus(ctx context.Context, lattice, app string) (*model.Status, error) {
	return lastStatus(ctx, s.status, lattice, app)
}

func lastStatus(ctx context.Context, stream jetstream.Stream, lattice, app string) (*model.Status, error) {
	msg, err := stream.GetLastMsgForSubject(ctx, model.StatusSubject(lattice, app))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st model.Status
	if err := json.Unmarshal(msg.Data, &st); err != nil {
		return nil, fmt.Errorf("decoding status of %s: %w", app, err)
	}
	return &st, nil
}

package wadm

import (
	"github.com/wasmlattice/wash/lattice/wadm/model"

	"encoding/json"
	"fmt"
	"time"
)

// wadm.evt event keys and CloudEvent types (reference §2.5).
const (
	EventManifestPublished       = "manifest_published"
	EventManifestUnpublished     = "manifest_unpublished"
	EventTypeManifestPublished   = "com.wadm.manifest_published"
	EventTypeManifestUnpublished = "com.wadm.manifest_unpublished"
	EventSource                  = "wadm"
)

// EventSubject returns wadm.evt.<lattice>.<key>.
func EventSubject(lattice, key string) string {
	return model.EventSubjectPrefix + "." + lattice + "." + key
}

// CloudEvent is a CloudEvents 1.0 structured-mode JSON envelope.
type CloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Source          string          `json:"source"`
	DataContentType string          `json:"datacontenttype"`
	Time            time.Time       `json:"time"`
	Data            json.RawMessage `json:"data"`
}

// ManifestUnpublished is the data of com.wadm.manifest_unpublished.
type ManifestUnpublished struct {
	Name string `json:"name"`
}

func newWadmEvent(id, typ string, at time.Time, data any) (CloudEvent, error) {
	b, err := model.Marshal(data)
	if err != nil {
		return CloudEvent{}, fmt.Errorf("encode %s data: %w", typ, err)
	}
	return CloudEvent{SpecVersion: "1.0", ID: id, Type: typ, Source: EventSource,
		DataContentType: "application/json", Time: at.UTC(), Data: b}, nil
}

// NewManifestPublishedEvent builds the deploy announcement; id should be a
// fresh UUID v4.
func NewManifestPublishedEvent(id string, at time.Time, m *model.Manifest) (CloudEvent, error) {
	return newWadmEvent(id, EventTypeManifestPublished, at, m)
}

// NewManifestUnpublishedEvent builds the undeploy announcement.
func NewManifestUnpublishedEvent(id string, at time.Time, app string) (CloudEvent, error) {
	return newWadmEvent(id, EventTypeManifestUnpublished, at, ManifestUnpublished{Name: app})
}

// PublishedManifest decodes the data of a manifest_published event.
func (e *CloudEvent) PublishedManifest() (*model.Manifest, error) {
	if e.Type != EventTypeManifestPublished {
		return nil, fmt.Errorf("event type %s is not %s", e.Type, EventTypeManifestPublished)
	}
	return model.ParseStoredManifestJSON(e.Data)
}

// UnpublishedName decodes the data of a manifest_unpublished event.
func (e *CloudEvent) UnpublishedName() (string, error) {
	if e.Type != EventTypeManifestUnpublished {
		return "", fmt.Errorf("event type %s is not %s", e.Type, EventTypeManifestUnpublished)
	}
	var d ManifestUnpublished
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return "", fmt.Errorf("decode %s data: %w", e.Type, err)
	}
	return d.Name, nil
}

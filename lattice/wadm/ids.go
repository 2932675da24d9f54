package wadm

import (
	"github.com/wasmlattice/wash/lattice/wadm/model"

	"crypto/sha256"
	"encoding/hex"
)

func hashID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ScalerIDForComponent is the id of a component or provider spread/daemon
// scaler (kind is KindSpreadScaler or KindDaemonScaler).
func ScalerIDForComponent(kind, modelName, componentName, id, imageRef string, configNames []string) string {
	parts := append([]string{kind, modelName, componentName, id, imageRef}, configNames...)
	return hashID(parts...)
}

// ScalerIDForLink is the id of a link scaler.
func ScalerIDForLink(modelName, linkName, sourceID, targetID, namespace, pkg string, interfaces, sourceConfig, targetConfig []string) string {
	parts := []string{model.KindLinkScaler, modelName, linkName, sourceID, targetID, namespace, pkg}
	parts = append(parts, interfaces...)
	parts = append(parts, sourceConfig...)
	parts = append(parts, targetConfig...)
	return hashID(parts...)
}

// SpreadAnnotations are the annotations a spread/daemon scaler puts on what
// it scales; an instance belongs to a spread only if it carries both.
func SpreadAnnotations(spreadName, scalerID string) map[string]string {
	return map[string]string{model.ScalerAnnotation: scalerID, model.SpreadNameAnnotation: spreadName}
}

// ManagedAnnotations are the annotations the command worker always adds.
func ManagedAnnotations(modelName string) map[string]string {
	return map[string]string{model.ManagedByAnnotation: model.ManagedByWadm, model.AppSpecAnnotation: modelName}
}

// WithManagedAnnotations returns ann plus the managed annotations (which win).
func WithManagedAnnotations(ann map[string]string, modelName string) map[string]string {
	out := make(map[string]string, len(ann)+2)
	for k, v := range ann {
		out[k] = v
	}
	for k, v := range ManagedAnnotations(modelName) {
		out[k] = v
	}
	return out
}

// hasAll reports whether have contains every key/value of want.
func hasAll(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

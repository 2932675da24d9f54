package events

import "encoding/json"

// marshalSorted relies on encoding/json writing map keys in sorted order, as serde_json's
// json!{} does for every upstream event payload.
func marshalSorted(m map[string]any) ([]byte, error) { return json.Marshal(m) }

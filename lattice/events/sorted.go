package events

import (
	"bytes"
	"encoding/json"

	"github.com/wasmlattice/wash/lattice/ctl"
)

// sortedJSON encodes v with every object's keys sorted, at every depth. The Rust host builds
// event data as serde_json Values, whose maps are ordered by key; re-encoding through a generic
// value gives the same bytes (encoding/json sorts map keys), whatever the Go struct order.
func sortedJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	return ctl.Marshal(generic)
}

package wadm

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestJSTimedOut pins which JetStream setup failures wadm tries again at start (see
// setUpJetStream): no answer in time, or a cluster without a leader yet; not a server
// without JetStream or a refused request, which a retry cannot mend.
func TestJSTimedOut(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("opening stream wasmbus_events: %w", context.DeadlineExceeded), true},
		{fmt.Errorf("creating KV bucket wadm_state: %w", nats.ErrTimeout), true},
		{fmt.Errorf("creating stream wadm_events: %w", &jetstream.APIError{Code: 503, ErrorCode: jsErrCodeClusterNotAvailable}), true},
		{fmt.Errorf("opening KV bucket wadm_manifests: %w", jetstream.ErrJetStreamNotEnabled), false},
		{fmt.Errorf("creating stream wadm_events: %w", &jetstream.APIError{Code: 400, ErrorCode: jetstream.JSErrCodeBadRequest}), false},
		{context.Canceled, false},
	} {
		if got := jsTimedOut(c.err); got != c.want {
			t.Errorf("jsTimedOut(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

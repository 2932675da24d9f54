package providertest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/host/providers/providertest/lifecycle"
)

// Reports subscribes to the reports of the test provider started as providerID, before it
// starts, so none is missed.
func Reports(t testing.TB, nc *nats.Conn, providerID string) chan *nats.Msg {
	t.Helper()
	ch := make(chan *nats.Msg, 64)
	if _, err := nc.ChanSubscribe("testprovider."+providerID, ch); err != nil {
		t.Fatal(err)
	}
	return ch
}

// NextReport waits up to 10s for the next report of event want, passing over the others.
func NextReport(t testing.TB, ch chan *nats.Msg, want string) lifecycle.Report {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-ch:
			var r lifecycle.Report
			if err := json.Unmarshal(m.Data, &r); err != nil {
				t.Fatal(err)
			}
			if r.Event == want {
				return r
			}
		case <-deadline:
			t.Fatalf("no %s report from the test provider", want)
		}
	}
}

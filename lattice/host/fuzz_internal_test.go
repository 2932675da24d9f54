package host

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/lattice/ctl"
)

// fuzzOps are the control subjects a host decodes. Those that start work on another goroutine
// (scale, update, provider start) only go through the checks and the decoding here: their
// references could name any registry on the internet.
var fuzzOps = []struct {
	op, arg string
	run     bool
}{
	{"host.ping", "", true}, {"host.get", "self", true}, {"component.auction", "", true},
	{"provider.auction", "", true}, {"label.put", "self", true}, {"label.del", "self", true},
	{"link.put", "", true}, {"link.del", "", true}, {"link.get", "", true}, {"claims.get", "", true},
	{"config.put", "fuzzcfg", true}, {"config.get", "fuzzcfg", true}, {"config.del", "fuzzcfg", true},
	{"registry.put", "", true}, {"provider.stop", "self", true},
	{"component.scale", "self", false}, {"component.update", "self", false}, {"provider.start", "self", false},
	{"host.stop", "other", true},
}

// FuzzControlRequest sends bytes as the body of each control request to a real host on an
// embedded NATS server: every request is answered (success or a failure message), nothing
// panics, and the host keeps answering pings.
func FuzzControlRequest(f *testing.F) {
	h := startInternalHost(f, Config{Lattice: "fuzz", HeartbeatInterval: time.Hour})
	for i := range fuzzOps {
		for _, body := range []string{`{}`, `{"component_id":"c","component_ref":"file:///nope.wasm","max_instances":1}`,
			`{"source_id":"a","target":"b","name":"n","wit_namespace":"wasi","wit_package":"http","interfaces":["x"],"source_config":["fuzzcfg"]}`,
			`{"k":"v"}`, `{"key":"zone","value":"x"}`, `{"reg.io":{"username":"u","password":"p"}}`, `{"timeout":18446744073709551615}`} {
			f.Add(uint8(i), body)
		}
	}
	f.Fuzz(func(t *testing.T, op uint8, body string) {
		o := fuzzOps[int(op)%len(fuzzOps)]
		arg := o.arg
		if arg == "self" {
			arg = h.ID()
		}
		subject := h.subjects.Of(o.op)
		if arg != "" {
			subject += "." + arg
		}
		data := []byte(body)
		if !o.run {
			if checkRequestNames(o.op, arg, data) != nil {
				return
			}
			var v any
			switch o.op {
			case "provider.start":
				v = &ctl.StartProviderCommand{}
			case "component.update":
				v = &ctl.UpdateComponentCommand{}
			default:
				v = &ctl.ScaleComponentCommand{}
			}
			_ = decode(data, v)
			return
		}
		resp, _ := h.dispatch(context.Background(), &nats.Msg{Subject: subject, Data: data})
		if _, err := ctl.Marshal(resp); err != nil {
			t.Fatalf("%s: reply does not encode: %v", o.op, err)
		}
		if r, _ := h.dispatch(context.Background(), &nats.Msg{Subject: h.subjects.Of("host.ping")}); !r.Success {
			t.Fatalf("the host stopped answering pings after %s %q", o.op, body)
		}
	})
}

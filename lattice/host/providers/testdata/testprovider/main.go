// testprovider is a minimal native capability provider for the host's tests. It speaks the
// provider side of the protocol (reference §6.3-6.6): it reads HostData from stdin, answers
// health and shutdown requests and takes link puts/deletes. Each thing it sees is reported on
// testprovider.<provider_key> so tests can follow it.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

type hostData struct {
	HostID          string            `json:"host_id"`
	Lattice         string            `json:"lattice_rpc_prefix"`
	URL             string            `json:"lattice_rpc_url"`
	ProviderKey     string            `json:"provider_key"`
	InstanceID      string            `json:"instance_id"`
	LinkDefinitions []json.RawMessage `json:"link_definitions"`
	Config          map[string]string `json:"config"`
	XKeyPrivate     string            `json:"provider_xkey_private_key"`
	EnvValues       *map[string]any   `json:"env_values"`
	UserJWT         string            `json:"lattice_rpc_user_jwt"`
	UserSeed        string            `json:"lattice_rpc_user_seed"`
}

type report struct {
	Event      string            `json:"event"`
	InstanceID string            `json:"instance_id"`
	PID        int               `json:"pid"`
	Env        []string          `json:"env,omitempty"`
	Links      int               `json:"links,omitempty"`
	Config     map[string]string `json:"config,omitempty"`
	Link       json.RawMessage   `json:"link,omitempty"`
	HostData   json.RawMessage   `json:"host_data,omitempty"`
}

func main() {
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil {
		fail("reading host data: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line))
	if err != nil {
		fail("decoding host data: %v", err)
	}
	var hd hostData
	if err := json.Unmarshal(raw, &hd); err != nil {
		fail("parsing host data: %v", err)
	}
	if hd.EnvValues == nil || hd.LinkDefinitions == nil {
		fail("host data lacks the required env_values or link_definitions")
	}
	// as the Rust SDK: a user JWT and seed when the host hands them over, else whatever
	// the URL carries (user:password@)
	var opts []nats.Option
	if hd.UserJWT != "" && hd.UserSeed != "" {
		opts = append(opts, nats.UserJWTAndSeed(hd.UserJWT, hd.UserSeed))
	}
	nc, err := nats.Connect(hd.URL, opts...)
	if err != nil {
		fail("connecting to %s: %v", hd.URL, err)
	}
	rpc := "wasmbus.rpc." + hd.Lattice + "."
	out := "testprovider." + hd.ProviderKey
	say := func(r report) {
		r.InstanceID, r.PID = hd.InstanceID, os.Getpid()
		b, _ := json.Marshal(r)
		_ = nc.Publish(out, b)
		_ = nc.Flush()
	}
	done := make(chan struct{})
	subs := map[string]nats.MsgHandler{
		rpc + hd.ProviderKey + ".health": func(m *nats.Msg) {
			_ = m.Respond([]byte(`{"healthy":true,"message":"ok"}`))
		},
		rpc + hd.ProviderKey + ".default.shutdown": func(m *nats.Msg) {
			var req struct {
				HostID string `json:"host_id"`
			}
			if json.Unmarshal(m.Data, &req) != nil || req.HostID != hd.HostID {
				return // not our host: ignore, as the SDK does
			}
			say(report{Event: "shutdown"})
			_ = m.Respond([]byte("shutting down"))
			close(done)
		},
		rpc + hd.ProviderKey + ".linkdefs.del": func(m *nats.Msg) {
			say(report{Event: "link_del", Link: m.Data})
		},
		// what wasmcloud-provider-sdk subscribes to for on_config_update
		rpc + hd.ProviderKey + ".config.update": func(m *nats.Msg) {
			var cfg map[string]string
			if err := json.Unmarshal(m.Data, &cfg); err != nil {
				fail("config update is not a string map: %v", err)
			}
			say(report{Event: "config_update", Config: cfg})
		},
	}
	putSubject := rpc + hd.ProviderKey + ".linkdefs.put"
	if hd.XKeyPrivate != "" {
		// 1.1+ hosts send link puts on the provider's xkey public key.
		kp, err := nkeys.FromCurveSeed([]byte(hd.XKeyPrivate))
		if err != nil {
			fail("provider xkey: %v", err)
		}
		pub, _ := kp.PublicKey()
		putSubject = rpc + pub + ".linkdefs.put"
		subs[rpc+hd.ProviderKey+".linkdefs.put"] = func(*nats.Msg) {} // legacy copy, ignored
	}
	seen := map[string]bool{}
	subs[putSubject] = func(m *nats.Msg) {
		if seen[string(m.Data)] {
			return // the same link may come on both subjects
		}
		seen[string(m.Data)] = true
		say(report{Event: "link_put", Link: m.Data})
	}
	for subj, h := range subs {
		if _, err := nc.Subscribe(subj, h); err != nil {
			fail("subscribing %s: %v", subj, err)
		}
	}
	if err := nc.Flush(); err != nil {
		fail("flush: %v", err)
	}
	say(report{Event: "started", Env: os.Environ(), Links: len(hd.LinkDefinitions), Config: hd.Config, HostData: raw})
	<-done
	nc.Drain()
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "testprovider: "+format+"\n", args...)
	os.Exit(1)
}

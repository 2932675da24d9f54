package commands_test

import (
	"strings"
	"testing"
)

func TestConfigCommands(t *testing.T) {
	l := newLattice(t)
	l.host(t, "default", nil)
	l.host(t, "other", nil)

	r := ok(t, l.args("default", "config", "put", "greeting", "message=hello world", "token=a=b==")...)
	if r.out != "Configuration 'greeting' put successfully.\n" {
		t.Fatalf("put text = %q", r.out)
	}
	// Text: a key/value table (tab-separated when piped), sorted by key.
	r = ok(t, l.args("default", "config", "get", "greeting")...)
	if r.out != "message\thello world\ntoken\ta=b==\n" {
		t.Fatalf("get text = %q", r.out)
	}
	// JSON: the bare map, no success key.
	r = ok(t, l.args("default", "config", "get", "greeting", "-o", "json")...)
	j := decodeJSON(t, r.out)
	if len(j) != 2 || j["message"] != "hello world" || j["token"] != "a=b==" {
		t.Fatalf("get JSON = %v", j)
	}
	// The other lattice does not see it.
	fails(t, 1, `no configuration named "greeting" in lattice "other"`, l.args("other", "config", "get", "greeting")...)
	r = ok(t, l.args("default", "config", "del", "greeting", "-o", "json")...)
	if j := decodeJSON(t, r.out); j["success"] != true {
		t.Fatalf("del JSON = %v", j)
	}
	fails(t, 1, `no configuration named "greeting"`, l.args("default", "config", "get", "greeting")...)

	fails(t, 2, `invalid config value "novalue"`, l.args("default", "config", "put", "c", "novalue")...)
	fails(t, 2, "reserved for secret references", l.args("default", "config", "put", "SECRET_x", "a=b")...)
	fails(t, 2, `invalid config name "a.b"`, l.args("default", "config", "get", "a.b")...)
	fails(t, 1, `no host answered config.put in lattice "nohosts"`, l.args("nohosts", "config", "put", "c", "a=b")...)
}

func TestLinkCommands(t *testing.T) {
	l := newLattice(t)
	l.host(t, "default", nil)
	l.host(t, "other", nil)
	other := l.record(t, "other")

	ok(t, l.args("default", "config", "put", "addr", "address=127.0.0.1:8080")...)
	r := ok(t, l.args("default", "link", "put", "http", "hello", "wasi", "http", "--interface", "incoming-handler", "--source-config", "addr")...)
	if r.out != "Published link (http) -> (hello) successfully\n" {
		t.Fatalf("put text = %q", r.out)
	}
	r = ok(t, l.args("default", "link", "put", "hello", "kv", "wasi", "keyvalue", "--interfaces", "store", "--interface", "atomics", "-l", "cache", "-o", "json")...)
	if j := decodeJSON(t, r.out); j["source_id"] != "hello" || j["target"] != "kv" || j["success"] != true {
		t.Fatalf("put JSON = %v", j)
	}
	ok(t, l.args("default", "link", "put", "hello", "kv2", "wasi", "keyvalue", "--interface", "store", "-l", "backup")...)

	r = ok(t, l.args("default", "link", "query", "-o", "json")...)
	links := decodeJSON(t, r.out)["links"].([]any)
	if len(links) != 3 {
		t.Fatalf("links = %v", links)
	}
	r = ok(t, l.args("default", "link", "get")...)
	if !strings.Contains(r.out, "http\thello\twasi:http/incoming-handler\tdefault\n") || !strings.Contains(r.out, "wasi:keyvalue/store,atomics\tcache") {
		t.Fatalf("query text = %q", r.out)
	}
	if r := ok(t, l.args("other", "link", "query", "-o", "json")...); len(decodeJSON(t, r.out)["links"].([]any)) != 0 {
		t.Fatalf("links leaked into lattice other: %s", r.out)
	}

	// A config that does not exist: the host refuses, one line.
	fails(t, 1, "Configuration nope not found", l.args("default", "link", "put", "a", "b", "wasi", "http", "--interface", "x", "--target-config", "nope")...)
	// Missing target / interface / arguments.
	fails(t, 2, "accepts 4 arg(s), received 3", l.args("default", "link", "put", "a", "wasi", "http", "--interface", "x")...)
	fails(t, 2, "empty target id", l.args("default", "link", "put", "a", "", "wasi", "http", "--interface", "x")...)
	fails(t, 2, "missing --interface", l.args("default", "link", "put", "a", "b", "wasi", "http")...)

	// del without --link-name is ambiguous when several names exist.
	fails(t, 1, "hello has 2 links on wasi:keyvalue (named backup, cache): pick one with --link-name", l.args("default", "link", "del", "hello", "wasi", "keyvalue")...)
	r = ok(t, l.args("default", "link", "del", "hello", "wasi", "keyvalue", "-l", "cache")...)
	if r.out != "Deleted link for hello on wasi:keyvalue (cache) successfully\n" {
		t.Fatalf("del text = %q", r.out)
	}
	// Now only one remains, so no name is needed.
	ok(t, l.args("default", "link", "del", "hello", "wasi", "keyvalue")...)
	fails(t, 1, `no link from hello on wasi:keyvalue named "default"`, l.args("default", "link", "del", "hello", "wasi", "keyvalue")...)

	// --all needs --force when nobody can be asked.
	fails(t, 2, "add --force", l.args("default", "link", "del", "--all")...)
	r = ok(t, l.args("default", "link", "del", "--all", "--force")...)
	if r.out != "Deleted 1 link(s) from lattice \"default\"\n" {
		t.Fatalf("del --all = %q", r.out)
	}
	if r := ok(t, l.args("default", "link", "query", "-o", "json")...); len(decodeJSON(t, r.out)["links"].([]any)) != 0 {
		t.Fatalf("links left: %s", r.out)
	}
	if n := other.names(); len(n) != 0 {
		t.Fatalf("events in lattice other: %v", n)
	}
}

func TestLabelCommand(t *testing.T) {
	l := newLattice(t)
	h := l.host(t, "default", nil)
	hx := l.host(t, "other", nil)

	r := ok(t, l.args("default", "label", h.FriendlyName(), "zone=eu", "tier=gold,team=x")...)
	if r.out != "Host `"+h.FriendlyName()+"` labeled with `zone=eu,tier=gold,team=x`\n" {
		t.Fatalf("label text = %q", r.out)
	}
	if got := h.Describe().Labels; got["zone"] != "eu" || got["tier"] != "gold" || got["team"] != "x" {
		t.Fatalf("labels = %v", got)
	}
	// Labels drive auctions.
	wasm := wasmModule(t)
	r = ok(t, l.args("default", "start", "component", wasm, "c", "-c", "zone=eu", "-o", "json")...)
	if decodeJSON(t, r.out)["host_id"] != h.ID() {
		t.Fatalf("auction ignored the new label: %s", r.out)
	}
	r = ok(t, l.args("default", "label", h.ID()[:6], "zone", "team", "--delete", "-o", "json")...)
	j := decodeJSON(t, r.out)
	if j["deleted"] != true || len(j["processed"].([]any)) != 2 {
		t.Fatalf("delete JSON = %v", j)
	}
	if got := h.Describe().Labels; got["zone"] != "" || got["tier"] != "gold" {
		t.Fatalf("labels after delete = %v", got)
	}
	if _, ok := hx.Describe().Labels["tier"]; ok {
		t.Fatal("label reached the other lattice's host")
	}

	fails(t, 2, "hostcore.* labels are set by the host", l.args("default", "label", h.ID(), "hostcore.os=plan9")...)
	fails(t, 2, "hostcore.* labels are set by the host", l.args("default", "label", h.ID(), "HostCore.arch", "--delete")...)
	fails(t, 2, `invalid label "zone"`, l.args("default", "label", h.ID(), "zone")...)
	fails(t, 1, `no host matching "NOTAHOST"`, l.args("default", "label", "NOTAHOST", "a=b")...)
	fails(t, 1, `no host matching "`+hx.ID()+`" in lattice "default"`, l.args("default", "label", hx.ID(), "a=b")...)
}

package natsd_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wasmlattice/wash/internal/testnats"
	"github.com/wasmlattice/wash/internal/testtool"
	"github.com/wasmlattice/wash/lattice/natsd"
)

func freePort(t *testing.T) int { return testtool.FreePort(t) }

func TestJetStreamAndDomain(t *testing.T) {
	s, err := natsd.Start(natsd.Options{StoreDir: t.TempDir(), JetStreamDomain: "edge"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.NewWithDomain(nc, "edge")
	ctx := t.Context()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
}

func TestStatePersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	for i, want := range []bool{false, true} {
		s, err := natsd.Start(natsd.Options{Port: port, StoreDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		nc, _ := nats.Connect(s.ClientURL())
		js, _ := jetstream.New(nc)
		kv, err := js.CreateOrUpdateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "persist"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = kv.Get(t.Context(), "k")
		if got := err == nil; got != want {
			t.Fatalf("run %d: key present = %v, want %v", i, got, want)
		}
		_, _ = kv.Put(t.Context(), "k", []byte("v"))
		nc.Close()
		s.Shutdown()
	}
}

func TestPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = natsd.Start(natsd.Options{Port: port, StoreDir: t.TempDir()})
	if !errors.Is(err, natsd.ErrPortInUse) {
		t.Fatalf("want ErrPortInUse, got %v", err)
	}
}

func TestWebsocket(t *testing.T) {
	ws := freePort(t)
	s, err := natsd.Start(natsd.Options{StoreDir: t.TempDir(), WebsocketPort: ws})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	nc, err := nats.Connect("ws://127.0.0.1:" + strconv.Itoa(ws))
	if err != nil {
		t.Fatalf("websocket client: %v", err)
	}
	nc.Close()
}

// TestLeafNodeRemote: the embedded server joins a hub as a leaf node, so messages cross.
func TestLeafNodeRemote(t *testing.T) {
	leafPort := freePort(t)
	hub, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true,
		LeafNode: server.LeafNodeOpts{Host: "127.0.0.1", Port: leafPort}})
	if err != nil {
		t.Fatal(err)
	}
	go hub.Start()
	defer hub.Shutdown()
	if !hub.ReadyForConnections(5 * time.Second) {
		t.Fatal("hub not ready")
	}
	leaf, err := natsd.Start(natsd.Options{StoreDir: t.TempDir(), RemoteURL: "nats-leaf://127.0.0.1:" + strconv.Itoa(leafPort)})
	if err != nil {
		t.Fatal(err)
	}
	defer leaf.Shutdown()
	hubConn, _ := nats.Connect(hub.ClientURL())
	defer hubConn.Close()
	sub, _ := hubConn.SubscribeSync("wasmbus.evt.default.>")
	_ = hubConn.Flush()
	leafConn, _ := nats.Connect(leaf.ClientURL())
	defer leafConn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		_ = leafConn.Publish("wasmbus.evt.default.host_heartbeat", []byte("{}"))
		if _, err := sub.NextMsg(100 * time.Millisecond); err == nil {
			return
		}
	}
	t.Fatal("a message published on the leaf never reached the hub")
}

func TestConfigFile(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(conf, []byte("max_payload: 2MB\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := natsd.Start(natsd.Options{StoreDir: t.TempDir(), ConfigFile: conf})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	nc, _ := nats.Connect(s.ClientURL())
	defer nc.Close()
	if nc.MaxPayload() != 2<<20 {
		t.Fatalf("max payload %d: config file not applied", nc.MaxPayload())
	}
	if _, err := natsd.Start(natsd.Options{ConfigFile: filepath.Join(t.TempDir(), "missing.conf")}); err == nil {
		t.Fatal("missing config file accepted")
	}
}

// TestDisconnectAdvisories: a client of the embedded server learns at once that another client's
// connection closed, with that client's name (wadm notices a killed host this way).
func TestDisconnectAdvisories(t *testing.T) {
	s, nc := testnats.Connected(t)
	ch := make(chan *nats.Msg, 4)
	if _, err := nc.ChanSubscribe(natsd.DisconnectAdvisories, ch); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	other, err := nats.Connect(s.URL, nats.Name("wasmbus"))
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	select {
	case m := <-ch:
		if !strings.Contains(string(m.Data), `"name":"wasmbus"`) {
			t.Fatalf("advisory without the client name: %s", m.Data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no disconnect advisory")
	}
}

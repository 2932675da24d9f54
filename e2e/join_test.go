package e2e

import (
	"encoding/json"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/lattice/ctl"
	"github.com/wasmlattice/wash/lattice/host/providers/providertest"
	"github.com/wasmlattice/wash/lattice/secrets"
)

// hostLabels lists the hosts `wash get hosts` sees with args, as id -> labels.
func hostLabels(t *testing.T, e *env, args ...string) map[string]map[string]string {
	t.Helper()
	var hosts struct {
		Hosts []ctl.Host `json:"hosts"`
	}
	decodeJSON(t, e.must(append([]string{"get", "hosts", "-o", "json"}, args...)...).stdout, &hosts)
	out := map[string]map[string]string{}
	for _, h := range hosts.Hosts {
		out[h.ID] = h.Labels
	}
	return out
}

// notOnCmdline fails when a process recorded in e's WASH_HOME has secret on its command line,
// which any user can read, or in its environment.
func notOnCmdline(t *testing.T, e *env, secret string) {
	t.Helper()
	for _, pid := range e.pids() {
		for _, f := range []string{"cmdline", "environ"} {
			if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + f); err == nil && strings.Contains(string(b), secret) {
				t.Fatalf("process %d has a secret in its %s", pid, f)
			}
		}
	}
}

// TestUpJoinsNATSOfAnotherMachine: a second `wash up` with its own WASH_HOME (another machine)
// joins the NATS and lattice the first one runs, as upstream documents for production, each with
// its own labels; `wash down` there stops only its own host.
func TestUpJoinsNATSOfAnotherMachine(t *testing.T) {
	a := newEnv(t)
	a.must("up", "-d", "--nats-port", a.portArg(), "--label", "machine=a")
	b := envOn(t, a.port)
	r := b.must("up", "-d", "--nats-host", "127.0.0.1", "--nats-port", a.portArg(), "--lattice", "default", "--label", "machine=b")
	if !strings.Contains(r.stdout, "host joined lattice") || !strings.Contains(r.stdout, "Stop it with `wash down`.") {
		t.Fatalf("second machine's up output:\n%s", r)
	}
	machines := map[string]bool{}
	for _, labels := range hostLabels(t, a, "-p", a.portArg()) {
		machines[labels["machine"]] = true
	}
	if len(machines) != 2 || !machines["a"] || !machines["b"] {
		t.Fatalf("get hosts sees machines %v, want a and b", machines)
	}
	// A third up from b's home without --multi-local is refused: b already runs a host there.
	if r := b.run("up", "-d", "--nats-port", a.portArg()); r.code != 1 || !strings.Contains(r.stderr, "--multi-local") {
		t.Fatalf("second up from the same home:\n%s", r)
	}
	// `wash down` on machine b stops b's host, not a's, and leaves a's NATS alone.
	r = b.must("down")
	if !strings.Contains(r.stdout, "stopped host") || !strings.Contains(r.stdout, "not started by wash") {
		t.Fatalf("down on the second machine:\n%s", r)
	}
	left := hostLabels(t, a, "-p", a.portArg())
	if len(left) != 1 {
		t.Fatalf("after b's down: %v", left)
	}
	for _, l := range left {
		if l["machine"] != "a" {
			t.Fatalf("after b's down the remaining host is %v", l)
		}
	}
	a.must("down")
}

// TestUpNATSHostErrors: a --nats-host that does not resolve, an address of another machine and a
// port held by something that is not NATS each get their own one-line reason, never a wrong
// "port in use"; user:password@ in --nats-host is credentials, not part of the address.
func TestUpNATSHostErrors(t *testing.T) {
	e := newEnv(t)
	r := e.run("up", "-d", "--nats-host", "no-such-host.invalid", "--nats-port", e.portArg())
	if r.code != 1 || !strings.Contains(r.stderr, "does not resolve") || strings.Contains(r.stderr, "in use") {
		t.Fatalf("unresolvable host:\n%s", r)
	}
	r = e.run("up", "-d", "--nats-host", "192.0.2.1", "--nats-port", e.portArg())
	if r.code != 1 || !strings.Contains(r.stderr, "only start one on an address of this machine") {
		t.Fatalf("another machine's address:\n%s", r)
	}
	busy := notNATS(t, false)
	r = e.run("up", "-d", "--nats-port", busy)
	if r.code != 1 || !strings.Contains(r.stderr, "did not answer as NATS") {
		t.Fatalf("port held by a non-NATS program:\n%s", r)
	}

	// user:password@ with nothing running: wash starts NATS on the host part (no "port in use").
	fresh := newEnv(t)
	if r := fresh.must("up", "-d", "--nats-host", "u:p@127.0.0.1", "--nats-port", fresh.portArg()); !strings.Contains(r.stdout, "lattice started") {
		t.Fatalf("up with user:password@ and no NATS:\n%s", r)
	}
	fresh.must("down")

	// A NATS that wants a user and password: joined with user:password@ in --nats-host.
	n := testlattice.StartServer(t, &server.Options{Username: "wash", Password: "s3cret"})
	port := strconv.Itoa(n.Port)
	r = e.run("up", "-d", "--nats-host", "wash:wrong@127.0.0.1", "--nats-port", port)
	if r.code != 1 || !strings.Contains(r.stderr, "refused the credentials") || strings.Contains(r.stderr, "wrong") {
		t.Fatalf("wrong password:\n%s", r)
	}
	r = e.must("up", "-d", "--nats-host", "wash:s3cret@127.0.0.1", "--nats-port", port, "--label", "auth=userpw")
	if strings.Contains(r.stdout+r.stderr, "s3cret") {
		t.Fatalf("up prints the password:\n%s", r)
	}
	if got := hostLabels(t, e, "-p", port, "--ctl-host", "wash:s3cret@127.0.0.1"); len(got) != 1 {
		t.Fatalf("hosts on the user/password NATS: %v", got)
	}
	// The detached host's command line and environment carry no password.
	notOnCmdline(t, e, "s3cret")
	e.must("down", "-p", port, "--ctl-host", "wash:s3cret@127.0.0.1")
}

// TestUpAuthenticatedNATS joins NATS servers that require credentials with upstream's flags: a
// creds file, a JWT and seed, a TLS server with its own CA. A native provider started there
// connects with the rpc credentials the host hands it in HostData.
func TestUpAuthenticatedNATS(t *testing.T) {
	t.Run("creds file and provider", func(t *testing.T) {
		opts, _, _, creds := testlattice.OperatorMode(t)
		n := testlattice.StartServer(t, opts)
		e := envOn(t, n.Port)
		port := strconv.Itoa(n.Port)
		if r := e.run("up", "-d", "--nats-connect-only", "--nats-port", port); r.code != 1 || !strings.Contains(r.stderr, "refused the credentials") {
			t.Fatalf("without credentials:\n%s", r)
		}
		e.must("up", "-d", "--nats-connect-only", "--nats-port", port, "--ctl-credsfile", creds, "--label", "auth=creds")
		if got := hostLabels(t, e, "-p", port, "--ctl-credsfile", creds); len(got) != 1 {
			t.Fatalf("hosts: %v", got)
		}
		// The provider connects with lattice_rpc_user_jwt/seed from HostData: its health
		// check passing proves it reached the lattice.
		nc := connect(t, n.URL, nats.UserCredentials(creds))
		healthy := make(chan *nats.Msg, 4)
		if _, err := nc.ChanSubscribe("wasmbus.evt.default.health_check_passed", healthy); err != nil {
			t.Fatal(err)
		}
		par := providertest.TestProviderPAR(t, t.TempDir(), true)
		e.must("start", "provider", "file://"+par, "p", "-p", port, "--ctl-credsfile", creds)
		select {
		case <-healthy:
		case <-time.After(30 * time.Second):
			t.Fatal("the provider never passed a health check: it did not connect with the host's rpc credentials")
		}
		e.must("down", "-p", port, "--ctl-credsfile", creds)
	})
	t.Run("jwt and seed", func(t *testing.T) {
		opts, ujwt, useed, _ := testlattice.OperatorMode(t)
		n := testlattice.StartServer(t, opts)
		e := envOn(t, n.Port)
		port := strconv.Itoa(n.Port)
		if r := e.run("up", "-d", "--nats-connect-only", "--nats-port", port, "--ctl-jwt", ujwt); r.code != 2 || !strings.Contains(r.stderr, "go together") {
			t.Fatalf("jwt without seed:\n%s", r)
		}
		e.must("up", "-d", "--nats-connect-only", "--nats-port", port, "--ctl-jwt", ujwt, "--ctl-seed", string(useed))
		notOnCmdline(t, e, string(useed))
		if got := hostLabels(t, e, "-p", port, "--ctl-jwt", ujwt, "--ctl-seed", string(useed)); len(got) != 1 {
			t.Fatalf("hosts: %v", got)
		}
		e.must("down", "-p", port, "--ctl-jwt", ujwt, "--ctl-seed", string(useed))
	})
	t.Run("tls", func(t *testing.T) {
		caFile, srvTLS := testlattice.TLSCerts(t)
		n := testlattice.StartServer(t, &server.Options{TLS: true, TLSConfig: srvTLS, TLSTimeout: 2})
		e := envOn(t, n.Port)
		port := strconv.Itoa(n.Port)
		if r := e.run("up", "-d", "--nats-connect-only", "--nats-port", port, "--ctl-tls"); r.code != 1 || !strings.Contains(r.stderr, "TLS failed") {
			t.Fatalf("TLS without the CA:\n%s", r)
		}
		e.must("up", "-d", "--nats-connect-only", "--nats-port", port, "--ctl-tls", "--ctl-tls-ca-file", caFile)
		if got := hostLabels(t, e, "-p", port, "--ctl-tls-ca-file", caFile); len(got) != 1 {
			t.Fatalf("hosts: %v", got)
		}
		e.must("down", "-p", port, "--ctl-tls-ca-file", caFile)
	})
}

// TestUpLeafOfAuthenticatedHub: --nats-remote-url with user:password@, or with --nats-credsfile
// for a hub in operator mode, makes the embedded NATS a leaf of a hub that requires them; the
// host is seen from the hub.
func TestUpLeafOfAuthenticatedHub(t *testing.T) {
	leafPort := freePort(t)
	hubOpts := &server.Options{Username: "hub", Password: "hubpw"}
	hubOpts.LeafNode.Host, hubOpts.LeafNode.Port = "127.0.0.1", leafPort
	hubOpts.LeafNode.Username, hubOpts.LeafNode.Password = "leaf", "leafpw"
	hub := testlattice.StartServer(t, hubOpts)
	e := newEnv(t)
	remote := (&url.URL{Scheme: "nats-leaf", User: url.UserPassword("leaf", "leafpw"), Host: "127.0.0.1:" + strconv.Itoa(leafPort)}).String()
	e.must("up", "-d", "--nats-port", e.portArg(), "--nats-remote-url", remote, "--nats-js-domain", "edge")
	hubPort := strconv.Itoa(hub.Port)
	waitOneHost(t, "the hub", func() result {
		return e.run("get", "hosts", "-o", "json", "-p", hubPort, "--ctl-host", "hub:hubpw@127.0.0.1")
	})
	e.must("down")

	// The same against a hub in operator mode, with a creds file for the leaf connection.
	opHub, _, _, creds := testlattice.OperatorMode(t)
	credsLeafPort := freePort(t)
	opHub.LeafNode.Host, opHub.LeafNode.Port = "127.0.0.1", credsLeafPort
	hub2 := testlattice.StartServer(t, opHub)
	e2 := newEnv(t)
	e2.must("up", "-d", "--nats-port", e2.portArg(), "--nats-remote-url", "nats-leaf://127.0.0.1:"+strconv.Itoa(credsLeafPort),
		"--nats-credsfile", creds, "--nats-js-domain", "edge2")
	waitOneHost(t, "the operator-mode hub", func() result {
		return e2.run("get", "hosts", "-o", "json", "-p", strconv.Itoa(hub2.Port), "--ctl-credsfile", creds)
	})
	e2.must("down")
}

// TestAuthenticatedHostComesBack: a host on a NATS that wants a user and password, with its rpc
// connection as another user and the secrets backend in process. When the server closes the
// connections for good (a control line over max_control_line), wash up dials both again with
// their credentials and starts the host, wadm and the secrets backend again on them.
func TestAuthenticatedHostComesBack(t *testing.T) {
	e := newEnv(t)
	opts := &server.Options{Host: "127.0.0.1", Port: e.port, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
		Users: []*server.User{{Username: "ctl", Password: "ctl-pw-e2e"}, {Username: "rpc", Password: "rpc-pw-e2e"}}}
	ns := startReloadableNATS(t, opts)
	port := e.portArg()
	ctlHost := "ctl:ctl-pw-e2e@127.0.0.1"
	e.must("up", "-d", "--nats-connect-only", "--nats-host", ctlHost, "--nats-port", port,
		"--rpc-host", "rpc:rpc-pw-e2e@127.0.0.1", "--secrets-nats-kv", "--heartbeat-interval", "1s")
	defer e.run("down", "-p", port, "--ctl-host", ctlHost)
	notOnCmdline(t, e, "ctl-pw-e2e")
	notOnCmdline(t, e, "rpc-pw-e2e")

	nc := connect(t, ns.ClientURL(), nats.UserInfo("ctl", "ctl-pw-e2e"))
	users := func() map[string]int { // the host's connections by user
		cz, err := ns.Connz(&server.ConnzOptions{Username: true})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, c := range cz.Conns {
			if c.Name == "wasmbus" {
				out[c.AuthorizedUser]++
			}
		}
		return out
	}
	var hostID string
	for id := range hostLabels(t, e, "-p", port, "--ctl-host", ctlHost) {
		hostID = id
	}
	xkey := secrets.Subject(secrets.DefaultTopic, secrets.NatsKVName, "server_xkey")
	running := func(what string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			got := users()
			_, xerr := nc.Request(xkey, nil, 2*time.Second)
			hosts := e.run("get", "hosts", "-p", port, "--ctl-host", ctlHost)
			if got["ctl"] == 1 && got["rpc"] == 1 && xerr == nil && hosts.code == 0 && hostID != "" && strings.Contains(hosts.stdout, hostID) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: connections %v, secrets backend: %v, hosts:\n%s", what, got, xerr, hosts)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	running("at start")

	closeForGood(t, ns, opts, func() bool { return users()["ctl"] > 0 })
	running("after the server closed the connection")
}

// waitOneHost polls `wash get hosts -o json` (getHosts) until it lists exactly one host: the hub
// sees the leaf's host.
func waitOneHost(t *testing.T, hub string, getHosts func() result) {
	t.Helper()
	var r result
	if !poll(20*time.Second, 200*time.Millisecond, func() bool {
		var hosts struct {
			Hosts []json.RawMessage `json:"hosts"`
		}
		r = getHosts()
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &hosts) == nil && len(hosts.Hosts) == 1
	}) {
		t.Fatalf("%s never saw the leaf's host:\n%s", hub, r)
	}
}

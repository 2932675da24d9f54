package commands_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/wasmlattice/wash/internal/testlattice"
	"github.com/wasmlattice/wash/lattice/host"
)

// authLattice starts a server with opts and one host that connects with hostOpts.
func authLattice(t *testing.T, opts *server.Options, hostOpts ...nats.Option) string {
	t.Helper()
	n := testlattice.StartServer(t, opts)
	n.StartHost(t, host.Config{Lattice: "default"}, hostOpts...)
	return strconv.Itoa(n.Port)
}

func hostsFound(t *testing.T, args ...string) {
	t.Helper()
	r := ok(t, append([]string{"get", "hosts", "-o", "json"}, args...)...)
	if hosts := decodeJSON(t, r.out)["hosts"].([]any); len(hosts) != 1 {
		t.Fatalf("hosts = %v", hosts)
	}
}

func TestAuthUserPassword(t *testing.T) {
	port := authLattice(t, &server.Options{Username: "wash", Password: "s3cret"}, nats.UserInfo("wash", "s3cret"))
	hostsFound(t, "-p", port, "--ctl-host", "wash:s3cret@127.0.0.1")
	r := fails(t, 1, "NATS at nats://127.0.0.1:"+port+" refused the credentials", "get", "hosts", "-p", port, "--ctl-host", "wash:wrong@127.0.0.1")
	if contains([]string{r.err}, "wrong") {
		t.Fatal("error leaks the password")
	}
	fails(t, 1, "refused the credentials", "get", "hosts", "-p", port)
}

func TestAuthNkey(t *testing.T) {
	user, _ := nkeys.CreateUser()
	pub, _ := user.PublicKey()
	seed, _ := user.Seed()
	port := authLattice(t, &server.Options{Nkeys: []*server.NkeyUser{{Nkey: pub}}}, nats.Nkey(pub, user.Sign))
	// Literal seed, a seed file, and the environment.
	hostsFound(t, "-p", port, "--ctl-seed", string(seed))
	seedFile := filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	hostsFound(t, "-p", port, "--ctl-seed", seedFile)
	t.Setenv("WASMCLOUD_CTL_SEED", string(seed))
	hostsFound(t, "-p", port)
	os.Unsetenv("WASMCLOUD_CTL_SEED")

	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	fails(t, 1, "NATS at nats://127.0.0.1:"+port+" refused the credentials", "get", "hosts", "-p", port, "--ctl-seed", string(otherSeed))
	fails(t, 1, "invalid --ctl-seed", "get", "hosts", "-p", port, "--ctl-seed", "SUNOTASEED")
}

func TestAuthJWTAndCreds(t *testing.T) {
	opts, ujwt, useed, creds := testlattice.OperatorMode(t)
	port := authLattice(t, opts, nats.UserCredentials(creds))
	hostsFound(t, "-p", port, "--ctl-credsfile", creds)
	hostsFound(t, "-p", port, "--ctl-jwt", ujwt, "--ctl-seed", string(useed))
	t.Setenv("WASH_CTL_CREDS", creds)
	hostsFound(t, "-p", port)
	os.Unsetenv("WASH_CTL_CREDS")

	fails(t, 1, "credentials file "+creds+".missing: no such file or directory", "get", "hosts", "-p", port, "--ctl-credsfile", creds+".missing")
	// A JWT signed with the wrong seed, and no credentials at all.
	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	fails(t, 1, "NATS at nats://127.0.0.1:"+port+" refused the credentials", "get", "hosts", "-p", port, "--ctl-jwt", ujwt, "--ctl-seed", string(otherSeed))
	fails(t, 1, "refused the credentials", "get", "hosts", "-p", port)
}

func TestTLS(t *testing.T) {
	caFile, srvTLS := testlattice.TLSCerts(t)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(mustRead(t, caFile)))
	clientTLS := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}

	port := authLattice(t, &server.Options{TLS: true, TLSConfig: srvTLS, TLSTimeout: 2}, nats.Secure(clientTLS))
	hostsFound(t, "-p", port, "--ctl-tls-ca-file", caFile)
	fails(t, 1, "TLS failed", "get", "hosts", "-p", port)

	firstTLS := srvTLS.Clone()
	portFirst := authLattice(t, &server.Options{TLS: true, TLSConfig: firstTLS, TLSTimeout: 2, TLSHandshakeFirst: true}, nats.Secure(clientTLS), nats.TLSHandshakeFirst())
	hostsFound(t, "-p", portFirst, "--ctl-tls-ca-file", caFile, "--ctl-tls-first")
	t.Setenv("WASH_CTL_TLS_FIRST", "true")
	t.Setenv("WASH_CTL_TLS_CA_FILE", caFile)
	hostsFound(t, "-p", portFirst)
	os.Unsetenv("WASH_CTL_TLS_FIRST")
	os.Unsetenv("WASH_CTL_TLS_CA_FILE")
	r := wash(t, "get", "hosts", "-p", portFirst, "--ctl-tls-ca-file", caFile, "-t", "500")
	if r.code != 1 {
		t.Fatalf("without --ctl-tls-first: %s", r)
	}
	t.Logf("without --ctl-tls-first: %s", r.err)
	notPEM := filepath.Join(t.TempDir(), "ca.txt")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	fails(t, 1, "holds no PEM certificate", "get", "hosts", "-p", port, "--ctl-tls-ca-file", notPEM)
}

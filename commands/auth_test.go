package commands_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
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

// operatorMode builds a trusted operator, an account with JetStream, and a user; it returns the
// server options, the user's JWT and seed, and a creds file.
func operatorMode(t *testing.T) (*server.Options, string, []byte, string) {
	t.Helper()
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	ojwt, err := oc.Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	opClaims, err := jwt.DecodeOperatorClaims(ojwt)
	if err != nil {
		t.Fatal(err)
	}
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	ac := jwt.NewAccountClaims(apub)
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	ajwt, err := ac.Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	uc := jwt.NewUserClaims(upub)
	ujwt, err := uc.Encode(akp)
	if err != nil {
		t.Fatal(err)
	}
	useed, _ := ukp.Seed()
	creds, err := jwt.FormatUserConfig(ujwt, useed)
	if err != nil {
		t.Fatal(err)
	}
	credsFile := filepath.Join(t.TempDir(), "user.creds")
	if err := os.WriteFile(credsFile, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	// JetStream in operator mode needs a system account.
	skp, _ := nkeys.CreateAccount()
	spub, _ := skp.PublicKey()
	sjwt, err := jwt.NewAccountClaims(spub).Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	resolver := &server.MemAccResolver{}
	if err := resolver.Store(apub, ajwt); err != nil {
		t.Fatal(err)
	}
	if err := resolver.Store(spub, sjwt); err != nil {
		t.Fatal(err)
	}
	return &server.Options{TrustedOperators: []*jwt.OperatorClaims{opClaims}, AccountResolver: resolver, SystemAccount: spub}, ujwt, useed, credsFile
}

func TestAuthJWTAndCreds(t *testing.T) {
	opts, ujwt, useed, creds := operatorMode(t)
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

// certs writes a CA and a server certificate for 127.0.0.1; it returns the CA file and a server
// TLS config.
func certs(t *testing.T) (string, *tls.Config) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wash test CA"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return caFile, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
}

func TestTLS(t *testing.T) {
	caFile, srvTLS := certs(t)
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

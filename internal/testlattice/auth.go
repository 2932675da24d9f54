package testlattice

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
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/wasmlattice/wash/wascap"
)

// OperatorMode builds a trusted operator, an account with JetStream, and a user; it returns the
// server options, the user's JWT and seed, and a creds file.
func OperatorMode(t testing.TB) (*server.Options, string, []byte, string) {
	t.Helper()
	// sign encodes claims signed by kp; these are well-formed, so an error fails the test
	sign := func(claims jwt.Claims, kp nkeys.KeyPair) string {
		t.Helper()
		s, err := claims.Encode(kp)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	ojwt := sign(jwt.NewOperatorClaims(opub), okp)
	opClaims, err := jwt.DecodeOperatorClaims(ojwt)
	if err != nil {
		t.Fatal(err)
	}
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	ac := jwt.NewAccountClaims(apub)
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	ajwt := sign(ac, okp)
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	ujwt := sign(jwt.NewUserClaims(upub), akp)
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
	sjwt := sign(jwt.NewAccountClaims(spub), okp)
	resolver := &server.MemAccResolver{}
	if err := resolver.Store(apub, ajwt); err != nil {
		t.Fatal(err)
	}
	if err := resolver.Store(spub, sjwt); err != nil {
		t.Fatal(err)
	}
	return &server.Options{TrustedOperators: []*jwt.OperatorClaims{opClaims}, AccountResolver: resolver, SystemAccount: spub}, ujwt, useed, credsFile
}

// TLSCerts writes a CA and a server certificate for 127.0.0.1; it returns the CA file and a server
// TLS config.
func TLSCerts(t testing.TB) (string, *tls.Config) {
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

// SignComponent signs wasm as `wash claims sign` would (a fresh account as issuer, a fresh module
// key as subject), writes it into a temporary directory and returns the path and the token.
func SignComponent(t testing.TB, wasm []byte, o wascap.SignOptions) (string, *wascap.Token[wascap.Component]) {
	t.Helper()
	issuer, _ := wascap.NewKey(wascap.KindAccount)
	module, _ := wascap.NewKey(wascap.KindModule)
	signed, tok, err := wascap.Sign(wasm, issuer, module.Public(), o)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "signed_s.wasm")
	if err := os.WriteFile(p, signed, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, tok
}

package server_test

// Transport security through the real server: TLS 1.3 with a bearer key,
// client certificates (mTLS) naming a principal, the refusal to serve
// plaintext beyond loopback, request.secure_transport in policy conditions,
// and the self-signed development certificate.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/server"
	"github.com/wormvault/wormvault/server/servertest"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // PEM of cert
}

func newTestKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key := newTestKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), name+".pem")
	writePEM(t, file, "CERTIFICATE", der)
	return &testCA{cert: cert, key: key, file: file}
}

// issue signs a leaf certificate for tmpl's names and usage.
func (ca *testCA) issue(t testing.TB, tmpl *x509.Certificate) (tls.Certificate, []byte, *ecdsa.PrivateKey) {
	t.Helper()
	key := newTestKey(t)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, der, key
}

// serverFiles issues a server certificate for 127.0.0.1 and writes it and
// its key to PEM files.
func (ca *testCA) serverFiles(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	_, der, key := ca.issue(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "wormvault test server"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	return certFile, keyFile
}

// client issues a client certificate with the CommonName cn and, when not
// empty, the principal URI SAN of uriPrincipal.
func (ca *testCA) client(t testing.TB, cn, uriPrincipal string) tls.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if uriPrincipal != "" {
		tmpl.URIs = []*url.URL{{Scheme: "https", Host: "example.com", Path: "/not-a-principal"}, server.PrincipalURI(uriPrincipal)}
	}
	cert, _, _ := ca.issue(t, tmpl)
	return cert
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// dialTLS is dial over TLS with cfg; token may be empty.
func dialTLS(t testing.TB, s *servertest.Server, cfg *tls.Config, token string) *conn {
	t.Helper()
	cc, err := grpc.NewClient(s.Addr,
		grpc.WithTransportCredentials(credentials.NewTLS(cfg)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(8<<20)),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return &conn{t: t, cc: cc, token: token,
		vaults:   wormvaultv1.NewVaultServiceClient(cc),
		archives: wormvaultv1.NewArchiveServiceClient(cc),
		admin:    wormvaultv1.NewAdminServiceClient(cc),
	}
}

// bareCtx carries no authorization metadata.
func bareCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// putWith uploads data in one chunk with ctx's credentials.
func putWith(ctx context.Context, c *conn, vault, key string, data []byte) error {
	st, err := c.archives.UploadArchive(ctx)
	if err != nil {
		return err
	}
	st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Header{Header: &wormvaultv1.ArchiveHeader{Vault: vault, Key: key}}})
	st.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Chunk{Chunk: data}})
	_, err = st.CloseAndRecv()
	return err
}

// getWith downloads the latest version with ctx's credentials.
func getWith(ctx context.Context, c *conn, vault, key string) ([]byte, error) {
	st, err := c.archives.DownloadArchive(ctx, &wormvaultv1.DownloadArchiveRequest{Vault: vault, Key: key})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	for {
		m, err := st.Recv()
		if err == io.EOF {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		buf.Write(m.GetChunk())
	}
}

func TestTLSRoundTripWithBearerKey(t *testing.T) {
	ca := newTestCA(t, "tls-ca")
	s := servertest.Start(t, servertest.WithTLS(ca.serverFiles(t)))
	c := dialTLS(t, s, &tls.Config{RootCAs: ca.pool(), MinVersion: tls.VersionTLS12}, s.Token)
	var p peer.Peer
	if _, err := c.vaults.CreateVault(c.ctx(), &wormvaultv1.CreateVaultRequest{Name: "tls"}, grpc.Peer(&p)); err != nil {
		t.Fatal(err)
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || info.State.Version != tls.VersionTLS13 {
		t.Fatalf("peer auth info %#v: want TLS 1.3", p.AuthInfo)
	}
	data := randomBytes(7, 3<<20+5)
	c.put("tls", "k", data)
	if got := c.get("tls", "k", ""); !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes, want the %d uploaded", len(got), len(data))
	}

	// A TLS 1.2 client, a client that does not trust the server, and a
	// plaintext client all fail.
	for name, cfg := range map[string]*tls.Config{
		"TLS 1.2":   {RootCAs: ca.pool(), MaxVersion: tls.VersionTLS12},
		"untrusted": {RootCAs: newTestCA(t, "other").pool()},
	} {
		c2 := dialTLS(t, s, cfg, s.Token)
		_, err := c2.vaults.GetVault(c2.ctx(), &wormvaultv1.GetVaultRequest{Name: "tls"})
		wantStatus(t, err, codes.Unavailable, "")
		t.Logf("%s: %v", name, err)
	}
	plain := dial(t, s)
	_, err := plain.vaults.GetVault(plain.ctx(), &wormvaultv1.GetVaultRequest{Name: "tls"})
	wantStatus(t, err, codes.Unavailable, "")
}

func TestTLSClientCertificates(t *testing.T) {
	ca := newTestCA(t, "mtls-ca")
	certFile, keyFile := ca.serverFiles(t)
	s := servertest.Start(t, servertest.WithTLS(certFile, keyFile), servertest.WithClientCA(ca.file))
	withCert := func(cert tls.Certificate) *conn {
		return dialTLS(t, s, &tls.Config{RootCAs: ca.pool(), Certificates: []tls.Certificate{cert}}, s.Token)
	}

	// The URI SAN names root, whatever the CommonName says; no bearer key.
	root := withCert(ca.client(t, "nobody", "root"))
	if _, err := root.vaults.CreateVault(bareCtx(t), &wormvaultv1.CreateVaultRequest{Name: "mtls"}); err != nil {
		t.Fatalf("CreateVault with a root client certificate: %v", err)
	}
	mustOK(t, putWith(bareCtx(t), root, "mtls", "k", []byte("by certificate")), "upload by certificate")
	if got, err := getWith(bareCtx(t), root, "mtls", "k"); err != nil || string(got) != "by certificate" {
		t.Fatalf("download by certificate: %q, %v", got, err)
	}
	// Without a URI SAN the CommonName names the principal.
	cnRoot := withCert(ca.client(t, "root", ""))
	_, err := cnRoot.vaults.GetVault(bareCtx(t), &wormvaultv1.GetVaultRequest{Name: "mtls"})
	mustOK(t, err, "GetVault with CommonName root")

	// An unknown principal is unauthenticated...
	nobody := withCert(ca.client(t, "nobody", ""))
	_, err = nobody.vaults.GetVault(bareCtx(t), &wormvaultv1.GetVaultRequest{Name: "mtls"})
	wantStatus(t, err, codes.Unauthenticated, "")
	_, err = withCert(ca.client(t, "", "ghost")).vaults.GetVault(bareCtx(t), &wormvaultv1.GetVaultRequest{Name: "mtls"})
	wantStatus(t, err, codes.Unauthenticated, "")
	// ...but a bearer key decides when both are sent.
	_, err = nobody.vaults.GetVault(nobody.ctx(), &wormvaultv1.GetVaultRequest{Name: "mtls"})
	mustOK(t, err, "GetVault with a bearer key and an unknown principal's certificate")
	bad := metadata.AppendToOutgoingContext(bareCtx(t), "authorization", "Bearer WVNOPE.wrong")
	_, err = root.vaults.GetVault(bad, &wormvaultv1.GetVaultRequest{Name: "mtls"})
	wantStatus(t, err, codes.Unauthenticated, "")

	// A certificate from another CA fails the handshake. (Go's client
	// would not even offer it, as the server names the CAs it accepts; so
	// it is forced.)
	strangerCert := newTestCA(t, "stranger-ca").client(t, "root", "root")
	stranger := dialTLS(t, s, &tls.Config{RootCAs: ca.pool(), GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &strangerCert, nil
	}}, "")
	_, err = stranger.vaults.GetVault(bareCtx(t), &wormvaultv1.GetVaultRequest{Name: "mtls"})
	wantStatus(t, err, codes.Unavailable, "")
	unoffered := withCert(strangerCert)
	_, err = unoffered.vaults.GetVault(bareCtx(t), &wormvaultv1.GetVaultRequest{Name: "mtls"})
	wantStatus(t, err, codes.Unauthenticated, "")
	// No certificate at all: server TLS, so a bearer key is needed.
	anon := dialTLS(t, s, &tls.Config{RootCAs: ca.pool()}, s.Token)
	_, err = anon.vaults.GetVault(bareCtx(t), &wormvaultv1.GetVaultRequest{Name: "mtls"})
	wantStatus(t, err, codes.Unauthenticated, "")
	_, err = anon.vaults.GetVault(anon.ctx(), &wormvaultv1.GetVaultRequest{Name: "mtls"})
	mustOK(t, err, "GetVault with a bearer key and no client certificate")
}

func TestTLSInsecureListenValidation(t *testing.T) {
	base := server.DefaultConfig()
	base.Vault.DataDir = t.TempDir()
	for _, tc := range []struct {
		listen   string
		loopback bool
	}{
		{"0.0.0.0:0", false}, {":7420", false}, {"[::]:0", false}, {"10.1.2.3:7420", false}, {"example.com:7420", false},
		{"127.0.0.1:0", true}, {"127.3.2.1:7420", true}, {"[::1]:0", true}, {"localhost:7420", true}, {"LOCALHOST:1", true},
	} {
		cfg := base
		cfg.Listen = tc.listen
		err := cfg.Validate()
		if tc.loopback && err != nil {
			t.Errorf("plaintext on %s: %v, want accepted", tc.listen, err)
		}
		if !tc.loopback && (err == nil || !strings.Contains(err.Error(), "--allow-insecure")) {
			t.Errorf("plaintext on %s: %v, want a refusal naming --allow-insecure", tc.listen, err)
		}
		cfg.AllowInsecure = true
		if err := cfg.Validate(); err != nil {
			t.Errorf("plaintext on %s with AllowInsecure: %v", tc.listen, err)
		}
		cfg.AllowInsecure, cfg.DevTLS = false, true
		if err := cfg.Validate(); err != nil {
			t.Errorf("TLS on %s: %v", tc.listen, err)
		}
	}
	for name, f := range map[string]func(*server.Config){
		"cert without key":       func(c *server.Config) { c.TLSCertFile = "c.pem" },
		"key without cert":       func(c *server.Config) { c.TLSKeyFile = "k.pem" },
		"client CA without TLS":  func(c *server.Config) { c.ClientCAFile = "ca.pem" },
		"dev TLS and cert files": func(c *server.Config) { c.DevTLS, c.TLSCertFile, c.TLSKeyFile = true, "c.pem", "k.pem" },
		"listen without port":    func(c *server.Config) { c.Listen = "127.0.0.1" },
	} {
		cfg := base
		f(&cfg)
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A missing certificate file fails New, before storage is opened.
	cfg := base
	cfg.Listen = "127.0.0.1:0"
	cfg.TLSCertFile, cfg.TLSKeyFile = filepath.Join(t.TempDir(), "none.pem"), filepath.Join(t.TempDir(), "none-key.pem")
	if _, err := server.New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "TLS certificate") {
		t.Errorf("New with missing certificate files: %v", err)
	}
}

// request.secure_transport reaches policy conditions: the classic "deny
// unless secure transport" statement refuses plaintext and admits TLS, and a
// statement that denies TLS shows the fact is true over TLS (and mTLS).
func TestTLSSecureTransportPolicy(t *testing.T) {
	const v = "tls-policy"
	tlsOnly := `{"statements":[{"sid":"tls-only","effect":"DENY","principals":["*"],"actions":["wormvault:UploadArchive"],` +
		`"resources":["vaults/tls-policy/archives/*"],"condition":"!request.secure_transport"}]}`
	denyTLS := strings.ReplaceAll(strings.ReplaceAll(tlsOnly, "!request", "request"), "tls-only", "no-tls")

	plainSrv := servertest.Start(t)
	plain := dial(t, plainSrv)
	plain.createVault(v)
	mustOK(t, plain.setAccessPolicy(v, tlsOnly), "set policy (plaintext)")
	err := refusedPolicy(t, plain, plainSrv, []string{v}, codes.PermissionDenied, "POLICY_DENIED", "", func() error {
		return putWith(plain.ctx(), plain, v, "k", []byte("plaintext"))
	})
	wantPolicyDenied(t, err, "tls-only")

	ca := newTestCA(t, "policy-ca")
	certFile, keyFile := ca.serverFiles(t)
	s := servertest.Start(t, servertest.WithTLS(certFile, keyFile), servertest.WithClientCA(ca.file))
	c := dialTLS(t, s, &tls.Config{RootCAs: ca.pool()}, s.Token)
	mtls := dialTLS(t, s, &tls.Config{RootCAs: ca.pool(), Certificates: []tls.Certificate{ca.client(t, "root", "root")}}, "")
	c.createVault(v)
	mustOK(t, c.setAccessPolicy(v, tlsOnly), "set policy (TLS)")
	c.put(v, "k", []byte("over TLS"))
	mustOK(t, putWith(bareCtx(t), mtls, v, "k", []byte("over mTLS")), "upload over mTLS")

	mustOK(t, c.setAccessPolicy(v, denyTLS), "set deny-TLS policy")
	wantPolicyDenied(t, putWith(c.ctx(), c, v, "k", []byte("denied")), "no-tls")
	wantPolicyDenied(t, putWith(bareCtx(t), mtls, v, "k", []byte("denied")), "no-tls")
	if got := c.get(v, "k", ""); string(got) != "over mTLS" {
		t.Fatalf("latest is %q, want the mTLS upload", got)
	}
}

func TestTLSDevCertificate(t *testing.T) {
	s := servertest.Start(t, servertest.WithDevTLS())
	certFile := s.Config().DevTLSCertFile()
	if want := filepath.Join(s.DataDir, "dev-tls", "cert.pem"); certFile != want {
		t.Fatalf("dev certificate at %s, want %s", certFile, want)
	}
	fi, err := os.Stat(filepath.Join(s.DataDir, "dev-tls", "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("dev key mode %v, want 0600", fi.Mode().Perm())
	}
	first, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(first)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || cert.VerifyHostname("127.0.0.1") != nil || cert.VerifyHostname("localhost") != nil || cert.VerifyHostname("::1") != nil {
		t.Fatalf("dev certificate: key %T, names %v %v", cert.PublicKey, cert.DNSNames, cert.IPAddresses)
	}

	check := func(name string) {
		t.Helper()
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(first)
		c := dialTLS(t, s, &tls.Config{RootCAs: pool}, s.Token)
		if _, err := c.vaults.CreateVault(c.ctx(), &wormvaultv1.CreateVaultRequest{Name: name}); err != nil {
			t.Fatalf("CreateVault %s trusting the dev certificate: %v", name, err)
		}
	}
	check("dev-one")
	s.Restart()
	again, err := os.ReadFile(certFile)
	if err != nil || !bytes.Equal(again, first) {
		t.Fatalf("dev certificate changed across a restart (%v)", err)
	}
	check("dev-two")
}

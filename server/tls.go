package server

// Transport security: TLS 1.3 from a certificate and key on disk or from a
// self-signed development certificate, optional client certificates (mTLS)
// that name a principal, and the rule that plaintext is served only on
// loopback unless the operator insists.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/internal/atomicfile"
	"github.com/wormvault/wormvault/vault"
)

// Development certificate: its validity, and how long before expiry it is
// replaced rather than reused.
const (
	devCertValidity = 365 * 24 * time.Hour
	devCertRenew    = 7 * 24 * time.Hour
)

// PrincipalURIPrefix starts the URI SAN by which a client certificate names
// its principal: wormvault://principal/NAME.
const PrincipalURIPrefix = "wormvault://principal/"

// PrincipalURI is the URI SAN to put in a client certificate for principal
// name.
func PrincipalURI(name string) *url.URL {
	return &url.URL{Scheme: "wormvault", Host: "principal", Path: "/" + name}
}

// DevTLSCertFile is where DevTLS keeps its self-signed certificate; clients
// trust it with --tls-ca. The key is beside it in key.pem (mode 0600).
func (c Config) DevTLSCertFile() string {
	return filepath.Join(c.Vault.DataDir, "dev-tls", "cert.pem")
}

func (c Config) devTLSKeyFile() string { return filepath.Join(c.Vault.DataDir, "dev-tls", "key.pem") }

// TLS reports whether c serves TLS.
func (c Config) TLS() bool { return c.TLSCertFile != "" || c.DevTLS }

// validateTLS is the transport part of Validate.
func (c Config) validateTLS() error {
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("server: config: TLSCertFile and TLSKeyFile go together (--tls-cert, --tls-key)")
	}
	if c.DevTLS && c.TLSCertFile != "" {
		return errors.New("server: config: DevTLS and TLSCertFile exclude each other (--dev-tls, --tls-cert)")
	}
	if c.ClientCAFile != "" && !c.TLS() {
		return errors.New("server: config: ClientCAFile needs TLS (--client-ca needs --tls-cert/--tls-key or --dev-tls)")
	}
	if !c.TLS() && !c.AllowInsecure {
		loopback, err := loopbackAddr(c.Listen)
		if err != nil {
			return fmt.Errorf("server: config: Listen %q: %w", c.Listen, err)
		}
		if !loopback {
			return fmt.Errorf("server: config: refusing plaintext on non-loopback address %q: bearer keys would cross the network in clear; "+
				"serve TLS (--tls-cert/--tls-key or --dev-tls), listen on 127.0.0.1, or accept the risk with --allow-insecure", c.Listen)
		}
	}
	return nil
}

// loopbackAddr reports whether the host of a listen address is loopback
// only: "localhost", 127.0.0.0/8 or ::1. An empty host, an unspecified
// address and any other name listen beyond the machine.
func loopbackAddr(listen string) (bool, error) {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false, err
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// serverTLS returns the TLS configuration c asks for, or nil for plaintext.
// DevTLS creates its certificate on first use and reuses it afterwards.
func (c Config) serverTLS(log *slog.Logger) (*tls.Config, error) {
	if !c.TLS() {
		return nil, nil
	}
	certFile, keyFile := c.TLSCertFile, c.TLSKeyFile
	if c.DevTLS {
		certFile, keyFile = c.DevTLSCertFile(), c.devTLSKeyFile()
		created, err := ensureDevCert(certFile, keyFile, time.Now())
		if err != nil {
			return nil, fmt.Errorf("server: dev TLS certificate: %w", err)
		}
		log.Warn("dev TLS: serving a self-signed certificate; not for production",
			"cert", certFile, "created", created, "client_flag", "--tls-ca "+certFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("server: load TLS certificate: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
	if c.ClientCAFile != "" {
		data, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("server: client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("server: client CA %s: no PEM certificates found", c.ClientCAFile)
		}
		// A client certificate is optional: a client may present one to
		// be its principal, or send a bearer key over plain server TLS.
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
		cfg.ClientCAs = pool
	}
	return cfg, nil
}

// verifiedClientCert returns the leaf of the peer's verified client
// certificate chain, or nil when there is none.
func verifiedClientCert(ctx context.Context) *x509.Certificate {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return nil
	}
	return info.State.VerifiedChains[0][0]
}

// certPrincipal is the principal a client certificate names: its first URI
// SAN wormvault://principal/NAME, else its subject CommonName.
func certPrincipal(cert *x509.Certificate) string {
	for _, u := range cert.URIs {
		if u.Scheme == "wormvault" && u.Host == "principal" && strings.HasPrefix(u.Path, "/") && u.Path != "/" {
			return u.Path[1:]
		}
	}
	return cert.Subject.CommonName
}

// certCaller resolves the principal a verified client certificate names.
func (s *Server) certCaller(ctx context.Context, cert *x509.Certificate) (vault.Caller, error) {
	name := certPrincipal(cert)
	if name == "" {
		return vault.Caller{}, fmt.Errorf("%w: client certificate names no principal (want URI SAN %sNAME or a CommonName)",
			wormvault.ErrUnauthenticated, PrincipalURIPrefix)
	}
	return s.store.CallerForPrincipal(ctx, name)
}

// ensureDevCert makes sure certFile and keyFile hold a self-signed ECDSA
// P-256 certificate for 127.0.0.1, ::1 and localhost that is valid at now
// and for a while after. It reports whether it created one.
func ensureDevCert(certFile, keyFile string, now time.Time) (bool, error) {
	if pair, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil && pair.Leaf != nil &&
		now.After(pair.Leaf.NotBefore) && now.Add(devCertRenew).Before(pair.Leaf.NotAfter) {
		return false, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return false, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return false, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "wormvault dev TLS", Organization: []string{"wormvault"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(devCertValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return false, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return false, err
	}
	// The key first: a certificate without its key is useless, a key
	// without its certificate is replaced on the next start.
	if err := atomicfile.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return false, err
	}
	if err := atomicfile.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return false, err
	}
	return true, nil
}

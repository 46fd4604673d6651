// Package servertest starts a real wormvault server on a loopback port with
// its data in a temporary directory, for tests of the server, the SDK and
// the CLI.
package servertest

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/wormvault/wormvault/server"
)

// Server is a running test server.
type Server struct {
	*server.Server
	// Addr is host:port on 127.0.0.1.
	Addr string
	// Token is the root bearer token ("<key-id>.<secret>").
	Token string
	// DataDir holds meta/, drives/ and root.credentials.
	DataDir string

	t       testing.TB
	cfg     server.Config
	served  chan error
	stopped bool
}

// Option adjusts the configuration before start.
type Option func(*server.Config)

// WithDataDir reuses a data directory (to restart over existing data).
func WithDataDir(dir string) Option { return func(c *server.Config) { c.Vault.DataDir = dir } }

// WithTLS serves TLS 1.3 with the PEM certificate and key files.
func WithTLS(certFile, keyFile string) Option {
	return func(c *server.Config) { c.TLSCertFile, c.TLSKeyFile = certFile, keyFile }
}

// WithClientCA accepts client certificates issued by the CAs in caFile
// (mTLS); use with WithTLS or WithDevTLS.
func WithClientCA(caFile string) Option { return func(c *server.Config) { c.ClientCAFile = caFile } }

// WithDevTLS serves TLS with the self-signed development certificate,
// created in the data directory; clients trust Config().DevTLSCertFile().
func WithDevTLS() Option { return func(c *server.Config) { c.DevTLS = true } }

// WithConfig applies an arbitrary change.
func WithConfig(f func(*server.Config)) Option { return Option(f) }

// Start starts a server; it is shut down when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Vault.DataDir = t.TempDir()
	cfg.ShutdownGrace = 5 * time.Second
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{t: t, cfg: cfg}
	s.start()
	t.Cleanup(func() { s.Stop() })
	return s
}

func (s *Server) start() {
	s.t.Helper()
	srv, err := server.New(context.Background(), s.cfg)
	if err != nil {
		s.t.Fatalf("servertest: start: %v", err)
	}
	s.Server, s.Addr, s.DataDir, s.stopped = srv, srv.Addr(), s.cfg.Vault.DataDir, false
	if srv.RootToken != "" {
		s.Token = srv.RootToken
	}
	s.served = make(chan error, 1)
	go func() { s.served <- srv.Serve() }()
}

// Config is the configuration the server was started with.
func (s *Server) Config() server.Config { return s.cfg }

// Stop shuts the server down gracefully; safe to call twice.
func (s *Server) Stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	if err := s.Server.Shutdown(); err != nil {
		s.t.Errorf("servertest: shutdown: %v", err)
	}
	if err := <-s.served; err != nil {
		s.t.Errorf("servertest: serve: %v", err)
	}
}

// Restart stops the server and starts it again over the same data, on the
// same address when possible.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.cfg.Listen = s.Addr
	s.start()
}

// Package server is wormvault's gRPC face: the services of proto/wormvault/v1,
// interceptors (authentication, request ids, logging, panic recovery),
// reflection and health. It maps domain errors to gRPC status in one place
// (status.go) and converts between wire and domain types in one place
// (convert.go); the rules live below it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/vault"
)

// Config configures a Server. Start from DefaultConfig.
type Config struct {
	// Listen is the TCP address to serve gRPC on (default 127.0.0.1:7420).
	Listen string
	// HTTPListen is the TCP address to serve the same services on for
	// browsers and REST clients — gRPC-Web, Connect and REST/JSON — and
	// the console at /console/ (http.go). Empty (the default): no HTTP
	// listener. TLS and the loopback rule are as for Listen.
	HTTPListen string
	// CORSOrigins are the web origins (scheme://host[:port], one *
	// wildcard at most) that may call the HTTP listener's routes outside a
	// vault — Connect and gRPC-Web (/wormvault.v1.*), /v1/vaults,
	// /v1/audit — from a browser; a vault's routes (/v1/vaults/{vault}/...)
	// answer from the vault's own CORS rules. Empty: none.
	CORSOrigins []string
	// Vault configures storage.
	Vault vault.Config
	// ShutdownGrace is how long Shutdown waits for in-flight calls before
	// cancelling them; cancelled uploads abort cleanly and store nothing.
	ShutdownGrace time.Duration
	// ClockTick is how often the trusted clock is checked and its mark
	// persisted (default 2s).
	ClockTick time.Duration
	// SweepInterval is how often orphan shards older than
	// Vault.OrphanGrace are removed (default 10m).
	SweepInterval time.Duration
	// ScrubInterval is how often every archive is verified block by block
	// and healed, producing a fixity report (default 24h; 0 disables).
	ScrubInterval time.Duration
	// ScrubRate caps the bytes per second a scrub reads (default 64 MiB/s).
	ScrubRate int64
	// AccessLogInterval is how often access-log records of vaults whose
	// logging is on are delivered into their target vaults (default 1m).
	// Records are durable from the moment a request is answered; the
	// interval only decides when they appear as archives.
	AccessLogInterval time.Duration
	// AuthFailureBurst failed authentications are allowed per remote
	// address and per key id, then one more every AuthFailureEvery; beyond
	// that, RESOURCE_EXHAUSTED with a retry delay (default 10, 6s; 0
	// disables).
	AuthFailureBurst int
	AuthFailureEvery time.Duration
	// Limits bound concurrent calls and uploads, per-principal upload
	// rates and request metadata size (limits.go; default DefaultLimits).
	Limits Limits
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger

	// TLSCertFile and TLSKeyFile are PEM files of the server certificate
	// (chain) and its key; set both to serve TLS 1.3. Empty: plaintext.
	TLSCertFile, TLSKeyFile string
	// ClientCAFile holds PEM CA certificates that issue client
	// certificates (mTLS; needs TLS). A verified client certificate names
	// its principal by a URI SAN wormvault://principal/NAME, else by its
	// CommonName, and needs no bearer key; a bearer key, when sent,
	// decides instead. Empty: client certificates are not asked for.
	ClientCAFile string
	// AllowInsecure permits plaintext on a non-loopback Listen address;
	// without it Validate refuses, as bearer keys would cross the network
	// in clear. Plaintext on loopback is always allowed.
	AllowInsecure bool
	// DevTLS serves TLS with a self-signed ECDSA P-256 certificate for
	// 127.0.0.1, ::1 and localhost, created on first start in
	// DataDir/dev-tls/ (key mode 0600) and reused; clients trust it with
	// --tls-ca DevTLSCertFile(). For local trials, not production.
	DevTLS bool
	// TrustProxyHeader makes a request whose TCP peer is in TrustedProxies
	// come from the first hop of its x-forwarded-for metadata, for policy
	// conditions (request.source_ip) and access points' network origins
	// (accesspoints.go); other peers' headers are ignored. Needs at least
	// one TrustedProxies CIDR. Off (the default): the TCP peer decides.
	TrustProxyHeader bool
	// TrustedProxies are the CIDRs of the proxies TrustProxyHeader
	// believes.
	TrustedProxies []string
	// CrashPoint, when set, is called at the server's crash point
	// (crashpoint.go); set Vault.CrashPoint too for the store's. For the
	// crash harness only: nil means nothing happens there.
	CrashPoint func(name string)
}

// DefaultConfig is what `wormvault serve` runs with when given no flags.
func DefaultConfig() Config {
	return Config{
		Listen:            "127.0.0.1:7420",
		Vault:             vault.DefaultConfig("wormvault-data"),
		ShutdownGrace:     30 * time.Second,
		ClockTick:         2 * time.Second,
		SweepInterval:     10 * time.Minute,
		ScrubInterval:     24 * time.Hour,
		ScrubRate:         64 << 20,
		AccessLogInterval: time.Minute,
		AuthFailureBurst:  10,
		AuthFailureEvery:  6 * time.Second,
		Limits:            DefaultLimits(),
	}
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	if c.Listen == "" {
		return errors.New("server: config: Listen is empty")
	}
	if c.ClockTick <= 0 || c.SweepInterval <= 0 || c.ShutdownGrace < 0 || c.ScrubInterval < 0 || c.ScrubRate < 0 {
		return errors.New("server: config: ClockTick and SweepInterval must be positive; ShutdownGrace, ScrubInterval and ScrubRate not negative")
	}
	if c.AccessLogInterval <= 0 {
		return errors.New("server: config: AccessLogInterval must be positive")
	}
	if err := c.validateTLS(); err != nil {
		return err
	}
	if err := c.validateHTTP(); err != nil {
		return err
	}
	if err := c.Limits.validate(); err != nil {
		return err
	}
	if c.TrustProxyHeader && len(c.TrustedProxies) == 0 {
		return errors.New("server: config: TrustProxyHeader needs at least one TrustedProxies CIDR")
	}
	if _, err := parseTrustedProxies(c.TrustedProxies); err != nil {
		return err
	}
	return c.Vault.Validate()
}

// CredentialsFile is where the root access key is written on first start.
func (c Config) CredentialsFile() string { return filepath.Join(c.Vault.DataDir, "root.credentials") }

// Server is a running wormvault server.
type Server struct {
	cfg    Config
	log    *slog.Logger
	store  *vault.Store
	grpc   *grpc.Server
	health *health.Server
	lis    net.Listener
	http   *httpFront // nil without HTTPListen

	// RootToken is set when this start created the root access key; the
	// caller prints it once.
	RootToken string

	authLimit *authLimiter
	limits    *limiter
	// proxies are the trusted proxies' CIDRs when TrustProxyHeader is on.
	proxies []netip.Prefix

	stop    chan struct{}
	done    chan struct{}
	bgDone  chan struct{} // closed when the background duties have stopped
	serving atomic.Bool   // Serve started the background duties
}

// New opens storage, creates the root key on first start, and binds the
// listener. Serve starts answering.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.Vault.Logger = log
	tlsCfg, err := cfg.serverTLS(log)
	if err != nil {
		return nil, err
	}
	var creds credentials.TransportCredentials // nil: plaintext
	if tlsCfg != nil {
		creds = credentials.NewTLS(tlsCfg)
	}
	store, err := vault.Open(ctx, cfg.Vault)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, store: store, stop: make(chan struct{}), done: make(chan struct{}), bgDone: make(chan struct{})}
	token, err := store.EnsureRootKey(ctx, cfg.CredentialsFile())
	if err != nil {
		store.Close()
		return nil, err
	}
	s.RootToken = token
	if cfg.AuthFailureBurst > 0 && cfg.AuthFailureEvery > 0 {
		s.authLimit = newAuthLimiter(cfg.AuthFailureEvery, cfg.AuthFailureBurst)
	}
	s.limits = newLimiter(cfg.Limits)
	if cfg.TrustProxyHeader {
		s.proxies, _ = parseTrustedProxies(cfg.TrustedProxies) // Validate parsed them
	}
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("server: listen %s: %w", cfg.Listen, err)
	}
	s.lis = lis
	s.grpc = grpc.NewServer(
		grpc.Creds(creds), // nil: plaintext
		// The access log is outermost: it sees every call, refused ones
		// included, with its final status (accesslog.go).
		grpc.ChainUnaryInterceptor(s.accessLogUnary),
		grpc.ChainStreamInterceptor(s.accessLogStream),
		grpc.ChainUnaryInterceptor(s.unaryInterceptor),
		grpc.ChainStreamInterceptor(s.streamInterceptor),
		// Limits run after authentication: some are per principal.
		grpc.ChainUnaryInterceptor(s.limits.unary),
		grpc.ChainStreamInterceptor(s.limits.stream),
		// Innermost: how far an upload over the HTTP listener is read
		// ahead of its handler (httpgate.go).
		grpc.ChainStreamInterceptor(recvGateStream),
		grpc.MaxConcurrentStreams(cfg.Limits.MaxConcurrentStreams),
		cfg.Limits.headerListOption(),
		// Uploads carry chunks of up to 4 MiB plus framing.
		grpc.MaxRecvMsgSize(MaxChunkSize+64<<10),
		// Large windows and buffers: loopback throughput is bound by them.
		grpc.InitialWindowSize(4<<20),
		grpc.InitialConnWindowSize(16<<20),
		grpc.ReadBufferSize(1<<20),
		grpc.WriteBufferSize(1<<20),
		// Stop waits for handlers, so storage is never closed under one.
		grpc.WaitForHandlers(true),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
	wormvaultv1.RegisterVaultServiceServer(s.grpc, &vaultService{store: store})
	wormvaultv1.RegisterArchiveServiceServer(s.grpc, &archiveService{store: store, crash: cfg.CrashPoint})
	wormvaultv1.RegisterAdminServiceServer(s.grpc, &adminService{store: store})
	wormvaultv1.RegisterLockServiceServer(s.grpc, &lockService{store: store})
	wormvaultv1.RegisterIdentityServiceServer(s.grpc, &identityService{store: store, credentials: cfg.CredentialsFile()})
	wormvaultv1.RegisterAuditServiceServer(s.grpc, &auditService{store: store})
	wormvaultv1.RegisterKeyServiceServer(s.grpc, &keyService{store: store})
	wormvaultv1.RegisterAccessPointServiceServer(s.grpc, &accessPointService{store: store})
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	if cfg.HTTPListen != "" {
		// After every service is registered: the HTTP face serves those
		// the gRPC server has.
		if s.http, err = s.newHTTPFront(tlsCfg); err != nil {
			lis.Close()
			store.Close()
			return nil, err
		}
	}
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Store is the server's storage, for tests and admin tooling in-process.
func (s *Server) Store() *vault.Store { return s.store }

// Serve answers requests until Shutdown. It returns nil after a clean
// shutdown.
func (s *Server) Serve() error {
	defer close(s.done)
	s.serving.Store(true)
	go s.background()
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	if s.http != nil {
		go s.http.serve(s.log)
	}
	err := s.grpc.Serve(s.lis)
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// background runs the periodic duties: the clock tick, the orphan sweep and
// the audit trail's checkpoint.
func (s *Server) background() {
	ctx, cancel := context.WithCancel(context.Background())
	defer close(s.bgDone)
	bg := make(chan struct{})
	go func() { defer close(bg); s.store.RunBackground(ctx, s.cfg.ScrubInterval, s.cfg.ScrubRate) }()
	defer func() { cancel(); <-bg }()
	logs := make(chan struct{})
	go func() { defer close(logs); s.store.RunAccessLogDelivery(ctx, s.cfg.AccessLogInterval) }()
	defer func() { cancel(); <-logs }()
	tick := time.NewTicker(s.cfg.ClockTick)
	defer tick.Stop()
	sweep := time.NewTicker(s.cfg.SweepInterval)
	defer sweep.Stop()
	checkpoint := time.NewTicker(auditCheckpointEvery)
	defer checkpoint.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
			if err := s.store.TickClock(context.Background()); err != nil {
				s.log.Error("clock tick", "err", err)
			}
		case <-sweep.C:
			if n, err := s.store.SweepOrphans(context.Background(), s.cfg.Vault.OrphanGrace); err != nil {
				s.log.Error("orphan sweep", "err", err)
			} else if n > 0 {
				s.log.Info("orphan sweep removed uncommitted shards", "objects", n)
			}
		case <-checkpoint.C:
			if _, err := s.store.AuditTrail().Checkpoint(ctx); err != nil {
				s.log.Error("audit checkpoint", "err", err)
			}
		}
	}
}

// Shutdown stops accepting calls, lets in-flight calls finish for up to
// ShutdownGrace, cancels the rest (their uploads abort and store nothing),
// and closes storage.
func (s *Server) Shutdown() error {
	s.health.Shutdown()
	close(s.stop)
	deadline := time.Now().Add(s.cfg.ShutdownGrace)
	if s.http != nil {
		// HTTP first: gRPC's graceful stop would cut the calls the HTTP
		// listener has in flight (they run inside grpc.Server.ServeHTTP).
		s.http.shutdown(deadline, s.log)
	}
	finished := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(time.Until(deadline)):
		s.log.Warn("shutdown grace elapsed: cancelling in-flight calls")
		s.grpc.Stop()
		<-finished
	}
	if s.serving.Load() {
		<-s.bgDone
	}
	// Persist the time the clock reached, so a restart resumes from it
	// rather than from the last tick's mark (rule 14).
	if err := s.store.Clock().Tick(); err != nil {
		s.log.Error("clock tick at shutdown", "err", err)
	}
	return s.store.Close()
}

// PrintRootToken writes the first-start banner with the root token.
func PrintRootToken(w *os.File, token, path string) {
	fmt.Fprintf(w, "\nRoot access key created (shown once; also saved to %s, mode 0600):\n\n  %s\n\n", path, token)
}

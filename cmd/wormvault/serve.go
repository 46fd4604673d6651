package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wormvault/wormvault/server"
)

// newServeCmd is `wormvault serve`: flags become a server.Config; nothing
// else happens here.
func newServeCmd() *cobra.Command {
	cfg := server.DefaultConfig()
	var (
		dataDir  string
		logLevel string
		logJSON  bool
		crashAt  string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the wormvault server",
		Long: `Run the wormvault server.

With no flags it keeps everything under ./wormvault-data (catalog in meta/,
six erasure drives in drives/d1..d6, 4 data + 2 parity shards) and listens on
127.0.0.1:7420; --http-listen also serves the API to browsers and REST
clients (gRPC-Web, Connect, REST/JSON) and the console at /console/. On
first start it creates the root access key, prints it once and saves it to
wormvault-data/root.credentials (mode 0600).

Transport security: --tls-cert and --tls-key serve TLS 1.3; --client-ca also
accepts client certificates, which name their principal by a URI SAN
wormvault://principal/NAME (else the CommonName) and need no access key; an
access key, when sent, decides instead. --dev-tls serves a self-signed
certificate kept in DATA/dev-tls/ for local trials: clients dial with
--tls-ca DATA/dev-tls/cert.pem. Plaintext is served only on a loopback
address (127.0.0.1, ::1, localhost) unless --allow-insecure is given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return usagef("--log-level: %v", err)
			}
			hopts := &slog.HandlerOptions{Level: level}
			var h slog.Handler = slog.NewTextHandler(cmd.ErrOrStderr(), hopts)
			if logJSON {
				h = slog.NewJSONHandler(cmd.ErrOrStderr(), hopts)
			}
			cfg.Logger = slog.New(h)
			if crashAt != "" {
				hook, err := server.CrashAt(crashAt, cfg.Logger)
				if err != nil {
					return usagef("--crash-at: %v", err)
				}
				cfg.CrashPoint, cfg.Vault.CrashPoint = hook, hook
			}
			cfg.Vault.DataDir = dataDir
			if err := cfg.Validate(); err != nil {
				return usagef("%v", err)
			}
			return serve(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data", "wormvault-data", "data directory (catalog, default drives, credentials)")
	f.StringVar(&cfg.Listen, "listen", cfg.Listen, "gRPC listen address")
	f.StringVar(&cfg.HTTPListen, "http-listen", "", "also serve gRPC-Web, Connect, REST/JSON and the console (/console/) on this `ADDRESS`, e.g. 127.0.0.1:7421 (make run does)")
	f.StringArrayVar(&cfg.CORSOrigins, "cors-origin", nil, "web `ORIGIN` (scheme://host[:port], one * wildcard) allowed to call Connect, gRPC-Web and the routes outside a vault from a browser (repeatable; a vault's routes follow its own CORS rules)")
	f.StringVar(&cfg.Vault.MasterKeyFile, "master-key-file", "", "master key `FILE` for encryption at rest: 64 hex digits (or 32 raw bytes), mode 0600; created if missing (default: DATA/master.key)")
	f.BoolVar(&cfg.Vault.AllowUnencrypted, "allow-unencrypted", false, "accept uploads (and vault defaults) asking for ENCRYPTION_MODE_NONE: plaintext at rest, for measuring what encryption costs")
	f.Float64Var(&cfg.Vault.KMSRequestsPerSecond, "kms-rate", cfg.Vault.KMSRequestsPerSecond, "request quota of each KMS key: data keys generated or decrypted per second (0: no quota)")
	f.StringArrayVar(&cfg.Vault.Drives, "drive", nil, "erasure drive directory (repeat once per shard; default: DATA/drives/d1..dN)")
	f.IntVar(&cfg.Vault.DataShards, "data-shards", cfg.Vault.DataShards, "erasure data shards")
	f.IntVar(&cfg.Vault.ParityShards, "parity-shards", cfg.Vault.ParityShards, "erasure parity shards (drives that may be lost)")
	f.IntVar(&cfg.Vault.InlineThreshold, "inline-threshold", cfg.Vault.InlineThreshold, "largest archive stored inline in the replicated catalog instead of as shard files (0 disables)")
	f.IntVar(&cfg.Vault.BlockSize, "block-size", cfg.Vault.BlockSize, "erasure stripe size in bytes")
	f.DurationVar(&cfg.Vault.MaxClockSkew, "max-clock-skew", cfg.Vault.MaxClockSkew, "how far the wall clock may jump ahead before it is distrusted")
	f.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", cfg.ShutdownGrace, "how long shutdown waits for in-flight calls")
	f.DurationVar(&cfg.ScrubInterval, "scrub-interval", cfg.ScrubInterval, "how often to verify every archive and write a fixity report (0 disables)")
	f.Int64Var(&cfg.ScrubRate, "scrub-rate", cfg.ScrubRate, "scrub read rate cap in bytes/s (0: unlimited)")
	f.DurationVar(&cfg.AccessLogInterval, "access-log-interval", cfg.AccessLogInterval, "how often access logs of vaults with logging on are delivered into their target vaults")
	f.IntVar(&cfg.Limits.MaxInFlight, "max-in-flight", cfg.Limits.MaxInFlight, "calls handled at once server-wide; more are refused with RESOURCE_EXHAUSTED (0: unlimited)")
	f.IntVar(&cfg.Limits.MaxConcurrentUploads, "max-uploads", cfg.Limits.MaxConcurrentUploads, "uploads in progress at once server-wide; more are refused with RESOURCE_EXHAUSTED (0: unlimited)")
	f.Uint32Var(&cfg.Limits.MaxConcurrentStreams, "max-streams-per-conn", cfg.Limits.MaxConcurrentStreams, "concurrent calls per client connection; clients queue beyond it (0: unlimited)")
	f.IntVar(&cfg.Limits.MaxHeaderBytes, "max-header-bytes", cfg.Limits.MaxHeaderBytes, "request metadata size limit in bytes; more is refused with RESOURCE_EXHAUSTED (0: gRPC's default)")
	f.Int64Var(&cfg.Limits.UploadBytesPerSecond, "upload-bytes-per-second", 0, "per-principal upload rate; over it new uploads are refused with RESOURCE_EXHAUSTED (0: unlimited)")
	f.Int64Var(&cfg.Limits.UploadBurstBytes, "upload-burst-bytes", 0, "bytes a principal may upload at once before --upload-bytes-per-second applies (0: one second's worth)")
	f.Float64Var(&cfg.Limits.UploadsPerSecond, "uploads-per-second", 0, "per-principal rate of new uploads; over it RESOURCE_EXHAUSTED (0: unlimited)")
	f.IntVar(&cfg.Limits.UploadBurst, "upload-burst", 0, "uploads a principal may start at once before --uploads-per-second applies (0: one second's worth)")
	f.StringVar(&cfg.TLSCertFile, "tls-cert", "", "serve TLS 1.3 with this PEM certificate (chain) `FILE` (needs --tls-key)")
	f.StringVar(&cfg.TLSKeyFile, "tls-key", "", "PEM private key `FILE` of --tls-cert")
	f.StringVar(&cfg.ClientCAFile, "client-ca", "", "accept client certificates (mTLS) issued by the CAs in this PEM `FILE`")
	f.BoolVar(&cfg.AllowInsecure, "allow-insecure", false, "allow plaintext on a non-loopback --listen address (access keys travel in clear)")
	f.BoolVar(&cfg.DevTLS, "dev-tls", false, "serve TLS with a self-signed certificate kept in DATA/dev-tls/ (local trials only)")
	f.BoolVar(&cfg.TrustProxyHeader, "trust-proxy-header", false, "take a request's source address (policies' request.source_ip, access points' network origins) from the first hop of x-forwarded-for when it comes from a --trusted-proxy")
	f.StringArrayVar(&cfg.TrustedProxies, "trusted-proxy", nil, "`CIDR` of a proxy whose x-forwarded-for --trust-proxy-header believes (repeatable)")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.BoolVar(&logJSON, "log-json", false, "log as JSON lines instead of text")
	// The crash harness (internal/crashtest) kills the server at its crash
	// points with it; hidden, as it is of no use to anyone else.
	f.StringVar(&crashAt, "crash-at", "", "SIGKILL this process at the Nth hit of crash point `NAME[:N]` (N default 1)")
	f.MarkHidden("crash-at")
	return cmd
}

// serve runs the server until SIGINT or SIGTERM, then shuts down gracefully.
func serve(ctx context.Context, cfg server.Config) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := server.New(ctx, cfg)
	if err != nil {
		return err
	}
	if srv.RootToken != "" {
		server.PrintRootToken(os.Stderr, srv.RootToken, cfg.CredentialsFile())
	}
	if cfg.HTTPListen != "" {
		scheme := "http"
		if cfg.TLS() {
			scheme = "https"
		}
		cfg.Logger.Info("wormvault serving HTTP: gRPC-Web, Connect, REST", "addr", srv.HTTPAddr(),
			"console", scheme+"://"+srv.HTTPAddr()+"/console/", "cors_origins", cfg.CORSOrigins)
	}
	cfg.Logger.Info("wormvault serving", "addr", srv.Addr(), "data", cfg.Vault.DataDir,
		"data_shards", cfg.Vault.DataShards, "parity_shards", cfg.Vault.ParityShards, "tls", cfg.TLS(), "mtls", cfg.ClientCAFile != "")
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	select {
	case err := <-served:
		srv.Shutdown()
		return err
	case <-ctx.Done():
	}
	cfg.Logger.Info("shutting down: finishing in-flight calls", "grace", cfg.ShutdownGrace)
	if err := srv.Shutdown(); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return <-served
}

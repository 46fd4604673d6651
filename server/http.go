package server

// The HTTP face, for browsers and REST clients: on Config.HTTPListen the
// same services as gRPC-Web, Connect and REST/JSON (the google.api.http
// rules of proto/wormvault/v1), through connectrpc.com/vanguard. Vanguard
// transcodes each request into a gRPC call that it hands, in process, to
// grpc.Server.ServeHTTP with the original request's remote address and TLS
// state, so every call runs the very handlers and interceptors of the gRPC
// listener — authentication, limits, the access log — and no RPC has a
// second implementation. Around it: per-vault CORS (cors.go), archive bytes
// over plain PUT and GET (httpmedia.go), the console at /console/, and
// strict security headers on every response.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"time"

	"connectrpc.com/vanguard"
	"connectrpc.com/vanguard/vanguardgrpc"

	"github.com/wormvault/wormvault/clients/web"
	"github.com/wormvault/wormvault/cors"
)

// ContentSecurityPolicy is sent with every response of the HTTP listener:
// the console loads scripts, styles and data only from its own origin, is
// never framed, and has no forms or base URL to hijack.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// HTTP listener limits.
const (
	// maxHTTPMessageBytes bounds one request message that vanguard buffers
	// to transcode it: a 4 MiB upload chunk in JSON (base64) and framing.
	maxHTTPMessageBytes   = 8 << 20
	httpReadHeaderTimeout = 10 * time.Second
	httpIdleTimeout       = 2 * time.Minute
)

// validateHTTP is the HTTP part of Validate.
func (c Config) validateHTTP() error {
	for i, o := range c.CORSOrigins {
		if err := cors.ValidateOrigin(fmt.Sprintf("cors_origin[%d]", i), o); err != nil {
			return fmt.Errorf("server: config: CORSOrigins (--cors-origin): %w", err)
		}
	}
	if c.HTTPListen == "" {
		if len(c.CORSOrigins) > 0 {
			return errors.New("server: config: CORSOrigins needs HTTPListen (--cors-origin needs --http-listen)")
		}
		return nil
	}
	if c.HTTPListen == c.Listen && !strings.HasSuffix(c.Listen, ":0") {
		return fmt.Errorf("server: config: HTTPListen and Listen are both %q: give each its own port", c.Listen)
	}
	if !c.TLS() && !c.AllowInsecure {
		loopback, err := loopbackAddr(c.HTTPListen)
		if err != nil {
			return fmt.Errorf("server: config: HTTPListen %q: %w", c.HTTPListen, err)
		}
		if !loopback {
			return fmt.Errorf("server: config: refusing plaintext HTTP on non-loopback address %q: bearer keys would cross the network in clear; "+
				"serve TLS (--tls-cert/--tls-key or --dev-tls), listen on 127.0.0.1, or accept the risk with --allow-insecure", c.HTTPListen)
		}
	}
	return nil
}

// httpFront is the running HTTP listener.
type httpFront struct {
	srv *http.Server
	lis net.Listener
	tls bool
}

// HTTPAddr is the address the HTTP listener listens on, "" without one.
func (s *Server) HTTPAddr() string {
	if s.http == nil {
		return ""
	}
	return s.http.lis.Addr().String()
}

// newHTTPFront binds HTTPListen and builds its handler; serve answers.
func (s *Server) newHTTPFront(tlsCfg *tls.Config) (*httpFront, error) {
	h, err := s.httpHandler()
	if err != nil {
		return nil, err
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	if tlsCfg != nil {
		protocols.SetHTTP2(true)
		tlsCfg = tlsCfg.Clone()
		tlsCfg.NextProtos = []string{"h2", "http/1.1"}
	} else {
		// h2c: HTTP/2 without TLS, for gRPC clients and Connect streams.
		protocols.SetUnencryptedHTTP2(true)
	}
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         tlsCfg,
		Protocols:         &protocols,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: int(s.cfg.Limits.MaxConcurrentStreams)},
		ReadHeaderTimeout: httpReadHeaderTimeout,
		IdleTimeout:       httpIdleTimeout,
		MaxHeaderBytes:    s.cfg.Limits.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	lis, err := net.Listen("tcp", s.cfg.HTTPListen)
	if err != nil {
		return nil, fmt.Errorf("server: listen %s: %w", s.cfg.HTTPListen, err)
	}
	return &httpFront{srv: srv, lis: lis, tls: tlsCfg != nil}, nil
}

// serve answers until shutdown.
func (f *httpFront) serve(log *slog.Logger) {
	var err error
	if f.tls {
		err = f.srv.ServeTLS(f.lis, "", "")
	} else {
		err = f.srv.Serve(f.lis)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("http listener", "addr", f.lis.Addr().String(), "err", err)
	}
}

// shutdown stops accepting, lets requests in flight finish until deadline,
// then closes what is left.
func (f *httpFront) shutdown(deadline time.Time, log *slog.Logger) {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		log.Warn("http shutdown grace elapsed: closing connections", "err", err)
		f.srv.Close()
	}
	f.lis.Close() // in case serve never started
}

// httpHandler routes the HTTP listener: the console, the archive bytes
// routes, and vanguard for everything else, inside CORS and the security
// headers.
func (s *Server) httpHandler() (http.Handler, error) {
	transcoder, err := vanguardgrpc.NewTranscoder(s.grpc,
		vanguard.WithDefaultServiceOptions(vanguard.WithMaxMessageBufferBytes(maxHTTPMessageBytes)))
	if err != nil {
		return nil, fmt.Errorf("server: http transcoder: %w", err)
	}
	console, err := consoleHandler(web.Dist())
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /console/", http.StripPrefix("/console", console))
	mux.Handle("GET /{$}", http.RedirectHandler("/console/", http.StatusFound))
	mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
	mux.Handle("/", s.mediaRoutes(gateClientStreams(clientStreams(s.grpc), escapedPath(transcoder))))
	return securityHeaders(s.corsHandler(mux)), nil
}

// escapedPath hands next the request's path as the client escaped it.
// Vanguard matches REST routes on URL.Path and then unescapes what each
// variable captured, so it must see the escaped form: decoded, an access
// point's "ap%2FNAME" would be two segments, a key's "%3A" a custom
// method's ':', and a key's "%25" would be unescaped twice.
//
// Only the vault segment keeps an escaped '/': vanguard keeps "%2F"
// literal in a multi-segment variable (a key), where it always meant '/'.
func escapedPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := r.URL.EscapedPath(); e != r.URL.Path {
			r = r.Clone(r.Context())
			r.URL.Path, r.URL.RawPath = keySlashes(e), ""
		}
		next.ServeHTTP(w, r)
	})
}

// keySlashes decodes the escaped slashes of an escaped REST path after its
// vault segment: under /v1/vaults/{vault}/ they are the key's own.
func keySlashes(escaped string) string {
	rest, ok := strings.CutPrefix(escaped, "/v1/vaults/")
	if !ok {
		return escaped
	}
	vault, tail, ok := strings.Cut(rest, "/")
	if !ok {
		return escaped
	}
	tail = strings.ReplaceAll(strings.ReplaceAll(tail, "%2F", "/"), "%2f", "/")
	return "/v1/vaults/" + vault + "/" + tail
}

// securityHeaders sets the headers every response carries. Bearer keys
// travel only in the authorization header, never in a cookie, so no
// request can be forged cross-site with the caller's authority (CSRF).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// consoleHandler serves the console's static files. A path that names no
// file gets index.html, so the console's own routes survive a reload;
// Vite's hashed assets are cached for good, everything else revalidated.
func consoleHandler(dist fs.FS) (http.Handler, error) {
	if _, err := fs.Stat(dist, "index.html"); err != nil {
		return nil, fmt.Errorf("server: console: %w", err)
	}
	files := http.FileServerFS(dist)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		if st, err := fs.Stat(dist, name); err != nil || st.IsDir() {
			if path.Ext(name) != "" && err != nil {
				http.NotFound(w, r)
				return
			}
			r = r.Clone(r.Context())
			r.URL.Path = "/"
		}
		if strings.HasPrefix(name, "assets/") {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	}), nil
}

package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/vault"
)

type ctxKey int

const (
	callerKey ctxKey = iota
	requestIDKey
	customerKeyKey
)

// requestID returns the id the interceptors gave this request.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// callerOf returns the authenticated caller of this request.
func callerOf(ctx context.Context) vault.Caller {
	c, _ := ctx.Value(callerKey).(vault.Caller)
	return c
}

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// unauthenticatedMethods may be called without a credential: health checks
// and server reflection, which grpcurl and load balancers need.
func unauthenticated(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.v1.Health/") ||
		strings.HasPrefix(fullMethod, "/grpc.reflection.")
}

// authenticate resolves the caller from the bearer token in metadata or,
// when no authorization is sent, from a verified client certificate (mTLS).
// When both come, the bearer token decides.
func (s *Server) authenticate(ctx context.Context, fullMethod string) (context.Context, error) {
	if requestID(ctx) == "" { // the access log may have given one
		ctx = context.WithValue(ctx, requestIDKey, newRequestID())
	}
	if unauthenticated(fullMethod) {
		return ctx, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	var (
		caller vault.Caller
		err    error
	)
	if cert := verifiedClientCert(ctx); cert != nil && len(vals) == 0 {
		caller, err = s.certCaller(ctx, cert)
	} else {
		caller, err = s.bearerCaller(ctx, vals)
	}
	if err != nil {
		return ctx, err
	}
	// The access log names who asked, even when MFA or an SSE-C key
	// then refuse the request.
	noteCaller(ctx, caller.Principal)
	caller.SourceIP = s.sourceIP(ctx, md)
	if p, ok := peer.FromContext(ctx); ok {
		_, caller.SecureTransport = p.AuthInfo.(credentials.TLSInfo)
	}
	if mfa := md.Get(mfaMetadata); len(mfa) > 0 {
		if err := s.verifyMFA(ctx, caller, mfa); err != nil {
			return ctx, err
		}
		caller.MFAPresent = true
	}
	ck, err := customerKeyFromMetadata(md, caller.SecureTransport)
	if err != nil {
		return ctx, err
	}
	if !ck.IsZero() {
		ctx = context.WithValue(ctx, customerKeyKey, ck)
	}
	return context.WithValue(ctx, callerKey, caller), nil
}

// customerKeyFromMetadata reads the SSE-C key a request carries (the
// zero key when none). A key sent on a connection without TLS is refused
// on any call: it has crossed the network in clear.
func customerKeyFromMetadata(md metadata.MD, secure bool) (vault.CustomerKey, error) {
	keys, sums := md.Get(vault.CustomerKeyMetadata), md.Get(vault.CustomerKeySHA256Metadata)
	switch {
	case len(keys) == 0 && len(sums) == 0:
		return vault.CustomerKey{}, nil
	case !secure:
		return vault.CustomerKey{}, fmt.Errorf("%w: %s was sent on a connection without TLS; consider that key exposed", wormvault.ErrTLSRequired, vault.CustomerKeyMetadata)
	case len(keys) > 1:
		return vault.CustomerKey{}, wormvault.InvalidArgument(vault.CustomerKeyMetadata, "send it once")
	case len(sums) > 1:
		return vault.CustomerKey{}, wormvault.InvalidArgument(vault.CustomerKeySHA256Metadata, "send it once")
	}
	return vault.ParseCustomerKey(strings.Join(keys, ""), strings.Join(sums, ""))
}

// customerKeyOf returns the SSE-C key of this request, if it sent one.
func customerKeyOf(ctx context.Context) vault.CustomerKey {
	k, _ := ctx.Value(customerKeyKey).(vault.CustomerKey)
	return k
}

// bearerCaller resolves the caller from the authorization metadata.
func (s *Server) bearerCaller(ctx context.Context, vals []string) (vault.Caller, error) {
	if len(vals) != 1 {
		return vault.Caller{}, fmt.Errorf("%w: send metadata authorization: Bearer <key-id>.<secret>", wormvault.ErrUnauthenticated)
	}
	scheme, token, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return vault.Caller{}, fmt.Errorf("%w: authorization must be \"Bearer <key-id>.<secret>\"", wormvault.ErrUnauthenticated)
	}
	token = strings.TrimSpace(token)
	// Guessing is slowed per remote address and per key id tried.
	keyID, _, _ := strings.Cut(token, ".")
	ipKey := ""
	if p, ok := peer.FromContext(ctx); ok {
		if host, _, err := net.SplitHostPort(p.Addr.String()); err == nil {
			ipKey = "ip:" + host
		}
	}
	if err := s.authLimit.check(ipKey, "key:"+keyID); err != nil {
		return vault.Caller{}, err
	}
	caller, err := s.store.Authenticate(ctx, token)
	if errors.Is(err, wormvault.ErrUnauthenticated) {
		s.authLimit.failed(ipKey, "key:"+keyID)
		s.log.WarnContext(ctx, "failed authentication", "key_id", keyID, "remote", ipKey, "request_id", requestID(ctx))
	}
	return caller, err
}

func (s *Server) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	start := time.Now()
	ctx, err = s.authenticate(ctx, info.FullMethod)
	defer func() {
		if p := recover(); p != nil {
			s.log.ErrorContext(ctx, "panic", "method", info.FullMethod, "request_id", requestID(ctx), "panic", p, "stack", string(debug.Stack()))
			err = status.Errorf(codes.Internal, "internal error (request id %s)", requestID(ctx))
		}
		s.logCall(ctx, info.FullMethod, start, err)
	}()
	if err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	resp, err = handler(ctx, req)
	return resp, toStatus(ctx, s.log, err)
}

// wrappedStream carries the authenticated context into a streaming handler.
type wrappedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (w *wrappedStream) Context() context.Context { return w.ctx }

func (s *Server) streamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	start := time.Now()
	ctx, err := s.authenticate(ss.Context(), info.FullMethod)
	defer func() {
		if p := recover(); p != nil {
			s.log.ErrorContext(ctx, "panic", "method", info.FullMethod, "request_id", requestID(ctx), "panic", p, "stack", string(debug.Stack()))
			err = status.Errorf(codes.Internal, "internal error (request id %s)", requestID(ctx))
		}
		s.logCall(ctx, info.FullMethod, start, err)
	}()
	if err != nil {
		return toStatus(ctx, s.log, err)
	}
	err = handler(srv, &wrappedStream{ServerStream: ss, ctx: ctx})
	return toStatus(ctx, s.log, err)
}

func (s *Server) logCall(ctx context.Context, method string, start time.Time, err error) {
	if unauthenticated(method) {
		return
	}
	code := status.Code(err)
	level := slog.LevelInfo
	if code == codes.Internal || code == codes.DataLoss {
		level = slog.LevelError
	}
	remote := ""
	if p, ok := peer.FromContext(ctx); ok {
		remote = p.Addr.String()
	}
	s.log.Log(ctx, level, "rpc", "method", method, "code", code.String(), "principal", callerOf(ctx).Principal,
		"remote", remote, "duration", time.Since(start), "request_id", requestID(ctx))
}

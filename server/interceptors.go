package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

// authenticate reads the bearer token from metadata and resolves the caller.
func (s *Server) authenticate(ctx context.Context, fullMethod string) (context.Context, error) {
	ctx = context.WithValue(ctx, requestIDKey, newRequestID())
	if unauthenticated(fullMethod) {
		return ctx, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) != 1 {
		return ctx, fmt.Errorf("%w: send metadata authorization: Bearer <key-id>.<secret>", wormvault.ErrUnauthenticated)
	}
	scheme, token, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ctx, fmt.Errorf("%w: authorization must be \"Bearer <key-id>.<secret>\"", wormvault.ErrUnauthenticated)
	}
	caller, err := s.store.Authenticate(ctx, strings.TrimSpace(token))
	if err != nil {
		return ctx, err
	}
	if p, ok := peer.FromContext(ctx); ok {
		if host, _, err := net.SplitHostPort(p.Addr.String()); err == nil {
			caller.SourceIP = host
		}
		_, caller.SecureTransport = p.AuthInfo.(credentials.TLSInfo)
	}
	return context.WithValue(ctx, callerKey, caller), nil
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

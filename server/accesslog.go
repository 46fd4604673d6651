package server

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/vault"
	"github.com/wormvault/wormvault/vault/accesslog"
)

// Access logs. accessLogUnary and accessLogStream are the outermost
// interceptors, so they see every call to the wormvault services:
// authenticated or not, refused by authentication, by a limit or by a
// policy, and the final status after toStatus and panic recovery. The
// principal is known only once the authentication interceptor inside them
// has run; it notes it on the call (noteCaller).
//
// The vault, key and version come from the request message (for a stream,
// from the first message received); a stream refused before its handler
// read anything is read here, briefly, to learn what it asked for. The
// record is made durable (vault.Store.RecordAccess, group-committed) before
// the interceptor returns, that is before the final status is sent: a
// request whose result a client saw is never missing from the log. An
// upload's record is written in the upload's own commit instead, through
// the vault.AccessNote in the call's context (committedRecord), which
// saves it a second sync.
//
// When no vault has logging on, the interceptors add nothing but a check.

// accessCallKey carries the *accessCall of a request in its context.
type accessCallKey struct{}

// accessCall is what the access log learns about one call while it runs.
type accessCall struct {
	start  time.Time
	method string
	// note lets an upload write the record in its own commit.
	note *vault.AccessNote

	mu                  sync.Mutex
	uploadResponse      *wormvaultv1.UploadArchiveResponse // built at the commit (committedRecord)
	principal           string
	seen                bool // a request message was received
	vault, key, version string
	bytesIn, bytesOut   int64
}

func accessCallOf(ctx context.Context) *accessCall {
	c, _ := ctx.Value(accessCallKey{}).(*accessCall)
	return c
}

// noteCaller tells the access log who the authenticated caller is.
func noteCaller(ctx context.Context, principal string) {
	if c := accessCallOf(ctx); c != nil {
		c.mu.Lock()
		c.principal = principal
		c.mu.Unlock()
	}
}

// received accounts for a request message; the first names the address.
func (c *accessCall) received(m proto.Message) {
	n := int64(proto.Size(m))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bytesIn += n
	if !c.seen {
		c.seen = true
		c.vault, c.key, c.version = requestAddress(c.method, m)
	}
}

// sent accounts for a response message; an upload's response names the
// version it created.
func (c *accessCall) sent(m proto.Message) {
	n := int64(proto.Size(m))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bytesOut += n
	if c.version == "" {
		c.version = responseVersion(m)
	}
}

// logged reports whether calls to method are access-logged: the wormvault
// services', not health checks or reflection.
func logged(method string) bool { return strings.HasPrefix(method, "/wormvault.") }

func (s *Server) beginAccessCall(ctx context.Context, method string) (context.Context, *accessCall, bool) {
	if !logged(method) || !s.store.AccessLoggingOn() {
		return ctx, nil, false
	}
	c := &accessCall{start: time.Now(), method: method, note: &vault.AccessNote{}}
	ctx = context.WithValue(ctx, accessCallKey{}, c)
	// The request id is given here so the record and the server's own
	// logs share it; authenticate keeps it.
	ctx = context.WithValue(ctx, requestIDKey, newRequestID())
	c.note.Record = func(a *vault.Archive) accesslog.Record { return s.committedRecord(ctx, c, a) }
	ctx = vault.WithAccessNote(ctx, c.note)
	return ctx, c, true
}

func (s *Server) accessLogUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, c, ok := s.beginAccessCall(ctx, info.FullMethod)
	if !ok {
		return handler(ctx, req)
	}
	resp, err := handler(ctx, req)
	if m, ok := req.(proto.Message); ok {
		c.received(m)
	}
	if m, ok := resp.(proto.Message); ok && err == nil {
		c.sent(m)
	}
	s.recordAccess(ctx, c, err)
	return resp, err
}

func (s *Server) accessLogStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, c, ok := s.beginAccessCall(ss.Context(), info.FullMethod)
	if !ok {
		return handler(srv, ss)
	}
	err := handler(srv, &accessLoggedStream{ServerStream: ss, ctx: ctx, call: c})
	c.mu.Lock()
	seen := c.seen
	c.mu.Unlock()
	if !seen && err != nil {
		peekRequest(ss, c)
	}
	s.recordAccess(ctx, c, err)
	return err
}

// accessLoggedStream counts a stream's messages and reads the address from
// its first request.
type accessLoggedStream struct {
	grpc.ServerStream
	ctx  context.Context
	call *accessCall
}

func (a *accessLoggedStream) Context() context.Context { return a.ctx }

func (a *accessLoggedStream) RecvMsg(m any) error {
	err := a.ServerStream.RecvMsg(m)
	if pm, ok := m.(proto.Message); ok && err == nil {
		a.call.received(pm)
	}
	return err
}

func (a *accessLoggedStream) SendMsg(m any) error {
	err := a.ServerStream.SendMsg(m)
	if pm, ok := m.(proto.Message); ok && err == nil {
		a.call.sent(pm)
	}
	return err
}

// peekWait bounds how long a refused stream is read for its first message.
// Clients send it at once; one that sends nothing is logged without an
// address (and so in no vault's log) rather than held.
const peekWait = time.Second

// peekRequest reads the first message of a stream that was refused before
// its handler read it (authentication failed, a limit refused it), so the
// record names the vault and key it asked for.
func peekRequest(ss grpc.ServerStream, c *accessCall) {
	m := newRequest(c.method)
	if m == nil {
		return
	}
	got := make(chan error, 1)
	// The receive ends at the latest when the call ends and its context is
	// cancelled; a stream may be read while its status is being written.
	go func() { got <- ss.RecvMsg(m) }()
	t := time.NewTimer(peekWait)
	defer t.Stop()
	select {
	case err := <-got:
		if err == nil {
			c.received(m)
		}
	case <-t.C:
	}
}

// newRequest returns an empty request message of a wormvault method, or
// nil when the method is unknown.
func newRequest(fullMethod string) proto.Message {
	svc, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		return nil
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return nil
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if md == nil {
		return nil
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
	if err != nil {
		return nil
	}
	return mt.New().Interface()
}

// requestAddress finds the vault, archive key and version a request names:
// a field "vault" (a name, or a Vault message), "key", "version_id", the
// same inside an upload's "header", and "name" in the vault service.
func requestAddress(method string, m proto.Message) (vault, key, version string) {
	r := m.ProtoReflect()
	fields := r.Descriptor().Fields()
	if fd := fields.ByName("vault"); fd != nil && !fd.IsList() {
		switch fd.Kind() {
		case protoreflect.StringKind:
			vault = r.Get(fd).String()
		case protoreflect.MessageKind:
			if r.Has(fd) {
				vault = stringField(r.Get(fd).Message(), "name")
			}
		}
	}
	if vault == "" && strings.HasPrefix(method, "/wormvault.v1.VaultService/") {
		vault = stringField(r, "name")
	}
	key, version = stringField(r, "key"), stringField(r, "version_id")
	if fd := fields.ByName("header"); fd != nil && fd.Kind() == protoreflect.MessageKind && !fd.IsList() && r.Has(fd) {
		hv, hk, hver := requestAddress("", r.Get(fd).Message().Interface())
		vault, key, version = cmp.Or(vault, hv), cmp.Or(key, hk), cmp.Or(version, hver)
	}
	return vault, key, version
}

// responseVersion finds the version a response names: "version_id", or
// that of its "archive".
func responseVersion(m proto.Message) string {
	r := m.ProtoReflect()
	if v := stringField(r, "version_id"); v != "" {
		return v
	}
	if fd := r.Descriptor().Fields().ByName("archive"); fd != nil && fd.Kind() == protoreflect.MessageKind && !fd.IsList() && r.Has(fd) {
		return stringField(r.Get(fd).Message(), "version_id")
	}
	return ""
}

func stringField(r protoreflect.Message, name protoreflect.Name) string {
	fd := r.Descriptor().Fields().ByName(name)
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
		return ""
	}
	return r.Get(fd).String()
}

// recordAccess hands the call's record to the store, which keeps it only
// when the vault's logging is on, and returns once it is durable.
func (s *Server) recordAccess(ctx context.Context, c *accessCall, err error) {
	if c.note.Committed() {
		// The operation's own commit holds the record.
		return
	}
	rec, ok := s.accessRecord(ctx, c, err)
	if !ok {
		return
	}
	if err := s.store.RecordAccess(rec); err != nil {
		// The operation has taken effect: hiding its result would be
		// worse than a missing record, which is logged here instead.
		s.log.ErrorContext(ctx, "access log record not stored", "request_id", rec.RequestID, "vault", rec.Vault, "method", rec.RPC, "err", err)
	}
}

// committedRecord is the vault.AccessNote's record of an upload, written
// in the upload's commit: the call as it stands then, ended with OK, having
// created a. The response is built here, so the record counts its bytes,
// and kept for the handler to send (preparedUploadResponse).
func (s *Server) committedRecord(ctx context.Context, c *accessCall, a *vault.Archive) accesslog.Record {
	// The vault is the one committed to, the access point the one the call
	// named: it may have been deleted since, and the record must still say
	// how the upload came in.
	rec := s.callRecord(ctx, c, nil)
	if name, viaAP := wormvault.AccessPointOf(rec.Vault); viaAP {
		rec.AccessPoint = name
	}
	rec.Vault, rec.VersionID = a.Record.GetVault(), a.Record.GetVersionId()
	if resp, err := uploadResponse(s.store, a); err == nil {
		c.mu.Lock()
		c.uploadResponse = resp
		c.mu.Unlock()
		rec.BytesOut = int64(proto.Size(resp))
	}
	return rec
}

// preparedUploadResponse returns the response committedRecord built for
// the upload of a, or nil.
func preparedUploadResponse(ctx context.Context, a *vault.Archive) *wormvaultv1.UploadArchiveResponse {
	c := accessCallOf(ctx)
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.uploadResponse; r != nil && r.GetArchive().GetVersionId() == a.Record.GetVersionId() {
		return r
	}
	return nil
}

// accessRecord is the record of a call that ended with err, and false when
// it names no vault (or an access point that does not exist).
func (s *Server) accessRecord(ctx context.Context, c *accessCall, err error) (accesslog.Record, bool) {
	rec := s.callRecord(ctx, c, err)
	if rec.Vault == "" {
		return rec, false
	}
	// A request through an access point ("ap/NAME") belongs in the log of
	// the access point's vault, and says which access point; one naming
	// no access point names no vault.
	if _, viaAP := wormvault.AccessPointOf(rec.Vault); viaAP {
		vault, name, err := s.store.AccessPointVault(rec.Vault)
		if err != nil {
			// No such access point: the request names no vault. Anything
			// else loses a record, which must not go unseen.
			if !errors.Is(err, wormvault.ErrNotFound) {
				s.log.ErrorContext(ctx, "access log record not stored: the access point could not be read", "request_id", rec.RequestID, "access_point", rec.Vault, "method", rec.RPC, "err", err)
			}
			return rec, false
		}
		rec.Vault, rec.AccessPoint = vault, name
	}
	return rec, true
}

// callRecord is the record of a call that ended with err, its vault as the
// call named it ("ap/NAME" for an access point).
func (s *Server) callRecord(ctx context.Context, c *accessCall, err error) accesslog.Record {
	c.mu.Lock()
	rec := accesslog.Record{
		Time:      c.start,
		RequestID: requestID(ctx),
		Principal: c.principal,
		RPC:       c.method,
		Vault:     c.vault,
		Key:       c.key,
		VersionID: c.version,
		BytesIn:   c.bytesIn,
		BytesOut:  c.bytesOut,
	}
	c.mu.Unlock()
	rec.Duration = time.Since(c.start)
	st, _ := status.FromError(err)
	rec.Status = codeName(st.Code())
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			rec.Reason = info.GetReason()
			break
		}
	}
	if p, ok := peer.FromContext(ctx); ok {
		rec.RemoteAddr = p.Addr.String()
		_, rec.TLS = p.AuthInfo.(credentials.TLSInfo)
	}
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		rec.UserAgent = strings.Join(md.Get("user-agent"), " ")
	}
	return rec
}

// codeNames are the canonical names of the gRPC codes, as the access log
// writes them ("PERMISSION_DENIED"; grpc-go's String is "PermissionDenied").
var codeNames = [...]string{
	codes.OK:                 "OK",
	codes.Canceled:           "CANCELLED",
	codes.Unknown:            "UNKNOWN",
	codes.InvalidArgument:    "INVALID_ARGUMENT",
	codes.DeadlineExceeded:   "DEADLINE_EXCEEDED",
	codes.NotFound:           "NOT_FOUND",
	codes.AlreadyExists:      "ALREADY_EXISTS",
	codes.PermissionDenied:   "PERMISSION_DENIED",
	codes.ResourceExhausted:  "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION",
	codes.Aborted:            "ABORTED",
	codes.OutOfRange:         "OUT_OF_RANGE",
	codes.Unimplemented:      "UNIMPLEMENTED",
	codes.Internal:           "INTERNAL",
	codes.Unavailable:        "UNAVAILABLE",
	codes.DataLoss:           "DATA_LOSS",
	codes.Unauthenticated:    "UNAUTHENTICATED",
}

func codeName(c codes.Code) string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "CODE_" + c.String()
}

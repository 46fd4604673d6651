package client

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wormvault/wormvault"
)

// Error is an error the server returned: its gRPC code, its message and the
// stable reason from the google.rpc.ErrorInfo detail (empty when the server
// sent none, for instance when the server could not be reached).
//
// Unwrap returns the wormvault sentinel for Reason, or when the reason is
// unknown the sentinel for Code, so errors.Is works across the wire.
type Error struct {
	Code    codes.Code
	Reason  string
	Message string
	// Metadata is the ErrorInfo metadata: the field or rule that failed.
	Metadata map[string]string

	status *status.Status
}

// Error returns "wormvault: CODE: MESSAGE (reason REASON)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("wormvault: ")
	b.WriteString(e.Code.String())
	if msg := strings.TrimPrefix(e.Message, "wormvault: "); msg != "" {
		b.WriteString(": ")
		b.WriteString(msg)
	}
	if e.Reason != "" {
		b.WriteString(" (reason ")
		b.WriteString(e.Reason)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the sentinel error matching the reason, else the code.
func (e *Error) Unwrap() error {
	if err := wormvault.ErrorForReason(e.Reason); err != nil {
		return err
	}
	return sentinelForCode(e.Code)
}

// GRPCStatus returns the status the server sent, so status.FromError and
// status.Code work on an *Error.
func (e *Error) GRPCStatus() *status.Status {
	if e.status != nil {
		return e.status
	}
	return status.New(e.Code, e.Message)
}

// sentinelForCode is the fallback when a status carries no known reason.
func sentinelForCode(c codes.Code) error {
	switch c {
	case codes.NotFound:
		return wormvault.ErrNotFound
	case codes.AlreadyExists:
		return wormvault.ErrAlreadyExists
	case codes.InvalidArgument, codes.OutOfRange:
		return wormvault.ErrInvalidArgument
	case codes.FailedPrecondition:
		return wormvault.ErrFailedPrecondition
	case codes.PermissionDenied:
		return wormvault.ErrPermissionDenied
	case codes.Unauthenticated:
		return wormvault.ErrUnauthenticated
	case codes.ResourceExhausted:
		return wormvault.ErrResourceExhausted
	case codes.DataLoss:
		return wormvault.ErrDataLoss
	case codes.Aborted:
		return wormvault.ErrAborted
	case codes.Canceled:
		return context.Canceled
	case codes.DeadlineExceeded:
		return context.DeadlineExceeded
	}
	return nil
}

// convertError turns a gRPC status error into an *Error; other errors (and
// nil) pass through unchanged.
func convertError(err error) error {
	if err == nil {
		return nil
	}
	if ce := (*Error)(nil); errors.As(err, &ce) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	e := &Error{Code: st.Code(), Message: st.Message(), status: st}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == wormvault.ErrorDomain {
			e.Reason = info.GetReason()
			e.Metadata = info.GetMetadata()
			break
		}
	}
	return e
}

// isUnavailable reports whether err means the server could not be reached,
// the one condition worth retrying.
func isUnavailable(err error) bool {
	return status.Code(err) == codes.Unavailable
}

// errorf builds an SDK-side error, prefixed like the rest of the package.
func errorf(format string, args ...any) error {
	return fmt.Errorf("wormvault client: "+format, args...)
}

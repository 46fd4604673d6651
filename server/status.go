package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/erasure"
	"github.com/wormvault/wormvault/vault/journal"
)

// codeOf maps the domain's sentinel errors to gRPC codes. It is the only
// place that does: everything below server speaks errors.Is. More specific
// sentinels come first.
func codeOf(err error) codes.Code {
	switch {
	case errors.Is(err, wormvault.ErrNotFound):
		return codes.NotFound
	case errors.Is(err, wormvault.ErrAlreadyExists):
		return codes.AlreadyExists
	case errors.Is(err, wormvault.ErrInvalidArgument):
		return codes.InvalidArgument
	case errors.Is(err, wormvault.ErrFailedPrecondition):
		return codes.FailedPrecondition
	case errors.Is(err, wormvault.ErrRetentionActive),
		errors.Is(err, wormvault.ErrLegalHoldActive),
		errors.Is(err, wormvault.ErrPermissionDenied):
		return codes.PermissionDenied
	case errors.Is(err, wormvault.ErrUnauthenticated):
		return codes.Unauthenticated
	case errors.Is(err, wormvault.ErrResourceExhausted):
		return codes.ResourceExhausted
	case errors.Is(err, wormvault.ErrUnavailable):
		return codes.Unavailable
	case errors.Is(err, wormvault.ErrDataLoss):
		return codes.DataLoss
	case errors.Is(err, wormvault.ErrAborted):
		return codes.Aborted
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	}
	return codes.Unknown
}

// toStatus turns an error from below into the gRPC status the caller sees:
// the code, the error's message, and a google.rpc.ErrorInfo carrying a
// stable reason (and the field, for invalid arguments). An error that is none
// of the sentinels is an internal error: it is logged once, with the request
// id, and the caller sees only that id.
func toStatus(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	err = storageQuorum(ctx, log, err)
	code := codeOf(err)
	if code == codes.Unknown {
		rid := requestID(ctx)
		log.ErrorContext(ctx, "internal error", "request_id", rid, "err", err)
		return status.Errorf(codes.Internal, "internal error (request id %s)", rid)
	}
	st := status.New(code, err.Error())
	info := &errdetails.ErrorInfo{Reason: wormvault.Reason(err), Domain: wormvault.ErrorDomain}
	var fe *wormvault.InvalidArgumentError
	if errors.As(err, &fe) {
		info.Metadata = map[string]string{"field": fe.Field}
		if withDetails, derr := st.WithDetails(info, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: fe.Field, Description: fe.Reason}}}); derr == nil {
			return withDetails.Err()
		}
	}
	var re *retryError
	if errors.As(err, &re) {
		if withDetails, derr := st.WithDetails(info, &errdetails.RetryInfo{RetryDelay: durationpb.New(re.after)}); derr == nil {
			return withDetails.Err()
		}
	}
	// Errors from below that know when to retry (a KMS key's quota).
	var rd interface{ RetryDelay() time.Duration }
	if errors.As(err, &rd) {
		if withDetails, derr := st.WithDetails(info, &errdetails.RetryInfo{RetryDelay: durationpb.New(rd.RetryDelay())}); derr == nil {
			return withDetails.Err()
		}
	}
	if withDetails, derr := st.WithDetails(info); derr == nil {
		return withDetails.Err()
	}
	return st.Err()
}

// storageQuorum turns the storage layers' own quorum errors, which know
// nothing of the wire, into wormvault.ErrNoWriteQuorum: to a caller, too few
// writable drives means "nothing stored, try again once drives are back"
// (UNAVAILABLE). Which drives failed, and how, is for the log, not the
// caller.
func storageQuorum(ctx context.Context, log *slog.Logger, err error) error {
	if !errors.Is(err, erasure.ErrWriteQuorum) && !errors.Is(err, journal.ErrQuorum) {
		return err
	}
	rid := requestID(ctx)
	log.WarnContext(ctx, "write refused: too few drives writable", "request_id", rid, "err", err)
	return fmt.Errorf("%w (request id %s)", wormvault.ErrNoWriteQuorum, rid)
}

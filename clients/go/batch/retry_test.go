package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	client "github.com/wormvault/wormvault/clients/go"
)

func TestTransient(t *testing.T) {
	withRetryInfo := func(d time.Duration) error {
		st, err := status.New(codes.ResourceExhausted, "slow down").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
		if err != nil {
			t.Fatal(err)
		}
		return st.Err()
	}
	tests := []struct {
		name  string
		err   error
		retry bool
		wait  time.Duration
	}{
		{"nil", nil, false, 0},
		{"unavailable", status.Error(codes.Unavailable, "down"), true, 0},
		{"aborted", status.Error(codes.Aborted, "shutting down"), true, 0},
		{"deadline", status.Error(codes.DeadlineExceeded, "slow"), true, 0},
		{"exhausted with RetryInfo", withRetryInfo(3 * time.Second), true, 3 * time.Second},
		{"exhausted with a huge RetryInfo", withRetryInfo(time.Hour), true, retryInfoMax},
		{"exhausted without RetryInfo", status.Error(codes.ResourceExhausted, "vault full"), false, 0},
		{"permission denied", status.Error(codes.PermissionDenied, "no"), false, 0},
		{"invalid argument", status.Error(codes.InvalidArgument, "bad key"), false, 0},
		{"failed precondition", status.Error(codes.FailedPrecondition, "locked"), false, 0},
		{"not found", status.Error(codes.NotFound, "no vault"), false, 0},
		{"internal", status.Error(codes.Internal, "bug"), false, 0},
		{"SDK error", &client.Error{Code: codes.Unavailable, Message: "down"}, true, 0},
		{"wrapped SDK error", fmt.Errorf("upload: %w", &client.Error{Code: codes.PermissionDenied}), false, 0},
		{"wrapped status", fmt.Errorf("upload: %w", status.Error(codes.Unavailable, "down")), true, 0},
		{"cancelled", context.Canceled, false, 0},
		{"read error", fmt.Errorf("%w: %w", ErrUnreadable, io.ErrUnexpectedEOF), false, 0},
		{"plain error", errors.New("boom"), false, 0},
	}
	for _, tt := range tests {
		retry, wait := transient(tt.err)
		if retry != tt.retry || wait != tt.wait {
			t.Errorf("%s: transient = %v, %v; want %v, %v", tt.name, retry, wait, tt.retry, tt.wait)
		}
	}
}

func TestBackoff(t *testing.T) {
	for attempt := range 40 {
		d := backoff(attempt)
		ceiling := min(retryBase<<min(attempt, 16), retryMax)
		if d < ceiling/2 || d > ceiling {
			t.Errorf("backoff(%d) = %v, want within [%v, %v]", attempt, d, ceiling/2, ceiling)
		}
	}
}

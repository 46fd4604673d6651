package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wormvault/wormvault"
)

func statusErr(t *testing.T, code codes.Code, msg, domain, reason string) error {
	t.Helper()
	st := status.New(code, msg)
	if reason != "" {
		var err error
		st, err = st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: domain, Metadata: map[string]string{"field": "key"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return st.Err()
}

func TestConvertError(t *testing.T) {
	d := wormvault.ErrorDomain
	tests := []struct {
		name   string
		code   codes.Code
		domain string
		reason string
		is     []error
		isNot  []error
	}{
		{"compliance", codes.FailedPrecondition, d, "RETENTION_COMPLIANCE_ACTIVE",
			[]error{wormvault.ErrRetentionCompliance, wormvault.ErrRetentionActive}, []error{wormvault.ErrRetentionGovernance, wormvault.ErrFailedPrecondition}},
		{"governance", codes.PermissionDenied, d, "RETENTION_GOVERNANCE_ACTIVE",
			[]error{wormvault.ErrRetentionGovernance, wormvault.ErrRetentionActive}, []error{wormvault.ErrRetentionCompliance}},
		{"legal hold", codes.FailedPrecondition, d, "LEGAL_HOLD_ACTIVE", []error{wormvault.ErrLegalHoldActive}, []error{wormvault.ErrRetentionActive}},
		{"vault locked", codes.FailedPrecondition, d, "VAULT_LOCKED", []error{wormvault.ErrVaultLocked}, nil},
		{"vault not found", codes.NotFound, d, "VAULT_NOT_FOUND",
			[]error{wormvault.ErrVaultNotFound, wormvault.ErrNotFound}, []error{wormvault.ErrArchiveNotFound}},
		{"archive not found", codes.NotFound, d, "ARCHIVE_NOT_FOUND", []error{wormvault.ErrArchiveNotFound, wormvault.ErrNotFound}, nil},
		{"vault exists", codes.AlreadyExists, d, "VAULT_EXISTS", []error{wormvault.ErrVaultExists, wormvault.ErrAlreadyExists}, nil},
		{"checksum", codes.InvalidArgument, d, "CHECKSUM_MISMATCH", []error{wormvault.ErrChecksumMismatch, wormvault.ErrInvalidArgument}, nil},
		{"clock", codes.FailedPrecondition, d, "CLOCK_UNTRUSTED", []error{wormvault.ErrClockUntrusted, wormvault.ErrFailedPrecondition}, nil},
		{"data loss", codes.DataLoss, d, "DATA_LOSS", []error{wormvault.ErrDataLoss}, nil},
		{"unknown reason falls back to code", codes.NotFound, d, "SOMETHING_NEW", []error{wormvault.ErrNotFound}, []error{wormvault.ErrVaultNotFound}},
		{"foreign domain ignored", codes.PermissionDenied, "example.com", "VAULT_LOCKED", []error{wormvault.ErrPermissionDenied}, []error{wormvault.ErrVaultLocked}},
		{"no details: NotFound", codes.NotFound, "", "", []error{wormvault.ErrNotFound}, nil},
		{"no details: PermissionDenied", codes.PermissionDenied, "", "", []error{wormvault.ErrPermissionDenied}, nil},
		{"no details: Unauthenticated", codes.Unauthenticated, "", "", []error{wormvault.ErrUnauthenticated}, nil},
		{"no details: InvalidArgument", codes.InvalidArgument, "", "", []error{wormvault.ErrInvalidArgument}, nil},
		{"no details: DataLoss", codes.DataLoss, "", "", []error{wormvault.ErrDataLoss}, nil},
		{"no details: ResourceExhausted", codes.ResourceExhausted, "", "", []error{wormvault.ErrResourceExhausted}, nil},
		{"no details: FailedPrecondition", codes.FailedPrecondition, "", "", []error{wormvault.ErrFailedPrecondition}, nil},
		{"no details: AlreadyExists", codes.AlreadyExists, "", "", []error{wormvault.ErrAlreadyExists}, nil},
		{"no details: Canceled", codes.Canceled, "", "", []error{context.Canceled}, nil},
		{"no details: Unavailable", codes.Unavailable, "", "", nil, []error{wormvault.ErrNotFound, wormvault.ErrDataLoss}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := convertError(fmt.Errorf("wrapped: %w", statusErr(t, tt.code, "boom", tt.domain, tt.reason)))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("convertError = %T %v, want *Error", err, err)
			}
			if ce.Code != tt.code {
				t.Errorf("Code = %v, want %v", ce.Code, tt.code)
			}
			if tt.domain == wormvault.ErrorDomain && ce.Reason != tt.reason {
				t.Errorf("Reason = %q, want %q", ce.Reason, tt.reason)
			}
			if got := status.Code(err); got != tt.code {
				t.Errorf("status.Code = %v, want %v", got, tt.code)
			}
			for _, target := range tt.is {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(%v, %v) = false, want true", err, target)
				}
			}
			for _, target := range tt.isNot {
				if errors.Is(err, target) {
					t.Errorf("errors.Is(%v, %v) = true, want false", err, target)
				}
			}
		})
	}
}

func TestConvertErrorPassThrough(t *testing.T) {
	if convertError(nil) != nil {
		t.Error("convertError(nil) != nil")
	}
	if err := convertError(io.ErrUnexpectedEOF); err != io.ErrUnexpectedEOF {
		t.Errorf("non-status error changed: %v", err)
	}
	first := convertError(statusErr(t, codes.NotFound, "x", wormvault.ErrorDomain, "VAULT_NOT_FOUND"))
	if again := convertError(first); again != first {
		t.Errorf("converting twice changed the error")
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Code: codes.NotFound, Message: `wormvault: not found: vault "x"`, Reason: "VAULT_NOT_FOUND"},
			`wormvault: NotFound: not found: vault "x" (reason VAULT_NOT_FOUND)`},
		{&Error{Code: codes.Unavailable, Message: "connection refused"}, "wormvault: Unavailable: connection refused"},
		{&Error{Code: codes.Internal}, "wormvault: Internal"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	for attempt := range 20 {
		d := backoff(attempt)
		if d <= 0 || d > backoffMax {
			t.Errorf("backoff(%d) = %v, want in (0, %v]", attempt, d, backoffMax)
		}
	}
}

package soak

import (
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
)

// kind is an operation of the workload.
type kind int

const (
	opUpload kind = iota
	opDownload
	opList
	opRetention
	opHoldOn
	opHoldOff
	opDeleteMarker
	opDeniedDelete
	numKinds
)

var kindNames = [numKinds]string{"upload", "download", "list", "extend-retention", "legal-hold-on", "legal-hold-off", "delete-marker", "denied-delete"}

func (k kind) String() string { return kindNames[k] }

// outcome is what one operation returned, as judged.
type outcome struct {
	kind kind
	// code is the gRPC code (OK for success); reason the ErrorInfo reason.
	code   codes.Code
	reason string
	// sharded: an upload too large to be stored inline, which needs the
	// drives' write quorum.
	sharded bool
	// holdUncertain: a legal-hold release whose hold may be gone already,
	// because an earlier change's answer was lost.
	holdUncertain bool
	// corrupt: a download returned other bytes than were uploaded.
	corrupt bool
}

// verdict is the judgement of an outcome.
type verdict int

const (
	ok verdict = iota
	// expectedErr is an error the operation may or must return given the
	// faults that overlapped it (a denied delete, UNAVAILABLE while the
	// server is down...).
	expectedErr
	unexpected
)

// codeAndReason extracts the gRPC code and the wormvault reason of err.
func codeAndReason(err error) (codes.Code, string) {
	if err == nil {
		return codes.OK, ""
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce.Code, ce.Reason
	}
	if st, ok := status.FromError(err); ok {
		return st.Code(), ""
	}
	if errors.Is(err, wormvault.ErrDataLoss) {
		return codes.DataLoss, ""
	}
	return codes.Unknown, ""
}

// judge decides whether an outcome is fine given the fault state during the
// operation. The rules:
//
//   - A delete of a COMPLIANCE-protected version must be PERMISSION_DENIED;
//     success is a WORM violation.
//   - While the server is down (SIGKILL until clients have reconnected) any
//     operation may fail UNAVAILABLE.
//   - While the write quorum may be lost, an upload stored as shards may
//     fail UNAVAILABLE with reason NO_WRITE_QUORUM; while it surely was
//     lost for the whole upload, such an upload must not succeed.
//   - A legal-hold release may find no hold (NOT_FOUND, NO_LEGAL_HOLD) only
//     after an earlier hold change of the version went unanswered.
//   - Everything else must succeed, and downloads must return the bytes
//     uploaded.
func judge(o outcome, st faultState) verdict {
	if o.corrupt {
		return unexpected
	}
	if o.kind == opDeniedDelete {
		if o.code == codes.PermissionDenied {
			return expectedErr
		}
		if o.code == codes.Unavailable && st.serverDown {
			return expectedErr
		}
		return unexpected
	}
	switch o.code {
	case codes.OK:
		if o.kind == opUpload && o.sharded && st.minDrivesDown >= quorumLost {
			return unexpected // acknowledged below the write quorum
		}
		return ok
	case codes.Unavailable:
		if st.serverDown {
			return expectedErr
		}
		if o.kind == opUpload && o.sharded && st.maxDrivesDown >= quorumLost && o.reason == "NO_WRITE_QUORUM" {
			return expectedErr
		}
	case codes.NotFound:
		if o.kind == opHoldOff && o.holdUncertain && o.reason == "NO_LEGAL_HOLD" {
			return expectedErr
		}
	}
	return unexpected
}

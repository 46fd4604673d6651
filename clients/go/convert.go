package client

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// RetentionModeToProto converts a retention mode to its wire form.
func RetentionModeToProto(m wormvault.RetentionMode) wormvaultv1.RetentionMode {
	switch m {
	case wormvault.RetentionGovernance:
		return wormvaultv1.RetentionMode_RETENTION_MODE_GOVERNANCE
	case wormvault.RetentionCompliance:
		return wormvaultv1.RetentionMode_RETENTION_MODE_COMPLIANCE
	}
	return wormvaultv1.RetentionMode_RETENTION_MODE_UNSPECIFIED
}

// RetentionModeFromProto converts a wire retention mode.
func RetentionModeFromProto(m wormvaultv1.RetentionMode) wormvault.RetentionMode {
	switch m {
	case wormvaultv1.RetentionMode_RETENTION_MODE_GOVERNANCE:
		return wormvault.RetentionGovernance
	case wormvaultv1.RetentionMode_RETENTION_MODE_COMPLIANCE:
		return wormvault.RetentionCompliance
	}
	return wormvault.RetentionNone
}

// RetentionToProto converts a retention; the zero Retention becomes nil.
func RetentionToProto(r wormvault.Retention) *wormvaultv1.Retention {
	if r.IsZero() {
		return nil
	}
	return &wormvaultv1.Retention{
		Mode:            RetentionModeToProto(r.Mode),
		RetainUntilTime: timestamppb.New(r.RetainUntil),
	}
}

// RetentionFromProto converts a wire retention; nil becomes the zero value.
func RetentionFromProto(r *wormvaultv1.Retention) wormvault.Retention {
	if r == nil || r.GetMode() == wormvaultv1.RetentionMode_RETENTION_MODE_UNSPECIFIED {
		return wormvault.Retention{}
	}
	var until time.Time
	if r.GetRetainUntilTime() != nil {
		until = r.GetRetainUntilTime().AsTime()
	}
	return wormvault.Retention{Mode: RetentionModeFromProto(r.GetMode()), RetainUntil: until, FromDefault: r.GetFromDefault()}
}

// DefaultRetentionToProto converts a vault default retention; the zero value
// becomes nil.
func DefaultRetentionToProto(d wormvault.DefaultRetention) *wormvaultv1.DefaultRetention {
	if d.IsZero() {
		return nil
	}
	return &wormvaultv1.DefaultRetention{Mode: RetentionModeToProto(d.Mode), Days: d.Days, Years: d.Years}
}

package server

import (
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/cors"
	"github.com/wormvault/wormvault/lock"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/receipt"
	"github.com/wormvault/wormvault/vault"
	"github.com/wormvault/wormvault/vault/kms"
)

// This file holds every conversion between the API's protobuf messages and
// the domain's types. Nothing below server sees wormvaultv1.

func vaultToProto(v *vault.Vault) *wormvaultv1.Vault {
	return &wormvaultv1.Vault{
		Name:              v.Name,
		CreateTime:        timestamppb.New(v.CreateTime),
		DefaultRetention:  defaultRetentionToProto(v.DefaultRetention),
		MaxRetention:      durationpb.New(v.MaxRetention),
		MfaDelete:         v.MFADelete,
		DefaultEncryption: encryptionSettingToProto(v.DefaultEncryption),
		Logging:           loggingToProto(v.Logging),
		Cors:              corsToProto(v.CORS),
	}
}

// corsToProto is a vault's CORS rules; nil when it has none.
func corsToProto(rs cors.Rules) *wormvaultv1.VaultCors {
	if len(rs) == 0 {
		return nil
	}
	out := &wormvaultv1.VaultCors{Rules: make([]*wormvaultv1.CorsRule, len(rs))}
	for i, r := range rs {
		out.Rules[i] = &wormvaultv1.CorsRule{
			AllowedOrigins: r.AllowedOrigins,
			AllowedMethods: r.AllowedMethods,
			AllowedHeaders: r.AllowedHeaders,
			ExposeHeaders:  r.ExposeHeaders,
			MaxAgeSeconds:  r.MaxAgeSeconds,
		}
	}
	return out
}

func corsFromProto(c *wormvaultv1.VaultCors) cors.Rules {
	var out cors.Rules
	for _, r := range c.GetRules() {
		out = append(out, cors.Rule{
			AllowedOrigins: r.GetAllowedOrigins(),
			AllowedMethods: r.GetAllowedMethods(),
			AllowedHeaders: r.GetAllowedHeaders(),
			ExposeHeaders:  r.GetExposeHeaders(),
			MaxAgeSeconds:  r.GetMaxAgeSeconds(),
		})
	}
	return out
}

// loggingToProto is a vault's access-log setting; nil when logging is off.
func loggingToProto(l vault.Logging) *wormvaultv1.VaultLogging {
	if !l.On() {
		return nil
	}
	return &wormvaultv1.VaultLogging{TargetVault: l.TargetVault, Prefix: l.Prefix}
}

func defaultRetentionToProto(d wormvault.DefaultRetention) *wormvaultv1.DefaultRetention {
	if d.IsZero() {
		return nil
	}
	return &wormvaultv1.DefaultRetention{Mode: wormvaultv1.RetentionMode(d.Mode), Days: d.Days, Years: d.Years}
}

func defaultRetentionFromProto(d *wormvaultv1.DefaultRetention) wormvault.DefaultRetention {
	if d == nil {
		return wormvault.DefaultRetention{}
	}
	return wormvault.DefaultRetention{Mode: retentionModeFromProto(d.GetMode()), Days: d.GetDays(), Years: d.GetYears()}
}

// retentionModeFromProto maps the wire enum; an unknown number maps to a mode
// the lock rules reject by name rather than to "none".
func retentionModeFromProto(m wormvaultv1.RetentionMode) wormvault.RetentionMode {
	switch m {
	case wormvaultv1.RetentionMode_RETENTION_MODE_UNSPECIFIED:
		return wormvault.RetentionNone
	case wormvaultv1.RetentionMode_RETENTION_MODE_GOVERNANCE:
		return wormvault.RetentionGovernance
	case wormvaultv1.RetentionMode_RETENTION_MODE_COMPLIANCE:
		return wormvault.RetentionCompliance
	}
	return wormvault.RetentionMode(m)
}

func retentionFromProto(field string, r *wormvaultv1.Retention) (wormvault.Retention, error) {
	if r == nil {
		return wormvault.Retention{}, nil
	}
	out := wormvault.Retention{Mode: retentionModeFromProto(r.GetMode())}
	if r.RetainUntilTime != nil {
		if err := r.GetRetainUntilTime().CheckValid(); err != nil {
			return wormvault.Retention{}, wormvault.InvalidArgument(field+".retain_until_time", "%v", err)
		}
		out.RetainUntil = r.GetRetainUntilTime().AsTime()
	}
	switch {
	case out.Mode != wormvault.RetentionNone && out.Mode != wormvault.RetentionGovernance && out.Mode != wormvault.RetentionCompliance:
		return wormvault.Retention{}, wormvault.InvalidArgument(field+".mode", "unknown retention mode %d", r.GetMode())
	case out.Mode == wormvault.RetentionNone && !out.RetainUntil.IsZero():
		return wormvault.Retention{}, wormvault.InvalidArgument(field+".mode", "mode must be set with retain_until_time")
	case out.Mode != wormvault.RetentionNone && out.RetainUntil.IsZero():
		return wormvault.Retention{}, wormvault.InvalidArgument(field+".retain_until_time", "retain_until_time must be set with mode")
	}
	return out, nil
}

func retentionToProto(r wormvault.Retention) *wormvaultv1.Retention {
	if r.IsZero() {
		return nil
	}
	return &wormvaultv1.Retention{Mode: wormvaultv1.RetentionMode(r.Mode), RetainUntilTime: timestamppb.New(r.RetainUntil), FromDefault: r.FromDefault}
}

func recordRetentionToProto(r *recordv1.Retention) *wormvaultv1.Retention {
	if r == nil || r.GetMode() == recordv1.RetentionMode_RETENTION_MODE_UNSPECIFIED {
		return nil
	}
	return &wormvaultv1.Retention{Mode: wormvaultv1.RetentionMode(r.GetMode()), RetainUntilTime: r.GetRetainUntilTime(), FromDefault: r.GetFromDefault()}
}

func holdsToProto(hs []*recordv1.LegalHold) []*wormvaultv1.LegalHoldEntry {
	out := make([]*wormvaultv1.LegalHoldEntry, len(hs))
	for i, h := range hs {
		out[i] = &wormvaultv1.LegalHoldEntry{HoldId: h.GetHoldId(), Reason: h.GetReason(), SetBy: h.GetSetBy(), SetTime: h.GetSetTime()}
	}
	return out
}

func archiveToProto(a *vault.Archive) *wormvaultv1.Archive {
	r := a.Record
	return &wormvaultv1.Archive{
		Vault:        r.GetVault(),
		Key:          r.GetKey(),
		VersionId:    r.GetVersionId(),
		SizeBytes:    r.GetSizeBytes(),
		Sha256:       r.GetSha256(),
		TreeSha256:   r.GetTreeSha256(),
		ContentType:  r.GetContentType(),
		Metadata:     r.GetMetadata(),
		CreateTime:   r.GetCreateTime(),
		IsLatest:     a.IsLatest,
		DeleteMarker: r.GetDeleteMarker(),
		Retention:    recordRetentionToProto(r.GetRetention()),
		LegalHold:    len(r.GetLegalHolds()) > 0,
		LegalHolds:   holdsToProto(r.GetLegalHolds()),
		Encryption:   encryptionToProto(r),
	}
}

// encryptionToProto reports how a version's bytes are stored: plaintext
// for versions written before encryption at rest, nothing for markers.
func encryptionToProto(r *recordv1.Version) *wormvaultv1.EncryptionInfo {
	switch {
	case r.GetDeleteMarker():
		return nil
	case r.GetEncryption() == nil:
		return &wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_NONE}
	}
	return &wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode(r.GetEncryption().GetMode()), KmsKey: r.GetEncryption().GetKmsKey()}
}

func protectionToProto(p lock.Protection) *wormvaultv1.Protection {
	out := &wormvaultv1.Protection{
		Kind:          p.Kind.String(),
		Description:   p.Reason,
		RetentionMode: wormvaultv1.RetentionMode(p.Mode),
		FromDefault:   p.FromDefault,
		HoldId:        p.HoldID,
		StatementSid:  p.Sid,
	}
	if !p.Until.IsZero() {
		out.EndTime = timestamppb.New(p.Until)
	}
	return out
}

func clockStatusToProto(st lock.ClockStatus) *wormvaultv1.GetClockStatusResponse {
	state := wormvaultv1.ClockState_CLOCK_STATE_TRUSTED
	if st.State != lock.ClockTrusted {
		state = wormvaultv1.ClockState_CLOCK_STATE_UNTRUSTED
	}
	return &wormvaultv1.GetClockStatusResponse{
		State:         state,
		WallTime:      timestamppb.New(st.Wall),
		TrustedTime:   timestamppb.New(st.TrustedTime),
		HighWaterMark: timestamppb.New(st.Mark),
		Reason:        st.Reason,
	}
}

// receiptToProto converts a signed receipt for the wire.
func receiptToProto(r receipt.Signed) *wormvaultv1.Receipt {
	return &wormvaultv1.Receipt{Payload: r.Payload, Signature: r.Signature, KeyId: r.KeyID}
}

// encryptionFact is the request.encryption policy fact of an upload: the
// mode the caller asked for, "" when it relies on the vault default.
func encryptionFact(m wormvaultv1.EncryptionMode) string {
	switch m {
	case wormvaultv1.EncryptionMode_ENCRYPTION_MODE_UNSPECIFIED:
		return ""
	case wormvaultv1.EncryptionMode_ENCRYPTION_MODE_NONE:
		return "NONE"
	case wormvaultv1.EncryptionMode_ENCRYPTION_MODE_SERVICE:
		return "SERVICE"
	case wormvaultv1.EncryptionMode_ENCRYPTION_MODE_KMS:
		return "KMS"
	case wormvaultv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER:
		return "CUSTOMER"
	}
	return m.String() // unknown: the upload refuses it
}

// encryptionSettingFromProto converts a requested encryption setting; nil
// is the zero value (the default).
func encryptionSettingFromProto(e *wormvaultv1.EncryptionInfo) vault.Encryption {
	return vault.Encryption{Mode: vault.EncryptionMode(e.GetMode()), KMSKey: e.GetKmsKey()}
}

func encryptionSettingToProto(e vault.Encryption) *wormvaultv1.EncryptionInfo {
	return &wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode(e.Mode), KmsKey: e.KMSKey}
}

// kmsKeyToProto describes a KMS key; its material never leaves.
func kmsKeyToProto(k kms.Key) *wormvaultv1.Key {
	out := &wormvaultv1.Key{
		Name:           k.Name,
		Description:    k.Description,
		State:          wormvaultv1.KeyState(k.State),
		CreateTime:     timestamppb.New(k.Created),
		CurrentVersion: k.Current().Number,
		VersionCount:   uint32(len(k.Versions)),
	}
	if k.State == kms.StateDisabled && !k.DisableUntil.IsZero() {
		out.DisableUntil = timestamppb.New(k.DisableUntil)
	}
	if k.State == kms.StatePendingDeletion {
		out.DeletionTime = timestamppb.New(k.DeletionTime)
	}
	return out
}

func accessPointToProto(ap *vault.AccessPoint) *wormvaultv1.AccessPoint {
	cidrs := make([]string, len(ap.AllowedCIDRs))
	for i, p := range ap.AllowedCIDRs {
		cidrs[i] = p.String()
	}
	return &wormvaultv1.AccessPoint{
		Name:          ap.Name,
		Vault:         ap.Vault,
		Policy:        ap.Policy,
		NetworkOrigin: &wormvaultv1.NetworkOrigin{AllowedCidrs: cidrs},
		CreateTime:    timestamppb.New(ap.CreateTime),
	}
}

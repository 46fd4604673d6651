package wormvault

import "errors"

// ErrorDomain is the google.rpc.ErrorInfo domain of every error reason.
const ErrorDomain = "wormvault.io"

// reasons pairs each sentinel with the stable reason string that travels in
// google.rpc.ErrorInfo. More specific errors come first: the first match wins.
var reasons = []struct {
	err    error
	reason string
}{
	{ErrVaultNotFound, "VAULT_NOT_FOUND"},
	{ErrArchiveNotFound, "ARCHIVE_NOT_FOUND"},
	{ErrVersionNotFound, "VERSION_NOT_FOUND"},
	{ErrNoRetention, "NO_RETENTION"},
	{ErrNoLegalHold, "NO_LEGAL_HOLD"},
	{ErrVaultLockNotFound, "VAULT_LOCK_NOT_FOUND"},
	{ErrNoAccessPolicy, "NO_ACCESS_POLICY"},
	{ErrKMSKeyNotFound, "KMS_KEY_NOT_FOUND"},
	{ErrAccessPointNotFound, "ACCESS_POINT_NOT_FOUND"},
	{ErrNotFound, "NOT_FOUND"},
	{ErrVaultExists, "VAULT_EXISTS"},
	{ErrKMSKeyExists, "KMS_KEY_EXISTS"},
	{ErrAccessPointExists, "ACCESS_POINT_EXISTS"},
	{ErrAlreadyExists, "ALREADY_EXISTS"},
	{ErrChecksumMismatch, "CHECKSUM_MISMATCH"},
	{ErrInvalidArgument, "INVALID_ARGUMENT"},
	{ErrVaultNotEmpty, "VAULT_NOT_EMPTY"},
	{ErrVaultIsLogTarget, "VAULT_IS_LOG_TARGET"},
	{ErrClockUntrusted, "CLOCK_UNTRUSTED"},
	{ErrVaultLocked, "VAULT_LOCKED"},
	{ErrVaultLockInProgress, "VAULT_LOCK_IN_PROGRESS"},
	{ErrLockExpired, "LOCK_EXPIRED"},
	{ErrKMSKeyDisabled, "KMS_KEY_DISABLED"},
	{ErrKMSKeyPendingDeletion, "KMS_KEY_PENDING_DELETION"},
	{ErrKMSKeyDeleted, "KMS_KEY_DELETED"},
	{ErrKMSKeyProtectsLocked, "KMS_KEY_PROTECTS_LOCKED_VERSIONS"},
	{ErrTLSRequired, "TLS_REQUIRED"},
	{ErrVaultHasAccessPoints, "VAULT_HAS_ACCESS_POINTS"},
	{ErrFailedPrecondition, "FAILED_PRECONDITION"},
	{ErrRetentionCompliance, "RETENTION_COMPLIANCE_ACTIVE"},
	{ErrRetentionGovernance, "RETENTION_GOVERNANCE_ACTIVE"},
	{ErrRetentionActive, "RETENTION_ACTIVE"},
	{ErrLegalHoldActive, "LEGAL_HOLD_ACTIVE"},
	{ErrPolicyDenied, "POLICY_DENIED"},
	{ErrMFARequired, "MFA_REQUIRED"},
	{ErrMFAInvalid, "MFA_INVALID"},
	{ErrCustomerKeyMismatch, "SSE_C_KEY_MISMATCH"},
	{ErrNetworkOrigin, "NETWORK_ORIGIN"},
	{ErrPermissionDenied, "PERMISSION_DENIED"},
	{ErrUnauthenticated, "UNAUTHENTICATED"},
	{ErrKMSQuotaExceeded, "KMS_QUOTA_EXCEEDED"},
	{ErrTooManyRequests, "TOO_MANY_REQUESTS"},
	{ErrRateLimited, "RATE_LIMITED"},
	{ErrRequestTooLarge, "REQUEST_TOO_LARGE"},
	{ErrResourceExhausted, "RESOURCE_EXHAUSTED"},
	{ErrNoWriteQuorum, "NO_WRITE_QUORUM"},
	{ErrUnavailable, "UNAVAILABLE"},
	{ErrDataLoss, "DATA_LOSS"},
	{ErrAborted, "ABORTED"},
}

// Reason returns the stable reason string for err, or "" when err is none of
// the sentinels.
func Reason(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return ""
}

// ErrorForReason returns the sentinel for a reason string, or nil when the
// reason is unknown. Clients use it to turn a status back into an error that
// errors.Is recognises.
func ErrorForReason(reason string) error {
	for _, r := range reasons {
		if r.reason == reason {
			return r.err
		}
	}
	return nil
}

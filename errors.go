package wormvault

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error that crosses the wire is one of these (or an
// *InvalidArgumentError); the server maps them to gRPC status codes in one
// place and the Go SDK maps them back, so both sides test with errors.Is.
var (
	ErrNotFound        = errors.New("wormvault: not found")
	ErrVaultNotFound   = fmt.Errorf("%w: vault", ErrNotFound)
	ErrArchiveNotFound = fmt.Errorf("%w: archive", ErrNotFound)
	ErrVersionNotFound = fmt.Errorf("%w: version", ErrNotFound)
	ErrNoRetention     = fmt.Errorf("%w: version has no retention", ErrNotFound)
	ErrNoLegalHold     = fmt.Errorf("%w: version has no legal hold", ErrNotFound)

	ErrAlreadyExists = errors.New("wormvault: already exists")
	ErrVaultExists   = fmt.Errorf("%w: vault", ErrAlreadyExists)

	ErrInvalidArgument = errors.New("wormvault: invalid argument")

	ErrFailedPrecondition = errors.New("wormvault: failed precondition")
	ErrVaultNotEmpty      = fmt.Errorf("%w: vault still holds versions", ErrFailedPrecondition)
	ErrClockUntrusted     = fmt.Errorf("%w: the clock jumped forward and is not trusted until root acknowledges it", ErrFailedPrecondition)

	// ErrVaultIsLogTarget refuses deleting a vault that receives another
	// vault's access logs.
	ErrVaultIsLogTarget = fmt.Errorf("%w: vault receives another vault's access logs", ErrFailedPrecondition)
	// ErrTLSRequired refuses a request that sends or needs a customer key
	// (SSE-C) on a connection without TLS.
	ErrTLSRequired = fmt.Errorf("%w: this request needs a TLS connection", ErrFailedPrecondition)
	// ErrCustomerKeyMismatch means the SSE-C key sent is not the one the
	// version was encrypted with.
	ErrCustomerKeyMismatch = fmt.Errorf("%w: the customer key (SSE-C) is not the one the version was encrypted with", ErrPermissionDenied)

	// ErrRetentionActive is the family of every retention refusal; test with
	// errors.Is for "is this protected by retention at all".
	ErrRetentionActive     = errors.New("wormvault: version is under retention")
	ErrRetentionCompliance = fmt.Errorf("%w: COMPLIANCE retention cannot be shortened, removed or bypassed", ErrRetentionActive)
	ErrRetentionGovernance = fmt.Errorf("%w: GOVERNANCE retention needs bypass_governance_retention and permission to bypass", ErrRetentionActive)
	ErrLegalHoldActive     = errors.New("wormvault: version is under legal hold")
	ErrPermissionDenied    = errors.New("wormvault: permission denied")
	// ErrPolicyDenied is a denial by a policy statement; the error names
	// the statement's sid, never the policy's text.
	ErrPolicyDenied = fmt.Errorf("%w: denied by policy", ErrPermissionDenied)
	// ErrMFARequired means the request needs a valid MFA code (metadata
	// x-wormvault-mfa: <device> <code>) and sent none.
	ErrMFARequired = fmt.Errorf("%w: MFA required", ErrPermissionDenied)
	// ErrMFAInvalid means the MFA code sent is malformed, wrong, expired,
	// already used, or names no confirmed device.
	ErrMFAInvalid = fmt.Errorf("%w: MFA code invalid", ErrPermissionDenied)

	// ErrVaultLocked means the vault's lock policy is LOCKED: it can never
	// be changed, aborted or replaced, and the vault never deleted.
	ErrVaultLocked         = fmt.Errorf("%w: vault lock is LOCKED and immutable", ErrFailedPrecondition)
	ErrVaultLockInProgress = fmt.Errorf("%w: a vault lock is already in progress", ErrFailedPrecondition)
	ErrLockExpired         = fmt.Errorf("%w: the vault lock expired before it was completed", ErrFailedPrecondition)
	ErrVaultLockNotFound   = fmt.Errorf("%w: vault has no vault lock", ErrNotFound)
	ErrNoAccessPolicy      = fmt.Errorf("%w: vault has no access policy", ErrNotFound)

	ErrUnauthenticated   = errors.New("wormvault: unauthenticated")
	ErrResourceExhausted = errors.New("wormvault: resource exhausted")
	// ErrTooManyRequests means the server is handling as many calls or
	// uploads as it is configured to; retry after the RetryInfo delay.
	ErrTooManyRequests = fmt.Errorf("%w: too many requests in flight", ErrResourceExhausted)
	// ErrRateLimited means the principal is over its configured upload
	// rate; retry after the RetryInfo delay.
	ErrRateLimited = fmt.Errorf("%w: rate limited", ErrResourceExhausted)
	// ErrRequestTooLarge means the request metadata is larger than the
	// server accepts; retrying the same request cannot help.
	ErrRequestTooLarge = fmt.Errorf("%w: request too large", ErrResourceExhausted)

	// ErrUnavailable means the server cannot do this now but may soon.
	ErrUnavailable = errors.New("wormvault: unavailable")
	// ErrNoWriteQuorum means too few drives are writable to store new data
	// durably; nothing was stored. Reads go on while enough drives are
	// readable; writes resume once drives are back.
	ErrNoWriteQuorum = fmt.Errorf("%w: too few drives writable for the write quorum", ErrUnavailable)

	// KMS keys (the built-in key management service). A key that is not
	// enabled makes what it encrypted unreadable, never silently readable.
	ErrKMSKeyNotFound        = fmt.Errorf("%w: kms key", ErrNotFound)
	ErrKMSKeyExists          = fmt.Errorf("%w: kms key", ErrAlreadyExists)
	ErrKMSKeyDisabled        = fmt.Errorf("%w: kms key is disabled", ErrFailedPrecondition)
	ErrKMSKeyPendingDeletion = fmt.Errorf("%w: kms key is pending deletion", ErrFailedPrecondition)
	ErrKMSKeyDeleted         = fmt.Errorf("%w: kms key is deleted", ErrFailedPrecondition)
	// ErrKMSKeyProtectsLocked refuses deleting (or disabling for long) a
	// key while a version it encrypts is under retention or legal hold:
	// crypto-shredding is no way around WORM.
	ErrKMSKeyProtectsLocked = fmt.Errorf("%w: kms key encrypts a version under retention or legal hold", ErrFailedPrecondition)
	// ErrKMSQuotaExceeded: the key's request quota is used up for now.
	ErrKMSQuotaExceeded = fmt.Errorf("%w: kms key request quota exceeded", ErrResourceExhausted)

	// Access points: named entry points to a vault, each with its own
	// policy and network origin.
	ErrAccessPointNotFound = fmt.Errorf("%w: access point", ErrNotFound)
	ErrAccessPointExists   = fmt.Errorf("%w: access point", ErrAlreadyExists)
	// ErrVaultHasAccessPoints refuses deleting a vault that access points
	// still lead to; the error names them.
	ErrVaultHasAccessPoints = fmt.Errorf("%w: access points lead to the vault", ErrFailedPrecondition)
	// ErrNetworkOrigin refuses a request through an access point whose
	// remote address is outside the access point's allowed CIDRs.
	ErrNetworkOrigin = fmt.Errorf("%w: request comes from outside the access point's network origin", ErrPermissionDenied)

	// ErrChecksumMismatch means the bytes received do not match the digest the
	// caller announced; nothing was stored.
	ErrChecksumMismatch = fmt.Errorf("%w: sha256 of received bytes does not match expected_sha256", ErrInvalidArgument)
	// ErrDataLoss means stored bytes could not be read back intact: too many
	// shards are missing or corrupt. No wrong bytes are ever returned instead.
	ErrDataLoss = errors.New("wormvault: data loss")
	// ErrAborted means an operation stopped before it took effect (client went
	// away, server shutting down); nothing was stored.
	ErrAborted = errors.New("wormvault: aborted")
)

// InvalidArgumentError names the request field that is wrong and why.
type InvalidArgumentError struct {
	Field  string
	Reason string
}

func (e *InvalidArgumentError) Error() string {
	return "wormvault: invalid " + e.Field + ": " + e.Reason
}

// Is makes errors.Is(err, ErrInvalidArgument) true.
func (e *InvalidArgumentError) Is(target error) bool { return target == ErrInvalidArgument }

// InvalidArgument returns an *InvalidArgumentError for field.
func InvalidArgument(field, format string, args ...any) error {
	return &InvalidArgumentError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

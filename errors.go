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

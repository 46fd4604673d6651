package lock

import (
	"fmt"

	"github.com/wormvault/wormvault"
)

// CheckMFADeleteChange decides turning a vault's MFA delete on or off:
// only root, and only with a valid MFA code in the request.
func CheckMFADeleteChange(isRoot, mfaPresent bool) error {
	if !isRoot {
		return fmt.Errorf("lock: only root may enable or disable MFA delete: %w", wormvault.ErrPermissionDenied)
	}
	if !mfaPresent {
		return fmt.Errorf("lock: enabling or disabling MFA delete needs x-wormvault-mfa: %w", wormvault.ErrMFARequired)
	}
	return nil
}

// CheckMFADelete decides the MFA part of a permanent delete: while a vault
// has MFA delete enabled, removing a version needs a valid MFA code. Delete
// markers are not permanent deletes and never need one.
func CheckMFADelete(mfaDeleteEnabled, mfaPresent bool) error {
	if mfaDeleteEnabled && !mfaPresent {
		return fmt.Errorf("lock: the vault has MFA delete enabled: a permanent delete needs x-wormvault-mfa: %w", wormvault.ErrMFARequired)
	}
	return nil
}

// CheckMasterKeyRotation decides rotating the master key: only root, and
// once root has a confirmed MFA device, only with a valid MFA code in the
// request, as for turning MFA delete on or off. A stolen root key alone
// then cannot drive key management; before any device exists there is
// nothing to prove MFA with.
func CheckMasterKeyRotation(isRoot, mfaDeviceConfirmed, mfaPresent bool) error {
	return checkRootWithMFA("rotate the master key", isRoot, mfaDeviceConfirmed, mfaPresent)
}

// CheckMFADeviceChange decides registering or confirming an MFA device:
// only root, and once another device is confirmed, only with a valid code
// from a confirmed device. Otherwise a stolen root key could enrol a
// device of its own and, with its codes, pass every MFA check.
func CheckMFADeviceChange(isRoot, otherDeviceConfirmed, mfaPresent bool) error {
	return checkRootWithMFA("register or confirm MFA devices", isRoot, otherDeviceConfirmed, mfaPresent)
}

func checkRootWithMFA(what string, isRoot, mfaDeviceConfirmed, mfaPresent bool) error {
	if !isRoot {
		return fmt.Errorf("lock: only root may %s: %w", what, wormvault.ErrPermissionDenied)
	}
	if mfaDeviceConfirmed && !mfaPresent {
		return fmt.Errorf("lock: an MFA device is confirmed: to %s needs x-wormvault-mfa: %w", what, wormvault.ErrMFARequired)
	}
	return nil
}

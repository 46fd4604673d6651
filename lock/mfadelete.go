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

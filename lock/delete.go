package lock

import (
	"fmt"
	"strings"

	"github.com/wormvault/wormvault"
)

// CheckDelete decides whether version v may be permanently deleted by version
// id (rules 9, 10, 13a, 15). Delete markers can always be removed. Any standing
// legal hold refuses with wormvault.ErrLegalHoldActive, bypass or not. An active
// COMPLIANCE retention refuses with wormvault.ErrRetentionCompliance; an active
// GOVERNANCE retention refuses with wormvault.ErrRetentionGovernance unless the
// bypass is granted. A version whose retention has expired may be deleted only
// on a trusted clock, else wormvault.ErrClockUntrusted.
//
// Deleting without a version id adds a delete marker and always succeeds
// (rule 9): it needs no check here.
func CheckDelete(now Now, v Version, bypass Bypass) error {
	if v.DeleteMarker {
		return nil
	}
	if len(v.Holds) > 0 {
		return fmt.Errorf("lock: legal hold %s stands: %w", holdNames(v.Holds), wormvault.ErrLegalHoldActive)
	}
	r := v.Retention
	if r.IsZero() {
		return nil
	}
	err := refuse(r, bypass, "deleted")
	if err == nil || r.ActiveAt(now.Time) {
		return err
	}
	// Allowed only because r has expired.
	if !now.Trusted {
		return fmt.Errorf("lock: retention until %s has expired only by an untrusted clock: %w", stamp(r.RetainUntil), wormvault.ErrClockUntrusted)
	}
	return nil
}

func holdNames(holds []wormvault.LegalHold) string {
	ids := make([]string, len(holds))
	for i, h := range holds {
		ids[i] = fmt.Sprintf("%q", h.ID)
	}
	return strings.Join(ids, ", ")
}

package lock

import (
	"fmt"
	"time"

	"github.com/wormvault/wormvault"
)

// Now is the instant a decision is taken at, as read from the trusted clock
// (see Clock.Decide). Trusted is false while the clock has jumped forward and
// root has not acknowledged it: decisions that are allowed only because a
// retention has expired are then refused with wormvault.ErrClockUntrusted.
type Now struct {
	Time    time.Time
	Trusted bool
}

// Version is what the lock rules need to know about one stored version.
type Version struct {
	CreateTime   time.Time
	Retention    wormvault.Retention
	Holds        []wormvault.LegalHold
	DeleteMarker bool
}

// Bypass is a caller's claim to bypass GOVERNANCE retention. It counts only
// when both halves hold.
type Bypass struct {
	// Requested is the request's bypass_governance_retention flag.
	Requested bool
	// Allowed is whether the caller is allowed
	// wormvault:BypassGovernanceRetention.
	Allowed bool
}

// Granted reports whether the bypass applies: asked for and allowed.
func (b Bypass) Granted() bool { return b.Requested && b.Allowed }

// MaxDefaultRetentionDays is the longest default retention in days:
// wormvault.MaxRetentionPeriod expressed in days.
const MaxDefaultRetentionDays = int32(wormvault.MaxRetentionPeriod / (24 * time.Hour))

// MaxDefaultRetentionYears is the longest default retention in years.
const MaxDefaultRetentionYears = 100

// ValidateDefaultRetention checks a vault default retention (rule 1): mode
// GOVERNANCE or COMPLIANCE, exactly one of days and years, positive, at most
// 100 years. The zero value means "no default" and is valid: removing a default
// is always allowed and never changes versions already stored. Errors name
// field+".mode", field+".days" or field+".years".
func ValidateDefaultRetention(field string, d wormvault.DefaultRetention) error {
	if d.IsZero() {
		return nil
	}
	if d.Mode != wormvault.RetentionGovernance && d.Mode != wormvault.RetentionCompliance {
		return wormvault.InvalidArgument(field+".mode", "mode must be GOVERNANCE or COMPLIANCE, got %s", d.Mode)
	}
	switch {
	case d.Days != 0 && d.Years != 0:
		return wormvault.InvalidArgument(field+".years", "set exactly one of days and years, got %d days and %d years", d.Days, d.Years)
	case d.Days == 0 && d.Years == 0:
		return wormvault.InvalidArgument(field+".days", "set exactly one of days and years")
	case d.Years != 0 && (d.Years < 0 || d.Years > MaxDefaultRetentionYears):
		return wormvault.InvalidArgument(field+".years", "years must be 1-%d, got %d", MaxDefaultRetentionYears, d.Years)
	case d.Days != 0 && (d.Days < 0 || d.Days > MaxDefaultRetentionDays):
		return wormvault.InvalidArgument(field+".days", "days must be 1-%d, got %d", MaxDefaultRetentionDays, d.Days)
	}
	return nil
}

// CheckDefaultRetentionFits reports whether every version stored under
// default d would fit under the vault's maxRetention (rule 13b), counting a
// year as its longest calendar length. The vault calls it when a default is
// set and when max_retention is lowered; ResolveRetention refuses an upload
// whose default no longer fits rather than silently shortening it.
func CheckDefaultRetentionFits(field string, d wormvault.DefaultRetention, maxRetention time.Duration) error {
	if d.IsZero() || maxRetention <= 0 || maxRetention >= wormvault.MaxRetentionPeriod {
		return nil
	}
	const day = 24 * time.Hour
	span := time.Duration(d.Days) * day
	if d.Years > 0 {
		y := time.Duration(d.Years)
		span = y*365*day + (y+3)/4*day // leap days included
	}
	if span > maxRetention {
		return wormvault.InvalidArgument(field, "default retention of %s exceeds the vault's max_retention of %s", period(d), maxRetention)
	}
	return nil
}

func period(d wormvault.DefaultRetention) string {
	if d.Years > 0 {
		return fmt.Sprintf("%d years", d.Years)
	}
	return fmt.Sprintf("%d days", d.Days)
}

// retentionLimit is the latest retain-until a new retention may ask for at
// base: 100 calendar years ahead, or base+maxRetention when the vault caps it
// lower. A maxRetention <= 0 means the default, wormvault.MaxRetentionPeriod,
// which like any cap at or above it means "100 calendar years".
func retentionLimit(base time.Time, maxRetention time.Duration) time.Time {
	limit := base.AddDate(MaxDefaultRetentionYears, 0, 0)
	if maxRetention > 0 && maxRetention < wormvault.MaxRetentionPeriod {
		limit = base.Add(maxRetention)
	}
	return limit
}

// validateNewRetention checks an explicit, non-removal retention (rules 3,
// 13b): mode set, retain-until in the future and not beyond the limit.
func validateNewRetention(now time.Time, r wormvault.Retention, maxRetention time.Duration) error {
	if r.Mode != wormvault.RetentionGovernance && r.Mode != wormvault.RetentionCompliance {
		return wormvault.InvalidArgument("retention.mode", "mode must be GOVERNANCE or COMPLIANCE, got %s", r.Mode)
	}
	if !r.RetainUntil.After(now) {
		return wormvault.InvalidArgument("retention.retain_until_time", "retain-until %s must be in the future (now %s)", stamp(r.RetainUntil), stamp(now))
	}
	if limit := retentionLimit(now, maxRetention); r.RetainUntil.After(limit) {
		return wormvault.InvalidArgument("retention.retain_until_time", "retain-until %s is beyond %s, the latest this vault allows (max_retention %s)", stamp(r.RetainUntil), stamp(limit), capName(maxRetention))
	}
	return nil
}

func capName(maxRetention time.Duration) string {
	if maxRetention <= 0 || maxRetention >= wormvault.MaxRetentionPeriod {
		return "100 years"
	}
	return maxRetention.String()
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// ResolveRetention returns the retention a new version created at created
// carries (rules 2, 3, 13b). An explicit retention from the upload overrides
// the vault default, in either mode and to any date in the future within the
// vault's maxRetention; its zero value means "none asked for". Without one,
// the default gives created + its period with FromDefault set; without either
// the version carries no retention. A maxRetention <= 0 means the default of
// 100 years.
func ResolveRetention(now Now, created time.Time, explicit wormvault.Retention, def wormvault.DefaultRetention, maxRetention time.Duration) (wormvault.Retention, error) {
	if explicit.Mode != wormvault.RetentionNone || !explicit.RetainUntil.IsZero() {
		if err := validateNewRetention(now.Time, explicit, maxRetention); err != nil {
			return wormvault.Retention{}, err
		}
		explicit.FromDefault = false
		return explicit, nil
	}
	if def.IsZero() {
		return wormvault.Retention{}, nil
	}
	if err := ValidateDefaultRetention("default_retention", def); err != nil {
		return wormvault.Retention{}, err
	}
	until := def.Until(created)
	base := now.Time
	if created.After(base) {
		base = created
	}
	if limit := retentionLimit(base, maxRetention); until.After(limit) {
		return wormvault.Retention{}, wormvault.InvalidArgument("default_retention", "default retention of %s reaches %s, beyond the vault's max_retention of %s", period(def), stamp(until), capName(maxRetention))
	}
	return wormvault.Retention{Mode: def.Mode, RetainUntil: until, FromDefault: true}, nil
}

// RetentionOf returns the retention v carries, expired or not, or an error
// wrapping wormvault.ErrNoRetention when it carries none (rule 7).
func RetentionOf(v Version) (wormvault.Retention, error) {
	if v.Retention.IsZero() {
		return wormvault.Retention{}, fmt.Errorf("lock: %w", wormvault.ErrNoRetention)
	}
	return v.Retention, nil
}

// CheckSetRetention decides whether v's retention may become newRet (rules 3-6,
// 13a, 13b, 15). The zero newRet removes the retention. Extending (same mode,
// a retain-until not earlier) is always allowed. While the current retention
// is active, COMPLIANCE refuses every other change with
// wormvault.ErrRetentionCompliance, even for root, even with bypass; GOVERNANCE
// allows any other change only with a granted bypass, else
// wormvault.ErrRetentionGovernance. Once it has expired anything goes, but
// only on a trusted clock: otherwise wormvault.ErrClockUntrusted.
func CheckSetRetention(now Now, v Version, newRet wormvault.Retention, bypass Bypass, maxRetention time.Duration) error {
	if v.DeleteMarker {
		return wormvault.InvalidArgument("version_id", "a delete marker cannot carry retention")
	}
	removal := newRet.Mode == wormvault.RetentionNone && newRet.RetainUntil.IsZero()
	if !removal {
		if err := validateNewRetention(now.Time, newRet, maxRetention); err != nil {
			return err
		}
	}
	old := v.Retention
	if old.IsZero() {
		return nil
	}
	err := checkChangeOfActive(old, newRet, bypass)
	if err == nil || old.ActiveAt(now.Time) {
		return err
	}
	// Allowed only because old has expired.
	if !now.Trusted {
		return fmt.Errorf("lock: retention until %s has expired only by an untrusted clock: %w", stamp(old.RetainUntil), wormvault.ErrClockUntrusted)
	}
	return nil
}

// checkChangeOfActive decides a change of a retention that is still active.
func checkChangeOfActive(old, newRet wormvault.Retention, bypass Bypass) error {
	if newRet.Mode == old.Mode && !newRet.RetainUntil.Before(old.RetainUntil) {
		return nil // rule 4: extending, or no change
	}
	return refuse(old, bypass, "shortened, removed or have its mode changed")
}

// refuse returns the refusal of an action against an active retention old, or
// nil when a granted bypass lifts it.
func refuse(old wormvault.Retention, bypass Bypass, what string) error {
	if old.Mode == wormvault.RetentionGovernance {
		if bypass.Granted() {
			return nil
		}
		return fmt.Errorf("lock: retained until %s, cannot be %s: %w", stamp(old.RetainUntil), what, wormvault.ErrRetentionGovernance)
	}
	// COMPLIANCE, and anything unknown is treated as the strictest mode.
	return fmt.Errorf("lock: retained until %s, cannot be %s: %w", stamp(old.RetainUntil), what, wormvault.ErrRetentionCompliance)
}

// ValidateMaxRetention checks a vault's max_retention: positive and at most
// wormvault.MaxRetentionPeriod (100 years).
func ValidateMaxRetention(field string, d time.Duration) error {
	if d <= 0 || d > wormvault.MaxRetentionPeriod {
		return wormvault.InvalidArgument(field, "max_retention must be positive and at most 100 years (%s), got %s", wormvault.MaxRetentionPeriod, d)
	}
	return nil
}

// CheckMaxRetentionChange decides a change of a vault's max_retention from
// old to newMax (rule 13b): newMax must be valid; only root may raise it
// (wormvault.ErrPermissionDenied otherwise); anyone may lower it. An old <= 0
// means the default, wormvault.MaxRetentionPeriod. It never affects versions
// already stored.
func CheckMaxRetentionChange(old, newMax time.Duration, isRoot bool) error {
	if err := ValidateMaxRetention("max_retention", newMax); err != nil {
		return err
	}
	if old <= 0 {
		old = wormvault.MaxRetentionPeriod
	}
	if newMax > old && !isRoot {
		return fmt.Errorf("lock: only root may raise max_retention from %s to %s: %w", old, newMax, wormvault.ErrPermissionDenied)
	}
	return nil
}

package wormvault

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RetentionMode says how a retention period protects a version.
type RetentionMode int

const (
	// RetentionNone means the version carries no retention.
	RetentionNone RetentionMode = iota
	// RetentionGovernance protects a version from everyone except a principal
	// allowed to bypass governance retention who explicitly asks to.
	RetentionGovernance
	// RetentionCompliance protects a version from everyone, root included,
	// until its retain-until time has passed.
	RetentionCompliance
)

func (m RetentionMode) String() string {
	switch m {
	case RetentionNone:
		return "NONE"
	case RetentionGovernance:
		return "GOVERNANCE"
	case RetentionCompliance:
		return "COMPLIANCE"
	}
	return "RetentionMode(" + strconv.Itoa(int(m)) + ")"
}

// ParseRetentionMode accepts "governance" or "compliance" in any case.
func ParseRetentionMode(s string) (RetentionMode, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "GOVERNANCE":
		return RetentionGovernance, nil
	case "COMPLIANCE":
		return RetentionCompliance, nil
	}
	return RetentionNone, fmt.Errorf("wormvault: unknown retention mode %q (want governance or compliance)", s)
}

// Retention is the protection a single version carries. The zero value means
// no retention.
type Retention struct {
	Mode        RetentionMode
	RetainUntil time.Time
	// FromDefault is true when the retention was derived from the vault's
	// default retention rather than asked for explicitly.
	FromDefault bool
}

// IsZero reports whether r carries no retention.
func (r Retention) IsZero() bool { return r.Mode == RetentionNone }

// ActiveAt reports whether r protects its version at now. The boundary instant
// is still protected: a version is locked while now <= RetainUntil.
func (r Retention) ActiveAt(now time.Time) bool {
	return r.Mode != RetentionNone && !now.After(r.RetainUntil)
}

// DefaultRetention is a vault's default: every new version stored without an
// explicit retention gets create_time + the period. Exactly one of Days and
// Years is set.
type DefaultRetention struct {
	Mode  RetentionMode
	Days  int32
	Years int32
}

// IsZero reports whether d is unset.
func (d DefaultRetention) IsZero() bool {
	return d.Mode == RetentionNone && d.Days == 0 && d.Years == 0
}

// Until returns the retain-until time of a version created at created.
func (d DefaultRetention) Until(created time.Time) time.Time {
	if d.Years > 0 {
		return created.AddDate(int(d.Years), 0, 0)
	}
	return created.AddDate(0, 0, int(d.Days))
}

// LegalHold is one named hold on a version. A version is protected while any
// hold stands on it.
type LegalHold struct {
	ID      string
	Reason  string
	SetBy   string
	SetTime time.Time
}

// DefaultHoldID names the hold set when the caller does not name one.
const DefaultHoldID = "default"

// MaxRetentionPeriod is the longest retention anyone may ask for, and the
// default cap of a vault's max_retention.
const MaxRetentionPeriod = 100 * 365 * 24 * time.Hour

// ParseRetentionSpec parses the CLI form "governance:30d", "compliance:7y"
// into a mode and a default-retention style period.
func ParseRetentionSpec(s string) (DefaultRetention, error) {
	mode, period, ok := strings.Cut(s, ":")
	if !ok {
		return DefaultRetention{}, fmt.Errorf("wormvault: retention %q: want MODE:PERIOD, e.g. governance:30d or compliance:7y", s)
	}
	m, err := ParseRetentionMode(mode)
	if err != nil {
		return DefaultRetention{}, err
	}
	if len(period) < 2 {
		return DefaultRetention{}, fmt.Errorf("wormvault: retention %q: period %q wants a number and d or y", s, period)
	}
	n, err := strconv.ParseInt(period[:len(period)-1], 10, 32)
	if err != nil || n <= 0 {
		return DefaultRetention{}, fmt.Errorf("wormvault: retention %q: period %q is not a positive number of days or years", s, period)
	}
	switch period[len(period)-1] {
	case 'd', 'D':
		return DefaultRetention{Mode: m, Days: int32(n)}, nil
	case 'y', 'Y':
		return DefaultRetention{Mode: m, Years: int32(n)}, nil
	}
	return DefaultRetention{}, fmt.Errorf("wormvault: retention %q: period unit must be d or y", s)
}

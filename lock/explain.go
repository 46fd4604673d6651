package lock

import (
	"fmt"
	"strconv"
	"time"

	"github.com/wormvault/wormvault"
)

// ProtectionKind says what kind of thing stops a permanent delete.
type ProtectionKind int

const (
	// ProtectedByRetention: an active retention (Mode, Until, FromDefault).
	ProtectedByRetention ProtectionKind = iota + 1
	// ProtectedByLegalHold: a standing legal hold (HoldID); no scheduled end.
	ProtectedByLegalHold
	// ProtectedByUntrustedClock: the retention has expired only by a clock
	// that jumped forward; it ends when root acknowledges the clock.
	ProtectedByUntrustedClock
	// ProtectedByPolicy: a vault-lock or access-policy statement (Sid) that
	// denies the delete. Appended by the policy layer, never by Explain.
	ProtectedByPolicy
	// ProtectedByMFADelete: the vault requires MFA to delete versions.
	// Appended by the vault layer, never by Explain.
	ProtectedByMFADelete
)

func (k ProtectionKind) String() string {
	switch k {
	case ProtectedByRetention:
		return "RETENTION"
	case ProtectedByLegalHold:
		return "LEGAL_HOLD"
	case ProtectedByUntrustedClock:
		return "CLOCK_UNTRUSTED"
	case ProtectedByPolicy:
		return "POLICY"
	case ProtectedByMFADelete:
		return "MFA_DELETE"
	}
	return "ProtectionKind(" + strconv.Itoa(int(k)) + ")"
}

// Protection is one thing that currently stops a permanent delete of a
// version, and when it ends (rule 13c).
type Protection struct {
	Kind ProtectionKind
	// Mode and FromDefault describe a retention (ProtectedByRetention and
	// ProtectedByUntrustedClock).
	Mode        wormvault.RetentionMode
	FromDefault bool
	// HoldID names the legal hold (ProtectedByLegalHold).
	HoldID string
	// Sid names the policy statement (ProtectedByPolicy).
	Sid string
	// Until is the last protected instant; the zero value means no scheduled
	// end: it lasts until removed (hold, policy, MFA) or acknowledged (clock).
	Until time.Time
	// Bypassable is true when a principal allowed to bypass GOVERNANCE
	// retention who asks for it may delete despite this protection.
	Bypassable bool
	// Reason says it in words, for people.
	Reason string
}

// Explain lists everything in v itself that stops a permanent delete at now:
// its retention while active (or expired only by an untrusted clock), then
// each legal hold. Policy statements and MFA delete are outside v; the layers
// that know them append ProtectedByPolicy and ProtectedByMFADelete entries.
// The list is empty exactly when CheckDelete(now, v, Bypass{}) allows the
// delete.
func Explain(now Now, v Version) []Protection {
	if v.DeleteMarker {
		return nil
	}
	var out []Protection
	r := v.Retention
	source := "explicit"
	if r.FromDefault {
		source = "vault default"
	}
	switch {
	case r.IsZero():
	case r.ActiveAt(now.Time):
		out = append(out, Protection{
			Kind:        ProtectedByRetention,
			Mode:        r.Mode,
			FromDefault: r.FromDefault,
			Until:       r.RetainUntil,
			Bypassable:  r.Mode == wormvault.RetentionGovernance,
			Reason:      fmt.Sprintf("%s retention (%s) until %s", r.Mode, source, stamp(r.RetainUntil)),
		})
	case !now.Trusted:
		out = append(out, Protection{
			Kind:        ProtectedByUntrustedClock,
			Mode:        r.Mode,
			FromDefault: r.FromDefault,
			Bypassable:  r.Mode == wormvault.RetentionGovernance,
			Reason:      fmt.Sprintf("%s retention (%s) until %s has expired only by an untrusted clock; ends when root acknowledges the clock", r.Mode, source, stamp(r.RetainUntil)),
		})
	}
	for _, h := range v.Holds {
		reason := fmt.Sprintf("legal hold %q", h.ID)
		if h.SetBy != "" {
			reason += " set by " + h.SetBy
		}
		if h.Reason != "" {
			reason += ": " + h.Reason
		}
		out = append(out, Protection{Kind: ProtectedByLegalHold, HoldID: h.ID, Reason: reason})
	}
	return out
}

// Package kms holds the rules of wormvault's built-in key management
// service: a KMS key's life (enabled, disabled, pending deletion, deleted),
// its versions of material, each stored wrapped under a key-encryption key
// derived from the master key, the wrapping of data keys under that
// material, and each key's request quota.
//
// Nothing here does I/O or reads a clock: time arrives as an argument, and
// what a rule needs to know about the archives a key encrypts (is one of
// them under retention or legal hold?) arrives as the name of such a
// version, "" when there is none. Package vault stores keys in the
// catalog, journals them, checks the archives and records the audit
// events.
//
// A key's life:
//
//	            Disable(days)                ScheduleDeletion(7..30 days)
//	ENABLED  ------------------>  DISABLED  -----------------------------+
//	   ^  <------------------        |                                   v
//	   |  Enable, or days passed     +-----------------------> PENDING_DELETION --(deletion time passed,
//	   |                                                         |       nothing protected)--> DELETED
//	   +------------------ CancelDeletion (state before) --------+
//
// A key protecting a version under retention or legal hold cannot be
// scheduled for deletion, and can be disabled only for 1 to
// MaxProtectedDisableDays days: crypto-shredding is no way around WORM.
package kms

import (
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/vault/sse"
)

// State is where a key is in its life. The numbers are those of the
// catalog record's KMSKeyState.
type State int

const (
	StateEnabled State = iota + 1
	StateDisabled
	StatePendingDeletion
	StateDeleted
)

func (s State) String() string {
	switch s {
	case StateEnabled:
		return "ENABLED"
	case StateDisabled:
		return "DISABLED"
	case StatePendingDeletion:
		return "PENDING_DELETION"
	case StateDeleted:
		return "DELETED"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Limits.
const (
	MinPendingDays = 7
	MaxPendingDays = 30
	// MaxProtectedDisableDays is the longest disable of a key that
	// protects a version under retention or legal hold: no longer than a
	// deletion could be pending.
	MaxProtectedDisableDays = MaxPendingDays
	// MaxDisableDays bounds any timed disable (100 years).
	MaxDisableDays    = 36500
	MaxDescriptionLen = 1024
)

const day = 24 * time.Hour

// Version is one generation of a key's material.
type Version struct {
	Number uint32
	// Wrapped is the material wrapped under the key's key-encryption key;
	// nil once the key is deleted.
	Wrapped []byte
	Created time.Time
}

// Key is a KMS key. Its methods return changed copies and never modify
// the receiver.
type Key struct {
	Name, Description string
	State             State
	Created           time.Time
	// Versions are oldest first; the last is current.
	Versions []Version
	// DisableUntil, while Disabled, is when the key enables itself; zero
	// means never.
	DisableUntil time.Time
	// DeletionTime, while PendingDeletion, is when the material may go.
	DeletionTime time.Time
	// StateBeforeDeletion, while PendingDeletion, is what CancelDeletion
	// returns to.
	StateBeforeDeletion State
}

// ValidateName checks a key name: the vault-name rules.
func ValidateName(field, name string) error {
	if err := wormvault.ValidateVaultName(field, name); err != nil {
		return wormvault.InvalidArgument(field, "KMS key names follow the vault-name rules (3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit), got %q", name)
	}
	return nil
}

// ValidateDescription checks a key description.
func ValidateDescription(field, d string) error {
	if len(d) > MaxDescriptionLen || !utf8.ValidString(d) {
		return wormvault.InvalidArgument(field, "must be valid UTF-8 of at most %d bytes", MaxDescriptionLen)
	}
	return nil
}

// materialAAD binds wrapped material to its key and version.
func materialAAD(name string, version uint32) []byte {
	return []byte(name + "/" + strconv.FormatUint(uint64(version), 10))
}

func newVersion(kek []byte, name string, number uint32, now time.Time) (Version, error) {
	material, err := sse.GenerateDataKey()
	if err != nil {
		return Version{}, err
	}
	wrapped, err := sse.WrapKey(kek, material, materialAAD(name, number))
	if err != nil {
		return Version{}, err
	}
	return Version{Number: number, Wrapped: wrapped, Created: now}, nil
}

// New returns an enabled key with version 1 of fresh material wrapped
// under kek.
func New(kek []byte, name, description string, now time.Time) (Key, error) {
	if err := ValidateName("name", name); err != nil {
		return Key{}, err
	}
	if err := ValidateDescription("description", description); err != nil {
		return Key{}, err
	}
	v, err := newVersion(kek, name, 1, now)
	if err != nil {
		return Key{}, err
	}
	return Key{Name: name, Description: description, State: StateEnabled, Created: now, Versions: []Version{v}}, nil
}

// Current is the version new data keys are wrapped under; the zero Version
// for a key without any.
func (k Key) Current() Version {
	if len(k.Versions) == 0 {
		return Version{}
	}
	return k.Versions[len(k.Versions)-1]
}

// Effective returns the key as it stands at now: a timed disable whose
// end has come reads as enabled. (A deletion whose time has come is not
// applied here: that needs the archives checked, see DeletionDue.)
func (k Key) Effective(now time.Time) Key {
	if k.State == StateDisabled && !k.DisableUntil.IsZero() && !now.Before(k.DisableUntil) {
		k.State, k.DisableUntil = StateEnabled, time.Time{}
	}
	return k
}

// Usable refuses, naming the key, unless the key is enabled at now.
func (k Key) Usable(now time.Time) error {
	switch e := k.Effective(now); e.State {
	case StateEnabled:
		return nil
	case StateDisabled:
		if e.DisableUntil.IsZero() {
			return fmt.Errorf("%w: KMS key %q is disabled until enabled again", wormvault.ErrKMSKeyDisabled, k.Name)
		}
		return fmt.Errorf("%w: KMS key %q is disabled until %s", wormvault.ErrKMSKeyDisabled, k.Name, stamp(e.DisableUntil))
	case StatePendingDeletion:
		return fmt.Errorf("%w: KMS key %q is scheduled for deletion at %s (CancelKeyDeletion restores it)", wormvault.ErrKMSKeyPendingDeletion, k.Name, stamp(k.DeletionTime))
	case StateDeleted:
		return fmt.Errorf("%w: KMS key %q is deleted: what it encrypted can never be read", wormvault.ErrKMSKeyDeleted, k.Name)
	}
	return fmt.Errorf("%w: KMS key %q is in state %s", wormvault.ErrFailedPrecondition, k.Name, k.State)
}

// protectedError names the protected version that refuses a change.
func protectedError(name, version, what string) error {
	return fmt.Errorf("%w: cannot %s KMS key %q: version %s is under retention or legal hold", wormvault.ErrKMSKeyProtectsLocked, what, name, version)
}

// notUsable refuses a change to a key that is pending deletion or deleted.
func (k Key) notUsable(what string) error {
	switch k.State {
	case StatePendingDeletion:
		return fmt.Errorf("%w: cannot %s KMS key %q: it is scheduled for deletion (CancelKeyDeletion first)", wormvault.ErrKMSKeyPendingDeletion, what, k.Name)
	case StateDeleted:
		return fmt.Errorf("%w: cannot %s KMS key %q: it is deleted", wormvault.ErrKMSKeyDeleted, what, k.Name)
	}
	return nil
}

// Rotate adds a new current version of fresh material; the older versions
// stay for unwrapping what they wrapped. Only an enabled key rotates.
func (k Key) Rotate(kek []byte, now time.Time) (Key, error) {
	k = k.Effective(now)
	if err := k.notUsable("rotate"); err != nil {
		return Key{}, err
	}
	if k.State == StateDisabled {
		return Key{}, fmt.Errorf("%w: cannot rotate KMS key %q while it is disabled", wormvault.ErrKMSKeyDisabled, k.Name)
	}
	v, err := newVersion(kek, k.Name, k.Current().Number+1, now)
	if err != nil {
		return Key{}, err
	}
	k.Versions = append(slices.Clone(k.Versions), v)
	return k, nil
}

// Disable makes the key unusable for days days (0: until Enable).
// protected names a version the key encrypts that is under retention or
// legal hold, "" when none is: then only 1 to MaxProtectedDisableDays days
// are allowed.
func (k Key) Disable(now time.Time, days int, protected string) (Key, error) {
	if days < 0 || days > MaxDisableDays {
		return Key{}, wormvault.InvalidArgument("disable_days", "must be 0 (until enabled) to %d, got %d", MaxDisableDays, days)
	}
	k = k.Effective(now)
	if err := k.notUsable("disable"); err != nil {
		return Key{}, err
	}
	if protected != "" && (days == 0 || days > MaxProtectedDisableDays) {
		return Key{}, fmt.Errorf("%w; disable_days must be 1 to %d while it is", protectedError(k.Name, protected, "disable indefinitely or for more than "+strconv.Itoa(MaxProtectedDisableDays)+" days"), MaxProtectedDisableDays)
	}
	k.State, k.DisableUntil = StateDisabled, time.Time{}
	if days > 0 {
		k.DisableUntil = now.Add(time.Duration(days) * day)
	}
	return k, nil
}

// Enable ends a disable; enabling an enabled key changes nothing.
func (k Key) Enable(now time.Time) (Key, error) {
	k = k.Effective(now)
	if err := k.notUsable("enable"); err != nil {
		return Key{}, err
	}
	k.State, k.DisableUntil = StateEnabled, time.Time{}
	return k, nil
}

// ValidatePendingDays checks a deletion window.
func ValidatePendingDays(field string, days int) error {
	if days < MinPendingDays || days > MaxPendingDays {
		return wormvault.InvalidArgument(field, "must be %d to %d days, got %d", MinPendingDays, MaxPendingDays, days)
	}
	return nil
}

// ScheduleDeletion makes the key unusable now and its material deletable
// after days days. protected names a version the key encrypts that is
// under retention or legal hold ("" when none is), which refuses it.
func (k Key) ScheduleDeletion(now time.Time, days int, protected string) (Key, error) {
	if err := ValidatePendingDays("pending_days", days); err != nil {
		return Key{}, err
	}
	k = k.Effective(now)
	if err := k.notUsable("schedule the deletion of"); err != nil {
		return Key{}, err
	}
	if protected != "" {
		return Key{}, protectedError(k.Name, protected, "schedule the deletion of")
	}
	k.StateBeforeDeletion, k.State = k.State, StatePendingDeletion
	k.DeletionTime = now.Add(time.Duration(days) * day)
	return k, nil
}

// CancelDeletion returns a key pending deletion to the state it had.
func (k Key) CancelDeletion(now time.Time) (Key, error) {
	if k.State != StatePendingDeletion {
		if k.State == StateDeleted {
			return Key{}, fmt.Errorf("%w: KMS key %q is already deleted", wormvault.ErrKMSKeyDeleted, k.Name)
		}
		return Key{}, fmt.Errorf("%w: KMS key %q is %s, not scheduled for deletion", wormvault.ErrFailedPrecondition, k.Name, k.Effective(now).State)
	}
	k.State = k.StateBeforeDeletion
	if k.State != StateDisabled {
		k.State = StateEnabled
	}
	k.StateBeforeDeletion, k.DeletionTime = 0, time.Time{}
	return k.Effective(now), nil
}

// DeletionDue reports whether the key's deletion time has come. The
// caller deletes it (Delete) only if no version it encrypts is under
// retention or legal hold by then, and only on a trusted clock.
func (k Key) DeletionDue(now time.Time) bool {
	return k.State == StatePendingDeletion && !now.Before(k.DeletionTime)
}

// Delete drops the material of every version; the record (name, version
// numbers) stays so the name is never reused.
func (k Key) Delete() Key {
	vs := make([]Version, len(k.Versions))
	for i, v := range k.Versions {
		vs[i] = Version{Number: v.Number, Created: v.Created}
	}
	k.Versions, k.State, k.StateBeforeDeletion = vs, StateDeleted, 0
	return k
}

// material unwraps one version's material.
func (k Key) material(kek []byte, version uint32) ([]byte, error) {
	for _, v := range k.Versions {
		if v.Number != version {
			continue
		}
		if v.Wrapped == nil {
			return nil, fmt.Errorf("%w: KMS key %q is deleted: what it encrypted can never be read", wormvault.ErrKMSKeyDeleted, k.Name)
		}
		m, err := sse.UnwrapKey(kek, v.Wrapped, materialAAD(k.Name, version))
		if err != nil {
			return nil, fmt.Errorf("%w: material of KMS key %q version %d does not unwrap (a different master key, or a damaged record): %v", wormvault.ErrDataLoss, k.Name, version, err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w: KMS key %q has no version %d", wormvault.ErrDataLoss, k.Name, version)
}

// WrapDataKey wraps dataKey under the current version's material, bound to
// aad, and returns the version used. It does not check the key's state:
// callers check Usable first.
func (k Key) WrapDataKey(kek, dataKey, aad []byte) ([]byte, uint32, error) {
	cur := k.Current()
	m, err := k.material(kek, cur.Number)
	if err != nil {
		return nil, 0, err
	}
	wrapped, err := sse.WrapKey(m, dataKey, aad)
	if err != nil {
		return nil, 0, err
	}
	return wrapped, cur.Number, nil
}

// UnwrapDataKey reverses WrapDataKey with the version that wrapped. It
// does not check the key's state: callers check Usable first. A wrapped
// key that does not open is wormvault.ErrDataLoss.
func (k Key) UnwrapDataKey(kek []byte, version uint32, wrapped, aad []byte) ([]byte, error) {
	m, err := k.material(kek, version)
	if err != nil {
		return nil, err
	}
	dk, err := sse.UnwrapKey(m, wrapped, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: data key wrapped under KMS key %q version %d does not unwrap: %v", wormvault.ErrDataLoss, k.Name, version, err)
	}
	return dk, nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

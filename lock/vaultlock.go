package lock

import (
	"fmt"
	"time"

	"github.com/wormvault/wormvault"
)

// VaultLockWindow is how long an initiated vault lock waits for completion
// before it expires, measured by the trusted clock.
const VaultLockWindow = 24 * time.Hour

// VaultLockState is where a vault lock is in its life.
type VaultLockState int

const (
	// VaultLockNone: no lock, or an initiated one that expired.
	VaultLockNone VaultLockState = iota
	// VaultLockInProgress: initiated, enforced exactly as if locked so it
	// can be tested, and abortable until completed or expired.
	VaultLockInProgress
	// VaultLockLocked: completed. Immutable forever.
	VaultLockLocked
)

func (s VaultLockState) String() string {
	switch s {
	case VaultLockNone:
		return "NONE"
	case VaultLockInProgress:
		return "IN_PROGRESS"
	case VaultLockLocked:
		return "LOCKED"
	}
	return fmt.Sprintf("VaultLockState(%d)", int(s))
}

// VaultLock is a vault's lock: a policy document and its state.
type VaultLock struct {
	State      VaultLockState
	Policy     string
	LockID     string
	CreateTime time.Time
	ExpireTime time.Time
}

// Effective returns the lock as it stands at now: an IN_PROGRESS lock past
// its expiry is gone (it stops applying at expire_time, whether or not
// anything has removed it yet).
func (l VaultLock) Effective(now time.Time) VaultLock {
	if l.State == VaultLockInProgress && !now.Before(l.ExpireTime) {
		return VaultLock{}
	}
	return l
}

// Enforced reports whether the lock's policy applies at now: while in
// progress and once locked.
func (l VaultLock) Enforced(now time.Time) bool {
	return l.Effective(now).State != VaultLockNone
}

// InitiateVaultLock starts a lock with an already validated policy. A lock
// in progress refuses with wormvault.ErrVaultLockInProgress, a completed one
// with wormvault.ErrVaultLocked.
func InitiateVaultLock(now time.Time, cur VaultLock, policy, lockID string) (VaultLock, error) {
	switch cur.Effective(now).State {
	case VaultLockLocked:
		return cur, fmt.Errorf("lock: %w", wormvault.ErrVaultLocked)
	case VaultLockInProgress:
		return cur, fmt.Errorf("lock: the lock in progress expires %s: %w", stamp(cur.ExpireTime), wormvault.ErrVaultLockInProgress)
	}
	return VaultLock{State: VaultLockInProgress, Policy: policy, LockID: lockID, CreateTime: now, ExpireTime: now.Add(VaultLockWindow)}, nil
}

// CompleteVaultLock locks the vault forever. With the right id before
// expiry it returns the LOCKED lock; repeating it once LOCKED with the same
// id is a no-op success. A wrong id is an invalid argument while in
// progress and a permission denial once locked. After expiry it fails with
// wormvault.ErrLockExpired and returns the zero lock: the expired lock and
// its policy are removed.
func CompleteVaultLock(now time.Time, cur VaultLock, lockID string) (VaultLock, error) {
	switch {
	case cur.State == VaultLockLocked && lockID == cur.LockID:
		return cur, nil
	case cur.State == VaultLockLocked:
		return cur, fmt.Errorf("lock: wrong lock id for a LOCKED vault: %w", wormvault.ErrPermissionDenied)
	case cur.State == VaultLockInProgress && !now.Before(cur.ExpireTime):
		return VaultLock{}, fmt.Errorf("lock: the lock expired at %s: %w", stamp(cur.ExpireTime), wormvault.ErrLockExpired)
	case cur.State == VaultLockInProgress && lockID != cur.LockID:
		return cur, wormvault.InvalidArgument("lock_id", "does not match the lock in progress")
	case cur.State == VaultLockInProgress:
		cur.State = VaultLockLocked
		return cur, nil
	}
	return cur, fmt.Errorf("lock: %w", wormvault.ErrVaultLockNotFound)
}

// AbortVaultLock removes a lock in progress. A LOCKED lock refuses with
// wormvault.ErrVaultLocked.
func AbortVaultLock(now time.Time, cur VaultLock) (VaultLock, error) {
	switch cur.Effective(now).State {
	case VaultLockLocked:
		return cur, fmt.Errorf("lock: %w", wormvault.ErrVaultLocked)
	case VaultLockNone:
		return VaultLock{}, fmt.Errorf("lock: %w", wormvault.ErrVaultLockNotFound)
	}
	return VaultLock{}, nil
}

// CheckDeleteVault refuses to delete a vault whose lock is LOCKED (or in
// progress: its policy is enforced as if locked).
func CheckDeleteVault(now time.Time, cur VaultLock) error {
	switch cur.Effective(now).State {
	case VaultLockLocked:
		return fmt.Errorf("lock: a vault with a LOCKED vault lock can never be deleted: %w", wormvault.ErrVaultLocked)
	case VaultLockInProgress:
		return fmt.Errorf("lock: abort the vault lock in progress first: %w", wormvault.ErrVaultLockInProgress)
	}
	return nil
}

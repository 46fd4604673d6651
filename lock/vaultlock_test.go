package lock_test

import (
	"errors"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/lock"
)

func TestVaultLockTransitions(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	inProgress := lock.VaultLock{State: lock.VaultLockInProgress, Policy: "p", LockID: "id", CreateTime: t0, ExpireTime: t0.Add(lock.VaultLockWindow)}
	locked := inProgress
	locked.State = lock.VaultLockLocked
	justExpired := t0.Add(lock.VaultLockWindow)
	cases := []struct {
		name  string
		do    func() (lock.VaultLock, error)
		want  error
		state lock.VaultLockState
	}{
		{"initiate on none", func() (lock.VaultLock, error) { return lock.InitiateVaultLock(t0, lock.VaultLock{}, "p", "id") }, nil, lock.VaultLockInProgress},
		{"initiate while in progress", func() (lock.VaultLock, error) { return lock.InitiateVaultLock(t0, inProgress, "p", "id2") }, wormvault.ErrVaultLockInProgress, lock.VaultLockInProgress},
		{"initiate after expiry", func() (lock.VaultLock, error) { return lock.InitiateVaultLock(justExpired, inProgress, "p", "id2") }, nil, lock.VaultLockInProgress},
		{"initiate when locked", func() (lock.VaultLock, error) { return lock.InitiateVaultLock(t0, locked, "p", "id2") }, wormvault.ErrVaultLocked, lock.VaultLockLocked},
		{"complete", func() (lock.VaultLock, error) { return lock.CompleteVaultLock(t0.Add(time.Hour), inProgress, "id") }, nil, lock.VaultLockLocked},
		{"complete at the last instant", func() (lock.VaultLock, error) {
			return lock.CompleteVaultLock(justExpired.Add(-1), inProgress, "id")
		}, nil, lock.VaultLockLocked},
		{"complete wrong id", func() (lock.VaultLock, error) { return lock.CompleteVaultLock(t0, inProgress, "nope") }, wormvault.ErrInvalidArgument, lock.VaultLockInProgress},
		{"complete again", func() (lock.VaultLock, error) { return lock.CompleteVaultLock(t0.AddDate(5, 0, 0), locked, "id") }, nil, lock.VaultLockLocked},
		{"complete locked wrong id", func() (lock.VaultLock, error) { return lock.CompleteVaultLock(t0, locked, "nope") }, wormvault.ErrPermissionDenied, lock.VaultLockLocked},
		{"complete expired", func() (lock.VaultLock, error) { return lock.CompleteVaultLock(justExpired, inProgress, "id") }, wormvault.ErrLockExpired, lock.VaultLockNone},
		{"complete none", func() (lock.VaultLock, error) { return lock.CompleteVaultLock(t0, lock.VaultLock{}, "id") }, wormvault.ErrVaultLockNotFound, lock.VaultLockNone},
		{"abort in progress", func() (lock.VaultLock, error) { return lock.AbortVaultLock(t0, inProgress) }, nil, lock.VaultLockNone},
		{"abort locked", func() (lock.VaultLock, error) { return lock.AbortVaultLock(t0, locked) }, wormvault.ErrVaultLocked, lock.VaultLockLocked},
		{"abort none", func() (lock.VaultLock, error) { return lock.AbortVaultLock(t0, lock.VaultLock{}) }, wormvault.ErrVaultLockNotFound, lock.VaultLockNone},
		{"abort expired", func() (lock.VaultLock, error) { return lock.AbortVaultLock(justExpired, inProgress) }, wormvault.ErrVaultLockNotFound, lock.VaultLockNone},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.do()
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if got.State != tc.state {
				t.Fatalf("state = %v, want %v", got.State, tc.state)
			}
		})
	}
	if !inProgress.Enforced(t0) || inProgress.Enforced(justExpired) || !locked.Enforced(t0.AddDate(50, 0, 0)) {
		t.Fatal("Enforced: in progress until expiry, locked forever")
	}
	if err := lock.CheckDeleteVault(t0, locked); !errors.Is(err, wormvault.ErrVaultLocked) {
		t.Fatalf("delete of a locked vault: %v", err)
	}
	if err := lock.CheckDeleteVault(justExpired, inProgress); err != nil {
		t.Fatalf("delete after the lock expired: %v", err)
	}
}

package client

import (
	"context"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// InitiateVaultLock attaches policyJSON, a policy document of DENY statements
// only, to vault as its lock policy in state IN_PROGRESS. The policy is
// enforced at once, so it can be tested, and can be aborted until it is
// completed or expires; the response carries the lock id CompleteVaultLock
// needs and the expiry. It is not retried.
func (c *Client) InitiateVaultLock(ctx context.Context, vault, policyJSON string) (*wormvaultv1.InitiateVaultLockResponse, error) {
	resp, err := c.locks.InitiateVaultLock(ctx, &wormvaultv1.InitiateVaultLockRequest{Vault: vault, Policy: policyJSON})
	if err != nil {
		return nil, convertError(err)
	}
	return resp, nil
}

// CompleteVaultLock makes the in-progress lock lockID LOCKED: from then on
// its policy can never be changed or removed. An expired lock fails with
// wormvault.ErrLockExpired. It is not retried.
func (c *Client) CompleteVaultLock(ctx context.Context, vault, lockID string) error {
	_, err := c.locks.CompleteVaultLock(ctx, &wormvaultv1.CompleteVaultLockRequest{Vault: vault, LockId: lockID})
	return convertError(err)
}

// AbortVaultLock removes vault's lock while it is still IN_PROGRESS; a
// LOCKED lock fails with wormvault.ErrVaultLocked.
func (c *Client) AbortVaultLock(ctx context.Context, vault string) error {
	_, err := c.locks.AbortVaultLock(ctx, &wormvaultv1.AbortVaultLockRequest{Vault: vault})
	return convertError(err)
}

// GetVaultLock returns vault's lock: its policy, state and times. A vault
// without one (or whose in-progress lock expired) fails with
// wormvault.ErrVaultLockNotFound.
func (c *Client) GetVaultLock(ctx context.Context, vault string) (*wormvaultv1.GetVaultLockResponse, error) {
	return retry(ctx, c, func(ctx context.Context) (*wormvaultv1.GetVaultLockResponse, error) {
		return c.locks.GetVaultLock(ctx, &wormvaultv1.GetVaultLockRequest{Vault: vault})
	})
}

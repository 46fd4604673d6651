package server

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault/lock"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/vault"
)

// lockService implements wormvaultv1.LockServiceServer.
type lockService struct {
	wormvaultv1.UnimplementedLockServiceServer
	store *vault.Store
}

func (l *lockService) InitiateVaultLock(ctx context.Context, req *wormvaultv1.InitiateVaultLockRequest) (*wormvaultv1.InitiateVaultLockResponse, error) {
	vl, err := l.store.InitiateVaultLock(ctx, callerOf(ctx), req.GetVault(), req.GetPolicy())
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.InitiateVaultLockResponse{LockId: vl.LockID, ExpireTime: timestamppb.New(vl.ExpireTime)}, nil
}

func (l *lockService) CompleteVaultLock(ctx context.Context, req *wormvaultv1.CompleteVaultLockRequest) (*wormvaultv1.CompleteVaultLockResponse, error) {
	if err := l.store.CompleteVaultLock(ctx, callerOf(ctx), req.GetVault(), req.GetLockId()); err != nil {
		return nil, err
	}
	return &wormvaultv1.CompleteVaultLockResponse{}, nil
}

func (l *lockService) AbortVaultLock(ctx context.Context, req *wormvaultv1.AbortVaultLockRequest) (*wormvaultv1.AbortVaultLockResponse, error) {
	if err := l.store.AbortVaultLock(ctx, callerOf(ctx), req.GetVault()); err != nil {
		return nil, err
	}
	return &wormvaultv1.AbortVaultLockResponse{}, nil
}

func (l *lockService) GetVaultLock(ctx context.Context, req *wormvaultv1.GetVaultLockRequest) (*wormvaultv1.GetVaultLockResponse, error) {
	vl, err := l.store.GetVaultLock(ctx, callerOf(ctx), req.GetVault())
	if err != nil {
		return nil, err
	}
	state := wormvaultv1.VaultLockState_VAULT_LOCK_STATE_IN_PROGRESS
	if vl.State == lock.VaultLockLocked {
		state = wormvaultv1.VaultLockState_VAULT_LOCK_STATE_LOCKED
	}
	return &wormvaultv1.GetVaultLockResponse{Policy: vl.Policy, State: state, CreateTime: timestamppb.New(vl.CreateTime), ExpireTime: timestamppb.New(vl.ExpireTime)}, nil
}

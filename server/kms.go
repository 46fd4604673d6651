package server

import (
	"context"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/vault"
	"github.com/wormvault/wormvault/vault/kms"
)

// keyService implements wormvaultv1.KeyServiceServer: the built-in KMS.
// The rules live in vault/kms and the store; this is the wire.
type keyService struct {
	wormvaultv1.UnimplementedKeyServiceServer
	store *vault.Store
}

func (k *keyService) CreateKey(ctx context.Context, req *wormvaultv1.CreateKeyRequest) (*wormvaultv1.CreateKeyResponse, error) {
	key, err := k.store.CreateKMSKey(ctx, callerOf(ctx), req.GetName(), req.GetDescription())
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.CreateKeyResponse{Key: kmsKeyToProto(key)}, nil
}

func (k *keyService) GetKey(ctx context.Context, req *wormvaultv1.GetKeyRequest) (*wormvaultv1.GetKeyResponse, error) {
	key, err := k.store.GetKMSKey(ctx, callerOf(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.GetKeyResponse{Key: kmsKeyToProto(key)}, nil
}

func (k *keyService) ListKeys(ctx context.Context, req *wormvaultv1.ListKeysRequest) (*wormvaultv1.ListKeysResponse, error) {
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	after := req.GetPageToken()
	if after != "" && kms.ValidateName("page_token", after) != nil {
		return nil, wormvault.InvalidArgument("page_token", "not a token this server issued")
	}
	keys, more, err := k.store.ListKMSKeys(ctx, callerOf(ctx), after, size)
	if err != nil {
		return nil, err
	}
	resp := &wormvaultv1.ListKeysResponse{}
	for _, key := range keys {
		resp.Keys = append(resp.Keys, kmsKeyToProto(key))
	}
	if more {
		resp.NextPageToken = keys[len(keys)-1].Name
	}
	return resp, nil
}

func (k *keyService) DisableKey(ctx context.Context, req *wormvaultv1.DisableKeyRequest) (*wormvaultv1.DisableKeyResponse, error) {
	key, err := k.store.DisableKMSKey(ctx, callerOf(ctx), req.GetName(), int(req.GetDisableDays()))
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.DisableKeyResponse{Key: kmsKeyToProto(key)}, nil
}

func (k *keyService) EnableKey(ctx context.Context, req *wormvaultv1.EnableKeyRequest) (*wormvaultv1.EnableKeyResponse, error) {
	key, err := k.store.EnableKMSKey(ctx, callerOf(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.EnableKeyResponse{Key: kmsKeyToProto(key)}, nil
}

func (k *keyService) RotateKey(ctx context.Context, req *wormvaultv1.RotateKeyRequest) (*wormvaultv1.RotateKeyResponse, error) {
	key, err := k.store.RotateKMSKey(ctx, callerOf(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.RotateKeyResponse{Key: kmsKeyToProto(key)}, nil
}

func (k *keyService) ScheduleKeyDeletion(ctx context.Context, req *wormvaultv1.ScheduleKeyDeletionRequest) (*wormvaultv1.ScheduleKeyDeletionResponse, error) {
	key, err := k.store.ScheduleKMSKeyDeletion(ctx, callerOf(ctx), req.GetName(), int(req.GetPendingDays()))
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.ScheduleKeyDeletionResponse{Key: kmsKeyToProto(key)}, nil
}

func (k *keyService) CancelKeyDeletion(ctx context.Context, req *wormvaultv1.CancelKeyDeletionRequest) (*wormvaultv1.CancelKeyDeletionResponse, error) {
	key, err := k.store.CancelKMSKeyDeletion(ctx, callerOf(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.CancelKeyDeletionResponse{Key: kmsKeyToProto(key)}, nil
}

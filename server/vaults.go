package server

import (
	"context"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/vault"
)

// vaultService implements wormvaultv1.VaultServiceServer.
type vaultService struct {
	wormvaultv1.UnimplementedVaultServiceServer
	store *vault.Store
}

func (v *vaultService) CreateVault(ctx context.Context, req *wormvaultv1.CreateVaultRequest) (*wormvaultv1.CreateVaultResponse, error) {
	out, err := v.store.CreateVaultWith(ctx, callerOf(ctx), vault.NewVault{
		Name:              req.GetName(),
		DefaultRetention:  defaultRetentionFromProto(req.GetDefaultRetention()),
		DefaultEncryption: encryptionSettingFromProto(req.GetDefaultEncryption()),
	})
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.CreateVaultResponse{Vault: vaultToProto(out)}, nil
}

func (v *vaultService) GetVault(ctx context.Context, req *wormvaultv1.GetVaultRequest) (*wormvaultv1.GetVaultResponse, error) {
	out, err := v.store.GetVault(ctx, callerOf(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.GetVaultResponse{Vault: vaultToProto(out)}, nil
}

func (v *vaultService) ListVaults(ctx context.Context, req *wormvaultv1.ListVaultsRequest) (*wormvaultv1.ListVaultsResponse, error) {
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	after := req.GetPageToken()
	if after != "" {
		if err := wormvault.ValidateVaultName("page_token", after); err != nil {
			return nil, wormvault.InvalidArgument("page_token", "not a token this server issued")
		}
	}
	vaults, more, err := v.store.ListVaults(ctx, callerOf(ctx), after, size)
	if err != nil {
		return nil, err
	}
	resp := &wormvaultv1.ListVaultsResponse{}
	for _, x := range vaults {
		resp.Vaults = append(resp.Vaults, vaultToProto(x))
	}
	if more {
		resp.NextPageToken = vaults[len(vaults)-1].Name
	}
	return resp, nil
}

// updatableVaultFields are the paths UpdateVault accepts in update_mask.
var updatableVaultFields = []string{"default_retention", "max_retention", "mfa_delete", "logging", "default_encryption", "cors"}

func (v *vaultService) UpdateVault(ctx context.Context, req *wormvaultv1.UpdateVaultRequest) (*wormvaultv1.UpdateVaultResponse, error) {
	if req.GetVault() == nil {
		return nil, wormvault.InvalidArgument("vault", "required")
	}
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		return nil, wormvault.InvalidArgument("update_mask", "name at least one of %v", updatableVaultFields)
	}
	var u vault.VaultUpdate
	for _, p := range paths {
		switch p {
		case "default_retention":
			d := defaultRetentionFromProto(req.GetVault().GetDefaultRetention())
			u.DefaultRetention = &d
		case "max_retention":
			mr := req.GetVault().GetMaxRetention()
			if mr == nil {
				return nil, wormvault.InvalidArgument("vault.max_retention", "required when named in update_mask")
			}
			if err := mr.CheckValid(); err != nil {
				return nil, wormvault.InvalidArgument("vault.max_retention", "%v", err)
			}
			d := mr.AsDuration()
			u.MaxRetention = &d
		case "mfa_delete":
			on := req.GetVault().GetMfaDelete()
			u.MFADelete = &on
		case "default_encryption":
			e := encryptionSettingFromProto(req.GetVault().GetDefaultEncryption())
			u.DefaultEncryption = &e
		case "logging":
			// An unset or empty target turns access logging off.
			l := req.GetVault().GetLogging()
			u.Logging = &vault.Logging{TargetVault: l.GetTargetVault(), Prefix: l.GetPrefix()}
		case "cors":
			// Replaces every rule; unset or no rules removes them.
			c := corsFromProto(req.GetVault().GetCors())
			u.CORS = &c
		default:
			return nil, wormvault.InvalidArgument("update_mask", "cannot update %q; updatable: %v", p, updatableVaultFields)
		}
	}
	out, err := v.store.UpdateVault(ctx, callerOf(ctx), req.GetVault().GetName(), u)
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.UpdateVaultResponse{Vault: vaultToProto(out)}, nil
}

func (v *vaultService) DeleteVault(ctx context.Context, req *wormvaultv1.DeleteVaultRequest) (*wormvaultv1.DeleteVaultResponse, error) {
	if err := v.store.DeleteVault(ctx, callerOf(ctx), req.GetName()); err != nil {
		return nil, err
	}
	return &wormvaultv1.DeleteVaultResponse{}, nil
}

// Page sizes.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

func pageSize(n int32) (int, error) {
	switch {
	case n < 0:
		return 0, wormvault.InvalidArgument("page_size", "must not be negative")
	case n == 0:
		return defaultPageSize, nil
	case n > maxPageSize:
		return 0, wormvault.InvalidArgument("page_size", "at most %d", maxPageSize)
	}
	return int(n), nil
}

func (v *vaultService) SetVaultAccessPolicy(ctx context.Context, req *wormvaultv1.SetVaultAccessPolicyRequest) (*wormvaultv1.SetVaultAccessPolicyResponse, error) {
	if err := v.store.SetVaultAccessPolicy(ctx, callerOf(ctx), req.GetVault(), req.GetPolicy()); err != nil {
		return nil, err
	}
	return &wormvaultv1.SetVaultAccessPolicyResponse{}, nil
}

func (v *vaultService) GetVaultAccessPolicy(ctx context.Context, req *wormvaultv1.GetVaultAccessPolicyRequest) (*wormvaultv1.GetVaultAccessPolicyResponse, error) {
	doc, err := v.store.GetVaultAccessPolicy(ctx, callerOf(ctx), req.GetVault())
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.GetVaultAccessPolicyResponse{Policy: doc}, nil
}

func (v *vaultService) DeleteVaultAccessPolicy(ctx context.Context, req *wormvaultv1.DeleteVaultAccessPolicyRequest) (*wormvaultv1.DeleteVaultAccessPolicyResponse, error) {
	if err := v.store.DeleteVaultAccessPolicy(ctx, callerOf(ctx), req.GetVault()); err != nil {
		return nil, err
	}
	return &wormvaultv1.DeleteVaultAccessPolicyResponse{}, nil
}

package server

import (
	"context"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/vault"
)

// identityService implements wormvaultv1.IdentityServiceServer.
type identityService struct {
	wormvaultv1.UnimplementedIdentityServiceServer
	store       *vault.Store
	credentials string // root.credentials, rewritten on rotation
}

func principalToProto(p *vault.Principal) *wormvaultv1.Principal {
	out := &wormvaultv1.Principal{Name: p.Name}
	if !p.CreateTime.IsZero() {
		out.CreateTime = timestamppb.New(p.CreateTime)
	}
	return out
}

func (i *identityService) CreatePrincipal(ctx context.Context, req *wormvaultv1.CreatePrincipalRequest) (*wormvaultv1.CreatePrincipalResponse, error) {
	p, err := i.store.CreatePrincipal(ctx, callerOf(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.CreatePrincipalResponse{Principal: principalToProto(p)}, nil
}

func (i *identityService) GetPrincipal(ctx context.Context, req *wormvaultv1.GetPrincipalRequest) (*wormvaultv1.GetPrincipalResponse, error) {
	p, err := i.store.GetPrincipal(ctx, callerOf(ctx), req.GetName())
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.GetPrincipalResponse{Principal: principalToProto(p)}, nil
}

func (i *identityService) ListPrincipals(ctx context.Context, req *wormvaultv1.ListPrincipalsRequest) (*wormvaultv1.ListPrincipalsResponse, error) {
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	after := req.GetPageToken()
	if after != "" {
		if err := vault.ValidatePrincipalName("page_token", after); err != nil {
			return nil, wormvault.InvalidArgument("page_token", "not a token this server issued")
		}
	}
	ps, more, err := i.store.ListPrincipals(ctx, callerOf(ctx), after, size)
	if err != nil {
		return nil, err
	}
	resp := &wormvaultv1.ListPrincipalsResponse{}
	for _, p := range ps {
		resp.Principals = append(resp.Principals, principalToProto(p))
	}
	if more {
		resp.NextPageToken = ps[len(ps)-1].Name
	}
	return resp, nil
}

func (i *identityService) DeletePrincipal(ctx context.Context, req *wormvaultv1.DeletePrincipalRequest) (*wormvaultv1.DeletePrincipalResponse, error) {
	if err := i.store.DeletePrincipal(ctx, callerOf(ctx), req.GetName()); err != nil {
		return nil, err
	}
	return &wormvaultv1.DeletePrincipalResponse{}, nil
}

func (i *identityService) CreateAccessKey(ctx context.Context, req *wormvaultv1.CreateAccessKeyRequest) (*wormvaultv1.CreateAccessKeyResponse, error) {
	_, token, err := i.store.CreateAccessKey(ctx, callerOf(ctx), req.GetPrincipal())
	if err != nil {
		return nil, err
	}
	id, secret, _ := strings.Cut(token, ".")
	return &wormvaultv1.CreateAccessKeyResponse{KeyId: id, Secret: secret}, nil
}

func (i *identityService) ListAccessKeys(ctx context.Context, req *wormvaultv1.ListAccessKeysRequest) (*wormvaultv1.ListAccessKeysResponse, error) {
	keys, err := i.store.ListAccessKeys(ctx, callerOf(ctx), req.GetPrincipal())
	if err != nil {
		return nil, err
	}
	resp := &wormvaultv1.ListAccessKeysResponse{}
	for _, k := range keys {
		resp.AccessKeys = append(resp.AccessKeys, &wormvaultv1.AccessKey{KeyId: k.KeyID, Principal: k.Principal, CreateTime: timestamppb.New(k.CreateTime)})
	}
	return resp, nil
}

func (i *identityService) DeleteAccessKey(ctx context.Context, req *wormvaultv1.DeleteAccessKeyRequest) (*wormvaultv1.DeleteAccessKeyResponse, error) {
	if err := i.store.DeleteAccessKey(ctx, callerOf(ctx), req.GetKeyId()); err != nil {
		return nil, err
	}
	return &wormvaultv1.DeleteAccessKeyResponse{}, nil
}

func (i *identityService) SetPrincipalPolicy(ctx context.Context, req *wormvaultv1.SetPrincipalPolicyRequest) (*wormvaultv1.SetPrincipalPolicyResponse, error) {
	if err := i.store.SetPrincipalPolicy(ctx, callerOf(ctx), req.GetPrincipal(), req.GetPolicy()); err != nil {
		return nil, err
	}
	return &wormvaultv1.SetPrincipalPolicyResponse{}, nil
}

func (i *identityService) GetPrincipalPolicy(ctx context.Context, req *wormvaultv1.GetPrincipalPolicyRequest) (*wormvaultv1.GetPrincipalPolicyResponse, error) {
	doc, err := i.store.GetPrincipalPolicy(ctx, callerOf(ctx), req.GetPrincipal())
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.GetPrincipalPolicyResponse{Policy: doc}, nil
}

func (i *identityService) RotateRootKey(ctx context.Context, _ *wormvaultv1.RotateRootKeyRequest) (*wormvaultv1.RotateRootKeyResponse, error) {
	token, err := i.store.RotateRootKey(ctx, callerOf(ctx), i.credentials)
	if err != nil {
		return nil, err
	}
	id, secret, _ := strings.Cut(token, ".")
	return &wormvaultv1.RotateRootKeyResponse{KeyId: id, Secret: secret}, nil
}

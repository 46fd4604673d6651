package client

import (
	"context"
	"iter"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// VaultOption sets a field of a vault in CreateVault or UpdateVault.
type VaultOption func(*vaultSettings)

type vaultSettings struct {
	vault *wormvaultv1.Vault
	paths []string
}

func (s *vaultSettings) set(path string) {
	for _, p := range s.paths {
		if p == path {
			return
		}
	}
	s.paths = append(s.paths, path)
}

// WithDefaultRetention sets the vault's default retention.
func WithDefaultRetention(d wormvault.DefaultRetention) VaultOption {
	return func(s *vaultSettings) {
		s.vault.DefaultRetention = DefaultRetentionToProto(d)
		s.set("default_retention")
	}
}

// WithoutDefaultRetention removes the vault's default retention (UpdateVault).
func WithoutDefaultRetention() VaultOption {
	return func(s *vaultSettings) {
		s.vault.DefaultRetention = nil
		s.set("default_retention")
	}
}

// WithMaxRetention caps every new retain-until time in the vault
// (UpdateVault only).
func WithMaxRetention(d time.Duration) VaultOption {
	return func(s *vaultSettings) {
		s.vault.MaxRetention = durationpb.New(d)
		s.set("max_retention")
	}
}

// WithMFADelete turns the vault's MFA delete on or off (UpdateVault only).
// While it is on, permanently deleting a version, and turning it off, need
// an MFA code (ContextWithMFA or WithMFA). Only root may change it, and only
// with an MFA code.
func WithMFADelete(on bool) VaultOption {
	return func(s *vaultSettings) {
		s.vault.MfaDelete = on
		s.set("mfa_delete")
	}
}

// WithLogging delivers a record of every request against the vault, as
// JSON lines archives named <prefix>YYYY/MM/DD/HH-MM-SS-<id>.jsonl, into
// targetVault (UpdateVault only). The target must exist and must not be
// the vault itself, and the caller needs upload rights on it.
func WithLogging(targetVault, prefix string) VaultOption {
	return func(s *vaultSettings) {
		s.vault.Logging = &wormvaultv1.VaultLogging{TargetVault: targetVault, Prefix: prefix}
		s.set("logging")
	}
}

// WithCORS replaces the vault's CORS rules, which decide the web origins
// that may call its REST routes from a browser (UpdateVault only); no
// rules removes them. Each rule needs allowed origins (scheme://host[:port],
// one * wildcard each) and methods; at most 100 rules.
func WithCORS(rules ...*wormvaultv1.CorsRule) VaultOption {
	return func(s *vaultSettings) {
		s.vault.Cors = nil
		if len(rules) > 0 {
			s.vault.Cors = &wormvaultv1.VaultCors{Rules: rules}
		}
		s.set("cors")
	}
}

// WithoutLogging turns the vault's access logging off (UpdateVault only).
// Records already taken are still delivered.
func WithoutLogging() VaultOption {
	return func(s *vaultSettings) {
		s.vault.Logging = nil
		s.set("logging")
	}
}

// WithDefaultEncryptionKMS encrypts the vault's uploads that ask for no
// encryption under the KMS key name (CreateVault or UpdateVault).
func WithDefaultEncryptionKMS(name string) VaultOption {
	return func(s *vaultSettings) {
		s.vault.DefaultEncryption = &wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_KMS, KmsKey: name}
		s.set("default_encryption")
	}
}

// WithDefaultEncryptionService returns the vault's default encryption to
// SERVICE, the default of every new vault (CreateVault or UpdateVault).
func WithDefaultEncryptionService() VaultOption {
	return func(s *vaultSettings) {
		s.vault.DefaultEncryption = &wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_SERVICE}
		s.set("default_encryption")
	}
}

func applyVault(name string, opts []VaultOption) *vaultSettings {
	s := &vaultSettings{vault: &wormvaultv1.Vault{Name: name}}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// CreateVault creates an empty vault. Only WithDefaultRetention and the
// default encryption options apply.
func (c *Client) CreateVault(ctx context.Context, name string, opts ...VaultOption) (*wormvaultv1.Vault, error) {
	s := applyVault(name, opts)
	for _, p := range s.paths {
		if p != "default_retention" && p != "default_encryption" {
			return nil, errorf("CreateVault %s: %s can only be changed by UpdateVault: %w", name, p, wormvault.ErrInvalidArgument)
		}
	}
	resp, err := c.vaults.CreateVault(ctx, &wormvaultv1.CreateVaultRequest{
		Name:              name,
		DefaultRetention:  s.vault.DefaultRetention,
		DefaultEncryption: s.vault.DefaultEncryption,
	})
	if err != nil {
		return nil, convertError(err)
	}
	return resp.GetVault(), nil
}

// GetVault returns one vault.
func (c *Client) GetVault(ctx context.Context, name string) (*wormvaultv1.Vault, error) {
	resp, err := retry(ctx, c, func(ctx context.Context) (*wormvaultv1.GetVaultResponse, error) {
		return c.vaults.GetVault(ctx, &wormvaultv1.GetVaultRequest{Name: name})
	})
	return resp.GetVault(), err
}

// ListVaults iterates over every vault in name order, fetching pages as it
// goes. An error ends the iteration.
func (c *Client) ListVaults(ctx context.Context) iter.Seq2[*wormvaultv1.Vault, error] {
	return pages(ctx, c, func(ctx context.Context, token string) ([]*wormvaultv1.Vault, string, error) {
		resp, err := c.vaults.ListVaults(ctx, &wormvaultv1.ListVaultsRequest{PageSize: c.pageSize, PageToken: token})
		return resp.GetVaults(), resp.GetNextPageToken(), err
	})
}

// UpdateVault changes the fields the options name (default retention, max
// retention, MFA delete, access logging) and returns the updated vault.
func (c *Client) UpdateVault(ctx context.Context, name string, opts ...VaultOption) (*wormvaultv1.Vault, error) {
	s := applyVault(name, opts)
	if len(s.paths) == 0 {
		return nil, errorf("UpdateVault %s: nothing to change: %w", name, wormvault.ErrInvalidArgument)
	}
	resp, err := c.vaults.UpdateVault(ctx, &wormvaultv1.UpdateVaultRequest{
		Vault:      s.vault,
		UpdateMask: &fieldmaskpb.FieldMask{Paths: s.paths},
	})
	if err != nil {
		return nil, convertError(err)
	}
	return resp.GetVault(), nil
}

// DeleteVault deletes a vault that holds no versions.
func (c *Client) DeleteVault(ctx context.Context, name string) error {
	_, err := c.vaults.DeleteVault(ctx, &wormvaultv1.DeleteVaultRequest{Name: name})
	return convertError(err)
}

// SetVaultAccessPolicy replaces vault's access policy with policyJSON, a
// policy document the server validates before storing it.
func (c *Client) SetVaultAccessPolicy(ctx context.Context, vault, policyJSON string) error {
	_, err := c.vaults.SetVaultAccessPolicy(ctx, &wormvaultv1.SetVaultAccessPolicyRequest{Vault: vault, Policy: policyJSON})
	return convertError(err)
}

// GetVaultAccessPolicy returns vault's access policy document as stored. A
// vault without one fails with wormvault.ErrNoAccessPolicy.
func (c *Client) GetVaultAccessPolicy(ctx context.Context, vault string) (string, error) {
	resp, err := retry(ctx, c, func(ctx context.Context) (*wormvaultv1.GetVaultAccessPolicyResponse, error) {
		return c.vaults.GetVaultAccessPolicy(ctx, &wormvaultv1.GetVaultAccessPolicyRequest{Vault: vault})
	})
	return resp.GetPolicy(), err
}

// DeleteVaultAccessPolicy removes vault's access policy; a vault without one
// fails with wormvault.ErrNoAccessPolicy.
func (c *Client) DeleteVaultAccessPolicy(ctx context.Context, vault string) error {
	_, err := c.vaults.DeleteVaultAccessPolicy(ctx, &wormvaultv1.DeleteVaultAccessPolicyRequest{Vault: vault})
	return convertError(err)
}

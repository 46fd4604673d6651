package client

import (
	"context"
	"iter"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// AccessKeyToken joins a key id and its secret into the bearer token
// "<key_id>.<secret>" that WithToken takes.
func AccessKeyToken(keyID, secret string) string { return keyID + "." + secret }

// CreatePrincipal creates a principal with no access keys and no identity
// policy: until it is given one it is denied everything. It is not retried.
func (c *Client) CreatePrincipal(ctx context.Context, name string) (*wormvaultv1.Principal, error) {
	resp, err := c.identity.CreatePrincipal(ctx, &wormvaultv1.CreatePrincipalRequest{Name: name})
	if err != nil {
		return nil, convertError(err)
	}
	return resp.GetPrincipal(), nil
}

// GetPrincipal returns one principal ("root" included).
func (c *Client) GetPrincipal(ctx context.Context, name string) (*wormvaultv1.Principal, error) {
	resp, err := retry(ctx, c, func(ctx context.Context) (*wormvaultv1.GetPrincipalResponse, error) {
		return c.identity.GetPrincipal(ctx, &wormvaultv1.GetPrincipalRequest{Name: name})
	})
	return resp.GetPrincipal(), err
}

// ListPrincipals iterates over every principal in name order, root first,
// fetching pages as it goes. An error ends the iteration.
func (c *Client) ListPrincipals(ctx context.Context) iter.Seq2[*wormvaultv1.Principal, error] {
	return pages(ctx, c, func(ctx context.Context, token string) ([]*wormvaultv1.Principal, string, error) {
		resp, err := c.identity.ListPrincipals(ctx, &wormvaultv1.ListPrincipalsRequest{PageSize: c.pageSize, PageToken: token})
		return resp.GetPrincipals(), resp.GetNextPageToken(), err
	})
}

// DeletePrincipal deletes a principal and every access key it has. Root
// cannot be deleted.
func (c *Client) DeletePrincipal(ctx context.Context, name string) error {
	_, err := c.identity.DeletePrincipal(ctx, &wormvaultv1.DeletePrincipalRequest{Name: name})
	return convertError(err)
}

// CreateAccessKey creates an access key for principal and returns its key id
// and its bearer token "<key_id>.<secret>". The server keeps only a hash of
// the secret: the token cannot be read back later. It is not retried, as a
// retry could mint a second key.
func (c *Client) CreateAccessKey(ctx context.Context, principal string) (keyID, token string, err error) {
	resp, err := c.identity.CreateAccessKey(ctx, &wormvaultv1.CreateAccessKeyRequest{Principal: principal})
	if err != nil {
		return "", "", convertError(err)
	}
	return resp.GetKeyId(), AccessKeyToken(resp.GetKeyId(), resp.GetSecret()), nil
}

// ListAccessKeys lists principal's access keys (ids and creation times,
// never secrets).
func (c *Client) ListAccessKeys(ctx context.Context, principal string) ([]*wormvaultv1.AccessKey, error) {
	resp, err := retry(ctx, c, func(ctx context.Context) (*wormvaultv1.ListAccessKeysResponse, error) {
		return c.identity.ListAccessKeys(ctx, &wormvaultv1.ListAccessKeysRequest{Principal: principal})
	})
	return resp.GetAccessKeys(), err
}

// DeleteAccessKey deletes an access key; its token is refused from then on
// (wormvault.ErrUnauthenticated). Root's last key cannot be deleted: rotate
// it with RotateRootKey instead.
func (c *Client) DeleteAccessKey(ctx context.Context, keyID string) error {
	_, err := c.identity.DeleteAccessKey(ctx, &wormvaultv1.DeleteAccessKeyRequest{KeyId: keyID})
	return convertError(err)
}

// SetPrincipalPolicy replaces principal's identity policy with policyJSON, a
// policy document the server validates before storing it; "" removes it.
// Root has no identity policy.
func (c *Client) SetPrincipalPolicy(ctx context.Context, principal, policyJSON string) error {
	_, err := c.identity.SetPrincipalPolicy(ctx, &wormvaultv1.SetPrincipalPolicyRequest{Principal: principal, Policy: policyJSON})
	return convertError(err)
}

// GetPrincipalPolicy returns principal's identity policy document as stored,
// "" when it has none.
func (c *Client) GetPrincipalPolicy(ctx context.Context, principal string) (string, error) {
	resp, err := retry(ctx, c, func(ctx context.Context) (*wormvaultv1.GetPrincipalPolicyResponse, error) {
		return c.identity.GetPrincipalPolicy(ctx, &wormvaultv1.GetPrincipalPolicyRequest{Principal: principal})
	})
	return resp.GetPolicy(), err
}

// RotateRootKey replaces every root access key with a new one and returns
// its token "<key_id>.<secret>" (root only). The old root tokens, including
// the one this Client was dialled with, are refused from then on; the server
// also rewrites the root.credentials file in its data directory. It is not
// retried.
func (c *Client) RotateRootKey(ctx context.Context) (string, error) {
	resp, err := c.identity.RotateRootKey(ctx, &wormvaultv1.RotateRootKeyRequest{})
	if err != nil {
		return "", convertError(err)
	}
	return AccessKeyToken(resp.GetKeyId(), resp.GetSecret()), nil
}

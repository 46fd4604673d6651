package client

import (
	"context"
	"iter"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// Access points (AccessPointService) are named entry points to a vault,
// each with its own policy and the CIDRs its requests must come from.
// Every archive call accepts AccessPointRef(name) ("ap/NAME") wherever it
// takes a vault name; the server then acts on the access point's vault,
// and only for requests from inside its network origin (else
// wormvault.ErrNetworkOrigin) that its policy, and the vault's, allow.

// AccessPointRef is what archive calls take as the vault to go through
// the access point name: "ap/NAME".
func AccessPointRef(name string) string { return wormvault.AccessPointPrefix + name }

// AccessPoints returns the raw AccessPointService stub.
func (c *Client) AccessPoints() wormvaultv1.AccessPointServiceClient {
	return wormvaultv1.NewAccessPointServiceClient(c.conn)
}

// CreateAccessPoint creates an access point to vault. policy is a policy
// document, or "" (then only root may use it); allowedCIDRs, at least one,
// are the CIDRs requests through it must come from.
func (c *Client) CreateAccessPoint(ctx context.Context, name, vault, policy string, allowedCIDRs []string) (*wormvaultv1.AccessPoint, error) {
	resp, err := c.AccessPoints().CreateAccessPoint(ctx, &wormvaultv1.CreateAccessPointRequest{
		Name: name, Vault: vault, Policy: policy, NetworkOrigin: &wormvaultv1.NetworkOrigin{AllowedCidrs: allowedCIDRs},
	})
	return resp.GetAccessPoint(), convertError(err)
}

// GetAccessPoint returns one access point.
func (c *Client) GetAccessPoint(ctx context.Context, name string) (*wormvaultv1.AccessPoint, error) {
	resp, err := retry(ctx, c, func(ctx context.Context) (*wormvaultv1.GetAccessPointResponse, error) {
		return c.AccessPoints().GetAccessPoint(ctx, &wormvaultv1.GetAccessPointRequest{Name: name})
	})
	return resp.GetAccessPoint(), err
}

// ListAccessPoints iterates over the access points of vault ("" for every
// vault's) in name order, fetching pages as it goes. An error ends the
// iteration.
func (c *Client) ListAccessPoints(ctx context.Context, vault string) iter.Seq2[*wormvaultv1.AccessPoint, error] {
	return pages(ctx, c, func(ctx context.Context, token string) ([]*wormvaultv1.AccessPoint, string, error) {
		resp, err := c.AccessPoints().ListAccessPoints(ctx, &wormvaultv1.ListAccessPointsRequest{Vault: vault, PageSize: c.pageSize, PageToken: token})
		return resp.GetAccessPoints(), resp.GetNextPageToken(), err
	})
}

// UpdateAccessPointPolicy replaces an access point's policy ("" for none).
func (c *Client) UpdateAccessPointPolicy(ctx context.Context, name, policy string) (*wormvaultv1.AccessPoint, error) {
	resp, err := c.AccessPoints().UpdateAccessPointPolicy(ctx, &wormvaultv1.UpdateAccessPointPolicyRequest{Name: name, Policy: policy})
	return resp.GetAccessPoint(), convertError(err)
}

// DeleteAccessPoint deletes an access point; its vault stays.
func (c *Client) DeleteAccessPoint(ctx context.Context, name string) error {
	_, err := c.AccessPoints().DeleteAccessPoint(ctx, &wormvaultv1.DeleteAccessPointRequest{Name: name})
	return convertError(err)
}

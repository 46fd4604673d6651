package client

import (
	"context"
	"iter"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// Stat returns one version's metadata; an empty versionID means the latest.
func (c *Client) Stat(ctx context.Context, vault, key, versionID string) (*wormvaultv1.Archive, error) {
	resp, err := retry(ctx, c, func(ctx context.Context) (*wormvaultv1.GetArchiveResponse, error) {
		return c.archives.GetArchive(ctx, &wormvaultv1.GetArchiveRequest{Vault: vault, Key: key, VersionId: versionID})
	})
	return resp.GetArchive(), err
}

// List iterates over the archives of vault whose keys start with prefix, in
// key order. With allVersions it yields every version and delete marker,
// newest first per key. Pages are fetched as the iteration goes.
func (c *Client) List(ctx context.Context, vault, prefix string, allVersions bool) iter.Seq2[*wormvaultv1.Archive, error] {
	return pages(ctx, c, func(ctx context.Context, token string) ([]*wormvaultv1.Archive, string, error) {
		resp, err := c.archives.ListArchives(ctx, &wormvaultv1.ListArchivesRequest{
			Vault: vault, Prefix: prefix, AllVersions: allVersions, PageSize: c.pageSize, PageToken: token,
		})
		return resp.GetArchives(), resp.GetNextPageToken(), err
	})
}

// Delete adds a delete marker to vault/key, or with a versionID permanently
// removes that version if nothing protects it. bypass asks to bypass
// GOVERNANCE retention.
func (c *Client) Delete(ctx context.Context, vault, key, versionID string, bypass bool) (*wormvaultv1.DeleteArchiveResponse, error) {
	resp, err := c.archives.DeleteArchive(ctx, &wormvaultv1.DeleteArchiveRequest{
		Vault: vault, Key: key, VersionId: versionID, BypassGovernanceRetention: bypass,
	})
	return resp, convertError(err)
}

// SetRetention sets or changes a version's retention; the zero Retention
// removes it (a governance bypass only). An empty versionID means the latest.
// WithChangeReceipt keeps the server's signed receipt of the change.
func (c *Client) SetRetention(ctx context.Context, vault, key, versionID string, r wormvault.Retention, bypass bool, opts ...ChangeOption) (*wormvaultv1.Archive, error) {
	resp, err := c.archives.SetRetention(ctx, &wormvaultv1.SetRetentionRequest{
		Vault: vault, Key: key, VersionId: versionID, Retention: RetentionToProto(r), BypassGovernanceRetention: bypass,
	})
	if err != nil {
		return nil, convertError(err)
	}
	keepReceipt(opts, resp.GetReceipt())
	return resp.GetArchive(), nil
}

// GetRetention returns a version's retention.
func (c *Client) GetRetention(ctx context.Context, vault, key, versionID string) (*wormvaultv1.GetRetentionResponse, error) {
	return retry(ctx, c, func(ctx context.Context) (*wormvaultv1.GetRetentionResponse, error) {
		return c.archives.GetRetention(ctx, &wormvaultv1.GetRetentionRequest{Vault: vault, Key: key, VersionId: versionID})
	})
}

// SetLegalHold places (on) or releases the legal hold holdID on a version;
// an empty holdID means wormvault.DefaultHoldID. WithChangeReceipt keeps the
// server's signed receipt of the change.
func (c *Client) SetLegalHold(ctx context.Context, vault, key, versionID string, on bool, holdID, reason string, opts ...ChangeOption) (*wormvaultv1.Archive, error) {
	resp, err := c.archives.SetLegalHold(ctx, &wormvaultv1.SetLegalHoldRequest{
		Vault: vault, Key: key, VersionId: versionID, LegalHold: on, HoldId: holdID, Reason: reason,
	})
	if err != nil {
		return nil, convertError(err)
	}
	keepReceipt(opts, resp.GetReceipt())
	return resp.GetArchive(), nil
}

// GetLegalHold lists the holds standing on a version.
func (c *Client) GetLegalHold(ctx context.Context, vault, key, versionID string) (*wormvaultv1.GetLegalHoldResponse, error) {
	return retry(ctx, c, func(ctx context.Context) (*wormvaultv1.GetLegalHoldResponse, error) {
		return c.archives.GetLegalHold(ctx, &wormvaultv1.GetLegalHoldRequest{Vault: vault, Key: key, VersionId: versionID})
	})
}

// ExplainProtection lists everything that stops a permanent delete of a
// version now, and when each ends.
func (c *Client) ExplainProtection(ctx context.Context, vault, key, versionID string) (*wormvaultv1.ExplainProtectionResponse, error) {
	return retry(ctx, c, func(ctx context.Context) (*wormvaultv1.ExplainProtectionResponse, error) {
		return c.archives.ExplainProtection(ctx, &wormvaultv1.ExplainProtectionRequest{Vault: vault, Key: key, VersionId: versionID})
	})
}

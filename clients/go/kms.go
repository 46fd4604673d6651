package client

import (
	"context"
	"iter"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// The built-in KMS (KeyService). A KMS key's material never leaves the
// server; Upload with WithKMSKey encrypts an archive under it, and a
// vault created WithDefaultEncryptionKMS does so for every upload that
// asks for nothing else.

// Keys returns the raw KeyService stub.
func (c *Client) Keys() wormvaultv1.KeyServiceClient { return wormvaultv1.NewKeyServiceClient(c.conn) }

// CreateKey creates an enabled KMS key. Names follow the vault-name rules
// and are never reused, even after deletion.
func (c *Client) CreateKey(ctx context.Context, name, description string) (*wormvaultv1.Key, error) {
	resp, err := c.Keys().CreateKey(ctx, &wormvaultv1.CreateKeyRequest{Name: name, Description: description})
	return resp.GetKey(), convertError(err)
}

// GetKey returns one KMS key as it stands now.
func (c *Client) GetKey(ctx context.Context, name string) (*wormvaultv1.Key, error) {
	resp, err := retry(ctx, c, func(ctx context.Context) (*wormvaultv1.GetKeyResponse, error) {
		return c.Keys().GetKey(ctx, &wormvaultv1.GetKeyRequest{Name: name})
	})
	return resp.GetKey(), err
}

// ListKeys iterates over every KMS key in name order, fetching pages as it
// goes. An error ends the iteration.
func (c *Client) ListKeys(ctx context.Context) iter.Seq2[*wormvaultv1.Key, error] {
	return pages(ctx, c, func(ctx context.Context, token string) ([]*wormvaultv1.Key, string, error) {
		resp, err := c.Keys().ListKeys(ctx, &wormvaultv1.ListKeysRequest{PageSize: c.pageSize, PageToken: token})
		return resp.GetKeys(), resp.GetNextPageToken(), err
	})
}

// DisableKey makes a key unusable (its archives unreadable) for days days,
// or until EnableKey when days is 0. While the key encrypts a version
// under retention or legal hold, days must be 1 to 30 (else
// wormvault.ErrKMSKeyProtectsLocked).
func (c *Client) DisableKey(ctx context.Context, name string, days int32) (*wormvaultv1.Key, error) {
	resp, err := c.Keys().DisableKey(ctx, &wormvaultv1.DisableKeyRequest{Name: name, DisableDays: days})
	return resp.GetKey(), convertError(err)
}

// EnableKey ends a key's disable.
func (c *Client) EnableKey(ctx context.Context, name string) (*wormvaultv1.Key, error) {
	resp, err := c.Keys().EnableKey(ctx, &wormvaultv1.EnableKeyRequest{Name: name})
	return resp.GetKey(), convertError(err)
}

// RotateKey gives a key a new current version of material; archives of
// the older versions stay readable.
func (c *Client) RotateKey(ctx context.Context, name string) (*wormvaultv1.Key, error) {
	resp, err := c.Keys().RotateKey(ctx, &wormvaultv1.RotateKeyRequest{Name: name})
	return resp.GetKey(), convertError(err)
}

// ScheduleKeyDeletion makes a key unusable now and deletes its material
// after pendingDays (7 to 30), refused while it encrypts a version under
// retention or legal hold.
func (c *Client) ScheduleKeyDeletion(ctx context.Context, name string, pendingDays int32) (*wormvaultv1.Key, error) {
	resp, err := c.Keys().ScheduleKeyDeletion(ctx, &wormvaultv1.ScheduleKeyDeletionRequest{Name: name, PendingDays: pendingDays})
	return resp.GetKey(), convertError(err)
}

// CancelKeyDeletion returns a key pending deletion to its state before.
func (c *Client) CancelKeyDeletion(ctx context.Context, name string) (*wormvaultv1.Key, error) {
	resp, err := c.Keys().CancelKeyDeletion(ctx, &wormvaultv1.CancelKeyDeletionRequest{Name: name})
	return resp.GetKey(), convertError(err)
}

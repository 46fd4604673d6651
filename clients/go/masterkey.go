package client

import (
	"context"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// RotateMasterKey replaces the server's master key: every key wrapped
// under it is re-wrapped under a new one, without rewriting archive data,
// and the old key is kept in the returned OldKeyFile for the operator to
// destroy. Root only. It is not retried: a rotation cut short is finished
// by calling it again (the response then says Resumed) or by a restart.
func (c *Client) RotateMasterKey(ctx context.Context) (*wormvaultv1.RotateMasterKeyResponse, error) {
	resp, err := c.admin.RotateMasterKey(ctx, &wormvaultv1.RotateMasterKeyRequest{})
	return resp, convertError(err)
}

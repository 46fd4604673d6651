package client

import (
	"context"
	"errors"
	"io"
	"iter"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// StorageStatus reports every drive's health.
func (c *Client) StorageStatus(ctx context.Context) (*wormvaultv1.GetStorageStatusResponse, error) {
	return retry(ctx, c, func(ctx context.Context) (*wormvaultv1.GetStorageStatusResponse, error) {
		return c.admin.GetStorageStatus(ctx, &wormvaultv1.GetStorageStatusRequest{})
	})
}

// Heal rewrites missing or corrupt shards of vault (every vault when empty)
// and yields the server's progress reports; the last one has Done set. An
// error ends the iteration; breaking out of the loop cancels the heal stream.
func (c *Client) Heal(ctx context.Context, vault string) iter.Seq2[*wormvaultv1.HealResponse, error] {
	return func(yield func(*wormvaultv1.HealResponse, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := c.admin.Heal(ctx, &wormvaultv1.HealRequest{Vault: vault})
		if err != nil {
			yield(nil, convertError(err))
			return
		}
		for {
			msg, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(nil, convertError(err))
				return
			}
			if !yield(msg, nil) {
				return
			}
		}
	}
}

// Scrub verifies every block of every archive now, heals what it can and
// returns the fixity report it recorded (root only). bytesPerSecond caps the
// shard bytes read per second; 0 means unlimited. It is not retried.
func (c *Client) Scrub(ctx context.Context, bytesPerSecond int64) (*wormvaultv1.FixityReport, error) {
	resp, err := c.admin.Scrub(ctx, &wormvaultv1.ScrubRequest{BytesPerSecond: bytesPerSecond})
	if err != nil {
		return nil, convertError(err)
	}
	return resp.GetReport(), nil
}

// FixityReports returns up to pageSize of the latest scrub reports, newest
// first; 0 leaves the count to the server.
func (c *Client) FixityReports(ctx context.Context, pageSize int32) ([]*wormvaultv1.FixityReport, error) {
	resp, err := retry(ctx, c, func(ctx context.Context) (*wormvaultv1.ListFixityReportsResponse, error) {
		return c.admin.ListFixityReports(ctx, &wormvaultv1.ListFixityReportsRequest{PageSize: pageSize})
	})
	return resp.GetReports(), err
}

// ClockStatus reports whether the server trusts its clock.
func (c *Client) ClockStatus(ctx context.Context) (*wormvaultv1.GetClockStatusResponse, error) {
	return retry(ctx, c, func(ctx context.Context) (*wormvaultv1.GetClockStatusResponse, error) {
		return c.admin.GetClockStatus(ctx, &wormvaultv1.GetClockStatusRequest{})
	})
}

// AcknowledgeClock accepts the current wall-clock time after a forward jump
// (root only) and returns the clock status that results.
func (c *Client) AcknowledgeClock(ctx context.Context) (*wormvaultv1.GetClockStatusResponse, error) {
	resp, err := c.admin.AcknowledgeClock(ctx, &wormvaultv1.AcknowledgeClockRequest{})
	if err != nil {
		return nil, convertError(err)
	}
	return resp.GetStatus(), nil
}

package client

import (
	"context"
	"iter"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// AuditFilter selects audit events; the zero value selects every event.
type AuditFilter struct {
	// Since (inclusive) and Until (exclusive) bound the event time; zero
	// means unbounded.
	Since, Until time.Time
	// Vault and Kind, when set, must match exactly. Kinds are the
	// vault/audit Kind constants, such as "RETENTION_SET".
	Vault, Kind string
}

// ListAuditEvents iterates over the audit events f selects, in sequence
// order, fetching pages as it goes. Needs wormvault:ListAuditEvents.
func (c *Client) ListAuditEvents(ctx context.Context, f AuditFilter) iter.Seq2[*wormvaultv1.AuditEvent, error] {
	req := &wormvaultv1.ListAuditEventsRequest{Vault: f.Vault, Kind: f.Kind, PageSize: c.pageSize}
	if !f.Since.IsZero() {
		req.Since = timestamppb.New(f.Since)
	}
	if !f.Until.IsZero() {
		req.Until = timestamppb.New(f.Until)
	}
	return pages(ctx, c, func(ctx context.Context, token string) ([]*wormvaultv1.AuditEvent, string, error) {
		r := &wormvaultv1.ListAuditEventsRequest{Since: req.Since, Until: req.Until, Vault: req.Vault, Kind: req.Kind, PageSize: req.PageSize, PageToken: token}
		resp, err := c.audits.ListAuditEvents(ctx, r)
		return resp.GetEvents(), resp.GetNextPageToken(), err
	})
}

// VerifyAuditTrail has the server walk the whole audit trail, checking
// every digest, link and checkpoint. A trail that does not verify is a
// response with Ok false (FirstBadSequence and Reason say where and why),
// not an error. Needs wormvault:VerifyAuditTrail.
func (c *Client) VerifyAuditTrail(ctx context.Context) (*wormvaultv1.VerifyAuditTrailResponse, error) {
	return retry(ctx, c, func(ctx context.Context) (*wormvaultv1.VerifyAuditTrailResponse, error) {
		return c.audits.VerifyAuditTrail(ctx, &wormvaultv1.VerifyAuditTrailRequest{})
	})
}

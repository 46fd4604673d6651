package server

import (
	"context"
	"strconv"
	"time"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/receipt"
	"github.com/wormvault/wormvault/vault"
	"github.com/wormvault/wormvault/vault/audit"
)

// auditCheckpointEvery is how often the background signs the trail's head.
const auditCheckpointEvery = 10 * time.Minute

// auditService implements wormvaultv1.AuditServiceServer.
type auditService struct {
	wormvaultv1.UnimplementedAuditServiceServer
	store *vault.Store
}

func (a *auditService) ListAuditEvents(ctx context.Context, req *wormvaultv1.ListAuditEventsRequest) (*wormvaultv1.ListAuditEventsResponse, error) {
	if err := a.store.AuthorizeGlobal(callerOf(ctx), "ListAuditEvents"); err != nil {
		return nil, err
	}
	if req.GetPageSize() < 0 {
		return nil, wormvault.InvalidArgument("page_size", "must not be negative")
	}
	f := audit.Filter{Vault: req.GetVault(), Kind: req.GetKind(), Limit: int(req.GetPageSize())}
	if req.GetSince() != nil {
		f.Since = req.GetSince().AsTime()
	}
	if req.GetUntil() != nil {
		f.Until = req.GetUntil().AsTime()
	}
	if t := req.GetPageToken(); t != "" {
		after, err := strconv.ParseUint(t, 10, 64)
		if err != nil || after == 0 {
			return nil, wormvault.InvalidArgument("page_token", "not a token this server issued")
		}
		f.After = after
	}
	evs, next, err := a.store.AuditTrail().List(ctx, f)
	if err != nil {
		return nil, err
	}
	resp := &wormvaultv1.ListAuditEventsResponse{}
	for _, ev := range evs {
		resp.Events = append(resp.Events, auditEventToProto(ev))
	}
	if next != 0 {
		resp.NextPageToken = strconv.FormatUint(next, 10)
	}
	return resp, nil
}

func (a *auditService) VerifyAuditTrail(ctx context.Context, _ *wormvaultv1.VerifyAuditTrailRequest) (*wormvaultv1.VerifyAuditTrailResponse, error) {
	if err := a.store.AuthorizeGlobal(callerOf(ctx), "VerifyAuditTrail"); err != nil {
		return nil, err
	}
	r, err := a.store.AuditTrail().Verify(ctx)
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.VerifyAuditTrailResponse{EventsChecked: r.EventsChecked, Ok: r.OK, FirstBadSequence: r.FirstBadSequence, Reason: r.Reason}, nil
}

// GetReceiptKey publishes the public key that signs receipts. A public
// key is no secret: any authenticated caller may fetch it, with no policy
// check, so whoever holds a receipt can verify it.
func (a *auditService) GetReceiptKey(context.Context, *wormvaultv1.GetReceiptKeyRequest) (*wormvaultv1.GetReceiptKeyResponse, error) {
	pub, id := a.store.ReceiptKey()
	return &wormvaultv1.GetReceiptKeyResponse{PublicKey: pub, KeyId: id, Algorithm: receipt.Algorithm}, nil
}

func auditEventToProto(ev *recordv1.AuditEvent) *wormvaultv1.AuditEvent {
	return &wormvaultv1.AuditEvent{
		Sequence:   ev.GetSequence(),
		Time:       ev.GetTime(),
		Kind:       ev.GetKind(),
		Principal:  ev.GetPrincipal(),
		Vault:      ev.GetVault(),
		Key:        ev.GetKey(),
		VersionId:  ev.GetVersionId(),
		Details:    ev.GetDetails(),
		PrevSha256: ev.GetPrevSha256(),
		Sha256:     ev.GetSha256(),
	}
}

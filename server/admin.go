package server

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/vault"
	"github.com/wormvault/wormvault/vault/audit"
)

// adminService implements wormvaultv1.AdminServiceServer.
type adminService struct {
	wormvaultv1.UnimplementedAdminServiceServer
	store *vault.Store
}

func requireRoot(ctx context.Context, action string) error {
	if !callerOf(ctx).Root {
		return fmt.Errorf("%w: only root may %s", wormvault.ErrPermissionDenied, action)
	}
	return nil
}

func (a *adminService) GetClockStatus(ctx context.Context, _ *wormvaultv1.GetClockStatusRequest) (*wormvaultv1.GetClockStatusResponse, error) {
	if err := a.store.AuthorizeGlobal(callerOf(ctx), "GetClockStatus"); err != nil {
		return nil, err
	}
	return clockStatusToProto(a.store.Clock().Status()), nil
}

func (a *adminService) AcknowledgeClock(ctx context.Context, _ *wormvaultv1.AcknowledgeClockRequest) (*wormvaultv1.AcknowledgeClockResponse, error) {
	if err := requireRoot(ctx, "acknowledge the clock"); err != nil {
		return nil, err
	}
	ack, err := a.store.Clock().Acknowledge()
	if err != nil {
		return nil, err
	}
	if err := a.store.RecordAudit(ctx, &recordv1.AuditEvent{Kind: audit.KindClockAcknowledged, Principal: callerOf(ctx).Principal, Details: map[string]string{
		"was_untrusted": strconv.FormatBool(ack.WasUntrusted), "reason": ack.Reason,
		"from": ack.From.UTC().Format(time.RFC3339Nano), "to": ack.To.UTC().Format(time.RFC3339Nano),
	}}); err != nil {
		return nil, err
	}
	return &wormvaultv1.AcknowledgeClockResponse{Status: clockStatusToProto(a.store.Clock().Status())}, nil
}

// RotateMasterKey runs to the end even if the caller goes away: a
// rotation cut short is finished by the next call or restart, but until
// then the server keeps the old key in use beside the new one.
func (a *adminService) RotateMasterKey(ctx context.Context, _ *wormvaultv1.RotateMasterKeyRequest) (*wormvaultv1.RotateMasterKeyResponse, error) {
	rep, err := a.store.RotateMasterKey(context.WithoutCancel(ctx), callerOf(ctx))
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.RotateMasterKeyResponse{
		RewrappedVersions:   int64(rep.RewrappedVersions),
		RewrappedKmsKeys:    int64(rep.RewrappedKMSKeys),
		RewrappedMfaDevices: int64(rep.RewrappedMFADevices),
		SkippedVersions:     rep.SkippedVersions,
		OldKeyId:            rep.OldKeyID,
		NewKeyId:            rep.NewKeyID,
		OldKeyFile:          rep.OldKeyFile,
		Resumed:             rep.Resumed,
	}, nil
}

func (a *adminService) GetStorageStatus(ctx context.Context, _ *wormvaultv1.GetStorageStatusRequest) (*wormvaultv1.GetStorageStatusResponse, error) {
	if err := a.store.AuthorizeGlobal(callerOf(ctx), "GetStorageStatus"); err != nil {
		return nil, err
	}
	st := a.store.StorageStatus(ctx)
	resp := &wormvaultv1.GetStorageStatusResponse{DataShards: int32(st.DataShards), ParityShards: int32(st.ParityShards), HealPending: int64(st.HealPending)}
	for _, d := range st.Drives {
		ds := &wormvaultv1.DriveStatus{
			Path:               d.Name,
			Online:             d.Online,
			UsedBytes:          int64(d.UsedBytes()),
			FreeBytes:          int64(d.FreeBytes),
			CorruptBlocksFound: d.CorruptBlocks,
			BlocksHealed:       d.HealedShards,
			MissingShards:      d.MissingShards,
			RebuiltBlocks:      d.RebuiltBlocks,
			ReadErrors:         d.ReadErrors,
		}
		if d.Err != nil {
			ds.Error = d.Err.Error()
		}
		resp.Drives = append(resp.Drives, ds)
	}
	return resp, nil
}

func (a *adminService) Heal(req *wormvaultv1.HealRequest, stream wormvaultv1.AdminService_HealServer) error {
	ctx := stream.Context()
	if err := a.store.AuthorizeGlobal(callerOf(ctx), "Heal"); err != nil {
		return err
	}
	toProto := func(p vault.HealProgress, done bool) *wormvaultv1.HealResponse {
		return &wormvaultv1.HealResponse{ArchivesChecked: p.Checked, ArchivesHealed: p.Healed, ShardsRewritten: p.ShardsRewritten,
			ArchivesUnrecoverable: p.Unrecoverable, CurrentKey: p.Current, Done: done}
	}
	last := time.Now()
	final, err := a.store.HealAll(ctx, req.GetVault(), func(p vault.HealProgress) {
		if time.Since(last) >= 500*time.Millisecond {
			last = time.Now()
			stream.Send(toProto(p, false))
		}
	})
	if err != nil {
		return err
	}
	return stream.Send(toProto(final, true))
}

func (a *adminService) ListFixityReports(ctx context.Context, req *wormvaultv1.ListFixityReportsRequest) (*wormvaultv1.ListFixityReportsResponse, error) {
	if err := a.store.AuthorizeGlobal(callerOf(ctx), "ListFixityReports"); err != nil {
		return nil, err
	}
	n := int(req.GetPageSize())
	switch {
	case n < 0:
		return nil, wormvault.InvalidArgument("page_size", "must not be negative")
	case n == 0:
		n = 10
	case n > maxPageSize:
		return nil, wormvault.InvalidArgument("page_size", "at most %d", maxPageSize)
	}
	reps, err := a.store.FixityReports(ctx, n)
	if err != nil {
		return nil, err
	}
	resp := &wormvaultv1.ListFixityReportsResponse{}
	for _, r := range reps {
		resp.Reports = append(resp.Reports, &wormvaultv1.FixityReport{
			StartTime:             r.GetStartTime(),
			EndTime:               r.GetEndTime(),
			ArchivesChecked:       r.GetArchivesChecked(),
			BytesVerified:         r.GetBytesVerified(),
			CorruptBlocksFound:    r.GetCorruptBlocksFound(),
			CorruptBlocksHealed:   r.GetShardsHealed(),
			UnrecoverableArchives: r.GetUnrecoverable(),
			MissingShardsFound:    r.GetMissingShardsFound(),
			Failed:                r.GetFailed(),
		})
	}
	return resp, nil
}

func (a *adminService) Scrub(ctx context.Context, req *wormvaultv1.ScrubRequest) (*wormvaultv1.ScrubResponse, error) {
	if err := a.store.AuthorizeGlobal(callerOf(ctx), "Scrub"); err != nil {
		return nil, err
	}
	if req.GetBytesPerSecond() < 0 {
		return nil, wormvault.InvalidArgument("bytes_per_second", "must not be negative")
	}
	if _, err := a.store.Scrub(ctx, req.GetBytesPerSecond()); err != nil {
		return nil, err
	}
	out, err := a.ListFixityReports(ctx, &wormvaultv1.ListFixityReportsRequest{PageSize: 1})
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.ScrubResponse{Report: out.GetReports()[0]}, nil
}

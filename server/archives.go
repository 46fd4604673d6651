package server

import (
	"context"
	"errors"
	"io"
	"sync"

	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/receipt"
	"github.com/wormvault/wormvault/vault"
)

// MaxChunkSize is the largest chunk an upload message may carry.
const MaxChunkSize = 4 << 20

// downloadChunk is the chunk size of download responses.
const downloadChunk = 1 << 20

// archiveService implements wormvaultv1.ArchiveServiceServer.
type archiveService struct {
	wormvaultv1.UnimplementedArchiveServiceServer
	store *vault.Store
	crash crashPoint
}

func (a *archiveService) UploadArchive(stream wormvaultv1.ArchiveService_UploadArchiveServer) error {
	ctx := stream.Context()
	framing := newUploadFraming(MaxChunkSize, MaxUploadSize)
	h, err := receiveHeader(stream.Recv, framing)
	if err != nil {
		return err
	}
	ret, err := retentionFromProto("header.retention", h.GetRetention())
	if err != nil {
		return err
	}
	req := vault.UploadRequest{
		Vault:          h.GetVault(),
		Key:            h.GetKey(),
		ContentType:    h.GetContentType(),
		Metadata:       h.GetMetadata(),
		ExpectedSHA256: h.GetExpectedSha256(),
		Retention:      ret,
		LegalHold:      h.GetLegalHold(),
		Encryption:     vault.EncryptionMode(h.GetEncryption().GetMode()),
		KMSKey:         h.GetEncryption().GetKmsKey(),
		CustomerKey:    customerKeyOf(ctx),
	}
	defer req.CustomerKey.Wipe()
	body := &chunkReader{recv: stream.Recv, framing: framing}
	// Policies see the encryption asked for, before the vault default.
	caller := callerOf(ctx)
	caller.Encryption = encryptionFact(h.GetEncryption().GetMode())
	out, err := a.store.Upload(ctx, caller, req, body)
	if err != nil {
		// A framing error found while reading the body is the caller's
		// fault; report it rather than the wrapped upload failure.
		if body.err != nil && !errors.Is(body.err, io.EOF) {
			return body.err
		}
		return err
	}
	resp := preparedUploadResponse(ctx, out)
	if resp == nil {
		if resp, err = uploadResponse(a.store, out); err != nil {
			return err
		}
	}
	a.crash.at(CrashBeforeResponse)
	return stream.SendAndClose(resp)
}

// uploadResponse is the response to the upload that created a, with its
// signed receipt.
func uploadResponse(store *vault.Store, a *vault.Archive) (*wormvaultv1.UploadArchiveResponse, error) {
	rcpt, err := store.Receipt(receipt.OpUpload, a)
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.UploadArchiveResponse{Archive: archiveToProto(a), Receipt: receiptToProto(rcpt)}, nil
}

var chunkPool = sync.Pool{New: func() any { b := make([]byte, downloadChunk); return &b }}

func (a *archiveService) DownloadArchive(req *wormvaultv1.DownloadArchiveRequest, stream wormvaultv1.ArchiveService_DownloadArchiveServer) error {
	ctx := stream.Context()
	ck := customerKeyOf(ctx)
	defer ck.Wipe()
	ar, rc, err := a.store.DownloadArchive(ctx, callerOf(ctx), vault.ReadRequest{
		Vault: req.GetVault(), Key: req.GetKey(), VersionID: req.GetVersionId(), Offset: req.GetOffset(), Length: req.GetLength(), CustomerKey: ck,
		IfRangeSHA256: req.GetIfRangeSha256(),
	})
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := stream.Send(&wormvaultv1.DownloadArchiveResponse{Data: &wormvaultv1.DownloadArchiveResponse_Archive{Archive: archiveToProto(ar)}}); err != nil {
		return err
	}
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	buf := *bp
	for {
		n, rerr := io.ReadFull(rc, buf)
		if n > 0 {
			if err := stream.Send(&wormvaultv1.DownloadArchiveResponse{Data: &wormvaultv1.DownloadArchiveResponse_Chunk{Chunk: buf[:n]}}); err != nil {
				return err
			}
		}
		switch {
		case rerr == io.EOF || rerr == io.ErrUnexpectedEOF:
			return nil
		case rerr != nil:
			return rerr
		}
	}
}

func (a *archiveService) GetArchive(ctx context.Context, req *wormvaultv1.GetArchiveRequest) (*wormvaultv1.GetArchiveResponse, error) {
	ck := customerKeyOf(ctx)
	defer ck.Wipe()
	out, err := a.store.StatArchive(ctx, callerOf(ctx), vault.ReadRequest{Vault: req.GetVault(), Key: req.GetKey(), VersionID: req.GetVersionId(), CustomerKey: ck})
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.GetArchiveResponse{Archive: archiveToProto(out)}, nil
}

func (a *archiveService) ListArchives(ctx context.Context, req *wormvaultv1.ListArchivesRequest) (*wormvaultv1.ListArchivesResponse, error) {
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, err
	}
	list, next, err := a.store.ListArchives(ctx, callerOf(ctx), vault.ListQuery{
		Vault: req.GetVault(), Prefix: req.GetPrefix(), AllVersions: req.GetAllVersions(), PageSize: size, PageToken: req.GetPageToken(),
	})
	if err != nil {
		return nil, err
	}
	resp := &wormvaultv1.ListArchivesResponse{NextPageToken: next}
	for _, x := range list {
		resp.Archives = append(resp.Archives, archiveToProto(x))
	}
	return resp, nil
}

func (a *archiveService) DeleteArchive(ctx context.Context, req *wormvaultv1.DeleteArchiveRequest) (*wormvaultv1.DeleteArchiveResponse, error) {
	out, err := a.store.DeleteArchive(ctx, callerOf(ctx), req.GetVault(), req.GetKey(), req.GetVersionId(), req.GetBypassGovernanceRetention())
	if err != nil {
		return nil, err
	}
	a.crash.at(CrashBeforeResponse)
	return &wormvaultv1.DeleteArchiveResponse{VersionId: out.VersionID, DeleteMarker: out.DeleteMarker}, nil
}

func (a *archiveService) SetRetention(ctx context.Context, req *wormvaultv1.SetRetentionRequest) (*wormvaultv1.SetRetentionResponse, error) {
	r, err := retentionFromProto("retention", req.GetRetention())
	if err != nil {
		return nil, err
	}
	out, err := a.store.SetRetention(ctx, callerOf(ctx), req.GetVault(), req.GetKey(), req.GetVersionId(), r, req.GetBypassGovernanceRetention())
	if err != nil {
		return nil, err
	}
	rcpt, err := a.store.Receipt(receipt.OpRetention, out)
	if err != nil {
		return nil, err
	}
	a.crash.at(CrashBeforeResponse)
	return &wormvaultv1.SetRetentionResponse{Archive: archiveToProto(out), Receipt: receiptToProto(rcpt)}, nil
}

func (a *archiveService) GetRetention(ctx context.Context, req *wormvaultv1.GetRetentionRequest) (*wormvaultv1.GetRetentionResponse, error) {
	ar, r, err := a.store.GetRetention(ctx, callerOf(ctx), req.GetVault(), req.GetKey(), req.GetVersionId())
	if err != nil {
		return nil, err
	}
	return &wormvaultv1.GetRetentionResponse{Retention: retentionToProto(r), VersionId: ar.Record.GetVersionId()}, nil
}

func (a *archiveService) SetLegalHold(ctx context.Context, req *wormvaultv1.SetLegalHoldRequest) (*wormvaultv1.SetLegalHoldResponse, error) {
	out, err := a.store.SetLegalHold(ctx, callerOf(ctx), req.GetVault(), req.GetKey(), req.GetVersionId(), req.GetLegalHold(), req.GetHoldId(), req.GetReason())
	if err != nil {
		return nil, err
	}
	rcpt, err := a.store.Receipt(receipt.OpLegalHold, out)
	if err != nil {
		return nil, err
	}
	a.crash.at(CrashBeforeResponse)
	return &wormvaultv1.SetLegalHoldResponse{Archive: archiveToProto(out), Receipt: receiptToProto(rcpt)}, nil
}

func (a *archiveService) GetLegalHold(ctx context.Context, req *wormvaultv1.GetLegalHoldRequest) (*wormvaultv1.GetLegalHoldResponse, error) {
	ar, err := a.store.GetLegalHold(ctx, callerOf(ctx), req.GetVault(), req.GetKey(), req.GetVersionId())
	if err != nil {
		return nil, err
	}
	holds := holdsToProto(ar.Record.GetLegalHolds())
	return &wormvaultv1.GetLegalHoldResponse{LegalHold: len(holds) > 0, Holds: holds, VersionId: ar.Record.GetVersionId()}, nil
}

func (a *archiveService) ExplainProtection(ctx context.Context, req *wormvaultv1.ExplainProtectionRequest) (*wormvaultv1.ExplainProtectionResponse, error) {
	ar, prot, err := a.store.ExplainProtection(ctx, callerOf(ctx), req.GetVault(), req.GetKey(), req.GetVersionId())
	if err != nil {
		return nil, err
	}
	resp := &wormvaultv1.ExplainProtectionResponse{VersionId: ar.Record.GetVersionId(), Deletable: len(prot) == 0}
	for _, p := range prot {
		resp.Protections = append(resp.Protections, protectionToProto(p))
	}
	return resp, nil
}

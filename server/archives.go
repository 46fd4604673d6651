package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
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
}

func (a *archiveService) UploadArchive(stream wormvaultv1.ArchiveService_UploadArchiveServer) error {
	ctx := stream.Context()
	first, err := stream.Recv()
	if err == io.EOF {
		return wormvault.InvalidArgument("header", "the stream ended before the header")
	}
	if err != nil {
		return err
	}
	h := first.GetHeader()
	if h == nil {
		return wormvault.InvalidArgument("header", "the first message must be the header, not a chunk")
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
	}
	body := &chunkReader{stream: stream}
	out, err := a.store.Upload(ctx, callerOf(ctx), req, body)
	if err != nil {
		// A framing error found while reading the body is the caller's
		// fault; report it rather than the wrapped upload failure.
		if body.err != nil && !errors.Is(body.err, io.EOF) {
			return body.err
		}
		return err
	}
	return stream.SendAndClose(&wormvaultv1.UploadArchiveResponse{Archive: archiveToProto(out)})
}

// chunkReader turns the chunk messages of an upload into an io.Reader. It
// rejects a second header and oversized chunks.
type chunkReader struct {
	stream wormvaultv1.ArchiveService_UploadArchiveServer
	buf    []byte
	err    error
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		msg, err := c.stream.Recv()
		if err != nil {
			c.err = err
			if err != io.EOF {
				c.err = fmt.Errorf("%w: upload stream broke: %w", wormvault.ErrAborted, err)
			}
			return 0, c.err
		}
		switch d := msg.GetData().(type) {
		case *wormvaultv1.UploadArchiveRequest_Chunk:
			if len(d.Chunk) > MaxChunkSize {
				c.err = wormvault.InvalidArgument("chunk", "chunks may be at most %d bytes, got %d", MaxChunkSize, len(d.Chunk))
				return 0, c.err
			}
			c.buf = d.Chunk
		case *wormvaultv1.UploadArchiveRequest_Header:
			c.err = wormvault.InvalidArgument("header", "only the first message may be a header")
			return 0, c.err
		default:
			c.err = wormvault.InvalidArgument("data", "message carries neither header nor chunk")
			return 0, c.err
		}
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

var chunkPool = sync.Pool{New: func() any { b := make([]byte, downloadChunk); return &b }}

func (a *archiveService) DownloadArchive(req *wormvaultv1.DownloadArchiveRequest, stream wormvaultv1.ArchiveService_DownloadArchiveServer) error {
	ctx := stream.Context()
	ar, rc, err := a.store.Download(ctx, callerOf(ctx), req.GetVault(), req.GetKey(), req.GetVersionId(), req.GetOffset(), req.GetLength())
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
	out, err := a.store.GetArchive(ctx, callerOf(ctx), req.GetVault(), req.GetKey(), req.GetVersionId())
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
	return &wormvaultv1.SetRetentionResponse{Archive: archiveToProto(out)}, nil
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
	return &wormvaultv1.SetLegalHoldResponse{Archive: archiveToProto(out)}, nil
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

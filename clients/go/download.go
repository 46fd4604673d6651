package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"hash"
	"io"

	"google.golang.org/grpc"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// DownloadOption configures Download.
type DownloadOption func(*downloadOptions)

type downloadOptions struct {
	req *wormvaultv1.DownloadArchiveRequest
	// clientKey, set by DecryptWithClientKey (cse.go), decrypts on the client.
	clientKey *ClientKey
	// customerKey, set by ReadWithCustomerKey (ssec.go), is sent for SSE-C.
	customerKey []byte
}

// WithVersion reads the given version instead of the latest.
func WithVersion(versionID string) DownloadOption {
	return func(o *downloadOptions) { o.req.VersionId = versionID }
}

// WithRange reads length bytes starting at offset; length 0 reads to the end.
func WithRange(offset, length int64) DownloadOption {
	return func(o *downloadOptions) { o.req.Offset, o.req.Length = offset, length }
}

// errReaderClosed is returned by Read after Close.
var errReaderClosed = errorf("download: read after Close")

// Download opens vault/key for reading. It returns the version's metadata and
// a reader of its bytes, which the caller must Close. For a full read the
// reader verifies the SHA-256 at the end and returns an error wrapping
// wormvault.ErrDataLoss instead of io.EOF when the bytes do not match.
//
// Opening is retried on Unavailable; once the metadata has arrived nothing is
// retried. With DecryptWithClientKey the reader returns the plaintext of a
// client-side encrypted archive.
func (c *Client) Download(ctx context.Context, vault, key string, opts ...DownloadOption) (_ *wormvaultv1.Archive, _ io.ReadCloser, err error) {
	o := downloadOptions{req: &wormvaultv1.DownloadArchiveRequest{Vault: vault, Key: key}}
	for _, opt := range opts {
		opt(&o)
	}
	if o.customerKey != nil {
		creds, cerr := newCustomerKeyCreds(o.customerKey)
		if cerr != nil {
			return nil, nil, cerr
		}
		ctx = withCustomerKeyCreds(ctx, creds)
		defer func() { err = creds.check(err) }()
	}
	if o.clientKey != nil {
		return c.downloadDecrypted(ctx, o.req, o.clientKey)
	}
	return c.download(ctx, o.req)
}

// download opens the stream of req and reads its metadata.
func (c *Client) download(ctx context.Context, req *wormvaultv1.DownloadArchiveRequest) (*wormvaultv1.Archive, io.ReadCloser, error) {
	vault, key := req.GetVault(), req.GetKey()
	type opened struct {
		stream grpc.ServerStreamingClient[wormvaultv1.DownloadArchiveResponse]
		first  *wormvaultv1.DownloadArchiveResponse
		cancel context.CancelFunc
	}
	o, err := retry(ctx, c, func(ctx context.Context) (opened, error) {
		sctx, cancel := context.WithCancel(ctx)
		stream, err := c.archives.DownloadArchive(sctx, req, customerKeyOptions(ctx)...)
		if err != nil {
			cancel()
			return opened{}, err
		}
		first, err := stream.Recv()
		if err != nil {
			cancel()
			if errors.Is(err, io.EOF) {
				err = errorf("download %s/%s: stream ended before the metadata: %w", vault, key, io.ErrUnexpectedEOF)
			}
			return opened{}, err
		}
		return opened{stream, first, cancel}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	a := o.first.GetArchive()
	if a == nil {
		o.cancel()
		return nil, nil, errorf("download %s/%s: first message carries no metadata", vault, key)
	}
	dr := &downloadReader{stream: o.stream, cancel: o.cancel, archive: a, req: req}
	if req.Offset == 0 && (req.Length == 0 || req.Length >= a.GetSizeBytes()) {
		dr.hash = sha256.New()
	}
	return a, dr, nil
}

// downloadReader reads the chunks of a download stream.
type downloadReader struct {
	stream  grpc.ServerStreamingClient[wormvaultv1.DownloadArchiveResponse]
	cancel  context.CancelFunc
	archive *wormvaultv1.Archive
	req     *wormvaultv1.DownloadArchiveRequest
	hash    hash.Hash // nil for a ranged read
	pending []byte
	n       int64
	err     error // sticky: io.EOF, a verification failure, or the stream's error
}

func (r *downloadReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		msg, err := r.stream.Recv()
		switch {
		case errors.Is(err, io.EOF):
			r.err = r.finish()
			r.cancel()
		case err != nil:
			r.err = convertError(err)
			r.cancel()
		case msg.GetArchive() != nil:
			r.err = errorf("download %s/%s: metadata arrived twice", r.req.Vault, r.req.Key)
			r.cancel()
		default:
			chunk := msg.GetChunk()
			if r.hash != nil {
				r.hash.Write(chunk)
			}
			r.n += int64(len(chunk))
			r.pending = chunk
		}
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

// finish checks the bytes received once the server has sent them all.
func (r *downloadReader) finish() error {
	a := r.archive
	if r.hash != nil {
		sum := r.hash.Sum(nil)
		if r.n != a.GetSizeBytes() || !bytes.Equal(sum, a.GetSha256()) {
			return errorf("download %s/%s version %s: received %d bytes with sha256 %x, want %d bytes with sha256 %x: %w",
				a.GetVault(), a.GetKey(), a.GetVersionId(), r.n, sum, a.GetSizeBytes(), a.GetSha256(), wormvault.ErrDataLoss)
		}
		return io.EOF
	}
	want := max(a.GetSizeBytes()-r.req.Offset, 0)
	if r.req.Length > 0 {
		want = min(want, r.req.Length)
	}
	if r.n != want {
		return errorf("download %s/%s version %s: range got %d bytes, want %d: %w",
			a.GetVault(), a.GetKey(), a.GetVersionId(), r.n, want, io.ErrUnexpectedEOF)
	}
	return io.EOF
}

// Close ends the stream. It is safe to call more than once.
func (r *downloadReader) Close() error {
	r.cancel()
	if r.err == nil {
		r.err = errReaderClosed
	}
	r.pending = nil
	return nil
}

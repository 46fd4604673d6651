package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"maps"
	"time"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// UploadOption configures Upload.
type UploadOption func(*uploadOptions)

type uploadOptions struct {
	header   wormvaultv1.ArchiveHeader
	progress func(n int64)
	receipt  *Receipt // WithReceipt
	// clientKey, set by WithClientKey (cse.go), encrypts on the client.
	clientKey *ClientKey
	// customerKey, set by WithCustomerKey (ssec.go), is sent for SSE-C.
	customerKey []byte
}

// WithContentType sets the archive's content type.
func WithContentType(ct string) UploadOption {
	return func(o *uploadOptions) { o.header.ContentType = ct }
}

// WithMetadata adds user metadata to the archive; later calls add to earlier
// ones.
func WithMetadata(md map[string]string) UploadOption {
	return func(o *uploadOptions) {
		if o.header.Metadata == nil {
			o.header.Metadata = make(map[string]string, len(md))
		}
		maps.Copy(o.header.Metadata, md)
	}
}

// WithRetention asks for an explicit retention instead of the vault default.
func WithRetention(mode wormvault.RetentionMode, until time.Time) UploadOption {
	return func(o *uploadOptions) {
		o.header.Retention = RetentionToProto(wormvault.Retention{Mode: mode, RetainUntil: until})
	}
}

// WithLegalHold places the "default" legal hold on the new version.
func WithLegalHold() UploadOption {
	return func(o *uploadOptions) { o.header.LegalHold = true }
}

// WithKMSKey encrypts the archive at rest under the server's KMS key name
// (ENCRYPTION_MODE_KMS) rather than the vault's default encryption.
// Reading it back needs the key enabled; every use is audited.
func WithKMSKey(name string) UploadOption {
	return func(o *uploadOptions) {
		o.header.Encryption = &wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_KMS, KmsKey: name}
	}
}

// WithExpectedSHA256 makes the server refuse the upload (nothing stored,
// wormvault.ErrChecksumMismatch) unless the bytes hash to sum.
func WithExpectedSHA256(sum []byte) UploadOption {
	return func(o *uploadOptions) { o.header.ExpectedSha256 = bytes.Clone(sum) }
}

// WithProgress calls fn with the number of bytes sent so far after each
// chunk. When an upload is retried the count starts again from zero.
func WithProgress(fn func(n int64)) UploadOption {
	return func(o *uploadOptions) { o.progress = fn }
}

// Upload stores the bytes of r as a new version of vault/key. It streams r in
// ChunkSize chunks, hashes them as it goes and, once the server answers,
// checks that the server stored the same SHA-256; a mismatch returns the
// archive with an error wrapping wormvault.ErrDataLoss.
//
// When r is an io.Seeker, an upload that fails with Unavailable before every
// byte was sent is retried from r's starting offset.
func (c *Client) Upload(ctx context.Context, vault, key string, r io.Reader, opts ...UploadOption) (_ *wormvaultv1.Archive, err error) {
	var o uploadOptions
	for _, opt := range opts {
		opt(&o)
	}
	o.header.Vault, o.header.Key = vault, key
	if o.customerKey != nil {
		creds, cerr := newCustomerKeyCreds(o.customerKey)
		if cerr != nil {
			return nil, cerr
		}
		ctx = withCustomerKeyCreds(ctx, creds)
		defer func() { err = creds.check(err) }()
	}
	if o.clientKey != nil {
		var err error
		if r, err = o.clientKey.encryptUpload(&o.header, r); err != nil {
			return nil, err
		}
	}

	seeker, canRetry := r.(io.Seeker)
	var start int64
	if canRetry {
		var err error
		if start, err = seeker.Seek(0, io.SeekCurrent); err != nil {
			canRetry = false
		}
	}
	u := uploader{c: c, header: &o.header, progress: o.progress, buf: make([]byte, ChunkSize), hash: sha256.New()}
	u.receipt = o.receipt
	for attempt := 0; ; attempt++ {
		a, retryable, err := u.once(ctx, r)
		if err == nil || !retryable || !canRetry || attempt >= c.retries {
			return a, err
		}
		if sleep(ctx, backoff(attempt)) != nil {
			return nil, err
		}
		if _, serr := seeker.Seek(start, io.SeekStart); serr != nil {
			return nil, err
		}
	}
}

type uploader struct {
	c        *Client
	header   *wormvaultv1.ArchiveHeader
	progress func(int64)
	buf      []byte // reused for every chunk: Send marshals before returning
	hash     hash.Hash
	receipt  *Receipt // WithReceipt
}

// once runs one upload attempt. retryable reports a failure that happened
// before every byte was sent because the server was Unavailable: the server
// cannot have stored the version.
func (u *uploader) once(ctx context.Context, r io.Reader) (a *wormvaultv1.Archive, retryable bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	u.hash.Reset()
	stream, err := u.c.archives.UploadArchive(ctx, customerKeyOptions(ctx)...)
	if err != nil {
		return nil, isUnavailable(err), convertError(err)
	}
	// sendFailed fetches the real status after a failed Send.
	sendFailed := func(err error) (*wormvaultv1.Archive, bool, error) {
		if errors.Is(err, io.EOF) {
			_, err = stream.CloseAndRecv()
			if err == nil {
				err = errorf("upload %s/%s: server ended the stream early", u.header.Vault, u.header.Key)
			}
		}
		return nil, isUnavailable(err), convertError(err)
	}
	if err := stream.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Header{Header: u.header}}); err != nil {
		return sendFailed(err)
	}
	var sent int64
	for {
		n, rerr := io.ReadFull(r, u.buf)
		if n > 0 {
			u.hash.Write(u.buf[:n])
			if err := stream.Send(&wormvaultv1.UploadArchiveRequest{Data: &wormvaultv1.UploadArchiveRequest_Chunk{Chunk: u.buf[:n]}}); err != nil {
				return sendFailed(err)
			}
			sent += int64(n)
			if u.progress != nil {
				u.progress(sent)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			// Cancelling before CloseSend aborts the upload: nothing is stored.
			cancel()
			return nil, false, errorf("upload %s/%s: reading input: %w", u.header.Vault, u.header.Key, rerr)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		// Every byte was sent: the server may have stored the version, so
		// this is never retried.
		return nil, false, convertError(err)
	}
	a = resp.GetArchive()
	if u.receipt != nil {
		*u.receipt = ReceiptFromProto(resp.GetReceipt())
	}
	sum := u.hash.Sum(nil)
	if !bytes.Equal(a.GetSha256(), sum) || a.GetSizeBytes() != sent {
		return a, false, errorf("upload %s/%s: server stored %d bytes with sha256 %x, sent %d bytes with sha256 %x: %w",
			u.header.Vault, u.header.Key, a.GetSizeBytes(), a.GetSha256(), sent, sum, wormvault.ErrDataLoss)
	}
	return a, false, nil
}

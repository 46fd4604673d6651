package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"os"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// Customer-provided keys (SSE-C): the server encrypts an archive under a
// 32-byte key the caller sends with every request that writes or reads
// it, and keeps none of it. The key travels in gRPC metadata
// (x-wormvault-sse-c-key, and x-wormvault-sse-c-key-sha256 to catch a
// garbled key), so only over TLS: the SDK refuses to send it on a
// connection dialed without WithTLS, and the server refuses a key that
// arrives in clear. Losing the key loses the archive.

const (
	customerKeyMetadata       = "x-wormvault-sse-c-key"
	customerKeySHA256Metadata = "x-wormvault-sse-c-key-sha256"
	customerKeySize           = 32
)

// WithCustomerKey encrypts the upload at rest under key, a 32-byte key the
// caller keeps (ENCRYPTION_MODE_CUSTOMER): reading the archive or its
// metadata then needs the same key (ReadWithCustomerKey,
// StatWithCustomerKey). It needs a TLS connection; Upload fails with an
// error wrapping wormvault.ErrTLSRequired otherwise, without sending
// anything.
func WithCustomerKey(key []byte) UploadOption {
	return func(o *uploadOptions) {
		o.customerKey = bytes.Clone(key)
		o.header.Encryption = &wormvaultv1.EncryptionInfo{Mode: wormvaultv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER}
	}
}

// ReadWithCustomerKey downloads an archive uploaded WithCustomerKey(key).
// A wrong key fails with wormvault.ErrCustomerKeyMismatch before any byte
// arrives.
func ReadWithCustomerKey(key []byte) DownloadOption {
	return func(o *downloadOptions) { o.customerKey = bytes.Clone(key) }
}

// StatWithCustomerKey is Stat for an archive uploaded WithCustomerKey: its
// metadata is served only to the holder of the key.
func (c *Client) StatWithCustomerKey(ctx context.Context, vault, key, versionID string, customerKey []byte) (*wormvaultv1.Archive, error) {
	creds, err := newCustomerKeyCreds(customerKey)
	if err != nil {
		return nil, err
	}
	resp, err := retry(ctx, c, func(ctx context.Context) (*wormvaultv1.GetArchiveResponse, error) {
		return c.archives.GetArchive(ctx, &wormvaultv1.GetArchiveRequest{Vault: vault, Key: key, VersionId: versionID}, grpc.PerRPCCredentials(creds))
	})
	return resp.GetArchive(), creds.check(err)
}

// LoadCustomerKey reads a customer key file, in the client key file
// format (LoadClientKey): 64 hex digits or 32 raw bytes, readable by its
// owner only. `wormvault client-key generate` writes such a file.
func LoadCustomerKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errorf("customer key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, errorf("customer key %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, errorf("customer key %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, errorf("customer key %s has permissions %04o: group and others must have none (chmod 600 %s)", path, perm, path)
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxKeyFile))
	if err != nil {
		return nil, errorf("customer key %s: %w", path, err)
	}
	if len(raw) == customerKeySize {
		return raw, nil
	}
	if t := bytes.TrimSpace(raw); len(t) == 2*customerKeySize {
		if b, err := hex.DecodeString(string(t)); err == nil {
			return b, nil
		}
	}
	return nil, errorf("customer key %s must hold %d bytes as %d hex digits or raw; it holds %d bytes that are neither", path, customerKeySize, 2*customerKeySize, len(raw))
}

// customerKeyCreds sends the SSE-C metadata with the calls it is given
// to. It requires transport security, so gRPC itself refuses, before
// sending anything, to send it on a connection without TLS.
type customerKeyCreds struct {
	md   map[string]string
	sent atomic.Bool
}

func newCustomerKeyCreds(key []byte) (*customerKeyCreds, error) {
	if len(key) != customerKeySize {
		return nil, errorf("customer key: %d bytes, want %d: %w", len(key), customerKeySize, wormvault.ErrInvalidArgument)
	}
	sum := sha256.Sum256(key)
	return &customerKeyCreds{md: map[string]string{
		customerKeyMetadata:       base64.StdEncoding.EncodeToString(key),
		customerKeySHA256Metadata: base64.StdEncoding.EncodeToString(sum[:]),
	}}, nil
}

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (c *customerKeyCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	c.sent.Store(true)
	return c.md, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials.
func (*customerKeyCreds) RequireTransportSecurity() bool { return true }

// check turns gRPC's refusal to send the key without TLS into
// wormvault.ErrTLSRequired; other errors pass. A nil c passes everything.
func (c *customerKeyCreds) check(err error) error {
	if c == nil || err == nil || c.sent.Load() || status.Code(err) != codes.Unauthenticated {
		return err
	}
	return errorf("a customer key (SSE-C) is sent only over TLS: dial with WithTLS (nothing was sent): %w", wormvault.ErrTLSRequired)
}

// customerKeyCtx carries the SSE-C credentials of a call down to the stub
// calls that make it (download and its client-side decryption).
type customerKeyCtx struct{}

func withCustomerKeyCreds(ctx context.Context, c *customerKeyCreds) context.Context {
	if c == nil {
		return ctx
	}
	return context.WithValue(ctx, customerKeyCtx{}, c)
}

// customerKeyOptions returns the call options that send ctx's SSE-C key.
func customerKeyOptions(ctx context.Context) []grpc.CallOption {
	if c, ok := ctx.Value(customerKeyCtx{}).(*customerKeyCreds); ok {
		return []grpc.CallOption{grpc.PerRPCCredentials(c)}
	}
	return nil
}

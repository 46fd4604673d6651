package client

// Client-side encryption: the SDK encrypts before upload and decrypts after
// download with a key the caller holds, so the server stores and serves only
// ciphertext. The format is specified in the package documentation
// ("Client-side encryption") and in package vault/sse.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"

	"github.com/wormvault/wormvault"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
	"github.com/wormvault/wormvault/vault/sse"
)

// User-metadata keys and values of a client-side encrypted archive.
const (
	// MetadataCSEAlgorithm names the format; its value is CSEAlgorithm.
	MetadataCSEAlgorithm = "x-wormvault-cse-alg"
	// MetadataCSEKeyID identifies the client key (ClientKey.ID), so a wrong
	// key is recognised before anything is decrypted.
	MetadataCSEKeyID = "x-wormvault-cse-key-id"
	// MetadataCSEWrappedKey holds the archive's data key wrapped under the
	// client key, base64 (standard, padded).
	MetadataCSEWrappedKey = "x-wormvault-cse-wrapped-key"
	// CSEAlgorithm is version 1: the vault/sse stream format under a data
	// key wrapped with sse.WrapKey.
	CSEAlgorithm = "wormvault-sse-v1"
	// ClientKeySize is the size of a client key in bytes.
	ClientKeySize = sse.KeySize
)

const (
	keyIDLabel = "wormvault-cse key id v1"
	wrapLabel  = "wormvault-cse v1"
	keyIDBytes = 8
	// maxKeyFile bounds what LoadClientKey reads: a key file is 65 bytes.
	maxKeyFile = 1024
)

var (
	// ErrClientKeyMismatch means the archive was encrypted under another
	// client key (its key id differs). Nothing was decrypted. It wraps
	// wormvault.ErrPermissionDenied.
	ErrClientKeyMismatch = fmt.Errorf("wormvault client: the archive is encrypted under another client key: %w", wormvault.ErrPermissionDenied)
	// ErrNotClientSideEncrypted means a client key was given for an archive
	// whose metadata does not say it is client-side encrypted. Its bytes
	// are not returned: they could be anything the server chose. It wraps
	// wormvault.ErrFailedPrecondition.
	ErrNotClientSideEncrypted = fmt.Errorf("wormvault client: the archive is not client-side encrypted: %w", wormvault.ErrFailedPrecondition)
)

// ClientKey is a caller-held 32-byte key-encryption key for client-side
// encryption. It never prints: fmt and slog show "REDACTED".
type ClientKey struct {
	kek [ClientKeySize]byte
	id  string
}

// NewClientKey returns the client key with the ClientKeySize bytes raw.
func NewClientKey(raw []byte) (*ClientKey, error) {
	if len(raw) != ClientKeySize {
		return nil, errorf("client key is %d bytes, want %d: %w", len(raw), ClientKeySize, wormvault.ErrInvalidArgument)
	}
	k := &ClientKey{}
	copy(k.kek[:], raw)
	h := sha256.New()
	h.Write([]byte(keyIDLabel))
	h.Write(k.kek[:])
	k.id = hex.EncodeToString(h.Sum(nil)[:keyIDBytes])
	return k, nil
}

// GenerateClientKey returns a fresh random client key.
func GenerateClientKey() (*ClientKey, error) {
	raw, err := sse.GenerateDataKey()
	if err != nil {
		return nil, errorf("generate client key: %w", err)
	}
	return NewClientKey(raw)
}

// ID returns the key id recorded with every archive encrypted under k: 16
// hex digits, the first 8 bytes of SHA-256("wormvault-cse key id v1" ||
// key). It reveals nothing usable about the key.
func (k *ClientKey) ID() string { return k.id }

// LogValue implements slog.LogValuer.
func (ClientKey) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// String implements fmt.Stringer.
func (ClientKey) String() string { return "REDACTED" }

// GoString implements fmt.GoStringer.
func (ClientKey) GoString() string { return "REDACTED" }

// LoadClientKey reads a client key file: the 32-byte key as 64 hex digits
// (what CreateClientKeyFile writes, with a trailing newline) or as 32 raw
// bytes. A file that group or others may read or write, or that holds
// anything else, is refused, as the server refuses such a master key.
func LoadClientKey(path string) (*ClientKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errorf("client key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, errorf("client key %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, errorf("client key %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, errorf("client key %s has permissions %04o: group and others must have none (chmod 600 %s)", path, perm, path)
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxKeyFile))
	if err != nil {
		return nil, errorf("client key %s: %w", path, err)
	}
	if len(raw) == ClientKeySize {
		return NewClientKey(raw)
	}
	if t := bytes.TrimSpace(raw); len(t) == 2*ClientKeySize {
		if b, err := hex.DecodeString(string(t)); err == nil {
			return NewClientKey(b)
		}
	}
	return nil, errorf("client key %s must hold %d bytes as %d hex digits or raw; it holds %d bytes that are neither", path, ClientKeySize, 2*ClientKeySize, len(raw))
}

// CreateClientKeyFile writes a fresh client key to a new file at path (mode
// 0600, 64 hex digits and a newline, fsynced) and returns it. It never
// replaces an existing file: losing a client key loses every archive
// encrypted under it.
func CreateClientKeyFile(path string) (*ClientKey, error) {
	k, err := GenerateClientKey()
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, errorf("client key %s already exists; refusing to replace a key: %w", path, wormvault.ErrAlreadyExists)
		}
		return nil, errorf("create client key: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(k.kek[:]) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, errorf("write client key %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // make the new name durable; best effort
		d.Close()
	}
	return k, nil
}

// WithClientKey encrypts the upload under k on the client (see "Client-side
// encryption" in the package documentation): the server receives and stores
// only ciphertext, and the archive's size_bytes and sha256 are those of the
// ciphertext. WithExpectedSHA256 is then checked by the SDK against the
// plaintext, and a mismatch aborts the upload before anything is stored.
func WithClientKey(k *ClientKey) UploadOption {
	return func(o *uploadOptions) { o.clientKey = k }
}

// DecryptWithClientKey makes Download decrypt an archive uploaded
// WithClientKey. WithRange then counts plaintext bytes, and only the
// ciphertext packages the range touches are downloaded. Download fails with
// ErrClientKeyMismatch for an archive encrypted under another key and with
// ErrNotClientSideEncrypted for one not client-side encrypted. The returned
// Archive is the server's record of the ciphertext; PlaintextSize gives the
// plaintext size.
func DecryptWithClientKey(k *ClientKey) DownloadOption {
	return func(o *downloadOptions) { o.clientKey = k }
}

// IsClientSideEncrypted reports whether a's metadata says it was uploaded
// WithClientKey.
func IsClientSideEncrypted(a *wormvaultv1.Archive) bool {
	return a.GetMetadata()[MetadataCSEAlgorithm] != ""
}

// PlaintextSize returns the size of a's plaintext: a's size for an archive
// that is not client-side encrypted, else the size its ciphertext size
// implies (an impossible ciphertext size wraps wormvault.ErrDataLoss).
func PlaintextSize(a *wormvaultv1.Archive) (int64, error) {
	if !IsClientSideEncrypted(a) {
		return a.GetSizeBytes(), nil
	}
	n, err := sse.PlaintextSize(a.GetSizeBytes())
	if err != nil {
		return 0, errorf("%s/%s: %w", a.GetVault(), a.GetKey(), err)
	}
	return n, nil
}

// envelopeAAD binds a wrapped data key to the archive's vault and key, so an
// envelope copied to another archive does not open. The version id cannot be
// bound: the server assigns it after the header is sent.
func envelopeAAD(vault, key string) []byte {
	b := []byte(wrapLabel)
	for _, s := range []string{vault, key} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// seal returns a fresh data key and the metadata that carries it wrapped.
func (k *ClientKey) seal(vault, key string) (dataKey []byte, md map[string]string, err error) {
	dataKey, err = sse.GenerateDataKey()
	if err != nil {
		return nil, nil, err
	}
	wrapped, err := sse.WrapKey(k.kek[:], dataKey, envelopeAAD(vault, key))
	if err != nil {
		return nil, nil, err
	}
	return dataKey, map[string]string{
		MetadataCSEAlgorithm:  CSEAlgorithm,
		MetadataCSEKeyID:      k.id,
		MetadataCSEWrappedKey: base64.StdEncoding.EncodeToString(wrapped),
	}, nil
}

// open checks that md describes an archive encrypted under k and returns its
// data key.
func (k *ClientKey) open(md map[string]string, vault, key string) ([]byte, error) {
	switch alg := md[MetadataCSEAlgorithm]; alg {
	case CSEAlgorithm:
	case "":
		return nil, ErrNotClientSideEncrypted
	default:
		return nil, errorf("client-side encryption %q is not supported by this SDK (it reads %q): %w", alg, CSEAlgorithm, wormvault.ErrFailedPrecondition)
	}
	if id := md[MetadataCSEKeyID]; id != k.id {
		return nil, fmt.Errorf("archive key id %q, client key id %q: %w", id, k.id, ErrClientKeyMismatch)
	}
	wrapped, err := base64.StdEncoding.DecodeString(md[MetadataCSEWrappedKey])
	if err != nil {
		return nil, errorf("%s is not base64: %w", MetadataCSEWrappedKey, wormvault.ErrDataLoss)
	}
	dataKey, err := sse.UnwrapKey(k.kek[:], wrapped, envelopeAAD(vault, key))
	if err != nil {
		// The key id matched, so the envelope was made for another archive
		// or altered.
		return nil, errorf("the wrapped data key does not open for %s/%s (copied from another archive or altered): %w", vault, key, wormvault.ErrDataLoss)
	}
	return dataKey, nil
}

// Decrypt returns a reader of the plaintext of the client-side encrypted
// archive a, given its whole ciphertext from byte 0 (for example a download
// made without a client key, saved to a file). The reader returns no byte of
// a package before the package authenticates, and errors wrapping
// wormvault.ErrDataLoss for altered, reordered, truncated or extended
// ciphertext.
func (k *ClientKey) Decrypt(a *wormvaultv1.Archive, ciphertext io.Reader) (io.Reader, error) {
	dataKey, err := k.open(a.GetMetadata(), a.GetVault(), a.GetKey())
	if err != nil {
		return nil, errorf("decrypt %s/%s: %w", a.GetVault(), a.GetKey(), err)
	}
	psize, err := PlaintextSize(a)
	if err != nil {
		return nil, err
	}
	return newDecryptingReader(ciphertext, nil, 0, a.GetSizeBytes(), dataKey, 0, psize)
}

// encryptUpload records a fresh envelope in h's metadata and returns the
// reader of r's ciphertext to upload instead of r. The plaintext check of
// h's expected SHA-256 moves into the reader.
func (k *ClientKey) encryptUpload(h *wormvaultv1.ArchiveHeader, r io.Reader) (io.Reader, error) {
	dataKey, md, err := k.seal(h.GetVault(), h.GetKey())
	if err != nil {
		return nil, errorf("upload %s/%s: %w", h.GetVault(), h.GetKey(), err)
	}
	if h.Metadata == nil {
		h.Metadata = make(map[string]string, len(md))
	}
	maps.Copy(h.Metadata, md)
	e := &encryptingReader{src: r, dataKey: dataKey, want: h.ExpectedSha256, buf: make([]byte, sse.PackageSize)}
	h.ExpectedSha256 = nil
	if err := e.reset(); err != nil {
		return nil, errorf("upload %s/%s: %w", h.GetVault(), h.GetKey(), err)
	}
	if s, ok := r.(io.Seeker); ok {
		if start, err := s.Seek(0, io.SeekCurrent); err == nil {
			return &seekableEncryptingReader{encryptingReader: e, seeker: s, start: start}, nil
		}
	}
	return e, nil
}

// encryptingReader reads the ciphertext of src without a goroutine: each
// Read that finds no sealed bytes left reads at most one package of src. It
// holds at most a header and two packages, whatever the size of src.
type encryptingReader struct {
	src      io.Reader
	dataKey  []byte
	want     []byte // expected SHA-256 of the plaintext, or nil
	buf      []byte // one package of plaintext
	w        *sse.Writer
	out      bytes.Buffer // sealed bytes not yet read
	sum      hash.Hash    // of the plaintext, when want is set
	produced int64
	err      error // sticky: io.EOF once everything is sealed
}

// reset starts a new stream (new salt and nonce prefix, same data key).
func (e *encryptingReader) reset() error {
	if e.w != nil {
		e.w.Close() // returns its pooled buffer; its output is discarded below
	}
	e.out.Reset()
	e.produced, e.err = 0, nil
	if e.want != nil {
		e.sum = sha256.New()
	}
	w, err := sse.NewWriter(&e.out, e.dataKey)
	if err != nil {
		return err
	}
	e.w = w
	return nil
}

func (e *encryptingReader) Read(p []byte) (int, error) {
	for e.out.Len() == 0 {
		if e.err != nil {
			return 0, e.err
		}
		e.fill()
	}
	n, _ := e.out.Read(p)
	e.produced += int64(n)
	return n, nil
}

// fill encrypts the next piece of src, sealing the final package at EOF.
func (e *encryptingReader) fill() {
	n, err := e.src.Read(e.buf)
	if n > 0 {
		if e.sum != nil {
			e.sum.Write(e.buf[:n])
		}
		if _, werr := e.w.Write(e.buf[:n]); werr != nil {
			e.err = werr
			return
		}
	}
	switch {
	case err == io.EOF:
		if cerr := e.w.Close(); cerr != nil {
			e.err = cerr
			return
		}
		if e.sum != nil {
			if got := e.sum.Sum(nil); !bytes.Equal(got, e.want) {
				// Withhold the final package: the server never sees a
				// complete stream, and the aborted upload stores nothing.
				e.out.Reset()
				e.err = fmt.Errorf("plaintext sha256 %x, expected %x: %w", got, e.want, wormvault.ErrChecksumMismatch)
				return
			}
		}
		e.err = io.EOF
	case err != nil:
		e.err = err
	}
}

// seekableEncryptingReader lets Upload retry an encrypted upload: seeking to
// the start rewinds the plaintext source and starts a new stream.
type seekableEncryptingReader struct {
	*encryptingReader
	seeker io.Seeker
	start  int64 // the source's offset when the upload began
}

// Seek supports what Upload needs: the current offset, and going back to
// the start.
func (s *seekableEncryptingReader) Seek(offset int64, whence int) (int64, error) {
	switch {
	case offset == 0 && whence == io.SeekCurrent:
		return s.produced, nil
	case offset == 0 && whence == io.SeekStart:
		if _, err := s.seeker.Seek(s.start, io.SeekStart); err != nil {
			return 0, err
		}
		return 0, s.reset()
	}
	return 0, errorf("encrypting reader: can seek only to its start")
}

// downloadDecrypted serves Download with DecryptWithClientKey. A full read
// is one stream; a ranged read first fetches the 76-byte stream header (with
// the metadata), then, pinned to that version, only the ciphertext packages
// covering the plaintext range.
func (c *Client) downloadDecrypted(ctx context.Context, req *wormvaultv1.DownloadArchiveRequest, k *ClientKey) (*wormvaultv1.Archive, io.ReadCloser, error) {
	vault, key := req.GetVault(), req.GetKey()
	off, length := req.GetOffset(), req.GetLength()
	if off < 0 {
		return nil, nil, wormvault.InvalidArgument("offset", "must not be negative")
	}
	if length < 0 {
		return nil, nil, wormvault.InvalidArgument("length", "must not be negative")
	}
	whole := off == 0 && length == 0
	first := &wormvaultv1.DownloadArchiveRequest{Vault: vault, Key: key, VersionId: req.GetVersionId()}
	if !whole {
		first.Length = sse.HeaderSize
	}
	a, rc, err := c.download(ctx, first)
	if err != nil {
		return nil, nil, err
	}
	dataKey, err := k.open(a.GetMetadata(), vault, key)
	if err != nil {
		rc.Close()
		return nil, nil, errorf("download %s/%s version %s: %w", vault, key, a.GetVersionId(), err)
	}
	csize := a.GetSizeBytes()
	psize, err := sse.PlaintextSize(csize)
	if err != nil {
		rc.Close()
		return nil, nil, errorf("download %s/%s version %s: %w", vault, key, a.GetVersionId(), err)
	}
	if whole {
		d, err := newDecryptingReader(rc, nil, 0, csize, dataKey, 0, psize)
		if err != nil {
			rc.Close()
			return nil, nil, errorf("download %s/%s version %s: %w", vault, key, a.GetVersionId(), err)
		}
		return a, d, nil
	}

	header, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, nil, err
	}
	if off > psize || (off == psize && psize > 0) {
		return nil, nil, wormvault.InvalidArgument("offset", "offset %d is beyond the archive's %d plaintext bytes", off, psize)
	}
	end := psize
	if length > 0 {
		end = min(off+length, psize)
	}
	cstart, cend, err := sse.CiphertextRange(psize, off, end-off)
	if err != nil {
		return nil, nil, errorf("download %s/%s: %w", vault, key, err)
	}
	body := &wormvaultv1.DownloadArchiveRequest{Vault: vault, Key: key, VersionId: a.GetVersionId(), Offset: cstart, Length: cend - cstart}
	_, rc, err = c.download(ctx, body)
	if err != nil {
		return nil, nil, err
	}
	d, err := newDecryptingReader(rc, header, cstart, csize, dataKey, off, end-off)
	if err != nil {
		rc.Close()
		return nil, nil, errorf("download %s/%s version %s: %w", vault, key, a.GetVersionId(), err)
	}
	return a, d, nil
}

// newDecryptingReader decrypts plaintext [off, off+n) of the csize-byte
// stream whose ciphertext from offset cstart src yields. header is the
// stream header when it was fetched apart (cstart > 0).
func newDecryptingReader(src io.Reader, header []byte, cstart, csize int64, dataKey []byte, off, n int64) (*decryptingReader, error) {
	r, err := sse.NewReader(&streamReaderAt{header: header, r: src, pos: cstart}, csize, dataKey)
	if errors.Is(err, sse.ErrWrongKey) {
		// The envelope authenticated, so the stream is not the one it
		// belongs to: replaced.
		return nil, fmt.Errorf("the ciphertext does not belong to the archive's wrapped key: %w", wormvault.ErrDataLoss)
	}
	if err != nil {
		return nil, err
	}
	rr, err := r.NewRangeReader(off, n)
	if err != nil {
		return nil, err
	}
	return &decryptingReader{rr: rr, src: src}, nil
}

// decryptingReader returns authenticated plaintext (sse.RangeReader hands out
// a package only once its tag verifies) and, at the end of the range, checks
// that the ciphertext stream ends too, so the download's own checks (the
// ciphertext SHA-256 of a full read, the length of a range) run.
type decryptingReader struct {
	rr  *sse.RangeReader
	src io.Reader
	err error // sticky
}

func (d *decryptingReader) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.rr.Read(p)
	if err == io.EOF {
		err = d.finish()
	}
	if err != nil {
		d.err = err
	}
	return n, err
}

func (d *decryptingReader) finish() error {
	var b [1]byte
	n, err := io.ReadFull(d.src, b[:])
	switch {
	case n > 0:
		return errorf("ciphertext continues past its last package: %w", wormvault.ErrDataLoss)
	case err == io.EOF:
		return io.EOF
	}
	return err
}

// Close closes the download stream; safe to call more than once.
func (d *decryptingReader) Close() error {
	if d.err == nil {
		d.err = errReaderClosed
	}
	if c, ok := d.src.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// streamReaderAt serves sse.Reader from one sequential stream: sse reads the
// header at 0 and then each package at contiguous increasing offsets. A
// ranged download fetches the header apart and streams from cstart.
type streamReaderAt struct {
	header []byte
	r      io.Reader
	pos    int64
}

func (s *streamReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off == 0 && s.header != nil {
		n := copy(p, s.header)
		if n < len(p) {
			return n, io.ErrUnexpectedEOF
		}
		return n, nil
	}
	if off != s.pos {
		return 0, errorf("decrypt: read at ciphertext offset %d, the stream is at %d", off, s.pos)
	}
	n, err := io.ReadFull(s.r, p)
	s.pos += int64(n)
	return n, err
}

var (
	_ io.ReadCloser = (*decryptingReader)(nil)
	_ io.ReadSeeker = (*seekableEncryptingReader)(nil)
)

package vault

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/erasure"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/kms"
	"github.com/wormvault/wormvault/vault/sse"
)

// MasterKeyFileName is the master key's file in the data directory unless
// Config.MasterKeyFile names another.
const MasterKeyFileName = "master.key"

// MasterKey is the server's 32-byte master key. Every key the server uses
// for encryption at rest derives from it (sse.DeriveKey): Badger's key and
// each vault's key-encryption key. It never prints: fmt and slog show
// "REDACTED".
type MasterKey struct{ b []byte }

// LogValue implements slog.LogValuer.
func (MasterKey) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// String implements fmt.Stringer.
func (MasterKey) String() string { return "REDACTED" }

// GoString implements fmt.GoStringer.
func (MasterKey) GoString() string { return "REDACTED" }

// derive returns the key for one purpose and context.
func (k MasterKey) derive(purpose string, context ...string) []byte {
	return sse.DeriveKey(k.b, purpose, context...)
}

// LoadMasterKey reads the master key file at path, creating it with a fresh
// random key if it does not exist. The file holds the 32-byte key as 64
// hex digits (what this function writes, with a trailing newline) or as 32
// raw bytes. A file that is readable or writable by group or others, or
// that holds anything else, is refused.
func LoadMasterKey(path string) (MasterKey, error) {
	k, err := readMasterKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createMasterKey(path)
	}
	return k, err
}

func readMasterKey(path string) (MasterKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return MasterKey{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return MasterKey{}, fmt.Errorf("vault: master key %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return MasterKey{}, fmt.Errorf("vault: master key %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return MasterKey{}, fmt.Errorf("vault: master key %s has permissions %04o: group and others must have none (chmod 600 %s)", path, perm, path)
	}
	raw, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return MasterKey{}, fmt.Errorf("vault: master key %s: %w", path, err)
	}
	if len(raw) == sse.KeySize {
		return MasterKey{b: raw}, nil
	}
	if t := bytes.TrimSpace(raw); len(t) == 2*sse.KeySize {
		if b, err := hex.DecodeString(string(t)); err == nil {
			return MasterKey{b: b}, nil
		}
	}
	return MasterKey{}, fmt.Errorf("vault: master key %s must hold %d bytes as %d hex digits or raw; it holds %d bytes that are neither", path, sse.KeySize, 2*sse.KeySize, len(raw))
}

func createMasterKey(path string) (MasterKey, error) {
	b, err := sse.GenerateDataKey()
	if err != nil {
		return MasterKey{}, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return MasterKey{}, fmt.Errorf("vault: master key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return MasterKey{}, fmt.Errorf("vault: create master key: %w", err)
	}
	_, err = f.WriteString(hex.EncodeToString(b) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return MasterKey{}, fmt.Errorf("vault: write master key %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return MasterKey{b: b}, nil
}

// loadMasterKey loads cfg's master key, creating it only for a store that
// holds no data yet: a new key could not read what the lost one encrypted.
func (c Config) loadMasterKey() (MasterKey, error) {
	path := c.masterKeyPath()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		held := []string{filepath.Join(c.DataDir, "meta")}
		for _, d := range c.drivePaths() {
			held = append(held, filepath.Join(d, "journal"))
		}
		for _, p := range held {
			if ents, err := os.ReadDir(p); err == nil && len(ents) > 0 {
				return MasterKey{}, fmt.Errorf("vault: master key %s is missing but %s holds data encrypted under it: restore the key file (or pass --master-key-file)", path, p)
			}
		}
	}
	return LoadMasterKey(path)
}

// masterKeyPath is where the master key lives for cfg.
func (c Config) masterKeyPath() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.DataDir, MasterKeyFileName)
}

// EncryptionMode is the encryption at rest an upload asks for.
type EncryptionMode = recordv1.EncryptionMode

// Encryption is an encryption mode and, for KMS, the key: what an upload
// asks for, or what a vault applies to uploads that ask for nothing.
type Encryption struct {
	Mode   EncryptionMode
	KMSKey string
	// customer is the caller's key of a CUSTOMER upload (ssec.go).
	customer CustomerKey
}

// Every version's bytes are encrypted by mode, and the modes differ only
// in where a version's data key comes from and how it is kept. The
// dispatch below is the one place that knows them all; a new mode is one
// more case in each switch:
//
//   - checkEncryption: is the mode acceptable for an upload (or as a
//     vault default)?
//   - newDataKey: a fresh data key for a new version and the record of it.
//   - readDataKey: the data key of a version for a caller's download.
//   - dataKey: the data key for the server's own checks (scrub).
//
// Policies decide on the encryption the caller asked for
// (Caller.Encryption), before the vault default is applied.

// encryptionFromRecord converts a stored encryption setting.
func encryptionFromRecord(r *recordv1.Encryption) Encryption {
	return Encryption{Mode: r.GetMode(), KMSKey: r.GetKmsKey()}
}

// defaultEncryption is what a vault applies to uploads that ask for no
// encryption: its setting, else SERVICE.
func defaultEncryption(vrec *recordv1.Vault) Encryption {
	e := encryptionFromRecord(vrec.GetDefaultEncryption())
	if e.Mode == recordv1.EncryptionMode_ENCRYPTION_MODE_UNSPECIFIED {
		return Encryption{Mode: recordv1.EncryptionMode_ENCRYPTION_MODE_SERVICE}
	}
	return e
}

// checkEncryption validates an encryption an upload asks for (or a vault
// default, asDefault): field is the request field holding it.
func (s *Store) checkEncryption(field string, e Encryption, asDefault bool) error {
	switch e.Mode {
	case recordv1.EncryptionMode_ENCRYPTION_MODE_UNSPECIFIED, recordv1.EncryptionMode_ENCRYPTION_MODE_SERVICE:
		if e.KMSKey != "" {
			return wormvault.InvalidArgument(field+".kms_key", "set only with ENCRYPTION_MODE_KMS")
		}
		return nil
	case recordv1.EncryptionMode_ENCRYPTION_MODE_KMS:
		if e.KMSKey == "" {
			return wormvault.InvalidArgument(field+".kms_key", "required with ENCRYPTION_MODE_KMS")
		}
		return kms.ValidateName(field+".kms_key", e.KMSKey)
	case recordv1.EncryptionMode_ENCRYPTION_MODE_NONE:
		if e.KMSKey != "" {
			return wormvault.InvalidArgument(field+".kms_key", "set only with ENCRYPTION_MODE_KMS")
		}
		if !s.cfg.AllowUnencrypted {
			return wormvault.InvalidArgument(field+".mode", "ENCRYPTION_MODE_NONE is refused: this server stores every archive encrypted (serve --allow-unencrypted allows it)")
		}
		return nil
	case recordv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER:
		if asDefault {
			return wormvault.InvalidArgument(field+".mode", "ENCRYPTION_MODE_CUSTOMER needs the caller's key with each request: it cannot be a vault default")
		}
		if e.KMSKey != "" {
			return wormvault.InvalidArgument(field+".kms_key", "set only with ENCRYPTION_MODE_KMS")
		}
		return nil // the key and TLS: checkCustomerUpload (ssec.go)
	}
	return wormvault.InvalidArgument(field+".mode", "%s requested: this server supports ENCRYPTION_MODE_SERVICE, ENCRYPTION_MODE_KMS with kms_key, ENCRYPTION_MODE_CUSTOMER with a key over TLS, and ENCRYPTION_MODE_NONE when allowed", e.Mode)
}

// checkDefaultEncryption validates a vault default inside tx (a KMS key
// must exist and not be deleted) and returns its record; UNSPECIFIED
// becomes SERVICE.
func (s *Store) checkDefaultEncryption(tx *catalog.Txn, field string, e Encryption) (*recordv1.Encryption, error) {
	if err := s.checkEncryption(field, e, true); err != nil {
		return nil, err
	}
	switch e.Mode {
	case recordv1.EncryptionMode_ENCRYPTION_MODE_UNSPECIFIED:
		e.Mode = recordv1.EncryptionMode_ENCRYPTION_MODE_SERVICE
	case recordv1.EncryptionMode_ENCRYPTION_MODE_KMS:
		if err := checkDefaultKMSKey(tx, field+".kms_key", e.KMSKey); err != nil {
			return nil, err
		}
	}
	return &recordv1.Encryption{Mode: e.Mode, KmsKey: e.KMSKey}, nil
}

// resolveEncryption is the encryption of an upload: what it asked for,
// else the vault's default. field names where a KMS key came from.
func (s *Store) resolveEncryption(req UploadRequest, vrec *recordv1.Vault) (e Encryption, field string, err error) {
	if req.Encryption != recordv1.EncryptionMode_ENCRYPTION_MODE_UNSPECIFIED {
		return Encryption{Mode: req.Encryption, KMSKey: req.KMSKey, customer: req.CustomerKey}, "header.encryption.kms_key", nil
	}
	e = defaultEncryption(vrec)
	if e.Mode == recordv1.EncryptionMode_ENCRYPTION_MODE_NONE && !s.cfg.AllowUnencrypted {
		return Encryption{}, "", fmt.Errorf("%w: vault %s defaults to ENCRYPTION_MODE_NONE, which this server no longer allows: ask for an encryption mode", wormvault.ErrFailedPrecondition, vrec.GetName())
	}
	return e, "the default encryption of vault " + vrec.GetName(), nil
}

// newDataKey returns a fresh data key for a new version and the record of
// how it is kept; a nil key (mode NONE) stores the plaintext.
func (s *Store) newDataKey(ctx context.Context, e Encryption, field, vault, versionID string) ([]byte, *recordv1.Encryption, error) {
	switch e.Mode {
	case recordv1.EncryptionMode_ENCRYPTION_MODE_NONE:
		return nil, &recordv1.Encryption{Mode: e.Mode}, nil
	case recordv1.EncryptionMode_ENCRYPTION_MODE_SERVICE:
		return s.newServiceEncryption(vault, versionID)
	case recordv1.EncryptionMode_ENCRYPTION_MODE_KMS:
		return s.newKMSEncryption(ctx, field, e.KMSKey, versionID)
	case recordv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER:
		return newCustomerEncryption(e.customer, vault, versionID)
	}
	return nil, nil, fmt.Errorf("vault: no data key for encryption mode %s", e.Mode)
}

// readDataKey returns the data key of an encrypted version for caller's
// download; ck is the key the caller sent for a CUSTOMER version.
func (s *Store) readDataKey(ctx context.Context, caller Caller, rec *recordv1.Version, ck CustomerKey) ([]byte, error) {
	switch rec.GetEncryption().GetMode() {
	case recordv1.EncryptionMode_ENCRYPTION_MODE_KMS:
		return s.kmsDecrypt(ctx, caller, rec)
	case recordv1.EncryptionMode_ENCRYPTION_MODE_CUSTOMER:
		return customerDataKey(caller, rec, ck)
	}
	return s.dataKey(rec)
}

// vaultKEK is the key-encryption key of a vault's SERVICE-mode data keys.
func (s *Store) vaultKEK(vault string) []byte { return s.master.derive("vault", vault) }

// newServiceEncryption returns a fresh data key for a version and the
// record of it wrapped under the vault's key.
func (s *Store) newServiceEncryption(vault, versionID string) ([]byte, *recordv1.Encryption, error) {
	key, err := sse.GenerateDataKey()
	if err != nil {
		return nil, nil, err
	}
	wrapped, err := sse.WrapKey(s.vaultKEK(vault), key, []byte(versionID))
	if err != nil {
		return nil, nil, err
	}
	return key, &recordv1.Encryption{Mode: recordv1.EncryptionMode_ENCRYPTION_MODE_SERVICE, WrappedKey: wrapped}, nil
}

// encrypted reports whether a version's stored bytes are an sse stream.
func encrypted(rec *recordv1.Version) bool {
	m := rec.GetEncryption().GetMode()
	return m != recordv1.EncryptionMode_ENCRYPTION_MODE_UNSPECIFIED && m != recordv1.EncryptionMode_ENCRYPTION_MODE_NONE
}

// storedSize is the size of a version's stored bytes.
func storedSize(rec *recordv1.Version) int64 {
	if encrypted(rec) {
		return rec.GetStoredBytes()
	}
	return rec.GetSizeBytes()
}

// dataKey unwraps a version's data key for the server's own use (scrub):
// no caller, so no quota or audit event.
func (s *Store) dataKey(rec *recordv1.Version) ([]byte, error) {
	enc := rec.GetEncryption()
	switch enc.GetMode() {
	case recordv1.EncryptionMode_ENCRYPTION_MODE_SERVICE:
	case recordv1.EncryptionMode_ENCRYPTION_MODE_KMS:
		return s.kmsDataKey(rec)
	default:
		return nil, fmt.Errorf("%w: version %s is encrypted with %s, which this server cannot decrypt", wormvault.ErrFailedPrecondition, rec.GetVersionId(), enc.GetMode())
	}
	key, err := s.master.unwrap(enc.GetWrappedKey(), []byte(rec.GetVersionId()), "vault", rec.GetVault())
	if err != nil {
		// Not the caller's fault: the master key is not the one the
		// version was written with, or the record is damaged.
		return nil, fmt.Errorf("%w: data key of %s does not unwrap (a different master key, or a damaged record): %v", wormvault.ErrDataLoss, rec.GetVersionId(), err)
	}
	return key, nil
}

// openPlain returns a decrypting reader over a version's stored bytes,
// encrypted under key.
func openPlain(rec *recordv1.Version, key []byte, stored io.ReaderAt) (*sse.Reader, error) {
	r, err := sse.NewReader(stored, rec.GetStoredBytes(), key)
	if err != nil {
		if errors.Is(err, sse.ErrWrongKey) {
			return nil, fmt.Errorf("%w: stored bytes of %s are not encrypted with their recorded key: %v", wormvault.ErrDataLoss, rec.GetVersionId(), err)
		}
		return nil, fmt.Errorf("stored bytes of %s: %w", rec.GetVersionId(), err)
	}
	if r.Size() != rec.GetSizeBytes() {
		return nil, fmt.Errorf("%w: stored bytes of %s decrypt to %d bytes, catalog says %d", wormvault.ErrDataLoss, rec.GetVersionId(), r.Size(), rec.GetSizeBytes())
	}
	return r, nil
}

// sealInline returns the stored bytes of an inline archive and their
// recorded size (0 when stored as plaintext, whose size is size_bytes).
func sealInline(key, plain []byte) ([]byte, int64, error) {
	if key == nil {
		return plain, 0, nil
	}
	sealed, err := seal(key, plain)
	return sealed, int64(len(sealed)), err
}

// storedWriter returns the writer the plaintext of an upload goes to:
// an sse stream into w, or w itself when key is nil (mode NONE).
func storedWriter(w io.Writer, key []byte) (io.WriteCloser, error) {
	if key == nil {
		return nopWriteCloser{w}, nil
	}
	return sse.NewWriter(w, key)
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// storedBytesOf is the recorded stored size of a plaintext of size bytes.
func storedBytesOf(key []byte, size int64) int64 {
	if key == nil {
		return 0
	}
	return sse.CiphertextSize(size)
}

// objectReaderAt serves an erasure object as an io.ReaderAt for sse: reads
// at contiguous increasing offsets continue one sequential erasure reader;
// any other offset starts a new one.
type objectReaderAt struct {
	ctx context.Context
	obj *erasure.Object
	rc  io.ReadCloser
	pos int64
}

func (o *objectReaderAt) ReadAt(p []byte, off int64) (int, error) {
	size := o.obj.Size()
	if off >= size {
		return 0, io.EOF
	}
	if o.rc == nil || off != o.pos {
		if o.rc != nil {
			o.rc.Close()
			o.rc = nil
		}
		rc, err := o.obj.NewReader(o.ctx, off, size-off)
		if err != nil {
			return 0, err
		}
		o.rc, o.pos = rc, off
	}
	want := p
	if int64(len(want)) > size-off {
		want = want[:size-off]
	}
	n, err := io.ReadFull(o.rc, want)
	o.pos += int64(n)
	if err != nil {
		o.rc.Close()
		o.rc = nil
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: %w", wormvault.ErrDataLoss, err)
		}
		return n, err
	}
	if len(want) < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (o *objectReaderAt) Close() error {
	if o.rc == nil {
		return nil
	}
	err := o.rc.Close()
	o.rc = nil
	return err
}

// plainReadCloser reads decrypted bytes and closes the stored bytes' reader.
type plainReadCloser struct {
	io.Reader
	closer io.Closer
}

func (p *plainReadCloser) Close() error {
	if p.closer == nil {
		return nil
	}
	return p.closer.Close()
}

// plainRange returns a reader of plaintext bytes [off, off+length) of an
// encrypted version whose stored bytes are behind stored, for the
// server's own checks (see dataKey); closer (which may be nil) is closed
// with it or on error.
func (s *Store) plainRange(rec *recordv1.Version, stored io.ReaderAt, closer io.Closer, off, length int64) (io.ReadCloser, error) {
	key, err := s.dataKey(rec)
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, err
	}
	return decryptRange(rec, key, stored, closer, off, length)
}

// decryptRange is plainRange with the version's data key at hand.
func decryptRange(rec *recordv1.Version, key []byte, stored io.ReaderAt, closer io.Closer, off, length int64) (io.ReadCloser, error) {
	sr, err := openPlain(rec, key, stored)
	if err == nil {
		var rr *sse.RangeReader
		if rr, err = sr.NewRangeReader(off, length); err == nil {
			return &plainReadCloser{Reader: rr, closer: closer}, nil
		}
	}
	if closer != nil {
		closer.Close()
	}
	return nil, err
}

// seal encrypts plain under key into one sse stream.
func seal(key, plain []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(sse.CiphertextSize(int64(len(plain)))))
	w, err := sse.NewWriter(&buf, key)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encryptionDetail describes an encryption setting in audit details:
// "SERVICE", "KMS:<key>", "NONE".
func encryptionDetail(e Encryption) string {
	name := strings.TrimPrefix(e.Mode.String(), "ENCRYPTION_MODE_")
	if e.KMSKey != "" {
		return name + ":" + e.KMSKey
	}
	return name
}

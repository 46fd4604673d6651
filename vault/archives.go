package vault

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"google.golang.org/protobuf/types/known/timestamppb"
	"io"
	"maps"
	"time"
	"unicode/utf8"

	sha256 "github.com/minio/sha256-simd"
	"google.golang.org/protobuf/proto"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/erasure"
	"github.com/wormvault/wormvault/lock"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/journal"
)

// Limits on what an upload may carry besides its bytes.
const (
	MaxContentTypeLen = 256
	// MaxMetadataBytes bounds the user metadata (keys plus values), as S3's
	// 2 KiB user-metadata limit does.
	MaxMetadataBytes = 2048
	MaxMetadataKey   = 128
)

// Archive is one version of an archive (or a delete marker) as the catalog
// records it.
type Archive struct {
	Record   *recordv1.Version
	IsLatest bool
	// CommitTime is when the call that returned it committed a change to
	// the version (upload, retention, legal hold); zero for reads.
	CommitTime time.Time
}

// UploadRequest is everything about an upload except its bytes.
type UploadRequest struct {
	Vault, Key     string
	ContentType    string
	Metadata       map[string]string
	ExpectedSHA256 []byte
	// Retention, when not zero, overrides the vault's default retention.
	Retention wormvault.Retention
	// LegalHold places the default hold at upload.
	LegalHold bool
	// Encryption is the requested encryption at rest, KMSKey its key for
	// ENCRYPTION_MODE_KMS: unspecified means the vault's default
	// encryption (SERVICE unless the vault names another).
	Encryption EncryptionMode
	KMSKey     string
	// CustomerKey is the caller's key for ENCRYPTION_MODE_CUSTOMER
	// (ssec.go); it is never stored.
	CustomerKey CustomerKey
}

func (r *UploadRequest) validate() error {
	if err := wormvault.ValidateVaultRef("header.vault", r.Vault); err != nil {
		return err
	}
	if err := wormvault.ValidateKey("header.key", r.Key); err != nil {
		return err
	}
	if len(r.ContentType) > MaxContentTypeLen || !utf8.ValidString(r.ContentType) {
		return wormvault.InvalidArgument("header.content_type", "must be valid UTF-8 of at most %d bytes", MaxContentTypeLen)
	}
	total := 0
	for k, v := range r.Metadata {
		if k == "" || len(k) > MaxMetadataKey || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return wormvault.InvalidArgument("header.metadata", "keys must be 1-%d bytes of UTF-8 and values UTF-8", MaxMetadataKey)
		}
		total += len(k) + len(v)
	}
	if total > MaxMetadataBytes {
		return wormvault.InvalidArgument("header.metadata", "user metadata is %d bytes, at most %d allowed", total, MaxMetadataBytes)
	}
	if len(r.ExpectedSHA256) != 0 && len(r.ExpectedSHA256) != sha256.Size {
		return wormvault.InvalidArgument("header.expected_sha256", "must be %d bytes, got %d", sha256.Size, len(r.ExpectedSHA256))
	}
	return nil
}

// Upload stores body as a new version of req.Key. The version exists only
// once Upload returns without error; on any error nothing is visible and
// the shards written so far are removed.
func (s *Store) Upload(ctx context.Context, caller Caller, req UploadRequest, body io.Reader) (*Archive, error) {
	a, err := s.upload(ctx, caller, req, body)
	if err != nil {
		return nil, fmt.Errorf("vault.Upload %s/%s: %w", req.Vault, req.Key, err)
	}
	return a, nil
}

func (s *Store) upload(ctx context.Context, caller Caller, req UploadRequest, body io.Reader) (*Archive, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	// From here on the request names the vault it acts on, and the caller
	// carries the access point it came through, if any (accesspoints.go).
	caller, vault, err := s.resolveVault(caller, "header.vault", req.Vault)
	if err != nil {
		return nil, err
	}
	req.Vault = vault
	if err := s.checkEncryption("header.encryption", Encryption{Mode: req.Encryption, KMSKey: req.KMSKey}, false); err != nil {
		return nil, err
	}
	if err := checkCustomerUpload(caller, req); err != nil {
		return nil, err
	}
	var vrec *recordv1.Vault
	if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		vrec, err = tx.Vault(req.Vault)
		return err
	}); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if _, err := s.authorize(caller, access{action: "UploadArchive", vault: vrec, key: req.Key}, now.Time); err != nil {
		return nil, err
	}
	// The default period is counted in UTC: a day is 24 hours whatever the
	// server's time zone, as a client computing create_time + days expects.
	created := now.Time.UTC()
	ret, err := lock.ResolveRetention(now, created, req.Retention, defaultFromRecord(vrec.GetDefaultRetention()), maxRetention(vrec))
	if err != nil {
		return nil, err
	}
	vid, err := wormvault.NewVersionID()
	if err != nil {
		return nil, err
	}
	id := string(vid)
	sum := sha256.New()
	tree := wormvault.NewTreeHash()
	hashes := io.MultiWriter(sum, tree)
	broken := func(err error) error {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %w", wormvault.ErrAborted, context.Cause(ctx))
		}
		return err
	}

	// Read up to the inline threshold first: an archive that ends within it
	// is stored inline, one journal batch instead of k+m shard files.
	var head []byte
	if t := s.cfg.InlineThreshold; t > 0 {
		head = make([]byte, 0, t+1)
		for len(head) <= t {
			n, err := body.Read(head[len(head):cap(head)])
			head = head[:len(head)+n]
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, broken(err)
			}
		}
	}
	rec := &recordv1.Version{
		Vault:       req.Vault,
		Key:         req.Key,
		VersionId:   id,
		ContentType: req.ContentType,
		Metadata:    maps.Clone(req.Metadata),
		CreateTime:  timestamppb.New(now.Time),
		Retention:   retentionToRecord(ret),
	}
	if req.LegalHold {
		rec.LegalHolds = holdsToRecord(lock.PlaceHold(nil, wormvault.LegalHold{
			ID: wormvault.DefaultHoldID, Reason: "placed at upload", SetBy: caller.Principal, SetTime: now.Time,
		}))
	}
	// Every version is encrypted with a fresh data key, kept as its mode
	// says (the vault default unless the request asked; policies above saw
	// what it asked); the hashes above are of the plaintext, the stored
	// bytes are ciphertext. Mode NONE, where allowed, stores plaintext.
	encryption, keyField, err := s.resolveEncryption(req, vrec)
	if err != nil {
		return nil, err
	}
	dataKey, enc, err := s.newDataKey(ctx, encryption, keyField, req.Vault, id)
	if err != nil {
		return nil, err
	}
	rec.Encryption = enc
	finish := func(size int64) error {
		rec.SizeBytes, rec.Sha256, rec.TreeSha256 = size, sum.Sum(nil), tree.Sum()
		if len(req.ExpectedSHA256) > 0 && !bytes.Equal(rec.Sha256, req.ExpectedSHA256) {
			return fmt.Errorf("%w: received %x, expected %x", wormvault.ErrChecksumMismatch, rec.Sha256, req.ExpectedSHA256)
		}
		return nil
	}
	// CUSTOMER versions go to shards even when small: the scrub cannot
	// decrypt them, only check shards' bitrot hashes (ssec.go).
	if s.cfg.InlineThreshold > 0 && len(head) <= s.cfg.InlineThreshold && !isCustomer(rec) {
		hashes.Write(head)
		if err := finish(int64(len(head))); err != nil {
			return nil, err
		}
		rec.Inline = true
		sealed, stored, err := sealInline(dataKey, head)
		if err != nil {
			return nil, err
		}
		rec.StoredBytes = stored
		blob := &recordv1.Blob{VersionId: id, Data: sealed}
		a := &Archive{Record: rec, IsLatest: true, CommitTime: now.Time}
		err = s.commitNewVersion(context.WithoutCancel(ctx), caller, a, func(tx *catalog.Txn) ([]*journal.Entry, error) {
			if _, err := tx.Vault(req.Vault); err != nil {
				return nil, err
			}
			if err := tx.PutBlob(blob); err != nil {
				return nil, err
			}
			return []*journal.Entry{versionPut(now.Time, rec), blobPut(now.Time, blob)}, tx.PutVersion(rec)
		})
		if err != nil {
			return nil, err
		}
		return a, nil
	}

	s.beginWrite(id)
	defer s.endWrite(id)
	w, err := s.set.Create(ctx, id)
	if err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			w.Abort()
		}
	}()
	ew, err := storedWriter(w, dataKey)
	if err != nil {
		return nil, err
	}
	rest, err := io.Copy(io.MultiWriter(ew, hashes), io.MultiReader(bytes.NewReader(head), body))
	if err != nil {
		return nil, broken(err)
	}
	if err := ew.Close(); err != nil {
		return nil, broken(err)
	}
	if err := finish(rest); err != nil {
		return nil, err
	}
	rec.ObjectId, rec.StoredBytes = id, storedBytesOf(dataKey, rest)
	// The record travels in every shard so the catalog can be rebuilt from
	// the drives alone.
	meta, err := proto.MarshalOptions{Deterministic: true}.Marshal(rec)
	if err != nil {
		return nil, err
	}
	if _, err := w.Commit(ctx, meta); err != nil {
		return nil, err
	}
	// The shards are durable. The catalog commit below makes the version
	// exist; if it fails, the shards are removed (or swept at next start).
	s.crash(CrashAfterShardWrite)
	a := &Archive{Record: rec, IsLatest: true, CommitTime: now.Time}
	err = s.commitNewVersion(context.WithoutCancel(ctx), caller, a, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		if _, err := tx.Vault(req.Vault); err != nil {
			return nil, err
		}
		return []*journal.Entry{versionPut(now.Time, rec)}, tx.PutVersion(rec)
	})
	if err != nil {
		if derr := s.deleteObject(context.WithoutCancel(ctx), id); derr != nil {
			s.log.Warn("could not remove shards of a failed commit; the orphan sweep will", "object", id, "err", derr)
		}
		return nil, err
	}
	committed = true
	return a, nil
}

// GetArchive returns one version's record. An empty versionID means the
// latest version; if that is a delete marker it is returned as such.
func (s *Store) GetArchive(ctx context.Context, caller Caller, vault, key, versionID string) (*Archive, error) {
	return s.StatArchive(ctx, caller, ReadRequest{Vault: vault, Key: key, VersionID: versionID})
}

// ReadRequest addresses one version for StatArchive and DownloadArchive,
// with what reading it may need beyond its address.
type ReadRequest struct {
	Vault, Key, VersionID string
	// Offset and Length select the bytes a download reads (Length 0: to
	// the end); StatArchive ignores them.
	Offset, Length int64
	// CustomerKey is the caller's key of a version encrypted with
	// ENCRYPTION_MODE_CUSTOMER, which reading its metadata needs too (as
	// S3's HEAD does); zero for other versions.
	CustomerKey CustomerKey
	// IfRangeSHA256, when set, makes Offset and Length apply only to a
	// version with this SHA-256: a different one is read whole (HTTP's
	// If-Range, so a resumed download never splices two versions).
	IfRangeSHA256 []byte
}

// StatArchive is GetArchive with the request's customer key.
func (s *Store) StatArchive(ctx context.Context, caller Caller, req ReadRequest) (*Archive, error) {
	a, err := s.lookup(caller, "GetArchive", req.Vault, req.Key, req.VersionID)
	if err == nil && !a.Record.GetDeleteMarker() {
		err = checkCustomerKey(caller, a.Record, req.CustomerKey)
	}
	if err != nil {
		return nil, fmt.Errorf("vault.GetArchive %s/%s: %w", req.Vault, req.Key, err)
	}
	return a, nil
}

func validateAddress(vault, key, versionID string) error {
	if err := wormvault.ValidateVaultName("vault", vault); err != nil {
		return err
	}
	if err := wormvault.ValidateKey("key", key); err != nil {
		return err
	}
	if versionID != "" {
		return wormvault.ValidateVersionID("version_id", versionID)
	}
	return nil
}

// lookup loads a version and authorizes action on it; vault may name an
// access point.
func (s *Store) lookup(caller Caller, action, vault, key, versionID string) (*Archive, error) {
	caller, vault, err := s.resolveVault(caller, "vault", vault)
	if err != nil {
		return nil, err
	}
	if err := validateAddress(vault, key, versionID); err != nil {
		return nil, err
	}
	var a Archive
	err = s.catalog.View(func(tx *catalog.Txn) (err error) {
		vrec, err := tx.Vault(vault)
		if err != nil {
			return err
		}
		if a.Record, err = tx.Version(vault, key, versionID); err != nil {
			// A caller the policies would refuse learns nothing of
			// what the vault holds.
			if _, aerr := s.authorize(caller, access{action: action, vault: vrec, key: key}, s.clock.Now().Time); aerr != nil {
				return aerr
			}
			return err
		}
		if _, err := s.authorize(caller, access{action: action, vault: vrec, key: key, ver: a.Record}, s.clock.Now().Time); err != nil {
			return err
		}
		a.IsLatest, err = tx.IsLatest(a.Record)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// Download returns a version's record and a reader of bytes [off, off+length)
// (length 0 means to the end). Every block is verified against its bitrot
// hash, and a full read is verified against the version's SHA-256 at EOF: the
// reader returns the exact bytes or an error wrapping wormvault.ErrDataLoss.
func (s *Store) Download(ctx context.Context, caller Caller, vault, key, versionID string, off, length int64) (*Archive, io.ReadCloser, error) {
	return s.DownloadArchive(ctx, caller, ReadRequest{Vault: vault, Key: key, VersionID: versionID, Offset: off, Length: length})
}

// DownloadArchive is Download with the request's customer key: a wrong
// key is refused before any byte is read.
func (s *Store) DownloadArchive(ctx context.Context, caller Caller, req ReadRequest) (*Archive, io.ReadCloser, error) {
	if n := len(req.IfRangeSHA256); n != 0 && n != 32 {
		return nil, nil, wormvault.InvalidArgument("if_range_sha256", "a SHA-256 is 32 bytes, got %d", n)
	}
	a, rc, err := s.download(ctx, caller, req.Vault, req.Key, req.VersionID, req.Offset, req.Length, req.CustomerKey, req.IfRangeSHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("vault.Download %s/%s: %w", req.Vault, req.Key, err)
	}
	return a, rc, nil
}

func (s *Store) download(ctx context.Context, caller Caller, vault, key, versionID string, off, length int64, ck CustomerKey, ifRange []byte) (*Archive, io.ReadCloser, error) {
	a, err := s.lookup(caller, "DownloadArchive", vault, key, versionID)
	if err != nil {
		return nil, nil, err
	}
	rec := a.Record
	if rec.GetDeleteMarker() {
		if versionID == "" {
			return nil, nil, fmt.Errorf("%w: latest version is a delete marker", wormvault.ErrArchiveNotFound)
		}
		return nil, nil, fmt.Errorf("%w: version %s is a delete marker and has no bytes", wormvault.ErrVersionNotFound, versionID)
	}
	// Before the range checks, which would tell a caller without the
	// customer key the version's size.
	if err := checkCustomerKey(caller, rec, ck); err != nil {
		return nil, nil, err
	}
	if len(ifRange) > 0 && !bytes.Equal(ifRange, rec.GetSha256()) {
		off, length = 0, 0
	}
	size := rec.GetSizeBytes()
	switch {
	case off < 0:
		return nil, nil, wormvault.InvalidArgument("offset", "must not be negative")
	case length < 0:
		return nil, nil, wormvault.InvalidArgument("length", "must not be negative")
	case off > size || (off == size && size > 0):
		return nil, nil, wormvault.InvalidArgument("offset", "offset %d is beyond the archive's %d bytes", off, size)
	}
	if length == 0 || length > size-off {
		length = size - off
	}
	// The data key before any byte: a KMS key that is not enabled, or is
	// over its quota, refuses the download, and every use is audited.
	var dataKey []byte
	if encrypted(rec) {
		if dataKey, err = s.readDataKey(ctx, caller, rec, ck); err != nil {
			return nil, nil, err
		}
	}
	if rec.GetInline() {
		var data []byte
		if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
			data, err = tx.Blob(rec.GetVersionId())
			return err
		}); err != nil {
			return nil, nil, fmt.Errorf("%w: inline bytes of %s: %w", wormvault.ErrDataLoss, rec.GetVersionId(), err)
		}
		if int64(len(data)) != storedSize(rec) {
			return nil, nil, fmt.Errorf("%w: inline bytes of %s are %d long, catalog says %d", wormvault.ErrDataLoss, rec.GetVersionId(), len(data), storedSize(rec))
		}
		var r io.ReadCloser
		if encrypted(rec) {
			if r, err = decryptRange(rec, dataKey, bytes.NewReader(data), nil, off, length); err != nil {
				return nil, nil, err
			}
		} else {
			r = io.NopCloser(bytes.NewReader(data[off : off+length]))
		}
		if off == 0 && length == size {
			return a, &verifyingReader{rc: r, sum: sha256.New(), want: rec.GetSha256()}, nil
		}
		return a, r, nil
	}
	obj, err := s.set.Open(ctx, rec.GetObjectId())
	if err != nil {
		if errors.Is(err, erasure.ErrNotFound) {
			return nil, nil, fmt.Errorf("%w: shards of %s are missing", wormvault.ErrDataLoss, rec.GetVersionId())
		}
		return nil, nil, err
	}
	if obj.Size() != storedSize(rec) {
		return nil, nil, fmt.Errorf("%w: shards of %s hold %d bytes, catalog says %d", wormvault.ErrDataLoss, rec.GetVersionId(), obj.Size(), storedSize(rec))
	}
	var r io.ReadCloser
	if encrypted(rec) {
		ra := &objectReaderAt{ctx: ctx, obj: obj}
		r, err = decryptRange(rec, dataKey, ra, ra, off, length)
	} else {
		r, err = obj.NewReader(ctx, off, length)
	}
	if err != nil {
		return nil, nil, err
	}
	if off == 0 && length == size {
		return a, &verifyingReader{rc: r, sum: sha256.New(), want: rec.GetSha256()}, nil
	}
	return a, r, nil
}

// verifyingReader checks a full read against the recorded SHA-256 before it
// reports EOF. Bitrot hashes already catch corruption block by block; this
// closes the last gap (a shard set consistent with itself but not with the
// catalog).
type verifyingReader struct {
	rc  io.ReadCloser
	sum interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}
	want []byte
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.sum.Write(p[:n])
	if err == io.EOF {
		if got := v.sum.Sum(nil); !bytes.Equal(got, v.want) {
			return n, fmt.Errorf("%w: sha256 of the bytes read is %x, recorded %x", wormvault.ErrDataLoss, got, v.want)
		}
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.rc.Close() }

// ListQuery selects archives of a vault.
type ListQuery struct {
	Vault, Prefix string
	AllVersions   bool
	PageSize      int
	PageToken     string
}

// ListArchives lists keys in byte order, versions newest first, and returns
// the token of the next page ("" at the end).
func (s *Store) ListArchives(ctx context.Context, caller Caller, q ListQuery) ([]*Archive, string, error) {
	caller, vault, err := s.resolveVault(caller, "vault", q.Vault)
	if err != nil {
		return nil, "", fmt.Errorf("vault.ListArchives %s: %w", q.Vault, err)
	}
	q.Vault = vault
	if len(q.Prefix) > wormvault.MaxKeyLen || !utf8.ValidString(q.Prefix) {
		return nil, "", wormvault.InvalidArgument("prefix", "must be valid UTF-8 of at most %d bytes", wormvault.MaxKeyLen)
	}
	var after []byte
	if q.PageToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.PageToken)
		if err != nil {
			return nil, "", wormvault.InvalidArgument("page_token", "not a token this server issued")
		}
		after = b
	}
	var (
		listed []catalog.Listed
		next   []byte
	)
	err = s.catalog.View(func(tx *catalog.Txn) (err error) {
		vrec, err := tx.Vault(q.Vault)
		if err != nil {
			return err
		}
		if _, err := s.authorize(caller, access{action: "ListArchives", vault: vrec}, s.clock.Now().Time); err != nil {
			return err
		}
		listed, next, err = tx.List(catalog.ListQuery{Vault: q.Vault, Prefix: q.Prefix, AllVersions: q.AllVersions, Limit: q.PageSize, After: after})
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("vault.ListArchives %s: %w", q.Vault, err)
	}
	out := make([]*Archive, len(listed))
	for i, l := range listed {
		out[i] = &Archive{Record: l.Version, IsLatest: l.IsLatest}
	}
	token := ""
	if next != nil {
		token = base64.RawURLEncoding.EncodeToString(next)
	}
	return out, token, nil
}

// DeleteResult says what a delete did.
type DeleteResult struct {
	VersionID    string
	DeleteMarker bool
}

// DeleteArchive without versionID adds a delete marker, whatever locks the
// versions carry: the data stays. With versionID it permanently removes that
// version, if the lock rules allow.
func (s *Store) DeleteArchive(ctx context.Context, caller Caller, vault, key, versionID string, bypass bool) (*DeleteResult, error) {
	r, err := s.deleteArchive(ctx, caller, vault, key, versionID, bypass)
	if err != nil {
		return nil, fmt.Errorf("vault.DeleteArchive %s/%s: %w", vault, key, err)
	}
	return r, nil
}

func (s *Store) deleteArchive(ctx context.Context, caller Caller, vault, key, versionID string, bypass bool) (*DeleteResult, error) {
	caller, vault, err := s.resolveVault(caller, "vault", vault)
	if err != nil {
		return nil, err
	}
	if err := validateAddress(vault, key, versionID); err != nil {
		return nil, err
	}
	if versionID == "" {
		return s.addDeleteMarker(ctx, caller, vault, key)
	}
	var removed *recordv1.Version
	err = s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		vrec, err := tx.Vault(vault)
		if err != nil {
			return nil, err
		}
		rec, err := tx.Version(vault, key, versionID)
		if err != nil {
			// As in lookup: a caller the policies refuse learns nothing
			// of what the vault holds.
			if _, aerr := s.authorize(caller, access{action: "DeleteArchive", vault: vrec, key: key}, s.clock.Now().Time); aerr != nil {
				return nil, aerr
			}
			return nil, err
		}
		now, err := s.clock.Decide()
		if err != nil {
			return nil, err
		}
		if _, err := s.authorize(caller, access{action: "DeleteArchive", vault: vrec, key: key, ver: rec}, now.Time); err != nil {
			return nil, err
		}
		if err := lock.CheckMFADelete(vrec.GetMfaDelete(), caller.MFAPresent); err != nil {
			return nil, err
		}
		allowed := bypass && s.mayBypassGovernance(caller, vrec, rec, now.Time)
		if err := lock.CheckDelete(now, lockVersion(rec), lock.Bypass{Requested: bypass, Allowed: allowed}); err != nil {
			return nil, err
		}
		removed = rec
		if rec.GetInline() {
			if err := tx.DeleteBlob(rec.GetVersionId()); err != nil {
				return nil, err
			}
		}
		return s.audited(tx, []*journal.Entry{versionDelete(now.Time, rec)}, tx.DeleteVersion(rec), deleteBypassEvent(caller, now, rec, allowed))
	})
	if err != nil {
		return nil, err
	}
	// The catalog no longer knows the version; its shards go now, or, if
	// this fails, with the next orphan sweep.
	if id := removed.GetObjectId(); id != "" {
		if err := s.deleteObject(context.WithoutCancel(ctx), id); err != nil {
			s.log.Warn("could not remove shards of a deleted version; the orphan sweep will", "object", id, "err", err)
		}
	}
	return &DeleteResult{VersionID: versionID, DeleteMarker: removed.GetDeleteMarker()}, nil
}

func (s *Store) addDeleteMarker(ctx context.Context, caller Caller, vault, key string) (*DeleteResult, error) {
	vid, err := wormvault.NewVersionID()
	if err != nil {
		return nil, err
	}
	rec := &recordv1.Version{
		Vault:        vault,
		Key:          key,
		VersionId:    string(vid),
		DeleteMarker: true,
		CreateTime:   timestamppb.New(s.clock.Now().Time),
	}
	err = s.commit(ctx, false, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		vrec, err := tx.Vault(vault)
		if err != nil {
			return nil, err
		}
		// A policy condition sees the version the marker hides (the
		// latest), so "deny deletes of archives younger than a year" lets a
		// marker hide an old archive and refuses it on a young one.
		var hidden *recordv1.Version
		if latest, err := tx.Version(vault, key, ""); err == nil && !latest.GetDeleteMarker() {
			hidden = latest
		}
		if _, err := s.authorize(caller, access{action: "DeleteArchive", vault: vrec, key: key, ver: hidden}, s.clock.Now().Time); err != nil {
			return nil, err
		}
		return []*journal.Entry{versionPut(rec.GetCreateTime().AsTime(), rec)}, tx.PutVersion(rec)
	})
	if err != nil {
		return nil, err
	}
	return &DeleteResult{VersionID: rec.GetVersionId(), DeleteMarker: true}, nil
}

// lockVersion is what the lock rules need of a version record.
func lockVersion(r *recordv1.Version) lock.Version {
	return lock.Version{
		CreateTime:   r.GetCreateTime().AsTime(),
		Retention:    retentionFromRecord(r.GetRetention()),
		Holds:        holdsFromRecord(r.GetLegalHolds()),
		DeleteMarker: r.GetDeleteMarker(),
	}
}

func retentionToRecord(r wormvault.Retention) *recordv1.Retention {
	if r.IsZero() {
		return nil
	}
	return &recordv1.Retention{Mode: recordv1.RetentionMode(r.Mode), RetainUntilTime: timestamppb.New(r.RetainUntil), FromDefault: r.FromDefault}
}

func retentionFromRecord(r *recordv1.Retention) wormvault.Retention {
	if r == nil || r.GetMode() == recordv1.RetentionMode_RETENTION_MODE_UNSPECIFIED {
		return wormvault.Retention{}
	}
	return wormvault.Retention{
		Mode:        wormvault.RetentionMode(r.GetMode()),
		RetainUntil: r.GetRetainUntilTime().AsTime(),
		FromDefault: r.GetFromDefault(),
	}
}

func holdsToRecord(hs []wormvault.LegalHold) []*recordv1.LegalHold {
	out := make([]*recordv1.LegalHold, len(hs))
	for i, h := range hs {
		out[i] = &recordv1.LegalHold{HoldId: h.ID, Reason: h.Reason, SetBy: h.SetBy, SetTime: timestamppb.New(h.SetTime)}
	}
	return out
}

func holdsFromRecord(hs []*recordv1.LegalHold) []wormvault.LegalHold {
	out := make([]wormvault.LegalHold, len(hs))
	for i, h := range hs {
		out[i] = wormvault.LegalHold{ID: h.GetHoldId(), Reason: h.GetReason(), SetBy: h.GetSetBy(), SetTime: h.GetSetTime().AsTime()}
	}
	return out
}

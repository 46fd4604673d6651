package vault

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/lock"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/journal"
	"github.com/wormvault/wormvault/vault/kms"
	"github.com/wormvault/wormvault/vault/sse"
)

// The built-in KMS in the store. Package kms decides; this file keeps the
// keys in the catalog (kms/<name>), journals every change as a
// kms_key_put entry and audits it in the same commit, and answers the one
// question the rules need of the archives: does a key encrypt a version
// under retention or legal hold now? The kmsuse/ index, written with each
// KMS-encrypted version (and replayed with it by a rebuild), lists the
// versions of one key so that question reads nothing else.
//
// Using a key costs one token of its quota and appends one audit event:
// KMS_GENERATE_DATA_KEY in the upload's commit, KMS_DECRYPT in a commit of
// its own per download. Both are shared (upload-style) commits under the
// store's uploadAudits lock, so downloads never take the exclusive commit
// lock; only the appends to the one audit chain are serialized, as they
// must be.
//
// A key's deletion is applied lazily, by the first use or read of the key
// after its deletion time (settleKMSKey), and only on a trusted clock and
// while nothing it encrypts is under retention or legal hold.
//
// The material of a deleted key is dropped from the catalog. The journal
// on the drives is append-only until compaction exists (vault/journal),
// so earlier kms_key_put entries keep it, wrapped under the master key.

// kmsRuntime is the store's in-memory KMS state; its zero value is ready.
type kmsRuntime struct {
	once  sync.Once
	quota *kms.Quota
}

// kmsQuota returns the per-key request quota of the store's configuration.
func (s *Store) kmsQuota() *kms.Quota {
	s.kms.once.Do(func() { s.kms.quota = kms.NewQuota(s.cfg.KMSRequestsPerSecond) })
	return s.kms.quota
}

// kmsKEK is the key-encryption key of one KMS key's material.
func (s *Store) kmsKEK(name string) []byte { return s.master.derive("kms", name) }

func kmsKeyPut(now time.Time, k *recordv1.KMSKey) *journal.Entry {
	e := entryAt(now)
	e.Change = &recordv1.JournalEntry_KmsKeyPut{KmsKeyPut: k}
	return e
}

func timeToRecord(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func timeFromRecord(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

func kmsKeyFromRecord(r *recordv1.KMSKey) kms.Key {
	k := kms.Key{
		Name:                r.GetName(),
		Description:         r.GetDescription(),
		State:               kms.State(r.GetState()),
		Created:             timeFromRecord(r.GetCreateTime()),
		DisableUntil:        timeFromRecord(r.GetDisableUntil()),
		DeletionTime:        timeFromRecord(r.GetDeletionTime()),
		StateBeforeDeletion: kms.State(r.GetStateBeforeDeletion()),
	}
	for _, v := range r.GetVersions() {
		k.Versions = append(k.Versions, kms.Version{Number: v.GetVersion(), Wrapped: v.GetWrappedMaterial(), Created: timeFromRecord(v.GetCreateTime())})
	}
	return k
}

func kmsKeyToRecord(k kms.Key) *recordv1.KMSKey {
	r := &recordv1.KMSKey{
		Name:                k.Name,
		Description:         k.Description,
		State:               recordv1.KMSKeyState(k.State),
		CreateTime:          timeToRecord(k.Created),
		DisableUntil:        timeToRecord(k.DisableUntil),
		DeletionTime:        timeToRecord(k.DeletionTime),
		StateBeforeDeletion: recordv1.KMSKeyState(k.StateBeforeDeletion),
	}
	for _, v := range k.Versions {
		r.Versions = append(r.Versions, &recordv1.KMSKeyVersion{Version: v.Number, WrappedMaterial: v.Wrapped, CreateTime: timeToRecord(v.Created)})
	}
	return r
}

// kmsEvent describes a key's management event.
func kmsEvent(kind string, caller Caller, k kms.Key, details map[string]string) *recordv1.AuditEvent {
	d := map[string]string{"kms_key": k.Name, "state": k.State.String(), "kms_key_version": strconv.FormatUint(uint64(k.Current().Number), 10)}
	for n, v := range details {
		d[n] = v
	}
	return auditEvent(kind, caller, "", "", "", d)
}

// kmsUseEvent describes the use of a version's KMS key.
func kmsUseEvent(kind string, caller Caller, rec *recordv1.Version) *recordv1.AuditEvent {
	enc := rec.GetEncryption()
	return auditEvent(kind, caller, rec.GetVault(), rec.GetKey(), rec.GetVersionId(), map[string]string{
		"kms_key": enc.GetKmsKey(), "kms_key_version": strconv.FormatUint(uint64(enc.GetKmsKeyVersion()), 10),
	})
}

// protectedUnderKMSKey names ("vault/key@version") a version encrypted
// under the KMS key that is under retention or legal hold at now, by the
// lock rules (an expiry seen only by an untrusted clock still protects),
// or returns "" when none is.
func protectedUnderKMSKey(tx *catalog.Txn, name string, now lock.Now) (string, error) {
	var found string
	err := tx.EachKMSUse(name, func(vault, id string) (bool, error) {
		v, key, ok, err := tx.VersionLocation(id)
		if err != nil || !ok || v != vault {
			return err == nil, err // deleted since: skip it
		}
		rec, err := tx.Version(vault, key, id)
		if errors.Is(err, wormvault.ErrNotFound) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if len(lock.Explain(now, lockVersion(rec))) > 0 {
			found = vault + "/" + key + "@" + id
			return false, nil
		}
		return true, nil
	})
	return found, err
}

// settleKMSKey deletes the material of the named key if its deletion time
// has come, the clock is trusted and nothing it encrypts is under
// retention or legal hold; otherwise the key stays pending deletion
// (unusable, material kept) and the next use or read tries again.
func (s *Store) settleKMSKey(ctx context.Context, name string) error {
	due := false
	if err := s.catalog.View(func(tx *catalog.Txn) error {
		rec, err := tx.KMSKey(name)
		if err == nil {
			due = kmsKeyFromRecord(rec).DeletionDue(s.clock.Now().Time)
		}
		return nil // a missing key is the caller's to report
	}); err != nil || !due {
		return err
	}
	return s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		rec, err := tx.KMSKey(name)
		if err != nil {
			return nil, err
		}
		k := kmsKeyFromRecord(rec)
		now, err := s.clock.Decide()
		if err != nil || !k.DeletionDue(now.Time) {
			return nil, nil // no material is destroyed on an untrusted clock
		}
		protected, err := protectedUnderKMSKey(tx, name, now)
		if err != nil {
			return nil, err
		}
		if protected != "" {
			s.log.Warn("a KMS key's deletion time has passed but it encrypts a version under retention or legal hold: its material is kept", "kms_key", name, "version", protected)
			return nil, nil
		}
		k = k.Delete()
		rec = kmsKeyToRecord(k)
		return s.audited(tx, []*journal.Entry{kmsKeyPut(now.Time, rec)}, tx.PutKMSKey(rec), kmsEvent(audit.KindKMSKeyDeleted, Caller{}, k, nil))
	})
}

// CreateKMSKey creates an enabled KMS key with version 1 of its material.
func (s *Store) CreateKMSKey(ctx context.Context, caller Caller, name, description string) (kms.Key, error) {
	k, err := s.createKMSKey(ctx, caller, name, description)
	if err != nil {
		return kms.Key{}, fmt.Errorf("vault.CreateKMSKey %s: %w", name, err)
	}
	return k, nil
}

func (s *Store) createKMSKey(ctx context.Context, caller Caller, name, description string) (kms.Key, error) {
	if err := kms.ValidateName("name", name); err != nil {
		return kms.Key{}, err
	}
	if err := kms.ValidateDescription("description", description); err != nil {
		return kms.Key{}, err
	}
	if err := s.AuthorizeGlobal(caller, "CreateKey"); err != nil {
		return kms.Key{}, err
	}
	now := s.clock.Now().Time
	k, err := kms.New(s.kmsKEK(name), name, description, now)
	if err != nil {
		return kms.Key{}, err
	}
	rec := kmsKeyToRecord(k)
	err = s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		if _, err := tx.KMSKey(name); err == nil {
			return nil, fmt.Errorf("%w: %q (names are never reused, even once deleted)", wormvault.ErrKMSKeyExists, name)
		} else if !errors.Is(err, wormvault.ErrKMSKeyNotFound) {
			return nil, err
		}
		return s.audited(tx, []*journal.Entry{kmsKeyPut(now, rec)}, tx.PutKMSKey(rec),
			kmsEvent(audit.KindKMSKeyCreate, caller, k, map[string]string{"description": description}))
	})
	return k, err
}

// GetKMSKey returns a KMS key as it stands now.
func (s *Store) GetKMSKey(ctx context.Context, caller Caller, name string) (kms.Key, error) {
	if err := kms.ValidateName("name", name); err != nil {
		return kms.Key{}, err
	}
	if err := s.AuthorizeGlobal(caller, "GetKey"); err != nil {
		return kms.Key{}, fmt.Errorf("vault.GetKMSKey %s: %w", name, err)
	}
	if err := s.settleKMSKey(ctx, name); err != nil {
		return kms.Key{}, fmt.Errorf("vault.GetKMSKey %s: %w", name, err)
	}
	var k kms.Key
	err := s.catalog.View(func(tx *catalog.Txn) error {
		rec, err := tx.KMSKey(name)
		if err == nil {
			k = kmsKeyFromRecord(rec).Effective(s.clock.Now().Time)
		}
		return err
	})
	if err != nil {
		return kms.Key{}, fmt.Errorf("vault.GetKMSKey %s: %w", name, err)
	}
	return k, nil
}

// ListKMSKeys returns up to limit keys named after `after`, in name order,
// as they stand now, and whether more follow.
func (s *Store) ListKMSKeys(ctx context.Context, caller Caller, after string, limit int) ([]kms.Key, bool, error) {
	if err := s.AuthorizeGlobal(caller, "ListKeys"); err != nil {
		return nil, false, fmt.Errorf("vault.ListKMSKeys: %w", err)
	}
	list := func() (keys []kms.Key, due []string, err error) {
		err = s.catalog.View(func(tx *catalog.Txn) error {
			recs, err := tx.KMSKeys(after, limit+1)
			for _, r := range recs {
				keys = append(keys, kmsKeyFromRecord(r))
			}
			return err
		})
		now := s.clock.Now().Time
		for i, k := range keys {
			if k.DeletionDue(now) {
				due = append(due, k.Name)
			}
			keys[i] = k.Effective(now)
		}
		return keys, due, err
	}
	keys, due, err := list()
	if err == nil && len(due) > 0 {
		for _, name := range due {
			if err = s.settleKMSKey(ctx, name); err != nil {
				break
			}
		}
		if err == nil {
			keys, _, err = list()
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("vault.ListKMSKeys: %w", err)
	}
	more := len(keys) > limit
	if more {
		keys = keys[:limit]
	}
	return keys, more, nil
}

// changeKMSKey authorizes action and applies change to the named key in
// one exclusive commit, journaled and audited.
func (s *Store) changeKMSKey(ctx context.Context, caller Caller, action, name string, change func(tx *catalog.Txn, k kms.Key, now lock.Now) (kms.Key, *recordv1.AuditEvent, error)) (kms.Key, error) {
	var out kms.Key
	err := func() error {
		if err := kms.ValidateName("name", name); err != nil {
			return err
		}
		if err := s.AuthorizeGlobal(caller, action); err != nil {
			return err
		}
		if err := s.settleKMSKey(ctx, name); err != nil {
			return err
		}
		return s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
			rec, err := tx.KMSKey(name)
			if err != nil {
				return nil, err
			}
			now := s.clock.Now()
			k, ev, err := change(tx, kmsKeyFromRecord(rec), now)
			if err != nil {
				return nil, err
			}
			out = k.Effective(now.Time)
			rec = kmsKeyToRecord(k)
			return s.audited(tx, []*journal.Entry{kmsKeyPut(now.Time, rec)}, tx.PutKMSKey(rec), ev)
		})
	}()
	if err != nil {
		return kms.Key{}, fmt.Errorf("vault.%s %s: %w", action, name, err)
	}
	return out, nil
}

// DisableKMSKey disables a key for days days (0: until enabled); see
// kms.Key.Disable for the limit while the key protects a version under
// retention or legal hold.
func (s *Store) DisableKMSKey(ctx context.Context, caller Caller, name string, days int) (kms.Key, error) {
	return s.changeKMSKey(ctx, caller, "DisableKey", name, func(tx *catalog.Txn, k kms.Key, now lock.Now) (kms.Key, *recordv1.AuditEvent, error) {
		protected := ""
		if days == 0 || days > kms.MaxProtectedDisableDays {
			var err error
			if protected, err = protectedUnderKMSKey(tx, name, now); err != nil {
				return kms.Key{}, nil, err
			}
		}
		k, err := k.Disable(now.Time, days, protected)
		if err != nil {
			return kms.Key{}, nil, err
		}
		until := ""
		if !k.DisableUntil.IsZero() {
			until = k.DisableUntil.UTC().Format(time.RFC3339Nano)
		}
		return k, kmsEvent(audit.KindKMSKeyDisable, caller, k, map[string]string{"disable_days": strconv.Itoa(days), "disable_until": until}), nil
	})
}

// EnableKMSKey ends a key's disable.
func (s *Store) EnableKMSKey(ctx context.Context, caller Caller, name string) (kms.Key, error) {
	return s.changeKMSKey(ctx, caller, "EnableKey", name, func(_ *catalog.Txn, k kms.Key, now lock.Now) (kms.Key, *recordv1.AuditEvent, error) {
		k, err := k.Enable(now.Time)
		return k, kmsEvent(audit.KindKMSKeyEnable, caller, k, nil), err
	})
}

// RotateKMSKey adds a new current version of the key's material.
func (s *Store) RotateKMSKey(ctx context.Context, caller Caller, name string) (kms.Key, error) {
	return s.changeKMSKey(ctx, caller, "RotateKey", name, func(_ *catalog.Txn, k kms.Key, now lock.Now) (kms.Key, *recordv1.AuditEvent, error) {
		k, err := k.Rotate(s.kmsKEK(name), now.Time)
		return k, kmsEvent(audit.KindKMSKeyRotate, caller, k, nil), err
	})
}

// ScheduleKMSKeyDeletion makes a key unusable now and deletes its
// material after pendingDays, refused while it encrypts a version under
// retention or legal hold.
func (s *Store) ScheduleKMSKeyDeletion(ctx context.Context, caller Caller, name string, pendingDays int) (kms.Key, error) {
	if err := kms.ValidatePendingDays("pending_days", pendingDays); err != nil {
		return kms.Key{}, err
	}
	return s.changeKMSKey(ctx, caller, "ScheduleKeyDeletion", name, func(tx *catalog.Txn, k kms.Key, now lock.Now) (kms.Key, *recordv1.AuditEvent, error) {
		protected, err := protectedUnderKMSKey(tx, name, now)
		if err != nil {
			return kms.Key{}, nil, err
		}
		if k, err = k.ScheduleDeletion(now.Time, pendingDays, protected); err != nil {
			return kms.Key{}, nil, err
		}
		return k, kmsEvent(audit.KindKMSKeyScheduleDeletion, caller, k, map[string]string{
			"pending_days": strconv.Itoa(pendingDays), "deletion_time": k.DeletionTime.UTC().Format(time.RFC3339Nano),
		}), nil
	})
}

// CancelKMSKeyDeletion returns a key pending deletion to its state before.
func (s *Store) CancelKMSKeyDeletion(ctx context.Context, caller Caller, name string) (kms.Key, error) {
	return s.changeKMSKey(ctx, caller, "CancelKeyDeletion", name, func(_ *catalog.Txn, k kms.Key, now lock.Now) (kms.Key, *recordv1.AuditEvent, error) {
		k, err := k.CancelDeletion(now.Time)
		return k, kmsEvent(audit.KindKMSKeyCancelDeletion, caller, k, nil), err
	})
}

// loadKMSKey reads a key for use by an upload or a download; field names
// what named it, for the error of a key that does not exist.
func (s *Store) loadKMSKey(ctx context.Context, field, name string) (kms.Key, error) {
	if err := s.settleKMSKey(ctx, name); err != nil {
		return kms.Key{}, err
	}
	var k kms.Key
	err := s.catalog.View(func(tx *catalog.Txn) error {
		rec, err := tx.KMSKey(name)
		if err == nil {
			k = kmsKeyFromRecord(rec)
		}
		return err
	})
	if errors.Is(err, wormvault.ErrKMSKeyNotFound) {
		return kms.Key{}, fmt.Errorf("%w: %s names no KMS key %q", wormvault.ErrKMSKeyNotFound, field, name)
	}
	return k, err
}

// newKMSEncryption returns a fresh data key for a new version, wrapped
// under the current version of KMS key name; field names what chose the
// key. The audit event and the kmsuse entry come with the version's
// commit (kmsUploadEvents, withKMSUse).
func (s *Store) newKMSEncryption(ctx context.Context, field, name, versionID string) ([]byte, *recordv1.Encryption, error) {
	k, err := s.loadKMSKey(ctx, field, name)
	if err != nil {
		return nil, nil, err
	}
	if err := k.Usable(s.clock.Now().Time); err != nil {
		return nil, nil, err
	}
	if err := s.kmsQuota().Take(name, time.Now()); err != nil {
		return nil, nil, err
	}
	dataKey, err := sse.GenerateDataKey()
	if err != nil {
		return nil, nil, err
	}
	wrapped, version, err := k.WrapDataKey(s.kmsKEKFor(k, k.Current().Number), dataKey, []byte(versionID))
	if err != nil {
		return nil, nil, err
	}
	return dataKey, &recordv1.Encryption{Mode: recordv1.EncryptionMode_ENCRYPTION_MODE_KMS, WrappedKey: wrapped, KmsKey: name, KmsKeyVersion: version}, nil
}

// kmsUploadEvents returns the KMS_GENERATE_DATA_KEY event of a new
// version encrypted under a KMS key, nothing for other versions.
func kmsUploadEvents(caller Caller, rec *recordv1.Version) []*recordv1.AuditEvent {
	if rec.GetEncryption().GetMode() != recordv1.EncryptionMode_ENCRYPTION_MODE_KMS {
		return nil
	}
	return []*recordv1.AuditEvent{kmsUseEvent(audit.KindKMSGenerateDataKey, caller, rec)}
}

// withKMSUse extends an upload's decide for a version encrypted under a
// KMS key: the key must still be usable at the commit (it may have been
// disabled during a long upload), and the version joins the key's kmsuse
// index in the same transaction.
func (s *Store) withKMSUse(rec *recordv1.Version, decide func(tx *catalog.Txn) ([]*journal.Entry, error)) func(tx *catalog.Txn) ([]*journal.Entry, error) {
	enc := rec.GetEncryption()
	if enc.GetMode() != recordv1.EncryptionMode_ENCRYPTION_MODE_KMS {
		return decide
	}
	return func(tx *catalog.Txn) ([]*journal.Entry, error) {
		krec, err := tx.KMSKey(enc.GetKmsKey())
		if err != nil {
			return nil, err
		}
		if err := kmsKeyFromRecord(krec).Usable(s.clock.Now().Time); err != nil {
			return nil, err
		}
		if err := tx.PutKMSUse(enc.GetKmsKey(), rec.GetVault(), rec.GetVersionId()); err != nil {
			return nil, err
		}
		return decide(tx)
	}
}

// kmsDecrypt unwraps a KMS-encrypted version's data key for caller's
// download: the key must be enabled, its quota is spent, and a
// KMS_DECRYPT event is appended in a shared commit.
func (s *Store) kmsDecrypt(ctx context.Context, caller Caller, rec *recordv1.Version) ([]byte, error) {
	enc := rec.GetEncryption()
	name := enc.GetKmsKey()
	k, err := s.loadKMSKey(ctx, "version "+rec.GetVersionId(), name)
	if errors.Is(err, wormvault.ErrKMSKeyNotFound) {
		// Keys are never removed: the catalog lost it.
		return nil, fmt.Errorf("%w: %v", wormvault.ErrDataLoss, err)
	}
	if err != nil {
		return nil, err
	}
	if err := k.Usable(s.clock.Now().Time); err != nil {
		return nil, err
	}
	if err := s.kmsQuota().Take(name, time.Now()); err != nil {
		return nil, err
	}
	var dataKey []byte
	err = s.commitUpload(context.WithoutCancel(ctx), []*recordv1.AuditEvent{kmsUseEvent(audit.KindKMSDecrypt, caller, rec)}, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		krec, err := tx.KMSKey(name)
		if err != nil {
			return nil, err
		}
		k := kmsKeyFromRecord(krec)
		if err := k.Usable(s.clock.Now().Time); err != nil {
			return nil, err
		}
		dataKey, err = k.UnwrapDataKey(s.kmsKEKFor(k, enc.GetKmsKeyVersion()), enc.GetKmsKeyVersion(), enc.GetWrappedKey(), []byte(rec.GetVersionId()))
		return nil, err
	})
	if err != nil {
		return nil, err
	}
	return dataKey, nil
}

// kmsDataKey unwraps a KMS-encrypted version's data key for the server's
// own checks (scrub): no caller, no quota, no audit event, and the key's
// state does not matter as long as its material exists, because no byte
// leaves the server.
func (s *Store) kmsDataKey(rec *recordv1.Version) ([]byte, error) {
	enc := rec.GetEncryption()
	var k kms.Key
	if err := s.catalog.View(func(tx *catalog.Txn) error {
		krec, err := tx.KMSKey(enc.GetKmsKey())
		if err == nil {
			k = kmsKeyFromRecord(krec)
		}
		return err
	}); err != nil {
		return nil, err
	}
	return k.UnwrapDataKey(s.kmsKEKFor(k, enc.GetKmsKeyVersion()), enc.GetKmsKeyVersion(), enc.GetWrappedKey(), []byte(rec.GetVersionId()))
}

// checkDefaultKMSKey checks the key a vault default names: it must exist
// and not be deleted.
func checkDefaultKMSKey(tx *catalog.Txn, field, name string) error {
	rec, err := tx.KMSKey(name)
	if errors.Is(err, wormvault.ErrKMSKeyNotFound) {
		return fmt.Errorf("%w: %s names no KMS key %q", wormvault.ErrKMSKeyNotFound, field, name)
	}
	if err != nil {
		return err
	}
	if kms.State(rec.GetState()) == kms.StateDeleted {
		return fmt.Errorf("%w: %s names KMS key %q, which is deleted", wormvault.ErrKMSKeyDeleted, field, name)
	}
	return nil
}

// commitNewVersion commits an upload's new version (commitUpload with the
// protection events of uploadAuditEvents); a version encrypted under a KMS
// key also records the key's use in the same commit: the
// KMS_GENERATE_DATA_KEY event and its kmsuse entry (withKMSUse). The
// upload's access-log record, when its vault logs, goes into the same
// commit (inboxAccess).
func (s *Store) commitNewVersion(ctx context.Context, caller Caller, a *Archive, decide func(tx *catalog.Txn) ([]*journal.Entry, error)) error {
	rec := a.Record
	decide = s.withKMSUse(rec, decide)
	var note *AccessNote
	err := s.commitUpload(ctx, append(kmsUploadEvents(caller, rec), uploadAuditEvents(caller, rec)...), func(tx *catalog.Txn) ([]*journal.Entry, error) {
		entries, err := decide(tx)
		if err != nil {
			return nil, err
		}
		note, err = s.inboxAccess(ctx, tx, a)
		return entries, err
	})
	if err == nil && note != nil {
		note.committed.Store(true)
	}
	return err
}

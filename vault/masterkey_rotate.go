package vault

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/internal/atomicfile"
	"github.com/wormvault/wormvault/lock"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/journal"
	"github.com/wormvault/wormvault/vault/sse"
)

// Master-key rotation replaces the master key without rewriting a byte of
// archive data: what the master key protects is a handful of wrapped keys
// and the catalog's own encryption key.
//
//   - wrapped under keys derived from it: every SERVICE version's data key
//     (per vault), KMS key material (per KMS key), MFA secrets, the
//     receipt signing key, and the checkpoint keys of earlier master keys
//     (below);
//   - derived from it and never stored: Badger's key, the audit checkpoint
//     key.
//
// CUSTOMER versions (ssec.go) are wrapped under the caller's key and KMS
// versions under KMS material: nothing to do for them.
//
// The protocol, each step durable before the next, so that the new key is
// never lost and the old one opens everything not yet re-wrapped:
//
//  1. The new key is written to master.key.next (0600, fsynced) beside
//     the key file.
//  2. One exclusive commit switches the keyring (keyring.go) to the new
//     key: from then on the store wraps under it and unwraps under
//     whichever key opens. The same commit re-wraps the small things (KMS
//     keys, MFA devices, the receipt key) and stores the old key's
//     checkpoint key, wrapped under the new key, so that checkpoints
//     signed before the rotation still verify
//     (audit.Config.RetiredCheckpointKeys) while new ones are signed with
//     the new key's.
//  3. SERVICE versions are re-wrapped in batches, one exclusive commit
//     each. Every re-wrapped record is journaled like any change, so the
//     latest journal entry of each carries the new wrapping and a catalog
//     rebuilt from the journal reads under the new key alone.
//  4. One commit records the MASTER_KEY_ROTATE audit event and the new
//     key's id (meta master-key-id), once.
//  5. The catalog's key registry is re-encrypted under the new key's
//     Badger key (catalog.Rekey, an atomic rename).
//  6. The old key is copied to master.key.old-<time> (for the operator to
//     destroy once backups no longer need it) and master.key.next is
//     renamed over master.key.
//
// A crash anywhere leaves master.key.next: the next Open loads both keys,
// opens the catalog under whichever its registry is encrypted with, and
// runs the steps again (each skips what is done) before it serves. A
// rotation that fails without a crash is finished by calling
// RotateMasterKey again (or by a restart); it never goes back, because
// keys wrapped under the new key may already exist.
//
// An upload that wrapped its data key under the old key just before step 2
// may commit after step 3: every commit re-wraps such stale wrappings
// under the current key before it is journaled (rewrapStale), for as long
// as the process knows the old key.
//
// The journal is append-only (vault/journal): the entries written before
// a rotation keep the old wrappings, and whoever holds the old key and the
// drives can read those. Destroying the old key makes them unreadable.

// Crash points of a rotation (see crashpoint.go).
const (
	// CrashMasterKeyNextWritten: master.key.next is durable; nothing is
	// re-wrapped yet.
	CrashMasterKeyNextWritten = "master-key-next-written"
	// CrashMasterKeyRewrapBatch: a batch of versions was re-wrapped and
	// committed; others are not yet.
	CrashMasterKeyRewrapBatch = "master-key-rewrap-batch"
	// CrashMasterKeyCatalogRekeyed: the catalog is re-keyed and the key
	// files are not switched yet.
	CrashMasterKeyCatalogRekeyed = "master-key-catalog-rekeyed"
)

const (
	// metaMasterKeyID is the id of the master key everything was last
	// re-wrapped under (set by step 4).
	metaMasterKeyID = "master-key-id"
	// metaRetiredCheckpointKey + an old master key's id holds that key's
	// audit checkpoint key, wrapped under the current master key.
	metaRetiredCheckpointKey = "audit-checkpoint-retired/"
	// rewrapBatch is how many versions one commit of step 3 re-wraps.
	rewrapBatch = 256
)

// nextMasterKeyPath is where a rotation writes the new key first.
func (c Config) nextMasterKeyPath() string { return c.masterKeyPath() + ".next" }

// loadMasterKeys loads the master key and, when a rotation was cut short,
// the new key it left, which becomes the current one.
func (c Config) loadMasterKeys() (*keyring, error) {
	cur, err := c.loadMasterKey()
	if err != nil {
		return nil, err
	}
	next, err := readMasterKey(c.nextMasterKeyPath())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return newKeyring(cur, MasterKey{}), nil
	case err != nil:
		return nil, fmt.Errorf("vault: an unfinished master-key rotation left %s, which does not load (restore it; it may already wrap keys): %w", c.nextMasterKeyPath(), err)
	}
	if bytes.Equal(next.b, cur.b) {
		return newKeyring(cur, MasterKey{}), nil
	}
	return newKeyring(next, cur), nil
}

// masterKeyFileContent is what a key file holds: 64 hex digits.
func masterKeyFileContent(k MasterKey) []byte { return []byte(hex.EncodeToString(k.b) + "\n") }

// retireMasterKeyFile keeps the old key as <key file>.old-<time> (or
// finds the copy an interrupted run made) and renames the new key over
// the key file. It returns the old key's file.
func (c Config) retireMasterKeyFile(old MasterKey, now time.Time) (string, error) {
	path := c.masterKeyPath()
	kept, err := filepath.Glob(path + ".old-*")
	if err != nil {
		return "", err
	}
	oldPath := ""
	for _, p := range kept {
		if k, err := readMasterKey(p); err == nil && bytes.Equal(k.b, old.b) {
			oldPath = p
		}
	}
	if oldPath == "" {
		oldPath = path + ".old-" + now.UTC().Format("20060102T150405Z")
		for i := 2; ; i++ {
			if _, err := os.Lstat(oldPath); errors.Is(err, fs.ErrNotExist) {
				break
			}
			oldPath = fmt.Sprintf("%s.old-%s-%d", path, now.UTC().Format("20060102T150405Z"), i)
		}
		if err := atomicfile.WriteFile(oldPath, masterKeyFileContent(old), 0o600); err != nil {
			return "", fmt.Errorf("vault: keep the old master key: %w", err)
		}
	}
	if err := os.Rename(c.nextMasterKeyPath(), path); err != nil {
		return "", fmt.Errorf("vault: install the new master key: %w", err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		return "", fmt.Errorf("vault: install the new master key: %w", err)
	}
	return oldPath, nil
}

// MasterKeyRotation reports what a master-key rotation did.
type MasterKeyRotation struct {
	RewrappedVersions, RewrappedKMSKeys, RewrappedMFADevices int
	// SkippedVersions ("vault/key@version") have a data key that unwraps
	// under neither key: damaged records, unreadable before too.
	SkippedVersions []string
	// OldKeyID and NewKeyID name the keys (MasterKey ids, not the keys).
	OldKeyID, NewKeyID string
	// OldKeyFile is where the old key was kept, for the operator to
	// destroy.
	OldKeyFile string
	// Resumed is set when this run finished an interrupted rotation.
	Resumed bool
}

// RotateMasterKey replaces the master key with a fresh one (see the top of
// this file) and returns what it re-wrapped. If an earlier rotation did
// not finish, it finishes that one instead. Root only.
func (s *Store) RotateMasterKey(ctx context.Context, caller Caller) (MasterKeyRotation, error) {
	confirmed := false
	if err := s.catalog.View(func(tx *catalog.Txn) error {
		ds, err := tx.MFADevices()
		for _, d := range ds {
			confirmed = confirmed || d.GetConfirmed()
		}
		return err
	}); err != nil {
		return MasterKeyRotation{}, fmt.Errorf("vault.RotateMasterKey: %w", err)
	}
	if err := lock.CheckMasterKeyRotation(caller.Root, confirmed, caller.MFAPresent); err != nil {
		return MasterKeyRotation{}, fmt.Errorf("vault.RotateMasterKey: %w", err)
	}
	s.master.rotation.Lock()
	defer s.master.rotation.Unlock()
	rep := MasterKeyRotation{Resumed: s.master.rotating()}
	var next MasterKey
	if !rep.Resumed {
		// A next key without a rotation in memory: an earlier call wrote it
		// and failed before switching. Finish with that key.
		k, err := readMasterKey(s.cfg.nextMasterKeyPath())
		switch {
		case err == nil:
			next, rep.Resumed = k, true
		case errors.Is(err, fs.ErrNotExist):
			if next, err = newMasterKey(); err == nil {
				err = atomicfile.WriteFile(s.cfg.nextMasterKeyPath(), masterKeyFileContent(next), 0o600)
			}
			if err != nil {
				return MasterKeyRotation{}, fmt.Errorf("vault.RotateMasterKey: write %s: %w", s.cfg.nextMasterKeyPath(), err)
			}
			s.crash(CrashMasterKeyNextWritten)
		default:
			return MasterKeyRotation{}, fmt.Errorf("vault.RotateMasterKey: %w", err)
		}
	}
	if err := s.finishRotation(ctx, caller, next, &rep); err != nil {
		return rep, fmt.Errorf("vault.RotateMasterKey (calling it again, or restarting, finishes it): %w", err)
	}
	return rep, nil
}

func newMasterKey() (MasterKey, error) {
	b, err := sse.GenerateDataKey()
	return MasterKey{b: b}, err
}

// resumeMasterKeyRotation finishes, in Open, a rotation a crash cut short.
func (s *Store) resumeMasterKeyRotation(ctx context.Context) error {
	if !s.master.rotating() {
		return nil
	}
	s.log.Warn("finishing an interrupted master-key rotation", "new_key_file", s.cfg.nextMasterKeyPath())
	s.master.rotation.Lock()
	defer s.master.rotation.Unlock()
	rep := MasterKeyRotation{Resumed: true}
	if err := s.finishRotation(ctx, Caller{Principal: "wormvault"}, MasterKey{}, &rep); err != nil {
		return fmt.Errorf("vault: finish the interrupted master-key rotation: %w", err)
	}
	s.log.Warn("master-key rotation finished", "old_key_file", rep.OldKeyFile, "rewrapped_versions", rep.RewrappedVersions)
	return nil
}

// finishRotation runs steps 2 to 6 with next (zero when it is already the
// current key). s.master.rotation is held.
func (s *Store) finishRotation(ctx context.Context, caller Caller, next MasterKey, rep *MasterKeyRotation) error {
	if err := s.rewrapKeys(ctx, next, rep); err != nil {
		return err
	}
	old, cur := s.master.previous(), s.master.current()
	rep.OldKeyID, rep.NewKeyID = old.id(), cur.id()
	// New checkpoints are signed with the new key's checkpoint key.
	s.openTrail()
	if err := s.rewrapVersions(ctx, rep); err != nil {
		return err
	}
	if err := s.recordRotation(ctx, caller, rep); err != nil {
		return err
	}
	if err := s.catalog.Rekey(ctx, cur.derive("badger")); err != nil {
		return err
	}
	s.crash(CrashMasterKeyCatalogRekeyed)
	oldFile, err := s.cfg.retireMasterKeyFile(old, time.Now())
	if err != nil {
		return err
	}
	rep.OldKeyFile = oldFile
	s.master.finish()
	s.log.Info("master key rotated", "old_key_id", rep.OldKeyID, "new_key_id", rep.NewKeyID, "old_key_file", oldFile)
	return nil
}

// rewrapKeys is step 2. Its commit also switches the keyring to next, so
// that no exclusive commit ever sees keys of both generations.
func (s *Store) rewrapKeys(ctx context.Context, next MasterKey, rep *MasterKeyRotation) error {
	return s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		if !next.isZero() {
			s.master.begin(next)
		}
		rep.RewrappedKMSKeys, rep.RewrappedMFADevices = 0, 0
		now := s.clock.Now().Time
		var entries []*journal.Entry
		for after := ""; ; {
			keys, err := tx.KMSKeys(after, 100)
			if err != nil {
				return nil, err
			}
			for _, k := range keys {
				changed := false
				for _, v := range k.GetVersions() {
					if v.GetWrappedMaterial() == nil {
						continue // deleted
					}
					w, ch, err := s.master.rewrap(v.GetWrappedMaterial(), kmsMaterialAAD(k.GetName(), v.GetVersion()), "kms", k.GetName())
					if errors.Is(err, errNoMasterKey) {
						// Unreadable before too; it cannot block the rotation.
						s.log.Error("the material of a KMS key version unwraps under no master key: left as it is", "kms_key", k.GetName(), "kms_key_version", v.GetVersion())
						continue
					}
					if err != nil {
						return nil, fmt.Errorf("KMS key %q version %d: %w", k.GetName(), v.GetVersion(), err)
					}
					v.WrappedMaterial, changed = w, changed || ch
				}
				if changed {
					rep.RewrappedKMSKeys++
					entries = append(entries, kmsKeyPut(now, k))
					if err := tx.PutKMSKey(k); err != nil {
						return nil, err
					}
				}
				after = k.GetName()
			}
			if len(keys) < 100 {
				break
			}
		}
		devices, err := tx.MFADevices()
		if err != nil {
			return nil, err
		}
		for _, d := range devices {
			w, changed, err := s.master.rewrap(d.GetWrappedSecret(), []byte(d.GetName()), "mfa-device")
			if errors.Is(err, errNoMasterKey) {
				s.log.Error("the secret of an MFA device unwraps under no master key: left as it is", "device", d.GetName())
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("MFA device %q: %w", d.GetName(), err)
			}
			if changed {
				d.WrappedSecret = w
				rep.RewrappedMFADevices++
				entries = append(entries, mfaDevicePut(now, d))
				if err := tx.PutMFADevice(d); err != nil {
					return nil, err
				}
			}
		}
		metaPut := func(name string, value []byte) error {
			e := entryAt(now)
			e.Change = &recordv1.JournalEntry_MetaPut{MetaPut: &recordv1.JournalMetaPut{Name: name, Value: value}}
			entries = append(entries, e)
			return tx.PutMeta(name, value)
		}
		if wrapped, err := tx.Meta(metaReceiptKey); err != nil {
			return nil, err
		} else if wrapped != nil {
			w, changed, err := s.master.rewrap(wrapped, []byte(metaReceiptKey), "receipt")
			if err != nil {
				return nil, fmt.Errorf("the receipt key: %w", err)
			}
			if changed {
				if err := metaPut(metaReceiptKey, w); err != nil {
					return nil, err
				}
			}
		}
		// Earlier keys' checkpoint keys move under the current key, and the
		// previous key's joins them.
		retired, err := tx.MetaWithPrefix(metaRetiredCheckpointKey)
		if err != nil {
			return nil, err
		}
		for name, wrapped := range retired {
			w, changed, err := s.master.rewrap(wrapped, []byte(name), "audit-retired")
			if err != nil {
				s.log.Error("a retired audit checkpoint key does not unwrap: checkpoints it signed will not verify", "name", name, "err", err)
				continue
			}
			if changed {
				if err := metaPut(name, w); err != nil {
					return nil, err
				}
			}
		}
		if prev := s.master.previous(); !prev.isZero() {
			name := metaRetiredCheckpointKey + prev.id()
			if _, ok := retired[name]; !ok {
				w, err := sse.WrapKey(s.master.derive("audit-retired"), prev.derive("audit-checkpoint"), []byte(name))
				if err != nil {
					return nil, err
				}
				if err := metaPut(name, w); err != nil {
					return nil, err
				}
			}
		}
		return entries, nil
	})
}

// versionAddr addresses one version.
type versionAddr struct{ vault, key, id string }

// rewrapVersions is step 3: SERVICE versions whose data key is wrapped
// under an older key, a batch per exclusive commit.
func (s *Store) rewrapVersions(ctx context.Context, rep *MasterKeyRotation) error {
	size := s.master.batch
	if size <= 0 {
		size = rewrapBatch
	}
	var after []byte
	for {
		var (
			batch []versionAddr
			next  []byte
		)
		err := s.catalog.View(func(tx *catalog.Txn) error {
			for len(batch) < size {
				recs, n, err := tx.VersionsAfter(after, size)
				if err != nil {
					return err
				}
				for _, v := range recs {
					enc := v.GetEncryption()
					if enc.GetMode() != recordv1.EncryptionMode_ENCRYPTION_MODE_SERVICE {
						continue
					}
					if _, err := sse.UnwrapKey(s.vaultKEK(v.GetVault()), enc.GetWrappedKey(), []byte(v.GetVersionId())); err != nil {
						batch = append(batch, versionAddr{v.GetVault(), v.GetKey(), v.GetVersionId()})
					}
				}
				after, next = n, n
				if n == nil {
					return nil
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(batch) > 0 {
			var skipped []string
			n := 0
			err := s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
				now := s.clock.Now().Time
				var entries []*journal.Entry
				skipped, n = nil, 0
				for _, a := range batch {
					rec, err := tx.Version(a.vault, a.key, a.id)
					if errors.Is(err, wormvault.ErrNotFound) {
						continue // deleted meanwhile
					}
					if err != nil {
						return nil, err
					}
					enc := rec.GetEncryption()
					w, changed, err := s.master.rewrap(enc.GetWrappedKey(), []byte(rec.GetVersionId()), "vault", rec.GetVault())
					if errors.Is(err, errNoMasterKey) {
						skipped = append(skipped, a.vault+"/"+a.key+"@"+a.id)
						continue
					}
					if err != nil {
						return nil, err
					}
					if !changed {
						continue
					}
					enc.WrappedKey = w
					n++
					entries = append(entries, versionPut(now, rec))
					if err := tx.PutVersion(rec); err != nil {
						return nil, err
					}
				}
				return entries, nil
			})
			if err != nil {
				return err
			}
			rep.RewrappedVersions += n
			rep.SkippedVersions = append(rep.SkippedVersions, skipped...)
			if len(skipped) > 0 {
				s.log.Error("versions whose data key unwraps under no master key were left as they are", "versions", strings.Join(skipped, ","))
			}
			s.crash(CrashMasterKeyRewrapBatch)
		}
		if next == nil {
			return nil
		}
	}
}

// recordRotation is step 4: the audit event and the new key's id, once
// per key.
func (s *Store) recordRotation(ctx context.Context, caller Caller, rep *MasterKeyRotation) error {
	return s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		id, err := tx.Meta(metaMasterKeyID)
		if err != nil || string(id) == rep.NewKeyID {
			return nil, err
		}
		now := s.clock.Now().Time
		e := entryAt(now)
		e.Change = &recordv1.JournalEntry_MetaPut{MetaPut: &recordv1.JournalMetaPut{Name: metaMasterKeyID, Value: []byte(rep.NewKeyID)}}
		ev := auditEvent(audit.KindMasterKeyRotate, caller, "", "", "", map[string]string{
			"old_key_id":            rep.OldKeyID,
			"new_key_id":            rep.NewKeyID,
			"rewrapped_versions":    strconv.Itoa(rep.RewrappedVersions),
			"rewrapped_kms_keys":    strconv.Itoa(rep.RewrappedKMSKeys),
			"rewrapped_mfa_devices": strconv.Itoa(rep.RewrappedMFADevices),
			"skipped_versions":      strings.Join(rep.SkippedVersions, ","),
			"resumed":               strconv.FormatBool(rep.Resumed),
		})
		return s.audited(tx, []*journal.Entry{e}, tx.PutMeta(metaMasterKeyID, []byte(rep.NewKeyID)), ev)
	})
}

// rewrapStale re-wraps, under the current master key, the keys a commit's
// entries carry wrapped under an older one (made before a rotation
// switched keys), and stores the records again: every commit calls it
// before journaling, so nothing committed after a rotation depends on the
// old key. Records that open under no key are left for the reader to
// report. Without a rotation in this process it costs nothing.
func (s *Store) rewrapStale(tx *catalog.Txn, entries []*journal.Entry) error {
	if len(s.master.older()) == 0 {
		return nil
	}
	// An entry wrapped under no master key this store holds stays as it
	// is (errNoMasterKey); any other failure to re-wrap fails the commit
	// rather than journal an entry the catalog would not match.
	var rerr error
	rewrap := func(wrapped, aad []byte, purpose string, context ...string) ([]byte, bool) {
		out, ch, err := s.master.rewrap(wrapped, aad, purpose, context...)
		if err != nil && !errors.Is(err, errNoMasterKey) && rerr == nil {
			rerr = err
		}
		return out, ch
	}
	for _, e := range entries {
		changed := false
		switch c := e.GetChange().(type) {
		case *recordv1.JournalEntry_VersionPut:
			enc := c.VersionPut.GetEncryption()
			if enc.GetMode() == recordv1.EncryptionMode_ENCRYPTION_MODE_SERVICE {
				enc.WrappedKey, changed = rewrap(enc.GetWrappedKey(), []byte(c.VersionPut.GetVersionId()), "vault", c.VersionPut.GetVault())
			}
		case *recordv1.JournalEntry_KmsKeyPut:
			k := c.KmsKeyPut
			for _, v := range k.GetVersions() {
				if v.GetWrappedMaterial() != nil {
					var ch bool
					v.WrappedMaterial, ch = rewrap(v.GetWrappedMaterial(), kmsMaterialAAD(k.GetName(), v.GetVersion()), "kms", k.GetName())
					changed = changed || ch
				}
			}
		case *recordv1.JournalEntry_MfaDevicePut:
			d := c.MfaDevicePut
			d.WrappedSecret, changed = rewrap(d.GetWrappedSecret(), []byte(d.GetName()), "mfa-device")
		case *recordv1.JournalEntry_MetaPut:
			m := c.MetaPut
			switch {
			case m.GetName() == metaReceiptKey:
				m.Value, changed = rewrap(m.GetValue(), []byte(m.GetName()), "receipt")
			case strings.HasPrefix(m.GetName(), metaRetiredCheckpointKey):
				m.Value, changed = rewrap(m.GetValue(), []byte(m.GetName()), "audit-retired")
			}
		}
		if rerr != nil {
			return fmt.Errorf("vault: re-wrap a journal entry under the current master key: %w", rerr)
		}
		if changed {
			if err := applyEntry(tx, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// retiredCheckpointKeys returns the checkpoint keys of earlier master
// keys, so that checkpoints they signed still verify: those stored by
// rotations (step 2) and those of the keys the keyring still holds.
func (s *Store) retiredCheckpointKeys() [][]byte {
	var out [][]byte
	for _, k := range s.master.older() {
		out = append(out, k.derive("audit-checkpoint"))
	}
	var stored map[string][]byte
	if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		stored, err = tx.MetaWithPrefix(metaRetiredCheckpointKey)
		return err
	}); err != nil {
		s.log.Error("could not read the retired audit checkpoint keys: checkpoints signed before a master-key rotation will not verify", "err", err)
		return out
	}
	for name, wrapped := range stored {
		k, err := s.master.unwrap(wrapped, []byte(name), "audit-retired")
		if err != nil {
			s.log.Error("a retired audit checkpoint key does not unwrap: checkpoints it signed will not verify", "name", name, "err", err)
			continue
		}
		out = append(out, k)
	}
	return out
}

package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/journal"
)

// RebuildReport says what a catalog rebuild recovered and what it found
// wrong on the way.
type RebuildReport struct {
	Entries                      int
	Vaults, Versions, AccessKeys int
	// Journal is the journal read: per drive, the entries missing or
	// disagreeing with the majority (the majority wins).
	Journal journal.Report
	// Mismatches are versions whose shard metadata disagrees with the
	// journal about what was stored (size, digest, name).
	Mismatches []string
	// Unreadable are versions whose shards could not be opened.
	Unreadable []string
	// Orphans counts objects on the drives that no journaled version owns:
	// uploads that never committed, or deleted versions whose shards were
	// not yet removed. The startup sweep removes them.
	Orphans int
}

func (r RebuildReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d journal entries: %d vaults, %d versions, %d access keys; %d orphan objects", r.Entries, r.Vaults, r.Versions, r.AccessKeys, r.Orphans)
	for _, d := range r.Journal.Drives {
		if !d.InLine() {
			fmt.Fprintf(&b, "; journal on %s: %d seqs disagree with the majority %v, missing %v", d.Dir, len(d.Disagree), d.Disagree, d.Missing)
			if d.Err != nil {
				fmt.Fprintf(&b, " (%v)", d.Err)
			}
		}
	}
	if len(r.Journal.Unacknowledged) > 0 {
		fmt.Fprintf(&b, "; journal entries on too few drives to have been acknowledged, skipped: %v", r.Journal.Unacknowledged)
	}
	if len(r.Journal.Gaps) > 0 {
		fmt.Fprintf(&b, "; journal entries lost: %v", r.Journal.Gaps)
	}
	if len(r.Mismatches) > 0 {
		fmt.Fprintf(&b, "; shard metadata disagrees with the journal: %v", r.Mismatches)
	}
	if len(r.Unreadable) > 0 {
		fmt.Fprintf(&b, "; shards unreadable: %v", r.Unreadable)
	}
	return b.String()
}

// rebuildEvent is the audit event of a rebuild: what it recovered and every
// disagreement it resolved, so a forged or damaged journal copy leaves a
// trace in the trail as well as in the log.
func rebuildEvent(r *RebuildReport) *recordv1.AuditEvent {
	d := map[string]string{
		"entries":  fmt.Sprint(r.Entries),
		"vaults":   fmt.Sprint(r.Vaults),
		"versions": fmt.Sprint(r.Versions),
		"orphans":  fmt.Sprint(r.Orphans),
		"clean":    fmt.Sprint(r.Journal.Clean() && len(r.Mismatches) == 0 && len(r.Unreadable) == 0),
	}
	for i, dr := range r.Journal.Drives {
		if dr.InLine() {
			continue
		}
		v := fmt.Sprintf("%s: disagree %v, missing %v", dr.Dir, dr.Disagree, dr.Missing)
		if dr.Err != nil {
			v += fmt.Sprintf(", error %v", dr.Err)
		}
		d[fmt.Sprintf("drive_%d", i)] = v
	}
	if len(r.Journal.Unacknowledged) > 0 {
		d["unacknowledged"] = fmt.Sprint(r.Journal.Unacknowledged)
	}
	if len(r.Journal.Gaps) > 0 {
		d["lost"] = fmt.Sprint(r.Journal.Gaps)
	}
	if len(r.Mismatches) > 0 {
		d["mismatches"] = strings.Join(r.Mismatches, ",")
	}
	if len(r.Unreadable) > 0 {
		d["unreadable"] = strings.Join(r.Unreadable, ",")
	}
	return &recordv1.AuditEvent{Kind: audit.KindCatalogRebuild, Principal: "wormvault", Details: d}
}

// LastRebuild returns the report of the rebuild that opening this store ran,
// or nil.
func (s *Store) LastRebuild() *RebuildReport { return s.lastRebuild }

// rebuildBatch is how many journal entries one catalog transaction applies.
const rebuildBatch = 500

// rebuild replays the journal into the (new, empty) catalog, then checks
// every version against the metadata its shards carry.
func (s *Store) rebuild(ctx context.Context) (RebuildReport, error) {
	var (
		rep     RebuildReport
		pending []*journal.Entry
		latest  time.Time
	)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := s.catalog.Update(ctx, func(tx *catalog.Txn) error {
			for _, e := range pending {
				if err := applyEntry(tx, e); err != nil {
					return fmt.Errorf("journal seq %d: %w", e.GetSeq(), err)
				}
			}
			return nil
		})
		pending = pending[:0]
		return err
	}
	jrep, err := s.journal.ReadAll(ctx, func(e *journal.Entry) error {
		rep.Entries++
		if t := e.GetTime().AsTime(); t.After(latest) {
			latest = t
		}
		pending = append(pending, e)
		if len(pending) == rebuildBatch {
			return flush()
		}
		return nil
	})
	rep.Journal = jrep
	if err != nil {
		return rep, err
	}
	if err := flush(); err != nil {
		return rep, err
	}

	// Count what came back and check it against the shards.
	owned := map[string]bool{}
	err = s.catalog.View(func(tx *catalog.Txn) error {
		vaults, err := tx.Vaults("", 1<<30)
		if err != nil {
			return err
		}
		rep.Vaults = len(vaults)
		return tx.EachVersion("", func(v *recordv1.Version) error {
			rep.Versions++
			if id := v.GetObjectId(); id != "" {
				owned[id] = true
				s.checkShardsAgainst(ctx, v, &rep)
			}
			return nil
		})
	})
	if err != nil {
		return rep, err
	}
	if err := s.set.Walk(ctx, func(id string, _ time.Time) error {
		if !owned[id] {
			rep.Orphans++
		}
		return nil
	}); err != nil {
		return rep, err
	}
	// The trusted clock must not restart behind the last decision the
	// journal records.
	if !latest.IsZero() {
		mark := clockMark{s.catalog}
		if old, err := mark.LoadMark(); err == nil && latest.After(old) {
			if err := mark.SaveMark(latest); err != nil {
				return rep, err
			}
		}
	}
	return rep, nil
}

// checkShardsAgainst compares a version's journaled record with the record
// its shards carry from upload time; the immutable fields must agree.
func (s *Store) checkShardsAgainst(ctx context.Context, v *recordv1.Version, rep *RebuildReport) {
	name := v.GetVault() + "/" + v.GetKey() + "@" + v.GetVersionId()
	obj, err := s.set.Open(ctx, v.GetObjectId())
	if err != nil {
		rep.Unreadable = append(rep.Unreadable, name+": "+err.Error())
		return
	}
	meta := new(recordv1.Version)
	if err := proto.Unmarshal(obj.Meta(), meta); err != nil {
		rep.Mismatches = append(rep.Mismatches, name+": shard metadata does not decode")
		return
	}
	if meta.GetVault() != v.GetVault() || meta.GetKey() != v.GetKey() || meta.GetVersionId() != v.GetVersionId() ||
		meta.GetSizeBytes() != v.GetSizeBytes() || !bytes.Equal(meta.GetSha256(), v.GetSha256()) || obj.Size() != storedSize(v) {
		rep.Mismatches = append(rep.Mismatches, name)
	}
}

// applyEntry applies one journal entry to the catalog. Every entry carries
// full records, so replay is idempotent.
func applyEntry(tx *catalog.Txn, e *journal.Entry) error {
	switch c := e.GetChange().(type) {
	case *recordv1.JournalEntry_VersionPut:
		if enc := c.VersionPut.GetEncryption(); enc.GetMode() == recordv1.EncryptionMode_ENCRYPTION_MODE_KMS {
			// The kmsuse index is written with the version, not journaled.
			if err := tx.PutKMSUse(enc.GetKmsKey(), c.VersionPut.GetVault(), c.VersionPut.GetVersionId()); err != nil {
				return err
			}
		}
		return tx.PutVersion(c.VersionPut)
	case *recordv1.JournalEntry_VersionDelete:
		d := c.VersionDelete
		if err := tx.DeleteBlob(d.GetVersionId()); err != nil {
			return err
		}
		return tx.DeleteVersion(&recordv1.Version{Vault: d.GetVault(), Key: d.GetKey(), VersionId: d.GetVersionId()})
	case *recordv1.JournalEntry_BlobPut:
		return tx.PutBlob(c.BlobPut)
	case *recordv1.JournalEntry_VaultPut:
		return tx.PutVault(c.VaultPut)
	case *recordv1.JournalEntry_VaultDelete:
		return tx.DeleteVault(c.VaultDelete.GetName())
	case *recordv1.JournalEntry_AccessKeyPut:
		return tx.PutAccessKey(c.AccessKeyPut)
	case *recordv1.JournalEntry_PrincipalPut:
		return tx.PutPrincipal(c.PrincipalPut)
	case *recordv1.JournalEntry_PrincipalDelete:
		return tx.DeletePrincipal(c.PrincipalDelete.GetName())
	case *recordv1.JournalEntry_AccessKeyDelete:
		return tx.DeleteAccessKey(c.AccessKeyDelete.GetKeyId())
	case *recordv1.JournalEntry_MetaPut:
		return tx.PutMeta(c.MetaPut.GetName(), c.MetaPut.GetValue())
	case *recordv1.JournalEntry_MfaDevicePut:
		return tx.PutMFADevice(c.MfaDevicePut)
	case *recordv1.JournalEntry_AuditEvent:
		return audit.Restore(tx, c.AuditEvent)
	case *recordv1.JournalEntry_KmsKeyPut:
		return tx.PutKMSKey(c.KmsKeyPut)
	case *recordv1.JournalEntry_AccessPointPut:
		return tx.PutAccessPoint(c.AccessPointPut)
	case *recordv1.JournalEntry_AccessPointDelete:
		return tx.DeleteAccessPoint(c.AccessPointDelete.GetName())
	case nil:
		return errors.New("entry carries no change")
	}
	return fmt.Errorf("unknown journal change %T: this server is older than the journal", e.GetChange())
}

// MoveCatalogAside renames dataDir/meta to meta.replaced-<time>, so the
// next Open rebuilds the catalog from the drives. The old directory is kept
// for inspection, never deleted.
func MoveCatalogAside(dataDir string) (string, error) {
	meta := filepath.Join(dataDir, "meta")
	if _, err := os.Stat(meta); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	aside := meta + ".replaced-" + time.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(meta, aside); err != nil {
		return "", err
	}
	return aside, nil
}

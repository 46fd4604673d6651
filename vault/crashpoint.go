package vault

import (
	"github.com/wormvault/wormvault/erasure"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/journal"
)

// Crash points are the places where a multi-step operation can be cut by a
// crash and the steps before it are durable while the ones after are not.
// Config.CrashPoint is called with the point's name at each; the crash
// harness (internal/crashtest) sets it, through the hidden
// `wormvault serve --crash-at NAME[:N]`, to a hook that kills the process
// with SIGKILL at the Nth hit, and then checks what a restart finds. In
// production the hook is nil and a point costs one nil check.
const (
	// CrashAfterShardWrite: an upload's shards are committed on the drives
	// and its catalog commit has not started (the startup sweep must remove
	// them).
	CrashAfterShardWrite = "after-shard-write"
	// CrashAfterJournalAppend: a commit's journal entries are durable on a
	// quorum of drives and its Badger transaction has not committed (the
	// next Open rolls the catalog forward). Every commit hits it; the
	// points below narrow it to one kind of change.
	CrashAfterJournalAppend = "after-journal-append"
	// CrashRetentionChange, CrashLegalHoldChange, CrashDeleteMarker,
	// CrashVaultLockComplete and CrashInlineUploadCommit are
	// CrashAfterJournalAppend for a SetRetention, a SetLegalHold, a delete
	// marker, a CompleteVaultLock and an inline upload's commit.
	CrashRetentionChange    = "retention-change"
	CrashLegalHoldChange    = "legal-hold-change"
	CrashDeleteMarker       = "delete-marker"
	CrashVaultLockComplete  = "vault-lock-complete"
	CrashInlineUploadCommit = "inline-upload-commit"
	// CrashAfterCatalogCommit: a commit's Badger transaction committed and
	// the caller has not heard yet (a permanent delete's shards are still
	// on the drives).
	CrashAfterCatalogCommit = "after-catalog-commit"
	// CrashHealMid: one object's damaged shards were rewritten, the heal's
	// audit event is not recorded, and the other objects of a HealAll are
	// not healed yet.
	CrashHealMid = "heal-mid"
	// CrashAccessLogDelivery: a batch of access-log records is committed as
	// an archive in the target vault and the records are not deleted yet.
	CrashAccessLogDelivery = "access-log-delivery"
)

// CrashPoints lists the names the store calls Config.CrashPoint with.
func CrashPoints() []string {
	return []string{
		CrashAfterShardWrite, CrashAfterJournalAppend, CrashRetentionChange, CrashLegalHoldChange,
		CrashDeleteMarker, CrashVaultLockComplete, CrashInlineUploadCommit, CrashAfterCatalogCommit,
		CrashHealMid, CrashAccessLogDelivery,
	}
}

// crash calls the crash hook, if any, at point.
func (s *Store) crash(point string) {
	if f := s.cfg.CrashPoint; f != nil {
		f(point)
	}
}

// crashAfterJournal is the crash point between a commit's journal append
// and its catalog commit: CrashAfterJournalAppend, then the narrower point
// of the change the entries describe, if it has one.
func (s *Store) crashAfterJournal(entries []*journal.Entry) {
	if s.cfg.CrashPoint == nil {
		return
	}
	s.crash(CrashAfterJournalAppend)
	if p := journalCrashPoint(entries); p != "" {
		s.crash(p)
	}
}

// journalCrashPoint names the kind of change a commit's entries describe,
// or "" for the kinds the harness does not target. The audit events tell
// the lock changes apart; an upload's own RETENTION_SET and LEGAL_HOLD_SET
// (action UploadArchive) are part of the upload, not a change of their own.
func journalCrashPoint(entries []*journal.Entry) string {
	inline := false
	for _, e := range entries {
		if ev := e.GetAuditEvent(); ev != nil && ev.GetDetails()["action"] != "UploadArchive" {
			switch ev.GetKind() {
			case audit.KindRetentionSet:
				return CrashRetentionChange
			case audit.KindLegalHoldSet, audit.KindLegalHoldRelease:
				return CrashLegalHoldChange
			case audit.KindVaultLockComplete:
				return CrashVaultLockComplete
			}
		}
		if e.GetVersionPut().GetDeleteMarker() {
			return CrashDeleteMarker
		}
		if e.GetBlobPut() != nil {
			inline = true
		}
	}
	if inline {
		return CrashInlineUploadCommit
	}
	return ""
}

// crashAfterCommit is CrashAfterCatalogCommit when err is nil: the commit's
// transaction is durable and its caller has not returned. It returns err.
func (s *Store) crashAfterCommit(err error) error {
	if err == nil {
		s.crash(CrashAfterCatalogCommit)
	}
	return err
}

// crashMidHeal is CrashHealMid after a heal that rewrote shards, before its
// caller records it. It passes the heal's results through.
func (s *Store) crashMidHeal(res erasure.HealResult, err error) (erasure.HealResult, error) {
	if res.Healed > 0 {
		s.crash(CrashHealMid)
	}
	return res, err
}

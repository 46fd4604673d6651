package vault

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/erasure"
	"github.com/wormvault/wormvault/lock"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/journal"
)

// Audit events are appended to the trail inside the catalog transaction of
// the change they describe (s.audited in a commit's decide function), and
// journaled beside the change's entries as an audit_event entry, so a
// catalog rebuild replays the trail with its sequences and digests. Every
// append runs in an exclusive commit or, for uploads, under uploadAudits
// (commitUpload), so appends never run concurrently and the journal's order
// is the trail's order.

// openTrail opens the audit trail. Its checkpoint key derives from the
// master key, so it is never stored and survives a catalog rebuild; the
// checkpoint keys of earlier master keys verify the checkpoints they
// signed (masterkey_rotate.go).
func (s *Store) openTrail() {
	key := s.master.derive("audit-checkpoint")
	s.trail.Store(audit.New(s.catalog, audit.Config{CheckpointKey: key, RetiredCheckpointKeys: s.retiredCheckpointKeys(), Now: func() time.Time { return s.clock.Now().Time }}))
}

// AuditTrail returns the store's audit trail.
func (s *Store) AuditTrail() *audit.Trail { return s.trail.Load() }

// auditEvent describes an event for s.audited; the trail sets the rest.
func auditEvent(kind string, caller Caller, vault, key, versionID string, details map[string]string) *recordv1.AuditEvent {
	return &recordv1.AuditEvent{Kind: kind, Principal: caller.Principal, Vault: vault, Key: key, VersionId: versionID, Details: details}
}

// audited appends evs (nil ones skipped) to the trail inside tx and returns
// entries followed by an audit_event entry for each. With err set it
// returns err: decide functions end with
// `return s.audited(tx, entries, tx.PutX(rec), ev)`.
func (s *Store) audited(tx *catalog.Txn, entries []*journal.Entry, err error, evs ...*recordv1.AuditEvent) ([]*journal.Entry, error) {
	if err != nil {
		return nil, err
	}
	for _, ev := range evs {
		if ev == nil {
			continue
		}
		if err := s.trail.Load().Append(tx, ev); err != nil {
			return nil, err
		}
		e := entryAt(ev.GetTime().AsTime())
		e.Change = &recordv1.JournalEntry_AuditEvent{AuditEvent: proto.Clone(ev).(*recordv1.AuditEvent)}
		entries = append(entries, e)
	}
	return entries, nil
}

// commitUpload commits an upload's version with its audit events. Upload
// commits share the commit lock, so their journal fsyncs batch; the ones
// that append events also hold uploadAudits, because every append moves
// the trail's head: concurrent appenders would only conflict in Badger and
// retry. Uploads that place no protection append nothing and pay nothing.
func (s *Store) commitUpload(ctx context.Context, evs []*recordv1.AuditEvent, decide func(tx *catalog.Txn) ([]*journal.Entry, error)) error {
	if len(evs) > 0 {
		s.uploadAudits.Lock()
		defer s.uploadAudits.Unlock()
	}
	return s.commit(ctx, false, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		entries, err := decide(tx)
		return s.audited(tx, entries, err, evs...)
	})
}

// uploadAuditEvents returns the events of the protection an upload
// places on its new version: RETENTION_SET for its retention (explicit or
// from the vault default; details add from_default), LEGAL_HOLD_SET for
// a hold. Details carry action=UploadArchive. One event per fact rather
// than one combined event, so filtering the trail by kind finds every
// placement; the cost that matters on the hot path is the append itself
// (commitUpload), and uploads that place nothing have no event. Like every
// event, they carry the time they were appended (the commit), so the
// trail's times follow its sequence even for a long upload.
func uploadAuditEvents(caller Caller, rec *recordv1.Version) []*recordv1.AuditEvent {
	var evs []*recordv1.AuditEvent
	if r := rec.GetRetention(); r.GetMode() != recordv1.RetentionMode_RETENTION_MODE_UNSPECIFIED {
		d := audit.RetentionDetails(nil, r)
		d["action"] = "UploadArchive"
		d["from_default"] = strconv.FormatBool(r.GetFromDefault())
		evs = append(evs, auditEvent(audit.KindRetentionSet, caller, rec.GetVault(), rec.GetKey(), rec.GetVersionId(), d))
	}
	for _, h := range rec.GetLegalHolds() {
		d := map[string]string{"action": "UploadArchive", "hold_id": lock.HoldID(h.GetHoldId()), "reason": h.GetReason()}
		evs = append(evs, auditEvent(audit.KindLegalHoldSet, caller, rec.GetVault(), rec.GetKey(), rec.GetVersionId(), d))
	}
	return evs
}

// RecordAudit appends an event that goes with no other catalog change
// (clock acknowledged, heal results, fixity reports), journaled like the
// others.
func (s *Store) RecordAudit(ctx context.Context, ev *recordv1.AuditEvent) error {
	err := s.commit(ctx, true, func(tx *catalog.Txn) ([]*journal.Entry, error) {
		return s.audited(tx, nil, nil, ev)
	})
	if err != nil {
		return fmt.Errorf("vault: audit %s: %w", ev.GetKind(), err)
	}
	return nil
}

// deleteBypassEvent returns the GOVERNANCE_BYPASS event of a permanent
// delete that lock.CheckDelete allowed, or nil when the delete would have
// been allowed without the bypass.
func deleteBypassEvent(caller Caller, now lock.Now, rec *recordv1.Version, allowed bool) *recordv1.AuditEvent {
	if !allowed || lock.CheckDelete(now, lockVersion(rec), lock.Bypass{Requested: true}) == nil {
		return nil
	}
	d := audit.RetentionDetails(rec.GetRetention(), nil)
	d["action"] = "DeleteArchive"
	return auditEvent(audit.KindGovernanceBypass, caller, rec.GetVault(), rec.GetKey(), rec.GetVersionId(), d)
}

// auditHeal records a HEAL event for one object (ev may name its
// version); a failure to record is logged, never the heal's failure.
func (s *Store) auditHeal(ctx context.Context, ev *recordv1.AuditEvent, objectID string, res erasure.HealResult, healErr error) {
	ev.Kind = audit.KindHeal
	ev.Details = map[string]string{
		"object_id":        objectID,
		"shards_rewritten": strconv.Itoa(res.Healed),
		"corrupt_blocks":   strconv.FormatInt(res.CorruptBlocks, 10),
		"unrecoverable":    strconv.FormatBool(res.Unrecoverable || errors.Is(healErr, wormvault.ErrDataLoss)),
	}
	if healErr != nil {
		ev.Details["error"] = healErr.Error()
	}
	if err := s.RecordAudit(context.WithoutCancel(ctx), ev); err != nil {
		s.log.Error("could not record a heal in the audit trail", "object", objectID, "err", err)
	}
}

// auditFixity records a FIXITY_REPORT event summarising a scrub pass.
func (s *Store) auditFixity(ctx context.Context, rep *recordv1.FixityReport) {
	ev := &recordv1.AuditEvent{Kind: audit.KindFixityReport, Details: map[string]string{
		"archives_checked":     strconv.FormatInt(rep.GetArchivesChecked(), 10),
		"bytes_verified":       strconv.FormatInt(rep.GetBytesVerified(), 10),
		"corrupt_blocks_found": strconv.FormatInt(rep.GetCorruptBlocksFound(), 10),
		"missing_shards_found": strconv.FormatInt(rep.GetMissingShardsFound(), 10),
		"shards_healed":        strconv.FormatInt(rep.GetShardsHealed(), 10),
		"unrecoverable":        strings.Join(rep.GetUnrecoverable(), ","),
		"failed":               strconv.Itoa(len(rep.GetFailed())),
		"start_time":           rep.GetStartTime().AsTime().UTC().Format(time.RFC3339Nano),
		"end_time":             rep.GetEndTime().AsTime().UTC().Format(time.RFC3339Nano),
	}}
	if err := s.RecordAudit(ctx, ev); err != nil {
		s.log.Error("could not record a fixity report in the audit trail", "err", err)
	}
}

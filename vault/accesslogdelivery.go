package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/accesslog"
	"github.com/wormvault/wormvault/vault/catalog"
)

// Delivery of access logs (capture is in accesslogs.go): every interval,
// the records waiting for each (target, source) pair are written in
// sequence order as JSON-lines archives into the target vault.
//
// Exactly once: a batch is named after its first record
// (accesslog.BatchID), the archive carries the batch id and its last
// sequence in its metadata, and the records are deleted only after the
// upload committed, last first. A delivery retried after a crash at any
// point starts from the same first record, finds the archive already in the
// target (then only deletes the records it holds), or uploads it.
//
// Authorization: the caller who turns logging on needs UploadArchive rights
// on the target (checked then, in UpdateVault). Delivery writes as the
// internal principal LogDeliveryPrincipal, with root's rights: allowed
// unless a policy of the target explicitly denies it. It only ever adds
// versions, through the normal upload path (encryption, the target's
// default retention), so it cannot weaken any protection; a COMPLIANCE
// default on the target makes every log archive undeletable. Delivery is
// internal, not a request, so it is never logged itself.

// LogDeliveryPrincipal is the principal delivery writes as. Principal names
// cannot contain ':', so no access key can ever act as it.
const LogDeliveryPrincipal = "wormvault:log-delivery"

// DeliveryReport says what one delivery did.
type DeliveryReport struct {
	// Archives were uploaded; Records were delivered in them (or found
	// already delivered by an earlier, interrupted run).
	Archives, Records int
}

// RunAccessLogDelivery delivers pending access-log records every interval
// until ctx ends.
func (s *Store) RunAccessLogDelivery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rep, err := s.DeliverAccessLogs(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("access-log delivery", "err", err)
		} else if rep.Archives > 0 {
			s.log.Debug("access logs delivered", "archives", rep.Archives, "records", rep.Records)
		}
	}
}

// DeliverAccessLogs delivers the records waiting, group by group, in
// batches of at most maxBatchRecords records or maxBatchBytes. A group that
// fails (its target denies the upload, a drive quorum is lost) keeps its
// records for the next run; the others still go.
func (s *Store) DeliverAccessLogs(ctx context.Context) (DeliveryReport, error) {
	s.accessLogs.deliverMu.Lock()
	defer s.accessLogs.deliverMu.Unlock()
	// A move that fails still leaves the records already in the database
	// to deliver; its records stay in the inbox for the next run.
	var errs []error
	if err := s.moveAccessLogInbox(ctx); err != nil {
		if ctx.Err() != nil {
			return DeliveryReport{}, err
		}
		errs = append(errs, fmt.Errorf("vault: access logs: moving uploads' records: %w", err))
	}
	var db *catalog.AccessLogDB
	if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		db, err = s.accessLogDB(tx, false)
		return err
	}); err != nil || db == nil {
		return DeliveryReport{}, errors.Join(append(errs, err)...)
	}
	// A run delivers the records that were there when it began: what
	// arrives meanwhile waits for the next, so a busy source cannot keep a
	// run going, nor hold the other sources back.
	var (
		groups []catalog.AccessLogGroup
		upTo   uint64
	)
	if err := db.View(func(tx *catalog.AccessLogTxn) (err error) {
		if upTo, err = tx.Seq(); err != nil {
			return err
		}
		groups, err = tx.Groups()
		return err
	}); err != nil {
		return DeliveryReport{}, errors.Join(append(errs, fmt.Errorf("vault: access logs: %w", err))...)
	}
	var rep DeliveryReport
	for _, g := range groups {
		for {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			n, uploaded, err := s.deliverBatch(ctx, db, g, upTo)
			if err != nil {
				errs = append(errs, fmt.Errorf("vault: access logs of %s into %s: %w", g.Source, g.Target, err))
				break
			}
			if n == 0 {
				break
			}
			rep.Records += n
			if uploaded {
				rep.Archives++
			}
		}
	}
	return rep, errors.Join(errs...)
}

// moveAccessLogInbox moves the records uploads wrote into the catalog's
// inbox (inboxAccess) into the access-log database, where they take the
// next sequences like any record, and deletes them from the inbox. Each
// record moves with a marker under its inbox id, in the same transaction:
// a run interrupted before the inbox deletion skips the marked ones, and
// markers whose inbox entry is gone are removed. A run moves what the inbox
// held when it began, moveChunk records per group commit (requests share
// those commits, so a chunk stays small). Only delivery calls it, under
// deliverMu.
func (s *Store) moveAccessLogInbox(ctx context.Context) error {
	db, err := s.accessLogDB(nil, false)
	if err != nil {
		return err
	}
	if db != nil {
		if err := s.dropStaleMoveMarkers(ctx, db); err != nil {
			return err
		}
	}
	var upTo string
	if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		upTo, err = tx.LastAccessLogInboxID()
		return err
	}); err != nil || upTo == "" {
		return err
	}
	if db == nil {
		if db, err = s.accessLogDB(nil, true); err != nil {
			return err
		}
	}
	var errs []error
	// fail keeps the problems met earlier in the run with the one that ends it.
	fail := func(err error) error { return errors.Join(append(errs, err)...) }
	for after := ""; ; {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		var in []catalog.InboxRecord
		if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
			in, err = tx.AccessLogInbox(after, upTo, moveChunk)
			return err
		}); err != nil || len(in) == 0 {
			return fail(err)
		}
		after = in[len(in)-1].ID
		var (
			fresh     []*recordv1.AccessLogRecord
			ids, lost []string
		)
		if err := db.View(func(tx *catalog.AccessLogTxn) error {
			for _, r := range in {
				if r.Record == nil {
					// Set aside (aloglost/) with the chunk's deletion,
					// and reported: it must not stop the others.
					lost = append(lost, r.ID)
					s.log.Error("an access-log record in the catalog's inbox does not decode; it is set aside under aloglost/", "id", r.ID)
					errs = append(errs, fmt.Errorf("inbox record %s does not decode; set aside", r.ID))
					continue
				}
				ids = append(ids, r.ID)
				moved, err := tx.Moved(r.ID)
				if err != nil {
					return err
				}
				if !moved {
					r.Record.InboxId = r.ID
					fresh = append(fresh, r.Record)
				}
			}
			return nil
		}); err != nil {
			return fail(err)
		}
		if len(fresh) > 0 {
			if err := s.groupCommit(fresh...); err != nil {
				return fail(err)
			}
		}
		if err := s.moveStep("moved"); err != nil {
			return fail(err)
		}
		if err := s.catalog.Update(context.WithoutCancel(ctx), func(tx *catalog.Txn) error {
			if err := tx.SetAsideAccessLogInbox(lost); err != nil {
				return err
			}
			return tx.DeleteAccessLogInbox(ids)
		}); err != nil {
			return fail(err)
		}
		if err := s.moveStep("cleared"); err != nil {
			return fail(err)
		}
		if err := db.Update(context.WithoutCancel(ctx), func(tx *catalog.AccessLogTxn) error {
			return tx.DeleteMoved(ids)
		}); err != nil {
			return fail(err)
		}
	}
}

func (s *Store) moveStep(step string) error {
	if hook := s.accessLogs.moveHook; hook != nil {
		return hook(step)
	}
	return nil
}

// dropStaleMoveMarkers removes the markers of inbox entries already
// deleted: a move interrupted between the inbox deletion and its own.
func (s *Store) dropStaleMoveMarkers(ctx context.Context, db *catalog.AccessLogDB) error {
	for {
		var ids, stale []string
		if err := db.View(func(tx *catalog.AccessLogTxn) (err error) {
			ids, err = tx.MovedIDs(deleteChunk)
			return err
		}); err != nil || len(ids) == 0 {
			return err
		}
		if err := s.catalog.View(func(tx *catalog.Txn) error {
			for _, id := range ids {
				in, err := tx.InAccessLogInbox(id)
				if err != nil {
					return err
				}
				if !in {
					stale = append(stale, id)
				}
			}
			return nil
		}); err != nil {
			return err
		}
		if len(stale) == 0 {
			// The rest are entries still in the inbox: the move skips them.
			return nil
		}
		if err := db.Update(context.WithoutCancel(ctx), func(tx *catalog.AccessLogTxn) error {
			return tx.DeleteMoved(stale)
		}); err != nil {
			return err
		}
		if len(ids) < deleteChunk {
			return nil
		}
	}
}

// deliverBatch delivers the first batch of a group, of records up to
// sequence upTo, and returns how many records it took off the queue and
// whether it uploaded an archive.
func (s *Store) deliverBatch(ctx context.Context, db *catalog.AccessLogDB, g catalog.AccessLogGroup, upTo uint64) (int, bool, error) {
	var recs []*recordv1.AccessLogRecord
	if err := db.View(func(tx *catalog.AccessLogTxn) (err error) {
		recs, err = tx.Records(g, maxBatchRecords, maxBatchBytes)
		return err
	}); err != nil {
		return 0, false, err
	}
	if len(recs) == 0 || recs[0].GetSeq() > upTo {
		return 0, false, nil
	}
	// A batch goes under one prefix: it ends where the prefix changed.
	first := recs[0]
	for i, r := range recs {
		if r.GetPrefix() != first.GetPrefix() || r.GetSeq() > upTo {
			recs = recs[:i]
			break
		}
	}
	firstTime := first.GetTime().AsTime()
	id := accesslog.BatchID(g.Source, first.GetSeq(), firstTime)
	name := accesslog.ObjectName(first.GetPrefix(), firstTime, id)

	lastSeq, found, err := s.deliveredBatch(g.Target, name, id)
	if err != nil {
		return 0, false, err
	}
	uploaded := false
	if !found {
		body, err := encodeBatch(recs)
		if err != nil {
			return 0, false, err
		}
		lastSeq = recs[len(recs)-1].GetSeq()
		_, err = s.Upload(ctx, logDeliveryCaller, UploadRequest{
			Vault:       g.Target,
			Key:         name,
			ContentType: accesslog.ContentType,
			Metadata: map[string]string{
				accesslog.MetaBatch:    id,
				accesslog.MetaSource:   g.Source,
				accesslog.MetaFirstSeq: strconv.FormatUint(first.GetSeq(), 10),
				accesslog.MetaLastSeq:  strconv.FormatUint(lastSeq, 10),
				accesslog.MetaRecords:  strconv.Itoa(len(recs)),
			},
		}, bytes.NewReader(body))
		if err != nil {
			return 0, false, err
		}
		uploaded = true
		s.crash(CrashAccessLogDelivery)
		if hook := s.accessLogs.afterUpload; hook != nil {
			if err := hook(); err != nil {
				return 0, uploaded, err
			}
		}
	}
	// Delete what the archive holds, the highest sequences first: if this
	// is interrupted, the batch's first record is still there, and the
	// retry finds the archive by the same name.
	var seqs []uint64
	for _, r := range recs {
		if r.GetSeq() <= lastSeq {
			seqs = append(seqs, r.GetSeq())
		}
	}
	for end := len(seqs); end > 0; end -= deleteChunk {
		chunk := seqs[max(0, end-deleteChunk):end]
		if err := db.Update(context.WithoutCancel(ctx), func(tx *catalog.AccessLogTxn) error {
			return tx.DeleteRecords(g, chunk)
		}); err != nil {
			return 0, uploaded, err
		}
	}
	return len(seqs), uploaded, nil
}

// logDeliveryCaller is who delivery uploads as. It never crosses a
// network, so a policy requiring secure transport does not refuse it.
var logDeliveryCaller = Caller{Principal: LogDeliveryPrincipal, Root: true, SecureTransport: true}

// deliveredBatch looks in the target for an archive of batch id under
// name, and returns the last sequence it holds.
func (s *Store) deliveredBatch(target, name, id string) (uint64, bool, error) {
	var (
		last  uint64
		found bool
	)
	err := s.catalog.View(func(tx *catalog.Txn) error {
		var after []byte
		for {
			listed, next, err := tx.List(catalog.ListQuery{Vault: target, Prefix: name, AllVersions: true, Limit: 100, After: after})
			if err != nil {
				return err
			}
			for _, l := range listed {
				v := l.Version
				if v.GetKey() != name || v.GetMetadata()[accesslog.MetaBatch] != id {
					continue
				}
				n, err := strconv.ParseUint(v.GetMetadata()[accesslog.MetaLastSeq], 10, 64)
				if err != nil {
					return fmt.Errorf("archive %s/%s of batch %s: bad %s: %w", target, name, id, accesslog.MetaLastSeq, err)
				}
				last, found = max(last, n), true
			}
			if next == nil {
				return nil
			}
			after = next
		}
	})
	return last, found, err
}

// encodeBatch is the JSON lines of recs.
func encodeBatch(recs []*recordv1.AccessLogRecord) ([]byte, error) {
	var (
		buf []byte
		err error
	)
	for _, r := range recs {
		buf, err = accesslog.Append(buf, accesslog.Record{
			Time:       r.GetTime().AsTime(),
			RequestID:  r.GetRequestId(),
			Principal:  r.GetPrincipal(),
			RemoteAddr: r.GetRemoteAddr(),
			TLS:        r.GetTls(),
			RPC:        r.GetRpc(),
			Vault:      r.GetVault(),
			Key:        r.GetKey(),
			VersionID:  r.GetVersionId(),
			Status:     r.GetStatus(),
			Reason:     r.GetReason(),
			BytesIn:    r.GetBytesIn(),
			BytesOut:   r.GetBytesOut(),
			Duration:   time.Duration(r.GetDurationNanos()),
			UserAgent:  r.GetUserAgent(),

			AccessPoint: r.GetAccessPoint(),
		})
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

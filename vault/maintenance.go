package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"google.golang.org/protobuf/types/known/timestamppb"
	"io"
	"iter"
	"sync"
	"time"

	sha256 "github.com/minio/sha256-simd"

	"github.com/wormvault/wormvault"
	"github.com/wormvault/wormvault/erasure"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
	"github.com/wormvault/wormvault/vault/catalog"
)

// healQueueLen bounds the heal queue. A read that finds damage queues the
// object without blocking; if the queue is full the next scrub finds it.
const healQueueLen = 1024

// queueHeal is erasure's OnDegraded hook: it must not block.
func (s *Store) queueHeal(id string) {
	select {
	case s.healQueue <- id:
	default:
	}
}

// HealPending is the number of objects waiting in the heal queue.
func (s *Store) HealPending() int { return len(s.healQueue) }

// runHealQueue heals objects that reads found degraded, until ctx ends.
func (s *Store) runHealQueue(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-s.healQueue:
			res, err := s.healObject(ctx, id)
			switch {
			case errors.Is(err, erasure.ErrNotFound) && !errors.Is(err, wormvault.ErrDataLoss):
				// Deleted meanwhile.
			case err != nil:
				s.log.Error("heal failed", "object", id, "err", err)
				s.auditHeal(ctx, &recordv1.AuditEvent{}, id, res, err)
			case res.Healed > 0:
				s.log.Info("healed", "object", id, "shards_rewritten", res.Healed, "corrupt_blocks", res.CorruptBlocks)
				s.auditHeal(ctx, &recordv1.AuditEvent{}, id, res, nil)
			}
		}
	}
}

// HealProgress reports a heal of many archives as it goes.
type HealProgress struct {
	Checked, Healed, ShardsRewritten, Unrecoverable int64
	Current                                         string
}

// HealAll verifies and heals every archive of vault (every vault when vault
// is empty), calling progress after each one.
func (s *Store) HealAll(ctx context.Context, vault string, progress func(HealProgress)) (HealProgress, error) {
	if vault != "" {
		if _, err := s.GetVault(ctx, Caller{Principal: RootPrincipal, Root: true}, vault); err != nil {
			return HealProgress{}, err
		}
	}
	var (
		p         HealProgress
		failed    int
		firstFail error
	)
	for v, err := range s.objects(vault) {
		if err != nil {
			return p, err
		}
		if err := ctx.Err(); err != nil {
			return p, err
		}
		p.Current = v.GetVault() + "/" + v.GetKey() + "@" + v.GetVersionId()
		if v.GetInline() {
			p.Checked++
			if err := s.verifyInline(v); err != nil {
				p.Unrecoverable++
				s.log.Error("archive has lost data", "archive", p.Current, "err", err)
			}
			if progress != nil {
				progress(p)
			}
			continue
		}
		res, err := s.healObject(ctx, v.GetObjectId())
		p.Checked++
		switch {
		case errors.Is(err, wormvault.ErrDataLoss) || res.Unrecoverable:
			p.Unrecoverable++
			s.log.Error("archive has lost data", "archive", p.Current, "err", err)
			s.auditHeal(ctx, &recordv1.AuditEvent{Vault: v.GetVault(), Key: v.GetKey(), VersionId: v.GetVersionId()}, v.GetObjectId(), res, err)
		case errors.Is(err, erasure.ErrNotFound):
			// Deleted meanwhile.
		case err != nil:
			// A drive that cannot take the rewritten shard (offline,
			// removed, full) must not stop the pass: every other archive
			// still gets healed onto the drives that work, and the pass
			// reports what it could not finish.
			failed++
			if firstFail == nil {
				firstFail = fmt.Errorf("%s: %w", p.Current, err)
			}
			s.log.Warn("heal could not rewrite every damaged shard", "archive", p.Current, "err", err)
		case res.Healed > 0:
			p.Healed++
			p.ShardsRewritten += int64(res.Healed)
			s.auditHeal(ctx, &recordv1.AuditEvent{Vault: v.GetVault(), Key: v.GetKey(), VersionId: v.GetVersionId()}, v.GetObjectId(), res, nil)
		}
		if progress != nil {
			progress(p)
		}
	}
	if failed > 0 {
		return p, fmt.Errorf("vault.HealAll: %w: %d of %d archives could not be fully healed (a drive is offline or failing; heal again once it is back), first: %w",
			wormvault.ErrUnavailable, failed, p.Checked, firstFail)
	}
	return p, nil
}

// objects yields the version records that own erasure objects, from a
// catalog snapshot taken page by page so a long heal never pins one
// transaction.
func (s *Store) objects(vault string) iter.Seq2[*recordv1.Version, error] {
	return func(yield func(*recordv1.Version, error) bool) {
		var all []*recordv1.Version
		err := s.catalog.View(func(tx *catalog.Txn) error {
			return tx.EachVersion(vault, func(v *recordv1.Version) error {
				if v.GetObjectId() != "" || v.GetInline() {
					all = append(all, &recordv1.Version{Vault: v.GetVault(), Key: v.GetKey(), VersionId: v.GetVersionId(), ObjectId: v.GetObjectId(),
						Inline: v.GetInline(), SizeBytes: v.GetSizeBytes(), Sha256: v.GetSha256(),
						Encryption: v.GetEncryption(), StoredBytes: v.GetStoredBytes()})
				}
				return nil
			})
		})
		if err != nil {
			yield(nil, err)
			return
		}
		for _, v := range all {
			if !yield(v, nil) {
				return
			}
		}
	}
}

// Scrub verifies every block of every archive at up to bytesPerSecond
// (0: unlimited), heals what it can, and records the fixity report.
func (s *Store) Scrub(ctx context.Context, bytesPerSecond int64) (*recordv1.FixityReport, error) {
	names := map[string]string{}
	var inline []*recordv1.Version
	ids := func(yield func(string) bool) {
		for v, err := range s.objects("") {
			if err != nil {
				return
			}
			if v.GetInline() {
				inline = append(inline, v)
				continue
			}
			names[v.GetObjectId()] = v.GetVault() + "/" + v.GetKey() + "@" + v.GetVersionId()
			if !yield(v.GetObjectId()) {
				return
			}
		}
	}
	rep := erasure.FixityReport{Started: time.Now()}
	for id := range ids {
		unlock := s.objLocks.lock(id)
		one, err := s.set.Scrub(ctx, func(yield func(string) bool) { yield(id) }, bytesPerSecond)
		unlock()
		if err != nil {
			return nil, fmt.Errorf("vault.Scrub: %w", err)
		}
		rep.Archives += one.Archives
		rep.BlocksVerified += one.BlocksVerified
		rep.BytesVerified += one.BytesVerified
		rep.CorruptBlocks += one.CorruptBlocks
		rep.MissingShards += one.MissingShards
		rep.HealedShards += one.HealedShards
		rep.Unrecoverable = append(rep.Unrecoverable, one.Unrecoverable...)
		rep.Failed = append(rep.Failed, one.Failed...)
	}
	// Inline archives live in the catalog (and the journal): verify their
	// bytes against the recorded SHA-256.
	for _, v := range inline {
		rep.Archives++
		if err := s.verifyInline(v); err != nil {
			id := "inline:" + v.GetVersionId()
			names[id] = v.GetVault() + "/" + v.GetKey() + "@" + v.GetVersionId()
			rep.Unrecoverable = append(rep.Unrecoverable, id)
			continue
		}
		rep.BytesVerified += v.GetSizeBytes()
	}
	rep.Finished = time.Now()
	rec := &recordv1.FixityReport{
		StartTime:          timestamppb.New(rep.Started),
		EndTime:            timestamppb.New(rep.Finished),
		ArchivesChecked:    rep.Archives,
		BytesVerified:      rep.BytesVerified,
		CorruptBlocksFound: rep.CorruptBlocks,
		MissingShardsFound: rep.MissingShards,
		ShardsHealed:       rep.HealedShards,
	}
	for _, id := range rep.Unrecoverable {
		rec.Unrecoverable = append(rec.Unrecoverable, names[id])
	}
	for _, f := range rep.Failed {
		rec.Failed = append(rec.Failed, names[f.ID]+": "+f.Err.Error())
	}
	if err := s.catalog.Update(context.WithoutCancel(ctx), func(tx *catalog.Txn) error { return tx.PutFixityReport(rec) }); err != nil {
		return nil, err
	}
	s.auditFixity(context.WithoutCancel(ctx), rec)
	s.log.Info("scrub finished", "archives", rec.GetArchivesChecked(), "bytes_verified", rec.GetBytesVerified(),
		"corrupt_blocks", rec.GetCorruptBlocksFound(), "shards_healed", rec.GetShardsHealed(), "unrecoverable", len(rec.GetUnrecoverable()))
	return rec, nil
}

// FixityReports returns up to limit scrub reports, newest first.
func (s *Store) FixityReports(ctx context.Context, limit int) ([]*recordv1.FixityReport, error) {
	var out []*recordv1.FixityReport
	err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		out, err = tx.FixityReports(limit)
		return err
	})
	return out, err
}

// StorageStatus reports the erasure geometry and every drive.
type StorageStatus struct {
	DataShards, ParityShards int
	Drives                   []erasure.DriveStatus
	HealPending              int
}

// StorageStatus reports drive health.
func (s *Store) StorageStatus(ctx context.Context) StorageStatus {
	c := s.set.Config()
	return StorageStatus{DataShards: c.DataShards, ParityShards: c.ParityShards, Drives: s.set.Status(ctx), HealPending: s.HealPending()}
}

// RunBackground runs the heal queue and, every scrubEvery (0: never), a
// scrub at scrubRate bytes/s, until ctx ends. It returns once both stopped.
func (s *Store) RunBackground(ctx context.Context, scrubEvery time.Duration, scrubRate int64) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { s.runHealQueue(ctx) })
	if scrubEvery <= 0 {
		return
	}
	wg.Go(func() {
		t := time.NewTicker(scrubEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := s.Scrub(ctx, scrubRate); err != nil && ctx.Err() == nil {
					s.log.Error("scrub", "err", err)
				}
			}
		}
	})
}

// verifyInline checks an inline archive's bytes against its SHA-256.
func (s *Store) verifyInline(v *recordv1.Version) error {
	var data []byte
	if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		data, err = tx.Blob(v.GetVersionId())
		return err
	}); err != nil {
		return fmt.Errorf("%w: %w", wormvault.ErrDataLoss, err)
	}
	if int64(len(data)) != storedSize(v) {
		return fmt.Errorf("%w: inline bytes of %s are %d long, catalog says %d", wormvault.ErrDataLoss, v.GetVersionId(), len(data), storedSize(v))
	}
	if encrypted(v) {
		// The plaintext's SHA-256 is what was recorded: decrypt (which
		// authenticates every package) and hash.
		r, err := s.plainRange(v, bytes.NewReader(data), nil, 0, v.GetSizeBytes())
		if err != nil {
			return err
		}
		if data, err = io.ReadAll(r); err != nil {
			return err
		}
	}
	if sum := sha256.Sum256(data); int64(len(data)) != v.GetSizeBytes() || !bytes.Equal(sum[:], v.GetSha256()) {
		return fmt.Errorf("%w: inline bytes of %s do not match their SHA-256", wormvault.ErrDataLoss, v.GetVersionId())
	}
	return nil
}

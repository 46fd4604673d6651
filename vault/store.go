package vault

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wormvault/wormvault/erasure"
	"github.com/wormvault/wormvault/lock"
	"github.com/wormvault/wormvault/vault/audit"
	"github.com/wormvault/wormvault/vault/catalog"
	"github.com/wormvault/wormvault/vault/journal"
)

// Store is an open vault store: the catalog plus the erasure-coded drives.
// It is safe for concurrent use.
type Store struct {
	cfg     Config
	log     *slog.Logger
	catalog *catalog.Catalog
	set     *erasure.Set
	clock   *lock.Clock
	// master is the key every encryption-at-rest key derives from, with
	// the keys a rotation replaces (masterkey_rotate.go).
	master *keyring

	// inflight holds object ids being written right now, so the background
	// orphan sweep never removes shards whose commit is still coming.
	mu       sync.Mutex
	inflight map[string]struct{}

	healQueue chan string
	objLocks  *objectLocks
	policies  policyCache

	// journal replicates every catalog change on the drives (journaling.go);
	// mutations orders the changes that are decided against earlier ones.
	journal   *journal.Journal
	mutations sync.RWMutex
	// applied computes the journal-applied marker commits write
	// (rollforward.go).
	applied appliedMark
	// lastRebuild is the report of the rebuild this Open ran, if any.
	lastRebuild *RebuildReport
	// trail is the audit trail (auditing.go); a master-key rotation
	// replaces it to sign with the new key's checkpoint key.
	trail atomic.Pointer[audit.Trail]
	// clockWatch dedupes CLOCK_UNTRUSTED events (clockaudit.go).
	clockWatch clockWatch
	// kms holds the KMS keys' quotas (kms.go).
	kms kmsRuntime
	// accessLogs captures and delivers access logs (accesslogs.go).
	accessLogs accessLogs
	// uploadAudits serializes the upload commits that append audit events
	// (auditing.go, commitUpload).
	uploadAudits sync.Mutex
	// receipts is the key that signs receipts (receipts.go).
	receipts *receiptKey
}

// markerInitialized is set in a fresh catalog once it has been created;
// its absence on open means meta/ was created just now.
const markerInitialized = "initialized"

// Open opens the store in cfg.DataDir, creating it on first use, removes
// leftovers of interrupted writes and sweeps orphan shards.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("vault: create data dir: %w", err)
	}
	drives := make([]erasure.Drive, 0, len(cfg.drivePaths()))
	for _, p := range cfg.drivePaths() {
		d, err := erasure.NewLocalDrive(p)
		if err != nil {
			return nil, fmt.Errorf("vault: drive %s: %w", p, err)
		}
		drives = append(drives, d)
	}
	master, err := cfg.loadMasterKeys()
	if err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, log: log, master: master, inflight: map[string]struct{}{}, healQueue: make(chan string, healQueueLen), objLocks: newObjectLocks()}
	set, err := erasure.NewSet(drives, erasure.Config{
		DataShards:   cfg.DataShards,
		ParityShards: cfg.ParityShards,
		BlockSize:    cfg.BlockSize,
		OnDegraded:   s.queueHeal,
	})
	if err != nil {
		return nil, fmt.Errorf("vault: erasure set: %w", err)
	}
	jdirs := make([]string, len(cfg.drivePaths()))
	for i, p := range cfg.drivePaths() {
		jdirs[i] = filepath.Join(p, "journal")
	}
	jnl, err := journal.Open(jdirs, cfg.ParityShards+1)
	if err != nil {
		return nil, fmt.Errorf("vault: journal: %w", err)
	}
	s.journal = jnl
	cat, err := master.openCatalog(catalog.Options{Dir: filepath.Join(cfg.DataDir, "meta"), Logger: log})
	if err != nil {
		jnl.Close()
		if errors.Is(err, catalog.ErrEncryptionKey) {
			return nil, fmt.Errorf("%w: meta/ was written without encryption or under another master key than %s (if the master key is right, move meta/ aside and `wormvault admin rebuild-catalog` rebuilds it from the drives)", err, cfg.masterKeyPath())
		}
		return nil, fmt.Errorf("%w (if meta/ is corrupt, `wormvault admin rebuild-catalog` rebuilds it from the drives)", err)
	}
	s.catalog, s.set = cat, set
	fail := func(err error) (*Store, error) {
		cat.Close()
		jnl.Close()
		return nil, err
	}
	if err := s.set.CleanTemp(ctx); err != nil {
		return fail(fmt.Errorf("vault: clean temp: %w", err))
	}
	if err := s.ensureCatalog(ctx); err != nil {
		return fail(err)
	}
	// The clock starts after a rebuild, which restores its high-water mark.
	clock, err := lock.NewClock(lock.ClockConfig{Store: clockMark{cat}, Wall: cfg.Wall, Elapsed: cfg.Elapsed, Skew: cfg.MaxClockSkew})
	if err != nil {
		return fail(err)
	}
	if st := clock.Status(); st.State != lock.ClockTrusted {
		log.Warn("the clock is not trusted: deletions and retention changes that depend on an expiry are refused until root acknowledges it", "reason", st.Reason)
	}
	s.clock = clock
	s.openTrail()
	if err := s.resumeMasterKeyRotation(ctx); err != nil {
		return fail(err)
	}
	if err := s.openReceiptKey(ctx); err != nil {
		return fail(err)
	}
	if s.lastRebuild != nil {
		if err := s.RecordAudit(ctx, rebuildEvent(s.lastRebuild)); err != nil {
			return fail(err)
		}
	}
	if err := s.TickClock(ctx); err != nil {
		return fail(err)
	}
	removed, err := s.SweepOrphans(ctx, 0)
	if err != nil {
		return fail(err)
	}
	if removed > 0 {
		log.Info("removed orphan shards of uncommitted uploads", "objects", removed)
	}
	return s, nil
}

// Close closes the catalog and the journal. In-flight calls must have
// finished.
func (s *Store) Close() error {
	return errors.Join(s.closeAccessLogs(), s.catalog.Close(), s.journal.Close())
}

// Catalog exposes the catalog to the packages layered beside vault (audit,
// identity) that keep their own tables in it.
func (s *Store) Catalog() *catalog.Catalog { return s.catalog }

// ensureCatalog makes sure the catalog describes the drives. A catalog
// created just now (meta/ was missing) over drives that hold a journal or
// shards means the catalog was lost, not that the drives are orphans: it is
// rebuilt from the journal before anything else happens.
func (s *Store) ensureCatalog(ctx context.Context) error {
	var initialized []byte
	if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		initialized, err = tx.Meta(markerInitialized)
		return err
	}); err != nil {
		return err
	}
	if initialized != nil {
		rep, err := s.rollForward(ctx)
		if err != nil {
			return fmt.Errorf("vault: roll the catalog forward from the journal: %w", err)
		}
		if rep != nil {
			s.log.Warn("replayed journal entries a crash cut off before their catalog commit", "after_seq", rep.From, "entries", rep.Entries, "skipped_uploads_without_shards", rep.Skipped)
		}
		return nil
	}
	var found int
	if err := s.set.Walk(ctx, func(string, time.Time) error { found++; return nil }); err != nil {
		return fmt.Errorf("vault: scan drives: %w", err)
	}
	if found > 0 || s.journal.LastSeq() > 0 {
		s.log.Warn("the catalog is new but the drives hold data: rebuilding it from the drives' journal", "objects", found, "journal_entries", s.journal.LastSeq())
		rep, err := s.rebuild(ctx)
		if err != nil {
			return fmt.Errorf("vault: rebuild catalog: %w", err)
		}
		s.lastRebuild = &rep
		s.log.Warn("catalog rebuilt", "report", rep.String())
	}
	return s.catalog.Update(ctx, func(tx *catalog.Txn) error {
		if err := putApplied(tx, s.journal.LastSeq()); err != nil {
			return err
		}
		return tx.PutMeta(markerInitialized, []byte(time.Now().UTC().Format(time.RFC3339Nano)))
	})
}

// SweepOrphans removes objects on the drives that no catalog record owns
// and that are older than grace. It returns how many it removed.
func (s *Store) SweepOrphans(ctx context.Context, grace time.Duration) (int, error) {
	cutoff := time.Now().Add(-grace)
	var orphans []string
	err := s.set.Walk(ctx, func(id string, mod time.Time) error {
		if grace > 0 && mod.After(cutoff) {
			return nil
		}
		s.mu.Lock()
		_, busy := s.inflight[id]
		s.mu.Unlock()
		if busy {
			return nil
		}
		return s.catalog.View(func(tx *catalog.Txn) error {
			_, _, ok, err := tx.VersionLocation(id)
			if err == nil && !ok {
				orphans = append(orphans, id)
			}
			return err
		})
	})
	if err != nil {
		return 0, fmt.Errorf("vault: sweep: %w", err)
	}
	removed := 0
	for _, id := range orphans {
		// Re-check under the in-flight lock: an upload may have committed
		// between the walk and now.
		var owned bool
		if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
			_, _, owned, err = tx.VersionLocation(id)
			return err
		}); err != nil || owned {
			continue
		}
		if err := s.deleteObject(ctx, id); err != nil {
			return removed, fmt.Errorf("vault: sweep %s: %w", id, err)
		}
		removed++
	}
	return removed, nil
}

func (s *Store) beginWrite(id string) {
	s.mu.Lock()
	s.inflight[id] = struct{}{}
	s.mu.Unlock()
}

func (s *Store) endWrite(id string) {
	s.mu.Lock()
	delete(s.inflight, id)
	s.mu.Unlock()
}

// clockMark persists the trusted clock's high-water mark in the catalog.
type clockMark struct{ c *catalog.Catalog }

const markClock = "clock-mark"

func (m clockMark) LoadMark() (time.Time, error) {
	var t time.Time
	err := m.c.View(func(tx *catalog.Txn) error {
		b, err := tx.Meta(markClock)
		if err != nil || b == nil {
			return err
		}
		return t.UnmarshalBinary(b)
	})
	return t, err
}

func (m clockMark) SaveMark(t time.Time) error {
	b, err := t.UTC().MarshalBinary()
	if err != nil {
		return err
	}
	return m.c.Update(context.Background(), func(tx *catalog.Txn) error { return tx.PutMeta(markClock, b) })
}

// deleteObject removes an object's shards under its object lock.
func (s *Store) deleteObject(ctx context.Context, id string) error {
	defer s.objLocks.lock(id)()
	return s.set.Delete(ctx, id)
}

// healObject heals one object under its object lock.
func (s *Store) healObject(ctx context.Context, id string) (erasure.HealResult, error) {
	defer s.objLocks.lock(id)()
	return s.crashMidHeal(s.set.Heal(ctx, id))
}

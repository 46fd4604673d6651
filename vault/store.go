package vault

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/wormvault/wormvault/erasure"
	"github.com/wormvault/wormvault/lock"
	"github.com/wormvault/wormvault/vault/catalog"
)

// Store is an open vault store: the catalog plus the erasure-coded drives.
// It is safe for concurrent use.
type Store struct {
	cfg     Config
	log     *slog.Logger
	catalog *catalog.Catalog
	set     *erasure.Set
	clock   *lock.Clock

	// inflight holds object ids being written right now, so the background
	// orphan sweep never removes shards whose commit is still coming.
	mu       sync.Mutex
	inflight map[string]struct{}

	healQueue chan string
	objLocks  *objectLocks
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
	s := &Store{cfg: cfg, log: log, inflight: map[string]struct{}{}, healQueue: make(chan string, healQueueLen), objLocks: newObjectLocks()}
	set, err := erasure.NewSet(drives, erasure.Config{
		DataShards:   cfg.DataShards,
		ParityShards: cfg.ParityShards,
		BlockSize:    cfg.BlockSize,
		OnDegraded:   s.queueHeal,
	})
	if err != nil {
		return nil, fmt.Errorf("vault: erasure set: %w", err)
	}
	cat, err := catalog.Open(catalog.Options{Dir: filepath.Join(cfg.DataDir, "meta"), Logger: log})
	if err != nil {
		return nil, err
	}
	clock, err := lock.NewClock(lock.ClockConfig{Store: clockMark{cat}, Wall: cfg.Wall, Elapsed: cfg.Elapsed, Skew: cfg.MaxClockSkew})
	if err != nil {
		cat.Close()
		return nil, err
	}
	if st := clock.Status(); st.State != lock.ClockTrusted {
		log.Warn("the clock is not trusted: deletions and retention changes that depend on an expiry are refused until root acknowledges it", "reason", st.Reason)
	}
	s.catalog, s.set, s.clock = cat, set, clock
	if err := s.startupSweep(ctx); err != nil {
		cat.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the catalog. In-flight calls must have finished.
func (s *Store) Close() error { return s.catalog.Close() }

// Catalog exposes the catalog to the packages layered beside vault (audit,
// identity) that keep their own tables in it.
func (s *Store) Catalog() *catalog.Catalog { return s.catalog }

// startupSweep removes temp files of interrupted writes and shards that no
// catalog record owns. Nothing can be in flight yet, so there is no grace
// period. If the catalog was created just now while the drives hold
// objects, the catalog was lost rather than the objects orphaned: nothing is
// removed.
func (s *Store) startupSweep(ctx context.Context) error {
	if err := s.set.CleanTemp(ctx); err != nil {
		return fmt.Errorf("vault: clean temp: %w", err)
	}
	var initialized []byte
	if err := s.catalog.View(func(tx *catalog.Txn) (err error) {
		initialized, err = tx.Meta(markerInitialized)
		return err
	}); err != nil {
		return err
	}
	if initialized == nil {
		var found int
		if err := s.set.Walk(ctx, func(string, time.Time) error { found++; return nil }); err != nil {
			return fmt.Errorf("vault: scan drives: %w", err)
		}
		if found > 0 {
			s.log.Error("catalog is new but the drives hold archives: not sweeping; the catalog must be rebuilt from the drives", "objects", found)
			return nil
		}
		return s.catalog.Update(ctx, func(tx *catalog.Txn) error {
			return tx.PutMeta(markerInitialized, []byte(time.Now().UTC().Format(time.RFC3339Nano)))
		})
	}
	removed, err := s.SweepOrphans(ctx, 0)
	if removed > 0 {
		s.log.Info("removed orphan shards of uncommitted uploads", "objects", removed)
	}
	return err
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
	return s.set.Heal(ctx, id)
}

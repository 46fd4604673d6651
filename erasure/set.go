package erasure

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/reedsolomon"
)

// Set is k+m drives holding erasure-coded objects. It is safe for concurrent
// use. Operations on one object id must be serialized by the caller (a write,
// a Heal and a Delete of the same id must not overlap).
type Set struct {
	drives []Drive
	cfg    Config
	stats  []driveCounters

	codecMu sync.Mutex
	codecs  map[codecKey]reedsolomon.Encoder
	poolMu  sync.Mutex
	pools   map[int]*sync.Pool

	// Hooks replaced by the golden-file tests for deterministic output.
	now         func() time.Time
	newCommitID func() ([16]byte, error)
}

type codecKey struct{ k, m, shardSize int }

// driveCounters are the Status counters of one drive.
type driveCounters struct {
	corruptBlocks atomic.Int64
	readErrors    atomic.Int64
	missingShards atomic.Int64
	rebuilt       atomic.Int64
	healedShards  atomic.Int64
}

// NewSet returns a Set over drives. Drive order matters for placement: pass
// the drives in the same order every time (objects stay readable if not,
// since every shard records its index, but reads and heals then work
// harder).
func NewSet(drives []Drive, cfg Config) (*Set, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if n := cfg.DataShards + cfg.ParityShards; n != len(drives) {
		return nil, fmt.Errorf("%w: erasure: %d+%d shards need %d drives, got %d", ErrInvalid, cfg.DataShards, cfg.ParityShards, n, len(drives))
	}
	for i, d := range drives {
		if d == nil {
			return nil, fmt.Errorf("%w: erasure: drive %d is nil", ErrInvalid, i)
		}
	}
	return &Set{
		drives: slices.Clone(drives),
		cfg:    cfg,
		stats:  make([]driveCounters, len(drives)),
		codecs: make(map[codecKey]reedsolomon.Encoder),
		pools:  make(map[int]*sync.Pool),
		now:    time.Now,
		newCommitID: func() (id [16]byte, err error) {
			_, err = rand.Read(id[:])
			return id, err
		},
	}, nil
}

// Config returns the Set's configuration with defaults applied.
func (s *Set) Config() Config { return s.cfg }

// codec returns the (cached) Reed-Solomon coder for a geometry.
func (s *Set) codec(g geometry) (reedsolomon.Encoder, error) {
	key := codecKey{g.k, g.m, g.shardSize()}
	s.codecMu.Lock()
	defer s.codecMu.Unlock()
	if c, ok := s.codecs[key]; ok {
		return c, nil
	}
	c, err := reedsolomon.New(g.k, g.m, reedsolomon.WithAutoGoroutines(key.shardSize))
	if err != nil {
		return nil, fmt.Errorf("erasure: %d+%d: %w", g.k, g.m, err)
	}
	s.codecs[key] = c
	return c, nil
}

// getBuf returns a pooled buffer of exactly size bytes (contents undefined).
func (s *Set) getBuf(size int) *[]byte {
	s.poolMu.Lock()
	p, ok := s.pools[size]
	if !ok {
		p = &sync.Pool{New: func() any { b := make([]byte, size); return &b }}
		s.pools[size] = p
	}
	s.poolMu.Unlock()
	return p.Get().(*[]byte)
}

func (s *Set) putBuf(b *[]byte) {
	s.poolMu.Lock()
	p := s.pools[len(*b)]
	s.poolMu.Unlock()
	p.Put(b)
}

func (s *Set) degraded(id string) {
	if s.cfg.OnDegraded != nil {
		s.cfg.OnDegraded(id)
	}
}

// eachDrive runs fn for every drive in parallel and waits.
func (s *Set) eachDrive(fn func(i int, d Drive)) {
	var wg sync.WaitGroup
	for i, d := range s.drives {
		wg.Go(func() { fn(i, d) })
	}
	wg.Wait()
}

// Delete removes every shard of id. A missing object is not an error. It
// returns the drives' errors joined; shards left on an unreachable drive are
// found again by Walk.
func (s *Set) Delete(ctx context.Context, id string) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	errs := make([]error, len(s.drives))
	s.eachDrive(func(i int, d Drive) { errs[i] = d.Remove(ctx, id) })
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("erasure.Delete %s: %w", id, err)
	}
	return nil
}

// Walk calls fn for every object id that has a shard on at least one
// reachable drive, with the newest modification time of its shards. Ids come
// bucket by bucket (see Bucket), sorted within a bucket. Unreachable drives
// are skipped; Walk fails only if no drive can be listed, or fn fails.
func (s *Set) Walk(ctx context.Context, fn func(id string, modTime time.Time) error) error {
	lists := make([][]ShardEntry, len(s.drives))
	errs := make([]error, len(s.drives))
	for b := 0; b < 256; b++ {
		s.eachDrive(func(i int, d Drive) { lists[i], errs[i] = d.List(ctx, uint8(b)) })
		if err := ctx.Err(); err != nil {
			return err
		}
		union := make(map[string]time.Time)
		failed := 0
		for i, l := range lists {
			if errs[i] != nil {
				failed++
			}
			for _, e := range l {
				if t, ok := union[e.ID]; !ok || e.ModTime.After(t) {
					union[e.ID] = e.ModTime
				}
			}
		}
		if failed == len(s.drives) {
			return fmt.Errorf("erasure.Walk: no drive could be listed: %w", errors.Join(errs...))
		}
		ids := make([]string, 0, len(union))
		for id := range union {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			if err := fn(id, union[id]); err != nil {
				return err
			}
		}
	}
	return nil
}

// CleanTemp removes leftover temporary files from every drive. Call it at
// startup, before any write. It returns the drives' errors joined; the Set
// works regardless.
func (s *Set) CleanTemp(ctx context.Context) error {
	errs := make([]error, len(s.drives))
	s.eachDrive(func(i int, d Drive) { errs[i] = d.CleanTemp(ctx) })
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("erasure.CleanTemp: %w", err)
	}
	return nil
}

// DriveStatus is the state of one drive. Counters count since NewSet.
type DriveStatus struct {
	Index  int
	Name   string
	Online bool
	Err    error // why the drive is offline
	DriveUsage
	// CorruptBlocks counts shard blocks on this drive that failed their
	// bitrot hash (or were truncated), found by reads, heals and scrubs.
	CorruptBlocks int64
	// ReadErrors counts failed reads other than hash mismatches.
	ReadErrors int64
	// MissingShards counts shards expected on this drive but absent or
	// unusable when an object was opened or healed.
	MissingShards int64
	// RebuiltBlocks counts blocks of this drive's shards that reads had to
	// reconstruct from parity.
	RebuiltBlocks int64
	// HealedShards counts shard files Heal rewrote on this drive.
	HealedShards int64
}

// UsedBytes is TotalBytes - FreeBytes.
func (d DriveStatus) UsedBytes() uint64 { return d.TotalBytes - d.FreeBytes }

// Status reports every drive, in Set order.
func (s *Set) Status(ctx context.Context) []DriveStatus {
	out := make([]DriveStatus, len(s.drives))
	s.eachDrive(func(i int, d Drive) {
		u, err := d.Usage(ctx)
		c := &s.stats[i]
		out[i] = DriveStatus{
			Index: i, Name: d.Name(), Online: err == nil, Err: err, DriveUsage: u,
			CorruptBlocks: c.corruptBlocks.Load(),
			ReadErrors:    c.readErrors.Load(),
			MissingShards: c.missingShards.Load(),
			RebuiltBlocks: c.rebuilt.Load(),
			HealedShards:  c.healedShards.Load(),
		}
	})
	return out
}

package erasure

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/minio/sha256-simd"
	"github.com/wormvault/wormvault"
)

// HealResult reports what Heal found and did for one object.
type HealResult struct {
	ID   string
	Size int64
	// Shards is the number of shards found complete and intact.
	Shards int
	// MissingShards counts shards that were absent, unreadable, of the wrong
	// size or had a damaged trailer.
	MissingShards int
	// CorruptShards counts shards with at least one block failing its hash.
	CorruptShards int
	// CorruptBlocks counts blocks that failed their hash or could not be read.
	CorruptBlocks int64
	// BlocksVerified and BytesVerified count the intact shard blocks checked
	// (data and parity; BytesVerified excludes the 32-byte hashes).
	BlocksVerified int64
	BytesVerified  int64
	// Healed counts shard files rewritten.
	Healed int
	// Unrecoverable means some stripe has fewer than k intact blocks: the
	// object has lost data and Heal changed nothing.
	Unrecoverable bool
}

// Heal verifies every block of every shard of id and rewrites each shard that
// is missing or has a corrupt block: reconstructed from the intact blocks,
// written to a temporary file, fsynced and renamed over the damaged one. A
// missing shard goes back to its home drive (or, if that drive holds another
// shard of the object, to a drive holding none). Heal rewrites nothing when
// a stripe is unrecoverable; the error then wraps wormvault.ErrDataLoss.
func (s *Set) Heal(ctx context.Context, id string) (HealResult, error) {
	return s.heal(ctx, id, nil)
}

func (s *Set) heal(ctx context.Context, id string, lim *limiter) (HealResult, error) {
	res := HealResult{ID: id}
	o, err := s.open(ctx, id, false)
	if err != nil {
		res.Unrecoverable = errors.Is(err, wormvault.ErrDataLoss)
		return res, fmt.Errorf("erasure.Heal: %w", err)
	}
	t := &o.t
	res.Size = t.size
	n := t.n()
	br := o.newBlockReader(ctx)
	defer br.close()
	all := make([]int, n)
	for j := range all {
		all[j] = j
	}

	// Pass 1: verify every block.
	bad := make([]bool, n)
	good := make([]bool, n)
	for st := range t.stripes() {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		clear(good)
		br.readSet(st, all, good)
		intact := 0
		for j := range n {
			switch {
			case good[j]:
				intact++
				res.BlocksVerified++
				res.BytesVerified += int64(t.stripeShardSize(st))
			case !br.dead[j]:
				res.CorruptBlocks++
				bad[j] = true
			}
		}
		if intact < t.k {
			res.Unrecoverable = true
		}
		if err := lim.wait(ctx, int64(n*t.stripeShardSize(st))); err != nil {
			return res, err
		}
	}
	var targets []int
	for j := range n {
		switch {
		case br.dead[j]:
			res.MissingShards++
		case bad[j]:
			res.CorruptShards++
		default:
			res.Shards++
			continue
		}
		targets = append(targets, j)
	}
	if res.Unrecoverable {
		o.markDegraded()
		return res, fmt.Errorf("erasure.Heal %s: %w", id, wormvault.ErrDataLoss)
	}
	if len(targets) == 0 {
		return res, nil
	}

	// Pass 2: rewrite the targets from the intact blocks.
	hw := &healWriter{s: s, o: o, ctx: ctx, writers: make([]ShardWriter, n), drive: make([]int, n)}
	defer hw.abort()
	hw.place(targets, br.dead, bad)
	for _, j := range targets {
		hw.create(j)
	}
	required := make([]bool, n)
	shards := make([][]byte, n)
	for st := range t.stripes() {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		S := t.stripeShardSize(st)
		clear(good)
		br.readSet(st, all, good)
		intact := 0
		for j := range n {
			shards[j] = br.shard(j, S)
			if good[j] {
				intact++
			} else {
				shards[j] = shards[j][:0]
			}
			required[j] = hw.writers[j] != nil && !good[j]
		}
		if intact < n {
			if intact < t.k {
				return res, fmt.Errorf("erasure.Heal %s: stripe %d has %d intact blocks, need %d (damaged while healing): %w", id, st, intact, t.k, wormvault.ErrDataLoss)
			}
			codec, err := s.codec(t.geometry)
			if err != nil {
				return res, err
			}
			if err := codec.ReconstructSome(shards, required); err != nil {
				return res, fmt.Errorf("erasure.Heal %s: stripe %d: %w", id, st, err)
			}
		}
		for _, j := range targets {
			if hw.writers[j] == nil {
				continue
			}
			blk := br.buf[j*t.stride():][:hashSize+S]
			sum := sha256.Sum256(blk[hashSize:])
			copy(blk, sum[:])
			if _, err := hw.writers[j].Write(blk); err != nil {
				hw.fail(j, err)
			}
		}
		if err := lim.wait(ctx, int64(n*S)); err != nil {
			return res, err
		}
	}
	res.Healed = hw.commit(targets)
	if err := errors.Join(hw.errs...); err != nil {
		return res, fmt.Errorf("erasure.Heal %s: %d of %d damaged shards rewritten: %w", id, res.Healed, len(targets), err)
	}
	return res, nil
}

// healWriter holds the replacement shard files of one Heal.
type healWriter struct {
	s       *Set
	o       *Object
	ctx     context.Context
	writers []ShardWriter // by shard index; nil if not (or no longer) written
	drive   []int
	errs    []error
}

// place picks a drive for every target shard: where the damaged shard is,
// else its home drive, else any drive holding no intact shard of the object.
func (hw *healWriter) place(targets []int, dead, bad []bool) {
	o := hw.o
	used := make([]bool, len(hw.s.drives))
	for j, d := range o.loc {
		if d >= 0 && !dead[j] && !bad[j] {
			used[d] = true
		}
	}
	for _, j := range targets {
		d := o.loc[j]
		if d < 0 || used[d] {
			d = o.home(j)
		}
		for i := 0; used[d] && i < len(used); i++ {
			d = (d + 1) % len(used)
		}
		if used[d] {
			d = -1
		} else {
			used[d] = true
		}
		hw.drive[j] = d
	}
}

func (hw *healWriter) create(j int) {
	d := hw.drive[j]
	if d < 0 {
		hw.errs = append(hw.errs, fmt.Errorf("shard %d: no drive free", j))
		return
	}
	w, err := hw.s.drives[d].Create(hw.ctx, hw.o.id)
	if err != nil {
		hw.errs = append(hw.errs, fmt.Errorf("shard %d: %w", j, err))
		return
	}
	hw.writers[j] = w
}

func (hw *healWriter) fail(j int, err error) {
	hw.errs = append(hw.errs, fmt.Errorf("shard %d: drive %s: %w", j, hw.s.drives[hw.drive[j]].Name(), err))
	hw.writers[j].Abort()
	hw.writers[j] = nil
}

// commit writes the trailers, fsyncs and renames the replacement shards in
// parallel, and returns how many are in place.
func (hw *healWriter) commit(targets []int) int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	healed := 0
	for _, j := range targets {
		w := hw.writers[j]
		if w == nil {
			continue
		}
		wg.Go(func() {
			t := hw.o.t
			t.index = j
			_, err := w.Write(t.appendTo(make([]byte, 0, t.encodedLen()+footerSize)))
			if err == nil {
				err = w.Sync()
			}
			if err == nil {
				err = w.Commit(true)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				w.Abort()
				hw.errs = append(hw.errs, fmt.Errorf("shard %d: drive %s: %w", j, hw.s.drives[hw.drive[j]].Name(), err))
				return
			}
			healed++
			hw.s.stats[hw.drive[j]].healedShards.Add(1)
		})
	}
	wg.Wait()
	return healed
}

func (hw *healWriter) abort() {
	for _, w := range hw.writers {
		if w != nil {
			w.Abort()
		}
	}
}

// FixityReport is the outcome of a Scrub.
type FixityReport struct {
	Started, Finished time.Time
	// Archives counts the objects checked.
	Archives int64
	// BlocksVerified and BytesVerified count intact shard blocks checked.
	BlocksVerified int64
	BytesVerified  int64
	// CorruptBlocks and MissingShards count the damage found; HealedShards
	// the shard files rewritten.
	CorruptBlocks int64
	MissingShards int64
	HealedShards  int64
	// Unrecoverable lists objects that have lost data. When Scrub walks the
	// drives itself, leftovers of crashed writes (fewer than k shards) show
	// up here too: check them against the catalog.
	Unrecoverable []string
	// Failed lists objects whose check or heal failed for another reason
	// (e.g. a drive went offline); they should be retried.
	Failed []ScrubError
}

// ScrubError is one object Scrub could not finish.
type ScrubError struct {
	ID  string
	Err error
}

// Scrub verifies every block of every object in ids (nil: every object on
// the drives, via Walk), heals what it can and reports. bytesPerSecond > 0
// caps the shard bytes read per second. Objects that vanish meanwhile are
// skipped. Scrub fails only if ctx ends or the drives cannot be listed; the
// report so far is returned either way.
func (s *Set) Scrub(ctx context.Context, ids iter.Seq[string], bytesPerSecond int64) (FixityReport, error) {
	rep := FixityReport{Started: time.Now()}
	lim := &limiter{rate: bytesPerSecond, start: rep.Started}
	check := func(id string) error {
		res, err := s.heal(ctx, id, lim)
		if err := ctx.Err(); err != nil {
			return err
		}
		if errors.Is(err, ErrNotFound) && !errors.Is(err, wormvault.ErrDataLoss) {
			return nil // deleted meanwhile
		}
		rep.Archives++
		rep.BlocksVerified += res.BlocksVerified
		rep.BytesVerified += res.BytesVerified
		rep.CorruptBlocks += res.CorruptBlocks
		rep.MissingShards += int64(res.MissingShards)
		rep.HealedShards += int64(res.Healed)
		switch {
		case res.Unrecoverable:
			rep.Unrecoverable = append(rep.Unrecoverable, id)
		case err != nil:
			rep.Failed = append(rep.Failed, ScrubError{ID: id, Err: err})
		}
		return nil
	}
	var err error
	if ids == nil {
		err = s.Walk(ctx, func(id string, _ time.Time) error { return check(id) })
	} else {
		for id := range ids {
			if err = check(id); err != nil {
				break
			}
		}
	}
	rep.Finished = time.Now()
	if err != nil {
		return rep, fmt.Errorf("erasure.Scrub: %w", err)
	}
	return rep, nil
}

// limiter paces Scrub to a byte rate.
type limiter struct {
	rate  int64
	start time.Time
	bytes int64
}

func (l *limiter) wait(ctx context.Context, n int64) error {
	if l == nil || l.rate <= 0 {
		return nil
	}
	l.bytes += n
	due := l.start.Add(time.Duration(float64(l.bytes) / float64(l.rate) * float64(time.Second)))
	d := time.Until(due)
	if d <= 0 {
		return nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

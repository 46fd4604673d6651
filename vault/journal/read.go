package journal

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"

	"google.golang.org/protobuf/proto"
)

// Report is what a read of the journal found.
type Report struct {
	// Drives has one report per drive, in the order of Config.Dirs.
	Drives []DriveReport
	// First and Last are the lowest and highest seq read (0 if none).
	First, Last uint64
	// Entries is how many entries were passed to fn.
	Entries int
	// Voided are seqs skipped because a later void names them.
	Voided []SeqRange
	// Incomplete are seqs skipped because their batch is not all present:
	// an Append that never completed.
	Incomplete []SeqRange
	// Gaps are seqs held by no drive. Inside an incomplete batch's range a
	// gap is expected; anywhere else entries have been lost.
	Gaps []SeqRange
	// Unacknowledged are seqs skipped because too few drives hold them for
	// any Append to have returned: holders plus unreadable drives are
	// fewer than the write quorum, while readable drives lack them. That is
	// an Append cut off by a crash, or an entry forged onto a minority of
	// drives; either way it never took effect.
	Unacknowledged []SeqRange
}

// DriveReport is what a read found on one drive.
type DriveReport struct {
	Dir string
	// Entries is how many entries were read from the drive.
	Entries int
	// Missing are seqs other drives hold and this one does not: a drive
	// that was offline or replaced, or lost its tail.
	Missing []SeqRange
	// Disagree are seqs whose copy on this drive differs from the majority.
	Disagree []uint64
	// Err is why the drive could not be read to its end: offline, another
	// journal's, or corrupt (wrapping ErrCorrupt) at a named offset.
	Err error
}

// InLine reports whether the drive holds exactly what the majority holds.
func (r DriveReport) InLine() bool {
	return r.Err == nil && len(r.Missing) == 0 && len(r.Disagree) == 0
}

// Clean reports whether every drive is in line and nothing was lost.
func (r *Report) Clean() bool {
	for _, d := range r.Drives {
		if !d.InLine() {
			return false
		}
	}
	return len(r.Gaps) == 0
}

// ReadAll calls fn for every entry in seq order; see ReadFrom.
func (j *Journal) ReadAll(ctx context.Context, fn func(*Entry) error) (Report, error) {
	return j.ReadFrom(ctx, 0, fn)
}

// ReadFrom calls fn, in seq order, for every entry after seq `after` that
// took effect: it merges the drives' copies, takes the majority copy of each
// seq, and skips voided entries, incomplete batches and the voids
// themselves. after should be 0 or a seq an Append returned. On an open
// journal it reads what was durable on a quorum when it started.
//
// The Report says, per drive, which seqs it lacks or holds differently, so
// the caller can audit it and Repair can fix it. An error from fn stops the
// read and is returned as is. Copies that disagree with no majority stop it
// with ErrNoMajority before fn is called at all.
func (j *Journal) ReadFrom(ctx context.Context, after uint64, fn func(*Entry) error) (Report, error) {
	j.readMu.RLock()
	defer j.readMu.RUnlock()
	limit, err := j.quiesce(ctx)
	if err != nil {
		return Report{}, err
	}
	rep, voids, err := j.survey(ctx, after, limit)
	if err != nil {
		return rep, err
	}
	var scratch Report
	asm := assembler{complete: func(batch []copyOf) error {
		for _, c := range batch {
			if c.in.isVoid {
				continue
			}
			if voids.has(c.in.seq) {
				addSeq(&rep.Voided, c.in.seq)
				continue
			}
			e := new(Entry)
			if err := proto.Unmarshal(c.payload, e); err != nil {
				return fmt.Errorf("%w: seq %d does not decode: %v", ErrCorrupt, c.in.seq, err)
			}
			if err := fn(e); err != nil {
				return err
			}
			rep.Entries++
		}
		return nil
	}}
	if err := j.merge(ctx, after, limit, &scratch, asm.add); err != nil {
		return rep, err
	}
	return rep, nil
}

// quiesce waits until every drive has processed the batches dispatched so
// far (or ctx ends), and returns the last seq dispatched.
func (j *Journal) quiesce(ctx context.Context) (uint64, error) {
	j.mu.Lock()
	if j.cfg.ReadOnly || j.closed {
		defer j.mu.Unlock()
		return j.next - 1, nil
	}
	limit := j.next - 1
	bars, _ := j.barriers(ctx, false)
	j.mu.Unlock()
	return limit, waitAll(ctx, bars)
}

func waitAll(ctx context.Context, bars []chan struct{}) error {
	for _, b := range bars {
		select {
		case <-b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// barriers queues a barrier on every drive (skipping a full queue unless
// block) and returns the channels closed when the drives reach them; j.mu
// is held.
func (j *Journal) barriers(ctx context.Context, block bool) ([]chan struct{}, error) {
	var out []chan struct{}
	for _, d := range j.drives {
		b := &batch{barrier: make(chan struct{})}
		if block {
			select {
			case d.ch <- b:
			case <-ctx.Done():
				return out, ctx.Err()
			}
		} else {
			select {
			case d.ch <- b:
			default:
				continue
			}
		}
		out = append(out, b.barrier)
	}
	return out, nil
}

// survey is the first pass of a read: it checks every copy, fills the
// report and collects the voids of complete batches.
func (j *Journal) survey(ctx context.Context, after, limit uint64) (Report, rangeSet, error) {
	var (
		rep   Report
		voids rangeSet
	)
	asm := assembler{
		complete: func(batch []copyOf) error {
			for _, c := range batch {
				if c.in.isVoid {
					voids = append(voids, c.in.void)
				}
			}
			return nil
		},
		incomplete: func(seq uint64) { addSeq(&rep.Incomplete, seq) },
	}
	err := j.merge(ctx, after, limit, &rep, asm.add)
	asm.drop() // a batch cut off by the end
	j.stateMu.Lock()
	voids = append(voids, j.pending...)
	j.stateMu.Unlock()
	voids.normalize()
	return rep, voids, err
}

// copyOf is one entry as read from a drive.
type copyOf struct {
	payload []byte
	in      info
}

// source reads one drive's segments in order.
type source struct {
	d        *drive
	segs     []segInfo
	lastSize int64
	id       [16]byte
	si       int
	r        *segReader
	prev     uint64
	cur      copyOf
	ok       bool
	err      error // why reading stopped early
	driveErr error // why the drive is offline
	torn     bool  // its tail was torn at open: it may have lost entries it held
}

func (s *source) advance() {
	s.ok = false
	for s.err == nil {
		if s.r == nil {
			if s.si == len(s.segs) {
				return
			}
			limit := int64(-1)
			if s.si == len(s.segs)-1 {
				limit = s.lastSize
			}
			r, err := openSegment(s.d.ops, s.segs[s.si], limit)
			if err == nil && r.hdr.id != s.id {
				err = fmt.Errorf("%w: %s belongs to journal %x", ErrCorrupt, r.seg.name, r.hdr.id)
			}
			if err == nil && r.hdr.first <= s.prev {
				err = fmt.Errorf("%w: %s starts at seq %d, after seq %d", ErrCorrupt, r.seg.name, r.hdr.first, s.prev)
			}
			if r != nil && err != nil {
				r.close()
			}
			if err != nil {
				s.err = err
				return
			}
			s.r, s.si = r, s.si+1
		}
		p, in, err := s.r.next()
		if err == io.EOF {
			s.r.close()
			s.r = nil
			continue
		}
		if err != nil {
			if isFrameErr(err) {
				err = fmt.Errorf("%w: %s offset %d: %v", ErrCorrupt, s.r.seg.name, s.r.off, err)
			}
			s.err = err
			return
		}
		s.prev, s.cur, s.ok = in.seq, copyOf{p, in}, true
		return
	}
}

func (s *source) close() {
	if s.r != nil {
		s.r.close()
		s.r = nil
	}
}

// sources snapshots the drives: their segments, and how much of the last
// one is durable.
func (j *Journal) sources(after uint64, rep *Report) []*source {
	srcs := make([]*source, len(j.drives))
	rep.Drives = make([]DriveReport, len(j.drives))
	for i, d := range j.drives {
		d.mu.Lock()
		s := &source{d: d, segs: slices.Clone(d.segs), lastSize: d.lastSize, id: j.id}
		rep.Drives[i] = DriveReport{Dir: d.dir}
		s.driveErr, s.torn = d.err, d.torn > 0
		if d.err != nil && len(d.segs) == 0 {
			s.err = d.err
		}
		d.mu.Unlock()
		// Start at the segment holding seq after+1.
		for s.si+1 < len(s.segs) && s.segs[s.si+1].first <= after+1 {
			s.si++
		}
		srcs[i] = s
	}
	return srcs
}

// merge walks the drives' entries in seq order from after+1 to limit. For
// each seq it takes the copy most drives hold (a tie is ErrNoMajority),
// records in rep which drives lack it or hold another copy, and calls visit
// with the winning copy.
func (j *Journal) merge(ctx context.Context, after, limit uint64, rep *Report, visit func(copyOf) error) error {
	srcs := j.sources(after, rep)
	defer func() {
		for _, s := range srcs {
			s.close()
		}
	}()
	for _, s := range srcs {
		for s.advance(); s.ok && s.cur.in.seq <= after; s.advance() {
		}
	}
	prev := after
	holders := make([]int, 0, len(srcs))
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		seq := uint64(math.MaxUint64)
		for _, s := range srcs {
			if s.ok && s.cur.in.seq < seq {
				seq = s.cur.in.seq
			}
		}
		if seq == math.MaxUint64 || seq > limit {
			break
		}
		if seq > prev+1 {
			rep.Gaps = append(rep.Gaps, SeqRange{prev + 1, seq - 1})
		}
		if rep.First == 0 {
			rep.First = seq
		}
		rep.Last, prev = seq, seq
		holders = holders[:0]
		unreadable := 0
		for i, s := range srcs {
			if s.ok && s.cur.in.seq == seq {
				holders = append(holders, i)
				continue
			}
			addSeq(&rep.Drives[i].Missing, seq)
			if s.err != nil || s.driveErr != nil || s.torn {
				unreadable++
			}
		}
		// An acknowledged entry reached a quorum; each drive that cannot be
		// read now (or lost a torn tail) may be one of its holders, a
		// readable drive without it is not. Fewer than that, and no Append ever returned it.
		if len(holders)+unreadable < j.quorum {
			addSeq(&rep.Unacknowledged, seq)
			for _, i := range holders {
				rep.Drives[i].Entries++
				srcs[i].advance()
			}
			continue
		}
		win, err := majority(srcs, holders)
		if err != nil {
			return fmt.Errorf("seq %d: %w", seq, err)
		}
		winner := srcs[win].cur
		for _, i := range holders {
			rep.Drives[i].Entries++
			if !bytes.Equal(srcs[i].cur.payload, winner.payload) {
				rep.Drives[i].Disagree = append(rep.Drives[i].Disagree, seq)
			}
			srcs[i].advance()
		}
		if err := visit(winner); err != nil {
			return err
		}
	}
	for i, s := range srcs {
		rep.Drives[i].Err = cmp.Or(s.err, s.driveErr)
	}
	return nil
}

// majority returns the index of a source holding the copy most holders
// agree on, or ErrNoMajority when two different copies tie.
func majority(srcs []*source, holders []int) (int, error) {
	first := srcs[holders[0]].cur.payload
	same := true
	for _, i := range holders[1:] {
		if !bytes.Equal(srcs[i].cur.payload, first) {
			same = false
			break
		}
	}
	if same {
		return holders[0], nil
	}
	best, bestN, tie := -1, 0, false
	for a, i := range holders {
		n := 0
		for _, k := range holders {
			if bytes.Equal(srcs[i].cur.payload, srcs[k].cur.payload) {
				n++
			}
		}
		dup := false
		for _, k := range holders[:a] {
			if bytes.Equal(srcs[i].cur.payload, srcs[k].cur.payload) {
				dup = true
				break
			}
		}
		switch {
		case dup:
		case n > bestN:
			best, bestN, tie = i, n, false
		case n == bestN:
			tie = true
		}
	}
	if tie {
		return -1, fmt.Errorf("%w: %d drives hold it, the most that agree are %d, as many as hold another copy", ErrNoMajority, len(holders), bestN)
	}
	return best, nil
}

// assembler groups entries into their Append batches and passes on only
// complete ones.
type assembler struct {
	pend       []copyOf
	complete   func([]copyOf) error
	incomplete func(seq uint64)
}

func (a *assembler) add(c copyOf) error {
	if n := len(a.pend); n > 0 {
		head := a.pend[0].in
		if !c.in.batched() || c.in.batchSeq != head.batchSeq || c.in.batchSize != head.batchSize || c.in.seq != a.pend[n-1].in.seq+1 {
			a.drop()
		}
	}
	if !c.in.batched() {
		return a.complete([]copyOf{c})
	}
	if len(a.pend) == 0 && c.in.seq != c.in.batchSeq {
		a.pend = []copyOf{c}
		a.drop()
		return nil
	}
	a.pend = append(a.pend, c)
	if uint64(len(a.pend)) == c.in.batchSize {
		batch := a.pend
		a.pend = nil
		return a.complete(batch)
	}
	return nil
}

// drop discards the pending entries of a batch that is not all present.
// A batch cut off by the end of the read is dropped by never completing.
func (a *assembler) drop() {
	if a.incomplete != nil {
		for _, c := range a.pend {
			a.incomplete(c.in.seq)
		}
	}
	a.pend = a.pend[:0]
}

// addSeq adds seq, greater than every seq in *rs, to a list of ranges.
func addSeq(rs *[]SeqRange, seq uint64) {
	if n := len(*rs); n > 0 && (*rs)[n-1].Last+1 == seq {
		(*rs)[n-1].Last = seq
		return
	}
	*rs = append(*rs, SeqRange{seq, seq})
}

// rangeSet is a sorted list of disjoint ranges once normalized.
type rangeSet []SeqRange

func (s *rangeSet) normalize() {
	slices.SortFunc(*s, func(a, b SeqRange) int {
		switch {
		case a.First < b.First:
			return -1
		case a.First > b.First:
			return 1
		}
		return 0
	})
	out := (*s)[:0]
	for _, r := range *s {
		if n := len(out); n > 0 && r.First <= out[n-1].Last+1 {
			out[n-1].Last = max(out[n-1].Last, r.Last)
			continue
		}
		out = append(out, r)
	}
	*s = out
}

func (s rangeSet) has(seq uint64) bool {
	i, _ := slices.BinarySearchFunc(s, seq, func(r SeqRange, seq uint64) int {
		switch {
		case r.Last < seq:
			return -1
		case r.First > seq:
			return 1
		}
		return 0
	})
	return i < len(s) && s[i].First <= seq && seq <= s[i].Last
}

package journal

import (
	"context"
	"fmt"
	"sync"
)

// drive is one journal directory.
type drive struct {
	dir string
	ops dirOps
	ch  chan *batch // nil when read-only

	mu       sync.Mutex
	err      error // why the drive is offline; nil when online
	segs     []segInfo
	lastSize int64 // valid bytes of the last segment (-1: read to the end)
	f        segFile
	lastSeq  uint64
	torn     int64
}

// driveQueue is how many writes a drive may fall behind before it is taken
// offline rather than allowed to hold up the others.
const driveQueue = 4096

// batch is one Append (or void) on its way to the drives.
type batch struct {
	j           *Journal
	frames      []byte
	first, last uint64
	voids       []SeqRange    // for a void batch: what it voids
	barrier     chan struct{} // for Repair: closed when a drive reaches it
	targets     int

	mu        sync.Mutex
	ok, bad   int
	firstErr  error
	decided   bool
	abandoned bool
	err       error
	done      chan struct{}
}

// report records one drive's outcome and decides the batch once a quorum
// holds it or can no longer.
func (b *batch) report(err error) {
	q := b.j.quorum
	b.mu.Lock()
	if err == nil {
		b.ok++
	} else {
		b.bad++
		if b.firstErr == nil {
			b.firstErr = err
		}
	}
	if b.decided || (b.ok < q && b.bad <= b.targets-q) {
		b.mu.Unlock()
		return
	}
	b.decided = true
	if b.ok < q {
		b.err = fmt.Errorf("%w: seqs %v durable on %d drives, need %d: %v", ErrQuorum, SeqRange{b.first, b.last}, b.ok, q, b.firstErr)
	}
	abandoned := b.abandoned
	b.mu.Unlock()

	j := b.j
	j.stateMu.Lock()
	if b.err == nil && b.last > j.done {
		j.done = b.last
	}
	switch {
	case b.voids != nil && b.err != nil:
		j.pending = append(j.pending, b.voids...) // try again
	case b.voids == nil && (b.err != nil || abandoned):
		j.pending = append(j.pending, SeqRange{b.first, b.last})
	}
	j.stateMu.Unlock()
	close(b.done)
}

func (b *batch) wait(ctx context.Context) (uint64, error) {
	select {
	case <-b.done:
	case <-ctx.Done():
		b.mu.Lock()
		if !b.decided {
			b.abandoned = true
			b.mu.Unlock()
			return 0, ctx.Err()
		}
		b.mu.Unlock()
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.last, nil
}

// run writes the drive's queued batches in order, coalescing those waiting
// into one write and one fsync.
func (d *drive) run(j *Journal) {
	defer j.wg.Done()
	var carry *batch
	for {
		b := carry
		carry = nil
		if b == nil {
			var ok bool
			if b, ok = <-d.ch; !ok {
				return
			}
		}
		if b.barrier != nil {
			close(b.barrier)
			continue
		}
		group, size := []*batch{b}, len(b.frames)
	drain:
		for {
			select {
			case nb, ok := <-d.ch:
				if !ok {
					break drain
				}
				if nb.barrier != nil || size+len(nb.frames) > MaxAppendSize {
					carry = nb
					break drain
				}
				group, size = append(group, nb), size+len(nb.frames)
			default:
				break drain
			}
		}
		err := d.write(j, group, size)
		for _, g := range group {
			g.report(err)
		}
	}
}

// write appends the batches' frames in one write and fsyncs them, starting
// a new segment first when the current one is full. It holds d.mu only to
// read and update the drive's state, never across I/O, so a hung drive
// holds up nobody but itself. d.f belongs to the drive's goroutine (and to
// Open, Close and Repair while the goroutine is idle).
func (d *drive) write(j *Journal, group []*batch, size int) error {
	d.mu.Lock()
	err, lastSize := d.err, d.lastSize
	d.mu.Unlock()
	if err != nil {
		d.closeFile()
		return err
	}
	roll := d.f == nil || lastSize >= j.cfg.SegmentSize
	var buf []byte
	if roll || len(group) > 1 {
		buf = make([]byte, 0, headerSize+size)
		if roll {
			buf = header{id: j.id, first: group[0].first}.appendTo(buf)
		}
		for _, g := range group {
			buf = append(buf, g.frames...)
		}
	} else {
		buf = group[0].frames
	}
	name := segmentName(group[0].first)
	if roll {
		if d.f != nil {
			err := d.f.Close()
			d.f = nil
			if err != nil {
				return d.fail(err)
			}
		}
		f, err := d.ops.create(name)
		if err != nil {
			return d.fail(err)
		}
		d.f = f
	}
	if _, err := d.f.Write(buf); err != nil {
		return d.fail(err)
	}
	if err := d.f.Sync(); err != nil {
		return d.fail(err)
	}
	if roll {
		if err := d.ops.syncDir(); err != nil {
			return d.fail(err)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if roll {
		d.segs = append(d.segs, segInfo{name: name, first: group[0].first})
		d.lastSize = 0
	}
	d.lastSize += int64(len(buf))
	d.lastSeq = group[len(group)-1].last
	return nil
}

// fail takes the drive offline (from its own goroutine) until the journal
// is reopened or repaired. Its files stay as they are: a partial write is a
// torn tail the next open cuts away.
func (d *drive) fail(err error) error {
	d.closeFile()
	return d.setErr(err)
}

// setErr marks the drive offline; the drive's goroutine closes its file
// when it next runs.
func (d *drive) setErr(err error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err == nil {
		d.err = fmt.Errorf("journal: drive %s offline: %w", d.dir, err)
	}
	return d.err
}

func (d *drive) closeFile() {
	if d.f != nil {
		d.f.Close()
		d.f = nil
	}
}

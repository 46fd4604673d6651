package journal

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/wormvault/wormvault"
	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
)

// Entry is one journaled change. The journal sets Seq, BatchSeq and
// BatchSize; the caller sets Time and the change.
type Entry = recordv1.JournalEntry

// SeqRange is the seqs First through Last, inclusive.
type SeqRange struct{ First, Last uint64 }

func (r SeqRange) String() string {
	if r.First == r.Last {
		return fmt.Sprint(r.First)
	}
	return fmt.Sprintf("%d-%d", r.First, r.Last)
}

var (
	// ErrQuorum means fewer drives than the write quorum hold a change
	// durably: the change did not happen and the catalog must not commit it.
	ErrQuorum = errors.New("journal: write quorum not reached")
	// ErrCorrupt marks damage on a drive that is not a torn tail.
	ErrCorrupt = errors.New("journal: corrupt segment")
	// ErrUnsupported means a segment was written in a format this version
	// does not know.
	ErrUnsupported = errors.New("journal: unsupported segment format")
	// ErrNoMajority means the copies of one seq differ and no one version
	// is held by more drives than every other: the journal will not guess.
	ErrNoMajority = fmt.Errorf("%w: journal copies disagree with no majority", wormvault.ErrDataLoss)
	// ErrClosed is returned by calls on a closed Journal.
	ErrClosed = errors.New("journal: closed")
	// ErrReadOnly is returned by writes to a Journal opened read-only.
	ErrReadOnly = errors.New("journal: opened read-only")
)

// Config configures OpenConfig.
type Config struct {
	// Dirs are the journal directories, one per drive (<drive>/journal),
	// always given in the same order. Missing ones are created.
	Dirs []string
	// Quorum is how many drives must hold an entry durably before Append
	// returns: m+1 for k+m erasure coding. Zero means a majority of Dirs.
	// Opening for writing needs max(Quorum, len(Dirs)-Quorum+1) readable
	// drives, so that the drives read at open include one holding every
	// acknowledged entry and no seq is handed out twice.
	Quorum int
	// SegmentSize is the size past which a drive starts a new segment
	// file; zero means DefaultSegmentSize.
	SegmentSize int64
	// ReadOnly opens without creating, truncating or writing anything and
	// without a quorum: for audits and for rebuilding a catalog when drives
	// are missing. Append, Void and Repair return ErrReadOnly.
	ReadOnly bool

	// wrapDir lets tests inject faults into a drive's file operations.
	wrapDir func(i int, d dirOps) dirOps
}

// Validate reports whether the configuration can be opened.
func (c Config) Validate() error {
	if len(c.Dirs) == 0 {
		return errors.New("journal: no directories")
	}
	seen := map[string]bool{}
	for _, d := range c.Dirs {
		p := filepath.Clean(d)
		if d == "" || seen[p] {
			return fmt.Errorf("journal: directory %q empty or given twice", d)
		}
		seen[p] = true
	}
	if c.Quorum < 0 || c.Quorum > len(c.Dirs) {
		return fmt.Errorf("journal: quorum %d of %d drives", c.Quorum, len(c.Dirs))
	}
	if c.SegmentSize < 0 {
		return fmt.Errorf("journal: segment size %d", c.SegmentSize)
	}
	return nil
}

// Journal is an open journal over a set of drives. It is safe for
// concurrent use.
type Journal struct {
	cfg    Config
	quorum int
	id     [16]byte
	drives []*drive
	wg     sync.WaitGroup

	// readMu is shared by readers and held by Repair, which replaces
	// drives' files.
	readMu sync.RWMutex

	// mu orders seq assignment with dispatch to the drives.
	mu     sync.Mutex
	next   uint64 // next seq to assign
	closed bool

	stateMu sync.Mutex
	done    uint64     // highest seq durable on a quorum (or found at open)
	pending []SeqRange // seqs to void in the next write
}

// Open opens (or creates) a journal over dirs with the given write quorum.
func Open(dirs []string, quorum int) (*Journal, error) {
	return OpenConfig(Config{Dirs: dirs, Quorum: quorum})
}

// OpenConfig opens (or creates) a journal. On each drive it cuts away a
// torn tail (the last, interrupted write); a drive that cannot be read, is
// corrupt, or belongs to another journal is opened offline and shown by
// Drives and ReadAll.
func OpenConfig(cfg Config) (*Journal, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Quorum == 0 {
		cfg.Quorum = len(cfg.Dirs)/2 + 1
	}
	if cfg.SegmentSize == 0 {
		cfg.SegmentSize = DefaultSegmentSize
	}
	j := &Journal{cfg: cfg, quorum: cfg.Quorum, drives: make([]*drive, len(cfg.Dirs))}
	scans := make([]driveScan, len(cfg.Dirs))
	var wg sync.WaitGroup
	for i, dir := range cfg.Dirs {
		d := &drive{dir: dir, ops: j.dirOps(i, dir)}
		j.drives[i] = d
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !cfg.ReadOnly {
				if err := recoverSwap(dir); err != nil {
					d.err = err
					return
				}
				if err := d.ops.mkdir(); err != nil {
					d.err = err
					return
				}
			}
			scans[i], d.err = scanDrive(d.ops, cfg.ReadOnly)
		}()
	}
	wg.Wait()
	if err := j.electID(scans); err != nil {
		return nil, err
	}
	online := 0
	for i, d := range j.drives {
		s := scans[i]
		if d.err == nil && s.hasID && s.id != j.id {
			d.err = fmt.Errorf("%w: drive holds journal %x, not %x", ErrCorrupt, s.id, j.id)
			continue
		}
		d.segs, d.lastSize, d.lastSeq, d.torn = s.segs, s.lastSize, s.lastSeq, s.torn
		j.next = max(j.next, s.reserved)
		if d.err == nil {
			d.err = s.corrupt
		}
		if d.err == nil {
			online++
		}
	}
	j.next++
	j.done = j.next - 1
	if cfg.ReadOnly {
		return j, nil
	}
	if need := max(j.quorum, len(j.drives)-j.quorum+1); online < need {
		return nil, fmt.Errorf("%w: %d of %d journal drives readable, opening needs %d", ErrQuorum, online, len(j.drives), need)
	}
	for _, d := range j.drives {
		if d.err == nil && len(d.segs) > 0 {
			if d.f, d.err = d.ops.openAppend(d.segs[len(d.segs)-1].name); d.err != nil {
				online--
			}
		}
	}
	if online < j.quorum {
		j.closeFiles()
		return nil, fmt.Errorf("%w: %d of %d journal drives writable", ErrQuorum, online, len(j.drives))
	}
	for _, d := range j.drives {
		d.ch = make(chan *batch, driveQueue)
		j.wg.Add(1)
		go d.run(j)
	}
	return j, nil
}

func (j *Journal) dirOps(i int, dir string) dirOps {
	var d dirOps = osDir(dir)
	if j.cfg.wrapDir != nil {
		d = j.cfg.wrapDir(i, d)
	}
	return d
}

// electID sets the journal id: the one most drives' segments carry, or a
// new random one for a journal with no segments anywhere.
func (j *Journal) electID(scans []driveScan) error {
	count := map[[16]byte]int{}
	for i, s := range scans {
		if j.drives[i].err == nil && s.hasID && s.corrupt == nil {
			count[s.id]++
		}
	}
	if len(count) == 0 {
		// Corrupt drives still name a journal; prefer theirs to a new one.
		for i, s := range scans {
			if j.drives[i].err == nil && s.hasID {
				count[s.id]++
			}
		}
	}
	best, tie := 0, false
	for id, n := range count {
		switch {
		case n > best:
			j.id, best, tie = id, n, false
		case n == best:
			tie = true
		}
	}
	if tie {
		return fmt.Errorf("%w: the drives hold %d different journals, none on more drives than the others", ErrNoMajority, len(count))
	}
	if best == 0 {
		if _, err := rand.Read(j.id[:]); err != nil {
			return err
		}
	}
	return nil
}

// DriveStatus describes one drive of an open journal.
type DriveStatus struct {
	Dir string
	// Err is why the drive is offline (unreadable, failed a write, fell
	// behind, corrupt, or another journal's); nil when online.
	Err error
	// LastSeq is the highest seq on the drive.
	LastSeq uint64
	// TornBytes is how much of an interrupted last write open cut away.
	TornBytes int64
}

// Drives reports the state of every drive, in the order of Config.Dirs.
func (j *Journal) Drives() []DriveStatus {
	out := make([]DriveStatus, len(j.drives))
	for i, d := range j.drives {
		d.mu.Lock()
		out[i] = DriveStatus{Dir: d.dir, Err: d.err, LastSeq: d.lastSeq, TornBytes: d.torn}
		d.mu.Unlock()
	}
	return out
}

// LastSeq returns the highest seq durable on a write quorum (for a journal
// just opened: the highest seq found).
func (j *Journal) LastSeq() uint64 {
	j.stateMu.Lock()
	defer j.stateMu.Unlock()
	return j.done
}

// Append writes entries as one batch at the next seqs, sets each entry's
// Seq (and, for several, BatchSeq and BatchSize), and returns the last seq
// once the batch is durable on a write quorum. Concurrent calls share
// writes and fsyncs. The batch takes effect all or nothing.
//
// An error means the change did not happen: the caller must not commit
// it. The entries may be on some drives; the journal voids them with its
// next write. Cancelling ctx abandons the wait, with the same effect.
func (j *Journal) Append(ctx context.Context, entries ...*Entry) (uint64, error) {
	if j.cfg.ReadOnly {
		return 0, ErrReadOnly
	}
	if len(entries) == 0 {
		return 0, fmt.Errorf("%w: journal: no entries", wormvault.ErrInvalidArgument)
	}
	bodies := make([][]byte, len(entries))
	size := 0
	for i, e := range entries {
		if e.GetChange() == nil {
			return 0, fmt.Errorf("%w: journal: entry %d has no change", wormvault.ErrInvalidArgument, i)
		}
		if e.GetVoid() != nil {
			return 0, fmt.Errorf("%w: journal: voids are written with Void", wormvault.ErrInvalidArgument)
		}
		b, err := encodeBody(e)
		if err != nil {
			return 0, fmt.Errorf("journal: encode entry %d: %w", i, err)
		}
		bodies[i] = b
		size += frameHeaderSize + maxPrefix + len(b)
		if len(b)+maxPrefix > MaxEntrySize || size > MaxAppendSize {
			return 0, fmt.Errorf("%w: journal: entries too large", wormvault.ErrInvalidArgument)
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	b, err := j.submit(bodies, nil)
	if err != nil {
		return 0, err
	}
	for i, e := range entries {
		e.Seq = b.first + uint64(i)
		if len(entries) > 1 {
			e.BatchSeq, e.BatchSize = b.first, uint32(len(entries))
		}
	}
	return b.wait(ctx)
}

// Void records that the entries at seqs r never took effect: the catalog
// commit that followed their Append failed. If it returns an error the
// journal retries it with its next write.
func (j *Journal) Void(ctx context.Context, r SeqRange) error {
	if j.cfg.ReadOnly {
		return ErrReadOnly
	}
	j.mu.Lock()
	next := j.next
	j.mu.Unlock()
	if r.First == 0 || r.First > r.Last || r.Last >= next {
		return fmt.Errorf("%w: journal: cannot void seqs %v", wormvault.ErrInvalidArgument, r)
	}
	b, err := j.submit(nil, []SeqRange{r})
	if err != nil {
		return err
	}
	_, err = b.wait(ctx)
	return err
}

func voidBodies(voids []SeqRange) [][]byte {
	bodies := make([][]byte, len(voids))
	for i, r := range voids {
		b, _ := encodeBody(&Entry{Change: &recordv1.JournalEntry_Void{Void: &recordv1.JournalVoid{FirstSeq: r.First, LastSeq: r.Last}}})
		bodies[i] = b
	}
	return bodies
}

// submit assigns seqs to a batch of encoded entries (or of voids) and hands
// it to every online drive, after a batch voiding earlier failed writes.
func (j *Journal) submit(bodies [][]byte, voids []SeqRange) (*batch, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil, ErrClosed
	}
	online := j.online()
	if len(online) < j.quorum {
		return nil, fmt.Errorf("%w: %d of %d journal drives online, need %d", ErrQuorum, len(online), len(j.drives), j.quorum)
	}
	j.stateMu.Lock()
	pend := j.pending
	j.pending = nil
	j.stateMu.Unlock()
	if len(pend) > 0 {
		j.dispatch(j.build(voidBodies(pend), pend), online)
	}
	if voids != nil {
		bodies = voidBodies(voids)
	}
	b := j.build(bodies, voids)
	j.dispatch(b, online)
	return b, nil
}

func (j *Journal) online() []*drive {
	var out []*drive
	for _, d := range j.drives {
		d.mu.Lock()
		if d.err == nil {
			out = append(out, d)
		}
		d.mu.Unlock()
	}
	return out
}

// build frames a batch at the next seqs; j.mu is held.
func (j *Journal) build(bodies [][]byte, voids []SeqRange) *batch {
	first, n := j.next, len(bodies)
	size := 0
	for _, b := range bodies {
		size += frameHeaderSize + maxPrefix + len(b)
	}
	frames := make([]byte, 0, size)
	for i, body := range bodies {
		frames = appendFrame(frames, encodeEntry(first+uint64(i), first, uint32(n), body))
	}
	j.next += uint64(n)
	return &batch{j: j, frames: frames, first: first, last: j.next - 1, voids: voids, done: make(chan struct{})}
}

// dispatch queues b on the online drives; j.mu is held, so every drive
// receives batches in seq order.
func (j *Journal) dispatch(b *batch, online []*drive) {
	b.targets = len(online)
	for _, d := range online {
		select {
		case d.ch <- b:
		default:
			err := fmt.Errorf("journal: drive %s fell %d writes behind", d.dir, driveQueue)
			d.setErr(err)
			b.report(err)
		}
	}
}

// Close waits for queued writes, voids failed ones if it can, and closes
// the files. In-flight Appends complete first.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	if !j.cfg.ReadOnly {
		j.stateMu.Lock()
		pend := j.pending
		j.pending = nil
		j.stateMu.Unlock()
		if online := j.online(); len(pend) > 0 && len(online) >= j.quorum {
			j.dispatch(j.build(voidBodies(pend), pend), online)
		}
		for _, d := range j.drives {
			close(d.ch)
		}
	}
	j.mu.Unlock()
	j.wg.Wait()
	return j.closeFiles()
}

func (j *Journal) closeFiles() error {
	var errs []error
	for _, d := range j.drives {
		d.mu.Lock()
		if d.f != nil {
			errs = append(errs, d.f.Close())
			d.f = nil
		}
		d.mu.Unlock()
	}
	return errors.Join(errs...)
}

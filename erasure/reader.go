package erasure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/sha256-simd"
	"github.com/wormvault/wormvault"
)

// tailRead is how much of a shard's end Open reads at once; larger trailers
// (big meta blobs) take a second read.
const tailRead = 4096

// Object is a committed object found by Open: its geometry, caller meta and
// where its shards are. It holds no open files and is safe for concurrent
// use.
type Object struct {
	s        *Set
	id       string
	t        trailer // common to every shard; t.index is meaningless
	loc      []int   // shard index -> drive index, -1 if missing
	fileSize int64   // size of every shard file
	degraded atomic.Bool
}

// shardFile is what Open learned from one drive.
type shardFile struct {
	t    trailer
	size int64
	err  error
}

// readTrailer reads and checks the trailer of the shard of id in r.
func readTrailer(r ShardReader, id string) (trailer, error) {
	size := r.Size()
	tail := make([]byte, min(size, tailRead))
	if _, err := r.ReadAt(tail, size-int64(len(tail))); err != nil {
		return trailer{}, err
	}
	if n, err := trailerLen(tail); err == nil && n+footerSize > len(tail) && int64(n+footerSize) <= size {
		tail = make([]byte, n+footerSize)
		if _, err := r.ReadAt(tail, size-int64(len(tail))); err != nil {
			return trailer{}, err
		}
	}
	t, tlen, err := decodeTrailer(tail)
	if err != nil {
		return t, err
	}
	if t.id != id {
		return t, fmt.Errorf("%w: shard of %q holds id %q", ErrCorrupt, id, t.id)
	}
	if want := t.dataLen() + int64(tlen); want != size {
		return t, fmt.Errorf("%w: shard is %d bytes, want %d", ErrCorrupt, size, want)
	}
	return t, nil
}

// Open finds object id: it reads the trailer of every drive's shard, keeps
// the largest set of shards from one write, and checks that at least k
// distinct shards are there. No shard anywhere: an error wrapping
// ErrNotFound. Some, but fewer than k: an error wrapping both ErrNotFound
// and wormvault.ErrDataLoss. Missing or damaged shards call
// Config.OnDegraded.
func (s *Set) Open(ctx context.Context, id string) (*Object, error) {
	return s.open(ctx, id, true)
}

// open is Open; notify false keeps Heal from queueing the object it heals.
func (s *Set) open(ctx context.Context, id string, notify bool) (*Object, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	found := make([]shardFile, len(s.drives))
	s.eachDrive(func(i int, d Drive) {
		r, err := d.Open(ctx, id)
		if err != nil {
			found[i].err = err
			return
		}
		found[i].size = r.Size()
		found[i].t, found[i].err = readTrailer(r, id)
		r.Close()
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Group the valid shards by write and keep the group with most distinct
	// shard indices.
	var best *Object
	bestN, shardsSeen := 0, 0
	for i := range found {
		f := &found[i]
		if f.err != nil {
			continue
		}
		shardsSeen++
		var o *Object
		if best != nil && best.t.sameObject(&f.t) {
			o = best
		} else {
			o = &Object{s: s, id: id, t: f.t, fileSize: f.size, loc: make([]int, f.t.n())}
			for j := range o.loc {
				o.loc[j] = -1
			}
			for j := range found[:i] {
				if g := &found[j]; g.err == nil && g.t.sameObject(&f.t) {
					o.place(g.t.index, j)
				}
			}
		}
		o.place(f.t.index, i)
		if c := o.Shards(); c > bestN {
			best, bestN = o, c
		}
	}
	if best == nil || bestN < best.t.k {
		var errs []error
		for i, f := range found {
			if f.err != nil && !errors.Is(f.err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("drive %d: %w", i, f.err))
			}
		}
		if shardsSeen == 0 && len(errs) == 0 {
			return nil, fmt.Errorf("erasure.Open %s: %w", id, ErrNotFound)
		}
		need := s.cfg.DataShards
		if best != nil {
			need = best.t.k
		}
		return nil, fmt.Errorf("erasure.Open %s: %d intact shards, need %d: %w: %w (%w)", id, bestN, need, ErrNotFound, wormvault.ErrDataLoss, errors.Join(errs...))
	}

	best.t.index = 0
	for i, f := range found {
		switch {
		case f.err == nil || errors.Is(f.err, fs.ErrNotExist):
		case errors.Is(f.err, ErrCorrupt) || errors.Is(f.err, ErrUnsupported):
			s.stats[i].corruptBlocks.Add(1)
		default:
			s.stats[i].readErrors.Add(1)
		}
	}
	for j, d := range best.loc {
		if d < 0 {
			s.stats[best.home(j)].missingShards.Add(1)
		}
	}
	if !notify {
		best.degraded.Store(true)
	}
	if bestN < best.t.n() {
		best.markDegraded()
	}
	return best, nil
}

// home is the drive shard j was placed on when written.
func (o *Object) home(j int) int { return (j + o.t.offset) % len(o.s.drives) }

// place records that drive i holds shard j. A shard found on two drives
// (a drive's files copied onto another) is read from its home drive: the
// copy elsewhere is the anomaly, and reading a corrupt copy there would
// count shard j as lost while an intact one sits at home.
func (o *Object) place(j, i int) {
	if o.loc[j] < 0 || (o.loc[j] != o.home(j) && i == o.home(j)) {
		o.loc[j] = i
	}
}

func (o *Object) markDegraded() {
	if o.degraded.CompareAndSwap(false, true) {
		o.s.degraded(o.id)
	}
}

// ID returns the object's id.
func (o *Object) ID() string { return o.id }

// Size returns the object's length in bytes.
func (o *Object) Size() int64 { return o.t.size }

// Meta returns the caller meta stored at Commit. The caller must not modify
// it.
func (o *Object) Meta() []byte { return o.t.meta }

// Shards returns the number of intact shard trailers Open found.
func (o *Object) Shards() int {
	n := 0
	for _, d := range o.loc {
		if d >= 0 {
			n++
		}
	}
	return n
}

// Info describes the object.
func (o *Object) Info() ObjectInfo {
	return ObjectInfo{
		ID: o.id, Size: o.t.size, DataShards: o.t.k, ParityShards: o.t.m, BlockSize: o.t.blockSize,
		Shards: o.Shards(), Created: time.Unix(0, o.t.created),
	}
}

// blockReader reads and verifies shard blocks of one object. It opens shard
// files lazily and remembers which are unusable. Methods other than close
// are called with distinct shard indices from concurrent goroutines.
type blockReader struct {
	o     *Object
	ctx   context.Context
	files []ShardReader
	dead  []bool // file missing, unreadable or of the wrong size
	bp    *[]byte
	buf   []byte // k+m blocks of stride bytes
}

func (o *Object) newBlockReader(ctx context.Context) *blockReader {
	n := o.t.n()
	br := &blockReader{o: o, ctx: ctx, files: make([]ShardReader, n), dead: make([]bool, n), bp: o.s.getBuf(n * o.t.stride())}
	br.buf = *br.bp
	for j, d := range o.loc {
		br.dead[j] = d < 0
	}
	return br
}

// shard returns the buffer of shard j's block of length size.
func (br *blockReader) shard(j, size int) []byte {
	off := j*br.o.t.stride() + hashSize
	return br.buf[off : off+size : off+size]
}

// read reads and verifies block s of shard j into its place in buf. It
// reports whether the block is intact; failures are counted per drive.
func (br *blockReader) read(j int, s int64) bool {
	if br.dead[j] {
		return false
	}
	o := br.o
	d := o.loc[j]
	st := &o.s.stats[d]
	f := br.files[j]
	if f == nil {
		var err error
		f, err = o.s.drives[d].Open(br.ctx, o.id)
		if err == nil && f.Size() != o.fileSize {
			f.Close()
			err = ErrCorrupt
		}
		if err != nil {
			br.dead[j] = true
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrCorrupt) {
				st.missingShards.Add(1)
			} else {
				st.readErrors.Add(1)
			}
			return false
		}
		br.files[j] = f
	}
	size := o.t.stripeShardSize(s)
	blk := br.buf[j*o.t.stride():][:hashSize+size]
	if _, err := f.ReadAt(blk, o.t.blockOffset(s)); err != nil {
		st.readErrors.Add(1)
		return false
	}
	if sum := sha256.Sum256(blk[hashSize:]); !bytes.Equal(sum[:], blk[:hashSize]) {
		st.corruptBlocks.Add(1)
		return false
	}
	return true
}

// readSet reads the blocks of stripe s of the shards in js in parallel and
// records which are intact in good.
func (br *blockReader) readSet(s int64, js []int, good []bool) {
	if len(js) == 1 {
		good[js[0]] = br.read(js[0], s)
		return
	}
	var wg sync.WaitGroup
	for _, j := range js {
		wg.Go(func() { good[j] = br.read(j, s) })
	}
	wg.Wait()
}

func (br *blockReader) close() {
	for i, f := range br.files {
		if f != nil {
			f.Close()
			br.files[i] = nil
		}
	}
	if br.bp != nil {
		br.o.s.putBuf(br.bp)
		br.bp, br.buf = nil, nil
	}
}

// Reader reads a byte range of an object; see Object.NewReader.
type Reader struct {
	o        *Object
	br       *blockReader
	pos, end int64
	out      []byte // unread bytes of the current stripe
	outBuf   *[]byte
	good     []bool
	shards   [][]byte
	rebuilt  bool
	err      error
}

// NewReader returns a reader of exactly the bytes [off, off+length) of the
// object; length -1 means to the end. It reads only the stripes the range
// covers and, in each, only the data shards it needs, verifying every block
// read against its bitrot hash. Missing or corrupt blocks are reconstructed
// from other shards on the fly (Reconstructed reports it, and the object is
// reported to Config.OnDegraded). If a stripe has fewer than k intact blocks
// the reader fails with an error wrapping wormvault.ErrDataLoss before
// returning any byte of that stripe. ctx bounds the reader's life.
func (o *Object) NewReader(ctx context.Context, off, length int64) (io.ReadCloser, error) {
	if length == -1 {
		length = o.t.size - off
	}
	if off < 0 || length < 0 || off > o.t.size || length > o.t.size-off {
		return nil, fmt.Errorf("%w: erasure: range [%d, +%d) of %s outside its %d bytes", ErrInvalid, off, length, o.id, o.t.size)
	}
	n := o.t.n()
	return &Reader{
		o: o, br: o.newBlockReader(ctx), pos: off, end: off + length,
		good: make([]bool, n), shards: make([][]byte, n),
	}, nil
}

// Reconstructed reports whether any byte read so far had to be rebuilt from
// parity.
func (r *Reader) Reconstructed() bool { return r.rebuilt }

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(r.out) == 0 {
		if r.pos >= r.end {
			return 0, io.EOF
		}
		if err := r.load(); err != nil {
			r.err = err
			return 0, err
		}
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// load decodes the stripe holding r.pos into r.out, up to r.end.
func (r *Reader) load() error {
	if r.br.buf == nil {
		return fmt.Errorf("erasure: read %s: reader closed", r.o.id)
	}
	if err := r.br.ctx.Err(); err != nil {
		return err
	}
	t := &r.o.t
	B := int64(t.blockSize)
	s := r.pos / B
	S := t.stripeShardSize(s)
	lo := int(r.pos - s*B)
	hi := int(min(r.end-s*B, int64(t.stripeLen(s))))
	first, last := lo/S, (hi-1)/S

	// Read the data shards the range needs; on failure, read more shards
	// (data first, then parity) until k are intact.
	clear(r.good)
	need := make([]int, 0, t.n())
	for j := first; j <= last; j++ {
		need = append(need, j)
	}
	r.br.readSet(s, need, r.good)
	intact, missing := 0, false
	for _, j := range need {
		if r.good[j] {
			intact++
		} else {
			missing = true
		}
	}
	if missing {
		tried := make([]bool, t.n())
		for _, j := range need {
			tried[j] = true
		}
		for intact < t.k {
			var more []int
			for j := 0; j < t.n() && len(more) < t.k-intact; j++ {
				if !tried[j] && !r.br.dead[j] {
					more = append(more, j)
					tried[j] = true
				}
			}
			if len(more) == 0 {
				r.o.markDegraded()
				return fmt.Errorf("erasure: read %s: stripe %d has %d intact blocks, need %d: %w", r.o.id, s, intact, t.k, wormvault.ErrDataLoss)
			}
			r.br.readSet(s, more, r.good)
			for _, j := range more {
				if r.good[j] {
					intact++
				}
			}
		}
		required := make([]bool, t.k)
		for j := range t.n() {
			if r.good[j] {
				r.shards[j] = r.br.shard(j, S)
			} else {
				r.shards[j] = r.br.shard(j, S)[:0]
			}
		}
		for _, j := range need {
			required[j] = !r.good[j]
			if !r.good[j] {
				r.o.s.stats[r.o.driveOf(j)].rebuilt.Add(1)
			}
		}
		codec, err := r.o.s.codec(t.geometry)
		if err != nil {
			return err
		}
		if err := codec.ReconstructSome(r.shards, required); err != nil {
			return fmt.Errorf("erasure: read %s: stripe %d: %w", r.o.id, s, err)
		}
		r.rebuilt = true
		r.o.markDegraded()
	}

	// Gather [lo, hi) of the stripe.
	if r.outBuf == nil {
		r.outBuf = r.o.s.getBuf(t.blockSize)
	}
	out := (*r.outBuf)[:hi-lo]
	for p := lo; p < hi; {
		j, o := p/S, p%S
		n := copy(out[p-lo:], r.br.shard(j, S)[o:])
		p += n
	}
	r.out = out
	r.pos += int64(hi - lo)
	return nil
}

// driveOf is the drive whose shard j is being stood in for: where it was
// found, else its home drive.
func (o *Object) driveOf(j int) int {
	if d := o.loc[j]; d >= 0 {
		return d
	}
	return o.home(j)
}

// Close releases the reader's files and buffers.
func (r *Reader) Close() error {
	r.br.close()
	if r.outBuf != nil {
		r.o.s.putBuf(r.outBuf)
		r.outBuf = nil
	}
	r.out = nil
	if r.err == nil {
		r.err = fmt.Errorf("erasure: read %s: reader closed", r.o.id)
	}
	return nil
}

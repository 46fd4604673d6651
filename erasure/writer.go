package erasure

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/reedsolomon"
	"github.com/minio/sha256-simd"
)

// sinkDepth is how many stripes may queue for one drive. With the stripe
// being encoded, at most sinkDepth+2 stripes are in memory per Writer.
const sinkDepth = 2

// ObjectInfo describes a committed object.
type ObjectInfo struct {
	ID           string
	Size         int64
	DataShards   int
	ParityShards int
	BlockSize    int
	// Shards is the number of shard files that are in place (at least the
	// write quorum after Commit; fewer than k+m means degraded).
	Shards  int
	Created time.Time
}

// Writer streams one object into a Set. Bytes are striped, encoded and
// handed to one goroutine per drive as they arrive. A Writer is not safe for
// concurrent use; the caller must end it with Commit or Abort.
type Writer struct {
	s      *Set
	ctx    context.Context // from Create: cancelling it aborts the write
	cancel context.CancelFunc
	id     string
	g      geometry // immutable while sinks run; g.size is set at Commit
	size   int64    // bytes written so far
	offset int
	codec  reedsolomon.Encoder
	cid    [16]byte

	sinks  []*sink // by shard index
	live   int     // sinks opened by Create
	failed atomic.Int32
	wg     sync.WaitGroup

	cur  *stripe // being filled; nil between stripes
	fill int     // object bytes in cur

	done bool  // committed, aborted or failed
	err  error // why the Writer failed
}

// sink feeds one shard file.
type sink struct {
	index, drive int
	w            ShardWriter // nil if the drive could not create the file
	ch           chan *stripe
	failed       atomic.Bool
	err          error // set by the sink goroutine before it marks failed
}

// stripe is one pooled stripe buffer: k+m blocks of [hash][shard block],
// each stride bytes apart; shardLen is the block length of this stripe.
type stripe struct {
	bp       *[]byte
	shardLen int
	shards   [][]byte
	refs     atomic.Int32
}

func (st *stripe) block(i, stride int) []byte {
	return (*st.bp)[i*stride : i*stride+hashSize+st.shardLen]
}

// Create starts writing object id. Every drive gets a temporary shard file;
// Create fails if fewer than the write quorum can be created. Cancelling ctx
// aborts the write.
func (s *Set) Create(ctx context.Context, id string) (*Writer, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	g := s.cfg.geometry()
	codec, err := s.codec(g)
	if err != nil {
		return nil, err
	}
	cid, err := s.newCommitID()
	if err != nil {
		return nil, fmt.Errorf("erasure.Create %s: %w", id, err)
	}
	n := g.n()
	w := &Writer{s: s, id: id, g: g, offset: placementOffset(id, n), codec: codec, cid: cid, sinks: make([]*sink, n)}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		sk := &sink{index: i, drive: (i + w.offset) % n}
		w.sinks[i] = sk
		wg.Go(func() {
			sk.w, errs[i] = s.drives[sk.drive].Create(ctx, id)
		})
	}
	wg.Wait()
	for _, sk := range w.sinks {
		if sk.w != nil {
			w.live++
		}
	}
	if q := s.cfg.WriteQuorum(); w.live < q {
		w.abortSinks()
		return nil, fmt.Errorf("erasure.Create %s: %d of %d drives writable, need %d: %w: %w", id, w.live, n, q, ErrWriteQuorum, errors.Join(errs...))
	}
	w.ctx, w.cancel = context.WithCancel(ctx)
	for _, sk := range w.sinks {
		if sk.w == nil {
			w.failed.Add(1)
			continue
		}
		ch := make(chan *stripe, sinkDepth)
		sk.ch = ch
		w.wg.Go(func() { w.runSink(sk, ch) })
	}
	return w, nil
}

// runSink hashes and writes the blocks of shard sk.index. After a failure it
// keeps draining its channel so the Writer never blocks on it.
func (w *Writer) runSink(sk *sink, ch <-chan *stripe) {
	stride := w.g.stride()
	for st := range ch {
		if !sk.failed.Load() {
			blk := st.block(sk.index, stride)
			sum := sha256.Sum256(blk[hashSize:])
			copy(blk, sum[:])
			if _, err := sk.w.Write(blk); err != nil {
				w.failSink(sk, err)
			}
		}
		w.release(st)
	}
}

// failSink marks a sink failed; only the goroutine owning sk calls it.
func (w *Writer) failSink(sk *sink, err error) {
	sk.err = fmt.Errorf("drive %s: %w", w.s.drives[sk.drive].Name(), err)
	sk.w.Abort()
	sk.failed.Store(true)
	w.failed.Add(1)
}

func (w *Writer) release(st *stripe) {
	if st.refs.Add(-1) == 0 {
		w.s.putBuf(st.bp)
	}
}

func (w *Writer) newStripe() *stripe {
	st := &stripe{bp: w.s.getBuf(w.g.n() * w.g.stride()), shards: make([][]byte, w.g.n())}
	return st
}

// Write stripes p into the object. It fails once the write quorum can no
// longer be reached or the Create context is cancelled; the Writer is then
// aborted.
func (w *Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, w.closedErr()
	}
	if err := w.check(); err != nil {
		return 0, w.fail(err)
	}
	if w.size+int64(len(p)) > MaxObjectSize {
		return 0, w.fail(fmt.Errorf("%w: object larger than %d bytes", ErrInvalid, int64(MaxObjectSize)))
	}
	S, B, stride := w.g.shardSize(), w.g.blockSize, w.g.stride()
	written := 0
	for len(p) > 0 {
		if w.cur == nil {
			w.cur = w.newStripe()
		}
		j, o := w.fill/S, w.fill%S
		n := min(S-o, B-w.fill, len(p))
		off := j*stride + hashSize + o
		copy((*w.cur.bp)[off:off+n], p[:n])
		w.fill += n
		w.size += int64(n)
		written += n
		p = p[n:]
		if w.fill == B {
			if err := w.flush(); err != nil {
				return written, w.fail(err)
			}
		}
	}
	return written, nil
}

func (w *Writer) check() error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if n, q := w.g.n(), w.s.cfg.WriteQuorum(); n-int(w.failed.Load()) < q {
		return fmt.Errorf("%d of %d shards failed, need %d: %w", w.failed.Load(), n, q, ErrWriteQuorum)
	}
	return nil
}

// flush encodes the current stripe and queues it to every sink.
func (w *Writer) flush() error {
	st, r := w.cur, w.fill
	w.cur, w.fill = nil, 0
	S, stride, k := w.g.shardSize(), w.g.stride(), w.g.k
	buf := *st.bp
	st.shardLen = S
	if r < w.g.blockSize {
		// The last stripe: re-lay its r bytes over k shorter blocks.
		st.shardLen = (r + k - 1) / k
		tmp := w.s.getBuf(w.g.blockSize)
		for p := 0; p < r; {
			n := min(S-p%S, r-p)
			copy((*tmp)[p:], buf[(p/S)*stride+hashSize+p%S:][:n])
			p += n
		}
		for j := range k {
			lo := min(j*st.shardLen, r)
			copy(buf[j*stride+hashSize:], (*tmp)[lo:min(lo+st.shardLen, r)])
		}
		w.s.putBuf(tmp)
	}
	for i := range st.shards {
		st.shards[i] = buf[i*stride+hashSize:][:st.shardLen]
	}
	// Zero the padding after the object bytes (pooled buffers are dirty).
	for j := range k {
		have := max(0, min(r-j*st.shardLen, st.shardLen))
		clear(st.shards[j][have:])
	}
	if err := w.codec.Encode(st.shards); err != nil {
		w.s.putBuf(st.bp)
		return err
	}
	st.refs.Store(int32(len(w.sinks)))
	for i, sk := range w.sinks {
		if sk.ch == nil {
			w.release(st)
			continue
		}
		select {
		case sk.ch <- st:
		case <-w.ctx.Done():
			for range len(w.sinks) - i {
				w.release(st)
			}
			return w.ctx.Err()
		}
	}
	return nil
}

// Commit writes the last stripe, a trailer carrying meta into every shard,
// fsyncs the shard files, renames them into place and fsyncs their
// directories. It returns once at least the write quorum of shards is
// durable. Below quorum it removes everything it wrote and fails with an
// error wrapping ErrWriteQuorum; if any drive already holds a shard of id it
// fails with ErrExists. meta may be up to MaxMetaSize bytes.
func (w *Writer) Commit(ctx context.Context, meta []byte) (ObjectInfo, error) {
	if w.done {
		return ObjectInfo{}, w.closedErr()
	}
	if len(meta) > MaxMetaSize {
		return ObjectInfo{}, w.fail(fmt.Errorf("%w: meta of %d bytes exceeds %d", ErrInvalid, len(meta), MaxMetaSize))
	}
	if err := w.check(); err != nil {
		return ObjectInfo{}, w.fail(err)
	}
	if w.fill > 0 {
		if err := w.flush(); err != nil {
			return ObjectInfo{}, w.fail(err)
		}
	}
	w.stopSinks()
	if err := ctx.Err(); err != nil {
		return ObjectInfo{}, w.fail(err)
	}
	w.g.size = w.size
	created := w.s.now()
	n, q := w.g.n(), w.s.cfg.WriteQuorum()
	t := trailer{geometry: w.g, offset: w.offset, commitID: w.cid, created: created.UnixNano(), id: w.id, meta: meta}

	// Phase 1: trailer + fsync on every live shard, in parallel.
	w.eachLive(func(sk *sink) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := t
		t.index = sk.index
		if _, err := sk.w.Write(t.appendTo(make([]byte, 0, t.encodedLen()+footerSize))); err != nil {
			return err
		}
		return sk.w.Sync()
	})
	if ok := n - int(w.failed.Load()); ok < q {
		return ObjectInfo{}, w.fail(fmt.Errorf("%d of %d shards durable, need %d: %w", ok, n, q, ErrWriteQuorum))
	}

	// Phase 2: rename into place, never over an existing shard.
	tried := make([]bool, n)
	w.eachLive(func(sk *sink) error {
		tried[sk.index] = true
		return sk.w.Commit(false)
	})
	exists := false
	for _, sk := range w.sinks {
		if sk.err != nil && errors.Is(sk.err, fs.ErrExist) {
			exists = true
		}
	}
	ok := n - int(w.failed.Load())
	if exists || ok < q {
		// Take back what was published. A failed Commit may have renamed
		// before failing to sync, so every drive that was asked to commit
		// and did not report that the id was already there gets a Remove.
		cctx := context.WithoutCancel(ctx)
		var wg sync.WaitGroup
		for _, sk := range w.sinks {
			if tried[sk.index] && !errors.Is(sk.err, fs.ErrExist) {
				wg.Go(func() { w.s.drives[sk.drive].Remove(cctx, w.id) })
			}
		}
		wg.Wait()
		if exists {
			return ObjectInfo{}, w.fail(ErrExists)
		}
		return ObjectInfo{}, w.fail(fmt.Errorf("%d of %d shards committed, need %d: %w", ok, n, q, ErrWriteQuorum))
	}
	w.done = true
	w.cancel()
	if ok < n {
		w.s.degraded(w.id)
	}
	return ObjectInfo{
		ID: w.id, Size: w.g.size, DataShards: w.g.k, ParityShards: w.g.m, BlockSize: w.g.blockSize,
		Shards: ok, Created: time.Unix(0, created.UnixNano()),
	}, nil
}

// eachLive runs fn on every sink that has not failed, in parallel, and marks
// the sinks whose fn fails. The sink goroutines must have stopped.
func (w *Writer) eachLive(fn func(sk *sink) error) {
	var wg sync.WaitGroup
	for _, sk := range w.sinks {
		if sk.w == nil || sk.failed.Load() {
			continue
		}
		wg.Go(func() {
			if err := fn(sk); err != nil {
				w.failSink(sk, err)
			}
		})
	}
	wg.Wait()
}

// stopSinks closes the sink channels and waits for the goroutines to drain.
func (w *Writer) stopSinks() {
	for _, sk := range w.sinks {
		if sk.ch != nil {
			close(sk.ch)
			sk.ch = nil
		}
	}
	w.wg.Wait()
}

// abortSinks discards every temporary shard file.
func (w *Writer) abortSinks() {
	var wg sync.WaitGroup
	for _, sk := range w.sinks {
		if sk.w != nil {
			wg.Go(func() { sk.w.Abort() })
		}
	}
	wg.Wait()
}

// fail aborts the write and returns err, wrapped with the object id and the
// drives' errors.
func (w *Writer) fail(err error) error {
	w.abort()
	var errs []error
	for _, sk := range w.sinks {
		if sk.err != nil {
			errs = append(errs, sk.err)
		}
	}
	if len(errs) > 0 {
		err = fmt.Errorf("%w (%w)", err, errors.Join(errs...))
	}
	w.err = fmt.Errorf("erasure: write %s: %w", w.id, err)
	return w.err
}

func (w *Writer) closedErr() error {
	if w.err != nil {
		return fmt.Errorf("%w after: %w", ErrClosed, w.err)
	}
	return fmt.Errorf("erasure: write %s: %w", w.id, ErrClosed)
}

// Abort discards the write and removes its temporary files. It is
// idempotent, safe after a failed Commit and does nothing after a successful
// one.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.abort()
	w.err = fmt.Errorf("erasure: write %s: aborted", w.id)
}

func (w *Writer) abort() {
	if w.done {
		return
	}
	w.done = true
	w.cancel()
	w.stopSinks()
	if w.cur != nil {
		w.s.putBuf(w.cur.bp)
		w.cur = nil
	}
	w.abortSinks()
}

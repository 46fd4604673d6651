package soak

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
)

// soakVault is the vault every worker writes to.
const soakVault = "soak"

// holdID is the legal hold the workers place and release.
const holdID = "soak"

// headSize is the unique prefix of every upload's content.
const headSize = 64

// mix is the share of each kind of operation, in percent. Legal holds are
// one share: on or off depending on the version's state.
var mix = []struct {
	kind   kind
	weight int
}{
	{opUpload, 30},
	{opDownload, 25},
	{opList, 10},
	{opRetention, 10},
	{opHoldOn, 10},
	{opDeleteMarker, 7},
	{opDeniedDelete, 8},
}

// sizeClasses skew uploads to small ones, as archives are: most are stored
// inline, a few are large. Sizes are log-uniform within a class and
// clamped to the configured bounds.
var sizeClasses = []struct {
	weight   int
	min, max int64
}{
	{60, 4 << 10, 128 << 10},
	{28, 128 << 10, 1 << 20},
	{9, 1 << 20, 8 << 20},
	{3, 8 << 20, 64 << 20},
}

// newPool returns n random bytes, the body every upload takes a slice of.
func newPool(seed uint64, n int64) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24), 's', 'o', 'a', 'k'})
	b := make([]byte, n)
	r.Read(b)
	return b
}

// content is an upload's bytes: a unique head, then a slice of the pool.
// It is an io.ReaderAt, so a section of it seeks and the SDK can retry.
type content struct{ head, body []byte }

func (c content) size() int64 { return int64(len(c.head) + len(c.body)) }

func (c content) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	if off < int64(len(c.head)) {
		n = copy(p, c.head[off:])
	}
	if n < len(p) {
		if boff := off + int64(n) - int64(len(c.head)); boff < int64(len(c.body)) {
			n += copy(p[n:], c.body[boff:])
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (c content) sum() [32]byte {
	h := sha256.New()
	h.Write(c.head)
	h.Write(c.body)
	var s [32]byte
	h.Sum(s[:0])
	return s
}

// worker is one client: its own connection, its own random choices, and
// the versions it uploaded, which only it changes.
type worker struct {
	id   int
	cfg  *Config
	c    *client.Client
	rng  *rand.Rand
	rec  *recorder
	tl   *timeline
	pool []byte
	own  []*owned
	seq  int
}

// run does operations until the deadline; the last one runs to its end.
func (w *worker) run(ctx context.Context, deadline time.Time) {
	for time.Now().Before(deadline) && ctx.Err() == nil {
		w.step(ctx)
	}
}

func (w *worker) pickKind() kind {
	total := 0
	for _, m := range mix {
		total += m.weight
	}
	n := w.rng.IntN(total)
	for _, m := range mix {
		if n < m.weight {
			return m.kind
		}
		n -= m.weight
	}
	return opUpload
}

func (w *worker) pickSize() int64 {
	total := 0
	for _, c := range sizeClasses {
		total += c.weight
	}
	n := w.rng.IntN(total)
	for _, c := range sizeClasses {
		if n < c.weight {
			lo, hi := math.Log(float64(c.min)), math.Log(float64(c.max))
			size := int64(math.Exp(lo + w.rng.Float64()*(hi-lo)))
			return min(max(size, w.cfg.MinUploadSize), w.cfg.MaxUploadSize)
		}
		n -= c.weight
	}
	return w.cfg.MinUploadSize
}

// ownWith returns a random own version satisfying ok, or nil.
func (w *worker) ownWith(ok func(a *owned) bool) *owned {
	var cands []*owned
	for _, a := range w.own {
		if ok(a) {
			cands = append(cands, a)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return cands[w.rng.IntN(len(cands))]
}

// step does one operation and records its outcome.
func (w *worker) step(ctx context.Context) {
	k := w.pickKind()
	var (
		target *owned
		anyone *archive // a download may read anyone's upload
	)
	switch k {
	case opRetention:
		target = w.ownWith(func(a *owned) bool { return a.mode == wormvault.RetentionGovernance })
	case opHoldOn, opDeleteMarker:
		target = w.ownWith(func(*owned) bool { return true })
	case opDeniedDelete:
		target = w.ownWith(func(a *owned) bool { return a.mode == wormvault.RetentionCompliance })
	case opDownload:
		anyone = w.rec.pick(w.rng)
	}
	if (k == opDownload && anyone == nil) || (k != opUpload && k != opList && k != opDownload && target == nil) {
		k = opUpload
	}
	if k == opHoldOn && (target.hold || target.holdUncertain) {
		k = opHoldOff
	}
	switch k {
	case opUpload:
		w.upload(ctx)
	case opDownload:
		w.download(ctx, anyone)
	case opList:
		w.list(ctx)
	case opRetention:
		w.extendRetention(ctx, target)
	case opHoldOn, opHoldOff:
		w.legalHold(ctx, target, k == opHoldOn)
	case opDeleteMarker:
		w.deleteMarker(ctx, target)
	case opDeniedDelete:
		w.deniedDelete(ctx, target)
	}
}

// finish judges and records an operation that ran from began to now.
func (w *worker) finish(o outcome, began time.Time, bytes int64, err error) verdict {
	ended := time.Now()
	if o.code == 0 && err != nil {
		o.code, o.reason = codeAndReason(err)
	}
	v := judge(o, w.tl.during(began, ended))
	w.rec.observe(o, v, began, ended, bytes, err)
	return v
}

// timeout bounds one operation: a hang is a failure, not a wait.
func timeout(ctx context.Context, bytes int64) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, time.Minute+time.Duration(bytes/(256<<10))*time.Second)
}

func (w *worker) upload(ctx context.Context) {
	size := w.pickSize()
	w.seq++
	key := fmt.Sprintf("w%02d/%06d", w.id, w.seq)
	head := make([]byte, min(headSize, size))
	copy(head, fmt.Sprintf("wormvault soak %s %016x ", key, w.rng.Uint64()))
	off := w.rng.Int64N(int64(len(w.pool)) - (size - int64(len(head))) + 1)
	c := content{head: head, body: w.pool[off : off+size-int64(len(head))]}
	a := &owned{archive: &archive{vault: soakVault, key: key, size: size, sha256: c.sum()}}
	var opts []client.UploadOption
	switch n := w.rng.IntN(100); {
	case n < 35:
		a.mode = wormvault.RetentionCompliance
	case n < 80:
		a.mode = wormvault.RetentionGovernance
	}
	if a.mode != wormvault.RetentionNone {
		a.retainUntil = time.Now().Add(24 * time.Hour)
		opts = append(opts, client.WithRetention(a.mode, a.retainUntil))
	}
	if w.rng.IntN(10) == 0 {
		opts = append(opts, client.WithLegalHold())
	}
	octx, cancel := timeout(ctx, size)
	defer cancel()
	began := time.Now()
	got, err := w.c.Upload(octx, soakVault, key, io.NewSectionReader(c, 0, size), opts...)
	if err == nil && (got.GetVersionId() == "" || got.GetSizeBytes() != size) {
		err = fmt.Errorf("upload %s: acknowledged version %q of %d bytes, sent %d", key, got.GetVersionId(), got.GetSizeBytes(), size)
	}
	if w.finish(outcome{kind: opUpload, sharded: size > inlineThreshold}, began, size, err) == ok && err == nil {
		a.versionID = got.GetVersionId()
		w.own = append(w.own, a)
		w.rec.ack(a.archive)
	}
}

func (w *worker) download(ctx context.Context, a *archive) {
	octx, cancel := timeout(ctx, a.size)
	defer cancel()
	began := time.Now()
	corrupt, n, err := readBack(octx, w.c, a)
	w.finish(outcome{kind: opDownload, corrupt: corrupt}, began, n, err)
}

// readBack downloads a's version and compares it with what was uploaded.
// corrupt means the server returned other bytes; an error that is not
// corruption (a broken stream) is returned as is.
func readBack(ctx context.Context, c *client.Client, a *archive) (corrupt bool, n int64, err error) {
	_, rc, err := c.Download(ctx, a.vault, a.key, client.WithVersion(a.versionID))
	if err != nil {
		return false, 0, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err = io.Copy(h, rc)
	if errors.Is(err, wormvault.ErrDataLoss) {
		return true, n, err // the SDK's own check against the server's digest
	}
	if err != nil {
		return false, n, err
	}
	var sum [32]byte
	h.Sum(sum[:0])
	if n != a.size || sum != a.sha256 {
		return true, n, fmt.Errorf("%s/%s version %s: read back %d bytes with sha256 %x, uploaded %d bytes with sha256 %x",
			a.vault, a.key, a.versionID, n, sum, a.size, a.sha256)
	}
	return false, n, nil
}

func (w *worker) list(ctx context.Context) {
	octx, cancel := timeout(ctx, 0)
	defer cancel()
	began := time.Now()
	var err error
	n := 0
	for _, lerr := range w.c.List(octx, soakVault, fmt.Sprintf("w%02d/", w.id), false) {
		n++
		if err = lerr; err != nil || n >= 100 {
			break
		}
	}
	w.finish(outcome{kind: opList}, began, 0, err)
}

func (w *worker) extendRetention(ctx context.Context, a *owned) {
	until := a.retainUntil.Add(time.Hour)
	octx, cancel := timeout(ctx, 0)
	defer cancel()
	began := time.Now()
	_, err := w.c.SetRetention(octx, a.vault, a.key, a.versionID, wormvault.Retention{Mode: wormvault.RetentionGovernance, RetainUntil: until}, false)
	// Asked for, answered or not: the server's value is at most this.
	a.retainUntil = until
	w.finish(outcome{kind: opRetention}, began, 0, err)
}

func (w *worker) legalHold(ctx context.Context, a *owned, on bool) {
	k := opHoldOff
	if on {
		k = opHoldOn
	}
	octx, cancel := timeout(ctx, 0)
	defer cancel()
	began := time.Now()
	_, err := w.c.SetLegalHold(octx, a.vault, a.key, a.versionID, on, holdID, "soak test")
	w.finish(outcome{kind: k, holdUncertain: a.holdUncertain}, began, 0, err)
	switch code, reason := codeAndReason(err); {
	case err == nil:
		a.hold, a.holdUncertain = on, false
	case code == codes.NotFound && reason == "NO_LEGAL_HOLD":
		a.hold, a.holdUncertain = false, false
	case code == codes.Unavailable:
		// The change may or may not have been made.
		a.holdUncertain = true
	}
}

func (w *worker) deleteMarker(ctx context.Context, a *owned) {
	octx, cancel := timeout(ctx, 0)
	defer cancel()
	began := time.Now()
	resp, err := w.c.Delete(octx, a.vault, a.key, "", false)
	if err == nil && !resp.GetDeleteMarker() {
		err = fmt.Errorf("delete of %s/%s without a version removed version %s instead of adding a delete marker", a.vault, a.key, resp.GetVersionId())
	}
	w.finish(outcome{kind: opDeleteMarker}, began, 0, err)
}

func (w *worker) deniedDelete(ctx context.Context, a *owned) {
	octx, cancel := timeout(ctx, 0)
	defer cancel()
	began := time.Now()
	// Half of them ask to bypass retention: root may bypass GOVERNANCE,
	// and nobody COMPLIANCE.
	_, err := w.c.Delete(octx, a.vault, a.key, a.versionID, w.rng.IntN(2) == 0)
	w.finish(outcome{kind: opDeniedDelete}, began, 0, err)
}

package batch

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/status"

	"github.com/wormvault/wormvault"
	client "github.com/wormvault/wormvault/clients/go"
	wormvaultv1 "github.com/wormvault/wormvault/proto/wormvault/v1"
)

// Defaults of a Config.
const (
	DefaultParallel    = 4
	DefaultMaxAttempts = 5
	DefaultMaxFailures = 100
	// adoptClockSkew is how much earlier than the batch's start (client
	// clock) a version's create time (server clock) may be and still be
	// adopted as this batch's.
	adoptClockSkew = 5 * time.Minute
)

// Config is how a batch runs.
type Config struct {
	// Vault receives every item. Required.
	Vault string
	// ReceiptPath is where the receipt goes; its journal (JournalPath) and
	// CSV (CSVPath) go beside it. Required.
	ReceiptPath string
	// Resume continues the batch whose journal is beside ReceiptPath.
	// Without it Put refuses to start if the journal or receipt exists.
	Resume bool
	// Parallel is the number of concurrent uploads; 0 means DefaultParallel.
	Parallel int
	// Retention is the retention spec for items that name none (see
	// ParseRetention); empty means no explicit retention, so the vault's
	// default applies.
	Retention string
	// LegalHold places the default legal hold on items that do not say.
	LegalHold bool
	// ContentType is the content type of items that name none.
	ContentType string
	// MaxAttempts bounds the attempts per file against transient failures;
	// 0 means DefaultMaxAttempts.
	MaxAttempts int
	// MaxFailures stops the batch after this many files failed
	// permanently; 0 means DefaultMaxFailures.
	MaxFailures int
	// Logger receives a line per retry and per failure; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// ErrIncomplete means the batch ended without committing every item: some
// failed, a file could not be read, or the context ended. The Result still
// carries the receipt of what was committed.
var ErrIncomplete = errors.New("batch: incomplete")

// ErrUnreadable marks the error of a file that could not be read, which
// stops the batch.
var ErrUnreadable = errors.New("batch: file cannot be read")

// ErrExists means a batch with this receipt path already started: resume
// it, or choose another receipt path.
var ErrExists = errors.New("batch: a batch with this receipt already exists")

// Progress is a snapshot of a running batch.
type Progress struct {
	// Files done (committed, resumed or adopted) of TotalFiles.
	Files, TotalFiles int64
	Failed            int64
	// Bytes of the files done plus those sent of files in flight, of
	// TotalBytes.
	Bytes, TotalBytes int64
	// Transferred is the bytes this run sent (the base of a rate).
	Transferred int64
}

// Result is the outcome of a batch run.
type Result struct {
	// Receipt is the receipt as written.
	Receipt *Receipt
}

// Batch is one run of a batch upload. Create it with New, run it once
// with Run; Progress may be called concurrently.
type Batch struct {
	c     *client.Client
	cfg   Config
	items []Item

	totalFiles, totalBytes   atomic.Int64
	files, failed            atomic.Int64
	bytes, transferred       atomic.Int64
	uploaded, resumed, taken atomic.Int64

	mu        sync.Mutex
	committed map[string]journalEntry // by path
	failures  map[string]Failure      // by path
	stopErr   error
}

// New checks cfg and items and returns a batch ready to Run.
func New(c *client.Client, items []Item, cfg Config) (*Batch, error) {
	if err := wormvault.ValidateVaultRef("vault", cfg.Vault); err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	if cfg.ReceiptPath == "" {
		return nil, errors.New("batch: no receipt path")
	}
	if cfg.Retention != "" {
		if _, _, err := ParseRetention(cfg.Retention, time.Now()); err != nil {
			return nil, err
		}
	}
	if err := checkDistinct(items); err != nil {
		return nil, err
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = DefaultParallel
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = DefaultMaxFailures
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Batch{c: c, cfg: cfg, items: items, committed: map[string]journalEntry{}, failures: map[string]Failure{}}, nil
}

// Progress returns a snapshot of the run's counters.
func (b *Batch) Progress() Progress {
	return Progress{
		Files: b.files.Load(), TotalFiles: b.totalFiles.Load(), Failed: b.failed.Load(),
		Bytes: b.bytes.Load(), TotalBytes: b.totalBytes.Load(), Transferred: b.transferred.Load(),
	}
}

// task is an item with what the run resolved for it.
type task struct {
	Item
	size      int64
	mtime     int64 // unix nanoseconds
	retention wormvault.Retention
	explicit  bool // retention asked for explicitly
	hold      bool
	ctype     string
}

// Run uploads the batch and writes the receipt. It returns an error without
// a Result when the batch could not start (bad journal, vault missing,
// receipt exists); an error wrapping ErrIncomplete with the Result when it
// ran but did not commit every item.
func (b *Batch) Run(ctx context.Context) (*Result, error) {
	runStarted := b.cfg.Now()
	if _, err := b.c.GetVault(ctx, b.cfg.Vault); err != nil {
		return nil, fmt.Errorf("batch: vault %s: %w", b.cfg.Vault, err)
	}
	j, header, err := b.openJournal(runStarted)
	if err != nil {
		return nil, err
	}
	tasks, totalBytes, planErr := b.plan(header.Started)
	b.totalBytes.Store(totalBytes) // before the files: a snapshot with files has its bytes
	b.totalFiles.Store(int64(len(tasks)))
	if planErr != nil {
		b.stop(planErr)
	} else {
		b.runTasks(ctx, j, header, tasks)
	}
	jerr := j.close()
	if jerr != nil {
		b.stop(jerr)
	}
	if err := ctx.Err(); err != nil {
		b.stop(fmt.Errorf("batch: interrupted: %w", err))
	}
	r := b.receipt(header, runStarted, tasks)
	if err := WriteReceipt(b.cfg.ReceiptPath, r); err != nil {
		return &Result{Receipt: r}, err
	}
	if !r.Summary.Complete {
		return &Result{Receipt: r}, fmt.Errorf("%w: %d of %d files committed, %d failed%s",
			ErrIncomplete, len(r.Files), len(b.items), len(r.Summary.Failures), stoppedSuffix(r.Summary.Stopped))
	}
	return &Result{Receipt: r}, nil
}

func stoppedSuffix(s string) string {
	if s == "" {
		return ""
	}
	return "; stopped: " + s
}

// openJournal creates the journal, or with Resume reopens it and loads
// what it recorded.
func (b *Batch) openJournal(now time.Time) (*journal, journalHeader, error) {
	path := JournalPath(b.cfg.ReceiptPath)
	header := journalHeader{Journal: journalFormat, Vault: b.cfg.Vault, Started: now.UTC()}
	if b.cfg.Resume {
		j, h, entries, ok, err := openJournal(path)
		if err != nil {
			return nil, h, err
		}
		if ok {
			if h.Vault != b.cfg.Vault {
				j.close()
				return nil, h, fmt.Errorf("batch: journal %s is of a batch into vault %s, not %s", path, h.Vault, b.cfg.Vault)
			}
			for _, e := range entries {
				b.committed[e.Path] = e
			}
			return j, h, nil
		}
		// No journal, or a header torn at creation: start afresh.
		os.Remove(path)
	} else {
		for _, p := range []string{path, b.cfg.ReceiptPath} {
			if _, err := os.Lstat(p); err == nil {
				return nil, header, fmt.Errorf("%w: %s exists (resume that batch, or choose another receipt path)", ErrExists, p)
			}
		}
	}
	j, err := createJournal(path, header)
	return j, header, err
}

// plan stats every item and resolves its retention, hold and content type.
// A file that cannot be stat'ed stops the batch before anything is sent.
func (b *Batch) plan(anchor time.Time) ([]*task, int64, error) {
	tasks := make([]*task, 0, len(b.items))
	var total int64
	for _, it := range b.items {
		t := &task{Item: it, hold: b.cfg.LegalHold, ctype: cmp.Or(it.ContentType, b.cfg.ContentType)}
		if it.LegalHold != nil {
			t.hold = *it.LegalHold
		}
		if spec := cmp.Or(it.Retention, b.cfg.Retention); spec != "" {
			r, set, err := ParseRetention(spec, anchor)
			if err != nil {
				return tasks, total, fmt.Errorf("%s: %w", it.Path, err)
			}
			t.retention, t.explicit = r, set
		}
		fi, err := os.Stat(it.Path)
		if err == nil && !fi.Mode().IsRegular() {
			err = errors.New("not a regular file")
		}
		if err != nil {
			return tasks, total, fmt.Errorf("%w: %s: %w", ErrUnreadable, it.Path, err)
		}
		t.size, t.mtime = fi.Size(), fi.ModTime().UnixNano()
		total += t.size
		tasks = append(tasks, t)
	}
	return tasks, total, nil
}

// runTasks runs the tasks on Parallel workers until done or stopped.
func (b *Batch) runTasks(ctx context.Context, j *journal, h journalHeader, tasks []*task) {
	jobs := make(chan *task)
	var wg sync.WaitGroup
	for range b.cfg.Parallel {
		wg.Go(func() {
			for t := range jobs {
				if !b.stopped() {
					b.do(ctx, j, h, t)
				}
			}
		})
	}
	for _, t := range tasks {
		if b.stopped() || ctx.Err() != nil {
			break
		}
		select {
		case jobs <- t:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
}

func (b *Batch) stop(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopErr == nil {
		b.stopErr = err
	}
}

func (b *Batch) stopped() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stopErr != nil
}

// do brings one task to a committed version, or records why not.
func (b *Batch) do(ctx context.Context, j *journal, h journalHeader, t *task) {
	log := b.cfg.Logger.With("path", t.Path, "key", t.Key)
	b.mu.Lock()
	e, journaled := b.committed[t.Path]
	b.mu.Unlock()
	if journaled && e.Key == t.Key && e.Vault == b.cfg.Vault && e.SizeBytes == t.size && e.ModTimeUnixNano == t.mtime {
		// Committed by an earlier run; a cheap Stat proves the version is
		// still there.
		_, err := b.c.Stat(ctx, b.cfg.Vault, t.Key, e.VersionID)
		if err == nil {
			b.resumed.Add(1)
			b.done(t.size)
			return
		}
		if !errors.Is(err, wormvault.ErrNotFound) {
			b.fail(t, err)
			return
		}
		log.Warn("journaled version is gone; uploading again", "version", e.VersionID)
	}
	// On resume any file missing from the journal may have been committed
	// by the run that was killed; before a retry the failed attempt may
	// have committed. Either way, look before uploading.
	check := b.cfg.Resume
	var last error
	for attempt := 0; attempt < b.cfg.MaxAttempts; attempt++ {
		if attempt > 0 {
			retry, wait := transient(last)
			if !retry {
				break
			}
			wait = max(wait, backoff(attempt-1))
			log.Warn("retrying", "attempt", attempt+1, "after", wait, "err", last)
			if sleep(ctx, wait) != nil {
				return
			}
			check = true
		}
		if check {
			a, ok, err := b.adoptable(ctx, h, t)
			if err != nil {
				last = err
				if errors.Is(err, ErrUnreadable) {
					break
				}
				continue
			}
			if ok {
				if err := b.commit(j, t, uploaded{archive: a}, true); err != nil {
					b.stop(err)
					return
				}
				b.taken.Add(1)
				return
			}
		}
		u, err := b.upload(ctx, t)
		if err == nil {
			if err := b.commit(j, t, u, false); err != nil {
				b.stop(err)
				return
			}
			b.uploaded.Add(1)
			return
		}
		last = err
		if errors.Is(err, ErrUnreadable) || ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		return // the run reports the interruption once
	}
	if errors.Is(last, ErrUnreadable) {
		log.Error("stopping: file cannot be read", "err", last)
		b.stop(last)
		b.record(t, last)
		return
	}
	b.fail(t, last)
}

// fail records a permanent failure and stops the batch when too many
// files failed.
func (b *Batch) fail(t *task, err error) {
	b.cfg.Logger.Error("upload failed", "path", t.Path, "key", t.Key, "err", err)
	if n := b.record(t, err); n >= b.cfg.MaxFailures {
		b.stop(fmt.Errorf("batch: %d files failed (the limit)", n))
	}
}

func (b *Batch) record(t *task, err error) int {
	f := Failure{Path: t.Path, Key: t.Key, Error: err.Error()}
	if st, ok := status.FromError(err); ok && !errors.Is(err, ErrUnreadable) {
		f.Code = st.Code().String()
	}
	b.failed.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures[t.Path] = f
	return len(b.failures)
}

func (b *Batch) done(size int64) {
	b.files.Add(1)
	b.bytes.Add(size)
}

// commit journals a committed version.
func (b *Batch) commit(j *journal, t *task, u uploaded, adopted bool) error {
	e := journalEntry{File: fileOf(t.Path, u), ModTimeUnixNano: t.mtime, Adopted: adopted}
	if err := j.append(e); err != nil {
		return err
	}
	b.mu.Lock()
	b.committed[t.Path] = e
	b.mu.Unlock()
	if adopted {
		b.done(t.size)
	} else {
		b.files.Add(1)
	}
	return nil
}

// upload sends one file once. The SDK does not retry it (the reader is no
// io.Seeker): the batch retries, looking for a committed version first.
func (b *Batch) upload(ctx context.Context, t *task) (uploaded, error) {
	f, err := os.Open(t.Path)
	if err != nil {
		return uploaded{}, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	defer f.Close()
	var opts []client.UploadOption
	if t.hold {
		opts = append(opts, client.WithLegalHold())
	}
	if t.explicit {
		opts = append(opts, client.WithRetention(t.retention.Mode, t.retention.RetainUntil))
	}
	if t.ctype != "" {
		opts = append(opts, client.WithContentType(t.ctype))
	}
	var sent int64 // of this attempt
	opts = append(opts, client.WithProgress(func(n int64) {
		b.bytes.Add(n - sent)
		b.transferred.Add(n - sent)
		sent = n
	}))
	var signed client.Receipt
	opts = append(opts, client.WithReceipt(&signed))
	r := &fileReader{f: f}
	a, err := b.c.Upload(ctx, b.cfg.Vault, t.Key, r, opts...)
	if r.err != nil {
		err = fmt.Errorf("%w: %s: %w", ErrUnreadable, t.Path, r.err)
	}
	if err != nil {
		b.bytes.Add(-sent)
		return uploaded{}, err
	}
	// A file that grew or shrank while it was read is stored as read; the
	// receipt reports what was stored.
	b.bytes.Add(a.GetSizeBytes() - sent)
	return uploaded{a, signed}, nil
}

// uploaded is a committed version and the server's receipt of it (zero
// when there is none).
type uploaded struct {
	archive *wormvaultv1.Archive
	receipt client.Receipt
}

// fileReader reads a file and remembers a read error, to tell a file that
// cannot be read from a failed upload. It is not an io.Seeker on purpose.
type fileReader struct {
	f   *os.File
	err error
}

func (r *fileReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// adoptable reports whether the key's latest version is this task's file
// committed by this batch (see the package documentation), to adopt it
// instead of uploading a second version.
func (b *Batch) adoptable(ctx context.Context, h journalHeader, t *task) (*wormvaultv1.Archive, bool, error) {
	a, err := b.c.Stat(ctx, b.cfg.Vault, t.Key, "")
	if errors.Is(err, wormvault.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if a.GetDeleteMarker() || a.GetSizeBytes() != t.size || a.GetCreateTime().AsTime().Before(h.Started.Add(-adoptClockSkew)) {
		return nil, false, nil
	}
	if t.hold && !a.GetLegalHold() {
		return nil, false, nil
	}
	if t.explicit {
		r := client.RetentionFromProto(a.GetRetention())
		if r.Mode != t.retention.Mode || !r.RetainUntil.Equal(t.retention.RetainUntil) {
			return nil, false, nil
		}
	}
	sum, err := hashFile(t.Path)
	if err != nil {
		return nil, false, err
	}
	if !bytes.Equal(sum, a.GetSha256()) {
		return nil, false, nil
	}
	b.cfg.Logger.Info("adopting the version already committed", "path", t.Path, "key", t.Key, "version", a.GetVersionId())
	return a, true, nil
}

func hashFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrUnreadable, path, err)
	}
	return h.Sum(nil), nil
}

// fileOf is the receipt row of a committed version.
func fileOf(path string, u uploaded) File {
	a := u.archive
	r := client.RetentionFromProto(a.GetRetention())
	f := File{
		Path: path, Vault: a.GetVault(), Key: a.GetKey(), VersionID: a.GetVersionId(),
		SizeBytes: a.GetSizeBytes(), SHA256: hex.EncodeToString(a.GetSha256()),
		RetentionMode: r.Mode.String(), LegalHold: a.GetLegalHold(),
		CommitTime: a.GetCreateTime().AsTime().UTC().Format(time.RFC3339Nano),
	}
	if !r.IsZero() {
		f.RetainUntil = r.RetainUntil.UTC().Format(time.RFC3339Nano)
	}
	if !u.receipt.IsZero() {
		j := u.receipt.JSON()
		f.ServerReceipt = &j
	}
	return f
}

// receipt builds the receipt: every committed file in item order (then any
// journaled file no longer among the items, by path), and the summary.
func (b *Batch) receipt(h journalHeader, runStarted time.Time, tasks []*task) *Receipt {
	b.mu.Lock()
	defer b.mu.Unlock()
	finished := b.cfg.Now()
	r := &Receipt{Format: ReceiptFormat, Vault: b.cfg.Vault, Files: []File{}}
	listed := make(map[string]bool, len(tasks))
	complete := b.stopErr == nil && len(b.failures) == 0 && len(tasks) == len(b.items)
	for _, t := range tasks {
		listed[t.Path] = true
		e, ok := b.committed[t.Path]
		if !ok {
			complete = false
			continue
		}
		r.Files = append(r.Files, e.File)
	}
	var rest []File
	for p, e := range b.committed {
		if !listed[p] {
			rest = append(rest, e.File)
		}
	}
	slices.SortFunc(rest, func(x, y File) int { return cmp.Compare(x.Path, y.Path) })
	r.Files = append(r.Files, rest...)
	s := &r.Summary
	s.Files = len(r.Files)
	for _, f := range r.Files {
		s.Bytes += f.SizeBytes
	}
	s.Uploaded, s.Resumed, s.Adopted = int(b.uploaded.Load()), int(b.resumed.Load()), int(b.taken.Load())
	s.Started = h.Started.UTC().Format(time.RFC3339Nano)
	s.RunStarted = runStarted.UTC().Format(time.RFC3339Nano)
	s.Finished = finished.UTC().Format(time.RFC3339Nano)
	d := finished.Sub(runStarted)
	s.Duration, s.DurationSeconds = d.Round(time.Millisecond).String(), d.Seconds()
	s.Complete = complete
	s.Failures = []Failure{}
	for _, t := range tasks {
		if f, ok := b.failures[t.Path]; ok {
			s.Failures = append(s.Failures, f)
		}
	}
	if b.stopErr != nil {
		s.Stopped = b.stopErr.Error()
	}
	return r
}

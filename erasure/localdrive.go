package erasure

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// LocalDrive is a Drive in a local directory:
//
//	<root>/shards/<bucket as 2 lowercase hex digits>/<id>   committed shards
//	<root>/tmp/<id>.<random>                               shards being written
//
// tmp and shards are on the same file system, so a commit is a rename.
type LocalDrive struct {
	root string
}

var _ Drive = (*LocalDrive)(nil)

// NewLocalDrive returns the drive in directory path, creating the directory
// and its layout if missing (a replaced, empty disk is then refilled by
// Heal). The created directories are made durable.
func NewLocalDrive(path string) (*LocalDrive, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: erasure: empty drive path", ErrInvalid)
	}
	root, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("erasure: drive %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(root), 0o750); err != nil {
		return nil, fmt.Errorf("erasure: drive %s: %w", root, err)
	}
	d := &LocalDrive{root: root}
	for _, dir := range []string{root, d.shardsDir(), d.tmpDir()} {
		if err := mkdirDurable(dir); err != nil {
			return nil, fmt.Errorf("erasure: drive %s: %w", root, err)
		}
	}
	return d, nil
}

// relayout recreates the drive's layout in its directory when a disk was
// replaced while the server runs (an empty file system mounted at the same
// path), so Heal can refill it. It never creates the drive directory
// itself: a missing directory may be an unmounted disk, and writing there
// would fill the parent file system instead.
func (d *LocalDrive) relayout() error {
	if fi, err := os.Stat(d.root); err != nil || !fi.IsDir() {
		return fs.ErrNotExist
	}
	for _, dir := range []string{d.shardsDir(), d.tmpDir()} {
		if err := mkdirDurable(dir); err != nil {
			return err
		}
	}
	return nil
}

// Name returns the drive's directory.
func (d *LocalDrive) Name() string { return d.root }

func (d *LocalDrive) shardsDir() string { return filepath.Join(d.root, "shards") }
func (d *LocalDrive) tmpDir() string    { return filepath.Join(d.root, "tmp") }
func (d *LocalDrive) bucketDir(id string) string {
	return filepath.Join(d.shardsDir(), fmt.Sprintf("%02x", Bucket(id)))
}
func (d *LocalDrive) path(id string) string { return filepath.Join(d.bucketDir(id), id) }

// Create opens a temporary file for a shard of id.
func (d *LocalDrive) Create(ctx context.Context, id string) (ShardWriter, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(d.tmpDir(), id+".*")
	if errors.Is(err, fs.ErrNotExist) && d.relayout() == nil {
		f, err = os.CreateTemp(d.tmpDir(), id+".*")
	}
	if err != nil {
		return nil, fmt.Errorf("erasure: drive %s: %w", d.root, err)
	}
	return &localShardWriter{d: d, f: f, id: id}, nil
}

// Open opens the committed shard of id.
func (d *LocalDrive) Open(ctx context.Context, id string) (ShardReader, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(d.path(id))
	if err != nil {
		return nil, fmt.Errorf("erasure: drive %s: %w", d.root, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("erasure: drive %s: %w", d.root, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("erasure: drive %s: shard %s is not a regular file: %w", d.root, id, ErrCorrupt)
	}
	return &localShardReader{File: f, size: fi.Size()}, nil
}

// Remove removes the shard of id and syncs its directory.
func (d *LocalDrive) Remove(ctx context.Context, id string) error {
	if err := ValidateID(id); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := os.Remove(d.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = syncDir(d.bucketDir(id))
	}
	if err != nil {
		return fmt.Errorf("erasure: drive %s: %w", d.root, err)
	}
	return nil
}

// List lists the committed shards of one bucket. Files whose names are not
// valid ids are skipped.
func (d *LocalDrive) List(ctx context.Context, bucket uint8) ([]ShardEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(filepath.Join(d.shardsDir(), fmt.Sprintf("%02x", bucket)))
	if errors.Is(err, fs.ErrNotExist) {
		// An empty bucket has no directory; a missing drive has no shards/.
		if _, err := os.Stat(d.shardsDir()); err != nil {
			return nil, fmt.Errorf("erasure: drive %s: %w", d.root, err)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("erasure: drive %s: %w", d.root, err)
	}
	out := make([]ShardEntry, 0, len(ents))
	for _, e := range ents {
		if !e.Type().IsRegular() || ValidateID(e.Name()) != nil {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed since ReadDir
		}
		out = append(out, ShardEntry{ID: e.Name(), Size: fi.Size(), ModTime: fi.ModTime()})
	}
	return out, nil
}

// CleanTemp removes every file in the drive's temporary area.
func (d *LocalDrive) CleanTemp(ctx context.Context) error {
	ents, err := os.ReadDir(d.tmpDir())
	if err != nil {
		return fmt.Errorf("erasure: drive %s: %w", d.root, err)
	}
	var errs []error
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := os.RemoveAll(filepath.Join(d.tmpDir(), e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("erasure: drive %s: %w", d.root, err)
	}
	return nil
}

// Usage reports the file system's size and free space. It fails when the
// drive's layout is gone (the disk was removed or unmounted).
func (d *LocalDrive) Usage(ctx context.Context) (DriveUsage, error) {
	if err := ctx.Err(); err != nil {
		return DriveUsage{}, err
	}
	for _, dir := range []string{d.shardsDir(), d.tmpDir()} {
		fi, err := os.Stat(dir)
		if err == nil && !fi.IsDir() {
			err = fmt.Errorf("%s is not a directory", dir)
		}
		if err != nil {
			return DriveUsage{}, fmt.Errorf("erasure: drive %s offline: %w", d.root, err)
		}
	}
	u, err := diskUsage(d.root)
	if err != nil {
		return DriveUsage{}, fmt.Errorf("erasure: drive %s: %w", d.root, err)
	}
	return u, nil
}

// writebackChunk is how many bytes a shard writer lets pile up in the page
// cache before it starts their writeback (see startWriteback).
const writebackChunk = 4 << 20

// localShardWriter is a temp file in <root>/tmp.
type localShardWriter struct {
	d       *LocalDrive
	f       *os.File
	id      string
	written int64 // bytes written
	hinted  int64 // bytes whose writeback was started
	closed  bool  // f is closed
	done    bool  // committed or aborted
}

func (w *localShardWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.written += int64(n)
	if w.written-w.hinted >= writebackChunk {
		startWriteback(w.f, w.hinted, w.written-w.hinted)
		w.hinted = w.written
	}
	return n, err
}

func (w *localShardWriter) Sync() error { return w.f.Sync() }

func (w *localShardWriter) Commit(replace bool) error {
	if w.done {
		return fmt.Errorf("erasure: drive %s: shard %s: %w", w.d.root, w.id, ErrClosed)
	}
	if !w.closed {
		w.closed = true
		if err := w.f.Close(); err != nil {
			return fmt.Errorf("erasure: drive %s: %w", w.d.root, err)
		}
	}
	dir := w.d.bucketDir(w.id)
	if err := mkdirDurable(dir); err != nil {
		return fmt.Errorf("erasure: drive %s: %w", w.d.root, err)
	}
	tmp, final := w.f.Name(), filepath.Join(dir, w.id)
	if replace {
		if err := os.Rename(tmp, final); err != nil {
			return fmt.Errorf("erasure: drive %s: %w", w.d.root, err)
		}
	} else if err := linkNoReplace(tmp, final); err != nil {
		return fmt.Errorf("erasure: drive %s: shard %s: %w", w.d.root, w.id, err)
	}
	w.done = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("erasure: drive %s: %w", w.d.root, err)
	}
	return nil
}

func (w *localShardWriter) Abort() error {
	var err error
	if !w.closed {
		w.closed = true
		err = w.f.Close()
	}
	if !w.done {
		w.done = true
		if rerr := os.Remove(w.f.Name()); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = rerr
		}
	}
	return err
}

// linkNoReplace moves tmp to final unless final exists. A hard link is the
// atomic no-overwrite rename; file systems without hard links fall back to
// check-then-rename.
func linkNoReplace(tmp, final string) error {
	err := os.Link(tmp, final)
	if err == nil {
		os.Remove(tmp) // a leftover link in tmp/ is removed by CleanTemp
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	if _, serr := os.Lstat(final); serr == nil {
		return &fs.PathError{Op: "link", Path: final, Err: fs.ErrExist}
	}
	return os.Rename(tmp, final)
}

type localShardReader struct {
	*os.File
	size int64
}

func (r *localShardReader) Size() int64 { return r.size }

// mkdirDurable creates dir (its parent must exist) and, if it was created,
// fsyncs the parent so the new entry survives a crash.
func mkdirDurable(dir string) error {
	err := os.Mkdir(dir, 0o750)
	if errors.Is(err, fs.ErrExist) {
		fi, serr := os.Stat(dir)
		if serr != nil {
			return serr
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

// syncDir fsyncs a directory, making renames and removals in it durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

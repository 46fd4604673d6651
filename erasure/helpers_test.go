package erasure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
)

// tb is what helpers need of *testing.T, *testing.B and *rapid.T.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// testSet is a Set over LocalDrives in fresh directories.
type testSet struct {
	*Set
	dirs   []string
	locals []*LocalDrive
}

func newTestSet(t tb, root string, k, m, blockSize int, wrap func(i int, d Drive) Drive) *testSet {
	t.Helper()
	ts := &testSet{}
	drives := make([]Drive, k+m)
	for i := range drives {
		dir := filepath.Join(root, fmt.Sprintf("d%d", i))
		ld, err := NewLocalDrive(dir)
		if err != nil {
			t.Fatalf("NewLocalDrive: %v", err)
		}
		ts.dirs = append(ts.dirs, dir)
		ts.locals = append(ts.locals, ld)
		drives[i] = ld
		if wrap != nil {
			drives[i] = wrap(i, ld)
		}
	}
	s, err := NewSet(drives, Config{DataShards: k, ParityShards: m, BlockSize: blockSize})
	if err != nil {
		t.Fatalf("NewSet: %v", err)
	}
	ts.Set = s
	return ts
}

// reopen returns a fresh Set over the same directories, as after a restart.
func (ts *testSet) reopen(t tb) *testSet {
	t.Helper()
	out := &testSet{dirs: ts.dirs}
	drives := make([]Drive, len(ts.dirs))
	for i, dir := range ts.dirs {
		ld, err := NewLocalDrive(dir)
		if err != nil {
			t.Fatalf("NewLocalDrive: %v", err)
		}
		out.locals = append(out.locals, ld)
		drives[i] = ld
	}
	s, err := NewSet(drives, ts.cfg)
	if err != nil {
		t.Fatalf("NewSet: %v", err)
	}
	out.Set = s
	return out
}

// shardPath is where shard j of id was placed.
func (ts *testSet) shardPath(id string, j int) string {
	d := (j + placementOffset(id, len(ts.dirs))) % len(ts.dirs)
	return ts.locals[d].path(id)
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// put writes data in uneven pieces and commits.
func put(t tb, s *Set, id string, data, meta []byte) ObjectInfo {
	t.Helper()
	ctx := context.Background()
	w, err := s.Create(ctx, id)
	if err != nil {
		t.Fatalf("Create %s: %v", id, err)
	}
	for p := data; len(p) > 0; {
		n := min(len(p), 1+len(p)%7919)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatalf("Write %s: %v", id, err)
		}
		p = p[n:]
	}
	info, err := w.Commit(ctx, meta)
	if err != nil {
		t.Fatalf("Commit %s: %v", id, err)
	}
	return info
}

// read reads [off, off+length) and returns the bytes read before any error.
func read(s *Set, id string, off, length int64) ([]byte, bool, error) {
	ctx := context.Background()
	o, err := s.Open(ctx, id)
	if err != nil {
		return nil, false, err
	}
	r, err := o.NewReader(ctx, off, length)
	if err != nil {
		return nil, false, err
	}
	defer r.Close()
	var buf bytes.Buffer
	_, err = io.Copy(&buf, r)
	return buf.Bytes(), r.(*Reader).Reconstructed(), err
}

// files lists every regular file under the directories.
func files(t tb, dirs ...string) []string {
	t.Helper()
	var out []string
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", dir, err)
		}
	}
	return out
}

// flipByte xors one byte of a file.
func flipByte(t tb, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("flip: %v", err)
	}
	defer f.Close()
	b := []byte{0}
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatalf("flip read %s@%d: %v", path, off, err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatalf("flip write: %v", err)
	}
}

func fileSize(t tb, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	return fi.Size()
}

// snapshot reads every file under dirs.
func snapshot(t tb, dirs []string) map[string][]byte {
	t.Helper()
	m := make(map[string][]byte)
	for _, p := range files(t, dirs...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		m[p] = b
	}
	return m
}

var errInjected = errors.New("injected fault")
var errCrashed = errors.New("process crashed")

// faultDrive wraps a Drive and fails chosen operations. The fault fields
// are set before the drive is used.
type faultDrive struct {
	Drive
	failCreate bool
	failWrite  int64 // fail once more than this many bytes were written; <0 never
	failSync   bool
	failCommit bool
	failOpen   bool
	failRead   bool
	crash      *crasher
}

func newFaultDrive(d Drive) *faultDrive { return &faultDrive{Drive: d, failWrite: -1} }

// crasher simulates a process dying at operation number `at` (counted over
// every drive sharing it): from then on no operation reaches the disk.
type crasher struct {
	mu      sync.Mutex
	ops, at int
	crashed bool
}

func (c *crasher) step() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.crashed {
		return errCrashed
	}
	c.ops++
	if c.ops >= c.at {
		c.crashed = true
		return errCrashed
	}
	return nil
}

func (c *crasher) dead() bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.crashed
}

func (d *faultDrive) Create(ctx context.Context, id string) (ShardWriter, error) {
	if err := d.crash.step(); err != nil {
		return nil, err
	}
	if d.failCreate {
		return nil, errInjected
	}
	w, err := d.Drive.Create(ctx, id)
	if err != nil {
		return nil, err
	}
	return &faultWriter{ShardWriter: w, d: d}, nil
}

func (d *faultDrive) Open(ctx context.Context, id string) (ShardReader, error) {
	if d.crash.dead() {
		return nil, errCrashed
	}
	if d.failOpen {
		return nil, errInjected
	}
	r, err := d.Drive.Open(ctx, id)
	if err != nil || !d.failRead {
		return r, err
	}
	return faultReader{r}, nil
}

func (d *faultDrive) Remove(ctx context.Context, id string) error {
	if err := d.crash.step(); err != nil {
		return err
	}
	return d.Drive.Remove(ctx, id)
}

func (d *faultDrive) CleanTemp(ctx context.Context) error {
	if err := d.crash.step(); err != nil {
		return err
	}
	return d.Drive.CleanTemp(ctx)
}

type faultReader struct{ ShardReader }

func (faultReader) ReadAt([]byte, int64) (int, error) { return 0, errInjected }

type faultWriter struct {
	ShardWriter
	d       *faultDrive
	written int64
}

func (w *faultWriter) Write(p []byte) (int, error) {
	if err := w.d.crash.step(); err != nil {
		return 0, err
	}
	if w.d.failWrite >= 0 && w.written+int64(len(p)) > w.d.failWrite {
		return 0, errInjected
	}
	w.written += int64(len(p))
	return w.ShardWriter.Write(p)
}

func (w *faultWriter) Sync() error {
	if err := w.d.crash.step(); err != nil {
		return err
	}
	if w.d.failSync {
		return errInjected
	}
	return w.ShardWriter.Sync()
}

func (w *faultWriter) Commit(replace bool) error {
	if err := w.d.crash.step(); err != nil {
		return err
	}
	if w.d.failCommit {
		return errInjected
	}
	return w.ShardWriter.Commit(replace)
}

func (w *faultWriter) Abort() error {
	if w.d.crash.dead() {
		return errCrashed
	}
	return w.ShardWriter.Abort()
}

var _ Drive = (*faultDrive)(nil)

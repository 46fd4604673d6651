package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/proto"

	recordv1 "github.com/wormvault/wormvault/proto/wormvault/record/v1"
)

// tempDirs returns n journal directory paths <tmp>/d<i>/journal, not yet
// created (as on fresh drives).
func tempDirs(t testing.TB, n int) []string {
	root := t.TempDir()
	dirs := make([]string, n)
	for i := range dirs {
		dirs[i] = filepath.Join(root, fmt.Sprintf("d%d", i), "journal")
	}
	return dirs
}

func open(t testing.TB, cfg Config) *Journal {
	t.Helper()
	j, err := OpenConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// meta returns a small distinct entry.
func meta(i int) *Entry {
	return &Entry{Change: &recordv1.JournalEntry_MetaPut{MetaPut: &recordv1.JournalMetaPut{Name: fmt.Sprintf("k%d", i), Value: []byte(fmt.Sprint(i))}}}
}

// metaName returns the name of a meta entry, "" for other kinds.
func metaName(e *Entry) string { return e.GetMetaPut().GetName() }

func appendN(t testing.TB, j *Journal, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if _, err := j.Append(context.Background(), meta(i)); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

func readAll(t testing.TB, j *Journal) ([]*Entry, Report) {
	t.Helper()
	var got []*Entry
	rep, err := j.ReadAll(context.Background(), func(e *Entry) error { got = append(got, e); return nil })
	if err != nil {
		t.Fatalf("ReadAll: %v (report %+v)", err, rep)
	}
	return got, rep
}

// names lists the meta names of entries, checking seqs increase.
func names(t testing.TB, es []*Entry) string {
	t.Helper()
	var out []string
	for i, e := range es {
		if i > 0 && e.GetSeq() <= es[i-1].GetSeq() {
			t.Fatalf("seq %d after %d", e.GetSeq(), es[i-1].GetSeq())
		}
		out = append(out, metaName(e))
	}
	return fmt.Sprint(out)
}

func seqNames(from, n int) string {
	var out []string
	for i := from; i < from+n; i++ {
		out = append(out, fmt.Sprintf("k%d", i))
	}
	return fmt.Sprint(out)
}

// segments returns the segment paths of a directory, in order.
func segments(t testing.TB, dir string) []string {
	t.Helper()
	segs, err := listSegments(osDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range segs {
		out = append(out, filepath.Join(dir, s.name))
	}
	return out
}

// frames splits a segment file into its header and frame payloads.
func frames(t testing.TB, path string) ([]byte, [][]byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ps [][]byte
	for off := headerSize; off < len(b); {
		p, n, err := decodeFrame(b[off:])
		if err != nil {
			t.Fatalf("%s offset %d: %v", path, off, err)
		}
		ps, off = append(ps, p), off+n
	}
	return b[:headerSize], ps
}

func writeFrames(t testing.TB, path string, hdr []byte, ps [][]byte) {
	t.Helper()
	b := append([]byte(nil), hdr...)
	for _, p := range ps {
		b = appendFrame(b, p)
	}
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
}

// reencode decodes a payload, lets change edit it, and encodes it again.
func reencode(t testing.TB, p []byte, change func(*Entry)) []byte {
	t.Helper()
	e, err := DecodeEntry(p)
	if err != nil {
		t.Fatal(err)
	}
	change(e)
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// faultDir injects failures into one drive's file operations.
type faultDir struct {
	dirOps
	failCreate, failWrite, failSync atomic.Bool
	// hold, when set, blocks every Sync until it is closed.
	mu   sync.Mutex
	hold chan struct{}
}

var errInjected = errors.New("injected fault")

func (d *faultDir) create(name string) (segFile, error) {
	if d.failCreate.Load() {
		return nil, errInjected
	}
	f, err := d.dirOps.create(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{f, d}, nil
}

func (d *faultDir) openAppend(name string) (segFile, error) {
	f, err := d.dirOps.openAppend(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{f, d}, nil
}

func (d *faultDir) holdSyncs() chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hold = make(chan struct{})
	return d.hold
}

type faultFile struct {
	segFile
	d *faultDir
}

func (f *faultFile) Write(p []byte) (int, error) {
	if f.d.failWrite.Load() {
		// A torn write: half of it lands.
		n, _ := f.segFile.Write(p[:len(p)/2])
		return n, errInjected
	}
	return f.segFile.Write(p)
}

func (f *faultFile) Sync() error {
	f.d.mu.Lock()
	hold := f.d.hold
	f.d.mu.Unlock()
	if hold != nil {
		<-hold
	}
	if f.d.failSync.Load() {
		return errInjected
	}
	return f.segFile.Sync()
}

// faulty returns a Config whose drives are all wrapped in faultDirs.
func faulty(dirs []string, quorum int) (Config, []*faultDir) {
	fds := make([]*faultDir, len(dirs))
	cfg := Config{Dirs: dirs, Quorum: quorum, wrapDir: func(i int, d dirOps) dirOps {
		fds[i] = &faultDir{dirOps: d}
		return fds[i]
	}}
	return cfg, fds
}

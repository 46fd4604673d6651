package erasure

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wormvault/wormvault"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{}, true},
		{"4+2", Config{DataShards: 4, ParityShards: 2, BlockSize: 1 << 20}, true},
		{"1+1", Config{DataShards: 1, ParityShards: 1}, true},
		{"12+4", Config{DataShards: 12, ParityShards: 4}, true},
		{"8+8", Config{DataShards: 8, ParityShards: 8}, true},
		{"m > k", Config{DataShards: 2, ParityShards: 3}, false},
		{"too many", Config{DataShards: 13, ParityShards: 4}, false},
		{"negative k", Config{DataShards: -1, ParityShards: 1}, false},
		{"negative m", Config{DataShards: 4, ParityShards: -1}, false},
		{"negative block", Config{BlockSize: -1}, false},
		{"huge block", Config{BlockSize: MaxBlockSize + 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestWriteQuorum(t *testing.T) {
	tests := []struct{ k, m, want int }{
		{4, 2, 5}, {2, 1, 2}, {1, 1, 1}, {8, 4, 9}, {12, 4, 13},
	}
	for _, tt := range tests {
		if got := (Config{DataShards: tt.k, ParityShards: tt.m}).WriteQuorum(); got != tt.want {
			t.Errorf("%d+%d: WriteQuorum = %d, want %d", tt.k, tt.m, got, tt.want)
		}
	}
}

func TestNewSetDriveCount(t *testing.T) {
	d, err := NewLocalDrive(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSet([]Drive{d, d, d}, Config{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("3 drives for 4+2: err = %v, want ErrInvalid", err)
	}
	if _, err := NewSet([]Drive{d, nil}, Config{DataShards: 1, ParityShards: 1}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("nil drive: err = %v, want ErrInvalid", err)
	}
}

func TestValidateID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"0190a5c2-7b1e-7cc3-9a1e-2f3b4c5d6e7f", true},
		{"a", true},
		{"A_b-c.d", true},
		{strings.Repeat("x", MaxIDLen), true},
		{"", false},
		{strings.Repeat("x", MaxIDLen+1), false},
		{".", false},
		{"..", false},
		{".hidden", false},
		{"a/b", false},
		{"../x", false},
		{`a\b`, false},
		{"a b", false},
		{"nul\x00", false},
		{"é", false},
	}
	for _, tt := range tests {
		err := ValidateID(tt.id)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateID(%q) error does not wrap ErrInvalid", tt.id)
		}
	}
}

func TestRoundTripSizes(t *testing.T) {
	const B = 4096
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		k, m int
		size int
	}{
		{"empty", 4, 2, 0},
		{"one byte", 4, 2, 1},
		{"block-1", 4, 2, B - 1},
		{"block", 4, 2, B},
		{"block+1", 4, 2, B + 1},
		{"stripes", 4, 2, 5*B + 77},
		{"1+1", 1, 1, 3*B + 5},
		{"3+2 uneven shards", 3, 2, 2*B + 1000},
		{"12+4", 12, 4, 4*B + 3},
		{"k > last stripe", 12, 4, B + 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestSet(t, t.TempDir(), tt.k, tt.m, B, nil)
			data := randBytes(rng, tt.size)
			meta := []byte("meta:" + tt.name)
			info := put(t, ts.Set, "obj-1", data, meta)
			if info.Size != int64(tt.size) || info.Shards != tt.k+tt.m {
				t.Fatalf("info = %+v", info)
			}
			o, err := ts.Open(context.Background(), "obj-1")
			if err != nil {
				t.Fatal(err)
			}
			if o.Size() != int64(tt.size) || !bytes.Equal(o.Meta(), meta) {
				t.Fatalf("Open: size %d meta %q", o.Size(), o.Meta())
			}
			got, rebuilt, err := read(ts.Set, "obj-1", 0, -1)
			if err != nil || !bytes.Equal(got, data) || rebuilt {
				t.Fatalf("read: err %v, equal %v, rebuilt %v", err, bytes.Equal(got, data), rebuilt)
			}
			for range 20 {
				off := rng.Int64N(int64(tt.size) + 1)
				n := rng.Int64N(int64(tt.size) - off + 1)
				got, _, err := read(ts.Set, "obj-1", off, n)
				if err != nil || !bytes.Equal(got, data[off:off+n]) {
					t.Fatalf("read [%d,+%d): err %v", off, n, err)
				}
			}
			if len(files(t, filepath.Join(ts.dirs[0], "tmp"))) != 0 {
				t.Fatal("temp files left after commit")
			}
		})
	}
}

func TestBadRanges(t *testing.T) {
	ts := newTestSet(t, t.TempDir(), 2, 1, 1024, nil)
	put(t, ts.Set, "x", make([]byte, 100), nil)
	o, err := ts.Open(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]int64{{-1, 1}, {0, 101}, {101, -1}, {50, 51}, {0, -2}} {
		if _, err := o.NewReader(context.Background(), r[0], r[1]); !errors.Is(err, ErrInvalid) {
			t.Errorf("range %v: err = %v, want ErrInvalid", r, err)
		}
	}
	got, _, err := read(ts.Set, "x", 100, -1)
	if err != nil || len(got) != 0 {
		t.Errorf("empty tail read: %v %d", err, len(got))
	}
}

func TestOpenNotFound(t *testing.T) {
	ts := newTestSet(t, t.TempDir(), 4, 2, 4096, nil)
	_, err := ts.Open(context.Background(), "nope")
	if !errors.Is(err, ErrNotFound) || errors.Is(err, wormvault.ErrDataLoss) {
		t.Fatalf("missing object: err = %v", err)
	}
	// Fewer than k shards: not found and data loss.
	put(t, ts.Set, "few", make([]byte, 10000), nil)
	for j := range 3 {
		os.Remove(ts.shardPath("few", j))
	}
	_, err = ts.Open(context.Background(), "few")
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, wormvault.ErrDataLoss) {
		t.Fatalf("3 of 6 shards: err = %v", err)
	}
	if _, err := ts.Open(context.Background(), "../etc"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad id: err = %v", err)
	}
}

func TestCreateExisting(t *testing.T) {
	ts := newTestSet(t, t.TempDir(), 2, 1, 4096, nil)
	first := []byte("first version")
	put(t, ts.Set, "dup", first, nil)
	before := snapshot(t, ts.dirs)
	w, err := ts.Create(context.Background(), "dup")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("second"))
	if _, err := w.Commit(context.Background(), nil); !errors.Is(err, ErrExists) {
		t.Fatalf("Commit over existing: err = %v, want ErrExists", err)
	}
	w.Abort()
	if after := snapshot(t, ts.dirs); !mapsEqual(before, after) {
		t.Fatal("failed commit changed the drives")
	}
	if got, _, err := read(ts.Set, "dup", 0, -1); err != nil || !bytes.Equal(got, first) {
		t.Fatalf("original damaged: %v %q", err, got)
	}
}

func mapsEqual(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

func TestWriterLifecycle(t *testing.T) {
	ts := newTestSet(t, t.TempDir(), 4, 2, 4096, nil)
	ctx := context.Background()

	// Abort removes every temp file and is idempotent.
	w, err := ts.Create(ctx, "aborted")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 20000))
	w.Abort()
	w.Abort()
	if f := files(t, ts.dirs...); len(f) != 0 {
		t.Fatalf("files after Abort: %v", f)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Abort: %v", err)
	}
	if _, err := w.Commit(ctx, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Commit after Abort: %v", err)
	}

	// Oversized meta fails cleanly.
	w, _ = ts.Create(ctx, "bigmeta")
	w.Write([]byte("data"))
	if _, err := w.Commit(ctx, make([]byte, MaxMetaSize+1)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("big meta: %v", err)
	}
	w.Abort()
	if f := files(t, ts.dirs...); len(f) != 0 {
		t.Fatalf("files after failed Commit: %v", f)
	}

	// Cancelling the Create context aborts the write.
	cctx, cancel := context.WithCancel(ctx)
	w, _ = ts.Create(cctx, "cancelled")
	w.Write(make([]byte, 10000))
	cancel()
	if _, err := w.Write(make([]byte, 10000)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write after cancel: %v", err)
	}
	if _, err := w.Commit(ctx, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Commit after cancel: %v", err)
	}
	if f := files(t, ts.dirs...); len(f) != 0 {
		t.Fatalf("files after cancel: %v", f)
	}

	// Abort after Commit keeps the object; a big meta round-trips.
	meta := randBytes(rand.New(rand.NewPCG(3, 4)), MaxMetaSize)
	w, _ = ts.Create(ctx, "kept")
	w.Write([]byte("kept"))
	if _, err := w.Commit(ctx, meta); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	o, err := ts.Open(ctx, "kept")
	if err != nil || !bytes.Equal(o.Meta(), meta) {
		t.Fatalf("Open after Abort-after-Commit: %v", err)
	}
}

func TestDeleteWalkCleanTemp(t *testing.T) {
	ts := newTestSet(t, t.TempDir(), 2, 1, 4096, nil)
	ctx := context.Background()
	var ids []string
	for i := range 20 {
		id := "obj-" + string(rune('a'+i))
		ids = append(ids, id)
		put(t, ts.Set, id, []byte(id), nil)
	}
	// A shard surviving only on one drive is still walked (orphan sweeps).
	put(t, ts.Set, "orphan", []byte("o"), nil)
	for j := range 2 {
		os.Remove(ts.shardPath("orphan", j))
	}
	// A leftover temp file.
	os.WriteFile(filepath.Join(ts.dirs[1], "tmp", "x.123"), []byte("junk"), 0o600)

	var walked []string
	start := time.Now().Add(-time.Minute)
	err := ts.Walk(ctx, func(id string, mt time.Time) error {
		if mt.Before(start) {
			t.Errorf("%s: modTime %v", id, mt)
		}
		walked = append(walked, id)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(walked)
	want := append(slices.Clone(ids), "orphan")
	slices.Sort(want)
	if !slices.Equal(walked, want) {
		t.Fatalf("Walk = %v, want %v", walked, want)
	}
	stop := errors.New("stop")
	if err := ts.Walk(ctx, func(string, time.Time) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("Walk error: %v", err)
	}

	if err := ts.CleanTemp(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range want {
		if err := ts.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := ts.Delete(ctx, id); err != nil {
			t.Fatalf("second Delete: %v", err)
		}
	}
	if f := files(t, ts.dirs...); len(f) != 0 {
		t.Fatalf("files left: %v", f)
	}
}

func TestMissingDrive(t *testing.T) {
	root := t.TempDir()
	var degraded []string
	ts := newTestSet(t, root, 4, 2, 4096, nil)
	ts.cfg.OnDegraded = func(id string) { degraded = append(degraded, id) }
	ctx := context.Background()
	data := randBytes(rand.New(rand.NewPCG(5, 6)), 30000)
	put(t, ts.Set, "before", data, nil)

	// Pull a disk: the set keeps working on the others.
	if err := os.RemoveAll(ts.dirs[3]); err != nil {
		t.Fatal(err)
	}
	st := ts.Status(ctx)
	if st[3].Online || st[3].Err == nil || !st[0].Online || st[0].TotalBytes == 0 || st[0].UsedBytes() == 0 {
		t.Fatalf("Status = %+v", st)
	}
	info := put(t, ts.Set, "after", data, []byte("m"))
	if info.Shards != 5 {
		t.Fatalf("written with a drive missing: %+v", info)
	}
	for _, id := range []string{"before", "after"} {
		if got, _, err := read(ts.Set, id, 0, -1); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: %v", id, err)
		}
	}
	if !slices.Contains(degraded, "before") || !slices.Contains(degraded, "after") {
		t.Fatalf("OnDegraded calls: %v", degraded)
	}
	if err := ts.Walk(ctx, func(string, time.Time) error { return nil }); err != nil {
		t.Fatalf("Walk with a drive missing: %v", err)
	}
	if err := ts.Delete(ctx, "nothing"); err != nil {
		t.Fatalf("Delete with a drive missing: %v", err)
	}

	// Replace the disk: NewLocalDrive recreates it empty, Heal refills it.
	ts2 := ts.reopen(t)
	for _, id := range []string{"before", "after"} {
		res, err := ts2.Heal(ctx, id)
		if err != nil || res.Healed != 1 || res.MissingShards != 1 {
			t.Fatalf("Heal %s = %+v, %v", id, res, err)
		}
		if got, rebuilt, err := read(ts2.Set, id, 0, -1); err != nil || !bytes.Equal(got, data) || rebuilt {
			t.Fatalf("%s after heal: %v rebuilt=%v", id, err, rebuilt)
		}
	}
	if st := ts2.Status(ctx); !st[3].Online || st[3].HealedShards != 2 {
		t.Fatalf("Status after heal = %+v", st[3])
	}
}

func TestShardOnWrongDrive(t *testing.T) {
	ts := newTestSet(t, t.TempDir(), 2, 2, 4096, nil)
	data := randBytes(rand.New(rand.NewPCG(7, 8)), 9000)
	put(t, ts.Set, "moved", data, nil)
	// Reverse the drive order: every shard is now on a "wrong" drive.
	drives := slices.Clone(ts.drives)
	slices.Reverse(drives)
	s, err := NewSet(drives, ts.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, rebuilt, err := read(s, "moved", 0, -1); err != nil || !bytes.Equal(got, data) || rebuilt {
		t.Fatalf("read after reorder: %v rebuilt=%v", err, rebuilt)
	}
	res, err := s.Heal(context.Background(), "moved")
	if err != nil || res.Healed != 0 || res.Shards != 4 {
		t.Fatalf("Heal after reorder = %+v, %v", res, err)
	}
}

func TestLocalDriveRecreates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	d, err := NewLocalDrive(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"shards", "tmp"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			t.Fatalf("%s: %v", sub, err)
		}
	}
	if d.Name() != dir {
		t.Fatalf("Name = %q", d.Name())
	}
	if _, err := d.Open(context.Background(), "x"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open missing: %v", err)
	}
}

// TestCorruptDuplicateShard: a shard found on two drives (a drive's files
// copied onto another) is read from its home drive. Here the copy sits on
// the first drive read and is corrupt, the intact shard is at home, and one
// more shard is lost: two shards missing in all, within the parity, so the
// read is exact. Reading the copy instead would lose three.
func TestCorruptDuplicateShard(t *testing.T) {
	ts := newTestSet(t, t.TempDir(), 4, 2, 4096, nil)
	data := randBytes(rand.New(rand.NewPCG(9, 10)), 20000)
	const id = "duplicated"
	put(t, ts.Set, id, data, nil)
	n := len(ts.dirs)
	off := placementOffset(id, n)
	onDrive := func(d int) int { return ((d-off)%n + n) % n } // the shard index placed on drive d
	dup := onDrive(1)                                         // its home is drive 1
	b, err := os.ReadFile(ts.shardPath(id, dup))
	if err != nil {
		t.Fatal(err)
	}
	// Drive 0, read first, now holds a copy of shard dup instead of its
	// own, with a flipped byte in its first block.
	if err := os.WriteFile(ts.locals[0].path(id), b, 0o600); err != nil {
		t.Fatal(err)
	}
	flipByte(t, ts.locals[0].path(id), 100)
	if err := os.Remove(ts.shardPath(id, onDrive(3))); err != nil {
		t.Fatal(err)
	}
	if got, _, err := read(ts.Set, id, 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read with a corrupt duplicate and a lost shard: %d bytes, %v", len(got), err)
	}
}

package erasure

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testDrive is the conformance suite every Drive implementation passes.
// newDrive returns an empty drive; tmpFiles counts its temporary files.
func testDrive(t *testing.T, newDrive func(t *testing.T) (d Drive, tmpFiles func() int)) {
	ctx := context.Background()
	write := func(t *testing.T, d Drive, id, content string) ShardWriter {
		t.Helper()
		w, err := d.Create(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		return w
	}
	readAll := func(t *testing.T, d Drive, id string) string {
		t.Helper()
		r, err := d.Open(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b := make([]byte, r.Size())
		if _, err := r.ReadAt(b, 0); err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	t.Run("commit", func(t *testing.T) {
		d, tmp := newDrive(t)
		w := write(t, d, "obj", "hello")
		if _, err := d.Open(ctx, "obj"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("visible before Commit: %v", err)
		}
		if tmp() != 1 {
			t.Fatalf("%d temp files while writing", tmp())
		}
		if err := w.Commit(false); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, d, "obj"); got != "hello" {
			t.Fatalf("read %q", got)
		}
		if err := w.Abort(); err != nil {
			t.Fatalf("Abort after Commit: %v", err)
		}
		if got := readAll(t, d, "obj"); got != "hello" || tmp() != 0 {
			t.Fatalf("after Abort-after-Commit: %q, %d temp files", got, tmp())
		}
		if err := w.Commit(false); err == nil {
			t.Fatal("second Commit succeeded")
		}
	})
	t.Run("no overwrite", func(t *testing.T) {
		d, tmp := newDrive(t)
		write(t, d, "obj", "first").Commit(false)
		w := write(t, d, "obj", "second")
		if err := w.Commit(false); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("Commit over existing: %v, want fs.ErrExist", err)
		}
		w.Abort()
		if got := readAll(t, d, "obj"); got != "first" || tmp() != 0 {
			t.Fatalf("after refused overwrite: %q, %d temp files", got, tmp())
		}
		if err := write(t, d, "obj", "third").Commit(true); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, d, "obj"); got != "third" {
			t.Fatalf("after replace: %q", got)
		}
	})
	t.Run("abort", func(t *testing.T) {
		d, tmp := newDrive(t)
		w := write(t, d, "obj", "x")
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Fatalf("second Abort: %v", err)
		}
		if err := w.Commit(false); err == nil {
			t.Fatal("Commit after Abort succeeded")
		}
		if _, err := d.Open(ctx, "obj"); !errors.Is(err, fs.ErrNotExist) || tmp() != 0 {
			t.Fatalf("after Abort: %v, %d temp files", err, tmp())
		}
	})
	t.Run("remove", func(t *testing.T) {
		d, _ := newDrive(t)
		if err := d.Remove(ctx, "missing"); err != nil {
			t.Fatalf("Remove missing: %v", err)
		}
		write(t, d, "obj", "x").Commit(false)
		if err := d.Remove(ctx, "obj"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Open(ctx, "obj"); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open after Remove: %v", err)
		}
	})
	t.Run("list", func(t *testing.T) {
		d, _ := newDrive(t)
		start := time.Now().Add(-time.Minute)
		ids := []string{"a", "b", "c", "d", "e", "f", "g"}
		for _, id := range ids {
			write(t, d, id, id+id).Commit(false)
		}
		write(t, d, "uncommitted", "x")
		seen := map[string]bool{}
		for b := range 256 {
			ents, err := d.List(ctx, uint8(b))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				if Bucket(e.ID) != uint8(b) || e.Size != 2 || e.ModTime.Before(start) {
					t.Fatalf("bucket %d: entry %+v", b, e)
				}
				seen[e.ID] = true
			}
		}
		if len(seen) != len(ids) {
			t.Fatalf("listed %v, want %v", seen, ids)
		}
	})
	t.Run("clean temp", func(t *testing.T) {
		d, tmp := newDrive(t)
		write(t, d, "a", "x")
		write(t, d, "b", "y")
		write(t, d, "c", "z").Commit(false)
		if err := d.CleanTemp(ctx); err != nil {
			t.Fatal(err)
		}
		if tmp() != 0 || readAll(t, d, "c") != "z" {
			t.Fatalf("after CleanTemp: %d temp files", tmp())
		}
	})
	t.Run("usage and ids", func(t *testing.T) {
		d, _ := newDrive(t)
		if _, err := d.Usage(ctx); err != nil {
			t.Fatal(err)
		}
		if d.Name() == "" {
			t.Fatal("empty Name")
		}
		for _, id := range []string{"", "../x", "a/b", ".tmp"} {
			if _, err := d.Create(ctx, id); err == nil {
				t.Fatalf("Create(%q) succeeded", id)
			}
			if _, err := d.Open(ctx, id); err == nil {
				t.Fatalf("Open(%q) succeeded", id)
			}
			if err := d.Remove(ctx, id); err == nil {
				t.Fatalf("Remove(%q) succeeded", id)
			}
		}
	})
}

func localTmpFiles(t *testing.T, dir string) func() int {
	return func() int { return len(files(t, filepath.Join(dir, "tmp"))) }
}

func TestLocalDrive(t *testing.T) {
	testDrive(t, func(t *testing.T) (Drive, func() int) {
		dir := t.TempDir()
		d, err := NewLocalDrive(dir)
		if err != nil {
			t.Fatal(err)
		}
		return d, localTmpFiles(t, dir)
	})
}

// The fault-injecting wrapper used by the other tests is itself a
// conforming Drive when no fault is set.
func TestFaultDrive(t *testing.T) {
	testDrive(t, func(t *testing.T) (Drive, func() int) {
		dir := t.TempDir()
		d, err := NewLocalDrive(dir)
		if err != nil {
			t.Fatal(err)
		}
		return newFaultDrive(d), localTmpFiles(t, dir)
	})
}

func TestLocalDriveOffline(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	d, err := NewLocalDrive(dir)
	if err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(dir)
	ctx := context.Background()
	if _, err := d.Usage(ctx); err == nil {
		t.Fatal("Usage of a removed drive succeeded")
	}
	if _, err := d.List(ctx, 0); err == nil {
		t.Fatal("List of a removed drive succeeded")
	}
	if _, err := d.Create(ctx, "x"); err == nil {
		t.Fatal("Create on a removed drive succeeded")
	}
	if _, err := NewLocalDrive(dir); err != nil {
		t.Fatalf("recreate: %v", err)
	}
	if _, err := d.Usage(ctx); err != nil {
		t.Fatalf("Usage after recreate: %v", err)
	}
}
